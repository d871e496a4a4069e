//! The engine behind `samaritan serve`: the [`Analyzer`] the HTTP service calls.
//!
//! It runs the engine stages that exist today, in the order of `DESIGN.md`: normalize → extract →
//! policy (text indicators on the normalized text, spans mapped back to the original, plus the
//! obscured-phone and stated-age features). Linking (networks, templates) and images are not
//! part of the engine yet, so `network` and `template` are null: the service does not invent
//! them. When the engine exposes its whole pipeline, `analyze_one` becomes a call to it.

use std::sync::{Arc, RwLock};

use rayon::prelude::*;
use samaritan_engine::extract::{ExtractOptions, Kind};
use samaritan_engine::model::{ANALYSIS_SCHEMA, Ad, Analysis};
use samaritan_engine::policy::{Facts, Hit, Policy, PolicyError};
use samaritan_server::{Analyzer, PolicyInfo, PolicyRejection};

struct Active {
    policy: Policy,
    info: PolicyInfo,
}

/// The engine with a policy that can be swapped while requests run.
pub struct EngineAnalyzer {
    active: RwLock<Arc<Active>>,
    extract: ExtractOptions,
}

fn rejection(e: PolicyError) -> PolicyRejection {
    let line = match &e {
        PolicyError::Parse { line, .. } | PolicyError::Invalid { line, .. } => Some(*line),
    };
    PolicyRejection {
        message: e.to_string(),
        line,
    }
}

fn compile(text: &str) -> Result<Active, PolicyRejection> {
    let policy = Policy::from_toml(text).map_err(rejection)?;
    let info = PolicyInfo {
        label: policy.label(),
        text: text.to_owned(),
    };
    Ok(Active { policy, info })
}

impl EngineAnalyzer {
    /// An analyzer running `policy_text`, or why the text is refused.
    pub fn new(policy_text: &str) -> Result<EngineAnalyzer, PolicyRejection> {
        Ok(EngineAnalyzer {
            active: RwLock::new(Arc::new(compile(policy_text)?)),
            extract: ExtractOptions::default(),
        })
    }

    fn current(&self) -> Arc<Active> {
        match self.active.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn analyze_one(&self, active: &Active, ad: &Ad) -> Analysis {
        let doc = ad.document();
        let norm = samaritan_engine::normalize(&doc);
        let found = samaritan_engine::extract(&doc, &norm, &self.extract);
        let hits: Vec<Hit> = active
            .policy
            .match_text(&norm.text)
            .into_iter()
            .map(|h| {
                let span = norm.original_span(h.range);
                Hit {
                    indicator: h.indicator,
                    span: Some([span.start, span.end]),
                }
            })
            .collect();
        let facts = Facts {
            obscured_phones: found
                .of_kind(Kind::Phone)
                .filter(|(_, _, obfuscated)| *obfuscated)
                .map(|(_, span, _)| [span.start, span.end])
                .collect(),
            ages: found
                .of_kind(Kind::Age)
                .filter_map(|(v, span, _)| Some((v.parse().ok()?, [span.start, span.end])))
                .collect(),
            network: None,
            bank_matches: Vec::new(),
        };
        let decision = active.policy.decide(&hits, &facts, &doc);
        Analysis {
            schema: ANALYSIS_SCHEMA,
            id: ad.id.clone(),
            verdict: decision.verdict,
            score: decision.score,
            priority: decision.priority,
            report_candidate: decision.report_candidate,
            signals: decision.signals,
            extracted: found.extracted(),
            mentions: found.mentions(),
            network: None,
            template: None,
            policy: active.info.label.clone(),
        }
    }
}

impl Analyzer for EngineAnalyzer {
    fn analyze(&self, ads: &[Ad]) -> Vec<Analysis> {
        let active = self.current();
        if ads.len() < 64 {
            ads.iter().map(|ad| self.analyze_one(&active, ad)).collect()
        } else {
            ads.par_iter()
                .map(|ad| self.analyze_one(&active, ad))
                .collect()
        }
    }

    fn policy(&self) -> PolicyInfo {
        self.current().info.clone()
    }

    fn check_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        Ok(compile(text)?.info.label)
    }

    fn set_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        let next = Arc::new(compile(text)?);
        let label = next.info.label.clone();
        match self.active.write() {
            Ok(mut g) => *g = next,
            Err(p) => *p.into_inner() = next,
        }
        Ok(label)
    }
}
