//! Bounds on a request's images as a whole: one pixel budget over all of them, URL fetches at
//! once with a cap per host, and one deadline for all the fetches (against local servers).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use samaritan_engine::model::ImageRef;
use samaritan_engine::pdq::{BankSet, MatchOptions};
use samaritan_media::fetch::GuardedResolver;
use samaritan_media::request::{contexts_of, intake_request_with};
use samaritan_media::{FetchConfig, IntakeConfig, MediaError, RequestLimits, intake_request};

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn inline(w: u32, h: u32) -> ImageRef {
    ImageRef::Base64 {
        base64: base64::engine::general_purpose::STANDARD.encode(png(w, h)),
    }
}

fn with_pixels(max_pixels: u64) -> IntakeConfig {
    IntakeConfig {
        request: RequestLimits {
            max_pixels,
            ..RequestLimits::default()
        },
        ..IntakeConfig::default()
    }
}

#[test]
fn the_pixel_budget_is_shared_by_the_request_in_input_order() {
    // 10,000 + 10,000 + 10,000 + 2,500 pixels over two ads.
    let a = [inline(100, 100)];
    let b = [inline(100, 100), inline(100, 100), inline(50, 50)];
    let ads: [&[ImageRef]; 2] = [&a, &b];

    // Over the budget: the third image does not fit and is an error entry, never decoded; the
    // small one after it still fits.
    let results = intake_request(&ads, &with_pixels(25_000));
    assert_eq!((results[0].len(), results[1].len()), (1, 3));
    assert!(results[0][0].is_ok());
    assert!(results[1][0].is_ok());
    match &results[1][1] {
        Err(
            e @ MediaError::RequestPixels {
                pixels,
                used,
                limit,
            },
        ) => {
            assert_eq!((*pixels, *used, *limit), (10_000, 20_000, 25_000));
            assert_eq!(e.code(), "request_pixels");
        }
        other => panic!("not refused by the request budget: {other:?}"),
    }
    assert_eq!(results[1][2].as_ref().unwrap().width, Some(50));
    // As analysis entries: the refused image keeps its place, with an error and no hashes.
    let entries = contexts_of(results, &BankSet::new(), &MatchOptions::default());
    let refused = &entries[1].0[1];
    assert_eq!(refused.index, 1);
    assert!(refused.pdq.is_none() && refused.sha256.is_none());
    assert!(
        refused.error.as_deref().unwrap().contains("per request"),
        "{refused:?}"
    );

    // Under the budget: everything is taken in.
    let results = intake_request(&ads, &with_pixels(32_500));
    assert!(results.iter().flatten().all(Result::is_ok), "{results:?}");
}

/// A local image server: `/slow` never answers, anything else gets a PNG once `gather`
/// requests have been waiting at the same time (or after 2 s), so overlapping fetches are seen.
struct Server {
    addr: SocketAddr,
    most_at_once: Arc<AtomicUsize>,
}

fn serve(gather: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let most_at_once = Arc::new(AtomicUsize::new(0));
    let most = most_at_once.clone();
    let open = Arc::new((Mutex::new(0usize), Condvar::new()));
    let body = png(64, 64);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let (most, open, body) = (most.clone(), open.clone(), body.clone());
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
                if first.contains("/slow") {
                    std::thread::sleep(Duration::from_secs(20));
                    return;
                }
                {
                    // Counted until the answer starts: a client sends its next request only
                    // after this one is answered.
                    let (n, cv) = &*open;
                    let mut n = n.lock().unwrap();
                    *n += 1;
                    most.fetch_max(*n, Ordering::SeqCst);
                    cv.notify_all();
                    let until = Instant::now() + Duration::from_secs(2);
                    while most.load(Ordering::SeqCst) < gather && Instant::now() < until {
                        n = cv.wait_timeout(n, Duration::from_millis(50)).unwrap().0;
                    }
                    *n -= 1;
                    cv.notify_all();
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream
                    .write_all(head.as_bytes())
                    .and_then(|_| stream.write_all(&body));
                let _ = stream.flush();
            });
        }
    });
    Server { addr, most_at_once }
}

/// Every host name resolves to `server`.
fn resolver(server: SocketAddr) -> impl Fn() -> GuardedResolver + Sync {
    move || GuardedResolver::with_lookup(true, Arc::new(move |_, _, _| Ok(vec![server])))
}

fn fetching(per_host: usize, deadline: Duration) -> IntakeConfig {
    IntakeConfig {
        fetch: FetchConfig {
            allow_private: true,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(20),
            ..FetchConfig::default()
        },
        request: RequestLimits {
            max_per_host: per_host,
            fetch_deadline: deadline,
            ..RequestLimits::default()
        },
        ..IntakeConfig::default()
    }
}

fn url(host: &str, server: &Server, path: &str) -> ImageRef {
    ImageRef::Url {
        url: format!("http://{host}:{}/{path}", server.addr.port()),
    }
}

#[test]
fn urls_are_fetched_at_once_but_never_more_than_the_cap_per_host() {
    // The server holds each answer until 3 connections are open: with a cap of 2 per host it
    // never sees more than 2 from one host, and sees 2 only if fetches overlap.
    let server = serve(3);
    let one_host: Vec<ImageRef> = (0..4)
        .map(|i| url("img.test", &server, &format!("{i}.png")))
        .collect();
    let cfg = fetching(2, Duration::from_secs(30));
    let results = intake_request_with(
        &[&one_host[..2], &one_host[2..]],
        &cfg,
        &resolver(server.addr),
    );
    assert!(results.iter().flatten().all(Result::is_ok), "{results:?}");
    assert_eq!(server.most_at_once.load(Ordering::SeqCst), 2);

    // Two host names: each has its own cap, so 3 are seen at once.
    let server = serve(3);
    let two_hosts = [
        url("a.test", &server, "1.png"),
        url("a.test", &server, "2.png"),
        url("b.test", &server, "3.png"),
    ];
    let results = intake_request_with(&[&two_hosts], &cfg, &resolver(server.addr));
    assert!(results.iter().flatten().all(Result::is_ok), "{results:?}");
    assert_eq!(server.most_at_once.load(Ordering::SeqCst), 3);
}

#[test]
fn a_fetch_past_the_request_deadline_is_an_error_entry() {
    let server = serve(1);
    // Per host 1: the second slow URL waits for the first and meets the deadline waiting.
    let images = [
        url("slow.test", &server, "slow"),
        url("fast.test", &server, "1.png"),
        url("slow.test", &server, "slow"),
    ];
    let cfg = fetching(1, Duration::from_millis(800));
    let started = Instant::now();
    let results = intake_request_with(&[&images], &cfg, &resolver(server.addr));
    let took = started.elapsed();
    assert!(results[0][1].is_ok(), "{:?}", results[0][1]);
    for i in [0, 2] {
        match &results[0][i] {
            Err(e @ MediaError::Deadline { .. }) => assert_eq!(e.code(), "fetch_deadline"),
            other => panic!("image {i}: {other:?}"),
        }
    }
    // Bounded by the deadline, not by the 20 s the slow server would take (generous bound).
    assert!(took < Duration::from_secs(10), "{took:?}");

    // Within the deadline the same fast fetch passes, and nothing is refused.
    let results = intake_request_with(
        &[&[url("fast.test", &server, "2.png")]],
        &cfg,
        &resolver(server.addr),
    );
    assert!(results[0][0].is_ok(), "{:?}", results[0][0]);
}
