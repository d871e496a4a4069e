//! Masking of explicit terms (wellness): a reviewer who turns it on in **Settings** sees the
//! explicit words of an ad — sex acts, nudity, the genre's coded service acronyms — as `■■■` in
//! the ad text, titles, snippets, signal quotes and templates. Off by default: the words are
//! evidence, and a reviewer turns masking off to read them.
//!
//! Masking changes what a page shows, never what is stored, analysed or exported.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a masked term shows as.
pub(crate) const MASK: &str = "■■■";

/// Whole words (or phrases, any spacing), any case. Clinical and coded terms of the genre; the
/// list errs toward masking words that also have innocent senses (masking hides, it never
/// flags).
const TERMS: &[&str] = &[
    "gfe",
    "pse",
    "bbbj",
    "bbfs",
    "cbj",
    "cim",
    "daty",
    "dfk",
    "nuru",
    "b2b",
    "fs",
    "happy ending",
    "happy endings",
    "full service",
    "nude",
    "nudes",
    "naked",
    "topless",
    "erotic",
    "sensual",
    "fetish",
    "fetishes",
    "kinky",
    "bdsm",
    "anal",
    "oral",
    "blowjob",
    "blowjobs",
    "orgasm",
    "orgasms",
    "threesome",
    "bareback",
    "condom",
    "condoms",
    "porn",
    "xxx",
    "lingerie",
    "breast",
    "breasts",
    "boobs",
    "busty",
    "nipples",
    "booty",
    "sexy",
    "sex",
];

static PATTERN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let alternatives: Vec<String> = TERMS
        .iter()
        .map(|t| {
            t.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s+")
        })
        .collect();
    // Built from the constant list above; `None` only if that list were malformed, and then
    // nothing is masked rather than a page failing.
    Regex::new(&format!(r"(?i)\b(?:{})\b", alternatives.join("|"))).ok()
});

/// `text` with every explicit term replaced by [`MASK`].
pub(crate) fn mask(text: &str) -> Cow<'_, str> {
    match PATTERN.as_ref() {
        Some(re) => re.replace_all(text, MASK),
        None => Cow::Borrowed(text),
    }
}

/// Masks `text` in place when `on`.
pub(crate) fn apply(on: bool, text: &mut String) {
    if on && let Cow::Owned(m) = mask(text) {
        *text = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_whole_terms_in_any_case_and_spacing_only() {
        assert_eq!(mask("Sensual GFE,  full\nservice."), "■■■ ■■■,  ■■■.");
        // Not inside other words.
        assert_eq!(mask("Sussex essex oral-b"), "Sussex essex ■■■-b");
        assert_eq!(mask("a bicycle for sale"), "a bicycle for sale");
        let mut s = "topless".to_owned();
        apply(false, &mut s);
        assert_eq!(s, "topless");
        apply(true, &mut s);
        assert_eq!(s, MASK);
    }

    #[test]
    fn the_pattern_builds() {
        assert!(PATTERN.is_some());
    }
}
