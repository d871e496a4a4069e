//! The engine's pipeline: ad in, analysis out.
//!
//! Two halves, so that callers can run the expensive, stateless half on every core and the
//! stateful linking in between in order:
//! - [`Engine::prepare`] (stateless, parallel): normalize, extract, match the policy's phrases and
//!   patterns;
//! - [`Engine::finish`]: combine those hits with what linking and images add (network features,
//!   hash-bank matches) into signals, a score, a verdict and the output record.
//!
//! [`Engine::analyze`] does both for one ad that is not linked to anything. [`Staged`] is the
//! prepared half without the ad's text, small enough to keep or spill while a batch is linked.
//! Linking itself, between the two halves, is [`crate::linked`].

use std::sync::Arc;

use crate::extract::{ExtractOptions, Extraction, Kind, extract};
use crate::linked::LinkStage;
use serde::{Deserialize, Serialize};

use crate::model::{
    ANALYSIS_SCHEMA, Ad, Analysis, Extracted, ImageAnalysis, Mention, NetworkRef, TemplateRef,
};
use crate::normalize::{Normalized, normalize};
use crate::policy::{BankMatch, Facts, Hit, ModelFact, NetworkView, Policy};

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

/// Everything [`Engine::finish_staged`] needs from an ad, without its text: the policy's text hits,
/// the facts built-in features read, what was extracted, and the original text of every span a
/// signal may quote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Staged {
    pub id: String,
    pub text_hits: Vec<Hit>,
    pub obscured_phones: Vec<[usize; 2]>,
    pub ages: Vec<(u32, [usize; 2])>,
    pub quotes: Vec<([usize; 2], String)>,
    pub extracted: Extracted,
    pub mentions: Vec<Mention>,
}

/// What taking in an ad's images gives its analysis: one entry per input image (an image that
/// failed carries `error`) and the bank matches the policy weighs. Made by
/// `samaritan_media::ImageContext::take_in`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageResults {
    pub images: Vec<ImageAnalysis>,
    pub bank_matches: Vec<BankMatch>,
}

/// What linking and image matching add to an ad's analysis.
#[derive(Default)]
pub struct Context<'a> {
    pub network: Option<(NetworkRef, &'a dyn NetworkView)>,
    /// Per policy context, the share of the network's ads that show it by their own wording
    /// (see [`crate::policy::Policy::contexts_of`]); empty outside a network.
    pub network_context_share: Vec<f64>,
    pub template: Option<TemplateRef>,
    pub bank_matches: Vec<BankMatch>,
    /// One entry per input image (see `samaritan_media::analyse_images`).
    pub images: Vec<ImageAnalysis>,
    /// The learned model's score, when a model is in force: read by a policy's `model_score`
    /// indicator (absent from the policy, it changes nothing).
    pub model: Option<ModelFact>,
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
        self.prepare_document_timed(document, &mut |_| ())
    }

    /// [`Engine::prepare_document`], telling `stage_done` as normalizing, extracting and
    /// matching end (for callers that time them, as [`crate::linked::link_input`] does).
    pub fn prepare_document_timed(
        &self,
        document: String,
        stage_done: &mut impl FnMut(LinkStage),
    ) -> Prepared {
        let normalized = normalize(&document);
        stage_done(LinkStage::Normalized);
        let extraction = extract(&document, &normalized, &self.extract);
        stage_done(LinkStage::Extracted);
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
        stage_done(LinkStage::Matched);
        Prepared {
            document,
            normalized,
            extraction,
            text_hits,
        }
    }

    /// The text-free summary of a prepared ad.
    pub fn stage(&self, ad: &Ad, prepared: &Prepared) -> Staged {
        let mut obscured_phones = Vec::new();
        for (_, span, obfuscated) in prepared.extraction.of_kind(Kind::Phone) {
            if obfuscated {
                obscured_phones.push([span.start, span.end]);
            }
        }
        let mut ages = Vec::new();
        for (value, span, _) in prepared.extraction.of_kind(Kind::Age) {
            if let Ok(age) = value.parse() {
                ages.push((age, [span.start, span.end]));
            }
        }
        let mut spans: Vec<[usize; 2]> = prepared.text_hits.iter().filter_map(|h| h.span).collect();
        spans.extend(&obscured_phones);
        spans.extend(ages.iter().map(|(_, s)| *s));
        spans.sort_unstable();
        spans.dedup();
        let quotes = spans
            .into_iter()
            .map(|[s, e]| ([s, e], prepared.document.get(s..e).unwrap_or("").to_owned()))
            .collect();
        Staged {
            id: ad.id.clone(),
            text_hits: prepared.text_hits.clone(),
            obscured_phones,
            ages,
            quotes,
            extracted: prepared.extraction.extracted(),
            mentions: prepared.extraction.mentions(),
        }
    }

    /// Decide and assemble the analysis of `ad` from its prepared half and its context.
    pub fn finish(&self, ad: &Ad, prepared: &Prepared, context: Context) -> Analysis {
        self.finish_staged(self.stage(ad, prepared), context)
    }

    /// Decide and assemble an analysis from a staged ad and its context.
    pub fn finish_staged(&self, staged: Staged, context: Context) -> Analysis {
        let facts = Facts {
            obscured_phones: staged.obscured_phones,
            ages: staged.ages,
            network: context.network.as_ref().map(|(_, view)| *view),
            network_context_share: context.network_context_share,
            bank_matches: context.bank_matches,
            model: context.model,
        };
        let quotes = &staged.quotes;
        let quote = |span: [usize; 2]| -> String {
            quotes
                .iter()
                .find(|(s, _)| *s == span)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        let decision = self
            .policy
            .decide_quoting(&staged.text_hits, &facts, &quote);
        Analysis {
            schema: ANALYSIS_SCHEMA,
            id: staged.id,
            verdict: decision.verdict,
            score: decision.score,
            priority: decision.priority,
            report_candidate: decision.report_candidate,
            signals: decision.signals,
            extracted: staged.extracted,
            mentions: staged.mentions,
            network: context.network.map(|(n, _)| n),
            template: context.template,
            policy: self.policy.label(),
            images: context.images,
        }
    }

    /// One ad on its own (not linked) with what taking in its images gave: the analysis
    /// `samaritan scan --no-link` writes and the service's unlinked `analyze` returns.
    pub fn analyze_with_images(&self, ad: &Ad, images: ImageResults) -> Analysis {
        let prepared = self.prepare(ad);
        self.finish(
            ad,
            &prepared,
            Context {
                images: images.images,
                bank_matches: images.bank_matches,
                ..Context::default()
            },
        )
    }

    /// The analysis of one ad on its own (no network, no template, no bank matches).
    pub fn analyze(&self, ad: &Ad) -> Analysis {
        let prepared = self.prepare(ad);
        self.finish(ad, &prepared, Context::default())
    }
}
