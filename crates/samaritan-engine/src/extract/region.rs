//! Which country an ad's phone numbers belong to.
//!
//! A number in national format ("0866 7676 62", "06641822 899") means nothing without its
//! country. The ad usually says it: a place name ("Pune", "Melbourne"), a country-code top-level
//! domain (`.com.au`), or another number written with its `+CC`. These hints, strongest first,
//! are tried after the configured default region.

use std::sync::LazyLock;

use phonenumber::country::Id;
use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};

use super::gazetteer;
use super::pattern::re;
use super::prefilter::cues::{self, Cues};

/// Country hints found in one document.
#[derive(Debug, Default, Clone)]
pub(crate) struct Hints {
    /// Non-NANP regions, most-mentioned first.
    pub foreign: Vec<Id>,
    /// A North American place, `.us`/`.ca` domain or `+1` number was mentioned.
    pub nanp: bool,
}

/// Regions sharing the North American Numbering Plan (country code 1).
pub(crate) fn is_nanp(id: Id) -> bool {
    NANP.contains(&id)
}

/// The regions of country code 1, read once from libphonenumber's metadata (asked for every
/// place hint and every phone search, the metadata's by-name look-up hashes the name).
static NANP: LazyLock<FxHashSet<Id>> = LazyLock::new(|| {
    phonenumber::metadata::DATABASE
        .by_code(&1)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.id().parse().ok())
        .collect()
});

static CC_TLD: LazyLock<Regex> = LazyLock::new(|| {
    // a ccTLD after a second-level label (harem.com.au, x.co.uk) or ending a URL's host
    re(
        r"(?i)(?:\.(?:com|co|net|org|gov|ac|edu)\.([a-z]{2})(?-u:\b)|(?:https?://|www\.)[a-z0-9.-]+\.([a-z]{2})(?-u:\b))",
    )
});

static PLUS_CC: LazyLock<Regex> = LazyLock::new(|| re(r"\+\s?([0-9]{1,3})"));

/// Vanity ccTLDs used worldwide: no hint of a country.
const VANITY: &[&str] = &[
    "me", "tv", "io", "co", "ly", "cc", "ws", "fm", "to", "gg", "ai", "am", "la", "nu", "tk", "xxx",
];

/// Collects hints from `clean` (the character-cleaned text) and the places already found in it.
pub(crate) fn hints(clean: &str, cues: &Cues, places: &[gazetteer::PlaceHit]) -> Hints {
    let mut counts: FxHashMap<Id, usize> = FxHashMap::default();
    let mut nanp = false;
    let mut add_id = |id: Id, weight: usize, nanp: &mut bool| {
        if is_nanp(id) {
            *nanp = true;
        } else {
            *counts.entry(id).or_default() += weight;
        }
    };
    // (a place's country code is parsed once, with the gazetteer)
    for p in places {
        if let Some(id) = p.place.country_id {
            add_id(id, 2, &mut nanp);
        }
    }
    let mut add = |code: &str, weight: usize, nanp: &mut bool| {
        if let Ok(id) = code.to_ascii_uppercase().parse::<Id>() {
            add_id(id, weight, nanp);
        }
    };
    // a ccTLD needs a second-level label before it, "://" or "www."
    let cc_tld = cues.may(cues::SECOND_LEVEL | cues::SCHEME_OR_WWW);
    for c in cc_tld
        .then(|| CC_TLD.captures_iter(clean))
        .into_iter()
        .flatten()
    {
        if let Some(tld) = c.get(1).or_else(|| c.get(2)) {
            let tld = tld.as_str().to_ascii_lowercase();
            if VANITY.contains(&tld.as_str()) {
                continue;
            }
            let code = if tld == "uk" { "gb" } else { tld.as_str() };
            add(code, 1, &mut nanp);
        }
    }
    for c in cues
        .has(cues::PLUS)
        .then(|| PLUS_CC.captures_iter(clean))
        .into_iter()
        .flatten()
    {
        let Some(d) = c.get(1) else { continue };
        // try the 1-, 2- and 3-digit prefixes: only one is a country code
        let digits = d.as_str();
        for n in 1..=digits.len() {
            let Ok(code) = digits[..n].parse::<u16>() else {
                continue;
            };
            if let Some(regions) = phonenumber::metadata::DATABASE.region(&code) {
                if let Some(r) = regions.first() {
                    let r = (*r).to_owned();
                    add(&r, 1, &mut nanp);
                }
                break;
            }
        }
    }
    let mut foreign: Vec<(Id, usize)> = counts.into_iter().collect();
    foreign.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_ref().cmp(b.0.as_ref())));
    Hints {
        foreign: foreign.into_iter().map(|(id, _)| id).collect(),
        nanp,
    }
}

/// Is `code` an ISO 3166 alpha-2 region libphonenumber has metadata for?
pub fn is_known_region(code: &str) -> bool {
    code.parse::<Id>().is_ok() && phonenumber::metadata::DATABASE.by_id(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(t: &str) -> Hints {
        hints(
            t,
            &Cues::of(t),
            &gazetteer::find(t, &crate::extract::prefilter::words::Words::of(t)),
        )
    }

    #[test]
    fn hints_from_places_domains_and_codes() {
        let x = h("Call reception http://www.harem.com.au/ Melbourne");
        assert_eq!(x.foreign, vec![Id::AU]);
        assert!(!x.nanp);
        let x = h("Pune escorts, call 06641822 899");
        assert_eq!(x.foreign, vec![Id::IN]);
        let x = h("+44 7911 123456 and +1 404 555 0142");
        assert_eq!(x.foreign, vec![Id::GB]);
        assert!(x.nanp);
        assert!(h("visit example.me today").foreign.is_empty());
    }
}
