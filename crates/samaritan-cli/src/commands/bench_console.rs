//! `samaritan bench-console`: server time of the console's queue page and ad page, in process
//! (the router called directly: no sockets, so the figure is the server's own work — session
//! check, store reads, the audit entry each page appends, rendering).
//!
//! Fills an empty store with the seeded synthetic marketplace first (`--ads`), signs a bench
//! reviewer in, then requests each page `--requests` times and prints one JSON line with the
//! percentiles; a summary goes to stderr.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use axum::body::Body;
use clap::Args;
use http_body_util::BodyExt;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::{QueueState, Role, now_ms};
use tower::ServiceExt;

use super::store_args::{StoreArgs, runtime};

#[derive(Args)]
pub struct BenchConsoleArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Ads of the synthetic marketplace to load when the store is empty.
    #[arg(long, default_value_t = 100_000)]
    pub ads: u64,
    /// Requests per page.
    #[arg(long, default_value_t = 500)]
    pub requests: usize,
}

pub fn run(args: BenchConsoleArgs) -> Result<()> {
    runtime()?.block_on(bench(args))
}

fn percentiles(mut ms: Vec<f64>) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    serde_json::json!({
        "requests": ms.len(),
        "p50_ms": (at(0.50) * 100.0).round() / 100.0,
        "p90_ms": (at(0.90) * 100.0).round() / 100.0,
        "p99_ms": (at(0.99) * 100.0).round() / 100.0,
        "max_ms": (at(1.0) * 100.0).round() / 100.0,
    })
}

async fn bench(args: BenchConsoleArgs) -> Result<()> {
    if args.requests == 0 {
        bail!("--requests must be at least 1");
    }
    let store = args.store.open().await?;
    let analyzer = Arc::new(
        EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None)
            .map_err(|e| anyhow::anyhow!("the default policy: {e}"))?,
    );
    analyzer
        .restore_from(&store)
        .await
        .context("restoring the linker")?;
    let limits = Limits {
        rate_per_sec: 0.0,
        ..Limits::default()
    };
    let state = AppState::new(store.clone(), analyzer, limits);
    if store.stats().await?.ads == 0 {
        eprintln!("bench-console: loading {} synthetic ads", args.ads);
        let t = Instant::now();
        super::serve::fill_synthetic(&state, args.ads).await?;
        eprintln!("bench-console: loaded in {:.1}s", t.elapsed().as_secs_f64());
    }
    let stats = store.stats().await?;
    let networks = store.network_count().await?;

    // A reviewer and a signed-in session, as a browser would hold it.
    let user = match store.get_user("bench-reviewer").await? {
        Some(u) => u,
        None => {
            let pw = samaritan_store::users::generate_password()?;
            store
                .create_user("bench-reviewer", Role::Reviewer, &pw, "cli:bench-console")
                .await?
        }
    };
    let session = store.open_session(&user, "bench", now_ms()).await?;
    let cookie = format!("samaritan_session={}", session.token);
    let app = samaritan_server::router(state);
    let ids: Vec<String> = store
        .queue_list(QueueState::Open, 1000, now_ms())
        .await?
        .into_iter()
        .map(|i| i.ad_id)
        .collect();
    if ids.is_empty() {
        bail!("the queue is empty; nothing to open");
    }

    let get = |path: String| {
        let app = app.clone();
        let cookie = cookie.clone();
        async move {
            let req = axum::http::Request::builder()
                .uri(path.as_str())
                .header("cookie", cookie)
                .header("host", "bench")
                .body(Body::empty())?;
            let t = Instant::now();
            let resp = app.oneshot(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if status != axum::http::StatusCode::OK {
                bail!("{path}: {status}: {}", String::from_utf8_lossy(&body));
            }
            Ok::<(f64, usize), anyhow::Error>((ms, body.len()))
        }
    };
    // Warm the caches once, then measure.
    get("/queue".to_owned()).await?;
    get(format!("/ads/{}", ids[0])).await?;
    let mut queue_ms = Vec::with_capacity(args.requests);
    let mut ad_ms = Vec::with_capacity(args.requests);
    let mut queue_bytes = 0;
    for i in 0..args.requests {
        let (ms, n) = get("/queue".to_owned()).await?;
        queue_ms.push(ms);
        queue_bytes = n;
        let (ms, _) = get(format!("/ads/{}", ids[i % ids.len()])).await?;
        ad_ms.push(ms);
    }
    let out = serde_json::json!({
        "store": args.store.describe(),
        "ads": stats.ads,
        "networks": networks,
        "queue_open": stats.queue_open,
        "queue_page": percentiles(queue_ms),
        "queue_page_bytes": queue_bytes,
        "ad_page": percentiles(ad_ms),
    });
    eprintln!(
        "bench-console: {} ads, {} networks; queue page p99 {} ms, ad page p99 {} ms",
        stats.ads, networks, out["queue_page"]["p99_ms"], out["ad_page"]["p99_ms"]
    );
    println!("{out}");
    store.close().await;
    Ok(())
}
