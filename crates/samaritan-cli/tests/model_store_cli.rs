//! `samaritan model import|show|export|rollback` against a store: versions kept and audited,
//! exports byte for byte, rollbacks as new versions, stale writers and bad input refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::path::Path;
use std::process::{Command, Output};

fn samaritan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_samaritan"))
        .args(args)
        .env_remove("SAMARITAN_DATA_DIR")
        .env_remove("SAMARITAN_DATABASE")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Two models trained on a small synth corpus with different seeds.
fn models(dir: &Path) -> (String, String) {
    let corpus = dir.join("corpus");
    ok(&samaritan(&[
        "synth",
        "--ads",
        "300",
        "--seed",
        "5",
        "--out",
        corpus.to_str().unwrap(),
    ]));
    let ads = corpus.join("ads.jsonl");
    let truth = corpus.join("truth.jsonl");
    let mut out = Vec::new();
    for seed in ["1", "2"] {
        let m = dir.join(format!("m{seed}.json"));
        ok(&samaritan(&[
            "model",
            "train",
            "--truth",
            truth.to_str().unwrap(),
            ads.to_str().unwrap(),
            "--seed",
            seed,
            "--bits",
            "16",
            "--out",
            m.to_str().unwrap(),
        ]));
        out.push(m.to_str().unwrap().to_owned());
    }
    (out[0].clone(), out[1].clone())
}

#[test]
fn import_show_export_rollback_round_trip_and_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (m1, m2) = models(dir.path());
    assert_ne!(std::fs::read(&m1).unwrap(), std::fs::read(&m2).unwrap());
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let store = ["--data-dir", data];
    let run = |args: &[&str]| samaritan(&[args, &store[..]].concat());

    // Nothing stored yet.
    assert_eq!(ok(&run(&["model", "show"])), "");
    let e = failed(&run(&["model", "export", "x.json"]));
    assert!(e.contains("no model stored"), "{e}");

    let v1 = lines(&ok(&run(&["model", "import", &m1])));
    assert_eq!(v1[0]["version"], 1);
    assert_eq!(v1[0]["source"], "import");
    assert_eq!(v1[0]["source_detail"]["file"], "m1.json");
    assert_eq!(v1[0]["actor"], "cli");
    // A writer that expects no version yet is refused now that there is one.
    let e = failed(&run(&["model", "import", &m2, "--expect-version", "0"]));
    assert!(e.contains("current model version is 1, not none"), "{e}");
    let v2 = lines(&ok(&run(&[
        "model",
        "import",
        &m2,
        "--expect-version",
        "1",
    ])));
    assert_eq!(v2[0]["version"], 2);

    // Export: the current one and a named one, byte for byte.
    let out = dir.path().join("out.json");
    let out = out.to_str().unwrap();
    ok(&run(&["model", "export", out]));
    assert_eq!(std::fs::read(out).unwrap(), std::fs::read(&m2).unwrap());
    ok(&run(&["model", "export", "--version", "1", out]));
    assert_eq!(std::fs::read(out).unwrap(), std::fs::read(&m1).unwrap());
    let e = failed(&run(&["model", "export", "--version", "9", out]));
    assert!(e.contains("no model version 9"), "{e}");

    // Rollback: a new version equal to version 1.
    let e = failed(&run(&["model", "rollback", "1", "--expect-version", "1"]));
    assert!(e.contains("current model version is 2, not 1"), "{e}");
    let e = failed(&run(&["model", "rollback", "7"]));
    assert!(e.contains("model version 7 not found"), "{e}");
    let v3 = lines(&ok(&run(&["model", "rollback", "1"])));
    assert_eq!(v3[0]["version"], 3);
    assert_eq!(v3[0]["source"], "rollback");
    assert_eq!(v3[0]["source_detail"]["to"], 1);
    assert_eq!(v3[0]["sha256"], v1[0]["sha256"]);
    ok(&run(&["model", "export", out]));
    assert_eq!(std::fs::read(out).unwrap(), std::fs::read(&m1).unwrap());

    // Show: every version, newest first.
    let shown = lines(&ok(&run(&["model", "show"])));
    let versions: Vec<i64> = shown
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    let sources: Vec<&str> = shown
        .iter()
        .map(|v| v["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["rollback", "import", "import"]);

    // Every change is on the audit chain, and the chain checks the rows.
    let report: serde_json::Value = serde_json::from_str(&ok(&run(&["audit", "verify"]))).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["models"], 3);
}

#[test]
fn bad_model_files_are_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let bad = dir.path().join("bad.json");
    for (text, says) in [
        ("{not json", "not valid JSON"),
        (r#"{"format": 99}"#, "model format 99"),
    ] {
        std::fs::write(&bad, text).unwrap();
        let e = failed(&samaritan(&[
            "model",
            "import",
            bad.to_str().unwrap(),
            "--data-dir",
            data,
        ]));
        assert!(e.contains("is not a model") && e.contains(says), "{e}");
    }
    let e = failed(&samaritan(&[
        "model",
        "import",
        "/nonexistent/m.json",
        "--data-dir",
        data,
    ]));
    assert!(e.contains("cannot read /nonexistent/m.json"), "{e}");
    assert_eq!(ok(&samaritan(&["model", "show", "--data-dir", data])), "");
    let e = failed(&samaritan(&[
        "model",
        "rollback",
        "1",
        "--expect-version=-2",
        "--data-dir",
        data,
    ]));
    assert!(e.contains("--expect-version"), "{e}");
}

#[test]
fn shadow_report_reads_the_store_and_checks_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = ok(&samaritan(&["model", "shadow-report", "--data-dir", data]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["compared"], 0);
    assert_eq!(report["model_vs_reviewers"]["total"], 0);
    assert_eq!(report["audit"]["sampled"], 0, "{report}");
    assert_eq!(report["audit"]["answered"], 0, "{report}");
    let e = failed(&samaritan(&[
        "model",
        "shadow-report",
        "--limit",
        "0",
        "--data-dir",
        data,
    ]));
    assert!(e.contains("--limit is 1 to 1000000"), "{e}");
}
