//! The eight dihedral variants (rotations and mirror images) of a PDQ hash, from one DCT.
//!
//! Rotating or mirroring an image permutes and negates its DCT coefficients, so all eight
//! hashes come from the one 16x16 block without touching pixels again. Index 0-based: an even
//! index is an odd frequency (the DC term is skipped), which is why the sign flips sit on even
//! indices. Matching against all eight (not a "canonical minimum") is what ThreatExchange
//! recommends.

/// One of the eight symmetries of the square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dihedral {
    Original,
    Rotate90,
    Rotate180,
    Rotate270,
    FlipX,
    FlipY,
    /// Transpose (mirror about the main diagonal).
    FlipPlus1,
    /// Anti-transpose (mirror about the other diagonal).
    FlipMinus1,
}

impl Dihedral {
    /// All eight, in the reference's order.
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];

    /// Stable lower-case name (`rotate90`, `flip_plus1`, …) as used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Dihedral::Original => "original",
            Dihedral::Rotate90 => "rotate90",
            Dihedral::Rotate180 => "rotate180",
            Dihedral::Rotate270 => "rotate270",
            Dihedral::FlipX => "flip_x",
            Dihedral::FlipY => "flip_y",
            Dihedral::FlipPlus1 => "flip_plus1",
            Dihedral::FlipMinus1 => "flip_minus1",
        }
    }

    /// The DCT block of the transformed image, derived from the block `a` of the original.
    pub fn apply(self, a: &[[f32; 16]; 16]) -> [[f32; 16]; 16] {
        let mut b = [[0.0f32; 16]; 16];
        for i in 0..16 {
            for j in 0..16 {
                let v = a[i][j];
                let odd = |x: usize| x & 1 == 1;
                match self {
                    Dihedral::Original => b[i][j] = v,
                    Dihedral::Rotate90 => b[j][i] = if odd(j) { v } else { -v },
                    Dihedral::Rotate180 => b[i][j] = if odd(i + j) { -v } else { v },
                    Dihedral::Rotate270 => b[j][i] = if odd(i) { v } else { -v },
                    Dihedral::FlipX => b[i][j] = if odd(i) { v } else { -v },
                    Dihedral::FlipY => b[i][j] = if odd(j) { v } else { -v },
                    Dihedral::FlipPlus1 => b[j][i] = v,
                    Dihedral::FlipMinus1 => b[j][i] = if odd(i + j) { -v } else { v },
                }
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> [[f32; 16]; 16] {
        let mut a = [[0.0f32; 16]; 16];
        for (i, row) in a.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = (i * 16 + j) as f32 - 100.5;
            }
        }
        a
    }

    #[test]
    fn group_laws_hold() {
        let a = block();
        let r90 = Dihedral::Rotate90.apply(&a);
        // Four quarter turns are the identity; two are a half turn; three are a 270 turn.
        let r180 = Dihedral::Rotate90.apply(&r90);
        assert_eq!(r180, Dihedral::Rotate180.apply(&a));
        let r270 = Dihedral::Rotate90.apply(&r180);
        assert_eq!(r270, Dihedral::Rotate270.apply(&a));
        assert_eq!(Dihedral::Rotate90.apply(&r270), a);
        // Mirrors are involutions.
        for m in [
            Dihedral::FlipX,
            Dihedral::FlipY,
            Dihedral::FlipPlus1,
            Dihedral::FlipMinus1,
        ] {
            assert_eq!(m.apply(&m.apply(&a)), a, "{m:?}");
        }
        assert_eq!(Dihedral::Original.apply(&a), a);
    }
}
