//! Quality assurance: golden items mixed into the queue, sampled second reviews, and the lead's
//! page with agreement per reviewer (the store's `qa.rs` keeps the records).
//!
//! A QA task reaches a reviewer through "claim next" like any item and opens on the ad page,
//! which then hides the ad's earlier decisions and its network case (the answer would show
//! there) and records the reviewer's choice as the task's answer, never as a decision. Leads
//! see the agreement figures, resolve disagreements (overriding the decision on the ad page when
//! the first one was wrong) and keep the golden set.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{
    Agreement, Decision, DecisionAction, GoldenItem, QaTask, Role, StoreError, now_ms,
};
use serde::Deserialize;

use super::ad::{ActionReasons, action_reasons};
use super::form::ConsoleForm;
use super::page::{Chrome, PageError, render, when};
use super::session::{Person, check_origin};
use crate::AppState;

/// Samples `decision` for a second review at the configured rate. Only decisions made under a
/// claim and that are answers (not escalations) qualify. A failure here is logged and does not
/// undo the decision: sampling is a measurement, the decision is the record.
pub(crate) async fn sample_second(state: &AppState, decision: &Decision) {
    let rate = state.limits().console.second_review_rate;
    if rate <= 0.0
        || decision.basis != "claim"
        || decision.action == DecisionAction::Escalate.as_str()
    {
        return;
    }
    let drawn = match samaritan_store::users::random_fraction() {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "second-review sampling skipped");
            return;
        }
    };
    if drawn >= rate {
        return;
    }
    if let Err(e) = state.store().qa_sample_second(decision, now_ms()).await {
        tracing::warn!(error = %e, decision = decision.seq, "second-review sample not recorded");
    }
}

/// The QA task `actor` holds on `ad_id`, if any.
pub(crate) async fn task_on(
    state: &AppState,
    actor: &str,
    ad_id: &str,
    now: i64,
) -> Result<Option<QaTask>, StoreError> {
    Ok(state
        .store()
        .qa_open_of(actor, now)
        .await?
        .into_iter()
        .find(|t| t.ad_id == ad_id))
}

/// The ad of the QA task "claim next" should open for `person`, if any: one they already hold,
/// else a golden item (drawn at the configured rate), else a waiting second review.
pub(crate) async fn next_task(
    state: &AppState,
    person: &Person,
) -> Result<Option<String>, PageError> {
    let now = now_ms();
    let actor = person.actor();
    let store = state.store();
    if let Some(t) = store.qa_open_of(&actor, now).await?.into_iter().next() {
        return Ok(Some(t.ad_id));
    }
    let lease = state.limits().default_lease_secs * 1000;
    let cfg = &state.limits().console;
    if cfg.golden_rate > 0.0
        && samaritan_store::users::random_fraction()? < cfg.golden_rate
        && let Some(t) = store.qa_assign_golden(&actor, lease, now).await?
    {
        return Ok(Some(t.ad_id));
    }
    // Waiting second reviews are served even when sampling has since been turned off.
    if let Some(t) = store.qa_claim_second(&actor, lease, now).await? {
        return Ok(Some(t.ad_id));
    }
    Ok(None)
}

/// One person's agreement, as the page shows it.
pub(crate) struct AgreementRow {
    pub a: Agreement,
    pub golden: String,
    pub given: String,
    pub confirmed: String,
}

fn share(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".to_owned()
    } else {
        format!("{:.0} % of {whole}", part as f64 * 100.0 / whole as f64)
    }
}

pub(crate) struct DisagreementRow {
    pub t: QaTask,
    pub answered: String,
}

pub(crate) struct GoldenRow {
    pub g: GoldenItem,
    pub added: String,
}

#[derive(Template)]
#[template(path = "qa.html")]
struct QaPage {
    chrome: Chrome,
    golden_rate: String,
    second_rate: String,
    agreement: Vec<AgreementRow>,
    disagreements: Vec<DisagreementRow>,
    golden: Vec<GoldenRow>,
    actions: Vec<ActionReasons>,
    notice: Option<String>,
    error: Option<String>,
}

async fn build(
    state: &AppState,
    person: &Person,
    notice: Option<String>,
    error: Option<String>,
) -> Result<QaPage, PageError> {
    let store = state.store();
    let agreement = store
        .qa_agreement()
        .await?
        .into_iter()
        .map(|a| AgreementRow {
            golden: share(a.golden_agreed, a.golden_answered),
            given: share(a.second_given_agreed, a.second_given),
            confirmed: share(a.decisions_confirmed, a.decisions_checked),
            a,
        })
        .collect();
    let disagreements: Vec<DisagreementRow> = store
        .qa_disagreements(200)
        .await?
        .into_iter()
        .map(|t| DisagreementRow {
            answered: t.answered_at.map(when).unwrap_or_default(),
            t,
        })
        .collect();
    let golden: Vec<GoldenRow> = store
        .golden_list(500)
        .await?
        .into_iter()
        .map(|g| GoldenRow {
            added: when(g.added_at),
            g,
        })
        .collect();
    // The page names ads and what was decided on them: an evidence read like the queue's.
    let ads: Vec<&str> = disagreements
        .iter()
        .map(|d| d.t.ad_id.as_str())
        .chain(golden.iter().map(|g| g.g.ad_id.as_str()))
        .collect();
    store
        .audit_append(
            &person.actor(),
            "qa.read",
            "qa",
            serde_json::json!({"ads": ads, "via": "console"}),
        )
        .await?;
    let cfg = &state.limits().console;
    Ok(QaPage {
        chrome: Chrome::of(person, "qa"),
        golden_rate: format!("{:.0} %", cfg.golden_rate * 100.0),
        second_rate: format!("{:.0} %", cfg.second_review_rate * 100.0),
        agreement,
        disagreements,
        golden,
        actions: action_reasons(state),
        notice,
        error,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, PageError> {
    person.require(&[Role::Lead, Role::Admin])?;
    Ok(render(&build(&state, &person, None, None).await?))
}

#[derive(Deserialize)]
pub(crate) struct QaForm {
    #[serde(default)]
    csrf: String,
    /// `golden-add`, `golden-remove` or `resolve`.
    #[serde(default)]
    op: String,
    #[serde(default)]
    ad: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    task: i64,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    ConsoleForm(f): ConsoleForm<QaForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require(&[Role::Lead, Role::Admin])?;
    let actor = person.actor();
    let now = now_ms();
    let store = state.store();
    let done: Result<String, String> = match f.op.as_str() {
        "golden-add" => {
            crate::routes::path_id(&f.ad)?;
            match DecisionAction::parse(&f.action) {
                None => Err("Choose the golden answer: remove, allow, report or escalate.".into()),
                Some(action) => match state.reasons().check(action, &f.reason) {
                    Err(m) => Err(format!("Choose a reason for {}: {m}", action.as_str())),
                    Ok(()) => outcome(
                        store
                            .golden_add(&f.ad, action, &f.reason, &f.note, &actor, now)
                            .await,
                        |g| {
                            format!(
                                "`{}` (revision {}) is a golden item: {}.",
                                g.ad_id, g.revision, g.expected_action
                            )
                        },
                        "Not added",
                    )?,
                },
            }
        }
        "golden-remove" => {
            crate::routes::path_id(&f.ad)?;
            outcome(
                store.golden_remove(&f.ad, &actor, now).await,
                |()| format!("`{}` left the golden set.", f.ad),
                "Not removed",
            )?
        }
        "resolve" => outcome(
            store.qa_resolve(f.task, &actor, f.note.trim(), now).await,
            |t| format!("Second review {} of `{}` resolved.", t.id, t.ad_id),
            "Not resolved",
        )?,
        other => {
            return Err(PageError::bad_request(format!(
                "unknown QA action `{other}`"
            )));
        }
    };
    match done {
        Ok(notice) => Ok(render(&build(&state, &person, Some(notice), None).await?)),
        Err(error) => {
            let mut resp = render(&build(&state, &person, None, Some(error)).await?);
            *resp.status_mut() = StatusCode::CONFLICT;
            Ok(resp)
        }
    }
}

/// A store call's result as the page's message: a refusal or a bad value is said on the page
/// (prefixed with `failed`); anything else stays an error.
fn outcome<T>(
    r: Result<T, StoreError>,
    ok: impl FnOnce(T) -> String,
    failed: &str,
) -> Result<Result<String, String>, PageError> {
    match r {
        Ok(v) => Ok(Ok(ok(v))),
        Err(
            StoreError::Refused { message, .. }
            | StoreError::Invalid(message)
            | StoreError::NotFound(message),
        ) => Ok(Err(format!("{failed}: {message}"))),
        Err(e) => Err(e.into()),
    }
}

/// After an answer, where the reviewer goes.
pub(crate) fn answered(id: &str) -> Response {
    Redirect::to(&format!("/queue?done={}", super::page::url_encode(id))).into_response()
}
