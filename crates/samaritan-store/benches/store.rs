//! Store costs without HTTP: ingest of 500-ad batches into SQLite (each batch one transaction
//! and one fsync), beside the baseline of only serialising the same analyses to JSON (the work
//! every store write needs anyway); and audit-chain verification per 1 000 entries.
//!
//! `cargo bench -p samaritan-store --bench store`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use samaritan_engine::model::{Ad, Analysis, Extracted, Verdict};
use samaritan_store::{IngestItem, Store};

const BATCH: usize = 500;

fn items(round: u64) -> Vec<IngestItem> {
    (0..BATCH)
        .map(|i| {
            let id = format!("b{round}-{i}");
            let mut ad = Ad::text(
                &id,
                Some("Listing"),
                Some("Road bicycle, call 775-555-0142"),
            );
            ad.account = Some(format!("acct{}", i % 50));
            let analysis = Analysis {
                schema: 1,
                id: id.clone(),
                verdict: if i % 5 == 0 {
                    Verdict::Review
                } else {
                    Verdict::Allow
                },
                score: 0.1,
                priority: (i % 7) as u32,
                report_candidate: false,
                signals: Vec::new(),
                extracted: Extracted {
                    phones: vec!["7755550142".into()],
                    ..Extracted::default()
                },
                mentions: Vec::new(),
                network: None,
                template: None,
                policy: "bench@1".into(),
                images: Vec::new(),
            };
            let raw = serde_json::to_string(&ad).unwrap();
            IngestItem::new(ad, raw, analysis).unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(Store::open_sqlite(dir.path())).unwrap();
    let mut g = c.benchmark_group("ingest_500");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20);
    let mut round = 0u64;
    g.bench_function("baseline_serialise_only", |b| {
        b.iter_batched(
            || items(0),
            |items| {
                items
                    .iter()
                    .map(|i| serde_json::to_string(&i.analysis).unwrap().len())
                    .sum::<usize>()
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("sqlite_ingest", |b| {
        b.iter_batched(
            || {
                round += 1;
                items(round)
            },
            |items| rt.block_on(store.ingest(items)).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    for i in 0..1000 {
        rt.block_on(store.audit_append(
            "key:bench",
            "ad.read",
            &format!("a{i}"),
            serde_json::json!({"revision": 1}),
        ))
        .unwrap();
    }
    let mut g = c.benchmark_group("audit");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("verify_1000_entries", |b| {
        b.iter(|| rt.block_on(store.audit_verify()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
