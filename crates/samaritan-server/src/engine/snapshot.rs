//! The linker saved whole in the store, so a restart loads it and replays only the records made
//! after it (issue 24: a restart at a million stored ads within seconds, not a replay of every
//! record).
//!
//! A snapshot holds the [`LinkedState`] ([`LinkedState::to_snapshot`]), the PDQ search values in
//! the order they became known, and `seq`, the number of link records made when it was taken. It
//! is kept under `link_state` kind [`SNAPSHOT_KIND`] ([`samaritan_store::Store::put_link_snapshot`]:
//! parts and a checked `meta` row). At start it is used only when it loads, was made with this
//! link configuration, and the store holds exactly the records it was built from before `seq`
//! (`applied` of them: a batch linked whose commit failed would otherwise live on in it);
//! otherwise every record is replayed, as before.
//! Copied under the links' read lock (ingest waits for the copy, not for the encoding).

use std::sync::Arc;

use samaritan_engine::linked::LinkedState;
use serde::{Deserialize, Serialize};

use super::{EngineAnalyzer, LINK_KIND, NetworkSync, PdqIndex, read, record_key, write};

/// `link_state` kind of the linker snapshot.
pub const SNAPSHOT_KIND: &str = "link_snapshot";

#[derive(Serialize, Deserialize)]
struct Envelope {
    seq: u64,
    applied: u64,
    linked: Vec<u8>,
    pdq: Vec<String>,
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
                let pdq = read(&me.pdq).values();
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
                .encode()
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
    /// is none or it may not (the reason logged), and the caller replays every record.
    pub(super) async fn load_snapshot(
        &self,
        store: &samaritan_store::Store,
    ) -> Result<Option<SnapshotInfo>, samaritan_store::StoreError> {
        let (seq, bytes) = match store.link_snapshot(SNAPSHOT_KIND).await {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(samaritan_store::StoreError::Corrupt(why)) => {
                tracing::warn!(%why, "the linker snapshot is damaged; replaying every record");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let envelope: Envelope = match postcard::from_bytes(&bytes) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "the linker snapshot does not load; replaying every record");
                return Ok(None);
            }
        };
        if envelope.seq != seq {
            tracing::warn!(
                "the linker snapshot disagrees with its meta row; replaying every record"
            );
            return Ok(None);
        }
        let before = store
            .count_link_state_before(LINK_KIND, &record_key(seq))
            .await?;
        if before != envelope.applied {
            tracing::warn!(
                seq,
                applied = envelope.applied,
                stored = before,
                "the linker snapshot was built from records the store does not hold; replaying every record"
            );
            return Ok(None);
        }
        let state = match LinkedState::from_snapshot(&envelope.linked, &self.link_config) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "the linker snapshot is not usable; replaying every record");
                return Ok(None);
            }
        };
        let ads = state.linker().len();
        let mut links = write(&self.links);
        let mut sync = NetworkSync::default();
        for id in state.linker().ids() {
            sync.touched(id.to_owned());
        }
        links.state = state;
        links.sync = sync;
        links.seq = seq;
        links.applied = envelope.applied;
        let mut pdq = PdqIndex::default();
        for v in &envelope.pdq {
            pdq.add(v);
        }
        *write(&self.pdq) = pdq;
        Ok(Some(SnapshotInfo {
            seq,
            ads,
            bytes: bytes.len(),
        }))
    }
}
