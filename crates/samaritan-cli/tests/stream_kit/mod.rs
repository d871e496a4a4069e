//! What the stream tests share: names of their own, PostgreSQL schemas, the binary's
//! processes and their JSON events, the synthetic corpus, the in-process reference run and the
//! comparison of two stores' answers.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::common::{BIN, exit_within};
use samaritan_store::{QueueState, Store};

/// A name no other test (or run) uses.
pub fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t_{tag}_{}_{}", std::process::id(), nanos % 1_000_000_000)
}

/// A stream of the test's own: (name, subject prefix).
pub fn stream_names(tag: &str) -> (String, String) {
    let u = unique(tag);
    (u.to_uppercase(), format!("samaritan_test.{u}"))
}

pub async fn jetstream(url: &str) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(async_nats::connect(url).await.unwrap())
}

/// Messages the stream holds (acknowledged ones leave a work queue).
pub async fn stream_messages(js: &async_nats::jetstream::Context, name: &str) -> u64 {
    let mut s = js.get_stream(name).await.unwrap();
    s.info().await.unwrap().state.messages
}

/// A PostgreSQL URL whose connections use `schema` (created with its tables by opening it).
pub async fn pg_schema(base: &str, schema: &str) -> (String, Store) {
    let store = Store::open_postgres_in_schema(base, Some(schema))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    (
        format!("{base}{sep}options=-csearch_path%3D{schema}"),
        store,
    )
}

pub async fn drop_schema(base: &str, schema: &str) {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}

/// A process whose stdout JSON lines arrive on a channel; killed when dropped.
pub struct Proc {
    pub child: Child,
    pub events: Receiver<serde_json::Value>,
}

impl Proc {
    pub fn spawn(mut cmd: Command, log: &Path) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Proc { child, events: rx }
    }

    /// The first event holding `key`, within `within` (fails the test otherwise).
    pub fn wait_for(&mut self, key: &str, within: Duration, log: &Path) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(v) if v.get(key).is_some() => return v,
                Ok(_) => {}
                Err(_) => panic!(
                    "no `{key}` event within {}s; log:\n{}",
                    within.as_secs(),
                    std::fs::read_to_string(log).unwrap_or_default()
                ),
            }
        }
    }

    pub fn sigterm(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        exit_within(&mut self.child, Duration::from_secs(60))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn worker(nats: &str, stream: &(String, String), pg: &str, log: &Path, batch: &str) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.args(["worker", "--stream", nats, "--stream-name", &stream.0])
        .args(["--stream-subjects", &stream.1, "--database", pg])
        .args(["--no-images", "--poll-ms", "100", "--batch", batch]);
    Proc::spawn(cmd, log)
}

pub fn serve_stream(nats: &str, stream: &(String, String), store: &[&str], log: &Path) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
        .args(store)
        .args(["--no-images", "--stream", nats, "--stream-name", &stream.0])
        .args(["--stream-subjects", &stream.1]);
    Proc::spawn(cmd, log)
}

pub fn key(store: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["keys", "create", "--scopes", "ingest,review"])
        .args(store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["key"].as_str().unwrap().to_owned()
}

pub fn ad(i: usize, title_bytes: usize) -> serde_json::Value {
    serde_json::json!({
        "id": format!("st-{i:04}"),
        "title": "x".repeat(title_bytes),
        "body": format!("Quiet room to rent near the park. Call 775-555-01{:02}.", i % 100),
    })
}

/// Ads of the synthetic marketplace as JSON lines.
pub fn synth(dir: &Path, ads: usize, seed: u64) -> Vec<String> {
    let out = dir.join("synth");
    let status = Command::new(BIN)
        .args([
            "synth",
            "--ads",
            &ads.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(out.join("ads.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn test_ads() -> usize {
    std::env::var("SAMARITAN_STREAM_TEST_ADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Waits until `store` holds `n` analysed ads and the stream is empty.
pub async fn wait_linked(
    store: &Store,
    js: &async_nats::jetstream::Context,
    stream: &str,
    n: i64,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    loop {
        let stats = store.stats().await.unwrap();
        if stats.ads == n && stream_messages(js, stream).await == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "after {}s the store holds {} of {n} ads",
            within.as_secs(),
            stats.ads
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The same ads ingested by one process, one ad per call (as `serve` with one ad per request;
/// the linker links ad by ad), into `store`.
pub async fn reference(store: &Store, lines: &[String]) {
    let analyzer = samaritan_server::EngineAnalyzer::new(
        samaritan_engine::policy::DEFAULT_POLICY,
        samaritan_engine::extract::ExtractOptions::with_region("US").unwrap(),
        None,
    )
    .unwrap();
    let state = samaritan_server::AppState::new(
        store.clone(),
        Arc::new(analyzer),
        samaritan_server::Limits::default(),
    );
    for line in lines {
        let ad: samaritan_engine::model::Ad = serde_json::from_str(line).unwrap();
        samaritan_server::ingest(&state, vec![(ad, line.clone())])
            .await
            .unwrap();
    }
}

/// The distributed store's audit chain verifies; then the test's stream, stores and schemas go.
pub async fn verify_and_clean_up(
    js: &async_nats::jetstream::Context,
    names: &(String, String),
    pg: &str,
    (store_a, schema_a): (&Store, &str),
    (store_b, schema_b): (&Store, &str),
) {
    assert!(store_a.audit_verify().await.unwrap().ok);
    js.delete_stream(&names.0).await.unwrap();
    // The fan-out layout's results stream, when there is one.
    let _ = js.delete_stream(format!("{}_PREPARED", names.0)).await;
    store_a.close().await;
    store_b.close().await;
    drop_schema(pg, schema_a).await;
    drop_schema(pg, schema_b).await;
}

/// Networks, verdicts (whole analyses) and the queue of two stores are equal.
pub async fn assert_same_answers(got: &Store, want: &Store, lines: &[String]) {
    let ids: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let a = got.latest_analyses(&ids).await.unwrap();
    let b = want.latest_analyses(&ids).await.unwrap();
    assert_eq!(a.len(), ids.len());
    assert_eq!(b.len(), ids.len());
    let mut differ = 0;
    for id in &ids {
        if a[*id] != b[*id] {
            differ += 1;
            if differ <= 3 {
                eprintln!(
                    "ad {id} differs:\n  got  {}\n  want {}",
                    serde_json::to_string(&a[*id].1).unwrap(),
                    serde_json::to_string(&b[*id].1).unwrap()
                );
            }
        }
    }
    assert_eq!(differ, 0, "{differ} of {} analyses differ", ids.len());
    let na = got.network_memberships().await.unwrap();
    let nb = want.network_memberships().await.unwrap();
    assert!(
        !nb.is_empty(),
        "the corpus made no network: the test would prove nothing"
    );
    assert_eq!(na, nb, "network memberships differ");
    let queue = |s: &Store| {
        let s = s.clone();
        async move {
            let mut q: Vec<(String, i64, i64, String)> = s
                .queue_list(QueueState::Open, 1_000_000, samaritan_store::now_ms())
                .await
                .unwrap()
                .into_iter()
                .map(|i| (i.ad_id, i.revision, i.priority, i.verdict))
                .collect();
            q.sort();
            q
        }
    };
    let (qa, qb) = (queue(got).await, queue(want).await);
    assert!(
        !qb.is_empty(),
        "nothing queued: the test would prove nothing"
    );
    assert_eq!(qa, qb, "queues differ");
}

/// A worker of `stage` (`prepare`, `link` or `all`) with `extra` arguments.
pub fn stage_worker(
    nats: &str,
    stream: &(String, String),
    pg: &str,
    log: &Path,
    stage: &str,
    extra: &[&str],
) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.args(["worker", "--stage", stage, "--stream", nats])
        .args(["--stream-name", &stream.0, "--stream-subjects", &stream.1])
        .args(["--database", pg, "--no-images", "--poll-ms", "100"])
        .args(extra);
    Proc::spawn(cmd, log)
}

/// `samaritan ingest --stream` of `lines` (every line published and acknowledged).
pub fn ingest_lines(nats: &str, stream: &(String, String), lines: &[String], file: &Path) {
    std::fs::write(file, lines.join("\n")).unwrap();
    let out = Command::new(BIN)
        .args(["ingest", "--stream", nats, "--stream-name", &stream.0])
        .args(["--stream-subjects", &stream.1])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until `store` holds at least `n` ads.
pub async fn wait_ads(store: &Store, n: i64, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while store.stats().await.unwrap().ads < n {
        assert!(
            Instant::now() < deadline,
            "{what}: fewer than {n} ads after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every ad of `lines` analysed exactly once: one link record, one ad and one analysis each.
pub async fn assert_exactly_once(store: &Store, lines: &[String]) {
    let records = store
        .scan_link_state(samaritan_server::LINK_KIND, "", 10_000_000)
        .await
        .unwrap();
    assert_eq!(
        records.len(),
        lines.len(),
        "an ad was linked twice or not at all"
    );
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.ads, lines.len() as i64);
    assert_eq!(stats.analyses, lines.len() as i64);
}
