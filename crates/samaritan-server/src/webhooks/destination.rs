//! Where webhooks may go: the same rules as image fetches. `http` or `https` only, a host, no
//! credentials in the URL, and — unless the operator allows private destinations — a host
//! that resolves only to public addresses (no loopback, private, link-local, CGNAT, …). The
//! check runs when an endpoint is added and again at every delivery (the resolver refuses a
//! forbidden address then too, so a name re-pointed later is still refused).

use std::net::ToSocketAddrs;

use ureq::http::Uri;

/// Longest destination URL.
pub const MAX_URL: usize = 2048;

/// Checks `url` as a destination; the reason when refused.
pub fn check(url: &str, allow_private: bool) -> Result<Uri, String> {
    if url.len() > MAX_URL {
        return Err(format!("the URL is longer than {MAX_URL} bytes"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the URL holds spaces or control characters".into());
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(match url.split_once("://") {
            Some((scheme, _)) => format!("scheme `{scheme}` is not allowed; use https or http"),
            None => "no scheme; use https or http".into(),
        });
    }
    let uri: Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => {
            return Err(format!(
                "scheme `{other}` is not allowed; use https or http"
            ));
        }
        None => return Err("no scheme; use https or http".into()),
    }
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        return Err("no host".into());
    };
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err("credentials in the URL are not allowed".into());
    }
    if !allow_private {
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<std::net::SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("{host} does not resolve: {e}"))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("{host} does not resolve"));
        }
        for a in addrs {
            if let Some(kind) = samaritan_media::address::forbidden_kind(a.ip()) {
                return Err(format!(
                    "{host} resolves to {} ({kind}); private destinations need \
                     `serve --webhooks-allow-private`",
                    a.ip()
                ));
            }
        }
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_http_destinations_without_credentials() {
        for (url, why) in [
            ("ftp://hooks.example/x", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("hooks.example/x", "scheme"),
            ("https://user:pw@hooks.example/x", "credentials"),
            ("http://127.0.0.1:9/x", "loopback"),
            ("http://10.0.0.5/x", "private"),
            ("http://169.254.169.254/latest/meta-data", "link-local"),
            ("http://[::1]/x", "loopback"),
            ("http://localhost/x", "loopback"),
            ("https://hooks.example/a b", "spaces"),
        ] {
            let e = check(url, false).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
        assert!(check(&format!("https://h.example/{}", "a".repeat(MAX_URL)), false).is_err());
        // Allowed private destinations (tests, internal receivers) still need http(s).
        assert!(check("http://127.0.0.1:9/x", true).is_ok());
        assert!(check("gopher://127.0.0.1/", true).is_err());
    }
}
