//! The prepare worker of the fan-out layout (issue 24, the stateless stage): any number of them
//! take ads from the ads stream through one shared durable pull consumer
//! ([`super::PREPARE_CONSUMER`]), prepare them on every core (normalize, extract, match the
//! policy, fingerprint, images: [`EngineAnalyzer::prepare_for_link`]) and publish each result to
//! the prepared-results stream ([`super::prepared`]), acknowledging an ad only after JetStream
//! stored its result. A worker that dies leaves its ads unacknowledged: JetStream delivers them
//! again after the acknowledgement wait. An ad that is not an ad, or that was delivered more
//! than `max_attempts` times, becomes a marker the linker parks at its turn.
//!
//! A worker keeps no state: it holds nothing in the store (it reads the policy and hash banks
//! at start, through its caller) and can be killed or added at any time. It rides out NATS
//! restarts: the client reconnects, and failed fetches or publishes are retried with backoff.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use samaritan_engine::model::Ad;

use super::linker::{LinkerStop, OnEvent};
use super::prepared::{Origin, ensure_prepared_stream, marker_message, result_message};
use super::{PREPARE_CONSUMER, StreamError, StreamSpec, ensure_stream};
use crate::EngineAnalyzer;
use crate::stage_cpu::{CpuStage, Laps, StageCpu};

/// How a prepare worker runs.
#[derive(Debug, Clone)]
pub struct PrepareConfig {
    pub url: String,
    pub spec: StreamSpec,
    /// Messages fetched at once (prepared together on every core).
    pub batch: usize,
    /// Deliveries of one ad message before it becomes a marker to park.
    pub max_attempts: u32,
    /// How long JetStream waits for a worker's acknowledgement before delivering again.
    pub ack_wait: Duration,
    /// CPU time per stage, when counted ([`crate::stage_cpu`], [`crate::stage_cpu::PREPARE_STAGES`]).
    pub stage_cpu: Option<Arc<StageCpu>>,
}

impl PrepareConfig {
    /// Batches of 64, 5 attempts, an acknowledgement wait of 30 s.
    pub fn new(url: &str, spec: StreamSpec) -> PrepareConfig {
        PrepareConfig {
            url: url.to_owned(),
            spec,
            batch: 64,
            max_attempts: 5,
            ack_wait: Duration::from_secs(30),
            stage_cpu: None,
        }
    }
}

/// What a prepare worker did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrepareCounts {
    pub prepared: u64,
    /// Markers published (ads to park).
    pub failed: u64,
    /// Batches whose results could not all be published (their ads come again).
    pub retries: u64,
}

/// Backoff after the `n`th consecutive failure: 0.5 s doubling to 10 s.
pub(crate) fn backoff(n: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << n.min(5))).min(Duration::from_secs(10))
}

/// Connects until it succeeds (or `stop`): the streams ensured, the shared consumer bound.
async fn bind(
    cfg: &PrepareConfig,
    stop: &LinkerStop,
) -> Result<Option<(jetstream::Context, jetstream::consumer::PullConsumer)>, StreamError> {
    let mut failures = 0;
    loop {
        if stop.stopped() {
            return Ok(None);
        }
        let attempt = async {
            let js = super::connect(&cfg.url).await?;
            let ads = ensure_stream(&js, &cfg.spec).await?;
            ensure_prepared_stream(&js, &cfg.spec).await?;
            let consumer = ads
                .get_or_create_consumer(
                    PREPARE_CONSUMER,
                    pull::Config {
                        durable_name: Some(PREPARE_CONSUMER.to_owned()),
                        ack_policy: jetstream::consumer::AckPolicy::Explicit,
                        ack_wait: cfg.ack_wait,
                        max_deliver: -1,
                        max_ack_pending: 4096,
                        filter_subject: cfg.spec.all_subjects(),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| {
                    StreamError::JetStream(format!(
                        "cannot bind the prepare consumer `{PREPARE_CONSUMER}` of `{}` ({e}); a \
                         linker of `--stage all` consuming the same stream excludes prepare \
                         workers: stop it first",
                        cfg.spec.name
                    ))
                })?;
            Ok::<_, StreamError>((js, consumer))
        };
        match attempt.await {
            Ok(bound) => return Ok(Some(bound)),
            Err(e @ StreamError::Invalid(_)) => return Err(e),
            Err(e) => {
                let wait = backoff(failures);
                failures += 1;
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "the prepare worker cannot reach the stream; retrying");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.wait() => return Ok(None),
                }
            }
        }
    }
}

/// One ad message as taken.
struct Taken {
    message: jetstream::Message,
    origin: Origin,
    delivered: i64,
    ad: Result<(Ad, String), String>,
}

fn take(message: jetstream::Message) -> Taken {
    let (seq, delivered) = message
        .info()
        .map(|i| (i.stream_sequence, i.delivered))
        .unwrap_or((0, 1));
    let origin = Origin {
        seq,
        subject: message.subject.to_string(),
        msg_id: message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned()),
    };
    let ad = super::linker::read_ad(&message.payload);
    Taken {
        message,
        origin,
        delivered,
        ad,
    }
}

/// Runs a prepare worker until `stop`.
pub async fn run_prepare(
    cfg: &PrepareConfig,
    analyzer: Arc<EngineAnalyzer>,
    actor: &str,
    stop: &LinkerStop,
    on_event: OnEvent<'_>,
) -> Result<PrepareCounts, StreamError> {
    let mut counts = PrepareCounts::default();
    let Some((js, consumer)) = bind(cfg, stop).await? else {
        return Ok(counts);
    };
    on_event(serde_json::json!({"preparing": actor, "stream": cfg.spec.name}));
    if let Some(cpu) = &cfg.stage_cpu {
        analyzer.count_stage_cpu(cpu.clone());
        cpu.begin();
    }
    let mut failures = 0u32;
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
                let wait = backoff(failures);
                failures += 1;
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "fetching ads failed; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        let mut taken = Vec::with_capacity(cfg.batch);
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => {
                    let mut laps = Laps::start(cfg.stage_cpu.as_deref());
                    taken.push(take(m));
                    laps.lap(CpuStage::Decode);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a fetch ended early");
                    break;
                }
            }
        }
        if taken.is_empty() {
            continue;
        }
        match handle(cfg, &js, &analyzer, taken, &mut counts).await {
            true => failures = 0,
            false => {
                counts.retries += 1;
                let wait = backoff(failures);
                failures += 1;
                tokio::time::sleep(wait).await;
            }
        }
    }
    Ok(counts)
}

/// Prepares a batch and publishes its results; acknowledges each ad whose result JetStream
/// stored. `false` when some could not be published (they come again).
async fn handle(
    cfg: &PrepareConfig,
    js: &jetstream::Context,
    analyzer: &Arc<EngineAnalyzer>,
    taken: Vec<Taken>,
    counts: &mut PrepareCounts,
) -> bool {
    let prepared_subject = |origin: &Origin| -> String {
        let source = origin
            .subject
            .rsplit('.')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown");
        format!("{}-prepared.{source}", cfg.spec.prefix)
    };
    // The ads to prepare, in order; the others become markers.
    let good: Vec<Ad> = taken
        .iter()
        .filter(|t| t.delivered <= i64::from(cfg.max_attempts))
        .filter_map(|t| t.ad.as_ref().ok().map(|(ad, _)| ad.clone()))
        .collect();
    let results = prepare_guarded(analyzer, good).await;
    let mut results = results.into_iter();
    let mut outgoing = Vec::with_capacity(taken.len());
    for t in &taken {
        let message = match &t.ad {
            Err(why) => Some((
                marker_message(&t.origin, t.message.payload.clone(), why, 1),
                false,
            )),
            Ok(_) if t.delivered > i64::from(cfg.max_attempts) => {
                let why = format!(
                    "delivered {} times to prepare workers without being prepared",
                    t.delivered
                );
                let attempts = u32::try_from(t.delivered).unwrap_or(u32::MAX);
                Some((
                    marker_message(&t.origin, t.message.payload.clone(), &why, attempts),
                    false,
                ))
            }
            Ok((_, raw)) => match results.next().flatten() {
                Some(prepared) => {
                    let mut laps = Laps::start(cfg.stage_cpu.as_deref());
                    let made = result_message(&t.origin, raw, prepared);
                    laps.lap(CpuStage::Result);
                    match made {
                        Ok(m) => Some((m, true)),
                        Err(why) => Some((
                            marker_message(&t.origin, t.message.payload.clone(), &why, 1),
                            false,
                        )),
                    }
                }
                // Preparing this ad failed: it comes again (and is parked after the attempts).
                None => {
                    let _ = t
                        .message
                        .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                        .await;
                    None
                }
            },
        };
        outgoing.push(message);
    }
    let mut pending = Vec::with_capacity(taken.len());
    for (t, out) in taken.iter().zip(outgoing) {
        let Some((publish, ok)) = out else {
            continue;
        };
        match js.send_publish(prepared_subject(&t.origin), publish).await {
            Ok(ack) => pending.push((t, ack, ok)),
            Err(e) => {
                tracing::warn!(seq = t.origin.seq, error = %e, "publishing a prepared result failed; the ad comes again");
            }
        }
    }
    let mut all = pending.len() == taken.len();
    let mut acks = Vec::with_capacity(pending.len());
    for (t, ack, ok) in pending {
        match ack.await {
            Ok(_) => {
                if ok {
                    counts.prepared += 1;
                    if let Some(cpu) = &cfg.stage_cpu {
                        cpu.add_ads(1);
                    }
                } else {
                    counts.failed += 1;
                }
                acks.push(&t.message);
            }
            Err(e) => {
                all = false;
                tracing::warn!(seq = t.origin.seq, error = %e, "JetStream did not store a prepared result; the ad comes again");
            }
        }
    }
    let confirmed = futures_util::future::join_all(acks.iter().map(|m| m.double_ack())).await;
    for r in confirmed {
        if let Err(e) = r {
            // Delivered again later: the result is published again under the same message id
            // (dropped as a duplicate within the window; the linker takes one in any case).
            tracing::warn!(error = %e, "an acknowledgement was not confirmed");
        }
    }
    all
}

/// Prepares `ads` on the blocking pool; a panic in the batch is retried ad by ad so that only
/// the ad that panics fails (`None`).
async fn prepare_guarded(
    analyzer: &Arc<EngineAnalyzer>,
    ads: Vec<Ad>,
) -> Vec<Option<samaritan_engine::linked::PreparedAd>> {
    if ads.is_empty() {
        return Vec::new();
    }
    let whole = {
        let analyzer = analyzer.clone();
        let ads = ads.clone();
        tokio::task::spawn_blocking(move || analyzer.prepare_for_link(&ads)).await
    };
    if let Ok(results) = whole
        && results.len() == ads.len()
    {
        return results.into_iter().map(Some).collect();
    }
    let mut out = Vec::with_capacity(ads.len());
    for ad in ads {
        let analyzer = analyzer.clone();
        let one = tokio::task::spawn_blocking(move || analyzer.prepare_for_link(&[ad])).await;
        out.push(one.ok().and_then(|mut v| v.pop()));
    }
    out
}
