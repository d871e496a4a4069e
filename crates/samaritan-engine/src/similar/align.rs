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
pub fn align(cols: &[u32], ad: &[u32]) -> Vec<Op> {
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
