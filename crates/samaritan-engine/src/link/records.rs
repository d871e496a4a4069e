//! Saving and restoring a linker: plain records a SQL store can hold row by row.
//!
//! After a restart the service must get every network, template and LSH bucket back. The state
//! is written as flat lists — words, ads (with their identifiers, tokens and template cluster),
//! guarded identifiers, band keys, templates — and read back with every index and length
//! checked, so a damaged or hostile file is refused with a reason instead of panicking later.
//! Networks are not stored: they are the connected groups of the stored links and are joined
//! again on load (linear in the number of links).

use serde::{Deserialize, Serialize};

use super::ident::{HubNote, IdentKind};
use super::input::{LinkError, MAX_VALUE_BYTES, MAX_VALUES};
use super::linker::{LinkConfig, Linker};
use crate::model::MAX_ID_BYTES;
use crate::similar::template::TemplateState;

/// Version of the record layout.
pub const RECORDS_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordRecord {
    pub word: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentRecord {
    pub kind: IdentKind,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdRecord {
    pub id: String,
    pub posted_at: Option<i64>,
    /// Normalised `city, region`.
    pub place: Option<String>,
    pub identifiers: Vec<IdentRecord>,
    pub names: Vec<String>,
    /// Vocabulary ids of the ad's tokens.
    pub tokens: Vec<u32>,
    /// Index of the ad whose cluster this ad belongs to (its own index when alone).
    pub cluster: u32,
    /// The ad's copied content links nothing (it would bridge two posters).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub content_off: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandRecord {
    pub band: u32,
    pub key: u32,
    /// First ad filed under this key.
    pub ad: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRecord {
    /// Cluster root (an ad index).
    pub root: u32,
    pub seed: u32,
    pub members: u32,
    pub columns: Vec<u32>,
    pub support: Vec<u32>,
    pub gap_fill: Vec<u32>,
    /// Set when the hub guard withdrew the template from linking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<HubNote>,
}

/// The whole state of a [`Linker`] as plain records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkerRecords {
    pub format: u32,
    pub config: LinkConfig,
    pub vocab: Vec<WordRecord>,
    pub ads: Vec<AdRecord>,
    pub hubs: Vec<HubNote>,
    pub bands: Vec<BandRecord>,
    pub templates: Vec<TemplateRecord>,
}

fn bad(msg: impl Into<String>) -> LinkError {
    LinkError::BadState(msg.into())
}

impl Linker {
    /// The linker's state as records (deterministic order).
    pub fn to_records(&self) -> LinkerRecords {
        let text = &self.text;
        let vocab = text
            .vocab()
            .iter()
            .map(|(w, c)| WordRecord {
                word: w.to_owned(),
                count: c,
            })
            .collect();
        let ads = self
            .ads
            .iter()
            .enumerate()
            .map(|(i, a)| AdRecord {
                id: a.id.to_string(),
                posted_at: a.posted_at,
                place: a.city.map(|c| self.places.get(c).to_owned()),
                identifiers: a
                    .idents
                    .iter()
                    .map(|&x| {
                        let e = &self.idents[x as usize];
                        IdentRecord {
                            kind: e.kind,
                            value: e.value.to_string(),
                        }
                    })
                    .collect(),
                names: a
                    .names
                    .iter()
                    .map(|&n| self.names.get(n).to_owned())
                    .collect(),
                tokens: text.tokens(i as u32).to_vec(),
                cluster: text.root(i as u32),
                content_off: a.content_off,
            })
            .collect();
        let hubs = self
            .idents
            .iter()
            .filter_map(|e| e.hub.as_deref().cloned())
            .collect();
        let mut bands: Vec<BandRecord> = text
            .bands()
            .map(|(b, key, ad)| BandRecord {
                band: b as u32,
                key,
                ad,
            })
            .collect();
        bands.sort_unstable_by_key(|b| (b.band, b.key));
        let mut templates: Vec<TemplateRecord> = text
            .templates()
            .map(|(root, s)| TemplateRecord {
                root,
                seed: s.seed,
                members: s.members,
                columns: s.columns.clone(),
                support: s.support.clone(),
                gap_fill: s.gap_fill.clone(),
                guard: self.template_guard(root).cloned(),
            })
            .collect();
        templates.sort_unstable_by_key(|t| t.root);
        LinkerRecords {
            format: RECORDS_FORMAT,
            config: self.cfg,
            vocab,
            ads,
            hubs,
            bands,
            templates,
        }
    }

    /// Rebuilds a linker from records, checking every index and length.
    pub fn from_records(rec: LinkerRecords) -> Result<Linker, LinkError> {
        if rec.format != RECORDS_FORMAT {
            return Err(bad(format!(
                "record format {} (this build reads {RECORDS_FORMAT})",
                rec.format
            )));
        }
        check_config(&rec.config)?;
        let mut linker = Linker::new(rec.config);
        let max_tokens = rec.config.similar.align_max_tokens;
        let n_ads = rec.ads.len();
        {
            let vocab = linker.template_index_mut().vocab_mut();
            for w in &rec.vocab {
                if w.word.is_empty() || w.word.contains(' ') || w.word.len() > MAX_VALUE_BYTES {
                    return Err(bad(
                        "vocabulary word is empty, too long or contains a space",
                    ));
                }
                vocab.restore(&w.word, w.count).map_err(bad)?;
            }
        }
        let vocab_len = rec.vocab.len();
        for (i, a) in rec.ads.iter().enumerate() {
            let at = |m: &str| bad(format!("ad #{i}: {m}"));
            if a.id.trim().is_empty()
                || a.id.len() > MAX_ID_BYTES
                || a.id.chars().any(char::is_control)
            {
                return Err(at("invalid id"));
            }
            if a.tokens.len() > max_tokens || a.tokens.iter().any(|&t| t as usize >= vocab_len) {
                return Err(at("token list too long or token outside the vocabulary"));
            }
            if a.cluster as usize >= n_ads {
                return Err(at("cluster index out of range"));
            }
            if a.identifiers.len() > 6 * MAX_VALUES || a.names.len() > MAX_VALUES {
                return Err(at("too many identifiers or names"));
            }
            let values = a
                .identifiers
                .iter()
                .map(|x| &x.value)
                .chain(&a.names)
                .chain(&a.place);
            for v in values {
                if v.trim().is_empty() || v.len() > MAX_VALUE_BYTES {
                    return Err(at("empty or over-long value"));
                }
            }
            let mut idents: Vec<u32> = Vec::with_capacity(a.identifiers.len());
            for x in &a.identifiers {
                let id = linker.intern_ident(x.kind, &x.value);
                if !idents.contains(&id) {
                    idents.push(id);
                }
            }
            let city = a.place.as_deref().map(|p| linker.places.intern(p));
            let names: Vec<u32> = a.names.iter().map(|n| linker.names.intern(n)).collect();
            linker.restore_ad(
                &a.id,
                a.posted_at,
                city,
                idents.into(),
                names.into(),
                a.content_off,
            )?;
            linker.template_index_mut().restore_ad(&a.tokens, a.cluster);
        }
        let text = linker.template_index_mut();
        for a in &rec.ads {
            if rec.ads[a.cluster as usize].cluster != a.cluster {
                return Err(bad(format!(
                    "ad {:?}: its cluster root is not a root",
                    a.id
                )));
            }
        }
        text.restore_sizes();
        let bands = rec.config.similar.lsh.bands;
        for b in &rec.bands {
            if b.band as usize >= bands || b.ad as usize >= n_ads {
                return Err(bad("band record out of range"));
            }
            if !text.restore_band(b.band as usize, b.key, b.ad) {
                return Err(bad("duplicate band record"));
            }
        }
        let mut with_template = 0usize;
        let mut guards = Vec::new();
        for t in &rec.templates {
            let ok = (t.root as usize) < n_ads
                && text.is_root(t.root)
                && (t.seed as usize) < n_ads
                && t.support.len() == t.columns.len()
                && t.gap_fill.len() == t.columns.len() + 1
                && t.columns.len() <= max_tokens
                && t.columns.iter().all(|&c| (c as usize) < vocab_len)
                && t.members == text.cluster_size(t.root)
                && t.members >= 2
                && t.support.iter().chain(&t.gap_fill).all(|&v| v <= t.members);
            if !ok {
                return Err(bad(format!(
                    "template of cluster {} is inconsistent",
                    t.root
                )));
            }
            let state = TemplateState {
                seed: t.seed,
                members: t.members,
                columns: t.columns.clone(),
                support: t.support.clone(),
                gap_fill: t.gap_fill.clone(),
            };
            if !text.restore_template(t.root, state) {
                return Err(bad("duplicate template record"));
            }
            with_template += 1;
            if let Some(g) = &t.guard {
                guards.push((t.root, g.clone()));
            }
        }
        let clusters = (0..n_ads as u32)
            .filter(|&a| text.is_root(a) && text.cluster_size(a) >= 2)
            .count();
        if clusters != with_template {
            return Err(bad("a cluster of two or more ads has no template record"));
        }
        for h in rec.hubs {
            let Some(x) = linker.ident_index(h.kind, &h.value) else {
                return Err(bad(format!(
                    "guarded {} is carried by no ad",
                    h.kind.as_str()
                )));
            };
            linker.restore_hub(x, h);
        }
        linker.restore_usage(guards);
        for a in 0..n_ads as u32 {
            linker.relink(a);
        }
        Ok(linker)
    }
}

fn check_config(c: &LinkConfig) -> Result<(), LinkError> {
    let s = &c.similar;
    let ok = (1..=256).contains(&s.lsh.bands)
        && (1..=16).contains(&s.lsh.rows)
        && (1..=4096).contains(&s.align_max_tokens)
        && (1..=64).contains(&s.max_candidates)
        && (1..=16).contains(&s.shingles.word_k)
        && (1..=64).contains(&s.shingles.char_k)
        && s.shingles.max_tokens >= 1
        && c.hub.min_ratio.is_finite();
    if ok {
        Ok(())
    } else {
        Err(bad("configuration out of range"))
    }
}
