//! Images kept for review: the pictures a reviewer is shown of the files the service took in
//! (which [`crate::blobs`] keeps, content-addressed by SHA-256).
//!
//! A reviewer's browser never loads a poster's URL: the console serves what was taken in, from
//! here, re-encoded as PNG (never the posted bytes, which could be a polyglot file), and by
//! default only as a small blurred greyscale rendering. The full picture is a separate, audited
//! request (the console's concern).

use image::{DynamicImage, GrayImage, ImageFormat, RgbImage, RgbaImage, imageops};
use samaritan_engine::pdq::PixelFormat;

use crate::decode::{DecodeLimits, decode};
use crate::error::MediaError;

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
