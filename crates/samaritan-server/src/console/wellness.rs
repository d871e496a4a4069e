//! Care for the people who look at this material: each person's viewing settings, and the
//! exposure overview for leads (how much each reviewer was shown, as counts — never which ads
//! or images).

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{Exposure, Role, ViewSettings, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{Chrome, PageError, render, when};
use super::session::{Person, check_origin};
use crate::AppState;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    s: ViewSettings,
    items_seen: i64,
    images_revealed: i64,
    saved: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct SavedQuery {
    saved: Option<String>,
}

pub(crate) async fn settings(
    person: Person,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Response {
    render(&SettingsPage {
        chrome: Chrome::of(&person, "settings"),
        s: person.settings,
        items_seen: person.session.items_seen,
        images_revealed: person.session.images_revealed,
        saved: q.saved.is_some(),
        error: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    blur: i64,
    /// A checkbox: present when ticked.
    #[serde(default)]
    greyscale: Option<String>,
    #[serde(default)]
    mask_explicit: Option<String>,
    #[serde(default)]
    break_items: i64,
    #[serde(default)]
    break_images: i64,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    ConsoleForm(f): ConsoleForm<SettingsForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    let s = ViewSettings {
        blur: f.blur,
        greyscale: f.greyscale.is_some(),
        break_items: f.break_items,
        break_images: f.break_images,
        mask_explicit: f.mask_explicit.is_some(),
    };
    if let Err(e) = s.check() {
        let mut resp = render(&SettingsPage {
            chrome: Chrome::of(&person, "settings"),
            s,
            items_seen: person.session.items_seen,
            images_revealed: person.session.images_revealed,
            saved: false,
            error: Some(e.to_string()),
        });
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        return Ok(resp);
    }
    state
        .store()
        .set_view_settings(&person.session.user, s, now_ms())
        .await?;
    Ok(Redirect::to("/settings?saved=1").into_response())
}

pub(crate) struct Row {
    pub e: Exposure,
    pub last: String,
}

#[derive(Template)]
#[template(path = "exposure.html")]
struct ExposurePage {
    chrome: Chrome,
    rows: Vec<Row>,
}

/// The last 24 hours' exposure per person (leads and admins).
pub(crate) async fn exposure(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, PageError> {
    person.require(&[Role::Lead, Role::Admin])?;
    let since = now_ms() - 24 * 3_600_000;
    let rows = state
        .store()
        .exposure_since(since)
        .await?
        .into_iter()
        .map(|e| Row {
            last: when(e.last_seen),
            e,
        })
        .collect();
    Ok(render(&ExposurePage {
        chrome: Chrome::of(&person, "exposure"),
        rows,
    }))
}
