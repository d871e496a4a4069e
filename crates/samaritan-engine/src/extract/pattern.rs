//! Compiling the extractors' constant patterns (here, below every extractor, so none of them
//! imports the module that calls it).

use std::sync::LazyLock;

use regex::Regex;

/// Compiles a constant pattern. The patterns are literals exercised by the unit tests, so a
/// failure is a programming error found before release, never a reaction to input.
#[allow(clippy::expect_used)]
pub(crate) fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant pattern compiles")
}

/// A lazily compiled constant pattern.
pub(crate) type Pattern = LazyLock<Regex>;
