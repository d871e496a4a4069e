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
