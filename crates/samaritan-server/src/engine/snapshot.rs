//! The linker saved whole in the store, so a restart loads it and replays only the records made
//! after it (issue 24: a restart at a million stored ads within seconds, not a replay of every
//! record).
//!
//! A snapshot holds the [`LinkedState`] ([`LinkedState::to_snapshot`]), the PDQ search values in
//! the order they became known (32 bytes each), and `seq`, the number of link records made when it was taken. It
//! is kept under `link_state` kind [`SNAPSHOT_KIND`] ([`samaritan_store::Store::put_link_snapshot`]:
//! parts and a checked `meta` row). At start it is used only when it loads, was made with this
//! link configuration, and the store holds exactly the records it was built from before `seq`
//! (`applied` of them: a batch linked whose commit failed would otherwise live on in it);
//! otherwise every record is replayed, as before.
//! Copied under the links' read lock (ingest waits for the copy, not for the encoding). Encoded
//! and decoded on every core (rayon): the linker's parts are independent jobs
//! ([`LinkedState::from_snapshot_with`]), the PDQ search index is built beside them.

use std::sync::Arc;

use rayon::prelude::*;
use samaritan_engine::linked::{Jobs, LinkedState, SNAPSHOT_FORMAT, SnapshotError};
use serde::{Deserialize, Serialize};

use super::{EngineAnalyzer, LINK_KIND, NetworkSync, PdqIndex, read, record_key, write};

/// `link_state` kind of the linker snapshot.
pub const SNAPSHOT_KIND: &str = "link_snapshot";

/// The stored form. `linked` and `pdq` are written as byte strings and read borrowed from the
/// stored bytes: a gigabyte-sized snapshot is not copied, or grown byte by byte, on load.
/// `linked` starts with its format ([`SNAPSHOT_FORMAT`]), checked before anything else is read.
#[derive(Serialize)]
struct Envelope {
    seq: u64,
    applied: u64,
    #[serde(serialize_with = "as_bytes")]
    linked: Vec<u8>,
    /// [`PdqIndex::saved`].
    #[serde(serialize_with = "as_bytes")]
    pdq: Vec<u8>,
}

/// [`Envelope`] as read, up to `pdq` (read after the linker's format is checked: a snapshot
/// of another format is refused by name, whatever followed its linker).
#[derive(Deserialize)]
struct Loaded<'a> {
    seq: u64,
    applied: u64,
    linked: &'a [u8],
}

/// Runs a snapshot's jobs on every core (each one's time at debug level).
fn on_every_core(jobs: Jobs<'_>) {
    jobs.into_par_iter().enumerate().for_each(|(i, job)| {
        let started = std::time::Instant::now();
        job();
        tracing::debug!(
            job = i,
            secs = started.elapsed().as_secs_f64(),
            "linker snapshot job ran"
        );
    });
}

fn as_bytes<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(v)
}

/// What a snapshot taken or loaded covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Link records made before it.
    pub seq: u64,
    /// Ads in the linker.
    pub ads: usize,
    /// Its size in the store.
    pub bytes: usize,
}

/// Why no snapshot was taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotFailure {
    #[error(transparent)]
    Store(#[from] samaritan_store::StoreError),
    #[error("the snapshot could not be made: {0}")]
    Encode(String),
}

impl EngineAnalyzer {
    /// Link records made so far (the `seq` a snapshot taken now would have).
    pub fn link_records(&self) -> u64 {
        read(&self.links).seq
    }

    /// Saves the linker in `store` (replacing the last snapshot). Serializes on a blocking
    /// thread under the links' read lock.
    pub async fn save_snapshot(
        self: &Arc<Self>,
        store: &samaritan_store::Store,
    ) -> Result<SnapshotInfo, SnapshotFailure> {
        let me = self.clone();
        let (seq, ads, bytes) = tokio::task::spawn_blocking(move || {
            // Copied under the lock (ingest waits for the copy only), encoded after it.
            let (copy, seq, applied, ads, pdq) = {
                let links = read(&me.links);
                let pdq = read(&me.pdq).saved();
                let copy = links.state.snapshot_copy();
                (
                    copy,
                    links.seq,
                    links.applied,
                    links.state.linker().len(),
                    pdq,
                )
            };
            let linked = copy
                .encode_with(&on_every_core)
                .map_err(|e| SnapshotFailure::Encode(e.to_string()))?;
            drop(copy);
            let envelope = Envelope {
                seq,
                applied,
                linked,
                pdq,
            };
            let bytes = postcard::to_stdvec(&envelope)
                .map_err(|e| SnapshotFailure::Encode(e.to_string()))?;
            Ok::<_, SnapshotFailure>((seq, ads, bytes))
        })
        .await
        .map_err(|e| SnapshotFailure::Encode(e.to_string()))??;
        store.put_link_snapshot(SNAPSHOT_KIND, seq, &bytes).await?;
        Ok(SnapshotInfo {
            seq,
            ads,
            bytes: bytes.len(),
        })
    }

    /// Loads the stored snapshot when it may be used (see the module doc); `Ok(None)` when there
    /// is none or it may not (the reason logged), and the caller replays every record. The
    /// decoding runs on a blocking thread while the store counts the records it covers.
    pub(super) async fn load_snapshot(
        &self,
        store: &samaritan_store::Store,
        secs: &mut super::RestoreSecs,
    ) -> Result<Option<SnapshotInfo>, samaritan_store::StoreError> {
        let started = std::time::Instant::now();
        let found = store.link_snapshot(SNAPSHOT_KIND).await;
        secs.snapshot_read = started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        let (seq, bytes) = match found {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(samaritan_store::StoreError::Corrupt(why)) => {
                tracing::warn!(%why, "the linker snapshot is damaged; replaying every record");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let size = bytes.len();
        let config = self.link_config;
        let decoding = tokio::task::spawn_blocking(move || decode(&bytes, seq, &config));
        let before = store
            .count_link_state_before(LINK_KIND, &record_key(seq))
            .await;
        let decoded = decoding
            .await
            .map_err(|e| samaritan_store::StoreError::Corrupt(e.to_string()))?;
        let before = before?;
        let (state, applied, pdq) = match decoded {
            Ok(d) => d,
            Err(why) => {
                tracing::warn!(%why, "the linker snapshot is not usable; replaying every record");
                return Ok(None);
            }
        };
        if before != applied {
            tracing::warn!(
                seq,
                applied,
                stored = before,
                "the linker snapshot was built from records the store does not hold; replaying every record"
            );
            return Ok(None);
        }
        let ads = state.linker().len();
        let mut links = write(&self.links);
        links.state = state;
        links.sync = NetworkSync::default();
        links.seq = seq;
        links.applied = applied;
        *write(&self.pdq) = pdq;
        secs.snapshot_decode = started.elapsed().as_secs_f64();
        Ok(Some(SnapshotInfo {
            seq,
            ads,
            bytes: size,
        }))
    }
}

/// The linker, its `applied` count and the PDQ search index from a snapshot's bytes, or why
/// they may not be used. The linker's parts and the PDQ index are built on every core.
fn decode(
    bytes: &[u8],
    seq: u64,
    config: &samaritan_engine::link::LinkConfig,
) -> Result<(LinkedState, u64, PdqIndex), String> {
    let (envelope, rest) = postcard::take_from_bytes::<Loaded<'_>>(bytes)
        .map_err(|e| format!("it does not load: {e}"))?;
    if envelope.seq != seq {
        return Err("it disagrees with its meta row".into());
    }
    match postcard::take_from_bytes::<u32>(envelope.linked) {
        Ok((f, _)) if f == SNAPSHOT_FORMAT => {}
        Ok((f, _)) => return Err(SnapshotError::Format(f).to_string()),
        Err(e) => return Err(format!("it does not load: {e}")),
    }
    let (pdq, _) =
        postcard::take_from_bytes::<&[u8]>(rest).map_err(|e| format!("it does not load: {e}"))?;
    let (state, pdq) = rayon::join(
        || LinkedState::from_snapshot_with(envelope.linked, config, &on_every_core),
        || {
            let started = std::time::Instant::now();
            let pdq = PdqIndex::from_saved(pdq);
            let secs = started.elapsed().as_secs_f64();
            tracing::debug!(secs, "PDQ search index built from the snapshot");
            pdq
        },
    );
    let state = state.map_err(|e| e.to_string())?;
    let pdq = pdq.ok_or("its PDQ values are not a whole number of hashes")?;
    Ok((state, envelope.applied, pdq))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap (CONTRIBUTING.md)
    use super::*;

    /// The envelope reads back with `linked` and `pdq` borrowed in place, and a snapshot of
    /// another format (the envelope of format 1 held its PDQ values as strings) is refused by
    /// name.
    #[test]
    fn the_envelope_reads_in_place_and_another_format_is_named() {
        let mut linked = postcard::to_stdvec(&SNAPSHOT_FORMAT).unwrap();
        linked.extend(0..=255u8);
        let now = postcard::to_stdvec(&Envelope {
            seq: 7,
            applied: 6,
            linked: linked.clone(),
            pdq: vec![9; 64],
        })
        .unwrap();
        let (loaded, rest) = postcard::take_from_bytes::<Loaded<'_>>(&now).unwrap();
        assert_eq!((loaded.seq, loaded.applied), (7, 6));
        assert_eq!(loaded.linked, &linked[..]);
        let (pdq, _) = postcard::take_from_bytes::<&[u8]>(rest).unwrap();
        assert_eq!(pdq, &[9; 64][..]);
        let start = now.as_ptr() as usize;
        let at = loaded.linked.as_ptr() as usize;
        assert!(at > start && at < start + now.len());

        #[derive(Serialize)]
        struct Earlier {
            seq: u64,
            applied: u64,
            linked: Vec<u8>,
            pdq: Vec<String>,
        }
        let earlier = postcard::to_stdvec(&Earlier {
            seq: 7,
            applied: 6,
            linked: vec![1, 0, 0, 0],
            pdq: vec!["ab".repeat(32)],
        })
        .unwrap();
        let config = samaritan_engine::link::LinkConfig::default();
        let why = decode(&earlier, 7, &config).err().unwrap();
        assert!(why.contains("snapshot format 1"), "{why}");
        assert_eq!(
            decode(&now, 8, &config).err().unwrap(),
            "it disagrees with its meta row"
        );
    }
}
