//! `samaritan serve`: the HTTP service over the store, with the engine behind it.
//!
//! Prints one JSON line on stdout once it listens (`{"listening": "http://…", …}`), so scripts
//! and tests can find it when `--listen` asks for port 0; a human summary goes to stderr.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use samaritan_media::RequestLimits;
use samaritan_server::engine::{image_context, service_intake};
use samaritan_server::{AdLimits, AppState, ConsoleConfig, EngineAnalyzer, Limits};
use samaritan_store::Scope;

use super::store_args::{StoreArgs, runtime};
use crate::engine_args::EngineArgs;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "SAMARITAN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Policy and region. Without `--policy` the service runs the policy stored by the last run
    /// (or `PUT /v1/policy`), else the built-in default; with `--policy` that file is put in
    /// force and recorded as a new version when it differs from the stored one.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Put accepted ads on this NATS JetStream (`nats://host:port`) instead of analysing them
    /// here: `POST /v1/ads` bounds and checks them as always, publishes them in order and
    /// answers 202 once JetStream acknowledged every one. `samaritan worker` analyses them.
    /// This service then links nothing itself (no linker restore, snapshots or network saves).
    #[arg(
        long,
        env = "SAMARITAN_STREAM",
        value_name = "URL",
        conflicts_with = "demo"
    )]
    pub stream: Option<String>,
    #[command(flatten)]
    pub stream_target: super::stream_args::StreamArgs,
    /// Load a synthetic demo corpus when the store is empty, and make a key for it if there is
    /// none (printed once).
    #[arg(long)]
    pub demo: bool,
    /// Ads in the demo corpus.
    #[arg(long, default_value_t = 2000)]
    pub demo_ads: u64,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most ads in one POST /v1/ads.
    #[arg(long, default_value_t = 1000)]
    pub max_batch: usize,
    /// Longest ad `title`, in bytes (400 `field_too_large` naming the field past it).
    #[arg(long, default_value_t = AdLimits::default().max_title_bytes)]
    pub max_title_bytes: usize,
    /// Longest ad `body` (the ad's text), in bytes.
    #[arg(long, default_value_t = AdLimits::default().max_text_bytes)]
    pub max_text_bytes: usize,
    /// Longest short ad field (`account`, `url`, `location.*`, an image's `url`, `path`,
    /// `sha256`, `pdq`), in bytes.
    #[arg(long, default_value_t = AdLimits::default().max_field_bytes)]
    pub max_field_bytes: usize,
    /// Largest ad `meta`, in bytes of JSON.
    #[arg(long, default_value_t = AdLimits::default().max_meta_bytes)]
    pub max_meta_bytes: usize,
    /// Most images in one ad (400 `too_many_images`).
    #[arg(long, default_value_t = AdLimits::default().max_images)]
    pub max_images_per_ad: usize,
    /// Most `{url}` images in one request, over all its ads (400 `too_many_image_urls`).
    #[arg(long, default_value_t = Limits::default().max_url_images)]
    pub max_url_images: usize,
    /// Milliseconds a checked key is trusted before the store is asked again. 0 (default): the
    /// store is asked on every request, so a revoked key stops on its next request; with N > 0
    /// a revoked key may work for up to N ms.
    #[arg(long, default_value_t = Limits::default().key_cache_ms)]
    pub key_cache_ms: u64,
    /// Requests per second per key, sustained (0: no limit).
    #[arg(long, default_value_t = 200.0)]
    pub rate_limit: f64,
    /// Requests per key allowed in a burst above the rate.
    #[arg(long, default_value_t = 400.0)]
    pub burst: f64,
    /// Do not take in images (`images` in analyses stays empty; hashes an ad supplies itself
    /// still link and are searchable).
    #[arg(long)]
    pub no_images: bool,
    /// Fetch `{url}` images (off by default: the service does not reach out unless asked).
    /// Fetches refuse loopback, private, link-local and other non-public addresses.
    #[arg(long)]
    pub fetch_images: bool,
    /// With `--fetch-images`, also allow non-public addresses (tests, closed networks only).
    #[arg(long, requires = "fetch_images")]
    pub allow_private_fetch: bool,
    /// Largest image file, in bytes.
    #[arg(long, default_value_t = samaritan_media::DecodeLimits::default().max_bytes)]
    pub max_image_bytes: u64,
    /// Let the HMA-compatible routes (`/hma/h/hash?url=`, `/hma/m/lookup?url=`,
    /// `/hma/c/bank/…/content?url=`) fetch from non-public addresses too (closed networks only).
    #[arg(long)]
    pub hma_allow_private: bool,
    /// PDQ distance at or below which `/hma/m/lookup` matches (HMA's default: 31).
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub hma_distance: u32,
    /// The reason codes decisions must use, per action (TOML: `[remove] code = "meaning"`, one
    /// table per action). Default: the built-in list (`GET /v1/reasons` shows what is in force).
    #[arg(long, value_name = "FILE")]
    pub reasons: Option<std::path::PathBuf>,
    /// Who files reports to NCMEC's CyberTipline (TOML: `platform`, `email`, optional
    /// `first_name`, `last_name`, `phone`, `terms_of_service`, `legal_url`). Without it, report
    /// drafts say the reporter is missing.
    #[arg(long, value_name = "FILE")]
    pub reporter: Option<std::path::PathBuf>,
    /// File approved report cases from the API and the console with this CyberTipline:
    /// `test` (NCMEC's test service), `production`, or a base URL (e.g. `samaritan ncmec mock`).
    /// Needs `--cybertip-credentials`.
    #[arg(
        long,
        value_name = "test|production|URL",
        requires = "cybertip_credentials"
    )]
    pub cybertip: Option<String>,
    /// A file holding the Reporting API's `user:password` (never given on the command line).
    #[arg(long, env = "SAMARITAN_CYBERTIP_CREDENTIALS_FILE", value_name = "FILE")]
    pub cybertip_credentials: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub vault: super::vault_args::VaultArgs,
    #[command(flatten)]
    pub webhooks: super::webhooks::WebhookArgs,
    /// Days a report case's preserved evidence is held at least (365, the REPORT Act's year,
    /// or more); an admin releases it after, with a reason.
    #[arg(long, default_value_t = samaritan_server::preserve::MIN_HOLD_DAYS)]
    pub hold_days: u32,
    /// Save the linker as a snapshot in the store once this many ads were linked since the last
    /// one (checked every 30 s), and at a clean stop; a restart then loads it and replays only
    /// the ads linked after it. 0: only at a clean stop.
    #[arg(long, default_value_t = 100_000)]
    pub snapshot_every: u64,
    /// The learned model (issue 25) learns reviewers' decisions in batches of this many: each
    /// batch becomes a new stored model version (audited). 0: the model only scores (in
    /// shadow) and learns nothing. Without a stored model (`samaritan model import`) there is
    /// nothing to score or teach.
    #[arg(long, default_value_t = samaritan_server::learning::LearnConfig::default().batch)]
    pub model_batch: usize,
    /// Most of a batch's teaching weight one reviewer may carry (0 < share <= 1): a reviewer with
    /// more than this share of a batch's teaching decisions has each of them weighed down.
    #[arg(long, default_value_t = samaritan_server::learning::LearnConfig::default().reviewer_share)]
    pub model_reviewer_share: f64,
    /// Active learning: the share (0..=1) of the items reviewers claim drawn from the ads the
    /// policy allowed but the learned model is least sure of (shown as "drawn for learning";
    /// their decisions teach the model what the policy's queue never shows it). 0 turns it off;
    /// without a stored model nothing is drawn.
    #[arg(long, default_value_t = samaritan_server::learning::DEFAULT_ACTIVE_SHARE)]
    pub active_share: f64,
    /// The quality audit: the share (0..=1) of the ad revisions the policy allows that are
    /// sampled at random for review. Their answers show what the policy lets through, and the
    /// learned model's calibration and raise point are fitted on them. 0 samples nothing.
    #[arg(long, default_value_t = samaritan_server::learning::DEFAULT_AUDIT_SAMPLE)]
    pub audit_sample: f64,
    /// The share (0..=1) of the items reviewers claim drawn from the audit sample. The console
    /// does not label them as sampled; the API's queue items carry `source: audit`. 0 turns
    /// the draw off.
    #[arg(long, default_value_t = samaritan_server::learning::DEFAULT_AUDIT_SHARE)]
    pub audit_share: f64,
    /// The share (0..=1) of the audited benign ads the learned model may raise to review: its
    /// raise point is fitted there on the audit's answers.
    #[arg(long, default_value_t = samaritan_server::learning::AuditFit::default().benign_rate)]
    pub model_benign_rate: f64,
    /// Audited benign answers needed before the learned model raises anything (until then it
    /// scores in shadow only, whatever threshold it came with).
    #[arg(long, default_value_t = samaritan_server::learning::AuditFit::default().min_benign)]
    pub model_min_audit: usize,
    /// Re-verify the audit chain (and the decisions against it) every this many seconds; a
    /// broken chain makes `/readyz` fail and is logged as an error. 0: only at start.
    #[arg(long, default_value_t = 300)]
    pub audit_verify_secs: u64,
    /// Decoded pixels over all the images of one request; an image past it gets an `error`
    /// entry in its analysis (`request_pixels`) and is not decoded.
    #[arg(long, default_value_t = RequestLimits::default().max_pixels)]
    pub max_request_pixels: u64,
    /// Seconds for all the URL fetches of one request together; a URL not fetched by then gets
    /// an `error` entry (`fetch_deadline`).
    #[arg(long, default_value_t = RequestLimits::default().fetch_deadline.as_secs())]
    pub fetch_deadline_secs: u64,
    /// URL fetches of one request to one host name at once.
    #[arg(long, default_value_t = RequestLimits::default().max_per_host)]
    pub fetch_per_host: usize,
    /// Where the images taken in (kept for review, by SHA-256) and preserved evidence are kept.
    #[command(flatten)]
    pub blobs: super::blob_args::BlobArgs,
    /// Console: minutes without a request after which a session ends.
    #[arg(long, default_value_t = 30)]
    pub session_idle_mins: i64,
    /// Console: hours after sign-in after which a session ends whatever happens.
    #[arg(long, default_value_t = 12)]
    pub session_max_hours: i64,
    /// Console: mark the session cookie `Secure` (serve it over HTTPS, e.g. behind a proxy).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Console: a reverse proxy sets `X-Forwarded-For` (client address for the sign-in
    /// throttle) and `X-Forwarded-Proto` (`https` makes cookies `Secure`). Only behind one:
    /// otherwise a client could pick its own address.
    #[arg(long)]
    pub trust_proxy: bool,
    /// Console: failed sign-ins one address may make in 15 minutes before it must wait.
    #[arg(long, default_value_t = ConsoleConfig::default().address_failures)]
    pub login_failures_per_address: u32,
    /// Console: share (0 to 1) of "claim next" that serves a golden item when one is available
    /// for the person (a decided ad whose answer a lead set on the Quality page); 0 turns it off.
    #[arg(long, default_value_t = samaritan_server::GOLDEN_RATE, value_parser = fraction)]
    pub qa_golden_rate: f64,
    /// Console and API: share (0 to 1) of decisions made under a claim that are sampled for a
    /// blind second review by someone else; 0 turns it off.
    #[arg(long, default_value_t = samaritan_server::SECOND_REVIEW_RATE, value_parser = fraction)]
    pub qa_second_review_rate: f64,
}

/// A share between 0 and 1.
fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("`{s}` is not a share between 0 and 1 (e.g. 0.05)")),
    }
}

pub fn run(args: ServeArgs) -> Result<()> {
    runtime()?.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<()> {
    let reasons = match &args.reasons {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the reason codes {}", path.display()))?;
            samaritan_store::ReasonCodes::from_toml(&text)
                .with_context(|| format!("in {}", path.display()))?
        }
        None => samaritan_store::ReasonCodes::default(),
    };
    let store = args.store.open().await?;
    // A broken chain means the record cannot be trusted: refuse to serve on it (the operator
    // restores the store, or investigates with `samaritan audit verify`).
    let report = store.audit_verify().await?;
    if !report.ok {
        for p in report.problems.iter().take(20) {
            eprintln!("  audit entry {}: {} ({})", p.seq, p.message, p.kind);
        }
        anyhow::bail!(
            "AUDIT CHAIN BROKEN ({} problems): refusing to serve on a store whose record was \
             tampered with or damaged; run `samaritan audit verify` for the full report",
            report.problems.len()
        );
    }
    let extract = samaritan_engine::extract::ExtractOptions::with_region(&args.engine.region)?;
    let stored = store.current_policy().await?;
    let (initial, source) = match (&args.engine.policy, &stored) {
        (Some(path), _) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the policy {}", path.display()))?,
            path.display().to_string(),
        ),
        (None, Some(p)) => (p.text.clone(), format!("the store (version {})", p.version)),
        (None, None) => (
            samaritan_engine::policy::DEFAULT_POLICY.to_owned(),
            "the built-in default".to_owned(),
        ),
    };
    // The files taken in, kept for review (content-addressed; the console serves them).
    let blobs = args.blobs.open(&args.store.data_dir)?;
    tracing::info!(blobs = blobs.describe(), "blob storage");
    let images = if args.no_images {
        None
    } else {
        let request = RequestLimits {
            max_pixels: args.max_request_pixels,
            fetch_deadline: std::time::Duration::from_secs(args.fetch_deadline_secs),
            max_per_host: args.fetch_per_host,
        };
        let mut intake = service_intake(
            args.fetch_images,
            args.allow_private_fetch,
            args.max_image_bytes,
            request,
        );
        intake.keep = Some(blobs.clone());
        // The banks `samaritan bank import` wrote into the data directory, as scan reads them.
        let banks = samaritan_media::BankDir::new(&args.store.data_dir);
        Some(
            image_context(intake, &store, Some(&banks))
                .await
                .with_context(|| {
                    format!(
                        "loading the hash banks (the store's and {}'s)",
                        args.store.data_dir.display()
                    )
                })?,
        )
    };
    let analyzer = EngineAnalyzer::new(&initial, extract, images)
        .map_err(|e| anyhow::anyhow!("policy from {source} refused: {e}"))?;
    if stored.as_ref().map(|p| p.text.as_str()) != Some(initial.as_str()) {
        // Record the policy in force so restarts and auditors see what ran.
        let label = samaritan_server::Analyzer::policy(&analyzer).label;
        store.save_policy(&label, &initial, "cli:serve").await?;
    }
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_batch: args.max_batch,
        rate_per_sec: args.rate_limit,
        burst: args.burst,
        key_cache_ms: args.key_cache_ms,
        ad: AdLimits {
            max_title_bytes: args.max_title_bytes,
            max_text_bytes: args.max_text_bytes,
            max_field_bytes: args.max_field_bytes,
            max_meta_bytes: args.max_meta_bytes,
            max_images: args.max_images_per_ad,
        },
        max_url_images: args.max_url_images,
        console: ConsoleConfig {
            sessions: samaritan_store::SessionLimits {
                idle_ms: args.session_idle_mins.clamp(1, 24 * 60) * 60_000,
                absolute_ms: args.session_max_hours.clamp(1, 7 * 24) * 3_600_000,
            },
            secure_cookies: args.secure_cookies,
            trust_proxy: args.trust_proxy,
            address_failures: args.login_failures_per_address.max(1),
            golden_rate: args.qa_golden_rate,
            second_review_rate: args.qa_second_review_rate,
            ..ConsoleConfig::default()
        },
        ..Limits::default()
    };
    let analyzer = Arc::new(analyzer);
    let restore_started = std::time::Instant::now();
    // With a stream the worker links; this service keeps no linker to restore.
    let restored = if args.stream.is_some() {
        samaritan_server::Restored {
            snapshot: None,
            replayed: 0,
            secs: samaritan_server::RestoreSecs::default(),
        }
    } else {
        analyzer
            .restore_from(&store)
            .await
            .context("restoring the linker from the store")?
    };
    if restored.snapshot.is_some() || restored.replayed > 0 {
        let from = match restored.snapshot {
            Some(s) => format!(
                "a snapshot of {} ads ({:.1} MiB) and {} later records",
                s.ads,
                s.bytes as f64 / (1024.0 * 1024.0),
                restored.replayed
            ),
            None => format!("{} stored records", restored.replayed),
        };
        let t = restored.secs;
        eprintln!(
            "samaritan: linker restored from {from} in {:.2}s ({} ads linked; snapshot read {:.2}s, \
             decoded {:.2}s, memberships {:.2}s, replay {:.2}s)",
            restore_started.elapsed().as_secs_f64(),
            analyzer.linked_ads(),
            t.snapshot_read,
            t.snapshot_decode,
            t.memberships,
            t.replay
        );
    }
    let restore_secs = restore_started.elapsed().as_secs_f64();
    let snapshot_every = if args.stream.is_some() {
        0
    } else {
        args.snapshot_every
    };
    let snapshots = spawn_snapshots(analyzer.clone(), store.clone(), snapshot_every);
    let state = AppState::with_reasons(store.clone(), analyzer.clone(), limits, reasons);
    if let Some(url) = &args.stream {
        let spec = args.stream_target.spec()?;
        let publisher = samaritan_server::stream::Publisher::connect(url, spec, "api")
            .await
            .context("opening the ads stream")?;
        eprintln!(
            "samaritan: POST /v1/ads puts ads on stream {} (subject {}); `samaritan worker` analyses them",
            publisher.stream(),
            publisher.subject()
        );
        state.publish_to(publisher);
    }
    state.serve_images_from(blobs);
    // The learned model scores in shadow from the stored current version, and learns from the
    // decisions it has not accounted for (those made while the service was down first).
    if !(args.model_reviewer_share > 0.0 && args.model_reviewer_share <= 1.0) {
        bail!("--model-reviewer-share is above 0 and at most 1");
    }
    if !(0.0..=1.0).contains(&args.active_share) {
        bail!("--active-share is between 0 and 1");
    }
    state.active_draw().set_share(args.active_share);
    if !(0.0..=1.0).contains(&args.audit_share) {
        bail!("--audit-share is between 0 and 1");
    }
    if !(0.0..=1.0).contains(&args.model_benign_rate) {
        bail!("--model-benign-rate is between 0 and 1");
    }
    state.audit_draw().set_share(args.audit_share);
    state
        .store()
        .set_audit_sample_rate(args.audit_sample)
        .map_err(|e| anyhow::anyhow!("--audit-sample: {e}"))?;
    if let Some(v) = samaritan_server::learning::restore_model(&state)
        .await
        .context("loading the learned model from the store")?
    {
        eprintln!(
            "samaritan: learned model version {v} scores every ingested ad in shadow{}",
            if args.model_batch > 0 {
                format!(" and learns decisions in batches of {}", args.model_batch)
            } else {
                String::new()
            }
        );
    }
    if args.model_batch > 0 {
        samaritan_server::learning::spawn_learner(
            state.clone(),
            samaritan_server::learning::LearnConfig {
                batch: args.model_batch,
                reviewer_share: args.model_reviewer_share,
                audit: samaritan_server::learning::AuditFit {
                    benign_rate: args.model_benign_rate,
                    min_benign: args.model_min_audit,
                    ..samaritan_server::learning::AuditFit::default()
                },
            },
            std::time::Duration::from_secs(5),
        );
    }
    let webhook_config = args.webhooks.config()?;
    state.preserve_with(
        samaritan_server::preserve::Preservation::new(
            args.vault.load(&args.store.data_dir, true)?,
            args.hold_days,
        )
        .map_err(|e| anyhow::anyhow!("--hold-days: {e}"))?,
    );
    if let Some(path) = &args.reporter {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the reporter {}", path.display()))?;
        let reporter: samaritan_server::reports::Reporter =
            toml::from_str(&text).with_context(|| format!("in the reporter {}", path.display()))?;
        state
            .set_reporter(reporter)
            .map_err(|e| anyhow::anyhow!("in the reporter {}: {e}", path.display()))?;
    }
    if let (Some(which), Some(path)) = (&args.cybertip, &args.cybertip_credentials) {
        state.file_with(
            samaritan_server::cybertip::client::Client::configured(
                which,
                path,
                std::time::Duration::from_secs(60),
            )
            .map_err(|e| anyhow::anyhow!(e))?,
        );
    }
    // Report cases a stop left unopened (between a report decision and its case).
    let opened = samaritan_server::reports::open_missing(&state).await?;
    if opened > 0 {
        eprintln!("opened {opened} report cases that a stop had left unopened");
    }
    // The HMA-compatible routes: url= fetched under the image-fetch rules.
    let hma_defaults = samaritan_server::HmaConfig::default();
    state.serve_hma(samaritan_server::HmaConfig {
        fetch: samaritan_media::FetchConfig {
            allow_private: args.hma_allow_private,
            max_bytes: args.max_image_bytes,
            ..hma_defaults.fetch
        },
        decode: samaritan_media::DecodeLimits {
            max_bytes: args.max_image_bytes,
            ..hma_defaults.decode
        },
        threshold: args.hma_distance,
        ..hma_defaults
    });
    // Events waiting in the outbox (a stop mid-delivery sends them again, same ids).
    state.deliver_webhooks(webhook_config);
    // Their evidence, and any a stop left unpreserved.
    let preserved = state.preserve_missing().await?;
    if preserved > 0 {
        eprintln!("preserved the evidence of {preserved} report cases a stop had left unheld");
    }
    // The networks in the store as the restored linker sees them (writes only what differs).
    let networks_started = std::time::Instant::now();
    if args.stream.is_none() {
        samaritan_server::save_networks(&state)
            .await
            .map_err(|e| anyhow::anyhow!("saving networks at start: {e:?}"))?;
    }
    let networks_secs = networks_started.elapsed().as_secs_f64();

    let mut demo_key = None;
    let mut demo_login = None;
    if args.demo {
        demo_key = load_demo(&state, args.demo_ads).await?;
        demo_login = demo_reviewer(&store).await?;
    }

    // The checkpoint in the log (head seq and hash) after the demo's own entries.
    let audit_started = std::time::Instant::now();
    samaritan_server::verify_audit(&state)
        .await
        .map_err(|e| anyhow::anyhow!("verifying the audit chain: {}", e.message))?;
    let audit_secs = audit_started.elapsed().as_secs_f64();
    if args.audit_verify_secs > 0 {
        samaritan_server::spawn_audit_watch(
            state.clone(),
            std::time::Duration::from_secs(args.audit_verify_secs),
        );
    }
    let head = store.audit_head().await?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let stats = store.stats().await?;
    let url = format!("http://{addr}");
    eprintln!(
        "samaritan: ready {:.2}s after the linker restore began (linker {:.2}s, network check {:.2}s, audit chain {:.2}s)",
        restore_started.elapsed().as_secs_f64(),
        restore_secs,
        networks_secs,
        audit_secs
    );
    eprintln!(
        "samaritan: serving {url} (store: {}, {} ads, {} waiting for review)",
        args.store.describe(),
        stats.ads,
        stats.queue_open
    );
    eprintln!("  API description: {url}/openapi.json   health: {url}/healthz");
    eprintln!(
        "  audit chain intact; head {}:{} (keep it: `samaritan audit verify --expect-head` \
         detects a cut tail)",
        head.0, head.1
    );
    eprintln!("  review console: {url}/");
    if let Some((name, password)) = &demo_login {
        eprintln!("  demo reviewer (shown once): name {name}  password {password}");
    }
    if let Some(key) = demo_key {
        eprintln!("  demo key (shown once; scopes ingest,review,lead,admin,audit):\n    {key}");
        eprintln!("  try: curl -H 'Authorization: Bearer {key}' {url}/v1/queue?limit=5");
    } else {
        eprintln!("  make a key with: samaritan keys create --scopes ingest,review");
    }
    // Registered before the announcement: whoever stops us right after it stops us cleanly.
    let signals = StopSignals::register();
    // The machine-readable line last: whoever waits for it has the human summary already.
    println!(
        "{}",
        serde_json::json!({
            "listening": url,
            "console": format!("{url}/"),
            "store": args.store.describe(),
            "ads": stats.ads,
            "queue_open": stats.queue_open,
            "linked_ads": analyzer.linked_ads(),
            "policy": samaritan_server::Analyzer::policy(analyzer.as_ref()).label,
        })
    );
    axum::serve(
        listener,
        samaritan_server::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown(signals))
    .await
    .context("the server failed")?;
    // Requests are done: the snapshot taken now covers every committed ad.
    snapshots.abort();
    if args.stream.is_none() {
        save_snapshot(&analyzer, &store).await;
    }
    // A connection a task still holds would keep `close` waiting for ever; a stop must end.
    if tokio::time::timeout(CLOSE_WITHIN, store.close())
        .await
        .is_err()
    {
        eprintln!(
            "samaritan: the store did not close within {}s; stopping anyway (committed data is safe)",
            CLOSE_WITHIN.as_secs()
        );
    }
    eprintln!("samaritan: stopped");
    Ok(())
}

/// Saves the linker's snapshot, saying so on stderr; a failure is reported, never fatal (the
/// records are the truth: a restart replays them).
async fn save_snapshot(
    analyzer: &Arc<samaritan_server::EngineAnalyzer>,
    store: &samaritan_store::Store,
) {
    if analyzer.link_records() == 0 {
        return;
    }
    let started = std::time::Instant::now();
    match analyzer.save_snapshot(store).await {
        Ok(s) => eprintln!(
            "samaritan: linker snapshot saved ({} ads, {:.1} MiB) in {:.2}s",
            s.ads,
            s.bytes as f64 / (1024.0 * 1024.0),
            started.elapsed().as_secs_f64()
        ),
        Err(e) => eprintln!("samaritan: the linker snapshot was not saved: {e}"),
    }
}

/// Saves a snapshot every time `every` more link records were made (looked at every 30 s).
fn spawn_snapshots(
    analyzer: Arc<samaritan_server::EngineAnalyzer>,
    store: samaritan_store::Store,
    every: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if every == 0 {
            return;
        }
        let mut last = analyzer.link_records();
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            let now = analyzer.link_records();
            if now >= last + every {
                save_snapshot(&analyzer, &store).await;
                last = now;
            }
        }
    })
}

/// The stop signals, registered when made: a SIGTERM that arrives any time after this (even
/// before the server polls [`shutdown`]) stops it cleanly instead of killing it.
struct StopSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn register() -> StopSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            StopSignals {
                term: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }
}

async fn shutdown(signals: StopSignals) {
    #[cfg(unix)]
    {
        let StopSignals {
            mut term,
            mut interrupt,
        } = signals;
        let term = async {
            match term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let interrupt = async {
            match interrupt.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = term => {},
            _ = interrupt => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = signals;
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Fills an empty store with a synthetic corpus (ingested as `POST /v1/ads` ingests: analysed,
/// linked, and stored with its network changes in one transaction per batch) and makes a key
/// when there is none. Returns the new key, if one was made.
async fn load_demo(state: &AppState, n: u64) -> Result<Option<String>> {
    let store = state.store();
    let mut key = None;
    if store.list_keys().await?.is_empty() {
        let k = store
            .create_key("demo", &Scope::ALL, "cli:serve --demo")
            .await?;
        key = Some(k.secret);
    }
    if store.stats().await?.ads > 0 {
        return Ok(key);
    }
    eprintln!("samaritan: empty store; loading a {n}-ad synthetic demo corpus");
    fill_synthetic(state, n).await?;
    Ok(key)
}

/// Ingests `n` ads of the synthetic marketplace (seeded, so the same every time) as
/// `POST /v1/ads` would: analysed, linked, stored with their network changes, per batch.
pub(crate) async fn fill_synthetic(state: &AppState, n: u64) -> Result<()> {
    let corpus = samaritan_synth::Corpus::new(samaritan_synth::Config {
        ads: n,
        ..samaritan_synth::Config::default()
    });
    let mut ads = corpus.iter().map(|(ad, _)| ad).peekable();
    while ads.peek().is_some() {
        let batch = ads
            .by_ref()
            .take(DEMO_BATCH)
            .map(|ad| -> Result<_> {
                let raw = serde_json::to_string(&ad)?;
                Ok((ad, raw))
            })
            .collect::<Result<Vec<_>>>()?;
        samaritan_server::ingest(state, batch)
            .await
            .map_err(|e| anyhow::anyhow!("loading the demo corpus: {}", e.message))?;
    }
    Ok(())
}

/// Makes the demo reviewer (`demo`) when there is none; returns its name and password.
async fn demo_reviewer(store: &samaritan_store::Store) -> Result<Option<(String, String)>> {
    if store.get_user("demo").await?.is_some() {
        return Ok(None);
    }
    let password = samaritan_store::users::generate_password()?;
    store
        .create_user(
            "demo",
            samaritan_store::Role::Reviewer,
            &password,
            "cli:serve --demo",
        )
        .await?;
    Ok(Some(("demo".to_owned(), password)))
}

/// How long a stop waits for the store's connections to close.
const CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Demo ads per ingest (the API's default largest batch).
const DEMO_BATCH: usize = 1000;
