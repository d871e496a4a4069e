//! The audit log for auditors: the newest entries and, on request, a full verification.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use samaritan_store::{AuditEntry, AuditReport, Role};
use serde::Deserialize;

use super::page::{Chrome, PageError, render, when};
use super::session::Person;
use crate::AppState;

/// Entries shown per page.
const SHOWN: i64 = 100;

#[derive(Deserialize, Default)]
pub(crate) struct AuditQuery {
    verify: Option<String>,
    /// Show the entries up to this `seq` (paging back).
    before: Option<i64>,
}

pub(crate) struct Line {
    pub entry: AuditEntry,
    pub at: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    head_seq: i64,
    head_hash: String,
    lines: Vec<Line>,
    report: Option<AuditReport>,
    older: Option<i64>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    person.require(&[Role::Auditor, Role::Admin])?;
    let (head_seq, head_hash) = state.store().audit_head().await?;
    let upto = q
        .before
        .map_or(head_seq, |b| b.min(head_seq + 1) - 1)
        .max(0);
    let after = (upto - SHOWN).max(0);
    let mut entries = state.store().audit_list(after, upto - after).await?;
    entries.reverse();
    let report = match q.verify {
        Some(_) => Some(crate::verify_audit(&state).await?),
        None => None,
    };
    let lines = entries
        .into_iter()
        .map(|entry| Line {
            at: when(entry.ts),
            detail: entry.detail_json(),
            entry,
        })
        .collect();
    Ok(render(&AuditPage {
        chrome: Chrome::of(&person, "audit"),
        head_seq,
        head_hash,
        lines,
        report,
        older: (after > 0).then_some(after + 1),
    }))
}
