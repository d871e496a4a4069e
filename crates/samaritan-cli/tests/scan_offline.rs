//! `samaritan scan` reaches nothing outside the input unless asked (issue 19): no `{url}` image
//! fetched without `--fetch-images`, no `{path}` image read outside `--allow-paths`; and an id on
//! several lines is one ad revised, whose last line wins.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

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

/// A scan of `ads` on stdin with `args` (and an empty data directory: no banks).
fn scan(args: &[&str], ads: &[Value]) -> (Vec<Value>, String, Output) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut all = vec!["scan", "--data-dir", data_dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let input: String = ads.iter().map(|a| format!("{a}\n")).collect();
    let out = samaritan(&all, input.as_bytes());
    let analyses = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (analyses, stderr, out)
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samaritan-media/tests/data")
        .join(name)
}

/// A local HTTP server that counts the connections it receives and answers each with a 404.
struct Recorder {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        stream.set_nonblocking(false).unwrap();
                        stream
                            .set_read_timeout(Some(Duration::from_millis(500)))
                            .unwrap();
                        let mut buf = [0u8; 4096];
                        let _ = stream.read(&mut buf);
                        let _ = stream.write_all(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Recorder {
            port,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn url_images_are_not_fetched_unless_asked() {
    let server = Recorder::start();
    let url = format!("http://127.0.0.1:{}/photo.jpg", server.port);
    let ads = [json!({"id": "u1", "body": "Room for rent.", "images": [{"url": url}]})];
    for mode in [&[][..], &["--no-link"][..]] {
        let (analyses, stderr, out) = scan(mode, &ads);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(analyses.len(), 1, "{stderr}");
        let image = &analyses[0]["images"][0];
        let error = image["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("not fetched") && error.contains("--fetch-images"),
            "the image has an error entry saying why: {image}"
        );
        assert!(image["sha256"].is_null(), "{image}");
    }
    assert_eq!(
        server.count(),
        0,
        "no connection reaches the image host by default"
    );

    // Asked for, the fetch happens (the recorder does see connections, so the zero above means
    // something): the 404 is the image's error.
    let (analyses, stderr, _) = scan(&["--fetch-images", "--allow-private-fetch"], &ads);
    assert!(server.count() >= 1, "{stderr}");
    let error = analyses[0]["images"][0]["error"].as_str().unwrap();
    assert!(error.contains("404"), "{error}");

    // --allow-private-fetch alone is a usage error, not a silent fetch.
    let before = server.count();
    let (_, stderr, out) = scan(&["--allow-private-fetch"], &ads);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--fetch-images"), "{stderr}");
    assert_eq!(server.count(), before);
}

/// `dir/allowed/rgb.png`, `dir/outside/rgb.png`, and `dir/allowed/link.png` pointing outside.
fn image_dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().join("allowed");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&allowed).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(fixture("modes/rgb.png"), allowed.join("rgb.png")).unwrap();
    std::fs::copy(fixture("modes/rgb.png"), outside.join("rgb.png")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.join("rgb.png"), allowed.join("link.png")).unwrap();
    (dir, allowed, outside)
}

fn path_ad(paths: &[&Path]) -> Value {
    let images: Vec<Value> = paths
        .iter()
        .map(|p| json!({"path": p.to_str().unwrap()}))
        .collect();
    json!({"id": "p1", "body": "Bike for sale.", "images": images})
}

#[test]
fn path_images_are_not_read_by_default() {
    let (_dir, allowed, outside) = image_dirs();
    let ad = path_ad(&[&allowed.join("rgb.png"), &outside.join("rgb.png")]);
    for mode in [&[][..], &["--no-link"][..]] {
        let (analyses, stderr, out) = scan(mode, std::slice::from_ref(&ad));
        assert!(out.status.success(), "{stderr}");
        let images = analyses[0]["images"].as_array().unwrap();
        assert_eq!(images.len(), 2, "every image has its entry: {images:?}");
        for image in images {
            assert!(image["sha256"].is_null(), "{image}");
            let error = image["error"].as_str().unwrap_or_default();
            assert!(error.contains("not accepted"), "{image}");
        }
    }
}

#[test]
fn path_images_are_read_only_inside_allow_paths() {
    let (_dir, allowed, outside) = image_dirs();
    let escape = allowed.join("../outside/rgb.png");
    let mut paths = vec![
        allowed.join("rgb.png"),
        outside.join("rgb.png"),
        escape,
        PathBuf::from("/etc/passwd"),
    ];
    if cfg!(unix) {
        paths.push(allowed.join("link.png"));
    }
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let ad = path_ad(&refs);
    let allow = allowed.to_str().unwrap();
    for mode in [&[][..], &["--no-link"][..]] {
        let mut args = vec!["--allow-paths", allow];
        args.extend_from_slice(mode);
        let (analyses, stderr, out) = scan(&args, std::slice::from_ref(&ad));
        assert!(out.status.success(), "{stderr}");
        let images = analyses[0]["images"].as_array().unwrap();
        assert_eq!(images.len(), paths.len(), "{images:?}");
        assert_eq!(
            images[0]["sha256"].as_str().map(str::len),
            Some(64),
            "the file inside the allowed directory is read: {}",
            images[0]
        );
        assert!(images[0]["error"].is_null(), "{}", images[0]);
        for (image, path) in images.iter().zip(&paths).skip(1) {
            assert!(image["sha256"].is_null(), "{path:?} was read: {image}");
            let error = image["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("not inside a directory allowed"),
                "{path:?}: {image}"
            );
        }
    }

    // Several directories: repeat the flag.
    let (analyses, stderr, _) = scan(
        &[
            "--allow-paths",
            allow,
            "--allow-paths",
            outside.to_str().unwrap(),
        ],
        &[path_ad(&[
            &allowed.join("rgb.png"),
            &outside.join("rgb.png"),
        ])],
    );
    for image in analyses[0]["images"].as_array().unwrap() {
        assert_eq!(image["sha256"].as_str().map(str::len), Some(64), "{stderr}");
    }

    // A directory that does not exist is a usage error before anything is read.
    let missing = allowed.join("missing");
    let (analyses, stderr, out) = scan(
        &["--allow-paths", missing.to_str().unwrap()],
        std::slice::from_ref(&ad),
    );
    assert!(!out.status.success());
    assert!(analyses.is_empty());
    assert!(stderr.contains("--allow-paths"), "{stderr}");
}

fn duplicate_input() -> Vec<Value> {
    vec![
        json!({"id": "a1", "body": "Old text: call 512 555 0101 secretword"}),
        json!({"id": "b1", "body": "Selling a bike."}),
        json!({"id": "a1", "body": "Revised: call 512 555 0199"}),
        json!({"id": "c1", "body": "Garden tools."}),
        json!({"id": "b1", "body": "Selling a bike, now $200.", "colour": "red"}),
        json!({"id": "c1", "body": "Garden tools, barely used."}),
    ]
}

fn phones(analysis: &Value) -> Vec<String> {
    analysis["extracted"]["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

fn check_duplicates(analyses: &[Value], stderr: &str, out: &Output) {
    // Line 5 is not a valid ad (unknown field): it fails, and b1's current version stays
    // line 2, as the service keeps the last revision it accepted.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let ids: Vec<&str> = analyses.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["b1", "a1", "c1"],
        "one analysis per id, at its last line"
    );
    assert_eq!(phones(&analyses[1]), ["5125550199"], "the latest a1 wins");
    assert!(
        stderr.contains(r#"duplicate id "a1": line 1 replaced by line 3"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"duplicate id "c1": line 4 replaced by line 6"#),
        "{stderr}"
    );
    assert!(
        !stderr.contains("\"b1\""),
        "b1 has one valid line: {stderr}"
    );
    assert!(stderr.contains("line 5:"), "{stderr}");
    assert!(
        stderr.contains("2 duplicate ids: later lines replaced earlier ones"),
        "{stderr}"
    );
    assert!(stderr.contains("3 ads analysed"), "{stderr}");
    assert!(!stderr.contains("secretword"), "no ad text on stderr");
}

#[test]
fn duplicate_ids_latest_line_wins_on_stdin() {
    for mode in [&[][..], &["--no-link"][..]] {
        let (analyses, stderr, out) = scan(mode, &duplicate_input());
        check_duplicates(&analyses, &stderr, &out);
    }
}

#[test]
fn duplicate_ids_latest_line_wins_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ads.jsonl");
    let text: String = duplicate_input().iter().map(|a| format!("{a}\n")).collect();
    std::fs::write(&file, text).unwrap();
    for mode in [&[][..], &["--no-link"][..]] {
        let mut args = vec![file.to_str().unwrap()];
        args.extend_from_slice(mode);
        let (analyses, stderr, out) = scan(&args, &[]);
        check_duplicates(&analyses, &stderr, &out);
    }
}

#[test]
fn no_duplicates_no_mention() {
    let (analyses, stderr, out) = scan(&[], &[json!({"id": "x"}), json!({"id": "y"})]);
    assert!(out.status.success());
    assert_eq!(analyses.len(), 2);
    assert!(!stderr.contains("duplicate"), "{stderr}");
}
