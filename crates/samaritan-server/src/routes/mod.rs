//! The routes, the request-metrics layer and the JSON fallbacks for unknown paths and methods.

pub(crate) mod ads;
pub(crate) mod appeals;
pub(crate) mod audit;
pub(crate) mod health;
pub(crate) mod holds;
pub(crate) mod networks;
pub(crate) mod policy;
pub(crate) mod queue;
pub(crate) mod reports;
pub(crate) mod search;
pub(crate) mod webhooks;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};

use crate::{ApiError, AppState};

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/ads", post(ads::post_ads))
        .route("/v1/ads/{id}", get(ads::get_ad))
        .route("/v1/ads/{id}/decision", post(ads::post_decision))
        .route("/v1/ads/{id}/appeals", post(appeals::create))
        .route("/v1/appeals", get(appeals::list))
        .route("/v1/appeals/claim", post(appeals::claim))
        .route("/v1/appeals/{id}/decision", post(appeals::answer))
        .route("/v1/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/v1/webhooks/{id}",
            get(webhooks::get).delete(webhooks::disable),
        )
        .route("/v1/webhooks/{id}/rotate", post(webhooks::rotate))
        .route("/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/v1/webhooks/{id}/deliveries/{seq}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/v1/reasons", get(ads::get_reasons))
        .route("/v1/queue", get(queue::list))
        .route("/v1/queue/claim", post(queue::claim))
        .route("/v1/queue/{id}/release", post(queue::release))
        .route("/v1/search", get(search::search))
        .route("/v1/networks/{id}", get(networks::get_network))
        .route("/v1/reports", get(reports::list))
        .route("/v1/reports/{id}", get(reports::get))
        .route("/v1/reports/{id}/approve", post(reports::approve))
        .route("/v1/reports/{id}/submit", post(reports::submit))
        .route("/v1/reports/{id}/retract", post(reports::retract))
        .route("/v1/holds", get(holds::list))
        .route("/v1/holds/{id}", get(holds::get))
        .route("/v1/holds/{id}/extend", post(holds::extend))
        .route("/v1/holds/{id}/release", post(holds::release))
        .route("/v1/audit", get(audit::list))
        .route("/v1/audit/verify", get(audit::verify))
        .route(
            "/v1/policy",
            get(policy::get_policy).put(policy::put_policy),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(health::openapi))
        .merge(crate::hma::routes(&state))
        .merge(crate::console::routes(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .layer(axum::middleware::from_fn(limit_uri))
        .with_state(state)
}

/// The longest path and query the API takes. No route needs more; hyper itself answers a URI
/// over 64 KiB with an empty 414 before any of this code runs, so the JSON answer below covers
/// every long URI a client is likely to send.
pub const MAX_URI_BYTES: usize = 8 * 1024;

async fn limit_uri(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if len > MAX_URI_BYTES {
        return axum::response::IntoResponse::into_response(
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
                format!("the path and query are {len} bytes; the limit is {MAX_URI_BYTES}"),
            )
            .field("uri"),
        );
    }
    next.run(req).await
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see /openapi.json",
    )
}

/// Counts and times every request by route template (never by the concrete path, which holds
/// ad ids).
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    state
        .inner
        .metrics
        .request(&route, &method, resp.status().as_u16(), start.elapsed());
    // A change (API or console) may have written webhook events: the worker looks at once.
    if method != "GET" && (resp.status().is_success() || resp.status().is_redirection()) {
        state.wake_webhooks();
    }
    resp
}

/// Largest body of the small JSON requests (webhooks, appeals, holds): none needs more.
pub(crate) const SMALL_BODY: usize = 64 * 1024;

/// Checks a `limit` query value.
pub(crate) fn limit(value: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let v = value.unwrap_or(default);
    if v < 1 || v > max {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("`limit` must be between 1 and {max}"),
        )
        .field("limit"));
    }
    Ok(v)
}

/// Checks an ad id taken from a path.
pub(crate) fn path_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty()
        || id.len() > samaritan_engine::model::MAX_ID_BYTES
        || id.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "invalid_id",
            format!(
                "an id is 1 to {} bytes without control characters",
                samaritan_engine::model::MAX_ID_BYTES
            ),
        )
        .field("id"));
    }
    Ok(())
}

/// Maps axum's query-string rejection to our error shape.
pub(crate) fn query_error(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::bad_request("invalid_query", e.body_text()).field("query")
}

/// Maps axum's path rejection to our error shape.
pub(crate) fn path_error(e: axum::extract::rejection::PathRejection) -> ApiError {
    ApiError::bad_request("invalid_path", e.body_text()).field("id")
}
