//! `samaritan worker --stream nats://… --database postgres://… [--stage all|prepare|link]`: the
//! workers of the distributed mode (issue 24).
//!
//! - `--stage all` (the default): one process does everything. Waits to be elected through
//!   PostgreSQL, restores its linker from the store, then takes the ads stream in order through
//!   the service's ingest and acknowledges each ad after its commit
//!   (`samaritan_server::stream::linker`). Run two: the second waits as a standby and takes over
//!   within a second of the first dying.
//! - `--stage prepare`: a stateless prepare worker (`samaritan_server::stream::prepare`); run
//!   any number. Reads the policy and hash banks from the store at start, writes nothing there.
//! - `--stage link`: the linker of the fan-out layout, elected like `all`, taking the prepare
//!   workers' results in the ads stream's order.
//!
//! stdout: JSON Lines of what happens (`{"standby": …}`, `{"leading": …}`, `{"preparing": …}`,
//! `{"interrupted": …}` when a linker lost its lock, store or stream and stands by again, at a
//! stop the counts, and with `--stages` the CPU per ad of each stage,
//! `samaritan_server::stage_cpu`); stderr: logs. Exit code 0 after SIGTERM/SIGINT (a snapshot
//! saved, the lock given up), 1 when it cannot start (the store's audit chain broken, a bad stream name)
//! or was stopped while failing.

use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_server::engine::{image_context, service_intake};
use samaritan_server::stage_cpu::{LINK_STAGES, PREPARE_STAGES, StageCpu};
use samaritan_server::stream::linker::Restore;
use samaritan_server::stream::{LinkerConfig, LinkerStop, PrepareConfig, run_linker, run_prepare};
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::Store;

use super::store_args::runtime;
use super::stream_args::StreamArgs;
use crate::engine_args::EngineArgs;

#[derive(Args)]
pub struct WorkerArgs {
    /// NATS URL of the ads stream (`nats://host:port`).
    #[arg(long, env = "SAMARITAN_STREAM", value_name = "URL")]
    pub stream: String,
    #[command(flatten)]
    pub target: StreamArgs,
    /// The PostgreSQL store the linker commits to and is elected through (prepare workers read
    /// the policy and hash banks from it).
    #[arg(long, env = "SAMARITAN_DATABASE", value_name = "URL")]
    pub database: String,
    /// What this worker does: `all` (one process prepares and links, as before), `prepare`
    /// (a stateless prepare worker; run any number) or `link` (the linker of the fan-out
    /// layout, taking the prepare workers' results). `all` and `prepare` cannot run on the
    /// same stream at once.
    #[arg(long, value_enum, default_value_t = Stage::All)]
    pub stage: Stage,
    /// Policy and region: the `--policy` file, else the policy stored in the database (as
    /// `serve` put it in force), else the built-in default. Read at election and at each
    /// rebuild.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Messages fetched from the stream at once (prepare workers: 64 unless given).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Attempts at one message (each after rebuilding the linker from the store; for a prepare
    /// worker, deliveries) before it is parked with its error (`samaritan parked` lists them).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Save the linker's snapshot once this many ads were linked since the last (and at a
    /// clean stop). 0: only at a clean stop.
    #[arg(long, default_value_t = 100_000)]
    pub snapshot_every: u64,
    /// The quality audit (as `serve --audit-sample`): the share (0..=1) of the ad revisions the
    /// policy allows that the linker samples at random for review when it commits them.
    #[arg(long, default_value_t = samaritan_server::learning::DEFAULT_AUDIT_SAMPLE)]
    pub audit_sample: f64,
    /// Seconds JetStream waits for a prepare worker's acknowledgement before delivering an ad
    /// again (a killed prepare worker's ads come back after it).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ack_wait_secs: u64,
    /// Milliseconds between a standby's tries for the leadership lock.
    #[arg(long, default_value_t = 500)]
    pub poll_ms: u64,
    /// Do not take in images (`images` in analyses stays empty; hashes an ad supplies itself
    /// still link).
    #[arg(long)]
    pub no_images: bool,
    /// Fetch `{url}` images (public addresses only, as `serve --fetch-images`).
    #[arg(long)]
    pub fetch_images: bool,
    /// Where the images taken in are kept for review, by SHA-256 (none kept without it).
    #[command(flatten)]
    pub blobs: super::blob_args::BlobArgs,
    /// Count the CPU time of each stage (thread CPU time, summed over threads) and, at a stop,
    /// print it per ad: on stderr, and as `{"cpu": …}` on stdout.
    #[arg(long)]
    pub stages: bool,
}

/// The stage a worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    All,
    Prepare,
    Link,
}

pub fn run(args: WorkerArgs) -> Result<std::process::ExitCode> {
    runtime()?.block_on(worker(args))
}

/// Builds the service state from the store each time the linker is elected or rebuilt.
struct FromStore {
    engine: EngineArgs,
    images: bool,
    fetch_images: bool,
    blobs: Option<samaritan_media::BlobStore>,
}

impl FromStore {
    /// The engine as the store's policy and hash banks say, with an empty linker.
    async fn analyzer(&self, store: &Store) -> Result<Arc<EngineAnalyzer>> {
        let extract = self.engine.extract()?;
        let text = match (&self.engine.policy, store.current_policy().await?) {
            (Some(path), _) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the policy {}", path.display()))?,
            (None, Some(p)) => p.text,
            (None, None) => samaritan_engine::policy::DEFAULT_POLICY.to_owned(),
        };
        let images = if self.images {
            let mut intake = service_intake(
                self.fetch_images,
                false,
                samaritan_media::DecodeLimits::default().max_bytes,
                samaritan_media::RequestLimits::default(),
            );
            intake.keep = self.blobs.clone();
            Some(
                image_context(intake, store, None)
                    .await
                    .context("loading the store's hash banks")?,
            )
        } else {
            None
        };
        Ok(Arc::new(
            EngineAnalyzer::new(&text, extract, images)
                .map_err(|e| anyhow::anyhow!("the policy is refused: {e}"))?,
        ))
    }

    async fn build(&self, store: &Store) -> Result<(AppState, Arc<EngineAnalyzer>)> {
        let analyzer = self.analyzer(store).await?;
        analyzer
            .restore_from(store)
            .await
            .context("restoring the linker from the store")?;
        let state = AppState::new(store.clone(), analyzer.clone(), Limits::default());
        samaritan_server::save_networks(&state)
            .await
            .map_err(|e| anyhow::anyhow!("saving the restored networks: {}", e.message))?;
        Ok((state, analyzer))
    }
}

impl Restore for FromStore {
    async fn restore(&self, store: &Store) -> Result<(AppState, Arc<EngineAnalyzer>), String> {
        self.build(store).await.map_err(|e| format!("{e:#}"))
    }
}

async fn worker(args: WorkerArgs) -> Result<std::process::ExitCode> {
    if !(args.database.starts_with("postgres://") || args.database.starts_with("postgresql://")) {
        anyhow::bail!(
            "--database must be a PostgreSQL URL (postgres://…): the linker is elected through it"
        );
    }
    let store = Store::open_postgres(&args.database)
        .await
        .context("cannot open the PostgreSQL store")?;
    store
        .set_audit_sample_rate(args.audit_sample)
        .map_err(|e| anyhow::anyhow!("--audit-sample: {e}"))?;
    let report = store.audit_verify().await?;
    if !report.ok {
        anyhow::bail!(
            "AUDIT CHAIN BROKEN ({} problems): refusing to link into a store whose record was \
             tampered with or damaged; run `samaritan audit verify`",
            report.problems.len()
        );
    }
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
    let actor = format!("worker:{host}:{}", std::process::id());
    let restorer = FromStore {
        engine: args.engine,
        images: !args.no_images,
        fetch_images: args.fetch_images,
        blobs: args.blobs.open_configured()?,
    };
    let stop = LinkerStop::default();
    spawn_stop_on_signal(stop.clone());
    let print = |event: serde_json::Value| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{event}");
        let _ = out.flush();
    };
    if args.stage == Stage::Prepare {
        let analyzer = restorer.analyzer(&store).await?;
        // A prepare worker needs nothing more from the store.
        if tokio::time::timeout(std::time::Duration::from_secs(10), store.close())
            .await
            .is_err()
        {
            eprintln!("samaritan worker: the store did not close within 10s; going on");
        }
        let mut cfg = PrepareConfig::new(&args.stream, args.target.spec()?);
        cfg.batch = args.batch.unwrap_or(64).max(1);
        cfg.max_attempts = args.max_attempts;
        cfg.ack_wait = std::time::Duration::from_secs(args.ack_wait_secs);
        cfg.stage_cpu = args.stages.then(|| Arc::new(StageCpu::new(PREPARE_STAGES)));
        return match run_prepare(&cfg, analyzer, &actor, &stop, &print).await {
            Ok(counts) => {
                print_stage_cpu(cfg.stage_cpu.as_deref(), &print);
                print(serde_json::json!({"stopped": actor, "counts": counts}));
                eprintln!(
                    "samaritan worker: stopped ({} prepared, {} to park)",
                    counts.prepared, counts.failed
                );
                Ok(std::process::ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(std::process::ExitCode::from(1))
            }
        };
    }
    let mut cfg = LinkerConfig::new(&args.stream, args.target.spec()?, &actor);
    cfg.batch = args.batch.unwrap_or(256).max(1);
    cfg.max_attempts = args.max_attempts;
    cfg.snapshot_every = args.snapshot_every;
    cfg.poll = std::time::Duration::from_millis(args.poll_ms.max(10));
    cfg.fanout = args.stage == Stage::Link;
    cfg.stage_cpu = args.stages.then(|| Arc::new(StageCpu::new(LINK_STAGES)));
    // A linker that lost its lock, its store or its stream (a restart of PostgreSQL or NATS)
    // goes back to standby after a pause, and is elected again from the store.
    let mut failures = 0u32;
    let result = loop {
        match run_linker(&store, &cfg, &restorer, &stop, &print).await {
            Ok(counts) => break Ok(counts),
            Err(e) if !stop.is_stopped() => {
                let wait = std::time::Duration::from_millis(500 << failures.min(4));
                failures += 1;
                eprintln!(
                    "samaritan worker: the linker stopped ({e}); standing by again in {} ms",
                    wait.as_millis()
                );
                print(serde_json::json!({"interrupted": actor, "error": e.to_string()}));
                tokio::time::sleep(wait).await;
            }
            Err(e) => break Err(e),
        }
    };
    let code = match result {
        Ok(counts) => {
            print_stage_cpu(cfg.stage_cpu.as_deref(), &print);
            print(serde_json::json!({"stopped": actor, "counts": counts}));
            eprintln!(
                "samaritan worker: stopped ({} created, {} updated, {} unchanged, {} parked)",
                counts.created, counts.updated, counts.unchanged, counts.parked
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    };
    if tokio::time::timeout(std::time::Duration::from_secs(10), store.close())
        .await
        .is_err()
    {
        eprintln!("samaritan worker: the store did not close within 10s; stopping anyway");
    }
    Ok(code)
}

/// `--stages`: the CPU per ad of each stage, on stderr and stdout (nothing without ads).
fn print_stage_cpu(cpu: Option<&StageCpu>, print: &dyn Fn(serde_json::Value)) {
    let Some(cpu) = cpu else { return };
    match cpu.summary() {
        Some(summary) => {
            eprintln!("samaritan worker: {summary}");
            print(serde_json::json!({ "cpu": summary }));
        }
        None => eprintln!("samaritan worker: no ads were done, so no CPU per ad to print"),
    }
}

/// SIGTERM or SIGINT stops the linker after the batch in hand.
fn spawn_stop_on_signal(stop: LinkerStop) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        tokio::spawn(async move {
            match (term, int) {
                (Ok(mut t), Ok(mut i)) => {
                    tokio::select! { _ = t.recv() => {}, _ = i.recv() => {} }
                }
                _ => std::future::pending::<()>().await,
            }
            stop.stop();
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.stop();
    });
}
