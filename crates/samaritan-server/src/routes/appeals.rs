//! Appeals: the platform files one for its user (`POST /v1/ads/{id}/appeals`, ingest scope,
//! with the user's statement) against the latest remove or report decision on an ad; a
//! reviewer other than the one who decided claims it and answers `upheld` (a remove or report
//! reason) or `reversed` (an allow reason). The outcome goes back by webhook
//! (`appeal.decided`); everything is audited by the store.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use samaritan_store::{Appeal, DecisionAction, Scope, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::body;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppealRequest {
    /// The user's statement, 1 to 5 000 characters.
    statement: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimRequest {
    /// Lease length in seconds, 10 to 86 400 (default: the server's, 600).
    #[serde(default)]
    lease_seconds: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerRequest {
    /// `upheld` or `reversed`.
    outcome: String,
    /// A reason code: of `remove` or `report` when upheld, of `allow` when reversed.
    reason: String,
    /// Free text, at most 2 000 characters; never sent to the platform.
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppealsQuery {
    /// `open` or `decided`; all when absent.
    state: Option<String>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AppealPage {
    appeals: Vec<Appeal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Claimed {
    /// The appeal now leased to the caller; `null` when none is open for them.
    appeal: Option<Appeal>,
}

#[utoipa::path(
    post, path = "/v1/ads/{id}/appeals", tag = "appeals",
    params(("id" = String, Path, description = "Ad id")),
    request_body = AppealRequest,
    responses(
        (status = 201, description = "Filed (audited as `appeal.create`, sent as `appeal.created`)", body = Appeal),
        (status = 400, body = crate::error::ErrorBody),
        (status = 409, description = "`not_appealable` (no remove or report decision in force) or `exists` (an open appeal)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["ingest"]))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Appeal>), ApiError> {
    caller.require(Scope::Ingest)?;
    let Path(id) = id.map_err(super::path_error)?;
    super::path_id(&id)?;
    let bytes = body::read(
        body,
        &headers,
        state.limits().max_body_bytes.min(super::SMALL_BODY),
    )
    .await?;
    let req: AppealRequest = body::json(body::text(&bytes)?, "")?;
    let appeal = state
        .store()
        .appeal_create(&id, &req.statement, &caller.actor(), now_ms())
        .await
        .map_err(|e| match e {
            samaritan_store::StoreError::Invalid(m) => {
                ApiError::bad_request("invalid_field", m).field("statement")
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(appeal)))
}

#[utoipa::path(
    get, path = "/v1/appeals", tag = "appeals", params(AppealsQuery),
    responses((status = 200, description = "Oldest first", body = AppealPage), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<AppealsQuery>, QueryRejection>,
) -> Result<Json<AppealPage>, ApiError> {
    caller.require(Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    if let Some(s) = q.state.as_deref()
        && !samaritan_store::appeals::APPEAL_STATES.contains(&s)
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("unknown appeal state `{s}`; states are open, decided"),
        )
        .field("state"));
    }
    let limit = super::limit(q.limit, 100, 1000)?;
    Ok(Json(AppealPage {
        appeals: state.store().appeals(q.state.as_deref(), limit).await?,
    }))
}

#[utoipa::path(
    post, path = "/v1/appeals/claim", tag = "appeals", request_body = ClaimRequest,
    responses(
        (status = 200, description = "The oldest open appeal the caller may answer (never against their own decision), leased to them (audited as `appeal.claim`)", body = Claimed),
        (status = 400, body = crate::error::ErrorBody)
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Claimed>, ApiError> {
    caller.require(Scope::Review)?;
    let bytes = body::read(
        body,
        &headers,
        state.limits().max_body_bytes.min(super::SMALL_BODY),
    )
    .await?;
    let text = body::text(&bytes)?;
    let req: ClaimRequest = if text.trim().is_empty() {
        ClaimRequest::default()
    } else {
        body::json(text, "")?
    };
    let lease = req
        .lease_seconds
        .unwrap_or(state.limits().default_lease_secs);
    if !(10..=86_400).contains(&lease) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "`lease_seconds` must be between 10 and 86400",
        )
        .field("lease_seconds"));
    }
    Ok(Json(Claimed {
        appeal: state
            .store()
            .appeal_claim(&caller.actor(), lease * 1000, now_ms())
            .await?,
    }))
}

#[utoipa::path(
    post, path = "/v1/appeals/{id}/decision", tag = "appeals",
    params(("id" = i64, Path, description = "Appeal number")),
    request_body = AnswerRequest,
    responses(
        (status = 200, description = "Answered (audited as `appeal.decide`, sent as `appeal.decided`)", body = Appeal),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`not_claimed`, `own_decision` or `state` (already answered)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Appeal>, ApiError> {
    caller.require(Scope::Review)?;
    let Path(id) = id.map_err(super::path_error)?;
    let id: i64 = id.parse().map_err(|_| {
        ApiError::bad_request("invalid_path", format!("`{id}` is not an appeal number")).field("id")
    })?;
    let bytes = body::read(
        body,
        &headers,
        state.limits().max_body_bytes.min(super::SMALL_BODY),
    )
    .await?;
    let req: AnswerRequest = body::json(body::text(&bytes)?, "")?;
    let reasons = state.reasons();
    let reason_ok = match req.outcome.as_str() {
        "reversed" => reasons.check(DecisionAction::Allow, &req.reason),
        "upheld" => reasons
            .check(DecisionAction::Remove, &req.reason)
            .or_else(|_| reasons.check(DecisionAction::Report, &req.reason)),
        other => {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!("unknown outcome `{other}`; outcomes are upheld, reversed"),
            )
            .field("outcome"));
        }
    };
    reason_ok.map_err(|m| ApiError::bad_request("invalid_field", m).field("reason"))?;
    let a = state
        .store()
        .appeal_answer(
            id,
            &req.outcome,
            &req.reason,
            &req.note,
            &caller.actor(),
            now_ms(),
        )
        .await
        .map_err(|e| match e {
            samaritan_store::StoreError::Invalid(m) => {
                ApiError::bad_request("invalid_field", m).field("note")
            }
            other => other.into(),
        })?;
    Ok(Json(a))
}
