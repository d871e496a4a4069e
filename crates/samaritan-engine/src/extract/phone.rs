//! Phone numbers, however they are written.
//!
//! Works on normalized text, where spelled and disguised digits are already digits. Digit groups
//! separated by short runs of punctuation form a *chain* ("(404) 555-0142", "*416~*231~99**55",
//! "06641822 899/ 0222277 3877"); a chain is cut into the phone numbers that cover the most of
//! its digits, whole groups only, so "419 4989837 949 8837526" yields two numbers and a 16-digit
//! string yields none. A candidate is a phone when
//! - it is a North American number valid by the numbering plan's rules: area code and exchange
//!   start with 2–9, are not N11, and the area code is not an N9X expansion code (with or without
//!   the leading `1`); or
//! - it is written with `+` or `00` and libphonenumber's metadata rates it valid; or
//! - it is valid in national format in the default region or a region the ad hints at (see
//!   `region`), e.g. "0866 7676 62" in an Australian ad.
//!
//! Groups that read as prices, durations, measurements, dates or times (`$250`, `90hr`, `5'4`,
//! `11-17-2015`, `9:30`) are never part of a phone.

use phonenumber::country::Id;

use super::digits::next_digit;
use super::region::{Hints, is_nanp};

/// A phone found in normalized text.
#[derive(Debug, Clone)]
pub(crate) struct PhoneHit {
    /// Digits only: NANP as 10 digits, others as country code + national significant number.
    pub value: String,
    /// The digits as written (no separators, no `+`), for messaging IDs that keep them so.
    pub written: String,
    /// Byte range in the normalized text.
    pub start: usize,
    pub end: usize,
    /// Written with unusual separators or broken into many pieces.
    pub odd: bool,
}

#[derive(Debug, Clone)]
struct Group {
    start: usize,
    end: usize,
    blocked: bool,
    plus: bool,
}

const MAX_GAP_CHARS: usize = 6;
const MAX_GROUPS: usize = 12;

/// Units and markers that make the number before them a quantity, not part of a phone.
const UNITS: &[&str] = &[
    "h",
    "hh",
    "hhr",
    "hr",
    "hrs",
    "hour",
    "hours",
    "min",
    "mins",
    "minute",
    "minutes",
    "qv",
    "qk",
    "ss",
    "fh",
    "hf",
    "roses",
    "rose",
    "usd",
    "eur",
    "euro",
    "euros",
    "k",
    "lbs",
    "lb",
    "kg",
    "cm",
    "mm",
    "ft",
    "yo",
    "yr",
    "yrs",
    "year",
    "years",
    "am",
    "pm",
    "st",
    "nd",
    "rd",
    "th",
    "dollars",
    "bucks",
    "donation",
    "donations",
    "inch",
    "inches",
    "miles",
    "mi",
    "mins",
    "candies",
    "percent",
];

fn blocked_after(text: &str, end: usize) -> bool {
    let post = &text[end..];
    let post = post.strip_prefix(' ').unwrap_or(post);
    let short = text[..end]
        .bytes()
        .rev()
        .take_while(u8::is_ascii_digit)
        .count()
        <= 2;
    if post.starts_with("/7") && text[..end].ends_with("24") {
        return true; // 24/7
    }
    match post.chars().next() {
        Some('%' | '€' | '£') => return true,
        Some('\'' | '"' | '’' | '”') if short => return true,
        Some('$') => return !post[1..].starts_with(|c: char| c.is_ascii_digit()),
        _ => {}
    }
    // the first (up to) 12 ASCII letters, lower-cased
    let mut buf = [0u8; 12];
    let mut n = 0;
    for b in post.bytes().take_while(u8::is_ascii_alphabetic).take(12) {
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    let word = &buf[..n];
    n > 0 && UNITS.iter().any(|u| u.as_bytes() == word)
}

/// Words after which a number is an amount ("hr 200", "donation 150", "Qv 80").
const PRICE_WORDS: &[&str] = &[
    "hh",
    "hhr",
    "hr",
    "hrs",
    "h",
    "hour",
    "half",
    "qv",
    "qk",
    "ss",
    "fh",
    "hf",
    "donation",
    "donations",
    "roses",
    "rate",
    "rates",
    "price",
    "only",
    "just",
    "special",
    "usd",
    "eur",
    "rm",
];

fn blocked_before(text: &str, start: usize) -> bool {
    let pre = &text[..start];
    let pre = pre.strip_suffix(' ').unwrap_or(pre);
    let mut rev = pre.chars().rev();
    match rev.next() {
        Some('$' | '€' | '£' | '¥' | '₹') => {
            return !rev.next().is_some_and(|c| c.is_ascii_digit());
        }
        Some('/') if text[start..].starts_with('7') && pre.ends_with("24/") => return true,
        _ => {}
    }
    let pre = pre.trim_end_matches([' ', ':', '-']);
    // the last (up to) 10 ASCII letters, lower-cased
    let n = pre
        .bytes()
        .rev()
        .take_while(u8::is_ascii_alphabetic)
        .take(10)
        .count();
    let mut buf = [0u8; 10];
    for (d, b) in buf.iter_mut().zip(pre[pre.len() - n..].bytes()) {
        *d = b.to_ascii_lowercase();
    }
    let word = &buf[..n];
    n > 0 && PRICE_WORDS.iter().any(|w| w.as_bytes() == word)
}

fn groups(text: &str) -> Vec<Group> {
    let b = text.as_bytes();
    let mut out: Vec<Group> = Vec::new();
    let mut i = 0;
    while let Some(start) = next_digit(b, i) {
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let pre = &text[..start];
        let plus = pre.ends_with('+') || pre.ends_with("+ ");
        out.push(Group {
            start,
            end: i,
            blocked: blocked_before(text, start) || blocked_after(text, i),
            plus,
        });
    }
    // dates (11-17-2015, 11/28/15, 2016 06 17) and times (9:30)
    for k in 0..out.len() {
        let len = |g: &Group| g.end - g.start;
        let val = |g: &Group| text[g.start..g.end].parse::<u32>().unwrap_or(u32::MAX);
        let year = |g: &Group| {
            len(g) >= 4 && (text[g.start..].starts_with("19") || text[g.start..].starts_with("20"))
        };
        let gap = |a: &Group, b: &Group| &text[a.end..b.start];
        if k + 2 < out.len() {
            let (a, m, c) = (&out[k], &out[k + 1], &out[k + 2]);
            let g1 = gap(a, m);
            let day_month = len(a) <= 2
                && len(m) <= 2
                && val(a) <= 31
                && val(m) <= 31
                && (val(a) <= 12 || val(m) <= 12);
            let dmy = ["/", "-", "."].contains(&g1)
                && g1 == gap(m, c)
                && day_month
                && (year(c) || (g1 == "/" && len(c) == 2));
            let ymd = year(a)
                && len(a) == 4
                && len(m) <= 2
                && len(c) <= 2
                && val(m) <= 12
                && val(c) <= 31
                && gap(a, m).len() <= 2
                && gap(m, c).len() <= 2;
            if dmy || ymd {
                for g in &mut out[k..k + 3] {
                    g.blocked = true;
                }
            }
        }
        if k + 1 < out.len() {
            let (a, m) = (&out[k], &out[k + 1]);
            if gap(a, m) == ":" && len(a) <= 2 && len(m) == 2 {
                out[k].blocked = true;
                out[k + 1].blocked = true;
            }
        }
    }
    out
}

fn chain_gap(gap: &str, a: &Group, b: &Group) -> bool {
    // a slash joins short groups only (404/555/0142), not a path before an ID (50/32467609)
    if gap == "/" && (a.end - a.start > 4 || b.end - b.start > 4) {
        return false;
    }
    // a comma and a space separate list items ("22, 25, 30"), not the pieces of a number,
    // unless the number is spelled digit by digit ("4, 0, 4, 5, …")
    let single = a.end - a.start == 1 && b.end - b.start == 1;
    if (gap.contains(", ") || gap.contains(",\n")) && !single {
        return false;
    }
    if gap.len() > 24 {
        return false;
    }
    let mut n = 0;
    let mut newlines = 0;
    for c in gap.chars() {
        if c.is_alphanumeric() {
            return false;
        }
        n += 1;
        newlines += usize::from(c == '\n');
    }
    n <= MAX_GAP_CHARS && newlines <= 2
}

/// North American Numbering Plan rules for a 10-digit number.
pub(crate) fn nanp_valid(d: &[u8]) -> bool {
    d.len() == 10
        && d.iter().all(u8::is_ascii_digit)
        && (b'2'..=b'9').contains(&d[0])
        && d[1] != b'9'
        && !(d[1] == b'1' && d[2] == b'1')
        && (b'2'..=b'9').contains(&d[3])
        && !(d[4] == b'1' && d[5] == b'1')
}

fn international(digits: &str) -> Option<String> {
    if let Some(rest) = digits.strip_prefix('1') {
        return nanp_valid(rest.as_bytes()).then(|| rest.to_owned());
    }
    let n = phonenumber::parse(None, format!("+{digits}")).ok()?;
    (phonenumber::is_valid(&n) || plausible(&n)).then(|| e164_digits(&n))
}

/// Shaped like a number of its country (length and the country's general number pattern), though
/// not in an assigned range. Accepted when the writing itself says "phone": a `+`/`00` prefix or
/// a trunk `0`. Fictional ranges (Ofcom's 07700 900xxx for drama) are plausible, not valid.
fn plausible(n: &phonenumber::PhoneNumber) -> bool {
    let Some(metas) = phonenumber::metadata::DATABASE.by_code(&n.code().value()) else {
        return false;
    };
    let nsn = format!(
        "{}{}",
        "0".repeat(usize::from(n.national().zeros())),
        n.national().value()
    );
    (7..=12).contains(&nsn.len())
        && metas
            .iter()
            .any(|m| m.descriptors().general().is_match(&nsn))
}

fn e164_digits(n: &phonenumber::PhoneNumber) -> String {
    let cc = n.code().value();
    let nsn = format!(
        "{}{}",
        "0".repeat(usize::from(n.national().zeros())),
        n.national().value()
    );
    if cc == 1 { nsn } else { format!("{cc}{nsn}") }
}

fn national(digits: &str, region: Id) -> Option<String> {
    let n = phonenumber::parse(Some(region), digits).ok()?;
    let trunk = digits.starts_with('0');
    (phonenumber::is_valid(&n) || (trunk && plausible(&n))).then(|| e164_digits(&n))
}

struct Context<'a> {
    hints: &'a Hints,
    default: Option<Id>,
    /// No default region, or one in the North American Numbering Plan (looked up once).
    default_nanp: bool,
    fallback: &'a [Id],
}

impl Context<'_> {
    fn classify(&self, digits: &str, plus: bool) -> Option<String> {
        if !(7..=16).contains(&digits.len()) {
            return None;
        }
        if plus {
            return international(digits);
        }
        if let Some(rest) = digits.strip_prefix("00") {
            return international(rest);
        }
        let d = digits.as_bytes();
        if d.len() == 11 && d[0] == b'1' && nanp_valid(&d[1..]) {
            return Some(digits[1..].to_owned());
        }
        let nanp = nanp_valid(d).then(|| digits.to_owned());
        let default_nanp = self.default_nanp;
        if nanp.is_some() && default_nanp && (self.hints.nanp || self.hints.foreign.is_empty()) {
            return nanp;
        }
        let foreign = self
            .default
            .filter(|_| !self.default_nanp)
            .into_iter()
            .chain(self.hints.foreign.iter().copied());
        // without a trunk 0, only a full-length national number may be read in a hinted region
        if !digits.starts_with('0') && digits.len() < 9 {
            return nanp;
        }
        for region in foreign {
            if let Some(v) = national(digits, region) {
                return Some(v);
            }
        }
        if nanp.is_none() && digits.starts_with('0') {
            // a trunk 0 cannot start a North American number: try the fallback regions
            for &region in self.fallback {
                if let Some(v) = national(digits, region) {
                    return Some(v);
                }
            }
        }
        nanp
    }
}

/// Every phone number in the normalized `text`.
pub(crate) fn find(
    text: &str,
    hints: &Hints,
    default: Option<Id>,
    fallback: &[Id],
) -> Vec<PhoneHit> {
    let ctx = Context {
        hints,
        default,
        default_nanp: default.is_none_or(is_nanp),
        fallback,
    };
    let gs = groups(text);
    let mut hits = Vec::new();
    let mut i = 0;
    while i < gs.len() {
        if gs[i].blocked {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < gs.len()
            && !gs[j + 1].blocked
            && chain_gap(&text[gs[j].end..gs[j + 1].start], &gs[j], &gs[j + 1])
        {
            j += 1;
        }
        cut_chain(text, &gs[i..=j], &ctx, &mut hits);
        i = j + 1;
    }
    hits
}

/// Cuts a chain of groups into the phones that cover the most digits (fewest phones on ties).
fn cut_chain(text: &str, chain: &[Group], ctx: &Context<'_>, hits: &mut Vec<PhoneHit>) {
    let n = chain.len();
    // best[i] = (digits covered, -phones) for chain[i..], and the choice made at i
    let mut best: Vec<(usize, isize)> = vec![(0, 0); n + 1];
    let mut choice: Vec<Option<(usize, String)>> = vec![None; n + 1];
    for i in (0..n).rev() {
        best[i] = best[i + 1];
        choice[i] = None;
        let mut digits = String::new();
        let first = &text[chain[i].start..chain[i].end];
        let mut same = true;
        for j in i..n.min(i + MAX_GROUPS) {
            let g = &text[chain[j].start..chain[j].end];
            digits.push_str(g);
            same &= g == first;
            if digits.len() > 16 {
                break;
            }
            if same && j >= i + 2 {
                continue; // one group repeated ("23 23 23 23 23") is not a number
            }
            if let Some(v) = ctx.classify(&digits, chain[i].plus) {
                let cand = (best[j + 1].0 + digits.len(), best[j + 1].1 - 1);
                // ties go to the number starting earlier
                if cand >= best[i] {
                    best[i] = cand;
                    choice[i] = Some((j, v));
                }
            }
        }
    }
    let mut i = 0;
    while i < n {
        let Some((j, value)) = choice[i].clone() else {
            i += 1;
            continue;
        };
        let mut start = chain[i].start;
        if text[..start].ends_with(['+', '(']) {
            start -= 1;
        }
        let end = chain[j].end;
        let written: String = chain[i..=j].iter().map(|g| &text[g.start..g.end]).collect();
        let odd = j - i + 1 >= 6
            || text[chain[i].start..end]
                .chars()
                .any(|c| !(c.is_ascii_digit() || " -.()+/\n\r\t".contains(c)));
        hits.push(PhoneHit {
            value,
            written,
            start,
            end,
            odd,
        });
        i = j + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones(t: &str) -> Vec<String> {
        find(t, &Hints::default(), Some(Id::US), &[])
            .into_iter()
            .map(|h| h.value)
            .collect()
    }

    #[test]
    fn nanp_forms() {
        assert_eq!(phones("call (404) 555-0142 now"), ["4045550142"]);
        assert_eq!(phones("at 1(706) 231-4090 SOPHIA"), ["7062314090"]);
        assert_eq!(phones("*416~*231~99**55"), ["4162319955"]);
        assert_eq!(
            phones("419 4989837 949 8837526 747 625 7389"),
            ["4194989837", "9498837526", "7476257389"]
        );
        assert_eq!(phones("$276 9493331414"), ["9493331414"]);
        assert_eq!(phones("5'10\" 949 333 1414"), ["9493331414"]);
        assert_eq!(
            phones("hr 200. 7, 1, 6, 5, 5, 5, 6, 0, 8, 0 text me"),
            ["7165556080"]
        );
        assert_eq!(
            phones("Any time, 24/7. 713 555 0 1 5 1 for"),
            ["7135550151"]
        );
    }

    #[test]
    fn not_phones() {
        assert!(phones("*2428949385463297").is_empty());
        assert!(phones("$250 $300 $500 $1000").is_empty());
        assert!(phones("11-17-2015/11-28-2015").is_empty());
        assert!(phones("ZIP 90045, order 123456").is_empty());
        assert!(phones("9:30am to 11:30pm 120 hh 200 hr").is_empty());
        assert!(phones("555-0142").is_empty());
        assert!(phones("Donation hh 110 hr 200").is_empty());
    }

    #[test]
    fn international_forms() {
        assert_eq!(phones("+44 7911 123456"), ["447911123456"]);
        assert_eq!(phones("0044 7911 123456"), ["447911123456"]);
        // fictional but well-formed, written with + or a trunk 0
        assert_eq!(phones("+44 7700 900123"), ["447700900123"]);
        let v: Vec<String> = find("07700 900123", &Hints::default(), Some(Id::US), &[Id::GB])
            .into_iter()
            .map(|h| h.value)
            .collect();
        assert_eq!(v, ["447700900123"]);
        let hints = Hints {
            foreign: vec![Id::GB],
            nanp: false,
        };
        let v: Vec<String> = find("07911 123456", &hints, Some(Id::US), &[])
            .into_iter()
            .map(|h| h.value)
            .collect();
        assert_eq!(v, ["447911123456"]);
    }

    #[test]
    fn oddly_written_is_marked() {
        let h = find("4-0-4-5-5-5-0-1-4-2", &Hints::default(), None, &[]);
        assert!(h[0].odd);
        let h = find("(404) 555-0142", &Hints::default(), None, &[]);
        assert!(!h[0].odd);
    }
}
