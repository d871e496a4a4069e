//! `GET /v1/networks/{id}`: a network with its member ads (an evidence read, audited).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use samaritan_store::{NetworkRecord, Scope};

use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Members listed per network response.
const MEMBER_LIMIT: i64 = 10_000;

#[utoipa::path(
    get, path = "/v1/networks/{id}", tag = "review",
    params(("id" = String, Path, description = "Network id")),
    responses((status = 200, body = NetworkRecord), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn get_network(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<NetworkRecord>, ApiError> {
    caller.require(Scope::Review)?;
    let Path(id) = id.map_err(super::path_error)?;
    super::path_id(&id)?;
    let n = state
        .store()
        .network(&id, MEMBER_LIMIT)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("network `{id}` not found")))?;
    // Members, shared identifiers and template text are evidence: on the record first.
    state
        .store()
        .audit_append(
            &caller.actor(),
            "network.read",
            &n.id,
            serde_json::json!({"size": n.size}),
        )
        .await?;
    Ok(Json(n))
}
