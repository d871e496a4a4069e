//! The webhook outbox's event types and bodies (issue 23). Events are written by
//! `emit_event!` inside the transaction of the change that causes them (a decision, a report
//! case's step, an appeal), so an event exists if and only if its change committed; the
//! service delivers them ([`crate::webhooks`] keeps the endpoints and deliveries).
//!
//! A body is the Standard Webhooks shape: `{"type", "timestamp", "data"}`. `data` names the ad
//! (id and revision), the decision or case, its reason code and who acted — never the ad's
//! text, its images, or a reviewer's note.

/// Every event type, by family.
pub const EVENT_TYPES: [&str; 8] = [
    "decision.created",
    "report.opened",
    "report.approved",
    "report.finished",
    "report.failed",
    "report.retracted",
    "appeal.created",
    "appeal.decided",
];

/// Whether `pattern` is an event type, a family (`decision.*`) or `*`.
pub fn valid_pattern(pattern: &str) -> bool {
    pattern == "*"
        || EVENT_TYPES.contains(&pattern)
        || pattern.strip_suffix(".*").is_some_and(|family| {
            EVENT_TYPES
                .iter()
                .any(|t| t.split('.').next() == Some(family))
        })
}

fn matches(pattern: &str, event_type: &str) -> bool {
    pattern == "*"
        || pattern == event_type
        || pattern
            .strip_suffix(".*")
            .is_some_and(|family| event_type.split('.').next() == Some(family))
}

/// Whether an endpoint subscribed to `patterns` (a JSON array) wants `event_type`.
pub fn wants(patterns: &str, event_type: &str) -> bool {
    serde_json::from_str::<Vec<String>>(patterns)
        .unwrap_or_default()
        .iter()
        .any(|p| matches(p, event_type))
}

/// The body of an event of `event_type` at `now` (milliseconds) with `data`.
pub fn event_body(event_type: &str, now: i64, data: serde_json::Value) -> String {
    serde_json::json!({
        "type": event_type,
        "timestamp": crate::queue::rfc3339_ms(now),
        "data": data,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_name_types_families_or_everything() {
        for p in ["*", "decision.*", "report.*", "appeal.decided"] {
            assert!(valid_pattern(p), "{p}");
        }
        for p in ["", "decision", "decisions.*", "report.sent", "*.*", "ad.*"] {
            assert!(!valid_pattern(p), "{p}");
        }
        assert!(wants(r#"["report.*"]"#, "report.finished"));
        assert!(!wants(r#"["report.*"]"#, "decision.created"));
        assert!(wants(
            r#"["appeal.decided","decision.*"]"#,
            "decision.created"
        ));
        assert!(!wants("not json", "decision.created"));
        let body = event_body("decision.created", 0, serde_json::json!({"ad_id": "a"}));
        assert_eq!(
            body,
            r#"{"data":{"ad_id":"a"},"timestamp":"1970-01-01T00:00:00Z","type":"decision.created"}"#
        );
    }
}
