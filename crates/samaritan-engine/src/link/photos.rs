//! One identity per photo, however often it was re-encoded.
//!
//! The linker joins ads through equal identifiers. A photo reposted by a network comes back with
//! new file bytes (new SHA-256) and a PDQ hash a few bits away, so equality alone misses it. This
//! maps each PDQ hash to the first hash already seen within `max_distance` bits (a multi-index
//! hash lookup, in input order, so the result is deterministic) and links on that identity.

use crate::model::ImageAnalysis;
use crate::pdq::PdqHash;
use crate::pdq::index::MihIndex;

/// PDQ distance at or under which two photos are taken for the same picture when linking. The
/// PDQ authors' match threshold is 31; linking is stricter because a wrong link joins strangers.
pub const DEFAULT_LINK_DISTANCE: u32 = 24;

/// Photos below this PDQ quality carry too little detail to link on (a flat colour, a logo).
pub const MIN_QUALITY: u8 = 50;

/// At most this many photos that became known since a batch was looked up are compared one by
/// one in [`PhotoIdentities::resolve`]; past that, asking the index again is cheaper. In the
/// service, 32 concurrent batches of 500 ads looked up at once left gaps of ~20 000 photos,
/// and the linear re-check was 5 % of ingest CPU.
const RESCAN_LIMIT: usize = 512;

pub struct PhotoIdentities {
    index: MihIndex,
    canonical: Vec<PdqHash>,
    max_distance: u32,
}

/// The nearest known photo of a hash, as found by [`PhotoIdentities::lookup`]: its distance and
/// its position among the known photos (the order they became known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Near {
    pub distance: u32,
    pub position: u32,
}

impl PhotoIdentities {
    pub fn new(max_distance: u32) -> Self {
        PhotoIdentities {
            index: MihIndex::new(),
            canonical: Vec::new(),
            max_distance,
        }
    }

    /// What a snapshot keeps: the distance, and the known photos in the order they became
    /// known as 32 bytes each (the four limbs, little-endian).
    pub fn saved(&self) -> (u32, Vec<u8>) {
        let mut bytes = Vec::with_capacity(self.canonical.len() * 32);
        for h in &self.canonical {
            for limb in h.limbs() {
                bytes.extend_from_slice(&limb.to_le_bytes());
            }
        }
        (self.max_distance, bytes)
    }

    /// The identities [`PhotoIdentities::saved`] saved: the index is built from the photos in
    /// the order they became known (the same positions as inserting them one by one), every
    /// bucket sized at once.
    pub fn from_saved(max_distance: u32, bytes: &[u8]) -> Result<Self, &'static str> {
        if !bytes.len().is_multiple_of(32) {
            return Err("photo list is not a whole number of hashes");
        }
        let canonical: Vec<PdqHash> = bytes
            .chunks_exact(32)
            .map(|c| {
                let mut limbs = [0u64; 4];
                for (l, b) in limbs.iter_mut().zip(c.chunks_exact(8)) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    *l = u64::from_le_bytes(a);
                }
                PdqHash::from_limbs(limbs)
            })
            .collect();
        if u32::try_from(canonical.len()).is_err() {
            return Err("too many photos");
        }
        Ok(PhotoIdentities {
            index: MihIndex::from_hashes(canonical.iter().copied()),
            canonical,
            max_distance,
        })
    }

    /// How many distinct photos are known. A [`PhotoIdentities::lookup`] made now sees exactly
    /// these; pass this number to [`PhotoIdentities::resolve`] with its result.
    pub fn known(&self) -> usize {
        self.canonical.len()
    }

    /// The nearest known photo within the distance, ties to the earliest. Read-only, so a batch
    /// of hashes can be looked up in parallel before they are resolved in input order.
    pub fn lookup(&self, hash: &PdqHash) -> Option<Near> {
        self.index
            .query(hash, self.max_distance)
            .into_iter()
            .map(|(id, d)| Near {
                distance: d,
                position: id.0,
            })
            .min()
    }

    /// The identity of a photo given `looked_up`, the result of [`PhotoIdentities::lookup`] made
    /// when [`PhotoIdentities::known`] was `as_of`: the photos that became known since then are
    /// checked here, so the result equals a lookup made now. A photo with no known photo within
    /// the distance becomes known and is its own identity.
    pub fn resolve(&mut self, hash: &PdqHash, looked_up: Option<Near>, as_of: usize) -> PdqHash {
        self.resolve_within(hash, looked_up, as_of, RESCAN_LIMIT)
    }

    /// [`PhotoIdentities::resolve`]: photos that became known since `as_of` are compared one by
    /// one when there are at most `limit` of them, else the index is asked again (the same
    /// answer: a lookup now is the minimum over every known photo).
    fn resolve_within(
        &mut self,
        hash: &PdqHash,
        looked_up: Option<Near>,
        as_of: usize,
        limit: usize,
    ) -> PdqHash {
        let best = if self.canonical.len().saturating_sub(as_of) > limit {
            self.lookup(hash)
        } else {
            self.nearest_since(hash, looked_up, as_of)
        };
        match best {
            Some(near) => self.canonical[near.position as usize],
            None => {
                let id = self.index.insert(*hash);
                debug_assert_eq!(id.0 as usize, self.canonical.len());
                self.canonical.push(*hash);
                *hash
            }
        }
    }

    /// `looked_up` improved by the photos that became known since `as_of`, compared one by one.
    fn nearest_since(&self, hash: &PdqHash, looked_up: Option<Near>, as_of: usize) -> Option<Near> {
        let mut best = looked_up;
        for (i, known) in self.canonical.iter().enumerate().skip(as_of) {
            let d = known.distance(hash);
            if d <= self.max_distance {
                let near = Near {
                    distance: d,
                    position: i as u32,
                };
                if best.is_none_or(|b| near < b) {
                    best = Some(near);
                }
            }
        }
        best
    }

    /// The identity of a photo: the first PDQ hash seen within the distance, or this one.
    pub fn identity(&mut self, hash: &PdqHash) -> PdqHash {
        let near = self.lookup(hash);
        let as_of = self.known();
        self.resolve(hash, near, as_of)
    }

    /// The PDQ hashes of an ad's images that take part in linking (valid, and not below
    /// [`MIN_QUALITY`] when the quality is known), in image order.
    pub fn linkable(images: &[ImageAnalysis]) -> Vec<PdqHash> {
        images
            .iter()
            .filter(|img| img.quality.is_none_or(|q| q >= MIN_QUALITY))
            .filter_map(|img| img.pdq.as_deref().and_then(|h| PdqHash::from_hex(h).ok()))
            .collect()
    }

    /// Linking identifiers for an ad's images: `sha256:` of the exact file and `pdq:` of the
    /// photo's identity (skipped below [`MIN_QUALITY`] when the quality is known).
    pub fn identifiers(&mut self, images: &[ImageAnalysis]) -> Vec<String> {
        let hashes = Self::linkable(images);
        let lookups: Vec<Option<Near>> = hashes.iter().map(|h| self.lookup(h)).collect();
        let as_of = self.known();
        self.identifiers_resolved(images, &hashes, &lookups, as_of)
    }

    /// [`PhotoIdentities::identifiers`] in two phases: `hashes` is [`PhotoIdentities::linkable`]
    /// of `images` and `lookups` their [`PhotoIdentities::lookup`]s made when
    /// [`PhotoIdentities::known`] was `as_of` (possibly in parallel, for many ads at once). Gives
    /// exactly what `identifiers` would give now.
    pub fn identifiers_resolved(
        &mut self,
        images: &[ImageAnalysis],
        hashes: &[PdqHash],
        lookups: &[Option<Near>],
        as_of: usize,
    ) -> Vec<String> {
        let mut out: Vec<String> = images
            .iter()
            .filter_map(|img| img.sha256.as_ref().map(|sha| format!("sha256:{sha}")))
            .collect();
        for (hash, near) in hashes.iter().zip(lookups) {
            out.push(format!("pdq:{}", self.resolve(hash, *near, as_of).to_hex()));
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(seed: u64) -> PdqHash {
        let mut words = [0u16; 16];
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for w in &mut words {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *w = s as u16;
        }
        PdqHash::from_words(words)
    }

    fn flip(h: &PdqHash, bits: &[usize]) -> PdqHash {
        let mut words = h.words();
        for &b in bits {
            words[b / 16] ^= 1 << (b % 16);
        }
        PdqHash::from_words(words)
    }

    #[test]
    fn re_encoded_copies_share_an_identity_and_strangers_do_not() {
        let mut ids = PhotoIdentities::new(DEFAULT_LINK_DISTANCE);
        let a = hash(1);
        let b = hash(2);
        assert_eq!(ids.identity(&a), a);
        assert_eq!(ids.identity(&flip(&a, &[3, 70, 200])), a);
        assert_eq!(
            ids.identity(&b),
            b,
            "an unrelated photo is its own identity"
        );
        let far = flip(&a, &(0..40).map(|i| i * 6).collect::<Vec<_>>());
        assert_eq!(ids.identity(&far), far, "40 bits away is another picture");
    }

    #[test]
    fn identifiers_skip_low_quality_and_keep_exact_bytes() {
        let mut ids = PhotoIdentities::new(DEFAULT_LINK_DISTANCE);
        let a = hash(5);
        let images = vec![
            ImageAnalysis {
                index: 0,
                sha256: Some("ab".into()),
                pdq: Some(a.to_hex()),
                quality: Some(90),
                ..Default::default()
            },
            ImageAnalysis {
                index: 1,
                sha256: Some("cd".into()),
                pdq: Some(hash(6).to_hex()),
                quality: Some(10),
                ..Default::default()
            },
            ImageAnalysis {
                index: 2,
                error: Some("not an image".into()),
                ..Default::default()
            },
        ];
        let got = ids.identifiers(&images);
        assert_eq!(
            got,
            vec![
                format!("pdq:{}", a.to_hex()),
                "sha256:ab".into(),
                "sha256:cd".into()
            ]
        );
    }

    #[test]
    fn looking_up_a_batch_first_gives_the_same_identities_as_one_by_one() {
        // A stream of photos where many are near copies of earlier ones, some inside the same
        // batch: resolving a batch looked up in advance must equal asking one photo at a time.
        let mut stream = Vec::new();
        for i in 0..600u64 {
            let base = hash(1 + i % 97);
            let bits: Vec<usize> = (0..(i % 30) as usize)
                .map(|k| (k * 37 + i as usize) % 256)
                .collect();
            stream.push(flip(&base, &bits));
        }
        let mut one = PhotoIdentities::new(DEFAULT_LINK_DISTANCE);
        let expected: Vec<PdqHash> = stream.iter().map(|h| one.identity(h)).collect();
        // Limit 0: every stale look-up is asked again of the index; usize::MAX: always the
        // one-by-one re-check.
        for limit in [0, 3, RESCAN_LIMIT, usize::MAX] {
            for batch in [1usize, 7, 64, 600] {
                let mut two = PhotoIdentities::new(DEFAULT_LINK_DISTANCE);
                let mut got = Vec::new();
                for chunk in stream.chunks(batch) {
                    let as_of = two.known();
                    let lookups: Vec<Option<Near>> = chunk.iter().map(|h| two.lookup(h)).collect();
                    for (h, near) in chunk.iter().zip(lookups) {
                        got.push(two.resolve_within(h, near, as_of, limit));
                    }
                }
                assert_eq!(got, expected, "batch of {batch}, limit {limit}");
                assert_eq!(two.known(), one.known());
            }
        }
        // Saved and read back: the same identities, and the same answers for what comes next.
        let (d, bytes) = one.saved();
        let mut back = PhotoIdentities::from_saved(d, &bytes).unwrap();
        assert_eq!(back.canonical, one.canonical);
        for i in 0..200u64 {
            let h = flip(&hash(1 + i % 131), &[(i as usize * 13) % 256]);
            assert_eq!(back.identity(&h), one.identity(&h));
        }
        assert!(PhotoIdentities::from_saved(d, &bytes[..31]).is_err());
    }
}
