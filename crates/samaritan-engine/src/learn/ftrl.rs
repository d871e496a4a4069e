//! FTRL-Proximal online logistic regression (McMahan et al., "Ad Click Prediction: a View from
//! the Trenches", KDD 2013, algorithm 1), over hashed features.
//!
//! Per slot `i` the learner keeps `z_i` and `n_i` (the sum of squared gradients); the weight is
//! computed when read: `w_i = 0` if `|z_i| <= l1`, else
//! `-(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2)`. L1 keeps most weights exactly
//! zero, so the model stays small and each non-zero weight is a feature a reviewer can read.
//! Arithmetic is plain `f64` in a fixed order: the same examples in the same order give the same
//! model, bit for bit.

use serde::{Deserialize, Serialize};

use super::LearnError;
use super::features::{Features, MAX_BITS, MIN_BITS};

/// The learner's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FtrlParams {
    pub alpha: f64,
    pub beta: f64,
    pub l1: f64,
    pub l2: f64,
}

impl Default for FtrlParams {
    fn default() -> Self {
        FtrlParams {
            alpha: 0.5,
            beta: 1.0,
            l1: 0.5,
            l2: 1.0,
        }
    }
}

/// Logits are clamped to this before the sigmoid (probabilities stay strictly inside (0, 1)).
const MAX_LOGIT: f64 = 35.0;

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x.clamp(-MAX_LOGIT, MAX_LOGIT)).exp())
}

/// One logistic-regression head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "FtrlWire", try_from = "FtrlWire")]
pub struct Ftrl {
    params: FtrlParams,
    bits: u8,
    z: Vec<f64>,
    n: Vec<f64>,
    updates: u64,
}

impl Ftrl {
    /// An empty head over `2^bits` slots (`bits` clamped to 10..=26).
    pub fn new(params: FtrlParams, bits: u8) -> Ftrl {
        let bits = bits.clamp(MIN_BITS, MAX_BITS);
        Ftrl {
            params,
            bits,
            z: vec![0.0; 1 << bits],
            n: vec![0.0; 1 << bits],
            updates: 0,
        }
    }

    pub fn params(&self) -> FtrlParams {
        self.params
    }

    /// How many examples it has learnt from.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The weight of one slot (0 for a slot outside the space).
    pub fn weight(&self, slot: u32) -> f64 {
        let i = slot as usize;
        let p = &self.params;
        // most slots sit inside the L1 ball: read `z` alone for them (half the cache misses)
        let z = match self.z.get(i) {
            Some(&z) if z.abs() > p.l1 => z,
            _ => return 0.0,
        };
        let n = self.n.get(i).copied().unwrap_or(0.0);
        -(z - z.signum() * p.l1) / ((p.beta + n.sqrt()) / p.alpha + p.l2)
    }

    /// `w · x`.
    pub fn logit(&self, x: &Features) -> f64 {
        x.slots
            .iter()
            .map(|&(s, v)| self.weight(s) * f64::from(v))
            .sum()
    }

    /// Learns one example (`weight` scales its gradient; 1 is an ordinary example). Returns the
    /// probability it predicted before the update.
    pub fn update(&mut self, x: &Features, positive: bool, weight: f64) -> f64 {
        let weights: Vec<f64> = x.slots.iter().map(|&(s, _)| self.weight(s)).collect();
        let logit: f64 = x
            .slots
            .iter()
            .zip(&weights)
            .map(|(&(_, v), w)| w * f64::from(v))
            .sum();
        let p = sigmoid(logit);
        let y = if positive { 1.0 } else { 0.0 };
        let alpha = self.params.alpha;
        for (&(s, v), w) in x.slots.iter().zip(&weights) {
            let i = s as usize;
            let (Some(z), Some(n)) = (self.z.get(i).copied(), self.n.get(i).copied()) else {
                continue;
            };
            let g = (p - y) * f64::from(v) * weight;
            let sigma = ((n + g * g).sqrt() - n.sqrt()) / alpha;
            self.z[i] = z + g - sigma * w;
            self.n[i] = n + g * g;
        }
        self.updates += 1;
        p
    }

    /// Slots with a non-zero weight.
    pub fn nonzero(&self) -> usize {
        (0..self.z.len() as u32)
            .filter(|&s| self.weight(s) != 0.0)
            .count()
    }
}

/// The saved form: only the slots ever touched.
#[derive(Serialize, Deserialize)]
struct FtrlWire {
    params: FtrlParams,
    bits: u8,
    updates: u64,
    /// `[slot, z, n]` for every slot with `n > 0`, by slot.
    slots: Vec<(u32, f64, f64)>,
}

impl From<Ftrl> for FtrlWire {
    fn from(f: Ftrl) -> FtrlWire {
        let slots =
            f.z.iter()
                .zip(&f.n)
                .enumerate()
                .filter(|(_, (_, n))| **n > 0.0)
                .map(|(i, (z, n))| (i as u32, *z, *n))
                .collect();
        FtrlWire {
            params: f.params,
            bits: f.bits,
            updates: f.updates,
            slots,
        }
    }
}

impl TryFrom<FtrlWire> for Ftrl {
    type Error = LearnError;

    fn try_from(w: FtrlWire) -> Result<Ftrl, LearnError> {
        if !(MIN_BITS..=MAX_BITS).contains(&w.bits) {
            return Err(LearnError::Invalid(format!(
                "bits {} outside {MIN_BITS}..={MAX_BITS}",
                w.bits
            )));
        }
        let p = w.params;
        let finite = [p.alpha, p.beta, p.l1, p.l2].iter().all(|v| v.is_finite());
        if !finite || p.alpha <= 0.0 || p.beta < 0.0 || p.l1 < 0.0 || p.l2 < 0.0 {
            return Err(LearnError::Invalid(
                "params: alpha > 0, beta, l1, l2 >= 0, all finite".into(),
            ));
        }
        let mut f = Ftrl::new(p, w.bits);
        f.updates = w.updates;
        for (slot, z, n) in w.slots {
            let i = slot as usize;
            if i >= f.z.len() {
                return Err(LearnError::Invalid(format!(
                    "slot {slot} outside 2^{}",
                    w.bits
                )));
            }
            if !z.is_finite() || !n.is_finite() || n < 0.0 {
                return Err(LearnError::Invalid(format!("slot {slot}: z, n not finite")));
            }
            f.z[i] = z;
            f.n[i] = n;
        }
        Ok(f)
    }
}
