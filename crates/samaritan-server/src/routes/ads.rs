//! `POST /v1/ads` (ingest), `GET /v1/ads/{id}` (evidence, audited) and
//! `POST /v1/ads/{id}/decision`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use samaritan_engine::model::{Ad, Analysis};
use samaritan_store::{
    Decision, DecisionAction, DecisionBasis, DecisionInput, IngestItem, IngestStatus, QueueItem,
    Scope, now_ms,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::{ApiError, AppState, body};

/// What happened to one posted ad.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestOutcome {
    pub id: String,
    /// `created`, `updated` (same id, changed content: new revision) or `unchanged`.
    pub status: IngestStatus,
    pub revision: i64,
    /// The analysis now stored for the ad (output schema 1, see DESIGN.md), passed on as the
    /// store holds it rather than serialised again.
    #[schema(value_type = Object)]
    pub analysis: Box<RawValue>,
}

/// Answer to `POST /v1/ads`: one outcome per posted ad, in order. Sent only after the ads are
/// committed to disk.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IngestResponse {
    pub results: Vec<IngestOutcome>,
}

#[utoipa::path(
    post, path = "/v1/ads", tag = "ads",
    request_body(content = crate::openapi::AdInput, description = "One ad object, or a JSON array of ad objects (at most the server's batch limit)."),
    responses(
        (status = 200, description = "Committed to disk; one analysis per ad", body = IngestResponse),
        (status = 202, description = "`serve --stream` only: every ad is on the stream (JetStream acknowledged it, on its disk), with its stream sequence; the linker worker analyses them in stream order. Not an analysis.", body = AcceptedResponse),
        (status = 503, description = "`serve --stream` only: the stream did not acknowledge every ad (`stream_unavailable`); send the request again (a repeat of the same content is stored once)", body = crate::error::ErrorBody),
        (status = 400, description = "Malformed JSON or ad, or an ad over a limit; the field is named (`ads[3].body` in a batch, `body` for one ad). Limit codes (defaults; `samaritan serve` flag): `field_too_large` for `title` (2 KiB; `--max-title-bytes`), `body` (64 KiB; `--max-text-bytes`), `account`, `url`, `location.*` and an image's `url`, `path`, `sha256`, `pdq` (2 KiB; `--max-field-bytes`), `meta` as JSON (16 KiB; `--max-meta-bytes`); `too_many_images` for `images` (20 per ad; `--max-images-per-ad`); `too_many_image_urls` for the first `images[j].url` past the request's limit (16 over all its ads; `--max-url-images`). Limits on a request's images as a whole do not refuse it: an image past the request's decoded-pixel budget (100 million; `--max-request-pixels`, given out in input order) or not fetched within the request's fetch deadline (30 s for all its URLs, at most 2 at once per host; `--fetch-deadline-secs`, `--fetch-per-host`) gets an `error` entry in `analysis.images`, in its place.", body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 413, description = "Body or batch too large", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["ingest"]))
)]
pub(crate) async fn post_ads(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    caller.require(Scope::Ingest)?;
    let limits = *state.limits();
    let bytes = body::read(body, &headers, limits.max_body_bytes).await?;
    let text = body::text(&bytes)?;
    let (incoming, _) = body::ads(text, &limits)?;
    if let Some(publisher) = state.publisher() {
        let accepted = publish(publisher, &incoming).await?;
        state
            .inner
            .metrics
            .ingested("accepted", accepted.len() as u64);
        let answer = AcceptedResponse {
            stream: publisher.stream().to_owned(),
            accepted,
        };
        return Ok((StatusCode::ACCEPTED, Json(answer)).into_response());
    }

    let ads = incoming.into_iter().map(|i| (i.ad, i.raw)).collect();
    let results = ingest(&state, ads).await?;
    for (status, name) in [
        (IngestStatus::Created, "created"),
        (IngestStatus::Updated, "updated"),
        (IngestStatus::Unchanged, "unchanged"),
    ] {
        let n = results.iter().filter(|r| r.status == status).count() as u64;
        if n > 0 {
            state.inner.metrics.ingested(name, n);
        }
    }
    Ok(Json(IngestResponse { results }).into_response())
}

/// Answer to `POST /v1/ads` on `serve --stream`: the ads are on the stream for analysis, each
/// with its stream sequence. Not an analysis: the linker worker analyses them in stream order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AcceptedResponse {
    /// The JetStream stream holding them.
    pub stream: String,
    pub accepted: Vec<crate::stream::Accepted>,
}

/// Publishes the request's ads in order; answers once JetStream acknowledged every one.
async fn publish(
    publisher: &crate::stream::Publisher,
    incoming: &[body::IncomingAd],
) -> Result<Vec<crate::stream::Accepted>, ApiError> {
    let digests: Vec<String> = incoming
        .iter()
        .map(|i| samaritan_store::ad_digest(&i.ad))
        .collect();
    let ads: Vec<(&str, &str, &str)> = incoming
        .iter()
        .zip(&digests)
        .map(|(i, d)| (i.ad.id.as_str(), d.as_str(), i.raw.as_str()))
        .collect();
    publisher.publish(&ads).await.map_err(|e| {
        tracing::error!(error = %e, ads = ads.len(), "publishing to the stream failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stream_unavailable",
            format!(
                "the ads could not be put on the stream ({e}); none is accepted, send them again"
            ),
        )
    })
}

/// Ingests ads, each with the JSON it arrived as, and answers one outcome per ad in their order
/// once they are committed: re-sends with the same content are answered from the store; fresh
/// ads are analysed and linked ([`crate::Analyzer::ingest_linked`]) and stored with the network
/// changes they caused in one transaction of the store's group commit. `POST /v1/ads` and
/// `samaritan serve --demo` both ingest through here.
pub async fn ingest(
    state: &AppState,
    ads: Vec<(Ad, String)>,
) -> Result<Vec<IngestOutcome>, ApiError> {
    let ads = ads.into_iter().map(|(ad, raw)| (ad, raw, None)).collect();
    ingest_linking(state, ads, false, None).await
}

/// [`ingest`], with the fresh ads linked one at a time: each ad's analysis is as of itself and
/// the ads before it, as if each had come in its own request, so where a batch was cut never
/// changes an answer. The stream's linker ingests through here (a fetch from the stream ends
/// wherever the stream was). The ads, each with the network changes its linking made, commit in
/// one transaction or not at all ([`samaritan_store::Store::queue_ingest_steps`]).
pub async fn ingest_each(
    state: &AppState,
    ads: Vec<(Ad, String)>,
) -> Result<Vec<IngestOutcome>, ApiError> {
    let ads = ads.into_iter().map(|(ad, raw)| (ad, raw, None)).collect();
    ingest_linking(state, ads, true, None).await
}

/// [`ingest_each`] for the distributed mode's linker: each ad with what a prepare worker made
/// of it (`None`: prepared here), and `mark`, a link-state record `(kind, key, value)` written
/// in the same transaction as the ads when any is stored (the linker's stream position).
pub async fn ingest_each_prepared(
    state: &AppState,
    ads: Vec<(Ad, String, Option<samaritan_engine::linked::PreparedAd>)>,
    mark: Option<(String, String, Vec<u8>)>,
) -> Result<Vec<IngestOutcome>, ApiError> {
    ingest_linking(state, ads, true, mark).await
}

async fn ingest_linking(
    state: &AppState,
    ads: Vec<(Ad, String, Option<samaritan_engine::linked::PreparedAd>)>,
    each: bool,
    mark: Option<(String, String, Vec<u8>)>,
) -> Result<Vec<IngestOutcome>, ApiError> {
    // Re-sends with the same content are answered from the store without analysing again.
    let ids: Vec<&str> = ads.iter().map(|(ad, _, _)| ad.id.as_str()).collect();
    let stored = state.store().digests(&ids).await?;
    // The response keeps the request's order; the ads themselves move on (no copies).
    let order: Vec<String> = ads.iter().map(|(ad, _, _)| ad.id.clone()).collect();
    let mut fresh_ads = Vec::new();
    let mut fresh_meta = Vec::new();
    let mut fresh_prepared = Vec::new();
    let mut resent = Vec::new();
    for (ad, raw, prepared) in ads {
        let digest = samaritan_store::ad_digest(&ad);
        if stored.get(&ad.id) == Some(&digest) {
            resent.push(ad.id);
        } else {
            fresh_ads.push(ad);
            fresh_meta.push((raw, digest));
            fresh_prepared.push(prepared);
        }
    }

    let mut outcomes: HashMap<String, IngestOutcome> = HashMap::with_capacity(order.len());
    if !resent.is_empty() {
        let resent: Vec<&str> = resent.iter().map(String::as_str).collect();
        for (id, (revision, analysis)) in state.store().latest_analyses(&resent).await? {
            outcomes.insert(
                id.clone(),
                IngestOutcome {
                    id,
                    status: IngestStatus::Unchanged,
                    revision,
                    analysis: raw_json(&analysis)?,
                },
            );
        }
    }
    if !fresh_ads.is_empty() {
        let analyzer = state.analyzer().clone();
        let slot = state
            .inner
            .engine_slots
            .acquire()
            .await
            .map_err(|e| ApiError::internal(format!("the engine is shut: {e}")))?;
        let started = std::time::Instant::now();
        let mut queued = Vec::new();
        if each {
            // Ad by ad: each ad's items with the network changes its own linking made, so that
            // what the writer applies in order (each ad's analysis, then the changes after it)
            // ends at the linker's state; all of them in one request of the writer (one
            // transaction, committed whole or not at all). The changes are taken under the
            // network lock, as `queue_with_networks` takes them.
            let _turn = state.inner.network_lock.lock().await;
            let mut steps = Vec::with_capacity(fresh_ads.len());
            for ((ad, meta), prepared) in fresh_ads.into_iter().zip(fresh_meta).zip(fresh_prepared)
            {
                let analyzer = analyzer.clone();
                let step = tokio::task::spawn_blocking(move || {
                    let ingested =
                        analyzer.ingest_prepared(std::slice::from_ref(&ad), vec![prepared]);
                    let mut laps = crate::stage_cpu::Laps::start(analyzer.stage_cpu());
                    let items = items_of(vec![ad], vec![meta], ingested);
                    laps.lap(crate::stage_cpu::CpuStage::AnalysisJson);
                    items.map(|items| {
                        let written = crate::analyzer::written_memberships(&items);
                        let changes = analyzer.linked_network_changes(&written);
                        laps.lap(crate::stage_cpu::CpuStage::NetworkChanges);
                        (items, changes)
                    })
                })
                .await
                .map_err(|e| ApiError::internal(format!("the engine failed: {e}")))??;
                steps.push(step);
            }
            if let Some(mark) = mark
                && let Some(last) = steps.last_mut().and_then(|(items, _)| items.last_mut())
            {
                last.link_state.push(mark);
            }
            queued.push(state.store().queue_ingest_steps(steps).await?);
        } else {
            // The items (analysis JSON included) are made here, off the store's single writer.
            let items = tokio::task::spawn_blocking(move || {
                let ingested = analyzer.ingest_linked(&fresh_ads);
                items_of(fresh_ads, fresh_meta, ingested)
            })
            .await
            .map_err(|e| ApiError::internal(format!("the engine failed: {e}")))??;
            // Earlier ads whose network grew, merged or split move with it, in the same
            // transaction as these ads (one fsync for both).
            queued.push(crate::queue_with_networks(state, items).await?);
        }
        drop(slot);
        state.inner.metrics.analysis(started.elapsed());
        let mut stored = Vec::new();
        for q in queued {
            stored.extend(q.committed().await?);
        }
        for r in stored {
            outcomes.insert(
                r.id.clone(),
                IngestOutcome {
                    id: r.id,
                    status: r.status,
                    revision: r.revision,
                    analysis: RawValue::from_string(r.analysis_json).map_err(|e| {
                        ApiError::internal(format!("stored analysis is not JSON: {e}"))
                    })?,
                },
            );
        }
    }
    let mut results = Vec::with_capacity(order.len());
    for id in &order {
        let outcome = outcomes
            .remove(id)
            .ok_or_else(|| ApiError::internal(format!("ad `{id}` has no outcome after ingest")))?;
        results.push(outcome);
    }
    Ok(results)
}

/// The engine's answer for fresh ads joined with what the request carried, as store items.
fn items_of(
    ads: Vec<samaritan_engine::model::Ad>,
    meta: Vec<(String, String)>,
    ingested: crate::Ingested,
) -> Result<Vec<IngestItem>, ApiError> {
    let crate::Ingested {
        analyses,
        link_state,
        shadow,
    } = ingested;
    if analyses.len() != ads.len()
        || link_state.len() != ads.len()
        || analyses.iter().zip(&ads).any(|(a, ad)| a.id != ad.id)
    {
        return Err(ApiError::internal(format!(
            "the engine returned {} analyses for {} ads",
            analyses.len(),
            ads.len()
        )));
    }
    let mut shadow = shadow.into_iter();
    ads.into_iter()
        .zip(meta)
        .zip(analyses)
        .zip(link_state)
        .map(|(((ad, (raw, digest)), analysis), link_state)| {
            let mut item = IngestItem::analysed(ad, raw, digest, analysis, link_state)?;
            item.shadow = shadow.next().flatten();
            Ok(item)
        })
        .collect()
}

/// An analysis as a JSON value to pass on unchanged.
fn raw_json(analysis: &Analysis) -> Result<Box<RawValue>, ApiError> {
    serde_json::value::to_raw_value(analysis)
        .map_err(|e| ApiError::internal(format!("analysis does not serialise: {e}")))
}

/// Everything stored about an ad. Reading it is recorded in the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AdResponse {
    pub id: String,
    /// The ad exactly as the platform last sent it.
    #[schema(value_type = Object)]
    pub ad: Box<serde_json::value::RawValue>,
    pub revision: i64,
    pub received_at: i64,
    pub updated_at: i64,
    #[schema(value_type = Object)]
    pub analysis: Analysis,
    pub decisions: Vec<Decision>,
    pub queue: Option<QueueItem>,
    pub network_id: Option<String>,
    /// The learned model's shadow scores of this ad (newest revision and model version first;
    /// empty without a model). Shadow: recorded for comparison, never acted on — the verdict,
    /// priority and queue above are the policy's alone.
    pub model_shadow: Vec<samaritan_store::ShadowScore>,
}

#[utoipa::path(
    get, path = "/v1/ads/{id}", tag = "ads",
    params(("id" = String, Path, description = "Ad id")),
    responses(
        (status = 200, body = AdResponse),
        (status = 404, body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn get_ad(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<AdResponse>, ApiError> {
    caller.require(Scope::Review)?;
    let Path(id) = id.map_err(super::path_error)?;
    super::path_id(&id)?;
    let rec = state
        .store()
        .get_ad(&id, now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ad `{id}` not found")))?;
    // Evidence is read only once the read is on the record.
    state
        .store()
        .audit_append(
            &caller.actor(),
            "ad.read",
            &rec.id,
            serde_json::json!({"revision": rec.revision}),
        )
        .await?;
    // The stored analysis is as of the ad's ingest; its network is shown as it is now (an
    // earlier ad learns that its network grew).
    let mut analysis = rec.analysis;
    analysis.network = match &rec.network_id {
        Some(nid) => {
            state
                .store()
                .network(nid, 0)
                .await?
                .map(|n| samaritan_engine::model::NetworkRef {
                    id: n.id,
                    size: u32::try_from(n.size).unwrap_or(u32::MAX),
                    cities: u32::try_from(n.cities).unwrap_or(u32::MAX),
                    reasons: n.reasons,
                })
        }
        None => None,
    };
    let ad = serde_json::value::RawValue::from_string(rec.raw)
        .map_err(|e| ApiError::internal(format!("the stored ad `{}` is not JSON: {e}", rec.id)))?;
    let model_shadow = state.store().shadow_scores_of(&rec.id).await?;
    Ok(Json(AdResponse {
        id: rec.id,
        ad,
        revision: rec.revision,
        received_at: rec.received_at,
        updated_at: rec.updated_at,
        analysis,
        decisions: rec.decisions,
        queue: rec.queue,
        network_id: rec.network_id,
        model_shadow,
    }))
}

/// A reviewer's decision, bound to what was judged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionRequest {
    /// `remove`, `allow`, `report` or `escalate`.
    pub action: String,
    /// A reason code for this action from `GET /v1/reasons`, e.g. `minor_indicators`.
    pub reason: String,
    /// Free text for the record (stored with the decision; the audit entry keeps its hash).
    #[serde(default)]
    pub note: String,
    /// The ad revision the reviewer judged (from the queue item or `GET /v1/ads/{id}`). Refused
    /// with 409 `stale_revision` when the ad has changed since.
    pub revision: i64,
    /// Decide without holding a claim (`lead` or `admin` scope); recorded as an override.
    #[serde(default, rename = "override")]
    pub override_: bool,
    /// With `override`: the latest decision on the ad as the lead saw it (`null`: none).
    /// Refused with 409 `decision_changed` when another decision landed since.
    #[serde(default)]
    pub supersedes: Option<i64>,
}

#[utoipa::path(
    post, path = "/v1/ads/{id}/decision", tag = "review",
    params(("id" = String, Path, description = "Ad id")),
    request_body = DecisionRequest,
    responses(
        (status = 201, description = "Recorded and audited; the queue item leaves the open queue (escalations go to the escalated one)", body = Decision),
        (status = 400, description = "Unknown action or reason code (`field` names it)", body = crate::error::ErrorBody),
        (status = 403, description = "`override` without the `lead` or `admin` scope", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`not_claimed` (the caller holds no live claim), `claimed` (someone else does), `stale_revision` (the ad changed since the judged revision) or `decision_changed` (an override's `supersedes` is not the latest decision)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn post_decision(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Decision>), ApiError> {
    // `review` decides under a claim; `lead` or `admin` may also override (checked below, once
    // the body says which).
    if !caller.key.has(Scope::Lead) && !caller.key.has(Scope::Admin) {
        caller.require(Scope::Review)?;
    }
    let Path(id) = id.map_err(super::path_error)?;
    super::path_id(&id)?;
    let bytes = body::read(body, &headers, state.limits().max_body_bytes).await?;
    let req: DecisionRequest = body::json(body::text(&bytes)?, "")?;
    let action = DecisionAction::parse(&req.action).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            format!(
                "unknown action `{}`; actions are remove, allow, report, escalate",
                req.action
            ),
        )
        .field("action")
    })?;
    state
        .reasons()
        .check(action, &req.reason)
        .map_err(|m| ApiError::bad_request("invalid_field", m).field("reason"))?;
    let basis = if req.override_ {
        if !caller.key.has(Scope::Lead) && !caller.key.has(Scope::Admin) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "deciding without a claim (`override`) needs the `lead` or `admin` scope",
            ));
        }
        DecisionBasis::Override {
            supersedes: req.supersedes,
        }
    } else {
        caller.require(Scope::Review)?;
        if req.supersedes.is_some() {
            return Err(ApiError::bad_request(
                "invalid_field",
                "`supersedes` goes with `override: true`; a claimed decision replaces the latest one",
            )
            .field("supersedes"));
        }
        DecisionBasis::Claim
    };
    let input = DecisionInput {
        ad_id: id,
        revision: req.revision,
        action,
        reason: req.reason,
        note: req.note,
        basis,
    };
    let decision = state
        .store()
        .decide(&input, &caller.actor(), now_ms())
        .await
        .map_err(|e| match e {
            samaritan_store::StoreError::Invalid(m) => {
                let field = if m.contains("note") { "note" } else { "reason" };
                ApiError::bad_request("invalid_field", m).field(field)
            }
            other => other.into(),
        })?;
    crate::follow_up::after_decision(&state, &decision).await;
    Ok((StatusCode::CREATED, Json(decision)))
}

/// The reason codes decisions take, per action.
#[utoipa::path(
    get, path = "/v1/reasons", tag = "review",
    responses((status = 200, description = "action → code → what it means", body = samaritan_store::ReasonCodes)),
    security(("bearer" = ["review"]))
)]
pub(crate) async fn get_reasons(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<samaritan_store::ReasonCodes>, ApiError> {
    caller.require(Scope::Review)?;
    Ok(Json(state.reasons().clone()))
}
