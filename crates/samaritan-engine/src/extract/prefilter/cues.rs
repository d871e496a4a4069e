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
//! non-ASCII literals the patterns need (`€`, `£`, `¥`, `₹`) are
//! cues of their own.

use std::sync::LazyLock;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored};
use rustc_hash::FxHashMap;

use crate::extract::platforms::{PLATFORM_PAIRS, PLATFORM_WORDS};

/// A set of cues, one bit each.
pub(crate) type Cue = u64;

// (the age patterns are gated by `age_gate`, which looks beside the digits)
// price (normalized text)
/// A currency `AMOUNT` can name: $, usd, eur(os), rm, thb, dollars, bucks, gbp, roses,
/// donations, candies, € £ ¥ ₹.
pub(crate) const CURRENCY: Cue = 1 << 0;
// e-mail (clean text)
pub(crate) const AT_SIGN: Cue = 1 << 1;
pub(crate) const DOT_WORD: Cue = 1 << 2;
pub(crate) const AT_WORD: Cue = 1 << 3;
// URL and ccTLD hints (clean text)
/// `://` or `www.`
pub(crate) const SCHEME_OR_WWW: Cue = 1 << 4;
/// A dot followed by a letter (every top-level domain).
pub(crate) const DOT_LETTER: Cue = 1 << 5;
/// `.com.`, `.co.`, `.net.`, `.org.`, `.gov.`, `.ac.`, `.edu.` (a second-level label before a ccTLD).
pub(crate) const SECOND_LEVEL: Cue = 1 << 6;
/// `+` (a country code).
pub(crate) const PLUS: Cue = 1 << 7;
// payment (clean text)
pub(crate) const CASH: Cue = 1 << 8;
pub(crate) const VENMO: Cue = 1 << 9;
pub(crate) const PAYPAL: Cue = 1 << 10;
// handles (clean text)
/// A profile URL's site followed by `/`.
pub(crate) const PROFILE_SITE: Cue = 1 << 11;
/// A platform whose IDs are phone numbers (the words `mentions_numbered_platform` looks for).
pub(crate) const NUMBERED_PLATFORM: Cue = 1 << 12;
/// A platform name as a whole word (the word-bounded scan's one cue, see
/// [`may_name_platform`]).
const PLATFORM_WORD: Cue = 1 << 13;
// e-mail, spelled with "at" and a plain "." (clean text)
/// A provider a plain-English "name at X.com" may name (`email::KNOWN`, by the literals every
/// one of them contains).
pub(crate) const EMAIL_PROVIDER: Cue = 1 << 14;
/// `(`, `[`, `{` or `<` (a bracketed "(at)" takes any domain).
pub(crate) const OPEN_BRACKET: Cue = 1 << 15;

const LITERALS: &[(&str, Cue)] = &[
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
    ("tg", NUMBERED_PLATFORM),
    ("mail", EMAIL_PROVIDER),
    ("yahoo", EMAIL_PROVIDER),
    ("outlook", EMAIL_PROVIDER),
    ("aol", EMAIL_PROVIDER),
    ("icloud", EMAIL_PROVIDER),
    ("live", EMAIL_PROVIDER),
    ("msn", EMAIL_PROVIDER),
    ("gmx", EMAIL_PROVIDER),
    ("(", OPEN_BRACKET),
    ("[", OPEN_BRACKET),
    ("{", OPEN_BRACKET),
    ("<", OPEN_BRACKET),
];

struct Scanner {
    ac: AhoCorasick,
    /// The same automaton as a dense table (see [`Table`]); `None` only if the DFA could not be
    /// read back (a build setting, never input): then the iterator answers.
    table: Option<Table>,
    /// The cue of each pattern, in pattern order (the literals, then `.a` … `.z`).
    cue: Vec<Cue>,
}

/// The cue automaton flattened to a dense table: a scan is one table load and one OR per byte,
/// with no branch on match states (the DFA's own stepping checks for a special state at every
/// byte, and common literals such as "at" make that check true often).
///
/// Bytes that every state treats alike share a class (all bytes no literal holds are one
/// class), so a row has one entry per class rather than per byte: 263 states × 40 classes ×
/// 4 bytes ≈ 42 KB for the cue literals, against 538 KB with a row of 256.
struct Table {
    /// The class of each byte.
    class: [u8; 256],
    /// `next[row + class]`: the next state's row (its index times the class count) in the low
    /// 16 bits, and in the high 16 bits the cues of every literal that ends on entering it.
    next: Vec<u32>,
    /// The number of classes (the length of a row; read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    classes: usize,
    /// How far the pieces of a long text overlap: the longest literal's length less one.
    overlap: usize,
}

impl Table {
    /// Reads every state reachable from the unanchored start state out of `dfa`; `None` when
    /// the table would not fit its 16-bit fields (a build setting, never input). `longest`:
    /// the longest literal's length in bytes.
    fn of(dfa: &DFA, cue: &[Cue], longest: usize) -> Option<Table> {
        let start = dfa.start_state(Anchored::No).ok()?;
        let mut index: FxHashMap<StateID, u32> = FxHashMap::default();
        let mut states = vec![start];
        index.insert(start, 0);
        // by state, the next state's index for each byte
        let mut rows: Vec<[u32; 256]> = Vec::new();
        let mut k = 0;
        while k < states.len() {
            let sid = states[k];
            let mut row = [0u32; 256];
            for b in 0..=255u8 {
                let to = dfa.next_state(Anchored::No, sid, b);
                row[usize::from(b)] = match index.get(&to) {
                    Some(&i) => i,
                    None => {
                        let i = u32::try_from(states.len()).ok()?;
                        index.insert(to, i);
                        states.push(to);
                        i
                    }
                };
            }
            rows.push(row);
            k += 1;
        }
        // two bytes share a class when every state sends them to the same state
        let mut class = [0u8; 256];
        let mut columns: Vec<Vec<u32>> = Vec::new();
        for b in 0..256 {
            let column: Vec<u32> = rows.iter().map(|r| r[b]).collect();
            let c = match columns.iter().position(|c| *c == column) {
                Some(c) => c,
                None => {
                    columns.push(column);
                    columns.len() - 1
                }
            };
            class[b] = u8::try_from(c).ok()?;
        }
        let classes = columns.len();
        let found: Vec<Cue> = states
            .iter()
            .map(|&sid| {
                if !dfa.is_match(sid) {
                    return 0;
                }
                (0..dfa.match_len(sid))
                    .map(|i| cue[dfa.match_pattern(sid, i).as_usize()])
                    .fold(0, |a, c| a | c)
            })
            .collect();
        let mut next = Vec::with_capacity(rows.len() * classes);
        for row in &rows {
            for column in 0..classes {
                // any byte of the class stands for it
                let b = class.iter().position(|&c| usize::from(c) == column)?;
                let to = row[b] as usize;
                let to_row = u32::try_from(to * classes).ok().filter(|&r| r <= 0xFFFF)?;
                let cues = u32::try_from(found[to]).ok().filter(|&c| c <= 0xFFFF)?;
                next.push(to_row | cues << 16);
            }
        }
        Some(Table {
            class,
            next,
            classes,
            overlap: longest.saturating_sub(1),
        })
    }

    /// The cues in `text`. A long text is cut into [`LANES`] pieces read side by side: each
    /// step of one piece waits on its previous table load, so independent pieces overlap those
    /// waits. A piece starts `overlap` bytes (the longest literal less one) before the end of
    /// the piece before it, so every literal lies whole inside some piece (a literal ending in
    /// piece `k` starts at most `overlap` bytes before it).
    ///
    /// `edge`: a byte read as if it stood before the text and after it (the word-bounded
    /// scan's boundary), or `None`.
    fn scan(&self, text: &[u8], edge: Option<u8>) -> Cue {
        let overlap = self.overlap;
        let piece = text.len() / LANES;
        // the first piece starts after the leading edge
        let first_row = edge.map_or(0, |e| (self.step(0, e) & 0xFFFF) as usize);
        // the last piece ends with the trailing edge
        let close = |row: usize| edge.map_or(0, |e| self.step(row, e));
        if piece < 2 * overlap.max(8) {
            let (row, found) = self.run(first_row, text);
            return Cue::from((found | close(row)) >> 16);
        }
        // piece `k` covers `k * piece - overlap .. (k + 1) * piece` (the last to the end)
        let bounds: [(usize, usize); LANES] = std::array::from_fn(|k| {
            let start = (k * piece).saturating_sub(overlap);
            let end = if k + 1 == LANES {
                text.len()
            } else {
                (k + 1) * piece
            };
            (start, end)
        });
        let shortest = bounds.iter().map(|(s, e)| e - s).min().unwrap_or(0);
        let mut rows = [0usize; LANES];
        rows[0] = first_row;
        let mut found = [0u32; LANES];
        for i in 0..shortest {
            for k in 0..LANES {
                let b = text.get(bounds[k].0 + i).copied().unwrap_or(0);
                let t = self.step(rows[k], b);
                rows[k] = (t & 0xFFFF) as usize;
                found[k] |= t;
            }
        }
        let mut all = 0;
        for k in 0..LANES {
            let rest = text.get(bounds[k].0 + shortest..bounds[k].1).unwrap_or(&[]);
            let (row, f) = self.run(rows[k], rest);
            all |= found[k] | f;
            if k + 1 == LANES {
                all |= close(row);
            }
        }
        Cue::from(all >> 16)
    }

    /// Reads `text` from the state at `row`: the state reached and the entries' OR.
    fn run(&self, mut row: usize, text: &[u8]) -> (usize, u32) {
        let mut found: u32 = 0;
        for &b in text {
            let t = self.step(row, b);
            row = (t & 0xFFFF) as usize;
            found |= t;
        }
        (row, found)
    }

    /// The entry for byte `b` in the state at `row`.
    #[inline(always)]
    fn step(&self, row: usize, b: u8) -> u32 {
        self.next
            .get(row + usize::from(self.class[usize::from(b)]))
            .copied()
            .unwrap_or(0)
    }
}

/// How many pieces of a long text [`Table::scan`] reads side by side.
const LANES: usize = 4;

/// The word-bounded scan reads every byte as one of: a lower-case letter (upper case folded),
/// [`WORD_OTHER`] (a digit or `_`: word characters for `(?-u:\b)`), [`EDGE`] (any other ASCII
/// byte, and the text's two ends) or [`WIDE`] (a byte of a non-ASCII character, which
/// `(?-u:\b)` also counts as no word character).
const WORD_OTHER: u8 = b'0';
const EDGE: u8 = b' ';
const WIDE: u8 = 0x80;

const fn canonical(b: u8) -> u8 {
    if b.is_ascii_alphabetic() {
        b.to_ascii_lowercase()
    } else if b.is_ascii_digit() || b == b'_' {
        WORD_OTHER
    } else if b.is_ascii() {
        EDGE
    } else {
        WIDE
    }
}

/// Can the handle extractor's `LABEL` pattern match in `text`? `false` only when no platform
/// name stands in it as a whole word. Every match of the pattern is a name with no word
/// character on either side: an ASCII non-word byte ([`EDGE`]), a byte of a non-ASCII character
/// ([`WIDE`]) or an end of the text (read as an [`EDGE`]); a two-word name has one whitespace
/// character between its words, ASCII or a Unicode space of two or three bytes. The scan looks
/// for exactly those byte sequences, so it answers `true` for every text the pattern matches in
/// (and for a few more, such as a name between two non-space `WIDE` characters, where the
/// pattern then runs and decides).
pub(crate) fn may_name_platform(text: &str) -> bool {
    match &*WORD_TABLE {
        Some(t) => t.scan(text.as_bytes(), Some(EDGE)) != 0,
        None => true,
    }
}

/// Builds the word-bounded scanner: every name with each boundary on each side, over the
/// canonical bytes, then the table's byte classes composed with [`canonical`]. `None` only if
/// the DFA could not be read back (a build setting): then every text may name a platform.
static WORD_TABLE: LazyLock<Option<Table>> = LazyLock::new(|| {
    let mut names: Vec<Vec<u8>> = PLATFORM_WORDS
        .iter()
        .map(|w| w.as_bytes().to_vec())
        .collect();
    for (first, second) in PLATFORM_PAIRS {
        for gap in [&[EDGE][..], &[WIDE, WIDE], &[WIDE, WIDE, WIDE]] {
            names.push([first.as_bytes(), gap, second.as_bytes()].concat());
        }
    }
    let mut pats: Vec<Vec<u8>> = Vec::new();
    for name in &names {
        for left in [EDGE, WIDE] {
            for right in [EDGE, WIDE] {
                pats.push([&[left][..], name, &[right]].concat());
            }
        }
    }
    let longest = pats.iter().map(Vec::len).max().unwrap_or(0);
    DFA::builder().build(&pats).ok().and_then(|dfa| {
        let cue = vec![PLATFORM_WORD; pats.len()];
        let mut t = Table::of(&dfa, &cue, longest)?;
        let by_canonical = t.class;
        for b in 0..=255u8 {
            t.class[usize::from(b)] = by_canonical[usize::from(canonical(b))];
        }
        Some(t)
    })
});

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
    let dfa = DFA::builder()
        .ascii_case_insensitive(true)
        .build(&pats)
        .expect("constant cue literals compile");
    let longest = pats.iter().map(String::len).max().unwrap_or(0);
    let table = Table::of(&dfa, &cue, longest);
    Scanner { ac, table, cue }
});

/// The cues one text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cues {
    found: Cue,
}

impl Cues {
    /// Every gate open: extraction with these is the reference the gated one is checked against
    /// (`extract::tests::cue_gate_changes_nothing`).
    #[cfg(test)]
    pub(crate) const OPEN: Cues = Cues { found: Cue::MAX };

    /// Scans `text` once.
    pub(crate) fn of(text: &str) -> Cues {
        match &SCANNER.table {
            Some(t) => Cues {
                found: t.scan(text.as_bytes(), None),
            },
            None => Cues::of_iter(text),
        }
    }

    /// [`Cues::of`] through the overlapping iterator (the reference the table scan is checked
    /// against, and its fallback).
    fn of_iter(text: &str) -> Cues {
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

    /// [`may_name_platform`] for the text these cues are of (always, with every gate open).
    pub(crate) fn may_name_platform(&self, text: &str) -> bool {
        #[cfg(test)]
        if self.found == Cues::OPEN.found {
            return true;
        }
        may_name_platform(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literals_case_insensitively() {
        let c = Cues::of("Call me on WhatsApp, I'M 21 - $200 at jane@x.COM");
        assert!(c.has(NUMBERED_PLATFORM));
        assert!(c.has(CURRENCY));
        assert!(c.has(AT_SIGN));
        assert!(c.has(DOT_LETTER));
        assert!(!c.has(VENMO));
        assert!(!c.may(VENMO));
        assert!(!c.has(SCHEME_OR_WWW));
    }

    proptest::proptest! {
        /// The table scan finds the same cues as the overlapping iterator.
        #[test]
        fn table_scan_agrees_with_the_iterator(
            parts in proptest::collection::vec(
                "(cash|venmo|PayPal|whats|line|@|dot|at|://|www\\.|\\.com\\.|\\.[a-z]|\\+|\\$|€|roses|usd|t\\.me/|[a-zA-Z ]{1,4}|[^a-z]{1,2})",
                0..12,
            ),
        ) {
            let t: String = parts.concat();
            proptest::prop_assert_eq!(Cues::of(&t), Cues::of_iter(&t));
        }

        /// Long texts, read in pieces side by side, too.
        #[test]
        fn pieces_agree_with_the_iterator(
            parts in proptest::collection::vec(
                "(cash|venmo|whats|line|@|dot|at|://|www\\.|\\.com\\.|\\.[a-z]|\\+|\\$|€|roses|t\\.me/|snapchat\\.com/add/|[a-zA-Z ]{1,30}|[^a-z]{1,2})",
                20..200,
            ),
        ) {
            let t: String = parts.concat();
            proptest::prop_assert_eq!(Cues::of(&t), Cues::of_iter(&t));
        }
    }

    /// Every literal at every position of a text long enough to be read in pieces, so each
    /// lies across each seam between pieces once.
    #[test]
    fn literals_across_the_seams_are_found() {
        let len = 300;
        for (lit, cue) in LITERALS {
            for at in 0..=len - lit.len() {
                let t = format!(
                    "{}{lit}{}",
                    "q".repeat(at),
                    "q".repeat(len - at - lit.len())
                );
                let c = Cues::of(&t);
                assert_eq!(c, Cues::of_iter(&t), "{lit:?} at {at}");
                assert!(c.has(*cue), "{lit:?} at {at}");
            }
        }
    }

    #[test]
    fn the_table_is_built() {
        let t = SCANNER.table.as_ref();
        let classes = t.map_or(0, |t| t.classes);
        let states = t.map_or(0, |t| t.next.len() / t.classes.max(1));
        // one row per state, one entry per class; the whole table within 64 KB
        assert!(t.is_some_and(|t| t.next.len() % t.classes == 0));
        assert!((100..1024).contains(&states), "{states}");
        assert!((2..64).contains(&classes), "{classes}");
        assert!(t.is_some_and(|t| t.next.len() * 4 <= 64 * 1024));
    }

    #[test]
    fn non_ascii_cues() {
        let c = Cues::of("tengo 22 AÑOS – 200€ Sweet -\u{2009}19");
        assert!(c.may(CURRENCY));
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

    /// Does the handle extractor's platform-name pattern match?
    fn label_matches(t: &str) -> bool {
        crate::extract::platforms::LABEL.is_match(t)
    }

    #[test]
    fn platform_words_are_whole_words() {
        assert!(WORD_TABLE.is_some());
        for t in [
            "signal",
            "Add me on IG: jane",
            "x",
            "x.com",
            "whats app",
            "WhatsApp\u{a0}me",
            "we\u{3000}chat",
            "café·insta·",
        ] {
            assert!(may_name_platform(t), "{t:?}");
        }
        for t in [
            "Nice flat in town, call me tonight",
            "big night, sweet exit",
            "my_ig",
            "ig2",
            "whats  app",
            "",
        ] {
            assert!(!may_name_platform(t), "{t:?}");
            assert!(!label_matches(t), "{t:?}");
        }
    }

    /// A name at every position of a text long enough to be read in pieces.
    #[test]
    fn platform_words_across_the_seams_are_found() {
        let len = 300;
        for name in ["instagram", "x", "we chat", "whats\u{2009}app", "signal"] {
            for at in 1..len - name.len() - 1 {
                let t = format!(
                    "{} {name} {}",
                    "q".repeat(at - 1),
                    "q".repeat(len - at - name.len() - 1)
                );
                assert!(may_name_platform(&t), "{name:?} at {at}");
            }
        }
    }

    proptest::proptest! {
        /// Wherever the pattern matches, the gate lets it run.
        #[test]
        fn the_platform_gate_never_hides_a_match(
            parts in proptest::collection::vec(
                "(instagram|Insta|IG|snapchat|snap|SC|telegram|tg|whats|WHATS|app|App|watsapp|whatsap|kik|twitter|x|X|facebook|fb|we|We|chat|wechat|viber|line|onlyfans|tiktok|skype|signal|[a-z0-9]{1,3}|[ _.\\-@:/\\t\\n\\r]{1,2}|\u{a0}|\u{2009}|\u{3000}|\u{1680}|é|€)",
                0..40,
            ),
        ) {
            let t: String = parts.concat();
            if label_matches(&t) {
                proptest::prop_assert!(may_name_platform(&t), "{:?}", t);
            }
        }
    }
}
