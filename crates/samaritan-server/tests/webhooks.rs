//! Webhooks as they fail (issue 23): a receiver that answers 500, times out, closes the
//! connection, then recovers. Every event arrives, signed (Standard Webhooks), duplicates only
//! with the same `webhook-id` and body, in order per ad; a delivery that fails its last attempt
//! is dead, listed, and redelivered by hand; a rotated secret signs beside the old one. Appeals
//! go to another reviewer and their outcome goes back by webhook.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::webhooks::{DeliveryConfig, sign};
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::{Scope, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// What the receiver does with the next request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Ok,
    Status(u16),
    /// Answer after this long (past the client's timeout).
    Slow(Duration),
    /// Close the connection without answering.
    Close,
}

/// One request as received.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
    answered: bool,
}

#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<BTreeMap<String, VecDeque<Act>>>>,
    /// Answer 500 to every request on these paths (a receiver that is down).
    down: Arc<Mutex<Vec<String>>>,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    fn script(&self, path: &str, acts: &[Act]) {
        self.script
            .lock()
            .unwrap()
            .entry(path.into())
            .or_default()
            .extend(acts);
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let me = me.clone();
                tokio::spawn(async move { me.serve(sock).await });
            }
        });
        format!("http://{addr}")
    }

    async fn serve(&self, mut sock: tokio::net::TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_end, length) = loop {
            let Ok(n) = sock.read(&mut chunk).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..at]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (at + 4, length);
            }
        };
        while buf.len() < head_end + length {
            let Ok(n) = sock.read(&mut chunk).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let path = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("")
            .to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
        let act = if self.down.lock().unwrap().contains(&path) {
            Act::Status(500)
        } else {
            self.script
                .lock()
                .unwrap()
                .get_mut(&path)
                .and_then(VecDeque::pop_front)
                .unwrap_or(Act::Ok)
        };
        let status = match act {
            Act::Ok => 200,
            Act::Status(s) => s,
            Act::Slow(d) => {
                tokio::time::sleep(d).await;
                200
            }
            Act::Close => 0,
        };
        self.got.lock().unwrap().push(Got {
            path,
            headers,
            body,
            answered: status == 200 && act == Act::Ok,
        });
        if status == 0 {
            return; // dropped: the connection closes unanswered
        }
        let _ = sock
            .write_all(
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await;
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    app: axum::Router,
    keys: BTreeMap<&'static str, String>,
}

async fn world(cfg: Option<DeliveryConfig>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let state = AppState::new(
        store.clone(),
        analyzer,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
    );
    if let Some(cfg) = cfg {
        state.deliver_webhooks(cfg);
    }
    let mut keys = BTreeMap::new();
    for (name, scope) in [
        ("ingest", Scope::Ingest),
        ("ana", Scope::Review),
        ("bo", Scope::Review),
        ("admin", Scope::Admin),
    ] {
        keys.insert(
            name,
            store
                .create_key(name, &[scope], "test")
                .await
                .unwrap()
                .secret,
        );
    }
    World {
        _dir: dir,
        store,
        app: samaritan_server::router(state),
        keys,
    }
}

impl World {
    async fn call(
        &self,
        key: &str,
        method: &str,
        uri: &str,
        body: &str,
    ) -> (StatusCode, serde_json::Value) {
        let resp = self
            .app
            .clone()
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .header("authorization", format!("Bearer {}", self.keys[key]))
                    .body(Body::from(body.to_owned()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Posts `id` (blocked by the default policy), claims it as `who` and decides `action`.
    async fn decided(&self, id: &str, who: &str, action: &str, reason: &str) {
        let ad = format!(
            r#"{{"id":"{id}","body":"new girl 16yo incall $150/hr call 702-555-0{}"}}"#,
            100 + id.len()
        );
        assert_eq!(
            self.call("ingest", "POST", "/v1/ads", &ad).await.0,
            StatusCode::OK
        );
        let (s, v) = self.call(who, "POST", "/v1/queue/claim", "").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let body = format!(r#"{{"action":"{action}","reason":"{reason}","revision":1}}"#);
        let (s, v) = self
            .call(who, "POST", &format!("/v1/ads/{id}/decision"), &body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    async fn settled(&self, within: Duration) {
        let until = std::time::Instant::now() + within;
        loop {
            let c = self.store.webhook_counts().await.unwrap();
            if c.pending == 0 {
                return;
            }
            assert!(std::time::Instant::now() < until, "still pending: {c:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn fast() -> DeliveryConfig {
    DeliveryConfig {
        retry_base: Duration::from_millis(40),
        retry_cap: Duration::from_millis(200),
        max_attempts: 5,
        timeout: Duration::from_millis(700),
        allow_private: true,
        poll: Duration::from_millis(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_signed_in_order_per_ad_whatever_the_receiver_does() {
    let rx = Receiver::default();
    let base = rx.start().await;
    let w = world(Some(fast())).await;
    let (s, created) = w
        .call(
            "admin",
            "POST",
            "/v1/webhooks",
            &format!(r#"{{"url":"{base}/hook","events":["*"]}}"#),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, listed) = w.call("admin", "GET", "/v1/webhooks", "").await;
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown once"
    );
    // The receiver fails in every way first, then recovers.
    rx.script(
        "/hook",
        &[
            Act::Status(500),
            Act::Slow(Duration::from_millis(1500)),
            Act::Close,
            Act::Status(503),
        ],
    );
    for (id, action, reason) in [
        ("a1", "remove", "trafficking_indicators"),
        ("a2", "report", "child_sex_trafficking"),
        ("a3", "remove", "trafficking_indicators"),
    ] {
        w.decided(id, "ana", action, reason).await;
    }
    w.settled(Duration::from_secs(30)).await;
    let got: Vec<Got> = rx.got().into_iter().filter(|g| g.path == "/hook").collect();
    // Each attempt is signed; duplicates carry the same id and body.
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for g in &got {
        let id = &g.headers["webhook-id"];
        let ts: i64 = g.headers["webhook-timestamp"].parse().unwrap();
        assert!(
            sign::verify(&secret, &g.headers["webhook-signature"], id, ts, &g.body),
            "{g:?}"
        );
        if let Some(b) = bodies.insert(id.clone(), g.body.clone()) {
            assert_eq!(b, g.body, "a duplicate with another body");
        }
        assert!(!g.body.contains("16yo"), "no ad text in events: {}", g.body);
    }
    // Every event in the outbox arrived.
    let outbox: Vec<(String, String, String)> = {
        let url = format!("sqlite://{}", w._dir.path().join("samaritan.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows = sqlx::query_as(
            "SELECT event_id, event_type, COALESCE(ad_id, '') FROM webhook_outbox ORDER BY seq",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    };
    assert_eq!(outbox.len(), 4, "{outbox:?}"); // three decisions and a report case
    assert!(outbox.iter().all(|(id, _, _)| bodies.contains_key(id)));
    assert!(got.len() > outbox.len(), "the failures were retried");
    // In order per ad: the first answered receipt of each event follows the outbox order.
    for ad in ["a1", "a2", "a3"] {
        let want: Vec<&String> = outbox.iter().filter(|o| o.2 == ad).map(|o| &o.0).collect();
        let mut seen: Vec<&String> = Vec::new();
        for g in got.iter().filter(|g| g.answered) {
            let id = &g.headers["webhook-id"];
            if want.contains(&id) && !seen.contains(&id) {
                seen.push(id);
            }
        }
        assert_eq!(seen, want, "order for {ad}");
    }
    let types: Vec<&str> = outbox.iter().map(|o| o.1.as_str()).collect();
    assert!(types.contains(&"report.opened") && types.contains(&"decision.created"));
    let resp = w
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/metrics")
                .header("authorization", format!("Bearer {}", w.keys["admin"]))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("samaritan_webhook_deliveries{state=\"delivered\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("samaritan_webhook_oldest_pending_seconds 0"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_delivery_is_listed_and_redelivered_and_rotation_signs_with_both_secrets() {
    let rx = Receiver::default();
    let base = rx.start().await;
    let w = world(Some(fast())).await;
    rx.down.lock().unwrap().push("/down".into());
    let (_, created) = w
        .call(
            "admin",
            "POST",
            "/v1/webhooks",
            &format!(r#"{{"url":"{base}/down","events":["decision.*"]}}"#),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let old = created["secret"].as_str().unwrap().to_owned();
    w.decided("d1", "ana", "remove", "trafficking_indicators")
        .await;
    w.settled(Duration::from_secs(20)).await;
    let (s, dead) = w
        .call(
            "admin",
            "GET",
            &format!("/v1/webhooks/{id}/deliveries?state=dead"),
            "",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let dead = dead["deliveries"].as_array().unwrap().clone();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["attempts"], 5);
    assert_eq!(dead[0]["last_status"], 500);
    let tries = rx.got().len();
    assert_eq!(tries, 5, "max attempts, then dead");
    // The receiver recovers; the secret is rotated; an admin redelivers the dead event.
    rx.down.lock().unwrap().clear();
    let (s, rotated) = w
        .call(
            "admin",
            "POST",
            &format!("/v1/webhooks/{id}/rotate"),
            r#"{"overlap_hours":1}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let seq = dead[0]["event_seq"].as_i64().unwrap();
    let (s, _) = w
        .call(
            "ana",
            "POST",
            &format!("/v1/webhooks/{id}/deliveries/{seq}/redeliver"),
            "",
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "admins only");
    let (s, _) = w
        .call(
            "admin",
            "POST",
            &format!("/v1/webhooks/{id}/deliveries/{seq}/redeliver"),
            "",
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    w.settled(Duration::from_secs(10)).await;
    let last = rx.got().last().cloned().unwrap();
    assert!(last.answered);
    assert_eq!(
        last.headers["webhook-id"],
        dead[0]["event_id"].as_str().unwrap()
    );
    let ts: i64 = last.headers["webhook-timestamp"].parse().unwrap();
    let sig = &last.headers["webhook-signature"];
    assert_eq!(
        sig.split(' ').count(),
        2,
        "both secrets sign during the overlap"
    );
    assert!(sign::verify(
        &new,
        sig,
        &last.headers["webhook-id"],
        ts,
        &last.body
    ));
    assert!(sign::verify(
        &old,
        sig,
        &last.headers["webhook-id"],
        ts,
        &last.body
    ));
    // Disabled: nothing new goes out.
    let (s, _) = w
        .call("admin", "DELETE", &format!("/v1/webhooks/{id}"), "")
        .await;
    assert_eq!(s, StatusCode::OK);
    w.decided("d2", "ana", "remove", "trafficking_indicators")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.got().len(), tries + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoints_and_events_are_refused_with_the_field_named() {
    // The default configuration: private destinations refused.
    let w = world(None).await;
    for (body, field) in [
        (r#"{"url":"http://127.0.0.1:9/x","events":["*"]}"#, "url"),
        (
            r#"{"url":"http://169.254.169.254/latest","events":["*"]}"#,
            "url",
        ),
        (r#"{"url":"file:///etc/passwd","events":["*"]}"#, "url"),
        (
            r#"{"url":"https://u:p@hooks.example/x","events":["*"]}"#,
            "url",
        ),
        (
            r#"{"url":"https://hooks.example/x","events":["ad.created"]}"#,
            "events",
        ),
        (r#"{"url":"https://hooks.example/x","events":[]}"#, "events"),
    ] {
        let (s, v) = w.call("admin", "POST", "/v1/webhooks", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
    }
    let (s, _) = w
        .call(
            "admin",
            "POST",
            "/v1/webhooks",
            r#"{"url":"https://hooks.example/x","events":["*"],"extra":1}"#,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let big = format!(
        r#"{{"url":"https://hooks.example/{}","events":["*"]}}"#,
        "a".repeat(3000)
    );
    assert_eq!(
        w.call("admin", "POST", "/v1/webhooks", &big).await.0,
        StatusCode::BAD_REQUEST
    );
    let huge = "x".repeat(100 * 1024);
    assert_eq!(
        w.call("admin", "POST", "/v1/webhooks", &huge).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        w.call(
            "ana",
            "POST",
            "/v1/webhooks",
            r#"{"url":"https://hooks.example/x","events":["*"]}"#
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    for (uri, status) in [
        ("/v1/webhooks/x/deliveries", StatusCode::BAD_REQUEST),
        ("/v1/webhooks/999/deliveries", StatusCode::NOT_FOUND),
        ("/v1/webhooks/999", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(w.call("admin", "GET", uri, "").await.0, status, "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appeals_go_to_another_reviewer_and_the_outcome_goes_back_by_webhook() {
    let rx = Receiver::default();
    let base = rx.start().await;
    let w = world(Some(fast())).await;
    let (_, created) = w
        .call(
            "admin",
            "POST",
            "/v1/webhooks",
            &format!(r#"{{"url":"{base}/appeals","events":["appeal.*"]}}"#),
        )
        .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    w.decided("p1", "ana", "remove", "trafficking_indicators")
        .await;
    let (s, v) = w
        .call("ana", "POST", "/v1/ads/p1/appeals", r#"{"statement":"x"}"#)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the platform files appeals: {v}");
    for (body, field) in [
        (r#"{"statement":""}"#, "statement"),
        (r#"{"statement":"x","y":1}"#, "y"),
    ] {
        let (s, v) = w.call("ingest", "POST", "/v1/ads/p1/appeals", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"]["field"], field);
    }
    let (s, v) = w
        .call(
            "ingest",
            "POST",
            "/v1/ads/nothing/appeals",
            r#"{"statement":"mine"}"#,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_appealable"))
    );
    let (s, appeal) = w
        .call(
            "ingest",
            "POST",
            "/v1/ads/p1/appeals",
            r#"{"statement":"It was a bicycle."}"#,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{appeal}");
    let id = appeal["id"].as_i64().unwrap();
    // The reviewer who decided is never given it; another one is.
    let (_, none) = w.call("ana", "POST", "/v1/appeals/claim", "").await;
    assert!(none["appeal"].is_null(), "{none}");
    let (_, got) = w.call("bo", "POST", "/v1/appeals/claim", "").await;
    assert_eq!(got["appeal"]["id"], id);
    let answer = |outcome: &str, reason: &str| {
        format!(r#"{{"outcome":"{outcome}","reason":"{reason}","note":"looked again"}}"#)
    };
    let uri = format!("/v1/appeals/{id}/decision");
    let (s, v) = w
        .call("ana", "POST", &uri, &answer("reversed", "not_commercial"))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("own_decision"))
    );
    let (s, v) = w
        .call(
            "bo",
            "POST",
            &uri,
            &answer("reversed", "trafficking_indicators"),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason")),
        "{v}"
    );
    let (s, v) = w
        .call("bo", "POST", &uri, &answer("maybe", "not_commercial"))
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("outcome"))
    );
    let (s, done) = w
        .call("bo", "POST", &uri, &answer("reversed", "not_commercial"))
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["outcome"], "reversed");
    w.settled(Duration::from_secs(10)).await;
    let got = rx.got();
    let types: Vec<String> = got
        .iter()
        .map(|g| {
            serde_json::from_str::<serde_json::Value>(&g.body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["appeal.created", "appeal.decided"]);
    let last = got.last().unwrap();
    let ts: i64 = last.headers["webhook-timestamp"].parse().unwrap();
    assert!(sign::verify(
        &secret,
        &last.headers["webhook-signature"],
        &last.headers["webhook-id"],
        ts,
        &last.body
    ));
    let v: serde_json::Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(
        (v["data"]["outcome"].as_str(), v["data"]["ad_id"].as_str()),
        (Some("reversed"), Some("p1"))
    );
    assert!(!last.body.contains("bicycle") && !last.body.contains("looked again"));
    let (_, list) = w.call("bo", "GET", "/v1/appeals?state=decided", "").await;
    assert_eq!(list["appeals"].as_array().unwrap().len(), 1);
    assert_eq!(
        w.call("bo", "GET", "/v1/appeals?state=nope", "").await.0,
        StatusCode::BAD_REQUEST
    );
    assert!(w.store.audit_verify().await.unwrap().ok);
}
