//! Liveness, readiness, Prometheus metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samaritan_store::Scope;
use serde_json::json;

use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Alive: the process answers. No key needed.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready: the store answers and the audit chain verified at the last check. No key needed.
#[utoipa::path(get, path = "/readyz", tag = "service", responses(
    (status = 200, description = "`{\"status\": \"ready\", \"store\": \"sqlite\"|\"postgres\"}`"),
    (status = 503, description = "`not_ready` (the store does not answer) or `audit_broken` (the last audit verification failed)", body = crate::error::ErrorBody),
))]
pub(crate) async fn readyz(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.store().ping().await.map_err(|e| {
        tracing::warn!(error = %e, "store not ready");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the store does not answer",
        )
    })?;
    if !state.audit_intact() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_broken",
            "the audit chain failed verification; see the server log and `samaritan audit verify`",
        ));
    }
    Ok(Json(
        json!({"status": "ready", "store": state.store().dialect().name()}),
    ))
}

/// Prometheus text exposition; needs a key with `admin` or `audit`.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format 0.0.4 (counts and timings; no ad content)", content_type = "text/plain")),
    security(("bearer" = ["admin"]), ("bearer" = ["audit"]))
)]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    if !caller.key.has(Scope::Audit) {
        caller.require(Scope::Admin)?;
    }
    let stats = state.store().stats().await?;
    let dash = state
        .store()
        .dashboard(samaritan_store::now_ms(), crate::DASHBOARD_WINDOW_SECS)
        .await?;
    let mut text = state.inner.metrics.render(&stats);
    text.push_str(&crate::metrics::render_dashboard(&dash));
    let reports = state.store().report_counts().await?;
    let times = state
        .store()
        .report_times(samaritan_store::now_ms() - crate::DASHBOARD_WINDOW_SECS * 1000)
        .await?;
    text.push_str(&crate::metrics::render_reports(
        &reports,
        &times,
        crate::DASHBOARD_WINDOW_SECS,
    ));
    text.push_str(&crate::metrics::render_webhooks(
        &state.store().webhook_counts().await?,
        samaritan_store::now_ms(),
    ));
    let mut resp = text.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}

/// The OpenAPI 3.1 description of this API, generated from the handlers' types. No key needed.
#[utoipa::path(get, path = "/openapi.json", tag = "service", responses((status = 200, description = "This document", content_type = "application/json")))]
pub(crate) async fn openapi() -> Response {
    match crate::openapi::json() {
        Ok(text) => {
            let mut resp = text.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => ApiError::internal(format!("the OpenAPI document failed to render: {e}"))
            .into_response(),
    }
}
