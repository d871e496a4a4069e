//! Calibrating the learned model on the quality audit (issue 25).
//!
//! A model trained elsewhere, or taught only by what the policy queued, has never seen the ads
//! the policy allows; measured on an unread blind bank, the raise threshold a synth-trained
//! model came with raised most benign ads. The service therefore fits the calibration (Platt)
//! and the raise point on the answers of the quality audit (`samaritan_store::audit_sample`: a
//! uniform random sample of allowed ads, drawn into reviewers' claims): the raise point is where
//! the model raises at most `benign_rate` of the audited benign ads. Until `min_benign` audited
//! benign answers exist the model raises nothing (its scores are still recorded in shadow).
//!
//! The audit's answers also teach the model like any decision. Holding them out (a threshold
//! fitted on ads the model has learned may sit low) was measured in the simulated loop: it cost
//! label-2 recall and did not lower the benign rate (BENCHMARKS.md, "Review loop"). Each learned
//! batch is fitted before it is saved; `refit_every` newer
//! answers, or a version in force that was never fitted (an import, a rollback), are fitted as a
//! `recalibration` version of their own, audited like any model change. Each fit records the
//! newest answer it used (`through_answer`), so that a restart or a second instance does not fit
//! the same answers again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use samaritan_engine::learn::{
    FeatureConfig, Features, Label, Model, RaisePoint, fit_platt, threshold_at_rate,
};
use samaritan_engine::model::Ad;
use samaritan_store::{ModelSource, Recalibration, StoreError};

use crate::AppState;
use crate::learning::{
    LearnConfig, LearnFailure, label_of, put_in_force, restore_model, save_version,
};

/// How the model's calibration and raise point are fitted on the quality audit's answers.
#[derive(Debug, Clone, Copy)]
pub struct AuditFit {
    /// The share of the audited benign ads the model may raise: the review load a team grants
    /// it beyond the policy's queue (0..=1).
    pub benign_rate: f64,
    /// Benign answers needed before a raise point is fitted; until then the model raises nothing.
    pub min_benign: usize,
    /// The most recent answers fitted on.
    pub window: usize,
    /// Newer answers that make a fit of their own (a learned batch is always fitted).
    pub refit_every: usize,
}

impl AuditFit {
    /// The defaults: raise at most 1 % of audited benign ads, after 100 benign answers.
    pub const DEFAULT: AuditFit = AuditFit {
        benign_rate: 0.01,
        min_benign: 100,
        window: 5000,
        refit_every: 20,
    };
}

impl Default for AuditFit {
    fn default() -> AuditFit {
        AuditFit::DEFAULT
    }
}

/// What the learner keeps between turns (guarded by the learner's lock): the features of the
/// audited ads, made once per feature configuration and policy (an ad revision never changes),
/// and the newest answer the model in force was fitted on.
#[derive(Default)]
pub struct LearnerMemory {
    made_with: Option<(FeatureConfig, String)>,
    features: HashMap<(String, i64), Arc<Features>>,
    /// (model version, `through_answer`) of the last fit.
    fitted: Option<(i64, i64)>,
}

/// The audit's answers ready to fit on.
pub struct AuditExamples {
    /// The features of each answered ad revision and whether the answer removed or reported it
    /// (answers that teach nothing, and purged ads, are left out).
    pub examples: Vec<(Arc<Features>, bool)>,
    /// The newest answer's decision `seq` (0 for none).
    pub through: i64,
}

async fn audit_examples(
    state: &AppState,
    memory: &mut LearnerMemory,
    model: &Model,
    fit: AuditFit,
) -> Result<AuditExamples, LearnFailure> {
    let window = i64::try_from(fit.window).unwrap_or(i64::MAX);
    let answers = state.store().audit_answers(window).await?;
    let made_with = (model.features.clone(), state.analyzer().policy().label);
    if memory.made_with.as_ref() != Some(&made_with) {
        memory.features.clear();
        memory.made_with = Some(made_with);
    }
    let through = answers.iter().map(|a| a.decision_seq).max().unwrap_or(0);
    // The ads not featurized yet, read first, then featurized off the async threads.
    let mut missing: Vec<((String, i64), String)> = Vec::new();
    for a in &answers {
        let key = (a.ad_id.clone(), a.revision);
        if label_of(&a.action, &a.reason).is_some()
            && !memory.features.contains_key(&key)
            && let Some(raw) = state.store().ad_at_revision(&a.ad_id, a.revision).await?
        {
            missing.push((key, raw));
        }
    }
    if !missing.is_empty() {
        let analyzer = state.analyzer().clone();
        let config = model.features.clone();
        let made = tokio::task::spawn_blocking(move || {
            missing
                .into_iter()
                .filter_map(|(key, raw)| {
                    let ad = serde_json::from_str::<Ad>(&raw).ok()?;
                    let x = analyzer.model_features(&ad, &config)?;
                    Some((key, Arc::new(x)))
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| LearnFailure::Engine(e.to_string()))?;
        memory.features.extend(made);
    }
    let mut examples = Vec::with_capacity(answers.len());
    let mut kept = HashSet::with_capacity(answers.len());
    for a in answers {
        let Some(label) = label_of(&a.action, &a.reason) else {
            continue;
        };
        let key = (a.ad_id, a.revision);
        if let Some(x) = memory.features.get(&key) {
            examples.push((x.clone(), label != Label::Benign));
            kept.insert(key);
        }
    }
    memory.features.retain(|k, _| kept.contains(k));
    Ok(AuditExamples { examples, through })
}

/// Fits `model`'s calibration and raise point on the audit's `examples` (features, removed):
/// Platt scaling on every answer, and the raise point where at most `fit.benign_rate` of the
/// benign answers would be raised. With fewer than `fit.min_benign` benign answers the
/// calibration is kept and the model raises nothing. Pure and deterministic.
pub fn fit_on_audit(
    model: &mut Model,
    examples: &[(Arc<Features>, bool)],
    fit: AuditFit,
    through_answer: i64,
) -> Recalibration {
    let scored: Vec<(f64, bool)> = examples
        .iter()
        .map(|(x, removed)| (model.commercial.logit(x), *removed))
        .collect();
    let benign: Vec<f64> = scored
        .iter()
        .filter(|(_, removed)| !*removed)
        .map(|(s, _)| *s)
        .collect();
    let mut platt = None;
    if benign.len() >= fit.min_benign.max(1) {
        // A Platt fit that reverses the order (a <= 0: the answers disagree with the scores)
        // would turn the threshold upside down; the calibration is kept then.
        if let Some(p) = fit_platt(&scored).filter(|p| p.a > 0.0) {
            model.calibration = p;
            platt = Some((p.a, p.b));
        }
        // Chosen on the calibrated probabilities the scores will be compared in (a threshold
        // chosen on logits can round onto a benign answer's probability).
        let calibrated: Vec<f64> = benign
            .iter()
            .map(|&l| model.calibration.probability(l))
            .collect();
        model.raise = threshold_at_rate(&calibrated, fit.benign_rate).map(|t| RaisePoint {
            probability: t.max(0.0),
            benign_rate: fit.benign_rate,
            benign_items: benign.len() as u64,
        });
    } else {
        model.raise = None;
    }
    Recalibration {
        answers: scored.len() as u64,
        benign: benign.len() as u64,
        min_benign: fit.min_benign as u64,
        platt,
        raise_probability: model.raise.map(|r| r.probability),
        benign_rate: fit.benign_rate,
        through_answer,
    }
}

/// The examples and fit of the model in force for a learned batch (`learning::learn_pending`).
pub(crate) async fn fit_batch(
    state: &AppState,
    memory: &mut LearnerMemory,
    model: &mut Model,
    fit: AuditFit,
) -> Result<Recalibration, LearnFailure> {
    let ex = audit_examples(state, memory, model, fit).await?;
    Ok(fit_on_audit(model, &ex.examples, fit, ex.through))
}

/// Records that `version` was fitted through `through_answer` (after a save).
pub(crate) fn fitted(memory: &mut LearnerMemory, version: i64, through_answer: i64) {
    memory.fitted = Some((version, through_answer));
}

/// The newest answer the stored version in force was fitted on, from its record (`None`: never
/// fitted, as an import or a rollback).
async fn stored_fit(state: &AppState, version: i64) -> Result<Option<i64>, LearnFailure> {
    let Some(stored) = state.store().current_model().await? else {
        return Ok(None);
    };
    if stored.meta.version != version {
        return Ok(None);
    }
    let d = &stored.meta.source_detail;
    Ok(d["fit"]["through_answer"]
        .as_i64()
        .or_else(|| d["recalibrated"]["through_answer"].as_i64()))
}

/// Fits the model in force on the audit's answers again when it was never fitted (an import, a
/// rollback) or `refit_every` answers newer than its fit arrived, and saves the result as a
/// `recalibration` version when the calibration or the raise point changed. Returns the version
/// saved.
pub async fn recalibrate(state: &AppState, cfg: LearnConfig) -> Result<Option<i64>, LearnFailure> {
    let mut memory = state.inner.learn_lock.lock().await;
    let Some(active) = state.analyzer().model() else {
        return Ok(None);
    };
    let last = match memory.fitted {
        Some((v, through)) if v == active.version => Some(through),
        _ => stored_fit(state, active.version).await?,
    };
    if let Some(through) = last {
        memory.fitted = Some((active.version, through));
        let newer = state
            .store()
            .audit_answers(i64::try_from(cfg.audit.refit_every.max(1)).unwrap_or(i64::MAX))
            .await?
            .iter()
            .filter(|a| a.decision_seq > through)
            .count();
        if newer < cfg.audit.refit_every.max(1) {
            return Ok(None);
        }
    }
    let mut model = active.model.clone();
    let ex = audit_examples(state, &mut memory, &model, cfg.audit).await?;
    let fit = fit_on_audit(&mut model, &ex.examples, cfg.audit, ex.through);
    let same_raise =
        model.raise.map(|r| r.probability) == active.model.raise.map(|r| r.probability);
    if model.calibration == active.model.calibration && same_raise {
        memory.fitted = Some((active.version, ex.through));
        return Ok(None);
    }
    let result = save_version(
        state,
        &model,
        ModelSource::Recalibration { fit },
        active.through_decision,
        active.version,
    )
    .await?;
    match result {
        Ok(v) => {
            tracing::info!(
                version = v.version,
                answers = ex.examples.len(),
                raise = ?model.raise.map(|r| r.probability),
                "model recalibrated on the quality audit"
            );
            memory.fitted = Some((v.version, ex.through));
            put_in_force(state, &v, model);
            Ok(Some(v.version))
        }
        Err(StoreError::Conflict(m)) => {
            tracing::info!(reason = %m, "model changed meanwhile; loading the current version");
            drop(memory);
            restore_model(state).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_fit_raises_what_was_removed_and_at_most_the_benign_rate() {
        use samaritan_engine::learn::FtrlParams;
        let cfg = FeatureConfig {
            bits: 12,
            ..FeatureConfig::default()
        };
        let mut model = Model::new(cfg, FtrlParams::default());
        let a = Arc::new(Features {
            slots: vec![(1, 1.0)],
        });
        let b = Arc::new(Features {
            slots: vec![(2, 1.0)],
        });
        let c = Arc::new(Features {
            slots: vec![(2, 1.0), (3, 1.0)],
        });
        for _ in 0..20 {
            model.learn(&a, Label::Commercial);
            model.learn(&b, Label::Benign);
        }
        model.learn(&c, Label::Commercial);
        // Ten benign answers (one of them scores higher than the rest) and three removed.
        let mut examples: Vec<(Arc<Features>, bool)> = (0..9).map(|_| (b.clone(), false)).collect();
        examples.push((c.clone(), false));
        examples.extend((0..3).map(|_| (a.clone(), true)));
        let fit = AuditFit {
            benign_rate: 0.1,
            min_benign: 10,
            window: 100,
            refit_every: 1,
        };
        let mut fitted = model.clone();
        let r = fit_on_audit(&mut fitted, &examples, fit, 13);
        assert_eq!(
            (r.answers, r.benign, r.min_benign, r.through_answer),
            (13, 10, 10, 13)
        );
        let (pa, _) = r.platt.unwrap();
        assert!(pa > 0.0);
        let raise = fitted.raise.unwrap();
        assert_eq!(r.raise_probability, Some(raise.probability));
        // One benign answer in ten may be raised: the higher one is, the rest are not.
        assert!(fitted.score(&a).raised);
        assert!(fitted.score(&c).raised);
        assert!(!fitted.score(&b).raised);
        // At rate 0 not even that one.
        let mut strict = model.clone();
        fit_on_audit(
            &mut strict,
            &examples,
            AuditFit {
                benign_rate: 0.0,
                ..fit
            },
            13,
        );
        assert!(strict.score(&a).raised && !strict.score(&c).raised);
        // Too few benign answers: the calibration is kept and nothing is raised.
        let mut early = model.clone();
        let r = fit_on_audit(&mut early, &examples[5..], fit, 13);
        assert_eq!((r.benign, r.platt, r.raise_probability), (5, None, None));
        assert_eq!(early.calibration, model.calibration);
        assert_eq!(early.raise, None);
    }
}
