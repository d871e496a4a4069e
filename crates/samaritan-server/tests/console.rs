//! The review console in process, as a browser without JavaScript uses it (cookies kept, forms
//! posted): sign-in with its throttles, the security headers, the queue, claim next, the ad
//! page with its highlights, a decision bound to its revision, CSRF and cross-origin refusals,
//! roles, the audit trail under the person's name, and sign-out. On SQLite, and on PostgreSQL
//! where it is available.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::DEFAULT_POLICY;
use samaritan_server::{AppState, ConsoleConfig, EngineAnalyzer, Limits};
use samaritan_store::{Role, Scope, Store};
use tower::ServiceExt;

const PW: &str = "a long test password";

/// A browser: keeps cookies, follows nothing (redirects are asserted).
struct Browser {
    app: axum::Router,
    cookies: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of hidden input `name` (first one).
    fn hidden(&self, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let at = self
            .html
            .find(&needle)
            .unwrap_or_else(|| panic!("no {name} in {}", self.html));
        let rest = &self.html[at + needle.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    fn new(app: &axum::Router) -> Browser {
        Browser {
            app: app.clone(),
            cookies: HashMap::new(),
        }
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<String>,
        origin: Option<&str>,
    ) -> Page {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "console.test");
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", c.join("; "));
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (kv, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            html: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A post with its own content type and body (for bodies no form would send).
    async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header("host", "console.test")
            .header("origin", "http://console.test")
            .header("cookie", cookies.join("; "))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            html: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None, None).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(
            "POST",
            path,
            Some(form(fields)),
            Some("http://console.test"),
        )
        .await
    }

    /// Signs in; returns the response to the form post.
    async fn sign_in(&mut self, name: &str, password: &str) -> Page {
        let login = self.get("/login").await;
        assert_eq!(login.status, StatusCode::OK);
        let token = login.hidden("token");
        self.post(
            "/login",
            &[
                ("name", name),
                ("password", password),
                ("token", &token),
                ("next", "/queue"),
            ],
        )
        .await
    }
}

/// Every console page keeps to the CSP: no inline script, no inline style, no third party.
fn assert_clean(p: &Page) {
    let csp = p.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(p.headers["x-frame-options"], "DENY");
    assert_eq!(p.headers["cache-control"], "no-store");
    let lower = p.html.to_ascii_lowercase();
    assert!(!lower.contains(" style="), "inline style in {}", p.html);
    assert!(!lower.contains("<style"), "a <style> element");
    for chunk in lower.split("<script").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap()];
        assert!(
            tag.contains("src=\"/assets/"),
            "inline or foreign script: <script{tag}>"
        );
    }
    assert!(
        !lower.contains("http://") || !lower.contains("src=\"http"),
        "a third-party source"
    );
}

async fn console_flow(store: Store) {
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let limits = Limits {
        rate_per_sec: 0.0,
        console: ConsoleConfig {
            address_failures: 9,
            ..ConsoleConfig::default()
        },
        ..Limits::default()
    };
    let state = AppState::new(store.clone(), analyzer, limits);
    let app = samaritan_server::router(state);
    let ingest = store
        .create_key("ingest", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let ads = serde_json::json!([
        {"id": "c1", "title": "New girl in town", "body": "Sweet 16yo, new in town. Incall only, $200/hr. Text 702-555-0143", "location": {"city": "Reno"}, "posted_at": "2026-11-01T10:00:00Z"},
        {"id": "c2", "title": "Young and fresh", "body": "Fresh young girl available tonight, outcall, 150 roses per hour, call 702-555-0143", "location": {"city": "Sparks"}, "posted_at": "2026-11-03T10:00:00Z"},
        {"id": "c3", "title": "<script>alert(1)</script>", "body": "<b>bold</b> new girl 16yo incall $150/hr"},
    ]);
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/v1/ads")
                .header("authorization", format!("Bearer {ingest}"))
                .body(Body::from(ads.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for (name, role) in [
        ("rev", Role::Reviewer),
        ("rev2", Role::Reviewer),
        ("aud", Role::Auditor),
        ("locky", Role::Reviewer),
    ] {
        store.create_user(name, role, PW, "test").await.unwrap();
    }

    // Signed out: every page sends you to sign in, and comes back after.
    let mut b = Browser::new(&app);
    let p = b.get("/queue?verdict=block").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/login?next=/queue%3Fverdict%3Dblock");
    assert_eq!(b.get("/").await.location(), "/login?next=/");
    let login = b.get("/login").await;
    assert_clean(&login);
    assert!(login.html.contains("name=\"password\" type=\"password\""));

    // The sign-in form's own token is required.
    let p = b
        .post(
            "/login",
            &[("name", "rev"), ("password", PW), ("token", "nope")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(!b.cookies.contains_key("samaritan_session"));

    // Signed in: a session cookie only scripts cannot read and other sites cannot send.
    let p = b.sign_in("rev", PW).await;
    assert_eq!((p.status, p.location()), (StatusCode::SEE_OTHER, "/queue"));
    let set = p
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = set
        .iter()
        .find(|c| c.starts_with("samaritan_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "not configured: {session}");

    // The queue, highest risk first, the read on the record under the person's name.
    let q = b.get("/queue").await;
    assert_eq!(q.status, StatusCode::OK);
    assert_clean(&q);
    assert!(
        q.html.contains("/ads/c1") && q.html.contains("/ads/c2"),
        "{}",
        q.html
    );
    let csrf = q.hidden("csrf");
    let reads = store.audit_list(0, 1000).await.unwrap();
    assert!(
        reads
            .iter()
            .any(|e| e.action == "queue.read" && e.actor == "user:rev")
    );
    assert!(
        reads
            .iter()
            .any(|e| e.action == "session.open" && e.actor == "user:rev")
    );

    // Claim next: refused without the form token or from another origin; else the item opens.
    let p = b.post("/queue/next", &[("csrf", "")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = b
        .send(
            "POST",
            "/queue/next",
            Some(form(&[("csrf", &csrf)])),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(
        store
            .audit_list(0, 1000)
            .await
            .unwrap()
            .iter()
            .all(|e| e.action != "queue.claim")
    );
    let p = b.post("/queue/next", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let ad_path = p.location().to_owned();
    assert!(ad_path.starts_with("/ads/c"), "{ad_path}");
    let ad_id = ad_path.trim_start_matches("/ads/").to_owned();

    // The ad: text with its signals marked, the decision form, the read audited.
    let a = b.get(&ad_path).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_clean(&a);
    assert!(a.html.contains("<mark class=\"sig sig-"), "{}", a.html);
    assert!(a.html.contains("id=\"decide\""));
    let revision = a.hidden("revision");
    let log = store.audit_list(0, 1000).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "ad.read" && e.actor == "user:rev" && e.subject == ad_id)
    );
    assert!(
        log.iter()
            .any(|e| e.action == "queue.claim" && e.actor == "user:rev")
    );

    // The open page renews the lease (htmx, every two minutes); nobody else can renew it.
    assert!(a.html.contains(&format!("hx-post=\"{ad_path}/renew\"")));
    let r = b
        .post(&format!("{ad_path}/renew"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.starts_with("<time class=\"lease\""), "{}", r.html);
    // Someone else cannot decide it (no claim); a stale revision is not recorded.
    let mut b2 = Browser::new(&app);
    b2.sign_in("rev2", PW).await;
    let csrf2 = b2.get("/queue").await.hidden("csrf");
    let r = b2
        .post(&format!("{ad_path}/renew"), &[("csrf", &csrf2)])
        .await;
    assert!(r.html.contains("no longer yours"), "{}", r.html);

    let p = b2
        .post(
            &format!("{ad_path}/decide"),
            &[
                ("csrf", &csrf2),
                ("action", "allow"),
                ("reason", "not_commercial"),
                ("revision", &revision),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(p.html.contains("Not recorded"), "{}", p.html);
    let p = b
        .post(
            &format!("{ad_path}/decide"),
            &[
                ("csrf", &csrf),
                ("action", "remove"),
                ("reason", "minor_indicators"),
                ("revision", "99"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    // A reason that is not the action's is refused with the list.
    let p = b
        .post(
            &format!("{ad_path}/decide"),
            &[
                ("csrf", &csrf),
                ("action", "allow"),
                ("reason", "minor_indicators"),
                ("revision", &revision),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(p.html.contains("Choose a reason"), "{}", p.html);
    assert!(store.decisions_of(&ad_id).await.unwrap().is_empty());

    // Decided: bound to the revision shown, recorded under the person's name.
    let p = b
        .post(
            &format!("{ad_path}/decide"),
            &[
                ("csrf", &csrf),
                ("action", "remove"),
                ("reason", "minor_indicators"),
                ("note", "stated age"),
                ("revision", &revision),
                ("then", "queue"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location(), format!("/queue?done={ad_id}"));
    let d = store.decisions_of(&ad_id).await.unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(
        (
            d[0].actor.as_str(),
            d[0].action.as_str(),
            d[0].revision.to_string()
        ),
        ("user:rev", "remove", revision.clone())
    );
    // Submit & next opens the next item.
    let p = b.post("/queue/next", &[("csrf", &csrf)]).await;
    let next_path = p.location().to_owned();
    assert!(
        next_path.starts_with("/ads/") && next_path != ad_path,
        "{next_path}"
    );

    // An ad's own markup is text, never markup.
    let c3 = b.get("/ads/c3").await;
    assert_eq!(c3.status, StatusCode::OK);
    assert!(!c3.html.contains("<script>alert") && !c3.html.contains("<b>bold"));
    assert!(
        c3.html.contains("&#60;b&#62;bold") || c3.html.contains("&lt;b&gt;bold"),
        "{}",
        c3.html
    );

    // Search by the shared phone finds both ads; the search is audited.
    let s = b.get("/search?kind=phone&value=702-555-0143").await;
    assert_eq!(s.status, StatusCode::OK);
    assert!(
        s.html.contains("/ads/c1") && s.html.contains("/ads/c2"),
        "{}",
        s.html
    );
    assert!(
        store
            .audit_list(0, 1000)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "search" && e.actor == "user:rev")
    );

    // The network as one case: the graph of what joins its members, the phone's movement
    // across cities, and one decision over the members the person can claim.
    let nid = store
        .get_ad("c2", samaritan_store::now_ms())
        .await
        .unwrap()
        .unwrap()
        .network_id
        .unwrap();
    let n = b.get(&format!("/networks/{nid}")).await;
    assert_eq!(n.status, StatusCode::OK, "{}", n.html);
    assert_clean(&n);
    assert!(
        n.html.contains("<svg class=\"graph\"") && n.html.contains("<line"),
        "{}",
        n.html
    );
    assert!(
        n.html.contains("Reno (2026-11-01) → Sparks (2026-11-03)"),
        "{}",
        n.html
    );
    assert!(
        store
            .audit_list(0, 10_000)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "network.read" && e.actor == "user:rev")
    );
    let selectable: Vec<String> = n
        .html
        .split("name=\"ad\" value=\"")
        .skip(1)
        .map(|r| r[..r.find('"').unwrap()].to_owned())
        .collect();
    assert!(!selectable.is_empty(), "{}", n.html);
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("action", "remove"),
        ("reason", "third_party_control"),
    ];
    for v in &selectable {
        fields.push(("ad", v));
    }
    let p = b.post(&format!("/networks/{nid}/decide"), &fields).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(
        p.html.contains(&format!(
            "{} of {} selected members decided",
            selectable.len(),
            selectable.len()
        )),
        "{}",
        p.html
    );
    for v in &selectable {
        let (ad, rev) = v.rsplit_once('@').unwrap();
        let d = store.decisions_of(ad).await.unwrap();
        let last = d.last().unwrap();
        assert_eq!(
            (
                last.actor.as_str(),
                last.reason.as_str(),
                last.revision.to_string().as_str()
            ),
            ("user:rev", "third_party_control", rev)
        );
    }
    // A member already decided is not selectable again, and claiming it is refused.
    let (done_ad, _) = selectable[0].rsplit_once('@').unwrap();
    let p = b2
        .post(&format!("/ads/{done_ad}/claim"), &[("csrf", &csrf2)])
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.html);

    // Roles: a reviewer is refused the audit log; an auditor reads and verifies it, and has no
    // queue.
    assert_eq!(b.get("/audit").await.status, StatusCode::FORBIDDEN);
    let mut au = Browser::new(&app);
    assert_eq!(au.sign_in("aud", PW).await.status, StatusCode::SEE_OTHER);
    assert_eq!(au.get("/queue").await.status, StatusCode::FORBIDDEN);
    let v = au.get("/audit?verify=1").await;
    assert_eq!(v.status, StatusCode::OK);
    assert!(v.html.contains("Intact:"), "{}", v.html);

    // Sign-out ends the session for good (the old cookie no longer works).
    let old = b.cookies.clone();
    let p = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((p.status, p.location()), (StatusCode::SEE_OTHER, "/login"));
    assert!(!b.cookies.contains_key("samaritan_session"));
    b.cookies = old;
    assert_eq!(b.get("/queue").await.status, StatusCode::SEE_OTHER);
    let log = store.audit_list(0, 10_000).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "session.close" && e.actor == "user:rev")
    );

    // Lockout: five wrong passwords lock the account; then even the right one is refused, with
    // the same words as a wrong one.
    let mut x = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(
            x.sign_in("locky", "wrong password!!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let p = x.sign_in("locky", PW).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.html.contains("Wrong name or password"));
    assert!(
        log.len() < store.audit_list(0, 10_000).await.unwrap().len(),
        "the lockout is audited"
    );
    // Per address: after 9 failures from one address it must wait, whichever account it tries.
    for _ in 0..3 {
        x.sign_in("nobody", "wrong password!!").await;
    }
    let p = x.sign_in("rev", PW).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.html);
    assert!(p.headers.contains_key("retry-after"));
    assert!(store.audit_verify().await.unwrap().ok);
    // No password, token or CSRF value is in the log.
    let text = serde_json::to_string(&store.audit_list(0, 10_000).await.unwrap()).unwrap();
    assert!(!text.contains(PW) && !text.contains(&csrf));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_a_queue_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    console_flow(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
async fn the_console_works_a_queue_on_postgres() {
    let Some(url) =
        samaritan_testkit::postgres_url("console::the_console_works_a_queue_on_postgres")
    else {
        return;
    };
    let schema = format!("samaritan_console_test_{}", std::process::id());
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    console_flow(store).await;
}

#[tokio::test]
async fn assets_are_served_from_the_binary_with_their_types() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let app = samaritan_server::router(AppState::new(store, analyzer, Limits::default()));
    let mut b = Browser::new(&app);
    for (path, kind) in [
        ("/assets/htmx-2.0.11.min.js", "text/javascript"),
        ("/assets/console.js", "text/javascript"),
        ("/assets/console.css", "text/css"),
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        assert!(
            p.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert_eq!(p.headers["x-content-type-options"], "nosniff");
    }
    assert_eq!(
        b.get("/assets/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/assets/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );
}

/// An image taken in is kept by its hash; the ad page shows it blurred; the full picture comes
/// only on request and that request is audited with the image's hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_images_are_blurred_until_revealed_and_the_reveal_is_audited() {
    use base64::Engine as _;
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
    let app = samaritan_server::router(state);
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../samaritan-media/tests/data/rgb.jpeg"
    ))
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    let ingest = store
        .create_key("ingest", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let body = serde_json::json!([{"id": "img1", "body": "new girl 16yo incall $150/hr", "images": [{"base64": b64}, {"sha256": "ab".repeat(32)}]}]);
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/v1/ads")
                .header("authorization", format!("Bearer {ingest}"))
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let sha = samaritan_store::sha256_hex(&jpeg);
    assert_eq!(
        blobs
            .get(&samaritan_media::BlobKey::image(&sha).unwrap())
            .await
            .unwrap()
            .unwrap(),
        jpeg,
        "the file is kept by its hash"
    );

    store
        .create_user("rev", Role::Reviewer, PW, "test")
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in("rev", PW).await;
    let page = b.get("/ads/img1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_clean(&page);
    assert!(
        page.html.contains("/ads/img1/images/0?view=blurred"),
        "{}",
        page.html
    );
    assert!(!page.html.contains("view=full"));
    assert!(
        page.html.contains("The file is not kept"),
        "the hash-only image says so"
    );
    let blurred = b.get("/ads/img1/images/0?view=blurred").await;
    assert_eq!(blurred.status, StatusCode::OK);
    assert_eq!(blurred.headers["content-type"], "image/png");
    assert_eq!(blurred.headers["cache-control"], "no-store");
    let log = store.audit_list(0, 1000).await.unwrap();
    assert!(
        log.iter().all(|e| e.action != "image.reveal"),
        "blurred is not a reveal"
    );

    let page = b.get("/ads/img1?reveal=0").await;
    assert!(
        page.html.contains("/ads/img1/images/0?view=full"),
        "{}",
        page.html
    );
    let full = b.get("/ads/img1/images/0?view=full").await;
    assert_eq!(full.status, StatusCode::OK);
    assert_ne!(full.html, blurred.html);
    let log = store.audit_list(0, 1000).await.unwrap();
    let reveal = log.iter().find(|e| e.action == "image.reveal").unwrap();
    assert_eq!(
        (reveal.actor.as_str(), reveal.subject.as_str()),
        ("user:rev", "img1")
    );
    assert_eq!(reveal.detail["sha256"], sha.as_str());
    // A kept file that no longer matches its SHA-256 (tampered, damaged) is never shown.
    let key = samaritan_media::BlobKey::image(&sha).unwrap();
    let mut forged = jpeg.clone();
    let last = forged.len() - 3;
    forged[last] ^= 0x55;
    blobs.put_unchecked(&key, forged).await.unwrap();
    let refused = b.get("/ads/img1/images/0?view=blurred").await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(refused.html.contains("does not match"), "{}", refused.html);
    blobs.put_unchecked(&key, jpeg.clone()).await.unwrap();
    // Not kept, out of range, an unknown view: refused without touching the disk by name.
    assert_eq!(
        b.get("/ads/img1/images/1?view=full").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/ads/img1/images/9").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/ads/img1/images/0?view=raw").await.status,
        StatusCode::BAD_REQUEST
    );
    // Search by picture: the same file finds the ad at distance 0; the upload is not kept.
    let csrf = b.get("/search").await.hidden("csrf");
    let kept_before = walk(blobs.root().unwrap());
    let multipart = |csrf: &str, file: &[u8]| {
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
        );
        body.extend_from_slice(file);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        body
    };
    let cookie: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let send = |body: Vec<u8>| {
        let app = app.clone();
        let cookie = cookie.join("; ");
        async move {
            let resp = app
                .oneshot(
                    Request::builder()
                        .method("POST")
                        .uri("/search/image")
                        .header("host", "console.test")
                        .header("origin", "http://console.test")
                        .header("cookie", cookie)
                        .header("content-type", "multipart/form-data; boundary=XyZ")
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    let (status, html) = send(multipart(&csrf, &jpeg)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("/ads/img1") && html.contains("<td class=\"num\">0</td>"),
        "{html}"
    );
    assert_eq!(
        walk(blobs.root().unwrap()),
        kept_before,
        "the upload is not kept"
    );
    let log = store.audit_list(0, 1000).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "search" && e.subject == "pdq" && e.actor == "user:rev")
    );
    // Not a picture: said so; no token: refused.
    let (status, html) = send(multipart(&csrf, b"not an image")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("could not be read"), "{html}");
    let (status, _) = send(multipart("", &jpeg)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Signed out: nothing.
    let mut anon = Browser::new(&app);
    assert_eq!(
        anon.get("/ads/img1/images/0").await.status,
        StatusCode::SEE_OTHER
    );
}

/// Each person's settings, the break suggestion once a session passes its budget, and the
/// exposure overview for leads (counts only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_break_prompt_and_exposure_for_leads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let app = samaritan_server::router(AppState::new(
        store.clone(),
        analyzer,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
    ));
    let ingest = store
        .create_key("ingest", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let ads: Vec<serde_json::Value> = (0..3)
        .map(|i| serde_json::json!({"id": format!("w{i}"), "body": format!("new girl 16yo sensual incall $150/hr call 702-555-01{i}{i}")}))
        .collect();
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/v1/ads")
                .header("authorization", format!("Bearer {ingest}"))
                .body(Body::from(serde_json::Value::from(ads).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    store
        .create_user("rev", Role::Reviewer, PW, "test")
        .await
        .unwrap();
    store
        .create_user("lead", Role::Lead, PW, "test")
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in("rev", PW).await;
    let page = b.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_clean(&page);
    let csrf = page.hidden("csrf");
    // Out of range: refused with the rule named, nothing saved.
    let p = b
        .post(
            "/settings",
            &[
                ("csrf", &csrf),
                ("blur", "7"),
                ("break_items", "2"),
                ("break_images", "1"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.html.contains("blur is 1"), "{}", p.html);
    let p = b
        .post(
            "/settings",
            &[
                ("csrf", &csrf),
                ("blur", "3"),
                ("break_items", "2"),
                ("break_images", "1"),
            ],
        )
        .await;
    assert_eq!(
        (p.status, p.location()),
        (StatusCode::SEE_OTHER, "/settings?saved=1")
    );
    let p = b
        .post(
            "/settings",
            &[("blur", "1"), ("break_items", "2"), ("break_images", "1")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "no CSRF token, no change");
    // Bodies that do not read get a console page naming the problem, not bare text.
    let p = b
        .post(
            "/settings",
            &[("csrf", &csrf), ("blur", "heavy"), ("break_items", "2")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(
        p.html.contains("The form does not read") && p.html.contains("<html"),
        "{}",
        p.html
    );
    let p = b
        .post_raw("/settings", "text/plain", b"blur=1".to_vec())
        .await;
    assert_eq!(p.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(p.html.contains("The form does not read"), "{}", p.html);
    // A picture over the upload limit is refused with 413, as a page.
    let boundary = "XyZ";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.resize(body.len() + 33 * 1024 * 1024, b'x');
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let p = b
        .post_raw(
            "/search/image",
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await;
    assert_eq!(
        p.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &p.html[..p.html.len().min(300)]
    );
    assert!(p.html.contains("the upload does not read"), "{}", p.html);

    // Two items opened: the budget of 2 is reached and every page suggests a break.
    assert!(!b.get("/queue").await.html.contains("take a break"));
    b.get("/ads/w0").await;
    b.get("/ads/w1").await;
    let q = b.get("/queue").await;
    assert!(q.html.contains("Please take a break"), "{}", q.html);
    assert!(q.html.contains("opened 2 items"), "{}", q.html);

    // Leads see counts per person; reviewers cannot open the overview.
    assert_eq!(b.get("/exposure").await.status, StatusCode::FORBIDDEN);
    let mut l = Browser::new(&app);
    l.sign_in("lead", PW).await;
    let ex = l.get("/exposure").await;
    assert_eq!(ex.status, StatusCode::OK);
    assert_clean(&ex);
    assert!(ex.html.contains("<td>rev</td>"), "{}", ex.html);
    assert!(
        !ex.html.contains("w0") && !ex.html.contains("w1"),
        "never which ads"
    );
    // The dashboard is for leads too.
    assert_eq!(b.get("/dashboard").await.status, StatusCode::FORBIDDEN);
    let dash = l.get("/dashboard").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert_clean(&dash);
    assert!(
        dash.html.contains("Queue by priority") && dash.html.contains(">urgent<"),
        "{}",
        dash.html
    );
    assert!(
        dash.html.contains("Quality audit") && dash.html.contains("No audited ad answered yet"),
        "{}",
        dash.html
    );

    // A lead takes an item back from the reviewer holding it; the reviewer can no longer
    // decide it, and the change is audited with who held it.
    let csrf_rev = b.get("/queue").await.hidden("csrf");
    let p = b.post("/queue/next", &[("csrf", &csrf_rev)]).await;
    let held_path = p.location().to_owned();
    let held_id = held_path.trim_start_matches("/ads/").to_owned();
    let rev_page = b.get(&held_path).await;
    let q = l.get("/queue").await;
    assert!(
        q.html.contains("Held by others") && q.html.contains("user:rev"),
        "{}",
        q.html
    );
    let csrf_lead = q.hidden("csrf");
    assert_eq!(
        b.post("/queue/take-back", &[("csrf", &csrf_rev), ("ad", &held_id)])
            .await
            .status,
        StatusCode::FORBIDDEN,
        "not for reviewers"
    );
    let p = l
        .post(
            "/queue/take-back",
            &[("csrf", &csrf_lead), ("ad", &held_id)],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = b
        .post(
            &format!("{held_path}/decide"),
            &[
                ("csrf", &csrf_rev),
                ("action", "remove"),
                ("reason", "minor_indicators"),
                ("revision", &rev_page.hidden("revision")),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.html);
    let log = store.audit_list(0, 10_000).await.unwrap();
    let e = log.iter().find(|e| e.action == "queue.reassign").unwrap();
    assert_eq!(
        (
            e.actor.as_str(),
            e.subject.as_str(),
            e.detail["from"].as_str()
        ),
        ("user:lead", held_id.as_str(), Some("user:rev"))
    );

    // Masking explicit terms is each person's choice: off, the words show; on, they are masked
    // in the ad text, the signal quotes and the queue's snippets.
    assert!(b.get("/ads/w2").await.html.contains("sensual"));
    let p = b
        .post(
            "/settings",
            &[
                ("csrf", &csrf_rev),
                ("blur", "2"),
                ("break_items", "60"),
                ("break_images", "10"),
                ("mask_explicit", "1"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let ad = b.get("/ads/w2").await;
    assert!(!ad.html.to_lowercase().contains("sensual"), "{}", ad.html);
    assert!(ad.html.contains("■■■ incall"), "{}", ad.html);
    let q = b.get("/queue").await;
    assert!(!q.html.to_lowercase().contains("sensual"));
    assert!(
        b.get("/settings")
            .await
            .html
            .contains("name=\"mask_explicit\" value=\"1\" checked")
    );
    // The lead's own view is unchanged.
    assert!(l.get("/ads/w2").await.html.contains("sensual"));
}

/// Every file under `dir`, sorted.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The admin page: people, keys and the policy, each change audited under the admin's name, a
/// new secret shown once; refused for anyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_people_keys_and_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let app = samaritan_server::router(AppState::new(store.clone(), analyzer, Limits::default()));
    store
        .create_user("adm", Role::Admin, PW, "test")
        .await
        .unwrap();
    store
        .create_user("rev", Role::Reviewer, PW, "test")
        .await
        .unwrap();
    let mut r = Browser::new(&app);
    r.sign_in("rev", PW).await;
    assert_eq!(r.get("/admin").await.status, StatusCode::FORBIDDEN);
    let mut a = Browser::new(&app);
    a.sign_in("adm", PW).await;
    let page = a.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_clean(&page);
    let csrf = page.hidden("csrf");
    let secret = |p: &Page| {
        let at = p.html.find("<code id=\"secret\">").unwrap() + 18;
        p.html[at..at + p.html[at..].find('<').unwrap()].to_owned()
    };

    // People: made with a generated password shown once; a taken name is refused.
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "create-user"),
                ("name", "newbie"),
                ("role", "lead"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    let pw = secret(&p);
    assert!(
        store
            .verify_login("newbie", &pw, samaritan_store::now_ms())
            .await
            .is_ok()
    );
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "create-user"),
                ("name", "newbie"),
                ("role", "lead"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("already exists"), "{}", p.html);
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "reset-password"),
                ("name", "newbie"),
            ],
        )
        .await;
    assert!(
        store
            .verify_login("newbie", &secret(&p), samaritan_store::now_ms())
            .await
            .is_ok()
    );
    let p = a
        .post(
            "/admin",
            &[("csrf", &csrf), ("op", "disable-user"), ("name", "newbie")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        store
            .get_user("newbie")
            .await
            .unwrap()
            .unwrap()
            .disabled_at
            .is_some()
    );

    // Keys: bad scopes refused; a key made is shown once and works until revoked.
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "create-key"),
                ("name", "x"),
                ("scopes", "root"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "create-key"),
                ("name", "feed"),
                ("scopes", "ingest"),
            ],
        )
        .await;
    let key = secret(&p);
    assert!(store.authenticate(&key).await.unwrap().is_some());
    let id = samaritan_store::keys::key_id(&key).unwrap().to_owned();
    a.post(
        "/admin",
        &[("csrf", &csrf), ("op", "revoke-key"), ("id", &id)],
    )
    .await;
    assert!(store.authenticate(&key).await.unwrap().is_none());
    // A key held by a person (for the two-person rules); never by a disabled one.
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "create-key"),
                ("name", "rev's tools"),
                ("scopes", "review"),
                ("person", "rev"),
            ],
        )
        .await;
    let held = store.authenticate(&secret(&p)).await.unwrap().unwrap();
    assert_eq!(held.person.as_deref(), Some("rev"));
    let page = a.get("/admin").await;
    assert!(page.html.contains("Held by"), "{}", page.html);
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "create-key"),
                ("name", "x"),
                ("scopes", "review"),
                ("person", "newbie"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Policy: a broken text is refused with its line and changes nothing; a good one goes in.
    let before = store.current_policy().await.unwrap().map(|p| p.version);
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "policy"),
                ("policy", "this is = = not toml"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("Refused"), "{}", p.html);
    assert_eq!(
        store.current_policy().await.unwrap().map(|p| p.version),
        before
    );
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "policy"),
                ("policy", DEFAULT_POLICY),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("is in force"));
    assert!(store.current_policy().await.unwrap().is_some());

    // Backtest: a text with one more indicator (bicycles as commercial wording) over the
    // recent ads; nothing is put in force.
    let ingest = store
        .create_key("ingest", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let ads = serde_json::json!([
        {"id": "p1", "body": "Incall tonight, $150/hr, ask for Mia"},
        {"id": "p2", "body": "Selling a bicycle, barely used"},
    ]);
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/v1/ads")
                .header("authorization", format!("Bearer {ingest}"))
                .body(Body::from(ads.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let current_version = DEFAULT_POLICY
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap();
    let stricter = DEFAULT_POLICY.replacen(current_version, "version = \"backtest\"", 1)
        + "\n[[indicator]]\nid = \"bicycle_test\"\ncategory = \"commercial\"\n\
           description = \"test\"\nsource = \"test\"\nweight = 0.50\nphrases = [\"bicycle\"]\n";
    assert_ne!(stricter, DEFAULT_POLICY);
    let version = store.current_policy().await.unwrap().map(|p| p.version);
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "policy-diff"),
                ("recent", "100"),
                ("policy", &stricter),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert_clean(&p);
    assert!(
        p.html.contains("Backtest of default@backtest"),
        "{}",
        p.html
    );
    assert!(p.html.contains("2 most recent ads"), "{}", p.html);
    assert!(
        p.html.contains("href=\"/ads/p2\""),
        "the ad that moves is listed: {}",
        p.html
    );
    assert!(
        p.html.contains("bicycle_test +0.50"),
        "with the signal that moved it"
    );
    assert!(
        !p.html.contains("href=\"/ads/p1\""),
        "an ad that stays is not listed"
    );
    assert!(
        p.html.contains("version = &#34;backtest&#34;")
            || p.html.contains("version = &quot;backtest&quot;"),
        "the text stays in the editor"
    );
    assert_eq!(
        store.current_policy().await.unwrap().map(|p| p.version),
        version,
        "a backtest puts nothing in force"
    );
    // A text that does not check is not compared.
    let p = a
        .post(
            "/admin",
            &[
                ("csrf", &csrf),
                ("op", "policy-diff"),
                ("policy", "x = = y"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("Not compared"), "{}", p.html);

    // Without the form token nothing happens; everything done is audited under the admin.
    let p = a
        .post(
            "/admin",
            &[("op", "create-user"), ("name", "ghost"), ("role", "admin")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(store.get_user("ghost").await.unwrap().is_none());
    let log = store.audit_list(0, 1000).await.unwrap();
    for action in [
        "user.create",
        "user.reset_password",
        "user.disable",
        "key.create",
        "key.revoke",
        "policy.update",
        "policy.diff",
    ] {
        assert!(
            log.iter()
                .any(|e| e.action == action && e.actor == "user:adm"),
            "{action} by user:adm: {:?}",
            log.iter()
                .map(|e| (&e.action, &e.actor))
                .collect::<Vec<_>>()
        );
    }
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(&pw) && !text.contains(&key));
    assert!(store.audit_verify().await.unwrap().ok);
}

/// A session ends after its idle time and after its absolute time, whatever the cookie says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_and_when_too_old() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let app_with = |idle_ms: i64, absolute_ms: i64| {
        samaritan_server::router(AppState::new(
            store.clone(),
            analyzer.clone(),
            Limits {
                console: ConsoleConfig {
                    sessions: samaritan_store::SessionLimits {
                        idle_ms,
                        absolute_ms,
                    },
                    ..ConsoleConfig::default()
                },
                ..Limits::default()
            },
        ))
    };
    store
        .create_user("rev", Role::Reviewer, PW, "test")
        .await
        .unwrap();
    // Idle: 800 ms without a request ends it.
    let idle = app_with(800, 60_000);
    let mut b = Browser::new(&idle);
    b.sign_in("rev", PW).await;
    assert_eq!(b.get("/settings").await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let p = b.get("/settings").await;
    assert_eq!(
        (p.status, p.location()),
        (StatusCode::SEE_OTHER, "/login?next=/settings")
    );
    // Absolute: busy all along, it still ends after 1.5 s.
    let old = app_with(60_000, 1500);
    let mut b = Browser::new(&old);
    b.sign_in("rev", PW).await;
    for _ in 0..4 {
        assert_eq!(b.get("/settings").await.status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(b.get("/settings").await.status, StatusCode::SEE_OTHER);
}

/// The store's QA tasks of `ad`, answered or not (through the audit of assignments).
async fn assigned(store: &Store, action: &str) -> Vec<(String, String)> {
    store
        .audit_list(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| (e.actor, e.subject))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_review_golden_items_second_reviews_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let state = AppState::new(
        store.clone(),
        analyzer,
        Limits {
            rate_per_sec: 0.0,
            console: ConsoleConfig {
                golden_rate: 1.0,
                second_review_rate: 1.0,
                ..ConsoleConfig::default()
            },
            ..Limits::default()
        },
    );
    // Report cases' evidence is preserved under a hold.
    state.preserve_with(
        samaritan_server::preserve::Preservation::new(
            samaritan_server::vault::Keyring::parse(&"4d".repeat(32)).unwrap(),
            365,
        )
        .unwrap(),
    );
    // Reports are filed with a local mock CyberTipline.
    let mock = samaritan_server::cybertip::mock::Mock::new("esp", "pw");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mock_router = mock.router();
    tokio::spawn(async move { axum::serve(listener, mock_router).await });
    state.file_with(samaritan_server::cybertip::client::Client::new(
        &base,
        &samaritan_server::cybertip::client::Credentials::parse("esp:pw").unwrap(),
        std::time::Duration::from_secs(5),
    ));
    state
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
    let app = samaritan_server::router(state);
    let ingest = store
        .create_key("ingest", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let ads: Vec<serde_json::Value> = (0..2)
        .map(|i| serde_json::json!({"id": format!("q{i}"), "body": format!("new girl 16yo incall $150/hr call 702-555-01{i}{i}")}))
        .collect();
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/v1/ads")
                .header("authorization", format!("Bearer {ingest}"))
                .body(Body::from(serde_json::Value::from(ads).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for (name, role) in [
        ("ana", Role::Reviewer),
        ("bo", Role::Reviewer),
        ("cy", Role::Reviewer),
        ("lead", Role::Lead),
    ] {
        store.create_user(name, role, PW, "test").await.unwrap();
    }

    // ana decides an ad; with a sampling rate of 1 it goes up for a second review.
    let mut ana = Browser::new(&app);
    ana.sign_in("ana", PW).await;
    let csrf = ana.get("/queue").await.hidden("csrf");
    let p = ana.post("/queue/next", &[("csrf", &csrf)]).await;
    let first = p.location().trim_start_matches("/ads/").to_owned();
    assert!(first.starts_with('q'), "{}", p.location());
    let page = ana.get(&format!("/ads/{first}")).await;
    let p = ana
        .post(
            &format!("/ads/{first}/decide"),
            &[
                ("csrf", &csrf),
                ("revision", &page.hidden("revision")),
                ("action", "remove"),
                ("reason", "minor_indicators"),
                ("then", "queue"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(assigned(&store, "qa.sample").await.len(), 1);
    // ana never gets her own decision to check: claim next gives her the other ad.
    let p = ana.post("/queue/next", &[("csrf", &csrf)]).await;
    assert_ne!(p.location(), format!("/ads/{first}"));
    let other = p.location().trim_start_matches("/ads/").to_owned();

    // bo is given the second review before the queue, and reviews blind.
    let mut bo = Browser::new(&app);
    bo.sign_in("bo", PW).await;
    let csrf_bo = bo.get("/queue").await.hidden("csrf");
    let p = bo.post("/queue/next", &[("csrf", &csrf_bo)]).await;
    assert_eq!(p.location(), format!("/ads/{first}"));
    let page = bo.get(&format!("/ads/{first}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_clean(&page);
    assert!(
        page.html.contains("Earlier decisions are not shown"),
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("minor_indicators</td>"),
        "the first decision leaks"
    );
    assert!(
        !page.html.contains("href=\"/networks/"),
        "the case link leaks decisions"
    );
    // Nor does the network case itself, opened by its address, while bo reviews blind.
    if let Some(nid) = store
        .get_ad(&first, samaritan_store::now_ms())
        .await
        .unwrap()
        .unwrap()
        .network_id
    {
        let case = bo.get(&format!("/networks/{nid}")).await;
        assert_eq!(case.status, StatusCode::OK);
        assert!(!case.html.contains("by user:ana"), "{}", case.html);
        assert!(
            !page.html.contains(&nid),
            "the network id is not shown either"
        );
    }
    assert!(page.html.contains("id=\"decide\""));
    // It is in bo's queue as his claim.
    let q = bo.get("/queue").await;
    assert!(q.html.contains(&format!("/ads/{first}")), "{}", q.html);
    // Renewing the page's lease works on the task.
    let r = bo
        .post(&format!("/ads/{first}/renew"), &[("csrf", &csrf_bo)])
        .await;
    assert!(r.html.contains("<time"), "{}", r.html);
    let p = bo
        .post(
            &format!("/ads/{first}/decide"),
            &[
                ("csrf", &csrf_bo),
                ("revision", &page.hidden("revision")),
                ("action", "allow"),
                ("reason", "adult_consensual"),
                ("note", "reads as an adult"),
                ("then", "queue"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    // The answer is no decision.
    let decisions = store.decisions_of(&first).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].action, "remove");

    // Reviewers have no QA page; a post without the CSRF token is refused.
    assert_eq!(bo.get("/qa").await.status, StatusCode::FORBIDDEN);
    let mut lead = Browser::new(&app);
    lead.sign_in("lead", PW).await;
    let qa = lead.get("/qa").await;
    assert_eq!(qa.status, StatusCode::OK);
    assert_clean(&qa);
    let csrf_lead = qa.hidden("csrf");
    assert!(qa.html.contains("user:ana"), "{}", qa.html);
    assert!(qa.html.contains("reads as an adult"));
    assert!(
        qa.html.contains("0 % of 1"),
        "ana's decision not confirmed: {}",
        qa.html
    );
    let p = lead
        .post(
            "/qa",
            &[
                ("csrf", ""),
                ("op", "resolve"),
                ("task", "1"),
                ("note", "x"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    // The lead overrides the first decision from the ad page, then resolves.
    let page = lead.get(&format!("/ads/{first}")).await;
    assert!(page.html.contains("Override the decision"), "{}", page.html);
    let p = lead
        .post(
            &format!("/ads/{first}/decide"),
            &[
                ("csrf", &csrf_lead),
                ("revision", &page.hidden("revision")),
                ("basis", "override"),
                ("supersedes", &page.hidden("supersedes")),
                ("action", "allow"),
                ("reason", "adult_consensual"),
                ("then", "ad"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let decisions = store.decisions_of(&first).await.unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(
        (decisions[1].basis.as_str(), decisions[1].supersedes),
        ("override", Some(decisions[0].seq))
    );
    // An override is not sampled again.
    assert_eq!(assigned(&store, "qa.sample").await.len(), 1);
    let task = store.qa_disagreements(10).await.unwrap()[0].id.to_string();
    let p = lead
        .post(
            "/qa",
            &[
                ("csrf", &csrf_lead),
                ("op", "resolve"),
                ("task", &task),
                ("note", "decision overridden"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("resolved"), "{}", p.html);
    assert!(p.html.contains("None waiting"));

    // The lead makes the ad a golden item; a bad reason is refused on the page.
    let p = lead
        .post(
            "/qa",
            &[
                ("csrf", &csrf_lead),
                ("op", "golden-add"),
                ("ad", &first),
                ("action", "allow"),
                ("reason", "minor_indicators"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.html);
    let p = lead
        .post(
            "/qa",
            &[
                ("csrf", &csrf_lead),
                ("op", "golden-add"),
                ("ad", &first),
                ("action", "allow"),
                ("reason", "adult_consensual"),
                ("note", "adult, stated 24 elsewhere"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("is a golden item"), "{}", p.html);

    // cy (who never saw it) is served the golden item first, blind, and answers right.
    let mut cy = Browser::new(&app);
    cy.sign_in("cy", PW).await;
    let csrf_cy = cy.get("/queue").await.hidden("csrf");
    let p = cy.post("/queue/next", &[("csrf", &csrf_cy)]).await;
    assert_eq!(p.location(), format!("/ads/{first}"));
    let page = cy.get(&format!("/ads/{first}")).await;
    assert!(page.html.contains("Earlier decisions are not shown"));
    assert!(!page.html.contains("(override)"));
    let p = cy
        .post(
            &format!("/ads/{first}/decide"),
            &[
                ("csrf", &csrf_cy),
                ("revision", &page.hidden("revision")),
                ("action", "allow"),
                ("reason", "adult_consensual"),
                ("then", "next"),
            ],
        )
        .await;
    // Submit & next goes on to real work: the golden item is not served twice.
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_ne!(p.location(), format!("/ads/{first}"));
    assert_eq!(store.decisions_of(&first).await.unwrap().len(), 2);
    let qa = lead.get("/qa").await;
    assert!(
        qa.html.contains("100 % of 1"),
        "cy's golden answer: {}",
        qa.html
    );
    let answers = assigned(&store, "qa.answer").await;
    assert_eq!(
        answers,
        [
            ("user:bo".to_owned(), first.clone()),
            ("user:cy".to_owned(), first.clone())
        ]
    );
    let p = lead
        .post(
            "/qa",
            &[
                ("csrf", &csrf_lead),
                ("op", "golden-remove"),
                ("ad", &first),
            ],
        )
        .await;
    assert!(p.html.contains("left the golden set"), "{}", p.html);
    // ana reports the other ad: a report case opens; a lead reads it and approves it.
    let page = ana.get(&format!("/ads/{other}")).await;
    let p = ana
        .post(
            &format!("/ads/{other}/decide"),
            &[
                ("csrf", &csrf),
                ("revision", &page.hidden("revision")),
                ("action", "report"),
                ("reason", "child_sex_trafficking"),
                ("then", "queue"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(ana.get("/reports").await.status, StatusCode::FORBIDDEN);
    let list = lead.get("/reports").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_clean(&list);
    assert!(
        list.html.contains(&format!("/ads/{other}")),
        "{}",
        list.html
    );
    let case = store.reports(None, 10).await.unwrap()[0].clone();
    assert_eq!(
        (case.ad_id.as_str(), case.state.as_str()),
        (other.as_str(), "draft")
    );
    let view = lead.get(&format!("/reports/{}", case.id)).await;
    assert_eq!(view.status, StatusCode::OK);
    assert_clean(&view);
    assert!(view.html.contains("Child Sex Trafficking"));
    assert!(
        !view.html.contains("Missing before it can be filed"),
        "the reporter is configured: {}",
        view.html
    );
    assert!(view.html.contains("id=\"approve\""));
    let p = lead
        .post(
            &format!("/reports/{}/approve", case.id),
            &[("csrf", &csrf_lead)],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let view = lead.get(&format!("/reports/{}", case.id)).await;
    assert!(view.html.contains("Approved by user:lead"), "{}", view.html);
    assert!(!view.html.contains("id=\"approve\""));
    let p = lead
        .post(
            &format!("/reports/{}/approve", case.id),
            &[("csrf", &csrf_lead)],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    // The lead files it with the (mock) CyberTipline from the case page.
    let view = lead.get(&format!("/reports/{}", case.id)).await;
    assert!(view.html.contains("id=\"file\""), "{}", view.html);
    let p = lead
        .post(
            &format!("/reports/{}/submit", case.id),
            &[("csrf", &csrf_lead)],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let view = lead.get(&format!("/reports/{}", case.id)).await;
    assert!(
        view.html.contains("CyberTipline report <strong>"),
        "{}",
        view.html
    );
    assert!(view.html.contains("(filed)"));
    assert!(!view.html.contains("id=\"file\""));
    assert_eq!(mock.reports().values().filter(|r| r.finished).count(), 1);
    // Its evidence is held: leads see the hold; only an admin extends or releases it, and the
    // release of a filed report's hold is refused within its year.
    assert!(
        view.html.contains("is <strong>held</strong>"),
        "{}",
        view.html
    );
    assert!(!view.html.contains("id=\"extend\""));
    let p = lead
        .post(
            &format!("/reports/{}/hold/extend", case.id),
            &[
                ("csrf", &csrf_lead),
                ("until", "2999-01-01"),
                ("reference", "r"),
                ("agency", "a"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    store
        .create_user("root", Role::Admin, PW, "test")
        .await
        .unwrap();
    let mut root = Browser::new(&app);
    root.sign_in("root", PW).await;
    let view = root.get(&format!("/reports/{}", case.id)).await;
    assert_clean(&view);
    assert!(view.html.contains("id=\"extend\"") && view.html.contains("id=\"release\""));
    let csrf_root = view.hidden("csrf");
    let bad = root
        .post(
            &format!("/reports/{}/hold/extend", case.id),
            &[
                ("csrf", &csrf_root),
                ("until", "soon"),
                ("reference", "r"),
                ("agency", "a"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_clean(&bad);
    let p = root
        .post(
            &format!("/reports/{}/hold/extend", case.id),
            &[
                ("csrf", &csrf_root),
                ("until", "2999-01-01"),
                ("reference", "2703F-0042"),
                ("agency", "Example County Sheriff"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let view = root.get(&format!("/reports/{}", case.id)).await;
    assert!(
        view.html.contains("Example County Sheriff"),
        "{}",
        view.html
    );
    let refused = root
        .post(
            &format!("/reports/{}/hold/release", case.id),
            &[("csrf", &csrf_root), ("reason", "done")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.html.contains("Example County Sheriff"),
        "{}",
        refused.html
    );
    assert_eq!(
        store.hold_of_report(case.id).await.unwrap().unwrap().state,
        "held"
    );

    // The two ads share a template: the ad page shows it with this ad's slot fills.
    let page = lead.get("/ads/q1").await;
    assert!(page.html.contains("id=\"template\""), "{}", page.html);
    assert!(page.html.contains("<mark class=\"slot\""), "{}", page.html);
    assert!(store.audit_verify().await.unwrap().ok);
}

/// Appeals in the console: listed with the user's statement (escaped), "claim next" never gives
/// a reviewer an appeal against their own decision, and another reviewer answers it with a
/// reason of the right kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appeals_are_answered_by_someone_other_than_the_decider() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    let app = samaritan_server::router(AppState::new(
        store.clone(),
        analyzer,
        Limits {
            rate_per_sec: 0.0,
            ..Limits::default()
        },
    ));
    let ingest = store
        .create_key("ingest", &[Scope::Ingest], "test")
        .await
        .unwrap()
        .secret;
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/v1/ads")
                .header("authorization", format!("Bearer {ingest}"))
                .body(Body::from(
                    r#"[{"id":"ap1","body":"new girl 16yo incall $150/hr call 702-555-0177"}]"#,
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for name in ["ana", "bo"] {
        store
            .create_user(name, Role::Reviewer, PW, "test")
            .await
            .unwrap();
    }
    let t0 = samaritan_store::now_ms();
    store
        .queue_claim_ads(
            "user:ana",
            samaritan_store::QueueState::Open,
            &["ap1"],
            60_000,
            t0,
        )
        .await
        .unwrap();
    store
        .decide(
            &samaritan_store::DecisionInput {
                ad_id: "ap1".into(),
                revision: 1,
                action: samaritan_store::DecisionAction::Remove,
                reason: "minor_indicators".into(),
                note: String::new(),
                basis: samaritan_store::DecisionBasis::Claim,
            },
            "user:ana",
            t0,
        )
        .await
        .unwrap();
    let appeal = store
        .appeal_create(
            "ap1",
            "It was <script>x</script> a bicycle.",
            "key:platform",
            t0,
        )
        .await
        .unwrap();
    let mut ana = Browser::new(&app);
    ana.sign_in("ana", PW).await;
    let list = ana.get("/appeals").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_clean(&list);
    assert!(
        list.html.contains("&#60;script&#62;x") && !list.html.contains("<script>x"),
        "escaped: {}",
        list.html
    );
    let csrf = list.hidden("csrf");
    let none = ana.post("/appeals/claim", &[("csrf", &csrf)]).await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(
        none.html.contains("No open appeal for you"),
        "{}",
        none.html
    );
    let mut bo = Browser::new(&app);
    bo.sign_in("bo", PW).await;
    let list = bo.get("/appeals").await;
    let csrf = list.hidden("csrf");
    let claimed = bo.post("/appeals/claim", &[("csrf", &csrf)]).await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER);
    assert_eq!(claimed.location(), format!("/appeals/{}", appeal.id));
    let page = bo.get(&format!("/appeals/{}", appeal.id)).await;
    assert_clean(&page);
    assert!(page.html.contains("id=\"answer\""), "{}", page.html);
    let uri = format!("/appeals/{}/decision", appeal.id);
    let wrong = bo
        .post(
            &uri,
            &[
                ("csrf", &csrf),
                ("outcome", "reversed"),
                ("reason_reversed", "minor_indicators"),
            ],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::BAD_REQUEST,
        "an allow reason is needed"
    );
    assert_clean(&wrong);
    let done = bo
        .post(
            &uri,
            &[
                ("csrf", &csrf),
                ("outcome", "reversed"),
                ("reason_reversed", "not_commercial"),
                ("note", "a bicycle"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let a = store.appeal(appeal.id).await.unwrap().unwrap();
    assert_eq!(
        (a.outcome.as_deref(), a.answered_by.as_deref()),
        (Some("reversed"), Some("user:bo"))
    );
    let page = bo.get(&format!("/appeals/{}", appeal.id)).await;
    assert!(
        page.html.contains("reversed (not_commercial)"),
        "{}",
        page.html
    );

    // An admin sees a webhook's dead deliveries and sends one again.
    let hook = store
        .webhook_create(
            "https://hooks.example/x",
            &["*".into()],
            "whsec_AAAA",
            "admin",
            t0,
        )
        .await
        .unwrap();
    let ad = samaritan_store::DecisionInput {
        ad_id: "ap1".into(),
        revision: 1,
        action: samaritan_store::DecisionAction::Allow,
        reason: "not_commercial".into(),
        note: String::new(),
        basis: samaritan_store::DecisionBasis::Override {
            supersedes: Some(store.decisions_of("ap1").await.unwrap()[0].seq),
        },
    };
    store.decide(&ad, "user:root", t0).await.unwrap();
    let due = store
        .webhook_due(samaritan_store::now_ms(), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    store
        .webhook_attempted(
            hook.id,
            due[0].event_seq,
            Some(500),
            Some("HTTP 500"),
            None,
            t0,
        )
        .await
        .unwrap();
    assert_eq!(
        bo.get("/admin/webhooks").await.status,
        StatusCode::FORBIDDEN
    );
    store
        .create_user("root", Role::Admin, PW, "test")
        .await
        .unwrap();
    let mut root = Browser::new(&app);
    root.sign_in("root", PW).await;
    let page = root.get("/admin/webhooks").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_clean(&page);
    assert!(
        page.html.contains("1 dead") && page.html.contains("HTTP 500"),
        "{}",
        page.html
    );
    let csrf = page.hidden("csrf");
    let again = root
        .post(
            &format!(
                "/admin/webhooks/{}/deliveries/{}/redeliver",
                hook.id, due[0].event_seq
            ),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(
        store
            .webhook_deliveries(hook.id, Some("pending"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.audit_verify().await.unwrap().ok);
}

/// The learned model's shadow score is on the ad page for leads and admins, labelled as shadow,
/// and not for reviewers (it would anchor the decisions the model learns from).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_shadow_score_is_shown_to_leads_not_reviewers() {
    use samaritan_engine::learn::{self, FeatureConfig, FtrlParams, Label, Model, ModelInput};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let extract = ExtractOptions::default();
    let engine = samaritan_engine::Engine::new(
        samaritan_engine::policy::load_tested(DEFAULT_POLICY, &extract).unwrap(),
        extract,
    );
    let cfg = FeatureConfig {
        bits: 14,
        ..FeatureConfig::default()
    };
    let mut model = Model::new(cfg.clone(), FtrlParams::default());
    for (text, label) in [
        (
            "sensual incall tonight call 702-555-0100",
            Label::Commercial,
        ),
        ("used bicycle for sale call 702-555-0101", Label::Benign),
    ] {
        let ad = samaritan_engine::model::Ad::text("t", None, Some(text));
        let p = engine.prepare(&ad);
        let x = learn::featurize(&ModelInput::from_prepared(&p, engine.policy()), &cfg);
        model.learn(&x, label);
    }
    store
        .save_model(samaritan_store::ModelSave {
            model: &serde_json::to_string(&model).unwrap(),
            source: samaritan_store::ModelSource::Import {
                file: "m.json".into(),
            },
            through_decision: None,
            expected: None,
            actor: "cli",
            now: 1,
        })
        .await
        .unwrap();
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
    samaritan_server::learning::restore_model(&state)
        .await
        .unwrap();
    let raw = serde_json::json!({"id": "m1", "body": "sensual incall tonight call 702-555-0102"})
        .to_string();
    let ad = serde_json::from_str(&raw).unwrap();
    samaritan_server::ingest(&state, vec![(ad, raw)])
        .await
        .unwrap();
    let app = samaritan_server::router(state);
    store
        .create_user("rev", Role::Reviewer, PW, "test")
        .await
        .unwrap();
    store
        .create_user("lead", Role::Lead, PW, "test")
        .await
        .unwrap();
    let mut lead = Browser::new(&app);
    lead.sign_in("lead", PW).await;
    let page = lead.get("/ads/m1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_clean(&page);
    assert!(
        page.html.contains("Learned model (shadow)"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("Version 1 on revision 1"),
        "{}",
        page.html
    );
    assert!(page.html.contains("The model acts on nothing"));
    let mut rev = Browser::new(&app);
    rev.sign_in("rev", PW).await;
    let page = rev.get("/ads/m1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("Learned model"), "{}", page.html);
}
