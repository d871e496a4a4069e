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
                hit,
            })
            .collect(),
    );
    Ok(render(&page))
}
