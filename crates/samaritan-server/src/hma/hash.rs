//! `/hma/h/hash`: PDQ of a photo fetched from `url=` (under the image-fetch address rules) or
//! uploaded as one multipart file whose field name is the content type (`photo`). Video is
//! not hashed here: it is refused with HMA's 400 for a content type that is not available.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, State};
use axum::http::{Request, StatusCode, header};
use samaritan_media::MediaError;
use samaritan_store::Scope;
use serde::Deserialize;

use super::{HmaError, HmaResult, authorise};
use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Signal type → hex, as HMA answers a hash request.
pub(crate) type Hashes = BTreeMap<String, String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HashQuery {
    url: Option<String>,
    content_type: Option<String>,
    types: Option<String>,
}

/// Checks `content_type` (photo only; video named as unsupported).
pub(crate) fn content_type(name: &str) -> HmaResult<()> {
    match name {
        "photo" => Ok(()),
        "video" => Err(HmaError::bad(
            "content_type video is disabled: this matcher hashes photos (pdq) only",
        )),
        other => Err(HmaError::bad(format!(
            "no such content_type: '{}'",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// Checks a `types=` selection (comma-separated signal types; pdq is the only one).
pub(crate) fn signal_types(types: Option<&str>) -> HmaResult<()> {
    let Some(types) = types else { return Ok(()) };
    let mut any = false;
    for t in types.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if t != "pdq" {
            return Err(HmaError::bad(format!(
                "signal type '{}' doesn't exist or is disabled",
                t.chars().take(40).collect::<String>()
            )));
        }
        any = true;
    }
    if !any {
        return Err(HmaError::bad("empty signal type selection"));
    }
    Ok(())
}

fn media_error(e: MediaError) -> HmaError {
    match e {
        MediaError::BadUrl(_) | MediaError::ForbiddenAddress { .. } | MediaError::UrlsDisabled => {
            HmaError::bad(e.to_string())
        }
        MediaError::TooManyBytes { .. } => {
            HmaError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        other => HmaError::bad(other.to_string()),
    }
}

/// Hashes image bytes (on a blocking thread).
async fn hash_bytes(state: &AppState, bytes: Vec<u8>) -> HmaResult<Hashes> {
    let limits = state.hma_config().decode;
    let facts = tokio::task::spawn_blocking(move || samaritan_media::hash_bytes(&bytes, &limits))
        .await
        .map_err(|e| HmaError::from(ApiError::internal(format!("hashing stopped: {e}"))))?
        .map_err(media_error)?;
    let pdq = facts
        .pdq
        .ok_or_else(|| HmaError::bad("the image gave no pdq hash"))?;
    Ok(BTreeMap::from([("pdq".to_owned(), pdq.to_hex())]))
}

/// Fetches `url` under the fetch rules and hashes it.
pub(crate) async fn hash_url(
    state: &AppState,
    url: &str,
    content_type_hint: Option<&str>,
    types: Option<&str>,
) -> HmaResult<Hashes> {
    if let Some(ct) = content_type_hint.filter(|c| !c.is_empty()) {
        content_type(ct)?;
    }
    signal_types(types)?;
    let cfg = state.hma_config().fetch;
    let owned = url.to_owned();
    let bytes = tokio::task::spawn_blocking(move || samaritan_media::fetch(&owned, &cfg))
        .await
        .map_err(|e| HmaError::from(ApiError::internal(format!("fetching stopped: {e}"))))?
        .map_err(media_error)?;
    hash_bytes(state, bytes).await
}

/// A multipart upload: its one file's hashes and its text fields.
pub(crate) struct Upload {
    pub hashes: Hashes,
    pub fields: BTreeMap<String, String>,
}

/// Reads a multipart body (within the server's body cap): exactly one file, in a field named
/// after its content type, and the text fields in `allowed_text`.
pub(crate) async fn upload(
    state: &AppState,
    req: Request<Body>,
    allowed_text: &[&str],
) -> HmaResult<Upload> {
    let limit = state.limits().max_body_bytes;
    let headers = req.headers();
    let too_large = || {
        HmaError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body exceeds {limit} bytes"),
        )
    };
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large());
    }
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(HmaError::bad("Missing multipart/form-data file upload"));
    }
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| HmaError::bad(e.body_text()))?;
    let mut file: Option<Vec<u8>> = None;
    let mut fields = BTreeMap::new();
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            HmaError::bad(e.body_text())
        }
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "photo" || name == "video" || field.file_name().is_some() {
            content_type(&name)?;
            if file.is_some() {
                return Err(HmaError::bad("Only one file allowed per request"));
            }
            file = Some(field.bytes().await.map_err(bad)?.to_vec());
        } else if allowed_text.contains(&name.as_str()) {
            let text = field.text().await.map_err(bad)?;
            fields.insert(name, text);
        } else {
            return Err(HmaError::bad(format!(
                "unexpected form field '{}'",
                name.chars().take(40).collect::<String>()
            )));
        }
    }
    let Some(file) = file else {
        return Err(HmaError::bad("Missing multipart/form-data file upload"));
    };
    Ok(Upload {
        hashes: hash_bytes(state, file).await?,
        fields,
    })
}

/// `GET /hma/h/hash?url=&content_type=&types=` → `{"pdq": "<hex>"}`.
pub(crate) async fn hash_get(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    q: Result<Query<HashQuery>, QueryRejection>,
) -> HmaResult<Json<Hashes>> {
    authorise(caller, Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    let url = q
        .url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| HmaError::bad("url is required"))?;
    let hashes = hash_url(&state, &url, q.content_type.as_deref(), q.types.as_deref()).await?;
    Ok(Json(hashes))
}

/// `POST /hma/h/hash` with one multipart file (field `photo`) → `{"pdq": "<hex>"}`.
pub(crate) async fn hash_post(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    req: Request<Body>,
) -> HmaResult<Json<Hashes>> {
    authorise(caller, Scope::Review)?;
    Ok(Json(upload(&state, req, &[]).await?.hashes))
}
