//! Decoding image bytes to pixels PDQ can hash, within limits, with every colour mode converted.
//!
//! Order matters for safety: the byte count is checked before anything else, the declared
//! dimensions are read from the header and checked before the pixel buffer is allocated, and the
//! decoder itself runs under `image`'s allocation limit, so a 100-byte PNG that declares
//! 100,000 x 100,000 pixels is refused without allocating. Truncated files are errors, never a
//! half-grey image hashed as if it were whole.
//!
//! Colour policy (see the pitfalls in `ARCHITECTURE.md`): grey images (1-bit, 8-bit, 16-bit,
//! with or without alpha) hash their grey value directly, as the reference does; 16-bit samples
//! are scaled to 8 bits (`image`'s rounding `v / 257`), never clipped; CMYK JPEGs are converted
//! to RGB by the decoder; palette images are expanded; alpha is ignored (not composited), as in
//! the reference. EXIF orientation is not applied: the reference ignores it and dihedral
//! matching covers rotated copies.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use samaritan_engine::pdq::PixelFormat;

use crate::error::MediaError;

/// Limits applied to every image before and while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest encoded file, in bytes (default 32 MiB).
    pub max_bytes: u64,
    /// Largest width and height, in pixels (default 16,384 each).
    pub max_width: u32,
    pub max_height: u32,
    /// Largest `width * height` (default 50 million: a 48 MP phone photo fits).
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes (default 512 MiB).
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 32 << 20,
            max_width: 16_384,
            max_height: 16_384,
            max_pixels: 50_000_000,
            max_alloc: 512 << 20,
        }
    }
}

/// Pixels ready for hashing.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    /// `jpeg`, `png`, `webp` or `gif`.
    pub format: &'static str,
    /// The colour type stored in the file, e.g. `Rgb8`, `Cmyk8`, `L16`, `La8`, `Rgba8`.
    pub color: String,
    pub pixel_format: PixelFormat,
    pub pixels: Vec<u8>,
}

/// Decodes `bytes` (JPEG, PNG, WebP or GIF; the first frame of an animation).
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Decoded, MediaError> {
    let len = bytes.len() as u64;
    if len > limits.max_bytes {
        return Err(MediaError::TooManyBytes {
            got: len,
            limit: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| MediaError::UnknownFormat)?;
    let name = match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        ImageFormat::Gif => "gif",
        _ => return Err(MediaError::UnknownFormat),
    };
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes)?;
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);
    let decoder = reader.into_decoder().map_err(map_error)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    // The decoded buffer, plus the 8-bit copy a conversion may need, must fit the allocation
    // limit; checked here because not every decoder enforces `max_alloc` itself.
    let needed = decoder
        .total_bytes()
        .saturating_add(u64::from(width) * u64::from(height) * 3);
    if needed > limits.max_alloc {
        return Err(MediaError::MemoryLimit(format!(
            "{width}x{height} {:?} needs about {needed} bytes; the limit is {}",
            decoder.color_type(),
            limits.max_alloc
        )));
    }
    let color = format!("{:?}", decoder.original_color_type());
    let image = DynamicImage::from_decoder(decoder).map_err(map_error)?;
    let (pixel_format, pixels) = to_hashable(image);
    Ok(Decoded {
        width,
        height,
        format: name,
        color,
        pixel_format,
        pixels,
    })
}

/// The width and height `bytes` declare, read from the header only (no pixels decoded), checked
/// against the per-image limits.
pub fn dimensions(bytes: &[u8], limits: &DecodeLimits) -> Result<(u32, u32), MediaError> {
    let len = bytes.len() as u64;
    if len > limits.max_bytes {
        return Err(MediaError::TooManyBytes {
            got: len,
            limit: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| MediaError::UnknownFormat)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
    ) {
        return Err(MediaError::UnknownFormat);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);
    let decoder = reader.into_decoder().map_err(map_error)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    Ok((width, height))
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), MediaError> {
    if width > limits.max_width || height > limits.max_height {
        return Err(MediaError::TooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// A JPEG without its end-of-image marker after its last scan was cut short; the decoder would
/// fill the missing part with grey and hash it. (The marker is looked for after the last
/// start-of-scan, because an EXIF thumbnail earlier in the file has its own; entropy-coded data
/// cannot contain either marker.) Trailing bytes after the marker are common and allowed.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), MediaError> {
    let last_scan = bytes
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .unwrap_or(0);
    if bytes[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(MediaError::Truncated(
            "JPEG has no end-of-image marker".to_owned(),
        ))
    }
}

fn map_error(e: ImageError) -> MediaError {
    match e {
        ImageError::Limits(l) => MediaError::MemoryLimit(l.to_string()),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated(io.to_string())
        }
        ImageError::Unsupported(u) => MediaError::Decode(u.to_string()),
        other => {
            let msg = other.to_string();
            let lower = msg.to_ascii_lowercase();
            if lower.contains("eof") || lower.contains("end of") || lower.contains("truncat") {
                MediaError::Truncated(msg)
            } else {
                MediaError::Decode(msg)
            }
        }
    }
}

/// Converts any decoded image to grey or RGB(A) bytes under the colour policy above.
fn to_hashable(image: DynamicImage) -> (PixelFormat, Vec<u8>) {
    match image {
        DynamicImage::ImageLuma8(buf) => (PixelFormat::Luma8, buf.into_raw()),
        DynamicImage::ImageLumaA8(buf) => (
            PixelFormat::Luma8,
            buf.into_raw().chunks_exact(2).map(|p| p[0]).collect(),
        ),
        img @ (DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_)) => {
            (PixelFormat::Luma8, img.to_luma8().into_raw())
        }
        DynamicImage::ImageRgb8(buf) => (PixelFormat::Rgb8, buf.into_raw()),
        DynamicImage::ImageRgba8(buf) => (PixelFormat::Rgba8, buf.into_raw()),
        other => (PixelFormat::Rgb8, other.to_rgb8().into_raw()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_end_marker_check() {
        assert!(check_jpeg_complete(&[0xFF, 0xD8, 1, 2, 0xFF, 0xD9]).is_ok());
        assert!(check_jpeg_complete(&[0xFF, 0xD8, 0xFF, 0xD9, 0, 0, 0]).is_ok());
        // A thumbnail's end marker before the main scan does not make a cut file whole.
        assert!(check_jpeg_complete(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2]).is_err());
        assert!(check_jpeg_complete(&[0xFF, 0xDA, 1, 0xFF, 0xD9]).is_ok());
        assert!(matches!(
            check_jpeg_complete(&[0xFF, 0xD8, 1, 2, 3]),
            Err(MediaError::Truncated(_))
        ));
    }
}
