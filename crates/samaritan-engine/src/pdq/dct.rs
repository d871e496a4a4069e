//! The 2-D DCT that takes the 64x64 downsample to the 16x16 low-frequency block PDQ hashes.
//!
//! `D` is 16x64 with `D[i][j] = sqrt(2/64) * cos(pi/128 * (i+1) * (2j+1))` (the DC row is
//! skipped); the block is `D * A * D^T`. The matrix is built in double precision and stored as
//! float, and every dot product accumulates in float in index order, as the reference does, so
//! results are bit-identical. The first product is computed a row of `A` at a time so the inner
//! loop runs over contiguous memory (same per-element order, vectorisable).

/// The 16x64 DCT basis, row-major.
pub struct DctMatrix {
    d: [[f32; 64]; 16],
}

impl DctMatrix {
    pub fn new() -> Self {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut d = [[0.0f32; 64]; 16];
        for (i, row) in d.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                let angle =
                    (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *x = (f64::from(scale) * angle.cos()) as f32;
            }
        }
        DctMatrix { d }
    }

    /// `B = D * A * D^T` for a 64x64 `A`.
    pub fn transform(&self, a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
        let d = &self.d;
        let mut t = [[0.0f32; 64]; 16];
        for (ti, di) in t.iter_mut().zip(d.iter()) {
            for (k, ak) in a.iter().enumerate() {
                let dik = di[k];
                for (tij, &akj) in ti.iter_mut().zip(ak.iter()) {
                    *tij += dik * akj;
                }
            }
        }
        let mut b = [[0.0f32; 16]; 16];
        for (bi, ti) in b.iter_mut().zip(t.iter()) {
            for (bij, dj) in bi.iter_mut().zip(d.iter()) {
                let mut s = 0.0f32;
                for (&tik, &djk) in ti.iter().zip(dj.iter()) {
                    s += tik * djk;
                }
                *bij = s;
            }
        }
        b
    }
}

impl Default for DctMatrix {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_rows_are_orthonormal_in_double() {
        let m = DctMatrix::new();
        for i in 0..16 {
            for j in 0..16 {
                let dot: f64 = (0..64)
                    .map(|k| f64::from(m.d[i][k]) * f64::from(m.d[j][k]))
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "{i},{j}: {dot}");
            }
        }
    }

    #[test]
    fn a_flat_image_has_no_energy_outside_dc() {
        let m = DctMatrix::new();
        let b = m.transform(&[[100.0; 64]; 64]);
        assert!(b.iter().flatten().all(|x| x.abs() < 1e-2));
    }
}
