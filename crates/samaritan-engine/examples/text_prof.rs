//! The text bench's workload once (or `N` times), for profilers:
//! `valgrind --tool=callgrind target/release/examples/text_prof 1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use samaritan_engine::extract::{ExtractOptions, Kind, extract, extract_kinds};
use samaritan_engine::normalize;
use samaritan_synth::{Config, Corpus};

// the allocator of the `samaritan` binary and of the criterion bench
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let corpus = Corpus::new(Config {
        ads: 2_000,
        seed: 11,
        images: false,
        ..Config::default()
    });
    let docs: Vec<String> = corpus.iter().map(|(ad, _)| ad.document()).collect();
    let opts = ExtractOptions::default();
    // warm the lazily built patterns and tables outside the measured rounds
    let warm = run(&docs, &opts);
    std::hint::black_box(warm);
    let start = std::time::Instant::now();
    let mut total = 0;
    for _ in 0..rounds {
        total += measured(&docs, &opts);
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes: usize = docs.iter().map(String::len).sum();
    eprintln!(
        "{total} mentions, {:.1} MiB/s",
        (bytes * rounds) as f64 / secs / 1048576.0
    );
}

#[inline(never)]
fn measured(docs: &[String], opts: &ExtractOptions) -> usize {
    run(docs, opts)
}

/// `TEXT_PROF=normalize` or a kind (`phone`, `age`, …) to run only that part.
#[inline(never)]
fn run(docs: &[String], opts: &ExtractOptions) -> usize {
    let only = std::env::var("TEXT_PROF").ok();
    let kind = Kind::ALL
        .into_iter()
        .find(|k| only.as_deref() == Some(k.as_str()));
    docs.iter()
        .map(|d| {
            let n = normalize(d);
            match (only.as_deref(), kind) {
                (Some("normalize"), _) => n.text.len(),
                (_, Some(k)) => extract_kinds(d, &n, opts, &[k]).mentions().len(),
                _ => extract(d, &n, opts).mentions().len(),
            }
        })
        .sum()
}
