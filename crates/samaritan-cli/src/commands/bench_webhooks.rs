//! `samaritan bench-webhooks`: webhook delivery lag and throughput, in process, against a local
//! receiver that answers 200 at once (so the figure is Samaritan's own work: the outbox read,
//! signing, the HTTP round trip on loopback, recording the outcome).
//!
//! Lag: decisions at `--rate-per-min` for `--seconds`, each event's delay from its decision's
//! commit to its arrival at the receiver (p50/p99/max). Throughput: `--burst` decisions made
//! while no worker runs, then the worker started: events delivered per second until all have
//! arrived. One JSON line per phase on stdout, a summary on stderr.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Body;
use clap::Args;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::webhooks::DeliveryConfig;
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::{
    DecisionAction, DecisionBasis, DecisionInput, QueueState, Scope, Store, now_ms,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use super::store_args::runtime;

#[derive(Args)]
pub struct BenchWebhooksArgs {
    /// Decisions per minute in the lag phase.
    #[arg(long, default_value_t = 1000)]
    pub rate_per_min: u64,
    /// Length of the lag phase.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Decisions waiting when the worker starts, in the throughput phase.
    #[arg(long, default_value_t = 5000)]
    pub burst: usize,
}

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// A receiver answering 200 at once; records when each ad's decision event arrived.
async fn receiver() -> Result<(String, Arrivals)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let arrivals: Arrivals = Arc::default();
    let a = arrivals.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let a = a.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let mut need = None;
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if need.is_none()
                        && let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n")
                    {
                        let head = String::from_utf8_lossy(&buf[..at]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        need = Some(at + 4 + len);
                    }
                    if need.is_some_and(|n| buf.len() >= n) {
                        break;
                    }
                }
                let body = buf
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|at| &buf[at + 4..])
                    .unwrap_or(&[]);
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
                    && v["type"] == "decision.created"
                    && let Some(ad) = v["data"]["ad_id"].as_str()
                    && let Ok(mut m) = a.lock()
                {
                    m.entry(ad.to_owned()).or_insert_with(Instant::now);
                }
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Ok((url, arrivals))
}

/// A store with `n` ads the default policy queues, an endpoint for `url`, and its state.
async fn world(
    dir: &std::path::Path,
    n: usize,
    url: &str,
) -> Result<(Store, AppState, Vec<String>)> {
    let store = Store::open_sqlite(dir).await?;
    let analyzer = Arc::new(
        EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None)
            .map_err(|e| anyhow::anyhow!("the default policy: {e}"))?,
    );
    let state = AppState::new(
        store.clone(),
        analyzer,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
    );
    let app = samaritan_server::router(state.clone());
    let key = store
        .create_key("bench", &[Scope::Ingest], "bench")
        .await?
        .secret;
    let ids: Vec<String> = (0..n).map(|i| format!("wh-{i:06}")).collect();
    for chunk in ids.chunks(500) {
        let ads: Vec<serde_json::Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| serde_json::json!({"id": id, "body": format!("new girl 16yo incall $150/hr call 702-555-01{:02}", i % 100)}))
            .collect();
        let resp = app
            .clone()
            .oneshot(
                axum::http::Request::builder()
                    .method("POST")
                    .uri("/v1/ads")
                    .header("authorization", format!("Bearer {key}"))
                    .body(Body::from(serde_json::Value::from(ads).to_string()))?,
            )
            .await?;
        if !resp.status().is_success() {
            bail!("ingest answered {}", resp.status());
        }
    }
    store
        .webhook_create(
            url,
            &["*".into()],
            &samaritan_server::webhooks::sign::new_secret()?,
            "bench",
            now_ms(),
        )
        .await?;
    Ok((store, state, ids))
}

async fn decide(store: &Store, id: &str) -> Result<()> {
    let t = now_ms();
    store
        .queue_claim_ads("bench", QueueState::Open, &[id], 60_000, t)
        .await?;
    store
        .decide(
            &DecisionInput {
                ad_id: id.to_owned(),
                revision: 1,
                action: DecisionAction::Remove,
                reason: "minor_indicators".into(),
                note: String::new(),
                basis: DecisionBasis::Claim,
            },
            "bench",
            t,
        )
        .await
        .with_context(|| format!("deciding {id}"))?;
    Ok(())
}

fn cfg() -> DeliveryConfig {
    DeliveryConfig {
        allow_private: true,
        ..DeliveryConfig::default()
    }
}

async fn wait_for(arrivals: &Arrivals, n: usize, within: Duration) -> Result<()> {
    let until = Instant::now() + within;
    loop {
        let got = arrivals.lock().map(|m| m.len()).unwrap_or(0);
        if got >= n {
            return Ok(());
        }
        if Instant::now() > until {
            bail!(
                "only {got} of {n} events arrived within {}s",
                within.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub fn run(args: BenchWebhooksArgs) -> Result<()> {
    if args.rate_per_min == 0 || args.seconds == 0 || args.burst == 0 {
        bail!("--rate-per-min, --seconds and --burst are at least 1");
    }
    runtime()?.block_on(async move {
        // Lag at a steady rate.
        let (url, arrivals) = receiver().await?;
        let n = (args.rate_per_min * args.seconds / 60).max(1) as usize;
        let dir = tempfile::tempdir()?;
        let (store, state, ids) = world(dir.path(), n, &url).await?;
        state.deliver_webhooks(cfg());
        let every = Duration::from_secs_f64(60.0 / args.rate_per_min as f64);
        let start = Instant::now();
        let mut decided: HashMap<String, Instant> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            let at = start + every * i as u32;
            tokio::time::sleep_until(at.into()).await;
            decide(&store, id).await?;
            decided.insert(id.clone(), Instant::now());
            state.wake_webhooks();
        }
        wait_for(&arrivals, n, Duration::from_secs(120)).await?;
        let mut lag: Vec<f64> = {
            let m = arrivals.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            decided
                .iter()
                .filter_map(|(id, t)| m.get(id).map(|a| a.saturating_duration_since(*t).as_secs_f64() * 1000.0))
                .collect()
        };
        lag.sort_by(f64::total_cmp);
        let q = |p: f64| lag[((lag.len() as f64 - 1.0) * p).round() as usize];
        let line = serde_json::json!({
            "phase": "lag", "decisions": n, "rate_per_min": args.rate_per_min,
            "p50_ms": (q(0.5) * 10.0).round() / 10.0, "p99_ms": (q(0.99) * 10.0).round() / 10.0,
            "max_ms": (q(1.0) * 10.0).round() / 10.0,
        });
        println!("{line}");
        eprintln!(
            "lag at {} decisions/min over {} decisions: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            args.rate_per_min, n, q(0.5), q(0.99), q(1.0)
        );
        store.close().await;

        // Throughput from a backlog.
        let (url, arrivals) = receiver().await?;
        let dir = tempfile::tempdir()?;
        let (store, state, ids) = world(dir.path(), args.burst, &url).await?;
        for id in &ids {
            decide(&store, id).await?;
        }
        let start = Instant::now();
        state.deliver_webhooks(cfg());
        wait_for(&arrivals, args.burst, Duration::from_secs(600)).await?;
        let secs = start.elapsed().as_secs_f64();
        let rate = args.burst as f64 / secs;
        println!(
            "{}",
            serde_json::json!({"phase": "throughput", "events": args.burst, "seconds": (secs * 100.0).round() / 100.0, "events_per_sec": rate.round()})
        );
        eprintln!("throughput: {} events delivered in {secs:.2} s = {rate:.0} events/s", args.burst);
        store.close().await;
        Ok(())
    })
}
