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
