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

use super::prepared::{ensure_prepared_stream, prepared_spec};
use super::reorder::Reorder;
use super::{
    LINKER_CONSUMER, PREPARED_LINKER_CONSUMER, StreamError, StreamSpec, ensure_stream, msg_id,
};
use crate::stage_cpu::{CpuStage, Laps, StageCpu};
use crate::{AppState, EngineAnalyzer};

/// A durable pull consumer made afresh (the old one deleted if any), so that it delivers from the
/// first message still on the stream: where the last linker's commits left off.
async fn fresh_consumer(
    stream: &jetstream::stream::Stream,
    config: pull::Config,
) -> Result<jetstream::consumer::PullConsumer, StreamError> {
    let name = config.durable_name.clone().unwrap_or_default();
    match stream.delete_consumer(&name).await {
        Ok(_) => {}
        Err(e) if e.to_string().contains("not found") => {}
        Err(e) => return Err(StreamError::js(format!("replacing the consumer: {e}"))),
    }
    stream
        .create_consumer(config)
        .await
        .map_err(StreamError::js)
}

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
    /// The fan-out layout: take the prepare workers' results ([`super::prepared`]) in the ads
    /// stream's order instead of the ads themselves.
    pub fanout: bool,
    /// CPU time per stage, when counted ([`crate::stage_cpu`], [`crate::stage_cpu::LINK_STAGES`]).
    pub stage_cpu: Option<Arc<StageCpu>>,
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
            fanout: false,
            stage_cpu: None,
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

    /// Whether [`LinkerStop::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped()
    }

    pub(crate) fn stopped(&self) -> bool {
        self.flag.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) async fn wait(&self) {
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
        position: None,
    };
    let started = std::time::Instant::now();
    active.rebuild().await?;
    let linked = active.analyzer().map_or(0, |a| a.linked_ads());
    if cfg.fanout {
        consume_prepared(&js, stream, &mut active, stop, on_event, started, linked).await?;
    } else {
        consume_ads(stream, &mut active, stop, on_event, started, linked).await?;
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

/// The single-process layout: the ads stream itself, in order.
async fn consume_ads<R: Restore + Sync>(
    stream: jetstream::stream::Stream,
    active: &mut Active<'_, R>,
    stop: &LinkerStop,
    on_event: OnEvent<'_>,
    started: std::time::Instant,
    linked: usize,
) -> Result<(), StreamError> {
    let cfg = active.cfg;
    // A fresh consumer from the first unacknowledged message, in stream order.
    let consumer = fresh_consumer(
        &stream,
        pull::Config {
            durable_name: Some(LINKER_CONSUMER.to_owned()),
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: cfg.ack_wait,
            max_deliver: -1,
            max_ack_pending: i64::try_from(cfg.batch.max(1) * 4).unwrap_or(1024),
            filter_subject: cfg.spec.all_subjects(),
            ..Default::default()
        },
    )
    .await?;
    on_event(serde_json::json!({
        "leading": cfg.actor,
        "stream": cfg.spec.name,
        "linked_ads": linked,
        "restore_secs": started.elapsed().as_secs_f64(),
    }));
    active.last_snapshot = active.analyzer().map_or(0, |a| a.link_records());
    if let Some(cpu) = &cfg.stage_cpu {
        cpu.begin();
    }

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
                Ok(m) => {
                    let mut laps = Laps::start(cfg.stage_cpu.as_deref());
                    messages.push(read_item(&cfg.spec.name, m));
                    laps.lap(CpuStage::Decode);
                }
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
    Ok(())
}

/// The fan-out layout: the prepare workers' results, put back in the ads stream's order
/// ([`Reorder`]); the position (the last ad-stream sequence linked) commits with each run, so a
/// takeover goes on exactly after it.
async fn consume_prepared<R: Restore + Sync>(
    js: &jetstream::Context,
    mut ads: jetstream::stream::Stream,
    active: &mut Active<'_, R>,
    stop: &LinkerStop,
    on_event: OnEvent<'_>,
    started: std::time::Instant,
    linked: usize,
) -> Result<(), StreamError> {
    let cfg = active.cfg;
    let results_name = prepared_spec(&cfg.spec)?.name;
    let mut results = ensure_prepared_stream(js, &cfg.spec).await?;
    // The position is only good for this very stream (a stream made again starts at 1).
    let epoch = ads
        .info()
        .await
        .map_err(StreamError::js)?
        .created
        .to_string()
        .replace(' ', "_");
    let position = Position {
        key: cfg.spec.name.clone(),
        epoch,
    };
    let stored = active
        .store
        .get_link_state(POSITION_KIND, &position.key)
        .await
        .map_err(|e| StreamError::Invalid(format!("reading the stream position: {e}")))?
        .and_then(|v| position.parse(&v));
    let mut reorder: Reorder<Item> = Reorder::new(stored.map_or(0, |s| s + 1));
    active.position = Some(position);
    let consumer = fresh_consumer(
        &results,
        pull::Config {
            durable_name: Some(PREPARED_LINKER_CONSUMER.to_owned()),
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: HELD_ACK_WAIT,
            max_deliver: -1,
            // Results wait here for their turn: never held back by the server, or the one
            // awaited could not come.
            max_ack_pending: -1,
            ..Default::default()
        },
    )
    .await?;
    on_event(serde_json::json!({
        "leading": cfg.actor,
        "stream": cfg.spec.name,
        "fanout": true,
        "position": stored,
        "linked_ads": linked,
        "restore_secs": started.elapsed().as_secs_f64(),
    }));
    active.last_snapshot = active.analyzer().map_or(0, |a| a.link_records());
    if let Some(cpu) = &cfg.stage_cpu {
        cpu.begin();
    }
    let mut failures = 0u32;
    let mut last_check = std::time::Instant::now();
    // (first unprepared ad, last result published), read in that order, for `skip_to`.
    let mut proof: Option<(u64, u64)> = None;
    let mut last_progress = std::time::Instant::now();
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
                let wait = super::prepare::backoff(failures);
                failures += 1;
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "fetching prepared results failed; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        failures = 0;
        let mut foreign = Vec::new();
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => {
                    let own = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                    let mut laps = Laps::start(cfg.stage_cpu.as_deref());
                    let read = read_prepared(&cfg.spec.name, &results_name, m);
                    laps.lap(CpuStage::Decode);
                    match read {
                        (None, item) => foreign.push(item),
                        (Some(seq), item) => {
                            if let Some(done) = reorder.insert(seq, own, item) {
                                // Linked before (a result published twice, or redelivered).
                                ack_all(done.acks.iter()).await;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a fetch ended early");
                    break;
                }
            }
        }
        if !foreign.is_empty() {
            active.handle(foreign).await?;
        }
        let mut ready = take_ready(&mut reorder);
        if ready.is_empty() && last_check.elapsed() >= Duration::from_millis(250) {
            last_check = std::time::Instant::now();
            // Is the awaited sequence on neither stream? Read the ads stream's first sequence,
            // then the results stream's last; once every result up to that one was delivered
            // and is held here (or acknowledged), every ad below that first sequence is held
            // or linked (an ad leaves the ads stream only after its result was published).
            if proof.is_none()
                && let Some(unprepared) = first_unprepared(&mut ads).await
                && let Some(published) = last_published(&mut results).await
            {
                proof = Some((unprepared, published));
            }
            if let Some((unprepared, published)) = proof
                && all_delivered(&consumer, published, reorder.held()).await
            {
                proof = None;
                if let Some(skipped) = reorder.skip_to(unprepared) {
                    if skipped.start > 0 {
                        tracing::warn!(
                            from = skipped.start,
                            to = skipped.end - 1,
                            "ads stream sequences on neither stream were skipped (deleted by hand?)"
                        );
                    }
                    ready = take_ready(&mut reorder);
                }
            }
        }
        if reorder.held() > 0 && last_progress.elapsed() >= HELD_ACK_WAIT / 3 {
            last_progress = std::time::Instant::now();
            // Results waiting for their turn are not delivered again meanwhile.
            let held = reorder.held_items().flat_map(|i| i.acks.iter());
            let _ =
                futures_util::future::join_all(held.map(|m| m.ack_with(AckKind::Progress))).await;
        }
        if ready.is_empty() {
            continue;
        }
        tracing::debug!(
            ads = ready.len(),
            next = reorder.next(),
            held = reorder.held(),
            "linking results in stream order"
        );
        active
            .leadership
            .check()
            .await
            .map_err(|e| StreamError::Invalid(format!("stopping: {e}")))?;
        active.handle(ready).await?;
        active.maybe_snapshot().await;
    }
    Ok(())
}

/// How long a result may wait unacknowledged before JetStream delivers it again; results
/// held for their turn are kept alive with progress acknowledgements.
const HELD_ACK_WAIT: Duration = Duration::from_secs(30);

/// The results whose turn it is, in order, each result's copies' messages acknowledged with it.
fn take_ready(reorder: &mut Reorder<Item>) -> Vec<Item> {
    let mut out = Vec::new();
    while let Some((_, copies)) = reorder.pop_ready() {
        let mut copies = copies.into_iter();
        if let Some(mut first) = copies.next() {
            for c in copies {
                first.acks.extend(c.acks);
            }
            out.push(first);
        }
    }
    out
}

/// The first sequence still on the ads stream (its last + 1 when empty); `None` when it cannot
/// be read now.
async fn first_unprepared(ads: &mut jetstream::stream::Stream) -> Option<u64> {
    match ads.info().await {
        Ok(i) if i.state.messages > 0 => Some(i.state.first_sequence),
        Ok(i) => Some(i.state.last_sequence + 1),
        Err(e) => {
            tracing::warn!(error = %e, "reading the ads stream's state failed");
            None
        }
    }
}

/// The last sequence of the results stream; `None` when it cannot be read now.
async fn last_published(results: &mut jetstream::stream::Stream) -> Option<u64> {
    match results.info().await {
        Ok(i) => Some(i.state.last_sequence),
        Err(e) => {
            tracing::warn!(error = %e, "reading the results stream's state failed");
            None
        }
    }
}

/// Whether every result up to `published` was delivered, and every delivered one not yet
/// acknowledged is one of the `held`.
async fn all_delivered(
    consumer: &jetstream::consumer::PullConsumer,
    published: u64,
    held: usize,
) -> bool {
    match consumer.get_info().await {
        Ok(i) => i.delivered.stream_sequence >= published && i.num_ack_pending == held,
        Err(e) => {
            tracing::warn!(error = %e, "reading the linker's consumer failed");
            false
        }
    }
}

/// The linker's position in the fan-out layout, kept as a link-state record (kind
/// [`POSITION_KIND`], key the ads stream's name) written in the transaction of each run:
/// `<last sequence linked> <the stream's creation time>`.
struct Position {
    key: String,
    epoch: String,
}

/// `link_state` kind of the fan-out linker's position.
pub const POSITION_KIND: &str = "stream_position";

impl Position {
    fn record(&self, seq: u64) -> (String, String, Vec<u8>) {
        (
            POSITION_KIND.to_owned(),
            self.key.clone(),
            format!("{seq} {}", self.epoch).into_bytes(),
        )
    }

    /// The stored sequence when it is of this very stream.
    fn parse(&self, value: &[u8]) -> Option<u64> {
        let text = std::str::from_utf8(value).ok()?;
        let (seq, epoch) = text.split_once(' ')?;
        if epoch != self.epoch {
            tracing::warn!(
                "the stored stream position is of an earlier stream of that name; starting from the stream's own first results"
            );
            return None;
        }
        seq.parse().ok()
    }
}

struct Active<'a, R> {
    store: &'a Store,
    cfg: &'a LinkerConfig,
    restorer: &'a R,
    leadership: samaritan_store::Leadership,
    state: Option<(AppState, Arc<EngineAnalyzer>)>,
    counts: LinkerCounts,
    last_snapshot: u64,
    /// The fan-out layout's position, committed with each run.
    position: Option<Position>,
}

/// One ad message to link (or park), read: from the ads stream itself, or from the prepared
/// results standing for it (then `acks` are the results' messages).
struct Item {
    acks: Vec<jetstream::Message>,
    /// The stream and sequence the ad came on (what a parked row names).
    stream: String,
    seq: u64,
    subject: String,
    msg_id: Option<String>,
    payload: bytes::Bytes,
    delivered: i64,
    ad: Result<(Ad, String), String>,
    prepared: Option<samaritan_engine::linked::PreparedAd>,
    /// Attempts already made elsewhere (a prepare worker's marker).
    attempts: Option<u32>,
}

/// An ad from a message's payload, or why it is not one (no ad text in the reason).
pub(crate) fn read_ad(payload: &[u8]) -> Result<(Ad, String), String> {
    match std::str::from_utf8(payload) {
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
    }
}

fn read_item(stream: &str, message: jetstream::Message) -> Item {
    let (seq, delivered) = message
        .info()
        .map(|i| (i.stream_sequence, i.delivered))
        .unwrap_or((0, 1));
    let ad = read_ad(&message.payload);
    let msg_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Id"))
        .map(|v| v.as_str().to_owned());
    Item {
        stream: stream.to_owned(),
        seq,
        subject: message.subject.to_string(),
        msg_id,
        payload: message.payload.clone(),
        delivered,
        ad,
        prepared: None,
        attempts: None,
        acks: vec![message],
    }
}

/// The item a prepared result (or marker) stands for; `message`'s of the ads stream `stream`.
/// A message that is not one of ours is parked under the results stream's own name.
fn read_prepared(stream: &str, results: &str, message: jetstream::Message) -> (Option<u64>, Item) {
    let (own_seq, delivered) = message
        .info()
        .map(|i| (i.stream_sequence, i.delivered))
        .unwrap_or((0, 1));
    match super::prepared::read(&message) {
        Err(why) => {
            let mut item = read_item(results, message);
            item.seq = own_seq;
            item.ad = Err(why);
            (None, item)
        }
        Ok((origin, reading)) => {
            let (payload, ad, prepared, attempts) = match reading {
                super::prepared::Reading::Prepared { raw, prepared } => {
                    let ad = read_ad(raw.as_bytes());
                    (bytes::Bytes::from(raw), ad, Some(*prepared), None)
                }
                super::prepared::Reading::Failed {
                    error,
                    attempts,
                    payload,
                } => (payload, Err(error), None, Some(attempts)),
            };
            let item = Item {
                acks: vec![message],
                stream: stream.to_owned(),
                seq: origin.seq,
                subject: origin.subject,
                msg_id: origin.msg_id,
                payload,
                delivered,
                ad,
                prepared,
                attempts,
            };
            (Some(origin.seq), item)
        }
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
        if let Some(cpu) = &self.cfg.stage_cpu {
            built.1.count_stage_cpu(cpu.clone());
        }
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
    async fn handle(&mut self, items: Vec<Item>) -> Result<(), StreamError> {
        let mut run: Vec<Item> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for item in items {
            match &item.ad {
                Err(why) => {
                    // Nothing after it may overtake the ads before it.
                    self.flush(std::mem::take(&mut run)).await?;
                    ids.clear();
                    let why = why.clone();
                    let attempts = item.attempts.unwrap_or(1);
                    self.park(&item, &why, attempts).await?;
                }
                Ok(_) if !self.cfg.fanout && item.delivered > i64::from(self.cfg.max_attempts) => {
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
            let ads: Vec<(Ad, String, Option<samaritan_engine::linked::PreparedAd>)> = run
                .iter()
                .filter_map(|i| {
                    let (ad, raw) = i.ad.as_ref().ok()?.clone();
                    Some((ad, raw, i.prepared.clone()))
                })
                .collect();
            let Some((state, _)) = self.state.as_ref() else {
                self.rebuild().await?;
                continue;
            };
            // In the fan-out layout the run's position commits with it.
            let mark = self
                .position
                .as_ref()
                .and_then(|p| run.iter().map(|i| i.seq).max().map(|seq| p.record(seq)));
            match crate::routes::ads::ingest_each_prepared(state, ads, mark).await {
                Ok(outcomes) => {
                    if let Some(cpu) = &self.cfg.stage_cpu {
                        cpu.add_ads(outcomes.len() as u64);
                    }
                    for o in &outcomes {
                        match o.status {
                            IngestStatus::Created => self.counts.created += 1,
                            IngestStatus::Updated => self.counts.updated += 1,
                            IngestStatus::Unchanged => self.counts.unchanged += 1,
                        }
                    }
                    ack_all(run.iter().flat_map(|i| &i.acks)).await;
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
                    for m in run.iter().flat_map(|i| &i.acks) {
                        // Still being worked on: not redelivered while we retry.
                        let _ = m.ack_with(AckKind::Progress).await;
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
        let id = item.msg_id.clone().or_else(|| {
            item.ad
                .as_ref()
                .ok()
                .map(|(ad, _)| msg_id(&ad.id, &samaritan_store::ad_digest(ad)))
        });
        let input = ParkInput {
            stream: &item.stream,
            seq: item.seq,
            subject: &item.subject,
            msg_id: id.as_deref(),
            payload: &item.payload,
            error: why,
            attempts,
        };
        self.store
            .park_message(&input, &self.cfg.actor)
            .await
            .map_err(|e| StreamError::Invalid(format!("parking message {}: {e}", item.seq)))?;
        self.counts.parked += 1;
        tracing::warn!(
            stream = item.stream.as_str(),
            seq = item.seq,
            msg_id = id.as_deref().unwrap_or(""),
            attempts,
            "a stream message was parked (see `samaritan parked`)"
        );
        ack_all(item.acks.iter()).await;
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
