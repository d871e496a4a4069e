//! Pairwise clustering scores: of all pairs of ads put together, how many truly belong together.
//!
//! Pairs are counted only inside clusters: an ad that truth places in no cluster (label -1,
//! `network: null`) forms no true pair, and each predicted network of n ads predicts n(n-1)/2
//! pairs. Counting uses cluster intersections, never a loop over pairs.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairScore {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Scores `predicted` clusters (lists of ad ids) against `truth` (ad id → cluster label; ads
/// absent from `truth` belong to no cluster).
pub fn pairwise(predicted: &[Vec<String>], truth: &HashMap<String, String>) -> PairScore {
    let mut true_sizes: HashMap<&str, u64> = HashMap::new();
    for l in truth.values() {
        *true_sizes.entry(l).or_insert(0) += 1;
    }
    let true_pairs: u64 = true_sizes.values().map(|&n| pairs(n)).sum();
    let mut predicted_pairs = 0u64;
    let mut correct_pairs = 0u64;
    for cluster in predicted {
        predicted_pairs += pairs(cluster.len() as u64);
        let mut inter: HashMap<&str, u64> = HashMap::new();
        for id in cluster {
            if let Some(l) = truth.get(id) {
                *inter.entry(l).or_insert(0) += 1;
            }
        }
        correct_pairs += inter.values().map(|&n| pairs(n)).sum::<u64>();
    }
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let precision = ratio(correct_pairs, predicted_pairs);
    let recall = ratio(correct_pairs, true_pairs);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    PairScore {
        precision,
        recall,
        f1,
        true_pairs,
        predicted_pairs,
        correct_pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn c(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn perfect_partial_and_wrong() {
        let t = truth(&[("a", "1"), ("b", "1"), ("c", "1"), ("d", "2"), ("e", "2")]);
        let s = pairwise(&[c(&["a", "b", "c"]), c(&["d", "e"])], &t);
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 1.0, 1.0));
        let s = pairwise(&[c(&["a", "b"])], &t);
        assert_eq!(s.correct_pairs, 1);
        assert_eq!(s.true_pairs, 4);
        assert_eq!(s.recall, 0.25);
        assert_eq!(s.precision, 1.0);
        // Noise ("x", not in truth) joined to a cluster costs precision.
        let s = pairwise(&[c(&["a", "b", "c", "x"])], &t);
        assert_eq!(s.predicted_pairs, 6);
        assert_eq!(s.correct_pairs, 3);
        let s = pairwise(&[], &HashMap::new());
        assert_eq!(s.f1, 1.0);
        let s = pairwise(&[c(&["x", "y"])], &t);
        assert_eq!(s.f1, 0.0);
    }
}
