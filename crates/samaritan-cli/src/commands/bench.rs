//! `samaritan bench …`: speed measurements whose figures go into `BENCHMARKS.md`.
//!
//! Each prints one JSON line per case on stdout and a human table on stderr. Medians over many
//! runs, with the baseline measured in the same process and run, because machines are shared.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Subcommand};
use samaritan_engine::pdq::index::linear_scan;
use samaritan_engine::pdq::{MihIndex, PdqHash};
use samaritan_media::{DecodeLimits, hash_bytes};
use serde_json::json;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// PDQ index: multi-index hashing vs a brute-force popcount scan, on random hashes.
    PdqIndex {
        /// Index sizes.
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000,10000000")]
        sizes: Vec<usize>,
        /// Queries per size (half near copies of indexed hashes, half random).
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Match distance.
        #[arg(long, default_value_t = 31)]
        distance: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Decode + PDQ hash, one thread, per file: median of `repeat` runs.
    PdqHash {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.what {
        BenchWhat::PdqIndex {
            sizes,
            queries,
            distance,
            seed,
        } => pdq_index(&sizes, queries, distance, seed),
        BenchWhat::PdqHash { files, repeat } => pdq_hash(&files, repeat.max(1)),
    }
}

/// splitmix64: reproducible random hashes without a dependency.
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn p99(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get((v.len() * 99) / 100).copied().unwrap_or(f64::NAN)
}

fn pdq_index(
    sizes: &[usize],
    queries: usize,
    distance: u32,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    eprintln!(
        "{:>10} {:>9} {:>8} {:>12} {:>12} {:>8}",
        "hashes", "build s", "B/hash", "MIH med µs", "scan med µs", "speedup"
    );
    for &n in sizes {
        let mut rng = Rng(seed ^ n as u64);
        let hashes: Vec<PdqHash> = (0..n).map(|_| rng.hash()).collect();
        let t = Instant::now();
        let index = MihIndex::from_hashes(hashes.iter().copied());
        let build_s = t.elapsed().as_secs_f64();
        let bytes_per_hash = index.heap_bytes() as f64 / n.max(1) as f64;

        let qs: Vec<PdqHash> = (0..queries)
            .map(|i| {
                if i % 2 == 0 && n > 0 {
                    // A near copy of an indexed hash: 0..=distance random bits flipped.
                    let mut l = hashes[(rng.next() % n as u64) as usize].limbs();
                    let flips = rng.next() % (u64::from(distance) + 1);
                    for _ in 0..flips {
                        let b = (rng.next() % 256) as usize;
                        l[b / 64] ^= 1 << (b % 64);
                    }
                    PdqHash::from_limbs(l)
                } else {
                    rng.hash()
                }
            })
            .collect();
        let (mut mih_us, mut scan_us) = (Vec::new(), Vec::new());
        let mut found = 0usize;
        for q in &qs {
            let t = Instant::now();
            let a = index.query(q, distance);
            mih_us.push(t.elapsed().as_secs_f64() * 1e6);
            let t = Instant::now();
            let b = linear_scan(&hashes, q, distance);
            scan_us.push(t.elapsed().as_secs_f64() * 1e6);
            anyhow::ensure!(
                a.len() == b.len(),
                "MIH found {} and the scan {} for one query",
                a.len(),
                b.len()
            );
            found += a.len();
        }
        let (mm, sm) = (median(&mut mih_us), median(&mut scan_us));
        let (m99, s99) = (p99(&mut mih_us), p99(&mut scan_us));
        eprintln!(
            "{n:>10} {build_s:>9.2} {bytes_per_hash:>8.1} {mm:>12.1} {sm:>12.1} {:>7.1}x",
            sm / mm
        );
        super::hash::write_json_line(
            &mut out,
            &json!({"bench": "pdq-index", "hashes": n, "distance": distance, "queries": queries,
                    "build_s": build_s, "bytes_per_hash": bytes_per_hash,
                    "mih_median_us": mm, "mih_p99_us": m99,
                    "scan_median_us": sm, "scan_p99_us": s99,
                    "speedup_median": sm / mm, "matches_found": found}),
        )?;
        drop(index);
    }
    Ok(ExitCode::SUCCESS)
}

fn pdq_hash(files: &[PathBuf], repeat: usize) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let limits = DecodeLimits::default();
    let mut total_s = 0.0;
    for f in files {
        let bytes = std::fs::read(f)?;
        let mut times = Vec::with_capacity(repeat);
        let mut facts = None;
        for _ in 0..repeat {
            let t = Instant::now();
            let r = hash_bytes(&bytes, &limits)?;
            times.push(t.elapsed().as_secs_f64());
            facts = Some(r);
        }
        let m = median(&mut times);
        total_s += m;
        let facts = facts.ok_or_else(|| anyhow::anyhow!("no run"))?;
        super::hash::write_json_line(
            &mut out,
            &json!({"bench": "pdq-hash", "path": f.display().to_string(),
                    "width": facts.width, "height": facts.height,
                    "median_ms": m * 1e3, "pdq": facts.pdq}),
        )?;
    }
    eprintln!(
        "{} files, median decode+hash total {:.1} ms, {:.1} images/s",
        files.len(),
        total_s * 1e3,
        files.len() as f64 / total_s
    );
    Ok(ExitCode::SUCCESS)
}
