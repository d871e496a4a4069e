//! Nothing acknowledged is lost: SIGKILL the real server in the middle of a 10 000-ad load,
//! restart it, and show that every ad it answered 2xx for is there, and no ad is there twice.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{Client, Server, ad_json, make_key};

const ADS: usize = 10_000;

/// Requests of 1 to 20 ads, mixed, over the whole load.
fn requests() -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut k = 0;
    while i < ADS {
        let n = [1, 20, 5, 1, 10][k % 5].min(ADS - i);
        out.push((i..i + n).collect());
        i += n;
        k += 1;
    }
    out
}

fn body(ids: &[usize]) -> String {
    if ids.len() == 1 {
        ad_json(ids[0])
    } else {
        format!(
            "[{}]",
            ids.iter()
                .map(|&i| ad_json(i))
                .collect::<Vec<_>>()
                .join(",")
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_ads_survive_sigkill_and_none_is_stored_twice() {
    let dir = tempfile::tempdir().unwrap();
    let key = make_key(dir.path(), "ingest,review,audit");
    let server = Arc::new(Mutex::new(Server::start(dir.path())));
    let addr = server.lock().unwrap().addr.clone();

    let reqs = Arc::new(requests());
    let next = Arc::new(AtomicUsize::new(0));
    let acked: Arc<Mutex<HashSet<usize>>> = Arc::default();
    let killed = Arc::new(AtomicBool::new(false));
    let kill_at = ADS * 3 / 10;

    let mut workers = Vec::new();
    for _ in 0..16 {
        let (reqs, next, acked, killed, server) = (
            reqs.clone(),
            next.clone(),
            acked.clone(),
            killed.clone(),
            server.clone(),
        );
        let (addr, key) = (addr.clone(), key.clone());
        workers.push(tokio::spawn(async move {
            let Ok(mut client) = Client::connect(&addr, &key).await else {
                return;
            };
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(ids) = reqs.get(i) else { return };
                match client.send("POST", "/v1/ads", body(ids)).await {
                    Ok((200, text)) => {
                        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                        let results = v["results"].as_array().unwrap();
                        assert_eq!(results.len(), ids.len());
                        let mut acked = acked.lock().unwrap();
                        for (r, &id) in results.iter().zip(ids) {
                            assert_eq!(r["id"], format!("dur-{id:05}"));
                            acked.insert(id);
                        }
                        if acked.len() >= kill_at && !killed.swap(true, Ordering::SeqCst) {
                            server.lock().unwrap().kill();
                        }
                    }
                    Ok((status, text)) => panic!("unexpected {status}: {text}"),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    assert!(
        killed.load(Ordering::SeqCst),
        "the load finished before the kill"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= kill_at && acked.len() < ADS,
        "killed mid-load: {} acknowledged",
        acked.len()
    );

    // Restart on the same data and send everything again: every acknowledged ad must already
    // be there with the same content (`unchanged`), never created a second time.
    let mut server2 = Server::start(dir.path());
    let mut client = Client::connect(&server2.addr, &key).await.unwrap();
    let mut statuses = std::collections::HashMap::new();
    for chunk in (0..ADS).collect::<Vec<_>>().chunks(500) {
        let (status, text) = client.send("POST", "/v1/ads", body(chunk)).await.unwrap();
        assert_eq!(status, 200, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (r, &id) in v["results"].as_array().unwrap().iter().zip(chunk) {
            let s = r["status"].as_str().unwrap().to_owned();
            if acked.contains(&id) {
                assert_eq!(s, "unchanged", "acknowledged ad {id} was lost");
            }
            *statuses.entry(s).or_insert(0) += 1;
        }
    }
    assert_eq!(statuses.get("updated"), None, "{statuses:?}");
    server2.stop();

    let store = samaritan_store::Store::open_sqlite(dir.path())
        .await
        .unwrap();
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.ads as usize, ADS, "every ad once");
    assert_eq!(
        stats.analyses as usize, ADS,
        "no ad analysed and stored twice"
    );
    let report = store.audit_verify().await.unwrap();
    assert!(report.ok(), "{report:?}");
    eprintln!(
        "durability: {} of {ADS} acknowledged before SIGKILL; all present after restart; {statuses:?} on re-send",
        acked.len()
    );
}
