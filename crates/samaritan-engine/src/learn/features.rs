//! Features for the learned model: what an ad's prepared half already knows, hashed into a fixed
//! space.
//!
//! Four namespaces, each hashed with xxh3 (a fixed, documented function: the same bytes give the
//! same index on every run and platform): a feature is `namespace 0x1f part[ part…]` hashed under
//! the model's seed, except character n-grams, hashed as their bytes alone under
//! `seed ^ CHAR_SEED` (the cheapest form for the most numerous features); the slot is the hash's
//! low `bits` bits.
//!
//! - **words**: lower-cased word unigrams and bigrams of the normalized text, with identifier
//!   spans masked to class tokens (`<phone>`, `<email>`, `<url>`, `<handle>`, `<payment>`,
//!   `<price>`, `<age>` / `<age_other>`, `<place>`) and other numbers to `<numN>` (N digits, at
//!   most 4), so that the model learns wording and never a particular phone or city;
//! - **chars**: character n-grams (3–4 by default) inside each unmasked word, with `<` and `>` at
//!   its edges (fastText's scheme), which survive misspellings and new inflections;
//! - **policy**: the indicators the policy matched (`ind=<id>`, `cat=<category>`);
//! - **facts**: the kinds extracted and how many (`kind=phone`, `kind=phone:2`, `obf=phone`),
//!   the advertised ages in bands (`age=18-19`), a length band and a bias.
//!
//! Words and chars are each scaled to unit L2 norm (long ads do not outweigh short ones); policy
//! and facts features are 1. Every text feature keeps its span in the *original* document
//! (mapped back through [`Normalized::original_span`], as the policy's hits are), so an
//! explanation can point at the words that moved the score.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::extract::{Extraction, Kind, Mark};
use crate::normalize::Normalized;
use crate::pipeline::Prepared;
use crate::policy::Policy;

/// How text becomes features; saved with the model so scoring hashes as training did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// The feature space has `2^bits` slots.
    pub bits: u8,
    /// The xxh3 seed of every feature hash.
    pub seed: u64,
    /// Character n-gram lengths, inclusive.
    pub char_min: u8,
    pub char_max: u8,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            bits: 20,
            seed: 0x5a4d_4152_4954_414e, // "SAMARITAN" folded, pinned forever
            // 3- and 4-grams: 5-grams cost a third of the n-grams and bought nothing measurable
            // (BENCHMARKS.md, "Model": same AUCs and oracle recalls on hold-out, blind-2 and
            // blind-3 within 0.002). A model keeps the lengths it was trained with.
            char_min: 3,
            char_max: 4,
        }
    }
}

/// The smallest and largest feature spaces a model may have.
pub const MIN_BITS: u8 = 10;
pub const MAX_BITS: u8 = 26;

impl FeatureConfig {
    /// Checks the ranges a model file or a training run may ask for; the message names them.
    pub fn check(&self) -> Result<(), String> {
        if !(MIN_BITS..=MAX_BITS).contains(&self.bits) {
            return Err(format!("bits must be in {MIN_BITS}..={MAX_BITS}"));
        }
        if !(1 <= self.char_min && self.char_min <= self.char_max && self.char_max <= 8) {
            return Err("character n-grams need 1 <= char_min <= char_max <= 8".into());
        }
        Ok(())
    }
}

/// What the featurizer reads of one ad: its original document, the normalized text with the
/// way back, what was extracted, and the policy's indicators with their original spans.
pub struct ModelInput<'a> {
    pub document: &'a str,
    pub normalized: &'a Normalized,
    /// The extracted occurrences (kind, original span, flags), in the extraction's order.
    pub mentions: Vec<Mark>,
    /// `(indicator id, category, original span)`.
    pub indicators: Vec<(&'a str, &'a str, Option<[usize; 2]>)>,
    pub extraction: &'a Extraction,
}

impl<'a> ModelInput<'a> {
    /// The input of an ad prepared by [`crate::Engine::prepare`] under `policy`.
    pub fn from_prepared(prepared: &'a Prepared, policy: &'a Policy) -> ModelInput<'a> {
        let indicators = prepared
            .text_hits
            .iter()
            .filter_map(|h| {
                policy
                    .indicators
                    .get(h.indicator)
                    .map(|i| (i.id.as_str(), i.category.as_str(), h.span))
            })
            .collect();
        ModelInput {
            document: &prepared.document,
            normalized: &prepared.normalized,
            mentions: prepared.extraction.marks().collect(),
            indicators,
            extraction: &prepared.extraction,
        }
    }
}

/// One ad's features: distinct slots, sorted, with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub slots: Vec<(u32, f32)>,
}

/// One feature occurrence as an explanation shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub slot: u32,
    /// `namespace:text`, e.g. `word:incall`, `char:<ca`, `ind:youth_language`.
    pub name: String,
    /// Original byte span, for text features and matched indicators.
    pub span: Option<[usize; 2]>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Space {
    Words = 0,
    Chars = 1,
    Other = 2,
}

/// Collects occurrences; names only when an explanation asked for them.
struct Sink<'c> {
    cfg: &'c FeatureConfig,
    mask: u64,
    buf: Vec<u8>,
    raw: Vec<u64>,
    named: Option<Vec<Named>>,
}

impl Sink<'_> {
    /// Emits one feature; returns its full 64-bit hash.
    fn emit(
        &mut self,
        space: Space,
        prefix: &str,
        parts: &[&str],
        span: Option<[usize; 2]>,
    ) -> u64 {
        self.buf.clear();
        self.buf.extend_from_slice(prefix.as_bytes());
        for (i, p) in parts.iter().enumerate() {
            self.buf.push(if i == 0 { 0x1f } else { b' ' });
            self.buf.extend_from_slice(p.as_bytes());
        }
        let hash = xxh3_64_with_seed(&self.buf, self.cfg.seed);
        let slot = (hash & self.mask) as u32;
        self.raw.push(pack(slot, space));
        if let Some(named) = &mut self.named {
            named.push(Named {
                slot,
                name: format!("{prefix}:{}", parts.join(" ")),
                span,
            });
        }
        hash
    }
}

impl Sink<'_> {
    /// A character n-gram: its UTF-8 bytes hashed under the seed xor [`CHAR_SEED`].
    fn emit_char(&mut self, gram: &[u8], span: Option<[usize; 2]>) {
        let slot = (xxh3_64_with_seed(gram, self.cfg.seed ^ CHAR_SEED) & self.mask) as u32;
        self.raw.push(pack(slot, Space::Chars));
        if let Some(named) = &mut self.named {
            named.push(Named {
                slot,
                name: format!("char:{}", String::from_utf8_lossy(gram)),
                span,
            });
        }
    }
}

/// Character n-grams are hashed as their bytes alone, under `seed ^ CHAR_SEED` ("char").
pub const CHAR_SEED: u64 = 0x6368_6172;

/// A slot and its namespace in one word, so that sorting them is one integer sort.
fn pack(slot: u32, space: Space) -> u64 {
    (u64::from(slot) << 2) | space as u64
}

/// A token of the masked text.
struct Token {
    /// Byte range in [`Tokens::text`] of the lower-cased word, or of a class token such as
    /// `<phone>`.
    text: Range<usize>,
    class: bool,
    /// Byte range in the normalized text.
    norm: Range<usize>,
    /// Byte range in the original document.
    orig: [usize; 2],
}

/// The masked text's tokens, their texts in one buffer (no allocation per token).
#[derive(Default)]
struct Tokens {
    text: String,
    list: Vec<Token>,
}

impl Tokens {
    fn text(&self, t: &Token) -> &str {
        &self.text[t.text.clone()]
    }
}

fn class_of(m: &Mark) -> &'static str {
    match m.kind {
        Kind::Phone => "<phone>",
        Kind::Email => "<email>",
        Kind::Url => "<url>",
        Kind::Handle => "<handle>",
        Kind::Payment => "<payment>",
        Kind::Price => "<price>",
        Kind::Age if m.advertised => "<age>",
        Kind::Age => "<age_other>",
        Kind::Location => "<place>",
    }
}

/// The class token of a number of `digits` ASCII digits.
fn num_class(digits: usize) -> &'static str {
    match digits {
        0 | 1 => "<num1>",
        2 => "<num2>",
        3 => "<num3>",
        _ => "<num4>",
    }
}

/// The tokens of `input`, made in `out` (cleared first; its buffers are reused).
fn tokens(input: &ModelInput, out: &mut Tokens) {
    let text = input.normalized.text.as_str();
    let mut mentions: Vec<&Mark> = input.mentions.iter().collect();
    mentions.sort_by_key(|m| (m.span[0], m.span[1]));
    out.text.clear();
    out.list.clear();
    // which mention the previous token was masked to, to fold a mention's tokens into one
    let mut last_mention: Option<usize> = None;
    let mut push = |range: Range<usize>, out: &mut Tokens| {
        let span = input.normalized.original_span(range.clone());
        let hit = mentions
            .iter()
            .position(|m| m.span[0] < span.end && span.start < m.span[1]);
        let at = out.text.len();
        match hit {
            Some(i) => {
                if last_mention == Some(i)
                    && let Some(prev) = out.list.last_mut()
                {
                    prev.norm.end = range.end;
                    prev.orig[1] = prev.orig[1].max(span.end);
                    return;
                }
                last_mention = Some(i);
                out.text.push_str(class_of(mentions[i]));
                out.list.push(Token {
                    text: at..out.text.len(),
                    class: true,
                    norm: range,
                    orig: [span.start, span.end],
                });
            }
            None => {
                last_mention = None;
                let word = &text[range.clone()];
                let class = word.bytes().all(|b| b.is_ascii_digit());
                if class {
                    out.text.push_str(num_class(word.len()));
                } else if word.is_ascii() {
                    out.text
                        .extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
                } else {
                    out.text.push_str(&word.to_lowercase());
                }
                out.list.push(Token {
                    text: at..out.text.len(),
                    class,
                    norm: range,
                    orig: [span.start, span.end],
                });
            }
        }
    };
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            push(s..i, out);
        }
    }
    if let Some(s) = start {
        push(s..text.len(), out);
    }
}

fn band(n: usize) -> &'static str {
    match n {
        0 => "0",
        1 => "1",
        2 => "2",
        _ => "3+",
    }
}

fn age_band(age: u32) -> &'static str {
    match age {
        0..=17 => "under-18",
        18..=19 => "18-19",
        20..=21 => "20-21",
        22..=25 => "22-25",
        26..=30 => "26-30",
        _ => "31+",
    }
}

/// Whether token `i` (whose `word` feature hashed to `hash`) has the text of an earlier token;
/// records it if not. `seen` is an open-addressing table (a power of two, more than twice the
/// tokens) of `(hash, token)`, empty slots holding token `u32::MAX`.
fn repeated(seen: &mut [(u64, u32)], hash: u64, i: usize, toks: &Tokens) -> bool {
    let mask = seen.len() - 1;
    let word = toks.list.get(i).map(|t| toks.text(t));
    let mut j = hash as usize & mask;
    loop {
        match seen[j] {
            (_, u32::MAX) => {
                seen[j] = (hash, i as u32);
                return false;
            }
            (h, k) if h == hash && toks.list.get(k as usize).map(|t| toks.text(t)) == word => {
                return true;
            }
            _ => j = (j + 1) & mask,
        }
    }
}

/// Every feature occurrence of `input` into `scratch.raw` (cleared first), and their names when
/// `named`.
fn run(input: &ModelInput, cfg: &FeatureConfig, named: bool, scratch: &mut Scratch) -> Vec<Named> {
    let toks = &mut scratch.tokens;
    tokens(input, toks);
    let toks = &*toks;
    scratch.raw.clear();
    let mut sink = Sink {
        cfg,
        mask: (1u64 << cfg.bits.clamp(MIN_BITS, MAX_BITS)) - 1,
        buf: std::mem::take(&mut scratch.buf),
        raw: std::mem::take(&mut scratch.raw),
        named: named.then(Vec::new),
    };
    let text = input.normalized.text.as_str();
    let (lo, hi) = (usize::from(cfg.char_min.max(1)), usize::from(cfg.char_max));
    let char_seed = cfg.seed ^ CHAR_SEED;
    let lower = &mut scratch.lower;
    let mut starts: Vec<usize> = Vec::with_capacity(64);
    let mut src: Vec<Range<usize>> = Vec::with_capacity(64);
    // The words met so far: a word seen before gives the same character n-gram slots again, and
    // features are presences, so its n-grams are not made twice. (Explanations want every
    // occurrence's span, so they take every word.)
    let seen = &mut scratch.seen;
    seen.clear();
    if !named {
        seen.resize(
            (toks.list.len() * 2).next_power_of_two().max(16),
            (0, u32::MAX),
        );
    }
    for (i, t) in toks.list.iter().enumerate() {
        let word = toks.text(t);
        let hash = sink.emit(Space::Words, "word", &[word], Some(t.orig));
        if let Some(next) = toks.list.get(i + 1) {
            sink.emit(
                Space::Words,
                "bigram",
                &[word, toks.text(next)],
                Some([t.orig[0], next.orig[1]]),
            );
        }
        let original = &text[t.norm.clone()];
        // a repeated word's n-grams are made once; only for ASCII words, whose n-grams follow
        // from the lower-cased word (not "ΟΔΟΣ" and "οδος": one word, two final sigmas)
        if !named && original.is_ascii() && repeated(seen, hash, i, toks) {
            continue;
        }
        if t.class {
            continue;
        }
        // character n-grams of "<word>", each hashed straight from the lower-cased bytes
        if original.is_ascii() && sink.named.is_none() {
            // one byte per character: the n-grams are the windows of "<word>"
            lower.clear();
            lower.push(b'<');
            lower.extend_from_slice(word.as_bytes());
            lower.push(b'>');
            for n in lo..=hi.min(lower.len()) {
                for gram in lower.windows(n) {
                    let slot = (xxh3_64_with_seed(gram, char_seed) & sink.mask) as u32;
                    sink.raw.push(pack(slot, Space::Chars));
                }
            }
            continue;
        }
        // any word: each character lower-cased on its own (its first lower-case character),
        // with its source in the normalized text for explanations
        lower.clear();
        starts.clear();
        src.clear();
        starts.push(0);
        lower.push(b'<');
        src.push(t.norm.start..t.norm.start);
        for (off, c) in original.char_indices() {
            starts.push(lower.len());
            let l = c.to_lowercase().next().unwrap_or(c);
            lower.extend_from_slice(l.encode_utf8(&mut [0u8; 4]).as_bytes());
            let at = t.norm.start + off;
            src.push(at..at + c.len_utf8());
        }
        starts.push(lower.len());
        lower.push(b'>');
        src.push(t.norm.end..t.norm.end);
        starts.push(lower.len());
        let chars = starts.len() - 1;
        for n in lo..=hi {
            if n > chars {
                break;
            }
            for i in 0..=chars - n {
                let gram = &lower[starts[i]..starts[i + n]];
                let span = if sink.named.is_some() {
                    let o = input
                        .normalized
                        .original_span(src[i].start..src[i + n - 1].end);
                    Some([o.start, o.end])
                } else {
                    None
                };
                sink.emit_char(gram, span);
            }
        }
    }
    for (id, category, span) in &input.indicators {
        sink.emit(Space::Other, "ind", &[id], *span);
        sink.emit(Space::Other, "cat", &[category], *span);
    }
    for kind in Kind::ALL {
        let name = kind.as_str();
        let count = input.mentions.iter().filter(|m| m.kind == kind).count();
        if count == 0 {
            continue;
        }
        sink.emit(Space::Other, "kind", &[name], None);
        sink.emit(Space::Other, "kind", &[name, band(count)], None);
        let mut of = input.mentions.iter().filter(|m| m.kind == kind);
        if let Some(m) = of.find(|m| m.obfuscated) {
            sink.emit(Space::Other, "obf", &[name], Some(m.span));
        }
    }
    for age in input.extraction.ages() {
        sink.emit(Space::Other, "age", &[age_band(age)], None);
    }
    let len = usize::BITS - toks.list.len().leading_zeros();
    sink.emit(Space::Other, "len", &[&len.to_string()], None);
    sink.emit(Space::Other, "bias", &[], None);
    scratch.buf = sink.buf;
    scratch.raw = sink.raw;
    sink.named.unwrap_or_default()
}

/// Buffers the featurizer reuses from one ad to the next ([`featurize_into`]): once they have
/// grown to the size of an ad, featurizing allocates nothing but the named occurrences of an
/// explanation. Holds no result between calls.
#[derive(Default)]
pub struct Scratch {
    tokens: Tokens,
    buf: Vec<u8>,
    raw: Vec<u64>,
    tmp: Vec<u64>,
    seen: Vec<(u64, u32)>,
    lower: Vec<u8>,
    features: Features,
}

/// The ad's features (distinct slots, sorted by slot).
pub fn featurize(input: &ModelInput, cfg: &FeatureConfig) -> Features {
    let mut scratch = Scratch::default();
    featurize_into(input, cfg, &mut scratch);
    scratch.features
}

/// [`featurize`] in `scratch`'s buffers: the features are borrowed from it.
pub fn featurize_into<'s>(
    input: &ModelInput,
    cfg: &FeatureConfig,
    scratch: &'s mut Scratch,
) -> &'s Features {
    run(input, cfg, false, scratch);
    finish(
        &mut scratch.raw,
        &mut scratch.tmp,
        &mut scratch.features.slots,
    );
    &scratch.features
}

/// The ad's features and every occurrence with its name and span, for explanations.
pub fn featurize_named(input: &ModelInput, cfg: &FeatureConfig) -> (Features, Vec<Named>) {
    let mut scratch = Scratch::default();
    let named = run(input, cfg, true, &mut scratch);
    finish(
        &mut scratch.raw,
        &mut scratch.tmp,
        &mut scratch.features.slots,
    );
    (scratch.features, named)
}

/// Sorts packed `(slot, namespace)` occurrences: least significant digit radix sort, 11 bits a
/// pass (2 passes for the default 2^20 slots), which beats a comparison sort on the ~2 000
/// occurrences of an ad. Small inputs take the comparison sort. The order is the same either way.
fn sort_packed(raw: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    const DIGIT: u32 = 11;
    const BUCKETS: usize = 1 << DIGIT;
    if raw.len() < 256 {
        raw.sort_unstable();
        return;
    }
    let top = raw.iter().copied().max().unwrap_or(0);
    let key_bits = u64::BITS - top.leading_zeros();
    tmp.clear();
    tmp.resize(raw.len(), 0);
    let mut shift = 0;
    while shift < key_bits {
        let mut at = [0usize; BUCKETS];
        for &r in raw.iter() {
            at[((r >> shift) as usize) & (BUCKETS - 1)] += 1;
        }
        let mut sum = 0;
        for a in at.iter_mut() {
            let n = *a;
            *a = sum;
            sum += n;
        }
        for &r in raw.iter() {
            let d = ((r >> shift) as usize) & (BUCKETS - 1);
            tmp[at[d]] = r;
            at[d] += 1;
        }
        std::mem::swap(raw, tmp);
        shift += DIGIT;
    }
}

/// Distinct `(slot, namespace)` occurrences of `raw` (sorted in place) as `slots` (cleared
/// first).
fn finish(raw: &mut Vec<u64>, tmp: &mut Vec<u64>, slots: &mut Vec<(u32, f32)>) {
    // presence per (slot, namespace); words and chars scaled to unit norm
    sort_packed(raw, tmp);
    raw.dedup();
    let (mut words, mut chars) = (0usize, 0usize);
    for &r in raw.iter() {
        match r & 3 {
            0 => words += 1,
            1 => chars += 1,
            _ => {}
        }
    }
    let words = 1.0 / (words.max(1) as f32).sqrt();
    let chars = 1.0 / (chars.max(1) as f32).sqrt();
    slots.clear();
    for &r in raw.iter() {
        let slot = (r >> 2) as u32;
        let v = match r & 3 {
            0 => words,
            1 => chars,
            _ => 1.0,
        };
        match slots.last_mut() {
            Some((s, value)) if *s == slot => *value += v,
            _ => slots.push((slot, v)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

    use super::sort_packed;

    #[test]
    fn the_radix_sort_sorts() {
        // SplitMix64 values of every width a packed occurrence can have, with repeats
        let mut state = 7u64;
        let mut next = || crate::learn::splitmix64(&mut state);
        let mut tmp = Vec::new();
        for (len, bits) in [
            (0, 12),
            (5, 12),
            (300, 12),
            (2000, 22),
            (5000, 28),
            (3000, 64),
        ] {
            let mut v: Vec<u64> = (0..len)
                .map(|_| next() >> (64 - bits))
                .chain((0..len / 10).map(|i| i as u64))
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_packed(&mut v, &mut tmp);
            assert_eq!(v, want, "{len} values of {bits} bits");
        }
    }
}
