//! A synthetic marketplace with ground truth, for demos, benchmarks and quality tests.
//!
//! The corpus mixes benign categories (jobs, housing, goods, services, community, dating) with
//! hard negatives, commercial-sex ads written clinically, and trafficking networks that share a
//! template, rotate phones and personas, move through cities and reuse photos. Phones and ages
//! are written in many obfuscated forms. Everything is a pure function of the seed: the same seed
//! gives the same corpus on every machine, and ads can be generated in parallel.
//!
//! Labels: 0 benign, 1 commercial sex, 2 commercial sex with trafficking or minor indicators.
//! `network` groups the ads of one poster that posted more than one ad.

mod actor;
pub mod bank;
mod compose;
pub mod render;
pub mod rng;
pub mod template;

use samaritan_engine::model::Ad;
use serde::{Deserialize, Serialize};

pub use actor::Kind;

/// Which wording bank the commercial ads use (see [`bank::commercial`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phrasing {
    /// The bank the engine is developed against.
    #[default]
    Main,
    /// Different words for the same things, used only to check generalisation.
    Holdout,
    /// A blind bank ([`bank::blind`]), written without sight of the policy or the other banks:
    /// evaluation only. The name is one of [`bank::blind::NAMES`]; check it with
    /// [`bank::blind::bank`] before generating (an unusable bank panics here).
    Blind(&'static str),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    pub ads: u64,
    pub seed: u64,
    pub phrasing: Phrasing,
    /// First posting time, seconds since the epoch.
    pub start: i64,
    /// Days the corpus spans.
    pub days: u32,
    /// Attach image hashes (`{sha256, pdq}`) to ads, reused within networks.
    pub images: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ads: 10_000,
            seed: 1,
            phrasing: Phrasing::Main,
            start: 1_767_225_600, // 2026-01-01T00:00:00Z
            days: 90,
            images: true,
        }
    }
}

/// Ground truth for one ad (one line of `truth.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub id: String,
    /// 0 benign, 1 commercial sex, 2 commercial sex with trafficking or minor indicators.
    pub label: u8,
    /// Phones in the ad, in the engine's output format.
    pub phones: Vec<String>,
    /// Every stated age of the person (or people) the ad is about: the poster of a benign ad,
    /// the person offered in a commercial one.
    pub ages: Vec<u32>,
    /// Ages the ad states of someone else (children a sitter or a parent names, players of a
    /// team): an extractor must not report them as the advertised person's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_ages: Vec<u32>,
    /// The poster's group id when the poster has more than one ad in the corpus.
    pub network: Option<String>,
    /// What kind of poster wrote it (`person`, `company`, `trafficking`, …).
    pub poster: &'static str,
    pub category: &'static str,
    /// Cue groups the text carries (`youth`, `third_party`, `movement`, …).
    pub cues: Vec<&'static str>,
    /// The ad uses indicator words in a benign sense.
    pub hard_negative: bool,
    /// A phone in the ad is written in an obscured form.
    pub obfuscated_phone: bool,
    pub city: String,
}

/// A planned corpus: cheap to create, then any ad can be generated on its own.
pub struct Corpus {
    config: Config,
    plan: actor::Plan,
}

impl Corpus {
    pub fn new(config: Config) -> Corpus {
        let plan = actor::Plan::new(config.seed, config.ads, i64::from(config.days) * 86_400);
        Corpus { config, plan }
    }

    pub fn len(&self) -> usize {
        self.plan.schedule.len()
    }

    pub fn is_empty(&self) -> bool {
        self.plan.schedule.is_empty()
    }

    /// The `i`-th ad in posting order, with its truth.
    pub fn ad(&self, i: usize) -> (Ad, Truth) {
        let (t, a, k) = self.plan.schedule[i];
        let actor = &self.plan.actors[a as usize];
        let (ad, mut truth) = compose::compose(
            self.config.seed,
            self.config.phrasing,
            self.config.images,
            actor,
            k,
            i as u64,
            self.config.start + t,
        );
        if actor.ads > 1 {
            truth.network = Some(format!("p{}-{}", self.config.seed, actor.index));
        }
        (ad, truth)
    }

    /// All ads in posting order.
    pub fn iter(&self) -> impl Iterator<Item = (Ad, Truth)> + '_ {
        (0..self.len()).map(|i| self.ad(i))
    }
}

#[cfg(test)]
mod tests;
