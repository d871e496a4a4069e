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
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready: the store answers. No key needed.
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
    Ok(Json(
        json!({"status": "ready", "store": state.store().dialect().name()}),
    ))
}

/// Prometheus text exposition; needs a key with `admin` or `audit`.
pub(crate) async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    if !caller.key.has(Scope::Audit) {
        caller.require(Scope::Admin)?;
    }
    let stats = state.store().stats().await?;
    let mut resp = state.inner.metrics.render(&stats).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}

/// The OpenAPI 3.1 description of this API, generated from the handlers' types.
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
