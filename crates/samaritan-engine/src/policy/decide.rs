//! From indicator hits and extracted facts to signals, a score, a verdict and a queue priority.
//!
//! One signal per indicator (its strongest match), so repeating a phrase ten times does not
//! make an ad ten times worse. The score is the noisy-OR of the signals' weights, so anyone can
//! recompute it from the signals in the output.

use crate::model::{Signal, Verdict};

use super::compile::Policy;
use super::spec::FeatureSpec;

/// What the linker knows about the network an ad belongs to (implemented by the linker).
pub trait NetworkView {
    /// Ads in the network.
    fn size(&self) -> u32;
    /// Distinct persona names advertised across the network.
    fn names(&self) -> u32;
    /// The largest number of distinct cities one of the ad's phones was seen in within any window
    /// of `days` days.
    fn max_phone_cities_within(&self, days: u32) -> u32;
}

/// An image of the ad that matched a hash bank.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BankMatch {
    pub bank: String,
    pub distance: u32,
    pub image: usize,
}

/// What the extractors and the linker found, for built-in features.
#[derive(Default)]
pub struct Facts<'a> {
    /// Original spans of phone numbers written in an obscured form.
    pub obscured_phones: Vec<[usize; 2]>,
    /// Stated ages with their original spans.
    pub ages: Vec<(u32, [usize; 2])>,
    pub network: Option<&'a dyn NetworkView>,
    /// Per context (policy order), the share of the ad's network whose own wording shows it;
    /// empty when the ad is in no network.
    pub network_context_share: Vec<f64>,
    pub bank_matches: Vec<BankMatch>,
    /// The learned model's view of the ad, when a model is in force.
    pub model: Option<ModelFact>,
}

/// What the learned model (issue 25) said about an ad, for the `model_score` feature.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelFact {
    /// Calibrated probability of commercial sex.
    pub probability: f64,
    /// The probability reached the model's own raise threshold.
    pub raised: bool,
}

/// A match in original-text coordinates, ready for explanation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    pub indicator: usize,
    pub span: Option<[usize; 2]>,
}

/// The policy's decision for one ad.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub score: f64,
    pub priority: u32,
    pub report_candidate: bool,
    pub signals: Vec<Signal>,
}

/// Noisy-OR: 1 − ∏(1 − wᵢ).
pub fn combine(weights: impl IntoIterator<Item = f64>) -> f64 {
    1.0 - weights
        .into_iter()
        .fold(1.0, |acc, w| acc * (1.0 - w.clamp(0.0, 1.0)))
}

/// Bytes between two spans (0 when they overlap).
pub(crate) fn gap(a: [usize; 2], b: [usize; 2]) -> usize {
    b[0].saturating_sub(a[1]).max(a[0].saturating_sub(b[1]))
}

impl Policy {
    /// Whether `signals` include a category the policy requires before it blocks.
    fn may_block(&self, signals: &[Signal]) -> bool {
        self.block_requires.is_empty()
            || signals
                .iter()
                .any(|s| self.block_requires.contains(&s.category))
    }

    /// Whether indicator `id` is the learned model's (`model_score`).
    fn is_model_indicator(&self, id: &str) -> bool {
        self.indicators
            .iter()
            .any(|i| i.id == id && matches!(i.feature, Some(FeatureSpec::ModelScore { .. })))
    }

    /// The score of a set of signals: noisy-OR within each category, capped at the category's
    /// cap, then noisy-OR across categories. Without caps this is the plain noisy-OR of all
    /// weights.
    pub fn score(&self, signals: &[Signal]) -> f64 {
        let mut by_category: Vec<(&str, Vec<f64>)> = Vec::new();
        for s in signals {
            match by_category.iter_mut().find(|(c, _)| *c == s.category) {
                Some((_, ws)) => ws.push(s.weight),
                None => by_category.push((&s.category, vec![s.weight])),
            }
        }
        let score = combine(by_category.into_iter().map(|(c, ws)| {
            let w = combine(ws);
            self.caps.get(c).map_or(w, |&cap| w.min(cap))
        }));
        // Six decimals: enough to rank, and free of float noise such as 0.30000000000000004.
        (score * 1e6).round() / 1e6
    }

    /// Hits produced by built-in features.
    fn feature_hits(&self, facts: &Facts) -> Vec<(Hit, String)> {
        let mut out = Vec::new();
        for (i, ind) in self.indicators.iter().enumerate() {
            let Some(f) = &ind.feature else { continue };
            match f {
                FeatureSpec::ObscuredPhone => {
                    if let Some(&span) = facts.obscured_phones.first() {
                        out.push((
                            Hit {
                                indicator: i,
                                span: Some(span),
                            },
                            String::new(),
                        ));
                    }
                }
                FeatureSpec::AgeBelow { age } => {
                    if let Some((a, span)) = facts.ages.iter().find(|(a, _)| a < age) {
                        out.push((
                            Hit {
                                indicator: i,
                                span: Some(*span),
                            },
                            format!("stated age {a}"),
                        ));
                    }
                }
                FeatureSpec::AgeBetween { min, max } => {
                    if let Some((a, span)) =
                        facts.ages.iter().find(|(a, _)| (min..=max).contains(&a))
                    {
                        out.push((
                            Hit {
                                indicator: i,
                                span: Some(*span),
                            },
                            format!("stated age {a}"),
                        ));
                    }
                }
                FeatureSpec::PhoneCities { cities, days } => {
                    if let Some(n) = facts.network {
                        let seen = n.max_phone_cities_within(*days);
                        if seen >= *cities {
                            out.push((
                                Hit {
                                    indicator: i,
                                    span: None,
                                },
                                format!("one phone in {seen} cities within {days} days"),
                            ));
                        }
                    }
                }
                FeatureSpec::NetworkSize { ads } => {
                    if let Some(n) = facts.network
                        && n.size() >= *ads
                    {
                        out.push((
                            Hit {
                                indicator: i,
                                span: None,
                            },
                            format!("network of {} ads", n.size()),
                        ));
                    }
                }
                FeatureSpec::NetworkNames { names } => {
                    if let Some(n) = facts.network
                        && n.names() >= *names
                    {
                        out.push((
                            Hit {
                                indicator: i,
                                span: None,
                            },
                            format!("{} persona names in the network", n.names()),
                        ));
                    }
                }
                FeatureSpec::NetworkContext { context, share } => {
                    let seen = self
                        .context(context)
                        .and_then(|c| facts.network_context_share.get(c))
                        .copied()
                        .unwrap_or(0.0);
                    if seen >= *share {
                        out.push((
                            Hit {
                                indicator: i,
                                span: None,
                            },
                            format!(
                                "{:.0}% of its network's ads show {context} wording",
                                seen * 100.0
                            ),
                        ));
                    }
                }
                FeatureSpec::ModelScore { at } => {
                    if let Some(m) = facts.model
                        && at.map_or(m.raised, |at| m.probability >= at)
                    {
                        out.push((
                            Hit {
                                indicator: i,
                                span: None,
                            },
                            format!("learned model: probability {:.2}", m.probability),
                        ));
                    }
                }
                FeatureSpec::HashBankMatch => {
                    if let Some(m) = facts.bank_matches.iter().min_by_key(|m| m.distance) {
                        out.push((
                            Hit {
                                indicator: i,
                                span: None,
                            },
                            format!(
                                "image {} matched bank `{}` at distance {}",
                                m.image, m.bank, m.distance
                            ),
                        ));
                    }
                }
            }
        }
        out
    }

    /// Decides an ad from its text hits (original spans) and facts. `original` is the ad's
    /// document, for quoting matched text.
    pub fn decide(&self, text_hits: &[Hit], facts: &Facts, original: &str) -> Decision {
        self.decide_quoting(text_hits, facts, &|[s, e]| {
            original.get(s..e).unwrap_or("").to_owned()
        })
    }

    /// [`Policy::decide`] with the original text given as a function from span to text (for
    /// callers that keep quotes instead of whole documents).
    pub fn decide_quoting(
        &self,
        text_hits: &[Hit],
        facts: &Facts,
        quote: &dyn Fn([usize; 2]) -> String,
    ) -> Decision {
        let mut hits: Vec<(Hit, String)> = text_hits
            .iter()
            .map(|h| (h.clone(), String::new()))
            .collect();
        hits.extend(self.feature_hits(facts));

        // Contexts present, and where their evidence sits (ambiguous words only where
        // corroborated).
        let all: Vec<Hit> = hits.iter().map(|(h, _)| h.clone()).collect();
        let evidence = self.context_evidence(&all);
        let context_spans = &evidence.all;

        // The strongest admissible hit per indicator.
        let mut best: Vec<Option<(f64, Hit, String, usize)>> = vec![None; self.indicators.len()];
        for (h, detail) in hits {
            let ind = &self.indicators[h.indicator];
            if let Some(c) = ind.requires
                && context_spans[c].is_empty()
            {
                continue;
            }
            if !self.admitted(&h, &evidence.unconditional, &all) {
                continue;
            }
            let mut weight = ind.weight;
            let mut near_note = None;
            if let (Some((c, w)), Some(span)) = (ind.near, h.span) {
                let near = context_spans[c]
                    .iter()
                    .flatten()
                    .any(|&s| gap(s, span) <= self.near_window);
                if near {
                    weight = w;
                    near_note = Some(c);
                }
            }
            let slot = &mut best[h.indicator];
            let count = slot.as_ref().map_or(0, |b| b.3) + 1;
            let replace = match slot {
                None => true,
                Some((w, ..)) => weight > *w,
            };
            if replace {
                let mut note = detail;
                if let Some(c) = near_note {
                    if !note.is_empty() {
                        note.push_str("; ");
                    }
                    note.push_str(&format!("near {} wording", self.contexts[c].name));
                }
                *slot = Some((weight, h, note, count));
            } else if let Some(b) = slot {
                b.3 = count;
            }
        }

        let mut signals = Vec::new();
        let mut from_model = false;
        for (i, b) in best.into_iter().enumerate() {
            let Some((weight, hit, detail, count)) = b else {
                continue;
            };
            let ind = &self.indicators[i];
            from_model |= matches!(ind.feature, Some(FeatureSpec::ModelScore { .. }));
            let text = hit.span.map(quote).unwrap_or_default();
            let mut note = ind.description.clone();
            if !detail.is_empty() {
                note.push_str(" (");
                note.push_str(&detail);
                note.push(')');
            }
            if count > 1 {
                note.push_str(&format!(" [{} matches, counted once]", count));
            }
            signals.push(Signal {
                indicator: ind.id.clone(),
                category: ind.category.clone(),
                weight,
                span: hit.span,
                text,
                note,
            });
        }
        signals.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.span.cmp(&b.span)));

        let score = self.score(&signals);
        // The learned model never blocks on its own: the block is decided without its signals
        // (only ads it fired on pay for the second look).
        let (block_score, may_block) = if from_model {
            let rest: Vec<Signal> = signals
                .iter()
                .filter(|s| !self.is_model_indicator(&s.indicator))
                .cloned()
                .collect();
            (self.score(&rest), self.may_block(&rest))
        } else {
            (score, self.may_block(&signals))
        };
        let verdict = if block_score >= self.block_at && may_block {
            Verdict::Block
        } else if score >= self.review_at {
            Verdict::Review
        } else {
            Verdict::Allow
        };
        let report_candidate = signals
            .iter()
            .any(|s| self.report_categories.contains(&s.category));
        let priority = if report_candidate {
            self.top_priority
        } else {
            (score * f64::from(self.priority_scale)).round() as u32
        };
        // A report candidate is always in front of a person, whatever its score.
        let verdict = if report_candidate && verdict == Verdict::Allow {
            Verdict::Review
        } else {
            verdict
        };
        Decision {
            verdict,
            score,
            priority,
            report_candidate,
            signals,
        }
    }
}
