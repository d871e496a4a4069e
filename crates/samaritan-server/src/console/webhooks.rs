//! Webhook endpoints for admins: each one's events and pending and dead deliveries, with a
//! button to send a dead one again (`webhook.redeliver`, audited by the store). Adding and
//! rotating endpoints stays in the API and the CLI, where the secret can be shown once.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{Delivery, Role, WebhookEndpoint, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{Chrome, PageError, render, when};
use super::session::{Person, check_origin};
use crate::AppState;

pub(crate) struct EndpointRow {
    pub e: WebhookEndpoint,
    pub events: String,
    pub pending: usize,
    pub dead: Vec<(String, Delivery)>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    rows: Vec<EndpointRow>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, PageError> {
    person.require(&[Role::Admin])?;
    let mut rows = Vec::new();
    for e in state.store().webhooks().await? {
        let pending = state
            .store()
            .webhook_deliveries(e.id, Some("pending"), 1000)
            .await?
            .len();
        let dead = state
            .store()
            .webhook_deliveries(e.id, Some("dead"), 100)
            .await?
            .into_iter()
            .map(|d| (when(d.created_at), d))
            .collect();
        rows.push(EndpointRow {
            events: e.events().join(", "),
            pending,
            dead,
            e,
        });
    }
    Ok(render(&WebhooksPage {
        chrome: Chrome::of(&person, "admin"),
        rows,
    }))
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn redeliver(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path((id, seq)): Path<(String, String)>,
    ConsoleForm(f): ConsoleForm<CsrfForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require(&[Role::Admin])?;
    let (Ok(id), Ok(seq)) = (id.parse::<i64>(), seq.parse::<i64>()) else {
        return Err(PageError::bad_request("a webhook and an event are numbers"));
    };
    state
        .store()
        .webhook_redeliver(id, seq, &person.actor(), now_ms())
        .await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}
