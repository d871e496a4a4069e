//! The engine's pipeline: ad in, analysis out.
//!
//! Two halves, so that callers can run the expensive, stateless half on every core and the
//! stateful linking in between in order:
//! - [`Engine::prepare`] (stateless, parallel): normalize, extract, match the policy's phrases and
//!   patterns;
//! - [`Engine::finish`]: combine those hits with what linking and images add (network features,
//!   hash-bank matches) into signals, a score, a verdict and the output record.
//!
//! [`Engine::analyze`] does both for one ad that is not linked to anything.

use std::sync::Arc;

use crate::extract::{ExtractOptions, Extraction, Kind, extract};
use crate::model::{ANALYSIS_SCHEMA, Ad, Analysis, NetworkRef, TemplateRef};
use crate::normalize::{Normalized, normalize};
use crate::policy::{BankMatch, Facts, Hit, NetworkView, Policy};

/// A configured engine: a compiled policy and extraction options. Cheap to clone, shared between
/// threads.
#[derive(Clone)]
pub struct Engine {
    policy: Arc<Policy>,
    extract: ExtractOptions,
}

/// The stateless half of an analysis.
pub struct Prepared {
    /// `title + "\n" + body`: every span points into it.
    pub document: String,
    pub normalized: Normalized,
    pub extraction: Extraction,
    /// Policy phrase and pattern hits, in original-text coordinates.
    pub text_hits: Vec<Hit>,
}

/// What linking and image matching add to an ad's analysis.
#[derive(Default)]
pub struct Context<'a> {
    pub network: Option<(NetworkRef, &'a dyn NetworkView)>,
    pub template: Option<TemplateRef>,
    pub bank_matches: Vec<BankMatch>,
}

impl Engine {
    pub fn new(policy: Arc<Policy>, extract: ExtractOptions) -> Engine {
        Engine { policy, extract }
    }

    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The same engine with another policy (extraction options kept).
    pub fn with_policy(&self, policy: Arc<Policy>) -> Engine {
        Engine {
            policy,
            extract: self.extract.clone(),
        }
    }

    /// Normalize, extract and match: everything that depends on the ad alone.
    pub fn prepare(&self, ad: &Ad) -> Prepared {
        self.prepare_document(ad.document())
    }

    /// [`Engine::prepare`] for a document already assembled.
    pub fn prepare_document(&self, document: String) -> Prepared {
        let normalized = normalize(&document);
        let extraction = extract(&document, &normalized, &self.extract);
        let text_hits = self
            .policy
            .match_text(&normalized.text)
            .into_iter()
            .map(|h| {
                let span = normalized.original_span(h.range);
                Hit {
                    indicator: h.indicator,
                    span: Some([span.start, span.end]),
                }
            })
            .collect();
        Prepared {
            document,
            normalized,
            extraction,
            text_hits,
        }
    }

    /// Decide and assemble the analysis of `ad` from its prepared half and its context.
    pub fn finish(&self, ad: &Ad, prepared: &Prepared, context: Context) -> Analysis {
        let mut facts = Facts::default();
        for (_, span, obfuscated) in prepared.extraction.of_kind(Kind::Phone) {
            if obfuscated {
                facts.obscured_phones.push([span.start, span.end]);
            }
        }
        for (value, span, _) in prepared.extraction.of_kind(Kind::Age) {
            if let Ok(age) = value.parse() {
                facts.ages.push((age, [span.start, span.end]));
            }
        }
        facts.network = context.network.as_ref().map(|(_, view)| *view);
        facts.bank_matches = context.bank_matches;
        let decision = self
            .policy
            .decide(&prepared.text_hits, &facts, &prepared.document);
        Analysis {
            schema: ANALYSIS_SCHEMA,
            id: ad.id.clone(),
            verdict: decision.verdict,
            score: decision.score,
            priority: decision.priority,
            report_candidate: decision.report_candidate,
            signals: decision.signals,
            extracted: prepared.extraction.extracted(),
            mentions: prepared.extraction.mentions(),
            network: context.network.map(|(n, _)| n),
            template: context.template,
            policy: self.policy.label(),
        }
    }

    /// The analysis of one ad on its own (no network, no template, no bank matches).
    pub fn analyze(&self, ad: &Ad) -> Analysis {
        let prepared = self.prepare(ad);
        self.finish(ad, &prepared, Context::default())
    }
}
