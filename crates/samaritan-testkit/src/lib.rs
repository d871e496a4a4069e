//! Helpers for tests that need things outside the repository.
//!
//! A fresh machine has no `../shared`, PostgreSQL or NATS; tests that need them must say so and
//! skip. Every test that calls a helper here is also marked, so that `cargo test` shows and
//! counts it as ignored with its reason instead of a `SKIPPED:` line hidden by output capture:
//!
//! ```text
//! #[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
//! #[ignore = "needs ../shared conformance data (or $SAMARITAN_SHARED); run with --include-ignored"]
//! #[ignore = "needs NATS (127.0.0.1:4222 or $SAMARITAN_TEST_NATS); run with --include-ignored"]
//! #[ignore = "needs moto_server (pip install 'moto[server]'); run with --include-ignored"]
//! ```
//!
//! Run with `--include-ignored` (or `--ignored`), such a test still skips where the thing is
//! missing. CI provides them and sets `SAMARITAN_REQUIRE_<THING>=1`, which turns a skip into a
//! failure so a broken service can never pass silently.

use std::path::PathBuf;

/// The workspace root (the directory holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // This crate lives at <root>/crates/samaritan-testkit.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `../shared` beside the checkout, or `$SAMARITAN_SHARED`; `None` (after printing a visible
/// skip line) when absent, unless `SAMARITAN_REQUIRE_SHARED=1`, in which case it panics.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SAMARITAN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"));
    if dir.join("conformance").is_dir() {
        return Some(dir);
    }
    skip_or_fail(
        "SAMARITAN_REQUIRE_SHARED",
        test,
        &format!("no shared data at {}", dir.display()),
    );
    None
}

/// A PostgreSQL URL for tests (`$SAMARITAN_TEST_POSTGRES`, default the local `test` database),
/// or `None` after a visible skip when the server does not answer.
pub fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("SAMARITAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    if reachable(&url, 5432) {
        return Some(url);
    }
    skip_or_fail(
        "SAMARITAN_REQUIRE_POSTGRES",
        test,
        "PostgreSQL is not reachable",
    );
    None
}

/// A NATS URL for tests (`$SAMARITAN_TEST_NATS`, default `nats://127.0.0.1:4222`), or `None`
/// after a visible skip when the server does not answer.
pub fn nats_url(test: &str) -> Option<String> {
    let url =
        std::env::var("SAMARITAN_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    if reachable(&url, 4222) {
        return Some(url);
    }
    skip_or_fail("SAMARITAN_REQUIRE_NATS", test, "NATS is not reachable");
    None
}

/// A local S3-compatible server (moto's server mode, from PyPI: `pip install 'moto[server]'`)
/// started for one test on a free port, and stopped (killed by its process id) when dropped.
pub struct S3Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    port: u16,
}

impl S3Server {
    /// Creates bucket `name` (moto takes unsigned requests); panics if the server refuses.
    pub fn create_bucket(&self, name: &str) {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("moto_server at {}: {e}", self.endpoint));
        let req = format!(
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        let mut answer = String::new();
        let ok = s.write_all(req.as_bytes()).is_ok() && s.read_to_string(&mut answer).is_ok();
        assert!(
            ok && answer.starts_with("HTTP/1.1 200"),
            "moto_server did not create bucket {name}: {answer}"
        );
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto's S3-compatible server on a free port (`$SAMARITAN_MOTO_SERVER`, else
/// `moto_server` on the PATH), or `None` after a visible skip when it is not installed, unless
/// `SAMARITAN_REQUIRE_S3=1`, in which case it panics.
pub fn s3_server(test: &str) -> Option<S3Server> {
    use std::process::{Command, Stdio};
    let program = std::env::var("SAMARITAN_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => {
            skip_or_fail("SAMARITAN_REQUIRE_S3", test, &format!("no free port: {e}"));
            return None;
        }
    };
    let child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            skip_or_fail(
                "SAMARITAN_REQUIRE_S3",
                test,
                &format!("cannot start `{program}` (pip install 'moto[server]'): {e}"),
            );
            return None;
        }
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if reachable(&endpoint, port) {
            return Some(S3Server {
                child,
                endpoint,
                port,
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            skip_or_fail(
                "SAMARITAN_REQUIRE_S3",
                test,
                &format!("`{program}` stopped at start ({status})"),
            );
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    skip_or_fail(
        "SAMARITAN_REQUIRE_S3",
        test,
        &format!("`{program}` did not answer on port {port} within 30 s"),
    );
    None
}

fn reachable(url: &str, default_port: u16) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    let rest = url.split("://").nth(1).unwrap_or(url);
    let hostport = rest
        .rsplit('@')
        .next()
        .unwrap_or(rest)
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    let target = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:{default_port}")
    };
    let Ok(mut addrs) = target.to_socket_addrs() else {
        return false;
    };
    addrs.any(|a| TcpStream::connect_timeout(&a, std::time::Duration::from_millis(500)).is_ok())
}

fn skip_or_fail(require_var: &str, test: &str, why: &str) {
    if std::env::var(require_var).is_ok_and(|v| v == "1") {
        panic!("{test}: {why}, and {require_var}=1 says it must be there");
    }
    eprintln!("SKIPPED: {test}: {why}");
}
