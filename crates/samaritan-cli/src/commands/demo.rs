//! `samaritan demo`: the whole engine on a generated marketplace, in one command.
//!
//! Generates a synthetic corpus with ground truth, scans it with the default policy, and prints
//! the scan summary and the evaluation against the truth.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::commands::{eval, scan, synth};
use crate::engine_args::{EngineArgs, MediaArgs};

#[derive(Args)]
pub struct DemoArgs {
    /// Ads in the demo corpus.
    #[arg(long, default_value_t = 20_000)]
    pub ads: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the corpus and the analyses.
    #[arg(long, default_value = "demo-data")]
    pub dir: PathBuf,
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    eprintln!(
        "demo: generating {} synthetic ads (seed {}) into {}",
        args.ads,
        args.seed,
        args.dir.display()
    );
    synth::run(synth::SynthArgs {
        ads: args.ads,
        seed: args.seed,
        out: args.dir.clone(),
        phrasing: synth::PhrasingArg::Main,
        days: 90,
        no_images: false,
    })?;
    let analyses = args.dir.join("analyses.jsonl");
    eprintln!(
        "demo: scanning with the default policy into {}",
        analyses.display()
    );
    scan::run(scan::ScanArgs {
        input: args.dir.join("ads.jsonl"),
        out: Some(analyses.clone()),
        errors: None,
        threads: None,
        strict: true,
        max_line_bytes: crate::input::DEFAULT_MAX_LINE,
        no_link: false,
        tmp_dir: None,
        model: None,
        engine: EngineArgs {
            policy: None,
            region: "US".to_owned(),
        },
        media: MediaArgs {
            data_dir: args.dir.join("data"),
            no_images: false,
            // The synthetic corpus carries its images as hashes: nothing to fetch or read.
            fetch_images: false,
            allow_private_fetch: false,
            allow_paths: Vec::new(),
        },
    })?;
    eprintln!("demo: evaluation against the ground truth");
    eval::run(eval::EvalArgs {
        truth: args.dir.join("truth.jsonl"),
        analyses,
        json: false,
        requirements: Vec::new(),
    })
}
