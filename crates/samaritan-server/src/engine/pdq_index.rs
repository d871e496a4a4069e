//! The PDQ values of stored ads in a multi-index hash index, for `GET /v1/search?pdq=`.

use samaritan_engine::pdq::{EntryId, MihIndex, PdqHash};

/// Distinct PDQ values, each once, in the order they became known (the index's ids).
#[derive(Default)]
pub(crate) struct PdqIndex {
    index: MihIndex,
}

impl PdqIndex {
    /// Adds a value (lowercase hex); a malformed or known value changes nothing.
    pub(crate) fn add(&mut self, hex: &str) {
        // Known when the index holds it at distance 0 (one bucket per slot looked at; no set
        // of every value beside the index to rebuild at start).
        if let Ok(h) = PdqHash::from_hex(hex)
            && self.index.query(&h, 0).is_empty()
        {
            self.index.insert(h);
        }
    }

    /// The values in the order they became known, 32 bytes each (the four limbs,
    /// little-endian): what a snapshot keeps ([`PdqIndex::from_saved`] reads it back).
    pub(crate) fn saved(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.index.len() * 32);
        for id in 0..self.index.len() {
            if let Some(h) = self.index.get(EntryId(id as u32)) {
                for limb in h.limbs() {
                    out.extend_from_slice(&limb.to_le_bytes());
                }
            }
        }
        out
    }

    /// The index of the values [`PdqIndex::saved`] saved (the same ids: built in their order,
    /// every bucket sized at once; each value is there once, as `add` keeps them); `None` when
    /// the bytes are not a whole number of values.
    pub(crate) fn from_saved(bytes: &[u8]) -> Option<PdqIndex> {
        if !bytes.len().is_multiple_of(32) || u32::try_from(bytes.len() / 32).is_err() {
            return None;
        }
        let mut hashes = Vec::with_capacity(bytes.len() / 32);
        for c in bytes.chunks_exact(32) {
            let mut limbs = [0u64; 4];
            for (l, b) in limbs.iter_mut().zip(c.chunks_exact(8)) {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                *l = u64::from_le_bytes(a);
            }
            hashes.push(PdqHash::from_limbs(limbs));
        }
        Some(PdqIndex {
            index: MihIndex::from_hashes(hashes),
        })
    }

    /// Values within `max_distance` of `pdq`, with their distances.
    pub(crate) fn near(&self, pdq: &str, max_distance: u32) -> Vec<(u32, String)> {
        let Ok(h) = PdqHash::from_hex(pdq) else {
            return Vec::new();
        };
        self.index
            .query(&h, max_distance)
            .into_iter()
            .filter_map(|(id, d)| self.index.get(id).map(|v| (d, v.to_hex())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap (CONTRIBUTING.md)
    use super::*;

    #[test]
    fn saved_values_read_back_to_the_same_index() {
        let mut idx = PdqIndex::default();
        let values: Vec<String> = (0..300u64)
            .map(|i| {
                let mut s = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                (0..4)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        format!("{s:016x}")
                    })
                    .collect()
            })
            .collect();
        for v in values.iter().chain(&values[..10]) {
            idx.add(v);
        }
        idx.add("not a hash");
        let bytes = idx.saved();
        assert_eq!(bytes.len(), 300 * 32);
        let back = PdqIndex::from_saved(&bytes).unwrap();
        for v in &values {
            assert_eq!(back.near(v, 31), idx.near(v, 31));
            assert_eq!(back.near(v, 0), vec![(0, v.clone())]);
        }
        assert_eq!(back.saved(), bytes);
        assert!(PdqIndex::from_saved(&bytes[..40]).is_none());
    }
}
