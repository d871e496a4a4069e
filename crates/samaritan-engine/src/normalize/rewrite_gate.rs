//! The gate of the word- and number-level phase (`token_rewrite`): a cheap proof, stretch by
//! stretch, that it would change nothing there.
//!
//! The gate is exact: a stretch is skipped only when the rewrite would leave it unchanged, so
//! output never depends on it. `token_rewrite`'s tests check it against reading the whole text
//! (`proof_agrees_with_rewrite`, `proof_agrees_on_numbers`).
//!
//! Most ads hold no spelled number, leetspeak or spaced-out word, yet
//! `token_rewrite::rewrite` builds a record per token to find that out. [`doubtful`] walks the
//! ASCII tokens once, without allocating, and proves each stretch between two *barriers*
//! unchanged when no rule of `token_rewrite` can fire in it; only the stretches left in doubt
//! are read token by token. Why each check is enough:
//!
//! - a replacement comes from a joined spaced-out word, a leetspeak word, a glued prefix split,
//!   or a converted phrase holding a token that is not plain ASCII digits;
//! - four single letters in a row are the precondition of every join;
//! - a token is proven plain with the same tests `token_rewrite::classify` uses to call it
//!   plain, and a glued prefix split needs at least two letters before a digit;
//! - a lone homophone, look-alike letter or connector ("for", "I", "and") is dropped from the
//!   ends of its run, so it is converted only with number tokens right beside it on both sides;
//! - a lone digit word ("two", "Cinco") joins a phrase only beside a tens, hundred or thousand
//!   word (real words, doubted anyway) and never across a connector, which needs tens or
//!   hundreds before it. Alone in its phrase it is converted only when its run reads as a phone
//!   or a unit follows it ("five years"); it also keeps weak tokens beside it inside the run,
//!   like digits do.
//!
//! A barrier is a plain token of two or more ASCII letters standing between non-token
//! characters. Every rule of `token_rewrite` looks at a token and its neighbours up to the
//! nearest barrier and no further: spaced-out letters are single letters, a number run ends at
//! a plain token, a connector looks one token ahead, and the unit after a phrase ("five years")
//! is the next word, at most the barrier itself. So `token_rewrite` reads a stretch from the
//! start of one barrier to the end of the next exactly as it reads it inside the whole text.

use std::ops::Range;

use super::numbers;
use super::numbers::Word;
use super::token_rules::{
    PHONE_DIGITS, followed_by_unit, is_token_char, may_start_number, number_gap,
};

/// Byte classes for the scan (one table load per byte).
const LETTER: u8 = 1;
const DIGIT: u8 = 2;
const NON_ASCII: u8 = 4;
const PIPE: u8 = 8;
/// Classes of the bytes a token is made of.
const WORD: u8 = LETTER | DIGIT;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_alphabetic() {
            LETTER
        } else if b.is_ascii_digit() {
            DIGIT
        } else if !b.is_ascii() {
            NON_ASCII
        } else if b == b'|' {
            PIPE
        } else {
            0
        };
        i += 1;
    }
    t
};

/// What the token would be classified as, as far as the proof needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GateClass {
    /// Not a number token.
    Plain,
    /// ASCII digits only (never rewritten unless beside another kind of number token).
    Digits,
    /// Homophones and look-alike letters only ("for", "I", "late"), or a connector.
    Weak,
    /// One real digit word alone ("two", "Five"): one digit, never weak.
    Unit,
}

/// True when `token_rewrite::rewrite(s)` returns `s` unchanged (a `false` proves nothing).
#[cfg(test)]
pub(super) fn unchanged(s: &str) -> bool {
    doubtful(s).is_empty()
}

/// The stretches of `s` that `token_rewrite::rewrite` must read token by token (sorted,
/// disjoint, each from the start of a barrier or of the text to the end of a barrier or of the
/// text). Outside them it changes nothing; empty when it changes nothing at all.
pub(super) fn doubtful(s: &str) -> Vec<Range<usize>> {
    let b = s.as_bytes();
    let mut out: Vec<Range<usize>> = Vec::new();
    // the current stretch: where it starts and whether a rule may fire in it
    let mut seg_start = 0;
    let mut doubt = false;
    let mut singles = 0;
    // the previous token's end and whether it was a number token
    let mut prev: Option<(usize, bool)> = None;
    let mut run = Run::default();
    let mut i = 0;
    while i < b.len() {
        let class = CLASS[usize::from(b[i])];
        if class & WORD == 0 {
            match class {
                // a `|` may be a 1 depending on digits far away: the whole text is read
                PIPE => return std::iter::once(0..b.len()).collect(),
                NON_ASCII => {
                    // a non-ASCII char separates tokens (an emoji, a bullet) unless it belongs
                    // in one (a letter, digit or mark)
                    let c = s[i..].chars().next().unwrap_or(' ');
                    doubt |= is_token_char(c);
                    i += c.len_utf8();
                }
                _ => i += 1,
            }
            continue;
        }
        let start = i;
        let mut kinds = 0;
        while let Some(&x) = b.get(i) {
            let c = CLASS[usize::from(x)];
            if c & WORD == 0 {
                break;
            }
            kinds |= c;
            i += 1;
        }
        let tok = &b[start..i];
        if tok.len() == 1 && kinds == LETTER {
            singles += 1;
            doubt |= singles == 4;
        } else {
            singles = 0;
        }
        let Some(q) = gate_class(tok, kinds) else {
            doubt = true;
            continue;
        };
        // a digit word alone is a quantity before a unit ("five years")
        doubt |= q == GateClass::Unit && followed_by_unit(s, i);
        if q == GateClass::Plain && kinds == LETTER && tok.len() >= 2 && stands_alone(s, start, i) {
            // a barrier: the stretch before it is settled
            if doubt || run.converts() {
                push_merged(&mut out, seg_start..i);
            }
            seg_start = start;
            doubt = false;
            run = Run::default();
            prev = Some((i, false));
            continue;
        }
        // a connector joins a run only after tens or hundreds, which this path never has
        let connector = matches!(tok, b"y" | b"Y" | b"and" | b"AND" | b"And");
        let joined = q != GateClass::Plain
            && !connector
            && prev.is_some_and(|(end, num)| num && number_gap(&s[end..start]));
        if !joined {
            doubt |= run.converts();
            run = Run::default();
        }
        run.push(q, tok.len());
        prev = Some((i, q != GateClass::Plain));
    }
    if doubt || run.converts() {
        push_merged(&mut out, seg_start..b.len());
    }
    out
}

/// Is the token `s[start..end]` bounded by characters that cannot be part of a token?
fn stands_alone(s: &str, start: usize, end: usize) -> bool {
    // ASCII neighbours are separators here (letters and digits belong to the token, `|` is
    // ruled out before); only a non-ASCII neighbour needs decoding
    let b = s.as_bytes();
    let before_ok = start == 0
        || b[start - 1].is_ascii()
        || !s[..start].chars().next_back().is_some_and(is_token_char);
    let after_ok =
        b.get(end).is_none_or(u8::is_ascii) || !s[end..].chars().next().is_some_and(is_token_char);
    before_ok && after_ok
}

/// Appends `r`, merged into the last stretch when they overlap (they share a barrier).
fn push_merged(out: &mut Vec<Range<usize>>, r: Range<usize>) {
    match out.last_mut() {
        Some(last) if r.start < last.end => last.end = r.end,
        _ => out.push(r),
    }
}

/// A run of number tokens as `token_rewrite::convert_runs` sees it, on this path's tokens.
#[derive(Default)]
struct Run {
    /// A digits token seen.
    digits: bool,
    /// A weak token after a digits token.
    weak_after_digits: bool,
    /// A weak token with digits tokens on both sides: it stays in the trimmed run.
    weak_inside: bool,
    /// A lone digit word seen (converted when the run reads as a phone).
    unit: bool,
    /// At least the digits the run renders to (a weak token renders to at most one digit per
    /// byte: "once" is 11, every other weak word one digit).
    max_digits: usize,
}

impl Run {
    fn push(&mut self, q: GateClass, len: usize) {
        match q {
            GateClass::Plain => {}
            // a digit word, like digits, is never trimmed from the run
            GateClass::Digits | GateClass::Unit => {
                self.weak_inside |= self.weak_after_digits;
                self.digits = true;
                self.unit |= q == GateClass::Unit;
            }
            GateClass::Weak => self.weak_after_digits |= self.digits,
        }
        if q != GateClass::Plain {
            self.max_digits += len;
        }
    }

    /// Could the run be rewritten? Only a weak token inside it or a digit word can be, and
    /// only when the run reads as a phone (a phrase of weak words alone is never strong enough,
    /// a digit word alone only before a unit, checked where it is read).
    fn converts(&self) -> bool {
        (self.weak_inside || self.unit) && self.max_digits >= PHONE_DIGITS
    }
}

/// The class of an ASCII token without `|` whose bytes have the classes `kinds`, or `None` when
/// it may be anything else.
fn gate_class(tok: &[u8], kinds: u8) -> Option<GateClass> {
    match kinds {
        LETTER => words_class(tok),
        DIGIT => Some(GateClass::Digits),
        _ => mixed_class(tok),
    }
}

/// A token of letters and digits: a number if every letter run spells number words.
fn mixed_class(tok: &[u8]) -> Option<GateClass> {
    let plausible = tok
        .split(u8::is_ascii_digit)
        .filter(|r| !r.is_empty())
        .all(numbers::could_be_words);
    if plausible || has_leet(tok) {
        return None;
    }
    // a glued prefix split needs two letters before the number
    let letters = tok.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    (letters < 2).then_some(GateClass::Plain)
}

/// A token of letters only: plain unless it may spell number words, weak when the words it
/// spells are homophones and look-alike letters only.
fn words_class(tok: &[u8]) -> Option<GateClass> {
    if !starts_like_number(tok) {
        // connectors are the only weak tokens turned away here
        let connector = matches!(tok, b"y" | b"Y" | b"and" | b"AND" | b"And");
        return Some(if connector {
            GateClass::Weak
        } else {
            GateClass::Plain
        });
    }
    // the commonest lone homophones and look-alike letters (each one word, so its reading is
    // that word)
    if matches!(tok, b"to" | b"for" | b"I" | b"o" | b"O" | b"l") {
        return Some(GateClass::Weak);
    }
    if !numbers::could_be_words(tok) {
        return Some(GateClass::Plain);
    }
    // read as `token_rewrite::numeric` does (`could_be_words` bounds the length)
    let mut chars = ['\0'; numbers::MAX_RUN];
    let mut folded = [0u8; numbers::MAX_RUN];
    for (k, &c) in tok.iter().enumerate().take(numbers::MAX_RUN) {
        chars[k] = char::from(c);
        folded[k] = c.to_ascii_lowercase();
    }
    let n = tok.len().min(numbers::MAX_RUN);
    let mut words = Vec::new();
    if !numbers::segment(&chars[..n], &folded[..n], &mut words) {
        return None;
    }
    match words.as_slice() {
        [Word::Unit(_)] => Some(GateClass::Unit),
        w if w.iter().all(|w| !w.is_real()) => Some(GateClass::Weak),
        _ => None,
    }
}

/// `token_rules::may_start_number` on the first two letters of an ASCII word, from a table.
fn starts_like_number(tok: &[u8]) -> bool {
    let index = |b: u8| usize::from(b.to_ascii_lowercase().wrapping_sub(b'a'));
    let (Some(&a), second) = (tok.first(), tok.get(1)) else {
        return false;
    };
    let b = second.map_or(26, |&b| index(b));
    MAY_START.get(index(a)).and_then(|row| row.get(b)) == Some(&true)
}

/// `MAY_START[a][b]`: [`may_start_number`] for the letters `a` and `b` (`b == 26`: no second
/// letter), numbered from `a`.
static MAY_START: [[bool; 27]; 26] = {
    let mut t = [[false; 27]; 26];
    let mut a = 0;
    while a < 26 {
        let mut b = 0;
        while b < 27 {
            let second = if b == 26 { None } else { Some(b'a' + b as u8) };
            t[a][b] = may_start_number(b'a' + a as u8, second);
            b += 1;
        }
        a += 1;
    }
    t
};

/// Would `token_rewrite::leet` restore letters in this ASCII token? (A digit run of at most two of
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

    #[test]
    fn plain_prose_is_proven_unchanged() {
        for s in [
            "Looking for good company? I'm Angel. Rates: 220/hh 290/hr.",
            "for 200 roses, 25yo",
            "call me at 404-555-0142 and ask",
            "Let's meet ✨ Rosa • sexy & friendly 💋 call 404 555 0142",
            "children aged 6 to 11, 18 y/o, between 9 and 5",
            "Two bedroom flat, two children, one of a kind",
            "five star, 404 555 0142",
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
            "call 90|5554966",
            "fr3sh ✨ café",
            "y ✨ o ✨ u ✨ n ✨ g",
            "two years",
            "Five -hrs",
            "one y/o",
            "two 404 555 0142",
            "404 oh two 55501",
        ] {
            assert!(!unchanged(s), "{s}");
        }
    }

    #[test]
    fn start_table_matches_may_start_number() {
        for a in b'A'..=b'z' {
            for b in (b'A'..=b'z').map(Some).chain([None]) {
                let tok: Vec<u8> = std::iter::once(a).chain(b).collect();
                if !tok.iter().all(u8::is_ascii_alphabetic) {
                    continue;
                }
                let lower = |x: u8| x.to_ascii_lowercase();
                let want = may_start_number(lower(a), b.map(lower));
                assert_eq!(starts_like_number(&tok), want, "{tok:?}");
            }
        }
    }

    #[test]
    fn doubt_stays_between_barriers() {
        // a phone with a homophone inside, closed by a barrier
        let s = "Nice 404 oh 555 0142 today";
        let d: Vec<&str> = doubtful(s).into_iter().map(|r| &s[r]).collect();
        assert_eq!(d, ["Nice 404 oh 555 0142 today"]);
        let s = "Nice girl here, call four oh four five five five one two one two today";
        let d = doubtful(s);
        assert_eq!(d.len(), 1);
        assert_eq!(
            &s[d[0].clone()],
            "call four oh four five five five one two one two today"
        );
        assert!(doubtful("Nice girl here").is_empty());
        let s = "so y o u n g and s-w-e-e-t baby";
        let d: Vec<&str> = doubtful(s).into_iter().map(|r| &s[r]).collect();
        assert_eq!(d, ["so y o u n g and s-w-e-e-t baby"]);
    }
}
