//! One ad as a reviewer judges it, and the decision form.
//!
//! Opening the page is the evidence read, audited as `ad.read` before anything is shown. The
//! decision goes through the store's `decide` exactly as `POST /v1/ads/{id}/decision` does: it
//! needs the person's live claim and names the revision shown, so a page left open while the ad
//! changed cannot decide on the new text.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_engine::model::{Ad, Analysis, ImageAnalysis};
use samaritan_store::{
    Decision, DecisionAction, DecisionBasis, DecisionInput, QueueState, Role, StoreError, now_ms,
};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::highlight::{Piece, pieces};
use super::page::{Chrome, PageError, render, url_encode, when};
use super::queue::claim_next;
use super::session::{Person, check_origin};
use crate::AppState;

/// An identifier found in the ad, linked to the ads that share it.
pub(crate) struct Ident {
    pub kind: &'static str,
    pub value: String,
    pub href: Option<String>,
}

/// The reasons of one action, numbered for the keyboard.
pub(crate) struct ActionReasons {
    pub action: &'static str,
    pub key: &'static str,
    pub reasons: Vec<(usize, String, String)>,
}

/// One of the ad's images as the page shows it.
pub(crate) struct ImageView {
    pub n: usize,
    pub info: ImageAnalysis,
    /// The file is kept: the page shows the blurred rendering, the full one on request.
    pub kept: bool,
    /// Shown in full on this page (the person asked; the full request is audited).
    pub revealed: bool,
    pub src: String,
}

/// A piece of the ad shown against its template: `same` (template words the ad has), `slot`
/// (this ad's fill of a varying slot), `added` (words the template lacks), `missing` (template
/// words this ad lacks).
pub(crate) struct TemplatePiece {
    pub kind: &'static str,
    pub text: String,
}

/// The learned model's latest shadow score of the ad, for leads and admins.
pub(crate) struct ShadowView {
    pub version: i64,
    pub revision: i64,
    /// Rounded for reading (two decimals).
    pub probability: String,
    pub severe: String,
    pub raised: bool,
    /// `(feature, contribution in logits, quoted text)`.
    pub top: Vec<(String, String, String)>,
}

pub(crate) struct NetworkView {
    pub id: String,
    pub size: i64,
    pub cities: i64,
    pub reasons: String,
}

#[derive(Template)]
#[template(path = "ad.html")]
struct AdPage {
    chrome: Chrome,
    id: String,
    revision: i64,
    received: String,
    analysis: Analysis,
    pieces: Vec<Piece>,
    city: String,
    posted: String,
    url: String,
    account: String,
    idents: Vec<Ident>,
    images: Vec<ImageView>,
    network: Option<NetworkView>,
    /// The ad read against its template, when it has one.
    template: Vec<TemplatePiece>,
    decisions: Vec<Decision>,
    queue_state: String,
    lease_until: String,
    claimed_by: String,
    can_decide: bool,
    /// A QA task (golden item or second review): earlier decisions and the network case are
    /// not shown, and the choice is recorded as the task's answer.
    blind: bool,
    /// A lead may override the decision of a decided ad; the form names the latest decision.
    can_override: bool,
    supersedes: String,
    actions: Vec<ActionReasons>,
    /// The learned model's shadow score (leads and admins; never during a blind review).
    shadow: Option<ShadowView>,
    /// Active learning drew the ad (the policy allowed it; the model is unsure of it).
    drawn_for_learning: bool,
    error: Option<String>,
}

const ACTION_KEYS: [(DecisionAction, &str); 4] = [
    (DecisionAction::Remove, "d"),
    (DecisionAction::Allow, "a"),
    (DecisionAction::Report, "r"),
    (DecisionAction::Escalate, "e"),
];

/// The actions with their numbered reasons, as the decision forms show them.
pub(crate) fn action_reasons(state: &AppState) -> Vec<ActionReasons> {
    ACTION_KEYS
        .iter()
        .map(|(a, key)| ActionReasons {
            action: a.as_str(),
            key,
            reasons: state
                .reasons()
                .actions
                .get(a.as_str())
                .map(|codes| {
                    codes
                        .iter()
                        .enumerate()
                        .map(|(i, (code, what))| (i + 1, code.clone(), what.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

async fn build(
    state: &AppState,
    person: &Person,
    id: &str,
    error: Option<String>,
) -> Result<AdPage, PageError> {
    build_with(state, person, id, error, None).await
}

async fn build_with(
    state: &AppState,
    person: &Person,
    id: &str,
    error: Option<String>,
    reveal: Option<usize>,
) -> Result<AdPage, PageError> {
    let rec = state
        .store()
        .get_ad(id, now_ms())
        .await?
        .ok_or_else(|| PageError::not_found(format!("no ad `{id}`")))?;
    // Evidence is shown only once the read is on the record.
    state
        .store()
        .audit_append(
            &person.actor(),
            "ad.read",
            &rec.id,
            serde_json::json!({"revision": rec.revision, "via": "console"}),
        )
        .await?;
    state.store().add_exposure(&person.token, 1, 0).await?;
    let ad: Ad = serde_json::from_str(&rec.raw).map_err(|e| {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the stored ad does not read: {e}"),
        )
    })?;
    let doc = ad.document();
    let mut analysis = rec.analysis;
    let mut text = pieces(&doc, &analysis.signals, &analysis.mentions);
    // Wellness: explicit terms masked on the page when the person asked (after the spans were
    // placed on the original text).
    let masked = person.settings.mask_explicit;
    for p in &mut text {
        super::mask::apply(masked, &mut p.text);
    }
    for s in &mut analysis.signals {
        super::mask::apply(masked, &mut s.text);
    }
    if let Some(t) = &mut analysis.template {
        super::mask::apply(masked, &mut t.text);
    }
    let template: Vec<TemplatePiece> = if analysis.template.is_some() {
        use samaritan_engine::similar::DiffPart;
        state
            .analyzer()
            .template_diff(&rec.id)
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let (kind, mut text) = match p {
                    DiffPart::Same(t) => ("same", t),
                    DiffPart::Slot(t) => ("slot", t),
                    DiffPart::Added(t) => ("added", t),
                    DiffPart::Missing(t) => ("missing", t),
                };
                super::mask::apply(masked, &mut text);
                TemplatePiece { kind, text }
            })
            .collect()
    } else {
        Vec::new()
    };
    let e = &analysis.extracted;
    let search =
        |kind: &'static str, v: &str| Some(format!("/search?kind={kind}&value={}", url_encode(v)));
    let mut idents: Vec<Ident> = Vec::new();
    for (kind, values, linked) in [
        ("phone", &e.phones, true),
        ("email", &e.emails, true),
        ("handle", &e.handles, true),
        ("payment", &e.payments, true),
        ("url", &e.urls, false),
    ] {
        for v in values {
            idents.push(Ident {
                kind,
                value: v.clone(),
                href: if linked { search(kind, v) } else { None },
            });
        }
    }
    if let Some(acc) = &ad.account {
        idents.push(Ident {
            kind: "account",
            value: acc.clone(),
            href: search("account", acc),
        });
    }
    let network = match &rec.network_id {
        Some(nid) => state.store().network(nid, 0).await?.map(|n| NetworkView {
            id: n.id,
            size: n.size,
            cities: n.cities,
            reasons: n.reasons.join(", "),
        }),
        None => None,
    };
    let actor = person.actor();
    let (queue_state, lease_until, claimed_by, mine) = match &rec.queue {
        Some(q) => (
            q.state.as_str().to_owned(),
            q.lease_until.clone().unwrap_or_default(),
            q.claimed_by.clone().unwrap_or_default(),
            q.claimed_by.as_deref() == Some(actor.as_str()),
        ),
        None => (String::new(), String::new(), String::new(), false),
    };
    let decidable = matches!(
        rec.queue.as_ref().map(|q| q.state),
        Some(QueueState::Claimed | QueueState::Escalated)
    );
    let mut can_decide = mine && decidable && person.require_queue().is_ok();
    let task = super::qa::task_on(state, &actor, id, now_ms()).await?;
    let blind = task.is_some() && !can_decide;
    let (queue_state, lease_until, claimed_by, decisions) = match &task {
        Some(t) if blind => {
            can_decide = person.require_queue().is_ok();
            (
                QueueState::Claimed.as_str().to_owned(),
                t.lease_until
                    .map(samaritan_store::queue::rfc3339_ms)
                    .unwrap_or_default(),
                actor.clone(),
                Vec::new(),
            )
        }
        _ => (queue_state, lease_until, claimed_by, rec.decisions),
    };
    let drawn_for_learning = !blind
        && rec
            .queue
            .as_ref()
            .is_some_and(|q| q.source == "learning" && q.state != QueueState::Decided);
    let lead = matches!(person.role(), Role::Lead | Role::Admin);
    let can_override = lead && !can_decide && queue_state == QueueState::Decided.as_str();
    let supersedes = decisions
        .last()
        .map(|d| d.seq.to_string())
        .unwrap_or_default();
    let actions = action_reasons(state);
    // Leads and admins see the model's shadow score; reviewers do not (it would anchor the
    // decisions the model learns from).
    let shadow = if lead && !blind {
        state
            .store()
            .shadow_scores_of(&rec.id)
            .await?
            .into_iter()
            .next()
            .map(|s| ShadowView {
                version: s.model_version,
                revision: s.revision,
                probability: format!("{:.2}", s.probability),
                severe: format!("{:.2}", s.severe),
                raised: s.raised,
                top: s.detail["top"]
                    .as_array()
                    .map(|top| {
                        top.iter()
                            .map(|t| {
                                let mut text = t["text"].as_str().unwrap_or("").to_owned();
                                super::mask::apply(masked, &mut text);
                                let mut feature = t["feature"].as_str().unwrap_or("").to_owned();
                                super::mask::apply(masked, &mut feature);
                                (
                                    feature,
                                    format!("{:+.2}", t["contribution"].as_f64().unwrap_or(0.0)),
                                    text,
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
    } else {
        None
    };
    // Whether each image's file is kept (a storage that does not answer shows it as not kept,
    // and is logged).
    let mut kept = Vec::with_capacity(analysis.images.len());
    for info in &analysis.images {
        let has = match (info.sha256.as_deref(), state.blobs()) {
            (Some(h), Some(b)) => match samaritan_media::BlobKey::image(h) {
                Ok(key) => b.has(&key).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "blob storage did not say whether an image is kept");
                    false
                }),
                Err(_) => false,
            },
            _ => false,
        };
        kept.push(has);
    }
    Ok(AdPage {
        chrome: Chrome::of(person, "queue"),
        id: rec.id,
        revision: rec.revision,
        received: when(rec.received_at),
        pieces: text,
        city: ad
            .location
            .as_ref()
            .and_then(|l| l.city.clone())
            .unwrap_or_default(),
        posted: ad
            .posted_at
            .map(|s| when(s.saturating_mul(1000)))
            .unwrap_or_default(),
        url: ad.url.clone().unwrap_or_default(),
        account: ad.account.clone().unwrap_or_default(),
        idents,
        images: analysis
            .images
            .iter()
            .enumerate()
            .map(|(n, info)| {
                let kept = kept.get(n).copied().unwrap_or(false);
                let revealed = kept && reveal == Some(n);
                ImageView {
                    n,
                    kept,
                    revealed,
                    src: format!(
                        "/ads/{}/images/{n}?view={}",
                        url_encode(id),
                        if revealed { "full" } else { "blurred" }
                    ),
                    info: info.clone(),
                }
            })
            .collect(),
        analysis,
        network,
        template,
        decisions,
        blind,
        can_override,
        supersedes,
        queue_state,
        lease_until,
        claimed_by,
        can_decide,
        actions,
        shadow,
        drawn_for_learning,
        error,
    })
}

#[derive(Deserialize)]
pub(crate) struct AdQuery {
    /// Show this image in full.
    reveal: Option<usize>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
    Query(q): Query<AdQuery>,
) -> Result<Response, PageError> {
    person.require(&[Role::Reviewer, Role::Lead, Role::Admin])?;
    crate::routes::path_id(&id)?;
    Ok(render(
        &build_with(&state, &person, &id, None, q.reveal).await?,
    ))
}

#[derive(Deserialize)]
pub(crate) struct ImageQuery {
    view: Option<String>,
}

/// One kept image, rendered: blurred (default), or in full — a full view is an evidence read,
/// audited as `image.reveal` (with the image's hash) before the picture is sent.
pub(crate) async fn image(
    State(state): State<AppState>,
    person: Person,
    Path((id, n)): Path<(String, usize)>,
    Query(q): Query<ImageQuery>,
) -> Result<Response, PageError> {
    person.require(&[Role::Reviewer, Role::Lead, Role::Admin])?;
    crate::routes::path_id(&id)?;
    let full = match q.view.as_deref() {
        None | Some("blurred") => false,
        Some("full") => true,
        Some(other) => {
            return Err(PageError::bad_request(format!(
                "unknown view `{other}`; views are blurred and full"
            )));
        }
    };
    let rec = state
        .store()
        .get_ad(&id, now_ms())
        .await?
        .ok_or_else(|| PageError::not_found(format!("no ad `{id}`")))?;
    let sha = rec
        .analysis
        .images
        .get(n)
        .and_then(|i| i.sha256.clone())
        .ok_or_else(|| PageError::not_found(format!("ad `{id}` has no image {n} with a file")))?;
    let blobs = state
        .blobs()
        .ok_or_else(|| PageError::not_found("this image's file is not kept"))?;
    let key = samaritan_media::BlobKey::image(&sha)
        .map_err(|_| PageError::not_found("this image's file is not kept"))?;
    // A file that does not match its SHA-256 (tampered, damaged) is never shown.
    let bytes = blobs
        .get(&key)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a kept image could not be read");
            // The reviewer is told what happened, not where the storage is.
            let what = match e {
                samaritan_media::BlobError::Tampered { .. }
                | samaritan_media::BlobError::WrongSize { .. } => {
                    "this image's file does not match its SHA-256 (tampered or damaged); it is \
                     not shown"
                }
                _ => "this image's file could not be read from blob storage",
            };
            PageError::new(StatusCode::INTERNAL_SERVER_ERROR, what)
        })?
        .ok_or_else(|| PageError::not_found("this image's file is not kept"))?;
    if full {
        state
            .store()
            .audit_append(
                &person.actor(),
                "image.reveal",
                &rec.id,
                serde_json::json!({"index": n, "sha256": sha, "revision": rec.revision, "via": "console"}),
            )
            .await?;
        state.store().add_exposure(&person.token, 0, 1).await?;
    }
    let view = if full {
        samaritan_media::View::Full {
            greyscale: person.settings.greyscale,
        }
    } else {
        samaritan_media::View::Blurred {
            strength: u8::try_from(person.settings.blur).unwrap_or(2),
        }
    };
    let png = tokio::task::spawn_blocking(move || {
        samaritan_media::render(&bytes, &samaritan_media::DecodeLimits::default(), view)
    })
    .await
    .map_err(|e| {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("rendering stopped: {e}"),
        )
    })?
    .map_err(|e| {
        PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the kept file does not render: {e}"),
        )
    })?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/png")], png).into_response())
}

#[derive(Deserialize)]
pub(crate) struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    revision: i64,
    /// `next` (claim the next item) or anything else (back to the queue).
    #[serde(default)]
    then: String,
    /// `override`: a lead decides a decided ad without a claim, naming `supersedes`.
    #[serde(default)]
    basis: String,
    #[serde(default)]
    supersedes: String,
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<DecideForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require_queue()?;
    crate::routes::path_id(&id)?;
    let again = |msg: String| async {
        let mut resp = render(&build(&state, &person, &id, Some(msg)).await?);
        *resp.status_mut() = StatusCode::CONFLICT;
        Ok::<Response, PageError>(resp)
    };
    let Some(action) = DecisionAction::parse(&f.action) else {
        return again("Choose an action: remove, allow, report or escalate.".into()).await;
    };
    if let Err(m) = state.reasons().check(action, &f.reason) {
        return again(format!("Choose a reason for {}: {m}", action.as_str())).await;
    }
    let actor = person.actor();
    // A QA task on this ad takes the answer: it is no decision on the ad.
    // (Only when the person holds no live claim on the ad: then the page was the blind one.)
    let claimed = state
        .store()
        .queue_claims_of(&actor, 1000, now_ms())
        .await?
        .iter()
        .any(|i| i.ad_id == id);
    if f.basis != "override"
        && !claimed
        && super::qa::task_on(&state, &actor, &id, now_ms())
            .await?
            .is_some()
    {
        let answer = samaritan_store::QaAnswer {
            ad_id: id.clone(),
            revision: f.revision,
            action,
            reason: f.reason,
            note: f.note,
        };
        return match state.store().qa_answer(&actor, &answer, now_ms()).await {
            Ok(_) if f.then == "next" => claim_next(&state, &person, false).await,
            Ok(_) => Ok(super::qa::answered(&id)),
            Err(StoreError::Refused { message, .. }) | Err(StoreError::Invalid(message)) => {
                again(format!("Not recorded: {message}")).await
            }
            Err(e) => Err(e.into()),
        };
    }
    let basis = if f.basis == "override" {
        person.require(&[Role::Lead, Role::Admin])?;
        let supersedes = match f.supersedes.trim() {
            "" => None,
            n => Some(n.parse::<i64>().map_err(|_| {
                PageError::bad_request("`supersedes` is the number of the decision replaced")
            })?),
        };
        DecisionBasis::Override { supersedes }
    } else {
        DecisionBasis::Claim
    };
    let input = DecisionInput {
        ad_id: id.clone(),
        revision: f.revision,
        action,
        reason: f.reason,
        note: f.note,
        basis,
    };
    match state.store().decide(&input, &actor, now_ms()).await {
        Ok(d) => crate::follow_up::after_decision(&state, &d).await,
        Err(StoreError::Refused { message, .. }) | Err(StoreError::Invalid(message)) => {
            return again(format!("Not recorded: {message}")).await;
        }
        Err(e) => return Err(e.into()),
    }
    if f.basis == "override" {
        return Ok(Redirect::to(&format!("/ads/{}", url_encode(&id))).into_response());
    }
    if f.then == "next" {
        claim_next(&state, &person, false).await
    } else {
        Ok(Redirect::to(&format!("/queue?done={}", url_encode(&id))).into_response())
    }
}

#[derive(Deserialize)]
pub(crate) struct ClaimForm {
    #[serde(default)]
    csrf: String,
}

/// Claims this one ad (open, or escalated for leads) and shows it again.
pub(crate) async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<ClaimForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require_queue()?;
    crate::routes::path_id(&id)?;
    let lease = state.limits().default_lease_secs * 1000;
    let actor = person.actor();
    let mut got = state
        .store()
        .queue_claim_ads(&actor, QueueState::Open, &[id.as_str()], lease, now_ms())
        .await?;
    if got.is_empty() && matches!(person.role(), Role::Lead | Role::Admin) {
        got = state
            .store()
            .queue_claim_ads(
                &actor,
                QueueState::Escalated,
                &[id.as_str()],
                lease,
                now_ms(),
            )
            .await?;
    }
    if got.is_empty() {
        let mut resp = render(
            &build(
                &state,
                &person,
                &id,
                Some("Not claimed: someone else holds it, or it is no longer open.".into()),
            )
            .await?,
        );
        *resp.status_mut() = StatusCode::CONFLICT;
        return Ok(resp);
    }
    Ok(Redirect::to(&format!("/ads/{}", url_encode(&id))).into_response())
}

/// Renews the person's lease on this ad while its page is open (htmx, every two minutes);
/// answers the new lease end as the page's `<time>` element, or says the lease is gone.
pub(crate) async fn renew(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<ClaimForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require_queue()?;
    crate::routes::path_id(&id)?;
    let lease = state.limits().default_lease_secs * 1000;
    let now = now_ms();
    let actor = person.actor();
    // Only a lease the person still holds is renewed: an item someone else took is not taken
    // back, and an open one is not claimed behind the person's back.
    let held = state
        .store()
        .queue_claims_of(&actor, 1000, now)
        .await?
        .into_iter()
        .find(|i| i.ad_id == id);
    if held.is_none() && state.store().qa_renew(&actor, &id, lease, now).await? {
        let until = samaritan_store::queue::rfc3339_ms(now + lease);
        return Ok(axum::response::Html(format!(
            r#"<time class="lease" id="lease" datetime="{until}">{until}</time>"#
        ))
        .into_response());
    }
    let html = match held {
        Some(item) => {
            let st = if item.state == QueueState::Escalated {
                QueueState::Escalated
            } else {
                QueueState::Open
            };
            let got = state
                .store()
                .queue_claim_ads(&actor, st, &[id.as_str()], lease, now)
                .await?;
            if got.is_empty() {
                lost()
            } else {
                let until = samaritan_store::queue::rfc3339_ms(now + lease);
                format!(r#"<time class="lease" id="lease" datetime="{until}">{until}</time>"#)
            }
        }
        None => lost(),
    };
    Ok(axum::response::Html(html).into_response())
}

fn lost() -> String {
    r#"<strong id="lease" class="lost">no longer yours: the lease ran out or was taken; reload before deciding</strong>"#.to_owned()
}
