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
//! - **chars**: character n-grams (3–5 by default) inside each unmasked word, with `<` and `>` at
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

use crate::extract::{Extraction, Kind};
use crate::model::Mention;
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
            char_min: 3,
            char_max: 5,
        }
    }
}

/// The smallest and largest feature spaces a model may have.
pub const MIN_BITS: u8 = 10;
pub const MAX_BITS: u8 = 26;

/// What the featurizer reads of one ad: its original document, the normalized text with the
/// way back, what was extracted, and the policy's indicators with their original spans.
pub struct ModelInput<'a> {
    pub document: &'a str,
    pub normalized: &'a Normalized,
    pub mentions: Vec<Mention>,
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
            mentions: prepared.extraction.mentions(),
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
    fn emit(&mut self, space: Space, prefix: &str, parts: &[&str], span: Option<[usize; 2]>) {
        self.buf.clear();
        self.buf.extend_from_slice(prefix.as_bytes());
        for (i, p) in parts.iter().enumerate() {
            self.buf.push(if i == 0 { 0x1f } else { b' ' });
            self.buf.extend_from_slice(p.as_bytes());
        }
        let slot = (xxh3_64_with_seed(&self.buf, self.cfg.seed) & self.mask) as u32;
        self.raw.push(pack(slot, space));
        if let Some(named) = &mut self.named {
            named.push(Named {
                slot,
                name: format!("{prefix}:{}", parts.join(" ")),
                span,
            });
        }
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
    /// Lower-cased word, or a class token such as `<phone>`.
    text: String,
    class: bool,
    /// Byte range in the normalized text.
    norm: Range<usize>,
    /// Byte range in the original document.
    orig: [usize; 2],
}

fn class_of(m: &Mention) -> &'static str {
    match m.kind.as_str() {
        "phone" => "<phone>",
        "email" => "<email>",
        "url" => "<url>",
        "handle" => "<handle>",
        "payment" => "<payment>",
        "price" => "<price>",
        "age" if m.subject.as_deref() == Some("advertised") => "<age>",
        "age" => "<age_other>",
        _ => "<place>",
    }
}

fn tokens(input: &ModelInput) -> Vec<Token> {
    let text = input.normalized.text.as_str();
    let mut mentions: Vec<&Mention> = input.mentions.iter().collect();
    mentions.sort_by_key(|m| (m.span[0], m.span[1]));
    let mut out: Vec<Token> = Vec::new();
    // which mention the previous token was masked to, to fold a mention's tokens into one
    let mut last_mention: Option<usize> = None;
    let mut start = None;
    let mut push = |range: Range<usize>, out: &mut Vec<Token>| {
        let span = input.normalized.original_span(range.clone());
        let hit = mentions
            .iter()
            .position(|m| m.span[0] < span.end && span.start < m.span[1]);
        match hit {
            Some(i) => {
                if last_mention == Some(i)
                    && let Some(prev) = out.last_mut()
                {
                    prev.norm.end = range.end;
                    prev.orig[1] = prev.orig[1].max(span.end);
                    return;
                }
                last_mention = Some(i);
                out.push(Token {
                    text: class_of(mentions[i]).to_owned(),
                    class: true,
                    norm: range,
                    orig: [span.start, span.end],
                });
            }
            None => {
                last_mention = None;
                let word = &text[range.clone()];
                let (word, class) = if word.bytes().all(|b| b.is_ascii_digit()) {
                    (format!("<num{}>", word.len().min(4)), true)
                } else {
                    (word.to_lowercase(), false)
                };
                out.push(Token {
                    text: word,
                    class,
                    norm: range,
                    orig: [span.start, span.end],
                });
            }
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            push(s..i, &mut out);
        }
    }
    if let Some(s) = start {
        push(s..text.len(), &mut out);
    }
    out
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

fn run(input: &ModelInput, cfg: &FeatureConfig, named: bool) -> (Vec<u64>, Vec<Named>) {
    let mut sink = Sink {
        cfg,
        mask: (1u64 << cfg.bits.clamp(MIN_BITS, MAX_BITS)) - 1,
        buf: Vec::with_capacity(64),
        raw: Vec::with_capacity(2048),
        named: named.then(Vec::new),
    };
    let toks = tokens(input);
    let text = input.normalized.text.as_str();
    let mut lower: Vec<u8> = Vec::with_capacity(64);
    let mut starts: Vec<usize> = Vec::with_capacity(64);
    let mut src: Vec<Range<usize>> = Vec::with_capacity(64);
    for (i, t) in toks.iter().enumerate() {
        sink.emit(Space::Words, "word", &[&t.text], Some(t.orig));
        if let Some(next) = toks.get(i + 1) {
            sink.emit(
                Space::Words,
                "bigram",
                &[&t.text, &next.text],
                Some([t.orig[0], next.orig[1]]),
            );
        }
        if t.class {
            continue;
        }
        // character n-grams of "<word>": the lower-cased word's UTF-8 and its char starts, each
        // n-gram hashed straight from that buffer
        lower.clear();
        starts.clear();
        src.clear();
        starts.push(0);
        lower.push(b'<');
        src.push(t.norm.start..t.norm.start);
        for (off, c) in text[t.norm.clone()].char_indices() {
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
        for n in usize::from(cfg.char_min.max(1))..=usize::from(cfg.char_max) {
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
        let of: Vec<&Mention> = input.mentions.iter().filter(|m| m.kind == name).collect();
        if of.is_empty() {
            continue;
        }
        sink.emit(Space::Other, "kind", &[name], None);
        sink.emit(Space::Other, "kind", &[name, band(of.len())], None);
        if let Some(m) = of.iter().find(|m| m.obfuscated) {
            sink.emit(Space::Other, "obf", &[name], Some(m.span));
        }
    }
    for age in input.extraction.ages() {
        sink.emit(Space::Other, "age", &[age_band(age)], None);
    }
    let len = usize::BITS - toks.len().leading_zeros();
    sink.emit(Space::Other, "len", &[&len.to_string()], None);
    sink.emit(Space::Other, "bias", &[], None);
    (sink.raw, sink.named.unwrap_or_default())
}

/// The ad's features (distinct slots, sorted by slot).
pub fn featurize(input: &ModelInput, cfg: &FeatureConfig) -> Features {
    finish(run(input, cfg, false).0)
}

/// The ad's features and every occurrence with its name and span, for explanations.
pub fn featurize_named(input: &ModelInput, cfg: &FeatureConfig) -> (Features, Vec<Named>) {
    let (raw, named) = run(input, cfg, true);
    (finish(raw), named)
}

fn finish(mut raw: Vec<u64>) -> Features {
    // presence per (slot, namespace); words and chars scaled to unit norm
    raw.sort_unstable();
    raw.dedup();
    let (mut words, mut chars) = (0usize, 0usize);
    for &r in &raw {
        match r & 3 {
            0 => words += 1,
            1 => chars += 1,
            _ => {}
        }
    }
    let words = 1.0 / (words.max(1) as f32).sqrt();
    let chars = 1.0 / (chars.max(1) as f32).sqrt();
    let mut slots: Vec<(u32, f32)> = Vec::with_capacity(raw.len());
    for r in raw {
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
    Features { slots }
}
