//! `samaritan networks`: link a file of ads into networks and list them with their evidence.
//!
//! Reads ads (JSON Lines in the input schema, or CSV with `id,text[,label]` columns as written by
//! `../shared/bench/gen_synth.py`), normalizes, extracts and fingerprints them on every core,
//! links them in input order, and writes one JSON object per network (members, reasons,
//! evidence, guarded links, features) to stdout. With `--truth` (the synth `truth.jsonl`) or
//! `--eval` (the CSV `label` column) it also scores the networks against ground truth: pairwise
//! precision, recall, F1 and adjusted Rand index, pairs counted only inside true clusters.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use rayon::prelude::*;
use samaritan_engine::ExtractOptions;
use samaritan_engine::link::{LinkConfig, LinkInput};
use samaritan_engine::linked::{LinkReady, LinkStage, LinkedState, link_input};
use samaritan_engine::model::Ad;
use samaritan_eval::metrics::{PairScore, pair_agreement};

use super::open_input;
use crate::input::{DEFAULT_MAX_LINE, Line, Lines, parse_ad};
use crate::ordered::ordered_map;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Decide from the file name: `.csv` is CSV, anything else JSON Lines.
    Auto,
    /// One ad per line in the input schema of DESIGN.md.
    Jsonl,
    /// A header row with `id` and `text` columns (and optionally `label`), as gen_synth.py writes.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input file, or `-` for standard input.
    #[arg(default_value = "-")]
    input: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Write networks here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not write networks (summary and scores only; for benchmarks).
    #[arg(long)]
    no_output: bool,
    /// Ground truth as JSON Lines `{"id": .., "network": <id or null>}` (the synth truth.jsonl).
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Score against the CSV `label` column (label -1 or empty = in no cluster).
    #[arg(long)]
    eval: bool,
    /// Also write the scores as JSON to this file.
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Stop at the first malformed record.
    #[arg(long)]
    strict: bool,
    /// Worker threads for normalize, extract and fingerprint (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Link by text alone: skip identifier extraction (phones, emails, handles, payments), as
    /// template clustering benchmarks such as InfoShield's do. Accounts and image hashes given
    /// in the ads still link.
    #[arg(long)]
    text_only: bool,
    /// Longest JSON line accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE)]
    max_line_bytes: usize,
    /// Print where the time went, stage by stage (thread time summed over workers), on stderr.
    #[arg(long)]
    stages: bool,
}

/// One record as read, before the parallel stages: a JSON line (parsed by the workers) or an ad
/// already built from a CSV row.
struct Record {
    line: u64,
    ad: Result<Raw, String>,
    label: Option<String>,
}

enum Raw {
    Json(Line),
    Ad(Box<Ad>),
}

/// Time spent in each stage, in nanoseconds, summed over the threads that ran it.
#[derive(Default)]
struct StageTimes {
    parse: AtomicU64,
    normalize: AtomicU64,
    extract: AtomicU64,
    fingerprint: AtomicU64,
}

impl StageTimes {
    fn add(counter: &AtomicU64, since: Instant) -> Instant {
        let now = Instant::now();
        let ns = u64::try_from(now.duration_since(since).as_nanos()).unwrap_or(u64::MAX);
        counter.fetch_add(ns, Ordering::Relaxed);
        now
    }
}

/// One record after the parallel stages.
struct Prepared {
    line: u64,
    input: Result<LinkInput, String>,
    label: Option<String>,
}

const BATCH: usize = 1024;

pub fn run(args: Args) -> Result<ExitCode> {
    let format = match args.format {
        Format::Auto
            if args
                .input
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            Format::Csv
        }
        Format::Auto => Format::Jsonl,
        f => f,
    };
    if args.eval && format != Format::Csv {
        bail!("--eval scores against the CSV `label` column; use --truth for JSON Lines input");
    }
    if args.eval && args.truth.is_some() {
        bail!("give either --eval or --truth, not both");
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let cfg = LinkConfig::default();
    let started = Instant::now();
    let reader = open_input(&args.input)?;
    let records: Box<dyn Iterator<Item = Result<Record>> + Send> = match format {
        Format::Csv => csv_records(reader, args.eval)?,
        _ => Box::new(Lines::new(reader, args.max_line_bytes).map(|r| {
            let r = r.context("reading input")?;
            Ok(match r {
                Ok(line) => Record {
                    line: line.number,
                    ad: Ok(Raw::Json(line)),
                    label: None,
                },
                Err(e) => Record {
                    line: e.line,
                    ad: Err(e.reason),
                    label: None,
                },
            })
        })),
    };

    // The truth file is read beside the linking, on a core the serial linker leaves idle.
    let truth_reader = args
        .truth
        .clone()
        .map(|path| std::thread::spawn(move || read_truth(&path)));
    let mut state = LinkedState::new(cfg);
    let mut labels: Vec<Option<String>> = Vec::new();
    let (mut read, mut failed, mut duplicates) = (0usize, 0usize, 0usize);
    let opts = ExtractOptions::default();
    let times = StageTimes::default();
    let mut link_time = Duration::ZERO;
    ordered_map(
        records,
        threads,
        BATCH,
        |rec: Result<Record>| {
            rec.map(|r| prepare(r, &cfg, (!args.text_only).then_some(&opts), &times))
        },
        |prepared: Result<Prepared>| -> Result<()> {
            let p = prepared?;
            read += 1;
            let t0 = Instant::now();
            let inserted = p.input.and_then(|i| {
                // No policy and no images here: the engine's linked state with the linker
                // input alone (see `samaritan_engine::linked`).
                let mut ready = LinkReady::from_input(i);
                state.link(&mut ready, &[], 0).map_err(|e| e.to_string())
            });
            link_time += t0.elapsed();
            match inserted {
                Ok(ins) if ins.duplicate => duplicates += 1,
                Ok(_) => labels.push(p.label),
                Err(e) => {
                    failed += 1;
                    eprintln!("line {}: {e}", p.line);
                    if args.strict {
                        bail!("stopping at line {} (--strict)", p.line);
                    }
                }
            }
            Ok(())
        },
    )?;
    let linked_at = started.elapsed();
    let linker = state.linker();

    let mut out: Option<Box<dyn Write>> = match (&args.out, args.no_output) {
        (_, true) => None,
        (Some(p), false) => Some(Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ))),
        (None, false) => Some(Box::new(BufWriter::new(std::io::stdout().lock()))),
    };
    let scoring = args.eval || args.truth.is_some();
    // Network of each ad (by insertion index), for scoring.
    let mut network_of: Vec<Option<u32>> = if scoring {
        vec![None; linker.len()]
    } else {
        Vec::new()
    };
    let (mut networks, mut in_networks, mut largest) = (0usize, 0usize, 0usize);
    // Networks are built on every core, a chunk at a time (bounded memory), and written in
    // order: the same output as walking `Linker::networks`.
    let heads = linker.network_heads();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let want_json = out.is_some();
    for chunk in heads.chunks(4096) {
        type Built = (Vec<u32>, Option<serde_json::Result<Vec<u8>>>);
        let built: Vec<Built> = pool.install(|| {
            chunk
                .par_iter()
                .filter_map(|&head| linker.network_at_index(head))
                .map(|n| {
                    let members: Vec<u32> = if scoring {
                        n.members
                            .iter()
                            .filter_map(|m| linker.index_of(m))
                            .collect()
                    } else {
                        vec![0; n.members.len()]
                    };
                    let json = want_json.then(|| {
                        serde_json::to_vec(&n).map(|mut buf| {
                            buf.push(b'\n');
                            buf
                        })
                    });
                    (members, json)
                })
                .collect()
        });
        for (members, json) in built {
            if scoring {
                for &i in &members {
                    network_of[i as usize] = Some(networks as u32);
                }
            }
            networks += 1;
            in_networks += members.len();
            largest = largest.max(members.len());
            if let (Some(w), Some(json)) = (out.as_mut(), json) {
                w.write_all(&json?)?;
            }
        }
    }
    if let Some(mut w) = out {
        w.flush()?;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    if args.stages {
        let s = |c: &AtomicU64| Duration::from_nanos(c.load(Ordering::Relaxed)).as_secs_f64();
        eprintln!(
            "stages: parse {:.2} s, normalize {:.2} s, extract {:.2} s, fingerprint {:.2} s \
             (thread time summed over {threads} workers); link {:.2} s (serial, in order); \
             networks and output {:.2} s",
            s(&times.parse),
            s(&times.normalize),
            s(&times.extract),
            s(&times.fingerprint),
            link_time.as_secs_f64(),
            secs - linked_at.as_secs_f64(),
        );
    }
    eprintln!(
        "samaritan networks: {read} records, {failed} failed, {duplicates} duplicate ids; \
         {networks} networks holding {in_networks} ads (largest {largest}); \
         linked in {:.2} s, total {secs:.2} s ({:.0} ads/s)",
        linked_at.as_secs_f64(),
        read as f64 / secs
    );
    if scoring {
        let truth = match &args.truth {
            Some(_) => {
                let t = match truth_reader {
                    Some(h) => h
                        .join()
                        .map_err(|_| anyhow::anyhow!("the truth reader stopped"))??,
                    None => bail!("no truth file"),
                };
                (0..linker.len() as u32)
                    .map(|i| linker.id_at(i).and_then(|id| t.get(id).cloned()))
                    .collect()
            }
            None => labels,
        };
        let score = pair_agreement(
            network_of
                .iter()
                .zip(&truth)
                .enumerate()
                .map(|(i, (p, t))| {
                    let p: Result<u32, usize> = p.ok_or(i);
                    let t: Result<&str, usize> = t.as_deref().ok_or(i);
                    (p, t)
                }),
        );
        report(
            &score,
            args.metrics.as_deref(),
            read,
            failed,
            networks,
            secs,
        )?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The parallel part: parse, normalize, extract (unless text only), fingerprint.
fn prepare(
    r: Record,
    cfg: &LinkConfig,
    opts: Option<&ExtractOptions>,
    times: &StageTimes,
) -> Prepared {
    let t = Instant::now();
    let ad = r.ad.and_then(|raw| match raw {
        Raw::Json(line) => parse_ad(&line).map_err(|e| e.reason),
        Raw::Ad(ad) => Ok(*ad),
    });
    let t = StageTimes::add(&times.parse, t);
    let input = ad.map(|ad| {
        let mut t = t;
        link_input(&ad, opts, cfg, |stage| {
            let counter = match stage {
                LinkStage::Normalized => &times.normalize,
                // `Matched` is never told here: `link_input` matches no policy.
                LinkStage::Extracted | LinkStage::Matched => &times.extract,
                LinkStage::Fingerprinted => &times.fingerprint,
            };
            t = StageTimes::add(counter, t);
        })
    });
    Prepared {
        line: r.line,
        input,
        label: r.label,
    }
}

fn report(
    s: &PairScore,
    metrics: Option<&Path>,
    read: usize,
    failed: usize,
    networks: usize,
    secs: f64,
) -> Result<()> {
    eprintln!(
        "pairwise precision {:.4} recall {:.4} F1 {:.4} ARI {:.4} (true pairs {}, predicted \
         pairs {}, correct {})",
        s.precision,
        s.recall,
        s.f1,
        s.adjusted_rand_index,
        s.together_true,
        s.together_predicted,
        s.together_both
    );
    if let Some(p) = metrics {
        let json = serde_json::json!({
            "records": read, "failed": failed, "networks": networks, "seconds": secs,
            "pairwise": s,
        });
        std::fs::write(p, format!("{json}\n"))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

/// CSV rows as records: the `text` column is the body; `label` (-1 or empty: no cluster) kept
/// when scoring.
fn csv_records(
    reader: Box<dyn std::io::BufRead + Send>,
    want_labels: bool,
) -> Result<Box<dyn Iterator<Item = Result<Record>> + Send>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = rdr.headers().context("cannot read the CSV header")?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(id_col), Some(text_col)) = (col("id"), col("text")) else {
        bail!("the CSV header must name an `id` and a `text` column (found: {headers:?})");
    };
    let label_col = col("label");
    if want_labels && label_col.is_none() {
        bail!("--eval needs a `label` column in the CSV header");
    }
    Ok(Box::new(rdr.into_records().enumerate().map(
        move |(i, row)| {
            let line = i as u64 + 2;
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    return Ok(Record {
                        line,
                        ad: Err(format!("malformed CSV: {e}")),
                        label: None,
                    });
                }
            };
            let label = label_col
                .and_then(|c| row.get(c))
                .map(str::trim)
                .filter(|l| want_labels && !l.is_empty() && *l != "-1")
                .map(str::to_owned);
            let ad = match (row.get(id_col), row.get(text_col)) {
                (Some(id), Some(text)) => {
                    let v = serde_json::json!({ "id": id.trim(), "body": text });
                    serde_json::from_value::<Ad>(v)
                        .map(|ad| Raw::Ad(Box::new(ad)))
                        .map_err(|e| format!("not a valid record: {e}"))
                }
                _ => Err("missing `id` or `text` field".to_owned()),
            };
            Ok(Record { line, ad, label })
        },
    )))
}

/// Reads `{"id": .., "network": <string, number or null>}` lines (other fields ignored).
fn read_truth(path: &Path) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for line in Lines::new(open_input(path)?, DEFAULT_MAX_LINE) {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let line = line.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let v: serde_json::Value = crate::input::parse_line(&line)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let at = || format!("{}: line {}", path.display(), line.number);
        let Some(id) = v.get("id").and_then(|x| x.as_str()) else {
            bail!("{}: no string `id`", at());
        };
        match v.get("network") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => {
                out.insert(id.to_owned(), s.clone());
            }
            Some(serde_json::Value::Number(n)) => {
                out.insert(id.to_owned(), n.to_string());
            }
            Some(_) => bail!("{}: `network` must be a string, a number or null", at()),
        }
    }
    Ok(out)
}
