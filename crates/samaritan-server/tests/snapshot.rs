//! The linker's snapshot in the service (issue 24, point 3): a restart loads it and replays only
//! the records made after it, and ends where a replay of every record ends; a snapshot the
//! store's records do not back, or a damaged one, is not used (every record is replayed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::{EngineAnalyzer, LINK_KIND, Limits, Restored, SNAPSHOT_KIND};
use samaritan_store::{Scope, Store};
use tower::ServiceExt;

async fn service(store: &Store) -> (axum::Router, Arc<EngineAnalyzer>, Restored) {
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let restored = analyzer.restore_from(store).await.unwrap();
    let limits = Limits {
        rate_per_sec: 0.0,
        ..Limits::default()
    };
    let state = samaritan_server::AppState::new(store.clone(), analyzer.clone(), limits);
    samaritan_server::save_networks(&state).await.unwrap();
    (samaritan_server::router(state), analyzer, restored)
}

/// Ad `i`: one of a few templates with its own slot words; most share a fictional phone with
/// others (networks), some have none (alone unless their wording links them).
fn ad(i: usize) -> samaritan_engine::model::Ad {
    const CITIES: [&str; 5] = ["Reno", "Sparks", "Carson City", "Elko", "Fallon"];
    const TEMPLATES: [&str; 4] = [
        "Friendly {w} offering house cleaning in {c}, weekly or monthly visits, supplies included, references on request",
        "Used {w} for sale in good condition, pick up only in {c}, cash or transfer, no holds",
        "Tutoring in {w} for high school students near {c}, evenings and weekends, first lesson free",
        "Moving help with a {w} truck around {c}, two people, hourly rate, short notice is fine",
    ];
    let words = [
        "garden",
        "bicycle",
        "algebra",
        "chemistry",
        "oak",
        "maple",
        "spanish",
        "piano",
    ];
    let mut body = TEMPLATES[i % 4]
        .replace("{w}", words[(i / 4) % words.len()])
        .replace("{c}", CITIES[i % 5]);
    if !i.is_multiple_of(7) {
        body.push_str(&format!(" Call 775-555-01{:02}.", i % 45));
    }
    serde_json::from_value(serde_json::json!({
        "id": format!("s-{i:04}"),
        "body": body,
        "location": {"city": CITIES[i % 5]},
    }))
    .unwrap()
}

async fn post(app: &axum::Router, key: &str, ads: &[samaritan_engine::model::Ad]) {
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/v1/ads")
                .header("authorization", format!("Bearer {key}"))
                .body(Body::from(serde_json::to_string(ads).unwrap()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Every ad's network and template as the analyzer sees them.
fn seen(a: &EngineAnalyzer, ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            format!(
                "{id} {:?} {:?}",
                a.network_of(id),
                samaritan_server::Analyzer::template_diff(a, id)
            )
        })
        .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

/// The network memberships the store holds, sorted.
async fn memberships(store: &Store) -> Vec<(String, String)> {
    sorted(store.network_memberships().await.unwrap())
}

#[tokio::test]
async fn a_restart_loads_the_snapshot_and_replays_only_what_came_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let key = store
        .create_key("t", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let ads: Vec<_> = (0..900).map(ad).collect();
    let ids: Vec<String> = ads.iter().map(|a| a.id.clone()).collect();

    let (app, analyzer, restored) = service(&store).await;
    assert_eq!(restored.snapshot, None);
    for batch in ads[..600].chunks(200) {
        post(&app, &key, batch).await;
    }
    let snap = analyzer.save_snapshot(&store).await.unwrap();
    assert_eq!((snap.seq, snap.ads), (600, 600));
    for batch in ads[600..].chunks(150) {
        post(&app, &key, batch).await;
    }
    let before = seen(&analyzer, &ids);
    assert!(before.iter().filter(|s| s.contains("Some(Network")).count() > 100);
    let stored_before = memberships(&store).await;
    drop((app, analyzer));

    // Snapshot + the 300 records after it = where the service stopped.
    let (_, analyzer, restored) = service(&store).await;
    assert_eq!(restored.snapshot.map(|s| s.seq), Some(600));
    assert_eq!(restored.replayed, 300);
    assert_eq!(analyzer.linked_ads(), 900);
    assert_eq!(seen(&analyzer, &ids), before);
    assert_eq!(analyzer.link_records(), 900);
    // Only the replayed ads' networks were checked at start, and the store's networks are
    // still those of every ad's linker (as a check of every network would leave them).
    assert_eq!(memberships(&store).await, stored_before);
    let linker_view: Vec<(String, String)> = ids
        .iter()
        .filter_map(|id| analyzer.network_of(id).map(|n| (id.clone(), n.id)))
        .collect();
    assert_eq!(memberships(&store).await, sorted(linker_view));
    drop(analyzer);

    // A snapshot covering a record the store lacks is not used: every record is replayed.
    let gone = format!("{:020}", 10);
    store.delete_link_state(LINK_KIND, &[&gone]).await.unwrap();
    let (_, analyzer, restored) = service(&store).await;
    assert_eq!(restored.snapshot, None);
    assert_eq!(restored.replayed, 899);
    assert_eq!(analyzer.linked_ads(), 899);
    drop(analyzer);

    // A fresh snapshot of all 899, then one of its parts damaged: not used either.
    let (_, analyzer, _) = service(&store).await;
    analyzer.save_snapshot(&store).await.unwrap();
    drop(analyzer);
    let (_, analyzer, restored) = service(&store).await;
    assert_eq!(restored.snapshot.map(|s| (s.seq, s.ads)), Some((900, 899)));
    assert_eq!(restored.replayed, 0);
    drop(analyzer);
    store
        .put_link_state(&[(SNAPSHOT_KIND, "part-00000000", b"not a snapshot")])
        .await
        .unwrap();
    let (_, analyzer, restored) = service(&store).await;
    assert_eq!(restored.snapshot, None);
    assert_eq!(restored.replayed, 899);
    let ids_left: Vec<String> = ids.iter().filter(|i| *i != &ids[10]).cloned().collect();
    assert_eq!(analyzer.linked_ads(), ids_left.len());
}
