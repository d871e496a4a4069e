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

pub struct PhotoIdentities {
    index: MihIndex,
    canonical: Vec<PdqHash>,
    max_distance: u32,
}

impl PhotoIdentities {
    pub fn new(max_distance: u32) -> Self {
        PhotoIdentities {
            index: MihIndex::new(),
            canonical: Vec::new(),
            max_distance,
        }
    }

    /// The identity of a photo: the first PDQ hash seen within the distance, or this one.
    pub fn identity(&mut self, hash: &PdqHash) -> PdqHash {
        let best = self
            .index
            .query(hash, self.max_distance)
            .into_iter()
            .min_by_key(|(id, d)| (*d, id.0));
        match best {
            Some((id, _)) => self.canonical[id.0 as usize],
            None => {
                let id = self.index.insert(*hash);
                debug_assert_eq!(id.0 as usize, self.canonical.len());
                self.canonical.push(*hash);
                *hash
            }
        }
    }

    /// Linking identifiers for an ad's images: `sha256:` of the exact file and `pdq:` of the
    /// photo's identity (skipped below [`MIN_QUALITY`] when the quality is known).
    pub fn identifiers(&mut self, images: &[ImageAnalysis]) -> Vec<String> {
        let mut out = Vec::new();
        for img in images {
            if let Some(sha) = &img.sha256 {
                out.push(format!("sha256:{sha}"));
            }
            if img.quality.is_some_and(|q| q < MIN_QUALITY) {
                continue;
            }
            if let Some(hash) = img.pdq.as_deref().and_then(|h| PdqHash::from_hex(h).ok()) {
                out.push(format!("pdq:{}", self.identity(&hash).to_hex()));
            }
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
}
