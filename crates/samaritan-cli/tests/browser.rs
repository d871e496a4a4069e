//! The review console in Debian's Chromium: starts `samaritan serve --demo` and runs
//! `tests/browser/console.mjs` (playwright-core, axe-core) against it. Needs `chromium`, `node`
//! and `npm ci --prefix tests/browser`; without them it prints `SKIPPED:` and passes, unless
//! `SAMARITAN_REQUIRE_BROWSER=1` (as `.ci/run` sets), when it fails.
//!
//! Screenshots go to `$SAMARITAN_SHOTS` (default: `target/console-screenshots/`); the ones in
//! `docs/screenshots/` are copies of a run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the browser run needs, or why it cannot run.
fn prerequisites() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("SAMARITAN_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
        })
        .ok_or("no Chromium (apt-get install chromium, or set SAMARITAN_CHROMIUM)")?;
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return Err("no node".into());
    }
    let dir = workspace().join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        return Err(
            "tests/browser has no node_modules (run: npm ci --prefix tests/browser)".into(),
        );
    }
    Ok((chromium, dir))
}

fn create_user(dir: &Path, name: &str, role: &str, password: &str) {
    let mut child = Command::new(BIN)
        .args([
            "users",
            "create",
            name,
            "--role",
            role,
            "--password-stdin",
            "--data-dir",
        ])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs Debian's chromium, node and `npm ci --prefix tests/browser`; run with --include-ignored"]
fn the_console_works_in_chromium() {
    let (chromium, scripts) = match prerequisites() {
        Ok(p) => p,
        Err(why) => {
            assert!(
                std::env::var("SAMARITAN_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "SAMARITAN_REQUIRE_BROWSER=1 but the browser tests cannot run: {why}"
            );
            println!("SKIPPED: the console's browser tests: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let (aud_pw, locky_pw, lead_pw) = (
        "auditor password 1",
        "locky password 12",
        "lead password 123",
    );
    create_user(dir.path(), "aud", "auditor", aud_pw);
    create_user(dir.path(), "lead", "lead", lead_pw);
    create_user(dir.path(), "locky", "reviewer", locky_pw);
    let admin_pw = "the admin's long test password";
    create_user(dir.path(), "adm", "admin", admin_pw);

    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--demo-ads",
            "400",
        ])
        .args(["--rate-limit", "0", "--qa-second-review-rate", "1"])
        // Sessions end after a minute without a request: the last check waits that out.
        .args(["--session-idle-mins", "1", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stderr on a thread: the demo login is there, and a full pipe must not stall the server.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let announced = common::announcement(&mut child);
    let url = announced["listening"].as_str().unwrap().to_owned();
    let start = Instant::now();
    let (mut demo_pw, mut demo_key) = (None, None);
    let mut key_next = false;
    while demo_pw.is_none() || demo_key.is_none() {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.contains("demo reviewer") => {
                demo_pw = line.split_whitespace().last().map(str::to_owned);
            }
            Ok(line) if key_next => {
                demo_key = Some(line.trim().to_owned());
                key_next = false;
            }
            Ok(line) if line.contains("demo key") => key_next = true,
            Ok(_) if start.elapsed() < Duration::from_secs(30) => {}
            _ => {
                let _ = child.kill();
                panic!("serve --demo printed no demo reviewer login and key");
            }
        }
    }
    let (demo_pw, demo_key) = (demo_pw.unwrap(), demo_key.unwrap());

    let shots = std::env::var_os("SAMARITAN_SHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/console-screenshots"));
    let mut node = Command::new("node")
        .arg(scripts.join("console.mjs"))
        .current_dir(&scripts)
        .env("SAMARITAN_URL", &url)
        .env("SAMARITAN_CHROMIUM", &chromium)
        .env("SAMARITAN_SHOTS", &shots)
        .env("DEMO_PASSWORD", &demo_pw)
        .env("DEMO_KEY", &demo_key)
        .env(
            "IMAGE_FIXTURE",
            workspace().join("crates/samaritan-media/tests/data/rgb.jpeg"),
        )
        .env("AUDITOR_PASSWORD", aud_pw)
        .env("LOCKY_PASSWORD", locky_pw)
        .env("LEAD_PASSWORD", lead_pw)
        .env("ADMIN_PASSWORD", admin_pw)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = common::exit_within(&mut node, Duration::from_secs(300));
    let mut out = String::new();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut node.stdout.take().unwrap(), &mut out).unwrap();
    std::io::Read::read_to_string(&mut node.stderr.take().unwrap(), &mut err).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    println!("{out}");
    assert!(status.success(), "the browser run failed:\n{out}\n{err}");
    assert!(out.contains("browser checks passed"), "{out}\n{err}");
}
