//! Scores extraction on the DARPA Memex cases (`../shared/conformance/memex`, sanitized).
//!
//! Per kind, micro-averaged over cases: a true positive is an expected value the extractor
//! returned, a false positive a returned value not expected, a false negative an expected value
//! missed. Values compare as the case README normalizes them (phones as digits, e-mails
//! lower-case, handles `platform:handle` case-insensitively, ages as integers, price amounts).
//! Phones are scored twice: on all cases and without the cases marked
//! `valid_after_sanitizing: false` (numbers the sanitizing permutation moved off the numbering
//! plan, which a validating extractor must reject). Every case is scored by the same rules; no
//! case is treated specially.

use std::collections::HashMap;

use serde_json::Value;

use crate::extract::{ExtractOptions, Kind, extract};
use crate::normalize::normalize;

/// One labelled case.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub kind: String,
    pub text: String,
    pub expected: Vec<Value>,
    pub subkind: Option<String>,
    /// `escort_ad`, `escort_ad_snippet`, `escort_ad_url`, `synthetic`, `generic`.
    pub domain: Option<String>,
    pub valid_after_sanitizing: bool,
    pub durations_labelled: bool,
}

/// A malformed case file.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("line {line}: not a JSON object: {source}")]
    Json {
        line: usize,
        source: serde_json::Error,
    },
    #[error("line {line}: field `{field}` is missing or has the wrong type")]
    Field { line: usize, field: &'static str },
}

/// Parses a JSON Lines case file; blank lines are skipped, anything else malformed is an error
/// naming the line.
pub fn parse_cases(jsonl: &str) -> Result<Vec<Case>, CaseError> {
    let mut out = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|source| CaseError::Json {
            line: line_no,
            source,
        })?;
        let s = |field: &'static str| -> Result<String, CaseError> {
            v.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(CaseError::Field {
                    line: line_no,
                    field,
                })
        };
        let expected =
            v.get("expected")
                .and_then(Value::as_array)
                .cloned()
                .ok_or(CaseError::Field {
                    line: line_no,
                    field: "expected",
                })?;
        out.push(Case {
            id: s("id")?,
            kind: s("kind")?,
            text: s("text")?,
            expected,
            subkind: v.get("subkind").and_then(Value::as_str).map(str::to_owned),
            domain: v.get("domain").and_then(Value::as_str).map(str::to_owned),
            valid_after_sanitizing: v
                .get("valid_after_sanitizing")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            durations_labelled: v
                .get("durations_labelled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        });
    }
    Ok(out)
}

/// The distinct full ad texts of the set: real commercial-sex ads (domain `escort_ad`, at least
/// 80 bytes), in file order, each once. Every one of them is a commercial-sex ad, so the share a
/// policy does not allow is its recall on real wording. Even positions form the half policy
/// authors may read; odd positions are held out.
pub fn real_ads(cases: &[Case]) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    cases
        .iter()
        .filter(|c| c.domain.as_deref() == Some("escort_ad"))
        .filter(|c| matches!(c.kind.as_str(), "phone" | "age" | "social" | "email"))
        .map(|c| c.text.as_str())
        .filter(|t| t.len() >= 80 && seen.insert(*t))
        .collect()
}

/// Counts for one kind (and variant).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Score {
    pub kind: String,
    /// What was scored, e.g. `all`, `valid_after_sanitizing`, `amount`, `amount+duration`.
    pub variant: String,
    pub cases: usize,
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    fn add(&mut self, expected: &[String], got: &[String]) {
        self.cases += 1;
        let mut remaining: Vec<&String> = got.iter().collect();
        for e in expected {
            if let Some(k) = remaining.iter().position(|g| *g == e) {
                remaining.remove(k);
                self.tp += 1;
            } else {
                self.fn_ += 1;
            }
        }
        self.fp += remaining.len();
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|x| {
        if seen.contains(x) {
            false
        } else {
            seen.push(x.clone());
            true
        }
    });
    v
}

fn strings(v: &[Value]) -> Vec<String> {
    v.iter()
        .filter_map(|x| match x {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

/// What one case produced, per kind of value scored.
fn predict(case: &Case, opts: &ExtractOptions) -> HashMap<Kind, Vec<(String, Option<u32>)>> {
    let norm = normalize(&case.text);
    let ex = extract(&case.text, &norm, opts);
    let mut out: HashMap<Kind, Vec<(String, Option<u32>)>> = HashMap::new();
    for k in [
        Kind::Phone,
        Kind::Email,
        Kind::Handle,
        Kind::Age,
        Kind::Location,
    ] {
        out.insert(k, ex.of_kind(k).map(|(v, _, _)| (v, None)).collect());
    }
    out.insert(
        Kind::Price,
        ex.prices()
            .map(|p| (format!("{}", p.amount.round() as i64), p.duration_min))
            .collect(),
    );
    out
}

/// Scores every case; one [`Score`] per kind and variant, in a stable order.
pub fn score(cases: &[Case], opts: &ExtractOptions) -> Vec<Score> {
    let mut scores: Vec<Score> = Vec::new();
    let mut get = |kind: &str, variant: &str| -> usize {
        if let Some(i) = scores
            .iter()
            .position(|s| s.kind == kind && s.variant == variant)
        {
            return i;
        }
        scores.push(Score {
            kind: kind.to_owned(),
            variant: variant.to_owned(),
            ..Score::default()
        });
        scores.len() - 1
    };
    let mut results: Vec<(usize, Vec<String>, Vec<String>)> = Vec::new();
    for case in cases {
        let pred = predict(case, opts);
        let values = |k: Kind| -> Vec<String> {
            pred.get(&k)
                .map(|v| v.iter().map(|x| x.0.clone()).collect())
                .unwrap_or_default()
        };
        match case.kind.as_str() {
            "phone" => {
                let exp = dedup(strings(&case.expected));
                let got = dedup(values(Kind::Phone));
                results.push((get("phone", "all"), exp.clone(), got.clone()));
                if case.valid_after_sanitizing {
                    results.push((get("phone", "valid_after_sanitizing"), exp, got));
                }
            }
            "age" => {
                let exp = dedup(strings(&case.expected));
                let got = dedup(values(Kind::Age));
                results.push((get("age", "all"), exp, got));
            }
            "email" => {
                let exp = dedup(
                    strings(&case.expected)
                        .into_iter()
                        .map(|s| s.to_lowercase())
                        .collect(),
                );
                let got = dedup(values(Kind::Email));
                results.push((get("email", "all"), exp, got));
            }
            "social" => {
                let exp = dedup(
                    strings(&case.expected)
                        .into_iter()
                        .map(|s| s.to_lowercase())
                        .collect(),
                );
                let got = dedup(
                    values(Kind::Handle)
                        .into_iter()
                        .map(|s| s.to_lowercase())
                        .collect(),
                );
                results.push((get("social", "all"), exp, got));
            }
            "price" => {
                let prices = pred.get(&Kind::Price).cloned().unwrap_or_default();
                let exp_amounts: Vec<String> = case
                    .expected
                    .iter()
                    .filter_map(|e| e.get("amount").and_then(Value::as_f64))
                    .map(|a| format!("{}", a.round() as i64))
                    .collect();
                let got_amounts: Vec<String> = prices.iter().map(|p| p.0.clone()).collect();
                results.push((get("price", "amount"), exp_amounts, got_amounts));
                if case.durations_labelled {
                    let exp: Vec<String> = case
                        .expected
                        .iter()
                        .filter_map(|e| {
                            let a = e.get("amount").and_then(Value::as_f64)?;
                            let d = e.get("duration_min").and_then(Value::as_u64);
                            Some(format!("{}/{:?}", a.round() as i64, d))
                        })
                        .collect();
                    let got: Vec<String> = prices
                        .iter()
                        .map(|p| format!("{}/{:?}", p.0, p.1.map(u64::from)))
                        .collect();
                    results.push((get("price", "amount+duration"), exp, got));
                }
            }
            "location" => {
                let sub = case.subkind.as_deref().unwrap_or("");
                let exp: Vec<String> = strings(&case.expected)
                    .into_iter()
                    .map(|s| s.to_lowercase())
                    .collect();
                let got: Vec<String> = values(Kind::Location)
                    .into_iter()
                    .map(|v| v.split(',').next().unwrap_or("").trim().to_lowercase())
                    .collect();
                match sub {
                    "city" | "state" => {
                        // the cases assert only the first city/state named
                        let first: Vec<String> = got.into_iter().take(1).collect();
                        results.push((get("location", "first_city_or_state"), exp, first));
                    }
                    "street_address" => {
                        results.push((get("location", "street_address"), exp, Vec::new()))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for (i, exp, got) in results {
        scores[i].add(&exp, &got);
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named() {
        let err = parse_cases(
            "{\"id\":\"a\",\"kind\":\"phone\",\"text\":\"x\",\"expected\":[]}\nnot json\n",
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
        let err = parse_cases("{\"id\":\"a\",\"kind\":\"phone\",\"expected\":[]}").unwrap_err();
        assert!(err.to_string().contains("`text`"), "{err}");
    }

    #[test]
    fn scores_synthetic_cases() {
        let cases = parse_cases(concat!(
            "{\"id\":\"p1\",\"kind\":\"phone\",\"text\":\"call four 0 four 555 0142 now\",\"expected\":[\"4045550142\"]}\n",
            "{\"id\":\"a1\",\"kind\":\"age\",\"text\":\"Age: 21, 5'4\",\"expected\":[21]}\n",
            "{\"id\":\"n1\",\"kind\":\"phone\",\"text\":\"$250 $300 $500 $1000\",\"expected\":[]}\n",
        ))
        .unwrap();
        let s = score(&cases, &ExtractOptions::default());
        let phone = s
            .iter()
            .find(|x| x.kind == "phone" && x.variant == "all")
            .unwrap();
        assert_eq!((phone.tp, phone.fp, phone.fn_), (1, 0, 0));
        let age = s.iter().find(|x| x.kind == "age").unwrap();
        assert_eq!((age.tp, age.fp, age.fn_), (1, 0, 0));
    }
}
