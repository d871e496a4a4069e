//! `samaritan eval`: measure a scan against ground truth.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use samaritan_engine::model::Analysis;
use samaritan_eval::TruthRecord;
use samaritan_eval::corpus::Evaluator;
use samaritan_eval::require::Requirement;

use crate::input::{self, Lines};

#[derive(Args)]
pub struct EvalArgs {
    /// Ground truth (`truth.jsonl` from `samaritan synth`).
    #[arg(long)]
    pub truth: PathBuf,
    /// Analyses to evaluate (`samaritan scan` output); `-` for stdin.
    pub analyses: PathBuf,
    /// Print the report as JSON on stdout (the human summary still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// A quality bar such as `phones.recall>=0.99` or `labels.0.not_allowed_rate<=0.01` (paths
    /// into the JSON report); repeatable. Exit code 1 when any bar is missed.
    #[arg(long = "require", value_name = "PATH>=N|PATH<=N")]
    pub requirements: Vec<Requirement>,
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let mut truth = Vec::new();
    let file = std::fs::File::open(&args.truth)
        .with_context(|| format!("cannot open {}", args.truth.display()))?;
    for line in Lines::new(BufReader::new(file), input::DEFAULT_MAX_LINE) {
        let line = line.with_context(|| format!("reading {}", args.truth.display()))?;
        let record: TruthRecord = line
            .and_then(|l| input::parse_line(&l))
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.truth.display()))?;
        truth.push(record);
    }
    let mut eval = Evaluator::new(truth);
    let reader = crate::commands::open_input(&args.analyses)?;
    for line in Lines::new(reader, input::DEFAULT_MAX_LINE * 16) {
        let line = line.with_context(|| format!("reading {}", args.analyses.display()))?;
        let analysis: Analysis = line
            .and_then(|l| input::parse_line(&l))
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.analyses.display()))?;
        eval.add(&analysis);
    }
    let report = eval.report();
    if report.ads == 0 {
        bail!("no analysis matched an id of {}", args.truth.display());
    }
    eprint!("{}", report.human());
    let json = serde_json::to_value(&report)?;
    if args.json {
        println!("{}", serde_json::to_string(&json)?);
    }
    let mut failed = 0;
    for r in &args.requirements {
        let (value, ok) = r.check(&json)?;
        if !ok {
            eprintln!("FAILED: {r} (measured {value:.4})");
            failed += 1;
        } else {
            eprintln!("ok: {r} (measured {value:.4})");
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
