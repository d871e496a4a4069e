//! Hostile and broken input: every case is a clear error, never a panic, never a huge allocation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::PathBuf;

use proptest::prelude::*;
use samaritan_media::{DecodeLimits, MediaError, decode, hash_bytes};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG that declares `w` x `h` pixels and carries one tiny compressed row.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut chunk = |kind: &[u8], body: &[u8]| {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(body);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

fn gif_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&w.to_le_bytes());
    g.extend_from_slice(&h.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    g.extend_from_slice(&[0x2C, 0, 0, 0, 0]);
    g.extend_from_slice(&w.to_le_bytes());
    g.extend_from_slice(&h.to_le_bytes());
    g.extend_from_slice(&[0, 2, 2, 0x4C, 0x01, 0, 0x3B]);
    g
}

#[test]
fn dimension_bombs_are_refused_before_allocation() {
    let e = decode(&png_declaring(100_000, 100_000), &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(e, MediaError::TooLarge { .. } | MediaError::MemoryLimit(_)),
        "{e}"
    );
    let e = decode(&png_declaring(16_000, 16_000), &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(
            e,
            MediaError::TooManyPixels {
                pixels: 256_000_000,
                ..
            }
        ),
        "{e}"
    );
    let e = decode(&gif_declaring(65_535, 65_535), &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(e, MediaError::TooLarge { .. } | MediaError::MemoryLimit(_)),
        "{e}"
    );
}

#[test]
fn a_real_decompression_bomb_hits_the_pixel_and_memory_limits() {
    // 3000 x 3000 black: 9 MB of pixels in a few kilobytes of PNG.
    let img = image::GrayImage::new(3000, 3000);
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert!(png.len() < 100_000, "{}", png.len());
    let small = DecodeLimits {
        max_pixels: 1_000_000,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode(&png, &small),
        Err(MediaError::TooManyPixels { .. })
    ));
    let tight = DecodeLimits {
        max_alloc: 1 << 20,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode(&png, &tight),
        Err(MediaError::MemoryLimit(_))
    ));
    assert!(decode(&png, &DecodeLimits::default()).is_ok());
}

#[test]
fn byte_limit_is_checked_first() {
    let limits = DecodeLimits {
        max_bytes: 100,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode(&data("wee.jpg"), &limits),
        Err(MediaError::TooManyBytes { limit: 100, .. })
    ));
}

#[test]
fn truncated_files_are_errors_not_grey_images() {
    let jpg = data("wee.jpg");
    for cut in [jpg.len() / 2, jpg.len() - 2, 200] {
        let e = hash_bytes(&jpg[..cut], &DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(e, MediaError::Truncated(_) | MediaError::Decode(_)),
            "cut {cut}: {e}"
        );
    }
    let png = data("modes/rgb.png");
    let e = hash_bytes(&png[..png.len() / 2], &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(e, MediaError::Truncated(_) | MediaError::Decode(_)),
        "{e}"
    );
    let webp = data("modes/rgb.webp");
    assert!(hash_bytes(&webp[..webp.len() / 2], &DecodeLimits::default()).is_err());
    let gif = data("modes/pa.gif");
    assert!(hash_bytes(&gif[..gif.len() / 2], &DecodeLimits::default()).is_err());
}

#[test]
fn things_that_are_not_images() {
    let limits = DecodeLimits::default();
    for (bytes, what) in [
        (Vec::new(), "empty"),
        (b"<html><body>not an image</body></html>".to_vec(), "html"),
        (b"BM\x3e\0\0\0\0\0\0\0\x36\0\0\0".to_vec(), "bmp"),
        (b"II*\0\x08\0\0\0".to_vec(), "tiff"),
        (vec![0xFF, 0xD8, 0xFF], "jpeg magic only"),
        (b"\x89PNG\r\n\x1a\n".to_vec(), "png magic only"),
        (b"RIFF\x10\0\0\0WEBPVP8 ".to_vec(), "webp magic only"),
    ] {
        let e = decode(&bytes, &limits).unwrap_err();
        println!("{what}: {e}");
        assert!(!e.to_string().is_empty());
    }
    assert!(matches!(
        decode(b"hello", &limits),
        Err(MediaError::UnknownFormat)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random corruption of valid files of every format: an error or a hash, never a panic.
    #[test]
    fn corrupted_files_never_panic(
        which in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let name = ["wee.jpg", "modes/rgb.png", "modes/rgb.webp", "modes/pa.gif", "modes/cmyk.jpg"][which];
        let mut bytes = data(name);
        for (i, v) in edits {
            let i = i.index(bytes.len());
            bytes[i] = v;
        }
        let keep = bytes.len() / 2 + cut.index(bytes.len() / 2 + 1);
        bytes.truncate(keep);
        let _ = hash_bytes(&bytes, &DecodeLimits::default());
    }
}
