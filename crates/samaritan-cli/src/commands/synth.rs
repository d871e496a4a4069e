//! `samaritan synth`: write a synthetic marketplace corpus with ground truth.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use samaritan_synth::{Config, Corpus, Phrasing};

#[derive(Args)]
pub struct SynthArgs {
    /// Number of ads to generate.
    #[arg(long, default_value_t = 10_000)]
    pub ads: u64,
    /// Seed: the same seed always gives the same corpus.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory to write `ads.jsonl` and `truth.jsonl` into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Wording bank: `main` (what the engine is developed against), `holdout` (never used to
    /// write policies, only to check that they generalise), or a blind bank written by someone
    /// who never saw the policy or the other banks, for evaluation only: `blind-1` (spent: used
    /// to diagnose misses), `blind-2` (held out for measurement; `blind` is the same) and
    /// `blind-3` (aggregates read), `blind-4` (the review loop's measurement; aggregates read)
    /// `blind-5` (measured once, then used to diagnose age attribution), `blind-6` (written
    /// 2026-12-07; the policy measured once, the review loop measured once) and `blind-7`
    /// (written 2026-12-08, unread).
    #[arg(long, value_enum, default_value_t = PhrasingArg::Main)]
    pub phrasing: PhrasingArg,
    /// Days the corpus spans.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Leave out image hashes.
    #[arg(long)]
    pub no_images: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PhrasingArg {
    Main,
    Holdout,
    #[value(name = "blind-1")]
    Blind1,
    #[value(name = "blind-2", alias = "blind")]
    Blind2,
    #[value(name = "blind-3")]
    Blind3,
    #[value(name = "blind-4")]
    Blind4,
    #[value(name = "blind-5")]
    Blind5,
    #[value(name = "blind-6")]
    Blind6,
    #[value(name = "blind-7")]
    Blind7,
}

impl PhrasingArg {
    /// The generator's phrasing, with a blind bank checked before use.
    pub fn phrasing(self) -> Result<Phrasing> {
        let blind = |name: &'static str| -> Result<Phrasing> {
            samaritan_synth::bank::blind::bank(name).map_err(anyhow::Error::msg)?;
            Ok(Phrasing::Blind(name))
        };
        match self {
            PhrasingArg::Main => Ok(Phrasing::Main),
            PhrasingArg::Holdout => Ok(Phrasing::Holdout),
            PhrasingArg::Blind1 => blind("blind-1"),
            PhrasingArg::Blind2 => blind("blind-2"),
            PhrasingArg::Blind3 => blind("blind-3"),
            PhrasingArg::Blind4 => blind("blind-4"),
            PhrasingArg::Blind5 => blind("blind-5"),
            PhrasingArg::Blind6 => blind("blind-6"),
            PhrasingArg::Blind7 => blind("blind-7"),
        }
    }
}

/// Ads are generated and serialised in parallel, in chunks, and written in order.
const CHUNK: usize = 4096;

pub fn run(args: SynthArgs) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let corpus = Corpus::new(Config {
        ads: args.ads,
        seed: args.seed,
        phrasing: args.phrasing.phrasing()?,
        days: args.days,
        images: !args.no_images,
        ..Config::default()
    });
    let ads_path = args.out.join("ads.jsonl");
    let truth_path = args.out.join("truth.jsonl");
    let open = |p: &PathBuf| -> Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ))
    };
    let (mut ads_out, mut truth_out) = (open(&ads_path)?, open(&truth_path)?);
    let pb = crate::progress::bar(Some(corpus.len() as u64), "generating");
    let mut labels = [0u64; 3];
    let mut bytes = 0u64;
    for start in (0..corpus.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(corpus.len());
        let chunk: Vec<(Vec<u8>, Vec<u8>, u8)> = (start..end)
            .into_par_iter()
            .map(|i| {
                let (ad, truth) = corpus.ad(i);
                let mut a = serde_json::to_vec(&ad)?;
                a.push(b'\n');
                let mut t = serde_json::to_vec(&truth)?;
                t.push(b'\n');
                Ok((a, t, truth.label))
            })
            .collect::<Result<_>>()?;
        for (a, t, label) in chunk {
            bytes += a.len() as u64;
            ads_out.write_all(&a)?;
            truth_out.write_all(&t)?;
            labels[usize::from(label)] += 1;
        }
        pb.set_position(end as u64);
    }
    ads_out.flush()?;
    truth_out.flush()?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "synth: {} ads ({:.1} MB) in {secs:.1}s to {}: {} benign, {} commercial, {} with trafficking or minor indicators",
        corpus.len(),
        bytes as f64 / 1e6,
        args.out.display(),
        labels[0],
        labels[1],
        labels[2],
    );
    Ok(())
}
