//! Linking benchmarks: fingerprint cost per ad, and the cost of one incremental insert into a
//! linker that already holds 10 thousand and 1 million ads (side by side: the ratio shows that
//! an insert does not grow with what is stored).
//!
//! `cargo bench -p samaritan-engine --bench link` (the 1M store takes about a minute to build).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use samaritan_engine::link::{LinkInput, Linker};
use samaritan_engine::similar::{Fingerprint, fingerprint};

/// A small deterministic generator (SplitMix64), so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SYL: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "ta", "po", "be", "da", "fo", "gu", "hi", "ja", "ko", "sa", "te",
];

fn word(rng: &mut Rng) -> String {
    // Zipf-like: small ranks far more often.
    let rank = (rng.below(4000) * rng.below(4000)) / 4000;
    let mut w = String::new();
    let mut r = rank + 7;
    while r > 0 {
        w.push_str(SYL[(r % 16) as usize]);
        r /= 16;
    }
    w
}

/// `n` ads: a fifth from templates of 25–60 words with two slots, the rest unique text.
fn corpus(n: usize, seed: u64) -> Vec<(String, String, Option<String>)> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n);
    let mut t = 0u64;
    while out.len() < n {
        if rng.below(5) == 0 {
            let len = 25 + rng.below(36) as usize;
            let tpl: Vec<String> = (0..len).map(|_| word(&mut rng)).collect();
            let phone = format!("20255{:05}", rng.below(100_000));
            for _ in 0..(2 + rng.below(15)) {
                let mut doc = tpl.clone();
                doc[3] = word(&mut rng);
                doc[len / 2] = format!("{} {}", word(&mut rng), word(&mut rng));
                out.push((
                    format!("t{t}-{}", out.len()),
                    doc.join(" "),
                    Some(phone.clone()),
                ));
            }
            t += 1;
        } else {
            let len = 20 + rng.below(60) as usize;
            let doc: Vec<String> = (0..len).map(|_| word(&mut rng)).collect();
            out.push((format!("n{}", out.len()), doc.join(" "), None));
        }
    }
    out.truncate(n);
    out
}

fn input(id: String, fp: Fingerprint, phone: Option<String>) -> LinkInput {
    LinkInput {
        id,
        phones: phone.into_iter().collect(),
        fingerprint: fp,
        ..Default::default()
    }
}

fn filled(n: usize) -> Linker {
    let mut l = Linker::default();
    for (id, text, phone) in corpus(n, 1) {
        let fp = fingerprint(&text);
        let _ = l.insert(input(id, fp, phone));
    }
    l
}

fn bench(c: &mut Criterion) {
    let pool: Vec<(Fingerprint, Option<String>)> = corpus(2000, 7)
        .into_iter()
        .map(|(_, text, phone)| (fingerprint(&text), phone))
        .collect();
    let sample = corpus(1, 3).remove(0).1;
    c.bench_function("fingerprint/one_ad", |b| {
        b.iter(|| fingerprint(black_box(&sample)))
    });

    let mut g = c.benchmark_group("insert");
    g.sample_size(30);
    for (label, n) in [("stored_10k", 10_000usize), ("stored_1m", 1_000_000)] {
        let mut linker = filled(n);
        let mut i = 0usize;
        g.bench_function(label, |b| {
            b.iter_batched(
                || {
                    i += 1;
                    let (fp, phone) = pool[i % pool.len()].clone();
                    input(format!("bench-{i}"), fp, phone)
                },
                |inp| linker.insert(inp),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
