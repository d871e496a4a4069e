//! All the images of one request taken in together, within bounds on the request as a whole.
//!
//! Per-image limits ([`crate::DecodeLimits`], [`crate::FetchConfig`]) bound one image; a request
//! with many images needs bounds of its own, or one request could cost minutes of fetching and
//! seconds of CPU. [`intake_request`] therefore:
//! 1. fetches every `{url}` image at once, at most [`RequestLimits::max_per_host`] to one host
//!    name at a time, all within [`RequestLimits::fetch_deadline`]; a URL not fetched by then is
//!    an error entry of its own ([`MediaError::Deadline`]);
//! 2. reads each image's declared size from its header, in input order, and gives it a share of
//!    [`RequestLimits::max_pixels`]; an image that does not fit what is left is an error entry
//!    ([`MediaError::RequestPixels`]) and is never decoded, while a smaller one after it may
//!    still fit. Input order makes the outcome the same on every run;
//! 3. decodes and hashes the admitted images on every core.
//!
//! Fetched files are held until step 3, so a request's memory is bounded by the number of URL
//! images it may carry times the byte limit of one image.

use std::time::Duration;

use rayon::prelude::*;
use samaritan_engine::model::{ImageAnalysis, ImageRef};
use samaritan_engine::pdq::{BankMatch, BankSet, MatchOptions, policy_match};

use crate::decode::dimensions;
use crate::error::MediaError;
use crate::fetch::{GuardedResolver, fetch_all_with};
use crate::intake::{
    ImageFacts, IntakeConfig, base64_bytes, entry, hash_bytes, precomputed, read_path,
};

/// Bounds on all the images of one request together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Decoded pixels over all the request's images (default 100 million), on top of the
    /// per-image [`crate::DecodeLimits::max_pixels`].
    pub max_pixels: u64,
    /// Time for all of the request's URL fetches together (default 30 s).
    pub fetch_deadline: Duration,
    /// URL fetches to one host name at once (default 2).
    pub max_per_host: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_pixels: 100_000_000,
            fetch_deadline: Duration::from_secs(30),
            max_per_host: 2,
        }
    }
}

enum Stage {
    // Boxed: the facts carry the PDQ output (over a kilobyte), the others a pointer.
    Done(Box<Result<ImageFacts, MediaError>>),
    Bytes(Vec<u8>),
    Fetch,
}

/// Takes in the images of every ad of a request (`ads[i]` is ad `i`'s `images`) under
/// `cfg.request`. One result per image, in the shape of the input.
pub fn intake_request(
    ads: &[&[ImageRef]],
    cfg: &IntakeConfig,
) -> Vec<Vec<Result<ImageFacts, MediaError>>> {
    intake_request_with(ads, cfg, &|| {
        GuardedResolver::system(cfg.fetch.allow_private)
    })
}

/// [`intake_request`] with a given resolver for the fetches (tests).
pub fn intake_request_with(
    ads: &[&[ImageRef]],
    cfg: &IntakeConfig,
    resolver: &(dyn Fn() -> GuardedResolver + Sync),
) -> Vec<Vec<Result<ImageFacts, MediaError>>> {
    let flat: Vec<&ImageRef> = ads.iter().flat_map(|a| a.iter()).collect();
    let mut stages: Vec<Stage> = flat
        .iter()
        .map(|image| match image {
            ImageRef::Path { path } => match read_path(path, cfg) {
                Ok(b) => Stage::Bytes(b),
                Err(e) => Stage::Done(Box::new(Err(e))),
            },
            ImageRef::Base64 { base64 } => match base64_bytes(base64, &cfg.limits) {
                Ok(b) => Stage::Bytes(b),
                Err(e) => Stage::Done(Box::new(Err(e))),
            },
            ImageRef::Url { .. } => Stage::Fetch,
            ImageRef::Hashes { sha256, pdq } => {
                Stage::Done(Box::new(precomputed(sha256.as_deref(), pdq.as_deref())))
            }
        })
        .collect();

    // 1. Every URL at once, within the deadline.
    let urls: Vec<(usize, &str)> = flat
        .iter()
        .enumerate()
        .filter_map(|(i, image)| match image {
            ImageRef::Url { url } => Some((i, url.as_str())),
            _ => None,
        })
        .collect();
    if !urls.is_empty() {
        let list: Vec<&str> = urls.iter().map(|(_, u)| *u).collect();
        let fetched = fetch_all_with(
            &list,
            &cfg.url_fetch(),
            cfg.request.max_per_host,
            cfg.request.fetch_deadline,
            resolver,
        );
        for ((i, _), result) in urls.iter().zip(fetched) {
            stages[*i] = match result {
                Ok(b) => Stage::Bytes(b),
                Err(e) => Stage::Done(Box::new(Err(e))),
            };
        }
    }

    // 2. The pixel budget, in input order, from the headers.
    let mut used = 0u64;
    for stage in &mut stages {
        if let Stage::Bytes(bytes) = stage {
            match dimensions(bytes, &cfg.limits) {
                Err(e) => *stage = Stage::Done(Box::new(Err(e))),
                Ok((w, h)) => {
                    let pixels = u64::from(w) * u64::from(h);
                    if used.saturating_add(pixels) > cfg.request.max_pixels {
                        *stage = Stage::Done(Box::new(Err(MediaError::RequestPixels {
                            pixels,
                            used,
                            limit: cfg.request.max_pixels,
                        })));
                    } else {
                        used += pixels;
                    }
                }
            }
        }
    }

    // 3. Decode and hash what was admitted.
    let finish = |stage: Stage| match stage {
        Stage::Done(r) => *r,
        Stage::Bytes(bytes) => {
            let facts = hash_bytes(&bytes, &cfg.limits);
            if let (Ok(f), Some(keep)) = (&facts, &cfg.keep)
                && let Some(sha) = &f.sha256
                && let Err(e) =
                    crate::blobs::BlobKey::image(sha).and_then(|key| keep.put_blocking(&key, bytes))
            {
                // The analysis stands; the reviewer is told the file was not kept.
                tracing::warn!(error = %e, "an image that was taken in could not be kept");
            }
            facts
        }
        Stage::Fetch => Err(MediaError::Fetch("the image was not fetched".to_owned())),
    };
    // Fanning out costs more than it gains when at most one image is left to decode (a scan
    // takes each ad in on its own, most with supplied hashes only).
    let to_decode = stages
        .iter()
        .filter(|s| matches!(s, Stage::Bytes(_)))
        .count();
    let results: Vec<Result<ImageFacts, MediaError>> = if to_decode > 1 {
        stages.into_par_iter().map(finish).collect()
    } else {
        stages.into_iter().map(finish).collect()
    };
    let mut results = results.into_iter();
    ads.iter()
        .map(|a| results.by_ref().take(a.len()).collect())
        .collect()
}

/// [`intake_request`] as analyses: per ad, one [`ImageAnalysis`] per image (a failed one with
/// `error` and no hashes) and the bank matches as the policy takes them.
pub fn image_contexts(
    ads: &[&[ImageRef]],
    cfg: &IntakeConfig,
    banks: &BankSet,
    opts: &MatchOptions,
) -> Vec<(Vec<ImageAnalysis>, Vec<samaritan_engine::policy::BankMatch>)> {
    contexts_of(intake_request(ads, cfg), banks, opts)
}

/// The analyses of [`intake_request_with`]'s results (see [`image_contexts`]).
pub fn contexts_of(
    results: Vec<Vec<Result<ImageFacts, MediaError>>>,
    banks: &BankSet,
    opts: &MatchOptions,
) -> Vec<(Vec<ImageAnalysis>, Vec<samaritan_engine::policy::BankMatch>)> {
    results
        .into_iter()
        .map(|ad| {
            let mut out = Vec::with_capacity(ad.len());
            let mut matches = Vec::new();
            for (index, result) in ad.into_iter().enumerate() {
                let (e, found): (ImageAnalysis, Vec<BankMatch>) = entry(index, result, banks, opts);
                out.push(e);
                matches.extend(found.iter().map(|m| policy_match(index, m)));
            }
            (out, matches)
        })
        .collect()
}
