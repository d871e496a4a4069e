//! Calibration: turning a head's logit into a probability that means what it says, fitted on
//! decided items the head did not learn from.
//!
//! Platt scaling (Platt 1999, with the Newton method and target smoothing of Lin, Lin and Weng
//! 2007): `p = sigmoid(a * logit + b)`, `a` and `b` minimizing the log loss against targets
//! `(N+ + 1) / (N+ + 2)` and `1 / (N- + 2)`. And the operating point: the smallest score at which
//! at most a given share of benign items would be raised.

use serde::{Deserialize, Serialize};

use super::ftrl::sigmoid;

/// `p = sigmoid(a * logit + b)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Default for Platt {
    /// The identity: the head's own sigmoid.
    fn default() -> Self {
        Platt { a: 1.0, b: 0.0 }
    }
}

impl Platt {
    pub fn probability(&self, logit: f64) -> f64 {
        sigmoid(self.a * logit + self.b)
    }
}

/// Fits Platt scaling on `(logit, positive)` pairs. `None` without both classes or with a
/// non-finite logit.
pub fn fit_platt(items: &[(f64, bool)]) -> Option<Platt> {
    let pos = items.iter().filter(|(_, y)| *y).count() as f64;
    let neg = items.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 || items.iter().any(|(s, _)| !s.is_finite()) {
        return None;
    }
    let hi = (pos + 1.0) / (pos + 2.0);
    let lo = 1.0 / (neg + 2.0);
    let target = |y: bool| if y { hi } else { lo };
    let loss = |a: f64, b: f64| -> f64 {
        items
            .iter()
            .map(|&(s, y)| {
                let f = a * s + b;
                let t = target(y);
                // log(1 + e^f) - t f, computed stably
                let softplus = if f > 0.0 {
                    f + (-f).exp().ln_1p()
                } else {
                    f.exp().ln_1p()
                };
                softplus - t * f
            })
            .sum()
    };
    let (mut a, mut b) = (1.0, ((pos + 1.0) / (neg + 1.0)).ln());
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut g1, mut g2, mut h11, mut h22, mut h21) = (0.0, 0.0, 1e-12, 1e-12, 0.0);
        for &(s, y) in items {
            let p = sigmoid(a * s + b);
            let d = p - target(y);
            let w = (p * (1.0 - p)).max(1e-12);
            g1 += s * d;
            g2 += d;
            h11 += s * s * w;
            h22 += w;
            h21 += s * w;
        }
        if g1.abs() < 1e-9 && g2.abs() < 1e-9 {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        if det.abs() < 1e-300 {
            break;
        }
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let mut step = 1.0;
        let mut moved = false;
        while step >= 1e-10 {
            let (na, nb) = (a + step * da, b + step * db);
            let l = loss(na, nb);
            if l < current - 1e-4 * step * (g1 * da + g2 * db).abs() {
                (a, b, current, moved) = (na, nb, l, true);
                break;
            }
            step /= 2.0;
        }
        if !moved {
            break;
        }
    }
    Some(Platt { a, b })
}

/// The smallest threshold `t` such that at most `max_rate` of `negatives` score `>= t`, taken
/// just above the highest negative score that must stay below it. `None` for no negatives.
pub fn threshold_at_rate(negatives: &[f64], max_rate: f64) -> Option<f64> {
    if negatives.is_empty() || negatives.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let mut sorted = negatives.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a)); // highest first
    let allowed = (max_rate.clamp(0.0, 1.0) * sorted.len() as f64).floor() as usize;
    // the negative at index `allowed` (0-based) must stay below the threshold
    // (negatives tied with it stay below too, so at most `allowed` are raised)
    match sorted.get(allowed) {
        Some(&below) => Some(next_up(below)),
        None => Some(f64::NEG_INFINITY),
    }
}

/// The next representable `f64` above `x` (finite `x`).
fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}
