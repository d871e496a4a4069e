//! The text bench's workload, shared by `text` (mimalloc, as the `samaritan` binary runs) and
//! `text_system_alloc` (the platform allocator, for comparison).

use criterion::{Criterion, Throughput};
use samaritan_engine::extract::{ExtractOptions, extract};
use samaritan_engine::normalize;
use samaritan_synth::{Config, Corpus};

fn docs() -> Vec<String> {
    let corpus = Corpus::new(Config {
        ads: 2_000,
        seed: 11,
        images: false,
        ..Config::default()
    });
    corpus.iter().map(|(ad, _)| ad.document()).collect()
}

pub fn bench(c: &mut Criterion) {
    let docs = docs();
    let bytes: usize = docs.iter().map(String::len).sum();
    let opts = ExtractOptions::default();
    let mut g = c.benchmark_group("text");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.bench_function("baseline_lowercase", |b| {
        b.iter(|| docs.iter().map(|d| d.to_lowercase().len()).sum::<usize>())
    });
    g.bench_function("normalize", |b| {
        b.iter(|| docs.iter().map(|d| normalize(d).text.len()).sum::<usize>())
    });
    g.bench_function("normalize_extract", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| {
                    let n = normalize(d);
                    extract(d, &n, &opts).mentions().len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}
