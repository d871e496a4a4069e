//! `samaritan users` through the real binary: a generated password printed once, a list without
//! hashes, and a disabled account the store then refuses.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::io::Write;
use std::process::{Command, Stdio};

use samaritan_store::{LoginError, Role, Store, now_ms};

const BIN: &str = env!("CARGO_BIN_EXE_samaritan");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn run_with_stdin(args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_made_listed_and_disabled_and_the_store_then_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();

    let out = run(&[
        "users",
        "create",
        "rae",
        "--role",
        "reviewer",
        "--data-dir",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (made["name"].as_str(), made["role"].as_str()),
        (Some("rae"), Some("reviewer"))
    );
    let password = made["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 12);
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&password));

    // From stdin: the password is not echoed.
    let out = run_with_stdin(
        &[
            "users",
            "create",
            "lee",
            "--role",
            "lead",
            "--password-stdin",
            "--data-dir",
            d,
        ],
        "a password from stdin\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("password"));

    let listed = run(&["users", "list", "--data-dir", d]);
    let text = String::from_utf8_lossy(&listed.stdout).into_owned();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["name"], "lee");
    assert_eq!(lines[1]["role"], "reviewer");
    assert!(
        !text.contains("argon2") && !text.contains(&password),
        "{text}"
    );

    // Usage errors exit 2, refusals 1; a taken name is a clear conflict.
    assert_eq!(
        run(&["users", "create", "x1", "--role", "root", "--data-dir", d])
            .status
            .code(),
        Some(2)
    );
    let again = run(&["users", "create", "rae", "--role", "admin", "--data-dir", d]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let short = run_with_stdin(
        &[
            "users",
            "reset-password",
            "rae",
            "--password-stdin",
            "--data-dir",
            d,
        ],
        "too short\n",
    );
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12"));
    for sub in ["create", "list", "disable", "reset-password"] {
        assert!(run(&["users", sub, "--help"]).status.success(), "{sub}");
    }

    {
        let s = Store::open_sqlite(dir.path()).await.unwrap();
        let u = s.verify_login("rae", &password, now_ms()).await.unwrap();
        assert_eq!(u.role, Role::Reviewer);
        s.verify_login("lee", "a password from stdin", now_ms())
            .await
            .unwrap();
        s.close().await;
    }

    assert!(
        run(&["users", "disable", "rae", "--data-dir", d])
            .status
            .success()
    );
    assert_eq!(
        run(&["users", "disable", "rae", "--data-dir", d])
            .status
            .code(),
        Some(1)
    );
    let s = Store::open_sqlite(dir.path()).await.unwrap();
    assert!(matches!(
        s.verify_login("rae", &password, now_ms()).await,
        Err(LoginError::Refused)
    ));
    assert!(s.audit_verify().await.unwrap().ok);
    s.close().await;

    let audit = run(&["audit", "verify", "--data-dir", d]);
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}
