//! PDQ on a decoded pixel buffer: luminance, tent-filter downsample, quality, DCT, median bits.
//!
//! This is our own implementation of the published PDQ algorithm (Facebook 2019; BSD reference
//! in facebook/ThreatExchange `pdq/cpp`), bit-exact with it on the same pixels: luminance
//! `0.299R + 0.587G + 0.114B` in float (a grey image uses its value), the Jarosz filter (see
//! [`super::jarosz`]), decimation to 64x64 at pixel centres, the integer gradient quality, the
//! 16x16 DCT block and one bit per coefficient: greater than the median (the 128th smallest) or
//! not. Images under 5 pixels on a side hash to zero with quality 0, as in the reference.

use super::dct::DctMatrix;
use super::dihedral::Dihedral;
use super::hash::PdqHash;
use super::jarosz::{ColumnBox, box_1d, box_1d_sampled, window_size};

/// Smallest width and height the reference hashes; smaller images give the zero hash.
pub const MIN_HASHABLE_DIM: usize = 5;

/// Layout of the bytes handed to the hasher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// One byte per pixel, grey.
    Luma8,
    /// Three bytes per pixel, R G B.
    Rgb8,
    /// Four bytes per pixel, R G B A; alpha is ignored, as in the reference.
    Rgba8,
}

impl PixelFormat {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Luma8 => 1,
            PixelFormat::Rgb8 => 3,
            PixelFormat::Rgba8 => 4,
        }
    }
}

/// Why a buffer cannot be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdqError {
    #[error("pixel buffer has {got} bytes; {width}x{height} {format:?} needs {expected}")]
    BufferSize {
        width: usize,
        height: usize,
        format: PixelFormat,
        expected: usize,
        got: usize,
    },
    #[error("image dimensions {width}x{height} overflow the address space")]
    Overflow { width: usize, height: usize },
}

/// The hash of one image, with what is needed to derive the other seven orientations.
#[derive(Debug, Clone, PartialEq)]
pub struct PdqOutput {
    pub hash: PdqHash,
    /// The reference's integer quality, 0..=100. Below 50, matches are not trusted.
    pub quality: u8,
    /// The 16x16 DCT block before thresholding (PDQF).
    pub coefficients: [[f32; 16]; 16],
}

impl PdqOutput {
    /// The hash of the image transformed by `d`, derived from the DCT block.
    pub fn hash_for(&self, d: Dihedral) -> PdqHash {
        match d {
            Dihedral::Original => self.hash,
            _ => bits_from_block(&d.apply(&self.coefficients)),
        }
    }

    /// All eight dihedral hashes, in [`Dihedral::ALL`] order.
    pub fn dihedral_hashes(&self) -> [(Dihedral, PdqHash); 8] {
        Dihedral::ALL.map(|d| (d, self.hash_for(d)))
    }
}

/// Hashes images. Holds the DCT basis and scratch space, so reuse one per thread.
pub struct PdqHasher {
    dct: DctMatrix,
    x1_row: Vec<f32>,
}

impl Default for PdqHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PdqHasher {
    pub fn new() -> Self {
        PdqHasher {
            dct: DctMatrix::new(),
            x1_row: Vec::new(),
        }
    }

    /// Hashes `pixels`, laid out row-major without padding as `format`.
    pub fn hash(
        &mut self,
        pixels: &[u8],
        width: usize,
        height: usize,
        format: PixelFormat,
    ) -> Result<PdqOutput, PdqError> {
        let expected = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(format.bytes_per_pixel()))
            .ok_or(PdqError::Overflow { width, height })?;
        if pixels.len() != expected {
            return Err(PdqError::BufferSize {
                width,
                height,
                format,
                expected,
                got: pixels.len(),
            });
        }
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return Ok(PdqOutput {
                hash: PdqHash::ZERO,
                quality: 0,
                coefficients: [[0.0; 16]; 16],
            });
        }
        let a = self.downsample(pixels, width, height, format);
        let quality = quality(&a);
        let coefficients = self.dct.transform(&a);
        Ok(PdqOutput {
            hash: bits_from_block(&coefficients),
            quality,
            coefficients,
        })
    }

    /// Hashes a float luminance plane (row-major, `width * height` values) exactly as the
    /// reference's `pdqHash256FromFloatLuma`. For callers that compute luminance themselves.
    pub fn hash_luma_f32(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
    ) -> Result<PdqOutput, PdqError> {
        let expected = width
            .checked_mul(height)
            .ok_or(PdqError::Overflow { width, height })?;
        if luma.len() != expected {
            return Err(PdqError::BufferSize {
                width,
                height,
                format: PixelFormat::Luma8,
                expected,
                got: luma.len(),
            });
        }
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return Ok(PdqOutput {
                hash: PdqHash::ZERO,
                quality: 0,
                coefficients: [[0.0; 16]; 16],
            });
        }
        let a = downsample_rows(
            width,
            height,
            |r, row| row.copy_from_slice(&luma[r * width..(r + 1) * width]),
            &mut self.x1_row,
        );
        let quality = quality(&a);
        let coefficients = self.dct.transform(&a);
        Ok(PdqOutput {
            hash: bits_from_block(&coefficients),
            quality,
            coefficients,
        })
    }

    fn downsample(
        &mut self,
        pixels: &[u8],
        width: usize,
        height: usize,
        format: PixelFormat,
    ) -> Box<[[f32; 64]; 64]> {
        let bpp = format.bytes_per_pixel();
        let stride = width * bpp;
        let fill = |r: usize, row: &mut [f32]| {
            let src = &pixels[r * stride..(r + 1) * stride];
            match format {
                PixelFormat::Luma8 => {
                    for (y, &v) in row.iter_mut().zip(src) {
                        *y = f32::from(v);
                    }
                }
                PixelFormat::Rgb8 | PixelFormat::Rgba8 => {
                    for (y, p) in row.iter_mut().zip(src.chunks_exact(bpp)) {
                        *y = luma(p[0], p[1], p[2]);
                    }
                }
            }
        };
        downsample_rows(width, height, fill, &mut self.x1_row)
    }
}

/// Luminance of one pixel, in the reference's float arithmetic and order.
#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> f32 {
    const R: f32 = 0.299;
    const G: f32 = 0.587;
    const B: f32 = 0.114;
    R * f32::from(r) + G * f32::from(g) + B * f32::from(b)
}

/// Blur and decimate to 64x64. `fill(r, row)` writes luminance row `r` into `row`.
fn downsample_rows(
    width: usize,
    height: usize,
    mut fill: impl FnMut(usize, &mut [f32]),
    scratch: &mut Vec<f32>,
) -> Box<[[f32; 64]; 64]> {
    let mut a = Box::new([[0.0f32; 64]; 64]);
    let mut row = vec![0.0f32; width];
    if width == 64 && height == 64 {
        // The reference skips the blur when the input is already 64x64 (video frames).
        for (r, dst) in a.iter_mut().enumerate() {
            fill(r, &mut row);
            dst.copy_from_slice(&row);
        }
        return a;
    }
    let w_along_rows = window_size(width, 64);
    let w_along_cols = window_size(height, 64);
    let cols: [usize; 64] = std::array::from_fn(|j| sample_index(j, width));
    let rows: [usize; 64] = std::array::from_fn(|i| sample_index(i, height));

    scratch.resize(width, 0.0);
    let mut col1 = ColumnBox::new(width, height, w_along_cols);
    let mut col2 = ColumnBox::new(64, height, w_along_cols);
    let mut x2 = [0.0f32; 64];
    let mut next_row = 0usize;

    // Second column pass output: keep the sampled rows only.
    let mut keep = |r: usize, y2: &[f32]| {
        while next_row < 64 && rows[next_row] == r {
            a[next_row].copy_from_slice(y2);
            next_row += 1;
        }
    };
    // First column pass output: second row pass at the sampled columns, into the second
    // column pass.
    let mut second = |_: usize, y1: &[f32]| {
        box_1d_sampled(y1, w_along_rows, |k, v| x2[k] = v, Some(&cols));
        col2.push(&x2, &mut keep);
    };
    for r in 0..height {
        fill(r, &mut row);
        box_1d(&row, scratch, w_along_rows);
        col1.push(scratch, &mut second);
    }
    col1.finish(&mut second);
    col2.finish(&mut keep);
    a
}

/// `floor((i + 0.5) * n / 64)`, computed in double as the reference does.
fn sample_index(i: usize, n: usize) -> usize {
    let x = ((i as f64 + 0.5) * n as f64) / 64.0;
    (x as usize).min(n.saturating_sub(1))
}

/// The reference's image-domain quality: the sum of quantised gradients, scaled and capped.
pub fn quality(a: &[[f32; 64]; 64]) -> u8 {
    let mut sum: i64 = 0;
    for (upper, lower) in a.iter().zip(a.iter().skip(1)) {
        for (&u, &v) in upper.iter().zip(lower.iter()) {
            let d = ((u - v) * 100.0) / 255.0;
            sum += i64::from((d as i32).abs());
        }
    }
    for row in a.iter() {
        for j in 0..63 {
            let d = ((row[j] - row[j + 1]) * 100.0) / 255.0;
            sum += i64::from((d as i32).abs());
        }
    }
    (sum / 90).min(100) as u8
}

/// One bit per coefficient: strictly greater than the median (the 128th smallest value).
pub fn bits_from_block(b: &[[f32; 16]; 16]) -> PdqHash {
    let mut flat = [0.0f32; 256];
    for (i, row) in b.iter().enumerate() {
        flat[i * 16..i * 16 + 16].copy_from_slice(row);
    }
    let mut sorted = flat;
    let (_, median, _) = sorted.select_nth_unstable_by(127, f32::total_cmp);
    let median = *median;
    let mut hash = PdqHash::ZERO;
    for (k, &v) in flat.iter().enumerate() {
        if v > median {
            hash.set_bit(k);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference's schedule with full buffers: rows, columns (striding), twice; decimate.
    fn naive(luma: &[f32], w: usize, h: usize) -> [[f32; 64]; 64] {
        let wr = window_size(w, 64);
        let wc = window_size(h, 64);
        let mut b1 = luma.to_vec();
        let mut b2 = vec![0.0f32; w * h];
        for _ in 0..2 {
            for r in 0..h {
                box_1d(&b1[r * w..(r + 1) * w], &mut b2[r * w..(r + 1) * w], wr);
            }
            for c in 0..w {
                let col: Vec<f32> = (0..h).map(|r| b2[r * w + c]).collect();
                let mut out = vec![0.0; h];
                box_1d(&col, &mut out, wc);
                for r in 0..h {
                    b1[r * w + c] = out[r];
                }
            }
        }
        let mut a = [[0.0f32; 64]; 64];
        for (i, row) in a.iter_mut().enumerate() {
            let ii = (((i as f64 + 0.5) * h as f64) / 64.0) as usize;
            for (j, x) in row.iter_mut().enumerate() {
                let jj = (((j as f64 + 0.5) * w as f64) / 64.0) as usize;
                *x = b1[ii * w + jj];
            }
        }
        a
    }

    fn noise(w: usize, h: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..w * h * 3)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // A smooth gradient plus noise, so the hash is not degenerate.
                ((i % (w * 3)) as u64 * 200 / (w as u64 * 3) + (x % 56)) as u8
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn streamed_downsample_is_bit_identical_to_the_reference_schedule(
            w in 5usize..300, h in 5usize..300, seed: u64
        ) {
            let px = noise(w, h, seed);
            let luma_plane: Vec<f32> = px.chunks_exact(3).map(|p| luma(p[0], p[1], p[2])).collect();
            let mut hasher = PdqHasher::new();
            let got = hasher.downsample(&px, w, h, PixelFormat::Rgb8);
            let want = naive(&luma_plane, w, h);
            for i in 0..64 {
                for j in 0..64 {
                    prop_assert_eq!(got[i][j].to_bits(), want[i][j].to_bits(), "at {},{}", i, j);
                }
            }
            let via_float = hasher.hash_luma_f32(&luma_plane, w, h).unwrap();
            let via_bytes = hasher.hash(&px, w, h, PixelFormat::Rgb8).unwrap();
            prop_assert_eq!(via_float, via_bytes);
        }
    }

    #[test]
    fn tiny_images_hash_to_zero_with_quality_zero() {
        let mut h = PdqHasher::new();
        let out = h
            .hash(&[7u8; 4 * 40 * 3], 4, 40, PixelFormat::Rgb8)
            .unwrap();
        assert_eq!(out.hash, PdqHash::ZERO);
        assert_eq!(out.quality, 0);
        assert!(
            out.dihedral_hashes()
                .iter()
                .all(|(_, x)| *x == PdqHash::ZERO)
        );
    }

    #[test]
    fn flat_images_have_quality_zero() {
        let mut h = PdqHasher::new();
        let out = h
            .hash(&[128u8; 100 * 80], 100, 80, PixelFormat::Luma8)
            .unwrap();
        assert_eq!(out.quality, 0);
    }

    #[test]
    fn buffer_size_mismatch_is_an_error_not_a_panic() {
        let mut h = PdqHasher::new();
        let e = h.hash(&[0u8; 10], 4, 4, PixelFormat::Rgb8).unwrap_err();
        assert!(matches!(
            e,
            PdqError::BufferSize {
                expected: 48,
                got: 10,
                ..
            }
        ));
        assert!(matches!(
            h.hash(&[], usize::MAX, 2, PixelFormat::Rgb8),
            Err(PdqError::Overflow { .. })
        ));
    }

    #[test]
    fn rgba_ignores_alpha_and_grey_equals_its_value() {
        let (w, hgt) = (37, 23);
        let rgb = noise(w, hgt, 9);
        let rgba: Vec<u8> = rgb
            .chunks_exact(3)
            .enumerate()
            .flat_map(|(i, p)| [p[0], p[1], p[2], (i % 256) as u8])
            .collect();
        let mut h = PdqHasher::new();
        assert_eq!(
            h.hash(&rgb, w, hgt, PixelFormat::Rgb8).unwrap(),
            h.hash(&rgba, w, hgt, PixelFormat::Rgba8).unwrap()
        );
        let grey: Vec<u8> = rgb.iter().step_by(3).copied().collect();
        let as_f32: Vec<f32> = grey.iter().map(|&v| f32::from(v)).collect();
        assert_eq!(
            h.hash(&grey, w, hgt, PixelFormat::Luma8).unwrap(),
            h.hash_luma_f32(&as_f32, w, hgt).unwrap()
        );
    }

    #[test]
    fn median_split_sets_half_the_bits() {
        let mut b = [[0.0f32; 16]; 16];
        for (i, row) in b.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = ((i * 16 + j) * 37 % 256) as f32;
            }
        }
        assert_eq!(bits_from_block(&b).count_ones(), 128);
    }
}
