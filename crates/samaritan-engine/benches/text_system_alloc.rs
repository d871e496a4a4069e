//! The `text` bench on the platform's allocator (glibc malloc on Linux), for comparison with
//! the mimalloc figure the `samaritan` binary runs with.

use criterion::{criterion_group, criterion_main};

#[path = "text_common/mod.rs"]
mod common;

criterion_group!(benches, common::bench);
criterion_main!(benches);
