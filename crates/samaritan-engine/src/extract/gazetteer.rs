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
    pub name: &'static str,
    pub kind: PlaceKind,
    /// ISO 3166 alpha-2.
    pub country: &'static str,
    /// `country` as libphonenumber's region id, parsed once.
    pub country_id: Option<Id>,
    /// State or province code, when the place is in the US or Canada.
    pub region: &'static str,
    pub ambiguous: bool,
    /// The name as lower-case words.
    words: Vec<String>,
}

impl Place {
    /// The value reported for a mention: `City, ST` / `City, CC` / state / country name.
    pub fn label(&self) -> String {
        match self.kind {
            PlaceKind::City if !self.region.is_empty() => format!("{}, {}", self.name, self.region),
            PlaceKind::City => format!("{}, {}", self.name, self.country),
            _ => self.name.to_owned(),
        }
    }
}

struct Gazetteer {
    places: Vec<Place>,
    /// First lower-case word → places starting with it, longest name first.
    by_first: FxHashMap<String, Vec<usize>>,
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
            name,
            kind,
            country,
            country_id: country.to_ascii_uppercase().parse().ok(),
            region,
            ambiguous: flags.contains('a'),
            words,
        });
    }
    let mut by_first: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    let mut lengths = vec![0u32; 26 * 26];
    let mut other_first = false;
    for (i, p) in places.iter().enumerate() {
        if let Some(w) = p.words.first() {
            by_first.entry(w.clone()).or_default().push(i);
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

/// Every known place named in `text` (ASCII-case-insensitive, whole words).
pub(crate) fn find(text: &str) -> Vec<PlaceHit> {
    let g: &'static Gazetteer = &GAZETTEER;
    // word spans
    let mut words: Vec<(usize, usize)> = Vec::with_capacity(text.len() / 4);
    let mut start = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (alnum, len) = if b.is_ascii() {
            (crate::ascii::is_alnum(b), 1)
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            (c.is_alphanumeric(), c.len_utf8())
        };
        if alnum {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            words.push((s, i));
        }
        i += len;
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    let word = |k: usize| &text[words[k].0..words[k].1];
    // (names and cue words are stored lower-case)
    let is = |k: usize, lower: &str| word(k).eq_ignore_ascii_case(lower);
    let mut hits = Vec::new();
    let mut k = 0;
    while k < words.len() {
        let w = &text[words[k].0..words[k].1];
        if w.len() < 2 || w.len() > 24 || !w.is_ascii() {
            k += 1;
            continue;
        }
        let may_start = match pair_slot(w.as_bytes()) {
            Some(slot) => g.lengths[slot] & (1 << w.len()) != 0,
            None => g.other_first,
        };
        if !may_start {
            k += 1;
            continue;
        }
        let mut buf = [0u8; 24];
        for (d, b) in buf.iter_mut().zip(w.bytes()) {
            *d = b.to_ascii_lowercase();
        }
        let key = std::str::from_utf8(&buf[..w.len()]).unwrap_or("");
        let Some(cands) = g.by_first.get(key) else {
            k += 1;
            continue;
        };
        let mut matched = None;
        for &pi in cands {
            let p = &g.places[pi];
            let n = p.words.len();
            if k + n > words.len() {
                continue;
            }
            let all = (1..n).all(|m| {
                let gap = &text[words[k + m - 1].1..words[k + m].0];
                gap.len() <= 3 && !gap.contains('\n') && is(k + m, &p.words[m])
            });
            if all {
                matched = Some((pi, n));
                break;
            }
        }
        let Some((pi, n)) = matched else {
            k += 1;
            continue;
        };
        let p: &'static Place = &g.places[pi];
        let ok = !p.ambiguous || {
            let before = (k.saturating_sub(2)..k).any(|b| CUES_BEFORE.iter().any(|cue| is(b, cue)));
            let after = words.get(k + n).is_some_and(|&(s, e)| {
                CUES_AFTER.iter().any(|cue| is(k + n, cue))
                    || (text[words[k + n - 1].1..s].trim() == "," && is_state_code(&text[s..e]))
            });
            before || after
        };
        if ok {
            hits.push(PlaceHit {
                place: p,
                start: words[k].0,
                end: words[k + n - 1].1,
            });
        }
        k += n;
    }
    hits
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
        find(t).into_iter().map(|h| h.place.label()).collect()
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
        assert!(!GAZETTEER.places.is_empty());
    }
}
