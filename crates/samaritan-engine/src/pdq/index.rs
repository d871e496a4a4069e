//! Multi-index hashing (Norouzi, Punjani & Fleet 2014) over PDQ hashes: 16 slots of 16 bits.
//!
//! If two hashes are within distance `d`, then by pigeonhole at least one of their 16 words
//! differs by at most `r = floor(d / 16)` bits. Each slot therefore keeps a table from the word's
//! 65,536 values to the entries holding it; a query probes, in every slot, the values within `r`
//! bits of its own word (17 probes for `d <= 31`) and verifies each candidate's full distance.
//! A candidate is reported only from the first slot where it qualifies, so results need no
//! de-duplication set and equal a brute-force scan exactly (property-tested below).
//!
//! Each bucket entry carries, besides the id, a 96-bit *fold* of the whole hash (its 16 words
//! XORed into 6). The popcount of two folds' XOR never exceeds the two hashes' distance, so an
//! entry whose fold is already too far is dropped without touching the hash itself: lossless,
//! and it turns ~40,000 random memory reads per query at 10M hashes into a sequential scan of
//! the probed buckets plus a handful of reads. It costs 12 bytes per entry per slot.
//!
//! Inserts and deletes are incremental: an entry is added to, or swapped out of, its 16 buckets;
//! nothing is ever rebuilt. Deleted ids are reused. For radii whose probe count would exceed a
//! scan's cost (`d >= 64`) the query scans instead — same results, less work.

use super::hash::PdqHash;

const SLOTS: usize = 16;
const VALUES: usize = 1 << 16;
/// Largest per-slot radius probed through the tables; above it a scan is cheaper.
const MAX_PROBE_RADIUS: u32 = 3;

/// One bucket entry: the id and the fold of its hash (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slotted {
    id: u32,
    fold_hi: u32,
    fold_lo: u64,
}

/// The 16 words XORed into 6 (word `j` into group `j % 6`), packed into 96 bits.
#[inline]
fn fold(h: &PdqHash) -> (u64, u32) {
    let w = h.words();
    let mut g = [0u16; 6];
    for (j, &x) in w.iter().enumerate() {
        g[j % 6] ^= x;
    }
    let lo =
        u64::from(g[0]) | u64::from(g[1]) << 16 | u64::from(g[2]) << 32 | u64::from(g[3]) << 48;
    let hi = u32::from(g[4]) | u32::from(g[5]) << 16;
    (lo, hi)
}

/// Identifies one entry in a [`MihIndex`]. Ids of deleted entries are reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub u32);

/// A PDQ index supporting insert, delete and radius queries.
pub struct MihIndex {
    hashes: Vec<PdqHash>,
    live: Vec<bool>,
    free: Vec<u32>,
    len: usize,
    /// `buckets[slot * 65536 + word]` lists the entries whose word `slot` equals `word`.
    buckets: Vec<Vec<Slotted>>,
    /// Every 16-bit mask of popcount <= `MAX_PROBE_RADIUS`, by popcount.
    masks: Vec<u16>,
    /// `masks[..mask_end[r]]` are the masks of popcount <= r.
    mask_end: [usize; MAX_PROBE_RADIUS as usize + 1],
}

impl Default for MihIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl MihIndex {
    pub fn new() -> Self {
        let mut masks: Vec<u16> = (0..=u16::MAX)
            .filter(|m| m.count_ones() <= MAX_PROBE_RADIUS)
            .collect();
        masks.sort_by_key(|m| m.count_ones());
        let mut mask_end = [0usize; MAX_PROBE_RADIUS as usize + 1];
        for (r, end) in mask_end.iter_mut().enumerate() {
            *end = masks
                .iter()
                .filter(|m| m.count_ones() as usize <= r)
                .count();
        }
        MihIndex {
            hashes: Vec::new(),
            live: Vec::new(),
            free: Vec::new(),
            len: 0,
            buckets: vec![Vec::new(); SLOTS * VALUES],
            masks,
            mask_end,
        }
    }

    /// Builds an index from many hashes at once, sizing every bucket exactly (no growth slack).
    /// Ids are `0..n` in iteration order.
    pub fn from_hashes(hashes: impl IntoIterator<Item = PdqHash>) -> Self {
        let mut index = MihIndex::new();
        index.hashes = hashes.into_iter().collect();
        let n = index.hashes.len();
        assert!(
            u32::try_from(n).is_ok(),
            "a MihIndex holds at most 2^32 hashes"
        );
        index.live = vec![true; n];
        index.len = n;
        let entries: Vec<Slotted> = index
            .hashes
            .iter()
            .enumerate()
            .map(|(id, h)| {
                let (fold_lo, fold_hi) = fold(h);
                Slotted {
                    id: id as u32,
                    fold_hi,
                    fold_lo,
                }
            })
            .collect();
        // One slot at a time: its 65,536 buckets are filled while they are in the caches,
        // instead of 16 far-apart buckets per hash (at a million hashes, several times faster).
        // Each bucket receives its ids in increasing order, as inserting one by one gives.
        let mut counts = vec![0u32; VALUES];
        for (s, buckets) in index.buckets.chunks_exact_mut(VALUES).enumerate() {
            counts.fill(0);
            for h in &index.hashes {
                counts[usize::from(h.word(s))] += 1;
            }
            for (b, &c) in buckets.iter_mut().zip(&counts) {
                *b = Vec::with_capacity(c as usize);
            }
            for (h, e) in index.hashes.iter().zip(&entries) {
                buckets[usize::from(h.word(s))].push(*e);
            }
        }
        index
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash stored under `id`, if it is live.
    pub fn get(&self, id: EntryId) -> Option<PdqHash> {
        let i = id.0 as usize;
        (self.live.get(i) == Some(&true)).then(|| self.hashes[i])
    }

    /// Adds a hash; duplicates are separate entries.
    pub fn insert(&mut self, hash: PdqHash) -> EntryId {
        let id = match self.free.pop() {
            Some(id) => {
                self.hashes[id as usize] = hash;
                self.live[id as usize] = true;
                id
            }
            None => {
                let id = u32::try_from(self.hashes.len()).unwrap_or(u32::MAX);
                self.hashes.push(hash);
                self.live.push(true);
                id
            }
        };
        let (fold_lo, fold_hi) = fold(&hash);
        let e = Slotted {
            id,
            fold_hi,
            fold_lo,
        };
        for s in 0..SLOTS {
            self.buckets[s * VALUES + usize::from(hash.word(s))].push(e);
        }
        self.len += 1;
        EntryId(id)
    }

    /// Removes an entry; returns its hash, or `None` if it was not live.
    pub fn remove(&mut self, id: EntryId) -> Option<PdqHash> {
        let hash = self.get(id)?;
        for s in 0..SLOTS {
            let bucket = &mut self.buckets[s * VALUES + usize::from(hash.word(s))];
            if let Some(pos) = bucket.iter().position(|x| x.id == id.0) {
                bucket.swap_remove(pos);
            }
        }
        self.live[id.0 as usize] = false;
        self.free.push(id.0);
        self.len -= 1;
        Some(hash)
    }

    /// All live entries within `max_distance` of `query`, sorted by distance then id.
    pub fn query(&self, query: &PdqHash, max_distance: u32) -> Vec<(EntryId, u32)> {
        let mut out = Vec::new();
        self.query_into(query, max_distance, &mut out);
        out
    }

    /// As [`MihIndex::query`], appending to `out` (which is cleared first).
    pub fn query_into(&self, query: &PdqHash, max_distance: u32, out: &mut Vec<(EntryId, u32)>) {
        out.clear();
        if self.len == 0 {
            // Nothing to find (a store without hash banks asks this for every photo).
            return;
        }
        let r = max_distance / SLOTS as u32;
        if r > MAX_PROBE_RADIUS {
            self.scan_into(query, max_distance, out);
            return;
        }
        let words = query.words();
        let (q_lo, q_hi) = fold(query);
        if r == 1 {
            self.query_radius_one(query, &words, (q_lo, q_hi), max_distance, out);
        } else {
            let masks = &self.masks[..self.mask_end[r as usize]];
            for (s, &qw) in words.iter().enumerate() {
                for &m in masks {
                    self.probe(s, qw ^ m, query, (q_lo, q_hi), max_distance, out, |h| {
                        // Report only from the first slot within the radius.
                        !(0..s).any(|t| (h.word(t) ^ words[t]).count_ones() <= r)
                    });
                }
            }
        }
        out.sort_unstable_by_key(|&(id, d)| (d, id));
    }

    /// Distances 16 to 31 (per-slot radius 1) with fewer probes than the plain scheme's 17 per
    /// slot. Of a match's 16 words, say `k0` are equal to the query's and `k1` differ by one bit;
    /// the others differ by two or more, so `d >= 32 - 2*k0 - k1`. Either some word is equal
    /// (found by probing every slot's own value), or `k1 >= 32 - d`, and then one of the first
    /// `d - 15` slots differs by exactly one bit (found by probing one-bit masks there). At the
    /// linking distance 24 that is 16 + 9 x 16 = 160 probes instead of 272. Each match is
    /// reported once: by the first equal slot, else by the first one-bit slot.
    fn query_radius_one(
        &self,
        query: &PdqHash,
        words: &[u16; SLOTS],
        q_fold: (u64, u32),
        max_distance: u32,
        out: &mut Vec<(EntryId, u32)>,
    ) {
        for (s, &qw) in words.iter().enumerate() {
            self.probe(s, qw, query, q_fold, max_distance, out, |h| {
                !(0..s).any(|t| h.word(t) == words[t])
            });
        }
        let one_bit_slots = (max_distance as usize).saturating_sub(15).min(SLOTS);
        let one_bit = &self.masks[self.mask_end[0]..self.mask_end[1]];
        for (s, &qw) in words.iter().enumerate().take(one_bit_slots) {
            for &m in one_bit {
                self.probe(s, qw ^ m, query, q_fold, max_distance, out, |h| {
                    (0..SLOTS).all(|t| h.word(t) != words[t])
                        && !(0..s).any(|t| (h.word(t) ^ words[t]).count_ones() == 1)
                });
            }
        }
    }

    /// Verifies the entries of bucket (`slot`, `value`) against the query and appends those
    /// within the distance that `report` accepts (the de-duplication rule of the caller).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn probe(
        &self,
        slot: usize,
        value: u16,
        query: &PdqHash,
        (q_lo, q_hi): (u64, u32),
        max_distance: u32,
        out: &mut Vec<(EntryId, u32)>,
        report: impl Fn(&PdqHash) -> bool,
    ) {
        for e in &self.buckets[slot * VALUES + usize::from(value)] {
            // Lower bound from the folds: no hash read when it already exceeds.
            if (e.fold_lo ^ q_lo).count_ones() + (e.fold_hi ^ q_hi).count_ones() > max_distance {
                continue;
            }
            let h = &self.hashes[e.id as usize];
            let d = h.distance(query);
            if d <= max_distance && report(h) {
                out.push((EntryId(e.id), d));
            }
        }
    }

    /// Brute force: every live entry within `max_distance`, sorted like [`MihIndex::query`].
    pub fn scan(&self, query: &PdqHash, max_distance: u32) -> Vec<(EntryId, u32)> {
        let mut out = Vec::new();
        self.scan_into(query, max_distance, &mut out);
        out
    }

    fn scan_into(&self, query: &PdqHash, max_distance: u32, out: &mut Vec<(EntryId, u32)>) {
        out.clear();
        for (i, (h, &live)) in self.hashes.iter().zip(&self.live).enumerate() {
            if live {
                let d = h.distance(query);
                if d <= max_distance {
                    out.push((EntryId(i as u32), d));
                }
            }
        }
        out.sort_unstable_by_key(|&(id, d)| (d, id));
    }

    /// Heap bytes held by the index (hashes, liveness, bucket tables and their contents).
    pub fn heap_bytes(&self) -> usize {
        let buckets: usize = self
            .buckets
            .iter()
            .map(|b| b.capacity() * std::mem::size_of::<Slotted>())
            .sum();
        self.hashes.capacity() * std::mem::size_of::<PdqHash>()
            + self.live.capacity()
            + self.free.capacity() * 4
            + self.buckets.capacity() * std::mem::size_of::<Vec<Slotted>>()
            + buckets
            + self.masks.capacity() * 2
    }
}

/// The baseline the index is measured against: XOR + popcount over a contiguous slice.
/// Returns `(position, distance)` of every hash within `max_distance`, in slice order.
pub fn linear_scan(hashes: &[PdqHash], query: &PdqHash, max_distance: u32) -> Vec<(usize, u32)> {
    hashes
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let d = h.distance(query);
            (d <= max_distance).then_some((i, d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn flip(h: PdqHash, bits: &[usize]) -> PdqHash {
        let mut l = h.limbs();
        for &b in bits {
            l[b / 64] ^= 1 << (b % 64);
        }
        PdqHash::from_limbs(l)
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Insert a near copy of base `b` with these bits flipped.
        Insert(usize, Vec<usize>),
        /// Remove the `k`-th live entry (mod the number live).
        Remove(usize),
        /// Query a near copy of base `b` at this distance.
        Query(usize, Vec<usize>, u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        let bits = prop::collection::vec(0usize..256, 0..48);
        prop_oneof![
            4 => (0usize..4, bits.clone()).prop_map(|(b, f)| Op::Insert(b, f)),
            1 => any::<usize>().prop_map(Op::Remove),
            3 => (0usize..4, bits, prop_oneof![Just(0u32), Just(15), Just(16), Just(24), Just(31), Just(32), 0u32..80])
                .prop_map(|(b, f, d)| Op::Query(b, f, d)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Clustered hashes (near copies of four bases) so that queries have real matches at
        /// every distance; inserts, deletes and queries interleaved; MIH equals brute force.
        #[test]
        fn index_equals_brute_force(bases: [[u64; 4]; 4], ops in prop::collection::vec(op(), 1..120)) {
            let bases = bases.map(PdqHash::from_limbs);
            let mut index = MihIndex::new();
            let mut live: Vec<EntryId> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(b, f) => live.push(index.insert(flip(bases[b], &f))),
                    Op::Remove(k) => {
                        if !live.is_empty() {
                            let id = live.swap_remove(k % live.len());
                            prop_assert!(index.remove(id).is_some());
                            prop_assert!(index.remove(id).is_none());
                        }
                    }
                    Op::Query(b, f, d) => {
                        let q = flip(bases[b], &f);
                        prop_assert_eq!(index.query(&q, d), index.scan(&q, d));
                    }
                }
                prop_assert_eq!(index.len(), live.len());
            }
        }

        #[test]
        fn bulk_build_equals_incremental(hs in prop::collection::vec(any::<[u64; 4]>(), 0..50), q: [u64; 4]) {
            let hs: Vec<PdqHash> = hs.into_iter().map(PdqHash::from_limbs).collect();
            let bulk = MihIndex::from_hashes(hs.iter().copied());
            let mut inc = MihIndex::new();
            for h in &hs { inc.insert(*h); }
            let q = PdqHash::from_limbs(q);
            for d in [0, 31, 128, 256] {
                prop_assert_eq!(bulk.query(&q, d), inc.query(&q, d));
            }
            if let Some(h) = hs.first() {
                prop_assert_eq!(bulk.query(h, 31), bulk.scan(h, 31));
            }
        }
    }

    proptest! {
        /// The fold is a lower bound of the distance, which is what makes skipping lossless.
        #[test]
        fn fold_distance_never_exceeds_hash_distance(a: [u64; 4], b: [u64; 4]) {
            let (a, b) = (PdqHash::from_limbs(a), PdqHash::from_limbs(b));
            let ((al, ah), (bl, bh)) = (fold(&a), fold(&b));
            prop_assert!((al ^ bl).count_ones() + (ah ^ bh).count_ones() <= a.distance(&b));
        }
    }

    #[test]
    fn reused_ids_and_duplicates() {
        let h = PdqHash::from_limbs([1, 2, 3, 4]);
        let mut index = MihIndex::new();
        let a = index.insert(h);
        let b = index.insert(h);
        assert_ne!(a, b);
        assert_eq!(index.query(&h, 0), vec![(a, 0), (b, 0)]);
        index.remove(a);
        assert_eq!(index.query(&h, 0), vec![(b, 0)]);
        let c = index.insert(flip(h, &[5]));
        assert_eq!(c, a, "freed id is reused");
        assert_eq!(index.query(&h, 1), vec![(b, 0), (c, 1)]);
        assert_eq!(index.get(c), Some(flip(h, &[5])));
        assert!(index.heap_bytes() > 0);
        assert_eq!(linear_scan(&[h, flip(h, &[1, 2])], &h, 1), vec![(0, 0)]);
    }
}
