//! One LSH band's buckets: band key → the first ad that filled the bucket.
//!
//! A flat open-addressing table (linear probing) of packed `key << 32 | ad` words: one cache
//! line per look-up, where a general hash map reads its control bytes and its slot from two.
//! At a million ads each band's table is far larger than the caches, so every look-up is a
//! miss; [`BandTable::touch`] lets the caller start the 24 misses of one ad together before it
//! probes the tables one by one.

/// An empty slot. A real entry equal to it would need the ad index `u32::MAX` with the key
/// `u32::MAX`; ad indices stop below `u32::MAX` (`len() as u32` of a linker in memory).
const EMPTY: u64 = u64::MAX;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct BandTable {
    #[serde(with = "crate::raw_vec::u64s")]
    slots: Vec<u64>,
    len: usize,
}

impl BandTable {
    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn home(&self, key: u32) -> usize {
        // Fibonacci hashing; the table's size is a power of two (and not zero here).
        let bits = self.slots.len().trailing_zeros();
        (u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }

    /// Reads the slot where `key` would be found first, so that its cache line is on its way
    /// before [`BandTable::get_or_insert`] needs it. The value means nothing.
    pub fn touch(&self, key: u32) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        self.slots[self.home(key)]
    }

    /// The ad stored under `key`, or `None` after storing `ad` there.
    pub fn get_or_insert(&mut self, key: u32, ad: u32) -> Option<u32> {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                self.slots[i] = (u64::from(key) << 32) | u64::from(ad);
                self.len += 1;
                return None;
            }
            if (s >> 32) as u32 == key {
                return Some(s as u32);
            }
            i = (i + 1) & mask;
        }
    }

    /// Stores `ad` under a key not yet present; false (and nothing changed) when it is.
    pub fn insert_new(&mut self, key: u32, ad: u32) -> bool {
        self.get_or_insert(key, ad).is_none()
    }

    /// Every (key, ad), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.slots
            .iter()
            .filter(|&&s| s != EMPTY)
            .map(|&s| ((s >> 32) as u32, s as u32))
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; cap]);
        let mask = cap - 1;
        for s in old.into_iter().filter(|&s| s != EMPTY) {
            let mut i = self.home((s >> 32) as u32);
            while self.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn behaves_like_a_map_of_first_values() {
        let mut t = BandTable::default();
        let mut m: HashMap<u32, u32> = HashMap::new();
        let mut x = 7u64;
        for ad in 0..50_000u32 {
            x = crate::similar::tokens::mix(x);
            // Few distinct keys at first (many hits), then mostly new ones; extremes included.
            let key = match ad % 5 {
                0 => (x % 300) as u32,
                1 => u32::MAX - (x % 3) as u32,
                _ => x as u32,
            };
            let want = match m.get(&key) {
                Some(&v) => Some(v),
                None => {
                    m.insert(key, ad);
                    None
                }
            };
            let _ = t.touch(key);
            assert_eq!(t.get_or_insert(key, ad), want, "ad {ad} key {key}");
        }
        assert_eq!(t.len(), m.len());
        let mut got: Vec<(u32, u32)> = t.iter().collect();
        let mut want: Vec<(u32, u32)> = m.into_iter().collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        assert!(!t.insert_new(got[0].0, 1));
        assert_eq!(BandTable::default().touch(5), 0);
    }
}
