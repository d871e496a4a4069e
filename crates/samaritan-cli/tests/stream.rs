//! The distributed mode (issue 24) with the real binary, NATS JetStream and PostgreSQL:
//! `serve --stream` and `ingest --stream` put ads on the stream and answer after JetStream's
//! acknowledgement; `worker` links them into PostgreSQL with the answers of one process and
//! parks what is not an ad; a SIGKILLed linker is replaced by its standby with nothing lost and
//! nothing linked twice. The fan-out layout (`worker --stage prepare` ×2, `--stage link` ×2)
//! gives the same answers, and loses nothing when a prepare worker and the active linker are
//! SIGKILLed mid-stream (`stream_faults.rs` restarts NATS and PostgreSQL under it).
//!
//! Every test uses a stream name and subject prefix of its own (and its own PostgreSQL
//! schemas), deleted at the end. `SAMARITAN_STREAM_TEST_ADS` sets the ads of the comparison
//! (default 2 000).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;
mod stream_kit;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Client};
use samaritan_store::Store;
use stream_kit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS (127.0.0.1:4222 or $SAMARITAN_TEST_NATS); run with --include-ignored"]
async fn serve_stream_answers_once_jetstream_acknowledged() {
    let Some(nats) =
        samaritan_testkit::nats_url("stream::serve_stream_answers_once_jetstream_acknowledged")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = ["--data-dir", data.to_str().unwrap()];
    let api_key = key(&store);
    let names = stream_names("serve");
    let log = dir.path().join("serve.log");
    let mut serve = serve_stream(&nats, &names, &store, &log);
    let hello = serve.wait_for("listening", Duration::from_secs(120), &log);
    let addr = hello["listening"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_owned();
    let js = jetstream(&nats).await;
    let mut c = Client::connect(&addr, &api_key).await.unwrap();

    let batch = serde_json::json!([ad(0, 5), ad(1, 5), ad(2, 5)]).to_string();
    let (status, body) = c.send("POST", "/v1/ads", batch.clone()).await.unwrap();
    assert_eq!(status, 202, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["stream"], names.0.as_str());
    let accepted = v["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 3);
    let seqs: Vec<u64> = accepted
        .iter()
        .map(|a| a["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert!(accepted.iter().all(|a| a["duplicate"] == false));
    assert_eq!(accepted[1]["id"], "st-0001");
    assert_eq!(accepted[1]["digest"].as_str().unwrap().len(), 64);
    // Not an analysis: no verdict in the answer.
    assert!(!body.contains("verdict"));
    assert_eq!(stream_messages(&js, &names.0).await, 3);

    // A retried request (same content) is stored once: the same sequences, marked duplicate.
    let (status, body) = c.send("POST", "/v1/ads", batch).await.unwrap();
    assert_eq!(status, 202, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let again: Vec<(u64, bool)> = v["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["seq"].as_u64().unwrap(),
                a["duplicate"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(again, vec![(1, true), (2, true), (3, true)]);
    // A changed ad is a new message (a new revision for the linker).
    let changed = serde_json::json!([ad(1, 6)]).to_string();
    let (status, body) = c.send("POST", "/v1/ads", changed).await.unwrap();
    assert_eq!(status, 202, "{body}");
    assert!(body.contains("\"seq\":4"), "{body}");

    // Bounded exactly as today: one ad over a limit refuses the request, and nothing of it is
    // on the stream.
    let over = serde_json::json!([ad(5, 5), ad(6, 3000)]).to_string();
    let (status, body) = c.send("POST", "/v1/ads", over).await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("ads[1].title"), "{body}");
    let (status, body) = c
        .send("POST", "/v1/ads", "[{\"id\": ".to_owned())
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(stream_messages(&js, &names.0).await, 4);

    assert!(serve.sigterm().success());
    // Nothing was analysed or stored here: the worker does that.
    let s = Store::open_sqlite(&data).await.unwrap();
    assert_eq!(s.stats().await.unwrap().ads, 0);
    js.delete_stream(&names.0).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS (127.0.0.1:4222 or $SAMARITAN_TEST_NATS); run with --include-ignored"]
async fn ingest_publishes_each_good_line_and_names_each_bad_one() {
    let Some(nats) = samaritan_testkit::nats_url(
        "stream::ingest_publishes_each_good_line_and_names_each_bad_one",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ads.jsonl");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(f, "{}", ad(1, 5)).unwrap();
    writeln!(f).unwrap();
    writeln!(f, "{{\"id\": \"st-2\", \"title\": ").unwrap();
    writeln!(f, "{}", ad(3, 5)).unwrap();
    writeln!(f, "{}", ad(4, 3000)).unwrap();
    writeln!(f, "{}", ad(1, 5)).unwrap();
    drop(f);
    let names = stream_names("ingest");
    let out = Command::new(BIN)
        .args(["ingest", "--stream", &nats, "--stream-name", &names.0])
        .args(["--stream-subjects", &names.1])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Refusals are reported as they are read, publications once acknowledged.
    let by_line = |n: u64| lines.iter().find(|l| l["line"] == n).cloned().unwrap();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(by_line(1)["seq"], 1);
    assert_eq!(by_line(1)["duplicate"], false);
    assert!(
        by_line(3)["error"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );
    assert_eq!(by_line(4)["seq"], 2);
    assert!(by_line(5)["error"].as_str().unwrap().contains("`title`"));
    assert_eq!(by_line(6)["seq"], 1);
    assert_eq!(by_line(6)["duplicate"], true);
    assert!(stderr.contains("line 3:"), "{stderr}");
    assert!(stderr.contains("line 5:"), "{stderr}");
    let js = jetstream(&nats).await;
    assert_eq!(stream_messages(&js, &names.0).await, 2);
    js.delete_stream(&names.0).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS and PostgreSQL (127.0.0.1:4222, 127.0.0.1:5432); run with --include-ignored"]
async fn the_linker_worker_gives_the_answers_of_one_process() {
    let test = "stream::the_linker_worker_gives_the_answers_of_one_process";
    let (Some(nats), Some(pg)) = (
        samaritan_testkit::nats_url(test),
        samaritan_testkit::postgres_url(test),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lines = synth(dir.path(), test_ads(), 11);
    let names = stream_names("same");
    let (schema_a, schema_b) = (unique("dist"), unique("ref"));
    let (url_a, store_a) = pg_schema(&pg, &schema_a).await;
    let (_, store_b) = pg_schema(&pg, &schema_b).await;
    let js = jetstream(&nats).await;

    let store_args = ["--database", url_a.as_str()];
    let api_key = key(&store_args);
    let serve_log = dir.path().join("serve.log");
    // The data directory still holds the service's own files (the evidence key, kept images).
    let data = dir.path().join("data");
    let serve_args = [
        "--database",
        url_a.as_str(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let mut serve = serve_stream(&nats, &names, &serve_args, &serve_log);
    let hello = serve.wait_for("listening", Duration::from_secs(120), &serve_log);
    let addr = hello["listening"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_owned();
    let wlog = dir.path().join("worker.log");
    let mut w = worker(&nats, &names, &url_a, &wlog, "100");
    w.wait_for("leading", Duration::from_secs(120), &wlog);

    let mut c = Client::connect(&addr, &api_key).await.unwrap();
    let half = lines.len() / 2;
    for (k, chunk) in lines.chunks(100).enumerate() {
        let body = format!("[{}]", chunk.join(","));
        let (status, answer) = c.send("POST", "/v1/ads", body).await.unwrap();
        assert_eq!(status, 202, "{answer}");
        if k * 100 < half && half <= (k + 1) * 100 {
            // A message that is not an ad, in the middle of the stream: parked, not looping,
            // and the ads after it go on.
            js.publish(format!("{}.junk", names.1), "{\"id\": 7, oops".into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    }
    wait_linked(
        &store_a,
        &js,
        &names.0,
        lines.len() as i64,
        Duration::from_secs(600),
    )
    .await;
    let stopped = w.sigterm();
    let wtext = std::fs::read_to_string(&wlog).unwrap_or_default();
    assert!(stopped.success(), "{wtext}");
    let last: Vec<serde_json::Value> = w.events.try_iter().collect();
    eprintln!("worker: {last:?}\n{wtext}");
    assert!(serve.sigterm().success());

    let parked = Command::new(BIN)
        .args(["parked", "--database", &url_a])
        .output()
        .unwrap();
    assert!(parked.status.success());
    let parked: Vec<serde_json::Value> = String::from_utf8_lossy(&parked.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(parked[0]["error"].as_str().unwrap().contains("not an ad"));
    assert_eq!(parked[0]["subject"], format!("{}.junk", names.1));

    reference(&store_b, &lines).await;
    assert_same_answers(&store_a, &store_b, &lines).await;
    verify_and_clean_up(
        &js,
        &names,
        &pg,
        (&store_a, &schema_a),
        (&store_b, &schema_b),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS and PostgreSQL (127.0.0.1:4222, 127.0.0.1:5432); run with --include-ignored"]
async fn a_killed_linker_is_replaced_and_nothing_is_lost_or_linked_twice() {
    let test = "stream::a_killed_linker_is_replaced_and_nothing_is_lost_or_linked_twice";
    let (Some(nats), Some(pg)) = (
        samaritan_testkit::nats_url(test),
        samaritan_testkit::postgres_url(test),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lines = synth(dir.path(), test_ads(), 12);
    let file = dir.path().join("ads.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let names = stream_names("kill");
    let (schema_a, schema_b) = (unique("kill"), unique("killref"));
    let (url_a, store_a) = pg_schema(&pg, &schema_a).await;
    let (_, store_b) = pg_schema(&pg, &schema_b).await;
    let js = jetstream(&nats).await;

    let out = Command::new(BIN)
        .args(["ingest", "--stream", &nats, "--stream-name", &names.0])
        .args(["--stream-subjects", &names.1])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stream_messages(&js, &names.0).await, lines.len() as u64);

    let (log1, log2) = (dir.path().join("w1.log"), dir.path().join("w2.log"));
    let mut w1 = worker(&nats, &names, &url_a, &log1, "50");
    w1.wait_for("leading", Duration::from_secs(120), &log1);
    let mut w2 = worker(&nats, &names, &url_a, &log2, "50");
    w2.wait_for("standby", Duration::from_secs(120), &log2);

    // Mid-stream: SIGKILL the active linker.
    let third = (lines.len() / 3) as i64;
    let deadline = Instant::now() + Duration::from_secs(300);
    while store_a.stats().await.unwrap().ads < third {
        assert!(
            Instant::now() < deadline,
            "the first linker made no progress"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w1.child.kill().unwrap();
    w1.child.wait().unwrap();
    let killed = Instant::now();
    let taken = w2.wait_for("leading", Duration::from_secs(60), &log2);
    let takeover = killed.elapsed();
    eprintln!(
        "standby leading {:.2}s after the SIGKILL (restore {:.2}s of {} ads)",
        takeover.as_secs_f64(),
        taken["restore_secs"].as_f64().unwrap_or(-1.0),
        taken["linked_ads"]
    );
    assert!(
        takeover < Duration::from_secs(30),
        "takeover took {takeover:?}"
    );

    wait_linked(
        &store_a,
        &js,
        &names.0,
        lines.len() as i64,
        Duration::from_secs(600),
    )
    .await;
    assert!(w2.sigterm().success());

    // Every ad analysed exactly once: one link record and one analysis each.
    assert_exactly_once(&store_a, &lines).await;
    assert!(store_a.parked_messages(0, 10).await.unwrap().is_empty());

    reference(&store_b, &lines).await;
    // The stored networks are the linker's at every commit, so the standby's restored linker
    // and the reference's agree with what each store holds, without bringing either to a
    // restored linker's view first.
    assert_same_answers(&store_a, &store_b, &lines).await;
    verify_and_clean_up(
        &js,
        &names,
        &pg,
        (&store_a, &schema_a),
        (&store_b, &schema_b),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS and PostgreSQL (127.0.0.1:4222, 127.0.0.1:5432); run with --include-ignored"]
async fn an_ad_the_store_keeps_refusing_is_parked_after_its_attempts_and_the_rest_go_on() {
    let test =
        "stream::an_ad_the_store_keeps_refusing_is_parked_after_its_attempts_and_the_rest_go_on";
    let (Some(nats), Some(pg)) = (
        samaritan_testkit::nats_url(test),
        samaritan_testkit::postgres_url(test),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let names = stream_names("poison");
    let schema = unique("poison");
    let (url, store) = pg_schema(&pg, &schema).await;
    // The store refuses one ad every time (a stand-in for any failure that does not go away).
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg)
        .await
        .unwrap();
    for sql in [
        format!(
            "CREATE FUNCTION \"{schema}\".refuse_poison() RETURNS trigger AS $$ BEGIN \
             IF NEW.id = 'st-0005' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql"
        ),
        format!(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON \"{schema}\".ads FOR EACH ROW \
             EXECUTE FUNCTION \"{schema}\".refuse_poison()"
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    let file = dir.path().join("ads.jsonl");
    let lines: Vec<String> = (0..10).map(|i| ad(i, 5).to_string()).collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = Command::new(BIN)
        .args(["ingest", "--stream", &nats, "--stream-name", &names.0])
        .args(["--stream-subjects", &names.1])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let log = dir.path().join("worker.log");
    let mut cmd = Command::new(BIN);
    cmd.args(["worker", "--stream", &nats, "--stream-name", &names.0])
        .args(["--stream-subjects", &names.1, "--database", &url])
        .args(["--no-images", "--max-attempts", "2", "--batch", "10"]);
    let mut w = Proc::spawn(cmd, &log);
    w.wait_for("leading", Duration::from_secs(120), &log);
    let js = jetstream(&nats).await;
    wait_linked(&store, &js, &names.0, 9, Duration::from_secs(300)).await;
    assert!(w.sigterm().success());
    let last: Vec<serde_json::Value> = w.events.try_iter().collect();
    let counts = &last.last().unwrap()["counts"];
    // Each of the nine counted once, created or (committed by a failed attempt) unchanged.
    assert_eq!(
        counts["created"].as_u64().unwrap() + counts["unchanged"].as_u64().unwrap(),
        9,
        "{last:?}"
    );
    assert_eq!(counts["parked"], 1, "{last:?}");
    // The whole run failed twice, then the poison ad alone twice.
    assert_eq!(counts["retries"], 4, "{last:?}");

    let parked = store.parked_messages(0, 10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].seq, 6);
    assert_eq!(parked[0].attempts, 2);
    assert!(
        parked[0].error.contains("refused by the test trigger"),
        "{}",
        parked[0].error
    );
    assert_eq!(parked[0].payload, lines[5].as_bytes());
    assert!(parked[0].msg_id.as_deref().unwrap().starts_with("st-0005:"));
    // Nothing of it is in the store, the nine others each once, and the linker holds no
    // trace of the refused ad (its rebuilt state is the store's).
    let records = store
        .scan_link_state(samaritan_server::LINK_KIND, "", 1000)
        .await
        .unwrap();
    assert_eq!(records.len(), 9);
    assert!(store.get_ad("st-0005", 0).await.unwrap().is_none());
    assert!(store.get_ad("st-0006", 0).await.unwrap().is_some());
    assert!(store.audit_verify().await.unwrap().ok);

    js.delete_stream(&names.0).await.unwrap();
    store.close().await;
    drop_schema(&pg, &schema).await;
}

/// The fan-out layout's processes, each with its log: two prepare workers, an active linker
/// and its standby.
struct FanOut {
    prepare: Vec<(Proc, PathBuf)>,
    linkers: Vec<(Proc, PathBuf)>,
}

/// Starts the linker (waits until it leads), its standby (until it stands by) and two prepare
/// workers (until they prepare), each with `extra` arguments.
fn start_fan_out(
    nats: &str,
    names: &(String, String),
    pg: &str,
    dir: &Path,
    extra: &[&str],
) -> FanOut {
    let log = dir.join("l1.log");
    let mut l1 = stage_worker(nats, names, pg, &log, "link", extra);
    l1.wait_for("leading", Duration::from_secs(120), &log);
    let mut linkers = vec![(l1, log)];
    // The others start together (a debug build takes seconds to start).
    let mut others: Vec<(Proc, PathBuf, &str)> = [
        ("l2", "link", "standby"),
        ("p1", "prepare", "preparing"),
        ("p2", "prepare", "preparing"),
    ]
    .into_iter()
    .map(|(n, stage, event)| {
        let log = dir.join(format!("{n}.log"));
        (
            stage_worker(nats, names, pg, &log, stage, extra),
            log,
            event,
        )
    })
    .collect();
    for (p, log, event) in &mut others {
        p.wait_for(event, Duration::from_secs(120), log);
    }
    let mut others = others.into_iter().map(|(p, log, _)| (p, log));
    linkers.extend(others.next());
    FanOut {
        prepare: others.collect(),
        linkers,
    }
}

impl FanOut {
    /// SIGTERM to every process; each exits cleanly.
    fn stop(mut self) {
        for (p, log) in self.prepare.iter_mut().chain(self.linkers.iter_mut()) {
            let status = p.sigterm();
            assert!(
                status.success(),
                "{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS and PostgreSQL (127.0.0.1:4222, 127.0.0.1:5432); run with --include-ignored"]
async fn prepare_workers_and_a_standby_linker_give_the_answers_of_one_process() {
    let test = "stream::prepare_workers_and_a_standby_linker_give_the_answers_of_one_process";
    let (Some(nats), Some(pg)) = (
        samaritan_testkit::nats_url(test),
        samaritan_testkit::postgres_url(test),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lines = synth(dir.path(), test_ads(), 13);
    let names = stream_names("fan");
    let (schema_a, schema_b) = (unique("fan"), unique("fanref"));
    let (url_a, store_a) = pg_schema(&pg, &schema_a).await;
    let (_, store_b) = pg_schema(&pg, &schema_b).await;
    let js = jetstream(&nats).await;

    let started = Instant::now();
    let fan = start_fan_out(&nats, &names, &url_a, dir.path(), &["--batch", "50"]);
    // The ads arrive while the workers run; a message that is not an ad sits in the middle.
    let half = lines.len() / 2;
    ingest_lines(&nats, &names, &lines[..half], &dir.path().join("a.jsonl"));
    js.publish(format!("{}.junk", names.1), "{\"id\": 7, oops".into())
        .await
        .unwrap()
        .await
        .unwrap();
    ingest_lines(&nats, &names, &lines[half..], &dir.path().join("b.jsonl"));
    wait_linked(
        &store_a,
        &js,
        &names.0,
        lines.len() as i64,
        Duration::from_secs(600),
    )
    .await;
    eprintln!(
        "{} ads prepared by two workers and linked in {:.1}s",
        lines.len(),
        started.elapsed().as_secs_f64()
    );
    fan.stop();

    let parked = store_a.parked_messages(0, 10).await.unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(parked[0].error.contains("not an ad"), "{}", parked[0].error);
    assert_eq!(parked[0].subject, format!("{}.junk", names.1));
    assert_eq!(parked[0].stream, names.0);
    assert_eq!(parked[0].seq, half as i64 + 1);
    assert_exactly_once(&store_a, &lines).await;

    reference(&store_b, &lines).await;
    assert_same_answers(&store_a, &store_b, &lines).await;
    verify_and_clean_up(
        &js,
        &names,
        &pg,
        (&store_a, &schema_a),
        (&store_b, &schema_b),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS and PostgreSQL (127.0.0.1:4222, 127.0.0.1:5432); run with --include-ignored"]
async fn a_killed_prepare_worker_and_a_killed_linker_lose_nothing_and_link_nothing_twice() {
    let test =
        "stream::a_killed_prepare_worker_and_a_killed_linker_lose_nothing_and_link_nothing_twice";
    let (Some(nats), Some(pg)) = (
        samaritan_testkit::nats_url(test),
        samaritan_testkit::postgres_url(test),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Half the comparison's corpus: the faults, not the size, are what this test is about.
    let lines = synth(dir.path(), (test_ads() / 2).max(200), 14);
    let names = stream_names("fankill");
    let (schema_a, schema_b) = (unique("fankill"), unique("fankillref"));
    let (url_a, store_a) = pg_schema(&pg, &schema_a).await;
    let (_, store_b) = pg_schema(&pg, &schema_b).await;
    let js = jetstream(&nats).await;

    let extra = ["--batch", "20", "--ack-wait-secs", "3"];
    let mut fan = start_fan_out(&nats, &names, &url_a, dir.path(), &extra);
    ingest_lines(&nats, &names, &lines, &dir.path().join("ads.jsonl"));
    let n = lines.len() as i64;
    // As soon as linking began: SIGKILL a prepare worker (what it held comes back to the
    // other after the acknowledgement wait).
    wait_ads(
        &store_a,
        1,
        Duration::from_secs(300),
        "before the first kill",
    )
    .await;
    let (mut p1, _) = fan.prepare.remove(0);
    p1.child.kill().unwrap();
    p1.child.wait().unwrap();
    eprintln!(
        "prepare worker killed with {} ads still to prepare",
        stream_messages(&js, &names.0).await
    );
    // Half way: SIGKILL the active linker; the standby takes over from the store.
    wait_ads(
        &store_a,
        n / 2,
        Duration::from_secs(300),
        "before the second kill",
    )
    .await;
    let (mut l1, _) = fan.linkers.remove(0);
    l1.child.kill().unwrap();
    l1.child.wait().unwrap();
    let killed = Instant::now();
    let (l2, log2) = &mut fan.linkers[0];
    let taken = l2.wait_for("leading", Duration::from_secs(60), log2);
    eprintln!(
        "standby leading {:.2}s after the SIGKILL, at position {}",
        killed.elapsed().as_secs_f64(),
        taken["position"]
    );
    assert!(taken["position"].as_u64().unwrap() > 0, "{taken}");
    wait_linked(&store_a, &js, &names.0, n, Duration::from_secs(600)).await;
    fan.stop();

    assert_exactly_once(&store_a, &lines).await;
    assert!(store_a.parked_messages(0, 10).await.unwrap().is_empty());
    reference(&store_b, &lines).await;
    assert_same_answers(&store_a, &store_b, &lines).await;
    verify_and_clean_up(
        &js,
        &names,
        &pg,
        (&store_a, &schema_a),
        (&store_b, &schema_b),
    )
    .await;
}

#[test]
fn ingest_refuses_a_rate_that_is_not_a_positive_number() {
    for rate in ["0", "-5", "fast"] {
        let out = Command::new(BIN)
            .args(["ingest", "--stream", "nats://127.0.0.1:1"])
            .arg(format!("--rate={rate}"))
            .arg("ads.jsonl")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--rate {rate}: {stderr}");
        assert!(stderr.contains("--rate"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS and PostgreSQL (127.0.0.1:4222, 127.0.0.1:5432); run with --include-ignored"]
async fn a_paced_ingest_is_all_published_and_workers_print_their_cpu_per_stage() {
    let test = "stream::a_paced_ingest_is_all_published_and_workers_print_their_cpu_per_stage";
    let (Some(nats), Some(pg)) = (
        samaritan_testkit::nats_url(test),
        samaritan_testkit::postgres_url(test),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lines = synth(dir.path(), 300, 17);
    let n = lines.len();
    let names = stream_names("cpu");
    let schema = unique("cpu");
    let (url, store) = pg_schema(&pg, &schema).await;
    let js = jetstream(&nats).await;
    let (llog, plog) = (dir.path().join("l.log"), dir.path().join("p.log"));
    let mut linker = stage_worker(&nats, &names, &url, &llog, "link", &["--stages"]);
    linker.wait_for("leading", Duration::from_secs(120), &llog);
    let mut prepare = stage_worker(
        &nats,
        &names,
        &url,
        &plog,
        "prepare",
        &["--stages", "--batch", "40"],
    );
    prepare.wait_for("preparing", Duration::from_secs(120), &plog);

    // Paced: every ad published, in order, each reported with its sequence.
    let file = dir.path().join("ads.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = Command::new(BIN)
        .args(["ingest", "--stream", &nats, "--stream-name", &names.0])
        .args(["--stream-subjects", &names.1, "--rate", "1000"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seqs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, (1..=n as u64).collect::<Vec<_>>());
    wait_linked(&store, &js, &names.0, n as i64, Duration::from_secs(600)).await;

    // At their stop, each worker prints its CPU per ad, stage by stage, over every ad it did.
    let stages = |v: &serde_json::Value| -> Vec<(String, f64)> {
        v["cpu"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["stage"].as_str().unwrap().to_owned(),
                    s["us_per_ad"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let us =
        |stages: &[(String, f64)], name: &str| stages.iter().find(|(s, _)| s == name).unwrap().1;
    for (proc, log, want, busy) in [
        (
            &mut prepare,
            &plog,
            &[
                "decode",
                "normalize",
                "extract",
                "match",
                "fingerprint",
                "result",
            ][..],
            &[
                "decode",
                "normalize",
                "extract",
                "match",
                "fingerprint",
                "result",
            ][..],
        ),
        (
            &mut linker,
            &llog,
            &[
                "decode",
                "prepare",
                "link",
                "network_context",
                "finish",
                "analysis_json",
                "network_changes",
            ][..],
            &["decode", "link", "finish", "analysis_json"][..],
        ),
    ] {
        assert!(proc.sigterm().success());
        let cpu = proc.wait_for("cpu", Duration::from_secs(10), log);
        assert_eq!(cpu["cpu"]["ads"], n as u64, "{cpu}");
        let got = stages(&cpu);
        let got_names: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(got_names, want, "{cpu}");
        for stage in busy {
            assert!(us(&got, stage) > 0.0, "{stage}: {cpu}");
        }
        // The stages are part of the process: what is left is never negative.
        let counted: f64 = got.iter().map(|(_, u)| u).sum();
        let process = cpu["cpu"]["process_us_per_ad"].as_f64().unwrap();
        let outside = cpu["cpu"]["outside_stages_us_per_ad"].as_f64().unwrap();
        assert!(counted <= process + 1.0, "{cpu}");
        assert!((process - counted - outside).abs() < 1.0, "{cpu}");
        let stderr = std::fs::read_to_string(log).unwrap();
        assert!(
            stderr.contains(&format!("CPU per ad over {n} ads: decode ")),
            "{stderr}"
        );
    }
    let stopped = linker.wait_for("stopped", Duration::from_secs(10), &llog);
    assert_eq!(stopped["counts"]["created"], n as u64, "{stopped}");

    store.close().await;
    drop_schema(&pg, &schema).await;
    js.delete_stream(&names.0).await.unwrap();
    let _ = js.delete_stream(format!("{}_PREPARED", names.0)).await;
}
