//! Global alignment of an ad's tokens against a template's columns.
//!
//! Templates are sequences; an ad instantiates one with words kept, words dropped, slot fills
//! and edits. A Needleman–Wunsch alignment (linear gaps) recovers which is which. Its cost is
//! the product of the two lengths, which is why both are capped upstream and why alignment only
//! ever runs against the few candidates LSH proposes, never against every stored ad.

/// One step of an alignment, naming the template column and/or the ad token involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Column `col` holds the same token as ad token `tok`.
    Match { col: u32, tok: u32 },
    /// Column `col` is replaced by ad token `tok`.
    Sub { col: u32, tok: u32 },
    /// Column `col` is absent from the ad.
    Del { col: u32 },
    /// Ad token `tok` has no column; it sits in the gap before column `before`.
    Ins { tok: u32, before: u32 },
}

const MATCH: i32 = 2;
const MISMATCH: i32 = -1;
const GAP: i32 = -1;

// Traceback directions.
const DIAG: u8 = 0;
const UP: u8 = 1; // consume a column (deletion)
const LEFT: u8 = 2; // consume an ad token (insertion)

/// Aligns `ad` against `cols`, returning the operations in order. Ties prefer the diagonal, then
/// deletions, so the result is deterministic.
///
/// Each row is filled in two passes: the diagonal and upward moves of a whole row depend only on
/// the row above (a branch-free loop the compiler vectorises), then one short serial pass folds
/// in the leftward moves. The choices are exactly those of the textbook three-way maximum with
/// the same tie order (see the `same_as_textbook` test).
pub fn align(cols: &[u32], ad: &[u32]) -> Vec<Op> {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => align_in(&mut s, cols, ad),
        Err(_) => align_in(&mut Scratch::default(), cols, ad),
    })
}

/// Buffers of one alignment, kept per thread: an insert aligns against several candidates and
/// the trace matrix would otherwise be allocated and zeroed each time.
#[derive(Default)]
struct Scratch {
    trace: Vec<u8>,
    prev: Vec<i32>,
    cur: Vec<i32>,
    best_du: Vec<i32>,
    dir_du: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

fn align_in(s: &mut Scratch, cols: &[u32], ad: &[u32]) -> Vec<Op> {
    let (n, m) = (cols.len(), ad.len());
    let width = m + 1;
    // Every cell the traceback reads is written below, so stale contents do no harm.
    s.trace.resize((n + 1) * width, 0);
    let trace = &mut s.trace[..(n + 1) * width];
    s.prev.clear();
    s.prev.extend((0..=m as i32).map(|j| j * GAP));
    s.cur.clear();
    s.cur.resize(m + 1, 0);
    s.best_du.clear();
    s.best_du.resize(m, 0);
    s.dir_du.clear();
    s.dir_du.resize(m, 0);
    let (mut prev, mut cur) = (&mut s.prev, &mut s.cur);
    // Best of the diagonal and upward moves into each cell of the row, and which one it was.
    let (best_du, dir_du) = (&mut s.best_du, &mut s.dir_du);
    trace[1..=m].fill(LEFT);
    for i in 1..=n {
        let c = cols[i - 1];
        for (((b, d), (&ad_j, &p_diag)), &p_up) in best_du
            .iter_mut()
            .zip(dir_du.iter_mut())
            .zip(ad.iter().zip(&prev[..m]))
            .zip(&prev[1..])
        {
            let diag = p_diag + if c == ad_j { MATCH } else { MISMATCH };
            let up = p_up + GAP;
            let take_diag = diag >= up;
            *b = if take_diag { diag } else { up };
            *d = if take_diag { DIAG } else { UP };
        }
        let row = &mut trace[i * width..(i + 1) * width];
        row[0] = UP;
        let mut left_of = i as i32 * GAP;
        cur[0] = left_of;
        for ((cell, t), (&b, &d)) in cur[1..]
            .iter_mut()
            .zip(&mut row[1..])
            .zip(best_du.iter().zip(dir_du.iter()))
        {
            let left = left_of + GAP;
            let keep = b >= left;
            let best = if keep { b } else { left };
            *t = if keep { d } else { LEFT };
            *cell = best;
            left_of = best;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let trace = &*trace;
    let mut ops = Vec::with_capacity(n.max(m) + 4);
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let dir = if i == 0 {
            LEFT
        } else if j == 0 {
            UP
        } else {
            trace[i * width + j]
        };
        match dir {
            DIAG => {
                let (col, tok) = ((i - 1) as u32, (j - 1) as u32);
                ops.push(if cols[i - 1] == ad[j - 1] {
                    Op::Match { col, tok }
                } else {
                    Op::Sub { col, tok }
                });
                i -= 1;
                j -= 1;
            }
            UP => {
                ops.push(Op::Del {
                    col: (i - 1) as u32,
                });
                i -= 1;
            }
            _ => {
                ops.push(Op::Ins {
                    tok: (j - 1) as u32,
                    before: i as u32,
                });
                j -= 1;
            }
        }
    }
    ops.reverse();
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook fill (one three-way maximum per cell), kept to check [`align`] against.
    fn textbook(cols: &[u32], ad: &[u32]) -> Vec<u8> {
        let (n, m) = (cols.len(), ad.len());
        let width = m + 1;
        let mut trace = vec![0u8; (n + 1) * width];
        let mut prev: Vec<i32> = (0..=m as i32).map(|j| j * GAP).collect();
        let mut cur = vec![0i32; m + 1];
        trace[1..=m].fill(LEFT);
        for i in 1..=n {
            cur[0] = i as i32 * GAP;
            trace[i * width] = UP;
            let c = cols[i - 1];
            for j in 1..=m {
                let diag = prev[j - 1] + if c == ad[j - 1] { MATCH } else { MISMATCH };
                let up = prev[j] + GAP;
                let left = cur[j - 1] + GAP;
                let (best, dir) = if diag >= up && diag >= left {
                    (diag, DIAG)
                } else if up >= left {
                    (up, UP)
                } else {
                    (left, LEFT)
                };
                cur[j] = best;
                trace[i * width + j] = dir;
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        trace
    }

    /// The operations read back from a textbook trace.
    fn textbook_ops(cols: &[u32], ad: &[u32]) -> Vec<Op> {
        let trace = textbook(cols, ad);
        let width = ad.len() + 1;
        let mut ops = Vec::new();
        let (mut i, mut j) = (cols.len(), ad.len());
        while i > 0 || j > 0 {
            let dir = if i == 0 {
                LEFT
            } else if j == 0 {
                UP
            } else {
                trace[i * width + j]
            };
            match dir {
                DIAG => {
                    let (col, tok) = ((i - 1) as u32, (j - 1) as u32);
                    ops.push(if cols[i - 1] == ad[j - 1] {
                        Op::Match { col, tok }
                    } else {
                        Op::Sub { col, tok }
                    });
                    i -= 1;
                    j -= 1;
                }
                UP => {
                    ops.push(Op::Del {
                        col: (i - 1) as u32,
                    });
                    i -= 1;
                }
                _ => {
                    ops.push(Op::Ins {
                        tok: (j - 1) as u32,
                        before: i as u32,
                    });
                    j -= 1;
                }
            }
        }
        ops.reverse();
        ops
    }

    #[test]
    fn same_as_textbook() {
        // Small alphabets make many ties, which is where the fill order could differ.
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        let mut next = |k: u64| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            crate::similar::tokens::mix(state) % k
        };
        for case in 0..3000 {
            let alphabet = 2 + case % 7;
            let n = next(40) as usize;
            let m = next(40) as usize;
            let cols: Vec<u32> = (0..n).map(|_| next(alphabet) as u32).collect();
            let mut ad: Vec<u32> = (0..m).map(|_| next(alphabet) as u32).collect();
            if case % 3 == 0 {
                // A near copy: the realistic case.
                ad = cols.clone();
                for _ in 0..next(4) {
                    if !ad.is_empty() {
                        let at = next(ad.len() as u64) as usize;
                        ad[at] = next(alphabet + 3) as u32;
                    }
                }
            }
            assert_eq!(
                align(&cols, &ad),
                textbook_ops(&cols, &ad),
                "{cols:?} {ad:?}"
            );
        }
    }

    #[test]
    fn identical_sequences_match_everywhere() {
        let ops = align(&[1, 2, 3], &[1, 2, 3]);
        assert!(ops.iter().all(|o| matches!(o, Op::Match { .. })));
        assert_eq!(ops.len(), 3);
    }

    #[test]
    fn slot_fill_becomes_substitution_plus_insertion() {
        let ops = align(&[1, 2, 9, 3, 4], &[1, 2, 7, 8, 3, 4]);
        let matches = ops.iter().filter(|o| matches!(o, Op::Match { .. })).count();
        assert_eq!(matches, 4);
        assert_eq!(ops.len(), 6);
    }

    #[test]
    fn empty_sides() {
        assert!(align(&[], &[]).is_empty());
        assert_eq!(
            align(&[1, 2], &[]),
            vec![Op::Del { col: 0 }, Op::Del { col: 1 }]
        );
        assert_eq!(align(&[], &[5]), vec![Op::Ins { tok: 0, before: 0 }]);
    }

    #[test]
    fn every_column_and_token_is_accounted_for_once() {
        let cols = [1, 2, 3, 4, 5, 6, 7];
        let ad = [9, 2, 3, 8, 8, 6, 7, 7];
        let ops = align(&cols, &ad);
        let mut c = vec![0; cols.len()];
        let mut t = vec![0; ad.len()];
        for o in ops {
            match o {
                Op::Match { col, tok } | Op::Sub { col, tok } => {
                    c[col as usize] += 1;
                    t[tok as usize] += 1;
                }
                Op::Del { col } => c[col as usize] += 1,
                Op::Ins { tok, .. } => t[tok as usize] += 1,
            }
        }
        assert!(c.iter().chain(&t).all(|&x| x == 1));
    }
}
