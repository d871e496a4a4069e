//! A linked state saved whole, so that a restart reads one value and replays only the records
//! made after it instead of every record ever made.
//!
//! The snapshot holds what the linker, the photo identities and the per-ad policy contexts
//! cannot be rebuilt without: the ads, the identifiers, the union-finds, the text index's words
//! and clusters, the templates, the band tables' entries and the known photos. What is derived
//! from those is rebuilt at load, each at its final size: the look-ups by ad id, by identifier
//! value, by word hash and by interned string, the band tables' empty slots, the photo index.
//! A restored state is the saved one structure for structure, so it links the next ads exactly
//! as the saved one would.
//!
//! It is binary (postcard), versioned by [`SNAPSHOT_FORMAT`], and carries the [`LinkConfig`] it
//! was made with: a snapshot of another format or configuration is refused, and the caller falls
//! back to replaying the records. After the format and the configuration come independent parts
//! (byte strings: the ads, the identifiers, the rest of the linker, the text index, its
//! templates, the photos, the contexts, then one per LSH band), each read by a job of its own:
//! [`LinkedState::from_snapshot_with`] hands the jobs to the caller, who runs them one after
//! another or on every core (the engine starts no threads).

use std::collections::HashMap;
use std::marker::PhantomData;

use rustc_hash::FxHashMap;
use serde::de::{DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::LinkedState;
use crate::link::linker::{LoadedLinker, SavedAds, SavedIdents, index_ads, index_idents};
use crate::link::photos::PhotoIdentities;
use crate::link::{LinkConfig, Linker};
use crate::similar::TemplateIndex;
use crate::similar::buckets::{BandTable, SavedBand};
use crate::similar::index::LoadedText;
use crate::similar::template::TemplateState;

/// Layout version of a snapshot. Raise it with any change to a saved structure.
///
/// 1: the whole state as in memory. 2: independent parts, derived look-ups rebuilt at load.
pub const SNAPSHOT_FORMAT: u32 = 2;

/// Why a snapshot does not load.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a linker snapshot: {0}")]
    Decode(#[from] postcard::Error),
    #[error("snapshot format {0} (this build reads {SNAPSHOT_FORMAT})")]
    Format(u32),
    #[error("the snapshot was made with another link configuration")]
    Config,
    #[error("damaged linker snapshot: {0}")]
    Damaged(&'static str),
}

/// Jobs that read (or write) a snapshot's parts, independent of each other. Whoever receives
/// them runs each once, in any order and on any thread, and returns when all have run.
pub type Jobs<'a> = Vec<Box<dyn FnOnce() + Send + 'a>>;

/// Runs the jobs one after another, on the calling thread.
pub fn one_by_one(jobs: Jobs<'_>) {
    for job in jobs {
        job();
    }
}

/// The parts before the band tables, in their order in a snapshot.
const ADS: usize = 0;
const IDENTS: usize = 1;
const LINKER: usize = 2;
const TEXT: usize = 3;
const TEMPLATES: usize = 4;
const PHOTOS: usize = 5;
const CONTEXTS: usize = 6;
/// The first band table's part; one part per band follows.
const BANDS: usize = 7;

/// A part, written as one byte string.
struct Part<'a>(&'a [u8]);

impl Serialize for Part<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[derive(Serialize)]
struct Head<'a> {
    format: u32,
    config: LinkConfig,
    parts: Vec<Part<'a>>,
}

#[derive(Deserialize)]
struct ReadHead<'a> {
    /// Read and checked alone first (see `from_snapshot_with`).
    _format: u32,
    config: LinkConfig,
    #[serde(borrow)]
    parts: Vec<&'a [u8]>,
}

/// A copy of a linked state for a snapshot ([`LinkedState::snapshot_copy`]): quick to make
/// under the caller's lock (memory copies), encoded after it is released
/// ([`SnapshotCopy::encode`], the slow part).
pub struct SnapshotCopy {
    linker: Linker,
    photos: (u32, Vec<u8>),
    own_contexts: HashMap<String, u64>,
}

/// The identifiers read back with their look-ups by value, one per kind.
type IdentsRead = (SavedIdents, [FxHashMap<Box<str>, u32>; 7]);

/// One job's outcome, written where the job was told to.
type Slot<T> = Option<Result<T, SnapshotError>>;

fn job<'a, T: Send + 'a>(
    slot: &'a mut Slot<T>,
    f: impl FnOnce() -> Result<T, SnapshotError> + Send + 'a,
) -> Box<dyn FnOnce() + Send + 'a> {
    Box::new(move || *slot = Some(f()))
}

fn take<T>(slot: Slot<T>) -> Result<T, SnapshotError> {
    slot.unwrap_or(Err(SnapshotError::Damaged("a part was not read")))
}

/// A list part read into a vector of its final size at once (serde's own reading grows it
/// step by step from a cautious start, copying it each time: at a million ads, hundreds of
/// megabytes copied and fresh pages zeroed). Each element takes at least one byte, so a damaged
/// length reserves no more than the part's size.
fn decode_list<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<T>, SnapshotError> {
    struct List<T>(usize, PhantomData<T>);
    impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for List<T> {
        type Value = Vec<T>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de, T: Deserialize<'de>> Visitor<'de> for List<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.0));
            while let Some(x) = seq.next_element()? {
                out.push(x);
            }
            Ok(out)
        }
    }
    let mut de = postcard::Deserializer::from_bytes(bytes);
    Ok(List(bytes.len(), PhantomData).deserialize(&mut de)?)
}

fn encode_part<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, SnapshotError> {
    Ok(postcard::to_stdvec(value)?)
}

impl SnapshotCopy {
    /// The snapshot's bytes ([`LinkedState::from_snapshot`] reads them).
    pub fn encode(&self) -> Result<Vec<u8>, SnapshotError> {
        self.encode_with(&one_by_one)
    }

    /// [`SnapshotCopy::encode`] with each part written by a job that `run` runs.
    pub fn encode_with(&self, run: &dyn Fn(Jobs<'_>)) -> Result<Vec<u8>, SnapshotError> {
        let linker = &self.linker;
        let bands: Vec<&BandTable> = linker.text.bands().collect();
        let mut slots: Vec<Slot<Vec<u8>>> = (0..BANDS + bands.len()).map(|_| None).collect();
        {
            let mut jobs: Jobs<'_> = Vec::with_capacity(slots.len());
            let (fixed, band_slots) = slots.split_at_mut(BANDS);
            let [ads, idents, rest, text, templates, photos, contexts] = fixed else {
                return Err(SnapshotError::Damaged("part count"));
            };
            jobs.push(job(ads, || encode_part::<SavedAds>(&linker.ads)));
            jobs.push(job(idents, || encode_part::<SavedIdents>(&linker.idents)));
            jobs.push(job(rest, || encode_part(&linker.saved_rest())));
            jobs.push(job(text, || encode_part(&linker.text.saved_text())));
            jobs.push(job(templates, || {
                encode_part(&linker.text.saved_templates())
            }));
            jobs.push(job(photos, || {
                let (distance, bytes) = &self.photos;
                encode_part(&(distance, Part(bytes)))
            }));
            jobs.push(job(contexts, || {
                let mut c: Vec<(&str, u64)> = self
                    .own_contexts
                    .iter()
                    .map(|(k, &v)| (k.as_str(), v))
                    .collect();
                c.sort_unstable();
                encode_part(&c)
            }));
            for (slot, band) in band_slots.iter_mut().zip(&bands) {
                jobs.push(job(slot, || encode_part(&band.to_saved())));
            }
            run(jobs);
        }
        let parts = slots.into_iter().map(take).collect::<Result<Vec<_>, _>>()?;
        let head = Head {
            format: SNAPSHOT_FORMAT,
            config: *linker.config(),
            parts: parts.iter().map(|p| Part(p)).collect(),
        };
        Ok(postcard::to_stdvec(&head)?)
    }
}

impl LinkedState {
    /// A copy of the whole state to encode later ([`SnapshotCopy::encode`]).
    pub fn snapshot_copy(&self) -> SnapshotCopy {
        SnapshotCopy {
            linker: self.linker.clone(),
            photos: self.photos.saved(),
            own_contexts: self.own_contexts.clone(),
        }
    }

    /// The whole state as bytes ([`LinkedState::from_snapshot`] reads them back).
    pub fn to_snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        self.snapshot_copy().encode()
    }

    /// The state saved by [`LinkedState::to_snapshot`], when it was made by this format with
    /// `config`.
    pub fn from_snapshot(bytes: &[u8], config: &LinkConfig) -> Result<LinkedState, SnapshotError> {
        Self::from_snapshot_with(bytes, config, &one_by_one)
    }

    /// [`LinkedState::from_snapshot`] with each part read (and its look-ups rebuilt) by a job
    /// that `run` runs: on several threads, a large snapshot loads in a fraction of the time.
    pub fn from_snapshot_with(
        bytes: &[u8],
        config: &LinkConfig,
        run: &dyn Fn(Jobs<'_>),
    ) -> Result<LinkedState, SnapshotError> {
        // The format comes first: read it alone, so another layout is named, not misread.
        let (format, _) = postcard::take_from_bytes::<u32>(bytes)?;
        if format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format(format));
        }
        let head: ReadHead<'_> = postcard::from_bytes(bytes)?;
        if head.config != *config {
            return Err(SnapshotError::Config);
        }
        let n_bands = config.similar.lsh.bands;
        if head.parts.len() != BANDS + n_bands {
            return Err(SnapshotError::Damaged(
                "it does not have the parts of this format",
            ));
        }
        let p = &head.parts;
        let mut ads: Slot<(SavedAds, FxHashMap<Box<str>, u32>)> = None;
        let mut idents: Slot<IdentsRead> = None;
        let mut rest: Slot<LoadedLinker> = None;
        let mut text: Slot<LoadedText> = None;
        let mut templates: Slot<FxHashMap<u32, TemplateState>> = None;
        let mut photos: Slot<PhotoIdentities> = None;
        let mut contexts: Slot<HashMap<String, u64>> = None;
        let mut bands: Vec<Slot<BandTable>> = (0..n_bands).map(|_| None).collect();
        {
            // The largest parts first, so that the small ones fill in at the end.
            let mut jobs: Jobs<'_> = Vec::with_capacity(BANDS + n_bands);
            jobs.push(job(&mut idents, || {
                let idents: SavedIdents = decode_list(p[IDENTS])?;
                let ids = index_idents(&idents).map_err(SnapshotError::Damaged)?;
                Ok((idents, ids))
            }));
            jobs.push(job(&mut ads, || {
                let ads: SavedAds = decode_list(p[ADS])?;
                let ids = index_ads(&ads).map_err(SnapshotError::Damaged)?;
                Ok((ads, ids))
            }));
            jobs.push(job(&mut rest, || Ok(postcard::from_bytes(p[LINKER])?)));
            jobs.push(job(&mut text, || Ok(postcard::from_bytes(p[TEXT])?)));
            jobs.push(job(&mut photos, || {
                let (distance, bytes): (u32, &[u8]) = postcard::from_bytes(p[PHOTOS])?;
                PhotoIdentities::from_saved(distance, bytes).map_err(SnapshotError::Damaged)
            }));
            jobs.push(job(&mut templates, || {
                let list: Vec<(u32, TemplateState)> = decode_list(p[TEMPLATES])?;
                let mut map = FxHashMap::with_capacity_and_hasher(list.len(), Default::default());
                map.extend(list);
                Ok(map)
            }));
            jobs.push(job(&mut contexts, || {
                let list: Vec<(String, u64)> = decode_list(p[CONTEXTS])?;
                let mut map = HashMap::with_capacity(list.len());
                map.extend(list);
                Ok(map)
            }));
            for (slot, part) in bands.iter_mut().zip(&p[BANDS..]) {
                jobs.push(job(slot, move || {
                    let saved: SavedBand = postcard::from_bytes(part)?;
                    BandTable::from_saved(&saved).map_err(SnapshotError::Damaged)
                }));
            }
            run(jobs);
        }
        let bands = bands.into_iter().map(take).collect::<Result<Vec<_>, _>>()?;
        let text = TemplateIndex::from_saved(config.similar, take(text)?, take(templates)?, bands)
            .map_err(SnapshotError::Damaged)?;
        let linker = Linker::from_saved(*config, text, take(ads)?, take(idents)?, take(rest)?)
            .map_err(SnapshotError::Damaged)?;
        Ok(LinkedState {
            linker,
            photos: take(photos)?,
            own_contexts: take(contexts)?,
        })
    }
}
