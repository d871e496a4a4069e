//! The words of a text: maximal runs of alphanumeric characters (Unicode letters and digits).
//!
//! The place-name scan reads a text word by word and turns almost every word away by its first
//! letters; a good part of its time went to finding where each word ends, in a loop that leaves
//! at a byte no branch predictor can guess (see BENCHMARKS.md, fourth pass). For an ASCII text
//! (most ads) every byte is read the same way instead: its class is compared with the previous
//! byte's and the position written down unconditionally, the write cursor moving only at a
//! change of class. Other texts are read character by character.

use std::ops::Range;

use crate::ascii::is_alnum;

/// Byte ranges of the words of a text, in order.
#[derive(Debug, Default)]
pub(crate) struct Words {
    /// Alternating starts and ends: word `k` is `edges[2k]..edges[2k + 1]`.
    edges: Vec<u32>,
}

impl Words {
    /// The words of `text`. Texts of 4 GiB or more (never an ad) get no words.
    pub fn of(text: &str) -> Words {
        if u32::try_from(text.len()).is_err() {
            return Words::default();
        }
        if text.is_ascii() {
            return Words::of_ascii(text.as_bytes());
        }
        let mut edges = Vec::new();
        let mut prev = false;
        for (i, c) in text.char_indices() {
            let word = c.is_alphanumeric();
            if word != prev {
                edges.push(i as u32);
            }
            prev = word;
        }
        if prev {
            edges.push(text.len() as u32);
        }
        Words { edges }
    }

    /// [`Words::of`] an ASCII text shorter than 4 GiB, without a branch per byte.
    fn of_ascii(b: &[u8]) -> Words {
        // at most one edge per byte plus the closing one
        let mut edges = vec![0u32; b.len() + 1];
        let mut n = 0;
        let mut prev = false;
        for (i, &c) in b.iter().enumerate() {
            let word = is_alnum(c);
            edges[n] = i as u32;
            n += usize::from(word != prev);
            prev = word;
        }
        edges[n] = b.len() as u32;
        n += usize::from(prev);
        edges.truncate(n);
        Words { edges }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.edges.len() / 2
    }

    /// Word `k`.
    pub fn get(&self, k: usize) -> Option<Range<usize>> {
        let s = *self.edges.get(2 * k)?;
        let e = *self.edges.get(2 * k + 1)?;
        Some(s as usize..e as usize)
    }

    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.edges
            .chunks_exact(2)
            .map(|p| p[0] as usize..p[1] as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `s.split(non-alphanumeric)` with each word's range.
    fn by_hand(s: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in s.char_indices().chain([(s.len(), ' ')]) {
            match (c.is_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(st)) => {
                    out.push(st..i);
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn finds_words() {
        let w = Words::of("Hi, call 404-555 now!💋9x");
        let got: Vec<Range<usize>> = w.iter().collect();
        assert_eq!(got, [0..2, 4..8, 9..12, 13..16, 17..20, 25..27]);
        let w = Words::of("Montréal, 9x");
        assert_eq!(w.iter().collect::<Vec<_>>(), [0..9, 11..13]);
        assert_eq!(w.len(), 2);
        assert_eq!(w.get(1), Some(11..13));
        assert_eq!(w.get(6), None);
        assert_eq!(Words::of("").len(), 0);
        assert_eq!(Words::of("abc").get(0), Some(0..3));
        assert_eq!(Words::of(" - ").len(), 0);
    }

    proptest! {
        #[test]
        fn same_as_a_plain_scan(s in "[a-zA-Z0-9 _.,é💋\n\u{300}٣]{0,40}") {
            prop_assert_eq!(Words::of(&s).iter().collect::<Vec<_>>(), by_hand(&s));
        }

        #[test]
        fn ascii_same_as_a_plain_scan(s in "[a-zA-Z0-9 _.,\n-]{0,40}") {
            prop_assert_eq!(Words::of(&s).iter().collect::<Vec<_>>(), by_hand(&s));
        }
    }
}
