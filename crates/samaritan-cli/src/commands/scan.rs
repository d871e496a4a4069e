//! `samaritan scan`: analyse ads from JSON Lines, one analysis per ad, in input order.
//!
//! Source → transform → sink: a reader thread cuts the input into batches of lines, every core
//! parses and analyses them, and this thread writes the analyses in input order. A bounded number
//! of batches is in flight, so memory does not depend on the input size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_engine::model::Verdict;

use crate::engine_args::{EngineArgs, MediaArgs};
use crate::input::{self, LineError, Lines};
use crate::ordered::ordered_map;

#[derive(Args)]
pub struct ScanArgs {
    /// Ads as JSON Lines (input schema of DESIGN.md); `-` or absent for stdin.
    #[arg(default_value = "-")]
    pub input: PathBuf,
    /// Write analyses here instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Also write every failed line as JSON (`{"line": N, "error": "..."}`) to this file.
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop at the first malformed line.
    #[arg(long)]
    pub strict: bool,
    /// Longest input line accepted, in bytes.
    #[arg(long, default_value_t = input::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub media: MediaArgs,
}

/// Lines per batch handed to a worker.
const BATCH: usize = 256;

struct Outcome {
    result: Result<(Vec<u8>, Verdict), LineError>,
    bytes: usize,
}

/// Counts for the human summary.
#[derive(Default)]
pub struct Summary {
    pub ads: u64,
    pub failed: u64,
    pub verdicts: [u64; 3],
    pub bytes: u64,
}

impl Summary {
    pub fn print(&self, secs: f64) {
        let rate = if secs > 0.0 {
            self.ads as f64 / secs
        } else {
            0.0
        };
        eprintln!(
            "scan: {} ads analysed, {} failed lines; allow {}, review {}, block {}; {:.0} ads/s, {:.1} MB/s ({:.1}s)",
            self.ads,
            self.failed,
            self.verdicts[0],
            self.verdicts[1],
            self.verdicts[2],
            rate,
            self.bytes as f64 / 1e6 / secs.max(1e-9),
            secs
        );
    }
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let engine = args.engine.engine()?;
    let media = args.media.load()?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let reader = crate::commands::open_input(&args.input)?;
    let total = if args.input.as_os_str() == "-" {
        None
    } else {
        std::fs::metadata(&args.input).ok().map(|m| m.len())
    };
    let pb = crate::progress::bytes_bar(total, "scanning");

    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let mut errors: Option<BufWriter<File>> = match &args.errors {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };

    let mut summary = Summary::default();
    let mut io_error: Option<std::io::Error> = None;
    let lines = Lines::new(reader, args.max_line_bytes).map_while(|r| match r {
        Ok(line) => Some(line),
        Err(e) => {
            io_error = Some(e);
            None
        }
    });
    let strict = args.strict;
    let result = ordered_map(
        lines,
        threads,
        BATCH,
        |line| {
            let bytes = line.as_ref().map_or(0, |l| l.bytes.len() + 1);
            let result = line.and_then(|l| {
                let ad = input::parse_ad(&l)?;
                let prepared = engine.prepare(&ad);
                let analysis = engine.finish(&ad, &prepared, media.context(&ad));
                let mut json = serde_json::to_vec(&analysis).map_err(|e| LineError {
                    line: l.number,
                    reason: e.to_string(),
                })?;
                json.push(b'\n');
                Ok((json, analysis.verdict))
            });
            Outcome { result, bytes }
        },
        |o: Outcome| -> Result<()> {
            summary.bytes += o.bytes as u64;
            pb.inc(o.bytes as u64);
            match o.result {
                Ok((json, verdict)) => {
                    out.write_all(&json)?;
                    summary.ads += 1;
                    summary.verdicts[verdict as usize] += 1;
                }
                Err(e) => {
                    summary.failed += 1;
                    pb.suspend(|| eprintln!("error: {e}"));
                    if let Some(w) = errors.as_mut() {
                        serde_json::to_writer(
                            &mut *w,
                            &serde_json::json!({"line": e.line, "error": e.reason}),
                        )?;
                        w.write_all(b"\n")?;
                    }
                    if strict {
                        anyhow::bail!("stopped at the first malformed line (--strict)");
                    }
                }
            }
            Ok(())
        },
    );
    pb.finish_and_clear();
    out.flush()?;
    if let Some(w) = errors.as_mut() {
        w.flush()?;
    }
    summary.print(started.elapsed().as_secs_f64());
    result?;
    if let Some(e) = io_error {
        return Err(e).context(format!("reading {}", args.input.display()));
    }
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
