//! Normalization: read an ad the way a seasoned reviewer does.
//!
//! Posters disguise the words and numbers that filters look for. [`normalize`] undoes the
//! disguises and keeps an offset map so every later result points at the *original* bytes.
//!
//! Two phases:
//!
//! 1. **Characters** (`unicode`): invisible and format characters are removed; keycap digits
//!    lose their keycap; NFKC folds full-width, circled, superscript and mathematical letters and
//!    digits to ASCII; small capitals and enclosed letters that NFKC leaves alone are folded; and
//!    Latin look-alikes from Cyrillic, Greek, Armenian and Cherokee are folded *only* inside
//!    Latin context — in a word that also has Latin letters, or in a word made only of
//!    look-alikes whose nearest neighbouring words are Latin. Russian or Greek text stays as it
//!    is. The result of this phase is kept as [`Normalized::clean`] for identifiers (handles,
//!    e-mails, URLs, payment tags), which must keep their digits and letters as written.
//!
//! 2. **Words and numbers** (`token_rewrite`, gated by `rewrite_gate`), on the cleaned text:
//!    - *Spaced-out words*: four or more single letters separated by one repeated separator
//!      ("y o u n g", "o-b-s-e-s-s-i-o-n") are joined.
//!    - *Leetspeak*: a digit 0 1 3 4 5 7 (runs of at most two) with letters on both sides, in a
//!      word of at least two letters, becomes o i e a s t ("y0ung", "fr3sh", "h0t").
//!    - *Numbers*: a token is *numeric* when it is made only of digits, number words (English,
//!      Spanish), homophones (for/fore 4, to/too 2, ate 8, oh 0) and digit-like letters (o/O 0,
//!      l/I 1), glued or not ("for80", "2sixseven", "FouR"). Numeric tokens separated by at most
//!      six non-alphanumeric characters (at most two line breaks) form a *run*; weak tokens
//!      (a lone homophone or letter) at either end of a run are dropped from it. Then:
//!      - a run worth **eight or more digits** is a number written out (a phone): every token
//!        in it is converted, homophones and letters included ("for80 2sixseven one9zerofor"
//!        → "480 267 1904", "four oh four…");
//!      - in a shorter run, a *phrase* (consecutive tokens forming one number, e.g. "twenty one",
//!        "one hundred fifty", "treinta y dos") is converted when it holds a real number word
//!        and either names a value of two digits or more by itself (teens, tens, hundred,
//!        thousand: "nineteen", "twenty one"), or is glued to digits or other number words
//!        ("one00", "9four5"), or is followed by a unit (years, yrs, yo, hours, hr, min, años,
//!        horas …: "five years", "one hour"). A lone digit word ("one of a kind", "two girls"),
//!        a lone homophone ("looking for fun") and Spanish "once" on their own are left alone.
//!
//! Case is kept everywhere (handles are case-sensitive); matchers compare ASCII-case-insensitively.
//! Every change is recorded in the offset map; changes that undid a disguise are marked
//! obfuscated ([`Normalized::is_obfuscated`]). Normalization is idempotent.

mod confusables;
mod numbers;
mod offsets;
mod rewrite_gate;
mod token_rewrite;
mod token_rules;
mod unicode;

use std::ops::Range;

pub(crate) use offsets::OffsetMap;

/// An ad's text as a reviewer reads it, with the way back to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The normalized text (see the module doc for what changed).
    pub text: String,
    /// Offset map `text` → original.
    map: OffsetMap,
    /// The text after phase 1 only, when it differs from the original.
    clean: Option<String>,
    /// Offset map `clean` → original.
    clean_map: OffsetMap,
}

impl Normalized {
    /// Byte range in the normalized text → byte range in the original (on char boundaries).
    ///
    /// A range that starts or ends inside a replaced stretch widens to the whole stretch;
    /// removed invisible characters at either edge are left out.
    pub fn original_span(&self, norm: Range<usize>) -> Range<usize> {
        let start = self.map.start(norm.start);
        let end = self.map.end(norm.end).max(start);
        start..end
    }

    /// True if any part of that normalized range came from an obfuscated form.
    pub fn is_obfuscated(&self, norm: Range<usize>) -> bool {
        self.map.obfuscated(&norm)
    }

    /// The text after the character phase only (identifiers are read from it), or `None` when
    /// that equals the original.
    pub(crate) fn clean(&self) -> Option<&str> {
        self.clean.as_deref()
    }

    /// Byte range in [`Normalized::clean`] text → byte range in the original.
    pub(crate) fn clean_span(&self, r: Range<usize>) -> Range<usize> {
        let start = self.clean_map.start(r.start);
        let end = self.clean_map.end(r.end).max(start);
        start..end
    }

    /// True if part of a range of the clean text came from an obfuscated form.
    pub(crate) fn clean_obfuscated(&self, r: Range<usize>) -> bool {
        self.clean_map.obfuscated(&r)
    }
}

/// Normalizes an ad's document (`title + "\n" + body`). Pure and total: any string is accepted.
pub fn normalize(original: &str) -> Normalized {
    match unicode::clean(original) {
        None => {
            let (text, map) = token_rewrite::rewrite(original);
            Normalized {
                text,
                map,
                clean: None,
                clean_map: OffsetMap::default(),
            }
        }
        Some((clean, clean_map)) => {
            let (text, map2) = token_rewrite::rewrite(&clean);
            let map = map2.compose(&clean_map);
            Normalized {
                text,
                map,
                clean: Some(clean),
                clean_map,
            }
        }
    }
}
