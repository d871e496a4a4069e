//! `samaritan conformance`: extraction quality on labelled cases, per kind.
//!
//! `memex` scores the sanitized DARPA Memex cases in `../shared/conformance/memex`; `synth`
//! scores phones and ages on a generated corpus whose every phone and age is known. Figures go
//! to stderr as a table (and to stdout as JSON Lines with `--json`); the exit code is 1 when a
//! bar of issue 3 is missed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use rayon::prelude::*;
use samaritan_engine::conformance::memex;
use samaritan_engine::extract::{ExtractOptions, extract};
use samaritan_engine::normalize;
use samaritan_eval::metrics::SetScore;
use samaritan_synth::{Config, Corpus};

#[derive(Args)]
pub struct ConformanceArgs {
    #[command(subcommand)]
    pub set: Set,
}

#[derive(Subcommand)]
pub enum Set {
    /// The Memex extraction cases (phone, age, price, email, social, location).
    Memex {
        /// The shared directory holding `conformance/memex` (default: `../shared` beside the
        /// current directory, or $SAMARITAN_SHARED).
        #[arg(long, env = "SAMARITAN_SHARED")]
        shared: Option<PathBuf>,
        /// Also print one JSON object per kind and variant on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Policy recall on real commercial-sex ads: the distinct full ad texts of the Memex set,
    /// analysed one by one; the share not allowed, on the half policy authors may read (even
    /// positions) and on the held-out half (odd positions).
    MemexAds {
        /// The shared directory holding `conformance/memex` (default: `../shared`).
        #[arg(long, env = "SAMARITAN_SHARED")]
        shared: Option<PathBuf>,
        #[command(flatten)]
        engine: crate::engine_args::EngineArgs,
        /// Print the figures as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Phones and ages on a synthetic corpus (`samaritan synth` with the same seed and size).
    Synth {
        #[arg(long, default_value_t = 10_000)]
        ads: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also print the scores as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: ConformanceArgs) -> Result<ExitCode> {
    match args.set {
        Set::Memex { shared, json } => run_memex(shared, json),
        Set::Synth { ads, seed, json } => run_synth(ads, seed, json),
        Set::MemexAds {
            shared,
            engine,
            json,
        } => run_memex_ads(shared, &engine, json),
    }
}

fn run_memex(shared: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let shared = shared.unwrap_or_else(|| PathBuf::from("../shared"));
    let path = shared.join("conformance/memex/all_cases.jsonl");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let cases = memex::parse_cases(&text).with_context(|| path.display().to_string())?;
    let scores = memex::score(&cases, &ExtractOptions::default());
    eprintln!(
        "{:9} {:26} {:>5} {:>5} {:>4} {:>4} {:>7} {:>7}",
        "kind", "variant", "cases", "tp", "fp", "fn", "P", "R"
    );
    for s in &scores {
        eprintln!(
            "{:9} {:26} {:5} {:5} {:4} {:4} {:7.3} {:7.3}",
            s.kind,
            s.variant,
            s.cases,
            s.tp,
            s.fp,
            s.fn_,
            s.precision(),
            s.recall()
        );
        if json {
            let mut v = serde_json::to_value(s)?;
            v["precision"] = s.precision().into();
            v["recall"] = s.recall().into();
            println!("{v}");
        }
    }
    let bar = |kind: &str, variant: &str, min: f64| {
        scores
            .iter()
            .find(|s| s.kind == kind && s.variant == variant)
            .is_some_and(|s| s.precision() >= min && s.recall() >= min)
    };
    let ok = bar("phone", "valid_after_sanitizing", 0.97) && bar("age", "all", 0.90);
    if !ok {
        eprintln!(
            "below the bars (phone P,R >= 0.97 without invalid-after-sanitizing cases; age P,R >= 0.90)"
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_memex_ads(
    shared: Option<PathBuf>,
    engine: &crate::engine_args::EngineArgs,
    json: bool,
) -> Result<ExitCode> {
    let shared = shared.unwrap_or_else(|| PathBuf::from("../shared"));
    let path = shared.join("conformance/memex/all_cases.jsonl");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let cases = memex::parse_cases(&text).with_context(|| path.display().to_string())?;
    let engine = engine.engine()?;
    let ads = memex::real_ads(&cases);
    let mut halves = [[0u64; 4]; 2]; // [ads, not allowed, blocked, report candidates]
    for (i, body) in ads.iter().enumerate() {
        let a = engine.analyze(&samaritan_engine::Ad::text(
            format!("memex-{i}"),
            None,
            Some(body),
        ));
        let h = &mut halves[i % 2];
        h[0] += 1;
        h[1] += u64::from(a.verdict != samaritan_engine::Verdict::Allow);
        h[2] += u64::from(a.verdict == samaritan_engine::Verdict::Block);
        h[3] += u64::from(a.report_candidate);
    }
    for (name, h) in [("readable", halves[0]), ("held-out", halves[1])] {
        let rate = h[1] as f64 / h[0].max(1) as f64;
        eprintln!(
            "memex real ads, {name} half: {} ads, not allowed {:.1}% (blocked {}, report candidates {})",
            h[0],
            rate * 100.0,
            h[2],
            h[3]
        );
        if json {
            println!(
                "{}",
                serde_json::json!({"half": name, "ads": h[0], "not_allowed": h[1], "not_allowed_rate": rate, "blocked": h[2], "report_candidates": h[3]})
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_synth(ads: u64, seed: u64, json: bool) -> Result<ExitCode> {
    let corpus = Corpus::new(Config {
        ads,
        seed,
        images: false,
        ..Config::default()
    });
    let opts = ExtractOptions::default();
    let (phones, ages) = (0..corpus.len())
        .into_par_iter()
        .map(|i| {
            let (ad, truth) = corpus.ad(i);
            let doc = ad.document();
            let e = extract(&doc, &normalize(&doc), &opts).extracted();
            let mut want_ages = truth.ages.clone();
            want_ages.dedup();
            let (mut p, mut a) = (SetScore::default(), SetScore::default());
            p.add(&e.phones, &truth.phones);
            a.add(&e.ages, &want_ages);
            (p, a)
        })
        .reduce(
            || (SetScore::default(), SetScore::default()),
            |(mut p1, mut a1), (p2, a2)| {
                p1.tp += p2.tp;
                p1.fp += p2.fp;
                p1.fn_ += p2.fn_;
                a1.tp += a2.tp;
                a1.fp += a2.fp;
                a1.fn_ += a2.fn_;
                (p1, a1)
            },
        );
    eprintln!("synth ads {} seed {seed}", corpus.len());
    for (name, s) in [("phones", &phones), ("ages", &ages)] {
        eprintln!(
            "{name:7} precision {:.4} recall {:.4} (tp {} fp {} fn {})",
            s.precision(),
            s.recall(),
            s.tp,
            s.fp,
            s.fn_
        );
        if json {
            println!(
                "{}",
                serde_json::json!({"kind": name, "tp": s.tp, "fp": s.fp, "fn": s.fn_,
                    "precision": s.precision(), "recall": s.recall()})
            );
        }
    }
    let ok = phones.precision() >= 0.99
        && phones.recall() >= 0.99
        && ages.precision() >= 0.97
        && ages.recall() >= 0.97;
    if !ok {
        eprintln!("below the bars (phones P,R >= 0.99; ages P,R >= 0.97)");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
