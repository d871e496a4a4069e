//! `samaritan model`: train, score and eval end to end on a small synth corpus, determinism, and
//! hostile input (bad labels, unlabelled ads, malformed lines, bad model files).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::path::Path;
use std::process::{Command, Output};

fn samaritan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_samaritan"))
        .args(args)
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

fn synth(dir: &Path) -> (String, String) {
    let corpus = dir.join("corpus");
    ok(&samaritan(&[
        "synth",
        "--ads",
        "600",
        "--seed",
        "3",
        "--out",
        corpus.to_str().unwrap(),
    ]));
    (
        corpus.join("ads.jsonl").to_str().unwrap().to_owned(),
        corpus.join("truth.jsonl").to_str().unwrap().to_owned(),
    )
}

fn train(ads: &str, truth: &str, out: &Path) -> Output {
    samaritan(&[
        "model",
        "train",
        "--truth",
        truth,
        ads,
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn train_score_eval_end_to_end_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (ads, truth) = synth(dir.path());
    let (m1, m2) = (dir.path().join("m1.json"), dir.path().join("m2.json"));
    ok(&train(&ads, &truth, &m1));
    ok(&train(&ads, &truth, &m2));
    assert_eq!(std::fs::read(&m1).unwrap(), std::fs::read(&m2).unwrap());

    let scored = ok(&samaritan(&[
        "model",
        "score",
        "--model",
        m1.to_str().unwrap(),
        &ads,
    ]));
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&ads)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<serde_json::Value> = scored
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), docs.len());
    let mut explained = 0;
    for (line, ad) in lines.iter().zip(&docs) {
        assert_eq!(line["id"], ad["id"]);
        let p = line["probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
        let document = format!(
            "{}\n{}",
            ad["title"].as_str().unwrap_or(""),
            ad["body"].as_str().unwrap_or("")
        );
        for c in line["top"].as_array().unwrap() {
            for s in c["spans"].as_array().unwrap() {
                let (a, b) = (
                    s[0].as_u64().unwrap() as usize,
                    s[1].as_u64().unwrap() as usize,
                );
                assert!(a < b && b <= document.len());
            }
            if let Some(s) = c["spans"].as_array().unwrap().first() {
                let (a, b) = (
                    s[0].as_u64().unwrap() as usize,
                    s[1].as_u64().unwrap() as usize,
                );
                assert_eq!(c["text"].as_str().unwrap(), &document[a..b]);
                explained += 1;
            }
        }
    }
    assert!(explained > 0);

    let report = ok(&samaritan(&[
        "model",
        "eval",
        "--model",
        m1.to_str().unwrap(),
        "--truth",
        &truth,
        &ads,
        "--json",
    ]));
    let r: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert!(r["auc_commercial"].as_f64().unwrap() > 0.9);
    assert!(r["at_model_threshold"]["model"]["recall_label1"].is_number());
}

#[test]
fn hostile_input_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ads = dir.path().join("ads.jsonl");
    let truth = dir.path().join("truth.jsonl");
    let model = dir.path().join("m.json");
    let (a, t) = (ads.to_str().unwrap(), truth.to_str().unwrap());

    std::fs::write(&ads, "{\"id\":\"a\",\"body\":\"hello\"}\n").unwrap();
    std::fs::write(&truth, "{\"id\":\"a\",\"label\":7}\n").unwrap();
    let out = train(a, t, &model);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("label 7"));

    std::fs::write(&truth, "{\"id\":\"b\",\"label\":0}\n").unwrap();
    let out = train(a, t, &model);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no label"));

    std::fs::write(&truth, "{\"id\":\"a\",\"label\":0}\n").unwrap();
    std::fs::write(&ads, "{\"id\":\"a\",\"body\":\"hello\"}\n{not json\n").unwrap();
    let out = train(a, t, &model);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
    assert!(!model.exists());

    std::fs::write(&model, "{\"format\": 99}").unwrap();
    let out = samaritan(&["model", "score", "--model", model.to_str().unwrap(), a]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("format 99"));
    std::fs::write(&model, "not a model").unwrap();
    let out = samaritan(&["model", "score", "--model", model.to_str().unwrap(), a]);
    assert!(!out.status.success());
}

#[test]
fn scan_with_a_model_scores_every_ad_as_model_score_does() {
    let dir = tempfile::tempdir().unwrap();
    let (ads, truth) = synth(dir.path());
    let model = dir.path().join("m.json");
    ok(&train(&ads, &truth, &model));
    let m = model.to_str().unwrap();
    let scored = ok(&samaritan(&["model", "score", "--model", m, &ads]));
    let expected: Vec<serde_json::Value> = scored
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let plain = ok(&samaritan(&["scan", &ads, "--no-link"]));
    for link in [false, true] {
        let mut args = vec!["scan", ads.as_str(), "--model", m];
        if !link {
            args.push("--no-link");
        }
        let out = ok(&samaritan(&args));
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), expected.len());
        let mut raised = 0;
        for (line, want) in lines.iter().zip(&expected) {
            assert_eq!(line["id"], want["id"]);
            for k in ["logit", "probability", "severe", "raised"] {
                assert_eq!(line["model"][k], want[k], "link {link}, {k}: {line}");
            }
            raised += usize::from(line["model"]["raised"] == true);
        }
        assert!(raised > 0, "link {link}: the model raised nothing");
    }
    // without --model the analyses are as before: no `model` key, same lines
    assert!(plain.lines().all(|l| !l.contains("\"model\":")));
    let unlinked = ok(&samaritan(&["scan", &ads, "--no-link", "--model", m]));
    for (with, without) in unlinked.lines().zip(plain.lines()) {
        let mut with: serde_json::Value = serde_json::from_str(with).unwrap();
        with.as_object_mut().unwrap().remove("model");
        let without: serde_json::Value = serde_json::from_str(without).unwrap();
        assert_eq!(with, without);
    }
    // a bad model file is refused before anything is scanned
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\": 99}").unwrap();
    let out = samaritan(&["scan", &ads, "--no-link", "--model", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("format 99"));
    assert!(out.stdout.is_empty());
}

/// `model memex --cross-validate`: two folds, each learning the other half of the real ads
/// beside as many label-0 ads, measured on its own half and on label-0 ads neither learned; too
/// few label-0 ads is refused with the reason.
#[test]
#[ignore = "needs ../shared conformance data (or $SAMARITAN_SHARED); run with --include-ignored"]
fn memex_cross_validation_learns_one_half_and_measures_the_other() {
    let Some(shared) = samaritan_testkit::shared_dir(
        "memex_cross_validation_learns_one_half_and_measures_the_other",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ads, truth) = synth(dir.path());
    let model = dir.path().join("m.json");
    ok(&train(&ads, &truth, &model));
    let label0 = std::fs::read_to_string(&truth)
        .unwrap()
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["label"] == 0)
        .count();
    let run = |negatives: &str, truth: &str| {
        samaritan(&[
            "model",
            "memex",
            "--model",
            model.to_str().unwrap(),
            "--shared",
            shared.to_str().unwrap(),
            "--cross-validate",
            "--negatives",
            negatives,
            "--truth",
            truth,
            "--json",
        ])
    };
    let out = ok(&run(&ads, &truth));
    let folds: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("learned_real").is_some())
        .collect();
    assert_eq!(folds.len(), 2);
    assert_eq!(folds[0]["half"], "readable");
    assert_eq!(folds[1]["half"], "held-out");
    for f in &folds {
        let learned = f["learned_real"].as_u64().unwrap();
        assert!(learned > 50);
        assert_eq!(f["learned_benign"].as_u64().unwrap(), learned);
        // the label-0 ads measured are those after both folds' slices
        let teach = folds
            .iter()
            .map(|g| g["learned_real"].as_u64().unwrap())
            .max()
            .unwrap();
        assert_eq!(
            f["benign_ads"].as_u64().unwrap() as usize,
            label0 - 2 * teach as usize
        );
        for k in [
            "model_before",
            "model_after",
            "either_before",
            "either_after",
            "benign_before",
            "benign_after",
            "model_at_rate_before",
            "model_at_rate_after",
        ] {
            let v = f[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{k} {v}");
        }
        // learning real commercial-sex ads raises more of the real ads it did not learn
        assert!(f["model_after"].as_f64().unwrap() >= f["model_before"].as_f64().unwrap());
        assert!(f["either_after"].as_f64().unwrap() >= f["model_after"].as_f64().unwrap());
    }

    // too few label-0 ads to learn two folds and measure 100
    let small = dir.path().join("small");
    ok(&samaritan(&[
        "synth",
        "--ads",
        "120",
        "--seed",
        "4",
        "--out",
        small.to_str().unwrap(),
    ]));
    let out = run(
        small.join("ads.jsonl").to_str().unwrap(),
        small.join("truth.jsonl").to_str().unwrap(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cross-validation needs at least"));
}
