//! Blind wording banks, for evaluation only.
//!
//! Each file under `crates/samaritan-synth/banks/eval-only-*.toml` was written by someone who had
//! read only `notes/domain.md` and the template grammar: never the policy, the other banks or the
//! engine. They measure how the engine reads wording its authors did not write. **Never tune the
//! engine or the policy to their text**: once a bank has been used to diagnose a miss, it is
//! spent; a fresh one is written for the next measurement (BENCHMARKS.md says which is which).
//!
//! A bank holds whole-ad templates (title and body) in four pools: `commercial` (label 1),
//! `trafficking` (label 2), `benign` (label 0, private posters) and `company` (label 0, one
//! template posted in many cities). Slots are those of [`SLOTS`]; `{=age}` and `{=rate}` are bare
//! numbers there, the author wrote the words around them.

use std::sync::LazyLock;

use serde::Deserialize;

/// The slots a blind template may use (see the module doc).
pub const SLOTS: &[&str] = &[
    "name",
    "name2",
    "age",
    "age_words",
    "age2",
    "kid_age",
    "kid_age2",
    "phone",
    "city",
    "rate",
    "rate2",
    "price",
    "company",
    "pet",
    "job",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    meta: Meta,
    #[serde(default)]
    commercial: Vec<Entry>,
    #[serde(default)]
    trafficking: Vec<Entry>,
    #[serde(default)]
    benign: Vec<Entry>,
    #[serde(default)]
    company: Vec<Entry>,
}

/// Who wrote a bank and what it is for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    pub purpose: String,
    #[serde(default)]
    pub author_note: String,
}

/// One whole-ad template.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub title: String,
    pub body: String,
    /// `en`, `es`, …
    #[serde(default)]
    pub lang: String,
    /// Benign and company entries: the marketplace category.
    #[serde(default)]
    pub category: Option<String>,
    /// Benign and company entries: indicator-like words used in their ordinary sense.
    #[serde(default)]
    pub hard_negative: bool,
}

/// A loaded, checked bank.
#[derive(Debug)]
pub struct Bank {
    pub meta: Meta,
    pub commercial: Vec<Entry>,
    pub trafficking: Vec<Entry>,
    pub benign: Vec<Entry>,
    pub company: Vec<Entry>,
}

/// The blind banks that exist, by name (`--phrasing blind-1`, …). `blind-1` is spent (used to
/// diagnose misses), `blind-2` is the one measured against, `blind-3` had aggregates read while
/// the second lexicon pass was written, `blind-4` (2026-12-07) is unread by the policy's authors:
/// the review loop (issue 25) is measured on it; its aggregates were read while the third lexicon
/// pass was planned. `blind-5` (2026-12-07) was measured once with the third pass, then used to
/// diagnose age attribution. `blind-6` (2026-12-07): the fourth pass and the review loop were
/// measured on it once each, as aggregates. `blind-7` (2026-12-08) is unread.
pub const NAMES: &[&str] = &[
    "blind-1", "blind-2", "blind-3", "blind-4", "blind-5", "blind-6", "blind-7",
];

/// The banks, in the order of [`NAMES`], each parsed and checked on first use.
static BANKS: [LazyLock<Result<Bank, String>>; 7] = [
    LazyLock::new(|| parse(include_str!("../../banks/eval-only-blind-1.toml"))),
    LazyLock::new(|| parse(include_str!("../../banks/eval-only-blind-2.toml"))),
    LazyLock::new(|| parse(include_str!("../../banks/eval-only-blind-3.toml"))),
    LazyLock::new(|| parse(include_str!("../../banks/eval-only-blind-4.toml"))),
    LazyLock::new(|| parse(include_str!("../../banks/eval-only-blind-5.toml"))),
    LazyLock::new(|| parse(include_str!("../../banks/eval-only-blind-6.toml"))),
    LazyLock::new(|| parse(include_str!("../../banks/eval-only-blind-7.toml"))),
];

/// The bank called `name`, or why it cannot be used.
pub fn bank(name: &str) -> Result<&'static Bank, String> {
    let cell = NAMES
        .iter()
        .position(|n| *n == name)
        .and_then(|i| BANKS.get(i))
        .ok_or_else(|| format!("no blind bank `{name}` (known: {NAMES:?})"))?;
    cell.as_ref()
        .map_err(|e| format!("blind bank `{name}`: {e}"))
}

/// Parses and checks a bank: TOML shape, non-empty pools, balanced braces, known slots, a
/// `{=phone}` in every ad, children's ages only in benign ads.
pub fn parse(text: &str) -> Result<Bank, String> {
    let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let pools = [
        ("commercial", &f.commercial),
        ("trafficking", &f.trafficking),
        ("benign", &f.benign),
        ("company", &f.company),
    ];
    for (pool, entries) in pools {
        if entries.is_empty() {
            return Err(format!("pool `{pool}` is empty"));
        }
        for (i, e) in entries.iter().enumerate() {
            let at = |msg: String| format!("{pool}[{i}]: {msg}");
            let mut phones = 0;
            for t in [&e.title, &e.body] {
                for slot in slots(t).map_err(at)? {
                    if !SLOTS.contains(&slot) {
                        return Err(at(format!("unknown slot `{{={slot}}}`")));
                    }
                    if slot.starts_with("kid_age") && matches!(pool, "commercial" | "trafficking") {
                        return Err(at(format!("`{{={slot}}}` outside a benign ad")));
                    }
                    phones += usize::from(slot == "phone");
                }
            }
            if phones == 0 {
                return Err(at("no `{=phone}`".to_owned()));
            }
            if matches!(pool, "benign" | "company") && e.category.is_none() {
                return Err(at("no `category`".to_owned()));
            }
        }
    }
    Ok(Bank {
        meta: f.meta,
        commercial: f.commercial,
        trafficking: f.trafficking,
        benign: f.benign,
        company: f.company,
    })
}

/// The slot names in a template, checking that braces balance.
fn slots(t: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let b = t.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'{' => {
                depth += 1;
                if b.get(i + 1) == Some(&b'@') {
                    return Err(format!(
                        "`{{@` at byte {i}: blind banks have no word lists (write `{{a|@b}}` for a literal `@` alternative)"
                    ));
                }
                if b.get(i + 1) == Some(&b'=') {
                    let rest = &t[i + 2..];
                    let end = rest
                        .find('}')
                        .ok_or_else(|| format!("unclosed slot at byte {i}"))?;
                    out.push(&rest[..end]);
                }
            }
            b'}' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced `}}` at byte {i}"))?;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced `{`".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bank_loads() {
        for name in NAMES {
            let b = bank(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(b.meta.name, *name);
        }
    }

    #[test]
    fn parse_rejects_bad_banks() {
        let ok = "[meta]\nname='x'\npurpose='y'\n[[commercial]]\ntitle='t'\nbody='{=phone}'\n[[trafficking]]\ntitle='t'\nbody='{=phone}'\n[[benign]]\ncategory='jobs'\ntitle='t'\nbody='{=phone}'\n[[company]]\ncategory='jobs'\ntitle='t'\nbody='{=phone}'\n";
        assert!(parse(ok).is_ok());
        let bad = ok.replacen("body='{=phone}'", "body='{=phone} {=shoe}'", 1);
        assert!(parse(&bad).unwrap_err().contains("unknown slot"));
        let bad = ok.replacen("body='{=phone}'", "body='{a|b'", 1);
        assert!(parse(&bad).is_err());
        let bad = ok.replacen("body='{=phone}'", "body='{=phone} {=kid_age}'", 1);
        assert!(parse(&bad).unwrap_err().contains("outside a benign"));
        let bad = ok.replacen("body='{=phone}'", "body='none'", 1);
        assert!(parse(&bad).unwrap_err().contains("no `{=phone}`"));
        assert!(parse("[meta]\nname='x'\npurpose='y'\nextra=1\n").is_err());
        let bad = ok.replacen("body='{=phone}'", "body='{=phone} {@sk|ask}'", 1);
        assert!(parse(&bad).unwrap_err().contains("no word lists"));
        let good = ok.replacen("body='{=phone}'", "body='{=phone} {ask|@sk}'", 1);
        assert!(parse(&good).is_ok());
    }
}
