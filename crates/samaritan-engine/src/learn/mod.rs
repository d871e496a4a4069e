//! Learning from reviewers (issue 25): an explainable online model beside the policy.
//!
//! The policy's indicators are written by hand and miss wording they were not written for. This
//! module learns from decided ads: logistic regression trained online with FTRL-Proximal
//! (`ftrl`) over hashed features of what the pipeline already computed (`features`: masked
//! words, character n-grams, the policy's indicators, the extracted kinds), calibrated on held
//! decisions (`calibrate`), and explained by the features that moved each score, with their
//! spans in the original text (`explain`). It never decides on its own: a score at or above the
//! model's raise threshold sends an ad to review.
//!
//! Everything here is pure and deterministic: the same examples in the same order give the same
//! model bit for bit; hashes are xxh3 with a pinned seed.

pub mod calibrate;
pub mod cap;
pub mod explain;
pub mod features;
pub mod ftrl;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use calibrate::{Platt, fit_platt, threshold_at_rate};
pub use cap::reviewer_weights;
pub use explain::{Contribution, contributions};
pub use features::{
    FeatureConfig, Features, ModelInput, Scratch, featurize, featurize_into, featurize_named,
};
pub use ftrl::{Ftrl, FtrlParams, sigmoid};

/// The saved model's format; a file with another is refused.
pub const MODEL_FORMAT: u32 = 1;

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("model file is not valid JSON for a model: {0}")]
    Json(#[from] serde_json::Error),
    #[error("model format {found}, this build reads format {MODEL_FORMAT}")]
    Format { found: u32 },
    #[error("invalid model: {0}")]
    Invalid(String),
}

/// What a reviewer decided about an ad, as the model learns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Not commercial sex (truth label 0).
    Benign,
    /// Commercial sex between adults (truth label 1).
    Commercial,
    /// Trafficking or minor indicators (truth label 2).
    Severe,
}

/// The operating point at which the model raises an ad to review.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RaisePoint {
    /// Raise when the calibrated probability is at least this.
    pub probability: f64,
    /// The benign rate it was chosen at, and on how many benign items.
    pub benign_rate: f64,
    pub benign_items: u64,
}

/// The model: how features are made and two heads over them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: u32,
    pub features: FeatureConfig,
    /// Commercial sex (labels 1 and 2) over benign.
    pub commercial: Ftrl,
    /// Trafficking / minor indicators (label 2) over the rest: ranks what was raised.
    pub severe: Ftrl,
    /// Maps the commercial head's logit to a probability.
    pub calibration: Platt,
    pub raise: Option<RaisePoint>,
}

/// A model's view of one ad.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The commercial head's raw logit.
    pub logit: f64,
    /// Calibrated probability of commercial sex.
    pub probability: f64,
    /// The severe head's probability (uncalibrated): the ranking within raised ads.
    pub severe: f64,
    /// True when `probability` reaches the raise threshold.
    pub raised: bool,
}

impl Model {
    pub fn new(features: FeatureConfig, params: FtrlParams) -> Model {
        Model {
            format: MODEL_FORMAT,
            commercial: Ftrl::new(params, features.bits),
            severe: Ftrl::new(params, features.bits),
            features,
            calibration: Platt::default(),
            raise: None,
        }
    }

    /// Reads a saved model, checking its format and that its parts agree.
    pub fn from_json(text: &str) -> Result<Model, LearnError> {
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head = serde_json::from_str(text)?;
        if head.format != MODEL_FORMAT {
            return Err(LearnError::Format { found: head.format });
        }
        let model: Model = serde_json::from_str(text)?;
        model.features.check().map_err(LearnError::Invalid)?;
        let c = model.calibration;
        if !c.a.is_finite() || !c.b.is_finite() {
            return Err(LearnError::Invalid("calibration not finite".into()));
        }
        if model.raise.is_some_and(|r| !r.probability.is_finite()) {
            return Err(LearnError::Invalid("raise threshold not finite".into()));
        }
        Ok(model)
    }

    /// Learns one decided ad.
    pub fn learn(&mut self, x: &Features, label: Label) {
        self.learn_weighted(x, label, 1.0);
    }

    /// Learns one decided ad with `weight` (0 to 1: a reviewer's share capped, see the
    /// service's learning rule); a weight of 0 or less, or not finite, changes nothing.
    pub fn learn_weighted(&mut self, x: &Features, label: Label, weight: f64) {
        if !(weight.is_finite() && weight > 0.0) {
            return;
        }
        self.commercial.update(x, label != Label::Benign, weight);
        self.severe.update(x, label == Label::Severe, weight);
    }

    pub fn score(&self, x: &Features) -> Score {
        let (logit, severe) = Ftrl::logits(&self.commercial, &self.severe, x);
        let probability = self.calibration.probability(logit);
        Score {
            logit,
            probability,
            severe: sigmoid(severe),
            raised: self.raise.is_some_and(|r| probability >= r.probability),
        }
    }

    /// The score of one ad's input: what `scan --model` and the service compute per ad (the same
    /// figures as [`Model::score`] of [`featurize`]).
    pub fn score_input(&self, input: &ModelInput) -> Score {
        self.score_with(input, &mut Scratch::default())
    }

    /// [`Model::score_input`] in buffers kept from one ad to the next (one [`Scratch`] per
    /// thread): the same score, without allocating per ad.
    pub fn score_with(&self, input: &ModelInput, scratch: &mut Scratch) -> Score {
        self.score(featurize_into(input, &self.features, scratch))
    }

    /// How unsure the model is of `score`: the distance of its probability from the point where
    /// it would change its answer (the raise threshold, or even odds before one is chosen). 0 is
    /// a coin toss; active learning shows reviewers the ads with the smallest margin first, where
    /// a decision teaches the model most.
    pub fn margin(&self, score: &Score) -> f64 {
        let at = self.raise.map_or(0.5, |r| r.probability);
        (score.probability - at).abs()
    }

    /// The ad's score and the `k` features that moved the commercial head most.
    pub fn explain(&self, input: &ModelInput, k: usize) -> (Score, Vec<Contribution>) {
        let (x, named) = featurize_named(input, &self.features);
        let score = self.score(&x);
        let top = contributions(&self.commercial, &x, &named, input.document, k);
        (score, top)
    }
}

/// The next value of a SplitMix64 stream at `state` (Steele, Lea and Flood 2014): a fixed,
/// published generator, so shuffles and simulations are the same on every platform and version.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    crate::similar::tokens::mix(*state)
}

/// `0..n` in a deterministic order for `seed` (Fisher–Yates with SplitMix64).
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}
