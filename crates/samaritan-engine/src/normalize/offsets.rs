//! The offset map from normalized text back to the original.
//!
//! Every later stage works on normalized text, but evidence must point at the bytes the poster
//! wrote. The map stores only the places where normalization changed something (a replaced,
//! inserted or removed stretch); between them the text was copied verbatim, so a position there is
//! the position after the last change shifted by a constant. Lookups are binary searches.

use std::ops::Range;

/// One changed stretch: normalized bytes `out` came from original bytes `src`.
///
/// `out` may be empty (characters removed, e.g. zero-width spaces) and so may `src` (never
/// produced today, but harmless). `obf` records that the change undid an obfuscation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seg {
    pub out_start: usize,
    pub out_end: usize,
    pub src_start: usize,
    pub src_end: usize,
    pub obf: bool,
}

/// Sorted, non-overlapping (in normalized space) changed stretches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OffsetMap {
    segs: Vec<Seg>,
}

impl OffsetMap {
    pub fn is_identity(&self) -> bool {
        self.segs.is_empty()
    }

    /// Original offset for a normalized offset used as the *start* of a span: removed characters
    /// right at `p` are left out, a position inside a replaced stretch widens to its start.
    pub fn start(&self, p: usize) -> usize {
        let i = self.segs.partition_point(|s| s.out_start <= p);
        if i == 0 {
            return p;
        }
        let s = &self.segs[i - 1];
        if s.out_start < s.out_end && p < s.out_end {
            // p is inside (or at the start of) a replaced stretch.
            return s.src_start;
        }
        s.src_end + (p - s.out_end)
    }

    /// Original offset for a normalized offset used as the *end* of a span: removed characters
    /// right at `p` are left out, a position inside a replaced stretch widens to its end.
    pub fn end(&self, p: usize) -> usize {
        let i = self.segs.partition_point(|s| s.out_start < p);
        if i == 0 {
            return p;
        }
        let s = &self.segs[i - 1];
        if p <= s.out_end {
            return s.src_end;
        }
        s.src_end + (p - s.out_end)
    }

    /// True if any change that undid an obfuscation touches `r`: a replaced stretch overlapping
    /// it, or a removal strictly inside it.
    pub fn obfuscated(&self, r: &Range<usize>) -> bool {
        let i = self.segs.partition_point(|s| s.out_end < r.start);
        for s in &self.segs[i..] {
            if s.out_start > r.end || (s.out_start == r.end && s.out_start < s.out_end) {
                break;
            }
            if !s.obf {
                continue;
            }
            let hit = if s.out_start == s.out_end {
                r.start < s.out_start && s.out_start < r.end
            } else {
                s.out_start < r.end && s.out_end > r.start
            };
            if hit {
                return true;
            }
        }
        false
    }

    /// `outer ∘ self`: `self` maps text → mid, `outer` maps mid → original.
    pub fn compose(&self, outer: &OffsetMap) -> OffsetMap {
        if outer.is_identity() {
            return self.clone();
        }
        if self.is_identity() {
            return outer.clone();
        }
        let mut b = MapBuilder::default();
        let mut oi = 0usize;
        let (mut out_pos, mut mid_pos) = (0usize, 0usize);
        for s in &self.segs {
            outer.copy_gap(&mut b, &mut oi, out_pos, mid_pos, s.src_start, false);
            let src_start = outer.start(s.src_start);
            let src_end = outer.end(s.src_end).max(src_start);
            let obf = s.obf || outer.obfuscated(&(s.src_start..s.src_end));
            b.push(Seg {
                out_start: s.out_start,
                out_end: s.out_end,
                src_start,
                src_end,
                obf,
            });
            // outer stretches wholly inside the replaced mid range are accounted for
            while let Some(o) = outer.segs.get(oi) {
                let inside = if o.out_start == o.out_end {
                    o.out_start < s.src_end
                } else {
                    o.out_end <= s.src_end
                };
                if !inside {
                    break;
                }
                oi += 1;
            }
            out_pos = s.out_end;
            mid_pos = s.src_end;
        }
        outer.copy_gap(&mut b, &mut oi, out_pos, mid_pos, usize::MAX, true);
        b.finish()
    }

    /// Carry this map's stretches lying in mid range `[c, d)` into `b`, shifted so that mid `c`
    /// lands at text `a` (the gap was copied verbatim). A stretch cut by the range keeps its
    /// whole source range.
    fn copy_gap(
        &self,
        b: &mut MapBuilder,
        oi: &mut usize,
        a: usize,
        c: usize,
        d: usize,
        last: bool,
    ) {
        while let Some(s) = self.segs.get(*oi).copied() {
            let empty = s.out_start == s.out_end;
            if s.out_start > d || (s.out_start == d && !(empty && last)) {
                break;
            }
            if (empty && s.out_start < c) || (!empty && s.out_end <= c) {
                *oi += 1;
                continue;
            }
            let os = s.out_start.max(c) - c + a;
            let oe = s.out_end.min(d) - c + a;
            b.push(Seg {
                out_start: os,
                out_end: oe,
                src_start: s.src_start,
                src_end: s.src_end,
                obf: s.obf,
            });
            if s.out_end > d {
                break;
            }
            *oi += 1;
        }
    }
}

/// Builds a normalized string and its [`OffsetMap`] together.
#[derive(Debug, Default)]
pub(crate) struct MapBuilder {
    segs: Vec<Seg>,
}

impl MapBuilder {
    pub fn push(&mut self, seg: Seg) {
        if let Some(last) = self.segs.last_mut() {
            // Several output pieces from one source stretch (e.g. an NFKC expansion) merge.
            if last.src_start == seg.src_start
                && last.src_end == seg.src_end
                && last.out_end == seg.out_start
            {
                last.out_end = seg.out_end;
                last.obf |= seg.obf;
                return;
            }
        }
        self.segs.push(seg);
    }

    pub fn finish(self) -> OffsetMap {
        OffsetMap { segs: self.segs }
    }
}

/// Text plus map under construction: verbatim copies record nothing, changes record a [`Seg`].
#[derive(Debug, Default)]
pub(crate) struct TextBuilder {
    pub text: String,
    map: MapBuilder,
}

impl TextBuilder {
    pub fn with_capacity(n: usize) -> Self {
        TextBuilder {
            text: String::with_capacity(n),
            map: MapBuilder::default(),
        }
    }

    /// Copy `s` verbatim (it is the source text itself).
    pub fn verbatim(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Emit `out` in place of the source bytes `src`.
    pub fn replace(&mut self, out: &str, src: Range<usize>, obf: bool) {
        let out_start = self.text.len();
        self.text.push_str(out);
        self.map.push(Seg {
            out_start,
            out_end: self.text.len(),
            src_start: src.start,
            src_end: src.end,
            obf,
        });
    }

    /// Emit the char `c` in place of the source bytes `src`.
    pub fn replace_char(&mut self, c: char, src: Range<usize>, obf: bool) {
        let out_start = self.text.len();
        self.text.push(c);
        self.map.push(Seg {
            out_start,
            out_end: self.text.len(),
            src_start: src.start,
            src_end: src.end,
            obf,
        });
    }

    pub fn finish(self) -> (String, OffsetMap) {
        (self.text, self.map.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(parts: &[(&str, Option<(&str, bool)>)]) -> (String, String, OffsetMap) {
        // (source piece, replacement) pairs; None = verbatim
        let mut src = String::new();
        let mut b = TextBuilder::default();
        for (piece, rep) in parts {
            let start = src.len();
            src.push_str(piece);
            match rep {
                None => b.verbatim(piece),
                Some((out, obf)) => b.replace(out, start..src.len(), *obf),
            }
        }
        let (t, m) = b.finish();
        (src, t, m)
    }

    #[test]
    fn identity_when_nothing_changed() {
        let (src, t, m) = build(&[("hello", None)]);
        assert_eq!(src, t);
        assert_eq!(m.start(2), 2);
        assert_eq!(m.end(5), 5);
        assert!(!m.obfuscated(&(0..5)));
    }

    #[test]
    fn replacement_and_removal() {
        // "call seven\u{200b}04 now" -> "call 704 now"
        let (src, t, m) = build(&[
            ("call ", None),
            ("seven", Some(("7", true))),
            ("\u{200b}", Some(("", true))),
            ("04 now", None),
        ]);
        assert_eq!(t, "call 704 now");
        let d = t.find("704").unwrap();
        let (s, e) = (m.start(d), m.end(d + 3));
        assert_eq!(&src[s..e], "seven\u{200b}04");
        assert!(m.obfuscated(&(d..d + 3)));
        // "04" alone starts right after the removed character
        assert_eq!(&src[m.start(d + 1)..m.end(d + 3)], "04");
        // the removal at the boundary is not inside "04"
        assert!(!m.obfuscated(&(d + 1..d + 3)));
        let n = t.find("now").unwrap();
        assert_eq!(&src[m.start(n)..m.end(n + 3)], "now");
        assert!(!m.obfuscated(&(n..n + 3)));
    }

    #[test]
    fn compose_two_maps() {
        // original: "ｆｏｒ８0" -> mid "for80" (fullwidth folded) -> text "480"
        let orig = "ｆｏｒ８0";
        let mut b1 = TextBuilder::default();
        let mut pos = 0;
        for c in orig.chars() {
            let n = c.len_utf8();
            if c == '0' {
                b1.verbatim("0");
            } else {
                let ascii = char::from_u32(c as u32 - 0xFEE0).unwrap();
                b1.replace_char(ascii, pos..pos + n, true);
            }
            pos += n;
        }
        let (mid, m1) = b1.finish();
        assert_eq!(mid, "for80");
        let mut b2 = TextBuilder::default();
        b2.replace("4", 0..3, true);
        b2.verbatim("80");
        let (text, m2) = b2.finish();
        assert_eq!(text, "480");
        let m = m2.compose(&m1);
        assert_eq!(&orig[m.start(0)..m.end(1)], "ｆｏｒ");
        assert_eq!(&orig[m.start(1)..m.end(2)], "８");
        assert_eq!(&orig[m.start(2)..m.end(3)], "0");
        assert_eq!(&orig[m.start(0)..m.end(3)], orig);
        assert!(m.obfuscated(&(1..2)));
        assert!(!m.obfuscated(&(2..3)));
    }
}
