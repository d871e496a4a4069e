//! Conformance evaluation: how well the extractors do on external labelled cases.
//!
//! Pure scoring over case text already read by the caller (the CLI's `conformance` command and
//! the integration tests read the files from `../shared`).

pub mod memex;
