//! The stateless half of near-duplicate detection: one ad's text in, a compact fingerprint out.
//!
//! Fingerprints are computed in parallel, one ad at a time, with nothing shared; the stateful
//! [`super::index::TemplateIndex`] then files them in input order. A fingerprint carries the LSH
//! band keys (to find candidates) and the ad's tokens (to fit it to a template and show the
//! reviewer how it differs).

use super::minhash::{LshConfig, band_keys, signature};
use super::tokens::{ShingleConfig, shingles_hashed, token_hash, words};

/// Settings of the text side of linking. Stored with the index: fingerprints made with other
/// settings are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimilarConfig {
    pub shingles: ShingleConfig,
    pub lsh: LshConfig,
    /// Tokens of an ad kept for template fitting (alignment costs the product of two lengths).
    pub align_max_tokens: usize,
    /// Candidate clusters fitted per ad, most band votes first (bounds the work per insert).
    pub max_candidates: usize,
}

impl Default for SimilarConfig {
    fn default() -> Self {
        SimilarConfig {
            shingles: ShingleConfig::default(),
            lsh: LshConfig::default(),
            align_max_tokens: 256,
            max_candidates: 4,
        }
    }
}

/// What the template index needs to know about one ad's text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    /// Lower-cased tokens joined by single spaces (at most `align_max_tokens` of them).
    pub words: String,
    /// Number of tokens in `words`.
    pub tokens: u32,
    /// Token hash of each word of `words` (see [`super::tokens::token_hash`]).
    pub hashes: Vec<u64>,
    /// One LSH key per band; empty when the text has nothing to compare.
    pub bands: Vec<u32>,
}

/// Fingerprint of a normalized document text with the default settings.
pub fn fingerprint(text: &str) -> Fingerprint {
    fingerprint_with(text, &SimilarConfig::default())
}

/// Fingerprint of a normalized document text.
pub fn fingerprint_with(text: &str, cfg: &SimilarConfig) -> Fingerprint {
    let (all, count) = words(text, cfg.shingles.max_tokens);
    let mut hashes: Vec<u64> = all
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(token_hash)
        .collect();
    let sh = shingles_hashed(&all, &hashes, count, &cfg.shingles);
    let sig = signature(&sh, cfg.lsh.bands * cfg.lsh.rows);
    let bands = band_keys(&sig, &cfg.lsh);
    let (words, tokens) = if count > cfg.align_max_tokens {
        let cut = all
            .match_indices(' ')
            .nth(cfg.align_max_tokens - 1)
            .map_or(all.len(), |(i, _)| i);
        (all[..cut].to_owned(), cfg.align_max_tokens)
    } else {
        (all, count)
    };
    hashes.truncate(tokens);
    Fingerprint {
        words,
        tokens: tokens as u32,
        hashes,
        bands,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_duplicates_share_bands_and_strangers_do_not() {
        let a = fingerprint(
            "Now hiring delivery drivers in Reno, flexible hours, weekly pay, apply online today \
             with your license and two references",
        );
        let b = fingerprint(
            "Now hiring delivery drivers in Tulsa, flexible hours, weekly pay, apply online today \
             with your license and two references",
        );
        let c =
            fingerprint("Vintage oak dresser for sale, six drawers, minor scratches, pickup only");
        let shared = |x: &Fingerprint, y: &Fingerprint| {
            x.bands.iter().zip(&y.bands).filter(|(p, q)| p == q).count()
        };
        assert!(shared(&a, &b) > 0);
        assert_eq!(shared(&a, &c), 0);
        assert_eq!(a.bands.len(), SimilarConfig::default().lsh.bands);
    }

    #[test]
    fn empty_and_hostile_text() {
        let e = fingerprint("");
        assert!(e.bands.is_empty());
        assert_eq!(e.tokens, 0);
        let p = fingerprint("!!! ??? ...");
        assert!(p.bands.is_empty());
        let huge = "word ".repeat(200_000);
        let f = fingerprint(&huge);
        assert_eq!(f.tokens as usize, SimilarConfig::default().align_max_tokens);
        assert_eq!(f.words.split(' ').count(), f.tokens as usize);
        assert_eq!(f.hashes.len(), f.tokens as usize);
    }

    #[test]
    fn deterministic() {
        let t = "same text every time, on every machine";
        assert_eq!(fingerprint(t), fingerprint(t));
    }
}
