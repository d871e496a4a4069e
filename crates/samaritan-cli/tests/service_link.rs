//! `samaritan serve` with the real engine: ads posted in separate requests are linked into
//! networks, images are taken in (and refused one by one when bad), PDQ search uses the
//! in-memory index, and all of it is back after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use common::{Client, Server, make_key};
use serde_json::{Value, json};

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

async fn post(c: &mut Client, body: Value) -> Value {
    let (status, text) = c.send("POST", "/v1/ads", body.to_string()).await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn get(c: &mut Client, path: &str) -> (u16, Value) {
    let (status, text) = c.send("GET", path, String::new()).await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| json!({"raw": text})),
    )
}

/// Ids of the ads a search finds, sorted.
async fn search(c: &mut Client, q: String) -> Vec<String> {
    let (status, v) = get(c, &format!("/v1/search?{q}")).await;
    assert_eq!(status, 200, "{v}");
    let mut ids: Vec<String> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["ad_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn ad(id: &str, body: &str, city: &str) -> Value {
    json!({"id": id, "title": "Listing", "body": body, "location": {"city": city}})
}

/// Flips `bits` low bits of the first hex digit group of a PDQ hash.
fn near(hex: &str, flips: u32) -> String {
    let (head, tail) = hex.split_at(4);
    let v = u16::from_str_radix(head, 16).unwrap() ^ ((1u16 << flips) - 1);
    format!("{v:04x}{tail}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_phone_in_different_requests_makes_one_network_visible_from_every_member() {
    let dir = tempfile::tempdir().unwrap();
    let key = make_key(dir.path(), "ingest,review");
    let server = Server::start(dir.path());
    let mut c = Client::connect(&server.addr, &key).await.unwrap();

    let first = post(
        &mut c,
        ad(
            "ph-1",
            "Quiet room to rent near the park. Call 702-555-0199.",
            "Reno",
        ),
    )
    .await;
    assert!(first["results"][0]["analysis"]["network"].is_null());

    let second = post(
        &mut c,
        ad(
            "ph-2",
            "Used road bicycle, good tyres. Text 702 555 0199",
            "Boise",
        ),
    )
    .await;
    let net = &second["results"][0]["analysis"]["network"];
    assert_eq!(net["size"], 2, "{second}");
    assert_eq!(net["cities"], 2);
    assert!(net["reasons"].as_array().unwrap().contains(&json!("phone")));
    let id = net["id"].as_str().unwrap().to_owned();

    // The earlier ad learns about the network it is now in.
    let (status, a1) = get(&mut c, "/v1/ads/ph-1").await;
    assert_eq!(status, 200, "{a1}");
    assert_eq!(a1["network_id"], id.as_str());
    assert_eq!(a1["analysis"]["network"]["size"], 2, "{a1}");

    // A third ad grows it; both earlier ads and the network see size 3.
    post(
        &mut c,
        ad(
            "ph-3",
            "Fresh flowers delivered daily. (702) 555-0199",
            "Fresno",
        ),
    )
    .await;
    for earlier in ["ph-1", "ph-2"] {
        let (_, a) = get(&mut c, &format!("/v1/ads/{earlier}")).await;
        assert_eq!(a["network_id"], id.as_str(), "{a}");
        assert_eq!(a["analysis"]["network"]["size"], 3, "{a}");
    }
    let (status, n) = get(&mut c, &format!("/v1/networks/{id}")).await;
    assert_eq!(status, 200, "{n}");
    assert_eq!(n["size"], 3);
    let mut members: Vec<&str> = n["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ad_id"].as_str().unwrap())
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["ph-1", "ph-2", "ph-3"]);
    assert!(
        n["detail"]["evidence"].to_string().contains("7025550199"),
        "the evidence names the phone: {n}"
    );

    // An unrelated ad stays alone.
    let other = post(
        &mut c,
        ad("ph-9", "Oak dresser for sale. Call 415-555-0123.", "Reno"),
    )
    .await;
    assert!(other["results"][0]["analysis"]["network"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_hashed_linked_matched_against_banks_and_searchable_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = make_key(dir.path(), "ingest,review");
    let jpeg = fixture("rgb.jpeg");
    let facts =
        samaritan_media::hash_bytes(&jpeg, &samaritan_media::DecodeLimits::default()).unwrap();
    let pdq = facts.pdq.unwrap().to_hex();
    // A known image in a hash bank of the store.
    {
        let store = samaritan_store::Store::open_sqlite(dir.path())
            .await
            .unwrap();
        store
            .add_hash_bank_entries(&[("known", "pdq", pdq.as_str(), "test entry")])
            .await
            .unwrap();
        store.close().await;
    }
    let mut server = Server::start_with(dir.path(), None);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();

    let b64 = base64(&jpeg);
    let v = post(
        &mut c,
        json!([
            {"id": "img-1", "body": "Room for rent, quiet street.", "location": {"city": "Reno"},
             "images": [{"base64": b64}]},
            {"id": "img-bad", "body": "Garden tools, barely used.",
             "images": [{"base64": "bm90IGFuIGltYWdl"}, {"path": "/etc/passwd"},
                        {"url": "http://127.0.0.1:9/x.jpg"}, {"base64": b64}]},
        ]),
    )
    .await;
    let a1 = &v["results"][0]["analysis"];
    assert_eq!(a1["images"][0]["pdq"], pdq.as_str(), "{a1}");
    assert_eq!(a1["images"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(a1["images"][0]["md5"].as_str().unwrap().len(), 32);
    assert!(
        a1["signals"].to_string().contains("known_image_match"),
        "a bank match is a signal: {a1}"
    );
    // Every bad image has its own clear error; the good one beside them is hashed.
    let bad = &v["results"][1]["analysis"]["images"];
    for i in 0..3 {
        let e = bad[i]["error"].as_str().unwrap_or_else(|| panic!("{bad}"));
        assert!(!e.is_empty());
        assert!(bad[i]["pdq"].is_null());
    }
    assert!(bad[1]["error"].as_str().unwrap().contains("path"), "{bad}");
    assert!(
        bad[2]["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("url"),
        "{bad}"
    );
    assert_eq!(bad[3]["pdq"], pdq.as_str());
    // The same photo links the two ads.
    let net = v["results"][1]["analysis"]["network"].clone();
    assert_eq!(net["size"], 2, "{v}");
    assert!(net["reasons"].as_array().unwrap().contains(&json!("image")));
    let net_id = net["id"].as_str().unwrap().to_owned();

    // A platform-supplied hash a few bits away, and one in a later request with a phone.
    let close = near(&pdq, 3);
    post(
        &mut c,
        json!({"id": "img-2", "body": "Bicycle, good tyres. Call 702-555-0142.",
               "images": [{"pdq": close}]}),
    )
    .await;

    assert_eq!(
        search(&mut c, format!("pdq={pdq}&distance=0")).await,
        ["img-1", "img-bad"]
    );
    assert_eq!(
        search(&mut c, format!("pdq={pdq}&distance=8")).await,
        ["img-1", "img-2", "img-bad"]
    );
    server.stop();

    // After a restart: the network, the linker's state and the PDQ index are back.
    let server = Server::start_with(dir.path(), None);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    assert_eq!(
        search(&mut c, format!("pdq={}&distance=8", near(&pdq, 1))).await,
        ["img-1", "img-2", "img-bad"]
    );
    let (status, n) = get(&mut c, &format!("/v1/networks/{net_id}")).await;
    assert_eq!(status, 200, "{n}");
    let size_before = n["size"].as_i64().unwrap();
    // A new ad with the photo joins the restored network (the linker came back, not only rows).
    let v = post(
        &mut c,
        json!({"id": "img-3", "body": "Desk lamp, works fine.", "images": [{"base64": b64}]}),
    )
    .await;
    let after = &v["results"][0]["analysis"]["network"];
    assert_eq!(after["id"], net_id.as_str(), "{v}");
    assert_eq!(after["size"].as_i64().unwrap(), size_before + 1);
    let (_, a) = get(&mut c, "/v1/ads/img-1").await;
    assert_eq!(
        a["analysis"]["network"]["size"].as_i64().unwrap(),
        size_before + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn networks_survive_a_restart_and_keep_growing() {
    let dir = tempfile::tempdir().unwrap();
    let key = make_key(dir.path(), "ingest,review");
    let mut server = Server::start(dir.path());
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    for (i, city) in ["Reno", "Boise"].iter().enumerate() {
        post(
            &mut c,
            ad(
                &format!("rs-{i}"),
                &format!("Listing number {i}. Call 775-555-0177."),
                city,
            ),
        )
        .await;
    }
    let (_, a) = get(&mut c, "/v1/ads/rs-0").await;
    let id = a["network_id"].as_str().unwrap().to_owned();
    server.stop();

    let server = Server::start(dir.path());
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let (_, n) = get(&mut c, &format!("/v1/networks/{id}")).await;
    assert_eq!(n["size"], 2, "{n}");
    let v = post(
        &mut c,
        ad("rs-2", "Another listing. Call 775-555-0177.", "Fresno"),
    )
    .await;
    assert_eq!(v["results"][0]["analysis"]["network"]["id"], id.as_str());
    assert_eq!(v["results"][0]["analysis"]["network"]["size"], 3);
    assert_eq!(v["results"][0]["analysis"]["network"]["cities"], 3);
    let (_, n) = get(&mut c, &format!("/v1/networks/{id}")).await;
    assert_eq!(n["members"].as_array().unwrap().len(), 3, "{n}");
}

#[tokio::test]
async fn serve_flags_set_the_image_limits_of_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let key = make_key(dir.path(), "ingest,review");
    let jpeg = fixture("rgb.jpeg");
    let facts =
        samaritan_media::hash_bytes(&jpeg, &samaritan_media::DecodeLimits::default()).unwrap();
    let pixels = u64::from(facts.width.unwrap()) * u64::from(facts.height.unwrap());
    // Room for three of the four images of the request below, across its two ads.
    let budget = (3 * pixels).to_string();
    let mut server = Server::start_with_args(
        dir.path(),
        None,
        &["--max-request-pixels", &budget, "--max-images-per-ad", "2"],
    );
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let img = json!({"base64": base64(&jpeg)});
    let v = post(
        &mut c,
        json!([
            {"id": "p1", "body": "Desk lamp.", "images": [img, img]},
            {"id": "p2", "body": "Desk chair.", "images": [img, img]},
        ]),
    )
    .await;
    let first = &v["results"][0]["analysis"]["images"];
    let second = &v["results"][1]["analysis"]["images"];
    for taken in [&first[0], &first[1], &second[0]] {
        assert!(taken["pdq"].is_string(), "{taken}");
    }
    // The fourth is over the request's budget: an error entry in its place, no hashes.
    assert_eq!(second[1]["index"], 1, "{second}");
    assert!(second[1].get("pdq").is_none(), "{second}");
    assert!(
        second[1]["error"].as_str().unwrap().contains("per request"),
        "{second}"
    );
    // A third image in one ad is refused with the field named.
    let (status, text) = c
        .send(
            "POST",
            "/v1/ads",
            json!({"id": "p3", "images": [img, img, img]}).to_string(),
        )
        .await
        .unwrap();
    assert_eq!(status, 400, "{text}");
    let e: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(e["error"]["code"], "too_many_images", "{e}");
    assert_eq!(e["error"]["field"], "images", "{e}");
    server.stop();
}

/// `samaritan scan` over `ads` (a JSON array) with the data directory `dir`: its analyses.
fn scan_ads(dir: &std::path::Path, ads: &Value, extra: &[&str]) -> Vec<Value> {
    let lines: String = ads
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{a}\n"))
        .collect();
    let input = dir.join("ads.jsonl");
    std::fs::write(&input, lines).unwrap();
    let out = std::process::Command::new(common::BIN)
        .arg("scan")
        .args(extra)
        .arg("--data-dir")
        .arg(dir)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// md5 and sha256 of a file, lowercase hex (as the intake computes them).
fn digests(bytes: &[u8]) -> (String, String) {
    let facts =
        samaritan_media::hash_bytes(bytes, &samaritan_media::DecodeLimits::default()).unwrap();
    (facts.md5.unwrap(), facts.sha256.unwrap())
}

/// One image context for both paths (issue 20): the same ads with images, through `scan` and
/// through `serve` on the same data directory, give the same analyses, bank matches by PDQ, MD5
/// and SHA-256 included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_and_serve_give_the_same_analyses_with_images_and_every_bank_kind() {
    let dir = tempfile::tempdir().unwrap();
    let banks = dir.path().join("banks");
    std::fs::create_dir_all(&banks).unwrap();
    let rgb = fixture("rgb.jpeg");
    let small = fixture("small.jpg");
    let wee = fixture("wee.jpg");
    let (rgb_md5, _) = digests(&rgb);
    let (_, small_sha256) = digests(&small);
    let wee_pdq = samaritan_media::hash_bytes(&wee, &samaritan_media::DecodeLimits::default())
        .unwrap()
        .pdq
        .unwrap()
        .to_hex();
    std::fs::write(
        banks.join("listed.md5"),
        format!("# test list\n{rgb_md5}\n"),
    )
    .unwrap();
    std::fs::write(
        banks.join("seen.sha256"),
        format!("{small_sha256} from a test\n"),
    )
    .unwrap();
    std::fs::write(banks.join("near.pdq"), format!("{}\n", near(&wee_pdq, 2))).unwrap();

    let ads = json!([
        {"id": "cmp-1", "body": "Room for rent, quiet street. Call 702-555-0142.",
         "location": {"city": "Reno"}, "images": [{"base64": base64(&rgb)}]},
        {"id": "cmp-2", "body": "Garden tools, barely used. Call 702-555-0142.",
         "location": {"city": "Sparks"}, "images": [{"base64": base64(&small)}]},
        {"id": "cmp-3", "body": "Desk lamp, works fine.",
         "images": [{"base64": base64(&wee)}, {"base64": "bm90IGFuIGltYWdl"},
                    {"url": "http://203.0.113.9/x.jpg"}]},
        {"id": "cmp-4", "body": "Oak dresser for sale.",
         "images": [{"pdq": wee_pdq, "sha256": small_sha256}]},
        {"id": "cmp-5", "body": "New in town, young and sweet, incall only. Text 702-555-0199."},
    ]);
    let scanned = scan_ads(dir.path(), &ads, &[]);
    assert_eq!(scanned.len(), 5);

    let key = make_key(dir.path(), "ingest,review");
    let server = Server::start_with(dir.path(), None);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    // One request: the service's networks are then as of the whole input, as scan's are.
    let v = post(&mut c, ads).await;
    for (i, scan) in scanned.iter().enumerate() {
        let served = &v["results"][i]["analysis"];
        assert_eq!(served, scan, "ad {i}: serve and scan differ");
    }
    let signals = |i: usize| scanned[i]["signals"].to_string();
    assert!(signals(0).contains("listed"), "md5 list: {}", scanned[0]);
    assert!(signals(1).contains("seen"), "sha256 list: {}", scanned[1]);
    assert!(signals(2).contains("near"), "pdq bank: {}", scanned[2]);
    assert!(
        signals(3).contains("seen"),
        "supplied sha256: {}",
        scanned[3]
    );
    // Linked by the shared phone and by the photos: the network is in both outputs alike.
    assert!(
        scanned[0]["network"]["size"].as_i64().unwrap_or(0) >= 2,
        "{}",
        scanned[0]
    );
}

/// Every path that loads a policy runs its `[[test]]` examples and refuses a failing policy with
/// the same message (issue 20): `scan`, `serve` and `PUT /v1/policy`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_whose_own_test_fails_is_refused_alike_by_scan_serve_and_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let default = std::fs::read_to_string(format!(
        "{}/../../policies/default.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let failing = format!(
        "{default}\n[[test]]\nname = \"a bicycle is blocked\"\nbody = \"Bicycle for sale.\"\nverdict = \"block\"\n"
    );
    let path = dir.path().join("failing.toml");
    std::fs::write(&path, &failing).unwrap();
    let line = failing
        .lines()
        .position(|l| l.contains("a bicycle is blocked"))
        .unwrap();
    let expected = "policy test `a bicycle is blocked` (line";

    let input = dir.path().join("ads.jsonl");
    std::fs::write(&input, "{\"id\":\"p1\",\"body\":\"Bicycle for sale.\"}\n").unwrap();
    let scan = std::process::Command::new(common::BIN)
        .args(["scan", "--policy"])
        .arg(&path)
        .arg(&input)
        .output()
        .unwrap();
    let scan_err = String::from_utf8_lossy(&scan.stderr).into_owned();
    assert!(!scan.status.success(), "scan ran a failing policy");
    assert!(scan.stdout.is_empty());
    assert!(scan_err.contains(expected), "{scan_err}");

    let serve = std::process::Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let serve_err = String::from_utf8_lossy(&serve.stderr).into_owned();
    assert!(!serve.status.success(), "serve ran a failing policy");
    assert!(serve_err.contains(expected), "{serve_err}");

    // The same refusal, word for word, from each: the engine's one message.
    let message = |s: &str| {
        let at = s.find(expected).unwrap();
        s[at..].lines().next().unwrap().to_owned()
    };
    assert_eq!(message(&scan_err), message(&serve_err));
    // It points at the failing test's table in the file (1-based lines).
    let at = message(&scan_err);
    let named: usize = at
        .split("(line ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        (line.saturating_sub(1)..=line + 1).contains(&named),
        "{at}: name on line {}",
        line + 1
    );

    let key = make_key(dir.path(), "admin");
    let server = Server::start_with(dir.path(), None);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let (status, text) = c.send("PUT", "/v1/policy", failing).await.unwrap();
    assert_eq!(status, 422, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let api = v["error"]["message"].as_str().unwrap();
    assert_eq!(api, message(&scan_err), "{v}");
}

/// `--no-images` means the same on both paths (a drift fixed in issue 20): images are not taken
/// in, and the hashes an ad supplies itself still link it. Before, `scan --no-images` dropped
/// them from linking while `serve --no-images` kept them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_images_supplied_hashes_still_link_in_scan_as_in_serve() {
    let dir = tempfile::tempdir().unwrap();
    let pdq = "f".repeat(16) + &"0".repeat(48);
    let ads = json!([
        {"id": "ni-1", "body": "Room for rent, quiet street.", "location": {"city": "Reno"},
         "images": [{"pdq": pdq}]},
        {"id": "ni-2", "body": "Garden tools, barely used.", "location": {"city": "Sparks"},
         "images": [{"pdq": pdq}]},
    ]);
    let scanned = scan_ads(dir.path(), &ads, &["--no-images"]);
    assert!(scanned[0]["images"].as_array().unwrap().is_empty());
    assert_eq!(scanned[1]["network"]["size"], 2, "{}", scanned[1]);
    assert_eq!(scanned[1]["network"]["reasons"], json!(["image"]));

    let key = make_key(dir.path(), "ingest");
    let server = Server::start_with_args(dir.path(), None, &["--no-images"]);
    let mut c = Client::connect(&server.addr, &key).await.unwrap();
    let v = post(&mut c, ads).await;
    for (i, scan) in scanned.iter().enumerate() {
        assert_eq!(&v["results"][i]["analysis"], scan, "ad {i}");
    }
}

/// The stored network memberships, sorted.
async fn memberships(dir: &std::path::Path) -> Vec<(String, String)> {
    let store = samaritan_store::Store::open_sqlite(dir).await.unwrap();
    let mut m = store.network_memberships().await.unwrap();
    store.close().await;
    m.sort();
    m
}

/// Ads posted in concurrent batches, so that one batch can take apart a network another
/// batch's analyses name (a template or contact guarded later): the store's memberships are
/// the linker's at every commit, so a restart that rebuilds the linker from every record and
/// checks every network finds nothing to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_networks_are_the_linkers_even_when_later_batches_take_networks_apart() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let out = std::process::Command::new(common::BIN)
        .args(["synth", "--ads", "400", "--seed", "3", "--out"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = dir.path().join("data");
    let key = make_key(&data, "ingest");
    let mut server = Server::start_with(&data, None);
    let out = std::process::Command::new(common::BIN)
        .args(["bench-http", "--url"])
        .arg(format!("http://{}", server.addr))
        .args([
            "--key",
            &key,
            "--concurrency",
            "4",
            "--batch",
            "50",
            "--ads",
        ])
        .arg(corpus.join("ads.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No snapshot at a kill: the restart replays every record and checks every network.
    server.kill();
    let before = memberships(&data).await;
    assert!(before.len() > 100, "{}", before.len());
    let mut server = Server::start_with(&data, None);
    server.kill();
    assert_eq!(memberships(&data).await, before);
}
