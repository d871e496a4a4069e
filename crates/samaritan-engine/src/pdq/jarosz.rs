//! The Jarosz tent filter (two passes of box filters along rows then columns), streamed.
//!
//! PDQ blurs the full-size luminance with box filters of window `ceil(dim / 128)` in the order
//! rows, columns, rows, columns, then keeps 64x64 samples. To stay bit-exact with the reference
//! every output must come from the same float running sum, added and subtracted in the same
//! order, so we never recompute a window from scratch. What we change is the *schedule*:
//!
//! * the column passes keep one running sum per column and walk the image row by row (the
//!   reference strides down each column, which is cache-hostile), with a ring buffer of the last
//!   `window` rows for the subtractions;
//! * the whole chain is streamed: each input row is filtered along the row, pushed into the first
//!   column pass, whose finished rows are filtered along the row again *writing only the 64
//!   sampled columns*, and pushed into a 64-wide second column pass that keeps only the 64
//!   sampled rows. No full-size float buffer exists and the last two passes touch only what the
//!   decimation reads.
//!
//! Per element, the arithmetic is exactly the reference's (credit: the BSD-licensed PDQ reference
//! in facebook/ThreatExchange, `pdq/cpp/downscaling`).

/// Window size of the box filter that takes a dimension of `old` samples towards `new`
/// (PDQ uses `new = 64`): `ceil(old / (2 * new))`.
pub fn window_size(old: usize, new: usize) -> usize {
    old.div_ceil(2 * new)
}

/// `(w + 2) / 2`: how far the window reaches ahead of the output (7 -> 4, 8 -> 5).
fn half_window(w: usize) -> usize {
    (w + 2) / 2
}

/// One box-filter pass over a contiguous vector, writing every output.
///
/// Four phases as in the reference: accumulate `half - 1` samples silently; grow the window
/// while writing; slide it (add the new sample, then subtract the old one); shrink it at the end.
/// The average at the edges is over the in-range samples only.
pub fn box_1d(input: &[f32], out: &mut [f32], w: usize) {
    box_1d_sampled(input, w, |i, v| out[i] = v, None);
}

/// One box-filter pass over a contiguous vector that reports only the outputs at `wanted`
/// indices (sorted, possibly repeated) by calling `put(position_in_wanted, value)`; with
/// `wanted == None` every output `i` is reported as `put(i, value)`.
///
/// The running sum still visits every sample, because float rounding makes each output depend
/// on the whole prefix.
#[inline]
pub fn box_1d_sampled(
    input: &[f32],
    w: usize,
    mut put: impl FnMut(usize, f32),
    wanted: Option<&[usize]>,
) {
    let n = input.len();
    if n == 0 || w == 0 {
        return;
    }
    // PDQ's windows never exceed the length; clamp so that no caller can index past the end.
    let w = w.min(n);
    let half = half_window(w);
    let phase1 = half - 1;
    let phase2 = w - half + 1;
    let phase3 = n.saturating_sub(w);
    let phase4 = half - 1;

    let mut sum = 0.0f32;
    let mut count = 0usize;
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut next = 0usize; // index into `wanted`

    let mut emit = |oi: usize, v: f32, next: &mut usize| match wanted {
        None => put(oi, v),
        Some(ws) => {
            while *next < ws.len() && ws[*next] == oi {
                put(*next, v);
                *next += 1;
            }
        }
    };

    for _ in 0..phase1 {
        sum += input[ri];
        count += 1;
        ri += 1;
    }
    for _ in 0..phase2 {
        sum += input[ri];
        count += 1;
        emit(oi, sum / count as f32, &mut next);
        ri += 1;
        oi += 1;
    }
    for _ in 0..phase3 {
        sum += input[ri];
        sum -= input[li];
        emit(oi, sum / count as f32, &mut next);
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..phase4 {
        sum -= input[li];
        count -= 1;
        emit(oi, sum / count as f32, &mut next);
        li += 1;
        oi += 1;
    }
}

/// A box-filter pass down the columns of an image that arrives one row at a time.
///
/// Each column has its own running sum; all columns advance together, so the memory access is
/// row-major. Finished rows are handed to a callback in order, `0..rows`.
pub struct ColumnBox {
    width: usize,
    rows: usize,
    window: usize,
    half: usize,
    pushed: usize,
    emitted: usize,
    count: usize,
    sums: Vec<f32>,
    /// The last `window` input rows, row `r` at slot `r % window`.
    ring: Vec<f32>,
    out: Vec<f32>,
}

impl ColumnBox {
    /// A pass over an image of `width` x `rows` with window `window` (≥ 1, ≤ `rows`).
    pub fn new(width: usize, rows: usize, window: usize) -> Self {
        let window = window.clamp(1, rows.max(1));
        ColumnBox {
            width,
            rows,
            window,
            half: half_window(window),
            pushed: 0,
            emitted: 0,
            count: 0,
            sums: vec![0.0; width],
            ring: vec![0.0; width * window],
            out: vec![0.0; width],
        }
    }

    /// Feeds the next input row; calls `emit(row_index, row)` for each output row it completes.
    pub fn push(&mut self, row: &[f32], mut emit: impl FnMut(usize, &[f32])) {
        debug_assert_eq!(row.len(), self.width);
        if self.pushed >= self.rows {
            return;
        }
        let ri = self.pushed;
        let slot = (ri % self.window) * self.width;
        let w = self.width;
        if ri < self.half - 1 {
            for (s, &x) in self.sums.iter_mut().zip(row) {
                *s += x;
            }
            self.count += 1;
        } else if ri < self.window {
            self.count += 1;
            let c = self.count as f32;
            for ((s, &x), o) in self.sums.iter_mut().zip(row).zip(self.out.iter_mut()) {
                *s += x;
                *o = *s / c;
            }
            emit(self.emitted, &self.out);
            self.emitted += 1;
        } else {
            let c = self.count as f32;
            let old = &self.ring[slot..slot + w];
            for (((s, &x), &y), o) in self
                .sums
                .iter_mut()
                .zip(row)
                .zip(old)
                .zip(self.out.iter_mut())
            {
                *s += x;
                *s -= y;
                *o = *s / c;
            }
            emit(self.emitted, &self.out);
            self.emitted += 1;
        }
        self.ring[slot..slot + w].copy_from_slice(row);
        self.pushed += 1;
    }

    /// After the last row: emits the final `half - 1` rows with the shrinking window.
    pub fn finish(&mut self, mut emit: impl FnMut(usize, &[f32])) {
        let w = self.width;
        let first = self.rows - self.window;
        for li in first..first + self.half - 1 {
            let slot = (li % self.window) * w;
            self.count -= 1;
            let c = self.count as f32;
            let old = &self.ring[slot..slot + w];
            for ((s, &y), o) in self.sums.iter_mut().zip(old).zip(self.out.iter_mut()) {
                *s -= y;
                *o = *s / c;
            }
            emit(self.emitted, &self.out);
            self.emitted += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's schedule: full buffers, column pass striding down each column.
    fn reference_filter(buf: &mut [f32], rows: usize, cols: usize, wr: usize, wc: usize) {
        let mut tmp = vec![0.0f32; buf.len()];
        for _ in 0..2 {
            for r in 0..rows {
                box_1d(
                    &buf[r * cols..(r + 1) * cols],
                    &mut tmp[r * cols..(r + 1) * cols],
                    wr,
                );
            }
            for c in 0..cols {
                let col: Vec<f32> = (0..rows).map(|r| tmp[r * cols + c]).collect();
                let mut out = vec![0.0f32; rows];
                box_1d(&col, &mut out, wc);
                for r in 0..rows {
                    buf[r * cols + c] = out[r];
                }
            }
        }
    }

    #[test]
    fn oversized_windows_do_not_panic() {
        let input = [1.0f32, 2.0, 3.0];
        let mut out = [0.0f32; 3];
        box_1d(&input, &mut out, 10);
        assert!(out.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn window_sizes_match_the_reference() {
        assert_eq!(window_size(1600, 64), 13);
        assert_eq!(window_size(1004, 64), 8);
        assert_eq!(window_size(128, 64), 1);
        assert_eq!(window_size(129, 64), 2);
        assert_eq!(window_size(5, 64), 1);
    }

    #[test]
    fn box_1d_matches_the_worked_example() {
        // The reference's comment: window 7 over 0..16 gives sums 6, 10, 15, 21, 28, ...
        let input: Vec<f32> = (0..16).map(|x| x as f32).collect();
        let mut out = vec![0.0; 16];
        box_1d(&input, &mut out, 7);
        let sums = [
            6, 10, 15, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 75, 65, 54,
        ];
        let counts = [4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4];
        for i in 0..16 {
            assert_eq!(out[i], sums[i] as f32 / counts[i] as f32, "at {i}");
        }
    }

    #[test]
    fn streamed_column_pass_is_bit_identical_to_striding() {
        for &(rows, cols, wc) in &[
            (9usize, 7usize, 1usize),
            (40, 13, 3),
            (257, 5, 4),
            (17, 3, 17),
        ] {
            let data: Vec<f32> = (0..rows * cols)
                .map(|i| ((i * 7919) % 251) as f32 * 0.37 + 0.1)
                .collect();
            let mut expect = vec![0.0f32; rows * cols];
            for c in 0..cols {
                let col: Vec<f32> = (0..rows).map(|r| data[r * cols + c]).collect();
                let mut out = vec![0.0f32; rows];
                box_1d(&col, &mut out, wc);
                for r in 0..rows {
                    expect[r * cols + c] = out[r];
                }
            }
            let mut got = vec![f32::NAN; rows * cols];
            let mut cb = ColumnBox::new(cols, rows, wc);
            let mut put =
                |r: usize, row: &[f32]| got[r * cols..(r + 1) * cols].copy_from_slice(row);
            for r in 0..rows {
                cb.push(&data[r * cols..(r + 1) * cols], &mut put);
            }
            cb.finish(&mut put);
            assert_eq!(
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                expect.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "rows {rows} cols {cols} window {wc}"
            );
        }
        // Sanity of the helper itself.
        let mut b = vec![1.0f32; 12];
        reference_filter(&mut b, 3, 4, 1, 1);
        assert!(b.iter().all(|&x| x == 1.0));
    }
}
