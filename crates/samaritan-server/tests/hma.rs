//! The HMA-compatible matcher (issue 23, points 4-5), in process on SQLite and PostgreSQL: the
//! requests Coop and other HMA clients send, replayed from `fixtures/hma/` with their expected
//! answers; hashing from a URL and from an upload; lookups with distances, disabled content,
//! bank ratios and HMA's coin flip; the engine matching banked content too; and bad input on
//! every endpoint, each answered with HMA's `{"message": …}` and the right status.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::pdq::PdqHash;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::{AppState, EngineAnalyzer, HmaConfig, Limits};
use samaritan_store::{Scope, Store};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// A PNG of coloured blocks (a plain pattern with enough edges for a PDQ quality well above
/// the matching floor), different for each `seed`.
fn blocks_png(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(256, 256, |x, y| {
        let cell = (x / 32) * 8 + (y / 32);
        let v = cell
            .wrapping_mul(2_654_435_761)
            .wrapping_add(seed.wrapping_mul(40_503));
        let shade = ((v >> 13) % 4) as u8 * 80;
        image::Rgb([shade, shade / 2 + 40, 255 - shade])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn pdq_of(png: &[u8]) -> String {
    let facts =
        samaritan_media::hash_bytes(png, &samaritan_media::DecodeLimits::default()).unwrap();
    assert!(
        facts.quality.unwrap() >= 50,
        "the test image must hash well"
    );
    facts.pdq.unwrap().to_hex()
}

/// `hex` with its first `n` bits flipped.
fn flipped(hex: &str, n: usize) -> String {
    let h = PdqHash::from_hex(hex).unwrap();
    let mut out = PdqHash::ZERO;
    for k in 0..256 {
        if h.bit(k) != (k < n) {
            out.set_bit(k);
        }
    }
    out.to_hex()
}

/// A tiny image server on 127.0.0.1: `/a.png`, `/b.png`, `/big.png` (200 kB of noise), `/text`.
async fn image_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let files: Arc<BTreeMap<&str, (&str, Vec<u8>)>> = Arc::new(BTreeMap::from([
        ("/a.png", ("image/png", blocks_png(1))),
        ("/b.png", ("image/png", blocks_png(2))),
        ("/big.png", ("image/png", vec![7u8; 200_000])),
        ("/text", ("text/plain", b"not an image".to_vec())),
    ]));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let files = files.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let (status, ct, body) = match files.get(path.as_str()) {
                    Some((ct, b)) => ("200 OK", *ct, b.clone()),
                    None => ("404 Not Found", "text/plain", b"missing".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}")
}

struct World {
    store: Store,
    app: axum::Router,
    keys: BTreeMap<&'static str, String>,
}

/// The service with the HMA routes; `allow_private` lets it fetch from the local image server.
async fn world(store: Store, allow_private: bool, max_body_bytes: usize) -> World {
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let state = AppState::new(
        store.clone(),
        analyzer,
        Limits {
            rate_per_sec: 0.0,
            max_body_bytes,
            ..Limits::default()
        },
    );
    let mut cfg = HmaConfig::default();
    cfg.fetch.allow_private = allow_private;
    cfg.fetch.max_bytes = 100_000;
    state.serve_hma(cfg);
    let mut keys = BTreeMap::new();
    for (name, scope) in [
        ("ingest", Scope::Ingest),
        ("review", Scope::Review),
        ("admin", Scope::Admin),
    ] {
        let k = store.create_key(name, &[scope], "test").await.unwrap();
        keys.insert(name, k.secret);
    }
    World {
        store,
        app: samaritan_server::router(state),
        keys,
    }
}

impl World {
    async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| json!({"raw": text})),
        )
    }

    async fn call(&self, key: &str, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(k) = self.keys.get(key) {
            b = b.header("authorization", format!("Bearer {k}"));
        }
        if !body.is_empty() {
            b = b.header("content-type", "application/json");
        }
        self.send(b.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    /// A multipart request with `parts` (name, file name if a file, bytes).
    async fn multipart(
        &self,
        key: &str,
        uri: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> (StatusCode, Value) {
        let boundary = "samaritan-test-boundary";
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!(
                        "content-disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         content-type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("content-disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method("POST")
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.keys[key]))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- recorded sessions -------------------------------------------------------------------

/// Replaces `{NAME}` in strings: a string that is exactly `{NAME}` becomes the value itself.
fn fill(v: &Value, vars: &BTreeMap<String, Value>) -> Value {
    match v {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}'))
                && let Some(val) = vars.get(name)
            {
                return val.clone();
            }
            let mut out = s.clone();
            for (k, val) in vars {
                let text = val.as_str().map_or_else(|| val.to_string(), str::to_owned);
                out = out.replace(&format!("{{{k}}}"), &text);
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, vars)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, vars))).collect())
        }
        other => other.clone(),
    }
}

/// Checks `got` against `want`: `$int:NAME` takes any integer (remembered as NAME), `$int`
/// any integer, `$message` any non-empty string; everything else exactly (objects with the
/// same keys).
fn check(want: &Value, got: &Value, vars: &mut BTreeMap<String, Value>, at: &str) {
    match want {
        Value::String(s) if s.starts_with("$int") => {
            assert!(got.is_i64(), "{at}: expected an integer, got {got}");
            if let Some(name) = s.strip_prefix("$int:") {
                vars.insert(name.to_owned(), got.clone());
            }
        }
        Value::String(s) if s == "$message" => {
            assert!(
                got.as_str().is_some_and(|m| !m.is_empty()),
                "{at}: expected a message, got {got}"
            );
        }
        Value::Object(w) => {
            let g = got
                .as_object()
                .unwrap_or_else(|| panic!("{at}: expected an object, got {got}"));
            let wk: Vec<&String> = w.keys().collect();
            let gk: Vec<&String> = g.keys().collect();
            assert_eq!(wk, gk, "{at}: keys differ; got {got}");
            for (k, wv) in w {
                check(wv, &g[k], vars, &format!("{at}.{k}"));
            }
        }
        Value::Array(w) => {
            let g = got
                .as_array()
                .unwrap_or_else(|| panic!("{at}: expected an array, got {got}"));
            assert_eq!(w.len(), g.len(), "{at}: lengths differ; got {got}");
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                check(wv, gv, vars, &format!("{at}[{i}]"));
            }
        }
        other => assert_eq!(other, got, "{at}"),
    }
}

/// Replays a fixture session against `w`, with `vars` known beforehand.
async fn replay(w: &World, file: &str, mut vars: BTreeMap<String, Value>) {
    let path = format!("{}/tests/fixtures/hma/{file}", env!("CARGO_MANIFEST_DIR"));
    let session: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let steps = session["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    for (i, step) in steps.iter().enumerate() {
        let req = &step["request"];
        let path = fill(&req["path"], &vars);
        let body = match &req["body"] {
            Value::Null => String::new(),
            b => fill(b, &vars).to_string(),
        };
        let (status, got) = w
            .call(
                req["key"].as_str().unwrap(),
                req["method"].as_str().unwrap(),
                path.as_str().unwrap(),
                &body,
            )
            .await;
        let at = format!("{file} step {i} ({})", step["note"].as_str().unwrap_or(""));
        assert_eq!(
            status.as_u16(),
            step["response"]["status"].as_u64().unwrap() as u16,
            "{at}: {got}"
        );
        let want = fill(&step["response"]["body"], &vars);
        check(&want, &got, &mut vars, &at);
    }
}

async fn coop_session(store: Store) {
    let images = image_server().await;
    let w = world(store, true, 1 << 20).await;
    let hash_a = pdq_of(&blocks_png(1));
    let vars = BTreeMap::from([
        ("IMAGE_A".to_owned(), json!(enc(&format!("{images}/a.png")))),
        ("HASH_A".to_owned(), json!(hash_a)),
        ("HASH_A_NEAR".to_owned(), json!(flipped(&hash_a, 5))),
        ("HASH_A_FAR".to_owned(), json!(flipped(&hash_a, 40))),
    ]);
    replay(&w, "coop_session.json", vars).await;
    // Every change left an audit entry, and the chain holds.
    let actions: Vec<String> = w
        .store
        .audit_list(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("hma."))
        .collect();
    assert!(
        actions.contains(&"hma.bank.create".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"hma.content.add".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"hma.bank.delete".to_owned()),
        "{actions:?}"
    );
    assert!(w.store.audit_verify().await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coop_session_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    coop_session(Store::open_sqlite(dir.path()).await.unwrap()).await;
}

/// A store in a schema of its own on the test PostgreSQL (dropped by the caller), or a printed
/// `SKIPPED:` (a failure with `SAMARITAN_REQUIRE_POSTGRES=1`).
async fn postgres(test: &str) -> Option<(Store, String, String)> {
    let url = samaritan_testkit::postgres_url(test)?;
    let schema = format!("samaritan_hma_{}_{}", std::process::id(), test.len());
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    Some((store, url, schema))
}

async fn drop_schema(url: &str, schema: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    // The schema name is made here from the process id (no outside input).
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coop_session_postgres() {
    let Some((store, url, schema)) = postgres("hma::coop_session_postgres").await else {
        return;
    };
    coop_session(store).await;
    drop_schema(&url, &schema).await;
}

// ---- uploads, ratios, the engine -----------------------------------------------------------

async fn uploads_ratios_and_the_engine(store: Store) {
    let w = world(store.clone(), false, 1 << 20).await;
    let a = blocks_png(1);
    let b = blocks_png(2);
    let (hash_a, hash_b) = (pdq_of(&a), pdq_of(&b));
    let (s, v) = w
        .call(
            "admin",
            "POST",
            "/hma/c/banks",
            r#"{"name":"HALF","enabled_ratio":0.5}"#,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = w
        .call(
            "admin",
            "POST",
            "/hma/c/banks",
            r#"{"name":"OFF","enabled":false}"#,
        )
        .await;
    assert_eq!(
        (s, &v["matching_enabled_ratio"]),
        (StatusCode::CREATED, &json!(0.0)),
        "{v}"
    );

    // Hash an upload; bank one by upload with its metadata and note.
    let (s, v) = w
        .multipart("review", "/hma/h/hash", &[("photo", Some("a.png"), &a)])
        .await;
    assert_eq!((s, &v), (StatusCode::OK, &json!({"pdq": hash_a})));
    let (s, v) = w
        .multipart(
            "admin",
            "/hma/c/bank/HALF/content",
            &[
                ("photo", Some("blob"), &a),
                ("content_id", None, b"case-8812"),
                ("metadata", None, br#"{"origin":"console"}"#),
                ("note", None, b"banked from an upload"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["signals"], json!({"pdq": hash_a}));
    let id_a = v["id"].as_i64().unwrap();
    let (s, v) = w
        .call(
            "admin",
            "POST",
            "/hma/c/bank/OFF/signal",
            &json!({"pdq": hash_b, "note": "direct"}).to_string(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id_b = v["id"].as_i64().unwrap();
    let (_, v) = w
        .call(
            "review",
            "GET",
            &format!("/hma/c/bank/HALF/content/{id_a}?include_signals=true"),
            "",
        )
        .await;
    assert_eq!(v["signals"], json!({"pdq": hash_a}), "{v}");
    assert_eq!(
        v["metadata"],
        json!({"content_id": "case-8812", "content_uri": null, "json": {"origin": "console"}})
    );
    assert_eq!(v["note"], "banked from an upload");
    assert_eq!(
        v["bank"],
        json!({"name": "HALF", "matching_enabled_ratio": 0.5})
    );
    assert_eq!(v["disable_until_ts"], 0);

    // The upload lookup answers by signal type.
    let (s, v) = w
        .multipart(
            "review",
            "/hma/m/lookup?bypass_coinflip=true",
            &[("photo", Some("a.png"), &a)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"pdq": {"HALF": [{"bank_content_id": id_a, "distance": "0"}]}})
    );

    // Ratio 0 never matches (unless the coin flip is bypassed); ratio 0.5 matches for about half
    // of the seeds, always the same way for the same seed.
    let lookup =
        |hash: &str, extra: &str| format!("/hma/m/lookup?signal_type=pdq&signal={hash}{extra}");
    for seed in ["1", "2", "3", "content-77"] {
        let (_, v) = w
            .call(
                "review",
                "GET",
                &lookup(&hash_b, &format!("&seed={seed}")),
                "",
            )
            .await;
        assert_eq!(v, json!({}), "ratio 0, seed {seed}");
    }
    let (_, v) = w
        .call(
            "review",
            "GET",
            &lookup(&hash_b, "&bypass_coinflip=true"),
            "",
        )
        .await;
    assert_eq!(
        v,
        json!({"OFF": [{"bank_content_id": id_b, "distance": "0"}]})
    );
    let mut hits = 0;
    for seed in 0..200 {
        let uri = lookup(&hash_a, &format!("&seed=ad-{seed}"));
        let (_, first) = w.call("review", "GET", &uri, "").await;
        let (_, again) = w.call("review", "GET", &uri, "").await;
        assert_eq!(first, again, "the same seed, the same answer");
        if first.get("HALF").is_some() {
            hits += 1;
        }
    }
    assert!(
        (60..=140).contains(&hits),
        "ratio 0.5 matched {hits} of 200 seeds"
    );
    // `banks=` narrows; raw_lookup ignores ratios.
    let (_, v) = w
        .call(
            "review",
            "GET",
            &lookup(&hash_b, "&bypass_coinflip=true&banks=HALF"),
            "",
        )
        .await;
    assert_eq!(v, json!({}));
    let (_, v) = w
        .call(
            "review",
            "GET",
            &format!("/hma/m/raw_lookup?signal_type=pdq&signal={hash_b}"),
            "",
        )
        .await;
    assert_eq!(v, json!({"matches": [id_b]}));

    // The engine's image stage matches HMA content too (bank `hma.<NAME>`), enabled and with a
    // ratio above 0 only.
    let intake = samaritan_server::engine::service_intake(
        false,
        false,
        samaritan_media::DecodeLimits::default().max_bytes,
        samaritan_media::RequestLimits::default(),
    );
    let ctx = samaritan_server::engine::image_context(intake, &store, None)
        .await
        .unwrap();
    let ad = |png: &[u8]| {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(png);
        serde_json::from_value::<samaritan_engine::model::Ad>(
            json!({"id": "x-1", "body": "Room for rent.", "images": [{"base64": b64}]}),
        )
        .unwrap()
    };
    let seen_a = format!("{:?}", ctx.take_in_one(&ad(&a)).bank_matches);
    assert!(seen_a.contains("hma.HALF"), "{seen_a}");
    let seen_b = format!("{:?}", ctx.take_in_one(&ad(&b)).bank_matches);
    assert!(
        !seen_b.contains("hma.OFF"),
        "a bank at ratio 0 is not matched: {seen_b}"
    );
    let far = (samaritan_store::now_ms() / 1000 + 3600).to_string();
    let (s, v) = w
        .call(
            "admin",
            "PUT",
            &format!("/hma/c/bank/HALF/content/{id_a}"),
            &format!(r#"{{"disable_until_ts":"{far}"}}"#),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let intake = samaritan_server::engine::service_intake(
        false,
        false,
        samaritan_media::DecodeLimits::default().max_bytes,
        samaritan_media::RequestLimits::default(),
    );
    let ctx = samaritan_server::engine::image_context(intake, &store, None)
        .await
        .unwrap();
    let seen_a = format!("{:?}", ctx.take_in_one(&ad(&a)).bank_matches);
    assert!(
        !seen_a.contains("hma.HALF"),
        "disabled content is not matched: {seen_a}"
    );
    let (_, v) = w
        .call(
            "review",
            "GET",
            &lookup(&hash_a, "&bypass_coinflip=true"),
            "",
        )
        .await;
    assert_eq!(v, json!({}), "nor looked up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_ratios_and_the_engine_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    uploads_ratios_and_the_engine(Store::open_sqlite(dir.path()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_ratios_and_the_engine_postgres() {
    let Some((store, url, schema)) = postgres("hma::uploads_ratios_and_the_engine_postgres").await
    else {
        return;
    };
    uploads_ratios_and_the_engine(store).await;
    drop_schema(&url, &schema).await;
}

// ---- bad input -----------------------------------------------------------------------------

/// `(status, message)` of an answer that must be an HMA error.
fn refused(s: StatusCode, v: &Value, want: StatusCode, what: &str) -> String {
    assert_eq!(s, want, "{what}: {v}");
    let m = v["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {v}"));
    assert!(!m.is_empty(), "{what}");
    m.to_owned()
}

async fn bad_input(store: Store) {
    let images = image_server().await;
    // Public addresses only, and a 64 KiB body cap.
    let w = world(store, false, 64 * 1024).await;
    let (s, v) = w
        .call("admin", "POST", "/hma/c/banks", r#"{"name":"GOOD"}"#)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let bad = StatusCode::BAD_REQUEST;
    let hash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    // Keys: none, unknown, too weak.
    let (s, v) = w.call("nobody", "GET", "/hma/c/banks", "").await;
    refused(s, &v, StatusCode::UNAUTHORIZED, "no key");
    let (s, v) = w
        .call(
            "ingest",
            "GET",
            &format!("/hma/m/lookup?signal_type=pdq&signal={hash}"),
            "",
        )
        .await;
    refused(s, &v, StatusCode::FORBIDDEN, "an ingest key looks up");
    for (method, uri, body) in [
        ("POST", "/hma/c/banks", r#"{"name":"MINE"}"#),
        ("PUT", "/hma/c/bank/GOOD", r#"{"enabled":false}"#),
        ("DELETE", "/hma/c/bank/GOOD", ""),
        ("POST", "/hma/c/bank/GOOD/signal", r#"{"pdq":"00"}"#),
        ("DELETE", "/hma/c/bank/GOOD/content/1", ""),
    ] {
        let (s, v) = w.call("review", method, uri, body).await;
        let m = refused(s, &v, StatusCode::FORBIDDEN, uri);
        assert!(m.contains("admin"), "{m}");
    }

    // Hostile URLs, wherever a URL is taken: loopback (the image server itself), private,
    // link-local, other schemes; a server that is not serving an image.
    let hostile = [
        format!("{images}/a.png"),
        "http://10.1.2.3/a.png".to_owned(),
        "http://192.168.0.9/a.png".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::1]/a.png".to_owned(),
        "file:///etc/passwd".to_owned(),
        "ftp://example.org/a.png".to_owned(),
        "gopher://example.org/".to_owned(),
        "not a url".to_owned(),
    ];
    for url in &hostile {
        for uri in [
            format!("/hma/h/hash?url={}", enc(url)),
            format!("/hma/m/lookup?url={}", enc(url)),
            format!("/hma/c/bank/GOOD/content?url={}", enc(url)),
        ] {
            let key = if uri.starts_with("/hma/c/") {
                "admin"
            } else {
                "review"
            };
            let method = if uri.starts_with("/hma/c/") {
                "POST"
            } else {
                "GET"
            };
            let (s, v) = w.call(key, method, &uri, "").await;
            refused(s, &v, bad, &uri);
        }
    }
    let (s, v) = w.call("review", "GET", "/hma/h/hash", "").await;
    assert!(refused(s, &v, bad, "no url").contains("url is required"));
    let (s, v) = w
        .call(
            "review",
            "GET",
            "/hma/h/hash?url=https%3A%2F%2Fexample.org%2Fv.mp4&content_type=video",
            "",
        )
        .await;
    assert!(refused(s, &v, bad, "video").contains("video"));
    let (s, v) = w
        .call(
            "review",
            "GET",
            "/hma/h/hash?url=https%3A%2F%2Fexample.org%2Fa&content_type=audio",
            "",
        )
        .await;
    assert!(refused(s, &v, bad, "audio").contains("no such content_type"));
    let (s, v) = w
        .call(
            "review",
            "GET",
            "/hma/h/hash?url=https%3A%2F%2Fexample.org%2Fa&types=md5",
            "",
        )
        .await;
    assert!(refused(s, &v, bad, "md5").contains("md5"));
    let (s, v) = w
        .call(
            "review",
            "GET",
            "/hma/h/hash?url=https%3A%2F%2Fexample.org%2Fa&colour=red",
            "",
        )
        .await;
    assert!(refused(s, &v, bad, "an unknown parameter").contains("colour"));

    // Uploads: a video, two files, not an image, not multipart, past the body cap.
    let png = blocks_png(1);
    let (s, v) = w
        .multipart(
            "review",
            "/hma/h/hash",
            &[("video", Some("v.mp4"), b"\x00\x00\x00\x18ftyp")],
        )
        .await;
    assert!(refused(s, &v, bad, "video upload").contains("video"));
    let (s, v) = w
        .multipart(
            "review",
            "/hma/h/hash",
            &[
                ("photo", Some("a.png"), &png),
                ("photo", Some("b.png"), &png),
            ],
        )
        .await;
    assert!(refused(s, &v, bad, "two files").contains("one file"));
    let (s, v) = w
        .multipart(
            "review",
            "/hma/h/hash",
            &[("photo", Some("x.png"), b"plain words")],
        )
        .await;
    refused(s, &v, bad, "not an image");
    let (s, v) = w
        .multipart(
            "review",
            "/hma/h/hash",
            &[("document", Some("x.pdf"), b"%PDF")],
        )
        .await;
    assert!(refused(s, &v, bad, "unknown content type").contains("no such content_type"));
    let (s, v) = w
        .call("review", "POST", "/hma/h/hash", r#"{"photo":"abc"}"#)
        .await;
    assert!(refused(s, &v, bad, "JSON instead of a file").contains("multipart"));
    let huge = vec![0u8; 100 * 1024];
    let (s, v) = w
        .multipart("review", "/hma/h/hash", &[("photo", Some("x.png"), &huge)])
        .await;
    refused(
        s,
        &v,
        StatusCode::PAYLOAD_TOO_LARGE,
        "an upload past the cap",
    );
    let (s, v) = w
        .multipart(
            "admin",
            "/hma/c/bank/GOOD/content",
            &[("photo", Some("x.png"), &huge)],
        )
        .await;
    refused(
        s,
        &v,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a banked upload past the cap",
    );
    let (s, v) = w
        .multipart(
            "admin",
            "/hma/c/bank/GOOD/content",
            &[("photo", Some("a.png"), &png), ("colour", None, b"red")],
        )
        .await;
    assert!(refused(s, &v, bad, "an unknown form field").contains("colour"));
    let (s, v) = w
        .multipart(
            "admin",
            "/hma/c/bank/GOOD/content",
            &[("photo", Some("a.png"), &png), ("metadata", None, b"[1]")],
        )
        .await;
    assert!(refused(s, &v, bad, "metadata not an object").contains("metadata"));
    let long_note = "n".repeat(256);
    let (s, v) = w
        .multipart(
            "admin",
            "/hma/c/bank/GOOD/content",
            &[
                ("photo", Some("a.png"), &png),
                ("note", None, long_note.as_bytes()),
            ],
        )
        .await;
    assert!(refused(s, &v, bad, "a long note").contains("255"));
    let (s, v) = w
        .call("admin", "POST", "/hma/c/bank/GOOD/content", "")
        .await;
    assert!(refused(s, &v, bad, "nothing to bank").contains("Neither"));
    let (s, v) = w
        .call("review", "POST", "/hma/m/lookup", r#"{"pdq":"abc"}"#)
        .await;
    assert!(refused(s, &v, bad, "a JSON lookup upload").contains("multipart"));
    let (s, v) = w
        .multipart(
            "review",
            "/hma/m/lookup?colour=red",
            &[("photo", Some("a.png"), &png)],
        )
        .await;
    assert!(refused(s, &v, bad, "an unknown lookup parameter").contains("colour"));
    let (s, v) = w
        .multipart(
            "review",
            "/hma/m/lookup",
            &[("video", Some("v.mp4"), b"\x00")],
        )
        .await;
    assert!(refused(s, &v, bad, "a video lookup").contains("video"));

    // Lookups: bad hex, unknown types, missing parameters, bad booleans.
    for (uri, needle) in [
        (
            "/hma/m/lookup?signal_type=pdq&signal=xyz".to_owned(),
            "invalid signal",
        ),
        (
            format!("/hma/m/lookup?signal_type=pdq&signal={}", &hash[..60]),
            "invalid signal",
        ),
        (
            format!("/hma/m/lookup?signal_type=md5&signal={hash}"),
            "No such SignalType",
        ),
        (format!("/hma/m/lookup?signal={hash}"), "required"),
        (
            format!("/hma/m/lookup?signal_type=pdq&signal={hash}&bypass_coinflip=maybe"),
            "boolean",
        ),
        (
            format!("/hma/m/lookup?signal_type=pdq&signal={hash}&limit=3"),
            "limit",
        ),
        (
            format!("/hma/m/raw_lookup?signal_type=pdq&signal={hash}&include_distance=yes"),
            "boolean",
        ),
        (
            "/hma/m/raw_lookup?signal_type=pdq".to_owned(),
            "signal is required",
        ),
        (
            format!("/hma/m/raw_lookup?signal_type=tmk&signal={hash}"),
            "No such SignalType",
        ),
        (
            "/hma/m/index/status?signal_type=video_md5".to_owned(),
            "No such signal type",
        ),
    ] {
        let (s, v) = w.call("review", "GET", &uri, "").await;
        let m = refused(s, &v, bad, &uri);
        assert!(m.contains(needle), "{uri}: {m}");
    }
    for (body, needle) in [
        (json!({"pdq": [hash]}).to_string(), "exactly 2"),
        (json!({"pdq": [hash, hash, hash]}).to_string(), "exactly 2"),
        (json!({"pdq": [hash, "zz"]}).to_string(), "Invalid pdq hash"),
        (json!({"pdq": hash}).to_string(), "not a list"),
        (
            json!({"md5": [hash, hash]}).to_string(),
            "No such SignalType",
        ),
        (json!([hash, hash]).to_string(), "not a dict"),
        ("{not json".to_owned(), "not JSON"),
    ] {
        let (s, v) = w.call("review", "POST", "/hma/m/compare", &body).await;
        let m = refused(s, &v, bad, &body);
        assert!(m.contains(needle), "{body}: {m}");
    }
    let big = format!(r#"{{"pdq":["{}","{hash}"]}}"#, "a".repeat(70 * 1024));
    let (s, v) = w.call("review", "POST", "/hma/m/compare", &big).await;
    refused(
        s,
        &v,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a compare past the cap",
    );

    // Curation: names, fields, values.
    for (body, needle) in [
        (r#"{"name":"lower_case"}"#, "^[A-Z0-9_]+$"),
        (r#"{"name":"WITH-DASH"}"#, "^[A-Z0-9_]+$"),
        (r#"{"name":""}"#, "^[A-Z0-9_]+$"),
        (r#"{"enabled_ratio":1}"#, "name is required"),
        (r#"{"name":"OK","colour":"red"}"#, "colour"),
        (r#"{"name":"OK","enabled_ratio":"lots"}"#, "Invalid float"),
        (r#"{"name":"OK","enabled_ratio":2}"#, "between 0 and 1"),
        (r#"{"name":"OK","enabled":"perhaps"}"#, "boolean"),
        (r#"{"name":"OK""#, "invalid JSON"),
    ] {
        let (s, v) = w.call("admin", "POST", "/hma/c/banks", body).await;
        let m = refused(s, &v, bad, body);
        assert!(m.contains(needle), "{body}: {m}");
    }
    let long_name = "A".repeat(61);
    let (s, v) = w
        .call(
            "admin",
            "POST",
            "/hma/c/banks",
            &json!({"name": long_name}).to_string(),
        )
        .await;
    refused(s, &v, bad, "a long name");
    let big_body = format!(r#"{{"name":"{}"}}"#, "A".repeat(70 * 1024));
    let (s, v) = w.call("admin", "POST", "/hma/c/banks", &big_body).await;
    refused(s, &v, StatusCode::PAYLOAD_TOO_LARGE, "a bank past the cap");
    for uri in [
        "/hma/c/bank/lower",
        "/hma/c/bank/A%20B",
        "/hma/c/bank/DOT.DOT/content/1",
    ] {
        let (s, v) = w.call("review", "GET", uri, "").await;
        assert!(refused(s, &v, bad, uri).contains("^[A-Z0-9_]+$"));
    }
    for (method, uri, body) in [
        ("PUT", "/hma/c/bank/bad-name", r#"{"enabled":true}"#),
        ("DELETE", "/hma/c/bank/bad-name", ""),
        ("POST", "/hma/c/bank/bad-name/signal", r#"{"pdq":"00"}"#),
        ("POST", "/hma/c/bank/bad-name/content", ""),
        (
            "PUT",
            "/hma/c/bank/bad-name/content/1",
            r#"{"disable_until_ts":0}"#,
        ),
        ("DELETE", "/hma/c/bank/bad-name/content/1", ""),
    ] {
        let (s, v) = w.call("admin", method, uri, body).await;
        assert!(
            refused(s, &v, bad, uri).contains("^[A-Z0-9_]+$"),
            "{method} {uri}"
        );
    }
    let (s, v) = w
        .call(
            "review",
            "GET",
            "/hma/c/bank/GOOD/content/1?include_signals=maybe",
            "",
        )
        .await;
    assert!(refused(s, &v, bad, "a bad boolean").contains("boolean"));
    let (s, v) = w
        .call("review", "GET", "/hma/c/bank/GOOD/content/1?with=all", "")
        .await;
    assert!(refused(s, &v, bad, "an unknown parameter").contains("with"));
    let (s, v) = w.call("review", "GET", "/hma/c/bank/MISSING", "").await;
    refused(s, &v, StatusCode::NOT_FOUND, "an unknown bank");
    let (s, v) = w
        .call("admin", "PUT", "/hma/c/bank/MISSING", r#"{"enabled":true}"#)
        .await;
    refused(s, &v, StatusCode::NOT_FOUND, "updating an unknown bank");
    let (s, v) = w
        .call("admin", "PUT", "/hma/c/bank/GOOD", r#"{"name":"bad name"}"#)
        .await;
    refused(s, &v, bad, "renaming to a bad name");
    let (s, v) = w
        .call(
            "admin",
            "PUT",
            "/hma/c/bank/GOOD",
            r#"{"enabled_ratio":0.5,"owner":"x"}"#,
        )
        .await;
    assert!(refused(s, &v, bad, "an unknown field").contains("owner"));
    for (body, needle) in [
        (r#"{"pdq":"xyz"}"#.to_owned(), "Invalid pdq signal"),
        (json!({"md5": hash}).to_string(), "No such signal type"),
        (r#"{}"#.to_owned(), "No signals given"),
        (
            json!({"pdq": hash, "note": "n".repeat(256)}).to_string(),
            "255",
        ),
        (json!({"pdq": 12}).to_string(), "string"),
    ] {
        let (s, v) = w
            .call("admin", "POST", "/hma/c/bank/GOOD/signal", &body)
            .await;
        let m = refused(s, &v, bad, &body);
        assert!(m.contains(needle), "{body}: {m}");
    }
    let (s, v) = w
        .call(
            "admin",
            "POST",
            "/hma/c/bank/MISSING/signal",
            &json!({"pdq": hash}).to_string(),
        )
        .await;
    refused(s, &v, StatusCode::NOT_FOUND, "a signal for an unknown bank");
    let (s, v) = w
        .call(
            "admin",
            "POST",
            "/hma/c/bank/GOOD/signal",
            &json!({"pdq": hash}).to_string(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["id"].as_i64().unwrap();
    let content = format!("/hma/c/bank/GOOD/content/{id}");
    let ten_years = (samaritan_store::now_ms() / 1000 + 10 * 365 * 86_400).to_string();
    for (body, needle) in [
        (r#"{"disable_until_ts":-5}"#.to_owned(), "non-negative"),
        (
            r#"{"disable_until_ts":1.5}"#.to_owned(),
            "non-negative integer",
        ),
        (format!(r#"{{"disable_until_ts":{ten_years}}}"#), "5 years"),
        (r#"{"disable_until_ts":"soon"}"#.to_owned(), "Invalid float"),
        (r#"{"enabled":false}"#.to_owned(), "enabled"),
    ] {
        let (s, v) = w.call("admin", "PUT", &content, &body).await;
        let m = refused(s, &v, bad, &body);
        assert!(m.contains(needle), "{body}: {m}");
    }
    let (s, v) = w
        .call(
            "admin",
            "PUT",
            "/hma/c/bank/GOOD/content/99999",
            r#"{"disable_until_ts":0}"#,
        )
        .await;
    refused(s, &v, StatusCode::NOT_FOUND, "unknown content");
    let (s, v) = w
        .call("review", "GET", "/hma/c/bank/GOOD/content/not-a-number", "")
        .await;
    refused(
        s,
        &v,
        StatusCode::NOT_FOUND,
        "a content id that is not a number",
    );
    let (s, v) = w
        .call("admin", "DELETE", "/hma/c/bank/GOOD/content/99999", "")
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({"deleted": 0})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_hma_errors_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    bad_input(Store::open_sqlite(dir.path()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_hma_errors_postgres() {
    let Some((store, url, schema)) = postgres("hma::bad_input_gets_hma_errors_postgres").await
    else {
        return;
    };
    bad_input(store).await;
    drop_schema(&url, &schema).await;
}

/// Two admins create the same bank at once: one gets 201, the other HMA's 403.
async fn concurrent_creation(store: Store) {
    let w = world(store, false, 1 << 20).await;
    let body = r#"{"name":"RACE","enabled_ratio":"1"}"#;
    let (a, b) = tokio::join!(
        w.call("admin", "POST", "/hma/c/banks", body),
        w.call("admin", "POST", "/hma/c/banks", body),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::FORBIDDEN],
        "{a:?} {b:?}"
    );
    let (_, v) = w.call("review", "GET", "/hma/c/banks", "").await;
    assert_eq!(v, json!([{"name": "RACE", "matching_enabled_ratio": 1.0}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creation_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_creation(Store::open_sqlite(dir.path()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creation_postgres() {
    let Some((store, url, schema)) = postgres("hma::concurrent_creation_postgres").await else {
        return;
    };
    concurrent_creation(store).await;
    drop_schema(&url, &schema).await;
}
