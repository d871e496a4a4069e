//! A SIGKILL at each step of filing a report case with two images, then a restart (issue 22).
//!
//! `samaritan report submit` runs as a child process against `samaritan ncmec mock` (another
//! child), whose script holds one call of the filing: before NCMEC acts on it (`--delay`), or
//! after it acted with the answer not yet sent (`--delay-answer`). The test sees the filer
//! there through the mock's `GET /mock/reports` and the store's `reports` row (read-only),
//! never by a guessed sleep, kills it (`Child::kill`: SIGKILL), and files again. Each time the
//! mock ends with exactly one finished report for the case, holding both images, each
//! described once; any other report it holds was retracted or never finished; the store says
//! `finished` with that report's id, and the audit chain verifies.
//!
//! A step left `submitting` or `submitted` is under its lease (the client's timeout and 30 s),
//! so a restart at once is refused ("another filer is at it"); the test then moves the lease
//! into the past (time passing) and files again. A step left `uploaded` is finished again at
//! once (finishing twice is harmless: "already finished", 5102, counts as finished).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{BIN, announcement, exit_within};
use http_body_util::BodyExt;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::{Scope, Store, now_ms};
use serde_json::Value;
use tower::ServiceExt;

/// Every call of a filer gives up after this long (`--timeout-secs`); a held call is held far
/// longer, so the filer is still waiting when it is killed.
const CALL_TIMEOUT_SECS: &str = "5";
/// How long the mock holds a call (far past the filer's timeout and this test).
const HOLD_MS: &str = "60000";
/// The longest any wait of this test may take before it fails.
const WITHIN: Duration = Duration::from_secs(30);

fn image(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../samaritan-media/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn call(app: &axum::Router, method: &str, uri: &str, key: &str, body: String) -> String {
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", format!("Bearer {key}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(
        status == StatusCode::OK || status == StatusCode::CREATED,
        "{method} {uri}: {status} {text}"
    );
    text
}

/// A store in `dir` holding one case approved for filing: an ad with both test images (kept in
/// `dir/blobs`), reported by a reviewer and approved by a lead, as the service makes it. The
/// store is closed on return; the case's id.
async fn approved_case(dir: &Path) -> i64 {
    use base64::Engine as _;
    let store = Store::open_sqlite(dir).await.unwrap();
    let blobs = samaritan_media::BlobStore::local(dir.join("blobs")).unwrap();
    let mut intake = samaritan_server::engine::service_intake(
        false,
        false,
        samaritan_media::DecodeLimits::default().max_bytes,
        samaritan_media::RequestLimits::default(),
    );
    intake.keep = Some(blobs.clone());
    let images = samaritan_server::engine::image_context(intake, &store, None)
        .await
        .unwrap();
    let analyzer = Arc::new(
        EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), Some(images)).unwrap(),
    );
    let state = AppState::new(
        store.clone(),
        analyzer,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
    );
    state
        .set_reporter(samaritan_server::reports::Reporter {
            platform: "Example Classifieds".into(),
            email: "safety@example.com".into(),
            first_name: None,
            last_name: None,
            phone: None,
            terms_of_service: None,
            legal_url: None,
        })
        .unwrap();
    let app = samaritan_server::router(state);
    let ingest = store
        .create_key("ingest", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let review = store
        .create_key("review", &[Scope::Review], "test")
        .await
        .unwrap()
        .secret;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let ad = serde_json::json!([{
        "id": "k1",
        "body": "Synthetic test listing: incall, 16yo, call 702-555-0143.",
        "url": "https://classifieds.example.com/ads/k1",
        "images": [{"base64": b64(&image("rgb.jpeg"))}, {"base64": b64(&image("small.jpg"))}],
    }]);
    call(&app, "POST", "/v1/ads", &ingest, ad.to_string()).await;
    call(&app, "POST", "/v1/queue/claim", &review, String::new()).await;
    call(
        &app,
        "POST",
        "/v1/ads/k1/decision",
        &review,
        r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#.into(),
    )
    .await;
    let case = store.reports(None, 10).await.unwrap()[0].id;
    store
        .report_approve(case, "user:lead", now_ms())
        .await
        .unwrap();
    let files = samaritan_server::cybertip::files::files_of(
        &store.report(case).await.unwrap().unwrap().draft,
    );
    assert_eq!(files.len(), 2, "the case has both images");
    for f in &files {
        let key = samaritan_media::BlobKey::image(&f.sha256).unwrap();
        assert!(blobs.has(&key).await.unwrap(), "both are kept");
    }
    store.close().await;
    case
}

/// `samaritan ncmec mock` as a child, killed when dropped.
struct MockNcmec {
    child: Child,
    addr: String,
    authorization: String,
}

impl MockNcmec {
    fn start(credentials: &Path, script: &[&str]) -> MockNcmec {
        use base64::Engine as _;
        let mut child = Command::new(BIN)
            .args(["ncmec", "mock", "--listen", "127.0.0.1:0", "--credentials"])
            .arg(credentials)
            .args(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let v = announcement(&mut child);
        let url = v["listening"].as_str().unwrap();
        let user_password = std::fs::read_to_string(credentials).unwrap();
        MockNcmec {
            addr: url.trim_start_matches("http://").to_owned(),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(user_password.trim())
            ),
            child,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `GET /mock/reports`: `{"reports": [...], "held": [...]}`.
    fn state(&self) -> Value {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(WITHIN)).unwrap();
        write!(
            s,
            "GET /mock/reports HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
            self.addr, self.authorization
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for MockNcmec {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the test sees of one filing at a moment: the mock's state, and the case in the store.
#[derive(Debug)]
struct Seen {
    mock: Value,
    /// The case's state.
    state: String,
    /// Files recorded for the case's current NCMEC report: uploaded, and described.
    uploaded: usize,
    described: usize,
}

impl Seen {
    fn reports(&self) -> &Vec<Value> {
        self.mock["reports"].as_array().unwrap()
    }

    /// Whether the mock is holding a call of `path`, acted on already or not.
    fn holds(&self, path: &str, acted: bool) -> bool {
        self.mock["held"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["path"] == path && h["acted"] == acted)
    }

    /// The files of the mock's only report: (count, how many described).
    fn mock_files(&self) -> (usize, usize) {
        assert_eq!(self.reports().len(), 1, "{self:?}");
        let files = self.reports()[0]["files"].as_array().unwrap();
        let described = files.iter().filter(|f| f["described"] == true).count();
        (files.len(), described)
    }
}

/// One case filed against a scripted mock, in a fresh store.
struct Filing {
    dir: tempfile::TempDir,
    case: i64,
    credentials: PathBuf,
    mock: MockNcmec,
    rt: tokio::runtime::Runtime,
}

impl Filing {
    fn new(script: &[&str]) -> Filing {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let case = rt.block_on(approved_case(dir.path()));
        let credentials = dir.path().join("cybertip-credentials");
        std::fs::write(&credentials, "esp-test:kill-test-password\n").unwrap();
        let mock = MockNcmec::start(&credentials, script);
        Filing {
            dir,
            case,
            credentials,
            mock,
            rt,
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join(samaritan_store::SQLITE_FILE)
    }

    /// `samaritan report submit CASE` against the mock, as a child.
    fn submit(&self) -> Child {
        Command::new(BIN)
            .args(["report", "submit", &self.case.to_string(), "--cybertip"])
            .arg(self.mock.url())
            .arg("--credentials")
            .arg(&self.credentials)
            .args([
                "--as",
                "lead",
                "--timeout-secs",
                CALL_TIMEOUT_SECS,
                "--blob-dir",
            ])
            .arg(self.dir.path().join("blobs"))
            .arg("--data-dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Files the case to its end: the exit status and stderr.
    fn submit_to_end(&self) -> (std::process::ExitStatus, String) {
        let mut child = self.submit();
        let status = exit_within(&mut child, Duration::from_secs(60));
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    }

    /// The mock's state and the case's row in the store (opened read-only, as another
    /// process may be writing it).
    fn seen(&self) -> Seen {
        let mock = self.mock.state();
        let (state, uploaded, described) = self.rt.block_on(async {
            use sqlx::ConnectOptions;
            let mut c = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(self.db())
                .read_only(true)
                .connect()
                .await
                .unwrap();
            let (state,): (String,) = sqlx::query_as("SELECT state FROM reports WHERE id = $1")
                .bind(self.case)
                .fetch_one(&mut c)
                .await
                .unwrap();
            let (uploaded, described): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COUNT(f.described_at) FROM report_files f JOIN reports r \
                 ON r.id = f.report_id AND r.ncmec_report_id = f.ncmec_report_id WHERE r.id = $1",
            )
            .bind(self.case)
            .fetch_one(&mut c)
            .await
            .unwrap();
            (state, uploaded as usize, described as usize)
        });
        Seen {
            mock,
            state,
            uploaded,
            described,
        }
    }

    /// Starts filing, waits (polling) until `at` holds, SIGKILLs the filer there and returns
    /// what was seen at that moment. The case is still in `state` after the kill.
    fn kill_when(&self, state: &str, at: impl Fn(&Seen) -> bool) -> Seen {
        let mut filer = self.submit();
        let start = Instant::now();
        let seen = loop {
            let seen = self.seen();
            if seen.state == state && at(&seen) {
                break seen;
            }
            if let Some(status) = filer.try_wait().unwrap() {
                let mut err = String::new();
                let _ = filer.stderr.take().unwrap().read_to_string(&mut err);
                panic!("the filer ended ({status}) before the step to kill it at: {err}\n{seen:?}");
            }
            if start.elapsed() > WITHIN {
                let _ = filer.kill();
                panic!("the filer did not reach the step to kill it at: {seen:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        filer.kill().unwrap(); // SIGKILL
        let status = filer.wait().unwrap();
        assert!(!status.success(), "killed: {status}");
        let after = self.seen();
        assert_eq!(after.state, state, "the kill landed at the step: {after:?}");
        seen
    }

    /// Restarts filing after the kill: refused at once while the step's lease runs when
    /// `leased`, so the lease is moved into the past (time passing) first. Returns the mock's
    /// state at the end, once checked that the case was filed exactly once.
    fn restart(&self, leased: bool) -> Value {
        if leased {
            let (status, err) = self.submit_to_end();
            assert_eq!(status.code(), Some(1), "{err}");
            assert!(err.contains("another filer is at it"), "{err}");
            self.rt.block_on(async {
                use sqlx::Connection;
                let mut c =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.db().display()))
                        .await
                        .unwrap();
                sqlx::query("UPDATE reports SET lease_until = 0 WHERE id = $1")
                    .bind(self.case)
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            });
        }
        let (status, err) = self.submit_to_end();
        assert!(status.success(), "the restart filed it: {err}");
        self.filed_once()
    }

    /// Checks the end: one finished report on the mock with both images, each described
    /// once; every other report retracted or never finished; the store agrees; the audit
    /// chain verifies. Returns the mock's state.
    fn filed_once(&self) -> Value {
        let mock = self.mock.state();
        let reports = mock["reports"].as_array().unwrap().clone();
        let finished: Vec<&Value> = reports.iter().filter(|r| r["finished"] == true).collect();
        assert_eq!(finished.len(), 1, "exactly one finished report: {mock}");
        let done = finished[0];
        assert_eq!(done["retracted"], false);
        for r in reports.iter().filter(|r| r["id"] != done["id"]) {
            assert!(
                r["retracted"] == true || r["finished"] == false,
                "left retracted or unfinished: {r}"
            );
        }
        let (case, recorded) = self.rt.block_on(async {
            let store = Store::open_sqlite(self.dir.path()).await.unwrap();
            let case = store.report(self.case).await.unwrap().unwrap();
            let files = store.report_files(self.case).await.unwrap();
            store.close().await;
            (case, files)
        });
        assert_eq!(case.state, "finished", "{case:?}");
        assert_eq!(case.filing_error, None);
        let ncmec = case.ncmec_report_id.clone().unwrap();
        assert_eq!(done["id"].to_string(), ncmec, "the store names that report");
        // Both images, in the ad's order, each once and described once; the MD5 the mock
        // computed of what it received is the one the service computed at intake.
        let want = samaritan_server::cybertip::files::files_of(&case.draft);
        let files = done["files"].as_array().unwrap();
        assert_eq!(files.len(), 2, "{done}");
        for (f, w) in files.iter().zip(&want) {
            assert_eq!(f["md5"].as_str(), w.md5.as_deref(), "{done}");
            assert_eq!(f["name"], format!("{}.bin", w.sha256));
            assert_eq!(f["descriptions"], 1, "{done}");
        }
        let mine: Vec<_> = recorded
            .iter()
            .filter(|r| r.ncmec_report_id == ncmec)
            .collect();
        assert_eq!(mine.len(), 2, "{recorded:?}");
        assert!(mine.iter().all(|r| r.described_at.is_some()));
        let out = Command::new(BIN)
            .args(["audit", "verify", "--data-dir"])
            .arg(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(verdict["ok"], true, "{verdict}");
        mock
    }
}

fn report<'a>(reports: &'a [Value], id: &Value) -> &'a Value {
    reports.iter().find(|r| r["id"] == *id).unwrap()
}

#[test]
fn killed_submitting_before_ncmec_acted_on_the_submit() {
    let f = Filing::new(&["--delay", &format!("/submit={HOLD_MS}")]);
    let seen = f.kill_when("submitting", |s| s.holds("/submit", false));
    assert!(seen.reports().is_empty(), "{seen:?}");
    let end = f.restart(true);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "the held submit was never acted on");
    assert_eq!(end["calls"]["/submit"], 2, "{end}");
}

#[test]
fn killed_submitting_after_ncmec_made_the_report_with_the_answer_lost() {
    let f = Filing::new(&["--delay-answer", &format!("/submit={HOLD_MS}")]);
    let seen = f.kill_when("submitting", |s| s.holds("/submit", true));
    assert_eq!(seen.reports().len(), 1, "{seen:?}");
    let lost = seen.reports()[0]["id"].clone();
    let end = f.restart(true);
    let reports = end["reports"].as_array().unwrap();
    // The filer never learnt that report's id: it stays open, unfinished (NCMEC deletes it
    // within a day), and the case is filed as a new report.
    assert_eq!(reports.len(), 2);
    let lost = report(reports, &lost);
    assert_eq!(lost["finished"], false, "{lost}");
    assert!(lost["files"].as_array().unwrap().is_empty());
}

#[test]
fn killed_submitted_with_the_first_upload_not_yet_acted_on() {
    let f = Filing::new(&["--delay", &format!("/upload={HOLD_MS}")]);
    let seen = f.kill_when("submitted", |s| s.holds("/upload", false));
    assert_eq!((seen.uploaded, seen.mock_files()), (0, (0, 0)), "{seen:?}");
    let first = seen.reports()[0]["id"].clone();
    let end = f.restart(true);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(report(reports, &first)["retracted"], true);
}

#[test]
fn killed_submitted_with_the_first_upload_made_and_its_answer_lost() {
    let f = Filing::new(&["--delay-answer", &format!("/upload={HOLD_MS}")]);
    let seen = f.kill_when("submitted", |s| s.holds("/upload", true));
    // NCMEC holds the file; the store does not know it arrived.
    assert_eq!((seen.uploaded, seen.mock_files()), (0, (1, 0)), "{seen:?}");
    let first = seen.reports()[0]["id"].clone();
    let end = f.restart(true);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(report(reports, &first)["retracted"], true);
}

#[test]
fn killed_submitted_between_the_first_and_second_uploads() {
    let f = Filing::new(&[
        "--delay",
        "/upload=0",
        "--delay",
        &format!("/upload={HOLD_MS}"),
    ]);
    let seen = f.kill_when("submitted", |s| s.holds("/upload", false));
    // One file sent, described and recorded; the second not yet acted on.
    assert_eq!(
        (seen.uploaded, seen.described, seen.mock_files()),
        (1, 1, (1, 1)),
        "{seen:?}"
    );
    let first = seen.reports()[0]["id"].clone();
    let end = f.restart(true);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(report(reports, &first)["retracted"], true);
}

#[test]
fn killed_submitted_during_the_first_fileinfo_before_ncmec_acted() {
    let f = Filing::new(&["--delay", &format!("/fileinfo={HOLD_MS}")]);
    let seen = f.kill_when("submitted", |s| s.holds("/fileinfo", false));
    assert_eq!(
        (seen.uploaded, seen.described, seen.mock_files()),
        (1, 0, (1, 0)),
        "{seen:?}"
    );
    let first = seen.reports()[0]["id"].clone();
    let end = f.restart(true);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(report(reports, &first)["retracted"], true);
}

#[test]
fn killed_submitted_during_the_last_fileinfo_acted_on_with_the_answer_lost() {
    let f = Filing::new(&[
        "--delay-answer",
        "/fileinfo=0",
        "--delay-answer",
        &format!("/fileinfo={HOLD_MS}"),
    ]);
    let seen = f.kill_when("submitted", |s| s.holds("/fileinfo", true));
    // NCMEC holds both files described; the store knows of the second's upload only.
    assert_eq!(
        (seen.uploaded, seen.described, seen.mock_files()),
        (2, 1, (2, 2)),
        "{seen:?}"
    );
    let first = seen.reports()[0]["id"].clone();
    let end = f.restart(true);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    let first = report(reports, &first);
    assert_eq!(
        (&first["retracted"], &first["finished"]),
        (&Value::Bool(true), &Value::Bool(false)),
        "{first}"
    );
}

#[test]
fn killed_uploaded_with_the_finish_acted_on_and_its_answer_lost() {
    let f = Filing::new(&["--delay-answer", &format!("/finish={HOLD_MS}")]);
    let seen = f.kill_when("uploaded", |s| s.holds("/finish", true));
    assert_eq!(seen.reports()[0]["finished"], true, "{seen:?}");
    let finished = seen.reports()[0]["id"].clone();
    // Finishing again is answered "already finished" (5102), which counts as finished: no
    // lease to wait out, no second report.
    let end = f.restart(false);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["id"], finished);
    // The restart did call /finish, on a finished report: the mock's only answer to that is
    // 5102, and the case was recorded finished.
    assert_eq!(end["calls"]["/finish"], 2, "{end}");
}

#[test]
fn killed_uploaded_with_the_finish_not_yet_acted_on() {
    let f = Filing::new(&["--delay", &format!("/finish={HOLD_MS}")]);
    let seen = f.kill_when("uploaded", |s| s.holds("/finish", false));
    assert_eq!(seen.mock_files(), (2, 2), "{seen:?}");
    assert_eq!(seen.reports()[0]["finished"], false, "{seen:?}");
    let end = f.restart(false);
    let reports = end["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(end["calls"]["/finish"], 2, "{end}");
}
