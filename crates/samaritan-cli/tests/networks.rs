//! `samaritan networks` end to end: hostile input, CSV mode, scoring, and the quality bars on
//! gen_synth.py configurations and on the synth corpus.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::Path;
use std::process::{Command, Output};

fn samaritan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_samaritan"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The F1 figure from `--metrics` output.
fn f1(metrics: &Path) -> f64 {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(metrics).unwrap()).unwrap();
    v["pairwise"]["f1"].as_f64().unwrap()
}

#[test]
fn bad_lines_are_named_and_the_rest_is_linked() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ads.jsonl");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(
        br#"{"id":"a1","body":"Room for rent, call 202-555-0143 after six","account":"u1"}"#,
    );
    bytes.extend_from_slice(b"\n{not json\n");
    bytes.extend_from_slice(b"{\"id\":\"a2\",\"body\":\"\xff\xfe\"}\n");
    bytes.extend_from_slice(br#"{"id":"a3","boddy":"typo"}"#);
    bytes.extend_from_slice(b"\n\n");
    bytes.extend_from_slice(br#"{"body":"no id"}"#);
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(
        br#"{"id":"a4","body":"Bike for sale, text 202 555 0143","account":"u2"}"#,
    );
    bytes.extend_from_slice(b"\n");
    std::fs::write(&input, bytes).unwrap();
    let out = samaritan(&["networks", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for want in [
        "line 2: malformed JSON",
        "line 3: invalid UTF-8",
        "line 4:",
        "unknown field `boddy`",
        "line 6:",
        "missing field `id`",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(err.contains("6 records, 4 failed"), "{err}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let nets: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(nets.len(), 1, "{stdout}");
    assert_eq!(nets[0]["members"], serde_json::json!(["a1", "a4"]));
    assert_eq!(nets[0]["reasons"], serde_json::json!(["phone"]));
    assert_eq!(nets[0]["evidence"][0]["value"], "2025550143");

    let strict = samaritan(&["networks", input.to_str().unwrap(), "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(stderr(&strict).contains("--strict"));
}

#[test]
fn csv_mode_checks_its_header_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let bad_header = dir.path().join("h.csv");
    std::fs::write(&bad_header, "id,body\n1,x\n").unwrap();
    let out = samaritan(&["networks", bad_header.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("`id` and a `text` column"),
        "{}",
        stderr(&out)
    );

    let rows = dir.path().join("r.csv");
    let text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
    std::fs::write(
        &rows,
        format!(
            "id,text,label\n1,\"{text} one\",7\n2,only,two,fields,too,many\n3,\"{text} two\",7\n\
             4,unrelated words here for sure,-1\n"
        ),
    )
    .unwrap();
    let metrics = dir.path().join("m.json");
    let out = samaritan(&[
        "networks",
        rows.to_str().unwrap(),
        "--eval",
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3: malformed CSV"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f1(&metrics), 1.0);

    let jsonl = dir.path().join("a.jsonl");
    std::fs::write(&jsonl, "").unwrap();
    let out = samaritan(&["networks", jsonl.to_str().unwrap(), "--eval"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--truth"));
}

/// The InfoShield configurations where its recall collapsed; each must reach F1 ≥ 0.95.
#[test]
#[ignore = "needs ../shared conformance data (or $SAMARITAN_SHARED); run with --include-ignored"]
fn gen_synth_configurations_reach_the_bar() {
    let Some(shared) = samaritan_testkit::shared_dir("gen_synth_configurations_reach_the_bar")
    else {
        return;
    };
    let script = shared.join("bench/gen_synth.py");
    let dir = tempfile::tempdir().unwrap();
    for (tag, args) in [
        (
            "s2l2e2",
            ["--slots", "2", "--slotlen", "2", "--edit", "0.02"],
        ),
        (
            "s3l3e5",
            ["--slots", "3", "--slotlen", "3", "--edit", "0.05"],
        ),
    ] {
        let csv = dir.path().join(format!("{tag}.csv"));
        let status = Command::new("python3")
            .arg(&script)
            .arg(&csv)
            .args(["1000", "1"])
            .args(args)
            .args(["--frac", "0.2"])
            .status();
        match status {
            Ok(s) if s.success() => {}
            other => {
                panic!("gen_synth.py did not run ({other:?}); python3 is needed with ../shared")
            }
        }
        let metrics = dir.path().join(format!("{tag}.json"));
        let out = samaritan(&[
            "networks",
            csv.to_str().unwrap(),
            "--eval",
            "--no-output",
            "--metrics",
            metrics.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let score = f1(&metrics);
        assert!(score >= 0.95, "{tag}: pairwise F1 {score}");
    }
}

/// Networks on the synth corpus: pairwise F1 ≥ 0.95 against its truth.
#[test]
fn synth_networks_reach_the_bar() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = samaritan(&["synth", "--ads", "4000", "--seed", "5", "--out", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    let metrics = dir.path().join("m.json");
    let ads = dir.path().join("ads.jsonl");
    let truth = dir.path().join("truth.jsonl");
    let out = samaritan(&[
        "networks",
        ads.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
        "--no-output",
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let score = f1(&metrics);
    assert!(score >= 0.95, "synth pairwise F1 {score}");
}
