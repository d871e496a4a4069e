//! `samaritan policy`: test a policy file, and backtest a change before deploying it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::model::Analysis;
use samaritan_engine::policy::compare::Tally;
use samaritan_engine::policy::run_tests;

use crate::engine_args::{compile_policy, load_policy};
use crate::input::{self, Lines};
use crate::ordered::ordered_map;

#[derive(Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file and run the examples it carries; exit 1 if it does not parse or a test
    /// fails.
    Test {
        /// Policy file (TOML).
        file: PathBuf,
    },
    /// Print every phrase of a policy, one per line (exceptions excluded): for inspection, and as
    /// the pattern file of a plain multi-pattern search baseline (`rg -F -f`).
    Phrases {
        /// Policy file (TOML); the built-in default when absent.
        file: Option<PathBuf>,
    },
    /// Backtest: run two policies over a corpus and list the ads whose verdict changes (JSON
    /// Lines on stdout, with the signals that made the difference), with summary counts on
    /// stderr.
    Diff {
        /// The policy in force.
        old: PathBuf,
        /// The candidate policy.
        new: PathBuf,
        /// Ads as JSON Lines.
        corpus: PathBuf,
        /// Region for national-format phone numbers.
        #[arg(long, default_value = "US")]
        region: String,
        #[arg(long)]
        threads: Option<usize>,
    },
}

pub fn run(args: PolicyArgs) -> Result<ExitCode> {
    match args.command {
        PolicyCommand::Test { file } => test(file),
        PolicyCommand::Phrases { file } => {
            let policy = compile_policy(file.as_deref())?;
            for p in policy.phrases() {
                println!("{p}");
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Diff {
            old,
            new,
            corpus,
            region,
            threads,
        } => diff(old, new, corpus, &region, threads),
    }
}

fn test(file: PathBuf) -> Result<ExitCode> {
    let policy = compile_policy(Some(&file))?;
    let outcomes = run_tests(&policy, &ExtractOptions::default());
    let mut failed = 0;
    for o in &outcomes {
        if o.passed() {
            eprintln!("ok    {} (line {})", o.name, o.line);
        } else {
            failed += 1;
            eprintln!("FAIL  {} (line {})", o.name, o.line);
            for f in &o.failures {
                eprintln!("        {f}");
            }
        }
    }
    eprintln!(
        "policy {}: {} indicators, {} phrases, {} patterns; {} tests, {} failed",
        policy.label(),
        policy.indicators.len(),
        policy.phrase_count,
        policy.pattern_count,
        outcomes.len(),
        failed
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn diff(
    old: PathBuf,
    new: PathBuf,
    corpus: PathBuf,
    region: &str,
    threads: Option<usize>,
) -> Result<ExitCode> {
    let extract = ExtractOptions::with_region(region)?;
    let old_engine = Engine::new(load_policy(Some(&old), &extract)?, extract.clone());
    let new_engine = Engine::new(load_policy(Some(&new), &extract)?, extract);
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let reader = crate::commands::open_input(&corpus)?;
    let mut io_error = None;
    let lines = Lines::new(reader, input::DEFAULT_MAX_LINE)
        .map_while(|r| r.map_err(|e| io_error = Some(e)).ok());
    let mut tally = Tally::default();
    let mut failed = 0u64;
    let mut stdout = std::io::stdout().lock();
    ordered_map(
        lines,
        threads,
        256,
        |line| {
            let ad = line.and_then(|l| input::parse_ad(&l))?;
            Ok((old_engine.analyze(&ad), new_engine.analyze(&ad)))
        },
        |r: Result<(Analysis, Analysis), input::LineError>| -> Result<()> {
            let (a, b) = match r {
                Ok(pair) => pair,
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                    return Ok(());
                }
            };
            if let Some(change) = tally.add(&a, &b) {
                use std::io::Write;
                serde_json::to_writer(&mut stdout, &change)?;
                stdout.write_all(b"\n")?;
            }
            Ok(())
        },
    )?;
    if let Some(e) = io_error {
        return Err(e.into());
    }
    eprintln!(
        "policy diff: {} ads, {} change verdict or report candidacy, {failed} failed lines ({} -> {})",
        tally.ads,
        tally.changed,
        old_engine.policy().label(),
        new_engine.policy().label()
    );
    for ((from, to), n) in &tally.transitions {
        if from != to {
            eprintln!("  {from:>6} -> {to:<6} {n}");
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
