//! PDQ conformance against the reference data in `../shared/conformance/pdq` (ThreatExchange).
//!
//! The compatibility rule of the reference (`pdq/README.md`): with our own decoder, every image
//! of quality >= 80 within 10 bits of the C++ reference; exact matches are reported. Plus the
//! dihedral set and the colour-mode set. `#[ignore]`d with the reason (run with
//! `--include-ignored`), and then skipping visibly when `../shared` is absent; the same checks on
//! the fixtures copied into `tests/data` run in `fixtures.rs` regardless.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::Path;

use samaritan_engine::pdq::{Dihedral, PdqHash};
use samaritan_media::{DecodeLimits, hash_bytes};

fn hash_file(path: &Path) -> (PdqHash, u8, samaritan_media::ImageFacts) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let facts = hash_bytes(&bytes, &DecodeLimits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (facts.pdq.unwrap(), facts.quality.unwrap(), facts)
}

fn expected(dir: &Path, source: &str) -> Vec<(String, PdqHash, Option<u8>)> {
    let tsv = std::fs::read_to_string(dir.join("expected_hashes.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.first() == Some(&source)).then(|| {
                (
                    f[1].to_owned(),
                    PdqHash::from_hex(f[2]).unwrap(),
                    f[3].parse().ok(),
                )
            })
        })
        .collect()
}

#[test]
#[ignore = "needs ../shared conformance data (or $SAMARITAN_SHARED); run with --include-ignored"]
fn cpp_reference_images_within_10_bits() {
    let Some(shared) = samaritan_testkit::shared_dir("cpp_reference_images_within_10_bits") else {
        return;
    };
    let dir = shared.join("conformance/pdq");
    let rows = expected(&dir, "cpp_int64");
    assert_eq!(rows.len(), 23, "the cpp_int64 set has 23 images");
    let (mut exact, mut checked, mut max_d, mut same_quality) = (0, 0, 0, 0);
    for (image, want, want_q) in &rows {
        let (got, q, _) = hash_file(&dir.join(image));
        let d = got.distance(want);
        println!("{d:3} bits  q {q:3} (ref {want_q:?})  {image}");
        if d == 0 {
            exact += 1;
        }
        if Some(q) == *want_q {
            same_quality += 1;
        }
        if want_q.is_some_and(|wq| wq >= 80) {
            checked += 1;
            max_d = max_d.max(d);
            assert!(d <= 10, "{image}: {d} bits from the C++ reference");
        }
    }
    println!(
        "PDQ conformance: {exact}/{} exact vs cpp_int64; {checked} images with quality >= 80 all within 10 bits (max {max_d}); quality equal on {same_quality}/{}",
        rows.len(),
        rows.len()
    );
    assert!(exact >= 18, "exact matches fell to {exact}");
}

#[test]
#[ignore = "needs ../shared conformance data (or $SAMARITAN_SHARED); run with --include-ignored"]
fn dihedral_variants_match_the_transformed_files() {
    let Some(shared) =
        samaritan_testkit::shared_dir("dihedral_variants_match_the_transformed_files")
    else {
        return;
    };
    let dih = shared.join("conformance/pdq/pdq/data/reg-test-input/dih");
    let (_, _, facts) = hash_file(&dih.join("bridge-1-original.jpg"));
    let out = facts.pdq_output.unwrap();
    let files = [
        (Dihedral::Original, "bridge-1-original.jpg"),
        (Dihedral::Rotate90, "bridge-2-rotate-90.jpg"),
        (Dihedral::Rotate180, "bridge-3-rotate-180.jpg"),
        (Dihedral::Rotate270, "bridge-4-rotate-270.jpg"),
        (Dihedral::FlipX, "bridge-5-flipx.jpg"),
        (Dihedral::FlipY, "bridge-6-flipy.jpg"),
        (Dihedral::FlipPlus1, "bridge-7-flip-plus-1.jpg"),
        (Dihedral::FlipMinus1, "bridge-8-flip-minus-1.jpg"),
    ];
    for (variant, file) in files {
        let (physical, _, _) = hash_file(&dih.join(file));
        let derived = out.hash_for(variant);
        let d = derived.distance(&physical);
        println!("{:>12}: derived vs hashed file {d} bits", variant.name());
        assert!(d <= 10, "{file}: derived {variant:?} is {d} bits away");
        // And the file is far from the un-transformed hash (the variant is doing the work).
        if variant != Dihedral::Original {
            assert!(out.hash.distance(&physical) > 31, "{file}");
        }
    }
}

#[test]
#[ignore = "needs ../shared conformance data (or $SAMARITAN_SHARED); run with --include-ignored"]
fn every_colour_mode_hashes_like_the_original() {
    let Some(shared) = samaritan_testkit::shared_dir("every_colour_mode_hashes_like_the_original")
    else {
        return;
    };
    let modes = shared.join("conformance/pdq/pdq/data/misc-images/modes");
    let (orig, _, _) = hash_file(&modes.join("original.jpg"));
    let mut names: Vec<_> = std::fs::read_dir(&modes)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    names.sort();
    assert!(names.len() >= 13);
    for name in names {
        let (h, q, facts) = hash_file(&modes.join(&name));
        let d = h.distance(&orig);
        println!(
            "{name:>12}: {d:3} bits from original, q {q}, {:?}",
            facts.format
        );
        assert!(d <= 10, "{name}: {d} bits from the original");
        assert_eq!(q, 100, "{name}");
    }
}

#[test]
#[ignore = "needs ../shared conformance data (or $SAMARITAN_SHARED); run with --include-ignored"]
fn pytx_examples() {
    let Some(shared) = samaritan_testkit::shared_dir("pytx_examples") else {
        return;
    };
    let dir = shared.join("conformance/pdq");
    for (image, want, want_q) in expected(&dir, "pytx_test") {
        let (got, q, _) = hash_file(&dir.join(&image));
        println!(
            "{:3} bits q {q} (pytx {want_q:?}) {image}",
            got.distance(&want)
        );
    }
}
