//! The policy file as written: TOML that a trust & safety lead can read and change.
//!
//! These types mirror the file one to one; `compile` checks them and turns them into matchers.
//! Field-level docs here are the reference for policy authors (see also `policies/README.md`).

use serde::Deserialize;
use toml::Spanned;

/// A whole policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub policy: Meta,
    pub scoring: Scoring,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default, rename = "context")]
    pub contexts: Vec<ContextSpec>,
    #[serde(default, rename = "category")]
    pub categories: Vec<CategorySpec>,
    #[serde(default, rename = "indicator")]
    pub indicators: Vec<IndicatorSpec>,
    #[serde(default, rename = "test")]
    pub tests: Vec<TestSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
}

/// How signals combine into a score and a score into a verdict.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// `noisy-or`: score = 1 − ∏(1 − weightᵢ) over the signals (one per indicator). Each weight
    /// reads as "how likely this signal alone makes the ad a problem"; independent signals add
    /// up without ever exceeding 1.
    pub combine: Spanned<String>,
    /// Score at or above which an ad goes to human review.
    pub review_at: f64,
    /// Score at or above which an ad is held (blocked) pending review.
    pub block_at: f64,
    /// Bytes on either side of a match that count as "near" for proximity rules.
    #[serde(default = "default_window")]
    pub near_window: usize,
    /// How many distinct ambiguous words (`requires_near` matches) within `near_window` of each
    /// other vouch for each other without an unambiguous one; 0 (the default) never.
    #[serde(default)]
    pub ambiguous_quorum: usize,
    /// When not empty, `block` needs at least one signal of one of these categories; otherwise
    /// the verdict stops at `review`. Keeps "commercial wording alone" from ever blocking.
    #[serde(default)]
    pub block_requires: Vec<String>,
}

/// Per-category settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySpec {
    pub name: Spanned<String>,
    /// The most the signals of this category can add together: their noisy-OR is capped here
    /// before categories combine.
    pub cap: f64,
    #[serde(default)]
    pub description: String,
}

fn default_window() -> usize {
    250
}

/// Queue order and report candidacy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Priority {
    /// Any signal of these categories puts the ad at the top of the queue and marks it a
    /// candidate for a CyberTipline report (a human still decides).
    #[serde(default)]
    pub report_categories: Vec<String>,
    /// Priority given to report candidates (others get `score × scale`).
    #[serde(default = "default_top")]
    pub top: u32,
    #[serde(default = "default_scale")]
    pub scale: u32,
}

fn default_top() -> u32 {
    100
}
fn default_scale() -> u32 {
    80
}

impl Default for Priority {
    fn default() -> Self {
        Priority {
            report_categories: Vec::new(),
            top: default_top(),
            scale: default_scale(),
        }
    }
}

/// A named context, present in an ad when any indicator of its categories fired.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub name: Spanned<String>,
    pub categories: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// One indicator: what it means, where the evidence for it comes from, how much it weighs, and
/// what makes it fire (phrases and patterns on the normalized text, or a built-in feature).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    pub id: Spanned<String>,
    pub category: String,
    pub description: String,
    /// Where the evidence for this indicator comes from (study, practitioner guidance, …).
    pub source: String,
    /// Weight in [0, 1] when the indicator fires.
    pub weight: Spanned<f64>,
    /// Literal phrases, matched case-insensitively on whole words of the normalized text.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Regular expressions (Rust `regex` syntax), matched case-insensitively on the normalized
    /// text. Write `\b` for word boundaries.
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    /// Benign contexts: a match inside one of these phrases does not count ("young
    /// professionals", "fresh eggs").
    #[serde(default)]
    pub exceptions: Vec<String>,
    /// Words of a benign sense nearby: a match within `near_window` bytes of one of these
    /// phrases does not count ("escort" in an ad that also says "oversize load" or "pilot
    /// car").
    #[serde(default)]
    pub unless_near: Vec<String>,
    /// A built-in feature computed from what the extractors or the linker found, instead of text.
    #[serde(default)]
    pub feature: Option<Spanned<FeatureSpec>>,
    /// The indicator counts only in ads where this context is present.
    #[serde(default)]
    pub requires: Option<Spanned<String>>,
    /// A different weight when a match lies near a signal of this context.
    #[serde(default)]
    pub near: Option<NearSpec>,
    /// For words that are ambiguous on their own ("overnight", "gentlemen", a price per hour):
    /// the indicator counts only where an indicator that establishes this context
    /// unconditionally matched within `near_window` bytes, or where `ambiguous_quorum` distinct
    /// ambiguous words stand together. Until then it neither fires nor establishes the context,
    /// so overnight pet sitting reaches no one's queue by itself.
    #[serde(default)]
    pub requires_near: Option<Spanned<String>>,
    /// Matches of this indicator count toward the `ambiguous_quorum` of this context, although
    /// they do not establish it alone: "write to my agent" beside a price per hour and a second
    /// handler phrase reads as an offer.
    #[serde(default)]
    pub vouches: Option<Spanned<String>>,
    /// For a `requires_near` indicator: whether its matches count toward the ambiguous quorum
    /// (default true). `false` for what every trade writes, not the genre's words — a price by
    /// the hour, "deposit required": such a match is admitted by an unambiguous cue or by a
    /// quorum of other ambiguous words around it, and counts toward a quorum only beside a
    /// `vouches` cue (handler wording, coded youth); a tutor's two prices and a landlord's
    /// deposit never make a quorum with one "overnight".
    #[serde(default = "yes")]
    pub in_quorum: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearSpec {
    pub context: Spanned<String>,
    pub weight: f64,
}

/// Built-in features (see `policy::features`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeatureSpec {
    /// A phone number written in an obscured form (spelled digits, look-alikes, …).
    ObscuredPhone,
    /// A stated age below `age`.
    AgeBelow { age: u32 },
    /// A stated age in `min..=max`.
    AgeBetween { min: u32, max: u32 },
    /// One of the ad's phones was seen in at least `cities` distinct cities within `days`.
    PhoneCities { cities: u32, days: u32 },
    /// The ad's network has at least `ads` ads.
    NetworkSize { ads: u32 },
    /// The ad's network advertises at least `names` distinct persona names.
    NetworkNames { names: u32 },
    /// At least `share` (0..1) of the ad's network shows `context` by its own wording: the
    /// network vouches for what one terse ad does not say.
    NetworkContext { context: String, share: f64 },
    /// An image of the ad matched a hash bank.
    HashBankMatch,
    /// The learned model (issue 25) scored the ad at or above `at` (a calibrated probability),
    /// or, without `at`, at or above the model's own raise threshold. It can send an ad to
    /// review and order the queue; it never blocks an ad or makes it a report candidate on its
    /// own, and it establishes no context (checked when the policy is compiled and decided).
    ModelScore {
        #[serde(default)]
        at: Option<f64>,
    },
}

/// An example the policy must handle as stated; run by `samaritan policy test` and CI.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    pub name: Spanned<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub body: String,
    /// Indicators that must fire.
    #[serde(default)]
    pub fires: Vec<String>,
    /// Indicators that must not fire.
    #[serde(default)]
    pub not_fires: Vec<String>,
    /// Expected verdict, if any: `allow`, `review` or `block`.
    #[serde(default)]
    pub verdict: Option<String>,
    /// Expected report candidacy, if stated.
    #[serde(default)]
    pub report_candidate: Option<bool>,
}
