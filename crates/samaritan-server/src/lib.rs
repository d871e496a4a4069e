//! Samaritan's HTTP API: platforms post ads, reviewers work the queue, auditors verify the log.
//!
//! Handlers are thin: they authenticate, parse and bound the input, hand ads to the engine through
//! the [`Analyzer`] seam, and hand storage to [`samaritan_store::Store`]. Everything under `/v1`
//! needs `Authorization: Bearer <key>` with the right scope; `/healthz`, `/readyz` and
//! `/openapi.json` do not. Every error is JSON: `{"error": {"code", "message", "field"}}`.

pub mod analyzer;
mod auth;
mod body;
pub mod calibration;
pub mod console;
pub mod cybertip;
pub mod engine;
pub mod error;
pub mod evidence;
mod follow_up;
mod hma;
pub mod learning;
mod metrics;
pub mod openapi;
pub mod preserve;
mod rate;
pub mod reports;
pub(crate) mod routes;
pub mod shelf;
pub mod stage_cpu;
pub mod stream;
pub mod vault;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
pub use samaritan_engine::model::AdLimits;
use samaritan_store::Store;

pub use analyzer::{Analyzer, Ingested, PolicyDiff, PolicyInfo, PolicyRejection};
pub use console::{ConsoleConfig, GOLDEN_RATE, SECOND_REVIEW_RATE};
pub use engine::{EngineAnalyzer, LINK_KIND, RestoreSecs, Restored, SNAPSHOT_KIND, SnapshotInfo};
pub use error::ApiError;
pub use hma::HmaConfig;
pub use routes::ads::{IngestOutcome, ingest, ingest_each};

/// The window of the time-to-first-decision figures (dashboard and `/metrics`): 7 days.
pub const DASHBOARD_WINDOW_SECS: i64 = 7 * 24 * 3600;

/// Bounds on what one caller may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most ads in one `POST /v1/ads`.
    pub max_batch: usize,
    /// Requests per second allowed per key (sustained); 0 turns rate limiting off.
    pub rate_per_sec: f64,
    /// Requests a key may make at once before the rate applies.
    pub burst: f64,
    /// Lease a claim gets when the request does not say.
    pub default_lease_secs: i64,
    /// How long a checked key is remembered before the store is asked again. The default, 0,
    /// asks the store on every request (one primary-key read), so a key revoked from another
    /// process stops working on its next request; with N > 0 a revoked key may work for up to
    /// N ms.
    pub key_cache_ms: u64,
    /// Caps on each ad's fields and its number of images (see [`AdLimits`]).
    pub ad: AdLimits,
    /// Most `{url}` images in one request, over all its ads (each is a fetch when fetching is
    /// on; the service holds each fetched file until the request's images are decoded).
    pub max_url_images: usize,
    /// The review console's sessions and sign-in throttle.
    pub console: ConsoleConfig,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            max_batch: 1000,
            rate_per_sec: 200.0,
            burst: 400.0,
            default_lease_secs: 600,
            key_cache_ms: 0,
            ad: AdLimits::default(),
            max_url_images: 16,
            console: ConsoleConfig::default(),
        }
    }
}

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    analyzer: Arc<dyn Analyzer>,
    limits: Limits,
    rate: rate::RateLimiter,
    metrics: metrics::Metrics,
    /// Recently checked keys: id → (record, SHA-256 of the presented key, checked at).
    keys: std::sync::Mutex<std::collections::HashMap<String, auth::CachedKey>>,
    /// Serialises policy updates so the stored order and the order put in force agree.
    policy_lock: tokio::sync::Mutex<()>,
    /// Serialises network saves, so a later state of the linker is never overwritten by an
    /// earlier one.
    network_lock: tokio::sync::Mutex<()>,
    /// Requests analysed at once: one per core. More only adds threads that fight for the
    /// cores and for the linker's lock, and throws away the pattern matchers' per-thread
    /// caches (at 32 concurrent single-ad requests, rebuilding them was a fifth of the
    /// policy's matching time).
    engine_slots: tokio::sync::Semaphore,
    /// The reason codes decisions must use.
    reasons: samaritan_store::ReasonCodes,
    /// False once a verification found the audit chain (or the decisions checked against it)
    /// broken: `/readyz` then fails until a verification passes again.
    audit_intact: std::sync::atomic::AtomicBool,
    /// Failed console sign-ins per client address.
    login_throttle: console::session::AddressThrottle,
    /// Where the images taken in are kept for review (set once at start; unset: none kept).
    blobs: std::sync::OnceLock<samaritan_media::BlobStore>,
    /// Who files reports (set once at start; unset: drafts say it is missing).
    reporter: std::sync::OnceLock<reports::Reporter>,
    /// The CyberTipline client reports are filed with (set once at start; unset: not filed
    /// from the service).
    cybertip: std::sync::OnceLock<std::sync::Arc<cybertip::client::Client>>,
    /// How report cases are preserved (set once at start; unset: not preserved, as in tests
    /// that build a bare state — `serve` always sets it).
    preservation: std::sync::OnceLock<std::sync::Arc<preserve::Preservation>>,
    /// How webhooks are delivered (set once at start with the worker; unset: the defaults,
    /// and no worker — events wait in the outbox).
    webhooks: std::sync::OnceLock<webhooks::DeliveryConfig>,
    /// Wakes the webhook worker after a change that wrote an event.
    webhook_wake: std::sync::Arc<tokio::sync::Notify>,
    /// How the HMA-compatible routes fetch, hash and match (set once at start; unset: the
    /// defaults — public addresses only, distance 31).
    hma: std::sync::OnceLock<HmaConfig>,
    /// The HMA matcher's index of banked signals.
    hma_index: hma::IndexCache,
    /// One learner at a time ([`learning::learn_pending`]).
    learn_lock: tokio::sync::Mutex<calibration::LearnerMemory>,
    /// Wakes the learner after a decision.
    learn_wake: std::sync::Arc<tokio::sync::Notify>,
    /// What share of each claim active learning draws ([`learning::ActiveDraw`]).
    active: learning::ActiveDraw,
    /// What share of each claim the quality audit draws (`serve --audit-share`).
    audit: learning::ActiveDraw,
    /// Where `POST /v1/ads` puts accepted ads instead of analysing them here (`serve
    /// --stream`; set once at start; unset: analysed and stored here).
    stream: std::sync::OnceLock<stream::Publisher>,
}

impl AppState {
    pub fn new(store: Store, analyzer: Arc<dyn Analyzer>, limits: Limits) -> AppState {
        AppState::with_reasons(
            store,
            analyzer,
            limits,
            samaritan_store::ReasonCodes::default(),
        )
    }

    /// Like [`AppState::new`], with the platform's own reason codes.
    pub fn with_reasons(
        store: Store,
        analyzer: Arc<dyn Analyzer>,
        limits: Limits,
        reasons: samaritan_store::ReasonCodes,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                rate: rate::RateLimiter::new(limits.rate_per_sec, limits.burst),
                store,
                analyzer,
                limits,
                metrics: metrics::Metrics::default(),
                policy_lock: tokio::sync::Mutex::new(()),
                network_lock: tokio::sync::Mutex::new(()),
                engine_slots: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
                ),
                keys: std::sync::Mutex::new(std::collections::HashMap::new()),
                reasons,
                audit_intact: std::sync::atomic::AtomicBool::new(true),
                login_throttle: console::session::AddressThrottle::default(),
                blobs: std::sync::OnceLock::new(),
                reporter: std::sync::OnceLock::new(),
                cybertip: std::sync::OnceLock::new(),
                preservation: std::sync::OnceLock::new(),
                webhooks: std::sync::OnceLock::new(),
                webhook_wake: std::sync::Arc::new(tokio::sync::Notify::new()),
                hma: std::sync::OnceLock::new(),
                hma_index: hma::IndexCache::default(),
                learn_lock: tokio::sync::Mutex::new(calibration::LearnerMemory::default()),
                learn_wake: std::sync::Arc::new(tokio::sync::Notify::new()),
                active: learning::ActiveDraw::new(learning::DEFAULT_ACTIVE_SHARE),
                audit: learning::ActiveDraw::new(learning::DEFAULT_AUDIT_SHARE),
                stream: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Active learning's draw (`serve --active-share`).
    pub fn active_draw(&self) -> &learning::ActiveDraw {
        &self.inner.active
    }

    /// The quality audit's draw (`serve --audit-share`).
    pub fn audit_draw(&self) -> &learning::ActiveDraw {
        &self.inner.audit
    }

    /// What to draw into a claim of `n` open items from outside the policy's queue.
    pub fn draws(&self, n: i64) -> samaritan_store::Draws {
        samaritan_store::Draws {
            audit: self.inner.audit.draw(n),
            learning: self.inner.active.draw(n),
        }
    }

    pub fn analyzer(&self) -> &Arc<dyn Analyzer> {
        &self.inner.analyzer
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn reasons(&self) -> &samaritan_store::ReasonCodes {
        &self.inner.reasons
    }

    /// Serves kept images from `blobs` in the console (the same directory the image intake
    /// keeps them in). Set once; a second call is ignored.
    pub fn serve_images_from(&self, blobs: samaritan_media::BlobStore) {
        let _ = self.inner.blobs.set(blobs);
    }

    pub(crate) fn blobs(&self) -> Option<&samaritan_media::BlobStore> {
        self.inner.blobs.get()
    }

    /// Files reports as `reporter` (checked first). Set once; a second call is ignored.
    pub fn set_reporter(&self, reporter: reports::Reporter) -> Result<(), String> {
        reporter.check()?;
        let _ = self.inner.reporter.set(reporter);
        Ok(())
    }

    pub(crate) fn reporter(&self) -> Option<&reports::Reporter> {
        self.inner.reporter.get()
    }

    /// Files reports with `client` (from `/v1/reports/{id}/submit` and the console). Set once.
    pub fn file_with(&self, client: cybertip::client::Client) {
        let _ = self.inner.cybertip.set(std::sync::Arc::new(client));
    }

    pub(crate) fn cybertip(&self) -> Option<std::sync::Arc<cybertip::client::Client>> {
        self.inner.cybertip.get().cloned()
    }

    /// Preserves report cases with `preservation` (the evidence key and hold). Set once.
    pub fn preserve_with(&self, preservation: preserve::Preservation) {
        let _ = self
            .inner
            .preservation
            .set(std::sync::Arc::new(preservation));
    }

    pub(crate) fn preservation(&self) -> Option<&preserve::Preservation> {
        self.inner.preservation.get().map(|p| p.as_ref())
    }

    /// Preserves every report case not yet under a hold; how many (none without preservation
    /// configured).
    pub async fn preserve_missing(&self) -> Result<usize, samaritan_store::StoreError> {
        match self.preservation() {
            Some(p) => preserve::preserve_missing(self.store(), p, self.blobs()).await,
            None => Ok(0),
        }
    }

    /// Delivers webhook events from the outbox with `cfg` (starts the worker). Set once.
    pub fn deliver_webhooks(&self, cfg: webhooks::DeliveryConfig) {
        if self.inner.webhooks.set(cfg.clone()).is_ok() {
            webhooks::spawn(self.store().clone(), cfg, self.inner.webhook_wake.clone());
        }
    }

    /// Tells the webhook worker an event was written (it looks at the outbox at once).
    pub fn wake_webhooks(&self) {
        self.inner.webhook_wake.notify_one();
    }

    pub(crate) fn webhook_config(&self) -> webhooks::DeliveryConfig {
        self.inner.webhooks.get().cloned().unwrap_or_default()
    }

    /// Serves the HMA-compatible routes (`/hma/…`) with `cfg`. Set once; a second call is
    /// ignored.
    pub fn serve_hma(&self, cfg: HmaConfig) {
        let _ = self.inner.hma.set(cfg);
    }

    pub(crate) fn hma_config(&self) -> HmaConfig {
        self.inner.hma.get().cloned().unwrap_or_default()
    }

    pub(crate) fn hma_index(&self) -> &hma::IndexCache {
        &self.inner.hma_index
    }

    /// Tells the learner a decision was recorded.
    pub fn wake_learner(&self) {
        self.inner.learn_wake.notify_one();
    }

    /// Makes `POST /v1/ads` publish accepted ads to the stream and answer once JetStream
    /// acknowledged them (the linker worker analyses them). Set once; a second call is ignored.
    pub fn publish_to(&self, publisher: stream::Publisher) {
        let _ = self.inner.stream.set(publisher);
    }

    pub(crate) fn publisher(&self) -> Option<&stream::Publisher> {
        self.inner.stream.get()
    }

    /// Whether the last audit verification passed.
    pub fn audit_intact(&self) -> bool {
        self.inner
            .audit_intact
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Verifies the audit chain and the decisions against it, records the outcome for `/readyz`,
/// and logs a checkpoint (the head `seq` and hash, for operators to keep outside the database:
/// a later `samaritan audit verify --expect-head SEQ:HASH` detects a cut tail) or, when broken,
/// an error naming the problems.
pub async fn verify_audit(state: &AppState) -> Result<samaritan_store::AuditReport, ApiError> {
    let report = state.store().audit_verify().await?;
    state
        .inner
        .audit_intact
        .store(report.ok, std::sync::atomic::Ordering::Relaxed);
    if report.ok {
        tracing::info!(
            target: "samaritan::audit",
            head_seq = report.head_seq,
            head_hash = %report.head_hash,
            entries = report.entries,
            decisions = report.decisions,
            "audit checkpoint: chain intact"
        );
    } else {
        for p in report.problems.iter().take(20) {
            tracing::error!(seq = p.seq, kind = %p.kind, "AUDIT CHAIN BROKEN: {}", p.message);
        }
        tracing::error!(
            problems = report.problems.len(),
            "AUDIT CHAIN BROKEN: the server is not ready until the store is restored; \
             run `samaritan audit verify` for the full list"
        );
    }
    Ok(report)
}

/// Re-verifies the audit chain every `every` (see [`verify_audit`]) and opens report cases a
/// stop left missing ([`reports::open_missing`]); stops with the runtime.
pub fn spawn_audit_watch(state: AppState, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate; the caller verified at start
        loop {
            tick.tick().await;
            if let Err(e) = verify_audit(&state).await {
                tracing::warn!(error = %e.message, "periodic audit verification failed to run");
            }
            if let Err(e) = reports::open_missing(&state).await {
                tracing::warn!(error = %e, "the report-case sweep failed to run");
            }
            if let Err(e) = state.preserve_missing().await {
                tracing::error!(error = %e, "the preservation sweep failed to run");
            }
        }
    });
}

/// Puts the stored policy (if any) in force in the analyzer, so a restart comes back with the
/// policy that was running. Returns the label in force.
pub async fn restore_policy(state: &AppState) -> Result<Option<String>, ApiError> {
    let Some(stored) = state.store().current_policy().await? else {
        return Ok(None);
    };
    let label = state
        .analyzer()
        .set_policy(&stored.text)
        .map_err(|e| ApiError::internal(format!("the stored policy no longer parses: {e}")))?;
    Ok(Some(label))
}

/// Writes the analyzer's pending network changes to the store (one writer at a time, so the
/// store always ends at the linker's latest state). Ingest requests carry their changes with
/// their ads ([`queue_with_networks`]); the binary calls this once at start, after the linker is
/// restored.
pub async fn save_networks(state: &AppState) -> Result<(), ApiError> {
    let _turn = state.inner.network_lock.lock().await;
    let analyzer = state.analyzer().clone();
    let changes = tokio::task::spawn_blocking(move || analyzer.linked_network_changes(&[]))
        .await
        .map_err(|e| ApiError::internal(format!("the linker failed: {e}")))?;
    // Through the ingest queue, behind any request queued before these changes were made.
    let queued = state.store().queue_ingest(Vec::new(), changes).await?;
    drop(_turn);
    queued.committed().await?;
    Ok(())
}

/// Queues ingest items with the analyzer's pending network changes for one transaction. The
/// changes are taken and queued under the same lock as [`save_networks`], so they reach the
/// store in the order they were made.
pub(crate) async fn queue_with_networks(
    state: &AppState,
    items: Vec<samaritan_store::IngestItem>,
) -> Result<samaritan_store::Queued, ApiError> {
    let _turn = state.inner.network_lock.lock().await;
    let analyzer = state.analyzer().clone();
    let written = analyzer::written_memberships(&items);
    let changes = tokio::task::spawn_blocking(move || analyzer.linked_network_changes(&written))
        .await
        .map_err(|e| ApiError::internal(format!("the linker failed: {e}")))?;
    Ok(state.store().queue_ingest(items, changes).await?)
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    routes::router(state)
}
