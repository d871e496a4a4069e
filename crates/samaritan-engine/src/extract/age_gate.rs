//! Which age patterns can match, read from the few characters around each digit run.
//!
//! Each age pattern is a full pass over the text, and its cue words ("yo", "am", "up", "- ")
//! are in most ads ("you", "am", "up"). But every pattern ties its cue to the digits of the
//! age: "19 yo" has the cue right after the digits, "I'm 22" right before them. [`possible`]
//! checks, for each run of digits, a loose form of that tie (looser than the pattern, so it
//! never rules out a match), and a pattern whose tie is nowhere in the text is skipped.
//!
//! Cue words are compared ASCII-case-insensitively: the patterns are Unicode-case-insensitive,
//! and the only non-ASCII case variants of their letters (`ſ` for `s`, the Kelvin sign for `k`)
//! never reach extractors (see `cues`).

use super::digits::next_digit;

/// `CUE_BEFORE` ("age: 21").
pub(crate) const BEFORE: u8 = 1 << 0;
/// `CUE_AFTER` ("19yo").
pub(crate) const AFTER: u8 = 1 << 1;
/// `MINIMUM` ("18 or older", "must be 18").
pub(crate) const MINIMUM: u8 = 1 << 2;
/// `SELF` ("I'm 22").
pub(crate) const SELF: u8 = 1 << 3;
/// `TITLE` ("- 19 -").
pub(crate) const TITLE: u8 = 1 << 4;

/// The patterns that may match `text` (a bit set of the constants above).
pub(crate) fn possible(text: &str) -> u8 {
    let b = text.as_bytes();
    let mut found = 0;
    let mut i = 0;
    while let Some(start) = next_digit(b, i) {
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        found |= around(text, start, i);
    }
    found
}

/// The patterns whose tie holds around the digits `text[start..end]`.
fn around(text: &str, start: usize, end: usize) -> u8 {
    let mut found = 0;
    // CUE_BEFORE: ages?|aged|edad, [\s:=\-]*, (is|of)\s+ optionally, :?\s*, the digits
    let filler = |c: char| c.is_whitespace() || matches!(c, ':' | '=' | '-');
    let p = back(text, start, filler);
    let cue_at = |q: usize| {
        ["age", "ages", "aged", "edad"]
            .iter()
            .any(|w| ends(text, q, w))
    };
    if cue_at(p)
        || (["is", "of"].iter().any(|w| ends(text, p, w)) && cue_at(back(text, p - 2, filler)))
    {
        found |= BEFORE;
    }
    // CUE_AFTER: the digits, \s*\+?\s*, a cue starting with y (yo, y/o, yrs, years) or an / añ
    // (anos, años; `ñ` and `Ñ` are C3 91 and C3 B1 in UTF-8)
    let q = fwd(text, end, |c| c.is_whitespace() || c == '+');
    let rest = &text.as_bytes()[q..];
    let lower = |k: usize| rest.get(k).map(u8::to_ascii_lowercase);
    if lower(0) == Some(b'y') || (lower(0) == Some(b'a') && matches!(lower(1), Some(b'n' | 0xC3))) {
        found |= AFTER;
    }
    // MINIMUM: the digits, \s*, or/and …; or must be|at least|minimum age (is)|… of, \s+, digits
    let q = fwd(text, end, char::is_whitespace);
    let spaced = back(text, start, char::is_whitespace);
    let words_before =
        |words: &[&str]| spaced < start && words.iter().any(|w| ends(text, spaced, w));
    let or_and = ["or", "and"].iter().any(|w| {
        text.as_bytes()
            .get(q..q + w.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(w.as_bytes()))
    });
    if or_and || words_before(&["be", "least", "age", "is", "of"]) {
        found |= MINIMUM;
    }
    // SELF: i'm|im|i am|i was|tengo, \s+, an adverb and \s+ optionally, the digits
    if words_before(&[
        "m", "was", "tengo", "only", "just", "about", "almost", "barely", "turning",
    ]) {
        found |= SELF;
    }
    // TITLE: a dash, [^\S\n]+, the digits
    let blank = back(text, start, |c| c.is_whitespace() && c != '\n');
    if blank < start && text[..blank].ends_with('-') {
        found |= TITLE;
    }
    found
}

/// Does `text[..at]` end with `word`, ASCII-case-insensitively?
fn ends(text: &str, at: usize, word: &str) -> bool {
    at >= word.len() && text.as_bytes()[at - word.len()..at].eq_ignore_ascii_case(word.as_bytes())
}

/// Where a backward skip over chars matching `skip`, from `at`, stops.
fn back(text: &str, at: usize, skip: impl Fn(char) -> bool) -> usize {
    let mut p = at;
    for c in text[..at].chars().rev() {
        if !skip(c) {
            break;
        }
        p -= c.len_utf8();
    }
    p
}

/// Where a forward skip over chars matching `skip`, from `at`, stops.
fn fwd(text: &str, at: usize, skip: impl Fn(char) -> bool) -> usize {
    let mut q = at;
    for c in text[at..].chars() {
        if !skip(c) {
            break;
        }
        q += c.len_utf8();
    }
    q
}
