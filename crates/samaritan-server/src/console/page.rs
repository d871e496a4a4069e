//! What every page shares: the header ("chrome"), rendering, and error pages.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use samaritan_store::{Role, StoreError};

use super::session::Person;

/// The page header: who is signed in, what they may open, and the sign-out form's token.
pub(crate) struct Chrome {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub queue: bool,
    pub lead: bool,
    pub audit: bool,
    pub admin: bool,
    /// Which nav entry is current.
    pub here: &'static str,
    /// Set once this session's exposure passed the person's budget.
    pub break_note: Option<String>,
}

impl Chrome {
    pub fn of(p: &Person, here: &'static str) -> Chrome {
        let role = p.role();
        Chrome {
            name: p.session.user.name.clone(),
            role: role.as_str(),
            csrf: p.session.csrf.clone(),
            queue: matches!(role, Role::Reviewer | Role::Lead | Role::Admin),
            lead: matches!(role, Role::Lead | Role::Admin),
            audit: matches!(role, Role::Auditor | Role::Admin),
            admin: role == Role::Admin,
            here,
            break_note: break_note(p),
        }
    }
}

/// The break suggestion, once the session has shown more than the person's budget.
fn break_note(p: &Person) -> Option<String> {
    let (items, images) = (p.session.items_seen, p.session.images_revealed);
    let over = items >= p.settings.break_items || images >= p.settings.break_images;
    over.then(|| {
        format!(
            "You have opened {items} items and revealed {images} images in this session. \
             Please take a break: step away from the screen for a few minutes (signing out and \
             back in starts a new count)."
        )
    })
}

/// Renders a template as a page (a template that fails to render is a 500, logged without
/// the page's content).
pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// An error shown as a page.
#[derive(Debug)]
pub(crate) struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        let api = crate::ApiError::from(e);
        PageError::new(api.status, api.message)
    }
}

impl From<crate::ApiError> for PageError {
    fn from(e: crate::ApiError) -> PageError {
        PageError::new(e.status, e.message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let page = ErrorPage {
            status: self.status.as_u16(),
            title,
            message: &self.message,
        };
        let mut resp = render(&page);
        *resp.status_mut() = self.status;
        resp
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A local path to come back to after signing in: only `/…` paths of this site (never `//host`
/// or a scheme), else the queue.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && p.len() <= 2048
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/queue".to_owned(),
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC, for tables.
pub(crate) fn when(ms: i64) -> String {
    let s = samaritan_store::queue::rfc3339_ms(ms);
    s.get(..19).map_or(s.clone(), |t| t.replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_come_back() {
        assert_eq!(local_path(Some("/ads/a1?x=1")), "/ads/a1?x=1");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "queue",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad)), "/queue", "{bad:?}");
        }
        assert_eq!(local_path(None), "/queue");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(url_encode("/ads/a b?c=d&e"), "/ads/a%20b%3Fc%3Dd%26e");
    }
}
