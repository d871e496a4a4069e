//! `samaritan hash` and `samaritan bank …` end to end, on the media crate's fixtures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_samaritan"))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samaritan-media/tests/data")
        .join(name)
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hash_prints_one_line_per_file_and_fails_only_the_bad_one() {
    let bad = std::env::temp_dir().join(format!("samaritan-not-an-image-{}", std::process::id()));
    std::fs::write(&bad, b"not an image").unwrap();
    let out = bin()
        .arg("hash")
        .arg("--dihedral")
        .arg(fixture("wee.jpg"))
        .arg(&bad)
        .arg(fixture("modes/rgb.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let l = lines(&out.stdout);
    assert_eq!(l.len(), 3);
    assert_eq!(
        l[0]["pdq"],
        "6227401f601ff4ccafccdfad4b0d95d371a2cb7265a3285234d228ca94deeb2d"
    );
    assert_eq!(l[0]["quality"], 100);
    assert_eq!(l[0]["width"], 34);
    assert_eq!(l[0]["md5"].as_str().unwrap().len(), 32);
    assert_eq!(l[0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(l[0]["dihedral"].as_object().unwrap().len(), 8);
    assert_eq!(l[0]["dihedral"]["original"], l[0]["pdq"]);
    assert_eq!(l[1]["code"], "unknown_format");
    assert!(l[1].get("pdq").is_none());
    assert!(l[2]["pdq"].is_string());
    std::fs::remove_file(bad).unwrap();
}

#[test]
fn bank_import_list_match_export_remove() {
    let data = std::env::temp_dir().join(format!("samaritan-cli-banks-{}", std::process::id()));
    let list = data.with_extension("csv");
    let wee = "6227401f601ff4ccafccdfad4b0d95d371a2cb7265a3285234d228ca94deeb2d";
    std::fs::write(
        &list,
        format!(
            "signal_type,signal,case\npdq,{wee},c-1\nmd5,d41d8cd98f00b204e9800998ecf8427e,c-2\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        bin()
            .arg("bank")
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["import", "known", list.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = lines(&out.stdout);
    assert_eq!(l[0]["imported"], 1);
    assert_eq!(l[0]["skipped_other_types"], 1);

    let l = lines(&run(&["list"]).stdout);
    assert_eq!(l[0]["bank"], "known");
    assert_eq!(l[0]["entries"], 1);

    let wee_path = fixture("wee.jpg");
    let la_path = fixture("LA.png");
    let out = run(&[
        "match",
        wee_path.to_str().unwrap(),
        wee,
        la_path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let l = lines(&out.stdout);
    assert_eq!(l[0]["matches"][0]["bank"], "known");
    assert_eq!(l[0]["matches"][0]["distance"], 0);
    assert_eq!(l[0]["matches"][0]["meta"]["case"], "c-1");
    assert_eq!(l[1]["matches"].as_array().unwrap().len(), 1);
    assert!(l[2]["matches"].as_array().unwrap().is_empty());

    let out = run(&["export", "known", "--format", "pytx"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("pdq {wee}\n"));
    let out = run(&["export", "known", "--format", "csv"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("hash,quality,case\n"));

    let bad = run(&["import", "../escape", list.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bank name"));
    std::fs::write(&list, format!("{wee}\nnot-a-hash\n")).unwrap();
    let bad = run(&["import", "known", list.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("line 2"), "{err}");
    assert!(run(&["remove", "known"]).status.success());
    assert!(lines(&run(&["list"]).stdout).is_empty());
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::remove_file(&list).unwrap();
}
