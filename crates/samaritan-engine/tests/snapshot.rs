//! A linked state saved as a snapshot and loaded back links the next ads exactly as the state
//! that was saved, and equals one built from scratch over the same ads (issue 24, point 3).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::Arc;

use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::link::LinkConfig;
use samaritan_engine::linked::{Jobs, LinkReady, LinkedState, SNAPSHOT_FORMAT, SnapshotError};
use samaritan_engine::model::Ad;
use samaritan_engine::pipeline::ImageResults;
use samaritan_engine::policy::{DEFAULT_POLICY, Policy};
use samaritan_synth::{Config, Corpus};

struct World {
    engine: Engine,
    ads: Vec<Ad>,
}

fn world(n: u64) -> World {
    let engine = Engine::new(
        Arc::new(Policy::from_toml(DEFAULT_POLICY).unwrap()),
        ExtractOptions::default(),
    );
    let corpus = Corpus::new(Config {
        ads: n,
        seed: 11,
        images: false,
        ..Config::default()
    });
    let ads = corpus.iter().map(|(ad, _)| ad).collect();
    World { engine, ads }
}

fn link(state: &mut LinkedState, w: &World, ads: &[Ad]) {
    let config = LinkConfig::default();
    for ad in ads {
        let mut r: LinkReady = w.engine.prepare_linked(ad, None, &config);
        let lookups = state.lookup(&r);
        let as_of = state.photos_known();
        let _ = state.link(&mut r, &lookups, as_of);
    }
}

/// Everything a caller reads from the state: networks with their members and evidence, each
/// ad's template, and the policy contexts of the networks.
fn observe(state: &LinkedState, engine: &Engine, ids: &[String]) -> String {
    let nets: Vec<_> = state.linker().networks().collect();
    let templates: Vec<_> = ids.iter().map(|id| state.template_of(id)).collect();
    let contexts = state.networks_of(ids.iter().map(String::as_str), engine.policy());
    let ctx: Vec<_> = ids
        .iter()
        .map(|id| {
            let c = contexts.context(id, None, ImageResults::default());
            format!("{:?}", c.network_context_share)
        })
        .collect();
    format!("{nets:?}\n{templates:?}\n{ctx:?}")
}

#[test]
fn a_restored_snapshot_links_on_exactly_like_the_saved_state_and_a_fresh_one() {
    let w = world(4000);
    let engine = &w.engine;
    let all = &w.ads;
    let ids: Vec<String> = all.iter().map(|a| a.id.clone()).collect();
    let mut scratch = LinkedState::new(LinkConfig::default());
    link(&mut scratch, &w, all);
    let want = observe(&scratch, engine, &ids);
    assert!(scratch.linker().networks().count() > 10, "the corpus links");

    for cut in [1, 1500, 3999] {
        let mut saved = LinkedState::new(LinkConfig::default());
        link(&mut saved, &w, &all[..cut]);
        let bytes = saved.to_snapshot().unwrap();
        let mut restored = LinkedState::from_snapshot(&bytes, &LinkConfig::default()).unwrap();
        assert_eq!(
            observe(&restored, engine, &ids[..cut]),
            observe(&saved, engine, &ids[..cut]),
            "as saved at {cut}"
        );
        link(&mut restored, &w, &all[cut..]);
        assert_eq!(
            observe(&restored, engine, &ids),
            want,
            "linked on from {cut}"
        );
        // Saving the restored state again gives a snapshot that loads to the same state.
        let again =
            LinkedState::from_snapshot(&restored.to_snapshot().unwrap(), &LinkConfig::default())
                .unwrap();
        assert_eq!(observe(&again, engine, &ids), want);
    }
}

/// Runs the jobs on two threads, each taking every other job.
fn on_two_threads(jobs: Jobs<'_>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (i, j) in jobs.into_iter().enumerate() {
        if i % 2 == 0 { a.push(j) } else { b.push(j) }
    }
    std::thread::scope(|s| {
        s.spawn(move || a.into_iter().for_each(|j| j()));
        b.into_iter().for_each(|j| j());
    });
}

#[test]
fn parts_read_and_written_on_several_threads_give_the_same_state() {
    let w = world(1500);
    let ids: Vec<String> = w.ads.iter().map(|a| a.id.clone()).collect();
    let mut state = LinkedState::new(LinkConfig::default());
    link(&mut state, &w, &w.ads[..1000]);
    let bytes = state.to_snapshot().unwrap();
    let parallel = state.snapshot_copy().encode_with(&on_two_threads).unwrap();
    assert_eq!(parallel, bytes, "the same bytes, whoever wrote the parts");
    let mut one = LinkedState::from_snapshot(&bytes, &LinkConfig::default()).unwrap();
    let mut two =
        LinkedState::from_snapshot_with(&bytes, &LinkConfig::default(), &on_two_threads).unwrap();
    assert_eq!(
        observe(&two, &w.engine, &ids),
        observe(&one, &w.engine, &ids)
    );
    link(&mut one, &w, &w.ads[1000..]);
    link(&mut two, &w, &w.ads[1000..]);
    assert_eq!(
        observe(&two, &w.engine, &ids),
        observe(&one, &w.engine, &ids)
    );
    assert_eq!(two.to_snapshot().unwrap(), one.to_snapshot().unwrap());
}

#[test]
fn snapshots_of_another_format_configuration_or_damaged_are_refused() {
    let w = world(200);
    let mut state = LinkedState::new(LinkConfig::default());
    link(&mut state, &w, &w.ads);
    let bytes = state.to_snapshot().unwrap();
    // The format is the first value (a varint): another format is named.
    let mut other = bytes.clone();
    other[0] = (SNAPSHOT_FORMAT + 1) as u8;
    assert!(matches!(
        LinkedState::from_snapshot(&other, &LinkConfig::default()),
        Err(SnapshotError::Format(f)) if f == SNAPSHOT_FORMAT + 1
    ));
    let mut config = LinkConfig::default();
    config.min_template_link_tokens += 1;
    assert!(matches!(
        LinkedState::from_snapshot(&bytes, &config),
        Err(SnapshotError::Config)
    ));
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            LinkedState::from_snapshot(&bytes[..cut], &LinkConfig::default()).is_err(),
            "cut at {cut}"
        );
    }
    assert!(LinkedState::from_snapshot(b"\x01garbage", &LinkConfig::default()).is_err());
    // A snapshot of format 1 (the whole state as in memory) is refused by name.
    let mut one = postcard::to_stdvec(&1u32).unwrap();
    one.extend_from_slice(&bytes[1..]);
    assert!(matches!(
        LinkedState::from_snapshot(&one, &LinkConfig::default()),
        Err(SnapshotError::Format(1))
    ));
    // Damaged bytes inside the parts: an error or a state, never a panic.
    for at in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5a;
        let _ = LinkedState::from_snapshot(&damaged, &LinkConfig::default());
    }
}
