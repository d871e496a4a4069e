//! Number words: the vocabulary of spelled-out digits and how a sequence of them reads as digits.
//!
//! Posters spell numbers to slip past digit filters ("for80 2sixseven", "FouR/0/NiNe",
//! "veintidós"). This module knows the words (English and Spanish, plus the homophones and
//! look-alike letters that stand for digits) and renders a sequence of parts the way a reviewer
//! reads it aloud: digit words digit by digit ("eight one six" → `816`), tens and units as one
//! number ("forty seven" → `47`), multipliers ("4 thousand" → `4000`, "one hundred fifty" → `150`).
//! *When* a word is converted is decided by the caller (`token_rewrite`), not here.

/// One number word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Word {
    /// zero … nine (and Spanish cero … nueve).
    Unit(u8),
    /// ten … nineteen, and whole-word 21–29 in Spanish (veintiuno …): a finished two-digit number.
    Teen(u8),
    /// "once": eleven in Spanish, but an ordinary English word; only read as a number where the
    /// context is already numeric.
    Once,
    /// twenty … ninety.
    Tens(u8),
    /// "hundred": multiplies what precedes it.
    Hundred,
    /// Spanish cien/ciento/doscientos …: a finished hundreds value that tens and units add to.
    Hundreds(u16),
    /// "thousand"/"mil": multiplies what precedes it.
    Thousand,
    /// for/fore (4), to/too (2), ate (8), oh (0): only digits inside a number run.
    Homophone(u8),
    /// Letters drawn like digits: o/O (0), l and I (1); only digits inside a number run.
    Letter(u8),
}

impl Word {
    /// A word that is a number in its own right (not a homophone, letter or ambiguous word).
    pub fn is_real(self) -> bool {
        !matches!(self, Word::Homophone(_) | Word::Letter(_) | Word::Once)
    }

    /// A word that names a value of two or more digits by itself (nineteen, forty, hundred …).
    pub fn is_compound(self) -> bool {
        matches!(
            self,
            Word::Teen(_) | Word::Tens(_) | Word::Hundred | Word::Hundreds(_) | Word::Thousand
        )
    }
}

/// Lower-case, accent-free spellings. Single letters are handled separately (they are
/// case-sensitive: `l` and `I` are ones, `L` and `i` are not).
static WORDS: &[(&str, Word)] = &[
    // English
    ("zero", Word::Unit(0)),
    ("one", Word::Unit(1)),
    ("two", Word::Unit(2)),
    ("three", Word::Unit(3)),
    ("four", Word::Unit(4)),
    ("five", Word::Unit(5)),
    ("six", Word::Unit(6)),
    ("seven", Word::Unit(7)),
    ("eight", Word::Unit(8)),
    ("nine", Word::Unit(9)),
    ("ten", Word::Teen(10)),
    ("eleven", Word::Teen(11)),
    ("twelve", Word::Teen(12)),
    ("thirteen", Word::Teen(13)),
    ("fourteen", Word::Teen(14)),
    ("fifteen", Word::Teen(15)),
    ("sixteen", Word::Teen(16)),
    ("seventeen", Word::Teen(17)),
    ("eighteen", Word::Teen(18)),
    ("nineteen", Word::Teen(19)),
    ("twenty", Word::Tens(20)),
    ("thirty", Word::Tens(30)),
    ("forty", Word::Tens(40)),
    ("fourty", Word::Tens(40)),
    ("fifty", Word::Tens(50)),
    ("sixty", Word::Tens(60)),
    ("seventy", Word::Tens(70)),
    ("eighty", Word::Tens(80)),
    ("ninety", Word::Tens(90)),
    ("hundred", Word::Hundred),
    ("thousand", Word::Thousand),
    ("for", Word::Homophone(4)),
    ("fore", Word::Homophone(4)),
    ("to", Word::Homophone(2)),
    ("too", Word::Homophone(2)),
    ("ate", Word::Homophone(8)),
    ("oh", Word::Homophone(0)),
    // Spanish
    ("cero", Word::Unit(0)),
    ("uno", Word::Unit(1)),
    ("una", Word::Unit(1)),
    ("dos", Word::Unit(2)),
    ("tres", Word::Unit(3)),
    ("cuatro", Word::Unit(4)),
    ("cinco", Word::Unit(5)),
    ("seis", Word::Unit(6)),
    ("siete", Word::Unit(7)),
    ("ocho", Word::Unit(8)),
    ("nueve", Word::Unit(9)),
    ("diez", Word::Teen(10)),
    ("once", Word::Once),
    ("doce", Word::Teen(12)),
    ("trece", Word::Teen(13)),
    ("catorce", Word::Teen(14)),
    ("quince", Word::Teen(15)),
    ("dieciseis", Word::Teen(16)),
    ("diecisiete", Word::Teen(17)),
    ("dieciocho", Word::Teen(18)),
    ("diecinueve", Word::Teen(19)),
    ("veinte", Word::Tens(20)),
    ("veintiuno", Word::Teen(21)),
    ("veintiun", Word::Teen(21)),
    ("veintidos", Word::Teen(22)),
    ("veintitres", Word::Teen(23)),
    ("veinticuatro", Word::Teen(24)),
    ("veinticinco", Word::Teen(25)),
    ("veintiseis", Word::Teen(26)),
    ("veintisiete", Word::Teen(27)),
    ("veintiocho", Word::Teen(28)),
    ("veintinueve", Word::Teen(29)),
    ("treinta", Word::Tens(30)),
    ("cuarenta", Word::Tens(40)),
    ("cincuenta", Word::Tens(50)),
    ("sesenta", Word::Tens(60)),
    ("setenta", Word::Tens(70)),
    ("ochenta", Word::Tens(80)),
    ("noventa", Word::Tens(90)),
    ("cien", Word::Hundreds(100)),
    ("ciento", Word::Hundreds(100)),
    ("doscientos", Word::Hundreds(200)),
    ("trescientos", Word::Hundreds(300)),
    ("cuatrocientos", Word::Hundreds(400)),
    ("quinientos", Word::Hundreds(500)),
    ("seiscientos", Word::Hundreds(600)),
    ("setecientos", Word::Hundreds(700)),
    ("ochocientos", Word::Hundreds(800)),
    ("novecientos", Word::Hundreds(900)),
    ("mil", Word::Thousand),
];

/// Longest letter run we try to read as number words (longer runs are prose or noise).
pub(crate) const MAX_RUN: usize = 48;

/// Folds one char of a letter run to the lower-case ASCII letter used in [`WORDS`]
/// (Spanish accents dropped), or `None` if it cannot be part of a number word.
pub(crate) fn fold(c: char) -> Option<u8> {
    Some(match c {
        'a'..='z' => c as u8,
        'A'..='Z' => c.to_ascii_lowercase() as u8,
        'á' | 'Á' => b'a',
        'é' | 'É' => b'e',
        'í' | 'Í' => b'i',
        'ó' | 'Ó' => b'o',
        'ú' | 'Ú' | 'ü' | 'Ü' => b'u',
        'ñ' | 'Ñ' => b'n',
        _ => return None,
    })
}

/// A letter that stands for a digit: `o`/`O` → 0, `l`/`I` → 1.
pub(crate) fn letter_digit(c: char) -> Option<u8> {
    match c {
        'o' | 'O' => Some(0),
        'l' | 'I' => Some(1),
        _ => None,
    }
}

/// Splits a letter run into number words, fewest words first; `None` if it is not entirely
/// number words. `orig` holds the original chars (for the case-sensitive letters), `folded` their
/// folded bytes, one per char.
pub(crate) fn segment(orig: &[char], folded: &[u8], out: &mut Vec<Word>) -> bool {
    let n = folded.len();
    if n == 0 || n > MAX_RUN || orig.len() != n {
        return false;
    }
    // best[i] = (words used to cover folded[..i], length of the last word, the word)
    let mut best: [Option<(u8, u8, Word)>; MAX_RUN + 1] = [None; MAX_RUN + 1];
    best[0] = Some((0, 0, Word::Unit(0)));
    for i in 0..n {
        let Some((count, _, _)) = best[i] else {
            continue;
        };
        let mut relax = |len: usize, w: Word| {
            let j = i + len;
            if best[j].is_none_or(|(c, _, _)| c > count + 1) {
                best[j] = Some((count + 1, len as u8, w));
            }
        };
        if let Some(d) = letter_digit(orig[i]) {
            relax(1, Word::Letter(d));
        }
        for (wb, k) in bucket(folded[i]) {
            if folded[i..].starts_with(wb) {
                relax(wb.len(), *k);
            }
        }
    }
    if best[n].is_none() {
        return false;
    }
    let start = out.len();
    let mut j = n;
    while j > 0 {
        let Some((_, len, w)) = best[j] else {
            out.truncate(start);
            return false;
        };
        out.push(w);
        j -= len as usize;
    }
    out[start..].reverse();
    true
}

/// [`WORDS`] grouped by first letter (`a`..=`z`), built once.
/// One first letter's words: spelling bytes and the word.
type Bucket = Vec<(&'static [u8], Word)>;

static BY_FIRST: std::sync::LazyLock<[Bucket; 26]> = std::sync::LazyLock::new(|| {
    let mut t: [Bucket; 26] = Default::default();
    for (w, k) in WORDS {
        let b = w.as_bytes();
        t[usize::from(b[0] - b'a')].push((b, *k));
    }
    t
});

fn bucket(first: u8) -> &'static [(&'static [u8], Word)] {
    if first.is_ascii_lowercase() {
        &BY_FIRST[usize::from(first - b'a')]
    } else {
        &[]
    }
}

/// Allocation-free check that an ASCII letter run could be number words (the same words as
/// [`segment`]), so ordinary words are turned away cheaply.
pub(crate) fn could_be_words(run: &[u8]) -> bool {
    let n = run.len();
    if n == 0 || n > MAX_RUN {
        return false;
    }
    if let [a, b, c, ..] = run
        && let Some(k) = trigram(*a, *b, *c)
        && !STARTS[k]
    {
        return false;
    }
    // bit i: run[..i] is whole words
    const _: () = assert!(MAX_RUN < 64);
    let mut reach: u64 = 1;
    for i in 0..n {
        if reach & (1 << i) == 0 {
            continue;
        }
        if letter_digit(run[i] as char).is_some() {
            reach |= 1 << (i + 1);
        }
        let rest = &run[i..];
        for (wb, _) in bucket(fold_letter(rest[0])) {
            let same = |r: &[u8]| r.iter().zip(*wb).all(|(&a, &b)| fold_letter(a) == b);
            if rest.get(..wb.len()).is_some_and(same) {
                reach |= 1 << (i + wb.len());
            }
        }
    }
    reach & (1 << n) != 0
}

/// An ASCII letter in lower case. Cheaper than `to_ascii_lowercase`, and as good wherever the
/// result is only compared with lower-case letters: it is one exactly when `b` is that letter
/// in either case (other bytes land outside `a..=z`).
#[inline]
fn fold_letter(b: u8) -> u8 {
    b | 0x20
}

/// Index of three ASCII letters, case-folded, in [`STARTS`].
fn trigram(a: u8, b: u8, c: u8) -> Option<usize> {
    let f = |x: u8| {
        let l = fold_letter(x);
        l.is_ascii_lowercase().then(|| usize::from(l - b'a'))
    };
    Some((f(a)? * 26 + f(b)?) * 26 + f(c)?)
}

/// For each case-folded letter trigram: can a run of number words start with it? (`o`, `l`
/// and `i` count as one-letter words whatever their case, a superset of [`letter_digit`].)
/// Most prose words are turned away on their first three letters, before the full check.
static STARTS: std::sync::LazyLock<Vec<bool>> = std::sync::LazyLock::new(|| {
    let mut t = vec![false; 26 * 26 * 26];
    for (k, slot) in t.iter_mut().enumerate() {
        // k < 26³, so each letter index is below 26
        let l = |d: usize| b'a' + (d % 26) as u8;
        *slot = starts_words(&[l(k / 676), l(k / 26), l(k)]);
    }
    t
});

/// Is folded `s` a prefix of some run of number words?
fn starts_words(s: &[u8]) -> bool {
    let n = s.len();
    // reach[i]: s[..i] is whole words
    let mut reach = [false; 4];
    reach[0] = true;
    for i in 0..n.min(3) {
        if !reach[i] {
            continue;
        }
        if matches!(s[i], b'o' | b'l' | b'i') {
            reach[i + 1] = true;
        }
        for (w, _) in bucket(s[i]) {
            let k = (n - i).min(w.len());
            if s[i..i + k] == w[..k] {
                if w.len() > n - i {
                    return true; // a word runs past the end of s
                }
                reach[i + w.len()] = true;
            }
        }
    }
    reach[n]
}

/// A piece of a number as written: ASCII digits, or a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Digits(String),
    Word(Word),
    /// "and"/"y" between tens and units or after hundreds ("treinta y dos", "one hundred and
    /// five"); renders as nothing.
    And,
}

/// Renders parts as digits the way they are read aloud (see the module doc).
pub(crate) fn render(parts: &[Part]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < parts.len() {
        let (value, digits, next) = atom(parts, i);
        i = next;
        let mut value = value;
        let mut multiplied = false;
        if let Some(Part::Word(Word::Hundred)) = parts.get(i)
            && (1..=99).contains(&value)
        {
            value *= 100;
            multiplied = true;
            i += 1;
            let (add, n) = below_hundred(parts, i);
            value += add;
            i = n;
        }
        if let Some(Part::Word(Word::Thousand)) = parts.get(i)
            && value <= 999
        {
            value = value.max(1) * 1000;
            multiplied = true;
            i += 1;
            let (add, n) = hundreds_group(parts, i);
            value += add;
            i = n;
        }
        match digits {
            Some(d) if !multiplied => out.push_str(d),
            _ => {
                use std::fmt::Write;
                let _ = write!(out, "{value}");
            }
        }
    }
    out
}

/// The value at `i`, the verbatim digits if it was written in digits, and the next index.
fn atom(parts: &[Part], i: usize) -> (u64, Option<&str>, usize) {
    match &parts[i] {
        Part::Digits(d) => (
            d.parse().unwrap_or(u64::MAX / 10_000),
            Some(d.as_str()),
            i + 1,
        ),
        Part::And => (0, Some(""), i + 1),
        Part::Word(w) => match *w {
            Word::Unit(u) | Word::Homophone(u) | Word::Letter(u) => (u64::from(u), None, i + 1),
            Word::Teen(t) => (u64::from(t), None, i + 1),
            Word::Once => (11, None, i + 1),
            Word::Tens(t) => {
                let (u, n) = unit_after_tens(parts, i + 1);
                (u64::from(t) + u, None, n)
            }
            Word::Hundreds(h) => {
                let (add, n) = below_hundred(parts, i + 1);
                (u64::from(h) + add, None, n)
            }
            Word::Hundred => {
                let (add, n) = below_hundred(parts, i + 1);
                (100 + add, None, n)
            }
            Word::Thousand => {
                let (add, n) = hundreds_group(parts, i + 1);
                (1000 + add, None, n)
            }
        },
    }
}

/// A real unit word after tens ("forty seven", "treinta y dos"); digits and homophones do not
/// join ("forty2" reads 40 then 2).
fn unit_after_tens(parts: &[Part], i: usize) -> (u64, usize) {
    match (parts.get(i), parts.get(i + 1)) {
        (Some(Part::Word(Word::Unit(u))), _) if *u > 0 => (u64::from(*u), i + 1),
        (Some(Part::And), Some(Part::Word(Word::Unit(u)))) if *u > 0 => (u64::from(*u), i + 2),
        _ => (0, i),
    }
}

/// Tens/teens/units words after "hundred" (optionally after "and").
fn below_hundred(parts: &[Part], i: usize) -> (u64, usize) {
    let j = if matches!(parts.get(i), Some(Part::And)) {
        i + 1
    } else {
        i
    };
    match parts.get(j) {
        Some(Part::Word(Word::Tens(t))) => {
            let (u, n) = unit_after_tens(parts, j + 1);
            (u64::from(*t) + u, n)
        }
        Some(Part::Word(Word::Teen(t))) => (u64::from(*t), j + 1),
        Some(Part::Word(Word::Unit(u))) => (u64::from(*u), j + 1),
        _ => (0, i),
    }
}

/// A word-written value below a thousand after "thousand".
fn hundreds_group(parts: &[Part], i: usize) -> (u64, usize) {
    match parts.get(i) {
        Some(Part::Word(Word::Hundreds(h))) => {
            let (add, n) = below_hundred(parts, i + 1);
            (u64::from(*h) + add, n)
        }
        Some(Part::Word(Word::Unit(u)))
            if matches!(parts.get(i + 1), Some(Part::Word(Word::Hundred))) =>
        {
            let (add, n) = below_hundred(parts, i + 2);
            (u64::from(*u) * 100 + add, n)
        }
        _ => below_hundred(parts, i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Option<Vec<Word>> {
        let orig: Vec<char> = s.chars().collect();
        let folded: Vec<u8> = orig.iter().map(|&c| fold(c).unwrap()).collect();
        let mut out = Vec::new();
        segment(&orig, &folded, &mut out).then_some(out)
    }

    fn parts(s: &str) -> Vec<Part> {
        // digits and letter runs, letter runs segmented
        let mut out = Vec::new();
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let j = (i..chars.len())
                .find(|&j| chars[j].is_ascii_digit() != chars[i].is_ascii_digit())
                .unwrap_or(chars.len());
            let piece: String = chars[i..j].iter().collect();
            if chars[i].is_ascii_digit() {
                out.push(Part::Digits(piece));
            } else {
                out.extend(words(&piece).unwrap().into_iter().map(Part::Word));
            }
            i = j;
        }
        out
    }

    #[test]
    fn trigram_filter_keeps_every_number_word() {
        for (w, _) in WORDS {
            assert!(could_be_words(w.as_bytes()), "{w}");
            assert!(could_be_words(w.to_ascii_uppercase().as_bytes()), "{w}");
        }
        for s in ["fourfourtwo", "ohnine", "lOl", "IIo", "oneoh", "tooone"] {
            assert!(could_be_words(s.as_bytes()), "{s}");
        }
        assert!(!could_be_words(b"the"));
        assert!(!could_be_words(b"often"));
    }

    proptest::proptest! {
        /// The trigram filter never turns away a run the full check accepts.
        #[test]
        fn trigram_filter_is_exact(words in proptest::collection::vec(0usize..WORDS.len() + 4, 1..4), tail in "[a-zA-Z]{0,3}") {
            let mut s = String::new();
            for w in words {
                let letter = ["o", "O", "l", "I"];
                s.push_str(WORDS.get(w).map_or_else(|| letter[w % 4], |x| x.0));
            }
            let with_tail = format!("{s}{tail}");
            for t in [s.as_str(), with_tail.as_str()] {
                let full = t.len() <= MAX_RUN && {
                    let orig: Vec<char> = t.chars().collect();
                    let folded: Vec<u8> = t.bytes().map(|b| b.to_ascii_lowercase()).collect();
                    segment(&orig, &folded, &mut Vec::new())
                };
                proptest::prop_assert_eq!(could_be_words(t.as_bytes()), full, "{}", t);
            }
        }
    }

    #[test]
    fn fold_letter_lands_on_letters_only_from_letters() {
        for b in 0..=255u8 {
            let f = fold_letter(b);
            assert_eq!(f.is_ascii_lowercase(), b.is_ascii_alphabetic(), "{b}");
            if b.is_ascii_alphabetic() {
                assert_eq!(f, b.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn segments_glued_words() {
        assert_eq!(
            words("fourfourtwo"),
            Some(vec![Word::Unit(4), Word::Unit(4), Word::Unit(2)])
        );
        assert_eq!(
            words("ohnine"),
            Some(vec![Word::Homophone(0), Word::Unit(9)])
        );
        assert_eq!(words("eighteen"), Some(vec![Word::Teen(18)]));
        assert_eq!(words("TwO"), Some(vec![Word::Unit(2)]));
        assert_eq!(words("veintidós"), Some(vec![Word::Teen(22)]));
        assert_eq!(words("often"), None);
        assert_eq!(words("tonight"), None);
        // letters: lower-case l and capital I are ones, capital L is not
        assert_eq!(words("lI"), Some(vec![Word::Letter(1), Word::Letter(1)]));
        assert_eq!(words("L"), None);
    }

    #[test]
    fn renders_as_read_aloud() {
        assert_eq!(render(&parts("5forty2ten9922")), "5402109922");
        assert_eq!(render(&parts("fortyseven")), "47");
        assert_eq!(render(&parts("4thousand")), "4000");
        assert_eq!(render(&parts("one00")), "100");
        assert_eq!(render(&parts("two0O")), "200");
        assert_eq!(render(&parts("ate20")), "820");
        assert_eq!(render(&parts("one6zeroate")), "1608");
        assert_eq!(render(&parts("19fifteen")), "1915");
        assert_eq!(render(&parts("onehundredfifty")), "150");
        assert_eq!(render(&parts("doscientoscincuenta")), "250");
        let mut p = parts("treinta");
        p.push(Part::And);
        p.extend(parts("dos"));
        assert_eq!(render(&p), "32");
        assert_eq!(render(&parts("twothousandfivehundred")), "2500");
        assert_eq!(render(&parts("007")), "007");
    }
}
