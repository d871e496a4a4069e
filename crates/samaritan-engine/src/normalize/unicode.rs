//! Character-level clean-up: the first normalization phase.
//!
//! Undoes what changes how text *looks* without changing what it *says*: invisible and format
//! characters are dropped, keycap digits lose their keycap, NFKC folds full-width, circled,
//! superscript and mathematical letters and digits to ASCII, and Latin look-alikes from other
//! scripts are folded inside Latin context (see `confusables`). Plain ASCII input is returned
//! untouched without any work.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick, is_nfkc_quick};

use super::confusables::{self, Script};
use super::offsets::{OffsetMap, TextBuilder};
use crate::ascii::is_alnum;

/// Characters that render as nothing: zero-width spaces and joiners, soft hyphen, bidi and other
/// format controls, variation selectors, tag characters, invisible fillers.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// The combining enclosing keycap (`1️⃣` = `1` U+FE0F U+20E3).
const KEYCAP: char = '\u{20E3}';

/// Blocks whose NFKC folding undoes a disguise (full-width, enclosed, mathematical, super- and
/// subscript forms), as opposed to ordinary compatibility forms (ligatures, `™`, `½`).
fn is_disguise_block(c: char) -> bool {
    matches!(c as u32,
        0xFF01..=0xFF5E | 0x2460..=0x24FF | 0x1D400..=0x1D7FF | 0x2070..=0x209F | 0xB2 | 0xB3 | 0xB9
        | 0x1F100..=0x1F1FF | 0x3251..=0x325F | 0x32B1..=0x32BF | 0x2100..=0x214F)
}

/// One character of the cleaned stream and where it came from. `c == None` is a removal.
#[derive(Debug, Clone, Copy)]
struct Item {
    c: Option<char>,
    start: usize,
    end: usize,
    obf: bool,
    /// A stand-in for a whole stretch of ASCII between windows (see [`windows`]), copied as is.
    gap: bool,
}

impl Item {
    fn new(c: Option<char>, start: usize, end: usize) -> Item {
        Item {
            c,
            start,
            end,
            obf: false,
            gap: false,
        }
    }
}

/// Cleans `original`; `None` when nothing changes (always for ASCII).
pub(crate) fn clean(original: &str) -> Option<(String, OffsetMap)> {
    if original.is_ascii() || original.chars().all(|c| c.is_ascii() || is_inert(c)) {
        return None;
    }
    clean_windows(original, windows(original.as_bytes()))
}

/// Stretches of `b` that need taking apart character by character: each run of non-ASCII
/// bytes, widened over the ASCII letters and digits glued to it and then one more ASCII
/// character on each side; overlapping or touching stretches merge.
///
/// Every step of this phase decides a character on what stands next to it, except look-alike
/// folding, which also asks for the script of the nearest word on each side. Outside the
/// windows the text is plain ASCII, which no step changes: an ASCII character changes only as
/// the starter of an NFKC segment or the digit under a keycap, both right before a non-ASCII
/// character. Each window starts and ends on an ASCII separator (or the edge of the text), so
/// words, NFKC segments, keycaps and the neighbours of dashes and removals all lie inside one
/// window; and what a stretch between windows tells look-alike folding is only whether it holds
/// a Latin word (an ASCII letter).
fn windows(b: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&x| !x.is_ascii()) {
        let p = i + off;
        let q = p + b[p..].iter().take_while(|x| !x.is_ascii()).count();
        let mut lo = p - b[..p].iter().rev().take_while(|&&x| is_alnum(x)).count();
        if lo > 0 && b[lo - 1].is_ascii() {
            lo -= 1;
        }
        let mut hi = q + b[q..].iter().take_while(|&&x| is_alnum(x)).count();
        if hi < b.len() && b[hi].is_ascii() {
            hi += 1;
        }
        match out.last_mut() {
            Some(last) if lo <= last.end => last.end = hi,
            _ => out.push(lo..hi),
        }
        i = hi;
    }
    out
}

/// [`clean`] over the given windows (sorted, disjoint, each as [`windows`] describes them).
fn clean_windows(
    original: &str,
    windows: impl IntoIterator<Item = std::ops::Range<usize>>,
) -> Option<(String, OffsetMap)> {
    let mut raw = Vec::new();
    let mut pos = 0;
    for w in windows {
        push_gap(original, pos..w.start, &mut raw);
        remove_invisibles(original, w.clone(), &mut raw);
        pos = w.end;
    }
    push_gap(original, pos..original.len(), &mut raw);
    mark_hiding_removals(&mut raw);
    let mut items = nfkc(&raw);
    fold_dashes_between_digits(&mut items);
    fold_lookalikes(&mut items);
    let mut b = TextBuilder::with_capacity(original.len());
    let mut changed = false;
    for it in &items {
        let src = &original[it.start..it.end];
        match it.c {
            _ if it.gap => b.verbatim(src),
            Some(c) if !it.obf && src.len() == c.len_utf8() && src.starts_with(c) => {
                b.verbatim(src)
            }
            Some(c) => {
                changed = true;
                b.replace_char(c, it.start..it.end, it.obf);
            }
            None => {
                changed = true;
                b.replace("", it.start..it.end, it.obf);
            }
        }
    }
    changed.then(|| b.finish())
}

/// A non-ASCII character no step of this phase touches, wherever it stands: visible, not a
/// keycap, its own normalization segment and NFKC-stable, no dash to fold and no look-alike.
/// Text made of ASCII and such characters comes out of [`clean`] unchanged, so it is not
/// taken apart character by character.
fn is_inert(c: char) -> bool {
    !is_invisible(c)
        && c != KEYCAP
        && !matches!(
            c,
            '\u{30FC}' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}'
        )
        && !continues_segment(c)
        && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
        && confusables::style(c).is_none()
        && confusables::script(c).is_none()
}

/// The stand-in item for the ASCII stretch `r` between windows: a letter when the stretch holds
/// a Latin word (all that look-alike folding asks of it), else a space.
fn push_gap(original: &str, r: std::ops::Range<usize>, items: &mut Vec<Item>) {
    if r.is_empty() {
        return;
    }
    let latin = original.as_bytes()[r.clone()]
        .iter()
        .any(u8::is_ascii_alphabetic);
    let mut it = Item::new(Some(if latin { 'a' } else { ' ' }), r.start, r.end);
    it.gap = true;
    items.push(it);
}

/// Items of `original[r]`, appended to `items`: invisible characters become removals, and a
/// keycap merges into the digit it caps.
fn remove_invisibles(original: &str, r: std::ops::Range<usize>, items: &mut Vec<Item>) {
    items.reserve(r.len());
    let base = r.start;
    for (i, c) in original[r].char_indices() {
        let i = base + i;
        let end = i + c.len_utf8();
        if c == KEYCAP {
            // attach to the digit (or #/*) it caps, across a variation selector already removed
            let k = items
                .iter()
                .rev()
                .take(3)
                .position(|it| it.c.is_some())
                .map(|p| items.len() - 1 - p);
            if let Some(k) = k
                && items[k]
                    .c
                    .is_some_and(|d| d.is_ascii_digit() || d == '#' || d == '*')
            {
                items.truncate(k + 1);
                let digit = &mut items[k];
                digit.end = end;
                digit.obf = true;
                continue;
            }
            items.push(Item::new(None, i, end));
            continue;
        }
        if is_invisible(c) {
            items.push(Item::new(None, i, end));
            continue;
        }
        items.push(Item::new(Some(c), i, end));
    }
}

/// A removal inside a word (letters or digits on both sides) hid something.
fn mark_hiding_removals(items: &mut [Item]) {
    let mut k = 0;
    while k < items.len() {
        if items[k].c.is_some() {
            k += 1;
            continue;
        }
        let run_end = (k..items.len())
            .find(|&j| items[j].c.is_some())
            .unwrap_or(items.len());
        let prev = k
            .checked_sub(1)
            .and_then(|p| items[p].c)
            .is_some_and(char::is_alphanumeric);
        let next = items
            .get(run_end)
            .and_then(|x| x.c)
            .is_some_and(char::is_alphanumeric);
        for it in &mut items[k..run_end] {
            it.obf = prev && next;
        }
        k = run_end;
    }
}

/// True if `c` attaches to the character before it under normalization (combining marks,
/// Hangul vowel/trailing jamo, starters that compose with what precedes them).
fn continues_segment(c: char) -> bool {
    if c.is_ascii() {
        // ASCII characters are starters with no decomposition and never compose backwards
        return false;
    }
    let attaches = |c: char| {
        canonical_combining_class(c) != 0
            || matches!(c as u32, 0x1161..=0x1175 | 0x11A8..=0x11C2)
            || is_nfc_quick(std::iter::once(c)) != IsNormalized::Yes
    };
    if attaches(c) {
        return true;
    }
    // a compatibility form whose decomposition attaches (half-width Hangul vowels, …)
    let mut first = None;
    unicode_normalization::char::decompose_compatible(c, |d| {
        first.get_or_insert(d);
    });
    first.is_some_and(|d| d != c && attaches(d))
}

/// NFKC, one normalization segment (a starter and what attaches to it) at a time, so that each
/// output character knows the original bytes it came from.
fn nfkc(items: &[Item]) -> Vec<Item> {
    let mut out = Vec::with_capacity(items.len());
    let mut seg = String::new();
    let mut i = 0;
    while i < items.len() {
        let it = items[i];
        let Some(c) = it.c else {
            out.push(it);
            i += 1;
            continue;
        };
        // the segment: this char, then removals and continuing chars (a removal only if a
        // continuing char follows it)
        let mut j = i + 1;
        let mut last = i;
        while j < items.len() {
            match items[j].c {
                Some(n) if continues_segment(n) => {
                    last = j;
                    j += 1;
                }
                None => j += 1,
                Some(_) => break,
            }
        }
        let seg_items = &items[i..=last];
        if seg_items.len() == 1 && c.is_ascii() {
            out.push(it);
            i = last + 1;
            continue;
        }
        seg.clear();
        seg.extend(seg_items.iter().filter_map(|x| x.c));
        let obf_in = seg_items.iter().any(|x| x.obf);
        let (start, end) = (it.start, seg_items[last - i].end);
        let has_removal = seg_items.iter().any(|x| x.c.is_none());
        if is_nfkc_quick(seg.chars()) == IsNormalized::Yes {
            if has_removal {
                // removals inside a segment: keep chars, they attach to the neighbours
                out.extend(seg_items.iter().copied());
            } else {
                out.extend(seg_items.iter().copied());
            }
        } else {
            let folded: String = seg.nfkc().collect();
            if folded == seg && !has_removal {
                out.extend(seg_items.iter().copied());
            } else {
                let obf =
                    obf_in || (is_disguise_block(c) && folded.chars().all(char::is_alphanumeric));
                for f in folded.chars() {
                    let mut it = Item::new(Some(f), start, end);
                    it.obf = obf;
                    out.push(it);
                }
                if folded.is_empty() {
                    let mut it = Item::new(None, start, end);
                    it.obf = obf;
                    out.push(it);
                }
            }
        }
        i = last + 1;
    }
    out
}

/// Folds style look-alikes always, and script look-alikes inside Latin context (see the
/// `confusables` module doc).
fn fold_lookalikes(items: &mut [Item]) {
    // words: runs of alphanumerics and marks (removals are transparent)
    let is_word_char = |c: char| {
        if c.is_ascii() {
            return c.is_ascii_alphanumeric();
        }
        c.is_alphanumeric() || canonical_combining_class(c) != 0
    };
    let mut words: Vec<(usize, usize, Script)> = Vec::new(); // item range and decided script
    let mut i = 0;
    while i < items.len() {
        match items[i].c {
            Some(c) if is_word_char(c) => {
                let start = i;
                let mut latin = false;
                let mut other = false;
                while i < items.len() {
                    match items[i].c {
                        Some(c) if is_word_char(c) => {
                            if confusables::style(c).is_some() {
                                latin = true;
                            } else {
                                match confusables::script_of(c) {
                                    Script::Latin => latin = true,
                                    Script::Other => other = true,
                                    _ => {}
                                }
                            }
                        }
                        None => {}
                        Some(_) => break,
                    }
                    i += 1;
                }
                let decided = match (latin, other) {
                    (_, true) => Script::Other,
                    (true, false) => Script::Latin,
                    (false, false) => Script::LookAlike,
                };
                words.push((start, i, decided));
            }
            _ => i += 1,
        }
    }
    // nearest decided script on each side of every word, in two linear passes
    let mut left: Vec<Option<Script>> = vec![None; words.len()];
    let mut right: Vec<Option<Script>> = vec![None; words.len()];
    let mut last = None;
    for (w, x) in words.iter().enumerate() {
        left[w] = last;
        if x.2 != Script::LookAlike {
            last = Some(x.2);
        }
    }
    last = None;
    for (w, x) in words.iter().enumerate().rev() {
        right[w] = last;
        if x.2 != Script::LookAlike {
            last = Some(x.2);
        }
    }
    for w in 0..words.len() {
        let (start, end, decided) = words[w];
        let fold_script = match decided {
            Script::Latin => true,
            Script::Other | Script::Neutral => false,
            Script::LookAlike => {
                let (before, after) = (left[w], right[w]);
                let latin_side = before == Some(Script::Latin) || after == Some(Script::Latin);
                let other_side = before == Some(Script::Other) || after == Some(Script::Other);
                latin_side && !other_side
            }
        };
        for k in start..end {
            let Some(c) = items[k].c else { continue };
            let folded = confusables::style(c).or_else(|| {
                if fold_script && c.is_alphabetic() {
                    confusables::script(c)
                } else {
                    None
                }
            });
            let Some(f) = folded else { continue };
            // a following combining mark would compose differently with the folded letter
            let next_is_mark = items[k + 1..end]
                .iter()
                .find_map(|x| x.c)
                .is_some_and(|n| canonical_combining_class(n) != 0);
            if next_is_mark {
                continue;
            }
            items[k].c = Some(f);
            items[k].obf = true;
        }
    }
}

/// Dash-like characters inside words and numbers ("207ー555ー9922", "404–555–0142") become `-`.
fn fold_dashes_between_digits(items: &mut [Item]) {
    // Decided on neighbours that stay what they are under later rewriting (alphanumerics stay
    // alphanumerics; a `|` may become a 1), so a second pass decides the same.
    let ascii_like =
        |c: char| c.is_ascii_alphanumeric() || c == '|' || confusables::style(c).is_some();
    for k in 0..items.len() {
        let Some(c) = items[k].c else { continue };
        let (is_dash, neighbour_ok): (bool, &dyn Fn(char) -> bool) = match c {
            // the katakana length mark is a dash only between Latin letters or digits
            '\u{30FC}' => (true, &ascii_like),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => {
                (true, &|c: char| c.is_alphanumeric() || c == '|')
            }
            _ => (false, &|_| false),
        };
        if !is_dash {
            continue;
        }
        let prev = items[..k].iter().rev().find_map(|x| x.c);
        let next = items[k + 1..].iter().find_map(|x| x.c);
        if prev.is_some_and(neighbour_ok) && next.is_some_and(neighbour_ok) {
            items[k].c = Some('-');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> String {
        clean(s).map_or_else(|| s.to_owned(), |(t, _)| t)
    }

    #[test]
    fn ascii_is_untouched() {
        assert!(clean("call me at 404-555-0142").is_none());
    }

    #[test]
    fn folds_disguises() {
        assert_eq!(run("ｙｏｕｎｇ １２３"), "young 123");
        assert_eq!(run("𝟏𝟐𝟑 𝟙𝟚 ① ¹"), "123 12 1 1");
        assert_eq!(run("4\u{FE0F}\u{20E3}0\u{20E3}4\u{FE0F}\u{20E3}"), "404");
        assert_eq!(run("yo\u{200B}ung"), "young");
        assert_eq!(run("ʏᴏᴜɴɢ 🅨🅞🅤🅝🅖"), "young YOUNG");
        assert_eq!(run("e\u{200B}\u{0301}"), "é");
        assert_eq!(
            run("２０７ー５５５ー９９２２ コーヒー"),
            "207-555-9922 コーヒー"
        );
    }

    #[test]
    fn folds_lookalikes_only_in_latin_context() {
        assert_eq!(run("hot уоung girl"), "hot young girl");
        assert_eq!(run("сосо hot"), "coco hot");
        assert_eq!(run("Привет, как дела? сок"), "Привет, как дела? сок");
        assert_eq!(run("Ελληνικά κείμενα"), "Ελληνικά κείμενα");
    }

    #[test]
    fn windows_cover_non_ascii_with_separators() {
        let s = "call me ✨ now, y\u{200B}oung and сосо hot";
        let w: Vec<&str> = windows(s.as_bytes()).into_iter().map(|r| &s[r]).collect();
        assert_eq!(w, [" ✨ ", " y\u{200B}oung ", " сосо "]);
        let whole = |s: &str| matches!(&windows(s.as_bytes())[..], [w] if *w == (0..s.len()));
        assert!(whole("é"));
        assert!(whole("a✨b✨c"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Cleaning window by window gives what cleaning the whole text as one window gives.
        #[test]
        fn windows_agree_with_whole_text(pieces in proptest::collection::vec(
            proptest::sample::select(&[
                "hot", "young", "a", "I", "42", "7", "y", " ", " ", "  ", "-", ", ", "\n", "|",
                "#", "*", "у", "о", "сосо", "сок", "п", "Привет", "α", "ο", "κείμενα", "é",
                "e\u{301}", "\u{301}", "\u{200B}", "\u{FE0F}", "\u{20E3}", "１", "ｙ", "ー",
                "–", "−", "✨", "💋", "𝟙", "ʏ", "ᴏ", "🅨", "❸", "\u{00A0}", "ﬁ", "ａ\u{301}",
                "\u{1100}", "\u{1161}", "ﾡ", "ｰ", "コ", "™", "½", "Ⅻ", "\u{2060}",
            ][..]),
            0..16,
        )) {
            let s: String = pieces.concat();
            let whole = clean_windows(&s, std::iter::once(0..s.len()));
            proptest::prop_assert_eq!(clean_windows(&s, windows(s.as_bytes())), whole);
        }
    }

    #[test]
    fn spans_point_at_the_original() {
        let s = "a１b\u{200B}c";
        let (t, m) = clean(s).unwrap();
        assert_eq!(t, "a1bc");
        assert_eq!(&s[m.start(1)..m.end(2)], "１");
        assert!(m.obfuscated(&(1..2)));
        assert!(m.obfuscated(&(2..4)));
        assert!(!m.obfuscated(&(0..1)));
    }
}
