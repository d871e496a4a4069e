//! Description lengths in bits: the yardstick that decides templates.
//!
//! Minimum description length asks one question everywhere: is it shorter to write this ad as
//! "template T, with these fills and edits" than to write it out word by word? If yes, the ad
//! belongs to T; a word belongs in T's constant text when spelling it once in T is cheaper than
//! spelling it in every ad that has it; a gap becomes a slot when most ads fill it. No similarity
//! threshold is needed, and each decision can be explained in bits.

/// Bits to write a non-negative integer with a universal (Elias-gamma) code.
pub fn int_bits(x: u64) -> f64 {
    let v = x.saturating_add(1);
    (2 * (63 - v.leading_zeros()) + 1) as f64
}

/// Bits per word for a vocabulary of `vocab` words (at least 8, as for a byte).
pub fn word_bits(vocab: usize) -> f64 {
    let v = vocab.max(2) as f64;
    v.log2().ceil().max(8.0)
}

/// Bits to name one of `n` positions.
pub fn position_bits(n: usize) -> f64 {
    (n.max(1) as f64 + 1.0).log2().ceil().max(1.0)
}

/// Bits to write an ad of `n` words with no template.
pub fn raw_bits(n: usize, w: f64) -> f64 {
    int_bits(n as u64) + n as f64 * w
}

/// Bits to say yes/no to an event seen `hits` times in `trials`, for an outcome of `yes`
/// (Laplace-smoothed, so never infinite).
pub fn flag_bits(hits: u32, trials: u32, yes: bool) -> f64 {
    let p = (hits as f64 + 1.0) / (trials as f64 + 2.0);
    -(if yes { p } else { 1.0 - p }).log2()
}

/// Total bits of `trials` yes/no flags with `hits` yeses under their own frequency.
pub fn flags_total(hits: u32, trials: u32) -> f64 {
    if trials == 0 {
        return 0.0;
    }
    let p = hits as f64 / trials as f64;
    if p <= 0.0 || p >= 1.0 {
        return 0.0;
    }
    -(trials as f64) * (p * p.log2() + (1.0 - p) * (1.0 - p).log2())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_code_lengths() {
        assert_eq!(int_bits(0), 1.0);
        assert_eq!(int_bits(1), 3.0);
        assert_eq!(int_bits(2), 3.0);
        assert_eq!(int_bits(3), 5.0);
        assert!(int_bits(u64::MAX).is_finite());
    }

    #[test]
    fn word_and_flag_costs() {
        assert_eq!(word_bits(0), 8.0);
        assert_eq!(word_bits(5000), 13.0);
        assert!(flag_bits(10, 10, true) < flag_bits(10, 10, false));
        assert!(flag_bits(0, 0, true).is_finite());
        assert_eq!(flags_total(5, 5), 0.0);
        assert!((flags_total(5, 10) - 10.0).abs() < 1e-9);
        assert_eq!(raw_bits(0, 8.0), 1.0);
    }
}
