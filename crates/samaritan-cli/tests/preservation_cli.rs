//! Preservation end to end with the real binary (issue 22): `serve` makes the evidence key on
//! first start and preserves a reported case under a hold; `retention run` is a dry run until
//! `--apply` and then removes old unheld ads while the held one stays; `holds` extends a hold
//! and refuses its release while the extension runs; `evidence export` opens the preserved
//! files with the key (and fails clearly with another key); the audit chain stays intact.
//!
//! The same run is made with blob storage in the data directory (the default) and in
//! S3-compatible storage (moto's server, started by the test; `SKIPPED:` where it is not
//! installed): the sealed evidence is in blob storage, the database holds only its reference,
//! and a tampered or missing object fails the export and `audit verify --check-blobs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use std::process::{Command, Output};

use common::{BIN, Client, Server, make_key};

/// Where the run keeps its blobs: the environment that says so to every command, and the
/// store itself (to look at and to tamper with).
struct Blobs {
    env: Vec<(String, String)>,
    store: samaritan_media::BlobStore,
}

fn run_in(dir: &std::path::Path, env: &[(String, String)], args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("SAMARITAN_VAULT_KEY")
        .env_remove("SAMARITAN_VAULT_KEY_FILE")
        .env_remove("SAMARITAN_BLOBS")
        .env_remove("SAMARITAN_BLOBS_ENDPOINT")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_evidence_is_preserved_held_and_outlives_retention() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs {
        env: Vec::new(),
        store: samaritan_media::BlobStore::local(dir.path().join("blobs")).unwrap(),
    };
    scenario(dir.path(), &blobs).await;
    assert!(
        dir.path().join("blobs/sealed").is_dir(),
        "sealed evidence is in the data directory's blob storage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server (pip install 'moto[server]'); run with --include-ignored"]
async fn reported_evidence_is_preserved_in_s3_compatible_storage() {
    let Some(moto) = samaritan_testkit::s3_server("reported_evidence_in_s3") else {
        return;
    };
    moto.create_bucket("samaritan-evidence");
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = [
        ("SAMARITAN_BLOBS", "s3://samaritan-evidence/deploy"),
        ("SAMARITAN_BLOBS_ENDPOINT", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let options = samaritan_media::S3Options {
        endpoint: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        credentials: Some(("testing".into(), "testing".into())),
    };
    let blobs = Blobs {
        env,
        store: samaritan_media::BlobStore::s3("samaritan-evidence", "deploy", &options).unwrap(),
    };
    scenario(dir.path(), &blobs).await;
    assert!(
        !dir.path().join("blobs").exists(),
        "nothing is kept in the data directory"
    );
}

/// The blob-storage objects of the preserved evidence of the cases on `ad`.
async fn objects_of(url: &str, ad: &str) -> Vec<samaritan_media::BlobKey> {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT b.object_sha256 FROM evidence_blobs b \
         JOIN evidence_files f ON f.sha256 = b.sha256 \
         JOIN reports r ON r.id = f.report_id WHERE r.ad_id = $1",
    )
    .bind(ad)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(o,)| samaritan_media::BlobKey::sealed(&o).unwrap())
        .collect()
}

async fn scenario(d: &std::path::Path, blobs: &Blobs) {
    let run = |dir: &std::path::Path, args: &[&str]| run_in(dir, &blobs.env, args);
    let api_key = make_key(d, "ingest,review");
    let mut server =
        Server::start_with_env(d, Some(common::policy_file().as_path()), &[], &blobs.env);
    let vault = d.join("vault.key");
    assert!(vault.exists(), "serve made the evidence key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&vault).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let mut c = Client::connect(&server.addr, &api_key).await.unwrap();
    // Under the service test policy, "my manager books all visits" blocks; the bicycle is fine.
    let ads = r#"[{"id":"r1","body":"My manager books all visits. Call 775-555-0181.","url":"https://classifieds.example/ads/r1"},
                  {"id":"o1","body":"Used road bicycle, good tyres. Call 775-555-0182."}]"#;
    let (status, text) = c.send("POST", "/v1/ads", ads.into()).await.unwrap();
    assert_eq!(status, 200, "{text}");
    let (status, text) = c
        .send("POST", "/v1/queue/claim", String::new())
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let (status, text) = c
        .send(
            "POST",
            "/v1/ads/r1/decision",
            r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#.into(),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{text}");
    server.stop();

    let holds = lines(&ok(&run(d, &["holds", "list"])));
    assert_eq!(holds.len(), 1);
    assert_eq!(
        (holds[0]["ad_id"].as_str(), holds[0]["state"].as_str()),
        (Some("r1"), Some("held"))
    );
    let hold = holds[0]["id"].as_i64().unwrap().to_string();

    // Time passes: both ads were last sent long ago.
    let url = format!("sqlite://{}", d.join("samaritan.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE ads SET updated_at = 0")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // A dry run lists and changes nothing.
    let dry = lines(&ok(&run(
        d,
        &["retention", "run", "--older-than-days", "30"],
    )));
    let plan: Vec<(&str, &str)> = dry
        .iter()
        .map(|v| (v["ad_id"].as_str().unwrap(), v["action"].as_str().unwrap()))
        .collect();
    assert!(
        plan.contains(&("r1", "keep")) && plan.contains(&("o1", "remove")),
        "{plan:?}"
    );
    let again = lines(&ok(&run(
        d,
        &["retention", "run", "--older-than-days", "30"],
    )));
    assert_eq!(again.len(), 2, "nothing was removed by the dry run");
    // Applied: the unheld ad goes, the held one stays.
    let applied = run(
        d,
        &["retention", "run", "--older-than-days", "30", "--apply"],
    );
    ok(&applied);
    assert!(String::from_utf8_lossy(&applied.stderr).contains("removed 1 ads"));
    let after = lines(&ok(&run(
        d,
        &["retention", "run", "--older-than-days", "30"],
    )));
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["ad_id"], "r1");
    assert!(
        !run(d, &["retention", "run", "--older-than-days", "0"])
            .status
            .success()
    );

    // An admin extends the hold for a request; its release is then refused.
    let users = Command::new(BIN)
        .args(["users", "create", "ada", "--role", "admin", "--data-dir"])
        .arg(d)
        .output()
        .unwrap();
    ok(&users);
    ok(&run(
        d,
        &[
            "holds",
            "extend",
            &hold,
            "--until",
            "2999-01-01",
            "--reference",
            "2703F-0042",
            "--agency",
            "Example County Sheriff",
            "--as",
            "ada",
        ],
    ));
    let refused = run(
        d,
        &[
            "holds",
            "release",
            &hold,
            "--reason",
            "opened by mistake",
            "--as",
            "ada",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Example County Sheriff"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let not_admin = run(
        d,
        &["holds", "release", &hold, "--reason", "x", "--as", "nobody"],
    );
    assert!(!not_admin.status.success());

    // The bundle opens the preserved files with the key; another key fails clearly.
    let signing = d.join("signing.key");
    ok(&Command::new(BIN)
        .args(["evidence", "keygen", "--out"])
        .arg(&signing)
        .output()
        .unwrap());
    let bundle = d.join("case.zip");
    let case = holds[0]["report_id"].as_i64().unwrap().to_string();
    let export = |out: &std::path::Path, env_key: Option<String>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["evidence", "export", &case, "--key"])
            .arg(&signing)
            .arg("--out")
            .arg(out)
            .arg("--data-dir")
            .arg(d)
            .env_remove("SAMARITAN_VAULT_KEY_FILE")
            .env_remove("SAMARITAN_BLOBS")
            .env_remove("SAMARITAN_BLOBS_ENDPOINT")
            .envs(blobs.env.iter().map(|(k, v)| (k, v)));
        match env_key {
            Some(k) => cmd.env("SAMARITAN_VAULT_KEY", k),
            None => cmd.env_remove("SAMARITAN_VAULT_KEY"),
        };
        cmd.output().unwrap()
    };
    ok(&export(&bundle, None));
    let verified = Command::new(BIN)
        .args(["evidence", "verify"])
        .arg(&bundle)
        .arg("--public-key")
        .arg(d.join("signing.key.pub"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(&verified)).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let wrong = export(&d.join("wrong.zip"), Some("ab".repeat(32)));
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("key"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    let audit = Command::new(BIN)
        .args(["audit", "verify", "--data-dir"])
        .arg(d)
        .output()
        .unwrap();
    ok(&audit);

    // The sealed bytes are in blob storage; the database keeps the reference and digest.
    let url = format!("sqlite://{}", d.join("samaritan.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT sha256, length(ciphertext), object_sha256, bytes FROM evidence_blobs ORDER BY sha256",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert!(rows.len() >= 5, "{rows:?}");
    for (_, stored, object, _) in &rows {
        assert_eq!(*stored, 0, "no ciphertext in the database");
        let key = samaritan_media::BlobKey::sealed(object.as_deref().unwrap()).unwrap();
        assert!(blobs.store.has(&key).await.unwrap());
    }
    let check = || {
        let out = run(d, &["audit", "verify", "--check-blobs"]);
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
        (out.status.code(), v["blobs"].clone())
    };
    let (code, found) = check();
    assert_eq!(code, Some(0), "{found}");
    assert_eq!(found["checked"], rows.len());
    // Tampered: the export refuses it and verify names it.
    let (_, _, object, plain) = &rows[0];
    let object = object.clone().unwrap();
    let key = samaritan_media::BlobKey::sealed(&object).unwrap();
    let original = blobs.store.get(&key).await.unwrap().unwrap();
    let mut forged = original.clone();
    forged[0] ^= 1;
    blobs.store.put_unchecked(&key, forged).await.unwrap();
    let (code, found) = check();
    assert_eq!(code, Some(1));
    assert!(
        found["damaged"][0].as_str().unwrap().starts_with(&object),
        "{found}"
    );
    let refused = export(&d.join("tampered.zip"), None);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("does not match its name"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // Truncated: the wrong size.
    blobs
        .store
        .put_unchecked(&key, original[..original.len() / 2].to_vec())
        .await
        .unwrap();
    let refused = export(&d.join("truncated.zip"), None);
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains(&format!("not the {} expected", plain + 16)),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // Missing.
    assert!(blobs.store.remove(&key).await.unwrap());
    let (code, found) = check();
    assert_eq!(code, Some(1));
    assert_eq!(found["missing"], serde_json::json!([object]));
    assert!(!export(&d.join("missing.zip"), None).status.success());
    // Put back, all is well again.
    blobs.store.put(&key, original).await.unwrap();
    assert_eq!(check().0, Some(0));
    ok(&export(&d.join("again.zip"), None));

    // A second case, never filed, is released by an admin: retention removes its sealed
    // objects through blob storage, and the held case's stay.
    let mut server =
        Server::start_with_env(d, Some(common::policy_file().as_path()), &[], &blobs.env);
    let mut c = Client::connect(&server.addr, &api_key).await.unwrap();
    let ad = r#"[{"id":"r2","body":"My manager books all visits. Call 775-555-0183.","url":"https://classifieds.example/ads/r2"}]"#;
    let (status, text) = c.send("POST", "/v1/ads", ad.into()).await.unwrap();
    assert_eq!(status, 200, "{text}");
    let (status, text) = c
        .send("POST", "/v1/queue/claim", String::new())
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let (status, text) = c
        .send(
            "POST",
            "/v1/ads/r2/decision",
            r#"{"action":"report","reason":"child_sex_trafficking","revision":1}"#.into(),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{text}");
    server.stop();
    let held = objects_of(&url, "r1").await;
    // A blob both cases share stays with the held one.
    let released: Vec<_> = objects_of(&url, "r2")
        .await
        .into_iter()
        .filter(|k| !held.contains(k))
        .collect();
    assert!(released.len() >= 4, "{released:?}");
    let hold2 = lines(&ok(&run(d, &["holds", "list"])))
        .into_iter()
        .find(|h| h["ad_id"] == "r2")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    ok(&run(
        d,
        &[
            "holds",
            "release",
            &hold2,
            "--reason",
            "opened by mistake",
            "--as",
            "ada",
        ],
    ));
    let applied = run(
        d,
        &["retention", "run", "--older-than-days", "30", "--apply"],
    );
    ok(&applied);
    let said = String::from_utf8_lossy(&applied.stderr).into_owned();
    assert!(
        said.contains(&format!("{} objects in", released.len())),
        "{said}"
    );
    for k in &released {
        assert!(!blobs.store.has(k).await.unwrap(), "{k} removed");
    }
    for k in &held {
        assert!(blobs.store.has(k).await.unwrap(), "{k} is held: kept");
    }
    assert_eq!(check().0, Some(0));
}
