//! `samaritan worker --stream nats://… --database postgres://…`: the linker of the distributed
//! mode (issue 24). Waits to be elected through PostgreSQL, restores its linker from the store,
//! then takes the ads stream in order through the service's ingest and acknowledges each ad
//! after its commit (`samaritan_server::stream::linker`). Run two: the second waits as a
//! standby and takes over within a second of the first dying.
//!
//! stdout: JSON Lines of what happens (`{"standby": …}`, `{"leading": …}`, at a stop the
//! counts); stderr: logs. Exit code 0 after SIGTERM/SIGINT (a snapshot saved, the lock given
//! up), 1 when it had to stop (lost its lock, the store failed while parking).

use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_server::engine::{image_context, service_intake};
use samaritan_server::stream::linker::Restore;
use samaritan_server::stream::{LinkerConfig, LinkerStop, run_linker};
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
    /// The PostgreSQL store the linker commits to and is elected through.
    #[arg(long, env = "SAMARITAN_DATABASE", value_name = "URL")]
    pub database: String,
    /// Policy and region: the `--policy` file, else the policy stored in the database (as
    /// `serve` put it in force), else the built-in default. Read at election and at each
    /// rebuild.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Messages fetched from the stream at once.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Attempts at one message (each after rebuilding the linker from the store) before it is
    /// parked with its error (`samaritan parked` lists them).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Save the linker's snapshot once this many ads were linked since the last (and at a
    /// clean stop). 0: only at a clean stop.
    #[arg(long, default_value_t = 100_000)]
    pub snapshot_every: u64,
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
    async fn build(&self, store: &Store) -> Result<(AppState, Arc<EngineAnalyzer>)> {
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
        let analyzer = Arc::new(
            EngineAnalyzer::new(&text, extract, images)
                .map_err(|e| anyhow::anyhow!("the policy is refused: {e}"))?,
        );
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
    let mut cfg = LinkerConfig::new(&args.stream, args.target.spec()?, &actor);
    cfg.batch = args.batch.max(1);
    cfg.max_attempts = args.max_attempts;
    cfg.snapshot_every = args.snapshot_every;
    cfg.poll = std::time::Duration::from_millis(args.poll_ms.max(10));
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
    let result = run_linker(&store, &cfg, &restorer, &stop, &print).await;
    let code = match result {
        Ok(counts) => {
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
