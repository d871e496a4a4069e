//! The engine behind `samaritan serve`: the [`Analyzer`] the HTTP service calls.
//!
//! Runs the engine's pipeline ([`Engine::analyze`]: normalize → extract → policy → decide) with
//! a policy that can be swapped while requests run. A policy is put in force only when it
//! compiles and its own `[[test]]` examples pass. Linking and images are not in the engine's
//! pipeline yet, so `network` and `template` stay null until they are: the service does not
//! invent them.

use std::sync::{Arc, RwLock};

use rayon::prelude::*;
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::model::{Ad, Analysis};
use samaritan_engine::policy::{Policy, PolicyError, run_tests};
use samaritan_server::{Analyzer, PolicyInfo, PolicyRejection};

struct Active {
    engine: Engine,
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

/// Compiles `text` and runs its own tests; the first failing test is the rejection.
fn compile(text: &str, extract: &ExtractOptions) -> Result<Active, PolicyRejection> {
    let policy = Arc::new(Policy::from_toml(text).map_err(rejection)?);
    if let Some(failed) = run_tests(&policy, extract)
        .into_iter()
        .find(|t| !t.passed())
    {
        return Err(PolicyRejection {
            message: format!(
                "policy test `{}` (line {}) fails: {}",
                failed.name,
                failed.line,
                failed.failures.join("; ")
            ),
            line: Some(failed.line),
        });
    }
    let info = PolicyInfo {
        label: policy.label(),
        text: text.to_owned(),
    };
    Ok(Active {
        engine: Engine::new(policy, extract.clone()),
        info,
    })
}

impl EngineAnalyzer {
    /// An analyzer running `policy_text`, or why the text is refused.
    pub fn new(
        policy_text: &str,
        extract: ExtractOptions,
    ) -> Result<EngineAnalyzer, PolicyRejection> {
        Ok(EngineAnalyzer {
            active: RwLock::new(Arc::new(compile(policy_text, &extract)?)),
            extract,
        })
    }

    fn current(&self) -> Arc<Active> {
        match self.active.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

impl Analyzer for EngineAnalyzer {
    fn analyze(&self, ads: &[Ad]) -> Vec<Analysis> {
        let active = self.current();
        if ads.len() < 16 {
            ads.iter().map(|ad| active.engine.analyze(ad)).collect()
        } else {
            ads.par_iter().map(|ad| active.engine.analyze(ad)).collect()
        }
    }

    fn policy(&self) -> PolicyInfo {
        self.current().info.clone()
    }

    fn check_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        Ok(compile(text, &self.extract)?.info.label)
    }

    fn set_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        let next = Arc::new(compile(text, &self.extract)?);
        let label = next.info.label.clone();
        match self.active.write() {
            Ok(mut g) => *g = next,
            Err(p) => *p.into_inner() = next,
        }
        Ok(label)
    }
}
