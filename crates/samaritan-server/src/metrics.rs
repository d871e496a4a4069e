//! Prometheus metrics: request counts and latencies per route, ingest outcomes, analysis time,
//! and store gauges read at scrape time. Hand-rolled text exposition (format 0.0.4): a few
//! counters and histograms do not justify a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use samaritan_store::Stats;

const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    ingested: BTreeMap<&'static str, u64>,
    analysis: Histogram,
}

#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g)
    }

    pub(crate) fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.with(|m| {
            *m.requests
                .entry((route.to_owned(), method.to_owned(), status))
                .or_default() += 1;
            m.latency
                .entry(route.to_owned())
                .or_default()
                .observe(took.as_secs_f64());
        });
    }

    pub(crate) fn ingested(&self, status: &'static str, n: u64) {
        self.with(|m| *m.ingested.entry(status).or_default() += n);
    }

    pub(crate) fn analysis(&self, took: Duration) {
        self.with(|m| m.analysis.observe(took.as_secs_f64()));
    }

    pub(crate) fn render(&self, stats: &Stats) -> String {
        let mut out = String::new();
        self.with(|m| {
            out.push_str("# HELP samaritan_http_requests_total HTTP requests by route, method and status.\n");
            out.push_str("# TYPE samaritan_http_requests_total counter\n");
            for ((route, method, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "samaritan_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
            out.push_str("# HELP samaritan_http_request_duration_seconds Time to answer a request, by route.\n");
            out.push_str("# TYPE samaritan_http_request_duration_seconds histogram\n");
            for (route, h) in &m.latency {
                h.render(
                    &mut out,
                    "samaritan_http_request_duration_seconds",
                    &format!("route=\"{}\"", escape(route)),
                );
            }
            out.push_str("# HELP samaritan_ingested_ads_total Ads received, by what ingest did with them.\n");
            out.push_str("# TYPE samaritan_ingested_ads_total counter\n");
            for (status, n) in &m.ingested {
                let _ = writeln!(out, "samaritan_ingested_ads_total{{status=\"{status}\"}} {n}");
            }
            out.push_str("# HELP samaritan_analysis_duration_seconds Engine time per ingest request.\n");
            out.push_str("# TYPE samaritan_analysis_duration_seconds histogram\n");
            m.analysis.render(&mut out, "samaritan_analysis_duration_seconds", "");
        });
        for (name, help, v) in [
            ("samaritan_ads", "Ads stored.", stats.ads),
            (
                "samaritan_analyses",
                "Analyses stored (all revisions).",
                stats.analyses,
            ),
            (
                "samaritan_queue_open",
                "Ads waiting for review.",
                stats.queue_open,
            ),
            (
                "samaritan_queue_escalated",
                "Ads escalated to a lead.",
                stats.queue_escalated,
            ),
            (
                "samaritan_decisions",
                "Decisions recorded.",
                stats.decisions,
            ),
            (
                "samaritan_audit_entries",
                "Entries in the audit chain.",
                stats.audit_entries,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The review dashboard's figures in Prometheus form (the same numbers the console shows).
pub(crate) fn render_dashboard(d: &samaritan_store::Dashboard) -> String {
    let mut out = String::new();
    out.push_str("# HELP samaritan_queue_depth Items waiting, by priority band and state.\n");
    out.push_str("# TYPE samaritan_queue_depth gauge\n");
    for b in &d.depth {
        for (state, n) in [
            ("open", b.open),
            ("claimed", b.claimed),
            ("escalated", b.escalated),
        ] {
            let _ = writeln!(
                out,
                "samaritan_queue_depth{{band=\"{}\",state=\"{state}\"}} {n}",
                b.band
            );
        }
    }
    out.push_str("# HELP samaritan_time_to_first_decision_seconds From an ad's arrival to its first decision, over the ads first decided in the window.\n");
    out.push_str("# TYPE samaritan_time_to_first_decision_seconds gauge\n");
    for (q, v) in [
        ("0.5", d.first_decision_p50_secs),
        ("0.9", d.first_decision_p90_secs),
    ] {
        if let Some(v) = v {
            let _ = writeln!(
                out,
                "samaritan_time_to_first_decision_seconds{{quantile=\"{q}\",window_seconds=\"{}\"}} {v}",
                d.window_secs
            );
        }
    }
    out.push_str("# HELP samaritan_decisions_total Decisions recorded, by action and reason.\n");
    out.push_str("# TYPE samaritan_decisions_total counter\n");
    for c in &d.decisions {
        let _ = writeln!(
            out,
            "samaritan_decisions_total{{action=\"{}\",reason=\"{}\"}} {}",
            escape(&c.action),
            escape(&c.reason),
            c.count
        );
    }
    out.push_str("# HELP samaritan_report_decisions Ads whose latest decision is report.\n");
    out.push_str("# TYPE samaritan_report_decisions gauge\n");
    let _ = writeln!(out, "samaritan_report_decisions {}", d.report_decisions);
    out
}

/// Report cases by state, for `/metrics`.
pub(crate) fn render_reports(
    c: &samaritan_store::ReportCounts,
    t: &samaritan_store::ReportTimes,
    window_secs: i64,
) -> String {
    let mut out = String::new();
    out.push_str("# HELP samaritan_reports Report cases (CyberTipline), by state.\n");
    out.push_str("# TYPE samaritan_reports gauge\n");
    for (state, n) in [
        ("draft", c.draft),
        ("approved", c.approved),
        ("filing", c.filing),
        ("finished", c.finished),
        ("failed", c.failed),
        ("retracted", c.retracted),
    ] {
        let _ = writeln!(out, "samaritan_reports{{state=\"{state}\"}} {n}");
    }
    out.push_str(
        "# HELP samaritan_report_time_to_finished_seconds From an ad's first flag to its finished CyberTipline report.\n",
    );
    out.push_str("# TYPE samaritan_report_time_to_finished_seconds summary\n");
    for (q, v) in [("0.5", t.p50_secs), ("0.9", t.p90_secs)] {
        if let Some(v) = v {
            let _ = writeln!(
                out,
                "samaritan_report_time_to_finished_seconds{{quantile=\"{q}\",window_seconds=\"{window_secs}\"}} {v}"
            );
        }
    }
    let _ = writeln!(
        out,
        "samaritan_report_time_to_finished_seconds_count{{window_seconds=\"{window_secs}\"}} {}",
        t.finished
    );
    out
}

/// Webhook deliveries by state and the wait of the oldest pending one, for `/metrics`.
pub(crate) fn render_webhooks(c: &samaritan_store::DeliveryCounts, now_ms: i64) -> String {
    let mut out = String::new();
    out.push_str("# HELP samaritan_webhook_deliveries Webhook deliveries, by state (dead: failed their last attempt).\n");
    out.push_str("# TYPE samaritan_webhook_deliveries gauge\n");
    for (state, n) in [
        ("pending", c.pending),
        ("delivered", c.delivered),
        ("dead", c.dead),
    ] {
        let _ = writeln!(out, "samaritan_webhook_deliveries{{state=\"{state}\"}} {n}");
    }
    out.push_str("# HELP samaritan_webhook_oldest_pending_seconds How long the oldest pending event has waited (0 when none).\n");
    out.push_str("# TYPE samaritan_webhook_oldest_pending_seconds gauge\n");
    let wait = c
        .oldest_pending_at
        .map_or(0.0, |t| (now_ms - t).max(0) as f64 / 1000.0);
    let _ = writeln!(out, "samaritan_webhook_oldest_pending_seconds {wait}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_is_well_formed() {
        let m = Metrics::default();
        m.request("/v1/ads", "POST", 200, Duration::from_millis(3));
        m.request("/v1/ads", "POST", 200, Duration::from_millis(30));
        m.ingested("created", 5);
        let text = m.render(&Stats::default());
        assert!(text.contains(
            "samaritan_http_requests_total{route=\"/v1/ads\",method=\"POST\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "samaritan_http_request_duration_seconds_bucket{route=\"/v1/ads\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("samaritan_ingested_ads_total{status=\"created\"} 5"));
        assert!(text.contains("samaritan_ads 0"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                line.rsplit(' ').next().unwrap().parse::<f64>().is_ok(),
                "{line}"
            );
        }
    }
}
