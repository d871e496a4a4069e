//! Signing in and out.
//!
//! The sign-in form has its own CSRF token (a cookie and a hidden field that must agree), so a
//! third-party page cannot sign a browser into an account of the attacker's choosing. A refusal
//! never says whether the name exists. Failures are throttled per account (lockout, in the
//! store) and per client address (here).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{LoginError, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{PageError, local_path, render};
use super::session::{
    COOKIE, LOGIN_COOKIE, Person, check_origin, client_address, constant_time_eq, cookie, secure,
    set_cookie,
};
use crate::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    next: &'a str,
    token: &'a str,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// The form, with a fresh sign-in token in a cookie and a hidden field.
fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let token = samaritan_store::users::random_token()?;
    let mut resp = render(&LoginPage {
        next,
        token: &token,
        error,
    });
    *resp.status_mut() = status;
    let c = set_cookie(LOGIN_COOKIE, &token, secure(state, headers), false);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

pub(crate) async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = local_path(q.next.as_deref());
    form_page(&state, &headers, &next, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    parts: Parts,
    ConsoleForm(f): ConsoleForm<LoginForm>,
) -> Result<Response, PageError> {
    let headers = &parts.headers;
    check_origin(&state, headers)?;
    let next = local_path(Some(&f.next));
    let sent_ok = cookie(headers, LOGIN_COOKIE)
        .is_some_and(|c| !f.token.is_empty() && constant_time_eq(c.as_bytes(), f.token.as_bytes()));
    if !sent_ok {
        return form_page(
            &state,
            headers,
            &next,
            Some("The sign-in form expired. Please try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let cfg = state.limits().console;
    let window = std::time::Duration::from_secs(cfg.address_window_secs);
    let address = client_address(&state, &parts);
    if let Some(wait) = state
        .inner
        .login_throttle
        .blocked(&address, cfg.address_failures, window)
    {
        let msg = format!(
            "Too many failed sign-ins from this address. Try again in {} minutes.",
            wait.div_ceil(60)
        );
        let mut resp = form_page(
            &state,
            headers,
            &next,
            Some(&msg),
            StatusCode::TOO_MANY_REQUESTS,
        )?;
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    let name = f.name.trim().to_ascii_lowercase();
    let now = now_ms();
    let user = match state.store().verify_login(&name, &f.password, now).await {
        Ok(u) => u,
        Err(LoginError::Refused) => {
            state.inner.login_throttle.failed(&address, window);
            tracing::info!("console: a sign-in was refused");
            return form_page(
                &state,
                headers,
                &next,
                Some(
                    "Wrong name or password, or this account cannot sign in now \
                     (after 5 failures it is locked for 15 minutes).",
                ),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(LoginError::Store(e)) => return Err(e.into()),
    };
    let new = state.store().open_session(&user, &address, now).await?;
    let sec = secure(&state, headers);
    let mut resp = Redirect::to(&next).into_response();
    for c in [
        set_cookie(COOKIE, &new.token, sec, false),
        set_cookie(LOGIN_COOKIE, "", sec, true),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    ConsoleForm(f): ConsoleForm<CsrfForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    state.store().close_session(&person.token, now_ms()).await?;
    let mut resp = Redirect::to("/login").into_response();
    let c = set_cookie(COOKIE, "", secure(&state, &headers), true);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}
