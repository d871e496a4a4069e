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

use super::cues::{self, Cues};
use super::{Pattern, overlaps, re};

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

/// An amount with an optional currency before or after it. Group 1: symbol/code before;
/// 2: digits; 3: cents; 4: `k`; 5: symbol after; 6: word after.
static AMOUNT: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?:([$€£¥₹]|(?-u:\b)(?:usd|eur|rm|thb)(?-u:\b))[^\S\n]?)?(?-u:\b)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,6})(?:\.([0-9]{1,2}))?(k(?-u:\b))?(?:[^\S\n]?([$€£])|[^\S\n]?(usd|eur|euros?|dollars|bucks|gbp|thb|roses?|donations?|candies)(?-u:\b))?",
    )
});

/// What may follow a number that makes it a measure, not money.
fn measure_after(rest: &str) -> bool {
    if rest.starts_with(['\'', '"', '%', ':', '’', '”']) || rest.starts_with("/7") {
        return true;
    }
    let word: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        word.as_str(),
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

fn currency(symbol: &str) -> Option<String> {
    let s = symbol.to_ascii_lowercase();
    Some(
        match s.as_str() {
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
    let mut markers: Vec<Marker> = Vec::new();
    // both patterns need a digit
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    for c in MARKER.captures_iter(text) {
        let Some(w) = c.get(0) else { continue };
        if overlaps(&(w.start()..w.end()), phones) {
            continue;
        }
        let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let (minutes, service) = if let Some(m) = num(1) {
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
        };
        markers.push(Marker {
            start: w.start(),
            end: w.end(),
            minutes,
            service,
        });
    }
    let in_marker = |r: &Range<usize>| markers.iter().any(|m| m.start < r.end && r.start < m.end);
    let mut amounts: Vec<Amount> = Vec::new();
    // an amount is kept only beside a marker or with a currency
    let any_amount = !markers.is_empty() || cues.may(cues::CURRENCY);
    for c in any_amount
        .then(|| AMOUNT.captures_iter(text))
        .into_iter()
        .flatten()
    {
        let (Some(w), Some(d)) = (c.get(0), c.get(2)) else {
            continue;
        };
        let dr = d.start()..d.end();
        if overlaps(&dr, phones) || in_marker(&dr) {
            continue;
        }
        let before = &text[..d.start()];
        if before.ends_with(['\'', ':', '/', '.', '#'])
            || before.ends_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        let after = &text[w.end()..];
        if c.get(5).is_none() && c.get(6).is_none() && c.get(4).is_none() && measure_after(after) {
            continue;
        }
        if after.starts_with('-')
            && after[1..].starts_with(|c: char| c.is_ascii_digit())
            && before.ends_with('-')
        {
            continue; // middle of 34-24-36
        }
        let Ok(mut value) = d.as_str().replace(',', "").parse::<f64>() else {
            continue;
        };
        if let Some(cents) = c.get(3).and_then(|m| m.as_str().parse::<f64>().ok()) {
            value += cents / 100.0;
        }
        if c.get(4).is_some() {
            value *= 1000.0;
        }
        if !(10.0..=100_000.0).contains(&value) {
            continue;
        }
        let cur = [c.get(1), c.get(5), c.get(6)]
            .into_iter()
            .flatten()
            .find_map(|m| currency(m.as_str()));
        amounts.push(Amount {
            start: w.start(),
            end: w.end(),
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

/// A short label for a price: `120 USD/30min`, `80 roses (quick_visit)`.
pub(crate) fn label(p: &Price) -> String {
    let mut s = if p.amount.fract() == 0.0 {
        format!("{}", p.amount as i64)
    } else {
        format!("{:.2}", p.amount)
    };
    if let Some(c) = &p.currency {
        s.push(' ');
        s.push_str(c);
    }
    if let Some(m) = p.duration_min {
        s.push_str(&format!("/{m}min"));
    }
    if let Some(sv) = &p.service {
        s.push_str(&format!(" ({sv})"));
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

    #[test]
    fn not_prices() {
        assert!(prices("I'm 5'4, 34D-24-36, 24/7, 100% real").is_empty());
        assert!(prices("Happy Hour today").is_empty());
        assert!(prices("born 1999, room 214").is_empty());
    }
}
