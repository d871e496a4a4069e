//! Near-duplicate text: fingerprints, LSH candidates and interpretable templates.
//!
//! Ads posted by one operator reuse one text with a few words changed (a name, a city, a
//! number). This stage finds such families in real time and says what they share: a template
//! (constant words and slots) per family and, for each ad, how it differs. It replaces the
//! InfoShield approach (tf-idf 5-grams, then quadratic alignment inside each candidate group)
//! with MinHash over short shingles, banded LSH with bounded candidates, and closed-form
//! description-length rules, so it is incremental, deterministic and keeps short ads, digits
//! and non-Latin text (see `../shared/notes/infoshield.md`).
//!
//! [`fingerprint`] is stateless and runs in parallel; [`TemplateIndex`] holds the state.

pub mod align;
pub mod buckets;
pub mod cost;
pub mod fingerprint;
pub mod index;
pub mod minhash;
pub mod template;
pub mod tokens;
pub mod vocab;

pub use fingerprint::{Fingerprint, SimilarConfig, fingerprint, fingerprint_with};
pub use index::{Joined, TemplateIndex, TemplateView};
pub use template::DiffPart;
