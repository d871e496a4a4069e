//! Finding ASCII digits eight bytes at a time: several extractors look only around the digit
//! runs of a text, and most of a text is letters and spaces.

/// Index of the first ASCII digit in `b` at or after `from`.
pub(crate) fn next_digit(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const ZERO: u64 = u64::from_ne_bytes([b'0'; 8]);
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        // a digit XOR '0' is below 10, and only a digit is; `(x - 10) & !x & 0x80…` is non-zero
        // exactly when some byte of x is below 10
        let x = u64::from_ne_bytes(w) ^ ZERO;
        if x.wrapping_sub(ONES * 10) & !x & HIGH != 0 {
            break;
        }
        i += 8;
    }
    b.get(i..)?
        .iter()
        .position(u8::is_ascii_digit)
        .map(|k| i + k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_as_a_byte_scan(b in proptest::collection::vec(any::<u8>(), 0..40), from in 0usize..45) {
            let want = b.iter().enumerate().skip(from).find(|(_, c)| c.is_ascii_digit()).map(|(k, _)| k);
            prop_assert_eq!(next_digit(&b, from), want);
        }
    }

    #[test]
    fn finds_digits() {
        assert_eq!(next_digit(b"hello world, call 404", 0), Some(18));
        assert_eq!(next_digit(b"no digits at all here", 3), None);
        assert_eq!(next_digit(b"9", 0), Some(0));
        assert_eq!(next_digit(b"9", 1), None);
    }
}
