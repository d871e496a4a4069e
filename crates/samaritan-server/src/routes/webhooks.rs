//! `/v1/webhooks` (admin): endpoints that receive the platform's events — add (the secret is
//! shown once), list, read, disable, rotate the secret (the old one keeps signing during an
//! overlap), and each endpoint's deliveries with manual redelivery. Destinations pass the
//! image-fetch address rules (no loopback, private or link-local unless the operator allows
//! it); events are checked against the known types and families.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use samaritan_store::{Delivery, Scope, WebhookEndpoint, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::body;
use crate::{ApiError, AppState};

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndpointView {
    id: i64,
    url: String,
    events: Vec<String>,
    created_by: String,
    created_at: i64,
    disabled_at: Option<i64>,
    /// Until when the previous secret still signs (a rotation's overlap).
    previous_until: Option<i64>,
}

impl From<WebhookEndpoint> for EndpointView {
    fn from(e: WebhookEndpoint) -> EndpointView {
        EndpointView {
            events: e.events(),
            id: e.id,
            url: e.url,
            created_by: e.created_by,
            created_at: e.created_at,
            disabled_at: e.disabled_at,
            previous_until: e.previous_until,
        }
    }
}

/// A new endpoint, with its secret (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Created {
    #[serde(flatten)]
    endpoint: EndpointView,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks). Not shown again.
    secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndpointPage {
    webhooks: Vec<EndpointView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryPage {
    deliveries: Vec<Delivery>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRequest {
    /// `https://…` (or `http://`); public addresses only unless the operator allows others.
    url: String,
    /// Event types (`decision.created`), families (`report.*`) or `*`.
    events: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateRequest {
    /// Hours the old secret keeps signing beside the new one: 0 to 168, default 24.
    #[serde(default)]
    overlap_hours: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveriesQuery {
    /// `pending`, `delivered` or `dead`; all when absent.
    state: Option<String>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
}

fn id_of(id: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    let Path(id) = id.map_err(super::path_error)?;
    id.parse::<i64>().map_err(|_| {
        ApiError::bad_request("invalid_path", format!("`{id}` is not a webhook number")).field("id")
    })
}

async fn endpoint(state: &AppState, id: i64) -> Result<WebhookEndpoint, ApiError> {
    state
        .store()
        .webhook(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("webhook {id} not found")))
}

#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateRequest,
    responses(
        (status = 201, description = "Added (audited as `webhook.create`); the secret is shown this once", body = Created),
        (status = 400, description = "`invalid_field`: `url` (scheme, credentials, a private address) or `events` (unknown)", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    caller.require(Scope::Admin)?;
    let bytes = body::read(
        body,
        &headers,
        state.limits().max_body_bytes.min(super::SMALL_BODY),
    )
    .await?;
    let req: CreateRequest = body::json(body::text(&bytes)?, "")?;
    if req.events.is_empty() || req.events.len() > 32 {
        return Err(
            ApiError::bad_request("invalid_field", "`events` lists 1 to 32 patterns")
                .field("events"),
        );
    }
    if let Some(bad) = req
        .events
        .iter()
        .find(|e| !samaritan_store::outbox::valid_pattern(e))
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!(
                "unknown event `{bad}`; events are {} (or a family such as `decision.*`, or `*`)",
                samaritan_store::outbox::EVENT_TYPES.join(", ")
            ),
        )
        .field("events"));
    }
    let allow_private = state.webhook_config().allow_private;
    let url = req.url.clone();
    tokio::task::spawn_blocking(move || crate::webhooks::destination::check(&url, allow_private))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|m| ApiError::bad_request("invalid_field", m).field("url"))?;
    let secret = crate::webhooks::sign::new_secret()?;
    let e = state
        .store()
        .webhook_create(&req.url, &req.events, &secret, &caller.actor(), now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            endpoint: e.into(),
            secret,
        }),
    ))
}

#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = EndpointPage), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<EndpointPage>, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(EndpointPage {
        webhooks: state
            .store()
            .webhooks()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}

#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook number")),
    responses((status = 200, body = EndpointView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(Scope::Admin)?;
    let id = id_of(id)?;
    Ok(Json(endpoint(&state, id).await?.into()))
}

#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook number")),
    responses(
        (status = 200, description = "Disabled (audited as `webhook.disable`): nothing new is sent to it", body = EndpointView),
        (status = 404, body = crate::error::ErrorBody)
    ),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(Scope::Admin)?;
    let id = id_of(id)?;
    Ok(Json(
        state
            .store()
            .webhook_disable(id, &caller.actor(), now_ms())
            .await?
            .into(),
    ))
}

#[utoipa::path(
    post, path = "/v1/webhooks/{id}/rotate", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook number")),
    request_body = RotateRequest,
    responses(
        (status = 200, description = "A new secret (shown this once); the old one signs too until `previous_until` (audited as `webhook.rotate`)", body = Created),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    ),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Created>, ApiError> {
    caller.require(Scope::Admin)?;
    let id = id_of(id)?;
    let bytes = body::read(
        body,
        &headers,
        state.limits().max_body_bytes.min(super::SMALL_BODY),
    )
    .await?;
    let text = body::text(&bytes)?;
    let req: RotateRequest = if text.trim().is_empty() {
        RotateRequest::default()
    } else {
        body::json(text, "")?
    };
    let hours = req.overlap_hours.unwrap_or(24);
    if !(0..=168).contains(&hours) {
        return Err(
            ApiError::bad_request("invalid_field", "`overlap_hours` is 0 to 168")
                .field("overlap_hours"),
        );
    }
    let secret = crate::webhooks::sign::new_secret()?;
    let now = now_ms();
    let e = state
        .store()
        .webhook_rotate(id, &secret, now + hours * 3_600_000, &caller.actor(), now)
        .await?;
    Ok(Json(Created {
        endpoint: e.into(),
        secret,
    }))
}

#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook number"), DeliveriesQuery),
    responses((status = 200, description = "Newest first; `dead` ones failed their last attempt", body = DeliveryPage), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Json<DeliveryPage>, ApiError> {
    caller.require(Scope::Admin)?;
    let id = id_of(id)?;
    let Query(q) = q.map_err(super::query_error)?;
    if let Some(s) = q.state.as_deref()
        && !samaritan_store::webhooks::DELIVERY_STATES.contains(&s)
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("unknown delivery state `{s}`; states are pending, delivered, dead"),
        )
        .field("state"));
    }
    endpoint(&state, id).await?;
    let limit = super::limit(q.limit, 100, 1000)?;
    Ok(Json(DeliveryPage {
        deliveries: state
            .store()
            .webhook_deliveries(id, q.state.as_deref(), limit)
            .await?,
    }))
}

#[utoipa::path(
    post, path = "/v1/webhooks/{id}/deliveries/{seq}/redeliver", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook number"), ("seq" = i64, Path, description = "Event number")),
    responses(
        (status = 202, description = "Sent again from now with the same `webhook-id` (audited as `webhook.redeliver`)"),
        (status = 404, body = crate::error::ErrorBody)
    ),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Admin)?;
    let Path((id, seq)) = path.map_err(super::path_error)?;
    let (Ok(id), Ok(seq)) = (id.parse::<i64>(), seq.parse::<i64>()) else {
        return Err(ApiError::bad_request(
            "invalid_path",
            "a webhook and an event are numbers",
        ));
    };
    state
        .store()
        .webhook_redeliver(id, seq, &caller.actor(), now_ms())
        .await?;
    Ok(StatusCode::ACCEPTED)
}
