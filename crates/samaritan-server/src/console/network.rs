//! A network as one case: its members (when and where each was posted, with which phones, the
//! verdict and the latest decision), the identifiers joining them drawn as a graph, each shared
//! phone's posts across cities on a timeline, and one decision over selected members.
//!
//! Reading the case is an evidence read, audited as `network.read`. A decision over members is
//! recorded per member, each through the store's `decide` with the person's claim and the
//! revision shown on this page, so each is audited and bound on its own; members the person
//! cannot claim (someone else holds them, never queued, already decided) are listed as skipped,
//! never decided behind their holder's back.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use samaritan_engine::model::Ad;
use samaritan_store::{
    DecisionAction, DecisionBasis, DecisionInput, QueueState, Role, StoreError, now_ms,
};

use super::ad::ActionReasons;
use super::form::ConsoleForm;
use super::graph::{AdNode, IdNode, Post, day, graph, timeline};
use super::page::{Chrome, PageError, render, url_encode};
use super::session::{Person, check_origin};
use crate::AppState;

/// Members shown (and drawn) at most; the page says when a network is larger.
const MAX_MEMBERS: i64 = 150;
/// Identifiers drawn at most.
const MAX_IDS: usize = 80;

pub(crate) struct Member {
    pub id: String,
    pub href: String,
    pub revision: i64,
    pub posted: String,
    pub city: String,
    pub phones: String,
    pub title: String,
    pub verdict: String,
    pub score: f64,
    pub queue: String,
    pub held_by: String,
    pub decision: String,
    pub selectable: bool,
}

#[derive(Template)]
#[template(path = "network.html")]
struct NetworkPage {
    chrome: Chrome,
    id: String,
    size: i64,
    cities: i64,
    reasons: String,
    shown: usize,
    members: Vec<Member>,
    graph_svg: String,
    timeline_svg: String,
    movement: Vec<(String, String)>,
    shared: usize,
    actions: Vec<ActionReasons>,
    outcome: Vec<String>,
    error: Option<String>,
}

fn member_label(ad: &Ad) -> (String, String) {
    let city = ad
        .location
        .as_ref()
        .and_then(|l| l.city.clone())
        .unwrap_or_default();
    let posted = ad.posted_at.map(day).unwrap_or_default();
    (city, posted)
}

async fn build(
    state: &AppState,
    person: &Person,
    id: &str,
    outcome: Vec<String>,
    error: Option<String>,
) -> Result<NetworkPage, PageError> {
    let net = state
        .store()
        .network(id, 0)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no network `{id}`")))?;
    let now = now_ms();
    let case = state.store().network_case(id, MAX_MEMBERS, now).await?;
    state
        .store()
        .audit_append(
            &person.actor(),
            "network.read",
            id,
            serde_json::json!({"members": case.len(), "via": "console"}),
        )
        .await?;
    let actor = person.actor();
    let lead = matches!(person.role(), Role::Lead | Role::Admin);
    // A person reviewing a member blind (a golden item or a second review) does not see the
    // members' decisions here either.
    let reviewing: std::collections::BTreeSet<String> = state
        .store()
        .qa_open_of(&actor, now_ms())
        .await?
        .into_iter()
        .map(|t| t.ad_id)
        .collect();
    let blind = case.iter().any(|m| reviewing.contains(&m.ad_id));
    let mut ads: Vec<AdNode> = Vec::with_capacity(case.len());
    let mut members = Vec::with_capacity(case.len());
    // identifier → the members that carry it
    let mut uses: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let mut lanes: BTreeMap<String, Vec<Post>> = BTreeMap::new();
    for (n, m) in case.iter().enumerate() {
        let ad: Option<Ad> = serde_json::from_str(&m.raw).ok();
        let (city, posted) = ad.as_ref().map(member_label).unwrap_or_default();
        let e = &m.analysis.extracted;
        for (kind, values) in [
            ("phone", &e.phones),
            ("email", &e.emails),
            ("handle", &e.handles),
            ("payment", &e.payments),
        ] {
            for v in values {
                uses.entry((kind.to_owned(), v.clone()))
                    .or_default()
                    .push(n);
            }
        }
        if let Some(acc) = ad.as_ref().and_then(|a| a.account.clone()) {
            uses.entry(("account".to_owned(), acc)).or_default().push(n);
        }
        for img in &m.analysis.images {
            if let Some(h) = img.pdq.as_ref().or(img.sha256.as_ref()) {
                uses.entry(("image".to_owned(), h.chars().take(16).collect()))
                    .or_default()
                    .push(n);
            }
        }
        if let Some(t) = &m.analysis.template {
            uses.entry(("template".to_owned(), t.id.clone()))
                .or_default()
                .push(n);
        }
        if let Some(at) = ad.as_ref().and_then(|a| a.posted_at) {
            for p in &e.phones {
                lanes.entry(p.clone()).or_default().push(Post {
                    ad: n,
                    at,
                    city: city.clone(),
                });
            }
        }
        let href = format!("/ads/{}", url_encode(&m.ad_id));
        let held_by = m.claimed_by.clone().unwrap_or_default();
        let queue = m.queue.clone().unwrap_or_default();
        let selectable = match queue.as_str() {
            "open" => true,
            "claimed" => held_by == actor,
            "escalated" => lead && (held_by.is_empty() || held_by == actor),
            _ => false,
        };
        ads.push(AdNode {
            id: m.ad_id.clone(),
            label: format!("{city} {posted}").trim().to_owned(),
            verdict: m.analysis.verdict.as_str().to_owned(),
            href: href.clone(),
        });
        members.push(Member {
            id: m.ad_id.clone(),
            href,
            revision: m.revision,
            posted,
            city,
            phones: e.phones.join(", "),
            title: ad
                .as_ref()
                .and_then(|a| a.title.clone())
                .map(|t| {
                    let t: String = t.chars().take(80).collect();
                    if person.settings.mask_explicit {
                        super::mask::mask(&t).into_owned()
                    } else {
                        t
                    }
                })
                .unwrap_or_default(),
            verdict: m.analysis.verdict.as_str().to_owned(),
            score: m.analysis.score,
            queue,
            held_by,
            decision: m
                .decision
                .as_ref()
                .filter(|_| !blind)
                .map(|d| {
                    format!(
                        "{} ({}) by {} at rev. {}",
                        d.action, d.reason, d.actor, d.revision
                    )
                })
                .unwrap_or_default(),
            selectable,
        });
    }
    // Only what joins members is drawn: identifiers used by two or more.
    let mut ids: Vec<IdNode> = Vec::new();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for ((kind, value), users) in uses.into_iter().filter(|(_, u)| u.len() > 1).take(MAX_IDS) {
        let i = ids.len();
        edges.extend(users.iter().map(|&a| (a, i)));
        let href = (!matches!(kind.as_str(), "template" | "image"))
            .then(|| format!("/search?kind={kind}&value={}", url_encode(&value)));
        ids.push(IdNode { kind, value, href });
    }
    let shared = ids.len();
    let shared_phones: HashMap<&str, ()> = ids
        .iter()
        .filter(|i| i.kind == "phone")
        .map(|i| (i.value.as_str(), ()))
        .collect();
    let mut lanes: Vec<(String, Vec<Post>)> = lanes
        .into_iter()
        .filter(|(p, _)| shared_phones.contains_key(p.as_str()))
        .collect();
    let mut movement = Vec::new();
    for (phone, posts) in &mut lanes {
        posts.sort_by_key(|p| p.at);
        let mut steps: Vec<String> = Vec::new();
        let mut last = "";
        for p in posts.iter() {
            if p.city != last {
                steps.push(format!(
                    "{} ({})",
                    if p.city.is_empty() { "?" } else { &p.city },
                    day(p.at)
                ));
                last = &p.city;
            }
        }
        movement.push((phone.clone(), steps.join(" → ")));
    }
    let graph_svg = if ads.len() > 1 {
        graph(&ads, &ids, &edges)
    } else {
        String::new()
    };
    let timeline_svg = timeline(&lanes, &ads);
    Ok(NetworkPage {
        chrome: Chrome::of(person, "queue"),
        id: net.id,
        size: net.size,
        cities: net.cities,
        reasons: net.reasons.join(", "),
        shown: members.len(),
        members,
        graph_svg,
        timeline_svg,
        movement,
        shared,
        actions: super::ad::action_reasons(state),
        outcome,
        error,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    person.require_queue()?;
    crate::routes::path_id(&id)?;
    Ok(render(
        &build(&state, &person, &id, Vec::new(), None).await?,
    ))
}

/// One decision over the selected members (`ad` = `<id>@<revision>`, repeated).
pub(crate) async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(fields): ConsoleForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    let field = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    person.check_csrf(field("csrf"))?;
    person.require_queue()?;
    crate::routes::path_id(&id)?;
    let again = |error: String| async {
        let mut resp = render(&build(&state, &person, &id, Vec::new(), Some(error)).await?);
        *resp.status_mut() = StatusCode::CONFLICT;
        Ok::<Response, PageError>(resp)
    };
    let Some(action) = DecisionAction::parse(field("action")) else {
        return again("Choose an action: remove, allow, report or escalate.".into()).await;
    };
    let reason = field("reason").to_owned();
    if let Err(m) = state.reasons().check(action, &reason) {
        return again(format!("Choose a reason for {}: {m}", action.as_str())).await;
    }
    let mut chosen: Vec<(String, i64)> = Vec::new();
    for (_, v) in fields.iter().filter(|(n, _)| n == "ad") {
        let Some((ad, rev)) = v.rsplit_once('@') else {
            return Err(PageError::bad_request(format!(
                "`{v}` is not `<ad id>@<revision>`"
            )));
        };
        let rev: i64 = rev
            .parse()
            .map_err(|_| PageError::bad_request(format!("`{rev}` is not a revision")))?;
        crate::routes::path_id(ad)?;
        chosen.push((ad.to_owned(), rev));
    }
    if chosen.is_empty() {
        return again("Select the members to decide.".into()).await;
    }
    if chosen.len() > MAX_MEMBERS as usize {
        return again(format!("At most {MAX_MEMBERS} members at once.")).await;
    }
    let actor = person.actor();
    let lease = state.limits().default_lease_secs * 1000;
    let ids: Vec<&str> = chosen.iter().map(|(a, _)| a.as_str()).collect();
    let mut held: Vec<String> = state
        .store()
        .queue_claim_ads(&actor, QueueState::Open, &ids, lease, now_ms())
        .await?;
    if matches!(person.role(), Role::Lead | Role::Admin) {
        held.extend(
            state
                .store()
                .queue_claim_ads(&actor, QueueState::Escalated, &ids, lease, now_ms())
                .await?,
        );
    }
    let note = field("note").to_owned();
    let mut outcome = Vec::new();
    let mut recorded = 0;
    for (ad, revision) in chosen {
        if !held.contains(&ad) {
            outcome.push(format!("{ad}: skipped — not claimable by you (held by someone else, not in the queue, or already decided)"));
            continue;
        }
        let input = DecisionInput {
            ad_id: ad.clone(),
            revision,
            action,
            reason: reason.clone(),
            note: note.clone(),
            basis: DecisionBasis::Claim,
        };
        match state.store().decide(&input, &actor, now_ms()).await {
            Ok(d) => {
                crate::follow_up::after_decision(&state, &d).await;
                recorded += 1;
                outcome.push(format!(
                    "{ad}: {} recorded at revision {}",
                    d.action, d.revision
                ));
            }
            Err(StoreError::Refused { message, .. }) | Err(StoreError::Invalid(message)) => {
                outcome.push(format!("{ad}: not recorded — {message}"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    outcome.insert(
        0,
        format!("{recorded} of {} selected members decided.", outcome.len()),
    );
    Ok(render(&build(&state, &person, &id, outcome, None).await?))
}
