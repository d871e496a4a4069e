//! A cheap proof that the word- and number-level phase (`runs`) would change nothing.
//!
//! Most ads hold no spelled number, leetspeak or spaced-out word, yet `runs::rewrite` builds a
//! record per token to find that out. [`unchanged`] walks the ASCII tokens once, without
//! allocating, and says `true` only when no rule of `runs` can fire; any doubt sends the text
//! down the full path. Why each check is enough:
//!
//! - a replacement comes from a joined spaced-out word, a leetspeak word, a glued prefix split,
//!   or a converted phrase holding a token that is not plain ASCII digits;
//! - four single letters in a row are the precondition of every join;
//! - a token is proven plain with the same tests `runs::classify` uses to call it plain, and a
//!   glued prefix split needs at least two letters before a digit;
//! - a lone homophone, look-alike letter or connector ("for", "I", "and") is dropped from the
//!   ends of its run, so it is converted only with number tokens right beside it on both sides.

use super::numbers;
use super::runs::{PHONE_DIGITS, is_token_char, may_start_number, number_gap};
use crate::ascii::is_alnum;

/// What the token would be classified as, as far as the proof needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quick {
    /// Not a number token.
    Plain,
    /// ASCII digits only (never rewritten unless beside another kind of number token).
    Digits,
    /// Homophones and look-alike letters only ("for", "I", "late"), or a connector.
    Weak,
}

/// True when `runs::rewrite(s)` returns `s` unchanged (a `false` proves nothing).
pub(super) fn unchanged(s: &str) -> bool {
    let b = s.as_bytes();
    // `|` (a possible 1) takes the full path
    if b.contains(&b'|') {
        return false;
    }
    let mut singles = 0;
    // the previous token's end and whether it was a number token
    let mut prev: Option<(usize, bool)> = None;
    let mut run = Run::default();
    let mut i = 0;
    while i < b.len() {
        if !is_alnum(b[i]) {
            if b[i].is_ascii() {
                i += 1;
            } else {
                // a non-ASCII char separates tokens (an emoji, a bullet) unless it belongs in
                // one (a letter, digit or mark): then the full path
                let c = s[i..].chars().next().unwrap_or(' ');
                if is_token_char(c) {
                    return false;
                }
                i += c.len_utf8();
            }
            continue;
        }
        let start = i;
        while i < b.len() && is_alnum(b[i]) {
            i += 1;
        }
        let tok = &b[start..i];
        if tok.len() == 1 && tok[0].is_ascii_alphabetic() {
            singles += 1;
            if singles == 4 {
                return false;
            }
        } else {
            singles = 0;
        }
        let Some(q) = quick_class(tok) else {
            return false;
        };
        // a connector joins a run only after tens or hundreds, which this path never has
        let connector = matches!(tok, b"y" | b"Y" | b"and" | b"AND" | b"And");
        let joined = q != Quick::Plain
            && !connector
            && prev.is_some_and(|(end, num)| num && number_gap(&s[end..start]));
        if !joined {
            if run.converts() {
                return false;
            }
            run = Run::default();
        }
        run.push(q, tok.len());
        prev = Some((i, q != Quick::Plain));
    }
    !run.converts()
}

/// A run of number tokens as `runs::convert_runs` sees it, on this path's tokens.
#[derive(Default)]
struct Run {
    /// A digits token seen.
    digits: bool,
    /// A weak token after a digits token.
    weak_after_digits: bool,
    /// A weak token with digits tokens on both sides: it stays in the trimmed run.
    weak_inside: bool,
    /// At least the digits the run renders to (a weak token renders to at most one digit per
    /// byte: "once" is 11, every other weak word one digit).
    max_digits: usize,
}

impl Run {
    fn push(&mut self, q: Quick, len: usize) {
        match q {
            Quick::Plain => {}
            Quick::Digits => {
                self.weak_inside |= self.weak_after_digits;
                self.digits = true;
            }
            Quick::Weak => self.weak_after_digits |= self.digits,
        }
        if q != Quick::Plain {
            self.max_digits += len;
        }
    }

    /// Could the run be rewritten? Only a weak token inside it can be, and only when the run
    /// reads as a phone (a phrase of weak words alone is never strong enough).
    fn converts(&self) -> bool {
        self.weak_inside && self.max_digits >= PHONE_DIGITS
    }
}

/// The class of an ASCII token without `|`, or `None` when it may be anything else.
fn quick_class(tok: &[u8]) -> Option<Quick> {
    let has_digit = tok.iter().any(u8::is_ascii_digit);
    if !has_digit {
        return words_class(tok);
    }
    if tok.iter().all(u8::is_ascii_digit) {
        return Some(Quick::Digits);
    }
    // letters and digits: a number if every letter run spells number words
    let plausible = tok
        .split(u8::is_ascii_digit)
        .filter(|r| !r.is_empty())
        .all(numbers::could_be_words);
    if plausible || has_leet(tok) {
        return None;
    }
    // a glued prefix split needs two letters before the number
    let letters = tok.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    (letters < 2).then_some(Quick::Plain)
}

/// A token of letters only: plain unless it may spell number words, weak when the words it
/// spells are homophones and look-alike letters only.
fn words_class(tok: &[u8]) -> Option<Quick> {
    // connectors, and the commonest lone homophones and look-alike letters (each one word,
    // so its reading is that word)
    if matches!(
        tok,
        b"y" | b"Y" | b"and" | b"AND" | b"And" | b"to" | b"for" | b"I" | b"o" | b"O" | b"l"
    ) {
        return Some(Quick::Weak);
    }
    let a = tok.first().map_or(0, u8::to_ascii_lowercase);
    let b = tok.get(1).map(u8::to_ascii_lowercase);
    if !may_start_number(a, b) || !numbers::could_be_words(tok) {
        return Some(Quick::Plain);
    }
    // read as `runs::numeric` does (`could_be_words` bounds the length)
    let mut chars = ['\0'; numbers::MAX_RUN];
    let mut folded = [0u8; numbers::MAX_RUN];
    for (k, &c) in tok.iter().enumerate().take(numbers::MAX_RUN) {
        chars[k] = char::from(c);
        folded[k] = c.to_ascii_lowercase();
    }
    let n = tok.len().min(numbers::MAX_RUN);
    let mut words = Vec::new();
    let weak = numbers::segment(&chars[..n], &folded[..n], &mut words)
        && words.iter().all(|w| !w.is_real());
    weak.then_some(Quick::Weak)
}

/// Would `runs::leet` restore letters in this ASCII token? (A digit run of at most two of
/// 0 1 3 4 5 7 between letters, in a token of at least two letters.)
fn has_leet(tok: &[u8]) -> bool {
    if tok.iter().filter(|c| c.is_ascii_alphabetic()).count() < 2 {
        return false;
    }
    let mut i = 0;
    while i < tok.len() {
        if !tok[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let j = i + tok[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let interior = i > 0
            && j < tok.len()
            && tok[i - 1].is_ascii_alphabetic()
            && tok[j].is_ascii_alphabetic();
        if interior
            && j - i <= 2
            && tok[i..j]
                .iter()
                .all(|d| matches!(d, b'0' | b'1' | b'3' | b'4' | b'5' | b'7'))
        {
            return true;
        }
        i = j;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_prose_is_proven_unchanged() {
        for s in [
            "Looking for good company? I'm Angel. Rates: 220/hh 290/hr.",
            "for 200 roses, 25yo",
            "call me at 404-555-0142 and ask",
            "Let's meet ✨ Rosa • sexy & friendly 💋 call 404 555 0142",
            "children aged 6 to 11, 18 y/o, between 9 and 5",
        ] {
            assert!(unchanged(s), "{s}");
        }
    }

    #[test]
    fn rewritten_text_is_never_proven_unchanged() {
        for s in [
            "y o u n g",
            "y0ung",
            "twenty one",
            "404 to 5550142",
            "404 o 555 oh 142",
            "useven04",
            "one of a kind",
            "call 90|5554966",
            "fr3sh ✨ café",
            "y ✨ o ✨ u ✨ n ✨ g",
        ] {
            assert!(!unchanged(s), "{s}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Whenever the proof says unchanged, the full rewrite agrees.
        #[test]
        fn proof_agrees_with_rewrite(
            words in proptest::collection::vec(
                "(for|to|too|I|o|l|y|and|one|ten|twenty|oh|once|[a-zA-Z]{1,6}|[0-9]{1,5}|[a-z]{1,3}[0-9]{1,3}[a-z]{0,3}|[0-9]{1,3}[a-z]{1,3})",
                0..12,
            ),
            seps in proptest::collection::vec("( |  |-|, |\n|\n\n\n|/|[ .:]{1,8}|✨|•|é| ́|💋 )", 12),
        ) {
            let mut s = String::new();
            for (w, sep) in words.iter().zip(&seps) {
                s.push_str(w);
                s.push_str(sep);
            }
            if unchanged(&s) {
                prop_assert_eq!(super::super::runs::rewrite(&s).0, s);
            }
        }
    }
}
