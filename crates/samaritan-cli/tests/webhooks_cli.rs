//! Webhooks through a SIGKILL (issue 23): `serve` is killed while it delivers to a slow
//! receiver, then restarted; every event reaches the receiver, duplicates only with the same
//! `webhook-id` and body, and the events of each ad in their order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BIN, Client, Server, ad_json, make_key};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone)]
struct Got {
    id: String,
    body: String,
    answered: bool,
}

/// A receiver that answers 200 after `delay`, recording what arrived.
async fn receiver(delay: Duration) -> (String, Arc<Mutex<Vec<Got>>>) {
    let got: Arc<Mutex<Vec<Got>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let g = g.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (end, len) = loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..at]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (at + 4, len);
                    }
                };
                while buf.len() < end + len {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let id = head
                    .lines()
                    .find_map(|l| l.strip_prefix("webhook-id:"))
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                let body = String::from_utf8_lossy(&buf[end..end + len]).into_owned();
                let at = {
                    let mut v = g.lock().unwrap();
                    v.push(Got {
                        id,
                        body,
                        answered: false,
                    });
                    v.len() - 1
                };
                tokio::time::sleep(delay).await;
                if sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await
                    .is_ok()
                {
                    g.lock().unwrap()[at].answered = true;
                }
            });
        }
    });
    (url, got)
}

async fn pending(dir: &std::path::Path) -> (i64, Vec<(String, String)>) {
    let url = format!("sqlite://{}?mode=ro", dir.join("samaritan.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'delivered'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let events: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, COALESCE(ad_id, '') FROM webhook_outbox ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    (n, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_mid_delivery_loses_nothing_and_keeps_order_per_ad() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (url, got) = receiver(Duration::from_millis(150)).await;
    let added = Command::new(BIN)
        .args([
            "webhooks",
            "add",
            &url,
            "--events",
            "decision.*,report.*",
            "--allow-private",
            "--data-dir",
        ])
        .arg(d)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let secret = v["secret"].as_str().unwrap().to_owned();
    let key = make_key(d, "ingest,review");
    let flags = [
        "--webhooks-allow-private",
        "--webhook-retry-base-ms",
        "50",
        "--webhook-timeout-secs",
        "5",
    ];
    let mut server = Server::start_with_args(d, Some(&common::policy_file()), &flags);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    // Ten blocked ads, each reported: two events per ad (decision.created, report.opened).
    let ads: Vec<String> = (0..10).map(|i| ad_json(4 * i + 2)).collect();
    let (s, t) = c
        .send("POST", "/v1/ads", format!("[{}]", ads.join(",")))
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");
    let (s, t) = c
        .send("POST", "/v1/queue/claim", r#"{"limit":10}"#.into())
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");
    let claimed: serde_json::Value = serde_json::from_str(&t).unwrap();
    let ids: Vec<String> = claimed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ad_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 10, "{t}");
    for id in &ids {
        let (s, t) = c
            .send(
                "POST",
                &format!("/v1/ads/{id}/decision"),
                r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#.into(),
            )
            .await
            .unwrap();
        assert_eq!(s, 201, "{t}");
    }
    // Kill it while it is delivering (some events out, most not).
    let until = Instant::now() + Duration::from_secs(30);
    while got.lock().unwrap().len() < 4 {
        assert!(Instant::now() < until, "no delivery started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    let before = got.lock().unwrap().len();
    let (left, events) = pending(d).await;
    assert!(left > 0, "the kill came before the end");
    assert_eq!(events.len(), 20);
    // Restarted, it sends the rest.
    let _server = Server::start_with_args(d, Some(&common::policy_file()), &flags);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (left, _) = pending(d).await;
        if left == 0 {
            break;
        }
        assert!(Instant::now() < until, "{left} deliveries still pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = got.lock().unwrap().clone();
    assert!(got.len() > before);
    let mut bodies: BTreeMap<&str, &str> = BTreeMap::new();
    for g in &got {
        if let Some(b) = bodies.insert(&g.id, &g.body) {
            assert_eq!(b, g.body, "a duplicate of {} with another body", g.id);
        }
    }
    for (id, _) in &events {
        assert!(bodies.contains_key(id.as_str()), "event {id} never arrived");
    }
    assert_eq!(
        bodies.len(),
        events.len(),
        "nothing but the outbox's events"
    );
    for ad in &ids {
        let want: Vec<&str> = events
            .iter()
            .filter(|e| &e.1 == ad)
            .map(|e| e.0.as_str())
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        for g in got.iter().filter(|g| g.answered) {
            if want.contains(&g.id.as_str()) && !seen.contains(&g.id.as_str()) {
                seen.push(&g.id);
            }
        }
        assert_eq!(seen, want, "order for {ad}");
    }
    assert!(!secret.is_empty());
}
