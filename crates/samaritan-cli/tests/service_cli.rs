//! The service commands through the real binary: keys, serve (with demo data), audit verify
//! catching a tampered database, and the load generator.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use std::process::Command;

use common::{BIN, Client, Server, ad_json, make_key, policy_file};

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn keys_are_made_once_listed_without_secrets_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let key = make_key(dir.path(), "review,ingest");
    let listed = run(&["keys", "list", "--data-dir", d]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("\"scopes\":[\"ingest\",\"review\"]"),
        "{text}"
    );
    assert!(!text.contains(&key[17..]), "the secret is never listed");
    let id = &key[4..16];
    assert!(
        run(&["keys", "revoke", id, "--data-dir", d])
            .status
            .success()
    );
    let again = run(&["keys", "revoke", id, "--data-dir", d]);
    assert!(!again.status.success());
    let bad = run(&["keys", "create", "--scopes", "ingest,root", "--data-dir", d]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`root`"));
}

/// Where a test's store lives, as the CLI is told it (`--data-dir` or `--database`), and a way
/// to edit it behind the store's back (raw SQL through its own connection).
enum Place {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Place {
    fn sqlite() -> Place {
        Place::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A fresh schema in the test database (migrated), or `None` after a visible skip.
    fn postgres(test: &str) -> Option<Place> {
        let url = samaritan_testkit::postgres_url(test)?;
        let schema = format!("samaritan_cli_{}_{test}", std::process::id());
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = samaritan_store::Store::open_postgres_in_schema(&url, Some(&schema))
                .await
                .unwrap();
            store.close().await;
        });
        Some(Place::Postgres { url, schema })
    }

    fn args(&self) -> Vec<String> {
        match self {
            Place::Sqlite(dir) => {
                vec!["--data-dir".into(), dir.path().to_str().unwrap().to_owned()]
            }
            Place::Postgres { url, schema } => {
                let sep = if url.contains('?') { '&' } else { '?' };
                vec![
                    "--database".into(),
                    format!("{url}{sep}options=-c%20search_path%3D{schema}"),
                ]
            }
        }
    }

    /// Runs the CLI with `args` and this store.
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .args(self.args())
            .output()
            .unwrap()
    }

    fn make_admin_key(&self) {
        let out = self.run(&["keys", "create", "--scopes", "admin"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Edits the database directly, as someone with file or database access could.
    fn tamper(&self, statements: &[&str]) {
        use sqlx::Connection;
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            match self {
                Place::Sqlite(dir) => {
                    let db = dir.path().join(samaritan_store::SQLITE_FILE);
                    let mut c =
                        sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                            .await
                            .unwrap();
                    for sql in statements {
                        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                            .execute(&mut c)
                            .await
                            .unwrap();
                    }
                }
                Place::Postgres { url, schema } => {
                    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO {schema}")))
                        .execute(&mut c)
                        .await
                        .unwrap();
                    for sql in statements {
                        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                            .execute(&mut c)
                            .await
                            .unwrap();
                    }
                }
            }
        });
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Postgres { url, schema } = self {
            let (url, schema) = (url.clone(), schema.clone());
            // Dropped on a fresh thread: a runtime cannot start inside another.
            let _ = std::thread::spawn(move || {
                use sqlx::Connection;
                let rt = tokio::runtime::Runtime::new().unwrap();
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA IF EXISTS {schema} CASCADE"
                        )))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

#[test]
fn audit_verify_exits_non_zero_on_a_tampered_database_sqlite() {
    tampered_database(&Place::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
fn audit_verify_exits_non_zero_on_a_tampered_database_postgres() {
    if let Some(p) = Place::postgres("tampered") {
        tampered_database(&p);
    }
}

fn tampered_database(place: &Place) {
    for _ in 0..3 {
        place.make_admin_key();
    }
    let ok = place.run(&["audit", "verify"]);
    assert!(ok.status.success());
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["entries"], 3);
    let head = format!(
        "{}:{}",
        report["head_seq"],
        report["head_hash"].as_str().unwrap()
    );
    assert!(
        place
            .run(&["audit", "verify", "--expect-head", &head])
            .status
            .success()
    );
    let printed: serde_json::Value =
        serde_json::from_slice(&place.run(&["audit", "head"]).stdout).unwrap();
    assert_eq!(
        format!("{}:{}", printed["seq"], printed["hash"].as_str().unwrap()),
        head
    );

    // Edit the log behind the store's back.
    place.tamper(&["UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 2"]);
    let bad = place.run(&["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["problems"][0]["seq"], 2);
    assert_eq!(report["problems"][0]["kind"], "altered");
    assert_eq!(report["ok"], false);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("BROKEN"));
    // The service will not run on a broken record.
    let serve = place.run(&["serve", "--listen", "127.0.0.1:0", "--no-images"]);
    assert!(!serve.status.success());
    let err = String::from_utf8_lossy(&serve.stderr);
    assert!(
        err.contains("AUDIT CHAIN BROKEN") && err.contains("entry 2"),
        "{err}"
    );
}

/// A cut tail leaves a valid chain: only the head an operator kept outside the database
/// (`audit head`, or the checkpoints `serve` logs) shows it. `--expect-head` must catch it.
#[test]
fn a_cut_tail_is_caught_by_the_head_an_operator_kept_sqlite() {
    cut_tail(&Place::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
fn a_cut_tail_is_caught_by_the_head_an_operator_kept_postgres() {
    if let Some(p) = Place::postgres("cut_tail") {
        cut_tail(&p);
    }
}

fn cut_tail(place: &Place) {
    for _ in 0..3 {
        place.make_admin_key();
    }
    let printed: serde_json::Value =
        serde_json::from_slice(&place.run(&["audit", "head"]).stdout).unwrap();
    let head = format!("{}:{}", printed["seq"], printed["hash"].as_str().unwrap());
    assert_eq!(printed["seq"], 3);

    // The last entry and the key it recorded removed together, behind the store's back.
    place.tamper(&[
        "DELETE FROM api_keys WHERE id = (SELECT subject FROM audit_log WHERE seq = 3)",
        "DELETE FROM audit_log WHERE seq = 3",
    ]);
    // The chain itself is intact ...
    assert!(place.run(&["audit", "verify"]).status.success());
    // ... and the kept head is gone.
    let cut = place.run(&["audit", "verify", "--expect-head", &head]);
    assert_eq!(
        cut.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
}

#[test]
fn serve_refuses_a_broken_policy_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[policy]\nname = 1\n").unwrap();
    let out = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        d,
        "--policy",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line"), "{err}");
    // A policy whose own examples fail is refused too.
    let failing = dir.path().join("failing.toml");
    let text = std::fs::read_to_string(policy_file()).unwrap()
        + "\n[[test]]\nname = \"bicycle is benign\"\nbody = \"Road bicycle, new in town\"\nnot_fires = [\"itinerant_wording\"]\n";
    std::fs::write(&failing, text).unwrap();
    let out = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        d,
        "--policy",
        failing.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bicycle is benign"), "{err}");
    let bad_region = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        d,
        "--region",
        "XX",
    ]);
    assert!(!bad_region.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_analyses_with_the_engine_and_everything_is_back_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = make_key(dir.path(), "ingest,review,admin,audit");
    let mut server = Server::start(dir.path());
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let (status, text) = c
        .send(
            "POST",
            "/v1/ads",
            format!("[{},{},{}]", ad_json(0), ad_json(1), ad_json(2)),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let a0 = &v["results"][0]["analysis"];
    assert_eq!(a0["policy"], "service-test@1");
    assert_eq!(a0["signals"][0]["indicator"], "itinerant_wording");
    assert_eq!(
        a0["extracted"]["phones"][0], "7755550100",
        "the engine's extractor ran"
    );
    assert_eq!(v["results"][2]["analysis"]["verdict"], "block");
    let (_, claimed) = c
        .send("POST", "/v1/queue/claim", String::new())
        .await
        .unwrap();
    assert!(claimed.contains("dur-00002"), "{claimed}");
    let new_policy = std::fs::read_to_string(policy_file())
        .unwrap()
        .replace("version = \"1\"", "version = \"2\"");
    let (status, text) = c.send("PUT", "/v1/policy", new_policy).await.unwrap();
    assert_eq!(status, 200, "{text}");
    server.stop();

    let server = Server::start_with(dir.path(), None);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let (status, text) = c
        .send("GET", "/v1/ads/dur-00002", String::new())
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        v["queue"]["claimed_by"].as_str().is_some(),
        "the claim survived: {v}"
    );
    let (_, text) = c
        .send("GET", "/v1/search?phone=775-555-0101", String::new())
        .await
        .unwrap();
    assert!(text.contains("dur-00001"), "{text}");
    let (_, text) = c.send("POST", "/v1/ads", ad_json(3)).await.unwrap();
    assert!(
        text.contains("service-test@2"),
        "the stored policy is back in force: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_fills_an_empty_store_and_makes_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--demo-ads",
            "300",
            "--data-dir",
        ])
        .arg(dir.path())
        .arg("--policy")
        .arg(policy_file())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let v = common::announcement(&mut child);
    assert!(v["ads"].as_i64().unwrap() >= 300, "{v}");
    // stderr is read on a thread (a full pipe must not stall the server), then SIGTERM.
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let status = common::exit_within(&mut child, std::time::Duration::from_secs(60));
    assert!(status.success(), "serve exited with {status}");
    let err = reader.join().unwrap();
    assert!(err.contains("demo key"), "{err}");
    assert!(err.contains("sam_"), "{err}");
}

#[test]
fn bench_http_reports_latency_and_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let key = make_key(dir.path(), "ingest");
    let server = Server::start(dir.path());
    let ads = dir.path().join("ads.jsonl");
    std::fs::write(&ads, (0..200).map(ad_json).collect::<Vec<_>>().join("\n")).unwrap();
    let out = Command::new(BIN)
        .args([
            "bench-http",
            "--url",
            &format!("http://{}", server.addr),
            "--key",
            &key,
            "--concurrency",
            "4",
            "--batch",
            "10",
            "--ads",
        ])
        .arg(&ads)
        .arg("--policy")
        .arg(policy_file())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ads_acknowledged"], 200);
    assert_eq!(v["requests"], 20);
    assert!(v["latency_ms"]["p99"].as_f64().unwrap() >= v["latency_ms"]["p50"].as_f64().unwrap());
    assert!(v["service_over_in_process"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_console_times_both_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "bench-console",
            "--ads",
            "300",
            "--requests",
            "5",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ads"], 300);
    for page in ["queue_page", "ad_page"] {
        assert_eq!(v[page]["requests"], 5, "{v}");
        assert!(v[page]["p99_ms"].as_f64().unwrap() > 0.0, "{v}");
    }
    let bad = Command::new(BIN)
        .args(["bench-console", "--requests", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// A report decision opens a case with the configured reporter; `samaritan report` lists it,
/// shows it, and approves it as a second person, once.
#[test]
fn report_cases_are_listed_shown_and_approved_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let reporter = dir.path().join("reporter.toml");
    std::fs::write(
        &reporter,
        "platform = \"Example Classifieds\"\nemail = \"safety@example.org\"\n",
    )
    .unwrap();
    // A reporter without an e-mail is refused at start, naming the field.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "platform = \"x\"\nemail = \"nobody\"\n").unwrap();
    let out = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        d,
        "--reporter",
    ]
    .iter()
    .copied()
    .chain([bad.to_str().unwrap()])
    .collect::<Vec<_>>());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("email"));

    let key = make_key(dir.path(), "ingest,review");
    let mut server = Server::start_with_args(
        dir.path(),
        None,
        &["--no-images", "--reporter", reporter.to_str().unwrap()],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = Client::connect(&server.addr, &key).await.unwrap();
        let (status, _) = c
            .send(
                "POST",
                "/v1/ads",
                r#"{"id":"cr1","body":"Sweet 16yo new girl, incall $150/hr, my manager books, call 702-555-0143"}"#.into(),
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        let (status, claimed) = c.send("POST", "/v1/queue/claim", String::new()).await.unwrap();
        assert_eq!(status, 200, "{claimed}");
        assert!(claimed.contains("\"cr1\""), "{claimed}");
        let (status, body) = c
            .send(
                "POST",
                "/v1/ads/cr1/decision",
                r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#.into(),
            )
            .await
            .unwrap();
        assert_eq!(status, 201, "{body}");
    });
    server.stop();

    let listed = run(&["report", "list", "--state", "draft", "--data-dir", d]);
    assert!(listed.status.success());
    let text = String::from_utf8_lossy(&listed.stdout);
    let case: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(case["ad_id"], "cr1");
    assert_eq!(case["incident_type"], "Child Sex Trafficking");
    assert_eq!(case["draft"]["reporter"]["email"], "safety@example.org");
    assert_eq!(
        case["draft"]["incident_summary"]["platform"],
        "Example Classifieds"
    );
    let id = case["id"].to_string();
    let shown = run(&["report", "show", &id, "--data-dir", d]);
    assert!(shown.status.success());
    // Only an active lead or admin approves.
    for (name, role) in [("lead", "lead"), ("lead2", "lead"), ("rev", "reviewer")] {
        assert!(
            run(&["users", "create", name, "--role", role, "--data-dir", d])
                .status
                .success()
        );
    }
    let refused = run(&["report", "approve", &id, "--as", "rev", "--data-dir", d]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not an active lead"));
    let approved = run(&["report", "approve", &id, "--as", "lead", "--data-dir", d]);
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    let again = run(&["report", "approve", &id, "--as", "lead2", "--data-dir", d]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not a draft"));
    assert!(
        !run(&["report", "list", "--state", "filed", "--data-dir", d])
            .status
            .success()
    );

    // Filed with a mock CyberTipline: once, with the credentials from a file.
    let creds = dir.path().join("cybertip.credentials");
    std::fs::write(&creds, "esp:mock password\n").unwrap();
    let mut mock = Command::new(BIN)
        .args(["ncmec", "mock", "--listen", "127.0.0.1:0", "--credentials"])
        .arg(&creds)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = common::announcement(&mut mock)["listening"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = creds.to_str().unwrap();
    let filed = run(&[
        "report",
        "submit",
        &id,
        "--cybertip",
        &url,
        "--credentials",
        c,
        "--as",
        "lead",
        "--data-dir",
        d,
    ]);
    assert!(
        filed.status.success(),
        "{}",
        String::from_utf8_lossy(&filed.stderr)
    );
    let case: serde_json::Value = serde_json::from_slice(&filed.stdout).unwrap();
    assert_eq!(case["state"], "finished");
    assert!(case["ncmec_report_id"].as_str().is_some());
    let again = run(&[
        "report",
        "submit",
        &id,
        "--cybertip",
        &url,
        "--credentials",
        c,
        "--as",
        "lead",
        "--data-dir",
        d,
    ]);
    assert!(
        again.status.success(),
        "filing a finished case again sends nothing"
    );
    let _ = mock.kill();
    let _ = mock.wait();

    // A signed evidence bundle of the case: verifies with the exporter's key, not another's.
    let key = dir.path().join("evidence.key");
    let k = key.to_str().unwrap();
    assert!(run(&["evidence", "keygen", "--out", k]).status.success());
    assert!(
        !run(&["evidence", "keygen", "--out", k]).status.success(),
        "never overwritten"
    );
    let other = dir.path().join("other.key");
    assert!(
        run(&["evidence", "keygen", "--out", other.to_str().unwrap()])
            .status
            .success()
    );
    let bundle = dir.path().join("case.zip");
    let b = bundle.to_str().unwrap();
    let out = run(&[
        "evidence",
        "export",
        &id,
        "--key",
        k,
        "--out",
        b,
        "--data-dir",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pubkey = format!("{k}.pub");
    let ok = run(&["evidence", "verify", b, "--public-key", &pubkey]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["files"].as_u64().unwrap() >= 5, "{report}");
    let other_pub = format!("{}.pub", other.display());
    let bad = run(&["evidence", "verify", b, "--public-key", &other_pub]);
    assert_eq!(bad.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["signature_ok"], false);
    // A damaged file is an error, not a pass.
    let damaged = dir.path().join("damaged.zip");
    std::fs::write(&damaged, b"PK not really").unwrap();
    assert!(
        !run(&[
            "evidence",
            "verify",
            damaged.to_str().unwrap(),
            "--public-key",
            &pubkey
        ])
        .status
        .success()
    );
    let log = run(&["audit", "verify", "--data-dir", d]);
    assert!(log.status.success());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let exported = rt.block_on(async {
        let s = samaritan_store::Store::open_sqlite(dir.path())
            .await
            .unwrap();
        let log = s.audit_list(0, 10_000).await.unwrap();
        s.close().await;
        log.iter()
            .any(|e| e.action == "evidence.export" && e.actor == "cli")
    });
    assert!(exported, "the export is in the audit log");
}

/// The learned model through the real binary: imported, loaded by `serve`, scoring in shadow,
/// learning a batch of decisions as a new version, and back after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_scores_in_shadow_and_learns_decisions_with_an_imported_model() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let corpus = work.path().join("corpus");
    let model = work.path().join("m.json");
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    ok(run(&[
        "synth",
        "--ads",
        "300",
        "--seed",
        "4",
        "--out",
        corpus.to_str().unwrap(),
    ]));
    ok(run(&[
        "model",
        "train",
        "--truth",
        corpus.join("truth.jsonl").to_str().unwrap(),
        corpus.join("ads.jsonl").to_str().unwrap(),
        "--bits",
        "14",
        "--out",
        model.to_str().unwrap(),
    ]));
    let data = dir.path().to_str().unwrap();
    ok(run(&[
        "model",
        "import",
        model.to_str().unwrap(),
        "--data-dir",
        data,
    ]));
    let key = make_key(dir.path(), "ingest,review,lead");
    let mut server = Server::start_with_args(dir.path(), None, &["--model-batch", "2"]);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let (status, text) = c
        .send(
            "POST",
            "/v1/ads",
            format!("[{},{}]", ad_json(0), ad_json(1)),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let (_, text) = c
        .send("GET", "/v1/ads/dur-00000", String::new())
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let shadow = &v["model_shadow"][0];
    assert_eq!(shadow["model_version"], 1, "{v}");
    assert!(shadow["probability"].as_f64().is_some(), "{shadow}");
    for (id, action, reason) in [
        ("dur-00000", "remove", "commercial_sex"),
        ("dur-00001", "allow", "not_commercial"),
    ] {
        let body = serde_json::json!({
            "action": action, "reason": reason, "revision": 1, "override": true,
            "supersedes": null,
        });
        let (status, text) = c
            .send("POST", &format!("/v1/ads/{id}/decision"), body.to_string())
            .await
            .unwrap();
        assert_eq!(status, 201, "{text}");
    }
    // The learner is woken by the decisions: version 2 appears.
    let mut versions = Vec::new();
    for _ in 0..100 {
        versions = ok(run(&["model", "show", "--data-dir", data]))
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>();
        if versions.len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[0]["source"], "decisions");
    let labels: Vec<&str> = versions[0]["source_detail"]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["commercial", "benign"]);
    server.stop();
    // Back after a restart: the new ad is scored by version 2.
    let server = Server::start_with_args(dir.path(), None, &["--model-batch", "2"]);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let (status, text) = c.send("POST", "/v1/ads", ad_json(2)).await.unwrap();
    assert_eq!(status, 200, "{text}");
    let (_, text) = c
        .send("GET", "/v1/ads/dur-00002", String::new())
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["model_shadow"][0]["model_version"], 2, "{v}");
    let report: serde_json::Value =
        serde_json::from_str(&ok(run(&["audit", "verify", "--data-dir", data]))).unwrap();
    assert_eq!(report["ok"], true, "{report}");
}
