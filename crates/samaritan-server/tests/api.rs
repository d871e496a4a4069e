//! The HTTP API end to end (in process, through the router), with a small deterministic analyzer
//! standing in for the engine: every status, error shape, limit and the review flow.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use samaritan_engine::model::{Ad, Analysis, Extracted, NetworkRef, Verdict};
use samaritan_server::{Analyzer, AppState, Limits, PolicyInfo, PolicyRejection};
use samaritan_store::{Scope, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Verdict by marker words, phones as 10-digit runs, network by `net-` accounts; policy texts
/// are `name = "…"` lines, and a line containing `broken` fails the check on that line.
struct TestAnalyzer {
    policy: RwLock<PolicyInfo>,
}

impl TestAnalyzer {
    fn new() -> TestAnalyzer {
        TestAnalyzer {
            policy: RwLock::new(PolicyInfo {
                label: "test@1".into(),
                text: "name = \"test\"\nversion = 1\n".into(),
            }),
        }
    }

    fn label(text: &str) -> Result<String, PolicyRejection> {
        for (i, line) in text.lines().enumerate() {
            if line.contains("broken") {
                return Err(PolicyRejection {
                    message: format!("line {}: `broken` is not a rule", i + 1),
                    line: Some(i + 1),
                });
            }
        }
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|r| r.strip_suffix('"'))
            .ok_or(PolicyRejection {
                message: "no name".into(),
                line: None,
            })?;
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("version = "))
            .unwrap_or("0");
        Ok(format!("{name}@{version}"))
    }
}

impl Analyzer for TestAnalyzer {
    fn analyze(&self, ads: &[Ad]) -> Vec<Analysis> {
        let label = self.policy.read().unwrap().label.clone();
        ads.iter()
            .map(|ad| {
                let doc = ad.document();
                let (verdict, priority) = if doc.contains("urgent") {
                    (Verdict::Block, 90)
                } else if doc.contains("review") {
                    (Verdict::Review, 10)
                } else {
                    (Verdict::Allow, 0)
                };
                let digits: Vec<String> = doc
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|d| d.len() == 10)
                    .map(str::to_owned)
                    .collect();
                Analysis {
                    schema: 1,
                    id: ad.id.clone(),
                    verdict,
                    score: f64::from(priority) / 100.0,
                    priority,
                    report_candidate: false,
                    signals: Vec::new(),
                    extracted: Extracted {
                        phones: digits,
                        ..Extracted::default()
                    },
                    mentions: Vec::new(),
                    network: ad
                        .account
                        .as_deref()
                        .filter(|a| a.starts_with("net-"))
                        .map(|a| NetworkRef {
                            id: a.to_owned(),
                            size: 2,
                            cities: 1,
                            reasons: vec!["account".into()],
                        }),
                    template: None,
                    policy: label.clone(),
                    images: Vec::new(),
                }
            })
            .collect()
    }

    fn policy(&self) -> PolicyInfo {
        self.policy.read().unwrap().clone()
    }

    fn check_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        TestAnalyzer::label(text)
    }

    fn set_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        let label = TestAnalyzer::label(text)?;
        *self.policy.write().unwrap() = PolicyInfo {
            label: label.clone(),
            text: text.to_owned(),
        };
        Ok(label)
    }
}

struct Api {
    app: Router,
    state: AppState,
    store: Store,
    ingest: String,
    review: String,
    review2: String,
    admin: String,
    audit: String,
    lead: String,
    _dir: Option<tempfile::TempDir>,
}

async fn api_on(store: Store, limits: Limits, dir: Option<tempfile::TempDir>) -> Api {
    let key = |scopes: &'static [Scope], name: &'static str| {
        let store = store.clone();
        async move { store.create_key(name, scopes, "test").await.unwrap().secret }
    };
    let ingest = key(&[Scope::Ingest], "ingest").await;
    let review = key(&[Scope::Review], "alice").await;
    let review2 = key(&[Scope::Review], "bob").await;
    let admin = key(&[Scope::Admin], "admin").await;
    let audit = key(&[Scope::Audit], "auditor").await;
    let lead = key(&[Scope::Lead], "lead").await;
    let state = AppState::new(store.clone(), Arc::new(TestAnalyzer::new()), limits);
    Api {
        app: samaritan_server::router(state.clone()),
        state,
        store,
        ingest,
        review,
        review2,
        admin,
        audit,
        lead,
        _dir: dir,
    }
}

async fn api_with(limits: Limits) -> Api {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    api_on(store, limits, Some(dir)).await
}

async fn api() -> Api {
    api_with(Limits {
        rate_per_sec: 0.0,
        ..Limits::default()
    })
    .await
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts the error shape and returns (code, field).
    fn error(&self, status: StatusCode) -> (String, Option<String>) {
        assert_eq!(self.status, status, "{}", self.text);
        let v = self.json();
        let e = &v["error"];
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        (
            e["code"].as_str().unwrap().to_owned(),
            e["field"].as_str().map(str::to_owned),
        )
    }
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: impl Into<Body>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn post_ads(&self, body: &str) -> Resp {
        self.call("POST", "/v1/ads", Some(&self.ingest), body.to_owned())
            .await
    }
}

#[tokio::test]
async fn ingest_is_idempotent_and_evidence_reads_are_audited() {
    let api = api().await;
    let r = api
        .post_ads(r#"{"id":"a1","title":"Bike","body":"call 7755550101 review"}"#)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["results"][0]["status"], "created");
    assert_eq!(v["results"][0]["analysis"]["verdict"], "review");
    assert_eq!(
        v["results"][0]["analysis"]["extracted"]["phones"][0],
        "7755550101"
    );

    // Same content, different whitespace: unchanged, not analysed again.
    let r = api
        .post_ads(r#"{ "body":"call 7755550101 review", "title":"Bike", "id":"a1" }"#)
        .await;
    assert_eq!(r.json()["results"][0]["status"], "unchanged");
    let r = api
        .post_ads(r#"[{"id":"a1","body":"changed"},{"id":"a2","body":"urgent"},{"id":"a3"}]"#)
        .await;
    let v = r.json();
    let statuses: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("updated"), json!("created"), json!("created")]
    );
    assert_eq!(v["results"][0]["revision"], 2);

    let r = api
        .call("GET", "/v1/ads/a2", Some(&api.review), Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["ad"], json!({"id":"a2","body":"urgent"}));
    assert_eq!(v["analysis"]["verdict"], "block");
    assert_eq!(v["queue"]["state"], "open");
    let audit = api
        .call("GET", "/v1/audit", Some(&api.audit), Body::empty())
        .await
        .json();
    let reads: Vec<_> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "ad.read")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["subject"], "a2");
    assert!(reads[0]["actor"].as_str().unwrap().starts_with("key:"));
    let (code, _) = api
        .call("GET", "/v1/ads/nope", Some(&api.review), Body::empty())
        .await
        .error(StatusCode::NOT_FOUND);
    assert_eq!(code, "not_found");
}

#[tokio::test]
async fn every_v1_endpoint_needs_the_right_key() {
    let api = api().await;
    for (method, path) in [
        ("POST", "/v1/ads"),
        ("GET", "/v1/ads/x"),
        ("POST", "/v1/ads/x/decision"),
        ("GET", "/v1/queue"),
        ("POST", "/v1/queue/claim"),
        ("POST", "/v1/queue/x/release"),
        ("GET", "/v1/search?phone=7755550101"),
        ("GET", "/v1/networks/x"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/audit/verify"),
        ("GET", "/v1/policy"),
        ("PUT", "/v1/policy"),
        ("GET", "/v1/reports"),
        ("GET", "/v1/reports/1"),
        ("POST", "/v1/reports/1/approve"),
        ("GET", "/metrics"),
    ] {
        let r = api.call(method, path, None, Body::empty()).await;
        let (code, _) = r.error(StatusCode::UNAUTHORIZED);
        assert_eq!(code, "unauthorized", "{method} {path}");
        assert_eq!(r.headers["www-authenticate"], "Bearer");
        let bogus = format!("sam_{}_{}", "0".repeat(12), "0".repeat(64));
        api.call(method, path, Some(&bogus), Body::empty())
            .await
            .error(StatusCode::UNAUTHORIZED);
    }
    // Wrong scope: 403 naming the scope.
    for (method, path, key) in [
        ("POST", "/v1/ads", &api.review),
        ("GET", "/v1/ads/x", &api.ingest),
        ("GET", "/v1/queue", &api.ingest),
        ("GET", "/v1/audit", &api.review),
        ("PUT", "/v1/policy", &api.review),
        ("GET", "/metrics", &api.review),
        ("GET", "/v1/reports", &api.ingest),
        ("POST", "/v1/reports/1/approve", &api.review),
    ] {
        let r = api.call(method, path, Some(key), Body::empty()).await;
        let (code, _) = r.error(StatusCode::FORBIDDEN);
        assert_eq!(code, "forbidden");
        assert!(r.text.contains("scope"), "{}", r.text);
    }
    // Revoked keys stop working.
    let k = api
        .store
        .create_key("tmp", &[Scope::Review], "test")
        .await
        .unwrap();
    assert_eq!(
        api.call("GET", "/v1/queue", Some(&k.secret), Body::empty())
            .await
            .status,
        StatusCode::OK
    );
    api.store.revoke_key(&k.record.id, "test").await.unwrap();
    // With the default key cache (0 ms), revocation in the store counts on the next request.
    api.call("GET", "/v1/queue", Some(&k.secret), Body::empty())
        .await
        .error(StatusCode::UNAUTHORIZED);
    // Health and the document need none.
    assert_eq!(
        api.call("GET", "/healthz", None, Body::empty())
            .await
            .status,
        StatusCode::OK
    );
    let r = api.call("GET", "/readyz", None, Body::empty()).await;
    assert_eq!(r.json()["store"], "sqlite");
    let doc = api
        .call("GET", "/openapi.json", None, Body::empty())
        .await
        .json();
    for p in [
        "/v1/ads",
        "/v1/ads/{id}",
        "/v1/ads/{id}/decision",
        "/v1/queue",
        "/v1/queue/claim",
        "/v1/search",
        "/v1/networks/{id}",
        "/v1/audit",
        "/v1/policy",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
    assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
}

#[tokio::test]
async fn a_key_cache_delays_revocation_by_at_most_its_time() {
    let api = api_with(Limits {
        rate_per_sec: 0.0,
        key_cache_ms: 60_000,
        ..Limits::default()
    })
    .await;
    let k = api
        .store
        .create_key("tmp", &[Scope::Review], "test")
        .await
        .unwrap();
    let queue = || api.call("GET", "/v1/queue", Some(&k.secret), Body::empty());
    assert_eq!(queue().await.status, StatusCode::OK);
    api.store.revoke_key(&k.record.id, "test").await.unwrap();
    // Within the cache time the server still trusts what it checked (documented trade-off).
    assert_eq!(queue().await.status, StatusCode::OK);
    // A key never seen is checked at once whatever the cache.
    let fresh = api
        .store
        .create_key("tmp2", &[Scope::Review], "test")
        .await
        .unwrap();
    api.store
        .revoke_key(&fresh.record.id, "test")
        .await
        .unwrap();
    api.call("GET", "/v1/queue", Some(&fresh.secret), Body::empty())
        .await
        .error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn author_fields_images_per_ad_and_image_urls_are_capped() {
    use samaritan_server::AdLimits;
    let api = api_with(Limits {
        rate_per_sec: 0.0,
        ad: AdLimits {
            max_title_bytes: 20,
            max_text_bytes: 100,
            max_field_bytes: 64,
            max_meta_bytes: 30,
            max_images: 3,
        },
        max_url_images: 2,
        ..Limits::default()
    })
    .await;
    let pdq = |i: usize| json!({"pdq": format!("{i:064x}")});
    let url = |i: usize| json!({"url": format!("https://img.example/{i}.jpg")});
    // At every limit exactly: accepted.
    let at_limit = json!([
        {"id": "ok1", "title": "t".repeat(20), "body": "b".repeat(100),
         "account": "a".repeat(64), "location": {"city": "c".repeat(64)},
         "meta": {"k": "m".repeat(22)}, "images": [pdq(1), pdq(2), url(1)]},
        {"id": "ok2", "url": "u".repeat(64), "images": [url(2)]},
    ]);
    let r = api.post_ads(&at_limit.to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 2);

    let cases = [
        (
            json!({"id": "x", "body": "b".repeat(101)}),
            "field_too_large",
            "body",
        ),
        (
            json!([{"id": "x"}, {"id": "y", "title": "t".repeat(21)}]),
            "field_too_large",
            "ads[1].title",
        ),
        (
            json!({"id": "x", "location": {"region": "r".repeat(65)}}),
            "field_too_large",
            "location.region",
        ),
        (
            json!({"id": "x", "account": "a".repeat(65)}),
            "field_too_large",
            "account",
        ),
        (
            json!({"id": "x", "meta": {"k": "m".repeat(23)}}),
            "field_too_large",
            "meta",
        ),
        (
            json!([{"id": "x", "images": [pdq(1), pdq(2), pdq(3), pdq(4)]}]),
            "too_many_images",
            "ads[0].images",
        ),
        (
            json!({"id": "x", "images": [{"url": format!("https://e/{}", "p".repeat(64))}]}),
            "field_too_large",
            "images[0].url",
        ),
        (
            json!([{"id": "x", "images": [url(1), url(2)]}, {"id": "y", "images": [pdq(1), url(3)]}]),
            "too_many_image_urls",
            "ads[1].images[1].url",
        ),
    ];
    for (body, want_code, want_field) in cases {
        let r = api.post_ads(&body.to_string()).await;
        let (code, field) = r.error(StatusCode::BAD_REQUEST);
        assert_eq!(
            (code.as_str(), field.as_deref()),
            (want_code, Some(want_field)),
            "{}",
            r.text
        );
    }
    assert_eq!(
        api.store.stats().await.unwrap().ads,
        2,
        "nothing of a refused request is stored"
    );
}

#[tokio::test]
async fn hostile_and_malformed_input_is_refused_clearly_and_stores_nothing() {
    let api = api_with(Limits {
        rate_per_sec: 0.0,
        max_body_bytes: 4096,
        max_batch: 5,
        ..Limits::default()
    })
    .await;
    let cases: Vec<(Body, StatusCode, &str, Option<&str>)> = vec![
        (
            Body::from("{\"id\":\"a\""),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            None,
        ),
        (
            Body::from("[{\"id\":\"a\"},{\"id\":\"b\",\"boddy\":\"x\"}]"),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("ads[1].boddy"),
        ),
        (
            Body::from("[{\"id\":\"a\"},{\"id\":\"b\",\"posted_at\":\"soon\"}]"),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("ads[1].posted_at"),
        ),
        (
            Body::from("{\"id\":\"a\",\"images\":[{\"link\":\"https://e/x\"}]}"),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("images[0].link"),
        ),
        (
            Body::from(
                "{\"id\":\"a\",\"images\":[{\"pdq\":\"0\"},{\"path\":\"p\",\"url\":\"u\"}]}",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("images[1]"),
        ),
        (
            Body::from("{\"id\":\"\"}"),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("id"),
        ),
        (
            Body::from("{\"id\":7}"),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("id"),
        ),
        (
            Body::from(format!("{{\"id\":\"{}\"}}", "x".repeat(300))),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("id"),
        ),
        (
            Body::from(b"{\"id\":\"a\",\"body\":\"\xff\xfe\"}".to_vec()),
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            None,
        ),
        (
            Body::from("[{\"id\":\"a\"},{\"id\":\"a\"}]"),
            StatusCode::BAD_REQUEST,
            "duplicate_id",
            Some("ads[1].id"),
        ),
        (
            Body::from("[]"),
            StatusCode::BAD_REQUEST,
            "empty_batch",
            Some("ads"),
        ),
        (Body::from(""), StatusCode::BAD_REQUEST, "empty_body", None),
        (
            Body::from("\"just a string\""),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            None,
        ),
        (
            Body::from(
                format!("{}{}", "[".repeat(5000), "]".repeat(5000))
                    .chars()
                    .take(4000)
                    .collect::<String>(),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            None,
        ),
        (
            Body::from(format!(
                "{{\"id\":\"a\",\"body\":\"{}\"}}",
                "x".repeat(5000)
            )),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            None,
        ),
        (
            Body::from(
                serde_json::to_string(
                    &(0..6)
                        .map(|i| json!({"id": format!("b{i}")}))
                        .collect::<Vec<_>>(),
                )
                .unwrap(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            Some("ads"),
        ),
    ];
    for (body, status, want_code, want_field) in cases {
        let r = api.call("POST", "/v1/ads", Some(&api.ingest), body).await;
        let (code, field) = r.error(status);
        assert_eq!(code, want_code, "{}", r.text);
        assert_eq!(field.as_deref(), want_field, "{}", r.text);
    }
    // A streamed body without a length is cut at the limit too.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..10)
        .map(|_| Ok(bytes::Bytes::from(vec![b' '; 1000])))
        .collect();
    let r = api
        .call(
            "POST",
            "/v1/ads",
            Some(&api.ingest),
            Body::from_stream(futures_stream(chunks)),
        )
        .await;
    assert_eq!(r.error(StatusCode::PAYLOAD_TOO_LARGE).0, "body_too_large");
    assert_eq!(
        api.store.stats().await.unwrap().ads,
        0,
        "nothing of a refused request is stored"
    );

    // Paths, methods, queries.
    assert_eq!(
        api.call("GET", "/v2/nothing", Some(&api.review), Body::empty())
            .await
            .error(StatusCode::NOT_FOUND)
            .0,
        "not_found"
    );
    assert_eq!(
        api.call("DELETE", "/v1/ads", Some(&api.ingest), Body::empty())
            .await
            .error(StatusCode::METHOD_NOT_ALLOWED)
            .0,
        "method_not_allowed"
    );
    let long = format!("/v1/search?phone={}", "5".repeat(10_000));
    let r = api
        .call("GET", &long, Some(&api.review), Body::empty())
        .await;
    assert_eq!(
        r.error(StatusCode::URI_TOO_LONG),
        ("uri_too_long".to_owned(), Some("uri".to_owned()))
    );
    let bad_queries = [
        ("/v1/queue?limit=0", "limit"),
        ("/v1/queue?limit=abc", "query"),
        ("/v1/queue?state=done", "state"),
        ("/v1/queue?colour=red", "query"),
        ("/v1/search", "query"),
        ("/v1/search?phone=1&email=a@b.c", "query"),
        ("/v1/search?phone=12", "phone"),
        ("/v1/search?pdq=zz", "pdq"),
        ("/v1/search?pdq=00&max_distance=999", "max_distance"),
    ];
    for (path, field) in bad_queries {
        let (_, f) = api
            .call("GET", path, Some(&api.review), Body::empty())
            .await
            .error(StatusCode::BAD_REQUEST);
        assert_eq!(f.as_deref(), Some(field), "{path}");
    }
    let long = format!("/v1/ads/{}", "x".repeat(300));
    assert_eq!(
        api.call("GET", &long, Some(&api.review), Body::empty())
            .await
            .error(StatusCode::BAD_REQUEST)
            .1
            .as_deref(),
        Some("id")
    );
    // Decisions.
    api.post_ads(r#"{"id":"d1","body":"review"}"#).await;
    for (body, field) in [
        (
            r#"{"action":"delete","reason":"spam","revision":1}"#,
            Some("action"),
        ),
        (r#"{"action":"remove","revision":1}"#, Some("reason")),
        (r#"{"action":"remove","reason":"spam"}"#, Some("revision")),
        (
            r#"{"action":"remove","reason":"","revision":1}"#,
            Some("reason"),
        ),
        (
            r#"{"action":"remove","reason":"not_commercial","revision":1}"#,
            Some("reason"),
        ),
        (
            r#"{"action":"remove","reason":"spam","revision":1,"colour":1}"#,
            Some("colour"),
        ),
        (
            r#"{"action":"remove","reason":"spam","revision":1,"supersedes":3}"#,
            Some("supersedes"),
        ),
        (r#"not json"#, None),
    ] {
        let r = api
            .call(
                "POST",
                "/v1/ads/d1/decision",
                Some(&api.review),
                body.to_owned(),
            )
            .await;
        let (_, f) = r.error(StatusCode::BAD_REQUEST);
        if field.is_some() {
            assert_eq!(f.as_deref(), field, "{body}: {}", r.text);
        }
    }
    api.call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
        .await;
    let r = api
        .call(
            "POST",
            "/v1/ads/d1/decision",
            Some(&api.review),
            format!(
                r#"{{"action":"allow","reason":"not_commercial","revision":1,"note":"{}"}}"#,
                "n".repeat(3000)
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

fn futures_stream(
    items: Vec<Result<bytes::Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    futures_util::stream::iter(items)
}

#[tokio::test]
async fn each_key_has_its_own_rate() {
    let api = api_with(Limits {
        rate_per_sec: 0.5,
        burst: 2.0,
        ..Limits::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            api.call("GET", "/v1/queue", Some(&api.review), Body::empty())
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = api
        .call("GET", "/v1/queue", Some(&api.review), Body::empty())
        .await;
    assert_eq!(r.error(StatusCode::TOO_MANY_REQUESTS).0, "rate_limited");
    assert_eq!(r.headers["retry-after"], "2");
    assert_eq!(
        api.call("GET", "/v1/queue", Some(&api.review2), Body::empty())
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn review_queue_leases_and_decisions() {
    let api = api().await;
    let r = api
        .post_ads(r#"[{"id":"q1","body":"review"},{"id":"q2","body":"urgent"},{"id":"q3","body":"review"},{"id":"q4","body":"fine"}]"#)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let q = api
        .call("GET", "/v1/queue", Some(&api.review), Body::empty())
        .await
        .json();
    let ids: Vec<_> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ad_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["q2", "q1", "q3"]);

    let a = api
        .call(
            "POST",
            "/v1/queue/claim",
            Some(&api.review),
            r#"{"limit":2}"#,
        )
        .await
        .json();
    let alice: Vec<_> = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ad_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(alice, ["q2", "q1"]);
    let b = api
        .call("POST", "/v1/queue/claim", Some(&api.review2), Body::empty())
        .await
        .json();
    let bob: Vec<_> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ad_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(bob, ["q3"], "never an item another reviewer holds");

    let r = api
        .call(
            "POST",
            "/v1/ads/q2/decision",
            Some(&api.review2),
            r#"{"action":"remove","reason":"trafficking_indicators","revision":1}"#,
        )
        .await;
    assert_eq!(r.error(StatusCode::CONFLICT).0, "claimed");
    let r = api
        .call(
            "POST",
            "/v1/queue/q2/release",
            Some(&api.review2),
            Body::empty(),
        )
        .await;
    assert_eq!(r.error(StatusCode::CONFLICT).0, "not_claimed");
    let r = api
        .call(
            "POST",
            "/v1/ads/q2/decision",
            Some(&api.review),
            r#"{"action":"report","reason":"minor_indicators","note":"see photo 2","revision":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["action"], "report");
    let r = api
        .call(
            "POST",
            "/v1/ads/q1/decision",
            Some(&api.review),
            r#"{"action":"escalate","reason":"needs_lead","revision":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let esc = api
        .call(
            "GET",
            "/v1/queue?state=escalated",
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(esc["items"][0]["ad_id"], "q1");
    assert_eq!(
        api.call(
            "POST",
            "/v1/queue/q3/release",
            Some(&api.review2),
            Body::empty()
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let (_, f) = api
        .call(
            "POST",
            "/v1/queue/claim",
            Some(&api.review),
            r#"{"lease_seconds":1}"#,
        )
        .await
        .error(StatusCode::BAD_REQUEST);
    assert_eq!(f.as_deref(), Some("lease_seconds"));
    let (_, f) = api
        .call(
            "POST",
            "/v1/queue/claim",
            Some(&api.review),
            r#"{"state":"decided"}"#,
        )
        .await
        .error(StatusCode::BAD_REQUEST);
    assert_eq!(f.as_deref(), Some("state"));
    let ad = api
        .call("GET", "/v1/ads/q2", Some(&api.review), Body::empty())
        .await
        .json();
    assert_eq!(ad["decisions"][0]["reason"], "minor_indicators");
    assert_eq!(ad["queue"]["state"], "decided");
    let report = api
        .call("GET", "/v1/audit/verify", Some(&api.audit), Body::empty())
        .await
        .json();
    assert_eq!(report["problems"], json!([]));
    assert_eq!(report["ok"], true);
    assert!(report["entries"].as_u64().unwrap() >= 8);
}

#[tokio::test]
async fn search_and_networks() {
    let api = api().await;
    api.post_ads(&format!(
        r#"[{{"id":"s1","body":"review 7755550123","account":"net-9"}},
            {{"id":"s2","body":"urgent 7755550123","account":"net-9","images":[{{"sha256":"{}","pdq":"{}"}}]}},
            {{"id":"s3","body":"7755550199"}}]"#,
        "ab".repeat(32),
        "f0".repeat(32)
    ))
    .await;
    let v = api
        .call(
            "GET",
            "/v1/search?phone=%2B1%20775-555-0123",
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    let hits: Vec<_> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["ad_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(hits, ["s2", "s1"]);
    assert_eq!(v["hits"][0]["network_id"], "net-9");
    let v = api
        .call(
            "GET",
            &format!("/v1/search?pdq={}f1&max_distance=1", "f0".repeat(31)),
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(v["hits"][0]["distance"], 1);
    let v = api
        .call(
            "GET",
            &format!("/v1/search?sha256={}", "AB".repeat(32)),
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(v["hits"][0]["ad_id"], "s2");
    let v = api
        .call(
            "GET",
            "/v1/search?account=net-9&limit=1",
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(v["hits"].as_array().unwrap().len(), 1);
    let n = api
        .call(
            "GET",
            "/v1/networks/net-9",
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(n["members"].as_array().unwrap().len(), 2);
    assert_eq!(n["reasons"], json!(["account"]));
    api.call("GET", "/v1/networks/none", Some(&api.review), Body::empty())
        .await
        .error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn policy_is_checked_before_the_swap_and_survives_a_restart() {
    let api = api().await;
    let r = api
        .call("GET", "/v1/policy", Some(&api.admin), Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["samaritan-policy"], "test@1");
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/toml")
    );
    assert!(r.text.contains("name = \"test\""));

    let r = api
        .call(
            "PUT",
            "/v1/policy",
            Some(&api.admin),
            "name = \"strict\"\nbroken rule\n",
        )
        .await;
    let (code, field) = r.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("invalid_policy", Some("line 2"))
    );
    assert_eq!(
        api.state.analyzer().policy().label,
        "test@1",
        "a rejected policy changes nothing"
    );
    assert!(api.store.current_policy().await.unwrap().is_none());

    let r = api
        .call(
            "PUT",
            "/v1/policy",
            Some(&api.admin),
            "name = \"strict\"\nversion = 2\n",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({"label": "strict@2", "version": 1}));
    let v = api.post_ads(r#"{"id":"p1","body":"x"}"#).await.json();
    assert_eq!(
        v["results"][0]["analysis"]["policy"], "strict@2",
        "in force without a restart"
    );
    let audit = api
        .call("GET", "/v1/audit", Some(&api.audit), Body::empty())
        .await
        .json();
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "policy.update")
    );

    // A new process over the same store comes back with the stored policy.
    let fresh = AppState::new(
        api.store.clone(),
        Arc::new(TestAnalyzer::new()),
        Limits::default(),
    );
    assert_eq!(
        samaritan_server::restore_policy(&fresh)
            .await
            .unwrap()
            .as_deref(),
        Some("strict@2")
    );
    assert_eq!(fresh.analyzer().policy().label, "strict@2");
}

#[tokio::test]
async fn metrics_count_requests_and_store_state() {
    let api = api().await;
    api.post_ads(r#"[{"id":"m1","body":"review"},{"id":"m2"}]"#)
        .await;
    let r = api
        .call("GET", "/metrics", Some(&api.audit), Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        r.text.contains(
            "samaritan_http_requests_total{route=\"/v1/ads\",method=\"POST\",status=\"200\"} 1"
        ),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("samaritan_ingested_ads_total{status=\"created\"} 2")
    );
    assert!(r.text.contains("samaritan_ads 2"));
    assert!(r.text.contains("samaritan_queue_open 1"));
    // The review dashboard's figures: the `review` ad (priority 10) waits in the low band.
    assert!(
        r.text
            .contains("samaritan_queue_depth{band=\"low\",state=\"open\"} 1"),
        "{}",
        r.text
    );
    assert!(r.text.contains("samaritan_report_decisions 0"));
    assert!(!r.text.contains("m1"), "ad ids never become metric labels");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
async fn the_api_works_the_same_on_postgres() {
    let Some(url) = samaritan_testkit::postgres_url("api::the_api_works_the_same_on_postgres")
    else {
        return;
    };
    let schema = format!("samaritan_api_test_{}", std::process::id());
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    let api = api_on(
        store,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
        None,
    )
    .await;
    let r = api
        .post_ads(r#"[{"id":"g1","body":"urgent 7755550142"},{"id":"g2","body":"review"}]"#)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let claimed = api
        .call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
        .await
        .json();
    assert_eq!(claimed["items"].as_array().unwrap().len(), 2);
    let r = api
        .call(
            "POST",
            "/v1/ads/g1/decision",
            Some(&api.review2),
            r#"{"action":"remove","reason":"spam","revision":1}"#,
        )
        .await;
    r.error(StatusCode::CONFLICT);
    let r = api
        .call(
            "POST",
            "/v1/ads/g1/decision",
            Some(&api.review),
            r#"{"action":"remove","reason":"spam","revision":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let v = api
        .call(
            "GET",
            "/v1/search?phone=7755550142",
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(v["hits"][0]["ad_id"], "g1");
    let report = api
        .call("GET", "/v1/audit/verify", Some(&api.audit), Body::empty())
        .await
        .json();
    assert_eq!(report["problems"], json!([]));
    assert_eq!(
        api.call("GET", "/readyz", None, Body::empty()).await.json()["store"],
        "postgres"
    );
    api.store.close().await;
    // Leave nothing behind.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}

/// Runs raw SQL on the database behind an [`Api`], bypassing the store (to tamper with it).
enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl Raw {
    async fn exec(&self, sql: &str) {
        match self {
            Raw::Sqlite(dir) => {
                let url = format!(
                    "sqlite://{}",
                    dir.join(samaritan_store::SQLITE_FILE).display()
                );
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
            Raw::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "SET search_path TO \"{schema}\"; {sql}"
                )))
                .execute(&pool)
                .await
                .unwrap();
                pool.close().await;
            }
        }
    }
}

/// The review-integrity flow of issue 19, the same on both stores: decisions need a live claim
/// and the current revision, overrides need a lead and name what they replace, concurrent
/// deciders get exactly one winner, every evidence read and claim is audited, and tampering
/// with a decision row is caught by `/v1/audit/verify` (409) and `/readyz` (503).
async fn review_integrity(api: &Api, raw: &Raw) {
    let decide = |key: &str, id: &str, body: &str| {
        let (key, path, body) = (
            key.to_owned(),
            format!("/v1/ads/{id}/decision"),
            body.to_owned(),
        );
        async move { api.call("POST", &path, Some(&key), body).await }
    };
    assert_eq!(
        api.post_ads(r#"{"id":"ri1","body":"review one","account":"net-7"}"#)
            .await
            .status,
        StatusCode::OK
    );
    let listed = api
        .store
        .queue_list(
            samaritan_store::QueueState::Open,
            10,
            samaritan_store::now_ms(),
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    // No claim: refused, nothing recorded.
    let r = decide(
        &api.review,
        "ri1",
        r#"{"action":"allow","reason":"not_commercial","revision":1}"#,
    )
    .await;
    assert_eq!(r.error(StatusCode::CONFLICT).0, "not_claimed");
    // The queue item says what to triage and which revision to name.
    let claimed = api
        .call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
        .await
        .json();
    let item = &claimed["items"][0];
    assert!(
        claimed["items"].as_array().is_some_and(|a| a.len() == 1),
        "{claimed}"
    );
    assert_eq!(item["ad_id"], "ri1");
    assert_eq!(item["state"], "claimed");
    assert_eq!(item["revision"], 1);
    assert_eq!(item["snippet"], "review one");
    assert_eq!(item["network"]["id"], "net-7");
    assert!(item["lease_until"].as_str().unwrap().ends_with('Z'));
    assert!(item["enqueued_at"].as_str().unwrap().contains('T'));
    // The ad changes under the reviewer: their decision on revision 1 is refused.
    assert_eq!(
        api.post_ads(r#"{"id":"ri1","body":"review one, now edited","account":"net-7"}"#)
            .await
            .json()["results"][0]["revision"],
        2
    );
    let r = decide(
        &api.review,
        "ri1",
        r#"{"action":"allow","reason":"not_commercial","revision":1}"#,
    )
    .await;
    assert_eq!(r.error(StatusCode::CONFLICT).0, "stale_revision");
    let r = decide(
        &api.review,
        "ri1",
        r#"{"action":"allow","reason":"not_commercial","revision":2}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let allowed = r.json();
    assert_eq!(
        (&allowed["revision"], &allowed["basis"]),
        (&json!(2), &json!("claim"))
    );
    // A stale reviewer cannot overwrite it; a reviewer cannot override; a lead can, once.
    let r = decide(
        &api.review2,
        "ri1",
        r#"{"action":"remove","reason":"commercial_sex","revision":2}"#,
    )
    .await;
    assert_eq!(r.error(StatusCode::CONFLICT).0, "not_claimed");
    let r = decide(
        &api.review,
        "ri1",
        r#"{"action":"remove","reason":"commercial_sex","revision":2,"override":true}"#,
    )
    .await;
    assert_eq!(r.error(StatusCode::FORBIDDEN).0, "forbidden");
    let over = format!(
        r#"{{"action":"remove","reason":"minor_indicators","revision":2,"override":true,"supersedes":{}}}"#,
        allowed["seq"]
    );
    let r = decide(&api.lead, "ri1", &over).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["supersedes"], allowed["seq"]);
    let r = decide(&api.lead, "ri1", &over).await;
    assert_eq!(r.error(StatusCode::CONFLICT).0, "decision_changed");
    // An admin key overrides too (README: "lead or admin"); without `override` it needs `review`.
    let led = r#"{"action":"remove","reason":"minor_indicators","revision":2}"#;
    assert_eq!(
        decide(&api.admin, "ri1", led)
            .await
            .error(StatusCode::FORBIDDEN)
            .0,
        "forbidden"
    );
    let latest = api
        .call("GET", "/v1/ads/ri1", Some(&api.review), Body::empty())
        .await
        .json()["decisions"][1]["seq"]
        .clone();
    let by_admin = format!(
        r#"{{"action":"report","reason":"child_sex_trafficking","revision":2,"override":true,"supersedes":{latest}}}"#
    );
    let r = decide(&api.admin, "ri1", &by_admin).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Re-posting a decided ad re-opens review; the API shows which decision judged which revision.
    api.post_ads(r#"{"id":"ri1","body":"review one, third text","account":"net-7"}"#)
        .await;
    let ad = api
        .call("GET", "/v1/ads/ri1", Some(&api.review), Body::empty())
        .await
        .json();
    assert_eq!(ad["revision"], 3);
    assert_eq!(ad["queue"]["state"], "open");
    let revisions: Vec<_> = ad["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["revision"].as_i64().unwrap(),
                d["basis"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        revisions,
        [
            (2, "claim".into()),
            (2, "override".into()),
            (2, "override".into())
        ]
    );

    // Twelve reviewers race for one item: exactly one decision lands.
    api.post_ads(r#"{"id":"race","body":"urgent race"}"#).await;
    let mut keys = Vec::new();
    for i in 0..12 {
        keys.push(
            api.store
                .create_key(&format!("racer{i}"), &[Scope::Review], "test")
                .await
                .unwrap()
                .secret,
        );
    }
    let mut tasks = Vec::new();
    for k in keys {
        let app = api.app.clone();
        tasks.push(tokio::spawn(async move {
            let call = |method: &str, path: &str, body: &str| {
                Request::builder()
                    .method(method)
                    .uri(path)
                    .header("authorization", format!("Bearer {k}"))
                    .body(Body::from(body.to_owned()))
                    .unwrap()
            };
            app.clone()
                .oneshot(call("POST", "/v1/queue/claim", r#"{"limit":100}"#))
                .await
                .unwrap();
            app.oneshot(call(
                "POST",
                "/v1/ads/race/decision",
                r#"{"action":"remove","reason":"commercial_sex","revision":1}"#,
            ))
            .await
            .unwrap()
            .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT)
    );

    // Evidence reads and claims are on the record.
    api.call(
        "GET",
        "/v1/search?phone=7755550199",
        Some(&api.review),
        Body::empty(),
    )
    .await;
    api.call(
        "GET",
        "/v1/networks/net-7",
        Some(&api.review),
        Body::empty(),
    )
    .await;
    // Listing the queue shows titles and snippets: an evidence read like the others.
    let listed = api
        .call(
            "GET",
            "/v1/queue?state=decided",
            Some(&api.review),
            Body::empty(),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let log = api
        .call(
            "GET",
            "/v1/audit?limit=1000",
            Some(&api.audit),
            Body::empty(),
        )
        .await
        .json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in [
        "queue.claim",
        "decision",
        "ad.read",
        "search",
        "network.read",
        "queue.read",
    ] {
        assert!(actions.contains(&want), "{want} not audited: {actions:?}");
    }
    let read = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "queue.read" && e["subject"] == "decided")
        .unwrap_or_else(|| panic!("queue.read names the state listed: {log}"));
    assert!(read["detail"]["ads"].is_array(), "{read}");
    let search = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "search")
        .unwrap();
    assert!(
        !search.to_string().contains("7755550199"),
        "values are hashed"
    );

    // Intact, then a removal turned into an allow directly in the database.
    let r = api
        .call("GET", "/v1/audit/verify", Some(&api.audit), Body::empty())
        .await;
    assert_eq!((r.status, &r.json()["ok"]), (StatusCode::OK, &json!(true)));
    raw.exec(
        "UPDATE decisions SET action = 'allow' WHERE action = 'remove' AND basis = 'override'",
    )
    .await;
    let r = api
        .call("GET", "/v1/audit/verify", Some(&api.audit), Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let v = r.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["kind"], "decision_altered");
    let r = api.call("GET", "/readyz", None, Body::empty()).await;
    assert_eq!(r.error(StatusCode::SERVICE_UNAVAILABLE).0, "audit_broken");
    // Restored: ready again at the next verification.
    raw.exec(
        "UPDATE decisions SET action = 'remove' WHERE action = 'allow' AND basis = 'override'",
    )
    .await;
    samaritan_server::verify_audit(&api.state).await.unwrap();
    assert_eq!(
        api.call("GET", "/readyz", None, Body::empty()).await.status,
        StatusCode::OK
    );
}

/// A `report` decision opens a report case (a draft built from the ad and its evidence, text
/// only here); a second lead approves it; everything is audited and counted in `/metrics`.
async fn report_cases(api: &Api) {
    let body = r#"{"id":"rp1","title":"New <girl> & more","body":"Sweet 16, urgent, call 7025550142","url":"https://classifieds.example/ads/rp1","account":"acct-rp","location":{"city":"Reno","region":"NV","country":"US"},"posted_at":"2026-11-30T10:00:00Z"}"#;
    assert_eq!(api.post_ads(body).await.status, StatusCode::OK);
    let claimed = api
        .call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
        .await
        .json();
    assert_eq!(claimed["items"][0]["ad_id"], "rp1", "{claimed}");
    let r = api
        .call(
            "POST",
            "/v1/ads/rp1/decision",
            Some(&api.review),
            r#"{"action":"report","reason":"online_enticement","revision":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let list = api
        .call(
            "GET",
            "/v1/reports?state=draft",
            Some(&api.review),
            Body::empty(),
        )
        .await
        .json();
    let case = &list["reports"][0];
    assert_eq!(case["ad_id"], "rp1", "{list}");
    assert_eq!(case["state"], "draft");
    assert_eq!(
        case["incident_type"],
        "Online Enticement of Children for Sexual Acts"
    );
    let d = &case["draft"];
    assert_eq!(
        d["internet_details"]["web_page"]["url"],
        "https://classifieds.example/ads/rp1"
    );
    assert_eq!(d["person_or_user_reported"]["esp_identifier"], "acct-rp");
    assert_eq!(
        d["person_or_user_reported"]["estimated_location"]["city"],
        "Reno"
    );
    assert_eq!(
        d["evidence"]["title"], "New <girl> & more",
        "kept as text, escaped on output"
    );
    assert_eq!(
        d["incident_summary"]["incident_date_time"],
        "2026-11-30T10:00:00Z"
    );
    assert!(
        d["missing"].to_string().contains("reporter"),
        "no reporter configured: {d}"
    );
    let id = case["id"].as_i64().unwrap();
    // Bad ids, unknown states, missing cases: clear errors.
    api.call("GET", "/v1/reports/abc", Some(&api.review), Body::empty())
        .await
        .error(StatusCode::BAD_REQUEST);
    api.call(
        "GET",
        "/v1/reports?state=filed",
        Some(&api.review),
        Body::empty(),
    )
    .await
    .error(StatusCode::BAD_REQUEST);
    api.call("GET", "/v1/reports/99999", Some(&api.review), Body::empty())
        .await
        .error(StatusCode::NOT_FOUND);
    // A reviewer cannot approve; a lead can, once.
    api.call(
        "POST",
        &format!("/v1/reports/{id}/approve"),
        Some(&api.review),
        Body::empty(),
    )
    .await
    .error(StatusCode::FORBIDDEN);
    let r = api
        .call(
            "POST",
            &format!("/v1/reports/{id}/approve"),
            Some(&api.lead),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["state"], "approved");
    let (code, _) = api
        .call(
            "POST",
            &format!("/v1/reports/{id}/approve"),
            Some(&api.admin),
            Body::empty(),
        )
        .await
        .error(StatusCode::CONFLICT);
    assert_eq!(code, "state");
    // The lead who decides to report cannot approve their own case (two persons).
    assert_eq!(
        api.post_ads(r#"{"id":"rp2","body":"Sweet 16, urgent, call 7025550142"}"#)
            .await
            .status,
        StatusCode::OK
    );
    let r = api
        .call(
            "POST",
            "/v1/ads/rp2/decision",
            Some(&api.lead),
            r#"{"action":"report","reason":"child_sex_trafficking","revision":1,"override":true}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let list = api
        .call("GET", "/v1/reports", Some(&api.review), Body::empty())
        .await
        .json();
    let second = &list["reports"][0];
    assert_eq!(second["ad_id"], "rp2");
    assert_eq!(
        second["follow_up_of"],
        serde_json::json!([id]),
        "same phone: a follow-up"
    );
    let (code, _) = api
        .call(
            "POST",
            &format!("/v1/reports/{}/approve", second["id"]),
            Some(&api.lead),
            Body::empty(),
        )
        .await
        .error(StatusCode::CONFLICT);
    assert_eq!(code, "two_person");
    let metrics = api
        .call("GET", "/metrics", Some(&api.admin), Body::empty())
        .await
        .text;
    assert!(
        metrics.contains("samaritan_reports{state=\"draft\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("samaritan_reports{state=\"approved\"} 1"));
    // A report decision whose case was not opened (a stop in between) is opened by the sweep.
    assert_eq!(
        api.post_ads(r#"{"id":"rp3","body":"urgent, call 7025550199"}"#)
            .await
            .status,
        StatusCode::OK
    );
    let now = samaritan_store::now_ms();
    api.store
        .queue_claim_ads(
            "user:ana",
            samaritan_store::QueueState::Open,
            &["rp3"],
            60_000,
            now,
        )
        .await
        .unwrap();
    api.store
        .decide(
            &samaritan_store::DecisionInput {
                ad_id: "rp3".into(),
                revision: 1,
                action: samaritan_store::DecisionAction::Report,
                reason: "child_sex_trafficking".into(),
                note: String::new(),
                basis: samaritan_store::DecisionBasis::Claim,
            },
            "user:ana",
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        samaritan_server::reports::open_missing(&api.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        samaritan_server::reports::open_missing(&api.state)
            .await
            .unwrap(),
        0
    );
    let log = api.store.audit_list(0, 10_000).await.unwrap();
    for action in ["report.open", "report.read", "report.approve"] {
        assert!(
            log.iter().any(|e| e.action == action),
            "{action} not audited"
        );
    }
    assert!(api.store.audit_verify().await.unwrap().ok);
}

#[tokio::test]
async fn report_decisions_open_cases_for_a_second_lead_on_sqlite() {
    report_cases(&api().await).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
async fn report_decisions_open_cases_for_a_second_lead_on_postgres() {
    let Some(url) = samaritan_testkit::postgres_url(
        "api::report_decisions_open_cases_for_a_second_lead_on_postgres",
    ) else {
        return;
    };
    let schema = format!("samaritan_api_rep_{}", std::process::id());
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    let api = api_on(
        store,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
        None,
    )
    .await;
    report_cases(&api).await;
    api.store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn decisions_are_bound_and_the_audit_covers_them_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let store = Store::open_sqlite(&path).await.unwrap();
    let api = api_on(
        store,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
        Some(dir),
    )
    .await;
    review_integrity(&api, &Raw::Sqlite(path)).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
async fn decisions_are_bound_and_the_audit_covers_them_on_postgres() {
    let Some(url) = samaritan_testkit::postgres_url(
        "api::decisions_are_bound_and_the_audit_covers_them_on_postgres",
    ) else {
        return;
    };
    let schema = format!("samaritan_api_ri_{}", std::process::id());
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    let api = api_on(
        store,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
        None,
    )
    .await;
    review_integrity(
        &api,
        &Raw::Postgres {
            url: url.clone(),
            schema: schema.clone(),
        },
    )
    .await;
    api.store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn reason_codes_are_listed_and_the_escalated_queue_is_for_leads() {
    let api = api().await;
    let v = api
        .call("GET", "/v1/reasons", Some(&api.review), Body::empty())
        .await
        .json();
    for action in ["remove", "allow", "report", "escalate"] {
        assert!(
            v["actions"][action]
                .as_object()
                .is_some_and(|c| !c.is_empty()),
            "{v}"
        );
    }
    assert!(
        v["actions"]["report"]
            .get("child_sex_trafficking")
            .is_some()
    );
    let r = api
        .call(
            "POST",
            "/v1/queue/claim",
            Some(&api.review),
            r#"{"state":"escalated"}"#,
        )
        .await;
    assert_eq!(r.error(StatusCode::FORBIDDEN).0, "forbidden");
    let r = api
        .call(
            "POST",
            "/v1/queue/claim",
            Some(&api.lead),
            r#"{"state":"escalated"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A lead key works the ordinary queue too.
    assert_eq!(
        api.call("GET", "/v1/queue", Some(&api.lead), Body::empty())
            .await
            .status,
        StatusCode::OK
    );
}

/// The routes the router serves, read from its source: `(METHOD, path)`.
fn router_routes() -> Vec<(String, String)> {
    let src = include_str!("../src/routes/mod.rs");
    let body = src
        .split("pub(crate) fn router(")
        .nth(1)
        .and_then(|r| r.split(".fallback(").next())
        .unwrap();
    let mut out = Vec::new();
    for part in body.split(".route(").skip(1) {
        let path = part.split('"').nth(1).unwrap().to_owned();
        for method in ["get", "post", "put", "delete", "patch"] {
            let calls = part.matches(&format!("{method}(")).count();
            if calls > 0 {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let api = api().await;
    let doc = api
        .call("GET", "/openapi.json", None, Body::empty())
        .await
        .json();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    documented.sort();
    let served = router_routes();
    assert!(served.len() >= 17, "{served:?}");
    assert_eq!(documented, served);
    // And every one of them is answered by a handler, not the fallbacks.
    for (method, path) in &served {
        let concrete = path.replace("{id}", "x");
        let r = api
            .call(method, &concrete, Some(&api.admin), Body::empty())
            .await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            !r.text.contains("no such endpoint"),
            "{method} {path}: {}",
            r.text
        );
    }
}

/// Approved cases are filed with a (mock) CyberTipline: exactly one finished report per case,
/// whichever step fails or is interrupted; follow-ups name the earlier report; refused
/// credentials fail the case with a clear error and no secret in the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_cases_are_filed_once_whatever_step_fails() {
    use samaritan_server::cybertip::client::{Client, Credentials};
    use samaritan_server::cybertip::filing::file;
    use samaritan_server::cybertip::mock::Mock;
    let api = api().await;
    api.state
        .set_reporter(samaritan_server::reports::Reporter {
            platform: "Example Classifieds".into(),
            email: "safety@example.org".into(),
            first_name: Some("Sam".into()),
            last_name: None,
            phone: None,
            terms_of_service: None,
            legal_url: None,
        })
        .unwrap();
    let mock = Mock::new("esp", "right password");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = mock.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let creds = Credentials::parse("esp:right password").unwrap();
    let client = Arc::new(Client::new(
        &base,
        &creds,
        std::time::Duration::from_secs(5),
    ));

    // Three cases on one phone: a report decision by a reviewer, approved by a lead.
    let mut cases = Vec::new();
    for i in 1..=3 {
        let id = format!("f{i}");
        let body = format!(
            r#"{{"id":"{id}","body":"urgent, age 16, call 7025550177","url":"https://classifieds.example/ads/{id}","account":"acct-f"}}"#
        );
        assert_eq!(api.post_ads(&body).await.status, StatusCode::OK);
        let claimed = api
            .call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
            .await
            .json();
        assert_eq!(claimed["items"][0]["ad_id"], id.as_str(), "{claimed}");
        let r = api
            .call(
                "POST",
                &format!("/v1/ads/{id}/decision"),
                Some(&api.review),
                r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let case = api.store.reports(None, 1).await.unwrap()[0].clone();
        api.store
            .report_approve(case.id, "user:lead", samaritan_store::now_ms())
            .await
            .unwrap();
        cases.push(case.id);
    }
    let finished = |m: &Mock| m.reports().values().filter(|r| r.finished).count();

    // 1. The finish call fails (500): the case stays submitted; filing again finishes it.
    mock.fail_next("/finish", 500);
    let e = file(&api.store, client.clone(), None, cases[0], "user:lead")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("500"), "{e}");
    assert_eq!(
        api.store.report(cases[0]).await.unwrap().unwrap().state,
        "uploaded"
    );
    let done = file(&api.store, client.clone(), None, cases[0], "user:lead")
        .await
        .unwrap();
    assert_eq!(done.state, "finished");
    let first_ncmec = done.ncmec_report_id.clone().unwrap();
    assert_eq!((mock.reports().len(), finished(&mock)), (1, 1));
    // Filing a finished case again sends nothing.
    file(&api.store, client.clone(), None, cases[0], "user:lead")
        .await
        .unwrap();
    assert_eq!(mock.reports().len(), 1);

    // 2. A stop after NCMEC received the report but before its id was recorded: the resume
    // submits again, and only the second report is finished.
    let draft = api.store.report(cases[1]).await.unwrap().unwrap().draft;
    let x = samaritan_server::cybertip::xml::report(&draft, &[]).unwrap();
    let c = client.clone();
    tokio::task::spawn_blocking(move || c.submit(&x).unwrap())
        .await
        .unwrap();
    api.store
        .report_filing(
            cases[1],
            samaritan_store::FilingStep {
                from: &["approved"],
                to: "submitting",
                ncmec_report_id: None,
                error: None,
                lease_until: Some(samaritan_store::now_ms() + 60_000),
            },
            "user:lead",
            samaritan_store::now_ms(),
        )
        .await
        .unwrap();
    // Just now: another filer's call may be in flight, so it is not submitted twice.
    let e = file(&api.store, client.clone(), None, cases[1], "user:lead")
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("another filer is at it right now"),
        "{e}"
    );
    assert_eq!(mock.reports().len(), 2);
    // Left long ago (the stop): the resume submits again.
    let dir = api._dir.as_ref().unwrap().path().to_owned();
    Raw::Sqlite(dir)
        .exec(&format!(
            "UPDATE reports SET lease_until = {} WHERE id = {}",
            samaritan_store::now_ms() - 1000,
            cases[1]
        ))
        .await;
    let done = file(&api.store, client.clone(), None, cases[1], "user:lead")
        .await
        .unwrap();
    assert_eq!(done.state, "finished");
    assert_eq!((mock.reports().len(), finished(&mock)), (3, 2));
    // The follow-up names the first report.
    let sent = &mock.reports()[&done
        .ncmec_report_id
        .clone()
        .unwrap()
        .parse::<u64>()
        .unwrap()];
    assert!(
        sent.xml
            .contains(&format!("<priorCTReports>{first_ncmec}</priorCTReports>")),
        "{}",
        sent.xml
    );

    // 3. A stop after NCMEC finished it but before that was recorded: finishing again is
    // answered "already finished" and counts as finished.
    let wrong = Arc::new(Client::new(
        &base,
        &Credentials::parse("esp:wrong").unwrap(),
        std::time::Duration::from_secs(5),
    ));
    let e = file(&api.store, wrong, None, cases[2], "user:lead")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("credentials"), "{e}");
    let failed = api.store.report(cases[2]).await.unwrap().unwrap();
    assert_eq!(failed.state, "failed");
    assert!(failed.filing_error.unwrap().contains("401"));
    mock.fail_next("/finish", 500);
    assert!(
        file(&api.store, client.clone(), None, cases[2], "user:lead")
            .await
            .is_err()
    );
    let id = api
        .store
        .report(cases[2])
        .await
        .unwrap()
        .unwrap()
        .ncmec_report_id
        .unwrap();
    let c = client.clone();
    let i = id.clone();
    tokio::task::spawn_blocking(move || c.finish(&i).unwrap())
        .await
        .unwrap();
    let done = file(&api.store, client.clone(), None, cases[2], "user:lead")
        .await
        .unwrap();
    assert_eq!(done.state, "finished");
    assert_eq!(finished(&mock), 3, "one finished report per case");
    // The record: every step audited, no credentials in it.
    let log = api.store.audit_list(0, 10_000).await.unwrap();
    assert!(log.iter().filter(|e| e.action == "report.filing").count() >= 9);
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("right password") && !text.contains("esp:wrong"));
    assert!(api.store.audit_verify().await.unwrap().ok);
    let counts = api.store.report_counts().await.unwrap();
    assert_eq!(counts.finished, 3);
    // From the API: filing needs a configured CyberTipline, a lead, an approved case.
    api.call(
        "POST",
        &format!("/v1/reports/{}/submit", cases[0]),
        Some(&api.lead),
        Body::empty(),
    )
    .await
    .error(StatusCode::CONFLICT);
    api.state.file_with(Client::new(
        &base,
        &creds,
        std::time::Duration::from_secs(5),
    ));
    assert_eq!(
        api.post_ads(r#"{"id":"f4","body":"urgent, call 7025550188","url":"https://classifieds.example/ads/f4"}"#)
            .await
            .status,
        StatusCode::OK
    );
    api.call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
        .await;
    let r = api
        .call(
            "POST",
            "/v1/ads/f4/decision",
            Some(&api.review),
            r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let f4 = api.store.reports(None, 1).await.unwrap()[0].id;
    let submit = format!("/v1/reports/{f4}/submit");
    let (code, _) = api
        .call("POST", &submit, Some(&api.lead), Body::empty())
        .await
        .error(StatusCode::CONFLICT);
    assert_eq!(code, "state", "a draft is not filed");
    api.call("POST", &submit, Some(&api.review), Body::empty())
        .await
        .error(StatusCode::FORBIDDEN);
    api.call(
        "POST",
        &format!("/v1/reports/{f4}/approve"),
        Some(&api.lead),
        Body::empty(),
    )
    .await;
    // The finish fails: 502, the case left submitted; a lead retracts it.
    mock.fail_next("/finish", 500);
    let (code, _) = api
        .call("POST", &submit, Some(&api.lead), Body::empty())
        .await
        .error(StatusCode::BAD_GATEWAY);
    assert_eq!(code, "cybertip");
    let r = api
        .call(
            "POST",
            &format!("/v1/reports/{f4}/retract"),
            Some(&api.lead),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["state"], "retracted");
    let retracted: u64 = r.json()["ncmec_report_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(mock.reports()[&retracted].retracted);
    let (code, _) = api
        .call("POST", &submit, Some(&api.lead), Body::empty())
        .await
        .error(StatusCode::CONFLICT);
    assert_eq!(code, "state", "a retracted case is not filed again");
    assert_eq!(finished(&mock), 3);
    let metrics = api
        .call("GET", "/metrics", Some(&api.admin), Body::empty())
        .await
        .text;
    assert!(
        metrics.contains("samaritan_reports{state=\"finished\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("samaritan_report_time_to_finished_seconds{quantile=\"0.5\""),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "samaritan_report_time_to_finished_seconds_count{window_seconds=\"604800\"} 3"
        ),
        "{metrics}"
    );
}

/// Every documented error code, an HTTP error and a timeout on submit leave the case `failed`
/// with the code in its error and nothing finished; the next attempt files it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cybertipline_error_leaves_a_clear_state_and_nothing_sent_twice() {
    use samaritan_server::cybertip::client::{Client, Credentials};
    use samaritan_server::cybertip::filing::file;
    use samaritan_server::cybertip::mock::Mock;
    let api = api().await;
    api.state
        .set_reporter(samaritan_server::reports::Reporter {
            platform: "Example".into(),
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
        std::time::Duration::from_secs(1),
    ));
    assert_eq!(
        api.post_ads(r#"{"id":"e1","body":"urgent <b>&amp; \u0007 call 7025550166","url":"https://classifieds.example/ads/e1"}"#)
            .await
            .status,
        StatusCode::OK
    );
    api.call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
        .await;
    let r = api
        .call(
            "POST",
            "/v1/ads/e1/decision",
            Some(&api.review),
            r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = api.store.reports(None, 1).await.unwrap()[0].id;
    api.store
        .report_approve(id, "user:lead", samaritan_store::now_ms())
        .await
        .unwrap();
    for code in [
        1000, 1100, 1110, 1111, 1210, 1300, 2000, 3000, 3100, 3300, 4000, 4100, 4110, 4200, 5001,
        5002, 500, 503,
    ] {
        mock.fail_next("/submit", code);
        let e = file(&api.store, client.clone(), None, id, "user:lead")
            .await
            .unwrap_err();
        assert!(e.to_string().contains(&code.to_string()), "{code}: {e}");
        let case = api.store.report(id).await.unwrap().unwrap();
        assert_eq!(case.state, "failed", "{code}");
        assert!(case.filing_error.unwrap().contains(&code.to_string()));
    }
    // No answer within the client's timeout: failed, said so.
    mock.delay_next("/submit", std::time::Duration::from_secs(3));
    let e = file(&api.store, client.clone(), None, id, "user:lead")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no answer"), "{e}");
    assert!(mock.reports().values().all(|r| !r.finished));
    // Then it files once; the text's markup and control characters arrive escaped or dropped.
    let done = file(&api.store, client.clone(), None, id, "user:lead")
        .await
        .unwrap();
    assert_eq!(done.state, "finished");
    let finished: Vec<_> = mock
        .reports()
        .into_values()
        .filter(|r| r.finished)
        .collect();
    assert_eq!(finished.len(), 1);
    assert!(
        finished[0].xml.contains("&lt;b&gt;&amp;amp;"),
        "{}",
        finished[0].xml
    );
    assert!(!finished[0].xml.contains('\u{7}'));
    assert!(api.store.audit_verify().await.unwrap().ok);
}

/// A report decision preserves the case's evidence encrypted and puts it under a hold; the
/// holds are listed to reviewers; only an admin extends (for a law-enforcement request) or
/// releases (with a reason, never while an extension runs) one; a bundle opens the preserved
/// files only with the evidence key.
async fn holds(api: &Api) {
    use samaritan_server::preserve::Preservation;
    use samaritan_server::vault::Keyring;
    let keyring = || Keyring::parse(&"5e".repeat(32)).unwrap();
    api.state
        .preserve_with(Preservation::new(keyring(), 400).unwrap());
    assert!(
        Preservation::new(keyring(), 364).is_err(),
        "a year at least"
    );
    let body = r#"{"id":"p1","body":"urgent <b>& age 16, call 7025550166","url":"https://classifieds.example/ads/p1"}"#;
    assert_eq!(api.post_ads(body).await.status, StatusCode::OK);
    api.call("POST", "/v1/queue/claim", Some(&api.review), Body::empty())
        .await;
    let r = api
        .call(
            "POST",
            "/v1/ads/p1/decision",
            Some(&api.review),
            r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let case = api.store.reports(None, 1).await.unwrap()[0].clone();
    let hold = api.store.hold_of_report(case.id).await.unwrap().unwrap();
    assert_eq!(hold.state, "held");
    let days = (hold.until_ms - hold.created_at) / 86_400_000;
    assert_eq!(days, 400);
    let files = api.store.preserved_files(case.id).await.unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for p in [
        "case.json",
        "ad/revision-1.json",
        "analysis/revision-1.json",
        "decisions.json",
        "audit.json",
    ] {
        assert!(paths.contains(&p), "{p} not preserved: {paths:?}");
    }
    // Encrypted at rest: the stored blob is not the ad's text.
    let ad_file = files
        .iter()
        .find(|f| f.path == "ad/revision-1.json")
        .unwrap();
    let blob = api
        .store
        .preserved_blob(&ad_file.sha256)
        .await
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8_lossy(&blob.ciphertext).contains("7025550166"));
    assert_eq!(blob.key_id, keyring().current());
    // Listed to reviewers.
    let r = api
        .call("GET", "/v1/holds", Some(&api.review), Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["holds"][0]["report_id"], case.id);
    api.call(
        "GET",
        "/v1/holds?state=gone",
        Some(&api.review),
        Body::empty(),
    )
    .await
    .error(StatusCode::BAD_REQUEST);
    api.call("GET", "/v1/holds/x", Some(&api.review), Body::empty())
        .await
        .error(StatusCode::BAD_REQUEST);
    api.call("GET", "/v1/holds/99999", Some(&api.review), Body::empty())
        .await
        .error(StatusCode::NOT_FOUND);
    // Only an admin extends, with a well-formed request.
    let extend = format!("/v1/holds/{}/extend", hold.id);
    let good = r#"{"until":"2999-01-01T00:00:00Z","reference":"2703(f)-0042","agency":"Example County Sheriff"}"#;
    api.call("POST", &extend, Some(&api.lead), good)
        .await
        .error(StatusCode::FORBIDDEN);
    for (bad, field) in [
        (
            r#"{"until":"2999-01-01T00:00:00Z","reference":"r","agency":"a","x":1}"#,
            None,
        ),
        (
            r#"{"until":"soon","reference":"r","agency":"a"}"#,
            Some("until"),
        ),
    ] {
        let (_, f) = api
            .call("POST", &extend, Some(&api.admin), bad)
            .await
            .error(StatusCode::BAD_REQUEST);
        if field.is_some() {
            assert_eq!(f.as_deref(), field);
        }
    }
    api.call(
        "POST",
        &extend,
        Some(&api.admin),
        r#"{"until":"2001-01-01T00:00:00Z","reference":"r","agency":"a"}"#,
    )
    .await
    .error(StatusCode::BAD_REQUEST);
    let r = api.call("POST", &extend, Some(&api.admin), good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["extensions"][0]["agency"],
        "Example County Sheriff"
    );
    // Release: an admin, a reason, and not while the extension runs.
    let release = format!("/v1/holds/{}/release", hold.id);
    api.call("POST", &release, Some(&api.lead), r#"{"reason":"x"}"#)
        .await
        .error(StatusCode::FORBIDDEN);
    api.call("POST", &release, Some(&api.admin), r#"{"reason":""}"#)
        .await
        .error(StatusCode::BAD_REQUEST);
    let (code, _) = api
        .call(
            "POST",
            &release,
            Some(&api.admin),
            r#"{"reason":"opened by mistake"}"#,
        )
        .await
        .error(StatusCode::CONFLICT);
    assert_eq!(code, "law_enforcement");
    // The bundle holds the preserved files, opened with the key; without it, a clear error.
    let (bundle, head) =
        samaritan_server::evidence::collect(&api.store, None, Some(&keyring()), case.id, "test")
            .await
            .unwrap();
    assert!(head.preserved_at.is_some());
    let ad = bundle
        .files()
        .find(|(p, _)| p.as_str() == "ad/revision-1.json")
        .unwrap()
        .1
        .clone();
    assert!(String::from_utf8(ad).unwrap().contains("<b>&"));
    assert!(
        bundle
            .files()
            .any(|(p, _)| p.as_str() == "current/hold.json")
    );
    let e = samaritan_server::evidence::collect(&api.store, None, None, case.id, "test")
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("evidence key"), "{e}");
    let other = Keyring::parse(&"77".repeat(32)).unwrap();
    assert!(
        samaritan_server::evidence::collect(&api.store, None, Some(&other), case.id, "test")
            .await
            .is_err()
    );
    let log = api.store.audit_list(0, 10_000).await.unwrap();
    for action in ["evidence.preserve", "hold.extend"] {
        assert!(log.iter().any(|e| e.action == action), "{action}");
    }
    assert!(api.store.audit_verify().await.unwrap().ok);
}

#[tokio::test]
async fn report_cases_are_preserved_and_held_on_sqlite() {
    holds(&api().await).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
async fn report_cases_are_preserved_and_held_on_postgres() {
    let Some(url) =
        samaritan_testkit::postgres_url("api::report_cases_are_preserved_and_held_on_postgres")
    else {
        return;
    };
    let schema = format!("samaritan_api_hold_{}", std::process::id());
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    let api = api_on(
        store,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
        None,
    )
    .await;
    holds(&api).await;
    api.store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}
