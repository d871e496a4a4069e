//! Why an image could not be taken in. One bad image never fails the ad: callers record the
//! error against that image and go on.

use std::net::IpAddr;

/// A per-image failure, worded for the reviewer or engineer who reads it.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("image is {got} bytes; the limit is {limit}")]
    TooManyBytes { got: u64, limit: u64 },
    #[error("image is {width}x{height}; the limit is {max_width}x{max_height}")]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    #[error("image has {pixels} pixels ({width}x{height}); the limit is {limit}")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("not a supported image (JPEG, PNG, WebP or GIF)")]
    UnknownFormat,
    #[error("image could not be decoded: {0}")]
    Decode(String),
    #[error("image is truncated: {0}")]
    Truncated(String),
    #[error("image needs more memory to decode than the limit allows: {0}")]
    MemoryLimit(String),
    #[error("cannot read image file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("image paths are not accepted here")]
    PathsDisabled,
    #[error("image path {0} is outside the allowed directory")]
    PathOutsideRoot(String),
    #[error(
        "image path {0} is not inside a directory allowed for image files (--allow-paths); not read"
    )]
    PathNotAllowed(String),
    #[error("`base64` is not valid base64: {0}")]
    Base64(String),
    #[error("`{field}` is not valid: {reason}")]
    BadHashes { field: &'static str, reason: String },
    #[error("image URL is not acceptable: {0}")]
    BadUrl(String),
    #[error("refused to fetch {host}: it resolves to {addr}, a {kind} address")]
    ForbiddenAddress {
        host: String,
        addr: IpAddr,
        kind: &'static str,
    },
    #[error("image URLs are not fetched here (fetching is off unless --fetch-images)")]
    UrlsDisabled,
    #[error("fetching the image failed: {0}")]
    Fetch(String),
    #[error("fetching the image timed out: {0}")]
    Timeout(String),
    #[error("not fetched: the request's image URLs must all be fetched within {secs} s")]
    Deadline { secs: f64 },
    #[error(
        "image has {pixels} pixels; with the {used} pixels of the request's earlier images that \
         is over the limit of {limit} decoded pixels per request"
    )]
    RequestPixels { pixels: u64, used: u64, limit: u64 },
    #[error("server answered HTTP {0}")]
    HttpStatus(u16),
    #[error("server sent content type {0:?}, not an image")]
    ContentType(String),
    #[error("image hashing failed: {0}")]
    Hash(#[from] samaritan_engine::pdq::PdqError),
}

impl MediaError {
    /// A short stable code for metrics and JSON (`too_large`, `forbidden_address`, …).
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::TooManyBytes { .. } => "too_many_bytes",
            MediaError::TooLarge { .. } => "too_large",
            MediaError::TooManyPixels { .. } => "too_many_pixels",
            MediaError::UnknownFormat => "unknown_format",
            MediaError::Decode(_) => "decode",
            MediaError::Truncated(_) => "truncated",
            MediaError::MemoryLimit(_) => "memory_limit",
            MediaError::Read { .. } => "read",
            MediaError::PathsDisabled => "paths_disabled",
            MediaError::PathOutsideRoot(_) => "path_outside_root",
            MediaError::PathNotAllowed(_) => "path_not_allowed",
            MediaError::Base64(_) => "base64",
            MediaError::BadHashes { .. } => "bad_hashes",
            MediaError::BadUrl(_) => "bad_url",
            MediaError::ForbiddenAddress { .. } => "forbidden_address",
            MediaError::UrlsDisabled => "urls_disabled",
            MediaError::Fetch(_) => "fetch",
            MediaError::Timeout(_) => "timeout",
            MediaError::Deadline { .. } => "fetch_deadline",
            MediaError::RequestPixels { .. } => "request_pixels",
            MediaError::HttpStatus(_) => "http_status",
            MediaError::ContentType(_) => "content_type",
            MediaError::Hash(_) => "hash",
        }
    }
}
