//! Filing a report case with its images (issue 22): each kept image is uploaded and described
//! after the report is submitted, every step recorded; a failure or a stop while the files are
//! being sent retracts that report and files the case afresh, so the (mock) CyberTipline ends
//! with exactly one finished report per case, holding each file once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::cybertip::client::{Client, Credentials};
use samaritan_server::cybertip::filing::file;
use samaritan_server::cybertip::mock::Mock;
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::{FilingStep, Scope, Store, now_ms};
use tower::ServiceExt;

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    blobs: samaritan_media::BlobStore,
    app: axum::Router,
    ingest: String,
    review: String,
    mock: Mock,
    client: Arc<Client>,
    images: Vec<Vec<u8>>,
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../samaritan-media/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let blobs = samaritan_media::BlobStore::local(dir.path().join("blobs")).unwrap();
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
    state.serve_images_from(blobs.clone());
    state
        .set_reporter(samaritan_server::reports::Reporter {
            platform: "Example Classifieds".into(),
            email: "safety@example.org".into(),
            first_name: None,
            last_name: None,
            phone: None,
            terms_of_service: None,
            legal_url: None,
        })
        .unwrap();
    let mock = Mock::new("esp", "pw");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = mock.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = Arc::new(Client::new(
        &base,
        &Credentials::parse("esp:pw").unwrap(),
        std::time::Duration::from_secs(5),
    ));
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
    World {
        _dir: dir,
        store,
        blobs,
        app: samaritan_server::router(state),
        ingest,
        review,
        mock,
        client,
        images: vec![data("rgb.jpeg"), data("small.jpg")],
    }
}

impl World {
    async fn call(&self, method: &str, uri: &str, key: &str, body: String) -> (StatusCode, String) {
        let resp = self
            .app
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
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An ad with both images, reported by a reviewer and approved by a lead: its case id.
    async fn approved_case(&self, id: &str) -> i64 {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let ad = serde_json::json!([{
            "id": id,
            "body": "new girl 16yo incall, call 702-555-0143",
            "url": format!("https://classifieds.example/ads/{id}"),
            "account": "acct-77",
            "poster": {"display_name": "Sunny & Co", "profile_url": "https://classifieds.example/u/acct-77"},
            "images": [{"base64": b64(&self.images[0])}, {"base64": b64(&self.images[1])}],
        }]);
        let (s, t) = self
            .call("POST", "/v1/ads", &self.ingest, ad.to_string())
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        let (s, t) = self
            .call("POST", "/v1/queue/claim", &self.review, String::new())
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        let (s, t) = self
            .call(
                "POST",
                &format!("/v1/ads/{id}/decision"),
                &self.review,
                r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#.into(),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let case = self
            .store
            .reports(None, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.ad_id == id)
            .unwrap();
        self.store
            .report_approve(case.id, "user:lead", now_ms())
            .await
            .unwrap();
        case.id
    }

    fn finished_with(&self, ad: &str) -> Vec<samaritan_server::cybertip::mock::MockReport> {
        self.mock
            .reports()
            .into_values()
            .filter(|r| r.finished && r.xml.contains(&format!("/ads/{ad}<")))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_uploaded_described_and_listed_once_on_the_finished_report() {
    let w = world().await;
    let case = w.approved_case("i1").await;
    let shas: Vec<String> = w
        .images
        .iter()
        .map(|b| samaritan_store::sha256_hex(b))
        .collect();
    for s in &shas {
        let key = samaritan_media::BlobKey::image(s).unwrap();
        assert!(w.blobs.has(&key).await.unwrap(), "both images are kept");
    }
    let done = file(
        &w.store,
        w.client.clone(),
        Some(&w.blobs),
        case,
        "user:lead",
    )
    .await
    .unwrap();
    assert_eq!(done.state, "finished");
    let sent = w.finished_with("i1");
    assert_eq!(sent.len(), 1);
    // The reported user is named as the platform shows them.
    for part in [
        "<espIdentifier>acct-77</espIdentifier>",
        "<displayName>Sunny &amp; Co</displayName>",
        "<profileUrl>https://classifieds.example/u/acct-77</profileUrl>",
    ] {
        assert!(sent[0].xml.contains(part), "{part} in {}", sent[0].xml);
    }
    let files = &sent[0].files;
    assert_eq!(files.len(), 2, "{files:?}");
    for (f, (bytes, sha)) in files.iter().zip(w.images.iter().zip(&shas)) {
        assert_eq!(f.bytes, bytes.len());
        assert_eq!(f.name, format!("{sha}.bin"));
        let details = f.details.as_deref().expect("described");
        assert!(
            details.contains(&format!("<originalFileHash hashType=\"SHA256\">{sha}<")),
            "{details}"
        );
        assert!(details.contains("<fileRelevance>Reported</fileRelevance>"));
    }
    // Recorded step by step, with NCMEC's ids and MD5s.
    let recorded = w.store.report_files(case).await.unwrap();
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|r| r.described_at.is_some()
        && Some(r.ncmec_report_id.as_str()) == done.ncmec_report_id.as_deref()));
    let md5s: Vec<&str> = files.iter().map(|f| f.md5.as_str()).collect();
    for r in &recorded {
        assert!(md5s.contains(&r.md5.as_deref().unwrap()));
    }
    let log = w.store.audit_list(0, 10_000).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "report.file").count(), 4);
    assert!(w.store.audit_verify().await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_while_sending_files_retracts_that_report_and_the_next_attempt_files_once() {
    let w = world().await;
    // The second upload fails (500), then a described file is refused (4100), then a timeout.
    for (path, codes) in [("/upload", vec![0, 500]), ("/fileinfo", vec![4100])] {
        let case = w.approved_case(&format!("u{}", path.len())).await;
        for c in codes {
            w.mock.fail_next(path, c);
        }
        let e = file(
            &w.store,
            w.client.clone(),
            Some(&w.blobs),
            case,
            "user:lead",
        )
        .await
        .unwrap_err();
        let now = w.store.report(case).await.unwrap().unwrap();
        assert_eq!(now.state, "failed", "{path}: {e}");
        let error = now.filing_error.unwrap();
        assert!(error.contains("500") || error.contains("4100"), "{error}");
        let left: Vec<_> = w
            .mock
            .reports()
            .into_values()
            .filter(|r| !r.finished)
            .collect();
        assert!(left.iter().all(|r| r.retracted), "{path}: {left:?}");
        let done = file(
            &w.store,
            w.client.clone(),
            Some(&w.blobs),
            case,
            "user:lead",
        )
        .await
        .unwrap();
        assert_eq!(done.state, "finished");
        let sent = w.finished_with(&format!("u{}", path.len()));
        assert_eq!(sent.len(), 1, "{path}");
        assert_eq!(sent[0].files.len(), 2);
        assert!(sent[0].files.iter().all(|f| f.details.is_some()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_between_uploads_is_resumed_by_retracting_and_filing_afresh() {
    let w = world().await;
    let case = w.approved_case("s1").await;
    // What a filer that stopped after its first upload leaves: NCMEC holds the report and one
    // file; the store says submitted, with that upload recorded and not described.
    let draft = w.store.report(case).await.unwrap().unwrap().draft;
    let x = samaritan_server::cybertip::xml::report(&draft, &[]).unwrap();
    let c = w.client.clone();
    let first = w.images[0].clone();
    let (ncmec, file_id, md5) = tokio::task::spawn_blocking(move || {
        let n = c.submit(&x).unwrap();
        let (f, m) = c.upload(&n, "x.bin", &first).unwrap();
        (n, f, m)
    })
    .await
    .unwrap();
    for (from, to, n) in [
        ("approved", "submitting", None),
        ("submitting", "submitted", Some(ncmec.as_str())),
    ] {
        w.store
            .report_filing(
                case,
                FilingStep {
                    from: &[from],
                    to,
                    ncmec_report_id: n,
                    error: None,
                    lease_until: Some(now_ms() + 60_000),
                },
                "user:lead",
                now_ms(),
            )
            .await
            .unwrap();
    }
    let sha = samaritan_store::sha256_hex(&w.images[0]);
    w.store
        .report_file_step(
            case,
            &ncmec,
            &sha,
            &file_id,
            md5.as_deref(),
            false,
            now_ms() + 60_000,
            "user:lead",
            now_ms(),
        )
        .await
        .unwrap();
    // Within the lease another filer may still be at it: left alone.
    let e = file(
        &w.store,
        w.client.clone(),
        Some(&w.blobs),
        case,
        "user:lead",
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("another filer"), "{e}");
    // After it: that report is retracted and the case filed afresh, once.
    let dir = w._dir.path().join("samaritan.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE reports SET lease_until = 0")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let done = file(
        &w.store,
        w.client.clone(),
        Some(&w.blobs),
        case,
        "user:lead",
    )
    .await
    .unwrap();
    assert_eq!(done.state, "finished");
    let reports = w.mock.reports();
    let old = &reports[&ncmec.parse::<u64>().unwrap()];
    assert!(old.retracted && !old.finished);
    let sent = w.finished_with("s1");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].files.len(), 2);
    // A file step for a report the case no longer is refused.
    let e = w
        .store
        .report_file_step(
            case,
            &ncmec,
            &sha,
            "f",
            None,
            true,
            now_ms(),
            "user:lead",
            now_ms(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("finished"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_finish_on_a_report_another_filer_finished_counts_as_finished() {
    let w = world().await;
    let case = w.approved_case("g1").await;
    // The first filer's finish fails (500): the case is left uploaded.
    w.mock.fail_next("/finish", 500);
    assert!(
        file(
            &w.store,
            w.client.clone(),
            Some(&w.blobs),
            case,
            "user:lead"
        )
        .await
        .is_err()
    );
    let left = w.store.report(case).await.unwrap().unwrap();
    assert_eq!(left.state, "uploaded");
    let n = left.ncmec_report_id.unwrap();
    // Someone finishes that report; the next finish is refused for good, and the retract
    // that follows is answered "already finished": the case is finished, not failed.
    let c = w.client.clone();
    let m = n.clone();
    tokio::task::spawn_blocking(move || c.finish(&m).unwrap())
        .await
        .unwrap();
    w.mock.fail_next("/finish", 4200);
    let done = file(
        &w.store,
        w.client.clone(),
        Some(&w.blobs),
        case,
        "user:lead",
    )
    .await
    .unwrap();
    assert_eq!(done.state, "finished");
    assert_eq!(w.finished_with("g1").len(), 1);
    assert!(w.mock.reports().values().all(|r| !r.retracted));
}
