//! Phone and age extraction on the synthetic corpus (`samaritan-synth`), whose phones and ages
//! are written in every obfuscated form it knows: the bars of issue 3 (phones P and R ≥ 0.99,
//! ages ≥ 0.97).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use samaritan_engine::extract::{ExtractOptions, extract};
use samaritan_engine::normalize;
use samaritan_synth::{Config, Corpus};

#[derive(Default, Debug)]
struct Set {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Set {
    fn add<T: PartialEq>(&mut self, got: &[T], want: &[T]) {
        let tp = got.iter().filter(|g| want.contains(g)).count();
        self.tp += tp;
        self.fp += got.len() - tp;
        self.fn_ += want.iter().filter(|w| !got.contains(w)).count();
    }
    fn p(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn r(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
}

#[test]
fn synth_bars() {
    let corpus = Corpus::new(Config {
        ads: 4000,
        seed: 7,
        images: false,
        ..Config::default()
    });
    let (mut phones, mut ages) = (Set::default(), Set::default());
    let verbose = std::env::var_os("SYNTH_VERBOSE").is_some();
    for (ad, truth) in corpus.iter() {
        let doc = ad.document();
        let norm = normalize(&doc);
        let opts = ExtractOptions::default();
        let e = extract(&doc, &norm, &opts).extracted();
        let mut want_ages = truth.ages.clone();
        want_ages.dedup();
        if verbose
            && (e.phones.iter().any(|p| !truth.phones.contains(p))
                || truth.phones.iter().any(|p| !e.phones.contains(p)))
        {
            println!(
                "PHONE want {:?} got {:?}\n   {:?}",
                truth.phones, e.phones, norm.text
            );
        }
        if verbose
            && (e.ages.iter().any(|p| !want_ages.contains(p))
                || want_ages.iter().any(|p| !e.ages.contains(p)))
        {
            println!(
                "AGE want {:?} got {:?}\n   {:?}",
                want_ages, e.ages, norm.text
            );
        }
        phones.add(&e.phones, &truth.phones);
        ages.add(&e.ages, &want_ages);
    }
    eprintln!(
        "synth phones: P {:.4} R {:.4} {phones:?}",
        phones.p(),
        phones.r()
    );
    eprintln!("synth ages:   P {:.4} R {:.4} {ages:?}", ages.p(), ages.r());
    assert!(
        phones.p() >= 0.99 && phones.r() >= 0.99,
        "phones P {:.4} R {:.4}",
        phones.p(),
        phones.r()
    );
    assert!(
        ages.p() >= 0.97 && ages.r() >= 0.97,
        "ages P {:.4} R {:.4}",
        ages.p(),
        ages.r()
    );
}
