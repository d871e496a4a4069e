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

    /// The table as a snapshot keeps it ([`BandTable::from_saved`] reads it back): a bit per
    /// slot, set where the slot holds an entry, and those entries in slot order. The empty
    /// slots (a quarter to five eighths of the table) are not written, and the table comes back
    /// slot for slot in one pass, without a probe.
    pub fn to_saved(&self) -> SavedBand {
        let mut occupied = vec![0u64; self.slots.len().div_ceil(64)];
        let mut entries = Vec::with_capacity(self.len);
        for (i, &s) in self.slots.iter().enumerate() {
            if s != EMPTY {
                occupied[i / 64] |= 1 << (i % 64);
                entries.push(s);
            }
        }
        SavedBand {
            slots: self.slots.len() as u64,
            occupied,
            entries,
        }
    }

    /// The table [`BandTable::to_saved`] saved, slot for slot; an error when the saved parts
    /// do not fit together (a slot count that is not a power of two, bits that do not match the
    /// entries, or a table fuller than the inserts ever leave it).
    pub fn from_saved(saved: &SavedBand) -> Result<BandTable, &'static str> {
        let n = usize::try_from(saved.slots).map_err(|_| "band table too large")?;
        if n != 0 && !n.is_power_of_two() {
            return Err("band table size is not a power of two");
        }
        if saved.occupied.len() != n.div_ceil(64) {
            return Err("band table occupancy does not match its size");
        }
        let set: usize = saved.occupied.iter().map(|w| w.count_ones() as usize).sum();
        if set != saved.entries.len() || set * 4 > n * 3 {
            return Err("band table entries do not match its occupancy");
        }
        if saved.entries.contains(&EMPTY) {
            return Err("band table entry is the empty mark");
        }
        let mut slots = vec![EMPTY; n];
        let mut next = saved.entries.iter();
        for (w, &bits) in saved.occupied.iter().enumerate() {
            let mut b = bits;
            while b != 0 {
                let i = w * 64 + b.trailing_zeros() as usize;
                b &= b - 1;
                // `set` entries for `set` bits, each bit below `n` (checked above).
                match (slots.get_mut(i), next.next()) {
                    (Some(slot), Some(&e)) => *slot = e,
                    _ => return Err("band table occupancy does not match its size"),
                }
            }
        }
        Ok(BandTable { slots, len: set })
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

/// A [`BandTable`] as a snapshot keeps it ([`BandTable::to_saved`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedBand {
    /// Slots in the table (a power of two, or 0).
    slots: u64,
    /// Bit `i % 64` of word `i / 64`: slot `i` holds an entry.
    #[serde(with = "crate::raw_vec::u64s")]
    occupied: Vec<u64>,
    /// The entries (`key << 32 | ad`), in slot order.
    #[serde(with = "crate::raw_vec::u64s")]
    entries: Vec<u64>,
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

        // Saved and read back: slot for slot the same table, which goes on as the first.
        let saved = t.to_saved();
        let mut back = BandTable::from_saved(&saved).unwrap();
        assert_eq!(back.slots, t.slots);
        assert_eq!(back.len(), t.len());
        for key in [3u32, 77, u32::MAX, 123_456_789] {
            assert_eq!(
                back.get_or_insert(key, 60_000),
                t.get_or_insert(key, 60_000)
            );
        }
        let empty = BandTable::default();
        assert_eq!(BandTable::from_saved(&empty.to_saved()).unwrap().len(), 0);
    }

    #[test]
    fn saved_tables_that_do_not_fit_together_are_refused() {
        let mut t = BandTable::default();
        for ad in 0..100u32 {
            t.get_or_insert(ad.wrapping_mul(2_654_435_761), ad);
        }
        let good = t.to_saved();
        let mut odd = good.clone();
        odd.slots += 1;
        let mut fewer = good.clone();
        fewer.entries.pop();
        let mut bits = good.clone();
        bits.occupied[0] ^= 1;
        let mut mark = good.clone();
        mark.entries[0] = EMPTY;
        let mut full = good.clone();
        full.slots = 64;
        full.occupied = vec![u64::MAX];
        full.entries = (0..64).collect();
        for bad in [odd, fewer, bits, mark, full] {
            assert!(BandTable::from_saved(&bad).is_err(), "{bad:?}");
        }
    }
}
