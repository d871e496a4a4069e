//! One file per subcommand; `run` dispatches.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::Command;

pub mod audit;
pub mod bank;
pub mod bench;
pub mod bench_console;
pub mod bench_http;
pub mod bench_webhooks;
pub mod blob_args;
pub mod conformance;
pub mod demo;
pub mod eval;
pub mod evidence;
pub mod hash;
pub mod holds;
pub mod ingest;
pub mod keys;
pub mod model;
pub mod ncmec;
pub mod networks;
pub mod parked;
pub mod policy;
pub mod report;
pub mod retention;
pub mod scan;
pub mod serve;
pub mod store_args;
pub mod stream_args;
pub mod synth;
pub mod users;
pub mod vault_args;
pub mod webhooks;
pub mod worker;

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Networks(args) => networks::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Synth(args) => synth::run(args).map(|()| ExitCode::SUCCESS),
        Command::Eval(args) => eval::run(args),
        Command::Hash(args) => hash::run(args),
        Command::Bank(args) => bank::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Serve(args) => serve::run(*args).map(|()| ExitCode::SUCCESS),
        Command::Keys(args) => keys::run(args).map(|()| ExitCode::SUCCESS),
        Command::Report(args) => report::run(args),
        Command::Evidence(args) => evidence::run(args),
        Command::Holds(args) => holds::run(args),
        Command::Retention(args) => retention::run(args),
        Command::Webhooks(args) => webhooks::run(args),
        Command::Ncmec(args) => ncmec::run(args),
        Command::Users(args) => users::run(args).map(|()| ExitCode::SUCCESS),
        Command::Audit(args) => audit::run(args),
        Command::BenchHttp(args) => bench_http::run(args).map(|()| ExitCode::SUCCESS),
        Command::BenchConsole(args) => bench_console::run(args).map(|()| ExitCode::SUCCESS),
        Command::BenchWebhooks(args) => bench_webhooks::run(args).map(|()| ExitCode::SUCCESS),
        Command::Conformance(args) => conformance::run(args),
        Command::Model(args) => model::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Worker(args) => worker::run(*args),
        Command::Parked(args) => parked::run(args),
    }
}

/// A buffered reader over a file, or stdin for `-`.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin(),
        )));
    }
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
}
