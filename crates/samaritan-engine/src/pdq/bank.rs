//! Hash banks: named lists of known hashes, and matching images against all of them at once.
//!
//! A bank is data (a name, entries with optional quality and metadata); where it is stored is
//! somebody else's business (`bank_format` reads and writes plain lists; the service will keep
//! banks in its store). A [`BankSet`] indexes the entries of every bank in one [`MihIndex`] and
//! answers "which known images is this within distance 31 of, in any of its 8 orientations",
//! skipping low-quality hashes (quality < 50 by default, as ThreatExchange does) on both sides.
//! Adding or removing a bank or an entry updates the index in place.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::dihedral::Dihedral;
use super::hash::PdqHash;
use super::hasher::PdqOutput;
use super::index::{EntryId, MihIndex};

/// `PDQ_CONFIDENT_MATCH_THRESHOLD` of the reference.
pub const DEFAULT_MAX_DISTANCE: u32 = 31;
/// `PdqSignal.QUALITY_THRESHOLD` of python-threatexchange.
pub const DEFAULT_MIN_QUALITY: u8 = 50;
/// Longest bank name, in bytes.
pub const MAX_BANK_NAME: usize = 64;

/// One known hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankEntry {
    pub hash: PdqHash,
    /// PDQ quality when the source gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// Anything the source said about the hash (ids, tags, source file, …), kept verbatim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
}

impl BankEntry {
    pub fn new(hash: PdqHash) -> Self {
        BankEntry {
            hash,
            quality: None,
            meta: BTreeMap::new(),
        }
    }
}

/// A named list of known hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bank {
    pub name: String,
    pub entries: Vec<BankEntry>,
}

/// Why a bank name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankNameError {
    #[error("a bank name is 1 to {MAX_BANK_NAME} bytes; got {0}")]
    Length(usize),
    #[error(
        "a bank name may hold only ASCII letters, digits, '_', '-' and '.', and may not start with '.'; got {0:?}"
    )]
    Characters(String),
}

/// Checks a bank name: it names a file and appears in signals, so it is kept plain.
pub fn validate_bank_name(name: &str) -> Result<(), BankNameError> {
    if name.is_empty() || name.len() > MAX_BANK_NAME {
        return Err(BankNameError::Length(name.len()));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(BankNameError::Characters(name.to_owned()))
    }
}

impl Bank {
    pub fn new(name: impl Into<String>) -> Result<Self, BankNameError> {
        let name = name.into();
        validate_bank_name(&name)?;
        Ok(Bank {
            name,
            entries: Vec::new(),
        })
    }
}

/// How to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchOptions {
    /// Largest Hamming distance that counts as a match (default 31).
    pub max_distance: u32,
    /// Hashes of lower quality, on either side, are not matched (default 50).
    pub min_quality: u8,
    /// Also match the 7 rotated and mirrored variants (default true).
    pub dihedral: bool,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            max_distance: DEFAULT_MAX_DISTANCE,
            min_quality: DEFAULT_MIN_QUALITY,
            dihedral: true,
        }
    }
}

/// One bank entry an image matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankMatch {
    pub bank: String,
    /// Position of the entry in its bank.
    pub entry: usize,
    /// The bank's hash.
    pub hash: PdqHash,
    pub distance: u32,
    /// Which orientation of the query matched (the closest one when several did).
    pub variant: Dihedral,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
}

/// Every bank, indexed together.
#[derive(Default)]
pub struct BankSet {
    banks: Vec<Option<Bank>>,
    /// Per bank, per entry: its index id.
    ids: Vec<Vec<EntryId>>,
    /// Index id -> (bank slot, entry position).
    owners: Vec<(u32, u32)>,
    index: MihIndex,
}

impl BankSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bank, replacing any bank of the same name.
    pub fn insert_bank(&mut self, bank: Bank) {
        self.remove_bank(&bank.name);
        let slot = match self.banks.iter().position(Option::is_none) {
            Some(s) => s,
            None => {
                self.banks.push(None);
                self.ids.push(Vec::new());
                self.banks.len() - 1
            }
        };
        let mut ids = Vec::with_capacity(bank.entries.len());
        for (pos, e) in bank.entries.iter().enumerate() {
            let id = self.index.insert(e.hash);
            self.set_owner(id, slot, pos);
            ids.push(id);
        }
        self.ids[slot] = ids;
        self.banks[slot] = Some(bank);
    }

    /// Appends one entry to a bank (creating the bank if needed) without touching the others.
    pub fn add_entry(&mut self, bank: &str, entry: BankEntry) -> Result<(), BankNameError> {
        let slot = match self.slot_of(bank) {
            Some(s) => s,
            None => {
                self.insert_bank(Bank::new(bank)?);
                self.slot_of(bank).unwrap_or(0)
            }
        };
        let id = self.index.insert(entry.hash);
        let Some(b) = self.banks[slot].as_mut() else {
            return Ok(());
        };
        let pos = b.entries.len();
        b.entries.push(entry);
        self.ids[slot].push(id);
        self.set_owner(id, slot, pos);
        Ok(())
    }

    /// Removes a bank and its entries from the index; returns it.
    pub fn remove_bank(&mut self, name: &str) -> Option<Bank> {
        let slot = self.slot_of(name)?;
        for id in std::mem::take(&mut self.ids[slot]) {
            self.index.remove(id);
        }
        self.banks[slot].take()
    }

    pub fn bank(&self, name: &str) -> Option<&Bank> {
        self.slot_of(name).and_then(|s| self.banks[s].as_ref())
    }

    /// The banks, in insertion order.
    pub fn banks(&self) -> impl Iterator<Item = &Bank> {
        self.banks.iter().flatten()
    }

    /// Total entries across banks.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Matches an image's hash (and, with `opts.dihedral`, its 7 other orientations) against
    /// every bank. Empty when the image's quality is below `opts.min_quality`. One result per
    /// bank entry, sorted by distance, bank, entry.
    pub fn match_output(&self, image: &PdqOutput, opts: &MatchOptions) -> Vec<BankMatch> {
        if image.quality < opts.min_quality {
            return Vec::new();
        }
        let variants: Vec<(Dihedral, PdqHash)> = if opts.dihedral {
            image.dihedral_hashes().to_vec()
        } else {
            vec![(Dihedral::Original, image.hash)]
        };
        self.match_variants(&variants, opts)
    }

    /// Matches a bare hash in its original orientation only (a hash computed elsewhere carries
    /// no DCT block to derive the others from). `quality` is checked when known.
    pub fn match_hash(
        &self,
        hash: &PdqHash,
        quality: Option<u8>,
        opts: &MatchOptions,
    ) -> Vec<BankMatch> {
        if quality.is_some_and(|q| q < opts.min_quality) {
            return Vec::new();
        }
        self.match_variants(&[(Dihedral::Original, *hash)], opts)
    }

    fn match_variants(
        &self,
        variants: &[(Dihedral, PdqHash)],
        opts: &MatchOptions,
    ) -> Vec<BankMatch> {
        let mut best: BTreeMap<EntryId, (u32, Dihedral)> = BTreeMap::new();
        let mut hits = Vec::new();
        for &(variant, h) in variants {
            self.index.query_into(&h, opts.max_distance, &mut hits);
            for &(id, d) in &hits {
                let e = best.entry(id).or_insert((d, variant));
                if d < e.0 {
                    *e = (d, variant);
                }
            }
        }
        let mut out: Vec<BankMatch> = best
            .into_iter()
            .filter_map(|(id, (distance, variant))| {
                let &(slot, pos) = self.owners.get(id.0 as usize)?;
                let bank = self.banks.get(slot as usize)?.as_ref()?;
                let entry = bank.entries.get(pos as usize)?;
                if entry.quality.is_some_and(|q| q < opts.min_quality) {
                    return None;
                }
                Some(BankMatch {
                    bank: bank.name.clone(),
                    entry: pos as usize,
                    hash: entry.hash,
                    distance,
                    variant,
                    meta: entry.meta.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| (a.distance, &a.bank, a.entry).cmp(&(b.distance, &b.bank, b.entry)));
        out
    }

    fn slot_of(&self, name: &str) -> Option<usize> {
        self.banks
            .iter()
            .position(|b| b.as_ref().is_some_and(|b| b.name == name))
    }

    fn set_owner(&mut self, id: EntryId, slot: usize, pos: usize) {
        let i = id.0 as usize;
        if self.owners.len() <= i {
            self.owners.resize(i + 1, (u32::MAX, u32::MAX));
        }
        self.owners[i] = (slot as u32, pos as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdq::hasher::{PdqHasher, PixelFormat};

    fn image(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                ((x * 7 + y * 3) % 200 + if (x / 9 + y / 13) % 2 == 0 { 40 } else { 0 }) as u8
            })
            .collect()
    }

    fn rotate90(px: &[u8], w: usize, h: usize) -> Vec<u8> {
        // Clockwise: new (x', y') = (h-1-y, x), new width h.
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                out[x * h + (h - 1 - y)] = px[y * w + x];
            }
        }
        out
    }

    #[test]
    fn matches_rotated_copies_and_respects_quality_and_distance() {
        let (w, h) = (120, 90);
        let px = image(w, h);
        let mut hasher = PdqHasher::new();
        let orig = hasher.hash(&px, w, h, PixelFormat::Luma8).unwrap();
        assert!(orig.quality >= 50, "fixture quality {}", orig.quality);
        let rot = hasher
            .hash(&rotate90(&px, w, h), h, w, PixelFormat::Luma8)
            .unwrap();

        let mut bank = Bank::new("known").unwrap();
        let mut e = BankEntry::new(orig.hash);
        e.meta.insert("case".into(), "c-1".into());
        bank.entries.push(e);
        let mut set = BankSet::new();
        set.insert_bank(bank);

        let m = set.match_output(&rot, &MatchOptions::default());
        assert_eq!(m.len(), 1, "{m:?}");
        assert_ne!(m[0].variant, Dihedral::Original);
        assert!(m[0].distance <= 31);
        assert_eq!(m[0].meta["case"], "c-1");

        let plain = MatchOptions {
            dihedral: false,
            ..MatchOptions::default()
        };
        assert!(set.match_output(&rot, &plain).is_empty());

        let mut low = orig.clone();
        low.quality = 49;
        assert!(set.match_output(&low, &MatchOptions::default()).is_empty());
        assert!(
            set.match_hash(&orig.hash, Some(10), &MatchOptions::default())
                .is_empty()
        );
        assert_eq!(
            set.match_hash(&orig.hash, None, &MatchOptions::default())
                .len(),
            1
        );
    }

    #[test]
    fn banks_update_in_place() {
        let a = PdqHash::from_limbs([u64::MAX, 0, u64::MAX, 0]);
        let b = PdqHash::from_limbs([0, u64::MAX, 0, u64::MAX]);
        let mut set = BankSet::new();
        set.add_entry("one", BankEntry::new(a)).unwrap();
        set.add_entry("two", BankEntry::new(a)).unwrap();
        set.add_entry("two", BankEntry::new(b)).unwrap();
        let opts = MatchOptions::default();
        let m = set.match_hash(&a, None, &opts);
        assert_eq!(
            m.iter().map(|m| m.bank.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert_eq!(set.remove_bank("one").unwrap().entries.len(), 1);
        assert_eq!(set.match_hash(&a, None, &opts).len(), 1);
        assert_eq!(set.match_hash(&b, None, &opts)[0].entry, 1);
        assert_eq!(set.len(), 2);
        // Replacing a bank drops its old entries.
        set.insert_bank(Bank::new("two").unwrap());
        assert!(set.is_empty());
        // Low-quality bank entries are skipped.
        let mut low = BankEntry::new(a);
        low.quality = Some(20);
        set.add_entry("three", low).unwrap();
        assert!(set.match_hash(&a, None, &opts).is_empty());
        assert!(set.add_entry("../etc", BankEntry::new(a)).is_err());
    }

    #[test]
    fn bank_names_are_plain() {
        for ok in ["ncmec", "Known_2024-11.v2", "a"] {
            assert!(validate_bank_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "a b", "ü", &"x".repeat(65)] {
            assert!(validate_bank_name(bad).is_err(), "{bad}");
        }
    }
}
