use std::collections::{HashMap, HashSet};

use super::*;

fn corpus(n: u64, seed: u64, phrasing: Phrasing) -> Vec<(Ad, Truth)> {
    Corpus::new(Config {
        ads: n,
        seed,
        phrasing,
        ..Config::default()
    })
    .iter()
    .collect()
}

#[test]
fn same_seed_same_corpus_other_seed_other_corpus() {
    let a = corpus(500, 3, Phrasing::Main);
    let b = corpus(500, 3, Phrasing::Main);
    assert_eq!(a, b);
    let c = corpus(500, 4, Phrasing::Main);
    assert_ne!(a, c);
}

#[test]
fn random_access_matches_iteration() {
    let c = Corpus::new(Config {
        ads: 300,
        seed: 8,
        ..Config::default()
    });
    let all: Vec<_> = c.iter().collect();
    for i in [0, 17, 299] {
        assert_eq!(c.ad(i), all[i]);
    }
}

#[test]
fn every_template_expands_in_both_phrasings() {
    // Many seeds so that every alternative, list and slot is exercised at least once.
    for phrasing in [Phrasing::Main, Phrasing::Holdout] {
        for seed in 0..4 {
            let ads = corpus(3000, seed, phrasing);
            assert_eq!(ads.len(), 3000);
            for (ad, _) in &ads {
                let text = ad.document();
                assert!(
                    !text.contains('{') && !text.contains('}'),
                    "unexpanded: {text}"
                );
                assert!(!text.contains("  "), "double space: {text:?}");
            }
        }
    }
}

#[test]
fn corpus_covers_categories_labels_and_hard_negatives() {
    let ads = corpus(20_000, 1, Phrasing::Main);
    let cats: HashSet<&str> = ads.iter().map(|(_, t)| t.category).collect();
    for c in [
        "jobs",
        "housing",
        "goods",
        "services",
        "community",
        "dating",
        "pets",
        "adult",
    ] {
        assert!(cats.contains(c), "missing category {c}");
    }
    let hard = ads.iter().filter(|(_, t)| t.hard_negative).count();
    assert!(hard > 500, "{hard} hard negatives");
    assert!(ads.iter().all(|(_, t)| !t.hard_negative || t.label == 0));
    let obfuscated = ads
        .iter()
        .filter(|(_, t)| t.label == 2 && t.obfuscated_phone)
        .count();
    let label2 = ads.iter().filter(|(_, t)| t.label == 2).count();
    assert!(obfuscated * 3 > label2, "{obfuscated} of {label2}");
    let youth = ads
        .iter()
        .filter(|(_, t)| t.cues.contains(&"youth"))
        .count();
    assert!(youth > 200);
}

#[test]
fn networks_share_phones_move_and_multi_city_companies_exist() {
    let ads = corpus(20_000, 2, Phrasing::Main);
    let mut nets: HashMap<&str, Vec<&Truth>> = HashMap::new();
    for (_, t) in &ads {
        if let Some(n) = &t.network {
            nets.entry(n).or_default().push(t);
        }
    }
    let multi_city = |ts: &Vec<&Truth>| ts.iter().map(|t| &t.city).collect::<HashSet<_>>().len();
    let trafficking_movers = nets
        .values()
        .filter(|ts| ts[0].poster == "trafficking" && multi_city(ts) >= 3)
        .count();
    assert!(trafficking_movers > 10, "{trafficking_movers}");
    let companies = nets
        .values()
        .filter(|ts| ts[0].poster == "company" && multi_city(ts) >= 3)
        .count();
    assert!(companies > 5, "{companies}");
    // A company uses one recruiting line across cities.
    for ts in nets.values().filter(|ts| ts[0].poster == "company") {
        let phones: HashSet<&String> = ts.iter().flat_map(|t| &t.phones).collect();
        assert!(phones.len() <= 1);
    }
}

#[test]
fn phones_are_fictional() {
    for (_, t) in corpus(5000, 5, Phrasing::Main) {
        for p in &t.phones {
            let ok = (p.len() == 10 && &p[3..6] == "555") || p.starts_with("447700900");
            assert!(ok, "{p}");
        }
    }
}

#[test]
fn plain_phones_appear_verbatim_in_the_text() {
    // Read back plain renderings: the truth must never claim a phone the text does not hold.
    for (ad, t) in corpus(5000, 6, Phrasing::Main) {
        if t.obfuscated_phone {
            continue;
        }
        let digits: String = ad.document().chars().filter(char::is_ascii_digit).collect();
        for p in &t.phones {
            let national = if p.len() == 10 { p.as_str() } else { &p[2..] };
            assert!(digits.contains(national), "{p} not in {:?}", ad.document());
        }
    }
}

#[test]
fn text_stays_clinical() {
    // Fixtures must carry no explicit sexual content; this list guards the phrase banks.
    const DENY: &[&str] = &[
        "nude", "naked", "porn", "blowjob", "anal", "oral", "fetish", "bbbj", "gfe", "pse",
    ];
    for (ad, _) in
        corpus(5000, 7, Phrasing::Main)
            .into_iter()
            .chain(corpus(5000, 7, Phrasing::Holdout))
    {
        let words: Vec<String> = ad
            .document()
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .map(str::to_owned)
            .collect();
        for d in DENY {
            assert!(!words.iter().any(|w| w == d), "{d} in {}", ad.document());
        }
    }
}

#[test]
fn accounts_and_phones_are_never_shared_between_posters() {
    let ads = corpus(50_000, 3, Phrasing::Main);
    let mut owner: HashMap<String, String> = HashMap::new();
    for (ad, t) in &ads {
        let poster = t.network.clone().unwrap_or_else(|| t.id.clone());
        for key in ad
            .account
            .iter()
            .map(|a| format!("a:{a}"))
            .chain(t.phones.iter().map(|p| format!("p:{p}")))
        {
            let prev = owner.entry(key.clone()).or_insert_with(|| poster.clone());
            assert_eq!(*prev, poster, "{key} shared by two posters");
        }
    }
}

#[test]
fn blind_banks_generate_every_label_with_truth() {
    for name in bank::blind::NAMES {
        let ads = corpus(4000, 2, Phrasing::Blind(name));
        let mut labels = [0usize; 3];
        let (mut hard, mut others, mut ages) = (0, 0, 0);
        for (ad, t) in &ads {
            labels[usize::from(t.label)] += 1;
            hard += usize::from(t.hard_negative);
            others += t.other_ages.len();
            ages += t.ages.len();
            // children's ages are never the advertised person's, and never in commercial ads
            assert!(t.label == 0 || t.other_ages.is_empty(), "{name}: {}", t.id);
            let text = ad.document();
            assert!(!text.contains("{="), "{name}: unfilled slot in {}", t.id);
        }
        assert!(labels.iter().all(|&n| n > 100), "{name}: {labels:?}");
        assert!(hard > 100, "{name}: {hard} hard negatives");
        assert!(
            others > 10 && ages > 100,
            "{name}: {others} others, {ages} ages"
        );
    }
}

#[test]
fn a_sitters_children_are_other_ages_and_a_minimum_is_no_age() {
    let ads = corpus(20_000, 1, Phrasing::Main);
    let kids = ads
        .iter()
        .filter(|(ad, _)| ad.document().contains("kids ages"))
        .count();
    assert!(kids > 0);
    for (ad, t) in &ads {
        let doc = ad.document();
        if doc.contains("kids ages") {
            assert!(!t.other_ages.is_empty(), "{doc}");
        }
        if doc.contains("Must be 18 or older") {
            assert!(!t.ages.contains(&18) || t.label != 0, "{doc}");
        }
    }
}
