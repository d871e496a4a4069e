//! Bearer-key authentication, scope checks and the per-key rate limit, as an extractor.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use samaritan_store::{KeyRecord, Scope};

use crate::{ApiError, AppState};

/// A key the store confirmed recently, so that busy clients do not cost a query per request.
pub(crate) struct CachedKey {
    record: KeyRecord,
    checked: std::time::Instant,
}

/// The key `token` is, from the cache while fresh, else from the store (constant-time compare of
/// SHA-256 hashes in both cases).
async fn lookup(state: &AppState, token: &str) -> Result<Option<KeyRecord>, ApiError> {
    let ttl = std::time::Duration::from_millis(state.limits().key_cache_ms);
    let id = samaritan_store::keys::key_id(token);
    if let (Some(id), false) = (id, ttl.is_zero()) {
        let cache = match state.inner.keys.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(c) = cache.get(id)
            && c.checked.elapsed() < ttl
            && c.record.matches(token)
        {
            return Ok(Some(c.record.clone()));
        }
    }
    let found = state.store().authenticate(token).await?;
    if let (Some(rec), false) = (&found, ttl.is_zero()) {
        let mut cache = match state.inner.keys.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(
            rec.id.clone(),
            CachedKey {
                record: rec.clone(),
                checked: std::time::Instant::now(),
            },
        );
    }
    Ok(found)
}

/// The authenticated caller of a request.
pub(crate) struct Caller {
    pub key: KeyRecord,
}

impl Caller {
    /// Refuses with 403 unless the key has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.key.has(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this key lacks the `{}` scope", scope.as_str()),
            ))
        }
    }

    /// The name this caller's actions are recorded under.
    pub fn actor(&self) -> String {
        self.key.actor()
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("send `Authorization: Bearer <key>`"))?;
        let value = header
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not ASCII"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))?
            .trim();
        let key = lookup(state, token)
            .await?
            .ok_or_else(|| unauthorized("unknown or revoked key"))?;
        if let Err(wait) = state.inner.rate.check(&key.id, std::time::Instant::now()) {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("this key is over its request rate; retry in {wait} s"),
            );
            e.retry_after = Some(wait);
            return Err(e);
        }
        Ok(Caller { key })
    }
}
