//! End-to-end checks of the `samaritan` binary: hostile input, exit codes, determinism.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn samaritan(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_samaritan"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn ids(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn scan_reports_every_bad_line_and_keeps_the_good_ones_in_order() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":\"a1\",\"body\":\"Farm fresh eggs. Call 402-555-0177.\"}\n");
    input.extend_from_slice(b"{\"id\":\"a2\",\"body\":\"broken\"\n");
    input.extend_from_slice(b"{\"id\":\"a3\",\"body\":\"\xff\xfe\"}\n");
    input.extend_from_slice(b"{\"id\":\"a4\",\"title\":42}\n");
    input.extend_from_slice(b"{\"body\":\"no id\"}\n");
    input.extend_from_slice(b"{\"id\":\"a6\",\"bdy\":\"typo\"}\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(
        format!("{{\"id\":\"a8\",\"body\":\"{}\"}}\n", "x".repeat(3000)).as_bytes(),
    );
    input.extend_from_slice(
        b"{\"id\":\"a9\",\"body\":\"Hi gentlemen, incall. Text 702-555-0126.\"}\n",
    );
    let out = samaritan(
        &["scan", "--max-line-bytes", "2048", "--threads", "3"],
        &input,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed line makes the exit code non-zero"
    );
    assert_eq!(ids(&out.stdout), vec!["a1", "a9"]);
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "line 2: malformed JSON",
        "line 3: invalid UTF-8 at byte 19",
        "line 4: not a valid record: invalid type",
        "line 5: not a valid record: missing field `id`",
        "line 6: not a valid record: unknown field `bdy`",
        "line 8: line is 3021 bytes; the limit is 2048",
        "2 ads analysed, 6 failed lines",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    assert!(
        !err.contains("gentlemen"),
        "ad text must not reach the logs"
    );
}

#[test]
fn strict_stops_at_the_first_bad_line() {
    let input = b"{\"id\":\"a1\"}\nnot json\n{\"id\":\"a3\"}\n";
    // Streaming: what came before the bad line is out already.
    let out = samaritan(&["scan", "--strict", "--no-link", "--threads", "1"], input);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(ids(&out.stdout), vec!["a1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--strict"));
    // Linked: no analysis is final before the whole input is linked, so none is written.
    let out = samaritan(&["scan", "--strict", "--threads", "1"], input);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2: malformed JSON"));
}

#[test]
fn errors_file_holds_one_json_line_per_failure() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let out = samaritan(
        &["scan", "--errors", errors.to_str().unwrap()],
        b"{\"id\":\"ok\"}\n[]\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(errors).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["line"], 2);
    assert!(v["error"].as_str().unwrap().contains("not a valid record"));
}

#[test]
fn empty_input_is_fine() {
    let out = samaritan(&["scan"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 ads analysed"));
}

#[test]
fn every_output_field_is_present() {
    let out = samaritan(&["scan"], b"{\"id\":\"x\",\"title\":\"Bike\",\"body\":\"Selling my bike, $120. Text 512-555-0163.\"}\n");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "schema",
        "id",
        "verdict",
        "score",
        "priority",
        "report_candidate",
        "signals",
        "extracted",
        "mentions",
        "network",
        "template",
        "policy",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["extracted"]["phones"], serde_json::json!(["5125550163"]));
    assert_eq!(v["verdict"], "allow");
}

#[test]
fn synth_is_deterministic_and_scan_eval_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for d in [&a, &b] {
        let out = samaritan(
            &[
                "synth",
                "--ads",
                "3000",
                "--seed",
                "7",
                "--out",
                d.to_str().unwrap(),
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for f in ["ads.jsonl", "truth.jsonl"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
    let analyses = dir.path().join("analyses.jsonl");
    let out = samaritan(
        &[
            "scan",
            a.join("ads.jsonl").to_str().unwrap(),
            "--out",
            analyses.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth = a.join("truth.jsonl");
    let out = samaritan(
        &[
            "eval",
            "--truth",
            truth.to_str().unwrap(),
            analyses.to_str().unwrap(),
            "--json",
            "--require",
            "labels.0.not_allowed_rate<=0.01",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ads"], 3000);
    // A bar that cannot be met fails the run.
    let out = samaritan(
        &[
            "eval",
            "--truth",
            truth.to_str().unwrap(),
            analyses.to_str().unwrap(),
            "--require",
            "phones.recall>=1.01",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAILED: phones.recall>=1.01"));
}

#[test]
fn policy_test_rejects_a_broken_policy_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.toml");
    std::fs::write(&p, "[policy]\nname = \"x\"\nversion = \"1\"\n[scoring]\ncombine = \"noisy-or\"\nreview_at = 0.5\nblock_at = 0.9\n[[indicator]]\nid = \"a\"\ncategory = \"c\"\ndescription = \"d\"\nsource = \"s\"\nweight = 0.5\npatterns = ['[z-a]']\n").unwrap();
    let out = samaritan(&["policy", "test", p.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 14") && err.contains("does not compile"),
        "{err}"
    );
}
