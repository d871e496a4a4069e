//! ASCII byte classes as lookup tables: the text scanners test every byte of every ad, and a
//! table load is cheaper than the range comparisons of `u8::is_ascii_alphanumeric`.

/// `ALNUM[b]`: `b` is an ASCII letter or digit.
pub(crate) static ALNUM: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// Is `b` an ASCII letter or digit?
#[inline]
pub(crate) fn is_alnum(b: u8) -> bool {
    ALNUM[usize::from(b)]
}

/// The ASCII letters and digits of an ASCII text as bitmaps, 64 bytes per word: finding the
/// next word is a few bit operations per word instead of a branch per byte (a byte loop
/// mispredicts at every word's edges, which costs more than reading the bytes). Bytes past the
/// end read as separators.
pub(crate) struct WordBits {
    /// Bit `i % 64` of `alnum[i / 64]`: byte `i` is an ASCII letter or digit.
    alnum: Vec<u64>,
    len: usize,
}

impl WordBits {
    /// The bitmap of `text`, or `None` when it is not ASCII (the bit tricks assume bytes below
    /// 0x80).
    pub(crate) fn new(text: &[u8]) -> Option<WordBits> {
        if !text.is_ascii() {
            return None;
        }
        let mut alnum = Vec::with_capacity(text.len() / 64 + 1);
        let mut chunks = text.chunks_exact(64);
        for c in &mut chunks {
            alnum.push(mask64(c));
        }
        // the tail, then separators (so every word ends inside the bitmap)
        let mut last = [b' '; 64];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        alnum.push(mask64(&last));
        Some(WordBits {
            alnum,
            len: text.len(),
        })
    }

    /// The next maximal run of ASCII letters and digits starting at or after byte `from`.
    pub(crate) fn next_word(&self, from: usize) -> Option<std::ops::Range<usize>> {
        let start = next_bit(&self.alnum, from, false)?;
        // (the run's own first bit is set, so the next clear bit is after it)
        let end = next_bit(&self.alnum, start, true).unwrap_or(self.len);
        (start < self.len).then(|| start..end.min(self.len))
    }
}

/// The first index at or after `from` whose bit is set (`clear`: not set).
#[inline]
fn next_bit(bits: &[u64], from: usize, clear: bool) -> Option<usize> {
    let flip = if clear { !0 } else { 0 };
    let mut block = from / 64;
    let mut w = (bits.get(block)? ^ flip) & (!0u64 << (from % 64));
    while w == 0 {
        block += 1;
        w = bits.get(block)? ^ flip;
    }
    Some(block * 64 + w.trailing_zeros() as usize)
}

/// Bit `j`: byte `j` of the 64 ASCII bytes `c` is a letter or digit.
#[inline]
fn mask64(c: &[u8]) -> u64 {
    let mut m = 0u64;
    for (k, eight) in c.chunks_exact(8).enumerate().take(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(eight);
        m |= u64::from(mask8(u64::from_le_bytes(w))) << (8 * k);
    }
    m
}

/// Bit `j`: byte `j` of the eight ASCII bytes in `x` (little-endian) is a letter or digit.
/// Each byte is compared by adding a bias that carries into its high bit exactly at the range's
/// edge (no byte is 0x80 or above, so no sum spills into the next byte), and the eight high
/// bits are gathered by one multiplication.
#[inline]
fn mask8(x: u64) -> u8 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let digit = (x + ONES * (0x80 - 0x30)) & !(x + ONES * (0x80 - 0x3A));
    let y = x | (ONES * 0x20);
    let alpha = (y + ONES * (0x80 - 0x61)) & !(y + ONES * (0x80 - 0x7B));
    let hits = (digit | alpha) & HIGH;
    // bit 7 of byte j moves to bit 56 + j
    ((hits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words as the byte loop reads them.
    fn words_by_bytes(t: &[u8]) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < t.len() {
            if !is_alnum(t[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < t.len() && is_alnum(t[i]) {
                i += 1;
            }
            out.push(s..i);
        }
        out
    }

    proptest::proptest! {
        /// The bitmap finds the words the byte loop finds, across block edges.
        #[test]
        fn bitmaps_read_words_as_the_byte_loop_does(
            t in proptest::collection::vec(0u8..0x80, 0..300),
            words in "([a-zA-Z0-9]{1,70}[ ,.|@_\\[`{/:\n]{1,3}){0,8}",
        ) {
            for t in [t.as_slice(), words.as_bytes()] {
                let Some(bits) = WordBits::new(t) else {
                    return Err(proptest::test_runner::TestCaseError::fail("ASCII refused"));
                };
                let mut found = Vec::new();
                let mut at = 0;
                while let Some(w) = bits.next_word(at) {
                    at = w.end;
                    found.push(w);
                }
                proptest::prop_assert_eq!(found, words_by_bytes(t));
            }
        }
    }

    #[test]
    fn every_ascii_byte_is_classified_as_the_table_says() {
        let all: Vec<u8> = (0..0x80).collect();
        let Some(bits) = WordBits::new(&all) else {
            panic!("ASCII refused");
        };
        for b in 0..0x80usize {
            let bit = bits.alnum[b / 64] >> (b % 64) & 1 == 1;
            assert_eq!(bit, is_alnum(b as u8), "{b}");
        }
        assert!(WordBits::new("café".as_bytes()).is_none());
    }
}
