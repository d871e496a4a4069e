//! `/v1/holds`: the legal holds on report cases' preserved evidence (issue 22). Anyone who may
//! read report cases (review) sees the holds; only an admin extends one (a law-enforcement
//! request, recorded with its reference and agency) or releases one (with a reason; refused
//! while a filed report's hold runs or an extension does). Every change is audited by the store.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use samaritan_store::{Hold, Scope, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::body;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoldsQuery {
    /// `held` or `released`; all when absent.
    state: Option<String>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
}

/// Holds, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HoldPage {
    pub holds: Vec<Hold>,
}

/// A law-enforcement request that keeps the evidence longer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtendRequest {
    /// Until when (RFC 3339), later than now.
    until: String,
    /// The request's number or docket.
    reference: String,
    /// Who asked.
    agency: String,
}

/// Why the hold ends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseRequest {
    reason: String,
}

fn hold_id(id: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    let Path(id) = id.map_err(super::path_error)?;
    id.parse::<i64>().map_err(|_| {
        ApiError::bad_request("invalid_path", format!("`{id}` is not a hold number")).field("id")
    })
}

#[utoipa::path(
    get, path = "/v1/holds", tag = "reports", params(HoldsQuery),
    responses((status = 200, body = HoldPage), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<HoldsQuery>, QueryRejection>,
) -> Result<Json<HoldPage>, ApiError> {
    caller.require(Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    if let Some(s) = q.state.as_deref()
        && !samaritan_store::holds::HOLD_STATES.contains(&s)
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("unknown hold state `{s}`; states are held, released"),
        )
        .field("state"));
    }
    let limit = super::limit(q.limit, 100, 1000)?;
    Ok(Json(HoldPage {
        holds: state.store().holds(q.state.as_deref(), limit).await?,
    }))
}

#[utoipa::path(
    get, path = "/v1/holds/{id}", tag = "reports",
    params(("id" = i64, Path, description = "Hold number")),
    responses((status = 200, body = Hold), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Hold>, ApiError> {
    caller.require(Scope::Review)?;
    let id = hold_id(id)?;
    state
        .store()
        .hold(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("hold {id} not found")))
}

#[utoipa::path(
    post, path = "/v1/holds/{id}/extend", tag = "reports",
    params(("id" = i64, Path, description = "Hold number")),
    request_body = ExtendRequest,
    responses(
        (status = 200, description = "Extended (audited as `hold.extend`)", body = Hold),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "Not an admin key", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`state`: the hold was released", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn extend(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Hold>, ApiError> {
    caller.require(Scope::Admin)?;
    let id = hold_id(id)?;
    let bytes = body::read(
        body,
        &headers,
        state.limits().max_body_bytes.min(super::SMALL_BODY),
    )
    .await?;
    let req: ExtendRequest = body::json(body::text(&bytes)?, "")?;
    let until = time::OffsetDateTime::parse(
        req.until.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| {
        ApiError::bad_request(
            "invalid_field",
            format!("`{}` is not an RFC 3339 date and time", req.until),
        )
        .field("until")
    })?;
    let until_ms = i64::try_from(until.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    Ok(Json(
        state
            .store()
            .hold_extend(
                id,
                until_ms,
                &req.reference,
                &req.agency,
                &caller.actor(),
                now_ms(),
            )
            .await?,
    ))
}

#[utoipa::path(
    post, path = "/v1/holds/{id}/release", tag = "reports",
    params(("id" = i64, Path, description = "Hold number")),
    request_body = ReleaseRequest,
    responses(
        (status = 200, description = "Released (audited as `hold.release`); retention may then remove the evidence", body = Hold),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "Not an admin key", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`held` (a filed report's hold has not run), `law_enforcement` (an extension runs) or `state` (already released)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn release(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Hold>, ApiError> {
    caller.require(Scope::Admin)?;
    let id = hold_id(id)?;
    let bytes = body::read(
        body,
        &headers,
        state.limits().max_body_bytes.min(super::SMALL_BODY),
    )
    .await?;
    let req: ReleaseRequest = body::json(body::text(&bytes)?, "")?;
    Ok(Json(
        state
            .store()
            .hold_release(id, &req.reason, &caller.actor(), now_ms())
            .await?,
    ))
}
