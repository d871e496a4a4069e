//! An HMA-compatible matcher (issue 23): the subset of Meta's Hasher-Matcher-Actioner 2.0 REST
//! API that consoles such as Coop call, under `/hma/`, so that a platform can point its
//! `HMA_SERVICE_URL` at Samaritan. Hashing (`/hma/h/hash`), matching (`/hma/m/…`) and bank
//! curation (`/hma/c/…`) keep HMA's request and response shapes, status codes and error body
//! (`{"message": …}`); they sit behind Samaritan's Bearer keys: `review` (or `lead`) to hash
//! and look up, `admin` to curate banks.

mod banks;
mod hash;
mod lookup;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use samaritan_store::{Scope, StoreError};

use crate::auth::Caller;
use crate::{ApiError, AppState};

pub(crate) use lookup::IndexCache;

/// How the HMA routes hash and match.
#[derive(Debug, Clone)]
pub struct HmaConfig {
    /// How `url=` content is fetched: http(s) only; loopback, private and link-local addresses
    /// refused unless `allow_private`; size and time limits.
    pub fetch: samaritan_media::FetchConfig,
    /// Caps on decoding fetched or uploaded images.
    pub decode: samaritan_media::DecodeLimits,
    /// A PDQ signal matches at this Hamming distance or less (HMA's default: 31).
    pub threshold: u32,
    /// Seconds a built index is used before the store is read again (changes made through
    /// this process rebuild it at once; those of other processes show after this long).
    pub refresh_secs: u64,
}

impl Default for HmaConfig {
    fn default() -> HmaConfig {
        HmaConfig {
            fetch: samaritan_media::FetchConfig::default(),
            decode: samaritan_media::DecodeLimits::default(),
            threshold: 31,
            refresh_secs: 30,
        }
    }
}

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/hma/h/hash", get(hash::hash_get).post(hash::hash_post))
        .route(
            "/hma/m/lookup",
            get(lookup::lookup_get).post(lookup::lookup_post),
        )
        .route("/hma/m/raw_lookup", get(lookup::raw_lookup))
        .route("/hma/m/compare", post(lookup::compare))
        .route("/hma/m/index/status", get(lookup::index_status))
        .route("/hma/c/banks", get(banks::list).post(banks::create))
        .route(
            "/hma/c/bank/{name}",
            get(banks::show).put(banks::update).delete(banks::delete),
        )
        .route("/hma/c/bank/{name}/content", post(banks::add_content))
        .route("/hma/c/bank/{name}/signal", post(banks::add_signal))
        .route(
            "/hma/c/bank/{name}/content/{id}",
            get(banks::get_content)
                .put(banks::update_content)
                .delete(banks::delete_content),
        )
        // Uploads are capped by the server's body limit (multipart reads honour this layer).
        .layer(axum::extract::DefaultBodyLimit::max(
            state.limits().max_body_bytes,
        ))
}

/// An error in HMA's shape: a status and `{"message": …}` (with Samaritan's `code` beside it).
#[derive(Debug)]
pub(crate) struct HmaError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl HmaError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> HmaError {
        HmaError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> HmaError {
        HmaError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> HmaError {
        HmaError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl IntoResponse for HmaError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"message": self.message, "code": self.code});
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

impl From<ApiError> for HmaError {
    fn from(e: ApiError) -> HmaError {
        HmaError::new(e.status, e.code, e.message)
    }
}

impl From<StoreError> for HmaError {
    fn from(e: StoreError) -> HmaError {
        match e {
            StoreError::Invalid(m) => HmaError::bad(m),
            // HMA answers 403 when a bank name is taken.
            StoreError::Conflict(m) => HmaError::new(StatusCode::FORBIDDEN, "exists", m),
            other => ApiError::from(other).into(),
        }
    }
}

pub(crate) type HmaResult<T> = Result<T, HmaError>;

/// The caller, refused in HMA's shape unless authenticated with `scope`.
pub(crate) fn authorise(caller: Result<Caller, ApiError>, scope: Scope) -> HmaResult<Caller> {
    let caller = caller?;
    caller.require(scope)?;
    Ok(caller)
}

/// Maps a query-string rejection to HMA's shape.
pub(crate) fn query_error(e: axum::extract::rejection::QueryRejection) -> HmaError {
    HmaError::bad(e.body_text())
}

/// Parses an HMA boolean parameter (`true`/`1`, `false`/`0`).
pub(crate) fn boolean(name: &str, v: Option<&str>) -> HmaResult<bool> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(HmaError::bad(format!(
            "invalid boolean parameter `{name}` - prefer true/false"
        ))),
    }
}
