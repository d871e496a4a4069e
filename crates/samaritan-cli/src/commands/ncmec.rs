//! `samaritan ncmec mock`: a local stand-in for NCMEC's Reporting API, for integrators trying
//! the filing flow without credentials (see `samaritan_server::cybertip::mock`), with calls
//! scripted to fail, to be held before they are acted on, or to lose their answer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use samaritan_server::cybertip::{client::Credentials, mock::Mock};

use super::store_args::runtime;

#[derive(Args, Debug)]
pub struct NcmecArgs {
    #[command(subcommand)]
    pub action: NcmecAction,
}

#[derive(Subcommand, Debug)]
pub enum NcmecAction {
    /// Serve the mock; prints `{"listening": URL}` on stdout once it listens.
    ///
    /// Calls can be scripted, to try a filer against a slow, failing or forgetful NCMEC. PATH is
    /// one of /submit, /upload, /fileinfo, /finish, /retract. Each of --fail, --delay and
    /// --delay-answer keeps its own queue per PATH, in the order given, and every call of PATH
    /// takes the next entry of each: `--delay /upload=0 --delay /upload=5000` holds the second
    /// upload (0 lets a call through). `GET /mock/reports` (same credentials) shows the
    /// reports as JSON (`id`, `finished`, `retracted`, `files`: `file_id`, `name`, `md5`,
    /// `bytes`, `described`, `descriptions`), the calls being held (`held`: `path`, `acted`) and
    /// how many calls of each path came (`calls`).
    Mock {
        #[arg(long, default_value = "127.0.0.1:8077")]
        listen: SocketAddr,
        /// A file with the `user:password` the mock accepts.
        #[arg(long, value_name = "FILE")]
        credentials: PathBuf,
        /// Hold the next call of PATH for MS milliseconds before acting on it (a slow NCMEC:
        /// a client that gives up meanwhile leaves it undone). Repeatable.
        #[arg(long, value_name = "PATH=MS", value_parser = path_ms)]
        delay: Vec<(String, u64)>,
        /// Act on the next call of PATH at once, then hold its answer for MS milliseconds (a
        /// lost answer: the change is made whether or not the client hears of it). Repeatable.
        #[arg(long = "delay-answer", value_name = "PATH=MS", value_parser = path_ms)]
        delay_answer: Vec<(String, u64)>,
        /// Answer the next call of PATH with CODE, unacted on: a response code (e.g. 4100),
        /// 401, or an HTTP 5xx; 0 lets a call through. Repeatable.
        #[arg(long, value_name = "PATH=CODE", value_parser = path_code)]
        fail: Vec<(String, u32)>,
    },
}

/// The paths a script names.
const SCRIPTED: [&str; 5] = ["/submit", "/upload", "/fileinfo", "/finish", "/retract"];

/// `PATH=N` with a known PATH (`submit` is read as `/submit`).
fn path_value(s: &str) -> Result<(String, &str), String> {
    let (path, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not PATH=VALUE"))?;
    let path = format!("/{}", path.trim().trim_start_matches('/'));
    if !SCRIPTED.contains(&path.as_str()) {
        return Err(format!(
            "`{path}` is not a scripted path ({})",
            SCRIPTED.join(", ")
        ));
    }
    Ok((path, value.trim()))
}

fn path_ms(s: &str) -> Result<(String, u64), String> {
    let (path, ms) = path_value(s)?;
    match ms.parse::<u64>() {
        Ok(n) if n <= 3_600_000 => Ok((path, n)),
        _ => Err(format!("`{ms}` is not 0 to 3600000 milliseconds")),
    }
}

fn path_code(s: &str) -> Result<(String, u32), String> {
    let (path, code) = path_value(s)?;
    code.parse::<u32>()
        .map(|c| (path, c))
        .map_err(|_| format!("`{code}` is not a code"))
}

pub fn run(args: NcmecArgs) -> Result<ExitCode> {
    match args.action {
        NcmecAction::Mock {
            listen,
            credentials,
            delay,
            delay_answer,
            fail,
        } => {
            let text = std::fs::read_to_string(&credentials)
                .with_context(|| format!("cannot read {}", credentials.display()))?;
            let creds = Credentials::parse(&text)
                .map_err(|e| anyhow::anyhow!("in {}: {e}", credentials.display()))?;
            runtime()?.block_on(async move {
                let mock = Mock::new(&creds.user, &creds.password);
                for (path, ms) in &delay {
                    mock.delay_next(path, Duration::from_millis(*ms));
                }
                for (path, ms) in &delay_answer {
                    mock.delay_answer_next(path, Duration::from_millis(*ms));
                }
                for (path, code) in &fail {
                    mock.fail_next(path, *code);
                }
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let addr = listener.local_addr()?;
                println!(
                    "{}",
                    serde_json::json!({"listening": format!("http://{addr}")})
                );
                eprintln!("mock CyberTipline at http://{addr} (not NCMEC: nothing is reported)");
                axum::serve(listener, mock.router())
                    .with_graceful_shutdown(async {
                        let _ = tokio::signal::ctrl_c().await;
                    })
                    .await?;
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}
