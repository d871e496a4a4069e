//! `samaritan networks`: link a file of ads into networks and list them with their evidence.
//!
//! Reads ads (JSON Lines in the input schema, or CSV with `id,text[,label]` columns as written by
//! `../shared/bench/gen_synth.py`), fingerprints them on every core, links them in input order,
//! and writes one JSON object per network (members, reasons, evidence, guarded identifiers,
//! features) to stdout. With `--truth` or a CSV `label` column it also scores the networks
//! against ground truth (pairwise precision, recall and F1).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use rayon::prelude::*;
use samaritan_engine::link::{LinkConfig, LinkInput, Linker};
use samaritan_engine::model::{Ad, Extracted};
use samaritan_engine::similar::{SimilarConfig, fingerprint_with};

use super::pairs::{PairScore, pairwise};

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
    /// Score against the CSV `label` column (label -1 or empty = belongs to no cluster).
    #[arg(long)]
    eval: bool,
    /// Also write the scores as JSON to this file.
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Stop at the first malformed record.
    #[arg(long)]
    strict: bool,
    /// Worker threads for fingerprinting (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Words per shingle (tuning; default from the engine).
    #[arg(long)]
    shingle_words: Option<usize>,
    /// LSH bands (tuning).
    #[arg(long)]
    bands: Option<usize>,
    /// LSH rows per band (tuning).
    #[arg(long)]
    rows: Option<usize>,
}

/// One record read from the input, before fingerprinting.
enum Record {
    Ad(Box<Ad>),
    Failed(String),
}

const CHUNK: usize = 8192;

pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(t) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t.max(1))
            .build_global()
            .context("setting up worker threads")?;
    }
    let format = match args.format {
        Format::Auto if args.input.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) => {
            Format::Csv
        }
        Format::Auto => Format::Jsonl,
        f => f,
    };
    if args.eval && format != Format::Csv {
        bail!("--eval scores against the CSV `label` column; use --truth for JSON Lines input");
    }
    let mut cfg = LinkConfig::default();
    apply_tuning(&mut cfg.similar, &args)?;
    let started = Instant::now();
    let reader: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            File::open(&args.input)
                .with_context(|| format!("opening {}", args.input.display()))?,
        )
    };
    let mut linker = Linker::new(cfg);
    let mut labels: HashMap<String, String> = HashMap::new();
    let mut read = 0usize;
    let mut failed = 0usize;
    let mut duplicates = 0usize;
    let mut handle = |batch: Vec<(usize, Record)>, linker: &mut Linker| -> Result<()> {
        let inputs: Vec<(usize, Result<LinkInput, String>)> = batch
            .into_par_iter()
            .map(|(line, rec)| match rec {
                Record::Ad(ad) => {
                    let fp = fingerprint_with(&ad.document(), &cfg.similar);
                    (line, Ok(LinkInput::from_ad(&ad, &Extracted::default(), fp)))
                }
                Record::Failed(e) => (line, Err(e)),
            })
            .collect();
        for (line, input) in inputs {
            read += 1;
            let outcome = input.and_then(|i| linker.insert(i).map_err(|e| e.to_string()));
            match outcome {
                Ok(ins) => duplicates += usize::from(ins.duplicate),
                Err(e) => {
                    failed += 1;
                    eprintln!("line {line}: {e}");
                    if args.strict {
                        bail!("stopping at line {line} (--strict)");
                    }
                }
            }
        }
        Ok(())
    };
    match format {
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(false)
                .from_reader(BufReader::with_capacity(1 << 20, reader));
            let headers = rdr.headers().context("reading the CSV header")?.clone();
            let col = |name: &str| headers.iter().position(|h| h.trim() == name);
            let (Some(id_col), Some(text_col)) = (col("id"), col("text")) else {
                bail!("the CSV header must name an `id` and a `text` column (found: {headers:?})");
            };
            let label_col = col("label");
            if args.eval && label_col.is_none() {
                bail!("--eval needs a `label` column in the CSV header");
            }
            let mut batch = Vec::with_capacity(CHUNK);
            for (i, row) in rdr.records().enumerate() {
                let line = i + 2;
                let rec = match row {
                    Err(e) => Record::Failed(format!("malformed CSV: {e}")),
                    Ok(r) => match (r.get(id_col), r.get(text_col)) {
                        (Some(id), Some(text)) => match csv_ad(id, text) {
                            Ok(ad) => {
                                if let Some(l) = label_col.and_then(|c| r.get(c)) {
                                    let l = l.trim();
                                    if !l.is_empty() && l != "-1" {
                                        labels.insert(ad.id.clone(), l.to_owned());
                                    }
                                }
                                Record::Ad(Box::new(ad))
                            }
                            Err(e) => Record::Failed(e),
                        },
                        _ => Record::Failed("missing `id` or `text` field".to_owned()),
                    },
                };
                batch.push((line, rec));
                if batch.len() == CHUNK {
                    handle(std::mem::take(&mut batch), &mut linker)?;
                }
            }
            handle(batch, &mut linker)?;
        }
        _ => {
            let mut br = BufReader::with_capacity(1 << 20, reader);
            let mut buf = Vec::new();
            let mut batch = Vec::with_capacity(CHUNK);
            let mut line = 0usize;
            loop {
                buf.clear();
                let n = br.read_until(b'\n', &mut buf).context("reading input")?;
                if n == 0 {
                    break;
                }
                line += 1;
                let rec = match std::str::from_utf8(&buf) {
                    Err(e) => Record::Failed(format!("invalid UTF-8: {e}")),
                    Ok(s) if s.trim().is_empty() => continue,
                    Ok(s) => match serde_json::from_str::<Ad>(s) {
                        Ok(ad) => Record::Ad(Box::new(ad)),
                        Err(e) => Record::Failed(format!("bad ad: {e}")),
                    },
                };
                batch.push((line, rec));
                if batch.len() == CHUNK {
                    handle(std::mem::take(&mut batch), &mut linker)?;
                }
            }
            handle(batch, &mut linker)?;
        }
    }
    let linked_at = started.elapsed();

    let mut out: Option<Box<dyn Write>> = match (&args.out, args.no_output) {
        (_, true) => None,
        (Some(p), false) => Some(Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        ))),
        (None, false) => Some(Box::new(BufWriter::new(std::io::stdout().lock()))),
    };
    let mut networks = 0usize;
    let mut in_networks = 0usize;
    let mut largest = 0usize;
    let mut predicted: Vec<Vec<String>> = Vec::new();
    let scoring = args.eval || args.truth.is_some();
    for n in linker.networks() {
        networks += 1;
        in_networks += n.members.len();
        largest = largest.max(n.members.len());
        if let Some(w) = out.as_mut() {
            serde_json::to_writer(&mut *w, &n)?;
            w.write_all(b"\n")?;
        }
        if scoring {
            predicted.push(n.members);
        }
    }
    if let Some(mut w) = out {
        w.flush()?;
    }
    let total = started.elapsed();
    let secs = total.as_secs_f64().max(1e-9);
    eprintln!(
        "samaritan networks: {read} records, {failed} failed, {duplicates} duplicate ids; \
         {networks} networks holding {in_networks} ads (largest {largest}); \
         linked in {:.2} s, total {:.2} s ({:.0} ads/s)",
        linked_at.as_secs_f64(),
        secs,
        read as f64 / secs
    );
    if std::io::stderr().is_terminal() && failed > 0 {
        eprintln!("(each failed record is listed above with its line number)");
    }
    if scoring {
        if let Some(path) = &args.truth {
            labels = read_truth(path)?;
        }
        let score = pairwise(&predicted, &labels);
        eprintln!(
            "pairwise precision {:.4} recall {:.4} F1 {:.4} (true pairs {}, predicted pairs {}, \
             correct {})",
            score.precision, score.recall, score.f1, score.true_pairs, score.predicted_pairs,
            score.correct_pairs
        );
        if let Some(p) = &args.metrics {
            let json = serde_json::json!({
                "records": read, "failed": failed, "networks": networks,
                "ads_in_networks": in_networks, "seconds": secs, "score": score_json(&score),
            });
            std::fs::write(p, format!("{json}\n"))
                .with_context(|| format!("writing {}", p.display()))?;
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn score_json(s: &PairScore) -> serde_json::Value {
    serde_json::json!({
        "precision": s.precision, "recall": s.recall, "f1": s.f1,
        "true_pairs": s.true_pairs, "predicted_pairs": s.predicted_pairs,
        "correct_pairs": s.correct_pairs,
    })
}

fn apply_tuning(s: &mut SimilarConfig, args: &Args) -> Result<()> {
    if let Some(k) = args.shingle_words {
        if !(1..=8).contains(&k) {
            bail!("--shingle-words must be 1 to 8");
        }
        s.shingles.word_k = k;
    }
    if let Some(b) = args.bands {
        if !(1..=256).contains(&b) {
            bail!("--bands must be 1 to 256");
        }
        s.lsh.bands = b;
    }
    if let Some(r) = args.rows {
        if !(1..=16).contains(&r) {
            bail!("--rows must be 1 to 16");
        }
        s.lsh.rows = r;
    }
    Ok(())
}

/// A CSV row as an ad: the text is the body.
fn csv_ad(id: &str, text: &str) -> std::result::Result<Ad, String> {
    let v = serde_json::json!({ "id": id.trim(), "body": text });
    serde_json::from_value::<Ad>(v).map_err(|e| format!("bad row: {e}"))
}

/// Reads `{"id": .., "network": <string, number or null>}` lines.
fn read_truth(path: &PathBuf) -> Result<HashMap<String, String>> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = HashMap::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {}: not JSON", path.display(), i + 1))?;
        let Some(id) = v.get("id").and_then(|x| x.as_str()) else {
            bail!("{}: line {}: no string `id`", path.display(), i + 1);
        };
        match v.get("network") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => {
                out.insert(id.to_owned(), s.clone());
            }
            Some(serde_json::Value::Number(n)) => {
                out.insert(id.to_owned(), n.to_string());
            }
            Some(_) => bail!(
                "{}: line {}: `network` must be a string, a number or null",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(out)
}
