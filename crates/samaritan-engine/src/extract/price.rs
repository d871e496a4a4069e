//! Prices and rates: an amount, its currency (ISO code from a symbol or word, or a coded unit
//! such as `roses`, `donation`) and the time or service it buys ("120 hh", "$200/hr",
//! "30 min - 200 roses", "Qv 80", "1 hour 3000", "250 EUR").
//!
//! A bare number is a price only when it is tied to a currency or to a duration/service marker;
//! numbers inside phones, heights, measurements, dates and times never are. Each amount is paired
//! with the marker beside it; when markers sit on both sides, the order the ad itself uses (marker
//! first or amount first) decides.

use std::ops::Range;

use crate::model::Price;

use super::pattern::{Pattern, re};
use super::prefilter::amount_scan;
use super::prefilter::cues::{self, Cues};
use super::span::overlaps;

#[derive(Debug)]
pub(crate) struct PriceHit {
    pub price: Price,
    pub start: usize,
    pub end: usize,
}

/// Duration and service markers. Group 1: minutes count; 2: hours count; 3: half hour;
/// 4: one hour; 5: quick visit; 6: overnight.
static MARKER: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?:(?-u:\b)([0-9]{1,3})[^\S\n]*(?:min|mins|minutes?|minutos|mn)(?-u:\b)|(?-u:\b)([0-9]{1,2})[^\S\n]*(?:hours?|hrs?|h|horas?)(?-u:\b)|((?-u:\b)(?:half|hlf|hf)[^\S\n]*(?:an?[^\S\n]+)?(?:hour|hr|h)(?-u:\b)|(?-u:\b)1/2[^\S\n]*(?:hour|hr|h)(?-u:\b)|(?-u:\b)hhr?(?-u:\b)|(?-u:\b)hf(?-u:\b)|(?-u:\b)half(?-u:\b))|((?-u:\b)(?:full|one|per|an?)[^\S\n]*(?:hour|hr|h)(?-u:\b)|(?-u:\b)hourly(?-u:\b)|(?-u:\b)hour(?-u:\b)|(?-u:\b)hrs?(?-u:\b)|(?-u:\b)h(?-u:\b)|(?-u:\b)fh(?-u:\b))|((?-u:\b)(?:qv|qk|qs|ss|quickie|quick[^\S\n]*visit|short[^\S\n]*stay|hummer)(?-u:\b))|((?-u:\b)(?:overnight|night)(?-u:\b)))",
    )
});

/// What a marker says: the minutes it stands for, or the service it names.
type MarkerMeaning = (Option<u32>, Option<&'static str>);

/// The meaning of a [`MARKER`] match from its groups.
fn marker_groups(c: &regex::Captures<'_>) -> MarkerMeaning {
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    if let Some(m) = num(1) {
        (Some(m), None)
    } else if let Some(h) = num(2) {
        (Some(h.saturating_mul(60)), None)
    } else if c.get(3).is_some() {
        (Some(30), None)
    } else if c.get(4).is_some() {
        (Some(60), None)
    } else if c.get(5).is_some() {
        (None, Some("quick_visit"))
    } else {
        (Some(480), None)
    }
}

/// The meaning of the ASCII [`MARKER`] match `m`, read from how it starts instead of a capture
/// search: each group's alternatives start differently (a count then `m` or `h`, `1/`, or a
/// first word of their own), so the start tells which group matched. `None` for a match that is
/// not ASCII (a Unicode case variant), left to the pattern.
fn read_marker(m: &[u8]) -> Option<MarkerMeaning> {
    if !m.is_ascii() {
        return None;
    }
    let starts = |w: &str| {
        m.get(..w.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(w.as_bytes()))
    };
    let count = m.iter().take_while(|b| b.is_ascii_digit()).count();
    if count > 0 {
        // groups 1 and 2: the count, blanks, then a minutes or an hours word; group 3: "1/2 …"
        let unit = m[count..]
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | 0x0B | 0x0C))?;
        let n = std::str::from_utf8(&m[..count]).ok()?.parse::<u32>().ok()?;
        return match unit.to_ascii_lowercase() {
            b'/' => Some((Some(30), None)),
            b'm' => Some((Some(n), None)),
            b'h' => Some((Some(n.saturating_mul(60)), None)),
            _ => None,
        };
    }
    // (in this order: "hh", "hf" and "hummer" also start with "h")
    if ["half", "hlf", "hf", "hh"].into_iter().any(starts) {
        Some((Some(30), None))
    } else if ["qv", "qk", "qs", "ss", "quick", "short", "hummer"]
        .into_iter()
        .any(starts)
    {
        Some((None, Some("quick_visit")))
    } else if ["overnight", "night"].into_iter().any(starts) {
        Some((Some(480), None))
    } else if ["full", "one", "per", "a", "h", "fh"]
        .into_iter()
        .any(starts)
    {
        // full/one/per/a/an hour, hourly, hour, hrs, hr, h, fh
        Some((Some(60), None))
    } else {
        None
    }
}

/// An amount with an optional currency before or after it. Group 1: symbol/code before;
/// 2: digits; 3: cents; 4: `k`; 5: symbol after; 6: word after.
static AMOUNT: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?:([$€£¥₹]|(?-u:\b)(?:usd|eur|rm|thb)(?-u:\b))[^\S\n]?)?(?-u:\b)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,6})(?:\.([0-9]{1,2}))?(k(?-u:\b))?(?:[^\S\n]?([$€£])|[^\S\n]?(usd|eur|euros?|dollars|bucks|gbp|thb|roses?|donations?|candies)(?-u:\b))?",
    )
});

/// The groups of one [`AMOUNT`] match (byte ranges in the text).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AmountParts {
    whole: Range<usize>,
    /// Group 1: symbol or code before.
    before: Option<Range<usize>>,
    /// Group 2: the digits.
    digits: Range<usize>,
    /// Group 3: cents.
    cents: Option<Range<usize>>,
    /// Group 4: `k`.
    thousands: bool,
    /// Group 5: symbol after.
    symbol_after: Option<Range<usize>>,
    /// Group 6: word after.
    word_after: Option<Range<usize>>,
}

/// The groups of the [`AMOUNT`] match at `whole`. An ASCII match is taken apart by hand the way
/// the pattern reads (leftmost-first, greedy), which is much cheaper than a capture search;
/// anything else, or a match the hand reading does not account for to its last byte, is
/// captured by the pattern itself.
fn amount_parts(text: &str, whole: Range<usize>) -> Option<AmountParts> {
    let w = &text[whole.clone()];
    if w.is_ascii()
        && let Some(p) = read_amount(w.as_bytes(), whole.start)
    {
        return Some(p);
    }
    let c = AMOUNT.captures_at(text, whole.start)?;
    let r = |i: usize| c.get(i).map(|m| m.start()..m.end());
    Some(AmountParts {
        whole: r(0)?,
        before: r(1),
        digits: r(2)?,
        cents: r(3),
        thousands: c.get(4).is_some(),
        symbol_after: r(5),
        word_after: r(6),
    })
}

/// Hand reading of an ASCII [`AMOUNT`] match `w` found at `at`; `None` when the reading does not
/// end exactly where the match does.
fn read_amount(w: &[u8], at: usize) -> Option<AmountParts> {
    // [^\S\n] within ASCII
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | 0x0B | 0x0C);
    let digits_from = |i: usize| w[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let letters_from = |i: usize| {
        w[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count()
    };
    let mut i = 0;
    // group 1: "$" or a code, then one optional blank
    let mut before = None;
    match w.first()? {
        b'$' => {
            before = Some(at..at + 1);
            i = 1;
        }
        b if b.is_ascii_alphabetic() => {
            let n = letters_from(0);
            let code = &w[..n];
            if !["usd", "eur", "rm", "thb"]
                .iter()
                .any(|c| code.eq_ignore_ascii_case(c.as_bytes()))
            {
                return None;
            }
            before = Some(at..at + n);
            i = n;
        }
        b if b.is_ascii_digit() => {}
        _ => return None,
    }
    if before.is_some() && w.get(i).copied().is_some_and(blank) {
        i += 1;
    }
    // group 2: 1-3 digits with ",ddd" groups, else 1-6 digits
    let run = digits_from(i);
    if run == 0 {
        return None;
    }
    let mut end = i + run;
    let mut grouped = false;
    if run <= 3 {
        let mut j = i + run;
        while w.get(j) == Some(&b',') && w.len() >= j + 4 && digits_from(j + 1) >= 3 {
            j += 4;
            grouped = true;
        }
        if grouped {
            end = j;
        }
    }
    if !grouped {
        end = i + run.min(6);
    }
    let digits = at + i..at + end;
    i = end;
    // group 3: "." and 1-2 digits
    let mut cents = None;
    if w.get(i) == Some(&b'.') {
        let n = digits_from(i + 1).min(2);
        if n > 0 {
            cents = Some(at + i + 1..at + i + 1 + n);
            i += 1 + n;
        }
    }
    // group 4: "k" (the match ends at a word boundary after it, or it would not be here)
    let mut thousands = false;
    if w.get(i).is_some_and(|b| b.eq_ignore_ascii_case(&b'k')) {
        thousands = true;
        i += 1;
    }
    // groups 5 and 6: one optional blank, then "$" or a currency word
    let mut symbol_after = None;
    let mut word_after = None;
    if i < w.len() {
        let mut j = i;
        if blank(w[j]) {
            j += 1;
        }
        match w.get(j) {
            Some(b'$') => {
                symbol_after = Some(at + j..at + j + 1);
                i = j + 1;
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let n = letters_from(j);
                word_after = Some(at + j..at + j + n);
                i = j + n;
            }
            _ => return None,
        }
    }
    (i == w.len()).then_some(AmountParts {
        whole: at..at + w.len(),
        before,
        digits,
        cents,
        thousands,
        symbol_after,
        word_after,
    })
}

/// What may follow a number that makes it a measure, not money.
fn measure_after(rest: &str) -> bool {
    if rest.starts_with(['\'', '"', '%', ':', '’', '”']) || rest.starts_with("/7") {
        return true;
    }
    // the first (up to) 8 ASCII letters, lower-cased
    let mut buf = [0u8; 8];
    let mut n = 0;
    for b in rest.bytes().take_while(u8::is_ascii_alphabetic).take(8) {
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    let word = std::str::from_utf8(&buf[..n]).unwrap_or("");
    matches!(
        word,
        "lbs"
            | "lb"
            | "kg"
            | "kgs"
            | "cm"
            | "ft"
            | "in"
            | "inch"
            | "yo"
            | "yrs"
            | "yr"
            | "years"
            | "y"
            | "am"
            | "pm"
            | "st"
            | "nd"
            | "rd"
            | "th"
            | "a"
            | "b"
            | "c"
            | "d"
            | "dd"
            | "ddd"
            | "x"
            | "miles"
            | "mi"
            | "pics"
            | "photos"
            | "reviews"
    )
}

/// The currency a symbol or word names (ASCII-case-insensitive).
fn currency(symbol: &str) -> Option<String> {
    // no currency name is longer than 16 bytes
    let mut buf = [0u8; 16];
    let lower = buf.get_mut(..symbol.len())?;
    lower.copy_from_slice(symbol.as_bytes());
    lower.make_ascii_lowercase();
    Some(
        // (lower-casing ASCII bytes keeps UTF-8 valid)
        match std::str::from_utf8(lower).ok()? {
            "$" | "usd" | "dollars" | "bucks" => "USD",
            "€" | "eur" | "euro" | "euros" => "EUR",
            "£" | "gbp" => "GBP",
            "¥" => "JPY",
            "₹" => "INR",
            "rm" => "MYR",
            "thb" => "THB",
            "rose" | "roses" => "roses",
            "donation" | "donations" => "donation",
            "candies" => "candies",
            _ => return None,
        }
        .to_owned(),
    )
}

#[derive(Debug)]
struct Marker {
    start: usize,
    end: usize,
    minutes: Option<u32>,
    service: Option<&'static str>,
}

#[derive(Debug)]
struct Amount {
    start: usize,
    end: usize,
    value: f64,
    currency: Option<String>,
}

pub(crate) fn find(text: &str, cues: &Cues, phones: &[Range<usize>]) -> Vec<PriceHit> {
    let mut markers: Vec<Marker> = Vec::with_capacity(8);
    // both patterns need a digit
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    for w in MARKER.find_iter(text) {
        if overlaps(&(w.start()..w.end()), phones) {
            continue;
        }
        let Some((minutes, service)) = read_marker(w.as_str().as_bytes()).or_else(|| {
            MARKER
                .captures_at(text, w.start())
                .map(|c| marker_groups(&c))
        }) else {
            continue;
        };
        markers.push(Marker {
            start: w.start(),
            end: w.end(),
            minutes,
            service,
        });
    }
    let in_marker = |r: &Range<usize>| markers.iter().any(|m| m.start < r.end && r.start < m.end);
    let mut amounts: Vec<Amount> = Vec::with_capacity(8);
    // an amount is kept only beside a marker or with a currency
    let any_amount = !markers.is_empty() || cues.may(cues::CURRENCY);
    let spans = match any_amount {
        false => Vec::new(),
        true if amount_scan::hand_readable(text) => amount_scan::matches(text),
        true => AMOUNT.find_iter(text).map(|m| m.start()..m.end()).collect(),
    };
    for w in spans {
        let Some(c) = amount_parts(text, w) else {
            continue;
        };
        let w = c.whole.clone();
        let dr = c.digits.clone();
        if overlaps(&dr, phones) || in_marker(&dr) {
            continue;
        }
        let before = &text[..dr.start];
        if before.ends_with(['\'', ':', '/', '.', '#'])
            || before.ends_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        let after = &text[w.end..];
        if c.symbol_after.is_none()
            && c.word_after.is_none()
            && !c.thousands
            && measure_after(after)
        {
            continue;
        }
        if after.starts_with('-')
            && after[1..].starts_with(|c: char| c.is_ascii_digit())
            && before.ends_with('-')
        {
            continue; // middle of 34-24-36
        }
        let digits = &text[dr.clone()];
        let parsed = if digits.contains(',') {
            digits.replace(',', "").parse::<f64>()
        } else {
            digits.parse::<f64>()
        };
        let Ok(mut value) = parsed else {
            continue;
        };
        if let Some(cents) = c.cents.and_then(|m| text[m].parse::<f64>().ok()) {
            value += cents / 100.0;
        }
        if c.thousands {
            value *= 1000.0;
        }
        if !(10.0..=100_000.0).contains(&value) {
            continue;
        }
        let cur = [c.before, c.symbol_after, c.word_after]
            .into_iter()
            .flatten()
            .find_map(|m| currency(&text[m]));
        let w = w.start..w.end;
        amounts.push(Amount {
            start: w.start,
            end: w.end,
            value,
            currency: cur,
        });
    }
    // pair amounts with markers
    let marker_first = match (markers.first(), amounts.first()) {
        (Some(m), Some(a)) => m.start < a.start,
        _ => false,
    };
    let mut used = vec![false; markers.len()];
    let mut out = Vec::new();
    for (i, a) in amounts.iter().enumerate() {
        let lo = if i > 0 { amounts[i - 1].end } else { 0 };
        let hi = amounts.get(i + 1).map_or(text.len(), |n| n.start);
        let near = |gap: &str| {
            gap.chars().count() <= 24
                && !gap.contains("\n\n")
                && !gap.chars().any(|c| c.is_ascii_digit())
        };
        // markers are sorted and must sit within a few characters: look only nearby
        let first_after = markers.partition_point(|m| m.start < a.end);
        let before = (first_after.saturating_sub(4)..first_after)
            .rev()
            .map(|k| (k, &markers[k]))
            .find(|(k, m)| {
                !used[*k] && m.start >= lo && m.end <= a.start && near(&text[m.end..a.start])
            });
        let after = (first_after..markers.len().min(first_after + 4))
            .map(|k| (k, &markers[k]))
            .find(|(k, m)| {
                !used[*k] && m.start >= a.end && m.end <= hi && near(&text[a.end..m.start])
            });
        let pick = match (before, after) {
            (Some(b), Some(f)) => Some(if marker_first { b } else { f }),
            (b, f) => b.or(f),
        };
        if pick.is_none() && a.currency.is_none() {
            continue;
        }
        let (minutes, service, span) = match pick {
            Some((k, m)) => {
                used[k] = true;
                (
                    m.minutes,
                    m.service.map(str::to_owned),
                    a.start.min(m.start)..a.end.max(m.end),
                )
            }
            None => (None, None, a.start..a.end),
        };
        out.push(PriceHit {
            price: Price {
                amount: a.value,
                currency: a.currency.clone(),
                duration_min: minutes,
                service,
            },
            start: span.start,
            end: span.end,
        });
    }
    out
}

/// A short label for a price: `120 USD/30min`, `80 roses (quick_visit)`. Written into one
/// buffer: a label per price mention, and each `format!` is an allocation.
pub(crate) fn label(p: &Price) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(32);
    // (writing to a `String` cannot fail)
    let _ = if p.amount.fract() == 0.0 {
        write!(s, "{}", p.amount as i64)
    } else {
        write!(s, "{:.2}", p.amount)
    };
    if let Some(c) = &p.currency {
        s.push(' ');
        s.push_str(c);
    }
    if let Some(m) = p.duration_min {
        let _ = write!(s, "/{m}min");
    }
    if let Some(sv) = &p.service {
        s.push_str(" (");
        s.push_str(sv);
        s.push(')');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices(t: &str) -> Vec<(f64, Option<u32>, Option<String>)> {
        find(t, &Cues::of(t), &[])
            .into_iter()
            .map(|h| (h.price.amount, h.price.duration_min, h.price.currency))
            .collect()
    }

    #[test]
    fn rates() {
        assert_eq!(
            prices("120 hh 200 hr"),
            [(120.0, Some(30), None), (200.0, Some(60), None)]
        );
        assert_eq!(
            prices("30 min - 200 roses 90 min - 450 roses"),
            [
                (200.0, Some(30), Some("roses".into())),
                (450.0, Some(90), Some("roses".into()))
            ]
        );
        assert_eq!(prices("$300/hr"), [(300.0, Some(60), Some("USD".into()))]);
        assert_eq!(
            prices("Hr 140 half 100"),
            [(140.0, Some(60), None), (100.0, Some(30), None)]
        );
        assert_eq!(
            prices("1 HOUR 250 EURO"),
            [(250.0, Some(60), Some("EUR".into()))]
        );
        let q = find("Qv 80", &Cues::of("Qv 80"), &[]);
        assert_eq!(q[0].price.service.as_deref(), Some("quick_visit"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// The hand scan finds exactly the pattern's matches.
        #[test]
        fn hand_scan_agrees_with_the_pattern(
            parts in proptest::collection::vec(
                "([0-9]{1,8}|,|\\.|k|K|_|[$€£¥₹]|usd|USD|eur|Euros|rm|thb|roses?|donations?|candies|dollars|bucks|gbp|[a-z]{1,3}|[ \t\n\u{a0}\u{3000}]{1,2})",
                0..12,
            ),
        ) {
            let t: String = parts.concat();
            let want: Vec<Range<usize>> = AMOUNT.find_iter(&t).map(|m| m.start()..m.end()).collect();
            proptest::prop_assert_eq!(amount_scan::matches(&t), want, "{:?}", t);
        }
    }

    #[test]
    fn hand_reading_agrees_with_the_pattern() {
        let texts = [
            "$200 $ 300 usd 150 USD\t80 1,000 12,345,678 1234567 200k 200K $ 2.5k 99.99 euros",
            "150roses 200 roses 300 rose 80 donation 90 donations 45 candies 100 bucks 20 dollars",
            "250 EUR 250 eur 250 euro 250gbp 100 thb rm 300 200kg 200 k 1,00 1,0000 5.5.5 7.",
            "30 min - 200 roses, 90 min - 450 roses; 120 hh 200 hr; 3 6 1 5 5 5 3 5 1 1",
        ];
        let mut checked = 0;
        for t in texts {
            let want: Vec<Range<usize>> = AMOUNT.find_iter(t).map(|m| m.start()..m.end()).collect();
            assert_eq!(amount_scan::matches(t), want, "{t:?}");
            for m in AMOUNT.find_iter(t) {
                let c = AMOUNT.captures_at(t, m.start()).unwrap();
                let r = |i: usize| c.get(i).map(|g| g.start()..g.end());
                let want = AmountParts {
                    whole: r(0).unwrap(),
                    before: r(1),
                    digits: r(2).unwrap(),
                    cents: r(3),
                    thousands: c.get(4).is_some(),
                    symbol_after: r(5),
                    word_after: r(6),
                };
                let got = read_amount(m.as_str().as_bytes(), m.start());
                assert_eq!(got.as_ref(), Some(&want), "{:?} in {t:?}", m.as_str());
                checked += 1;
            }
        }
        assert!(checked > 40);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// Reading a marker by how it starts agrees with the pattern's groups.
        #[test]
        fn marker_reading_agrees_with_the_groups(
            parts in proptest::collection::vec(
                "([0-9]{1,4}|1/2|min|mins|minutes?|MINUTOS|mn|hours?|HRS?|h|horas?|half|hlf|hf|hh|hhr|an?|full|one|per|hourly|fh|qv|QK|qs|ss|quickie|quick visit|short stay|hummer|overnight|night|[a-z]{1,3}|[ \t\n\u{a0}]{1,2}|[.,/$-])",
                0..10,
            ),
        ) {
            let t: String = parts.concat();
            for c in MARKER.captures_iter(&t) {
                let Some(w) = c.get(0) else { continue };
                if let Some(got) = read_marker(w.as_str().as_bytes()) {
                    proptest::prop_assert_eq!(got, marker_groups(&c), "{:?} in {:?}", w.as_str(), t);
                }
            }
        }
    }

    #[test]
    fn marker_reading_of_each_alternative() {
        let t = "30 min, 2 hours, 1/2 hr, half an hour, hh, hf, HALF, full hour, per hr, an h, \
                 hourly, hour, hrs, h, fh, qv, QK, qs, ss, quickie, quick visit, short stay, \
                 hummer, overnight, night, 90 MINUTOS, 3 horas";
        let mut n = 0;
        for c in MARKER.captures_iter(t) {
            let w = c.get(0).unwrap();
            assert_eq!(
                read_marker(w.as_str().as_bytes()),
                Some(marker_groups(&c)),
                "{:?}",
                w.as_str()
            );
            n += 1;
        }
        assert_eq!(n, 27);
    }

    #[test]
    fn not_prices() {
        assert!(prices("I'm 5'4, 34D-24-36, 24/7, 100% real").is_empty());
        assert!(prices("Happy Hour today").is_empty());
        assert!(prices("born 1999, room 214").is_empty());
    }
}
