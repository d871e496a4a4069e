//! Images kept for review: the files the service took in, content-addressed by SHA-256 in a
//! directory beside the store, and the pictures a reviewer is shown of them.
//!
//! A reviewer's browser never loads a poster's URL: the console serves what was taken in, from
//! here, re-encoded as PNG (never the posted bytes, which could be a polyglot file), and by
//! default only as a small blurred greyscale rendering. The full picture is a separate, audited
//! request (the console's concern).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, ImageFormat, RgbImage, RgbaImage, imageops};
use samaritan_engine::pdq::PixelFormat;

use crate::decode::{DecodeLimits, decode};
use crate::error::MediaError;

/// A directory of image files named by their SHA-256 (`ab/cd/abcd…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobStore {
    root: PathBuf,
}

fn valid(sha256: &str) -> bool {
    sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    pub fn new(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file of `sha256` lives, or `None` for a value that is not a lowercase SHA-256
    /// (so no caller-chosen text ever becomes a path).
    fn path(&self, sha256: &str) -> Option<PathBuf> {
        valid(sha256).then(|| {
            self.root
                .join(&sha256[..2])
                .join(&sha256[2..4])
                .join(sha256)
        })
    }

    /// Keeps `bytes` under `sha256` (which the caller computed from them). Written to a
    /// temporary file, synced and renamed, so a reader never sees half a file; a file already
    /// there is left as it is.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let Some(path) = self.path(sha256) else {
            return Err(std::io::Error::other("not a SHA-256"));
        };
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{sha256}.{}.tmp", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    }

    /// The kept file of `sha256`, if there is one.
    pub fn get(&self, sha256: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(sha256)?).ok()
    }

    pub fn has(&self, sha256: &str) -> bool {
        self.path(sha256).is_some_and(|p| p.exists())
    }

    /// Removes the file of `sha256` (retention); `Ok(false)` when there was none.
    pub fn remove(&self, sha256: &str) -> std::io::Result<bool> {
        let Some(path) = self.path(sha256) else {
            return Err(std::io::Error::other("not a SHA-256"));
        };
        match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// How a kept image is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Small, blurred beyond recognition, greyscale: shows that there is a picture and its
    /// rough layout, nothing more. `strength` 1 (light) to 3 (heavy).
    Blurred { strength: u8 },
    /// The picture itself, at most 1200 pixels on its long side.
    Full { greyscale: bool },
}

fn image_of(pixels: Vec<u8>, w: u32, h: u32, format: PixelFormat) -> Option<DynamicImage> {
    Some(match format {
        PixelFormat::Luma8 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels)?),
        PixelFormat::Rgb8 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels)?),
        PixelFormat::Rgba8 => DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, pixels)?),
    })
}

/// `bytes` decoded under `limits` and rendered as `view`, as PNG.
pub fn render(bytes: &[u8], limits: &DecodeLimits, view: View) -> Result<Vec<u8>, MediaError> {
    let d = decode(bytes, limits)?;
    let img = image_of(d.pixels, d.width, d.height, d.pixel_format).ok_or_else(|| {
        MediaError::MemoryLimit("the decoded pixels do not match their size".into())
    })?;
    let out = match view {
        View::Blurred { strength } => {
            // Down to a few dozen pixels (the detail is gone for good), then up with a smooth
            // filter and a blur so no blocks hint at shapes.
            let tiny = match strength {
                0 | 1 => 24,
                2 => 14,
                _ => 8,
            };
            let small = img.grayscale().thumbnail(tiny, tiny);
            let (w, h) = (small.width().max(1), small.height().max(1));
            let scale = 240.0 / f64::from(w.max(h));
            let (bw, bh) = (
                ((f64::from(w) * scale) as u32).max(1),
                ((f64::from(h) * scale) as u32).max(1),
            );
            let big = imageops::resize(&small.to_luma8(), bw, bh, imageops::FilterType::Triangle);
            DynamicImage::ImageLuma8(imageops::blur(&big, 6.0))
        }
        View::Full { greyscale } => {
            let img = if img.width().max(img.height()) > 1200 {
                img.thumbnail(1200, 1200)
            } else {
                img
            };
            if greyscale { img.grayscale() } else { img }
        }
    };
    let mut png = Vec::new();
    out.write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| MediaError::MemoryLimit(format!("cannot encode the rendering: {e}")))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha256_names_become_paths() {
        let b = BlobStore::new("/tmp/x");
        assert!(b.path(&"a".repeat(64)).is_some());
        for bad in [
            "../../etc/passwd",
            "",
            &"A".repeat(64),
            &"a".repeat(63),
            "ab/../cd",
        ] {
            assert!(b.path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn put_is_atomic_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let b = BlobStore::new(dir.path());
        let sha = "ab".repeat(32);
        b.put(&sha, b"one").unwrap();
        b.put(&sha, b"two").unwrap();
        assert_eq!(b.get(&sha).unwrap(), b"one");
        assert!(b.has(&sha));
        assert!(!b.has(&"cd".repeat(32)));
        let leftovers = std::fs::read_dir(dir.path().join("ab/ab")).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
