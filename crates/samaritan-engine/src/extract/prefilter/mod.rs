//! Prefilters: the shortcuts that let most documents skip most of the extractors' work.
//!
//! The rule every one obeys: a prefilter is an exact gate, never a heuristic. It may only skip
//! work whose result would be empty or unchanged, or do the same work a faster way; it never
//! changes an output. So each is checked against its reference, the slow reading it stands in
//! for:
//!
//! - `cues`: which literals the extractor patterns need a text holds, and whether a platform
//!   name stands in it as a word. Checked by `cues::tests` (`table_scan_agrees_with_the_iterator`,
//!   `pieces_agree_with_the_iterator`, `literals_across_the_seams_are_found`,
//!   `the_platform_gate_never_hides_a_match`) and, for whole extractions with every gate open,
//!   `extract::tests::cue_gate_changes_nothing`.
//! - `age_gate`: which age patterns can match, from the characters beside each digit run.
//!   Checked by `age::tests::gate_changes_nothing` and `gated_starts_miss_nothing`.
//! - `amount_scan`: the price `AMOUNT` pattern's matches, found by hand. Checked by
//!   `price::tests::hand_scan_agrees_with_the_pattern` and `hand_reading_agrees_with_the_pattern`.
//! - `words`: a text's words without a branch per byte. Checked by
//!   `words::tests::same_as_a_plain_scan` and `ascii_same_as_a_plain_scan`.
//! - `digits`: the next ASCII digit, eight bytes at a time. Checked by
//!   `digits::tests::same_as_a_byte_scan`.
//!
//! They call no extractor (`cues` reads only the platform lists in `platforms`), so they sit
//! below every extractor.

pub(super) mod age_gate;
pub(super) mod amount_scan;
pub(super) mod cues;
pub(super) mod digits;
pub(super) mod words;
