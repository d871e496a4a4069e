//! The learned model in the service (issue 25): shadow scoring and learning from decisions.
//!
//! **Shadow.** When the store has a current model version, `serve` loads it at start
//! ([`restore_model`]) and the analyzer scores every ad it ingests with it, from the same
//! prepared text the policy read (no second pass): the calibrated probability of the commercial
//! head, the severe head's probability, whether the model's raise threshold is reached, and the
//! features that moved the score most with their spans in the original text. The score is
//! stored beside the analysis (`model_scores`, keyed by ad, revision and model version, in the
//! ad's own transaction) and shown in the ad's evidence read. It acts on nothing: the verdict,
//! the priority and the queue are the policy's alone.
//!
//! **Learning.** Decisions teach the model in `seq` order, a batch of `batch` decisions at a
//! time ([`learn_pending`]); each batch becomes a new stored version, recorded with which
//! decisions it learned, what each taught and with what weight (audited `model.update`). What a
//! decision teaches ([`label_of`]): `allow` → benign; `report`, or `remove` for a reason naming
//! a minor, trafficking or third-party control → severe (both heads); `remove` for commercial
//! sex or a platform's own remove code → commercial; `remove` for spam or another platform rule
//! and `escalate` → nothing (spam says nothing about commercial sex; an escalation is no
//! answer). A decision on an ad revision no longer stored (purged) teaches nothing either.
//!
//! **One reviewer cannot swing it** (`samaritan_engine::learn::reviewer_weights`): within a batch, the decisions that
//! teach something are weighed so that no reviewer's total exceeds `cap = max(share × taught,
//! 1)` (`taught`: the batch's teaching decisions); a reviewer with more decisions than the cap
//! gets each of them at `cap / theirs` (below 1), the others at 1. With the defaults (batches of
//! 50, share 0.25) one reviewer carries at most a quarter of a full batch.
//!
//! **Calibrated on the quality audit** ([`crate::calibration`]): the calibration and the raise
//! point are fitted on the answers of the uniform audit sample.
//!
//! **Restart.** Each version records `through_decision`: every decision up to it is accounted for
//! by the version (learned or passed over). After a restart the service loads the current
//! version and learns the decisions after it — nothing lost, nothing learned twice. A version
//! written by someone else meanwhile (a rollback, an import, another instance) makes the save a
//! conflict: the service then loads that version and goes on from its `through_decision`.

use std::sync::Arc;

use samaritan_engine::learn::{Label, Model, reviewer_weights};
use samaritan_engine::model::Ad;
use samaritan_store::{BatchDecision, Decision, ModelSave, ModelSource, StoreError};

use crate::AppState;
use crate::calibration;
pub use crate::calibration::{AuditFit, LearnerMemory, fit_on_audit, recalibrate};

/// A model version the service scores with.
#[derive(Debug, Clone)]
pub struct ActiveModel {
    pub version: i64,
    /// Every decision up to this `seq` is accounted for.
    pub through_decision: i64,
    pub model: Model,
}

/// Features listed per shadow score.
pub const SHADOW_TOP: usize = 5;

/// How the service learns.
#[derive(Debug, Clone, Copy)]
pub struct LearnConfig {
    /// Decisions per stored version.
    pub batch: usize,
    /// Most of a batch's teaching weight one reviewer may carry (0 < share <= 1).
    pub reviewer_share: f64,
    /// How the calibration and raise point are fitted on the quality audit.
    pub audit: AuditFit,
}

impl Default for LearnConfig {
    fn default() -> LearnConfig {
        LearnConfig {
            batch: 50,
            reviewer_share: 0.25,
            audit: AuditFit::DEFAULT,
        }
    }
}

/// Share of claimed items the quality audit draws by default: one in twenty, enough for a
/// hundred audited benign answers within the first two thousand claims.
pub const DEFAULT_AUDIT_SHARE: f64 = 0.05;

/// Share of allowed ad revisions sampled for the quality audit by default.
pub const DEFAULT_AUDIT_SAMPLE: f64 = 0.01;

/// Share of claimed items active learning draws by default (the simulated review loop of
/// `samaritan model simulate` measured 0.2; a tenth keeps the queue the policy's).
pub const DEFAULT_ACTIVE_SHARE: f64 = 0.1;

/// **Active learning.** The policy queues what it flags; the model learns only from what
/// reviewers decide, so without help it never hears about the ads the policy allowed. While a
/// model scores, every allowed ad whose score lies within `LEARNING_BAND` of the model's
/// decision point waits in the store's learning pool; a `share` of the items reviewers claim are
/// drawn from it, the least certain first (`Store::queue_claim_drawing`), shown as drawn for
/// learning, and decided like any other item: an `allow` there teaches the model as much as a
/// `remove`. The share is kept exactly over many claims (a claim of one item draws on every
/// 1/share-th claim), not by chance.
#[derive(Debug)]
pub struct ActiveDraw {
    /// The share, in millionths.
    share_ppm: std::sync::atomic::AtomicU64,
    /// Draws owed, in millionths: the fractional part carried from claim to claim.
    owed_ppm: std::sync::Mutex<u64>,
}

const PPM: u64 = 1_000_000;

impl ActiveDraw {
    pub fn new(share: f64) -> ActiveDraw {
        let d = ActiveDraw {
            share_ppm: std::sync::atomic::AtomicU64::new(0),
            owed_ppm: std::sync::Mutex::new(0),
        };
        d.set_share(share);
        d
    }

    /// Sets the share (0 turns active learning off; clamped to 0..=1).
    pub fn set_share(&self, share: f64) {
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // 0..=1 times a million fits a u64 exactly enough (a millionth of a claim).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ppm = (share * PPM as f64).round() as u64;
        self.share_ppm
            .store(ppm, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn share(&self) -> f64 {
        self.share_ppm.load(std::sync::atomic::Ordering::Relaxed) as f64 / PPM as f64
    }

    /// How many of a claim of `n` items to draw from the learning pool.
    pub fn draw(&self, n: i64) -> i64 {
        let share = self.share_ppm.load(std::sync::atomic::Ordering::Relaxed);
        let Ok(n) = u64::try_from(n) else {
            return 0;
        };
        if share == 0 || n == 0 {
            return 0;
        }
        let mut owed = self.owed_ppm.lock().unwrap_or_else(|e| e.into_inner());
        *owed = owed.saturating_add(share.saturating_mul(n));
        let k = (*owed / PPM).min(n);
        *owed -= k * PPM;
        // Carry at most one claim's worth, so a long run of empty pools does not pile up.
        *owed = (*owed).min(PPM);
        i64::try_from(k).unwrap_or(0)
    }
}

/// Why the model could not be loaded or taught.
#[derive(Debug, thiserror::Error)]
pub enum LearnFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored model version {version} does not load: {message}")]
    Model { version: i64, message: String },
    #[error("the engine failed while learning: {0}")]
    Engine(String),
}

/// What decision `action` with `reason` teaches (module docs).
pub fn label_of(action: &str, reason: &str) -> Option<Label> {
    match action {
        "allow" => Some(Label::Benign),
        "report" => Some(Label::Severe),
        "remove" => match reason {
            "spam" | "other_policy" => None,
            r if r.contains("minor")
                || r.contains("trafficking")
                || r.contains("third_party")
                || r.contains("child") =>
            {
                Some(Label::Severe)
            }
            _ => Some(Label::Commercial),
        },
        _ => None,
    }
}

fn label_name(l: Option<Label>) -> &'static str {
    match l {
        Some(Label::Benign) => "benign",
        Some(Label::Commercial) => "commercial",
        Some(Label::Severe) => "severe",
        None => "none",
    }
}

/// Loads the store's current model version into the analyzer (none when the store has none).
/// Returns the version in force.
pub async fn restore_model(state: &AppState) -> Result<Option<i64>, LearnFailure> {
    let Some(stored) = state.store().current_model().await? else {
        state.analyzer().set_model(None);
        return Ok(None);
    };
    let version = stored.meta.version;
    let mut model = Model::from_json(&stored.model).map_err(|e| LearnFailure::Model {
        version,
        message: e.to_string(),
    })?;
    // A raise point not fitted on this platform's audit (an import, a rollback to such a
    // version) is not put in force: the model raises nothing until `recalibrate` fits one.
    let d = &stored.meta.source_detail;
    if d.get("fit").is_none() && d.get("recalibrated").is_none() {
        model.raise = None;
    }
    state.analyzer().set_model(Some(Arc::new(ActiveModel {
        version,
        through_decision: stored.meta.through_decision,
        model,
    })));
    Ok(Some(version))
}

/// Saves `model` as the service's next version on top of `expected`, accounting for decisions
/// up to `through`. The outer error: the model does not serialise; the inner: the store's answer
/// (a [`StoreError::Conflict`] when another version was put in force meanwhile).
pub(crate) async fn save_version(
    state: &AppState,
    model: &Model,
    source: ModelSource,
    through: i64,
    expected: i64,
) -> Result<Result<samaritan_store::ModelVersion, StoreError>, LearnFailure> {
    let json = serde_json::to_string(model)
        .map_err(|e| LearnFailure::Engine(format!("the model does not serialise: {e}")))?;
    Ok(state
        .store()
        .save_model(ModelSave {
            model: &json,
            source,
            through_decision: Some(through),
            expected: Some(expected),
            actor: "service:learning",
            now: samaritan_store::now_ms(),
        })
        .await)
}

/// Puts `model`, just saved as `v`, in force in the analyzer.
pub(crate) fn put_in_force(state: &AppState, v: &samaritan_store::ModelVersion, model: Model) {
    state.analyzer().set_model(Some(Arc::new(ActiveModel {
        version: v.version,
        through_decision: v.through_decision,
        model,
    })));
}

/// One decision ready to learn: what it teaches and the ad as judged.
struct Lesson {
    decision: Decision,
    label: Option<Label>,
    ad: Option<Ad>,
}

/// Learns every full batch of decisions the current model has not accounted for, each saved as
/// a new version. Returns the versions saved. Without a model in force it does nothing.
pub async fn learn_pending(state: &AppState, cfg: LearnConfig) -> Result<Vec<i64>, LearnFailure> {
    let mut memory = state.inner.learn_lock.lock().await;
    let mut saved = Vec::new();
    let batch = cfg.batch.max(1);
    loop {
        let Some(active) = state.analyzer().model() else {
            return Ok(saved);
        };
        let decisions = state
            .store()
            .decisions_after(active.through_decision, batch as i64)
            .await?;
        if decisions.len() < batch {
            return Ok(saved);
        }
        let mut lessons = Vec::with_capacity(decisions.len());
        for d in decisions {
            let label = label_of(&d.action, &d.reason);
            let ad = match label {
                Some(_) => match state.store().ad_at_revision(&d.ad_id, d.revision).await? {
                    Some(raw) => serde_json::from_str::<Ad>(&raw).ok(),
                    None => None,
                },
                None => None,
            };
            let label = if ad.is_some() { label } else { None };
            lessons.push(Lesson {
                decision: d,
                label,
                ad,
            });
        }
        let actors: Vec<&str> = lessons.iter().map(|l| l.decision.actor.as_str()).collect();
        let teaches: Vec<bool> = lessons.iter().map(|l| l.label.is_some()).collect();
        let weights = reviewer_weights(&actors, &teaches, cfg.reviewer_share);
        let through = lessons
            .last()
            .map_or(active.through_decision, |l| l.decision.seq);
        let applied: Vec<BatchDecision> = lessons
            .iter()
            .zip(&weights)
            .map(|(l, w)| BatchDecision {
                seq: l.decision.seq,
                label: label_name(l.label).to_owned(),
                weight: *w,
            })
            .collect();
        // Learn on a copy, on a blocking thread (the engine is CPU-bound), in decision order.
        let analyzer = state.analyzer().clone();
        let base = active.clone();
        let mut model = tokio::task::spawn_blocking(move || {
            let mut model = base.model.clone();
            for (l, w) in lessons.iter().zip(&weights) {
                if let (Some(label), Some(ad)) = (l.label, &l.ad)
                    && let Some(x) = analyzer.model_features(ad, &model.features)
                {
                    model.learn_weighted(&x, label, *w);
                }
            }
            model
        })
        .await
        .map_err(|e| LearnFailure::Engine(e.to_string()))?;
        // The learned weights move the scores: fit the calibration and raise point again.
        let recalibrated =
            calibration::fit_batch(state, &mut memory, &mut model, cfg.audit).await?;
        let through_answer = recalibrated.through_answer;
        let result = save_version(
            state,
            &model,
            ModelSource::Decisions {
                applied,
                recalibrated: Some(recalibrated),
            },
            through,
            active.version,
        )
        .await?;
        match result {
            Ok(v) => {
                tracing::info!(
                    version = v.version,
                    through_decision = v.through_decision,
                    "model version saved from a batch of decisions"
                );
                calibration::fitted(&mut memory, v.version, through_answer);
                put_in_force(state, &v, model);
                saved.push(v.version);
            }
            Err(StoreError::Conflict(m)) => {
                // Another writer put a version in force: go on from it.
                tracing::info!(reason = %m, "model changed meanwhile; loading the current version");
                if restore_model(state).await? == Some(active.version) {
                    return Ok(saved);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Loads the store's current version when it is not the one in force (an import or a rollback
/// made by the CLI or another instance). Returns the version in force.
pub async fn follow_store(state: &AppState) -> Result<Option<i64>, LearnFailure> {
    let stored = state.store().current_model_version().await?;
    let active = state.analyzer().model().map(|m| m.version);
    if stored == active {
        return Ok(active);
    }
    let _turn = state.inner.learn_lock.lock().await;
    let v = restore_model(state).await?;
    tracing::info!(version = ?v, "learned model version loaded from the store");
    Ok(v)
}

/// Learns in the background: after each decision (woken) and every `poll`, so decisions made
/// by other processes are learned too; follows versions put in force by others. Stops with the
/// store.
pub fn spawn_learner(state: AppState, cfg: LearnConfig, poll: std::time::Duration) {
    tokio::spawn(async move {
        loop {
            if state.store().is_closed() {
                return;
            }
            if let Err(e) = follow_store(&state).await {
                tracing::warn!(error = %e, "loading the learned model failed (retried)");
            }
            if let Err(e) = learn_pending(&state, cfg).await {
                tracing::warn!(error = %e, "learning from decisions failed (retried)");
            }
            if let Err(e) = recalibrate(&state, cfg).await {
                tracing::warn!(error = %e, "fitting the model on the audit failed (retried)");
            }
            let wake = state.inner.learn_wake.notified();
            let _ = tokio::time::timeout(poll, wake).await;
        }
    });
}

/// How often two judges agree on decided items.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Agreement {
    pub agree: u64,
    pub total: u64,
    /// `agree / total` (0 when there is nothing to compare).
    pub rate: f64,
}

impl Agreement {
    fn add(&mut self, a: bool, b: bool) {
        self.total += 1;
        if a == b {
            self.agree += 1;
        }
        self.rate = self.agree as f64 / self.total as f64;
    }
}

/// The shadow report (issue 25, point 4): on decided items, the model at its threshold beside
/// the policy's verdict and the reviewers' decisions, with example ads where they disagree.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ShadowReport {
    /// Decided items compared (their latest decision teaches something: [`label_of`]).
    pub compared: u64,
    /// Decided items left out: the latest decision teaches nothing (escalation, spam, …).
    pub left_out: u64,
    /// Model raised ⇔ reviewers removed or reported.
    pub model_vs_reviewers: Agreement,
    /// Policy flagged (verdict review or block) ⇔ reviewers removed or reported.
    pub policy_vs_reviewers: Agreement,
    /// Model raised ⇔ policy flagged.
    pub model_vs_policy: Agreement,
    /// Up to `examples` ad ids each: the model raised what reviewers allowed; reviewers removed
    /// what the model did not raise; the model raised what the policy let through; the policy
    /// flagged what the model did not raise.
    pub model_raised_reviewers_allowed: Vec<String>,
    /// The quality audit beside it (`None` until the caller reads `Store::audit_counts`): of
    /// the answered samples of allowed ads, the share removed or reported estimates what the
    /// policy lets through.
    pub audit: Option<samaritan_store::AuditCounts>,
    pub reviewers_removed_model_missed: Vec<String>,
    pub model_raised_policy_allowed: Vec<String>,
    pub policy_flagged_model_missed: Vec<String>,
}

/// The shadow report over `rows` (from `Store::shadow_decided`).
pub fn shadow_report(rows: &[samaritan_store::ShadowDecided], examples: usize) -> ShadowReport {
    let mut r = ShadowReport::default();
    let note = |list: &mut Vec<String>, id: &str| {
        if list.len() < examples {
            list.push(id.to_owned());
        }
    };
    for row in rows {
        let Some(label) = label_of(&row.action, &row.reason) else {
            r.left_out += 1;
            continue;
        };
        r.compared += 1;
        let removed = label != Label::Benign;
        let flagged = row.verdict != "allow";
        let raised = row.raised;
        r.model_vs_reviewers.add(raised, removed);
        r.policy_vs_reviewers.add(flagged, removed);
        r.model_vs_policy.add(raised, flagged);
        if raised && !removed {
            note(&mut r.model_raised_reviewers_allowed, &row.ad_id);
        }
        if removed && !raised {
            note(&mut r.reviewers_removed_model_missed, &row.ad_id);
        }
        if raised && !flagged {
            note(&mut r.model_raised_policy_allowed, &row.ad_id);
        }
        if flagged && !raised {
            note(&mut r.policy_flagged_model_missed, &row.ad_id);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_active_share_is_kept_exactly_over_claims() {
        let d = ActiveDraw::new(0.1);
        let drawn: i64 = (0..100).map(|_| d.draw(1)).sum();
        assert_eq!(drawn, 10);
        let d = ActiveDraw::new(0.25);
        assert_eq!(d.draw(8), 2);
        assert_eq!(d.draw(2), 0);
        assert_eq!(d.draw(2), 1);
        d.set_share(0.0);
        assert_eq!(d.draw(100), 0);
        let d = ActiveDraw::new(5.0);
        assert_eq!(d.share(), 1.0);
        assert_eq!(d.draw(3), 3);
    }

    #[test]
    fn labels_follow_the_action_and_reason() {
        assert_eq!(label_of("allow", "not_commercial"), Some(Label::Benign));
        assert_eq!(
            label_of("allow", "insufficient_evidence"),
            Some(Label::Benign)
        );
        assert_eq!(label_of("report", "online_enticement"), Some(Label::Severe));
        assert_eq!(label_of("remove", "minor_indicators"), Some(Label::Severe));
        assert_eq!(
            label_of("remove", "trafficking_indicators"),
            Some(Label::Severe)
        );
        assert_eq!(
            label_of("remove", "third_party_control"),
            Some(Label::Severe)
        );
        assert_eq!(
            label_of("remove", "commercial_sex"),
            Some(Label::Commercial)
        );
        assert_eq!(label_of("remove", "platform_code"), Some(Label::Commercial));
        assert_eq!(label_of("remove", "spam"), None);
        assert_eq!(label_of("remove", "other_policy"), None);
        assert_eq!(label_of("escalate", "possible_minor"), None);
    }

    #[test]
    fn the_shadow_report_counts_agreement_and_names_disagreements() {
        let row = |id: &str, action: &str, reason: &str, verdict: &str, raised: bool| {
            samaritan_store::ShadowDecided {
                ad_id: id.into(),
                revision: 1,
                decision_seq: 1,
                action: action.into(),
                reason: reason.into(),
                verdict: verdict.into(),
                model_version: 1,
                probability: if raised { 0.9 } else { 0.1 },
                raised,
            }
        };
        let rows = [
            row("a", "remove", "commercial_sex", "review", true),
            row("b", "allow", "not_commercial", "review", true),
            row("c", "report", "child_sex_trafficking", "block", false),
            row("d", "allow", "not_commercial", "allow", false),
            row("e", "escalate", "needs_lead", "review", true),
            row("f", "remove", "spam", "review", false),
            row("g", "allow", "not_commercial", "allow", true),
        ];
        let r = shadow_report(&rows, 1);
        assert_eq!((r.compared, r.left_out), (5, 2));
        // model raised a, b, g; reviewers removed a, c; policy flagged a, b, c.
        assert_eq!(
            (r.model_vs_reviewers.agree, r.model_vs_reviewers.total),
            (2, 5)
        );
        assert_eq!(r.policy_vs_reviewers.agree, 4);
        assert_eq!(r.model_vs_policy.agree, 3);
        assert!((r.model_vs_reviewers.rate - 0.4).abs() < 1e-12);
        assert_eq!(
            r.model_raised_reviewers_allowed,
            ["b"],
            "capped at 1 example"
        );
        assert_eq!(r.reviewers_removed_model_missed, ["c"]);
        assert_eq!(r.model_raised_policy_allowed, ["g"]);
        assert_eq!(r.policy_flagged_model_missed, ["c"]);
    }
}
