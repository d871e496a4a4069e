//! What keeping a file costs (issue 24): a new 100 kB image written to a local `BlobStore`
//! (object_store's LocalFileSystem with fsync of the file and its directory, through the
//! store's own runtime, the SHA-256 checked), the same write as the directory store before it
//! did it (temporary file, fsync, rename: the baseline), a write of a file already kept (one
//! HEAD), and a verified read.
//!
//! `cargo bench -p samaritan-media --bench blobs`

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches may unwrap, like tests

use std::io::Write as _;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use samaritan_media::blobs::{BlobKey, BlobStore, sha256_hex};

const SIZE: usize = 100_000;

/// A new file each call (its first 8 bytes a counter), and its name.
fn fresh(counter: &mut u64) -> (BlobKey, Vec<u8>) {
    *counter += 1;
    let mut b = vec![0x5a_u8; SIZE];
    b[..8].copy_from_slice(&counter.to_le_bytes());
    (BlobKey::image(&sha256_hex(&b)).unwrap(), b)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path().join("blobs")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("blobs_local_100kB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(50);

    let mut n = 0u64;
    g.bench_function("put_new", |b| {
        b.iter_batched(
            || fresh(&mut n),
            |(k, bytes)| store.put_blocking(&k, bytes).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let old_root = dir.path().join("old");
    let mut m = 1u64 << 40;
    g.bench_function("put_new_baseline_std_fs", |b| {
        b.iter_batched(
            || fresh(&mut m),
            |(k, bytes)| {
                let sha = k.sha256();
                let path = old_root.join(&sha[..2]).join(&sha[2..4]).join(sha);
                if path.exists() {
                    return;
                }
                let parent = path.parent().unwrap();
                std::fs::create_dir_all(parent).unwrap();
                let tmp = parent.join(format!(".{sha}.tmp"));
                let mut f = std::fs::File::create(&tmp).unwrap();
                f.write_all(&bytes).unwrap();
                f.sync_all().unwrap();
                std::fs::rename(&tmp, &path).unwrap();
            },
            BatchSize::SmallInput,
        )
    });

    let (kept, bytes) = fresh(&mut n);
    store.put_blocking(&kept, bytes.clone()).unwrap();
    g.bench_function("put_already_kept", |b| {
        b.iter(|| store.put_blocking(&kept, bytes.clone()).unwrap())
    });
    g.bench_function("get_verified", |b| {
        b.iter(|| rt.block_on(store.get(&kept)).unwrap().unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
