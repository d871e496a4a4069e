//! What the linker is told about one ad, and the checks that keep hostile input out.

use crate::model::{Ad, Extracted, ImageRef, MAX_ID_BYTES};
use crate::similar::Fingerprint;

/// Longest identifier, city, region or name value accepted, in bytes.
pub const MAX_VALUE_BYTES: usize = 512;
/// Most values of one kind accepted per ad.
pub const MAX_VALUES: usize = 256;

/// One ad as the linker sees it: identity, time, place, identifiers and text fingerprint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkInput {
    pub id: String,
    pub posted_at: Option<i64>,
    pub city: Option<String>,
    pub region: Option<String>,
    /// Poster account id on the platform.
    pub account: Option<String>,
    /// Digits only, as in [`Extracted::phones`].
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub handles: Vec<String>,
    pub payments: Vec<String>,
    /// Image hashes in hex (SHA-256 or PDQ); exact equality links.
    pub images: Vec<String>,
    /// Persona names, when the extractor finds them.
    pub names: Vec<String>,
    pub fingerprint: Fingerprint,
}

impl LinkInput {
    /// Builds the input from an ad, what was extracted from it and its text fingerprint.
    pub fn from_ad(ad: &Ad, extracted: &Extracted, fingerprint: Fingerprint) -> Self {
        let loc = ad.location.as_ref();
        let mut images = Vec::new();
        for img in &ad.images {
            if let ImageRef::Hashes { sha256, pdq } = img {
                images.extend(sha256.iter().map(|h| format!("sha256:{h}")));
                images.extend(pdq.iter().map(|h| format!("pdq:{h}")));
            }
        }
        LinkInput {
            id: ad.id.clone(),
            posted_at: ad.posted_at,
            city: loc.and_then(|l| l.city.clone()),
            region: loc.and_then(|l| l.region.clone()),
            account: ad.account.clone(),
            phones: extracted.phones.clone(),
            emails: extracted.emails.clone(),
            handles: extracted.handles.clone(),
            payments: extracted.payments.clone(),
            images,
            names: Vec::new(),
            fingerprint,
        }
    }
}

/// Why an input was refused. Nothing is stored when an input is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("ad id is empty")]
    EmptyId,
    #[error("ad id is {0} bytes; the limit is {MAX_ID_BYTES}")]
    IdTooLong(usize),
    #[error("ad id contains control characters")]
    IdControl,
    #[error("`{field}` has a value of {len} bytes; the limit is {MAX_VALUE_BYTES}")]
    ValueTooLong { field: &'static str, len: usize },
    #[error("`{field}` has an empty value")]
    EmptyValue { field: &'static str },
    #[error("`{field}` has {count} values; the limit is {MAX_VALUES}")]
    TooManyValues { field: &'static str, count: usize },
    #[error("phone {0:?} is not digits only (normalise phones before linking)")]
    PhoneNotDigits(String),
    #[error("fingerprint has {got} band keys; this linker uses {want} (made with other settings?)")]
    BandCount { got: usize, want: usize },
    #[error("fingerprint has {got} tokens; this linker keeps at most {max}")]
    TooManyTokens { got: usize, max: usize },
    #[error("fingerprint has {tokens} tokens but {hashes} token hashes")]
    TokenHashes { tokens: usize, hashes: usize },
}

pub(crate) fn check(input: &LinkInput, bands: usize, max_tokens: usize) -> Result<(), LinkError> {
    let id = &input.id;
    if id.trim().is_empty() {
        return Err(LinkError::EmptyId);
    }
    if id.len() > MAX_ID_BYTES {
        return Err(LinkError::IdTooLong(id.len()));
    }
    if id.chars().any(char::is_control) {
        return Err(LinkError::IdControl);
    }
    let single = [
        ("city", &input.city),
        ("region", &input.region),
        ("account", &input.account),
    ];
    for (field, v) in single {
        if let Some(v) = v {
            check_value(field, v)?;
        }
    }
    let lists = [
        ("phones", &input.phones),
        ("emails", &input.emails),
        ("handles", &input.handles),
        ("payments", &input.payments),
        ("images", &input.images),
        ("names", &input.names),
    ];
    for (field, vs) in lists {
        if vs.len() > MAX_VALUES {
            return Err(LinkError::TooManyValues {
                field,
                count: vs.len(),
            });
        }
        for v in vs {
            check_value(field, v)?;
        }
    }
    if let Some(p) = input
        .phones
        .iter()
        .find(|p| !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(LinkError::PhoneNotDigits(p.clone()));
    }
    let fp = &input.fingerprint;
    if !fp.bands.is_empty() && fp.bands.len() != bands {
        return Err(LinkError::BandCount {
            got: fp.bands.len(),
            want: bands,
        });
    }
    let tokens = fp.words.split(' ').filter(|w| !w.is_empty()).count();
    if tokens != fp.hashes.len() {
        return Err(LinkError::TokenHashes {
            tokens,
            hashes: fp.hashes.len(),
        });
    }
    if tokens > max_tokens {
        return Err(LinkError::TooManyTokens {
            got: tokens,
            max: max_tokens,
        });
    }
    Ok(())
}

fn check_value(field: &'static str, v: &str) -> Result<(), LinkError> {
    if v.trim().is_empty() {
        return Err(LinkError::EmptyValue { field });
    }
    if v.len() > MAX_VALUE_BYTES {
        return Err(LinkError::ValueTooLong {
            field,
            len: v.len(),
        });
    }
    Ok(())
}
