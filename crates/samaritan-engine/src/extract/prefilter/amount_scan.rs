//! Where the price extractor's `AMOUNT` pattern matches, found by hand.
//!
//! `AMOUNT` matches at every number, so a regex pass over the whole text plus a search per
//! match cost more than the rest of price extraction. Its matches follow from the digit runs:
//! every match holds digits that start at a word boundary, and a digit run starting at a word
//! boundary always matches (all that follows the digits is optional). So the next match after
//! `pos` is anchored at the first such run at or after `pos`; it starts at the currency
//! prefix right before the run when there is one (`$`, `usd ` …), which leftmost-first search
//! prefers, and ends where the pattern's greedy, in-order reading ends. [`matches`] yields the
//! same spans as `AMOUNT.find_iter` (compared in the tests).
//!
//! The pattern is Unicode-case-insensitive: `s` and `k` in its words would also match `ſ` and
//! the Kelvin sign, which never reach extractors (see `cues`); a text holding one anyway is
//! left to the pattern by the caller ([`hand_readable`]).

use std::ops::Range;

use super::digits::next_digit;

/// Currency symbols the pattern accepts before the amount.
const SYMBOLS_BEFORE: [char; 5] = ['$', '€', '£', '¥', '₹'];
/// Currency codes the pattern accepts before the amount (whole words).
const CODES_BEFORE: [&str; 4] = ["usd", "eur", "rm", "thb"];
/// Currency symbols the pattern accepts after the amount.
const SYMBOLS_AFTER: [char; 3] = ['$', '€', '£'];
/// Currency words the pattern accepts after the amount (whole words).
const WORDS_AFTER: [&str; 13] = [
    "usd",
    "eur",
    "euro",
    "euros",
    "dollars",
    "bucks",
    "gbp",
    "thb",
    "rose",
    "roses",
    "donation",
    "donations",
    "candies",
];

/// Can [`matches`] stand in for the pattern on this text? (Not when it holds a non-ASCII case
/// variant of a pattern letter.)
pub(crate) fn hand_readable(text: &str) -> bool {
    text.is_ascii() || !text.contains(['\u{17F}', '\u{212A}'])
}

/// The spans `AMOUNT.find_iter(text)` yields, in order.
pub(crate) fn matches(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(16);
    let mut pos = 0;
    let mut i = 0;
    while let Some(d) = next_digit(b, i) {
        let run_end = d + b[d..].iter().take_while(|c| c.is_ascii_digit()).count();
        i = run_end;
        // the digits must start at a word boundary, at or after the previous match
        if d < pos || (d > 0 && is_word(b[d - 1])) {
            continue;
        }
        let start = prefix_start(text, d).filter(|&p| p >= pos).unwrap_or(d);
        let end = amount_end(text, d);
        out.push(start..end);
        pos = end;
        i = i.max(end);
    }
    out
}

/// An ASCII word byte, as the pattern's `(?-u:\b)` sees it.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// A word boundary right before byte `at`, given that the byte at `at` is a word byte?
fn boundary_before(b: &[u8], at: usize) -> bool {
    at == 0 || !is_word(b[at - 1])
}

/// A word boundary right after `text[..at]`, given that it ends in a word byte?
fn boundary_after(b: &[u8], at: usize) -> bool {
    b.get(at).is_none_or(|&c| !is_word(c))
}

/// `[^\S\n]`: a space that is not a line break.
fn is_blank(c: char) -> bool {
    c.is_whitespace() && c != '\n'
}

/// Where the currency prefix `(?:[$€£¥₹]|\b(?:usd|eur|rm|thb)\b)[^\S\n]?` ending right before
/// the digits at `d` starts, if one does.
fn prefix_start(text: &str, d: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut before = text[..d].chars().rev();
    let last = before.next()?;
    if SYMBOLS_BEFORE.contains(&last) {
        return Some(d - last.len_utf8());
    }
    // a code must be set off from the digits by one blank (its own word boundary)
    if !is_blank(last) {
        return None;
    }
    let p = d - last.len_utf8();
    let sym = before.next()?;
    if SYMBOLS_BEFORE.contains(&sym) {
        return Some(p - sym.len_utf8());
    }
    CODES_BEFORE.iter().find_map(|code| {
        let s = p.checked_sub(code.len())?;
        let word = b.get(s..p)?;
        (word.eq_ignore_ascii_case(code.as_bytes()) && boundary_before(b, s)).then_some(s)
    })
}

/// Where the match whose digits start at `d` ends: the digits (`1,000` grouping or at most six
/// digits), `.` and one or two cents digits, `k` at a word boundary, then a currency symbol or
/// word after at most one blank.
fn amount_end(text: &str, d: usize) -> usize {
    let b = text.as_bytes();
    let digits_from = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let run = digits_from(d);
    let mut i = d + run;
    // [0-9]{1,3}(?:,[0-9]{3})+ first, else [0-9]{1,6}
    let mut grouped = false;
    if run <= 3 {
        while b.get(i) == Some(&b',') && digits_from(i + 1) >= 3 {
            i += 4;
            grouped = true;
        }
    }
    if !grouped {
        i = d + run.min(6);
    }
    // (?:\.([0-9]{1,2}))?
    if b.get(i) == Some(&b'.') {
        let n = digits_from(i + 1).min(2);
        if n > 0 {
            i += 1 + n;
        }
    }
    // (k\b)?
    if b.get(i).is_some_and(|c| c.eq_ignore_ascii_case(&b'k')) && boundary_after(b, i + 1) {
        i += 1;
    }
    // (?:[^\S\n]?([$€£])|[^\S\n]?(words)\b)?
    let after_blank = match text[i..].chars().next() {
        Some(c) if is_blank(c) => i + c.len_utf8(),
        _ => i,
    };
    let Some(c) = text[after_blank..].chars().next() else {
        return i;
    };
    if SYMBOLS_AFTER.contains(&c) {
        return after_blank + c.len_utf8();
    }
    // every currency word starts with one of these letters
    if !matches!(
        c.to_ascii_lowercase(),
        'u' | 'e' | 'd' | 'b' | 'g' | 't' | 'r' | 'c'
    ) {
        return i;
    }
    let word = WORDS_AFTER.iter().find(|w| {
        b.get(after_blank..after_blank + w.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(w.as_bytes()))
            && boundary_after(b, after_blank + w.len())
    });
    match word {
        Some(w) => after_blank + w.len(),
        None => i,
    }
}
