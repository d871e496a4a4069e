//! Running the examples a policy file carries (`[[test]]`): what must fire, what must not, and
//! the expected verdict. A policy whose own tests fail is rejected before it is deployed.

use std::sync::Arc;

use crate::extract::ExtractOptions;
use crate::model::Ad;
use crate::pipeline::Engine;

use super::{Policy, PolicyError};

/// Why a policy text is not put in force: it does not compile, or one of its own `[[test]]`
/// examples fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyRefusal {
    #[error(transparent)]
    Invalid(#[from] PolicyError),
    #[error("policy test `{name}` (line {line}) fails: {failures}")]
    TestFails {
        name: String,
        line: usize,
        failures: String,
    },
}

impl PolicyRefusal {
    /// The line of the policy file the refusal points at.
    pub fn line(&self) -> Option<usize> {
        match self {
            PolicyRefusal::Invalid(PolicyError::Parse { line, .. })
            | PolicyRefusal::Invalid(PolicyError::Invalid { line, .. })
            | PolicyRefusal::TestFails { line, .. } => Some(*line),
        }
    }
}

/// Compiles a policy and runs its own tests; the first failing test refuses it. Every path
/// that analyses with a policy loads it through here, so a policy whose examples fail never runs.
pub fn load_tested(text: &str, extract: &ExtractOptions) -> Result<Arc<Policy>, PolicyRefusal> {
    let policy = Arc::new(Policy::from_toml(text)?);
    if let Some(failed) = run_tests(&policy, extract)
        .into_iter()
        .find(|t| !t.passed())
    {
        return Err(PolicyRefusal::TestFails {
            name: failed.name,
            line: failed.line,
            failures: failed.failures.join("; "),
        });
    }
    Ok(policy)
}

/// The outcome of one policy test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    /// Line of the test in the policy file.
    pub line: usize,
    /// Empty when the test passed.
    pub failures: Vec<String>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test of `policy` through the whole pipeline (normalize, extract, match, decide).
pub fn run_tests(policy: &Arc<Policy>, extract: &ExtractOptions) -> Vec<TestOutcome> {
    let engine = Engine::new(policy.clone(), extract.clone());
    policy
        .tests
        .iter()
        .map(|t| {
            let ad = Ad::text(
                format!("test:{}", t.name.get_ref()),
                t.title.as_deref(),
                Some(&t.body),
            );
            let analysis = engine.analyze(&ad);
            let fired: Vec<&str> = analysis
                .signals
                .iter()
                .map(|s| s.indicator.as_str())
                .collect();
            let mut failures = Vec::new();
            for want in &t.fires {
                if !fired.contains(&want.as_str()) {
                    failures.push(format!(
                        "expected `{want}` to fire; fired: [{}]",
                        fired.join(", ")
                    ));
                }
            }
            for not in &t.not_fires {
                if fired.contains(&not.as_str()) {
                    failures.push(format!("expected `{not}` not to fire, but it did"));
                }
            }
            if let Some(v) = &t.verdict
                && analysis.verdict.as_str() != v
            {
                failures.push(format!(
                    "expected verdict {v}, got {} (score {:.3}; fired: [{}])",
                    analysis.verdict.as_str(),
                    analysis.score,
                    fired.join(", ")
                ));
            }
            if let Some(rc) = t.report_candidate
                && analysis.report_candidate != rc
            {
                failures.push(format!(
                    "expected report_candidate {rc}, got {}",
                    analysis.report_candidate
                ));
            }
            let line = policy.source[..t.name.span().start.min(policy.source.len())]
                .bytes()
                .filter(|&b| b == b'\n')
                .count()
                + 1;
            TestOutcome {
                name: t.name.get_ref().clone(),
                line,
                failures,
            }
        })
        .collect()
}
