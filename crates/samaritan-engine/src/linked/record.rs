//! The one saved form of a linker: what it was told about each ad, replayed in order.
//!
//! A [`LinkRecord`] holds an ad's linker input (its text fingerprint included), its images'
//! hashes and its policy contexts: replaying the records of every linked ad in the order they
//! were linked ([`super::LinkedState::replay`]) gives back the linker, the photo identities and
//! the network contexts exactly, with no normalizing, extracting, image fetching or hashing
//! again. Records are JSON; [`LINK_FORMAT`] versions the layout and a record of another format
//! is refused with [`RecordError::Format`].

use serde::{Deserialize, Serialize};

use super::LinkReady;
use crate::link::LinkInput;
use crate::model::ImageAnalysis;
use crate::similar::Fingerprint;
use crate::similar::tokens::token_hash;

/// Layout version of [`LinkRecord`].
pub const LINK_FORMAT: u32 = 1;

/// Why a stored record does not load.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not a link record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("format {0} (this build reads {LINK_FORMAT})")]
    Format(u32),
}

/// What the linker was told about one ad, kept so that a replay links it exactly again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub format: u32,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Image identifiers the ad supplied itself (used when images were not taken in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// The images as taken in (`None` when they were not): the photo identities are derived
    /// from these, in order, on replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<Photo>>,
    /// The text fingerprint (token hashes are recomputed from `words`).
    pub words: String,
    pub tokens: u32,
    pub bands: Vec<u32>,
    /// Policy contexts the ad shows by its own wording (bit set), for network shares.
    #[serde(default)]
    pub contexts: u64,
    /// PDQ hashes to find the ad by (lowercase hex).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pdq: Vec<String>,
}

/// One image's hashes, as photo identities need them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
}

impl LinkRecord {
    /// The record of an ad about to be linked (build it before [`super::LinkedState::link`],
    /// which takes the linker input); `pdq` is what a search index keeps of the ad
    /// ([`LinkReady::search_pdq`]), restored beside the linker.
    pub fn of(ready: &LinkReady, pdq: Vec<String>) -> LinkRecord {
        let link = &ready.link;
        LinkRecord {
            format: LINK_FORMAT,
            id: link.id.clone(),
            posted_at: link.posted_at,
            city: link.city.clone(),
            region: link.region.clone(),
            account: link.account.clone(),
            phones: link.phones.clone(),
            emails: link.emails.clone(),
            handles: link.handles.clone(),
            payments: link.payments.clone(),
            names: link.names.clone(),
            images: link.images.clone(),
            photos: ready.photo_hashes.as_ref().map(|_| {
                ready
                    .images
                    .images
                    .iter()
                    .map(|i| Photo {
                        sha256: i.sha256.clone(),
                        pdq: i.pdq.clone(),
                        quality: i.quality,
                    })
                    .collect()
            }),
            words: link.fingerprint.words.clone(),
            tokens: link.fingerprint.tokens,
            bands: link.fingerprint.bands.clone(),
            contexts: ready.contexts,
            pdq,
        }
    }

    /// Reads a stored record, refusing another format.
    pub fn from_json(bytes: &[u8]) -> Result<LinkRecord, RecordError> {
        let rec: LinkRecord = serde_json::from_slice(bytes)?;
        if rec.format != LINK_FORMAT {
            return Err(RecordError::Format(rec.format));
        }
        Ok(rec)
    }

    /// The record as stored (compact JSON).
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and numbers always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The linker input (photo identities are added on replay, from the running state).
    pub fn input(&self) -> LinkInput {
        let hashes = self
            .words
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(token_hash)
            .collect();
        LinkInput {
            id: self.id.clone(),
            posted_at: self.posted_at,
            city: self.city.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            phones: self.phones.clone(),
            emails: self.emails.clone(),
            handles: self.handles.clone(),
            payments: self.payments.clone(),
            images: self.images.clone(),
            names: self.names.clone(),
            fingerprint: Fingerprint {
                words: self.words.clone(),
                tokens: self.tokens,
                hashes,
                bands: self.bands.clone(),
            },
        }
    }

    /// The images as photo identities read them.
    pub(crate) fn photo_analyses(&self) -> Option<Vec<ImageAnalysis>> {
        self.photos.as_ref().map(|p| {
            p.iter()
                .enumerate()
                .map(|(index, ph)| ImageAnalysis {
                    index,
                    sha256: ph.sha256.clone(),
                    pdq: ph.pdq.clone(),
                    quality: ph.quality,
                    ..ImageAnalysis::default()
                })
                .collect()
        })
    }
}
