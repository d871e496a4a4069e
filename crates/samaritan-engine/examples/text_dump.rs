//! Prints normalize + extract output for a fixed set of documents (synth corpora and, when
//! given, the Memex cases), so two builds can be compared byte for byte.
//! `cargo run --release -p samaritan-engine --example text_dump -- [memex all_cases.jsonl] > out`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use samaritan_engine::extract::{ExtractOptions, extract};
use samaritan_engine::normalize;
use samaritan_synth::{Config, Corpus};

fn main() {
    let mut docs: Vec<String> = Vec::new();
    for seed in [1u64, 7, 11, 23] {
        let corpus = Corpus::new(Config {
            ads: 5_000,
            seed,
            images: false,
            ..Config::default()
        });
        docs.extend(corpus.iter().map(|(ad, _)| ad.document()));
    }
    if let Some(path) = std::env::args().nth(1) {
        let text = std::fs::read_to_string(path).unwrap();
        let cases = samaritan_engine::conformance::memex::parse_cases(&text).unwrap();
        docs.extend(cases.into_iter().map(|c| c.text));
    }
    let opts = ExtractOptions::default();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for d in &docs {
        let n = normalize(d);
        writeln!(out, "== {}", n.text).unwrap();
        // the offset map, probed at every word edge of the normalized text
        let b = n.text.as_bytes();
        let mut probes = Vec::new();
        for i in 0..=b.len() {
            let edge = i == 0
                || i == b.len()
                || b[i - 1].is_ascii_alphanumeric() != b[i].is_ascii_alphanumeric();
            if edge && n.text.is_char_boundary(i) {
                probes.push(i);
            }
        }
        for w in probes.windows(2) {
            let r = w[0]..w[1];
            write!(
                out,
                "{:?}{} ",
                n.original_span(r.clone()),
                u8::from(n.is_obfuscated(r))
            )
            .unwrap();
        }
        writeln!(out).unwrap();
        let e = extract(d, &n, &opts);
        for m in e.mentions() {
            writeln!(out, "{m:?}").unwrap();
        }
        writeln!(out, "{:?}", e.extracted()).unwrap();
    }
}
