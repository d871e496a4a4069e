//! One pass per text that tells each extractor whether its patterns can match at all.
//!
//! Every extractor pattern needs some literal to be present ("age", "@", "venmo", "://" …).
//! A single ASCII-case-insensitive Aho-Corasick scan finds which of those literals a text holds;
//! an extractor whose literals are all absent cannot match and is skipped, so most documents
//! run only a few of the patterns.
//!
//! The gate is exact, never a heuristic: a pattern is skipped only when a literal every one of
//! its matches must contain is missing. The patterns are Unicode-case-insensitive (`(?i)`),
//! and in Unicode the ASCII letters `s` and `k` have two non-ASCII case variants, `ſ` (U+017F)
//! and the Kelvin sign (U+212A); an ASCII-case-insensitive scan would miss a pattern word
//! written with them. Neither can reach an extractor: NFKC folds both to ASCII in the
//! character phase, and the texts extractors read (the normalized text, the character-cleaned
//! text, or the original when cleaning changed nothing) never hold them (tested below). The
//! non-ASCII literals the patterns need ("años", `€`, Unicode spaces after a title dash) are
//! cues of their own.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};

/// A set of cues, one bit each.
pub(crate) type Cue = u64;

// age (normalized text)
/// `CUE_BEFORE`: ages?, aged, edad.
pub(crate) const AGE_BEFORE: Cue = 1 << 0;
/// `CUE_AFTER`: yo, y/o, y.o, yrs?, years?, anos, años.
pub(crate) const AGE_AFTER: Cue = 1 << 1;
/// `MINIMUM`: or/and older|over|above|up, must be, at least, minimum age, over the age of.
pub(crate) const AGE_MINIMUM: Cue = 1 << 2;
/// `SELF`: i'm, im, i am, i was, tengo.
pub(crate) const AGE_SELF: Cue = 1 << 3;
/// `TITLE`: a dash followed by a space that is not a line break (Unicode `White_Space`).
pub(crate) const AGE_TITLE: Cue = 1 << 4;
// price (normalized text)
/// A currency `AMOUNT` can name: $, usd, eur(os), rm, thb, dollars, bucks, gbp, roses,
/// donations, candies, € £ ¥ ₹.
pub(crate) const CURRENCY: Cue = 1 << 5;
// e-mail (clean text)
pub(crate) const AT_SIGN: Cue = 1 << 6;
pub(crate) const DOT_WORD: Cue = 1 << 7;
pub(crate) const AT_WORD: Cue = 1 << 8;
// URL and ccTLD hints (clean text)
/// `://` or `www.`
pub(crate) const SCHEME_OR_WWW: Cue = 1 << 9;
/// A dot followed by a letter (every top-level domain).
pub(crate) const DOT_LETTER: Cue = 1 << 10;
/// `.com.`, `.co.`, `.net.`, `.org.`, `.gov.`, `.ac.`, `.edu.` (a second-level label before a ccTLD).
pub(crate) const SECOND_LEVEL: Cue = 1 << 11;
/// `+` (a country code).
pub(crate) const PLUS: Cue = 1 << 12;
// payment (clean text)
pub(crate) const CASH: Cue = 1 << 13;
pub(crate) const VENMO: Cue = 1 << 14;
pub(crate) const PAYPAL: Cue = 1 << 15;
// handles (clean text)
/// A profile URL's site followed by `/`.
pub(crate) const PROFILE_SITE: Cue = 1 << 16;
/// A platform whose IDs are phone numbers (the words `mentions_numbered_platform` looks for).
pub(crate) const NUMBERED_PLATFORM: Cue = 1 << 17;

const LITERALS: &[(&str, Cue)] = &[
    ("age", AGE_BEFORE),
    ("edad", AGE_BEFORE),
    ("yo", AGE_AFTER),
    ("y/o", AGE_AFTER),
    ("y.o", AGE_AFTER),
    ("yr", AGE_AFTER),
    ("year", AGE_AFTER),
    ("anos", AGE_AFTER),
    ("años", AGE_AFTER),
    ("aÑos", AGE_AFTER),
    ("older", AGE_MINIMUM),
    ("over", AGE_MINIMUM),
    ("above", AGE_MINIMUM),
    ("up", AGE_MINIMUM),
    ("must", AGE_MINIMUM),
    ("least", AGE_MINIMUM),
    ("minimum", AGE_MINIMUM),
    ("i'm", AGE_SELF),
    ("im", AGE_SELF),
    ("am", AGE_SELF),
    ("was", AGE_SELF),
    ("tengo", AGE_SELF),
    ("- ", AGE_TITLE),
    ("-\t", AGE_TITLE),
    ("-\r", AGE_TITLE),
    ("-\x0B", AGE_TITLE),
    ("-\x0C", AGE_TITLE),
    ("-\u{85}", AGE_TITLE),
    ("-\u{A0}", AGE_TITLE),
    ("-\u{1680}", AGE_TITLE),
    ("-\u{2000}", AGE_TITLE),
    ("-\u{2001}", AGE_TITLE),
    ("-\u{2002}", AGE_TITLE),
    ("-\u{2003}", AGE_TITLE),
    ("-\u{2004}", AGE_TITLE),
    ("-\u{2005}", AGE_TITLE),
    ("-\u{2006}", AGE_TITLE),
    ("-\u{2007}", AGE_TITLE),
    ("-\u{2008}", AGE_TITLE),
    ("-\u{2009}", AGE_TITLE),
    ("-\u{200A}", AGE_TITLE),
    ("-\u{2028}", AGE_TITLE),
    ("-\u{2029}", AGE_TITLE),
    ("-\u{202F}", AGE_TITLE),
    ("-\u{205F}", AGE_TITLE),
    ("-\u{3000}", AGE_TITLE),
    ("$", CURRENCY),
    ("€", CURRENCY),
    ("£", CURRENCY),
    ("¥", CURRENCY),
    ("₹", CURRENCY),
    ("usd", CURRENCY),
    ("eur", CURRENCY),
    ("rm", CURRENCY),
    ("thb", CURRENCY),
    ("dollars", CURRENCY),
    ("bucks", CURRENCY),
    ("gbp", CURRENCY),
    ("rose", CURRENCY),
    ("donation", CURRENCY),
    ("candies", CURRENCY),
    ("@", AT_SIGN),
    ("dot", DOT_WORD),
    ("at", AT_WORD),
    ("://", SCHEME_OR_WWW),
    ("www.", SCHEME_OR_WWW),
    (".com.", SECOND_LEVEL),
    (".co.", SECOND_LEVEL),
    (".net.", SECOND_LEVEL),
    (".org.", SECOND_LEVEL),
    (".gov.", SECOND_LEVEL),
    (".ac.", SECOND_LEVEL),
    (".edu.", SECOND_LEVEL),
    ("+", PLUS),
    ("cash", CASH),
    ("venmo", VENMO),
    ("paypal", PAYPAL),
    ("instagram.com/", PROFILE_SITE),
    ("instagr.am/", PROFILE_SITE),
    ("twitter.com/", PROFILE_SITE),
    ("x.com/", PROFILE_SITE),
    ("facebook.com/", PROFILE_SITE),
    ("fb.com/", PROFILE_SITE),
    ("snapchat.com/add/", PROFILE_SITE),
    ("t.me/", PROFILE_SITE),
    ("telegram.me/", PROFILE_SITE),
    ("kik.me/", PROFILE_SITE),
    ("tiktok.com/", PROFILE_SITE),
    ("onlyfans.com/", PROFILE_SITE),
    ("wa.me/", PROFILE_SITE),
    ("whats", NUMBERED_PLATFORM),
    ("watsap", NUMBERED_PLATFORM),
    ("viber", NUMBERED_PLATFORM),
    ("signal", NUMBERED_PLATFORM),
    ("telegram", NUMBERED_PLATFORM),
    ("line", NUMBERED_PLATFORM),
];

struct Scanner {
    ac: AhoCorasick,
    /// The cue of each pattern, in pattern order (the literals, then `.a` … `.z`).
    cue: Vec<Cue>,
}

/// Builds the scanner. The literals are constants exercised by the unit tests, so a failure is
/// a programming error found before release, never a reaction to input.
#[allow(clippy::expect_used)]
static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    let mut pats: Vec<String> = LITERALS.iter().map(|(p, _)| (*p).to_owned()).collect();
    let mut cue: Vec<Cue> = LITERALS.iter().map(|(_, c)| *c).collect();
    for l in b'a'..=b'z' {
        pats.push(format!(".{}", l as char));
        cue.push(DOT_LETTER);
    }
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&pats)
        .expect("constant cue literals compile");
    Scanner { ac, cue }
});

/// The cues one text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cues {
    found: Cue,
}

impl Cues {
    /// Scans `text` once.
    pub(crate) fn of(text: &str) -> Cues {
        let s: &Scanner = &SCANNER;
        let mut found: Cue = 0;
        for m in s.ac.find_overlapping_iter(text) {
            found |= s.cue[m.pattern().as_usize()];
        }
        Cues { found }
    }

    /// Can a pattern that needs one of `cue`'s literals match? (See the module doc for why an
    /// ASCII-case-insensitive scan answers this for the patterns' Unicode case-insensitivity.)
    pub(crate) fn may(&self, cue: Cue) -> bool {
        self.has(cue)
    }

    /// Does the text hold one of `cue`'s literals, compared ASCII-case-insensitively?
    pub(crate) fn has(&self, cue: Cue) -> bool {
        self.found & cue != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literals_case_insensitively() {
        let c = Cues::of("Call me on WhatsApp, I'M 21 - $200 at jane@x.COM");
        assert!(c.has(NUMBERED_PLATFORM));
        assert!(c.has(AGE_SELF));
        assert!(c.has(AGE_TITLE));
        assert!(c.has(CURRENCY));
        assert!(c.has(AT_SIGN));
        assert!(c.has(DOT_LETTER));
        assert!(!c.has(VENMO));
        assert!(!c.may(VENMO));
        assert!(!c.has(SCHEME_OR_WWW));
    }

    #[test]
    fn non_ascii_cues() {
        let c = Cues::of("tengo 22 AÑOS – 200€ Sweet -\u{2009}19");
        assert!(c.may(AGE_AFTER));
        assert!(c.may(CURRENCY));
        assert!(c.may(AGE_TITLE));
        assert!(!c.may(VENMO));
    }

    #[test]
    fn extractors_never_read_the_non_ascii_case_variants_of_s_and_k() {
        use crate::normalize::normalize;
        for doc in [
            "ſnapchat: jane \u{212A}ik me 19 yrſ old $200 hour",
            "caſh app $jane, \u{212A}ik: jane, venmo @jane ſite.com",
            "ｙｏｕｎｇ ſweet \u{212A} 200 rose\u{17F}",
        ] {
            let n = normalize(doc);
            for t in [n.text.as_str(), n.clean().unwrap_or(doc)] {
                assert!(!t.contains(['\u{17F}', '\u{212A}']), "{t:?}");
            }
        }
    }
}
