//! The linker worker (issue 24, the stateful stage): takes the ads stream in stream order and
//! runs the service's own ingest on it.
//!
//! 1. **Election.** Waits for the store's leadership lock ([`samaritan_store::Store::lead`], a
//!    PostgreSQL session advisory lock): one active linker; a standby waits and takes over
//!    within its poll of the active one's connection dying.
//! 2. **Restore.** Builds the engine through the caller's factory, which restores the linker
//!    from the store (snapshot + the records after it, `EngineAnalyzer::restore_from`) and
//!    saves the networks as it sees them.
//! 3. **Consume in order.** Replaces the durable pull consumer ([`super::LINKER_CONSUMER`]) by
//!    a fresh one delivering from the first message still on the stream: on a work queue that is
//!    the first one no linker acknowledged, so a takeover starts exactly where the last commit
//!    left, in stream order (and the old linker's fetches and acknowledgements fail).
//! 4. **Commit, then acknowledge.** Each fetched batch is cut into runs of distinct ad ids and
//!    each run ingested by [`crate::routes::ads::ingest_each`] (the service's ingest, linking ad
//!    by ad so an analysis never depends on where a fetch ended): ads, analyses, link records
//!    and network changes in one transaction, idempotent by ad id and digest (a redelivered ad
//!    is answered `unchanged` and changes nothing). Only then are its messages acknowledged.
//! 5. **Failures.** A failed run is retried after rebuilding the linker from the store (the
//!    failed attempt may have linked in memory what was never committed), then ad by ad; a
//!    message that is not an ad, or that fails every attempt, is parked in the store
//!    (`stream_parked`, audited) with its error and acknowledged: never lost, never looping.
//!
//! Before each commit the linker checks that it still holds the lock, and stops when it does
//! not.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use samaritan_engine::model::Ad;
use samaritan_store::{IngestStatus, ParkInput, Store};

use super::{LINKER_CONSUMER, StreamError, StreamSpec, ensure_stream, msg_id};
use crate::{AppState, EngineAnalyzer};

/// The advisory lock key of the election of the linker of `stream`: one active linker per
/// stream (the first 7 bytes of SHA-256 of `samaritan-linker:<stream>`, so never negative).
pub fn lock_key(stream: &str) -> i64 {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("samaritan-linker:{stream}").as_bytes());
    let mut b = [0u8; 8];
    b[1..].copy_from_slice(&h[..7]);
    i64::from_be_bytes(b)
}

/// How the linker runs.
#[derive(Debug, Clone)]
pub struct LinkerConfig {
    /// NATS URL.
    pub url: String,
    pub spec: StreamSpec,
    /// Messages fetched at once.
    pub batch: usize,
    /// Attempts at one message before it is parked.
    pub max_attempts: u32,
    /// Who the linker is in the audit log (`worker:<host>:<pid>`).
    pub actor: String,
    /// How often a standby asks for the lock.
    pub poll: Duration,
    /// How long JetStream waits for an acknowledgement before it delivers a message again.
    pub ack_wait: Duration,
    /// Save a snapshot once this many records were made since the last (0: only at a stop).
    pub snapshot_every: u64,
}

impl LinkerConfig {
    /// The defaults for `url` and `spec`: batches of 256, 5 attempts, polls of 500 ms, an
    /// acknowledgement wait of 60 s, a snapshot every 100 000 records.
    pub fn new(url: &str, spec: StreamSpec, actor: &str) -> LinkerConfig {
        LinkerConfig {
            url: url.to_owned(),
            spec,
            batch: 256,
            max_attempts: 5,
            actor: actor.to_owned(),
            poll: Duration::from_millis(500),
            ack_wait: Duration::from_secs(60),
            snapshot_every: 100_000,
        }
    }
}

/// Tells a running linker to stop after the batch in hand.
#[derive(Clone, Default)]
pub struct LinkerStop {
    flag: Arc<std::sync::atomic::AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
}

impl LinkerStop {
    pub fn stop(&self) {
        self.flag.store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    fn stopped(&self) -> bool {
        self.flag.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn wait(&self) {
        while !self.stopped() {
            let notified = self.wake.notified();
            if self.stopped() {
                return;
            }
            notified.await;
        }
    }
}

/// What a linker did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkerCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub parked: u64,
    /// Runs that failed and were retried after rebuilding the linker.
    pub retries: u64,
}

/// Events the caller shows (the CLI prints them as JSON Lines).
pub type OnEvent<'a> = &'a (dyn Fn(serde_json::Value) + Sync);

/// Builds the service state the linker ingests through: the store, an `EngineAnalyzer`
/// restored from it, the networks saved. Called at election and after a failed run.
pub trait Restore {
    fn restore(
        &self,
        store: &Store,
    ) -> impl std::future::Future<Output = Result<(AppState, Arc<EngineAnalyzer>), String>> + Send;
}

/// Runs the linker until `stop` (then saves a snapshot and gives the lock up) or until it must
/// stop (lost lock, store failure while parking): `Err`.
pub async fn run_linker<R: Restore + Sync>(
    store: &Store,
    cfg: &LinkerConfig,
    restorer: &R,
    stop: &LinkerStop,
    on_event: OnEvent<'_>,
) -> Result<LinkerCounts, StreamError> {
    let js = super::connect(&cfg.url).await?;
    let stream = ensure_stream(&js, &cfg.spec).await?;
    on_event(serde_json::json!({"standby": cfg.actor, "stream": cfg.spec.name}));
    let leadership = tokio::select! {
        l = store.lead(lock_key(&cfg.spec.name), &cfg.actor, cfg.poll) => l.map_err(|e| StreamError::Invalid(format!("election: {e}")))?,
        () = stop.wait() => return Ok(LinkerCounts::default()),
    };
    let mut active = Active {
        store,
        cfg,
        restorer,
        leadership,
        state: None,
        counts: LinkerCounts::default(),
        last_snapshot: 0,
    };
    let started = std::time::Instant::now();
    active.rebuild().await?;
    let linked = active.analyzer().map_or(0, |a| a.linked_ads());
    // A fresh consumer from the first unacknowledged message, in stream order.
    match stream.delete_consumer(LINKER_CONSUMER).await {
        Ok(_) => {}
        Err(e) if e.to_string().contains("not found") => {}
        Err(e) => return Err(StreamError::js(format!("replacing the consumer: {e}"))),
    }
    let consumer: jetstream::consumer::PullConsumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(LINKER_CONSUMER.to_owned()),
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: cfg.ack_wait,
            max_deliver: -1,
            max_ack_pending: i64::try_from(cfg.batch.max(1) * 4).unwrap_or(1024),
            filter_subject: cfg.spec.all_subjects(),
            ..Default::default()
        })
        .await
        .map_err(StreamError::js)?;
    on_event(serde_json::json!({
        "leading": cfg.actor,
        "stream": cfg.spec.name,
        "linked_ads": linked,
        "restore_secs": started.elapsed().as_secs_f64(),
    }));
    active.last_snapshot = active.analyzer().map_or(0, |a| a.link_records());

    while !stop.stopped() {
        let fetched = consumer
            .fetch()
            .max_messages(cfg.batch.max(1))
            .expires(Duration::from_millis(500))
            .messages()
            .await;
        let mut batch = match fetched {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "fetching from the stream failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut messages = Vec::with_capacity(cfg.batch);
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => messages.push(m),
                Err(e) => {
                    tracing::warn!(error = %e, "a fetch ended early");
                    break;
                }
            }
        }
        if messages.is_empty() {
            continue;
        }
        active
            .leadership
            .check()
            .await
            .map_err(|e| StreamError::Invalid(format!("stopping: {e}")))?;
        active.handle(messages).await?;
        active.maybe_snapshot().await;
    }
    if let Some(a) = active.analyzer()
        && a.link_records() > 0
        && let Err(e) = a.save_snapshot(store).await
    {
        tracing::warn!(error = %e, "the linker snapshot was not saved at stop");
    }
    let counts = active.counts;
    if let Err(e) = active.leadership.release().await {
        tracing::warn!(error = %e, "releasing the leadership lock failed (it goes with the connection)");
    }
    Ok(counts)
}

struct Active<'a, R> {
    store: &'a Store,
    cfg: &'a LinkerConfig,
    restorer: &'a R,
    leadership: samaritan_store::Leadership,
    state: Option<(AppState, Arc<EngineAnalyzer>)>,
    counts: LinkerCounts,
    last_snapshot: u64,
}

/// One message, read.
struct Item {
    message: jetstream::Message,
    seq: u64,
    delivered: i64,
    ad: Result<(Ad, String), String>,
}

fn read_item(message: jetstream::Message) -> Item {
    let (seq, delivered) = message
        .info()
        .map(|i| (i.stream_sequence, i.delivered))
        .unwrap_or((0, 1));
    let ad = match std::str::from_utf8(&message.payload) {
        Err(e) => Err(format!("not UTF-8 at byte {}", e.valid_up_to())),
        Ok(text) => match serde_json::from_str::<Ad>(text) {
            Ok(ad) => Ok((ad, text.to_owned())),
            Err(e) => Err(format!(
                "not an ad (line {}, column {}: {})",
                e.line(),
                e.column(),
                match e.classify() {
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof =>
                        "malformed JSON",
                    _ => "a field is missing or of the wrong type",
                }
            )),
        },
    };
    Item {
        message,
        seq,
        delivered,
        ad,
    }
}

impl<R: Restore + Sync> Active<'_, R> {
    fn analyzer(&self) -> Option<&Arc<EngineAnalyzer>> {
        self.state.as_ref().map(|(_, a)| a)
    }

    /// (Re)builds the state from the store: the linker as the committed records say.
    async fn rebuild(&mut self) -> Result<(), StreamError> {
        self.state = None;
        let built = self
            .restorer
            .restore(self.store)
            .await
            .map_err(|e| StreamError::Invalid(format!("restoring the linker: {e}")))?;
        self.state = Some(built);
        Ok(())
    }

    async fn maybe_snapshot(&mut self) {
        if self.cfg.snapshot_every == 0 {
            return;
        }
        if let Some(a) = self.analyzer().cloned() {
            let now = a.link_records();
            if now >= self.last_snapshot + self.cfg.snapshot_every {
                match a.save_snapshot(self.store).await {
                    Ok(_) => self.last_snapshot = now,
                    Err(e) => tracing::warn!(error = %e, "the linker snapshot was not saved"),
                }
            }
        }
    }

    /// Takes a fetched batch in, in order: parks what is not an ad, ingests runs of distinct
    /// ids, acknowledges each message after its commit (or its parking).
    async fn handle(&mut self, messages: Vec<jetstream::Message>) -> Result<(), StreamError> {
        let mut run: Vec<Item> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for item in messages.into_iter().map(read_item) {
            match &item.ad {
                Err(why) => {
                    // Nothing after it may overtake the ads before it.
                    self.flush(std::mem::take(&mut run)).await?;
                    ids.clear();
                    let why = why.clone();
                    self.park(&item, &why, 1).await?;
                }
                Ok(_) if item.delivered > i64::from(self.cfg.max_attempts) => {
                    self.flush(std::mem::take(&mut run)).await?;
                    ids.clear();
                    let why = format!(
                        "delivered {} times without being acknowledged",
                        item.delivered
                    );
                    let attempts = u32::try_from(item.delivered).unwrap_or(u32::MAX);
                    self.park(&item, &why, attempts).await?;
                }
                Ok((ad, _)) => {
                    if !ids.insert(ad.id.clone()) {
                        // A second revision of an ad in this batch: the first commits first.
                        self.flush(std::mem::take(&mut run)).await?;
                        ids.clear();
                        ids.insert(ad.id.clone());
                    }
                    run.push(item);
                }
            }
        }
        self.flush(run).await
    }

    /// Ingests a run (distinct ids, in order) with retries; on failure ad by ad, parking those
    /// that fail every attempt.
    async fn flush(&mut self, run: Vec<Item>) -> Result<(), StreamError> {
        if run.is_empty() {
            return Ok(());
        }
        match self.attempt(&run).await? {
            Ok(()) => return Ok(()),
            Err(why) if run.len() == 1 => {
                let attempts = self.cfg.max_attempts;
                self.park(&run[0], &why, attempts).await?;
                return Ok(());
            }
            Err(_) => {}
        }
        for item in run {
            let one = [item];
            if let Err(why) = self.attempt(&one).await? {
                let attempts = self.cfg.max_attempts;
                self.park(&one[0], &why, attempts).await?;
            }
        }
        Ok(())
    }

    /// Up to `max_attempts` ingests of `run`; the linker rebuilt from the store after each
    /// failure. `Ok(Err(why))`: every attempt failed (the last error).
    async fn attempt(&mut self, run: &[Item]) -> Result<Result<(), String>, StreamError> {
        let mut last = String::new();
        for attempt in 1..=self.cfg.max_attempts.max(1) {
            let ads: Vec<(Ad, String)> = run
                .iter()
                .filter_map(|i| i.ad.as_ref().ok().cloned())
                .collect();
            let Some((state, _)) = self.state.as_ref() else {
                self.rebuild().await?;
                continue;
            };
            match crate::routes::ads::ingest_each(state, ads).await {
                Ok(outcomes) => {
                    for o in &outcomes {
                        match o.status {
                            IngestStatus::Created => self.counts.created += 1,
                            IngestStatus::Updated => self.counts.updated += 1,
                            IngestStatus::Unchanged => self.counts.unchanged += 1,
                        }
                    }
                    ack_all(run.iter().map(|i| &i.message)).await;
                    return Ok(Ok(()));
                }
                Err(e) => {
                    last = match &e.detail {
                        Some(d) => format!("{}: {d}", e.message),
                        None => e.message.clone(),
                    };
                    self.counts.retries += 1;
                    tracing::warn!(
                        first_seq = run.first().map_or(0, |i| i.seq),
                        ads = run.len(),
                        attempt,
                        code = e.code,
                        "a run failed; rebuilding the linker from the store before retrying"
                    );
                    for i in run {
                        // Still being worked on: not redelivered while we retry.
                        let _ = i.message.ack_with(AckKind::Progress).await;
                    }
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    self.rebuild().await?;
                }
            }
        }
        Ok(Err(last))
    }

    /// Parks a message with its error (audited) and acknowledges it.
    async fn park(&mut self, item: &Item, why: &str, attempts: u32) -> Result<(), StreamError> {
        let id = item
            .message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned())
            .or_else(|| {
                item.ad
                    .as_ref()
                    .ok()
                    .map(|(ad, _)| msg_id(&ad.id, &samaritan_store::ad_digest(ad)))
            });
        let input = ParkInput {
            stream: &self.cfg.spec.name,
            seq: item.seq,
            subject: item.message.subject.as_str(),
            msg_id: id.as_deref(),
            payload: &item.message.payload,
            error: why,
            attempts,
        };
        self.store
            .park_message(&input, &self.cfg.actor)
            .await
            .map_err(|e| StreamError::Invalid(format!("parking message {}: {e}", item.seq)))?;
        self.counts.parked += 1;
        tracing::warn!(
            seq = item.seq,
            msg_id = id.as_deref().unwrap_or(""),
            attempts,
            "a stream message was parked (see `samaritan parked`)"
        );
        ack_all(std::iter::once(&item.message)).await;
        Ok(())
    }
}

/// Acknowledges messages and waits for JetStream to confirm; a lost acknowledgement only means
/// a redelivery, which the store answers as unchanged.
async fn ack_all<'a>(messages: impl Iterator<Item = &'a jetstream::Message>) {
    let acks = messages.map(|m| m.double_ack());
    for r in futures_util::future::join_all(acks).await {
        if let Err(e) = r {
            tracing::warn!(error = %e, "an acknowledgement was not confirmed (the message will be redelivered and answered unchanged)");
        }
    }
}
