//! Plain, well-known quality measures, computed exactly.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

/// Counts for a set-valued extraction task (micro-averaged over items).
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct SetScore {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

impl SetScore {
    /// Adds one item: `predicted` and `expected` are the distinct values for it.
    pub fn add<T: PartialEq>(&mut self, predicted: &[T], expected: &[T]) {
        let hits = predicted.iter().filter(|p| expected.contains(p)).count() as u64;
        self.tp += hits;
        self.fp += predicted.len() as u64 - hits;
        self.fn_ += expected.iter().filter(|e| !predicted.contains(e)).count() as u64;
    }

    /// Precision; 1.0 when nothing was predicted (no false claim was made).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Recall; 1.0 when nothing was expected.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

pub fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Area under the ROC curve of `scores` separating `positives` from `negatives`: the probability
/// that a random positive scores above a random negative, ties counting one half
/// (Mann–Whitney U). `None` when either side is empty.
pub fn roc_auc(positives: &[f64], negatives: &[f64]) -> Option<f64> {
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = positives
        .iter()
        .map(|&s| (s, true))
        .chain(negatives.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of (mid-)ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let mid_rank = (i + 1 + j) as f64 / 2.0; // ranks are 1-based: i+1 ..= j
        rank_sum += mid_rank * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (np, nn) = (positives.len() as f64, negatives.len() as f64);
    Some((rank_sum - np * (np + 1.0) / 2.0) / (np * nn))
}

/// Agreement of a predicted clustering with the true one, over the same items.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct PairScore {
    /// Pairs of items together in both.
    pub together_both: u64,
    /// Pairs together in the prediction.
    pub together_predicted: u64,
    /// Pairs together in the truth.
    pub together_true: u64,
    pub items: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub adjusted_rand_index: f64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairwise precision/recall/F1 and the adjusted Rand index (Hubert & Arabie 1985) from the
/// contingency table, in time linear in the number of items. Each item is `(predicted cluster,
/// true cluster)`; give singletons unique cluster keys.
pub fn pair_agreement<P: Eq + Hash, T: Eq + Hash>(
    items: impl IntoIterator<Item = (P, T)>,
) -> PairScore {
    let mut cells: HashMap<(P, T), u64> = HashMap::new();
    let mut n = 0u64;
    for (p, t) in items {
        *cells.entry((p, t)).or_default() += 1;
        n += 1;
    }
    let mut rows: HashMap<&P, u64> = HashMap::new();
    let mut cols: HashMap<&T, u64> = HashMap::new();
    let mut both = 0u64;
    for ((p, t), &c) in &cells {
        *rows.entry(p).or_default() += c;
        *cols.entry(t).or_default() += c;
        both += pairs(c);
    }
    let predicted: u64 = rows.values().map(|&c| pairs(c)).sum();
    let truth: u64 = cols.values().map(|&c| pairs(c)).sum();
    let precision = ratio(both, predicted);
    let recall = ratio(both, truth);
    let total = pairs(n) as f64;
    let expected = if total > 0.0 {
        predicted as f64 * truth as f64 / total
    } else {
        0.0
    };
    let max = (predicted as f64 + truth as f64) / 2.0;
    let ari = if (max - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (both as f64 - expected) / (max - expected)
    };
    PairScore {
        together_both: both,
        together_predicted: predicted,
        together_true: truth,
        items: n,
        precision,
        recall,
        f1: f1(precision, recall),
        adjusted_rand_index: ari,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_score_counts() {
        let mut s = SetScore::default();
        s.add(&["a", "b"], &["b", "c"]);
        s.add::<&str>(&[], &[]);
        assert_eq!((s.tp, s.fp, s.fn_), (1, 1, 1));
        assert_eq!(s.precision(), 0.5);
        assert_eq!(SetScore::default().precision(), 1.0);
    }

    #[test]
    fn auc_known_values() {
        assert_eq!(roc_auc(&[0.9, 0.8], &[0.1, 0.2]), Some(1.0));
        assert_eq!(roc_auc(&[0.1], &[0.9]), Some(0.0));
        assert_eq!(roc_auc(&[0.5, 0.5], &[0.5]), Some(0.5));
        // 3 positives, 2 negatives: pairs won 5 of 6.
        let auc = roc_auc(&[0.9, 0.7, 0.3], &[0.4, 0.2]).unwrap();
        assert!((auc - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(roc_auc(&[], &[0.1]), None);
    }

    #[test]
    fn pair_agreement_perfect_and_split() {
        let perfect = pair_agreement([(1, 'a'), (1, 'a'), (2, 'b'), (2, 'b'), (3, 'c')]);
        assert_eq!(
            (
                perfect.precision,
                perfect.recall,
                perfect.adjusted_rand_index
            ),
            (1.0, 1.0, 1.0)
        );
        // Truth {a,a,a,a}; prediction splits it in two pairs: 2 of 6 pairs found.
        let split = pair_agreement([(1, 'a'), (1, 'a'), (2, 'a'), (2, 'a')]);
        assert_eq!(split.precision, 1.0);
        assert!((split.recall - 2.0 / 6.0).abs() < 1e-12);
        // Known ARI: sklearn adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714285714
        let ari = pair_agreement([(0, 0), (0, 0), (1, 1), (1, 2)]).adjusted_rand_index;
        assert!((ari - 0.571_428_571_4).abs() < 1e-9, "{ari}");
    }
}
