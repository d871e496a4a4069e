//! Which age patterns can match, read from the few characters around each digit run.
//!
//! Each age pattern is a full pass over the text, and its cue words ("yo", "am", "up", "- ")
//! are in most ads ("you", "am", "up"). But every pattern ties its cue to the digits of the
//! age: "19 yo" has the cue right after the digits, "I'm 22" right before them. [`possible`]
//! checks, for each run of digits, a loose form of that tie (looser than the pattern: a cue
//! word is checked, its word boundaries are not), so it never rules out a match, and a pattern
//! whose tie is nowhere in the text is skipped.
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

/// The patterns that may match, and for each where its first match can start at the earliest.
pub(crate) struct Gate {
    /// A bit set of the constants above.
    pub found: u8,
    /// Per pattern (bit index), a char boundary no match of it starts before.
    pub from: [usize; 5],
    /// Per pattern (bit index), the start of the last digit run its tie holds at: every match
    /// holds such a run, so none starts after this.
    pub last: [usize; 5],
}

impl Gate {
    /// Every pattern, searched from the text start (what the gate replaces).
    #[cfg(test)]
    pub(crate) const ALL: Gate = Gate {
        found: u8::MAX,
        from: [0; 5],
        last: [usize::MAX; 5],
    };

    /// Where pattern `bit`'s search may start.
    pub(crate) fn start(&self, bit: u8) -> usize {
        self.from[bit.trailing_zeros() as usize]
    }

    /// After which position pattern `bit` has no match left to start.
    pub(crate) fn last(&self, bit: u8) -> usize {
        self.last[bit.trailing_zeros() as usize]
    }
}

/// The patterns that may match `text`, and where.
///
/// Every match holds a digit run whose tie holds, and starts at most a few whitespace-separated
/// tokens before that run (see [`bound`]), so the smallest such bound per pattern is a safe
/// place to start its search: `regex`'s `*_at` searches still see the whole text for `\b` and
/// `^`.
pub(crate) fn possible(text: &str) -> Gate {
    let b = text.as_bytes();
    let mut gate = Gate {
        found: 0,
        from: [usize::MAX; 5],
        last: [0; 5],
    };
    let mut i = 0;
    while let Some(start) = next_digit(b, i) {
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let here = around(text, start, i);
        if here != 0 {
            gate.found |= here;
            for (k, from) in gate.from.iter_mut().enumerate() {
                if here & (1 << k) != 0 {
                    *from = (*from).min(bound(text, start, 1 << k));
                    gate.last[k] = start;
                }
            }
        }
    }
    gate
}

/// A char boundary at or before where a match of pattern `bit` holding the digit run at `start`
/// (its tie checked there) can begin.
fn bound(text: &str, start: usize, bit: u8) -> usize {
    match bit {
        // cue, [\s:=\-]*, (is|of)\s+ optionally, :?\s*: everything between the cue and the
        // digits is filler or "is"/"of", so the cue (at most 4 bytes) ends at or after `end`
        BEFORE => {
            let filler = |c: char| c.is_whitespace() || matches!(c, ':' | '=' | '-');
            let p = back(text, start, filler);
            let t = Tail::at(text, p);
            let end = if t.ends(b"is") || t.ends(b"of") {
                back(text, p - 2, filler)
            } else {
                p
            };
            let mut at = end.saturating_sub(4);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        }
        // "18 - 35 years", "18to35 yo": the range start is at most two tokens back
        AFTER => tokens_back(text, start, 2),
        // "over the age of 18" (four tokens) or "18 or older" (the digits)
        MINIMUM => tokens_back(text, start, 4),
        // "i was barely 22" (three tokens)
        SELF => tokens_back(text, start, 3),
        // "(^|blanks)- 19": the blanks before the dash, two tokens back
        _ => tokens_back(text, start, 2),
    }
}

/// `at` moved back over `n` runs of whitespace each followed (leftwards) by a run of other
/// chars: the start of the `n`th whitespace-separated token before `at` (or of the text).
fn tokens_back(text: &str, at: usize, n: usize) -> usize {
    let mut p = at;
    for _ in 0..n {
        p = back(text, p, char::is_whitespace);
        p = back(text, p, |c| !c.is_whitespace());
    }
    p
}

/// The patterns whose tie holds around the digits `text[start..end]`.
fn around(text: &str, start: usize, end: usize) -> u8 {
    let b = text.as_bytes();
    // every tie has a space or a cue letter right beside the digits (`:`, `=`, `-` before;
    // `+` after); a non-ASCII byte may start a Unicode space
    let space = |c: u8| matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') || !c.is_ascii();
    let tie_before = start
        .checked_sub(1)
        .is_some_and(|k| space(b[k]) || matches!(b[k], b':' | b'=' | b'-'));
    let tie_after = b.get(end).is_some_and(|&c| {
        space(c) || matches!(c.to_ascii_lowercase(), b'+' | b'-' | b'y' | b'a' | b'o')
    });
    let mut found = 0;
    if tie_before {
        found |= ties_before(text, start);
    }
    if tie_after {
        found |= ties_after(text, end);
    }
    found
}

/// The ties that end at the digits starting at `start`.
fn ties_before(text: &str, start: usize) -> u8 {
    let mut found = 0;
    // CUE_BEFORE: ages?|aged|edad, [\s:=\-]*, (is|of)\s+ optionally, :?\s*, the digits
    let filler = |c: char| c.is_whitespace() || matches!(c, ':' | '=' | '-');
    let p = back(text, start, filler);
    let cue = |t: &Tail| t.ends(b"age") || t.ends(b"ages") || t.ends(b"aged") || t.ends(b"edad");
    let before_cue = Tail::at(text, p);
    if cue(&before_cue)
        || ((before_cue.ends(b"is") || before_cue.ends(b"of"))
            && cue(&Tail::at(text, back(text, p - 2, filler))))
    {
        found |= BEFORE;
    }
    let spaced = back(text, start, char::is_whitespace);
    if spaced < start {
        // mostly only spaces sit before the digits: the same tail again
        let t = if spaced == p {
            before_cue
        } else {
            Tail::at(text, spaced)
        };
        // MINIMUM: must be|at least|minimum age( is)|over the age of, \s+, the digits
        if [&b"be"[..], b"least", b"age", b"is", b"of"]
            .iter()
            .any(|w| t.ends(w))
        {
            found |= MINIMUM;
        }
        // SELF: i'm|im|i am|i was|tengo, \s+, an adverb and \s+ optionally, the digits
        let self_words: [&[u8]; 11] = [
            b"im", b"i'm", b"am", b"was", b"tengo", b"only", b"just", b"about", b"almost",
            b"barely", b"turning",
        ];
        if self_words.iter().any(|w| t.ends(w)) {
            found |= SELF;
        }
    }
    // TITLE: a dash, [^\S\n]+, the digits
    let blank = back(text, start, |c| c.is_whitespace() && c != '\n');
    if blank < start && text[..blank].ends_with('-') {
        found |= TITLE;
    }
    found
}

/// The last (up to) eight bytes before a position, ASCII-lower-cased, for comparing cue words.
struct Tail {
    bytes: [u8; 8],
    len: usize,
}

impl Tail {
    fn at(text: &str, at: usize) -> Tail {
        let from = at.saturating_sub(8);
        let mut bytes = [0u8; 8];
        let len = at - from;
        bytes[..len].copy_from_slice(&text.as_bytes()[from..at]);
        bytes[..len].make_ascii_lowercase();
        Tail { bytes, len }
    }

    /// Does the text end with `word` (lower-case ASCII)?
    fn ends(&self, word: &[u8]) -> bool {
        self.bytes[..self.len].ends_with(word)
    }
}

/// The ties that start right after the digits ending at `end`.
fn ties_after(text: &str, end: usize) -> u8 {
    let mut found = 0;
    // CUE_AFTER: the digits, \s*\+?[\s\-]*, yo|y/o|y.o|yrs?|years?|anos|años
    let q = fwd(text, end, |c| c.is_whitespace() || c == '+' || c == '-');
    // (every cue starts with "y" or "a")
    let first = text.as_bytes().get(q).map(u8::to_ascii_lowercase);
    let after = matches!(first, Some(b'y' | b'a'))
        && (["yo", "y/o", "y.o", "yr", "year", "anos"]
            .iter()
            .any(|w| starts(text, q, w))
            || (starts(text, q, "a")
                && ["\u{f1}", "\u{d1}"].iter().any(|n| starts(text, q + 1, n))
                && starts(text, q + 3, "os")));
    if after {
        found |= AFTER;
    }
    // MINIMUM: the digits, \s*, or|and, \s+, older|over|above|up
    let q = fwd(text, end, char::is_whitespace);
    let first = text.as_bytes().get(q).map(u8::to_ascii_lowercase);
    let or_and = matches!(first, Some(b'o' | b'a'))
        && ["or", "and"].iter().any(|w| {
            starts(text, q, w) && {
                let r = fwd(text, q + w.len(), char::is_whitespace);
                ["older", "over", "above", "up"]
                    .iter()
                    .any(|o| starts(text, r, o))
            }
        });
    if or_and {
        found |= MINIMUM;
    }
    found
}

/// Does `text[at..]` start with `word`, ASCII-case-insensitively?
fn starts(text: &str, at: usize, word: &str) -> bool {
    text.as_bytes()
        .get(at..at + word.len())
        .is_some_and(|x| x.eq_ignore_ascii_case(word.as_bytes()))
}

/// Where a backward skip over chars matching `skip`, from `at`, stops. (Byte by byte while the
/// text is ASCII, which it mostly is; char by char from the first other byte.)
fn back(text: &str, at: usize, skip: impl Fn(char) -> bool) -> usize {
    let b = text.as_bytes();
    let mut p = at;
    while p > 0 && b[p - 1].is_ascii() {
        if !skip(char::from(b[p - 1])) {
            return p;
        }
        p -= 1;
    }
    for c in text[..p].chars().rev() {
        if !skip(c) {
            break;
        }
        p -= c.len_utf8();
    }
    p
}

/// Where a forward skip over chars matching `skip`, from `at`, stops (ASCII byte by byte, as
/// [`back`]).
fn fwd(text: &str, at: usize, skip: impl Fn(char) -> bool) -> usize {
    let b = text.as_bytes();
    let mut q = at;
    while q < b.len() && b[q].is_ascii() {
        if !skip(char::from(b[q])) {
            return q;
        }
        q += 1;
    }
    for c in text[q..].chars() {
        if !skip(c) {
            break;
        }
        q += c.len_utf8();
    }
    q
}
