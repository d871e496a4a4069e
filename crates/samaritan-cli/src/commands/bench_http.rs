//! `samaritan bench-http`: a load generator for `POST /v1/ads` over loopback.
//!
//! Sends the ads of a JSON Lines file, `--batch` per request, from `--concurrency` keep-alive
//! connections, and reports latency percentiles and throughput as JSON on stdout. With `--policy`
//! it also analyses the same ads in process with the same engine, so the cost of the service
//! (HTTP, JSON, storage, fsync) shows as a ratio against the analysis alone.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;
use samaritan_engine::model::Ad;

use super::store_args::runtime;
use samaritan_server::EngineAnalyzer;

#[derive(Args)]
pub struct BenchHttpArgs {
    /// Base URL of a running `samaritan serve` (http only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// API key with the ingest scope.
    #[arg(long, env = "SAMARITAN_KEY")]
    pub key: String,
    /// Ads to send, JSON Lines (ids must be new to the server to measure real ingest).
    #[arg(long)]
    pub ads: PathBuf,
    /// Connections sending at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Ads per request (1 sends single ad objects; more sends arrays).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Send at most this many ads.
    #[arg(long)]
    pub limit: Option<usize>,
    /// The policy and region of the in-process run the service is compared with (use the
    /// server's).
    #[command(flatten)]
    pub engine: crate::engine_args::EngineArgs,
}

struct Target {
    connect: String,
    authority: String,
    path: String,
}

fn target(url: &str) -> Result<Target> {
    let rest = url.strip_prefix("http://").context(
        "--url must start with http:// (put TLS in front of the service, not in the benchmark)",
    )?;
    let (authority, base) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    if authority.is_empty() {
        bail!("--url has no host");
    }
    let connect = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok(Target {
        connect,
        authority: authority.to_owned(),
        path: format!("{base}/v1/ads"),
    })
}

/// One request's outcome.
struct Sample {
    took: Duration,
    status: u16,
    ads: usize,
}

pub fn run(args: BenchHttpArgs) -> Result<()> {
    if args.concurrency == 0 || args.batch == 0 {
        bail!("--concurrency and --batch must be at least 1");
    }
    let file = std::fs::File::open(&args.ads)
        .with_context(|| format!("cannot open {}", args.ads.display()))?;
    let mut lines = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", args.ads.display(), n + 1))?;
        if !line.trim().is_empty() {
            lines.push(line);
        }
        if args.limit.is_some_and(|l| lines.len() >= l) {
            break;
        }
    }
    if lines.is_empty() {
        bail!("{} holds no ads", args.ads.display());
    }
    let bodies: Vec<(Bytes, usize)> = lines
        .chunks(args.batch)
        .map(|c| {
            let body = if args.batch == 1 {
                c[0].clone()
            } else {
                format!("[{}]", c.join(","))
            };
            (Bytes::from(body), c.len())
        })
        .collect();
    let target = Arc::new(target(&args.url)?);
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let bearer = format!("Bearer {}", args.key);

    let rt = runtime()?;
    let started = Instant::now();
    let samples: Vec<Sample> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (target, bodies, next, bearer) =
                (target.clone(), bodies.clone(), next.clone(), bearer.clone());
            tasks.push(tokio::spawn(async move {
                worker(&target, &bodies, &next, &bearer).await
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.context("a load worker panicked")??);
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    let elapsed = started.elapsed().as_secs_f64();

    let mut lat: Vec<f64> = samples
        .iter()
        .map(|s| s.took.as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    let ok_ads: usize = samples
        .iter()
        .filter(|s| (200..300).contains(&s.status))
        .map(|s| s.ads)
        .sum();
    let mut statuses = std::collections::BTreeMap::new();
    for s in &samples {
        *statuses.entry(s.status.to_string()).or_insert(0u64) += 1;
    }
    let http_rate = ok_ads as f64 / elapsed;
    let mut out = serde_json::json!({
        "url": args.url,
        "concurrency": args.concurrency,
        "batch": args.batch,
        "requests": samples.len(),
        "ads_acknowledged": ok_ads,
        "seconds": elapsed,
        "ads_per_sec": http_rate,
        "requests_per_sec": samples.len() as f64 / elapsed,
        "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0)},
        "statuses": statuses,
    });
    {
        let text = match &args.engine.policy {
            Some(p) => std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?,
            None => samaritan_engine::policy::DEFAULT_POLICY.to_owned(),
        };
        let extract = samaritan_engine::extract::ExtractOptions::with_region(&args.engine.region)?;
        // The service's own work in-process: analyse, take in images, link (fresh state).
        let intake = samaritan_server::engine::service_intake(
            false,
            false,
            samaritan_media::DecodeLimits::default().max_bytes,
            samaritan_media::RequestLimits::default(),
        );
        let images = samaritan_media::ImageContext::new(intake);
        let engine = EngineAnalyzer::new(&text, extract, Some(images))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ads: Vec<Ad> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("ad {}", i + 1)))
            .collect::<Result<_>>()?;
        let t = Instant::now();
        let mut n = 0;
        for chunk in ads.chunks(1000) {
            n += samaritan_server::Analyzer::ingest_linked(&engine, chunk)
                .analyses
                .len();
        }
        let secs = t.elapsed().as_secs_f64();
        let rate = n as f64 / secs;
        out["in_process"] = serde_json::json!({"ads": n, "seconds": secs, "ads_per_sec": rate});
        out["service_over_in_process"] = serde_json::json!(http_rate / rate);
    }
    println!("{out}");
    eprintln!(
        "{} requests ({} ads acknowledged) in {elapsed:.2} s: {http_rate:.0} ads/s; latency p50 {:.2} ms, p99 {:.2} ms",
        samples.len(),
        ok_ads,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

async fn worker(
    target: &Target,
    bodies: &[(Bytes, usize)],
    next: &AtomicUsize,
    bearer: &str,
) -> Result<Vec<Sample>> {
    let stream = tokio::net::TcpStream::connect(&target.connect)
        .await
        .with_context(|| format!("cannot connect to {}", target.connect))?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut out = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((body, ads)) = bodies.get(i) else {
            break;
        };
        let req = Request::post(target.path.as_str())
            .header(HOST, target.authority.as_str())
            .header(AUTHORIZATION, bearer)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))?;
        sender.ready().await?;
        let t = Instant::now();
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        resp.into_body().collect().await?;
        out.push(Sample {
            took: t.elapsed(),
            status,
            ads: *ads,
        });
    }
    Ok(out)
}
