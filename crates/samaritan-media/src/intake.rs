//! From an ad's `images` entry to the facts the engine needs: file hashes and the PDQ hash.
//!
//! [`intake`] is what the scan pipeline calls, once per image; its errors are per image, and
//! [`analyse_images`] turns a whole ad's list into the `images` part of the analysis and the
//! bank matches, recording a failed image as an error entry and going on with the others.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use samaritan_engine::model::{ImageAnalysis, ImageRef};
use samaritan_engine::pdq::{BankMatch, BankSet, MatchOptions, PdqHash, PdqHasher, PdqOutput};

use crate::decode::{DecodeLimits, decode};
use crate::digest::{md5_hex, sha256_hex};
use crate::error::MediaError;
use crate::fetch::{FetchConfig, fetch};
use crate::request::RequestLimits;

/// How images are taken in.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    pub limits: DecodeLimits,
    pub fetch: FetchConfig,
    /// Accept `{path}` images (default true, for the CLI). A network-facing service must set
    /// this to false or confine paths with `root`: an ad must not read the server's files.
    pub allow_paths: bool,
    /// When set, `{path}` images must resolve to a file under this directory; relative paths
    /// are taken relative to it.
    pub root: Option<PathBuf>,
    /// When not empty, a `{path}` image is read only if its canonical path (symbolic links and
    /// `..` resolved) lies inside one of these directories, which must themselves be canonical
    /// ([`std::fs::canonicalize`]); relative paths are taken from the working directory (or
    /// `root`). Empty: no such confinement.
    pub allowed_dirs: Vec<PathBuf>,
    /// Bounds on all the images of one request together ([`crate::request`]).
    pub request: RequestLimits,
    /// Keep every file that decoded, by its SHA-256, for review ([`crate::blobs`]). `None` (the
    /// default): nothing is kept.
    pub keep: Option<crate::blobs::BlobStore>,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            limits: DecodeLimits::default(),
            fetch: FetchConfig::default(),
            allow_paths: true,
            root: None,
            allowed_dirs: Vec::new(),
            request: RequestLimits::default(),
            keep: None,
        }
    }
}

/// What is known about one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFacts {
    /// Hex SHA-256 of the file bytes (or as given, for precomputed hashes).
    pub sha256: Option<String>,
    /// Hex MD5 of the file bytes (absent for precomputed hashes).
    pub md5: Option<String>,
    pub pdq: Option<PdqHash>,
    /// PDQ quality 0..=100 (absent for precomputed hashes).
    pub quality: Option<u8>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// `jpeg`, `png`, `webp` or `gif`.
    pub format: Option<&'static str>,
    /// The full PDQ result (DCT block included) for matching all 8 orientations; absent for
    /// precomputed hashes, which are matched in their own orientation only.
    pub pdq_output: Option<PdqOutput>,
}

impl ImageFacts {
    /// Matches this image against every bank.
    pub fn match_banks(&self, banks: &BankSet, opts: &MatchOptions) -> Vec<BankMatch> {
        match (&self.pdq_output, &self.pdq) {
            (Some(out), _) => banks.match_output(out, opts),
            (None, Some(h)) => banks.match_hash(h, self.quality, opts),
            (None, None) => Vec::new(),
        }
    }
}

/// Takes in one image: reads, fetches or decodes it, hashes the bytes and the pixels.
pub fn intake(image: &ImageRef, cfg: &IntakeConfig) -> Result<ImageFacts, MediaError> {
    match image {
        ImageRef::Path { path } => {
            let bytes = read_path(path, cfg)?;
            hash_bytes(&bytes, &cfg.limits)
        }
        ImageRef::Base64 { base64 } => {
            let bytes = base64_bytes(base64, &cfg.limits)?;
            hash_bytes(&bytes, &cfg.limits)
        }
        ImageRef::Url { url } => {
            let bytes = fetch(url, &cfg.url_fetch())?;
            hash_bytes(&bytes, &cfg.limits)
        }
        ImageRef::Hashes { sha256, pdq } => precomputed(sha256.as_deref(), pdq.as_deref()),
    }
}

/// The bytes of an inline `base64` image (plain or a `data:` URL), refused past the byte limit
/// before decoding.
pub(crate) fn base64_bytes(base64: &str, limits: &DecodeLimits) -> Result<Vec<u8>, MediaError> {
    // Base64 is 4/3 of the bytes: refuse oversize input before decoding it.
    let approx = (base64.len() as u64 / 4) * 3;
    if approx > limits.max_bytes + 3 {
        return Err(MediaError::TooManyBytes {
            got: approx,
            limit: limits.max_bytes,
        });
    }
    let text = base64.trim();
    let text = text
        .split_once(";base64,")
        .filter(|(p, _)| p.starts_with("data:"))
        .map_or(text, |(_, data)| data);
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| MediaError::Base64(e.to_string()))
}

impl IntakeConfig {
    /// The fetch settings for image URLs: never more bytes than the decoder takes.
    pub(crate) fn url_fetch(&self) -> FetchConfig {
        let mut fetch_cfg = self.fetch.clone();
        fetch_cfg.max_bytes = fetch_cfg.max_bytes.min(self.limits.max_bytes);
        fetch_cfg
    }
}

/// Hashes image bytes: SHA-256 and MD5 of the bytes, then PDQ of the decoded pixels.
pub fn hash_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<ImageFacts, MediaError> {
    let decoded = decode(bytes, limits)?;
    let out = PdqHasher::new().hash(
        &decoded.pixels,
        decoded.width as usize,
        decoded.height as usize,
        decoded.pixel_format,
    )?;
    Ok(ImageFacts {
        sha256: Some(sha256_hex(bytes)),
        md5: Some(md5_hex(bytes)),
        pdq: Some(out.hash),
        quality: Some(out.quality),
        width: Some(decoded.width),
        height: Some(decoded.height),
        format: Some(decoded.format),
        pdq_output: Some(out),
    })
}

pub(crate) fn read_path(path: &str, cfg: &IntakeConfig) -> Result<Vec<u8>, MediaError> {
    if !cfg.allow_paths {
        return Err(MediaError::PathsDisabled);
    }
    let read_err = |source| MediaError::Read {
        path: path.to_owned(),
        source,
    };
    let full: PathBuf = match &cfg.root {
        Some(root) => {
            let root = root.canonicalize().map_err(read_err)?;
            let full = root.join(path).canonicalize().map_err(read_err)?;
            if !full.starts_with(&root) {
                return Err(MediaError::PathOutsideRoot(path.to_owned()));
            }
            full
        }
        None => Path::new(path).to_path_buf(),
    };
    let full = if cfg.allowed_dirs.is_empty() {
        full
    } else {
        confine(path, &full, &cfg.allowed_dirs)?
    };
    let meta = std::fs::metadata(&full).map_err(read_err)?;
    if !meta.is_file() {
        return Err(read_err(std::io::Error::other("not a regular file")));
    }
    if meta.len() > cfg.limits.max_bytes {
        return Err(MediaError::TooManyBytes {
            got: meta.len(),
            limit: cfg.limits.max_bytes,
        });
    }
    // Read at most limit + 1 bytes: a file that grows after the check is still bounded.
    use std::io::Read;
    let file = std::fs::File::open(&full).map_err(read_err)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cfg.limits.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > cfg.limits.max_bytes {
        return Err(MediaError::TooManyBytes {
            got: bytes.len() as u64,
            limit: cfg.limits.max_bytes,
        });
    }
    Ok(bytes)
}

/// The canonical form of `full` when it lies inside one of `allowed` (canonical directories).
/// A path that cannot be resolved is reported as a read error only when it names a place
/// inside an allowed directory, so that an ad cannot learn which files exist elsewhere.
fn confine(path: &str, full: &Path, allowed: &[PathBuf]) -> Result<PathBuf, MediaError> {
    let inside = |p: &Path| allowed.iter().any(|d| p.starts_with(d));
    match full.canonicalize() {
        Ok(canonical) if inside(&canonical) => Ok(canonical),
        Ok(_) => Err(MediaError::PathNotAllowed(path.to_owned())),
        Err(source) => {
            let absolute = std::path::absolute(full).unwrap_or_else(|_| full.to_path_buf());
            let lexically_inside = inside(&absolute)
                && !absolute
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir));
            if lexically_inside {
                Err(MediaError::Read {
                    path: path.to_owned(),
                    source,
                })
            } else {
                Err(MediaError::PathNotAllowed(path.to_owned()))
            }
        }
    }
}

pub(crate) fn precomputed(
    sha256: Option<&str>,
    pdq: Option<&str>,
) -> Result<ImageFacts, MediaError> {
    if sha256.is_none() && pdq.is_none() {
        return Err(MediaError::BadHashes {
            field: "sha256",
            reason: "an image needs `sha256` or `pdq` when it has no path, url or base64"
                .to_owned(),
        });
    }
    let sha256 = match sha256 {
        Some(s) => {
            let s = s.trim();
            if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(MediaError::BadHashes {
                    field: "sha256",
                    reason: "must be 64 hex digits".to_owned(),
                });
            }
            Some(s.to_ascii_lowercase())
        }
        None => None,
    };
    let pdq = match pdq {
        Some(p) => Some(
            PdqHash::from_hex(p.trim()).map_err(|e| MediaError::BadHashes {
                field: "pdq",
                reason: e.to_string(),
            })?,
        ),
        None => None,
    };
    Ok(ImageFacts {
        sha256,
        md5: None,
        pdq,
        quality: None,
        width: None,
        height: None,
        format: None,
        pdq_output: None,
    })
}

/// Takes in every image of an ad and matches each against the banks.
///
/// Returns one [`ImageAnalysis`] per input image, in order (a failed image carries `error` and
/// no hashes), and the bank matches as `(image index, match)`.
pub fn analyse_images(
    images: &[ImageRef],
    cfg: &IntakeConfig,
    banks: &BankSet,
    opts: &MatchOptions,
) -> (Vec<ImageAnalysis>, Vec<(usize, BankMatch)>) {
    let mut out = Vec::with_capacity(images.len());
    let mut matches = Vec::new();
    for (index, image) in images.iter().enumerate() {
        let (entry, found) = entry(index, intake(image, cfg), banks, opts);
        out.push(entry);
        matches.extend(found.into_iter().map(|m| (index, m)));
    }
    (out, matches)
}

/// One image's entry in the analysis and its bank matches: hashes when taken in, else `error`
/// and no hashes.
pub(crate) fn entry(
    index: usize,
    result: Result<ImageFacts, MediaError>,
    banks: &BankSet,
    opts: &MatchOptions,
) -> (ImageAnalysis, Vec<BankMatch>) {
    match result {
        Ok(facts) => {
            let matches = facts.match_banks(banks, opts);
            (
                ImageAnalysis {
                    index,
                    sha256: facts.sha256,
                    md5: facts.md5,
                    pdq: facts.pdq.map(|h| h.to_hex()),
                    quality: facts.quality,
                    width: facts.width,
                    height: facts.height,
                    error: None,
                },
                matches,
            )
        }
        Err(e) => {
            tracing::debug!(index, code = e.code(), "image intake failed");
            (
                ImageAnalysis {
                    index,
                    error: Some(e.to_string()),
                    ..ImageAnalysis::default()
                },
                Vec::new(),
            )
        }
    }
}
