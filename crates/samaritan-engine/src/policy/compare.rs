//! Backtesting a policy change: how each ad's analysis moves from one policy to another.
//!
//! `samaritan policy diff` runs it over a file of ads; the console's admin page over the most
//! recent ads in the store. Both tally verdict transitions and list the ads whose verdict or
//! report candidacy changes, with the signals that appeared or went away.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Analysis;

/// One side of a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub verdict: &'static str,
    pub score: f64,
    pub priority: u32,
    pub report_candidate: bool,
}

impl From<&Analysis> for Side {
    fn from(a: &Analysis) -> Self {
        Side {
            verdict: a.verdict.as_str(),
            score: a.score,
            priority: a.priority,
            report_candidate: a.report_candidate,
        }
    }
}

/// An ad whose verdict or report candidacy differs between the two policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub id: String,
    pub old: Side,
    pub new: Side,
    /// Signals (indicator: weight) only the new policy raised, or raised with another weight.
    pub added: BTreeMap<String, f64>,
    /// Signals only the old policy raised, or raised with another weight.
    pub removed: BTreeMap<String, f64>,
}

/// The running totals of a comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub ads: u64,
    /// Ads whose verdict or report candidacy changed.
    pub changed: u64,
    /// (old verdict, new verdict) → ads, the unchanged ones included.
    pub transitions: BTreeMap<(&'static str, &'static str), u64>,
}

impl Tally {
    /// Counts one ad analysed under both policies; its change, if its verdict or report
    /// candidacy moved.
    pub fn add(&mut self, old: &Analysis, new: &Analysis) -> Option<Change> {
        self.ads += 1;
        *self
            .transitions
            .entry((old.verdict.as_str(), new.verdict.as_str()))
            .or_default() += 1;
        if old.verdict == new.verdict && old.report_candidate == new.report_candidate {
            return None;
        }
        self.changed += 1;
        let (a, b) = (signal_map(old), signal_map(new));
        let only = |x: &BTreeMap<String, f64>, y: &BTreeMap<String, f64>| {
            x.iter()
                .filter(|(k, v)| y.get(*k) != Some(v))
                .map(|(k, v)| (k.clone(), *v))
                .collect()
        };
        Some(Change {
            id: old.id.clone(),
            old: old.into(),
            new: new.into(),
            added: only(&b, &a),
            removed: only(&a, &b),
        })
    }

    /// The transitions between different verdicts, most first.
    pub fn moves(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut m: Vec<_> = self
            .transitions
            .iter()
            .filter(|((a, b), _)| a != b)
            .map(|((a, b), n)| (*a, *b, *n))
            .collect();
        m.sort_by(|x, y| y.2.cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
        m
    }
}

fn signal_map(a: &Analysis) -> BTreeMap<String, f64> {
    a.signals
        .iter()
        .map(|s| (s.indicator.clone(), s.weight))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Signal, Verdict};

    fn analysis(verdict: Verdict, signals: &[(&str, f64)]) -> Analysis {
        Analysis {
            schema: 1,
            id: "a1".into(),
            verdict,
            score: 0.0,
            priority: 0,
            report_candidate: false,
            signals: signals
                .iter()
                .map(|(i, w)| Signal {
                    indicator: (*i).into(),
                    category: "test".into(),
                    weight: *w,
                    span: None,
                    text: String::new(),
                    note: String::new(),
                })
                .collect(),
            extracted: Default::default(),
            mentions: Vec::new(),
            network: None,
            template: None,
            policy: String::new(),
            images: Vec::new(),
        }
    }

    #[test]
    fn counts_transitions_and_names_the_signals_that_moved() {
        let mut t = Tally::default();
        let same = analysis(Verdict::Allow, &[]);
        assert_eq!(t.add(&same, &same), None);
        let old = analysis(Verdict::Allow, &[("a", 0.3), ("b", 0.2)]);
        let new = analysis(Verdict::Review, &[("a", 0.3), ("b", 0.4), ("c", 0.5)]);
        let c = t.add(&old, &new).unwrap();
        assert_eq!((c.old.verdict, c.new.verdict), ("allow", "review"));
        assert_eq!(
            c.added,
            BTreeMap::from([("b".into(), 0.4), ("c".into(), 0.5)])
        );
        assert_eq!(c.removed, BTreeMap::from([("b".into(), 0.2)]));
        assert_eq!((t.ads, t.changed), (2, 1));
        assert_eq!(t.moves(), [("allow", "review", 1)]);
    }
}
