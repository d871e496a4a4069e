//! The stateful half: LSH buckets, clusters of near-duplicates and their templates.
//!
//! Inserting an ad looks up its band keys (one hash look-up per band), ranks the clusters found
//! there by how many bands point at them, and fits the ad to at most `max_candidates` of them by
//! description length. It joins the cheapest cluster that explains it; clusters that both explain
//! it are merged. Each bucket remembers only the first ad that filled it — every ad found
//! through a bucket stands for its whole cluster — so a bucket shared by a million copies costs
//! one entry and one look-up, and no step is quadratic in a bucket's size.

use rustc_hash::FxHashMap;

use super::align::Op;
use super::buckets::BandTable;
use super::fingerprint::{Fingerprint, SimilarConfig};
use super::template::{AdBits, DiffPart, Layout, TemplateState};
use super::vocab::{SavedVocab, Vocab};

/// A rendered template with its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateView {
    /// Internal index of the cluster's oldest ad (names the template).
    pub seed: u32,
    pub members: u32,
    /// Constant words with `{}` at each slot.
    pub text: String,
    pub slots: u32,
    /// Number of constant words.
    pub constant_words: u32,
}

/// What inserting one ad did to the clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// Cluster root of the new ad after the insert.
    pub root: u32,
    /// Roots (before the insert) of every cluster now merged under `root`, the new ad's own
    /// singleton excluded. Empty when the ad stayed alone.
    pub absorbed: Vec<u32>,
}

/// Near-duplicate clusters over ads numbered 0, 1, 2, … in insertion order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TemplateIndex {
    cfg: SimilarConfig,
    vocab: Vocab,
    /// Token ids of every ad, back to back; ad `i` owns `tokens[offsets[i]..offsets[i + 1]]`.
    #[serde(with = "crate::raw_vec::u32s")]
    tokens: Vec<u32>,
    #[serde(with = "crate::raw_vec::u64s")]
    offsets: Vec<u64>,
    #[serde(with = "crate::raw_vec::u32s")]
    parent: Vec<u32>,
    #[serde(with = "crate::raw_vec::u32s")]
    size: Vec<u32>,
    templates: FxHashMap<u32, TemplateState>,
    buckets: Vec<BandTable>,
}

impl TemplateIndex {
    pub fn new(cfg: SimilarConfig) -> Self {
        TemplateIndex {
            cfg,
            vocab: Vocab::default(),
            tokens: Vec::new(),
            offsets: vec![0],
            parent: Vec::new(),
            size: Vec::new(),
            templates: FxHashMap::default(),
            buckets: (0..cfg.lsh.bands).map(|_| BandTable::default()).collect(),
        }
    }

    pub fn config(&self) -> &SimilarConfig {
        &self.cfg
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Token ids of ad `ad`.
    pub fn tokens(&self, ad: u32) -> &[u32] {
        let i = ad as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&s), Some(&e)) => &self.tokens[s as usize..e as usize],
            _ => &[],
        }
    }

    /// Cluster root of `ad` (read-only; paths are short thanks to union by size).
    pub fn root(&self, ad: u32) -> u32 {
        let mut x = ad;
        while let Some(&p) = self.parent.get(x as usize) {
            if p == x {
                break;
            }
            x = p;
        }
        x
    }

    /// Number of ads in `ad`'s cluster.
    pub fn cluster_size(&self, ad: u32) -> u32 {
        self.size.get(self.root(ad) as usize).copied().unwrap_or(0)
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let gp = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
        x
    }

    /// Files the fingerprint of the next ad (its index is `self.len()`).
    pub fn insert(&mut self, fp: &Fingerprint) -> Joined {
        let ad = self.parent.len() as u32;
        // Known words are found by hash alone; the text is split only when a word is new.
        let start = self.tokens.len();
        let mut new_word = false;
        for &h in &fp.hashes {
            match self.vocab.observe_known(h) {
                Some(id) => self.tokens.push(id),
                None => {
                    new_word = true;
                    break;
                }
            }
        }
        if new_word {
            let done = self.tokens.len() - start;
            for (w, &h) in fp
                .words
                .split(' ')
                .filter(|w| !w.is_empty())
                .zip(&fp.hashes)
                .skip(done)
            {
                let id = self.vocab.observe_hashed(h, w);
                self.tokens.push(id);
            }
        }
        self.offsets.push(self.tokens.len() as u64);
        self.parent.push(ad);
        self.size.push(1);

        // Each band's bucket is looked up and, when empty, filled with this ad in one probe
        // (the fits below never read the buckets). The ads found are gathered first and their
        // clusters resolved after, so the independent look-ups overlap in memory.
        let touched = self
            .buckets
            .iter()
            .zip(&fp.bands)
            .fold(0u64, |acc, (bucket, &key)| acc ^ bucket.touch(key));
        std::hint::black_box(touched);
        let mut found: Vec<u32> = Vec::with_capacity(fp.bands.len());
        for (bucket, &key) in self.buckets.iter_mut().zip(&fp.bands) {
            if let Some(other) = bucket.get_or_insert(key, ad) {
                found.push(other);
            }
        }
        // Candidate clusters, most band votes first, then oldest first (deterministic).
        let mut votes: Vec<(u32, u32)> = Vec::new();
        for other in found {
            let r = self.find(other);
            match votes.iter_mut().find(|(root, _)| *root == r) {
                Some((_, v)) => *v += 1,
                None => votes.push((r, 1)),
            }
        }
        votes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        votes.truncate(self.cfg.max_candidates);

        let mut admitted: Vec<(f64, u32, Vec<Op>)> = Vec::new();
        let tokens = self.tokens(ad).to_vec();
        let bits: Vec<f64> = tokens.iter().map(|&t| self.vocab.bits(t)).collect();
        let priced = AdBits::new(&bits);
        for &(root, _) in &votes {
            let seeded;
            let state = match self.templates.get(&root) {
                Some(s) => s,
                None => {
                    seeded = TemplateState::seed(root, self.tokens(root));
                    &seeded
                }
            };
            let layout = state.layout(&self.vocab);
            let ops = state.align(&tokens);
            let fit = state.fit_priced(&layout, &priced, &ops);
            if fit.admits() {
                admitted.push((fit.given, root, ops));
            }
        }
        if admitted.is_empty() {
            return Joined {
                root: ad,
                absorbed: Vec::new(),
            };
        }
        admitted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut iter = admitted.into_iter();
        let Some((_, best, ops)) = iter.next() else {
            return Joined {
                root: ad,
                absorbed: Vec::new(),
            };
        };
        let mut state = self.take_state(best);
        state.add(&ops);
        self.parent[ad as usize] = best;
        self.size[best as usize] += 1;
        let mut root = best;
        let mut absorbed = vec![best];
        for (_, other, _) in iter {
            let other_state = self.take_state(other);
            let (big, small, mut keep, give) =
                if self.size[root as usize] >= self.size[other as usize] {
                    (root, other, state, other_state)
                } else {
                    (other, root, other_state, state)
                };
            keep.absorb(&give);
            self.parent[small as usize] = big;
            self.size[big as usize] += self.size[small as usize];
            state = keep;
            root = big;
            absorbed.push(other);
        }
        self.templates.insert(root, state);
        Joined { root, absorbed }
    }

    fn take_state(&mut self, root: u32) -> TemplateState {
        self.templates
            .remove(&root)
            .unwrap_or_else(|| TemplateState::seed(root, self.tokens(root)))
    }

    fn state_of(&self, ad: u32) -> Option<(&TemplateState, Layout)> {
        let s = self.templates.get(&self.root(ad))?;
        let layout = s.layout(&self.vocab);
        Some((s, layout))
    }

    /// The template of `ad`'s cluster, if the cluster has two or more ads.
    pub fn template_of(&self, ad: u32) -> Option<TemplateView> {
        let (s, layout) = self.state_of(ad)?;
        let (text, slots) = s.render(&layout, &self.vocab);
        Some(TemplateView {
            seed: s.seed,
            members: s.members,
            text,
            slots,
            constant_words: TemplateState::constant_len(&layout) as u32,
        })
    }

    /// Internal index of the oldest ad of `ad`'s cluster, when the cluster has two or more ads.
    pub fn seed_of(&self, ad: u32) -> Option<u32> {
        self.templates.get(&self.root(ad)).map(|s| s.seed)
    }

    /// How `ad` differs from its template.
    pub fn diff_of(&self, ad: u32) -> Option<Vec<DiffPart>> {
        let (s, layout) = self.state_of(ad)?;
        Some(s.diff(&layout, self.tokens(ad), &self.vocab))
    }
}

/// The words and clusters of a [`TemplateIndex`] as a snapshot keeps them; its templates and
/// band tables are saved apart ([`TemplateIndex::saved_templates`], [`BandTable::to_saved`]) so
/// that each part can be read on its own thread.
#[derive(serde::Serialize)]
pub struct SavedText<'a> {
    vocab: SavedVocab,
    #[serde(with = "crate::raw_vec::u32s")]
    tokens: &'a [u32],
    #[serde(with = "crate::raw_vec::u64s")]
    offsets: &'a [u64],
    #[serde(with = "crate::raw_vec::u32s")]
    parent: &'a [u32],
    #[serde(with = "crate::raw_vec::u32s")]
    size: &'a [u32],
}

/// [`SavedText`] as read back.
#[derive(serde::Deserialize)]
pub struct LoadedText {
    vocab: SavedVocab,
    #[serde(with = "crate::raw_vec::u32s")]
    tokens: Vec<u32>,
    #[serde(with = "crate::raw_vec::u64s")]
    offsets: Vec<u64>,
    #[serde(with = "crate::raw_vec::u32s")]
    parent: Vec<u32>,
    #[serde(with = "crate::raw_vec::u32s")]
    size: Vec<u32>,
}

impl TemplateIndex {
    /// The words and clusters, for a snapshot.
    pub fn saved_text(&self) -> SavedText<'_> {
        SavedText {
            vocab: self.vocab.to_saved(),
            tokens: &self.tokens,
            offsets: &self.offsets,
            parent: &self.parent,
            size: &self.size,
        }
    }

    /// The templates of the clusters of two or more ads, for a snapshot (root order).
    pub fn saved_templates(&self) -> Vec<(u32, &TemplateState)> {
        let mut out: Vec<(u32, &TemplateState)> =
            self.templates.iter().map(|(&r, t)| (r, t)).collect();
        out.sort_unstable_by_key(|&(r, _)| r);
        out
    }

    /// The band tables, one per LSH band (a snapshot saves each apart).
    pub fn bands(&self) -> impl Iterator<Item = &BandTable> + '_ {
        self.buckets.iter()
    }

    /// The index a snapshot saved ([`TemplateIndex::saved_text`], `saved_templates`, the band
    /// tables), made with `cfg`; an error when the parts do not fit together.
    pub fn from_saved(
        cfg: SimilarConfig,
        text: LoadedText,
        templates: FxHashMap<u32, TemplateState>,
        buckets: Vec<BandTable>,
    ) -> Result<TemplateIndex, &'static str> {
        let LoadedText {
            vocab,
            tokens,
            offsets,
            parent,
            size,
        } = text;
        let ads = parent.len();
        if size.len() != ads || offsets.len() != ads + 1 || buckets.len() != cfg.lsh.bands {
            return Err("text index lists differ in length");
        }
        // Every ad's tokens lie in the token list, in order; every parent is an ad; every
        // token is a word of the vocabulary.
        if offsets.first() != Some(&0)
            || offsets.last() != Some(&(tokens.len() as u64))
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            return Err("text index offsets out of order");
        }
        if parent.iter().any(|&p| p as usize >= ads)
            || templates
                .iter()
                .any(|(&r, t)| r as usize >= ads || t.seed as usize >= ads)
        {
            return Err("text index refers to an ad it does not hold");
        }
        let vocab = Vocab::from_saved(vocab)?;
        if tokens.iter().any(|&t| t as usize >= vocab.len()) {
            return Err("text index token out of the vocabulary");
        }
        Ok(TemplateIndex {
            cfg,
            vocab,
            tokens,
            offsets,
            parent,
            size,
            templates,
            buckets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::similar::fingerprint::fingerprint;

    #[test]
    fn clusters_near_duplicates_and_keeps_strangers_apart() {
        let mut idx = TemplateIndex::new(SimilarConfig::default());
        let texts = [
            "Now hiring delivery drivers in Reno, flexible hours, weekly pay, apply online today with your license and two references",
            "Vintage oak dresser for sale, six drawers, minor scratches, pickup only on weekends near the old mill",
            "Now hiring delivery drivers in Tulsa, flexible hours, weekly pay, apply online today with your license and two references",
            "Now hiring delivery drivers in Boise, flexible hours, weekly pay, apply online today with your license and two references",
        ];
        let roots: Vec<u32> = texts
            .iter()
            .map(|t| idx.insert(&fingerprint(t)).root)
            .collect();
        assert_eq!(roots[0], 0);
        assert_eq!(roots[1], 1);
        assert_eq!(idx.root(2), 0);
        assert_eq!(idx.root(3), 0);
        assert_eq!(idx.cluster_size(3), 3);
        let t = idx.template_of(3).unwrap();
        assert_eq!(t.members, 3);
        assert_eq!(t.slots, 1);
        assert!(
            t.text
                .starts_with("now hiring delivery drivers in {} flexible"),
            "{}",
            t.text
        );
        assert!(idx.template_of(1).is_none());
        let d = idx.diff_of(2).unwrap();
        assert!(d.contains(&DiffPart::Slot("tulsa".into())), "{d:?}");
    }

    #[test]
    fn empty_text_never_links() {
        let mut idx = TemplateIndex::new(SimilarConfig::default());
        idx.insert(&fingerprint(""));
        let j = idx.insert(&fingerprint(""));
        assert_eq!(j.root, 1);
        assert!(j.absorbed.is_empty());
        assert_eq!(idx.tokens(1), &[] as &[u32]);
        assert_eq!(idx.tokens(99), &[] as &[u32]);
    }
}
