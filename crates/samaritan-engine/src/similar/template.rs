//! The template of a near-duplicate cluster: constant text, slots, and each ad's difference.
//!
//! A cluster keeps a sequence of columns (the words of its first member, then refined by every
//! member that joins) with how many members contain each column, and how many members put extra
//! words in each gap. From these counts the template is decided by description length, in the
//! spirit of InfoShield-Fine but with our own, closed-form rules:
//!
//! * a column is **constant** when writing its word once in the template plus a present/absent
//!   flag per member is cheaper than writing it in every member that has it;
//! * a gap between constant words is a **slot** when a present/absent flag per member is cheaper
//!   than locating each member's fill there as an edit;
//! * an ad **belongs** to the template when writing it as "this template, these flags, these
//!   fills and edits" is cheaper than writing it word by word.
//!
//! Joining costs one alignment against the columns; nothing is rebuilt.

use super::align::{Op, align};
use super::cost::{flag_bits, flags_total, int_bits, position_bits};
use super::vocab::Vocab;

/// Counts describing one cluster's template. The rendered template is derived from them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateState {
    /// Oldest member (internal ad index); names the template.
    pub seed: u32,
    /// Number of ads in the cluster.
    pub members: u32,
    /// Token id of each column.
    pub columns: Vec<u32>,
    /// Members that contain each column.
    pub support: Vec<u32>,
    /// Members with extra words in the gap before column `g` (`g == columns.len()`: at the end).
    pub gap_fill: Vec<u32>,
}

/// The rendered shape of a template: which columns are constant, where the slots are.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Per column: index of its constant position, or `None` when it is a varying word.
    constant: Vec<Option<u32>>,
    /// Per column: the region (gap between constant words) a varying column falls into.
    col_region: Vec<u32>,
    /// Per raw gap: the region it falls into.
    gap_region: Vec<u32>,
    /// Per region (`n_const + 1` of them): members with a fill there.
    region_fill: Vec<u32>,
    /// Per region: is it a slot.
    slot: Vec<bool>,
    n_const: usize,
}

/// One piece of an ad seen against its template, for the reviewer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "lowercase")]
pub enum DiffPart {
    /// Template words the ad has.
    Same(String),
    /// The ad's fill of a slot (may be empty).
    Slot(String),
    /// Words the ad adds where the template has no slot.
    Added(String),
    /// Template words the ad lacks.
    Missing(String),
}

/// The price in bits of each word of an ad, and of the whole ad written without a template.
#[derive(Debug, Clone, Copy)]
pub struct AdBits<'a> {
    /// [`Vocab::bits`] of each token, in order.
    pub bits: &'a [f64],
    /// The ad's length code plus the sum of `bits`.
    pub raw: f64,
}

impl<'a> AdBits<'a> {
    pub fn new(bits: &'a [f64]) -> Self {
        AdBits {
            bits,
            raw: int_bits(bits.len() as u64) + bits.iter().sum::<f64>(),
        }
    }
}

/// The bits of an ad written with and without a template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub given: f64,
    pub raw: f64,
}

impl Fit {
    /// True when the template explains the ad (writing it against the template is shorter).
    pub fn admits(&self) -> bool {
        self.given < self.raw
    }
}

impl TemplateState {
    /// A one-member template: the ad itself.
    pub fn seed(seed: u32, tokens: &[u32]) -> Self {
        TemplateState {
            seed,
            members: 1,
            columns: tokens.to_vec(),
            support: vec![1; tokens.len()],
            gap_fill: vec![0; tokens.len() + 1],
        }
    }

    /// Decides constant columns and slots from the counts.
    pub fn layout(&self, vocab: &Vocab) -> Layout {
        let m = self.members;
        let n = self.columns.len();
        let mut constant = Vec::with_capacity(n);
        let mut n_const = 0u32;
        for (&tok, &s) in self.columns.iter().zip(&self.support) {
            let keep = if m <= 1 {
                true
            } else {
                let w = vocab.bits(tok);
                w + flags_total(s, m) < f64::from(s) * w
            };
            if keep {
                constant.push(Some(n_const));
                n_const += 1;
            } else {
                constant.push(None);
            }
        }
        let n_const = n_const as usize;
        let mut col_region = vec![0u32; n];
        let mut gap_region = vec![0u32; n + 1];
        let mut region_fill = vec![0u32; n_const + 1];
        let mut region = 0u32;
        for g in 0..=n {
            gap_region[g] = region;
            region_fill[region as usize] += self.gap_fill[g];
            if g < n {
                match constant[g] {
                    Some(_) => region += 1,
                    None => {
                        col_region[g] = region;
                        region_fill[region as usize] += self.support[g];
                    }
                }
            }
        }
        for f in &mut region_fill {
            *f = (*f).min(m);
        }
        let p = position_bits(n_const);
        let slot = region_fill
            .iter()
            .map(|&f| m > 1 && p + flags_total(f, m) < f64::from(f) * p)
            .collect();
        Layout {
            constant,
            col_region,
            gap_region,
            region_fill,
            slot,
            n_const,
        }
    }

    /// Aligns an ad's tokens against the columns.
    pub fn align(&self, tokens: &[u32]) -> Vec<Op> {
        align(&self.columns, tokens)
    }

    /// Bits of the ad (`tokens`, aligned as `ops`) with and without this template.
    pub fn fit(&self, layout: &Layout, tokens: &[u32], ops: &[Op], vocab: &Vocab) -> Fit {
        let bits: Vec<f64> = tokens.iter().map(|&t| vocab.bits(t)).collect();
        self.fit_priced(layout, &AdBits::new(&bits), ops)
    }

    /// [`TemplateState::fit`] with the ad's word prices computed once (an ad is fitted to
    /// several candidates against one vocabulary state).
    pub fn fit_priced(&self, layout: &Layout, ad: &AdBits<'_>, ops: &[Op]) -> Fit {
        let m = self.members;
        let raw = ad.raw;
        let mut present = vec![false; layout.n_const];
        let mut words = vec![0u32; layout.n_const + 1];
        let mut word_bits = vec![0f64; layout.n_const + 1];
        for op in ops {
            let (region, tok) = match *op {
                Op::Match { col, tok } => match layout.constant[col as usize] {
                    Some(k) => {
                        present[k as usize] = true;
                        continue;
                    }
                    None => (layout.col_region[col as usize], tok),
                },
                Op::Sub { col, tok } => (layout.gap_region[col as usize + 1], tok),
                Op::Ins { tok, before } => (layout.gap_region[before as usize], tok),
                Op::Del { .. } => continue,
            };
            words[region as usize] += 1;
            word_bits[region as usize] += ad.bits.get(tok as usize).copied().unwrap_or(0.0);
        }
        let mut given = 0.0;
        for (col, c) in layout.constant.iter().enumerate() {
            if let Some(k) = c {
                given += flag_bits(self.support[col], m, present[*k as usize]);
            }
        }
        let p = position_bits(layout.n_const);
        let mut edits = 0u64;
        for r in 0..=layout.n_const {
            let k = words[r];
            if layout.slot[r] {
                given += flag_bits(layout.region_fill[r], m, k > 0);
                if k > 0 {
                    given += int_bits(u64::from(k)) + word_bits[r];
                }
            } else if k > 0 {
                edits += 1;
                given += p + int_bits(u64::from(k)) + word_bits[r];
            }
        }
        given += int_bits(edits);
        Fit { given, raw }
    }

    /// Counts a new member aligned as `ops`.
    pub fn add(&mut self, ops: &[Op]) {
        let mut touched = vec![false; self.gap_fill.len()];
        for op in ops {
            match *op {
                Op::Match { col, .. } => self.support[col as usize] += 1,
                Op::Sub { col, .. } => touched[col as usize + 1] = true,
                Op::Ins { before, .. } => touched[before as usize] = true,
                Op::Del { .. } => {}
            }
        }
        for (f, t) in self.gap_fill.iter_mut().zip(touched) {
            *f += u32::from(t);
        }
        self.members += 1;
    }

    /// Absorbs another cluster's template (its columns aligned against ours).
    pub fn absorb(&mut self, other: &TemplateState) {
        let ops = align(&self.columns, &other.columns);
        let mut gap = 0usize;
        for op in ops {
            match op {
                Op::Match { col, tok } => {
                    self.gap_fill[col as usize] += other.gap_fill[tok as usize];
                    self.support[col as usize] += other.support[tok as usize];
                    gap = col as usize + 1;
                }
                Op::Sub { col, tok } => {
                    self.gap_fill[col as usize] += other.gap_fill[tok as usize];
                    self.gap_fill[col as usize + 1] += other.support[tok as usize];
                    gap = col as usize + 1;
                }
                Op::Ins { tok, before } => {
                    gap = before as usize;
                    self.gap_fill[gap] +=
                        other.gap_fill[tok as usize] + other.support[tok as usize];
                }
                Op::Del { col } => gap = col as usize + 1,
            }
        }
        if let Some(&last) = other.gap_fill.last() {
            self.gap_fill[gap.min(self.columns.len())] += last;
        }
        self.members += other.members;
        self.seed = self.seed.min(other.seed);
        let m = self.members;
        for v in self.support.iter_mut().chain(self.gap_fill.iter_mut()) {
            *v = (*v).min(m);
        }
    }

    /// The template as text: constant words with `{}` at each slot, and the number of slots.
    pub fn render(&self, layout: &Layout, vocab: &Vocab) -> (String, u32) {
        let mut out = String::new();
        let mut slots = 0u32;
        let push = |out: &mut String, w: &str| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        };
        let mut region = 0usize;
        if layout.slot[0] {
            push(&mut out, "{}");
            slots += 1;
        }
        for (col, c) in layout.constant.iter().enumerate() {
            if c.is_some() {
                push(&mut out, vocab.word(self.columns[col]));
                region += 1;
                if layout.slot[region] {
                    push(&mut out, "{}");
                    slots += 1;
                }
            }
        }
        (out, slots)
    }

    /// Number of constant words.
    pub fn constant_len(layout: &Layout) -> usize {
        layout.n_const
    }

    /// The ad seen against the template: kept words, slot fills, additions, omissions.
    pub fn diff(&self, layout: &Layout, tokens: &[u32], vocab: &Vocab) -> Vec<DiffPart> {
        let ops = self.align(tokens);
        // Words each region receives, in order.
        let mut fills: Vec<Vec<u32>> = vec![Vec::new(); layout.n_const + 1];
        let mut present = vec![false; layout.n_const];
        for op in &ops {
            match *op {
                Op::Match { col, tok } => match layout.constant[col as usize] {
                    Some(k) => present[k as usize] = true,
                    None => {
                        fills[layout.col_region[col as usize] as usize].push(tokens[tok as usize])
                    }
                },
                Op::Sub { col, tok } => {
                    fills[layout.gap_region[col as usize + 1] as usize].push(tokens[tok as usize])
                }
                Op::Ins { tok, before } => {
                    fills[layout.gap_region[before as usize] as usize].push(tokens[tok as usize])
                }
                Op::Del { .. } => {}
            }
        }
        let mut parts: Vec<DiffPart> = Vec::new();
        let mut emit = |part: DiffPart| {
            let merged = match (parts.last_mut(), &part) {
                (Some(DiffPart::Same(a)), DiffPart::Same(b))
                | (Some(DiffPart::Missing(a)), DiffPart::Missing(b)) => {
                    a.push(' ');
                    a.push_str(b);
                    true
                }
                _ => false,
            };
            if !merged {
                parts.push(part);
            }
        };
        let text = |ids: &[u32]| {
            ids.iter()
                .map(|&t| vocab.word(t))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let region_part = |r: usize, emit: &mut dyn FnMut(DiffPart)| {
            if layout.slot[r] {
                emit(DiffPart::Slot(text(&fills[r])));
            } else if !fills[r].is_empty() {
                emit(DiffPart::Added(text(&fills[r])));
            }
        };
        region_part(0, &mut emit);
        for (col, c) in layout.constant.iter().enumerate() {
            if let Some(k) = *c {
                let w = vocab.word(self.columns[col]).to_owned();
                if present[k as usize] {
                    emit(DiffPart::Same(w));
                } else {
                    emit(DiffPart::Missing(w));
                }
                region_part(k as usize + 1, &mut emit);
            }
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &mut Vocab, s: &str) -> Vec<u32> {
        s.split(' ').map(|w| v.observe(w)).collect()
    }

    /// A vocabulary with realistic counts: the filler words are common, template words rare.
    fn vocab_with_background() -> Vocab {
        let mut v = Vocab::default();
        for i in 0..2000 {
            v.observe(&format!("bg{}", i % 500));
        }
        v
    }

    #[test]
    fn slots_emerge_where_members_vary() {
        let mut v = vocab_with_background();
        let base = "hiring warehouse staff in {} apply with resume at the front office before noon";
        let cities = ["reno", "tulsa", "boise", "omaha", "fresno"];
        let docs: Vec<Vec<u32>> = cities
            .iter()
            .map(|c| ids(&mut v, &base.replace("{}", c)))
            .collect();
        let mut t = TemplateState::seed(0, &docs[0]);
        for d in &docs[1..] {
            let ops = t.align(d);
            let lay = t.layout(&v);
            assert!(t.fit(&lay, d, &ops, &v).admits());
            t.add(&ops);
        }
        let lay = t.layout(&v);
        let (text, slots) = t.render(&lay, &v);
        assert_eq!(text, base);
        assert_eq!(slots, 1);
        let d = ids(&mut v, &base.replace("{}", "salt lake city"));
        let diff = t.diff(&lay, &d, &v);
        assert_eq!(diff[1], DiffPart::Slot("salt lake city".into()));
        assert_eq!(diff.len(), 3);
    }

    #[test]
    fn unrelated_text_is_not_admitted() {
        let mut v = vocab_with_background();
        let a = ids(
            &mut v,
            "quiet two bedroom apartment near the park with parking and laundry",
        );
        let b = ids(
            &mut v,
            "selling a used mountain bike with new tires and the original receipt",
        );
        let t = TemplateState::seed(0, &a);
        let ops = t.align(&b);
        assert!(!t.fit(&t.layout(&v), &b, &ops, &v).admits());
    }

    #[test]
    fn diff_names_missing_and_added_words() {
        let mut v = vocab_with_background();
        let a = ids(
            &mut v,
            "fresh eggs from our farm every saturday morning at the market",
        );
        let b = ids(
            &mut v,
            "fresh eggs from our farm every saturday at the market bring bags",
        );
        let t = TemplateState::seed(0, &a);
        let lay = t.layout(&v);
        let diff = t.diff(&lay, &b, &v);
        assert!(
            diff.contains(&DiffPart::Missing("morning".into())),
            "{diff:?}"
        );
        assert!(
            diff.contains(&DiffPart::Added("bring bags".into())),
            "{diff:?}"
        );
    }

    #[test]
    fn absorb_adds_members_and_keeps_oldest_seed() {
        let mut v = vocab_with_background();
        let a = ids(&mut v, "one two three four five six");
        let mut t1 = TemplateState::seed(5, &a);
        let ops = t1.align(&a);
        t1.add(&ops);
        let t2 = TemplateState::seed(2, &a);
        t1.absorb(&t2);
        assert_eq!(t1.members, 3);
        assert_eq!(t1.seed, 2);
        assert!(t1.support.iter().all(|&s| s == 3));
    }
}
