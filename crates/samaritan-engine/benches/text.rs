//! Throughput of normalize + extract on the synthetic corpus, in bytes of ad text per second
//! (one core). Baseline in the same run: a plain UTF-8 validation + lower-casing pass over the
//! same bytes, so the ratio survives a noisy shared machine.
//!
//! The engine runs inside the `samaritan` binary, whose global allocator is mimalloc, so this
//! bench uses it too; `text_system_alloc` runs the same workload on the platform allocator.

use criterion::{criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "text_common/mod.rs"]
mod common;

criterion_group!(benches, common::bench);
criterion_main!(benches);
