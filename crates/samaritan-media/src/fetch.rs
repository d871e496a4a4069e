//! Fetching an image URL without becoming a proxy into the platform's own network.
//!
//! The guard sits in the resolver: every address a host name resolves to is checked
//! ([`crate::address`]) and, if one is forbidden, the fetch is refused before any connection is
//! made; otherwise the HTTP client connects to exactly the addresses that were checked. A DNS
//! answer that changes between a check and a connect (DNS rebinding) therefore cannot slip a
//! private address through, and because each redirect hop is a new connection through the same
//! resolver, redirects are checked the same way. Proxies from the environment are ignored (they
//! would resolve the proxy, not the target). Timeouts bound connect and the whole exchange; the
//! body is read up to the byte limit and no further; only image content types are accepted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::address::forbidden_kind;
use crate::error::MediaError;

/// How image URLs are fetched.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Fetch URLs at all (default true).
    pub enabled: bool,
    /// Allow loopback, private, link-local and other non-public addresses (default false; for
    /// tests and for platforms whose image store is on their own network).
    pub allow_private: bool,
    /// Time to resolve and connect (default 5 s).
    pub connect_timeout: Duration,
    /// Time for the whole exchange, redirects and body included (default 20 s).
    pub total_timeout: Duration,
    /// Redirects followed, each re-checked (default 3; 0 refuses redirects).
    pub max_redirects: u32,
    /// Largest body read, in bytes (default 32 MiB, like the decode limit).
    pub max_bytes: u64,
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            enabled: true,
            allow_private: false,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(20),
            max_redirects: 3,
            max_bytes: 32 << 20,
            user_agent: concat!("samaritan/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Content types accepted from a server. Servers that label images generically
/// (`application/octet-stream`, as object stores do) are accepted; the decoder sniffs the bytes.
const IMAGE_TYPES: [&str; 8] = [
    "image/jpeg",
    "image/jpg",
    "image/pjpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "application/octet-stream",
    "binary/octet-stream",
];

/// Looks up a host; the real one is the system resolver, tests substitute answers.
pub type Lookup = dyn Fn(&Uri, &ureq::config::Config, NextTimeout) -> Result<Vec<SocketAddr>, ureq::Error>
    + Send
    + Sync;

/// The resolver that refuses forbidden addresses.
pub struct GuardedResolver {
    allow_private: bool,
    lookup: Arc<Lookup>,
}

impl std::fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

/// The refusal, carried through the HTTP client as an I/O error and recovered on the way out.
#[derive(Debug)]
struct Refused {
    host: String,
    addr: std::net::IpAddr,
    kind: &'static str,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to {} ({})", self.host, self.addr, self.kind)
    }
}

impl std::error::Error for Refused {}

impl GuardedResolver {
    /// Guards the system resolver.
    pub fn system(allow_private: bool) -> Self {
        let inner = DefaultResolver::default();
        GuardedResolver {
            allow_private,
            lookup: Arc::new(move |uri, config, timeout| {
                Ok(inner
                    .resolve(uri, config, timeout)?
                    .iter()
                    .copied()
                    .collect())
            }),
        }
    }

    /// Guards a custom lookup (tests).
    pub fn with_lookup(allow_private: bool, lookup: Arc<Lookup>) -> Self {
        GuardedResolver {
            allow_private,
            lookup,
        }
    }

    /// The addresses to connect to: all of them, or an error if any is forbidden.
    pub fn checked(
        &self,
        uri: &Uri,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, ureq::Error> {
        if !self.allow_private {
            for a in &addrs {
                if let Some(kind) = forbidden_kind(a.ip()) {
                    let host = uri.host().unwrap_or("").to_owned();
                    return Err(ureq::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::PermissionDenied,
                        Refused {
                            host,
                            addr: a.ip(),
                            kind,
                        },
                    )));
                }
            }
        }
        if addrs.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(addrs)
    }
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.checked(uri, (self.lookup)(uri, config, timeout)?)?;
        let mut out = self.empty();
        for a in addrs.into_iter().take(16) {
            out.push(a);
        }
        Ok(out)
    }
}

/// Fetches `url` with the system resolver under `cfg`.
pub fn fetch(url: &str, cfg: &FetchConfig) -> Result<Vec<u8>, MediaError> {
    fetch_with(url, cfg, GuardedResolver::system(cfg.allow_private))
}

/// Fetches `url` through a given resolver (tests pass one with a substitute lookup).
pub fn fetch_with(
    url: &str,
    cfg: &FetchConfig,
    resolver: GuardedResolver,
) -> Result<Vec<u8>, MediaError> {
    if !cfg.enabled {
        return Err(MediaError::UrlsDisabled);
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        let scheme = url.split_once("://").map_or("", |(s, _)| s);
        return Err(MediaError::BadUrl(if scheme.is_empty() {
            "no scheme; only http and https URLs are fetched".to_owned()
        } else {
            format!("scheme {scheme:?} is not fetched; only http and https are")
        }));
    }
    let uri: Uri = url
        .parse()
        .map_err(|e| MediaError::BadUrl(format!("{e}")))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => {
            return Err(MediaError::BadUrl(format!(
                "scheme {other:?} is not fetched; use http or https"
            )));
        }
        None => {
            return Err(MediaError::BadUrl(
                "no scheme; use http or https".to_owned(),
            ));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(MediaError::BadUrl("no host".to_owned()));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(MediaError::BadUrl(
            "credentials in URLs are not sent".to_owned(),
        ));
    }
    let config = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_connect(Some(cfg.connect_timeout))
        .timeout_global(Some(cfg.total_timeout))
        .max_redirects(cfg.max_redirects)
        .max_redirects_will_error(true)
        .user_agent(cfg.user_agent.as_str())
        .build();
    let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), resolver);
    let mut resp = agent.get(uri).call().map_err(map_error)?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(MediaError::HttpStatus(status));
    }
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !IMAGE_TYPES.contains(&ctype.as_str()) {
        return Err(MediaError::ContentType(ctype));
    }
    if let Some(len) = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        && len > cfg.max_bytes
    {
        return Err(MediaError::TooManyBytes {
            got: len,
            limit: cfg.max_bytes,
        });
    }
    resp.body_mut()
        .with_config()
        .limit(cfg.max_bytes)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => MediaError::TooManyBytes {
                got: cfg.max_bytes + 1,
                limit: cfg.max_bytes,
            },
            other => map_error(other),
        })
}

fn map_error(e: ureq::Error) -> MediaError {
    match e {
        ureq::Error::Io(io) => {
            if let Some(r) = io.get_ref().and_then(|x| x.downcast_ref::<Refused>()) {
                return MediaError::ForbiddenAddress {
                    host: r.host.clone(),
                    addr: r.addr,
                    kind: r.kind,
                };
            }
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return MediaError::Timeout(io.to_string());
            }
            MediaError::Fetch(io.to_string())
        }
        ureq::Error::Timeout(t) => MediaError::Timeout(t.to_string()),
        ureq::Error::TooManyRedirects => MediaError::Fetch("too many redirects".to_owned()),
        ureq::Error::BadUri(s) => MediaError::BadUrl(s),
        ureq::Error::StatusCode(s) => MediaError::HttpStatus(s),
        other => MediaError::Fetch(other.to_string()),
    }
}

/// Fetches several URLs at once for one request: every URL on its own thread, at most
/// `max_per_host` in flight to one host name, and all of them within `deadline` of the call.
///
/// One result per URL, in order. A URL still waiting for its host's turn at the deadline, or
/// whose fetch was cut short by it, is [`MediaError::Deadline`]; each fetch also keeps its own
/// `cfg` timeouts. `resolver` makes the guarded resolver for each fetch.
pub fn fetch_all_with(
    urls: &[&str],
    cfg: &FetchConfig,
    max_per_host: usize,
    deadline: Duration,
    resolver: &(dyn Fn() -> GuardedResolver + Sync),
) -> Vec<Result<Vec<u8>, MediaError>> {
    if !cfg.enabled {
        return urls.iter().map(|_| Err(MediaError::UrlsDisabled)).collect();
    }
    let started = std::time::Instant::now();
    let until = started + deadline;
    let per_host = max_per_host.max(1);
    let in_flight: std::sync::Mutex<std::collections::HashMap<String, usize>> =
        std::sync::Mutex::new(std::collections::HashMap::new());
    let turn = std::sync::Condvar::new();
    let missed = || MediaError::Deadline {
        secs: deadline.as_secs_f64(),
    };
    let lock = || in_flight.lock().unwrap_or_else(|p| p.into_inner());
    let one = |url: &str| -> Result<Vec<u8>, MediaError> {
        // Host names as written (lowercased); a URL without one fails at once in `fetch_with`.
        let host = url
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_ascii_lowercase));
        if let Some(h) = &host {
            let mut map = lock();
            loop {
                let n = map.get(h).copied().unwrap_or(0);
                if n < per_host {
                    map.insert(h.clone(), n + 1);
                    break;
                }
                let now = std::time::Instant::now();
                if now >= until {
                    return Err(missed());
                }
                map = match turn.wait_timeout(map, until - now) {
                    Ok((g, _)) => g,
                    Err(p) => p.into_inner().0,
                };
            }
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        let result = if left.is_zero() {
            Err(missed())
        } else {
            let mut c = cfg.clone();
            c.total_timeout = c.total_timeout.min(left);
            c.connect_timeout = c.connect_timeout.min(left);
            match fetch_with(url, &c, resolver()) {
                // Cut short by the request's deadline rather than by the fetch's own timeout.
                Err(MediaError::Timeout(_)) if left < cfg.total_timeout => Err(missed()),
                other => other,
            }
        };
        if let Some(h) = &host {
            let mut map = lock();
            if let Some(n) = map.get_mut(h) {
                *n = n.saturating_sub(1);
            }
            drop(map);
            turn.notify_all();
        }
        result
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = urls
            .iter()
            .map(|url| {
                let one = &one;
                s.spawn(move || one(url))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(MediaError::Fetch("the fetch panicked".to_owned())))
            })
            .collect()
    })
}

/// [`fetch_all_with`] with the system resolver.
pub fn fetch_all(
    urls: &[&str],
    cfg: &FetchConfig,
    max_per_host: usize,
    deadline: Duration,
) -> Vec<Result<Vec<u8>, MediaError>> {
    fetch_all_with(urls, cfg, max_per_host, deadline, &|| {
        GuardedResolver::system(cfg.allow_private)
    })
}
