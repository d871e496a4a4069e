//! Samaritan's durable state, on embedded SQLite (one machine) or PostgreSQL (many machines).
//!
//! Why one type with two backends instead of two unrelated implementations: the SQL is shared
//! verbatim (`$1` placeholders, `ON CONFLICT`, `RETURNING` work in both), so the two stores cannot
//! drift apart; the few places where the dialects differ (transaction start, row locking, the
//! audit lock) are named in [`backend::Dialect`]. The same test suite runs against both
//! (`tests/store_suite.rs`).
//!
//! What lives here: ads exactly as received (with earlier revisions), every analysis (latest and
//! history), identifiers for search, the review queue with claim leases, decisions, networks and
//! their members, opaque link state for the linker, hash banks (also HMA-shaped ones), API keys (hashed), the people who
//! sign in (passwords as Argon2id hashes), policy and learned-model versions (with the model's
//! shadow scores) and the hash-chained audit log.
//! The store stores; it never decides what an ad means.

#[macro_use]
mod macros;

pub mod appeals;
pub mod audit;
pub mod audit_sample;
mod backend;
pub mod dashboard;
pub mod decisions;
pub mod error;
pub mod evidence;
pub mod hash_bank;
pub mod hma;
pub mod holds;
#[macro_use]
pub mod ingest;
pub mod keys;
pub mod link_state;
pub mod models;
#[macro_use]
pub mod networks;
pub mod outbox;
pub mod policy;
pub mod qa;
pub mod queue;
pub mod reads;
pub mod reasons;
pub mod reports;
pub mod retention;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod stream;
pub mod users;
pub mod webhooks;
mod writer;

use std::path::Path;

pub use appeals::Appeal;
pub use audit::{AuditEntry, AuditProblem, AuditReport};
pub use audit_sample::{AuditAnswer, AuditCounts};
pub use backend::Dialect;
pub use dashboard::Dashboard;
pub use decisions::{Decision, DecisionAction, DecisionBasis, DecisionInput};
pub use error::StoreError;
pub use evidence::{PreservedFile, PreservedObject, ReleasedEvidence, SealedBlob};
pub use hma::{HmaBank, HmaContent, HmaContentMeta, HmaSignal};
pub use holds::{Hold, HoldExtension};
pub use ingest::{IngestItem, IngestResult, IngestStatus, ShadowInput, ad_digest, identifiers_of};
pub use keys::{ApiKey, KeyRecord, Scope};
pub use models::{
    BatchDecision, ModelSave, ModelSource, ModelVersion, Recalibration, ShadowDecided, ShadowScore,
    StoredModel,
};
pub use networks::{CaseMember, NetworkChanges, NetworkMember, NetworkRecord, NetworkSave};
pub use policy::PolicyVersion;
pub use qa::{Agreement, GoldenItem, QaAnswer, QaTask};
pub use queue::{Draws, NetworkSummary, QueueItem, QueueState, SignalSummary};
pub use reads::{AdRecord, Stats};
pub use reasons::ReasonCodes;
pub use reports::{FilingStep, Report, ReportCounts, ReportFile, ReportOpen, ReportTimes};
pub use retention::{Purged, RetentionCandidate};
pub use search::{IdentifierKind, SearchHit};
pub use sessions::{Exposure, NewSession, Session, SessionLimits};
pub use settings::ViewSettings;
pub use stream::{Leadership, ParkInput, ParkedMessage};
pub use users::{LoginError, Role, User};
pub use webhooks::{Delivery, DeliveryCounts, DueDelivery, WebhookEndpoint};
pub use writer::Queued;

use backend::Backend;

/// Result of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The file name of the SQLite database inside a data directory.
pub const SQLITE_FILE: &str = "samaritan.db";

/// A handle to the store. Cheap to clone; all clones share the pools and the ingest writer.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    writer: writer::Writer,
    /// The share of allowed ad revisions sampled for the quality audit at ingest.
    audit: audit_sample::AuditRate,
}

impl Store {
    /// Opens (creating if needed) the SQLite store in `dir` and runs its migrations.
    ///
    /// Durability: WAL journal with `synchronous=FULL`, so a transaction that has returned is in
    /// the fsynced WAL and survives a process kill and a power loss.
    pub async fn open_sqlite(dir: &Path) -> Result<Store> {
        let backend = Backend::open_sqlite(dir).await?;
        Ok(Store::with_backend(backend))
    }

    /// Connects to PostgreSQL at `url` and runs the migrations.
    pub async fn open_postgres(url: &str) -> Result<Store> {
        Store::open_postgres_in_schema(url, None).await
    }

    /// Like [`Store::open_postgres`], but keeps every table in `schema` (created if missing).
    /// Lets several stores (tests, tenants) share one database without seeing each other.
    pub async fn open_postgres_in_schema(url: &str, schema: Option<&str>) -> Result<Store> {
        let backend = Backend::open_postgres(url, schema).await?;
        Ok(Store::with_backend(backend))
    }

    /// Opens a store from a location string: `postgres://…`/`postgresql://…` connects to
    /// PostgreSQL, anything else is a data directory for SQLite.
    pub async fn open(location: &str) -> Result<Store> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Store::open_postgres(location).await
        } else {
            Store::open_sqlite(Path::new(location)).await
        }
    }

    fn with_backend(backend: Backend) -> Store {
        let audit = audit_sample::AuditRate::default();
        let writer = writer::Writer::spawn(backend.clone(), audit.clone());
        Store {
            backend,
            writer,
            audit,
        }
    }

    /// Which SQL dialect this store speaks.
    pub fn dialect(&self) -> Dialect {
        self.backend.dialect()
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        on_read!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        })
    }

    /// Whether [`Store::close`] was called (background workers stop then).
    pub fn is_closed(&self) -> bool {
        self.backend.is_closed()
    }

    /// Closes the pools after pending work finished.
    pub async fn close(&self) {
        self.backend.close().await;
    }
}

/// Milliseconds since the Unix epoch, the store's unit of time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Lowercase hex of bytes (hashes are stored and shown this way).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// SHA-256 of `data` as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(data))
}

/// SHA-256 of bytes written to it, and how many (for hashing a stream without holding it).
#[derive(Default)]
pub struct Sha256Stream {
    hasher: sha2::Sha256,
    bytes: u64,
}

impl Sha256Stream {
    /// The lowercase hex digest and the byte count.
    pub fn finish(self) -> (String, u64) {
        use sha2::Digest;
        (hex(&self.hasher.finalize()), self.bytes)
    }
}

impl std::io::Write for Sha256Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
