//! A simulated review loop (issue 25, point 6): does the learned model, taught by reviewers'
//! decisions as they are made, close the gap the hand-written policy leaves on wording it was
//! not written for?
//!
//! Ads arrive over simulated days. Every day simulated reviewers make a fixed number of
//! decisions, drawn from three places:
//!
//! - **the queue** (the rest of the day's decisions): ads the policy flagged, and — when the
//!   model is enabled as the `model_score` indicator — ads whose model score reaches the deployed
//!   threshold, highest `policy score + model weight × probability` first;
//! - **active learning** (`active_share`): the undecided ads, flagged or not, whose score is
//!   nearest the deployed threshold — where a decision teaches the model most;
//! - **a random audit** (`audit_share` of the decisions): undecided ads drawn uniformly, the
//!   quality sample a trust & safety team keeps anyway, each reviewed twice, a disagreement
//!   settled by a lead. Only these give an unbiased view of the benign ads, so the deployed
//!   threshold and the calibration are fitted on them (on the decisions, never the truth), and
//!   the double review keeps one reviewer from bending them. They are learned like any decision
//!   (holding them out of learning was measured: it cost label-2 recall and did not lower the
//!   benign rate; BENCHMARKS.md, "Review loop").
//!
//! A decision is the truth label, except an honest reviewer's mistake (`error_rate`: another
//! label at random) and the **poisoner**: one reviewer who makes `poison_share` of all decisions
//! and decides every one wrong (benign as severe, commercial or severe as benign). Decisions are
//! learned in batches of `batch` under the service's per-reviewer cap
//! ([`samaritan_engine::learn::reviewer_weights`]).
//!
//! The deployed threshold is where the model adds at most `target_benign_rate` of the audited
//! benign ads to those the policy raises (the review load a team grants the model; the model
//! never lowers a verdict, so the policy's own false positives stay). Every `checkpoint_every`
//! decisions the current model is measured on a held-out set that no reviewer sees: recall of
//! labels 1 and 2 and the benign rate of "policy or model" at the deployed threshold (what a
//! deployment would get), at the threshold where the model adds exactly the target share of
//! held-out benign ads (an oracle: how well the scores rank), and the model alone at the target
//! benign rate. Everything is pure and deterministic for a seed.

use samaritan_engine::learn::{self, Features, Label, Model, reviewer_weights};
use serde::{Deserialize, Serialize};

use crate::metrics::roc_auc;

/// One ad as the loop sees it: its features, its truth and what the policy made of it.
#[derive(Debug, Clone)]
pub struct LoopItem {
    pub features: Features,
    /// Truth: 0 benign, 1 commercial sex, 2 trafficking / minor indicators.
    pub label: u8,
    /// The policy's verdict is not `allow`.
    pub policy_flagged: bool,
    /// The policy's score (0 to 1): the queue's order.
    pub policy_score: f64,
}

/// How the loop runs.
#[derive(Debug, Clone, Serialize)]
pub struct LoopConfig {
    /// Simulated days over which the arrivals are spread evenly.
    pub days: usize,
    /// Decisions the reviewers make per day.
    pub decisions_per_day: usize,
    /// Decisions per learned batch (the service's `--model-batch`).
    pub batch: usize,
    /// Most of a batch one reviewer may carry (the service's `--model-reviewer-share`).
    pub reviewer_share: f64,
    /// Honest reviewers.
    pub reviewers: usize,
    /// Share of an honest reviewer's decisions that are wrong.
    pub error_rate: f64,
    /// Share of all decisions made by the poisoner, every one wrong.
    pub poison_share: f64,
    /// Share of each day's decisions spent on the ads the model is least certain about.
    pub active_share: f64,
    /// Share of each day's decisions spent on a uniform random audit.
    pub audit_share: f64,
    /// The model raises ads into the queue (the `model_score` indicator); otherwise it is
    /// measured in shadow only and the queue is the policy's.
    pub model_enabled: bool,
    /// The weight of the model's probability in the queue's order.
    pub model_weight: f64,
    /// The share of benign ads the model may add to the policy's (the review load granted it).
    pub target_benign_rate: f64,
    /// Audited benign decisions needed before the threshold is fitted on them (before that, the
    /// model raises nothing).
    pub min_audit_benign: usize,
    /// Measure every this many decisions.
    pub checkpoint_every: usize,
    pub seed: u64,
}

impl Default for LoopConfig {
    fn default() -> LoopConfig {
        LoopConfig {
            days: 50,
            decisions_per_day: 100,
            batch: 50,
            reviewer_share: 0.25,
            reviewers: 5,
            error_rate: 0.0,
            poison_share: 0.0,
            active_share: 0.2,
            audit_share: 0.1,
            model_enabled: true,
            model_weight: 0.5,
            target_benign_rate: 0.01,
            min_audit_benign: 100,
            checkpoint_every: 250,
            seed: 1,
        }
    }
}

/// Why a loop cannot run.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("{0}")]
    Config(String),
}

impl LoopConfig {
    fn check(&self) -> Result<(), LoopError> {
        let share = |v: f64| (0.0..=1.0).contains(&v);
        if self.days == 0 || self.decisions_per_day == 0 || self.batch == 0 {
            return Err(LoopError::Config(
                "days, decisions per day and batch must be at least 1".into(),
            ));
        }
        if self.reviewers == 0 || self.checkpoint_every == 0 {
            return Err(LoopError::Config(
                "reviewers and checkpoint interval must be at least 1".into(),
            ));
        }
        if !(share(self.error_rate)
            && share(self.poison_share)
            && share(self.active_share)
            && share(self.audit_share)
            && share(self.target_benign_rate)
            && self.reviewer_share > 0.0
            && self.reviewer_share <= 1.0)
        {
            return Err(LoopError::Config(
                "rates and shares must be between 0 and 1 (reviewer share above 0)".into(),
            ));
        }
        if self.active_share + self.audit_share > 1.0 {
            return Err(LoopError::Config(
                "active share + audit share must not exceed 1".into(),
            ));
        }
        if !(self.model_weight.is_finite() && self.model_weight >= 0.0) {
            return Err(LoopError::Config("model weight must be >= 0".into()));
        }
        Ok(())
    }
}

/// Recall and benign rate of one way of raising ads, on the held-out set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub benign_rate: f64,
    pub recall_label1: f64,
    pub recall_label2: f64,
}

/// Where the loop stood after some decisions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub decisions: usize,
    pub day: usize,
    pub arrived: usize,
    /// Learned batches so far.
    pub batches: usize,
    /// Decisions by where they were drawn from.
    pub from_queue: usize,
    pub from_active: usize,
    pub from_audit: usize,
    /// Decisions that were wrong (honest mistakes and the poisoner's).
    pub wrong: usize,
    /// Audit items whose two reviews disagreed, decided by a lead.
    #[serde(default)]
    pub adjudicated: usize,
    /// Decided ads the policy allowed that were truly commercial (labels 1 and 2): what
    /// reviewers found only through the model or the samples.
    pub found_beyond_policy: usize,
    /// Raised ads still waiting at the end of the day.
    pub backlog: usize,
    /// The deployed threshold as a calibrated probability (`None`: raising nothing).
    pub deployed_threshold: Option<f64>,
    /// Whether the deployed threshold was fitted on audited decisions yet.
    pub fitted_on_audit: bool,
    pub policy: Rates,
    /// "Policy or model" at the deployed threshold.
    pub deployed: Rates,
    /// "Policy or model" at the threshold where the model adds exactly the target share of
    /// held-out benign ads to the policy's (an oracle: how well the scores rank).
    pub oracle: Rates,
    /// The model alone at the threshold where it raises the target share of held-out benign ads.
    pub oracle_model_alone: Rates,
    pub auc_commercial: Option<f64>,
    pub auc_label2_over_label1: Option<f64>,
}

/// Where a decision was drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Queue,
    Active,
    Audit,
}

/// SplitMix64: a small deterministic stream for the simulation's draws.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        learn::splitmix64(&mut self.0)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn truth_label(l: u8) -> Label {
    match l {
        0 => Label::Benign,
        1 => Label::Commercial,
        _ => Label::Severe,
    }
}

/// An honest mistake: one of the two other labels.
fn other_label(l: Label, rng: &mut Rng) -> Label {
    let others = match l {
        Label::Benign => [Label::Commercial, Label::Severe],
        Label::Commercial => [Label::Benign, Label::Severe],
        Label::Severe => [Label::Benign, Label::Commercial],
    };
    others[rng.below(2)]
}

/// The poisoner's decision: the opposite of the truth.
fn poisoned(l: Label) -> Label {
    match l {
        Label::Benign => Label::Severe,
        Label::Commercial | Label::Severe => Label::Benign,
    }
}

/// The lowest logit at which the model adds at most `target` of `benign` (`(flagged by the
/// policy, logit)`) to what the policy already raises: the review load a team grants the model.
/// (The model never lowers a verdict, so "policy or model" raises the policy's benign share
/// plus at most `target`.)
fn added_threshold(benign: &[(bool, f64)], target: f64) -> f64 {
    let unflagged: Vec<f64> = benign
        .iter()
        .filter(|(f, _)| !*f)
        .map(|(_, s)| *s)
        .collect();
    if unflagged.is_empty() {
        return f64::INFINITY;
    }
    let allowed = target * benign.len() as f64;
    learn::threshold_at_rate(&unflagged, (allowed / unflagged.len() as f64).min(1.0))
        .unwrap_or(f64::INFINITY)
}

fn rates(items: &[LoopItem], raised: impl Fn(usize) -> bool) -> Rates {
    let mut n = [0usize; 3];
    let mut r = [0usize; 3];
    for (i, item) in items.iter().enumerate() {
        let l = usize::from(item.label.min(2));
        n[l] += 1;
        r[l] += usize::from(raised(i));
    }
    let share = |l: usize| {
        if n[l] == 0 {
            0.0
        } else {
            r[l] as f64 / n[l] as f64
        }
    };
    Rates {
        benign_rate: share(0),
        recall_label1: share(1),
        recall_label2: share(2),
    }
}

/// The loop's state beyond the model.
struct Loop<'a> {
    cfg: &'a LoopConfig,
    arrivals: &'a [LoopItem],
    model: Model,
    rng: Rng,
    decided: Vec<bool>,
    /// Audited decisions: (item, decided label).
    audited: Vec<(usize, Label)>,
    /// Decisions waiting for their batch: (item, reviewer, decided label).
    pending: Vec<(usize, usize, Label)>,
    /// The deployed threshold as a logit (`INFINITY`: raise nothing).
    threshold: f64,
    fitted: bool,
    cp: Checkpoint,
}

impl Loop<'_> {
    /// Fits the calibration and the deployed threshold on the audited decisions, once there
    /// are enough audited benign ones.
    fn refit(&mut self) {
        let scored: Vec<(f64, Label, bool)> = self
            .audited
            .iter()
            .map(|&(i, l)| {
                let it = &self.arrivals[i];
                (
                    self.model.commercial.logit(&it.features),
                    l,
                    it.policy_flagged,
                )
            })
            .collect();
        let benign: Vec<(bool, f64)> = scored
            .iter()
            .filter(|(_, l, _)| *l == Label::Benign)
            .map(|&(s, _, f)| (f, s))
            .collect();
        if benign.len() < self.cfg.min_audit_benign {
            return;
        }
        let pairs: Vec<(f64, bool)> = scored
            .iter()
            .map(|&(s, l, _)| (s, l != Label::Benign))
            .collect();
        if let Some(platt) = learn::fit_platt(&pairs) {
            self.model.calibration = platt;
        }
        self.threshold = added_threshold(&benign, self.cfg.target_benign_rate);
        self.fitted = true;
    }

    /// Learns the pending decisions as one batch under the per-reviewer cap.
    fn learn_batch(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let names: Vec<String> = self
            .pending
            .iter()
            .map(|(_, r, _)| format!("r{r}"))
            .collect();
        let actors: Vec<&str> = names.iter().map(String::as_str).collect();
        let teaches = vec![true; actors.len()];
        let weights = reviewer_weights(&actors, &teaches, self.cfg.reviewer_share);
        for (&(i, _, label), w) in self.pending.iter().zip(weights) {
            self.model
                .learn_weighted(&self.arrivals[i].features, label, w);
        }
        self.pending.clear();
        self.cp.batches += 1;
        self.refit();
    }

    /// One reviewer's decision: the truth, an honest mistake, or the poisoner's inversion.
    fn one_decision(&mut self, truth: Label, honest_only: Option<usize>) -> (usize, Label) {
        if honest_only.is_none() && self.rng.unit() < self.cfg.poison_share {
            // The poisoner is reviewer `reviewers` (one past the honest ones).
            return (self.cfg.reviewers, poisoned(truth));
        }
        let mut r = self.rng.below(self.cfg.reviewers);
        if let Some(first) = honest_only
            && self.cfg.reviewers > 1
            && r == first
        {
            r = (r + 1) % self.cfg.reviewers;
        }
        let l = if self.rng.unit() < self.cfg.error_rate {
            other_label(truth, &mut self.rng)
        } else {
            truth
        };
        (r, l)
    }

    /// The decision about arrival `i`. An audit item is reviewed twice (the second time by
    /// another honest reviewer) and a disagreement goes to a lead, who decides right: the
    /// audit is what the threshold is fitted on, so one reviewer must not be able to bend it.
    fn decide(&mut self, i: usize, source: Source) {
        self.decided[i] = true;
        let item = &self.arrivals[i];
        let (flagged, commercial) = (item.policy_flagged, item.label != 0);
        let truth = truth_label(item.label);
        let (reviewer, mut label) = self.one_decision(truth, None);
        self.cp.wrong += usize::from(label != truth);
        self.cp.found_beyond_policy += usize::from(!flagged && commercial);
        match source {
            Source::Queue => self.cp.from_queue += 1,
            Source::Active => self.cp.from_active += 1,
            Source::Audit => {
                let (_, second) = self.one_decision(truth, Some(reviewer));
                self.cp.wrong += usize::from(second != truth);
                self.cp.from_audit += 2;
                if second != label {
                    self.cp.adjudicated += 1;
                    label = truth;
                }
                self.audited.push((i, label));
            }
        }
        self.pending.push((i, reviewer, label));
        if self.pending.len() >= self.cfg.batch {
            self.learn_batch();
        }
    }
}

/// Measures the current model on the held-out items.
fn measure(model: &Model, threshold: f64, held: &[LoopItem], target: f64) -> Checkpoint {
    let logits: Vec<f64> = held
        .iter()
        .map(|i| model.commercial.logit(&i.features))
        .collect();
    let benign: Vec<(bool, f64)> = held
        .iter()
        .zip(&logits)
        .filter(|(i, _)| i.label == 0)
        .map(|(i, s)| (i.policy_flagged, *s))
        .collect();
    let oracle = added_threshold(&benign, target);
    let all_benign: Vec<f64> = benign.iter().map(|(_, s)| *s).collect();
    let alone = learn::threshold_at_rate(&all_benign, target).unwrap_or(f64::INFINITY);
    let of = |label: &dyn Fn(u8) -> bool, v: &[f64]| -> Vec<f64> {
        held.iter()
            .zip(v)
            .filter(|(i, _)| label(i.label))
            .map(|(_, s)| *s)
            .collect()
    };
    let severe: Vec<f64> = held
        .iter()
        .map(|i| model.severe.logit(&i.features))
        .collect();
    Checkpoint {
        policy: rates(held, |i| held[i].policy_flagged),
        deployed: rates(held, |i| held[i].policy_flagged || logits[i] >= threshold),
        oracle: rates(held, |i| held[i].policy_flagged || logits[i] >= oracle),
        oracle_model_alone: rates(held, |i| logits[i] >= alone),
        auc_commercial: roc_auc(&of(&|l| l != 0, &logits), &of(&|l| l == 0, &logits)),
        auc_label2_over_label1: roc_auc(&of(&|l| l == 2, &severe), &of(&|l| l == 1, &severe)),
        ..Checkpoint::default()
    }
}

/// Runs the loop: `arrivals` in order over the days, measured on `held` (never decided);
/// `model` is where learning starts. Returns the checkpoints (the first at 0 decisions) and the
/// model at the end.
pub fn simulate(
    arrivals: &[LoopItem],
    held: &[LoopItem],
    model: Model,
    cfg: &LoopConfig,
) -> Result<(Vec<Checkpoint>, Model), LoopError> {
    cfg.check()?;
    if arrivals.is_empty() || held.is_empty() {
        return Err(LoopError::Config(
            "the arrivals and the held-out set must not be empty".into(),
        ));
    }
    // Until the audit has fitted a threshold on this platform's own decisions the model raises
    // nothing: the threshold it came with was chosen on another corpus (measured: on an unread
    // blind bank a synth-chosen threshold raised most benign ads and buried the queue).
    let threshold = f64::INFINITY;
    let mut lp = Loop {
        cfg,
        arrivals,
        model,
        rng: Rng(cfg.seed),
        decided: vec![false; arrivals.len()],
        audited: Vec::new(),
        pending: Vec::new(),
        threshold,
        fitted: false,
        cp: Checkpoint::default(),
    };
    let mut out = Vec::new();
    let snapshot = |lp: &Loop, day: usize, arrived: usize, backlog: usize| -> Checkpoint {
        let m = measure(&lp.model, lp.threshold, held, cfg.target_benign_rate);
        Checkpoint {
            decisions: lp.cp.from_queue + lp.cp.from_active + lp.cp.from_audit,
            day,
            arrived,
            backlog,
            deployed_threshold: lp
                .threshold
                .is_finite()
                .then(|| lp.model.calibration.probability(lp.threshold)),
            fitted_on_audit: lp.fitted,
            ..Checkpoint {
                policy: m.policy,
                deployed: m.deployed,
                oracle: m.oracle,
                oracle_model_alone: m.oracle_model_alone,
                auc_commercial: m.auc_commercial,
                auc_label2_over_label1: m.auc_label2_over_label1,
                ..lp.cp.clone()
            }
        }
    };
    out.push(snapshot(&lp, 0, 0, 0));
    let per_day = arrivals.len().div_ceil(cfg.days);
    let mut next_checkpoint = cfg.checkpoint_every;
    for day in 0..cfg.days {
        let arrived = ((day + 1) * per_day).min(arrivals.len());
        let undecided: Vec<usize> = (0..arrived).filter(|&i| !lp.decided[i]).collect();
        let logits: Vec<f64> = undecided
            .iter()
            .map(|&i| lp.model.commercial.logit(&arrivals[i].features))
            .collect();
        let budget = cfg.decisions_per_day;
        let n_active = (budget as f64 * cfg.active_share).round() as usize;
        // Each audit item takes two decisions (double review).
        let n_audit = (budget as f64 * cfg.audit_share / 2.0).round() as usize;
        let n_active = n_active.min(budget.saturating_sub(2 * n_audit));
        let n_queue = budget.saturating_sub(n_active + 2 * n_audit);
        // The queue: raised ads by priority.
        let raised = |k: usize| {
            arrivals[undecided[k]].policy_flagged
                || (cfg.model_enabled && logits[k] >= lp.threshold)
        };
        let mut queue: Vec<(f64, usize)> = (0..undecided.len())
            .filter(|&k| raised(k))
            .map(|k| {
                let p = if cfg.model_enabled {
                    lp.model.calibration.probability(logits[k])
                } else {
                    0.0
                };
                (
                    arrivals[undecided[k]].policy_score + cfg.model_weight * p,
                    k,
                )
            })
            .collect();
        queue.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut chosen: Vec<(usize, Source)> = Vec::with_capacity(budget);
        let mut taken = vec![false; undecided.len()];
        for &(_, k) in queue.iter().take(n_queue) {
            taken[k] = true;
            chosen.push((undecided[k], Source::Queue));
        }
        let backlog = queue.len().saturating_sub(n_queue);
        // Active learning: nearest the deployed threshold (or the model's even odds when it
        // raises nothing).
        let centre = if lp.threshold.is_finite() {
            lp.threshold
        } else {
            0.0
        };
        let mut near: Vec<(f64, usize)> = (0..undecided.len())
            .filter(|&k| !taken[k])
            .map(|k| ((logits[k] - centre).abs(), k))
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        // What the queue did not fill goes to active learning too: reviewers are not idle.
        let spare = n_queue - chosen.len().min(n_queue);
        for &(_, k) in near.iter().take(n_active + spare) {
            taken[k] = true;
            chosen.push((undecided[k], Source::Active));
        }
        // The audit: uniform over what is left.
        let mut rest: Vec<usize> = (0..undecided.len()).filter(|&k| !taken[k]).collect();
        for _ in 0..n_audit.min(rest.len()) {
            let j = lp.rng.below(rest.len());
            let k = rest.swap_remove(j);
            chosen.push((undecided[k], Source::Audit));
        }
        // Reviewers work through the day's items in no particular order.
        let order = learn::shuffled(chosen.len(), cfg.seed ^ (day as u64 + 1));
        for j in order {
            let (i, source) = chosen[j];
            lp.decide(i, source);
            let made = lp.cp.from_queue + lp.cp.from_active + lp.cp.from_audit;
            if made >= next_checkpoint {
                lp.learn_batch();
                out.push(snapshot(&lp, day + 1, arrived, backlog));
                next_checkpoint += cfg.checkpoint_every;
            }
        }
    }
    lp.learn_batch();
    let made = lp.cp.from_queue + lp.cp.from_active + lp.cp.from_audit;
    if out.last().is_some_and(|c| c.decisions != made) {
        out.push(snapshot(&lp, cfg.days, arrivals.len(), 0));
    }
    Ok((out, lp.model))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

    use samaritan_engine::learn::{FeatureConfig, FtrlParams};

    use super::*;

    /// Ads whose only feature says what they are: slot 1 commercial wording the policy does
    /// not know, slot 2 benign wording, slot 3 a bias; the policy flags only a fifth of the
    /// commercial ones.
    fn corpus(n: usize, seed: u64) -> Vec<LoopItem> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|i| {
                let label = (rng.next() % 3) as u8;
                let word = if label == 0 { 2 } else { 1 };
                LoopItem {
                    features: Features {
                        slots: vec![(word, 1.0), (3, 1.0)],
                    },
                    label,
                    policy_flagged: label != 0 && i % 5 == 0,
                    policy_score: if label != 0 && i % 5 == 0 { 0.6 } else { 0.0 },
                }
            })
            .collect()
    }

    fn cfg() -> LoopConfig {
        LoopConfig {
            days: 10,
            decisions_per_day: 40,
            batch: 20,
            min_audit_benign: 10,
            checkpoint_every: 100,
            audit_share: 0.25,
            ..LoopConfig::default()
        }
    }

    fn fresh() -> Model {
        Model::new(
            FeatureConfig {
                bits: 10,
                ..FeatureConfig::default()
            },
            FtrlParams::default(),
        )
    }

    #[test]
    fn reviewers_teach_what_the_policy_misses() {
        let (cps, _) = simulate(&corpus(2_000, 1), &corpus(1_000, 2), fresh(), &cfg()).unwrap();
        let first = &cps[0];
        let last = cps.last().unwrap();
        assert_eq!(first.decisions, 0);
        assert_eq!(last.decisions, 400);
        assert_eq!(last.from_queue + last.from_active + last.from_audit, 400);
        assert!(first.deployed.recall_label1 < 0.3, "{first:?}");
        assert!(last.deployed.recall_label1 > 0.95, "{last:?}");
        assert!(last.deployed.benign_rate <= 0.01, "{last:?}");
        assert!(last.fitted_on_audit);
        // Deterministic for a seed.
        let again = simulate(&corpus(2_000, 1), &corpus(1_000, 2), fresh(), &cfg()).unwrap();
        assert_eq!(again.0, cps);
    }

    #[test]
    fn the_poisoner_is_counted_and_capped_reviewers_still_win() {
        let c = LoopConfig {
            poison_share: 0.2,
            ..cfg()
        };
        let (cps, _) = simulate(&corpus(2_000, 1), &corpus(1_000, 2), fresh(), &c).unwrap();
        let last = cps.last().unwrap();
        assert!(last.wrong > 40 && last.wrong < 130, "{last:?}");
        assert!(last.deployed.recall_label1 > 0.9, "{last:?}");
    }

    #[test]
    fn a_shadow_model_leaves_the_queue_to_the_policy() {
        let c = LoopConfig {
            model_enabled: false,
            active_share: 0.0,
            audit_share: 0.0,
            ..cfg()
        };
        let (cps, _) = simulate(&corpus(2_000, 1), &corpus(1_000, 2), fresh(), &c).unwrap();
        let last = cps.last().unwrap();
        // Only flagged ads are decided until they run out; then the rest go to active
        // learning (reviewers are not idle).
        assert_eq!(last.from_audit, 0);
        assert!(last.from_queue > 0);
    }

    #[test]
    fn bad_configurations_are_refused() {
        let items = corpus(10, 1);
        for c in [
            LoopConfig { days: 0, ..cfg() },
            LoopConfig {
                error_rate: 1.5,
                ..cfg()
            },
            LoopConfig {
                active_share: 0.7,
                audit_share: 0.7,
                ..cfg()
            },
        ] {
            assert!(simulate(&items, &items, fresh(), &c).is_err());
        }
        assert!(simulate(&[], &items, fresh(), &cfg()).is_err());
    }

    #[test]
    fn the_added_threshold_grants_the_model_its_share() {
        // 100 benign: 0 flagged, logits 0..99: the model may raise 5.
        let benign: Vec<(bool, f64)> = (0..100).map(|i| (false, f64::from(i))).collect();
        let t = added_threshold(&benign, 0.05);
        assert_eq!(benign.iter().filter(|(_, s)| *s >= t).count(), 5);
        // The policy raises 10 already (the top ten): the model still adds 5 of the rest.
        let b: Vec<(bool, f64)> = (0..100).map(|i| (i >= 90, f64::from(i))).collect();
        let t = added_threshold(&b, 0.05);
        assert_eq!(b.iter().filter(|(f, s)| !*f && *s >= t).count(), 5);
        // Nothing left for it to add: it raises nothing.
        let all: Vec<(bool, f64)> = (0..10).map(|i| (true, f64::from(i))).collect();
        assert_eq!(added_threshold(&all, 0.05), f64::INFINITY);
    }
}
