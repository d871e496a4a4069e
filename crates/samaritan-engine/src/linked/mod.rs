//! Linked analysis: the stateful middle of the pipeline, in one place for every caller.
//!
//! An ad's analysis depends on the ads before it once they are linked into networks. Every
//! caller — `samaritan scan`, `samaritan networks`, the service's ingest and its demo loading —
//! runs the same four steps:
//!
//! 1. [`Engine::prepare_linked`](crate::Engine::prepare_linked) (stateless; run it on every
//!    core): normalize, extract, match the policy, fingerprint the text, build the linker's input
//!    → a [`LinkReady`];
//! 2. [`LinkedState::look_up_batch`] (read-only; the caller's map may run it on every core)
//!    then [`LinkedState::link_batch`] (in input order): the photos' identities and the linker
//!    ([`LinkedState::lookup`] and [`LinkedState::link`] do the same for one ad);
//! 3. [`LinkedState::networks_of`] or [`LinkedState::all_networks`]: the networks of the ads
//!    as of some moment, with the share of each network's members that shows each policy
//!    context by its own wording;
//! 4. [`NetworkContexts::finish`] ([`NetworkContexts::context`] and
//!    [`Engine::finish_staged`](crate::Engine::finish_staged))
//!    (stateless again): decide with the network's features and assemble the analysis.
//!
//! The engine starts no threads: callers choose where each step runs. What the linker was told
//! about each ad can be kept as a [`LinkRecord`] and replayed ([`LinkedState::replay`]) to get
//! the same state back after a restart; a snapshot of the whole state
//! ([`LinkedState::to_snapshot`]) spares replaying the records made before it. Step 1's result
//! travels between processes as a [`PreparedAd`] (the distributed mode's prepare workers).

mod prepare;
mod prepared;
mod record;
mod snapshot;
mod state;

pub use prepare::{LinkReady, LinkStage, link_input};
pub use prepared::{PREPARED_FORMAT, PreparedAd};
pub use record::{LINK_FORMAT, LinkRecord, Photo, RecordError};
pub use snapshot::{Jobs, SNAPSHOT_FORMAT, SnapshotCopy, SnapshotError, one_by_one};
pub use state::{BatchLookups, LinkedState, NetworkContexts};
