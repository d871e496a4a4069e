//! The HTTP API in process with the real engine behind it ([`EngineAnalyzer`]), where `api.rs`
//! uses a stand-in: ads posted in separate requests are linked, images are hashed and matched
//! against the store's exact and PDQ banks, a policy whose own tests fail is refused, and after
//! a restart the linker comes back from its records.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::engine::{image_context, service_intake};
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::{Scope, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../samaritan-media/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The service as `samaritan serve` builds it, in process: store, engine, image context from the
/// store's banks, the linker restored from the store.
async fn service(store: &Store) -> (axum::Router, Arc<EngineAnalyzer>, u64) {
    let intake = service_intake(
        false,
        false,
        samaritan_media::DecodeLimits::default().max_bytes,
        samaritan_media::RequestLimits::default(),
    );
    let images = image_context(intake, store, None).await.unwrap();
    let analyzer = Arc::new(
        EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), Some(images)).unwrap(),
    );
    let restored = analyzer.restore_from(store).await.unwrap().replayed;
    let limits = Limits {
        rate_per_sec: 0.0,
        ..Limits::default()
    };
    let state = AppState::new(store.clone(), analyzer.clone(), limits);
    samaritan_server::save_networks(&state).await.unwrap();
    (samaritan_server::router(state), analyzer, restored)
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    key: &str,
    body: String,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| json!({"raw": text})),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_engine_links_matches_refuses_and_restores_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    the_real_engine_links_matches_refuses_and_restores(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
async fn the_real_engine_links_matches_refuses_and_restores_on_postgres() {
    let Some(url) = samaritan_testkit::postgres_url("engine_api::on_postgres") else {
        return;
    };
    let schema = format!("samaritan_engine_api_test_{}", std::process::id());
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    the_real_engine_links_matches_refuses_and_restores(&store).await;
    store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    // The schema name is made here from the process id (no outside input).
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}

async fn the_real_engine_links_matches_refuses_and_restores(store: &Store) {
    let store = store.clone();
    let key = store
        .create_key("all", &Scope::ALL, "test")
        .await
        .unwrap()
        .secret;
    let jpeg = fixture("rgb.jpeg");
    let facts =
        samaritan_media::hash_bytes(&jpeg, &samaritan_media::DecodeLimits::default()).unwrap();
    let md5 = facts.md5.unwrap();
    store
        .add_hash_bank_entries(&[("platform-list", "md5", md5.as_str(), "test entry")])
        .await
        .unwrap();

    let (app, analyzer, restored) = service(&store).await;
    assert_eq!(restored, 0);
    let (status, v) = call(
        &app,
        "POST",
        "/v1/ads",
        &key,
        json!({"id": "e-1", "body": "Room for rent, quiet street. Call 702-555-0142.",
               "location": {"city": "Reno"}, "images": [{"base64": base64(&jpeg)}]})
        .to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let a1 = &v["results"][0]["analysis"];
    assert_eq!(a1["images"][0]["md5"], md5.as_str(), "{a1}");
    assert!(
        a1["signals"].to_string().contains("platform-list"),
        "an exact MD5 list matches in the service: {a1}"
    );
    assert!(a1["network"].is_null());

    // A second request with the same phone: linked to the first.
    let (_, v) = call(
        &app,
        "POST",
        "/v1/ads",
        &key,
        json!({"id": "e-2", "body": "Garden tools, barely used. Call 702-555-0142.",
               "location": {"city": "Sparks"}})
        .to_string(),
    )
    .await;
    let net = &v["results"][0]["analysis"]["network"];
    assert_eq!(net["size"], 2, "{v}");
    let net_id = net["id"].as_str().unwrap().to_owned();
    let (status, n) = call(
        &app,
        "GET",
        &format!("/v1/networks/{net_id}"),
        &key,
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{n}");
    assert_eq!(analyzer.linked_ads(), 2);

    // A policy whose own example fails is refused, naming the test.
    let failing = format!(
        "{DEFAULT_POLICY}\n[[test]]\nname = \"a bicycle is blocked\"\nbody = \"Bicycle for sale.\"\nverdict = \"block\"\n"
    );
    let (status, v) = call(&app, "PUT", "/v1/policy", &key, failing).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("policy test `a bicycle is blocked` (line "),
        "{v}"
    );
    drop(app);
    drop(analyzer);

    // A restart: the linker replays its records; a third ad with the phone joins the network.
    let (app, analyzer, restored) = service(&store).await;
    assert_eq!(restored, 2);
    assert_eq!(analyzer.linked_ads(), 2);
    let (_, v) = call(
        &app,
        "POST",
        "/v1/ads",
        &key,
        json!({"id": "e-3", "body": "Oak dresser. Call 702-555-0142."}).to_string(),
    )
    .await;
    let net = &v["results"][0]["analysis"]["network"];
    assert_eq!(net["id"], net_id.as_str(), "{v}");
    assert_eq!(net["size"], 3, "{v}");
    // The earlier members moved with their network, in the same transaction.
    let (_, a) = call(&app, "GET", "/v1/ads/e-1", &key, String::new()).await;
    assert_eq!(a["analysis"]["network"]["size"], 3, "{a}");
}
