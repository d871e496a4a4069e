//! A given name, then the age: "Sierra 19", "Sofia | 23", "- Mei 19" in a roster, "Olga 19
//! calladita", "LADY 45", "independent adult (24)". Classified ads put the advertised person's
//! age right after their name with no age word at all, so [`super::age`]'s cue patterns miss it.
//!
//! A bare two-digit number is everywhere in ads (sizes, models, suites, grades, prices), so the
//! word before it must be a given name, read from `first_names.txt`: the US Census 1990
//! first-name files (public domain), less the names that are also English words ("Will 21",
//! "Page 12", "May 19", "Max 20 people") and months and weekdays ("June 25"), except the
//! word-names ads use as names (Amber, Ruby, Destiny, Jade, Crystal…: the file's header lists
//! them). Or the
//! word is a noun naming the person offered ([`PERSON`]). The name is capitalised (or all
//! capitals), only blanks, punctuation or emoji stand between it and the number, and nothing
//! after the number makes it a quantity, a time, a date or a range.
//!
//! Whose age it is stays [`super::age_subject`]'s question: "my daughter Grace 12" is a
//! child's.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The given names (lower case).
static NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("first_names.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Nouns naming the person offered, read like a name before an age (any case: "independent
/// adult (24)").
const PERSON: &[&str] = &[
    "lady",
    "girl",
    "woman",
    "adult",
    "chica",
    "mujer",
    "dama",
    "señorita",
    "senorita",
    "nena",
];

/// Words before the name that make it a thing ("Air Jordan 12").
const THING_BEFORE: &[&str] = &["air", "size", "route", "suite", "apt"];

/// Most characters between the name and the age.
const GAP: usize = 6;

/// A name-then-age: the name starts at `start`, the age's digits are `digits`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NameAge {
    pub start: usize,
    pub digits: std::ops::Range<usize>,
    pub age: u32,
}

/// May `c` stand between a name and its age? Blanks (not a newline), the separators ads use
/// (`| ~ , : - * (`), and non-ASCII symbols (emoji, bullets, dashes), but never a currency, a
/// number sign, a slash or a full stop.
fn separator(c: char) -> bool {
    match c {
        '\n' => false,
        c if c.is_whitespace() => true,
        '|' | '~' | ',' | ':' | '-' | '*' | '(' => true,
        c if c.is_ascii() => false,
        c => !c.is_alphanumeric() && !matches!(c, '€' | '£' | '¥' | '₱' | '¢'),
    }
}

/// Is `word` capitalised ("Sierra") or all capitals ("LADY")?
fn capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_uppercase() {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    rest.iter().all(|c| c.is_lowercase()) || rest.iter().all(|c| c.is_uppercase())
}

/// Every name-then-age in the normalized `text` with the age in `lo..=hi`.
pub(crate) fn find(text: &str, lo: u32, hi: u32) -> Vec<NameAge> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        // a run of exactly two digits
        if !(b[i].is_ascii_digit() && b[i + 1].is_ascii_digit())
            || (i > 0 && b[i - 1].is_ascii_digit())
            || b.get(i + 2).is_some_and(u8::is_ascii_digit)
        {
            i += 1;
            continue;
        }
        let digits = i..i + 2;
        i += 2;
        if let Some(hit) = name_before(text, digits, lo, hi) {
            out.push(hit);
        }
    }
    out
}

/// The name-then-age ending in the two digits at `digits`, if the words around make it one.
fn name_before(text: &str, digits: std::ops::Range<usize>, lo: u32, hi: u32) -> Option<NameAge> {
    let age: u32 = text.get(digits.clone())?.parse().ok()?;
    if !(lo..=hi).contains(&age) || !plain_after(&text[digits.end..]) {
        return None;
    }
    // the separators before the digits: at least one, at most GAP
    let before = &text[..digits.start];
    let mut gap = 0;
    let mut word_end = before.len();
    for (at, c) in before.char_indices().rev() {
        if !separator(c) {
            break;
        }
        gap += 1;
        word_end = at;
        if gap > GAP {
            return None;
        }
    }
    if gap == 0 {
        return None; // "sierra19" is a handle, not a name and an age
    }
    let head = &before[..word_end];
    let word_start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map(|(at, _)| at)?;
    let word = &head[word_start..];
    let lower = word.to_lowercase();
    let name = capitalised(word) && NAMES.contains(lower.as_str());
    if !(name || PERSON.contains(&lower.as_str())) {
        return None;
    }
    let previous = head[..word_start]
        .trim_end()
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_lowercase();
    if THING_BEFORE.contains(&previous.as_str()) {
        return None;
    }
    Some(NameAge {
        start: word_start,
        digits,
        age,
    })
}

/// Nothing right after the digits makes them a quantity, a time, a date, a range or part of a
/// word: "Sierra 19, shy" and "Mei 19\n" are ages; "Jade 12:30", "Grace 20%", "Ruby 12/14",
/// "Sofia 21-23", "Amber 22nd", "Lily 18+" and "Rose 12 roses" are not.
fn plain_after(rest: &str) -> bool {
    let mut chars = rest.chars();
    let Some(c) = chars.next() else {
        return true;
    };
    let next = chars.next();
    if c.is_alphanumeric()
        || matches!(
            c,
            '+' | '%' | '$' | '/' | '\'' | '"' | '’' | '#' | '&' | '@' | '='
        )
    {
        return false;
    }
    if matches!(c, ':' | '.' | ',' | '-') && next.is_some_and(|n| n.is_ascii_digit()) {
        return false;
    }
    // the next word, whole: "hours" is a unit, "amazing" and "personal" are not
    let word: String = rest
        .trim_start_matches(|c: char| c.is_whitespace() && c != '\n')
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    !UNITS.contains(&word.as_str())
}

/// Words after a number that make it a quantity, a time or a range ("Grace 20 hours").
const UNITS: &[&str] = &[
    "hour", "hours", "hr", "hrs", "min", "mins", "minute", "minutes", "day", "days", "week",
    "weeks", "month", "months", "year", "years", "night", "nights", "pm", "am", "rose", "roses",
    "dollar", "dollars", "usd", "people", "person", "persons", "ppl", "pic", "pics", "photo",
    "photos", "review", "reviews", "ads", "inch", "inches", "ft", "lb", "lbs", "kg", "cm", "mile",
    "miles", "hh", "qv", "hundred", "dozen", "k", "to", "or", "mil", "horas", "hora", "minutos",
    "dias", "días", "años", "anos", "rosas", "personas", "fotos",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ages(t: &str) -> Vec<u32> {
        find(t, 12, 69).into_iter().map(|h| h.age).collect()
    }

    #[test]
    fn reads_a_name_then_an_age() {
        assert_eq!(ages("Baby faced Sierra 17, small n shy."), [17]);
        assert_eq!(ages("- Mei 19\n- Maya 22\n- more"), [19, 22]);
        assert_eq!(ages("Sofia | 23\nUpscale"), [23]);
        assert_eq!(ages("🌹 Sofia 🌹 24 🌹"), [24]);
        assert_eq!(ages("PRIVATE CLASSY LADY 45 FOR MARRIED MEN"), [45]);
        assert_eq!(ages("Independent adult (24). All rates"), [24]);
        assert_eq!(ages("Olga 19 calladita primera vez"), [19]);
        assert_eq!(ages("~ Jasmine, 22 ~"), [22]);
        assert_eq!(ages("Ivy 31"), [31]);
        // a word after the age that only starts like a unit
        assert_eq!(ages("Sierra 16 amazing"), [16]);
        assert_eq!(ages("Mia 17 personal time"), [17]);
        assert_eq!(ages("Instagram model Ava 17"), [17]);
    }

    #[test]
    fn leaves_things_and_numbers_that_are_not_ages() {
        for t in [
            "Will 21 work for you?",
            "Page 12 of the manual",
            "Max 20 people",
            "Jade 12:30 appointment",
            "Ruby 12/14",
            "Sofia 21-23 years",
            "Amber 22nd",
            "Lily 18+",
            "Rose 12 roses",
            "Air Jordan 12 size 10",
            "sierra19",
            "Grace $20",
            "Route 66 diner",
            "Suite 21",
            "Grace 20 hours a week",
            "Holly 2019",
            "call Amber 555 0134",
            "Mia\n19",
            "Posted: Saturday, June 25, 2016",
            "Ruby 1.5",
            "amber 19",
            "Nina $40 per 30 min",
        ] {
            assert_eq!(ages(t), Vec::<u32>::new(), "{t}");
        }
    }

    #[test]
    fn the_name_list_holds_names_not_words() {
        for n in ["sierra", "mei", "olga", "sofia", "ruby", "amber", "destiny"] {
            assert!(NAMES.contains(n), "{n}");
        }
        for w in ["will", "page", "max", "may", "price", "grant", "summer"] {
            assert!(!NAMES.contains(w), "{w}");
        }
    }
}
