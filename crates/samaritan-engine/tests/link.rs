//! Linker behaviour end to end: identifiers, templates, the hub guard, features, saved state
//! and hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use samaritan_engine::link::{IdentKind, LinkConfig, LinkInput, Linker};
use samaritan_engine::linked::{LinkReady, LinkRecord, LinkedState, RecordError};
use samaritan_engine::similar::fingerprint;

const DAY: i64 = 86_400;

fn ad(id: &str, text: &str) -> LinkInput {
    LinkInput {
        id: id.into(),
        fingerprint: fingerprint(text),
        ..Default::default()
    }
}

fn with(mut a: LinkInput, f: impl FnOnce(&mut LinkInput)) -> LinkInput {
    f(&mut a);
    a
}

fn network_ids(l: &Linker) -> Vec<Vec<String>> {
    l.networks().map(|n| n.members).collect()
}

#[test]
fn shared_phone_links_and_unrelated_ads_stay_apart() {
    let mut l = Linker::default();
    l.insert(with(ad("a", "quiet room for rent near campus"), |a| {
        a.phones = vec!["2025550143".into()]
    }))
    .unwrap();
    l.insert(with(ad("b", "used bicycle for sale, good tires"), |a| {
        a.phones = vec!["2025550143".into()]
    }))
    .unwrap();
    l.insert(with(ad("c", "piano lessons for beginners"), |a| {
        a.phones = vec!["2025550199".into()]
    }))
    .unwrap();
    let nets = network_ids(&l);
    assert_eq!(nets, vec![vec!["a".to_string(), "b".to_string()]]);
    let n = l.network_of("b").unwrap();
    assert_eq!(n.reasons, vec!["phone"]);
    assert_eq!(n.evidence[0].value, "2025550143");
    assert_eq!(n.reference().size, 2);
    assert!(l.network_of("c").is_none());
    assert!(l.network_of("nope").is_none());
}

#[test]
fn template_links_long_near_duplicates_but_not_short_ones() {
    let mut l = Linker::default();
    let long = "Warehouse team hiring now in {}, day and night shifts, weekly pay, benefits after ninety days, apply at the front desk";
    for (i, c) in ["Reno", "Boise", "Tulsa"].iter().enumerate() {
        l.insert(ad(&format!("w{i}"), &long.replace("{}", c)))
            .unwrap();
    }
    l.insert(ad("s1", "call me now")).unwrap();
    l.insert(ad("s2", "call me now")).unwrap();
    let nets = l.networks().collect::<Vec<_>>();
    assert_eq!(nets.len(), 1);
    assert_eq!(nets[0].members, vec!["w0", "w1", "w2"]);
    assert_eq!(nets[0].reasons, vec!["template"]);
    let t = l.template_of("w1").unwrap();
    assert_eq!(t.slots, 1);
    assert!(t.text.contains("hiring now in {} day"), "{}", t.text);
    assert!(
        l.template_of("s1").is_some(),
        "short ads still get a template"
    );
    assert!(l.network_of("s1").is_none(), "but no network");
    let diff = l.template_diff("w2").unwrap();
    assert!(format!("{diff:?}").contains("tulsa"));
}

#[test]
fn hub_guard_splits_a_shared_support_line() {
    let mut l = Linker::default();
    // Twelve unrelated posters, each with an own phone, all listing the platform's line too.
    for i in 0..12 {
        l.insert(with(
            ad(&format!("p{i}"), &format!("item number {i} for sale")),
            |a| {
                a.phones = vec![format!("20255501{i:02}"), "8005550100".into()];
            },
        ))
        .unwrap();
    }
    // One poster with two ads (own phone shared).
    l.insert(with(ad("p0b", "another item"), |a| {
        a.phones = vec!["2025550100".into()]
    }))
    .unwrap();
    let nets: Vec<_> = l.networks().collect();
    assert_eq!(
        nets.len(),
        1,
        "{:?}",
        nets.iter()
            .map(|n| (&n.members, &n.reasons))
            .collect::<Vec<_>>()
    );
    assert_eq!(nets[0].members, vec!["p0", "p0b"]);
    let phone = nets[0]
        .guarded
        .iter()
        .find(|g| g.kind == IdentKind::Phone)
        .unwrap();
    assert_eq!(phone.value, "8005550100");
    assert!(phone.reason.contains("shared by many posters"));
    // The short shared wording is also withdrawn (twelve posters with phones of their own).
    assert!(
        nets[0]
            .guarded
            .iter()
            .any(|g| g.kind == IdentKind::Template)
    );
    // After the guard, new ads with the line do not join anything.
    l.insert(with(ad("late", "late ad"), |a| {
        a.phones = vec!["2025559999".into(), "8005550100".into()]
    }))
    .unwrap();
    assert!(l.network_of("late").is_none());
}

#[test]
fn rotating_phones_across_cities_make_one_moving_network() {
    let mut l = Linker::default();
    let phones = [
        "3125550101",
        "3125550102",
        "3125550101",
        "3125550102",
        "3125550103",
    ];
    let cities = ["Reno", "Boise", "Tulsa", "Omaha", "Fresno"];
    for i in 0..5 {
        let p = phones[i].to_string();
        let q = phones[(i + 1) % 5].to_string();
        l.insert(with(ad(&format!("t{i}"), &format!("text {i}")), |a| {
            a.phones = vec![p, q];
            a.city = Some(cities[i].into());
            a.posted_at = Some(i as i64 * 2 * DAY);
            a.account = Some(format!("acct{i}"));
            a.names = vec![format!("Name{i}")];
        }))
        .unwrap();
    }
    let n = l.network_of("t0").unwrap();
    let f = &n.features;
    assert_eq!(f.size, 5);
    assert_eq!(f.cities, 5);
    assert_eq!(f.names, 5);
    assert_eq!(f.accounts, 5);
    assert_eq!(f.phones, 3);
    assert!(f.phone_max_cities_within(14.0) >= 3);
    assert!(!f.single_poster_shape());
}

#[test]
fn benign_company_has_the_single_poster_shape() {
    let mut l = Linker::default();
    let text = "Acme Movers is hiring drivers and helpers in {}, paid training, apply online at our careers page or call the recruiting line";
    for (i, c) in ["Reno", "Boise", "Tulsa", "Omaha", "Fresno", "Austin"]
        .iter()
        .enumerate()
    {
        l.insert(with(ad(&format!("c{i}"), &text.replace("{}", c)), |a| {
            a.phones = vec!["8005550123".into()];
            a.account = Some("acme".into());
            a.city = Some((*c).into());
            a.posted_at = Some(i as i64 * DAY);
        }))
        .unwrap();
    }
    let n = l.network_of("c3").unwrap();
    assert_eq!(n.features.size, 6);
    assert_eq!(n.features.cities, 6);
    assert!(n.features.single_poster_shape());
    assert_eq!(n.reasons, vec!["phone", "account", "template"]);
}

#[test]
fn duplicates_are_idempotent() {
    let mut l = Linker::default();
    let a = l
        .insert(ad("x", "hello there friends of the park"))
        .unwrap();
    let b = l.insert(ad("x", "different text")).unwrap();
    assert!(!a.duplicate);
    assert!(b.duplicate);
    assert_eq!(a.index, b.index);
    assert_eq!(l.len(), 1);
}

#[test]
fn hostile_input_is_refused_and_changes_nothing() {
    let mut l = Linker::default();
    let cases: Vec<(LinkInput, &str)> = vec![
        (ad("", "x"), "empty"),
        (ad(&"x".repeat(300), "x"), "limit"),
        (ad("a\u{0}b", "x"), "control"),
        (
            with(ad("p", "x"), |a| a.phones = vec!["555-0100".into()]),
            "digits",
        ),
        (
            with(ad("p", "x"), |a| a.emails = vec!["".into()]),
            "empty value",
        ),
        (
            with(ad("p", "x"), |a| a.account = Some("a".repeat(600))),
            "bytes",
        ),
        (
            with(ad("p", "x"), |a| a.handles = vec!["h".into(); 300]),
            "values",
        ),
        (
            with(ad("p", "x"), |a| a.fingerprint.bands = vec![1, 2, 3]),
            "band keys",
        ),
        (
            with(ad("p", "x"), |a| a.fingerprint.words = "w ".repeat(1000)),
            "tokens",
        ),
        (
            with(ad("p", "x"), |a| a.fingerprint.hashes.clear()),
            "token hashes",
        ),
    ];
    for (input, want) in cases {
        let err = l.insert(input).unwrap_err().to_string();
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(l.is_empty());
}

fn corpus() -> Vec<LinkInput> {
    let mut out = Vec::new();
    let tpl = "Friendly team looking for help with {} this week, flexible schedule, fair pay, message for details and availability";
    for i in 0..40 {
        let text = if i % 3 == 0 {
            tpl.replace("{}", &format!("task {i}"))
        } else {
            format!("unique listing {i} with words {} and {}", i * 7, i * 13)
        };
        out.push(with(ad(&format!("r{i}"), &text), |a| {
            if i % 5 == 0 {
                a.phones = vec![format!("41555501{:02}", i % 4)];
            }
            if i % 7 == 0 {
                a.account = Some(format!("u{}", i % 2));
            }
            a.city = Some(format!("City{}", i % 6));
            a.posted_at = Some(i as i64 * DAY / 2);
        }));
    }
    out
}

/// Links `inputs` through the pipeline's state, keeping each ad's record.
fn link_all(state: &mut LinkedState, inputs: &[LinkInput]) -> Vec<LinkRecord> {
    inputs
        .iter()
        .map(|a| {
            let mut ready = LinkReady::from_input(a.clone());
            let record = LinkRecord::of(&ready, Vec::new());
            let lookups = state.lookup(&ready);
            let as_of = state.photos_known();
            assert!(state.link(&mut ready, &lookups, as_of).is_ok());
            record
        })
        .collect()
}

#[test]
fn replayed_records_restore_exactly_and_keep_going() {
    let inputs = corpus();
    let mut all = LinkedState::new(LinkConfig::default());
    link_all(&mut all, &inputs);
    let mut half = LinkedState::new(LinkConfig::default());
    let records = link_all(&mut half, &inputs[..20]);
    // Stored as JSON, read back, replayed in order.
    let mut restored = LinkedState::new(LinkConfig::default());
    for r in &records {
        let back = LinkRecord::from_json(&r.to_json()).unwrap();
        assert_eq!(&back, r);
        assert!(restored.replay(&back).is_ok());
    }
    let nets = |s: &LinkedState| s.linker().networks().collect::<Vec<_>>();
    assert_eq!(nets(&restored), nets(&half));
    link_all(&mut restored, &inputs[20..]);
    assert_eq!(nets(&restored), nets(&all));
    assert_eq!(restored.template_of("r39"), all.template_of("r39"));
    assert!(!nets(&all).is_empty());
}

#[test]
fn damaged_records_are_refused() {
    let mut state = LinkedState::new(LinkConfig::default());
    let records = link_all(&mut state, &corpus()[..2]);
    let mut r = records[0].clone();
    r.format = 99;
    assert!(matches!(
        LinkRecord::from_json(&r.to_json()),
        Err(RecordError::Format(99))
    ));
    assert!(matches!(
        LinkRecord::from_json(b"{\"format\":1}"),
        Err(RecordError::Json(_))
    ));
    assert!(LinkRecord::from_json(b"not json").is_err());
    // A record of an id seen before changes nothing.
    let before = state.linker().networks().collect::<Vec<_>>();
    let _ = state.replay(&records[0]);
    assert_eq!(state.linker().networks().collect::<Vec<_>>(), before);
}

#[test]
fn deterministic_across_runs() {
    let run = || {
        let mut l = Linker::default();
        for a in corpus() {
            l.insert(a).unwrap();
        }
        serde_json::to_string(&l.networks().collect::<Vec<_>>()).unwrap()
    };
    assert_eq!(run(), run());
}
