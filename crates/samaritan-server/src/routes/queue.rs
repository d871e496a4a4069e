//! The review queue: list in priority order, claim with a lease, release.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use samaritan_store::{QueueItem, QueueState, Scope, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::{ApiError, AppState, body};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// `open` (default: nobody holds them), `claimed` (under a live lease), `escalated` or
    /// `decided`.
    state: Option<String>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
}

/// Queue items, highest priority first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueuePage {
    pub items: Vec<QueueItem>,
}

fn state_of(s: Option<&str>) -> Result<QueueState, ApiError> {
    match s {
        None => Ok(QueueState::Open),
        Some(s) => QueueState::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_field",
                format!("unknown queue state `{s}`; states are open, claimed, escalated, decided"),
            )
            .field("state")
        }),
    }
}

#[utoipa::path(
    get, path = "/v1/queue", tag = "review", params(ListQuery),
    responses(
        (status = 200, description = "Items, highest priority first (audited as `queue.read` with the ids shown)", body = QueuePage),
        (status = 400, body = crate::error::ErrorBody)
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<QueuePage>, ApiError> {
    caller.require(Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    let st = state_of(q.state.as_deref())?;
    let limit = super::limit(q.limit, 100, 1000)?;
    let items = state.store().queue_list(st, limit, now_ms()).await?;
    // Items carry evidence (title, snippet, quotes): answered only once the read is on the
    // record, with which ads were shown.
    state
        .store()
        .audit_append(
            &caller.actor(),
            "queue.read",
            st.as_str(),
            serde_json::json!({
                "ads": items.iter().map(|i| i.ad_id.as_str()).collect::<Vec<_>>(),
            }),
        )
        .await?;
    Ok(Json(QueuePage { items }))
}

/// Ask for work: the caller's live claims first, then the next unclaimed items.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimRequest {
    /// `open` (default) or `escalated` (needs the `lead` or `admin` scope).
    #[serde(default)]
    pub state: Option<String>,
    /// How many items, 1 to 100 (default 10).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Lease length in seconds, 10 to 86 400 (default: the server's, 600).
    #[serde(default)]
    pub lease_seconds: Option<i64>,
}

#[utoipa::path(
    post, path = "/v1/queue/claim", tag = "review",
    request_body = ClaimRequest,
    responses(
        (status = 200, description = "Items now leased to the caller (audited as `queue.claim`); nobody else can claim or decide them until the lease ends", body = QueuePage),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "`escalated` without the `lead` or `admin` scope", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<QueuePage>, ApiError> {
    // `review` claims open items; `lead` or `admin` may claim escalated ones (checked below).
    if !caller.key.has(Scope::Lead) && !caller.key.has(Scope::Admin) {
        caller.require(Scope::Review)?;
    }
    let bytes = body::read(body, &headers, state.limits().max_body_bytes).await?;
    let text = body::text(&bytes)?;
    let req: ClaimRequest = if text.trim().is_empty() {
        ClaimRequest::default()
    } else {
        body::json(text, "")?
    };
    let st = state_of(req.state.as_deref())?;
    if !matches!(st, QueueState::Open | QueueState::Escalated) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "only `open` or `escalated` items can be claimed",
        )
        .field("state"));
    }
    if st == QueueState::Escalated && !caller.key.has(Scope::Lead) && !caller.key.has(Scope::Admin)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the escalated queue is for keys with the `lead` or `admin` scope",
        ));
    }
    if st == QueueState::Open {
        caller.require(Scope::Review)?;
    }
    let limit = super::limit(req.limit, 10, 100)?;
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
    // A share of open claims comes from the quality audit and from active learning's pool
    // (`serve --audit-share`, `--active-share`).
    let draws = if st == QueueState::Open {
        state.draws(limit)
    } else {
        samaritan_store::Draws::default()
    };
    let items = state
        .store()
        .queue_claim_drawing(&caller.actor(), st, limit, draws, lease * 1000, now_ms())
        .await?;
    Ok(Json(QueuePage { items }))
}

#[utoipa::path(
    post, path = "/v1/queue/{id}/release", tag = "review",
    params(("id" = String, Path, description = "Ad id")),
    responses(
        (status = 204, description = "Released (audited as `queue.release`)"),
        (status = 409, description = "`not_claimed`: the caller holds no live claim on it", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn release(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Review)?;
    let Path(id) = id.map_err(super::path_error)?;
    super::path_id(&id)?;
    state
        .store()
        .queue_release(&id, &caller.actor(), now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
