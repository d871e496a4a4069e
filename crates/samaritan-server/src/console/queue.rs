//! The queue: what waits, highest risk first, and "claim next".
//!
//! The order is the store's (priority, then age); priority comes from the engine (score, minor
//! indicators first, network size). Filters narrow the page without changing that order.
//! Listing is an evidence read (titles, snippets, quotes) and is audited as `queue.read` with the
//! ads shown, as the API's listing is.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{QueueItem, QueueState, Role, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{Chrome, PageError, render, url_encode};
use super::session::{Person, check_origin};
use crate::AppState;

/// Items fetched for one page, highest priority first (filters apply to these).
const PAGE_ITEMS: i64 = 100;

pub(crate) async fn home(person: Result<Person, super::session::PersonRejection>) -> Response {
    match person {
        Ok(p) if p.require_queue().is_ok() => Redirect::to("/queue").into_response(),
        Ok(_) => Redirect::to("/audit").into_response(),
        Err(r) => r.into_response(),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct QueueQuery {
    state: Option<String>,
    verdict: Option<String>,
    category: Option<String>,
    city: Option<String>,
    network: Option<String>,
    /// An ad just decided (shown as a notice).
    done: Option<String>,
    /// Set when "claim next" found nothing.
    empty: Option<String>,
}

pub(crate) struct Row {
    pub item: QueueItem,
    /// When it entered the queue, `MM-DD HH:MM` UTC.
    pub waiting: String,
    pub mine: bool,
    pub categories: Vec<String>,
    pub href: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    state: &'static str,
    rows: Vec<Row>,
    total: usize,
    verdict: String,
    category: String,
    city: String,
    network: String,
    categories: Vec<String>,
    done: Option<String>,
    empty: bool,
    /// For leads: items other people hold now, with the person and the lease end.
    held: Vec<QueueItem>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    person.require_queue()?;
    let st = match q.state.as_deref() {
        None | Some("open") => QueueState::Open,
        Some("escalated") => {
            person.require(&[Role::Lead, Role::Admin])?;
            QueueState::Escalated
        }
        Some(other) => {
            return Err(PageError::bad_request(format!(
                "unknown queue `{other}`; queues are open and escalated"
            )));
        }
    };
    let now = now_ms();
    let actor = person.actor();
    let mut items = Vec::new();
    if st == QueueState::Open {
        // The person's own live claims come first: that is their work in hand.
        items.extend(
            state
                .store()
                .queue_claims_of(&actor, PAGE_ITEMS, now)
                .await?
                .into_iter()
                .filter(|i| i.state == QueueState::Claimed),
        );
        // Quality-review tasks the person holds show as their claims (the ad is decided; the
        // task is theirs until its lease ends).
        let tasks = state.store().qa_open_of(&actor, now).await?;
        let ids: Vec<&str> = tasks.iter().map(|t| t.ad_id.as_str()).collect();
        for mut item in state.store().queue_items(&ids, now).await? {
            if let Some(t) = tasks.iter().find(|t| t.ad_id == item.ad_id) {
                item.state = QueueState::Claimed;
                item.claimed_by = Some(actor.clone());
                item.lease_until = t.lease_until.map(samaritan_store::queue::rfc3339_ms);
                // Blind: the network case would show the members' decisions.
                item.network = None;
                items.push(item);
            }
        }
    }
    items.extend(state.store().queue_list(st, PAGE_ITEMS, now).await?);
    let total = items.len();
    let mut categories: Vec<String> = items
        .iter()
        .flat_map(|i| i.top_signals.iter().map(|s| s.category.clone()))
        .collect();
    categories.sort();
    categories.dedup();
    let want = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (verdict, category, city, network) = (
        want(&q.verdict),
        want(&q.category),
        want(&q.city),
        want(&q.network),
    );
    let rows: Vec<Row> = items
        .into_iter()
        .filter(|i| verdict.as_ref().is_none_or(|v| &i.verdict == v))
        .filter(|i| {
            category
                .as_ref()
                .is_none_or(|c| i.top_signals.iter().any(|s| &s.category == c))
        })
        .filter(|i| {
            city.as_ref()
                .is_none_or(|c| i.city.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(c)))
        })
        .filter(|i| {
            network
                .as_ref()
                .is_none_or(|n| i.network.as_ref().is_some_and(|x| &x.id == n))
        })
        .map(|mut item| {
            let masked = person.settings.mask_explicit;
            if let Some(t) = &mut item.title {
                super::mask::apply(masked, t);
            }
            super::mask::apply(masked, &mut item.snippet);
            for s in &mut item.top_signals {
                super::mask::apply(masked, &mut s.text);
            }
            let mut cats: Vec<String> = item
                .top_signals
                .iter()
                .map(|s| s.category.clone())
                .collect();
            cats.dedup();
            let waiting = item
                .enqueued_at
                .get(5..16)
                .map_or_else(|| item.enqueued_at.clone(), |t| t.replace('T', " "));
            Row {
                waiting,
                mine: item.claimed_by.as_deref() == Some(actor.as_str()),
                href: format!("/ads/{}", url_encode(&item.ad_id)),
                categories: cats,
                item,
            }
        })
        .collect();
    let held: Vec<QueueItem> =
        if st == QueueState::Open && matches!(person.role(), Role::Lead | Role::Admin) {
            let claimed = state
                .store()
                .queue_list(QueueState::Claimed, PAGE_ITEMS, now);
            claimed
                .await?
                .into_iter()
                .filter(|i| i.claimed_by.as_deref() != Some(actor.as_str()))
                .map(|mut i| {
                    if let Some(t) = &mut i.title {
                        super::mask::apply(person.settings.mask_explicit, t);
                    }
                    i
                })
                .collect()
        } else {
            Vec::new()
        };
    state
        .store()
        .audit_append(
            &actor,
            "queue.read",
            st.as_str(),
            serde_json::json!({
                "ads": rows.iter().map(|r| r.item.ad_id.as_str()).chain(held.iter().map(|i| i.ad_id.as_str())).collect::<Vec<_>>(),
                "via": "console",
            }),
        )
        .await?;
    Ok(render(&QueuePage {
        chrome: Chrome::of(
            &person,
            if st == QueueState::Open {
                "queue"
            } else {
                "escalated"
            },
        ),
        state: st.as_str(),
        rows,
        total,
        verdict: verdict.unwrap_or_default(),
        category: category.unwrap_or_default(),
        city: city.unwrap_or_default(),
        network: network.unwrap_or_default(),
        categories,
        done: q.done,
        empty: q.empty.is_some(),
        held,
    }))
}

#[derive(Deserialize)]
pub(crate) struct NextForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: Option<String>,
}

/// Claims the next item (the person's own live claim first) and opens it.
pub(crate) async fn next(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    ConsoleForm(f): ConsoleForm<NextForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require_queue()?;
    let escalated = f.state.as_deref() == Some("escalated");
    if escalated {
        person.require(&[Role::Lead, Role::Admin])?;
    }
    claim_next(&state, &person, escalated).await
}

/// The redirect to the next claimed item, or back to the queue saying it is empty.
pub(crate) async fn claim_next(
    state: &AppState,
    person: &Person,
    escalated: bool,
) -> Result<Response, PageError> {
    let st = if escalated {
        QueueState::Escalated
    } else {
        QueueState::Open
    };
    let now = now_ms();
    let lease = state.limits().default_lease_secs * 1000;
    let actor = person.actor();
    if !escalated {
        // Work in hand first, then quality review (golden items, second reviews), then the queue.
        let own = state.store().queue_claims_of(&actor, 10, now_ms()).await?;
        if let Some(i) = own.iter().find(|i| i.state == QueueState::Claimed) {
            return Ok(Redirect::to(&format!("/ads/{}", url_encode(&i.ad_id))).into_response());
        }
        if let Some(ad) = super::qa::next_task(state, person).await? {
            return Ok(Redirect::to(&format!("/ads/{}", url_encode(&ad))).into_response());
        }
    }
    let draws = if escalated {
        samaritan_store::Draws::default()
    } else {
        state.draws(1)
    };
    let items = state
        .store()
        .queue_claim_drawing(&actor, st, 1, draws, lease, now)
        .await?;
    Ok(match items.first() {
        Some(i) => Redirect::to(&format!("/ads/{}", url_encode(&i.ad_id))).into_response(),
        None => Redirect::to(if escalated {
            "/queue?state=escalated&empty=1"
        } else {
            "/queue?empty=1"
        })
        .into_response(),
    })
}

#[derive(Deserialize)]
pub(crate) struct TakeBackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ad: String,
    #[serde(default)]
    state: Option<String>,
}

/// A lead takes an item back from the person holding it; it is open to anyone again.
pub(crate) async fn take_back(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    ConsoleForm(f): ConsoleForm<TakeBackForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require(&[Role::Lead, Role::Admin])?;
    crate::routes::path_id(&f.ad)?;
    state
        .store()
        .queue_take_back(&f.ad, &person.actor(), now_ms())
        .await?;
    let back = if f.state.as_deref() == Some("escalated") {
        "/queue?state=escalated"
    } else {
        "/queue"
    };
    Ok(Redirect::to(back).into_response())
}
