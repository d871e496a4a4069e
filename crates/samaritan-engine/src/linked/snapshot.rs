//! A linked state saved whole, so that a restart reads one value and replays only the records
//! made after it instead of every record ever made.
//!
//! The snapshot holds the linker, the photo identities and the per-ad policy contexts exactly
//! (the photo index is rebuilt from the photos in the order they became known; every other
//! structure is saved as it is in memory, hash-table slots included), so a restored state links
//! the next ads exactly as the saved one would. It is binary (postcard), versioned by
//! [`SNAPSHOT_FORMAT`], and carries the [`LinkConfig`] it was made with: a snapshot of another
//! format or configuration is refused, and the caller falls back to replaying the records.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::LinkedState;
use crate::link::{LinkConfig, Linker};
use crate::pdq::PdqHash;

/// Layout version of a snapshot. Raise it with any change to a saved structure.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// Why a snapshot does not load.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a linker snapshot: {0}")]
    Decode(#[from] postcard::Error),
    #[error("snapshot format {0} (this build reads {SNAPSHOT_FORMAT})")]
    Format(u32),
    #[error("the snapshot was made with another link configuration")]
    Config,
}

/// A copy of a linked state for a snapshot ([`LinkedState::snapshot_copy`]): quick to make
/// under the caller's lock (memory copies), encoded after it is released
/// ([`SnapshotCopy::encode`], the slow part). Its layout is the one [`LinkedState`] loads from.
#[derive(Serialize)]
pub struct SnapshotCopy {
    format: u32,
    config: LinkConfig,
    linker: Linker,
    photos: (Vec<PdqHash>, u32),
    own_contexts: HashMap<String, u64>,
}

impl SnapshotCopy {
    /// The snapshot's bytes ([`LinkedState::from_snapshot`] reads them).
    pub fn encode(&self) -> Result<Vec<u8>, SnapshotError> {
        Ok(postcard::to_stdvec(self)?)
    }
}

#[derive(Deserialize)]
struct Loading {
    /// Read and checked alone first (see `from_snapshot`).
    _format: u32,
    config: LinkConfig,
    state: LinkedState,
}

impl LinkedState {
    /// A copy of the whole state to encode later ([`SnapshotCopy::encode`]).
    pub fn snapshot_copy(&self) -> SnapshotCopy {
        SnapshotCopy {
            format: SNAPSHOT_FORMAT,
            config: *self.config(),
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
        // The format comes first: read it alone, so another layout is named, not misread.
        let (format, _) = postcard::take_from_bytes::<u32>(bytes)?;
        if format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format(format));
        }
        let loaded: Loading = postcard::from_bytes(bytes)?;
        if loaded.config != *config || loaded.state.config() != config {
            return Err(SnapshotError::Config);
        }
        Ok(loaded.state)
    }
}
