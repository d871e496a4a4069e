//! Policy matching cost per ad, with the default policy and with ten times its phrases.
//!
//! All phrases live in one automaton and all patterns in one `RegexSet`, so the cost per ad should
//! hardly grow with the number of indicators. Run: `cargo bench -p samaritan-engine --bench policy`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches may unwrap

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::{DEFAULT_POLICY, Policy};
use samaritan_engine::{Engine, normalize};
use samaritan_synth::{Config, Corpus};

/// The default policy plus enough made-up indicators to reach `factor` times its phrase count.
fn scaled_policy(factor: usize) -> Policy {
    let base = Policy::from_toml(DEFAULT_POLICY).expect("default policy compiles");
    let extra = base.phrase_count * (factor - 1);
    let mut text = DEFAULT_POLICY.to_owned();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut word = || {
        // Pseudo-words: realistic lengths and letters, never in real ads.
        let len = 4 + (state % 7) as usize;
        let mut w = String::new();
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            w.push((b'a' + (state % 26) as u8) as char);
        }
        w
    };
    let per_indicator = 40;
    for i in 0..extra.div_ceil(per_indicator) {
        let phrases: Vec<String> = (0..per_indicator)
            .map(|_| format!("\"{} {}\"", word(), word()))
            .collect();
        text.push_str(&format!(
            "\n[[indicator]]\nid = \"extra_{i}\"\ncategory = \"extra\"\ndescription = \"benchmark filler\"\nsource = \"benchmark\"\nweight = 0.1\nphrases = [{}]\n",
            phrases.join(", ")
        ));
    }
    Policy::from_toml(&text).expect("scaled policy compiles")
}

fn bench(c: &mut Criterion) {
    let corpus = Corpus::new(Config {
        ads: 2000,
        seed: 42,
        ..Config::default()
    });
    let docs: Vec<String> = corpus
        .iter()
        .map(|(ad, _)| {
            format!(
                "{}\n{}",
                ad.title.unwrap_or_default(),
                ad.body.unwrap_or_default()
            )
        })
        .collect();
    let normalized: Vec<String> = docs.iter().map(|d| normalize(d).text).collect();
    let bytes: usize = normalized.iter().map(String::len).sum();

    let mut group = c.benchmark_group("policy_match");
    group.throughput(Throughput::Bytes(bytes as u64));
    for factor in [1usize, 10] {
        let policy = if factor == 1 {
            Policy::from_toml(DEFAULT_POLICY).expect("compiles")
        } else {
            scaled_policy(factor)
        };
        let name = format!("{}x_{}_phrases", factor, policy.phrase_count);
        group.bench_function(&name, |b| {
            b.iter(|| {
                let mut hits = 0;
                for t in &normalized {
                    hits += policy.match_text(black_box(t)).len();
                }
                hits
            })
        });
    }
    group.finish();

    // The whole per-ad pipeline (normalize, extract, match, decide) for comparison.
    let engine = Engine::new(
        Arc::new(Policy::from_toml(DEFAULT_POLICY).expect("compiles")),
        ExtractOptions::default(),
    );
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Bytes(
        docs.iter().map(String::len).sum::<usize>() as u64,
    ));
    group.bench_function("prepare_and_decide", |b| {
        b.iter(|| {
            let mut n = 0.0;
            for d in &docs {
                let ad = samaritan_engine::model::Ad::text("b", None, Some(d));
                n += engine.analyze(black_box(&ad)).score;
            }
            n
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
