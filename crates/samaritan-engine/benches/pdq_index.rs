//! PDQ index: multi-index hashing vs a brute-force popcount scan, side by side, at distance 31.
//!
//! `cargo bench -p samaritan-engine --bench pdq_index` runs 100k and 1M random hashes; set
//! `SAMARITAN_BENCH_10M=1` to add 10M (about 1.3 GB). `samaritan bench pdq-index` prints the
//! same comparison plus build time and bytes per hash as JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use samaritan_engine::pdq::index::linear_scan;
use samaritan_engine::pdq::{MihIndex, PdqHash};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn hash(&mut self) -> PdqHash {
        PdqHash::from_limbs([self.next(), self.next(), self.next(), self.next()])
    }
}

fn bench(c: &mut Criterion) {
    let mut sizes = vec![100_000usize, 1_000_000];
    if std::env::var("SAMARITAN_BENCH_10M").is_ok_and(|v| v == "1") {
        sizes.push(10_000_000);
    }
    let mut group = c.benchmark_group("pdq_index_d31");
    group.sample_size(20);
    for n in sizes {
        let mut rng = Rng(n as u64);
        let hashes: Vec<PdqHash> = (0..n).map(|_| rng.hash()).collect();
        let index = MihIndex::from_hashes(hashes.iter().copied());
        // Near copies of indexed hashes (up to 31 bits flipped) and random hashes, alternating.
        let queries: Vec<PdqHash> = (0..64)
            .map(|i| {
                if i % 2 == 0 {
                    let mut l = hashes[(rng.next() % n as u64) as usize].limbs();
                    for _ in 0..rng.next() % 32 {
                        let b = (rng.next() % 256) as usize;
                        l[b / 64] ^= 1 << (b % 64);
                    }
                    PdqHash::from_limbs(l)
                } else {
                    rng.hash()
                }
            })
            .collect();
        let mut qi = 0usize;
        group.bench_function(BenchmarkId::new("mih", n), |b| {
            b.iter(|| {
                qi = (qi + 1) % queries.len();
                index.query(&queries[qi], 31).len()
            })
        });
        group.bench_function(BenchmarkId::new("scan", n), |b| {
            b.iter(|| {
                qi = (qi + 1) % queries.len();
                linear_scan(&hashes, &queries[qi], 31).len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
