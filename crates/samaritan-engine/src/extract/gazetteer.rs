//! The places the engine knows by name (`gazetteer.txt`): US states and large cities, Canadian
//! provinces and cities, and the world's larger cities and countries that show up in ads.
//!
//! Used twice: the location extractor reports them, and phone extraction reads them as hints of
//! the country a national-format number belongs to. Names that are also given names or common
//! words ("Charlotte", "Mobile") count only with a place cue beside them.

use std::sync::LazyLock;

use phonenumber::country::Id;
use rustc_hash::FxHashMap;

use super::prefilter::words::Words;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlaceKind {
    City,
    State,
    Country,
}

#[derive(Debug)]
pub(crate) struct Place {
    pub kind: PlaceKind,
    /// The place's ISO 3166 alpha-2 country as libphonenumber's region id, parsed once.
    pub country_id: Option<Id>,
    /// State or province code, when the place is in the US or Canada.
    pub region: &'static str,
    pub ambiguous: bool,
    /// The name as lower-case words.
    words: Vec<String>,
    /// The value reported for a mention (see [`Place::label`]), made once with the gazetteer.
    label: String,
}

impl Place {
    /// The value reported for a mention: `City, ST` / `City, CC` / state / country name.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn make_label(name: &str, kind: PlaceKind, country: &str, region: &str) -> String {
        match kind {
            PlaceKind::City if !region.is_empty() => format!("{name}, {region}"),
            PlaceKind::City => format!("{name}, {country}"),
            _ => name.to_owned(),
        }
    }
}

struct Gazetteer {
    places: Vec<Place>,
    /// First lower-case word → places starting with it, longest name first.
    by_first: FxHashMap<Box<[u8]>, Vec<usize>>,
    /// For each pair of first letters (`a`..=`z`, twice) of a first word, bit `n` is set when
    /// some first word starting so has `n` bytes: most words are turned away without a hash
    /// lookup.
    lengths: Vec<u32>,
    /// The same for the last letter of a first word (slot 26: not `a`..=`z`), bit `n` set when
    /// some first word ending so has `n` bytes: together they leave about one word in seven for
    /// the hash look-up instead of one in five (9 877 and 13 221 of the bench ads' 64 959 words;
    /// BENCHMARKS.md, fourth text-speed pass).
    ends: [u32; 27],
    /// Some first word does not start with two of `a`..=`z` or is 32 bytes or longer.
    other_first: bool,
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let mut places = Vec::new();
    for line in include_str!("gazetteer.txt").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&'static str> = line.split('|').collect();
        let [name, kind, country, region, flags] = f[..] else {
            continue;
        };
        let kind = match kind {
            "c" => PlaceKind::City,
            "s" => PlaceKind::State,
            _ => PlaceKind::Country,
        };
        let words = split_words(name).map(str::to_ascii_lowercase).collect();
        places.push(Place {
            kind,
            country_id: country.to_ascii_uppercase().parse().ok(),
            region,
            ambiguous: flags.contains('a'),
            words,
            label: Place::make_label(name, kind, country, region),
        });
    }
    let mut by_first: FxHashMap<Box<[u8]>, Vec<usize>> = FxHashMap::default();
    let mut lengths = vec![0u32; 26 * 26];
    let mut other_first = false;
    let mut ends = [0u32; 27];
    for (i, p) in places.iter().enumerate() {
        if let Some(w) = p.words.first() {
            by_first.entry(w.as_bytes().into()).or_default().push(i);
            if w.len() < 32 {
                ends[end_slot(w.as_bytes())] |= 1 << w.len();
            }
            if let Some(slot) = pair_slot(w.as_bytes())
                && w.len() < 32
            {
                lengths[slot] |= 1 << w.len();
            } else {
                other_first = true;
            }
        }
    }
    for v in by_first.values_mut() {
        v.sort_by_key(|&i| std::cmp::Reverse(places[i].words.len()));
    }
    Gazetteer {
        places,
        by_first,
        lengths,
        ends,
        other_first,
    }
});

/// Index of a word's first two letters, ASCII-case-insensitive, when both are `a`..=`z`.
fn pair_slot(w: &[u8]) -> Option<usize> {
    let a = w.first()?.to_ascii_lowercase();
    let b = w.get(1)?.to_ascii_lowercase();
    (a.is_ascii_lowercase() && b.is_ascii_lowercase())
        .then(|| usize::from(a - b'a') * 26 + usize::from(b - b'a'))
}

/// Index of a word's last letter, ASCII-case-insensitive (26 when it is not `a`..=`z`).
fn end_slot(w: &[u8]) -> usize {
    match w.last().map(u8::to_ascii_lowercase) {
        Some(c @ b'a'..=b'z') => usize::from(c - b'a'),
        _ => 26,
    }
}

fn split_words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A place named in a text, with the byte range of its name.
#[derive(Debug)]
pub(crate) struct PlaceHit {
    pub place: &'static Place,
    pub start: usize,
    pub end: usize,
}

const CUES_BEFORE: &[&str] = &[
    "in", "near", "from", "visiting", "around", "downtown", "location", "city", "area", "located",
    "outcalls", "incalls",
];
const CUES_AFTER: &[&str] = &["area", "escorts", "escort", "city", "downtown"];

/// Every known place named in `text`, whose words are `words` (ASCII-case-insensitive, whole
/// words).
///
/// Almost every word is turned away by its first two letters, its last letter and its length;
/// only a possible first word of a name is looked up, and only then are the words after it
/// compared.
pub(crate) fn find(text: &str, words: &Words) -> Vec<PlaceHit> {
    let g: &'static Gazetteer = &GAZETTEER;
    let b = text.as_bytes();
    let mut hits = Vec::new();
    let mut k = 0;
    while let Some(first) = words.get(k) {
        let w = &b[first.clone()];
        // (only ASCII words can be place names)
        let matched = if (2..=24).contains(&w.len()) && may_start(g, w) && w.is_ascii() {
            match_words(g, text, words, k)
        } else {
            None
        };
        let Some((p, count)) = matched else {
            k += 1;
            continue;
        };
        let Some(last) = words.get(k + count - 1) else {
            break;
        };
        let next = words.get(k + count);
        // the cue words: the two words before the name, the word after it
        let ok = !p.ambiguous || {
            let cue_before = (k.saturating_sub(2)..k).any(|j| {
                words.get(j).is_some_and(|r| {
                    CUES_BEFORE
                        .iter()
                        .any(|cue| text[r.clone()].eq_ignore_ascii_case(cue))
                })
            });
            let cue_after = next.is_some_and(|n| {
                let w = &text[n.clone()];
                CUES_AFTER.iter().any(|cue| w.eq_ignore_ascii_case(cue))
                    || (text[last.end..n.start].trim() == "," && is_state_code(w))
            });
            cue_before || cue_after
        };
        if ok {
            hits.push(PlaceHit {
                place: p,
                start: first.start,
                end: last.end,
            });
        }
        k += count;
    }
    hits
}

/// The longest place whose name starts at word `k` of `words`, and how many words its name
/// takes.
fn match_words(
    g: &'static Gazetteer,
    text: &str,
    words: &Words,
    k: usize,
) -> Option<(&'static Place, usize)> {
    let first = words.get(k)?;
    let w = &text.as_bytes()[first.clone()];
    let mut buf = [0u8; 24];
    let key = buf.get_mut(..w.len())?;
    for (d, b) in key.iter_mut().zip(w) {
        *d = b.to_ascii_lowercase();
    }
    let cands = g.by_first.get(&*key)?;
    let p = cands.iter().map(|&pi| &g.places[pi]).find(|p| {
        let n = p.words.len();
        (1..n).all(|m| {
            let (Some(prev), Some(w)) = (words.get(k + m - 1), words.get(k + m)) else {
                return false;
            };
            let gap = &text[prev.end..w.start];
            gap.len() <= 3 && !gap.contains('\n') && text[w].eq_ignore_ascii_case(&p.words[m])
        })
    })?;
    Some((p, p.words.len()))
}

/// Could a place name start with this ASCII word? (Its first two letters, last letter and
/// length, before the first-word table.)
fn may_start(g: &Gazetteer, w: &[u8]) -> bool {
    match pair_slot(w) {
        Some(slot) => {
            let bit = 1 << w.len();
            g.lengths[slot] & bit != 0 && g.ends[end_slot(w)] & bit != 0
        }
        None => g.other_first,
    }
}

/// A two-letter US state or Canadian province code written in capitals.
pub(crate) fn is_state_code(s: &str) -> bool {
    s.len() == 2
        && s.bytes().all(|b| b.is_ascii_uppercase())
        && GAZETTEER
            .places
            .iter()
            .any(|p| p.kind == PlaceKind::State && p.region == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<String> {
        find(t, &Words::of(t))
            .into_iter()
            .map(|h| h.place.label().to_owned())
            .collect()
    }

    #[test]
    fn every_first_word_passes_the_quick_filter() {
        let g: &Gazetteer = &GAZETTEER;
        for p in &g.places {
            let w = p.words[0].as_bytes();
            assert!(may_start(g, w), "{:?}", p.words[0]);
            let upper = w.to_ascii_uppercase();
            assert!(may_start(g, &upper), "{:?}", p.words[0]);
        }
        // ordinary words are turned away before the look-up
        for w in ["the", "call", "available", "Sweet"] {
            assert!(!may_start(g, w.as_bytes()), "{w}");
        }
    }

    #[test]
    fn finds_places() {
        assert_eq!(
            names("New in town: Salt Lake City, Utah"),
            ["Salt Lake City, UT", "Utah"]
        );
        assert_eq!(names("London escorts"), ["London, GB"]);
        assert_eq!(
            names("Ask for Charlotte, she is sweet"),
            Vec::<String>::new()
        );
        assert_eq!(names("visiting Charlotte this week"), ["Charlotte, NC"]);
        assert_eq!(names("Madison, WI"), ["Madison, WI"]);
        assert_eq!(names("orlando Teacher"), ["Orlando, FL"]);
        // the two words before a name are its cue words, across a name just matched
        assert_eq!(
            names("Salt Lake City Charlotte"),
            ["Salt Lake City, UT", "Charlotte, NC"]
        );
        assert_eq!(names("New York Charlotte"), ["New York"]);
        assert_eq!(names("Charlotte, NC"), ["Charlotte, NC"]);
        assert_eq!(names("Charlotte area"), ["Charlotte, NC"]);
        assert_eq!(names("café in Charlotte"), ["Charlotte, NC"]);
        assert!(!GAZETTEER.places.is_empty());
    }
}
