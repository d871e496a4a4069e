//! The places the engine knows by name (`gazetteer.txt`): US states and large cities, Canadian
//! provinces and cities, and the world's larger cities and countries that show up in ads.
//!
//! Used twice: the location extractor reports them, and phone extraction reads them as hints of
//! the country a national-format number belongs to. Names that are also given names or common
//! words ("Charlotte", "Mobile") count only with a place cue beside them.

use std::sync::LazyLock;

use phonenumber::country::Id;
use rustc_hash::FxHashMap;

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
    for (i, p) in places.iter().enumerate() {
        if let Some(w) = p.words.first() {
            by_first.entry(w.as_bytes().into()).or_default().push(i);
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

/// A word of the text: a maximal run of alphanumeric characters.
#[derive(Clone, Copy, Default)]
struct Word {
    start: usize,
    end: usize,
    /// Made of ASCII letters and digits only (only such words can be place names).
    ascii: bool,
}

/// The next word at or after byte `from`.
fn next_word(text: &str, from: usize) -> Option<Word> {
    let bytes = text.as_bytes();
    // is the non-ASCII character at `i` part of a word, and how long is it?
    let wide = |i: usize| -> (bool, usize) {
        let c = text[i..].chars().next().unwrap_or(' ');
        (c.is_alphanumeric(), c.len_utf8())
    };
    let mut i = from;
    let mut ascii = true;
    // separators
    let start = loop {
        let b = *bytes.get(i)?;
        if crate::ascii::is_alnum(b) {
            break i;
        }
        if b.is_ascii() {
            i += 1;
            continue;
        }
        match wide(i) {
            (true, len) => {
                ascii = false;
                i += len;
                break i - len;
            }
            (false, len) => i += len,
        }
    };
    while let Some(&b) = bytes.get(i) {
        if crate::ascii::is_alnum(b) {
            i += 1;
            continue;
        }
        if b.is_ascii() {
            break;
        }
        match wide(i) {
            (true, len) => {
                ascii = false;
                i += len;
            }
            (false, _) => break,
        }
    }
    Some(Word {
        start,
        end: i,
        ascii,
    })
}

/// Every known place named in `text` (ASCII-case-insensitive, whole words).
///
/// Words are read one at a time: almost every word is turned away by its first two letters
/// and length, and only a possible first word of a name looks at the words after it.
pub(crate) fn find(text: &str) -> Vec<PlaceHit> {
    let g: &'static Gazetteer = &GAZETTEER;
    let mut hits = Vec::new();
    // the two words before the current one, for the place cues of ambiguous names (an empty
    // word where there is none: it is no cue)
    let mut before = [Word::default(); 2];
    let mut cursor = next_word(text, 0);
    while let Some(first) = cursor {
        let w = &text.as_bytes()[first.start..first.end];
        let cands = first.ascii && (2..=24).contains(&w.len()) && may_start(g, w);
        let matched = if cands {
            match_at(g, text, first)
        } else {
            None
        };
        let Some((p, words)) = matched else {
            before = [before[1], first];
            cursor = next_word(text, first.end);
            continue;
        };
        let last = words[words.len() - 1];
        let next = next_word(text, last.end);
        let ok = !p.ambiguous || {
            let cue_before = before.iter().any(|b| {
                CUES_BEFORE
                    .iter()
                    .any(|cue| text[b.start..b.end].eq_ignore_ascii_case(cue))
            });
            let cue_after = next.is_some_and(|n| {
                let w = &text[n.start..n.end];
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
        before = match words.len() {
            1 => [before[1], last],
            n => [words[n - 2], last],
        };
        cursor = next;
    }
    hits
}

/// Could a place name start with this ASCII word? (Its first two letters and length, then the
/// first-word table.)
fn may_start(g: &Gazetteer, w: &[u8]) -> bool {
    match pair_slot(w) {
        Some(slot) => g.lengths[slot] & (1 << w.len()) != 0,
        None => g.other_first,
    }
}

/// The longest place whose name starts at word `first`, with the spans of its words.
fn match_at(g: &'static Gazetteer, text: &str, first: Word) -> Option<(&'static Place, Vec<Word>)> {
    let w = &text.as_bytes()[first.start..first.end];
    let mut buf = [0u8; 24];
    let key = buf.get_mut(..w.len())?;
    for (d, b) in key.iter_mut().zip(w) {
        *d = b.to_ascii_lowercase();
    }
    let cands = g.by_first.get(&*key)?;
    // the words after the first, read as far as the longest candidate needs
    let longest = cands.iter().map(|&pi| g.places[pi].words.len()).max()?;
    let mut words = vec![first];
    while words.len() < longest {
        let prev = words[words.len() - 1];
        let Some(next) = next_word(text, prev.end) else {
            break;
        };
        words.push(next);
    }
    let p = cands.iter().map(|&pi| &g.places[pi]).find(|p| {
        let n = p.words.len();
        n <= words.len()
            && (1..n).all(|m| {
                let gap = &text[words[m - 1].end..words[m].start];
                let w = words[m];
                gap.len() <= 3
                    && !gap.contains('\n')
                    && text[w.start..w.end].eq_ignore_ascii_case(&p.words[m])
            })
    })?;
    words.truncate(p.words.len());
    Some((p, words))
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
        find(t)
            .into_iter()
            .map(|h| h.place.label().to_owned())
            .collect()
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
