//! Measuring Samaritan against ground truth.
//!
//! `metrics` holds the measures (set precision/recall, ROC AUC, pairwise clustering agreement and
//! the adjusted Rand index); `corpus` applies them to a corpus's `truth.jsonl` and the engine's
//! analyses, producing the report `samaritan eval` prints and CI gates on; `model` measures the
//! learned model alone and beside the policy; `review_loop` simulates reviewers teaching it and
//! `plot` draws that loop.

pub mod corpus;
pub mod metrics;
pub mod model;
pub mod plot;
pub mod require;
pub mod review_loop;

pub use corpus::{CorpusReport, TruthRecord};
