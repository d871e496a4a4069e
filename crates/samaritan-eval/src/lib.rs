//! Measuring Samaritan against ground truth.
//!
//! `metrics` holds the measures (set precision/recall, ROC AUC, pairwise clustering agreement and
//! the adjusted Rand index); `corpus` applies them to a corpus's `truth.jsonl` and the engine's
//! analyses, producing the report `samaritan eval` prints and CI gates on; `model` measures the
//! learned model alone and beside the policy.

pub mod corpus;
pub mod metrics;
pub mod model;
pub mod require;

pub use corpus::{CorpusReport, TruthRecord};
