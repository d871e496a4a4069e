//! One reviewer cannot swing the model: the per-reviewer cap on what a batch of decisions
//! teaches. The service's learner and the simulated review loop both weigh decisions with it.
//!
//! Within a batch, the decisions that teach something are weighed so that no reviewer's total
//! exceeds `cap = max(share × taught, 1)` (`taught`: the batch's teaching decisions); a reviewer
//! with more decisions than the cap gets each of them at `cap / theirs` (below 1), the others
//! at one. With batches of 50 and a share of 0.25, one reviewer carries at most a quarter of a
//! full batch.

use std::collections::HashMap;

/// Per decision, its weight under the per-reviewer cap (module docs): `actors[i]` made decision
/// `i`, `teaches[i]` says whether it teaches anything (weight 0 when not).
pub fn reviewer_weights(actors: &[&str], teaches: &[bool], share: f64) -> Vec<f64> {
    let taught = teaches.iter().filter(|t| **t).count() as f64;
    let mut per: HashMap<&str, f64> = HashMap::new();
    for (a, t) in actors.iter().zip(teaches) {
        if *t {
            *per.entry(a).or_default() += 1.0;
        }
    }
    // Never below one decision's weight: in a tiny batch one decision is not "swinging" it.
    let cap = (share.clamp(0.0, 1.0) * taught).max(1.0);
    actors
        .iter()
        .zip(teaches)
        .map(|(a, t)| {
            if !*t {
                return 0.0;
            }
            let theirs = per.get(a).copied().unwrap_or(1.0);
            if theirs > cap { cap / theirs } else { 1.0 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reviewer_carries_at_most_the_share() {
        // 8 teaching decisions: "a" made 6, "b" 1, "c" 1; one by "a" teaches nothing.
        let actors = ["a", "a", "b", "a", "a", "c", "a", "a", "a"];
        let teaches = [true, true, true, true, false, true, true, true, true];
        let w = reviewer_weights(&actors, &teaches, 0.25);
        let total = |who: &str| -> f64 {
            actors
                .iter()
                .zip(&w)
                .filter(|(a, _)| **a == who)
                .map(|(_, w)| w)
                .sum()
        };
        // cap = 0.25 * 8 = 2: "a"'s 6 teaching decisions get 2/6 each.
        assert!((total("a") - 2.0).abs() < 1e-12, "{w:?}");
        assert_eq!(w[4], 0.0, "a decision that teaches nothing weighs nothing");
        assert_eq!((total("b"), total("c")), (1.0, 1.0));
        // Everyone under the cap: all at 1.
        let w = reviewer_weights(&["a", "b", "c", "d"], &[true; 4], 0.25);
        assert_eq!(w, [1.0; 4]);
        // Never below one decision: a batch teaching one thing teaches it at 1.
        let w = reviewer_weights(&["a", "b"], &[true, false], 0.25);
        assert_eq!(w, [1.0, 0.0]);
        // A share of 1 never caps.
        let w = reviewer_weights(&["a", "a", "a"], &[true; 3], 1.0);
        assert_eq!(w, [1.0; 3]);
    }
}
