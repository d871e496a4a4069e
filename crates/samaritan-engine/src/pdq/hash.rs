//! The 256-bit PDQ hash as a value: hex encoding, parsing and Hamming distance.
//!
//! Bit `k` (0..256) of a PDQ hash is the comparison of DCT coefficient `(k / 16, k % 16)` with
//! the median. The reference stores 16 words of 16 bits (`word[k >> 4] |= 1 << (k & 15)`) and
//! prints them as `%04x` from word 15 down to word 0, so the hex string is simply the 256-bit
//! number with bit `k` worth `2^k`, written big-endian. We keep it as four `u64` limbs,
//! least significant first, which makes distance four XOR + popcounts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of bits in a PDQ hash.
pub const PDQ_BITS: u32 = 256;

/// A 256-bit PDQ hash. `limbs[0]` holds bits 0..64 (the last 16 hex digits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash {
    limbs: [u64; 4],
}

/// Why a string is not a PDQ hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    #[error("a PDQ hash is 64 hex digits; got {0} characters")]
    Length(usize),
    #[error("a PDQ hash is 64 hex digits; character {position} is {found:?}")]
    NotHex { position: usize, found: char },
}

impl PdqHash {
    /// The all-zero hash (what the reference returns for images smaller than 5 pixels).
    pub const ZERO: PdqHash = PdqHash { limbs: [0; 4] };

    /// Builds a hash from four limbs, least significant first.
    pub const fn from_limbs(limbs: [u64; 4]) -> Self {
        PdqHash { limbs }
    }

    /// The four limbs, least significant first.
    pub const fn limbs(&self) -> [u64; 4] {
        self.limbs
    }

    /// Builds a hash from the reference's 16 words of 16 bits (`words[0]` = bits 0..16).
    pub fn from_words(words: [u16; 16]) -> Self {
        let mut limbs = [0u64; 4];
        for (i, w) in words.iter().enumerate() {
            limbs[i / 4] |= u64::from(*w) << (16 * (i % 4));
        }
        PdqHash { limbs }
    }

    /// The reference's 16 words of 16 bits; word `s` is also multi-index slot `s`.
    pub fn words(&self) -> [u16; 16] {
        let mut words = [0u16; 16];
        for (i, w) in words.iter_mut().enumerate() {
            // Truncation to the low 16 bits is the point.
            *w = (self.limbs[i / 4] >> (16 * (i % 4))) as u16;
        }
        words
    }

    /// Word `slot` (0..16) of the hash: bits `16*slot .. 16*slot+16`.
    #[inline]
    pub fn word(&self, slot: usize) -> u16 {
        (self.limbs[slot / 4] >> (16 * (slot % 4))) as u16
    }

    /// Sets bit `k` (0..256).
    #[inline]
    pub fn set_bit(&mut self, k: usize) {
        self.limbs[k / 64] |= 1u64 << (k % 64);
    }

    /// Whether bit `k` (0..256) is set.
    #[inline]
    pub fn bit(&self, k: usize) -> bool {
        self.limbs[k / 64] >> (k % 64) & 1 == 1
    }

    /// Number of differing bits.
    #[inline]
    pub fn distance(&self, other: &PdqHash) -> u32 {
        (self.limbs[0] ^ other.limbs[0]).count_ones()
            + (self.limbs[1] ^ other.limbs[1]).count_ones()
            + (self.limbs[2] ^ other.limbs[2]).count_ones()
            + (self.limbs[3] ^ other.limbs[3]).count_ones()
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.limbs.iter().map(|l| l.count_ones()).sum()
    }

    /// Lower-case hex, 64 digits, in the reference's order.
    pub fn to_hex(&self) -> String {
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            self.limbs[3], self.limbs[2], self.limbs[1], self.limbs[0]
        )
    }

    /// Parses 64 hex digits (either case). Surrounding whitespace is not accepted: callers that
    /// read lines trim first, so a stray byte is an error rather than a silently different hash.
    pub fn from_hex(s: &str) -> Result<Self, HashParseError> {
        let n = s.chars().count();
        if n != 64 || s.len() != 64 {
            return Err(HashParseError::Length(n));
        }
        let mut limbs = [0u64; 4];
        for (position, c) in s.chars().enumerate() {
            let v = c
                .to_digit(16)
                .ok_or(HashParseError::NotHex { position, found: c })?;
            let bit_from_top = 4 * position; // digit 0 holds bits 252..256
            let k = 252 - bit_from_top;
            limbs[k / 64] |= u64::from(v) << (k % 64);
        }
        Ok(PdqHash { limbs })
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({})", self.to_hex())
    }
}

impl FromStr for PdqHash {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PdqHash::from_hex(s)
    }
}

impl Serialize for PdqHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PdqHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PdqHash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    #[test]
    fn hex_round_trip_and_word_order() {
        let h = PdqHash::from_hex(BRIDGE).unwrap();
        assert_eq!(h.to_hex(), BRIDGE);
        // The first four digits are word 15 (DCT row 15), the last four word 0.
        assert_eq!(h.word(15), 0xf8f8);
        assert_eq!(h.word(0), 0x9b22);
        assert_eq!(PdqHash::from_words(h.words()), h);
        assert_eq!(
            PdqHash::from_hex(&BRIDGE.to_uppercase()).unwrap().to_hex(),
            BRIDGE
        );
    }

    #[test]
    fn bits_follow_the_reference_layout() {
        let mut h = PdqHash::ZERO;
        h.set_bit(0);
        assert!(h.to_hex().ends_with("0001"));
        h.set_bit(255);
        assert!(h.to_hex().starts_with('8'));
        assert!(h.bit(255) && h.bit(0) && !h.bit(1));
        assert_eq!(h.count_ones(), 2);
    }

    #[test]
    fn rejects_bad_hex_with_the_reason() {
        assert_eq!(PdqHash::from_hex("abc"), Err(HashParseError::Length(3)));
        let mut s = BRIDGE.to_owned();
        s.replace_range(10..11, "g");
        assert_eq!(
            PdqHash::from_hex(&s),
            Err(HashParseError::NotHex {
                position: 10,
                found: 'g'
            })
        );
        assert!(PdqHash::from_hex(&format!(" {}", &BRIDGE[1..])).is_err());
        // 64 characters but multi-byte: still rejected, never panics on a char boundary.
        let wide = "é".repeat(32);
        assert!(PdqHash::from_hex(&wide).is_err());
        assert!(PdqHash::from_hex(&"é".repeat(64)).is_err());
    }

    #[test]
    fn serde_uses_hex() {
        let h = PdqHash::from_hex(BRIDGE).unwrap();
        let j = serde_json::to_string(&h).unwrap();
        assert_eq!(j, format!("\"{BRIDGE}\""));
        assert_eq!(serde_json::from_str::<PdqHash>(&j).unwrap(), h);
        assert!(serde_json::from_str::<PdqHash>("\"zz\"").is_err());
    }

    proptest! {
        #[test]
        fn distance_is_a_metric(a: [u64; 4], b: [u64; 4], c: [u64; 4]) {
            let (a, b, c) = (PdqHash::from_limbs(a), PdqHash::from_limbs(b), PdqHash::from_limbs(c));
            prop_assert_eq!(a.distance(&a), 0);
            prop_assert_eq!(a.distance(&b), b.distance(&a));
            prop_assert!(a.distance(&c) <= a.distance(&b) + b.distance(&c));
            prop_assert_eq!(PdqHash::from_hex(&a.to_hex()).unwrap(), a);
        }
    }
}
