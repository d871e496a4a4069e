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
    audit: samaritan_store::AuditCounts,
    /// What the audit's answers say the policy lets through, with its 95 % interval.
    audit_estimate: Option<String>,
    /// The learned model in force and how its raise point stands.
    model: Option<String>,
}

/// `k` of `n` as a percentage with its 95 % Wilson score interval (sound for small samples and
/// for 0 or `n` removed, where the normal approximation says "0 ± 0").
fn share_with_interval(k: i64, n: i64) -> Option<String> {
    if n <= 0 || k < 0 || k > n {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let z = 1.959_964;
    let p = k / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    Some(format!(
        "{:.1} % (95 % interval {:.1}–{:.1} %)",
        100.0 * p,
        100.0 * (centre - half).max(0.0),
        100.0 * (centre + half).min(1.0)
    ))
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
    let audit = state.store().audit_counts().await?;
    let model = state.analyzer().model().map(|m| match m.model.raise {
        Some(r) => format!(
            "Learned model version {}: raises from probability {:.3}, fitted to raise at most \
             {:.1} % of {} audited benign ads.",
            m.version,
            r.probability,
            100.0 * r.benign_rate,
            r.benign_items
        ),
        None => format!(
            "Learned model version {}: raises nothing yet (its raise point is fitted once enough \
             audited benign answers exist); its scores are recorded in shadow.",
            m.version
        ),
    });
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
        audit_estimate: share_with_interval(audit.removed, audit.answered),
        audit,
        model,
        d,
    }))
}

#[cfg(test)]
mod tests {
    use super::{share_with_interval, span};

    #[test]
    fn audit_shares_carry_a_wilson_interval() {
        assert_eq!(share_with_interval(0, 0), None);
        assert_eq!(share_with_interval(3, 2), None);
        // 0 of 20: the interval still says how much could hide there.
        assert_eq!(
            share_with_interval(0, 20).unwrap(),
            "0.0 % (95 % interval 0.0–16.1 %)"
        );
        assert_eq!(
            share_with_interval(5, 100).unwrap(),
            "5.0 % (95 % interval 2.2–11.2 %)"
        );
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(None), "—");
        assert_eq!(span(Some(12.4)), "12 s");
        assert_eq!(span(Some(250.0)), "4 min 10 s");
        assert_eq!(span(Some(3900.0)), "1 h 5 min");
    }
}
