//! MinHash signatures and LSH band keys.
//!
//! Two ads whose shingle sets overlap by a Jaccard similarity J agree on each MinHash value with
//! probability J. Cutting the signature into `bands` bands of `rows` values and hashing each band
//! gives keys that two ads share with probability `1 - (1 - J^rows)^bands`: similar ads meet in a
//! bucket, dissimilar ones almost never do, and finding candidates costs a few hash look-ups
//! instead of a comparison with every stored ad.
//!
//! Every hash is a fixed integer function (xxh3 with pinned seeds, SplitMix64 permutations), so a
//! signature computed today on one machine equals the one computed next year on another: band
//! keys are persisted and must stay comparable.

use super::tokens::mix;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of the band-key hash. Pinned: band keys are stored.
const BAND_SEED: u64 = 0x4C53_485F_4241_4E44;

/// Shape of the LSH index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LshConfig {
    pub bands: usize,
    pub rows: usize,
}

impl Default for LshConfig {
    fn default() -> Self {
        LshConfig { bands: 24, rows: 3 }
    }
}

impl LshConfig {
    /// Probability that two ads with Jaccard similarity `j` share at least one band.
    pub fn candidate_probability(&self, j: f64) -> f64 {
        1.0 - (1.0 - j.powi(self.rows as i32)).powi(self.bands as i32)
    }
}

/// The per-permutation seeds, derived from a fixed stream (never from a random source).
fn permutation_seed(i: usize) -> u64 {
    mix(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1))
}

/// MinHash signature of a shingle set: `n` minima of `n` independent permutations.
/// An empty set gives an empty signature (nothing to compare, never a match).
///
/// Each shingle is mixed once; permutation `i` is then `(h ^ a_i) * b_i` (odd `b_i`) followed
/// by a shift-xor — a multiply-shift family, two multiplications cheaper per value than mixing
/// from scratch, and just as stable.
pub fn signature(shingles: &[u64], n: usize) -> Vec<u32> {
    if shingles.is_empty() {
        return Vec::new();
    }
    let keys: Vec<(u64, u64)> = (0..n)
        .map(|i| {
            let a = permutation_seed(i);
            (a, mix(a) | 1)
        })
        .collect();
    let mut mins = vec![u64::MAX; n];
    for &s in shingles {
        let h = mix(s);
        for (m, &(a, b)) in mins.iter_mut().zip(&keys) {
            let v = (h ^ a).wrapping_mul(b);
            let v = v ^ (v >> 29);
            if v < *m {
                *m = v;
            }
        }
    }
    mins.into_iter().map(|m| (m >> 32) as u32).collect()
}

/// One 32-bit key per band of `sig` (the band index is part of the hash, so equal rows in
/// different bands never collide). Empty when the signature is shorter than one band set.
pub fn band_keys(sig: &[u32], cfg: &LshConfig) -> Vec<u32> {
    if cfg.rows == 0 || sig.len() < cfg.bands * cfg.rows {
        return Vec::new();
    }
    let mut buf = Vec::with_capacity(cfg.rows * 4);
    (0..cfg.bands)
        .map(|b| {
            buf.clear();
            for v in &sig[b * cfg.rows..(b + 1) * cfg.rows] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            xxh3_64_with_seed(&buf, BAND_SEED ^ b as u64) as u32
        })
        .collect()
}

/// Estimated Jaccard similarity of two signatures of equal length.
pub fn estimate(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(range: std::ops::Range<u64>) -> Vec<u64> {
        range.map(mix).collect()
    }

    #[test]
    fn identical_sets_share_every_band() {
        let cfg = LshConfig::default();
        let a = signature(&set(0..40), cfg.bands * cfg.rows);
        let b = signature(&set(0..40), cfg.bands * cfg.rows);
        assert_eq!(band_keys(&a, &cfg), band_keys(&b, &cfg));
        assert_eq!(estimate(&a, &b), 1.0);
    }

    #[test]
    fn estimate_tracks_jaccard() {
        // 60 of 100 shared: J = 60 / 140.
        let a = signature(&set(0..100), 512);
        let b = signature(&set(40..140), 512);
        let j = 60.0 / 140.0;
        assert!((estimate(&a, &b) - j).abs() < 0.08, "{}", estimate(&a, &b));
        let c = signature(&set(1000..1100), 512);
        assert!(estimate(&a, &c) < 0.03);
    }

    #[test]
    fn order_of_shingles_does_not_matter() {
        let mut s = set(0..30);
        let a = signature(&s, 64);
        s.reverse();
        assert_eq!(a, signature(&s, 64));
    }

    #[test]
    fn empty_input_gives_no_keys() {
        let cfg = LshConfig::default();
        assert!(signature(&[], 72).is_empty());
        assert!(band_keys(&[], &cfg).is_empty());
        assert!(band_keys(&[1, 2, 3], &cfg).is_empty());
    }

    #[test]
    fn pinned_values_do_not_drift() {
        // Signatures are persisted: any change here is a format change.
        let sig = signature(&[1, 2, 3], 4);
        let again = signature(&[3, 2, 1], 4);
        assert_eq!(sig, again);
        assert_eq!(permutation_seed(0), mix(0x9E37_79B9_7F4A_7C15));
    }

    #[test]
    fn s_curve_is_steep_enough() {
        let cfg = LshConfig::default();
        assert!(cfg.candidate_probability(0.5) > 0.95);
        assert!(cfg.candidate_probability(0.05) < 0.01);
    }
}
