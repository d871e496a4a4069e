//! The learned model's cost per ad (issue 25), beside the engine's own analysis of the same ads.
//!
//! 2 000 synth ads (seed 42). `analyze` is the baseline (normalize, extract, match, decide);
//! `featurize_score` is what the model adds to an ad already prepared, as `scan --model` runs it
//! (`Model::score_with`, one `Scratch` kept from ad to ad);
//! `explain` the same with names and spans kept; `update` one FTRL step of both heads on features
//! already made. Run: `cargo bench -p samaritan-engine --bench learn`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches may unwrap

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::learn::{
    FeatureConfig, FtrlParams, Label, Model, ModelInput, Scratch, featurize,
};
use samaritan_engine::policy::{DEFAULT_POLICY, Policy};
use samaritan_synth::{Config, Corpus};

fn bench(c: &mut Criterion) {
    let corpus = Corpus::new(Config {
        ads: 2000,
        seed: 42,
        ..Config::default()
    });
    let ads: Vec<_> = corpus.iter().collect();
    let engine = Engine::new(
        Arc::new(Policy::from_toml(DEFAULT_POLICY).expect("compiles")),
        ExtractOptions::default(),
    );
    let prepared: Vec<_> = ads.iter().map(|(ad, _)| engine.prepare(ad)).collect();
    let cfg = FeatureConfig::default();
    let features: Vec<_> = prepared
        .iter()
        .map(|p| featurize(&ModelInput::from_prepared(p, engine.policy()), &cfg))
        .collect();
    let labels: Vec<Label> = ads
        .iter()
        .map(|(_, t)| match t.label {
            0 => Label::Benign,
            1 => Label::Commercial,
            _ => Label::Severe,
        })
        .collect();
    let mut model = Model::new(cfg.clone(), FtrlParams::default());
    for (x, l) in features.iter().zip(&labels) {
        model.learn(x, *l);
    }

    let mut group = c.benchmark_group("learn");
    group.throughput(Throughput::Elements(ads.len() as u64));
    group.bench_function("analyze", |b| {
        b.iter(|| {
            let mut n = 0.0;
            for (ad, _) in &ads {
                n += engine.analyze(black_box(ad)).score;
            }
            n
        })
    });
    group.bench_function("featurize_score", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            let mut n = 0.0;
            for p in &prepared {
                let input = ModelInput::from_prepared(black_box(p), engine.policy());
                n += model.score_with(&input, &mut scratch).probability;
            }
            n
        })
    });
    group.bench_function("explain", |b| {
        b.iter(|| {
            let mut n = 0;
            for p in &prepared {
                let (_, top) = model.explain(&ModelInput::from_prepared(p, engine.policy()), 5);
                n += top.len();
            }
            n
        })
    });
    group.bench_function("update", |b| {
        let mut m = model.clone();
        b.iter(|| {
            for (x, l) in features.iter().zip(&labels) {
                m.learn(black_box(x), *l);
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
