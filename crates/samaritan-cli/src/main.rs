//! `samaritan`: the command-line face of the engine.
//!
//! Conventions: JSON Lines on stdout for machines, human summaries on stderr, progress bars only
//! when stderr is a terminal, exit code 0 on success, 1 when some input failed, 2 on usage errors.

use clap::{Parser, Subcommand};

mod commands;
mod engine_args;
mod input;
mod ordered;
mod progress;

/// mimalloc instead of glibc malloc: the service and the scan allocate many small, short-lived
/// strings from several threads at once (measured in BENCHMARKS.md, "Service").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "samaritan",
    version,
    about = "Find the ads that sell people, link them into networks, and explain why."
)]
struct Cli {
    /// Log filter (also RUST_LOG); logs go to stderr and never contain ad text at the default
    /// level. The default keeps warnings and the audit checkpoints (`samaritan::audit`).
    #[arg(
        long,
        global = true,
        default_value = "warn,samaritan::audit=info",
        env = "SAMARITAN_LOG"
    )]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Link ads into networks (shared identifiers and templates) and list them with evidence.
    Networks(commands::networks::Args),
    /// Run the whole engine on a generated demo marketplace and print what it found.
    Demo(commands::demo::DemoArgs),
    /// Analyse ads (JSON Lines) and write one analysis per ad (JSON Lines), in input order.
    ///
    /// An id on several lines is one ad revised: the last valid line with that id is its current
    /// version and the only one analysed; each earlier line is reported on stderr with both line
    /// numbers and counted in the summary.
    ///
    /// Offline by default: `{url}` images are fetched only with --fetch-images and `{path}`
    /// images read only inside --allow-paths directories; any other such image gets an error
    /// entry in the analysis's `images`. Inline `{base64}` images and `{sha256, pdq}` hashes are
    /// always taken in.
    Scan(commands::scan::ScanArgs),
    /// Test a policy file, or backtest a policy change over a corpus.
    Policy(commands::policy::PolicyArgs),
    /// Write a synthetic marketplace corpus (ads.jsonl) with ground truth (truth.jsonl).
    Synth(commands::synth::SynthArgs),
    /// Measure analyses against ground truth: extraction precision/recall, verdict rates per
    /// label, ROC AUC, network agreement.
    Eval(commands::eval::EvalArgs),
    /// PDQ, quality, MD5 and SHA-256 of image files, one JSON line each.
    Hash(commands::hash::HashArgs),
    /// Hash banks: import, export, list, remove, match.
    Bank(commands::bank::BankArgs),
    /// Measure speed (figures for BENCHMARKS.md).
    Bench(commands::bench::BenchArgs),
    /// Run the HTTP service: ingest, review queue, search, policy, audit (see /openapi.json).
    Serve(Box<commands::serve::ServeArgs>),
    /// Make, list and revoke API keys.
    Keys(commands::keys::KeysArgs),
    /// Report cases for NCMEC's CyberTipline: list, show, approve (a second person).
    Report(commands::report::ReportArgs),
    /// Signed evidence bundles of report cases: keygen, export, verify.
    Evidence(commands::evidence::EvidenceArgs),
    /// Legal holds on report cases' preserved evidence: list, show, extend, release.
    Holds(commands::holds::HoldsArgs),
    /// Webhook endpoints for the platform's events: add, list, remove, rotate, deliveries,
    /// redeliver.
    Webhooks(commands::webhooks::WebhooksArgs),
    /// Remove ads past the retention period (a dry run unless --apply); held evidence stays.
    Retention(commands::retention::RetentionArgs),
    /// A local mock of NCMEC's CyberTipline Reporting API, for trying the filing flow.
    Ncmec(commands::ncmec::NcmecArgs),
    /// Make, list and disable the people who sign in to the console; reset their passwords.
    Users(commands::users::UsersArgs),
    /// Verify the hash-chained audit log.
    Audit(commands::audit::AuditArgs),
    /// Load-test a running service's ingest over HTTP.
    BenchHttp(commands::bench_http::BenchHttpArgs),
    /// Server time of the console's queue and ad pages over a filled store.
    BenchConsole(commands::bench_console::BenchConsoleArgs),
    /// Webhook delivery lag at a steady decision rate, and throughput from a backlog.
    BenchWebhooks(commands::bench_webhooks::BenchWebhooksArgs),
    /// Extraction quality per kind on the Memex conformance cases or a synthetic corpus.
    Conformance(commands::conformance::ConformanceArgs),
    /// The learned model beside the policy (issue 25): train on decided ads, score with
    /// explanations, measure against truth and on the Memex real ads.
    Model(commands::model::ModelArgs),
    /// Put the ads of a JSON Lines file on the ads stream (NATS JetStream) for the linker
    /// worker, as `serve --stream` does with POST /v1/ads; each ad reported with its stream
    /// sequence once JetStream acknowledged it, each refused line with its number.
    Ingest(commands::ingest::IngestArgs),
    /// The linker of the distributed mode: elected through PostgreSQL, takes the ads stream in
    /// order, commits each ad to the store, then acknowledges it; a standby takes over when it
    /// dies.
    Worker(Box<commands::worker::WorkerArgs>),
    /// The stream messages the linker parked after failing to take them in.
    Parked(commands::parked::ParkedArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .init();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
