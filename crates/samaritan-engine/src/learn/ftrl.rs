//! FTRL-Proximal online logistic regression (McMahan et al., "Ad Click Prediction: a View from
//! the Trenches", KDD 2013, algorithm 1), over hashed features.
//!
//! Per slot `i` the learner keeps `z_i` and `n_i` (the sum of squared gradients); the weight is
//! computed when read: `w_i = 0` if `|z_i| <= l1`, else
//! `-(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2)`. L1 keeps most weights exactly
//! zero, so the model stays small and each non-zero weight is a feature a reviewer can read.
//! Arithmetic is plain `f64` in a fixed order: the same examples in the same order give the same
//! model, bit for bit.

use rustc_hash::FxHashMap;
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
///
/// Only the slots ever touched hold state (a head trained on 20 000 ads touches under a tenth
/// of 2^20), so a head costs memory in proportion to what it learnt, and loading one does not
/// allocate and clear the whole space.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "FtrlWire", try_from = "FtrlWire")]
pub struct Ftrl {
    params: FtrlParams,
    bits: u8,
    /// `(z, n)` of every slot an update has touched; any other slot is `(0, 0)`.
    state: FxHashMap<u32, (f64, f64)>,
    /// A filter of the slots with a weight (`|z| > l1`): bit `slot % FILTER_BITS` is set for
    /// each (and stays set when the weight returns to zero, until the head is saved and read
    /// back). Made from `state`, never saved. Scoring reads it first: at 8 KiB it stays in the
    /// first-level cache, and `weights` is read only for the few slots it lets through.
    filter: Vec<u64>,
    /// The weight of every slot whose weight is not zero, as [`Ftrl::weight_at`] computes it
    /// (kept in step by every update: scoring reads it instead of a square root and a division).
    weights: FxHashMap<u32, f64>,
    updates: u64,
}

/// Bits of a head's filter of weighted slots (see `Ftrl::filter`): 2^16, 8 KiB. A head trained
/// on 20 000 ads has about 900 (commercial) or 3 300 (severe) weighted slots, so the filter lets
/// through 1–5 % of the other slots.
const FILTER_BITS: usize = 1 << 16;

/// Two heads are equal when they learnt the same: the filter and the weights are made from the
/// state (a filter keeps bits of slots whose weight went back to zero; reading back clears them).
impl PartialEq for Ftrl {
    fn eq(&self, other: &Ftrl) -> bool {
        self.params == other.params
            && self.bits == other.bits
            && self.updates == other.updates
            && self.state == other.state
    }
}

impl Ftrl {
    /// An empty head over `2^bits` slots (`bits` clamped to 10..=26).
    pub fn new(params: FtrlParams, bits: u8) -> Ftrl {
        let bits = bits.clamp(MIN_BITS, MAX_BITS);
        Ftrl {
            params,
            bits,
            state: FxHashMap::default(),
            filter: vec![0; FILTER_BITS.min(1 << bits) / 64],
            weights: FxHashMap::default(),
            updates: 0,
        }
    }

    /// The number of slots, `2^bits`.
    fn slots(&self) -> usize {
        1 << self.bits
    }

    pub fn params(&self) -> FtrlParams {
        self.params
    }

    /// How many examples it has learnt from.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The weight of one slot (0 for a slot outside the space).
    #[inline]
    pub fn weight(&self, slot: u32) -> f64 {
        let bit = slot as usize % (self.filter.len() * 64);
        match self.filter.get(bit / 64) {
            Some(bits) if bits & (1 << (bit % 64)) != 0 => {
                self.weights.get(&slot).copied().unwrap_or(0.0)
            }
            _ => 0.0,
        }
    }

    /// The weight of a slot in the space, from `z` and `n`.
    fn weight_at(&self, i: usize) -> f64 {
        let p = &self.params;
        let Some(&(z, n)) = self.state.get(&(i as u32)) else {
            return 0.0;
        };
        if z.abs() <= p.l1 {
            return 0.0;
        }
        -(z - z.signum() * p.l1) / ((p.beta + n.sqrt()) / p.alpha + p.l2)
    }

    /// Keeps slot `i`'s weight (and filter bit) in step with its `z`.
    fn mark(&mut self, i: usize) {
        let on = self
            .state
            .get(&(i as u32))
            .is_some_and(|(z, _)| z.abs() > self.params.l1);
        if on {
            let bit = i % (self.filter.len() * 64);
            if let Some(bits) = self.filter.get_mut(bit / 64) {
                *bits |= 1 << (bit % 64);
            }
            self.weights.insert(i as u32, self.weight_at(i));
        } else {
            self.weights.remove(&(i as u32));
        }
    }

    /// `w · x`.
    pub fn logit(&self, x: &Features) -> f64 {
        x.slots
            .iter()
            .map(|&(s, v)| self.weight(s) * f64::from(v))
            .sum()
    }

    /// `a · x` and `b · x` in one pass over `x` (each summed in the same order as
    /// [`Ftrl::logit`], so the same bits).
    pub fn logits(a: &Ftrl, b: &Ftrl, x: &Features) -> (f64, f64) {
        // `Sum` of f64 starts at -0.0, as `logit`'s does
        let (mut la, mut lb) = (-0.0, -0.0);
        for &(s, v) in &x.slots {
            let v = f64::from(v);
            la += a.weight(s) * v;
            lb += b.weight(s) * v;
        }
        (la, lb)
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
            if i >= self.slots() {
                continue;
            }
            let (z, n) = self.state.get(&s).copied().unwrap_or((0.0, 0.0));
            let g = (p - y) * f64::from(v) * weight;
            let sigma = ((n + g * g).sqrt() - n.sqrt()) / alpha;
            self.state.insert(s, (z + g - sigma * w, n + g * g));
            self.mark(i);
        }
        self.updates += 1;
        p
    }

    /// Slots with a non-zero weight.
    pub fn nonzero(&self) -> usize {
        self.weights.values().filter(|w| **w != 0.0).count()
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
        let mut slots: Vec<(u32, f64, f64)> = f
            .state
            .iter()
            .filter(|(_, (_, n))| *n > 0.0)
            .map(|(&i, &(z, n))| (i, z, n))
            .collect();
        slots.sort_unstable_by_key(|s| s.0);
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
        f.state.reserve(w.slots.len());
        for (slot, z, n) in w.slots {
            let i = slot as usize;
            if i >= f.slots() {
                return Err(LearnError::Invalid(format!(
                    "slot {slot} outside 2^{}",
                    w.bits
                )));
            }
            if !z.is_finite() || !n.is_finite() || n < 0.0 {
                return Err(LearnError::Invalid(format!("slot {slot}: z, n not finite")));
            }
            f.state.insert(slot, (z, n));
            f.mark(i);
        }
        Ok(f)
    }
}
