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

use super::prefilter::digits::next_digit;
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
/// The fewest digits a phone candidate can have (see [`Context::classify`]).
const MIN_DIGITS: usize = 7;
const MAX_GROUPS: usize = 12;

/// Units and markers that make the number before them a quantity, not part of a phone
/// (`word` lower-case).
fn is_unit(word: &[u8]) -> bool {
    matches!(
        word,
        b"h" | b"hh"
            | b"hhr"
            | b"hr"
            | b"hrs"
            | b"hour"
            | b"hours"
            | b"min"
            | b"mins"
            | b"minute"
            | b"minutes"
            | b"qv"
            | b"qk"
            | b"ss"
            | b"fh"
            | b"hf"
            | b"roses"
            | b"rose"
            | b"usd"
            | b"eur"
            | b"euro"
            | b"euros"
            | b"k"
            | b"lbs"
            | b"lb"
            | b"kg"
            | b"cm"
            | b"mm"
            | b"ft"
            | b"yo"
            | b"yr"
            | b"yrs"
            | b"year"
            | b"years"
            | b"am"
            | b"pm"
            | b"st"
            | b"nd"
            | b"rd"
            | b"th"
            | b"dollars"
            | b"bucks"
            | b"donation"
            | b"donations"
            | b"inch"
            | b"inches"
            | b"miles"
            | b"mi"
            | b"candies"
            | b"percent"
    )
}

fn blocked_after(text: &str, end: usize) -> bool {
    let post = &text[end..];
    let post = post.strip_prefix(' ').unwrap_or(post);
    // a group of at most two digits (a height: 5'4)
    let short = || {
        text[..end]
            .bytes()
            .rev()
            .take_while(u8::is_ascii_digit)
            .count()
            <= 2
    };
    if post.starts_with("/7") && text[..end].ends_with("24") {
        return true; // 24/7
    }
    match post.chars().next() {
        Some('%' | '€' | '£') => return true,
        Some('\'' | '"' | '’' | '”') if short() => return true,
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
    is_unit(&buf[..n])
}

/// Words after which a number is an amount ("hr 200", "donation 150", "Qv 80"; `word`
/// lower-case).
fn is_price_word(word: &[u8]) -> bool {
    matches!(
        word,
        b"hh"
            | b"hhr"
            | b"hr"
            | b"hrs"
            | b"h"
            | b"hour"
            | b"half"
            | b"qv"
            | b"qk"
            | b"ss"
            | b"fh"
            | b"hf"
            | b"donation"
            | b"donations"
            | b"roses"
            | b"rate"
            | b"rates"
            | b"price"
            | b"only"
            | b"just"
            | b"special"
            | b"usd"
            | b"eur"
            | b"rm"
    )
}

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
    is_price_word(&buf[..n])
}

fn groups(text: &str) -> Vec<Group> {
    let b = text.as_bytes();
    let mut out: Vec<Group> = Vec::with_capacity(16);
    let mut i = 0;
    while let Some(start) = next_digit(b, i) {
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let pre = &b[..start];
        let plus = pre.ends_with(b"+") || pre.ends_with(b"+ ");
        out.push(Group {
            start,
            end: i,
            blocked: blocked_before(text, start) || blocked_after(text, i),
            plus,
        });
    }
    block_dates(b, &mut out);
    out
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Blocks the groups of dates (11-17-2015, 11/28/15, 2016 06 17) and times (9:30).
fn block_dates(b: &[u8], gs: &mut [Group]) {
    for k in 0..gs.len() {
        if let [a, m, c, ..] = &gs[k..]
            && is_date(b, a, m, c)
        {
            for g in &mut gs[k..k + 3] {
                g.blocked = true;
            }
        }
        if let [a, m, ..] = &gs[k..]
            && &b[a.end..m.start] == b":"
            && a.len() <= 2
            && m.len() == 2
        {
            gs[k].blocked = true;
            gs[k + 1].blocked = true;
        }
    }
}

/// Are the groups `a`, `m`, `c` a date, day or month first with a year last, or year first?
fn is_date(b: &[u8], a: &Group, m: &Group, c: &Group) -> bool {
    // (`value` is only read for groups of at most two digits)
    let value = |g: &Group| {
        b[g.start..g.end]
            .iter()
            .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'))
    };
    let year = |g: &Group| g.len() >= 4 && matches!(&b[g.start..g.start + 2], b"19" | b"20");
    let (g1, g2) = (&b[a.end..m.start], &b[m.end..c.start]);
    let day_month = || {
        a.len() <= 2 && m.len() <= 2 && {
            let (va, vm) = (value(a), value(m));
            va <= 31 && vm <= 31 && (va <= 12 || vm <= 12)
        }
    };
    let dmy = || {
        matches!(g1, b"/" | b"-" | b".")
            && g1 == g2
            && day_month()
            && (year(c) || (g1 == b"/" && c.len() == 2))
    };
    let ymd = || {
        year(a)
            && a.len() == 4
            && m.len() <= 2
            && c.len() <= 2
            && value(m) <= 12
            && value(c) <= 31
            && g1.len() <= 2
            && g2.len() <= 2
    };
    dmy() || ymd()
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

/// A number written with `+` or `00` and a country code other than 1 (`digits` without them).
fn international(digits: &[u8]) -> Option<String> {
    let digits = std::str::from_utf8(digits).ok()?;
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

fn national(digits: &[u8], region: Id) -> Option<String> {
    let digits = std::str::from_utf8(digits).ok()?;
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

/// A phone's value as [`Context::classify`] reads it. Most phones are North American and their
/// value is the candidate's own digits less a prefix, so it is kept as that prefix's length and
/// only copied out for the phones a chain's cut keeps.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// The candidate's digits from this offset on.
    Tail(usize),
    /// A number libphonenumber read.
    Parsed(String),
}

impl Value {
    fn into_string(self, digits: &str) -> String {
        match self {
            Value::Tail(k) => digits.get(k..).unwrap_or_default().to_owned(),
            Value::Parsed(v) => v,
        }
    }
}

/// [`international`] for the digits after a `+` or `00` at `offset` in the candidate.
fn international_at(digits: &[u8], offset: usize) -> Option<Value> {
    let rest = digits.get(offset..)?;
    if let Some(nanp) = rest.strip_prefix(b"1") {
        return nanp_valid(nanp).then_some(Value::Tail(offset + 1));
    }
    international(rest).map(Value::Parsed)
}

impl Context<'_> {
    /// What the candidate `digits` (ASCII digits) is, if a phone.
    fn classify(&self, digits: &[u8], plus: bool) -> Option<Value> {
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
            return None;
        }
        if plus {
            return international_at(digits, 0);
        }
        if digits.starts_with(b"00") {
            return international_at(digits, 2);
        }
        let d = digits;
        if d.len() == 11 && d[0] == b'1' && nanp_valid(&d[1..]) {
            return Some(Value::Tail(1));
        }
        let nanp = nanp_valid(d).then_some(Value::Tail(0));
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
        if !digits.starts_with(b"0") && digits.len() < 9 {
            return nanp;
        }
        for region in foreign {
            if let Some(v) = national(digits, region) {
                return Some(Value::Parsed(v));
            }
        }
        if nanp.is_none() && digits.starts_with(b"0") {
            // a trunk 0 cannot start a North American number: try the fallback regions
            for &region in self.fallback {
                if let Some(v) = national(digits, region) {
                    return Some(Value::Parsed(v));
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
    let mut cut = Cut::default();
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
        cut.chain(text, &gs[i..=j], &ctx, &mut hits);
        i = j + 1;
    }
    hits
}

/// The most digits a phone candidate can have (see [`Context::classify`]).
const MAX_DIGITS: usize = 16;

/// The buffers of [`Cut::chain`], kept from chain to chain so a document allocates them once.
#[derive(Default)]
struct Cut {
    /// `best[i]` = (digits covered, -phones) for `chain[i..]`.
    best: Vec<(usize, isize)>,
    /// The phone chosen at `i`: its last group and value.
    choice: Vec<Option<(usize, Value)>>,
}

impl Cut {
    /// Cuts a chain of groups into the phones that cover the most digits (fewest phones on ties).
    fn chain(&mut self, text: &str, chain: &[Group], ctx: &Context<'_>, hits: &mut Vec<PhoneHit>) {
        let n = chain.len();
        // too few digits for any candidate
        if chain.iter().map(Group::len).sum::<usize>() < MIN_DIGITS {
            return;
        }
        self.best.clear();
        self.best.resize(n + 1, (0, 0));
        self.choice.clear();
        self.choice.resize(n + 1, None);
        let best = &mut self.best;
        let choice = &mut self.choice;
        let b = text.as_bytes();
        for i in (0..n).rev() {
            best[i] = best[i + 1];
            // the candidate's digits (no candidate is longer)
            let mut digits = [0u8; MAX_DIGITS];
            let mut len = 0;
            let first = &b[chain[i].start..chain[i].end];
            let mut same = true;
            for j in i..n.min(i + MAX_GROUPS) {
                let g = &b[chain[j].start..chain[j].end];
                same &= g == first;
                let Some(room) = digits.get_mut(len..len + g.len()) else {
                    break; // too many digits
                };
                room.copy_from_slice(g);
                len += g.len();
                if same && j >= i + 2 {
                    continue; // one group repeated ("23 23 23 23 23") is not a number
                }
                if let Some(v) = ctx.classify(&digits[..len], chain[i].plus) {
                    let cand = (best[j + 1].0 + len, best[j + 1].1 - 1);
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
            let Some((j, value)) = choice[i].take() else {
                i += 1;
                continue;
            };
            hits.push(hit(text, &chain[i..=j], &chain[i], &chain[j], value));
            i = j + 1;
        }
    }
}

/// The phone written as the groups `phone`, from `first` to `last`.
fn hit(text: &str, phone: &[Group], first: &Group, last: &Group, value: Value) -> PhoneHit {
    let mut start = first.start;
    if text[..start].ends_with(['+', '(']) {
        start -= 1;
    }
    let end = last.end;
    let written: String = phone.iter().map(|g| &text[g.start..g.end]).collect();
    let odd = phone.len() >= 6
        || text[first.start..end].chars().any(|c| {
            !matches!(
                c,
                '0'..='9' | ' ' | '-' | '.' | '(' | ')' | '+' | '/' | '\n' | '\r' | '\t'
            )
        });
    PhoneHit {
        value: value.into_string(&written),
        written,
        start,
        end,
        odd,
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
