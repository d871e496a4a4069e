//! `/v1/reports`: report cases (list, get, approve). Cases carry evidence (the ad's text,
//! identifiers, the network): every read is audited. Approving needs a lead or admin other than
//! the person who decided to report (the two-person rule).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use samaritan_store::{Report, Scope, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportsQuery {
    /// `draft`, `approved`, `submitting`, `submitted`, `uploaded`, `finished`, `failed` or `retracted`;
    /// all when absent.
    state: Option<String>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
}

/// Report cases, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportPage {
    pub reports: Vec<Report>,
}

fn case_id(id: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    let Path(id) = id.map_err(super::path_error)?;
    id.parse::<i64>().map_err(|_| {
        ApiError::bad_request("invalid_path", format!("`{id}` is not a report number")).field("id")
    })
}

#[utoipa::path(
    get, path = "/v1/reports", tag = "reports", params(ReportsQuery),
    responses(
        (status = 200, description = "Cases, newest first (audited as `report.read` with the ids shown)", body = ReportPage),
        (status = 400, body = crate::error::ErrorBody)
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ReportsQuery>, QueryRejection>,
) -> Result<Json<ReportPage>, ApiError> {
    caller.require(Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    if let Some(s) = q.state.as_deref()
        && !samaritan_store::reports::REPORT_STATES.contains(&s)
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!(
                "unknown report state `{s}`; states are {}",
                samaritan_store::reports::REPORT_STATES.join(", ")
            ),
        )
        .field("state"));
    }
    let limit = super::limit(q.limit, 100, 1000)?;
    let reports = state.store().reports(q.state.as_deref(), limit).await?;
    state
        .store()
        .audit_append(
            &caller.actor(),
            "report.read",
            "reports",
            serde_json::json!({"reports": reports.iter().map(|r| r.id).collect::<Vec<_>>()}),
        )
        .await?;
    Ok(Json(ReportPage { reports }))
}

#[utoipa::path(
    get, path = "/v1/reports/{id}", tag = "reports",
    params(("id" = i64, Path, description = "Report number")),
    responses((status = 200, body = Report), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Report>, ApiError> {
    caller.require(Scope::Review)?;
    let id = case_id(id)?;
    let r = state
        .store()
        .report(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("report {id} not found")))?;
    state
        .store()
        .audit_append(
            &caller.actor(),
            "report.read",
            &r.ad_id,
            serde_json::json!({"reports": [r.id]}),
        )
        .await?;
    Ok(Json(r))
}

#[utoipa::path(
    post, path = "/v1/reports/{id}/approve", tag = "reports",
    params(("id" = i64, Path, description = "Report number")),
    responses(
        (status = 200, description = "Approved for filing (audited as `report.approve`)", body = Report),
        (status = 403, description = "Not a lead or admin key", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`two_person` (the approver made the report decision) or `state` (not a draft)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["lead"]))
)]
pub(crate) async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Report>, ApiError> {
    lead(&caller)?;
    let id = case_id(id)?;
    Ok(Json(
        state
            .store()
            .report_approve(id, &caller.actor(), now_ms())
            .await?,
    ))
}

impl From<crate::cybertip::filing::FilingError> for ApiError {
    fn from(e: crate::cybertip::filing::FilingError) -> ApiError {
        use crate::cybertip::filing::FilingError as F;
        use axum::http::StatusCode;
        match e {
            F::Store(e) => e.into(),
            F::NotFound(id) => ApiError::not_found(format!("report {id} not found")),
            F::State { .. } => ApiError::new(StatusCode::CONFLICT, "state", e.to_string()),
            F::NotFileable(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_fileable",
                e.to_string(),
            ),
            F::CyberTip(_) => ApiError::new(StatusCode::BAD_GATEWAY, "cybertip", e.to_string()),
            F::Task(_) => ApiError::internal(e.to_string()),
            F::Blob(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "blobs", e.to_string()),
        }
    }
}

fn filer(state: &AppState) -> Result<std::sync::Arc<crate::cybertip::client::Client>, ApiError> {
    state.cybertip().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not_configured",
            "filing is not configured: serve --cybertip test|production|URL --cybertip-credentials FILE",
        )
    })
}

fn lead(caller: &Caller) -> Result<(), ApiError> {
    if !caller.key.has(Scope::Lead) && !caller.key.has(Scope::Admin) {
        caller.require(Scope::Lead)?;
    }
    Ok(())
}

#[utoipa::path(
    post, path = "/v1/reports/{id}/submit", tag = "reports",
    params(("id" = i64, Path, description = "Report number")),
    responses(
        (status = 200, description = "Filed (or resumed to finished); each step audited as `report.filing`", body = Report),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`state` (not approved) or `not_configured`", body = crate::error::ErrorBody),
        (status = 422, description = "`not_fileable`: the draft lacks what the CyberTipline requires", body = crate::error::ErrorBody),
        (status = 502, description = "`cybertip`: the CyberTipline refused or did not answer; the case records where it stopped", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["lead"]))
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Report>, ApiError> {
    lead(&caller)?;
    let id = case_id(id)?;
    let client = filer(&state)?;
    Ok(Json(
        crate::cybertip::filing::file(state.store(), client, state.blobs(), id, &caller.actor())
            .await?,
    ))
}

#[utoipa::path(
    post, path = "/v1/reports/{id}/retract", tag = "reports",
    params(("id" = i64, Path, description = "Report number")),
    responses(
        (status = 200, description = "The unfinished CyberTipline report retracted (audited)", body = Report),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`state` (not submitted) or `not_configured`", body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["lead"]))
)]
pub(crate) async fn retract(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Report>, ApiError> {
    lead(&caller)?;
    let id = case_id(id)?;
    let client = filer(&state)?;
    Ok(Json(
        crate::cybertip::filing::retract(state.store(), client, id, &caller.actor()).await?,
    ))
}
