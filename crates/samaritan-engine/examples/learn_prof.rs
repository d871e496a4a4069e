//! The learned model's per-ad work on 2 000 synth ads (seed 42), `N` rounds, for profilers:
//! `perf record -g target/release/examples/learn_prof 50 [featurize|score|analyze]`.
//! Prints µs per ad of the chosen part (default `score`: featurize and score an ad already
//! prepared, what `scan --model` adds). Speed figures for BENCHMARKS.md come from
//! `cargo bench -p samaritan-engine --bench learn`, not from this.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::learn::{FeatureConfig, FtrlParams, Label, Model, ModelInput, featurize};
use samaritan_engine::policy::{DEFAULT_POLICY, Policy};
use samaritan_synth::{Config, Corpus};

// the allocator of the `samaritan` binary and of the criterion bench
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let part = args.next().unwrap_or_else(|| "score".to_owned());
    let corpus = Corpus::new(Config {
        ads: 2000,
        seed: 42,
        ..Config::default()
    });
    let ads: Vec<_> = corpus.iter().collect();
    let engine = Engine::new(
        Arc::new(Policy::from_toml(DEFAULT_POLICY).unwrap()),
        ExtractOptions::default(),
    );
    let prepared: Vec<_> = ads.iter().map(|(ad, _)| engine.prepare(ad)).collect();
    // LEARN_CHARS=3-4 (say) measures other character n-gram lengths
    let mut cfg = FeatureConfig::default();
    if let Ok(r) = std::env::var("LEARN_CHARS")
        && let Some((lo, hi)) = r.split_once('-')
    {
        cfg.char_min = lo.parse().unwrap();
        cfg.char_max = hi.parse().unwrap();
    }
    let mut model = Model::new(cfg.clone(), FtrlParams::default());
    for _ in 0..2 {
        for (p, (_, t)) in prepared.iter().zip(&ads) {
            let x = featurize(&ModelInput::from_prepared(p, engine.policy()), &cfg);
            let l = match t.label {
                0 => Label::Benign,
                1 => Label::Commercial,
                _ => Label::Severe,
            };
            model.learn(&x, l);
        }
    }
    let mut scratch = samaritan_engine::learn::Scratch::default();
    let start = std::time::Instant::now();
    let mut sink = 0.0;
    for _ in 0..rounds {
        for (p, (ad, _)) in prepared.iter().zip(&ads) {
            sink += match part.as_str() {
                "featurize" => featurize(&ModelInput::from_prepared(p, engine.policy()), &cfg)
                    .slots
                    .len() as f64,
                "analyze" => engine.analyze(ad).score,
                _ => {
                    model
                        .score_with(&ModelInput::from_prepared(p, engine.policy()), &mut scratch)
                        .probability
                }
            };
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / (rounds * ads.len()) as f64;
    black_box(sink);
    println!(
        "{part}: {per:.2} µs per ad ({rounds} rounds of {} ads)",
        ads.len()
    );
}
