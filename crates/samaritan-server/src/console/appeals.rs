//! Appeals for reviewers: the open ones (with the user's statement, masked for those who mask
//! explicit terms), "claim next" (never an appeal against one's own decision), and the answer
//! form — upheld with a remove or report reason, reversed with an allow reason. The store
//! audits each step and sends the outcome to the platform by webhook.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{Appeal, DecisionAction, Role, StoreError, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{Chrome, PageError, render, when};
use super::session::{Person, check_origin};
use crate::AppState;

pub(crate) struct AppealRow {
    pub a: Appeal,
    pub created: String,
    pub statement: String,
}

#[derive(Template)]
#[template(path = "appeals.html")]
struct AppealsPage {
    chrome: Chrome,
    open: Vec<AppealRow>,
    decided: Vec<AppealRow>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "appeal.html")]
struct AppealPage {
    chrome: Chrome,
    row: AppealRow,
    /// The reader holds its live claim and may answer.
    can_answer: bool,
    answered: String,
    /// (value, label) of every reason an answer may give, upheld first.
    upheld: Vec<(String, String)>,
    reversed: Vec<(String, String)>,
    error: Option<String>,
}

fn reviewer(person: &Person) -> Result<(), PageError> {
    person.require(&[Role::Reviewer, Role::Lead, Role::Admin])
}

fn row(a: Appeal, masked: bool) -> AppealRow {
    let mut statement = a.statement.clone();
    super::mask::apply(masked, &mut statement);
    AppealRow {
        created: when(a.created_at),
        statement,
        a,
    }
}

fn reasons(state: &AppState, actions: &[DecisionAction]) -> Vec<(String, String)> {
    actions
        .iter()
        .flat_map(|a| {
            state
                .reasons()
                .actions
                .get(a.as_str())
                .map(|codes| {
                    codes
                        .iter()
                        .map(|(c, w)| (c.clone(), format!("{c} — {w}")))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect()
}

pub(crate) async fn list(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, PageError> {
    reviewer(&person)?;
    let masked = person.settings.mask_explicit;
    let open = state.store().appeals(Some("open"), 200).await?;
    let mut decided = state.store().appeals(Some("decided"), 500).await?;
    decided.reverse();
    decided.truncate(50);
    Ok(render(&AppealsPage {
        chrome: Chrome::of(&person, "appeals"),
        open: open.into_iter().map(|a| row(a, masked)).collect(),
        decided: decided.into_iter().map(|a| row(a, masked)).collect(),
        notice: None,
    }))
}

async fn page(
    state: &AppState,
    person: &Person,
    id: i64,
    error: Option<String>,
) -> Result<AppealPage, PageError> {
    let a = state
        .store()
        .appeal(id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no appeal {id}")))?;
    let can_answer = a.state == "open"
        && a.claimed_by.as_deref() == Some(person.actor().as_str())
        && a.lease_until.is_some_and(|l| l > now_ms());
    Ok(AppealPage {
        chrome: Chrome::of(person, "appeals"),
        can_answer,
        answered: a.answered_at.map(when).unwrap_or_default(),
        upheld: reasons(state, &[DecisionAction::Remove, DecisionAction::Report]),
        reversed: reasons(state, &[DecisionAction::Allow]),
        row: row(a, person.settings.mask_explicit),
        error,
    })
}

fn appeal_id(id: &str) -> Result<i64, PageError> {
    id.parse()
        .map_err(|_| PageError::bad_request(format!("`{id}` is not an appeal number")))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    reviewer(&person)?;
    let id = appeal_id(&id)?;
    Ok(render(&page(&state, &person, id, None).await?))
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    ConsoleForm(f): ConsoleForm<CsrfForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    reviewer(&person)?;
    let lease = state.limits().default_lease_secs * 1000;
    match state
        .store()
        .appeal_claim(&person.actor(), lease, now_ms())
        .await?
    {
        Some(a) => Ok(Redirect::to(&format!("/appeals/{}", a.id)).into_response()),
        None => {
            let masked = person.settings.mask_explicit;
            let open = state.store().appeals(Some("open"), 200).await?;
            Ok(render(&AppealsPage {
                chrome: Chrome::of(&person, "appeals"),
                open: open.into_iter().map(|a| row(a, masked)).collect(),
                decided: Vec::new(),
                notice: Some(
                    "No open appeal for you: the others are against your own decisions or held by someone else."
                        .into(),
                ),
            }))
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    reason_upheld: String,
    #[serde(default)]
    reason_reversed: String,
    #[serde(default)]
    note: String,
}

pub(crate) async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<AnswerForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    reviewer(&person)?;
    let id = appeal_id(&id)?;
    let again = |status: StatusCode, message: String| {
        let state = state.clone();
        let person = &person;
        async move {
            let mut resp = render(&page(&state, person, id, Some(message)).await?);
            *resp.status_mut() = status;
            Ok::<Response, PageError>(resp)
        }
    };
    let (reason, check) = match f.outcome.as_str() {
        "upheld" => (
            f.reason_upheld.clone(),
            state
                .reasons()
                .check(DecisionAction::Remove, &f.reason_upheld)
                .or_else(|_| {
                    state
                        .reasons()
                        .check(DecisionAction::Report, &f.reason_upheld)
                }),
        ),
        "reversed" => (
            f.reason_reversed.clone(),
            state
                .reasons()
                .check(DecisionAction::Allow, &f.reason_reversed),
        ),
        _ => {
            return again(
                StatusCode::BAD_REQUEST,
                "Choose whether the decision is upheld or reversed.".into(),
            )
            .await;
        }
    };
    if let Err(m) = check {
        return again(StatusCode::BAD_REQUEST, m).await;
    }
    match state
        .store()
        .appeal_answer(id, &f.outcome, &reason, &f.note, &person.actor(), now_ms())
        .await
    {
        Ok(_) => Ok(Redirect::to("/appeals").into_response()),
        Err(StoreError::Refused { message, .. }) => again(StatusCode::CONFLICT, message).await,
        Err(StoreError::Invalid(message)) => again(StatusCode::BAD_REQUEST, message).await,
        Err(e) => Err(e.into()),
    }
}
