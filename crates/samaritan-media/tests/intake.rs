//! Intake of an ad's images: paths, base64, precomputed hashes, URLs (against a local server),
//! and the address guard that keeps fetches off loopback and private networks.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use samaritan_engine::model::ImageRef;
use samaritan_engine::pdq::{Bank, BankEntry, BankSet, MatchOptions};
use samaritan_media::fetch::{FetchConfig, GuardedResolver, fetch_with};
use samaritan_media::{IntakeConfig, MediaError, analyse_images, intake};

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(data_path(name)).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn base64_and_data_urls() {
    let cfg = IntakeConfig::default();
    let png = data("modes/rgb.png");
    let a = intake(&ImageRef::Base64 { base64: b64(&png) }, &cfg).unwrap();
    let b = intake(
        &ImageRef::Base64 {
            base64: format!("data:image/png;base64,{}", b64(&png)),
        },
        &cfg,
    )
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.width, Some(160));
    let e = intake(
        &ImageRef::Base64 {
            base64: "not base64!".into(),
        },
        &cfg,
    )
    .unwrap_err();
    assert!(matches!(e, MediaError::Base64(_)), "{e}");
    let mut small = IntakeConfig::default();
    small.limits.max_bytes = 1000;
    let e = intake(&ImageRef::Base64 { base64: b64(&png) }, &small).unwrap_err();
    assert!(matches!(e, MediaError::TooManyBytes { .. }), "{e}");
}

#[test]
fn paths_are_confined_when_a_root_is_set() {
    let root = data_path("modes");
    let cfg = IntakeConfig {
        root: Some(root.clone()),
        ..IntakeConfig::default()
    };
    assert!(
        intake(
            &ImageRef::Path {
                path: "rgb.png".into()
            },
            &cfg
        )
        .is_ok()
    );
    let e = intake(
        &ImageRef::Path {
            path: "../wee.jpg".into(),
        },
        &cfg,
    )
    .unwrap_err();
    assert!(matches!(e, MediaError::PathOutsideRoot(_)), "{e}");
    let abs = data_path("wee.jpg").display().to_string();
    let e = intake(&ImageRef::Path { path: abs.clone() }, &cfg).unwrap_err();
    assert!(matches!(e, MediaError::PathOutsideRoot(_)), "{e}");
    let e = intake(
        &ImageRef::Path {
            path: "missing.png".into(),
        },
        &cfg,
    )
    .unwrap_err();
    assert!(matches!(e, MediaError::Read { .. }), "{e}");
    let e = intake(&ImageRef::Path { path: ".".into() }, &cfg).unwrap_err();
    assert!(matches!(e, MediaError::Read { .. }), "{e}");
    let off = IntakeConfig {
        allow_paths: false,
        ..IntakeConfig::default()
    };
    let e = intake(&ImageRef::Path { path: abs }, &off).unwrap_err();
    assert!(matches!(e, MediaError::PathsDisabled));
}

#[test]
fn paths_are_read_only_inside_the_allowed_dirs() {
    let modes = data_path("modes").canonicalize().unwrap();
    let cfg = IntakeConfig {
        allowed_dirs: vec![modes.clone()],
        ..IntakeConfig::default()
    };
    let path = |p: &std::path::Path| ImageRef::Path {
        path: p.display().to_string(),
    };
    assert!(intake(&path(&modes.join("rgb.png")), &cfg).is_ok());
    // `..` out of the allowed directory, a file beside it, a missing file elsewhere: refused
    // without telling whether the file exists.
    for outside in [
        modes.join("../wee.jpg"),
        data_path("wee.jpg"),
        data_path("no-such-file.jpg"),
        PathBuf::from("/etc/passwd"),
    ] {
        let e = intake(&path(&outside), &cfg).unwrap_err();
        assert!(
            matches!(e, MediaError::PathNotAllowed(_)),
            "{outside:?}: {e}"
        );
        assert_eq!(e.code(), "path_not_allowed");
    }
    // A missing file inside an allowed directory is a plain read error.
    let e = intake(&path(&modes.join("missing.png")), &cfg).unwrap_err();
    assert!(matches!(e, MediaError::Read { .. }), "{e}");
    // A symbolic link inside the allowed directory that leads out of it is refused too.
    let dir = tempfile::tempdir().unwrap();
    let canonical = dir.path().canonicalize().unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(data_path("wee.jpg"), canonical.join("link.jpg")).unwrap();
        let cfg = IntakeConfig {
            allowed_dirs: vec![canonical.clone()],
            ..IntakeConfig::default()
        };
        let e = intake(&path(&canonical.join("link.jpg")), &cfg).unwrap_err();
        assert!(matches!(e, MediaError::PathNotAllowed(_)), "{e}");
    }
}

#[test]
fn precomputed_hashes_are_validated() {
    let cfg = IntakeConfig::default();
    let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let sha = "AB".repeat(32);
    let f = intake(
        &ImageRef::Hashes {
            sha256: Some(sha.clone()),
            pdq: Some(pdq.into()),
        },
        &cfg,
    )
    .unwrap();
    assert_eq!(f.sha256.as_deref(), Some(sha.to_ascii_lowercase().as_str()));
    assert_eq!(f.pdq.unwrap().to_hex(), pdq);
    assert_eq!((f.md5, f.quality), (None, None));
    for (sha256, pdq, field) in [
        (Some("xyz".to_owned()), None, "sha256"),
        (None, Some("12".to_owned()), "pdq"),
        (None, None, "sha256"),
    ] {
        let e = intake(&ImageRef::Hashes { sha256, pdq }, &cfg).unwrap_err();
        assert!(
            matches!(e, MediaError::BadHashes { field: f, .. } if f == field),
            "{e}"
        );
    }
}

#[test]
fn one_bad_image_never_fails_the_ad() {
    let png = data("modes/rgb.png");
    let good = intake(
        &ImageRef::Base64 { base64: b64(&png) },
        &IntakeConfig::default(),
    )
    .unwrap();
    let mut banks = BankSet::new();
    let mut bank = Bank::new("known").unwrap();
    bank.entries.push(BankEntry::new(good.pdq.unwrap()));
    banks.insert_bank(bank);
    let images = vec![
        ImageRef::Base64 {
            base64: "%%%".into(),
        },
        ImageRef::Base64 { base64: b64(&png) },
        ImageRef::Url {
            url: "http://127.0.0.1:9/x.png".into(),
        },
        ImageRef::Hashes {
            sha256: None,
            pdq: Some(good.pdq.unwrap().to_hex()),
        },
    ];
    let (out, matches) = analyse_images(
        &images,
        &IntakeConfig::default(),
        &banks,
        &MatchOptions::default(),
    );
    assert_eq!(out.len(), 4);
    assert!(out[0].error.is_some() && out[0].pdq.is_none() && out[0].sha256.is_none());
    assert_eq!(out[1].pdq, good.pdq.map(|h| h.to_hex()));
    assert_eq!(out[1].quality, Some(100));
    assert!(
        out[2].error.as_deref().unwrap().contains("loopback"),
        "{:?}",
        out[2]
    );
    assert_eq!(
        out.iter().map(|i| i.index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        matches
            .iter()
            .map(|(i, m)| (*i, m.distance))
            .collect::<Vec<_>>(),
        [(1, 0), (3, 0)]
    );
    let json = serde_json::to_value(&out[0]).unwrap();
    assert!(
        json.get("pdq").is_none(),
        "no fake hash on a failed image: {json}"
    );
}

/// A local HTTP server with canned answers; counts connections.
struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

fn serve() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    let png = data("modes/rgb.png");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let png = png.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    return;
                }
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                        break;
                    }
                }
                let path = first.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let head = |status: &str, ctype: &str, len: usize| {
                    format!(
                        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
                    )
                };
                let _ = match path.as_str() {
                    "/img.png" => stream
                        .write_all(head("200 OK", "image/png", png.len()).as_bytes())
                        .and_then(|_| stream.write_all(&png)),
                    "/octet" => stream
                        .write_all(head("200 OK", "application/octet-stream", png.len()).as_bytes())
                        .and_then(|_| stream.write_all(&png)),
                    "/html" => stream
                        .write_all(head("200 OK", "text/html; charset=utf-8", 5).as_bytes())
                        .and_then(|_| stream.write_all(b"<b>x</b>"[..5].as_ref())),
                    "/declared-huge" => stream
                        .write_all(head("200 OK", "image/png", 1 << 30).as_bytes()),
                    "/endless" => {
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\nconnection: close\r\n\r\n");
                        let chunk = vec![0u8; 64 * 1024];
                        let mut r = Ok(());
                        for _ in 0..64 {
                            r = stream.write_all(&chunk);
                            if r.is_err() { break; }
                        }
                        r
                    }
                    "/slow" => {
                        std::thread::sleep(Duration::from_secs(3));
                        stream.write_all(head("200 OK", "image/png", 0).as_bytes())
                    }
                    "/redirect" => stream.write_all(
                        b"HTTP/1.1 302 Found\r\nlocation: http://other.test/img.png\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    ),
                    _ => stream.write_all(head("404 Not Found", "text/plain", 0).as_bytes()),
                };
            });
        }
    });
    Server { addr, connections }
}

/// A resolver that maps every host to the local server and records the hosts asked for.
fn local_resolver(server: SocketAddr, asked: Arc<Mutex<Vec<String>>>) -> GuardedResolver {
    GuardedResolver::with_lookup(
        true,
        Arc::new(move |uri, _, _| {
            asked
                .lock()
                .unwrap()
                .push(uri.host().unwrap_or("").to_owned());
            Ok(vec![server])
        }),
    )
}

fn local_cfg() -> FetchConfig {
    FetchConfig {
        allow_private: true,
        total_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        max_bytes: 1 << 20,
        ..FetchConfig::default()
    }
}

#[test]
fn fetches_images_and_refuses_everything_else() {
    let server = serve();
    let base = format!("http://{}", server.addr);
    let cfg = local_cfg();
    let get = |path: &str| {
        fetch_with(
            &format!("{base}{path}"),
            &cfg,
            GuardedResolver::system(true),
        )
    };
    assert_eq!(get("/img.png").unwrap(), data("modes/rgb.png"));
    assert!(get("/octet").is_ok());
    assert!(matches!(get("/html"), Err(MediaError::ContentType(t)) if t == "text/html"));
    assert!(matches!(get("/nothing"), Err(MediaError::HttpStatus(404))));
    assert!(matches!(
        get("/declared-huge"),
        Err(MediaError::TooManyBytes { .. })
    ));
    assert!(matches!(
        get("/endless"),
        Err(MediaError::TooManyBytes { .. })
    ));
    let slow = get("/slow").unwrap_err();
    assert!(matches!(slow, MediaError::Timeout(_)), "{slow}");

    // Through intake, with private addresses allowed by configuration.
    let icfg = IntakeConfig {
        fetch: cfg.clone(),
        ..IntakeConfig::default()
    };
    let f = intake(
        &ImageRef::Url {
            url: format!("{base}/img.png"),
        },
        &icfg,
    )
    .unwrap();
    assert_eq!(f.width, Some(160));
}

#[test]
fn redirects_go_through_the_guard_again() {
    let server = serve();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let body = fetch_with(
        "http://first.test/redirect",
        &local_cfg(),
        local_resolver(server.addr, asked.clone()),
    )
    .unwrap();
    assert_eq!(body, data("modes/rgb.png"));
    assert_eq!(*asked.lock().unwrap(), ["first.test", "other.test"]);
    let no_redirects = FetchConfig {
        max_redirects: 0,
        ..local_cfg()
    };
    let e = fetch_with(
        "http://first.test/redirect",
        &no_redirects,
        local_resolver(server.addr, Arc::new(Mutex::new(Vec::new()))),
    )
    .unwrap_err();
    assert!(
        matches!(e, MediaError::Fetch(_) | MediaError::HttpStatus(302)),
        "{e}"
    );
}

#[test]
fn loopback_and_private_addresses_are_refused_without_connecting() {
    let server = serve();
    let port = server.addr.port();
    let cfg = FetchConfig::default();
    for url in [
        format!("http://127.0.0.1:{port}/img.png"),
        format!("http://localhost:{port}/img.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/img.png"),
        format!("http://2130706433:{port}/img.png"),
    ] {
        let e = fetch_with(&url, &cfg, GuardedResolver::system(false)).unwrap_err();
        println!("{url}: {e}");
        assert!(
            matches!(
                e,
                MediaError::ForbiddenAddress { .. } | MediaError::BadUrl(_) | MediaError::Fetch(_)
            ),
            "{url}: {e}"
        );
    }
    let e = fetch_with(
        &format!("http://127.0.0.1:{port}/img.png"),
        &cfg,
        GuardedResolver::system(false),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            MediaError::ForbiddenAddress {
                kind: "loopback",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        0,
        "nothing reached the server"
    );
}

#[test]
fn dns_rebinding_cannot_slip_a_private_address_through() {
    // A name that answers with one public and one private address is refused as a whole, and
    // the refusal happens in the resolver, so no connection is ever attempted.
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let resolver = GuardedResolver::with_lookup(
        false,
        Arc::new(move |_, _, _| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(vec![
                "93.184.215.14:80".parse().unwrap(),
                "10.0.0.7:80".parse().unwrap(),
            ])
        }),
    );
    let e = fetch_with(
        "http://rebind.test/x.png",
        &FetchConfig::default(),
        resolver,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            MediaError::ForbiddenAddress {
                kind: "private",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    for addr in [
        "169.254.169.254:80",
        "[fe80::1]:80",
        "[fd00::1]:80",
        "0.0.0.0:80",
        "224.0.0.1:80",
    ] {
        let a: SocketAddr = addr.parse().unwrap();
        let r = GuardedResolver::with_lookup(false, Arc::new(move |_, _, _| Ok(vec![a])));
        let e = fetch_with("http://meta.test/", &FetchConfig::default(), r).unwrap_err();
        assert!(
            matches!(e, MediaError::ForbiddenAddress { .. }),
            "{addr}: {e}"
        );
    }
}

#[test]
fn bad_urls_are_refused_with_the_reason() {
    let cfg = FetchConfig::default();
    for url in [
        "ftp://example.org/x.png",
        "file:///etc/passwd",
        "example.org/x.png",
        "http://",
        "http://user:pw@example.org/x.png",
        "not a url",
    ] {
        let e = fetch_with(url, &cfg, GuardedResolver::system(false)).unwrap_err();
        println!("{url}: {e}");
        assert!(matches!(e, MediaError::BadUrl(_)), "{url}: {e}");
    }
    let off = FetchConfig {
        enabled: false,
        ..FetchConfig::default()
    };
    assert!(matches!(
        fetch_with(
            "http://example.org/x.png",
            &off,
            GuardedResolver::system(false)
        ),
        Err(MediaError::UrlsDisabled)
    ));
}

mod hostile_refs {
    use proptest::prelude::*;
    use samaritan_engine::model::ImageRef;
    use samaritan_media::{IntakeConfig, intake};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Whatever an ad puts in `images`, intake answers with facts or an error, never a panic.
        #[test]
        fn arbitrary_image_refs_never_panic(s in "\\PC{0,120}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let cfg = IntakeConfig { allow_paths: false, ..IntakeConfig::default() };
            let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
            for r in [
                ImageRef::Base64 { base64: s.clone() },
                ImageRef::Base64 { base64: b64 },
                ImageRef::Hashes { sha256: Some(s.clone()), pdq: Some(s.clone()) },
                ImageRef::Path { path: s.clone() },
                ImageRef::Url { url: format!("ftp://{s}") },
            ] {
                let _ = intake(&r, &cfg);
            }
        }
    }
}
