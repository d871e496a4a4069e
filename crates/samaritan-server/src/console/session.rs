//! Who is signed in: the session cookie, the person behind it, their role, CSRF checks and the
//! per-address sign-in throttle.
//!
//! The cookie holds a random token (the store keeps its hash); it is `HttpOnly` (no script reads
//! it), `SameSite=Strict` (no other site's page sends it) and `Secure` when configured. Every form
//! that changes state carries the session's CSRF token, compared in constant time; a request with
//! an `Origin` header from another origin is refused before that.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{Role, Session, now_ms};

use super::page::PageError;
use crate::AppState;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "samaritan_session";
/// The sign-in form's own CSRF cookie (before there is a session).
pub(crate) const LOGIN_COOKIE: &str = "samaritan_login";

/// A signed-in person, from the request's session cookie.
pub(crate) struct Person {
    pub session: Session,
    /// The cookie's token (needed to end the session).
    pub token: String,
    /// The person's viewing settings (blur, greyscale, break budgets).
    pub settings: samaritan_store::ViewSettings,
}

impl Person {
    /// `user:<name>`, as the audit log and the queue's leases record them.
    pub fn actor(&self) -> String {
        self.session.user.actor()
    }

    pub fn role(&self) -> Role {
        self.session.user.role
    }

    /// Refuses with a 403 page unless the person has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), PageError> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(PageError::forbidden(format!(
                "this page is for {}; you are signed in as a {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                self.role().as_str()
            )))
        }
    }

    /// Works the queue: reviewers, leads and admins.
    pub fn require_queue(&self) -> Result<(), PageError> {
        self.require(&[Role::Reviewer, Role::Lead, Role::Admin])
    }

    /// Refuses a state-changing request whose form token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if constant_time_eq(sent.as_bytes(), self.session.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::forbidden(
                "the form's security token is missing or stale; reload the page and try again",
            ))
        }
    }
}

/// Equal lengths and bytes, in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in the request, if any.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly; SameSite=Strict; Path=/`, `Secure` when asked, and
/// `Max-Age=0` to clear it.
pub(crate) fn set_cookie(name: &str, value: &str, secure: bool, clear: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if clear {
        c.push_str("; Max-Age=0");
    }
    c
}

/// Whether cookies must be `Secure` for this request.
pub(crate) fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    let c = state.limits().console;
    c.secure_cookies
        || (c.trust_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
}

/// The client's address: the TCP peer, or with `trust_proxy` the last `X-Forwarded-For` entry
/// (the one the proxy itself added).
pub(crate) fn client_address(state: &AppState, parts: &Parts) -> String {
    if state.limits().console.trust_proxy
        && let Some(fwd) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
    {
        let a = fwd.trim();
        if !a.is_empty() && a.len() <= 64 {
            return a.to_owned();
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Refuses a request that says it comes from another origin (browsers send `Origin` on every
/// POST). Requests without the header are left to the CSRF token. The origin must name the
/// host the request was sent to: `Host`, or with `trust_proxy` the proxy's `X-Forwarded-Host`.
pub(crate) fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), PageError> {
    origin_matches(headers, state.limits().console.trust_proxy)
}

fn origin_matches(headers: &HeaderMap, trust_proxy: bool) -> Result<(), PageError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    let header_value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim())
            .filter(|v| !v.is_empty())
    };
    let mut hosts = vec![header_value("host")];
    if trust_proxy {
        hosts.push(header_value("x-forwarded-host"));
    }
    if hosts
        .into_iter()
        .flatten()
        .any(|h| origin_host.eq_ignore_ascii_case(h))
    {
        Ok(())
    } else {
        Err(PageError::forbidden(
            "this form was sent from another site; open the console directly",
        ))
    }
}

/// Not signed in: to the sign-in page, coming back here afterwards.
pub(crate) struct SignIn(String);

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/login?next={}", super::page::url_encode(&self.0))).into_response()
    }
}

pub(crate) enum PersonRejection {
    SignIn(SignIn),
    Error(PageError),
}

impl IntoResponse for PersonRejection {
    fn into_response(self) -> Response {
        match self {
            PersonRejection::SignIn(s) => s.into_response(),
            PersonRejection::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Person {
    type Rejection = PersonRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let back = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned()
        } else {
            "/queue".to_owned()
        };
        let Some(token) = cookie(&parts.headers, COOKIE) else {
            return Err(PersonRejection::SignIn(SignIn(back)));
        };
        let session = state
            .store()
            .session(token, now_ms(), state.limits().console.sessions)
            .await
            .map_err(|e| PersonRejection::Error(PageError::from(e)))?;
        match session {
            Some(session) => {
                let settings = state
                    .store()
                    .view_settings(&session.user.id)
                    .await
                    .map_err(|e| PersonRejection::Error(PageError::from(e)))?;
                Ok(Person {
                    session,
                    token: token.to_owned(),
                    settings,
                })
            }
            None => Err(PersonRejection::SignIn(SignIn(back))),
        }
    }
}

/// Failed sign-ins per client address in the current window (the per-account lockout is in the
/// store; this one stops one address guessing across many accounts).
#[derive(Default)]
pub(crate) struct AddressThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl AddressThrottle {
    /// Seconds to wait, when `address` has used up its failures.
    pub fn blocked(&self, address: &str, max: u32, window: Duration) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (n, since) = map.get(address)?;
        let left = window.checked_sub(since.elapsed())?;
        (*n >= max).then(|| left.as_secs().max(1))
    }

    /// Counts one failure from `address`.
    pub fn failed(&self, address: &str, window: Duration) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = map.entry(address.to_owned()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= window {
            *e = (0, Instant::now());
        }
        e.0 = e.0.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_origin_must_be_the_host_or_with_a_trusted_proxy_its_forwarded_host() {
        let same = headers(&[
            ("origin", "https://review.example"),
            ("host", "review.example"),
        ]);
        assert!(origin_matches(&same, false).is_ok());
        let other = headers(&[
            ("origin", "https://evil.example"),
            ("host", "review.example"),
        ]);
        assert!(origin_matches(&other, false).is_err());
        assert!(
            origin_matches(&headers(&[("host", "x")]), false).is_ok(),
            "no Origin: the token decides"
        );
        assert!(origin_matches(&headers(&[("origin", "null"), ("host", "x")]), false).is_err());
        let proxied = headers(&[
            ("origin", "https://review.example"),
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-host", "review.example"),
        ]);
        assert!(
            origin_matches(&proxied, false).is_err(),
            "not without --trust-proxy"
        );
        assert!(origin_matches(&proxied, true).is_ok());
        let forged = headers(&[
            ("origin", "https://evil.example"),
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-host", "review.example"),
        ]);
        assert!(origin_matches(&forged, true).is_err());
    }
}
