//! `GET /v1/search`: the ads that share one identifier.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use samaritan_store::{IdentifierKind, Scope, SearchHit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Exactly one identifier, plus paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    /// Any written form; digits are kept, a leading North American 1 dropped.
    phone: Option<String>,
    email: Option<String>,
    /// `platform:handle`, e.g. `instagram:some.name`.
    handle: Option<String>,
    /// `kind:id`, e.g. `cashapp:$name`.
    payment: Option<String>,
    /// Poster account id on the platform.
    account: Option<String>,
    /// 64 hex digits; matches within `max_distance` bits.
    pdq: Option<String>,
    /// 64 hex digits, exact.
    sha256: Option<String>,
    /// Hamming radius for `pdq`, 0 to 256 (default 31); `distance` is the same.
    #[serde(alias = "distance")]
    max_distance: Option<u32>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
}

/// Ads sharing the identifier, highest priority first (PDQ: nearest first).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchResults {
    pub kind: IdentifierKind,
    pub hits: Vec<SearchHit>,
}

#[utoipa::path(
    get, path = "/v1/search", tag = "review", params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    caller.require(Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    let limit = super::limit(q.limit, 100, 1000)?;
    let given: Vec<(IdentifierKind, String)> = [
        (IdentifierKind::Phone, q.phone),
        (IdentifierKind::Email, q.email),
        (IdentifierKind::Handle, q.handle),
        (IdentifierKind::Payment, q.payment),
        (IdentifierKind::Account, q.account),
        (IdentifierKind::Pdq, q.pdq),
        (IdentifierKind::Sha256, q.sha256),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let [(kind, value)] = <[_; 1]>::try_from(given).map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            "give exactly one of phone, email, handle, payment, account, pdq, sha256",
        )
        .field("query")
    })?;
    let invalid = |e: samaritan_store::StoreError| match e {
        samaritan_store::StoreError::Invalid(m) => {
            ApiError::bad_request("invalid_field", m).field(kind.as_str())
        }
        other => other.into(),
    };
    let hits = if kind == IdentifierKind::Pdq {
        let d = q.max_distance.unwrap_or(31);
        if d > 256 {
            return Err(
                ApiError::bad_request("invalid_field", "`max_distance` is at most 256")
                    .field("max_distance"),
            );
        }
        let wanted = IdentifierKind::Pdq.normalize(&value).map_err(invalid)?;
        let analyzer = state.analyzer().clone();
        let near = tokio::task::spawn_blocking(move || analyzer.pdq_near(&wanted, d))
            .await
            .map_err(|e| ApiError::internal(format!("the image index failed: {e}")))?;
        match near {
            // The analyzer's in-memory multi-index hash index found the near values.
            Some(near) => state.store().search_pdq_values(&near, limit).await?,
            None => state
                .store()
                .search_pdq(&value, d, limit)
                .await
                .map_err(invalid)?,
        }
    } else {
        state
            .store()
            .search(kind, &value, limit)
            .await
            .map_err(invalid)?
    };
    // The results are evidence: answered only once the search is on the record. The value is
    // kept as its SHA-256 (of the normalised form), so an auditor can check whether someone
    // looked up a given identifier without the log itself listing them.
    let normal = kind.normalize(&value).unwrap_or(value);
    state
        .store()
        .audit_append(
            &caller.actor(),
            "search",
            kind.as_str(),
            serde_json::json!({
                "value_sha256": samaritan_store::sha256_hex(normal.as_bytes()),
                "hits": hits.len(),
            }),
        )
        .await?;
    Ok(Json(SearchResults { kind, hits }))
}
