//! Search by identifier: the ads that share a phone, e-mail, handle, payment id or account.
//! A search is an evidence read, audited as `search` with the value's hash (as the API does).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use samaritan_store::{IdentifierKind, SearchHit};
use serde::Deserialize;

use super::page::{Chrome, PageError, render, url_encode};
use super::session::Person;
use crate::AppState;

const KINDS: [IdentifierKind; 5] = [
    IdentifierKind::Phone,
    IdentifierKind::Email,
    IdentifierKind::Handle,
    IdentifierKind::Payment,
    IdentifierKind::Account,
];

#[derive(Deserialize, Default)]
pub(crate) struct SearchQuery {
    kind: Option<String>,
    value: Option<String>,
}

pub(crate) struct Hit {
    pub hit: SearchHit,
    pub href: String,
    /// PDQ distance for an image search.
    pub distance: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    kinds: Vec<String>,
    kind: String,
    value: String,
    hits: Option<Vec<Hit>>,
    error: Option<String>,
    /// Set for an image search: the uploaded picture's PDQ hash.
    image_pdq: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    person.require_queue()?;
    let kind_name = q.kind.unwrap_or_else(|| "phone".to_owned());
    let value = q.value.unwrap_or_default().trim().to_owned();
    let mut page = SearchPage {
        chrome: Chrome::of(&person, "search"),
        kinds: KINDS.iter().map(|k| k.as_str().to_owned()).collect(),
        kind: kind_name.clone(),
        value: value.clone(),
        hits: None,
        error: None,
        image_pdq: None,
    };
    if value.is_empty() {
        return Ok(render(&page));
    }
    let Some(kind) = KINDS.into_iter().find(|k| k.as_str() == kind_name) else {
        page.error = Some(format!(
            "unknown kind `{kind_name}`; search by phone, email, handle, payment or account"
        ));
        return Ok(render(&page));
    };
    if value.len() > 512 {
        page.error = Some("a value is at most 512 bytes".to_owned());
        return Ok(render(&page));
    }
    let hits = match state.store().search(kind, &value, 200).await {
        Ok(h) => h,
        Err(samaritan_store::StoreError::Invalid(m)) => {
            page.error = Some(m);
            return Ok(render(&page));
        }
        Err(e) => return Err(e.into()),
    };
    let normal = kind.normalize(&value).unwrap_or(value);
    state
        .store()
        .audit_append(
            &person.actor(),
            "search",
            kind.as_str(),
            serde_json::json!({
                "value_sha256": samaritan_store::sha256_hex(normal.as_bytes()),
                "hits": hits.len(),
                "via": "console",
            }),
        )
        .await?;
    page.hits = Some(
        hits.into_iter()
            .map(|hit| Hit {
                href: format!("/ads/{}", url_encode(&hit.ad_id)),
                distance: String::new(),
                hit,
            })
            .collect(),
    );
    Ok(render(&page))
}

/// PDQ distance up to which an uploaded picture's matches are listed (the PDQ authors'
/// recommended match threshold).
const IMAGE_DISTANCE: u32 = 31;

/// Search by picture: the upload is hashed (PDQ) and the ads with a near picture are listed by
/// distance. The upload is not kept; the search is audited with its hash's SHA-256.
pub(crate) async fn image(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    person: Person,
    mut form: axum::extract::Multipart,
) -> Result<Response, PageError> {
    super::session::check_origin(&state, &headers)?;
    person.require_queue()?;
    let limits = samaritan_media::DecodeLimits::default();
    let (mut csrf, mut bytes) = (String::new(), None::<Vec<u8>>);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(PageError::new(
                    e.status(),
                    format!("the upload does not read: {e}"),
                ));
            }
        };
        match field.name() {
            Some("csrf") => {
                csrf = field
                    .text()
                    .await
                    .map_err(|e| PageError::bad_request(format!("the form does not read: {e}")))?;
            }
            Some("image") => {
                let data = field.bytes().await.map_err(|e| {
                    PageError::new(e.status(), format!("the upload does not read: {e}"))
                })?;
                bytes = Some(data.to_vec());
            }
            _ => {}
        }
    }
    person.check_csrf(&csrf)?;
    let mut page = SearchPage {
        chrome: Chrome::of(&person, "search"),
        kinds: KINDS.iter().map(|k| k.as_str().to_owned()).collect(),
        kind: "phone".to_owned(),
        value: String::new(),
        hits: None,
        error: None,
        image_pdq: None,
    };
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        page.error = Some("Choose a picture to search with.".to_owned());
        return Ok(render(&page));
    };
    let facts = tokio::task::spawn_blocking(move || samaritan_media::hash_bytes(&bytes, &limits))
        .await
        .map_err(|e| {
            PageError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("hashing stopped: {e}"),
            )
        })?;
    let pdq = match facts {
        Ok(f) => f.pdq.map(|p| p.to_hex()).unwrap_or_default(),
        Err(e) => {
            page.error = Some(format!("The picture could not be read: {e}"));
            return Ok(render(&page));
        }
    };
    let analyzer = state.analyzer().clone();
    let wanted = pdq.clone();
    let near = tokio::task::spawn_blocking(move || analyzer.pdq_near(&wanted, IMAGE_DISTANCE))
        .await
        .map_err(|e| {
            PageError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("the image index failed: {e}"),
            )
        })?;
    let hits = match near {
        Some(near) => state.store().search_pdq_values(&near, 200).await?,
        None => state.store().search_pdq(&pdq, IMAGE_DISTANCE, 200).await?,
    };
    state
        .store()
        .audit_append(
            &person.actor(),
            "search",
            "pdq",
            serde_json::json!({
                "value_sha256": samaritan_store::sha256_hex(pdq.as_bytes()),
                "hits": hits.len(),
                "via": "console upload",
            }),
        )
        .await?;
    page.hits = Some(
        hits.into_iter()
            .map(|hit| Hit {
                href: format!("/ads/{}", url_encode(&hit.ad_id)),
                distance: hit.distance.map(|d| d.to_string()).unwrap_or_default(),
                hit,
            })
            .collect(),
    );
    page.image_pdq = Some(pdq);
    Ok(render(&page))
}
