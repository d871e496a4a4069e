//! The review console: server-rendered pages for people, beside the API for machines.
//!
//! Same process, same store, same rules as `/v1`: a person's claim, decision or evidence read goes
//! through the store calls the API uses and is audited under `user:<name>`. What the console adds
//! is the person: a session from signing in ([`session`]), a CSRF token on every form that
//! changes state, role checks per page, and pages built for working a queue by keyboard.
//!
//! Pages are HTML from compiled templates (askama, `templates/`), readable with JavaScript off:
//! every action is a plain form post. Two small scripts are served from the binary ([`assets`]):
//! the vendored htmx and `console.js` (keyboard shortcuts). The Content-Security-Policy
//! ([`headers`]) allows no inline script or style, no framing and no third-party request; an
//! image from an ad is never loaded from the poster's URL.

mod ad;
mod admin;
mod appeals;
mod assets;
mod audit;
mod dashboard;
mod form;
mod graph;
mod headers;
mod highlight;
mod holds;
mod login;
mod mask;
mod network;
mod page;
pub(crate) mod qa;
mod queue;
mod reports;
mod search;
pub(crate) mod session;
mod webhooks;
mod wellness;

use axum::Router;
use axum::routing::{get, post};
use samaritan_store::SessionLimits;

use crate::AppState;

/// The share of "claim next" that serves a golden item, as `samaritan serve` sets it unless told
/// otherwise (the library's default is off, so embedders and tests choose).
pub const GOLDEN_RATE: f64 = 0.02;
/// The share of decisions sampled for a second review, as `samaritan serve` sets it.
pub const SECOND_REVIEW_RATE: f64 = 0.05;

/// How the console treats sessions and sign-ins.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleConfig {
    /// Idle and absolute session timeouts.
    pub sessions: SessionLimits,
    /// Mark the session cookie `Secure` (set when the console is served over TLS, or behind a
    /// proxy that terminates it; see `trust_proxy`).
    pub secure_cookies: bool,
    /// Take the client's address from `X-Forwarded-For` and `Secure` from
    /// `X-Forwarded-Proto: https`, as set by a reverse proxy in front. Off by default: a client
    /// could otherwise choose its own address and escape the per-address throttle.
    pub trust_proxy: bool,
    /// Failed sign-ins one address may make within `address_window_secs` before it must wait.
    pub address_failures: u32,
    pub address_window_secs: u64,
    /// Share of "claim next" that serves a golden item (a decided ad with a lead's answer) when
    /// one is available for the person; 0 (the default here; `serve` uses [`GOLDEN_RATE`])
    /// turns golden items off.
    pub golden_rate: f64,
    /// Share of decisions (remove, allow, report under a claim) sampled for a blind second
    /// review by someone else; 0 (the default here; `serve` uses [`SECOND_REVIEW_RATE`]) turns
    /// sampling off.
    pub second_review_rate: f64,
}

impl Default for ConsoleConfig {
    fn default() -> ConsoleConfig {
        ConsoleConfig {
            sessions: SessionLimits::default(),
            secure_cookies: false,
            trust_proxy: false,
            address_failures: 20,
            address_window_secs: 15 * 60,
            golden_rate: 0.0,
            second_review_rate: 0.0,
        }
    }
}

/// The console's routes, with its security headers.
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(queue::home))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/queue", get(queue::page))
        .route("/queue/next", post(queue::next))
        .route("/queue/take-back", post(queue::take_back))
        .route("/ads/{id}", get(ad::page))
        .route("/ads/{id}/decide", post(ad::decide))
        .route("/ads/{id}/claim", post(ad::claim))
        .route("/ads/{id}/renew", post(ad::renew))
        .route("/ads/{id}/images/{n}", get(ad::image))
        .route("/networks/{id}", get(network::page))
        .route("/networks/{id}/decide", post(network::decide))
        .route("/search", get(search::page))
        .route(
            "/search/image",
            post(search::image).layer(axum::extract::DefaultBodyLimit::max(
                samaritan_media::DecodeLimits::default().max_bytes as usize + 64 * 1024,
            )),
        )
        .route("/qa", get(qa::page).post(qa::act))
        .route("/reports", get(reports::list))
        .route("/reports/{id}", get(reports::show))
        .route("/reports/{id}/approve", post(reports::approve))
        .route("/reports/{id}/submit", post(reports::submit))
        .route("/reports/{id}/retract", post(reports::retract))
        .route("/appeals", get(appeals::list))
        .route("/appeals/claim", post(appeals::claim))
        .route("/appeals/{id}", get(appeals::show))
        .route("/appeals/{id}/decision", post(appeals::answer))
        .route("/reports/{id}/hold/extend", post(holds::extend))
        .route("/reports/{id}/hold/release", post(holds::release))
        .route("/audit", get(audit::page))
        .route("/settings", get(wellness::settings).post(wellness::save))
        .route("/exposure", get(wellness::exposure))
        .route("/dashboard", get(dashboard::page))
        .route("/admin", get(admin::page).post(admin::act))
        .route("/admin/webhooks", get(webhooks::page))
        .route(
            "/admin/webhooks/{id}/deliveries/{seq}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/assets/{file}", get(assets::serve))
        .layer(axum::middleware::from_fn_with_state(state, headers::secure))
}
