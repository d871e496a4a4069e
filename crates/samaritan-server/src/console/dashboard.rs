//! The dashboard for leads: what waits by priority band, how long ads wait for their first
//! decision, what was decided and why, and report decisions. The same figures are in
//! `/metrics` (`samaritan_queue_depth`, `samaritan_time_to_first_decision_seconds`,
//! `samaritan_decisions_total`, `samaritan_report_decisions`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use samaritan_store::{Dashboard, Role, now_ms};

use super::page::{Chrome, PageError, render};
use super::session::Person;
use crate::AppState;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    d: Dashboard,
    reports: samaritan_store::ReportCounts,
    /// Median time from an ad's first flag to its finished report.
    report_p50: String,
    p50: String,
    p90: String,
    total_waiting: i64,
}

/// Seconds as `1 h 5 min`, `4 min 10 s` or `12 s`.
fn span(secs: Option<f64>) -> String {
    let Some(s) = secs else {
        return "—".to_owned();
    };
    let s = s.round() as i64;
    match s {
        s if s >= 3600 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, PageError> {
    person.require(&[Role::Lead, Role::Admin])?;
    let d = state
        .store()
        .dashboard(now_ms(), crate::DASHBOARD_WINDOW_SECS)
        .await?;
    let total_waiting = d
        .depth
        .iter()
        .map(|b| b.open + b.claimed + b.escalated)
        .sum();
    let reports = state.store().report_counts().await?;
    let times = state
        .store()
        .report_times(now_ms() - crate::DASHBOARD_WINDOW_SECS * 1000)
        .await?;
    Ok(render(&DashboardPage {
        chrome: Chrome::of(&person, "dashboard"),
        reports,
        report_p50: span(times.p50_secs),
        p50: span(d.first_decision_p50_secs),
        p90: span(d.first_decision_p90_secs),
        total_waiting,
        d,
    }))
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(None), "—");
        assert_eq!(span(Some(12.4)), "12 s");
        assert_eq!(span(Some(250.0)), "4 min 10 s");
        assert_eq!(span(Some(3900.0)), "1 h 5 min");
    }
}
