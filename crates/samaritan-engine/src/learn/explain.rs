//! Why the model scored an ad as it did: the features that moved its logit most, each with the
//! spans of the original text it came from.

use serde::{Deserialize, Serialize};

use super::features::{Features, Named};
use super::ftrl::Ftrl;

/// One feature's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// `namespace:text`, e.g. `word:incall`, `char:<ca`, `ind:youth_language`, `kind:phone`.
    pub feature: String,
    /// `weight * value`, in logits; positive pushes toward raising the ad.
    pub contribution: f64,
    /// Byte spans `[start, end)` in the original document where it occurs (at most
    /// [`MAX_SPANS`]; empty for features without text, such as `kind:phone`).
    pub spans: Vec<[usize; 2]>,
    /// The original text at the first span (empty without one).
    pub text: String,
}

/// Spans listed per contribution.
pub const MAX_SPANS: usize = 3;

/// The `k` features with the largest contributions, most positive first, then the most negative
/// if fewer than `k` are positive. `named` are the occurrences `featurize_named` gave for `x`.
pub fn contributions(
    head: &Ftrl,
    x: &Features,
    named: &[Named],
    document: &str,
    k: usize,
) -> Vec<Contribution> {
    let mut parts: Vec<(u32, f64)> = x
        .slots
        .iter()
        .map(|&(s, v)| (s, head.weight(s) * f64::from(v)))
        .filter(|(_, c)| *c != 0.0)
        .collect();
    // positive first by size, then negative by size; slot breaks ties (deterministic)
    parts.sort_by(|a, b| {
        (b.1 > 0.0)
            .cmp(&(a.1 > 0.0))
            .then(b.1.abs().total_cmp(&a.1.abs()))
            .then(a.0.cmp(&b.0))
    });
    parts.truncate(k);
    parts
        .into_iter()
        .map(|(slot, contribution)| {
            let mine: Vec<&Named> = named.iter().filter(|n| n.slot == slot).collect();
            let feature = mine.first().map(|n| n.name.clone()).unwrap_or_default();
            let mut spans: Vec<[usize; 2]> = Vec::new();
            for n in &mine {
                if let Some(s) = n.span
                    && !spans.contains(&s)
                    && spans.len() < MAX_SPANS
                {
                    spans.push(s);
                }
            }
            let text = spans
                .first()
                .and_then(|s| document.get(s[0]..s[1]))
                .unwrap_or("")
                .to_owned();
            Contribution {
                feature,
                contribution,
                spans,
                text,
            }
        })
        .collect()
}
