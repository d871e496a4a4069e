//! Stated ages: "19yo", "age: 21", "22 y/o", "I'm 22", "twenty one years young" (already "21"
//! in normalized text), "18-35 years of age", "tengo 22 años", and the classified-site title
//! convention "Sweet girl - 19 - Click…".
//!
//! Only numbers with an age cue count, so prices ("$200"), dates, heights ("5'4"), measurements
//! ("34D-24-36"), weights and durations are never read as ages, and numbers inside phones are
//! skipped.

use std::ops::Range;
use std::sync::LazyLock;

use super::age_name;
use super::age_subject::{self, Subject};
use super::pattern::{Pattern, re};
use super::prefilter::age_gate;
use super::span::overlaps;

#[derive(Debug)]
pub(crate) struct AgeHit {
    pub age: u32,
    pub start: usize,
    pub end: usize,
    /// Whose age it is ([`age_subject`]).
    pub subject: Subject,
}

/// "age: 21", "Age 25-29", "aged 19", "ages 1 and 4", "age of 18", "edad: 21",
/// "Poster's age: 26".
static CUE_BEFORE: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)(?:ages?|aged|edad)(?-u:\b)[\s:=\-]*(?:is\s+|of\s+)?:?\s*([0-9]{1,2})(?-u:\b)(?:\s*(?:-|to|and|&)\s*([0-9]{1,2})(?-u:\b))?",
    )
});

/// "19yo", "22 y/o", "20yrs", "50 YEARS OLD", "a 6 year old", "18-35 years of age",
/// "21 years young", "22 años". Group 3 is set when the cue names an age outright (old, young,
/// of age, años), which lets one-digit ages count.
static CUE_AFTER: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)([0-9]{1,2})(?:\s*(?:-|to)\s*([0-9]{1,2}))?\s*\+?[\s\-]*(?:yo(?-u:\b)|y/o(?-u:\b)|y\.o(?-u:\b)\.?|yrs?(?-u:\b)\.?(?:\s*old(?-u:\b))?|(years?[\s\-]*(?:old|young|of\s+age)(?-u:\b)|años(?-u:\b)|anos(?-u:\b)))",
    )
});

/// "18 or older", "18 and over", "must be 18", "at least 21".
static MINIMUM: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?:(?-u:\b)([0-9]{2})\s*(?:or\s+(?:older|over|above)|and\s+(?:over|up|older|above))(?-u:\b)|(?-u:\b)(?:must\s+be|at\s+least|minimum\s+age(?:\s+is)?|over\s+the\s+age\s+of)\s+([0-9]{2})(?-u:\b))",
    )
});

/// "I'm 22", "i am 19", "im 20", "tengo 22".
static SELF: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)(?:i'?m|i\s+am|i\s+was|tengo)\s+(?:only\s+|just\s+|about\s+|almost\s+|barely\s+|turning\s+)?([0-9]{2})(?-u:\b)",
    )
});

/// Forms outside the gated patterns: "just turned 19", "recently turned 18", "cumplí 18",
/// "recién cumplidos 18", "19 añitos", "18 primaveras", and a name with the age in brackets,
/// "Ashley (19)". Groups 1–3: the age.
static MORE: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)(?:(?:just|recently|only|barely)\s+turned|(?:reci[eé]n\s+)?cumpl[ií](?:dos?|das?)?)\s+([0-9]{2})(?-u:\b)|(?-u:\b)([0-9]{1,2})\s*(?:añitos|anitos|primaveras)(?-u:\b)|(?-u:\b)(?-i:\p{Lu}\p{Ll}+)[^\S\n]*\([^\S\n]*([0-9]{2})[^\S\n]*(?:yo|y/o|yrs?|años|anos)?[^\S\n]*\)",
    )
});

/// The age-emphasis words of youth wording ("finally 19", "de apenas 19", "barely 18").
/// Group 1: the age (the writer's).
static EMPHASIS: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)(?:finally|barely|apenas(?:\s+de)?|reci[eé]n\s+cumplidos?)\s+([0-9]{2})(?-u:\b)",
    )
});

/// "Keisha, 32." / "Tiffany, 16 & Mimi, 21": a capitalised name, a comma and two digits that
/// end the phrase. Group 1: the age.
static NAME_COMMA: Pattern = Pattern::new(|| {
    re(
        r"(?-u:\b)(?:\p{Lu}\p{Ll}+|(?i:lady|woman|girl|chica|mujer|dama|señorita|senorita)),[^\S\n]+([0-9]{2})(?:[^\S\n]*(?:[.!,&;|)]|-[^\S\n]|\n|$))",
    )
});

/// "Aiko is 16", "Sasha is just 17" (the normalizer has turned "sixteen" into 16 already, so
/// spelled ages need no pattern of their own): a capitalised word
/// that is not a common noun of prices and things, "is", two digits. Group 1: the word, 2: the
/// age.
static NAME_IS: Pattern = Pattern::new(|| {
    re(
        r"(?-u:\b)(\p{Lu}\p{Ll}+)[^\S\n]+is[^\S\n]+(?:only[^\S\n]+|just[^\S\n]+|barely[^\S\n]+)?([0-9]{2})(?-u:\b)",
    )
});

/// Capitalised words before "is N" that are things or someone other than the person offered
/// ("Rent is 20", "He is 15").
const NOT_A_NAME: &[&str] = &[
    "price",
    "rent",
    "rate",
    "it",
    "this",
    "that",
    "cost",
    "deposit",
    "fee",
    "pay",
    "total",
    "size",
    "room",
    "unit",
    "there",
    "here",
    "what",
    "which",
    "mileage",
    "year",
    "model",
    "shift",
    "class",
    "lesson",
    "session",
    "tuition",
    "salary",
    "wage",
    "apartment",
    "house",
    "home",
    "car",
    "truck",
    "bike",
    "item",
    "dog",
    "cat",
    "puppy",
    "kitten",
    "minimum",
    "maximum",
    "age",
    "capacity",
    "ticket",
    "entry",
    "admission",
    "parking",
    "number",
    "lot",
    "suite",
    "building",
    "he",
    "team",
    "league",
    "group",
    "camp",
    "hours",
    "time",
    "discount",
];

/// What may follow "Name, 24" that makes the number a count or a time ("Call Mike, 24 hours").
fn time_after(rest: &str) -> bool {
    let rest = rest.trim_start().to_lowercase();
    [
        "hour", "hr", "day", "week", "month", "night", "min", "pm", "am", "x", "k", "%", "units",
        "ft", "people", "persons", "seats",
    ]
    .iter()
    .any(|w| rest.starts_with(w))
}

/// "M 24", "F29", "24M", "29/f", "32 F": the dating-ad shorthand of sex and age. Groups 1, 2:
/// the age.
static SEX_AGE: Pattern = Pattern::new(|| {
    re(r"(?-u:\b)(?:[MF][^\S\n]?([0-9]{2})|([0-9]{2})[^\S\n]?/?[^\S\n]?[MFmf])(?-u:\b)")
});

/// Which of the ungated patterns ([`MORE`], [`EMPHASIS`], [`NAME_IS`], [`NAME_COMMA`],
/// [`SEX_AGE`]) can match: the first three need one of their literals, the last two a digit
/// after a comma and blanks or beside an `M`/`F`; found in one pass instead of a regex scan
/// each per ad.
struct Extra {
    name_is: bool,
    more: bool,
    emphasis: bool,
    name_comma: bool,
    sex_age: bool,
}

/// Literals of [`MORE`] (0), [`EMPHASIS`] (1) and [`NAME_IS`] (2), ASCII-case-insensitive.
static EXTRA_LITERALS: LazyLock<Option<(aho_corasick::AhoCorasick, Vec<u8>)>> =
    LazyLock::new(|| {
        let groups: [(u8, &[&str]); 3] = [
            (0, &["turned", "cumpl", "ñitos", "nitos", "primaveras", "("]),
            (1, &["finally", "barely", "apenas", "recien", "recién"]),
            (2, &["is"]),
        ];
        let mut pats = Vec::new();
        let mut owner = Vec::new();
        for (g, words) in groups {
            for w in words {
                pats.push(*w);
                owner.push(g);
            }
        }
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&pats)
            .ok()
            .map(|ac| (ac, owner))
    });

impl Extra {
    fn of(text: &str) -> Extra {
        let b = text.as_bytes();
        let mut e = Extra {
            name_is: false,
            more: false,
            emphasis: false,
            name_comma: false,
            sex_age: false,
        };
        match &*EXTRA_LITERALS {
            Some((ac, owner)) => {
                for m in ac.find_overlapping_iter(text) {
                    match owner.get(m.pattern().as_usize()) {
                        Some(0) => e.more = true,
                        Some(1) => e.emphasis = true,
                        _ => e.name_is = true,
                    }
                }
            }
            // (cannot happen: the literals are constants) run everything
            None => (e.more, e.emphasis, e.name_is) = (true, true, true),
        }
        let mf = |c: char| matches!(c, 'M' | 'F' | 'm' | 'f');
        for (i, &c) in b.iter().enumerate() {
            if !c.is_ascii_digit() {
                continue;
            }
            // (a digit is ASCII: `i` and `i + 1` are char boundaries)
            let before = &text[..i];
            // "M 24": the letter at most one char (a space) before the digits
            if before.chars().rev().take(2).any(mf) {
                e.sex_age = true;
            }
            // "24 / F": the letter at most three chars (space, slash, space) after them
            if text[i + 1..].chars().take(4).any(mf) {
                e.sex_age = true;
            }
            // "Keisha, 32": a comma, blanks, the digits
            let t = before.trim_end_matches(|c: char| c.is_whitespace() && c != '\n');
            if t.len() < before.len() && t.ends_with(',') {
                e.name_comma = true;
            }
        }
        e
    }

    /// Every pattern (what the gate replaces), for tests.
    #[cfg(test)]
    const ALL: Extra = Extra {
        name_is: true,
        more: true,
        emphasis: true,
        name_comma: true,
        sex_age: true,
    };
}

/// Words after a number of years that make it something other than an age ("10 years of
/// experience", "15 yrs in business", "5 años de garantía").
fn not_an_age_after(rest: &str) -> bool {
    let rest = rest.trim_start().to_lowercase();
    [
        "experience",
        "exp",
        "of experience",
        "of exp",
        "in business",
        "in the business",
        "ago",
        "warranty",
        "de experiencia",
        "de exp",
        "de garant",
        "en el negocio",
        "de antig",
        "in the trade",
        "in the industry",
        "on the job",
        "of service",
        "de servicio",
    ]
    .iter()
    .any(|w| rest.starts_with(w))
}

/// Plural nouns after a title number that make it a count ("- 52 Ads", "- 6 Pictures").
const COUNTED: &[&str] = &[
    "ads", "pictures", "pics", "photos", "reviews", "posts", "girls", "ladies", "hours", "days",
    "min", "mins", "minutes", "new", "now",
];

/// "… - 19 - …" / "… - 19 Hello": a two-digit number set off by " - " in a title.
static TITLE: Pattern = Pattern::new(|| {
    re(r"(?:^|[^\S\n]+)-[^\S\n]+([0-9]{2})(?:[^\S\n]+-[^\S\n]|[^\S\n]*(?:\n|$)|[^\S\n]+\p{L})")
});

/// What may follow a bare number that makes it something other than an age.
fn quantity_after(rest: &str) -> bool {
    let rest = rest.trim_start();
    let lower: String = rest.chars().take(6).flat_map(char::to_lowercase).collect();
    // a decimal or thousands separator is a quantity ("5.5", "1,000"); a full stop, comma or
    // ellipsis ending the age is not ("I'm 19...", "age 19.")
    let separator =
        rest.starts_with(['.', ',']) && rest[1..].starts_with(|c: char| c.is_ascii_digit());
    rest.starts_with(['\'', '"', '’', '$', '%', '/'])
        || separator
        || [
            "ft", "lb", "cm", "kg", "min", "hr", "hh", "h ", "rose", "inch", "k ", "usd", "euro",
            "dollar", "$",
        ]
        .iter()
        .any(|u| lower.starts_with(u))
}

/// Adds the ages of match `m` (capture groups 1 to 4) whose value is in `lo..=99`, outside
/// phones. `fixed`: the form itself says whose age it is ("I'm 19" the writer's, "must be 21"
/// nobody's); `None` leaves it to the words around ([`age_subject::of`]).
fn push(
    out: &mut Vec<AgeHit>,
    text: &str,
    m: regex::Captures<'_>,
    lo: u32,
    phones: &[Range<usize>],
    fixed: Option<Subject>,
) {
    let Some(whole) = m.get(0) else { return };
    for g in (1..=4).filter_map(|i| m.get(i)) {
        let Ok(age) = g.as_str().parse::<u32>() else {
            continue;
        };
        if !(lo..=99).contains(&age) || overlaps(&(g.start()..g.end()), phones) {
            continue;
        }
        out.push(AgeHit {
            age,
            start: whole.start(),
            end: whole.end(),
            subject: fixed.unwrap_or_else(|| age_subject::of(text, whole.start(), whole.end())),
        });
    }
}

/// Every stated age in the normalized `text`, skipping numbers inside `phones`.
pub(crate) fn find(text: &str, phones: &[Range<usize>]) -> Vec<AgeHit> {
    find_gated(text, phones, &age_gate::possible(text), &Extra::of(text))
}

/// The matches of `re` starting in `start..=last`, as `captures_iter` would find them (none is
/// empty).
fn captures_from<'t>(
    re: &'t regex::Regex,
    text: &'t str,
    start: usize,
    last: usize,
) -> impl Iterator<Item = regex::Captures<'t>> + 't {
    let mut at = start;
    std::iter::from_fn(move || {
        if at > last {
            return None;
        }
        let m = re.captures_at(text, at)?;
        at = m.get(0).map_or(text.len(), |w| w.end());
        Some(m)
    })
}

/// [`find`], running only the patterns the gate allows, each from where its matches can start
/// (see `age_gate`).
fn find_gated(
    text: &str,
    phones: &[Range<usize>],
    gate: &age_gate::Gate,
    extra: &Extra,
) -> Vec<AgeHit> {
    let mut out = Vec::new();
    // every pattern needs its cue beside some digits (see `age_gate`)
    let run = |bit: u8, re: &'static regex::Regex| {
        (gate.found & bit != 0)
            .then(|| captures_from(re, text, gate.start(bit), gate.last(bit)))
            .into_iter()
            .flatten()
    };
    for m in run(age_gate::BEFORE, &CUE_BEFORE) {
        if let Some(g) = m.get(1)
            && quantity_after(&text[g.end()..])
            && m.get(2).is_none()
        {
            continue;
        }
        push(&mut out, text, m, 1, phones, None);
    }
    for m in run(age_gate::AFTER, &CUE_AFTER) {
        let lo = if m.get(3).is_some() { 1 } else { 10 };
        push(&mut out, text, m, lo, phones, None);
    }
    for m in run(age_gate::MINIMUM, &MINIMUM) {
        let Some(g) = m.get(1).or_else(|| m.get(2)) else {
            continue;
        };
        if quantity_after(&text[g.end()..]) {
            continue;
        }
        // a requirement ("must be 21", "18 and over") is nobody's age
        push(&mut out, text, m, 10, phones, Some(Subject::Minimum));
    }
    for m in run(age_gate::SELF, &SELF) {
        if let Some(g) = m.get(1)
            && quantity_after(&text[g.end()..])
        {
            continue;
        }
        push(&mut out, text, m, 10, phones, Some(Subject::Advertised));
    }
    for m in extra
        .more
        .then(|| MORE.captures_iter(text))
        .into_iter()
        .flatten()
    {
        if let Some(g) = m.get(1).or(m.get(3))
            && quantity_after(&text[g.end()..])
        {
            continue;
        }
        // "just turned 19" is the writer's; "Ashley (19)" the named person's
        let fixed = m.get(1).is_some().then_some(Subject::Advertised);
        push(&mut out, text, m, 10, phones, fixed);
    }
    // (pattern, whose age, may it match, may a quantity follow: "24/F" is the shorthand itself)
    for (re, fixed, run, unit_ok) in [
        (&*EMPHASIS, Some(Subject::Advertised), extra.emphasis, false),
        (&*SEX_AGE, Some(Subject::Advertised), extra.sex_age, true),
        (&*NAME_COMMA, None, extra.name_comma, false),
    ] {
        for m in run.then(|| re.captures_iter(text)).into_iter().flatten() {
            if let Some(g) = m.get(1)
                && !unit_ok
                && (quantity_after(&text[g.end()..]) || time_after(&text[g.end()..]))
            {
                continue;
            }
            push(&mut out, text, m, 12, phones, fixed);
        }
    }
    for m in extra
        .name_is
        .then(|| NAME_IS.captures_iter(text))
        .into_iter()
        .flatten()
    {
        let (Some(whole), Some(word), Some(g)) = (m.get(0), m.get(1), m.get(2)) else {
            continue;
        };
        if NOT_A_NAME.contains(&word.as_str().to_lowercase().as_str())
            || quantity_after(&text[g.end()..])
            || time_after(&text[g.end()..])
            || overlaps(&(g.start()..g.end()), phones)
        {
            continue;
        }
        let Ok(age) = g.as_str().parse::<u32>() else {
            continue;
        };
        if (12..=69).contains(&age) {
            out.push(AgeHit {
                age,
                start: whole.start(),
                end: whole.end(),
                subject: age_subject::of(text, whole.start(), whole.end()),
            });
        }
    }
    for m in run(age_gate::TITLE, &TITLE) {
        let Some(g) = m.get(1) else { continue };
        let before = text[..m.get(0).map_or(0, |w| w.start())].trim_end();
        if before.is_empty() || before.ends_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let next: String = text[g.end()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphabetic())
            .flat_map(char::to_lowercase)
            .collect();
        if COUNTED.contains(&next.as_str()) {
            continue;
        }
        let Ok(age) = g.as_str().parse::<u32>() else {
            continue;
        };
        if (12..=69).contains(&age) && !overlaps(&(g.start()..g.end()), phones) {
            out.push(AgeHit {
                age,
                start: g.start(),
                end: g.end(),
                subject: Subject::Advertised,
            });
        }
    }
    // "Sierra 19", "Sofia | 23": a given name, then the age (`age_name`); a number another
    // form read already is the same mention
    for hit in age_name::find(text, 12, 69) {
        let d = &hit.digits;
        if overlaps(d, phones)
            || out
                .iter()
                .any(|a| a.age == hit.age && a.start <= d.start && d.end <= a.end)
        {
            continue;
        }
        out.push(AgeHit {
            age: hit.age,
            start: hit.start,
            end: d.end,
            subject: age_subject::of(text, hit.start, d.end),
        });
    }
    // "10 years of experience", "5 años de garantía": not ages at all
    out.retain(|a| !not_an_age_after(&text[a.end..]));
    out.sort_by_key(|a| (a.start, a.age));
    out.dedup_by(|a, b| a.start == b.start && a.age == b.age);
    // one mention per number even when two patterns matched it
    let mut seen: Vec<(usize, u32)> = Vec::new();
    out.retain(|a| {
        let key = (a.end, a.age);
        if seen.contains(&key) {
            return false;
        }
        seen.push(key);
        true
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ages(t: &str) -> Vec<u32> {
        let mut v: Vec<u32> = find(t, &[]).into_iter().map(|a| a.age).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn finds_stated_ages() {
        assert_eq!(ages("19yo blonde"), [19]);
        assert_eq!(ages("Age: 21 Height: 5'4"), [21]);
        assert_eq!(ages("I'm 22 and sweet"), [22]);
        assert_eq!(ages("22 y/o"), [22]);
        assert_eq!(ages("21 years young"), [21]);
        assert_eq!(ages("ladies between 18-35 years of age"), [18, 35]);
        assert_eq!(ages("Ethnicity Korean Age 25-29 Height"), [25, 29]);
        assert_eq!(ages("tengo 22 años"), [22]);
        assert_eq!(ages("Sexy Face Young - 19 - Click"), [19]);
        assert_eq!(ages("under the age of 18 (or 21 in some countries)"), [18]);
        assert_eq!(ages("kids ages 1 and 4"), [1, 4]);
        assert_eq!(ages("a 6 year old and a 12 year old"), [6, 12]);
        assert_eq!(ages("Must be 18 or older"), [18]);
        // punctuation runs, "just turned", a name with the age in brackets, Spanish forms
        assert_eq!(ages("Hi I'm 19... new here"), [19]);
        assert_eq!(ages("hola, tengo 20, soy nueva"), [20]);
        assert_eq!(ages("Age 21. Slim"), [21]);
        assert_eq!(ages("just turned 18!!"), [18]);
        assert_eq!(ages("Ashley (19) and Mia (22)"), [19, 22]);
        assert_eq!(ages("recién cumplidos 18"), [18]);
        assert_eq!(ages("19 añitos"), [19]);
        assert_eq!(ages("con 20 primaveras"), [20]);
        // spelled ages: the normalizer turns the words into digits first
        let spelled = |t: &str| ages(&crate::normalize::normalize(t).text);
        assert_eq!(spelled("Aiko is sixteen and brand new"), [16]);
        assert_eq!(spelled("tengo diecisiete"), [17]);
        assert_eq!(spelled("I'm twenty-two"), [22]);
        assert_eq!(spelled("age: nineteen, new in town"), [19]);
        assert_eq!(ages("M 24 looking for a hiking partner"), [24]);
        assert_eq!(ages("Keisha, 32. My place"), [32]);
        assert_eq!(ages("Finally 19. Birthday week"), [19]);
        assert_eq!(ages("de apenas 19"), [19]);
        assert_eq!(ages("Bubbly lady, 20-year-old, around"), [20]);
        assert_eq!(ages("Aiko is 16 and brand new"), [16]);
        assert_eq!(ages("self-managed lady, 27. Couples"), [27]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Multi-byte separators, names and children's words around numbers: every byte
        /// offset the age forms and `age_subject` slice at stays a char boundary.
        #[test]
        fn never_panics_on_bullets_emoji_and_names(
            parts in proptest::collection::vec(
                "(•|🌹|✨|~|\\||–|—|·|\\(|\\)|,|\\.|Mei|Sierra|Nina|LADY|adult|kids|a|one|for|my|son|age|yo|años|I'm|[0-9]{1,3}|[ \n]{1,2}|ñ|é)",
                0..16,
            ),
        ) {
            let t: String = parts.concat();
            let _ = find(&t, &[]);
        }

        /// The gate never rules out a pattern that matches.
        #[test]
        fn gate_changes_nothing(
            parts in proptest::collection::vec(
                "(age|Ages|aged|EDAD|is|of|yo|-year-old|y/o|Y\\.O|yrs|year|years old|años|AÑOS|anos|or older|and up|must be|at least|minimum age is|over the age of|I'm|i am|was|tengo|only|just|-|:|=|\\+|&|to|and|[0-9]{1,3}|[a-z]{1,4}|[ \n\t\u{a0}\u{2009}]{1,3}|[.,$'/])",
                0..14,
            ),
        ) {
            let t: String = parts.concat();
            let key = |v: Vec<AgeHit>| v.into_iter().map(|a| (a.age, a.start, a.end)).collect::<Vec<_>>();
            proptest::prop_assert_eq!(
                key(find(&t, &[])),
                key(find_gated(&t, &[], &age_gate::Gate::ALL, &Extra::ALL))
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// The literal and digit gate of the ungated patterns never rules out a match.
        #[test]
        fn extra_gate_changes_nothing(
            parts in proptest::collection::vec(
                "(just|recently|turned|cumplí|recién|cumplidos|añitos|primaveras|finally|barely|apenas|de|is|I'm|tengo|age:|sixteen|twenty|one|diecisiete|veintidós|Ashley|Keisha|M|F|f|/|\\(|\\)|,|-|[0-9]{1,3}|[a-z]{1,4}|[ \n\t\u{a0}\u{2009}]{1,2}|[.!])",
                0..12,
            ),
        ) {
            let t: String = parts.concat();
            let key = |v: Vec<AgeHit>| v.into_iter().map(|a| (a.age, a.start, a.end)).collect::<Vec<_>>();
            proptest::prop_assert_eq!(
                key(find_gated(&t, &[], &age_gate::Gate::ALL, &Extra::of(&t))),
                key(find_gated(&t, &[], &age_gate::Gate::ALL, &Extra::ALL))
            );
        }
    }

    /// Each ungated pattern, with Unicode blanks where the pattern allows them: the gate lets it
    /// run.
    #[test]
    fn extra_gate_lets_every_form_through() {
        let key = |v: Vec<AgeHit>| {
            v.into_iter()
                .map(|a| (a.age, a.start, a.end))
                .collect::<Vec<_>>()
        };
        for t in [
            "Keisha,\u{a0}32. My place",
            "Tiffany, 16 & Mimi,\u{2009}21.",
            "M\u{2009}24 looking",
            "24\u{a0}/\u{a0}F here",
            "Aiko is 16 and new",
            "finally 19. yes",
            "just turned 18",
            "19 añitos",
            "Ashley (19) and Mia ( 22 )",
            "Aiko is\u{a0}16 and new",
            "Ivy,\u{2009}38. Hi",
        ] {
            let gated = key(find_gated(t, &[], &age_gate::Gate::ALL, &Extra::of(t)));
            assert!(!gated.is_empty(), "{t}");
            assert_eq!(
                gated,
                key(find_gated(t, &[], &age_gate::Gate::ALL, &Extra::ALL)),
                "{t}"
            );
        }
    }

    /// Matches that start tokens before the digits their gate tie is checked at, late in the
    /// text, and several per pattern: starting each search where the gate says finds them all.
    #[test]
    fn gated_starts_miss_nothing() {
        let key = |v: Vec<AgeHit>| {
            v.into_iter()
                .map(|a| (a.age, a.start, a.end))
                .collect::<Vec<_>>()
        };
        for t in [
            "some intro text here. over   the\tage of 18 ok",
            "blah blah blah 18 - 35 years old",
            "blah blah 18to35 yo and 19 - 20 y/o",
            "x y z w i   was \n barely 22",
            "hello world. Age = - = : is : 21, age of 5, ages 1 and 4",
            "title words  -  19 - more\nsecond - 22 Hello - 23",
            "a b c minimum  age is 21 and 30 or older",
            "¡hola! tengo 22 años 😀 - 21 -",
        ] {
            let gated = key(find(t, &[]));
            assert!(!gated.is_empty(), "{t}");
            assert_eq!(
                gated,
                key(find_gated(t, &[], &age_gate::Gate::ALL, &Extra::ALL)),
                "{t}"
            );
        }
    }

    #[test]
    fn ignores_quantities() {
        assert!(ages("I'm 5'6 140 lbs").is_empty());
        assert!(ages("$200 for 30 min, 34D-24-36").is_empty());
        assert!(ages("Hotter 430 - 219 - 0201 - 24").is_empty());
        assert!(ages("open 24/7, 100% real").is_empty());
        assert!(ages("I'm 5.5 miles away, age 1,000").is_empty());
        assert!(ages("10 años de experiencia").is_empty());
        assert!(ages("Enrolled agent with 15 yrs experience").is_empty());
        assert!(ages("Pay is 20 per hour, call Sam, 24/7").is_empty());
        assert!(ages("Rent is 95 a week. Call Mike, 24 hours a day").is_empty());
    }
}
