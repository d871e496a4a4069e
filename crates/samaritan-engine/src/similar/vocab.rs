//! The word list of the template index, with counts for a unigram code.
//!
//! Templates store token ids, not strings, and description lengths need the cost of a word:
//! a word seen often is cheap to write (few bits), a rare one is dear. Matching a template on
//! "the", "and" and "call" therefore proves little, matching it on rare words proves much —
//! which is what keeps unrelated ads that share common words out of each other's templates.

use rustc_hash::FxHashMap;

use super::tokens::token_hash;

/// Interned words and how often each was seen.
///
/// Words are found by their 64-bit token hash (computed in parallel with the fingerprint), so
/// the serial insert path never hashes or compares strings. Two different words with one hash
/// (odds about 1 in 10^12 for a million distinct words) would share an id.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Vocab {
    ids: FxHashMap<u64, u32>,
    words: Vec<Box<str>>,
    #[serde(with = "crate::raw_vec::u32s")]
    counts: Vec<u32>,
    total: u64,
}

impl Vocab {
    /// The id of `word`, adding it if new, and counting one occurrence.
    pub fn observe(&mut self, word: &str) -> u32 {
        self.observe_hashed(token_hash(word), word)
    }

    /// Counts one more occurrence of the word with this [`token_hash`] and returns its id, when
    /// the word is known; `None` (and nothing counted) otherwise.
    pub fn observe_known(&mut self, hash: u64) -> Option<u32> {
        let id = *self.ids.get(&hash)?;
        if let Some(c) = self.counts.get_mut(id as usize) {
            *c = c.saturating_add(1);
        }
        self.total += 1;
        Some(id)
    }

    /// [`Vocab::observe`] for a word whose [`token_hash`] is already known.
    pub fn observe_hashed(&mut self, hash: u64, word: &str) -> u32 {
        let id = match self.ids.get(&hash) {
            Some(&id) => id,
            None => {
                let id = self.words.len() as u32;
                self.ids.insert(hash, id);
                self.words.push(word.into());
                self.counts.push(0);
                id
            }
        };
        self.counts[id as usize] = self.counts[id as usize].saturating_add(1);
        self.total += 1;
        id
    }

    pub fn word(&self, id: u32) -> &str {
        self.words.get(id as usize).map_or("", |w| w)
    }

    pub fn count(&self, id: u32) -> u32 {
        self.counts.get(id as usize).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The vocabulary as a snapshot keeps it: the words, their hashes and counts in id order
    /// ([`Vocab::from_saved`] rebuilds the hash look-up from them).
    pub fn to_saved(&self) -> SavedVocab {
        let mut hashes = vec![0u64; self.words.len()];
        for (&h, &id) in &self.ids {
            if let Some(slot) = hashes.get_mut(id as usize) {
                *slot = h;
            }
        }
        SavedVocab {
            words: self.words.clone(),
            hashes,
            counts: self.counts.clone(),
            total: self.total,
        }
    }

    /// The vocabulary [`Vocab::to_saved`] saved; an error when its lists differ in length.
    pub fn from_saved(saved: SavedVocab) -> Result<Vocab, &'static str> {
        let n = saved.words.len();
        if saved.hashes.len() != n || saved.counts.len() != n {
            return Err("vocabulary lists differ in length");
        }
        let mut ids = FxHashMap::with_capacity_and_hasher(n, Default::default());
        for (id, &h) in saved.hashes.iter().enumerate() {
            if ids.insert(h, id as u32).is_some() {
                return Err("vocabulary hash listed twice");
            }
        }
        Ok(Vocab {
            ids,
            words: saved.words,
            counts: saved.counts,
            total: saved.total,
        })
    }

    /// Bits to write word `id` with a Laplace-smoothed unigram code.
    pub fn bits(&self, id: u32) -> f64 {
        let v = self.words.len() as f64 + 1.0;
        ((self.total as f64 + v) / (self.count(id) as f64 + 1.0)).log2()
    }
}

/// A [`Vocab`] as a snapshot keeps it ([`Vocab::to_saved`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedVocab {
    words: Vec<Box<str>>,
    #[serde(with = "crate::raw_vec::u64s")]
    hashes: Vec<u64>,
    #[serde(with = "crate::raw_vec::u32s")]
    counts: Vec<u32>,
    total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequent_words_are_cheap() {
        let mut v = Vocab::default();
        for _ in 0..100 {
            v.observe("the");
        }
        let rare = v.observe("zebra");
        let the = v.observe("the");
        assert_eq!(v.word(rare), "zebra");
        assert!(v.bits(the) < 1.0);
        assert!(v.bits(rare) > 5.0);
        assert_eq!(v.word(999), "");

        let back = Vocab::from_saved(v.to_saved()).unwrap();
        assert_eq!(back.ids, v.ids);
        assert_eq!(
            (back.words, back.counts, back.total),
            (v.words, v.counts, v.total)
        );
    }
}
