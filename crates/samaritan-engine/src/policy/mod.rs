//! Policy: declarative indicators, explainable scores and verdicts.
//!
//! A policy is a TOML file the trust & safety team owns (`policies/default.toml`): indicators
//! with their evidence and weights, phrase lists and patterns matched on normalized text,
//! exceptions for benign uses, context and proximity rules, built-in features over extracted
//! identifiers and networks, thresholds, and tests. `compile` checks and compiles it once;
//! `matcher` finds phrases and patterns; `decide` turns hits into signals, a score, a verdict and
//! a priority.

pub mod compare;
mod compile;
mod decide;
mod matcher;
pub mod spec;
mod testing;
#[cfg(test)]
mod tests;

pub use compile::{Context, Indicator, Policy, PolicyError};
pub use decide::{BankMatch, Decision, Facts, Hit, ModelFact, NetworkView, combine};
pub use matcher::TextHit;
pub use testing::{PolicyRefusal, TestOutcome, load_tested, run_tests};

/// The default policy shipped with Samaritan (`policies/default.toml`), compiled into the binary
/// so that it runs with no files beside it.
pub const DEFAULT_POLICY: &str = include_str!("../../../../policies/default.toml");
