//! `GET /v1/audit` (the log, paged) and `GET /v1/audit/verify` (recompute the chain).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use samaritan_store::{AuditEntry, AuditReport, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// Entries after this `seq` (default 0: from the start).
    after: Option<i64>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
}

/// A page of the audit log, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page; null at the end.
    pub next_after: Option<i64>,
}

#[utoipa::path(
    get, path = "/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage)),
    security(("bearer" = ["audit"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require(Scope::Audit)?;
    let Query(q) = q.map_err(super::query_error)?;
    let limit = super::limit(q.limit, 100, 1000)?;
    let entries = state
        .store()
        .audit_list(q.after.unwrap_or(0), limit)
        .await?;
    let next_after = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage {
        entries,
        next_after,
    }))
}

#[utoipa::path(
    get, path = "/v1/audit/verify", tag = "audit",
    responses(
        (status = 200, description = "The chain and the decisions recomputed: intact (`ok: true`)", body = AuditReport),
        (status = 409, description = "Broken (`ok: false`); `problems` says where and how. `/readyz` fails until it is restored", body = AuditReport),
    ),
    security(("bearer" = ["audit"]))
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<AuditReport>), ApiError> {
    caller.require(Scope::Audit)?;
    let report = crate::verify_audit(&state).await?;
    let status = if report.ok {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((status, Json(report)))
}
