//! `GET|PUT /v1/policy`: the TOML policy text, swapped in without a restart after the engine's
//! parser and the policy's own tests accept it.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samaritan_store::Scope;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::{ApiError, AppState, body};

/// The policy now in force.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PolicyUpdated {
    /// `name@version` as the engine reports it.
    pub label: String,
    /// Stored version number (1, 2, …).
    pub version: i64,
}

#[utoipa::path(
    get, path = "/v1/policy", tag = "policy",
    responses((status = 200, description = "The TOML text in force; its label in the `Samaritan-Policy` header", content_type = "application/toml", body = String)),
    security(("bearer" = ["admin"]), ("bearer" = ["review"]))
)]
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    if !(caller.key.has(Scope::Admin) || caller.key.has(Scope::Review)) {
        caller.require(Scope::Admin)?;
    }
    let p = state.analyzer().policy();
    let mut resp = p.text.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/toml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&p.label) {
        resp.headers_mut().insert("samaritan-policy", v);
    }
    Ok(resp)
}

#[utoipa::path(
    put, path = "/v1/policy", tag = "policy",
    request_body(content = String, content_type = "application/toml", description = "The whole policy file"),
    responses(
        (status = 200, description = "Checked, stored, audited and in force", body = PolicyUpdated),
        (status = 422, description = "Does not parse or fails its own tests; the old policy stays", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<PolicyUpdated>, ApiError> {
    caller.require(Scope::Admin)?;
    let bytes = body::read(body, &headers, state.limits().max_body_bytes).await?;
    let text = body::text(&bytes)?.to_owned();
    let rejected = |e: crate::PolicyRejection| {
        let mut err = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_policy",
            e.message,
        );
        err.field = e.line.map(|l| format!("line {l}"));
        err
    };
    let (label, version) = match apply(&state, text, &caller.actor()).await? {
        Ok(applied) => applied,
        Err(e) => return Err(rejected(e)),
    };
    tracing::info!(policy = %label, version, "policy in force");
    Ok(Json(PolicyUpdated { label, version }))
}

/// Checks `text` (it must parse and pass its own `[[test]]` examples), stores it as a new
/// version (audited under `actor`) and puts it in force, one update at a time. `Ok(Err(..))`:
/// refused, the old policy stays. Shared by `PUT /v1/policy` and the console's admin page.
pub(crate) async fn apply(
    state: &AppState,
    text: String,
    actor: &str,
) -> Result<Result<(String, i64), crate::PolicyRejection>, ApiError> {
    let _serial = state.inner.policy_lock.lock().await;
    let analyzer = state.analyzer().clone();
    let checked = text.clone();
    let label = match tokio::task::spawn_blocking(move || analyzer.check_policy(&checked))
        .await
        .map_err(|e| ApiError::internal(format!("the policy check failed: {e}")))?
    {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let stored = state.store().save_policy(&label, &text, actor).await?;
    let analyzer = state.analyzer().clone();
    let label = match tokio::task::spawn_blocking(move || analyzer.set_policy(&text))
        .await
        .map_err(|e| ApiError::internal(format!("the policy swap failed: {e}")))?
    {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok((label, stored.version)))
}
