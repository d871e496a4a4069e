//! Which network addresses an image fetch may reach.
//!
//! Server-side request forgery is the classic hole in "fetch this URL for me": an ad that
//! points its image at `http://169.254.169.254/` (cloud metadata), `http://localhost:5432/` or
//! a host on the platform's private network turns the engine into the attacker's proxy. By
//! default every address that is not globally routable is refused: unspecified, loopback,
//! private, shared (CGNAT), link-local, multicast, broadcast, documentation, benchmarking and
//! reserved ranges, and the IPv6 forms that embed such an IPv4 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `addr` may not be fetched, or `None` if it is a public unicast address.
pub fn forbidden_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    if a.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if a.is_loopback() {
        Some("loopback")
    } else if a.is_private() {
        Some("private")
    } else if o[0] == 100 && (o[1] & 0xC0) == 64 {
        Some("shared (carrier-grade NAT)")
    } else if a.is_link_local() {
        Some("link-local")
    } else if a.is_multicast() {
        Some("multicast")
    } else if a.is_broadcast() {
        Some("broadcast")
    } else if a.is_documentation() {
        Some("documentation")
    } else if o[0] == 198 && (o[1] & 0xFE) == 18 {
        Some("benchmarking")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignment")
    } else if o[0] >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn forbidden_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    if a.is_unspecified() {
        return Some("unspecified");
    }
    if a.is_loopback() {
        return Some("loopback");
    }
    if a.is_multicast() {
        return Some("multicast");
    }
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
    // addresses reach the embedded IPv4 address: judge that.
    let embedded = (s[0..5] == [0; 5] && (s[5] == 0xFFFF || s[5] == 0))
        || (s[0] == 0x64 && s[1] == 0xFF9B && s[2..6] == [0; 4]);
    if embedded {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        if let Some(k) = forbidden_v4(v4) {
            return Some(k);
        }
        if s[5] == 0 && s[0] == 0 {
            // ::a.b.c.d is deprecated and never legitimate, whatever it embeds.
            return Some("deprecated IPv4-compatible");
        }
        return None;
    }
    if a.is_unique_local() {
        Some("unique-local (private)")
    } else if a.is_unicast_link_local() {
        Some("link-local")
    } else if (s[0] & 0xFFC0) == 0xFEC0 {
        Some("site-local")
    } else if s[0] == 0x2001 && s[1] == 0x0DB8 {
        Some("documentation")
    } else if s[0] == 0x0100 && s[1..4] == [0; 3] {
        Some("discard-only")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        forbidden_kind(s.parse().unwrap())
    }

    #[test]
    fn refuses_every_non_public_range() {
        for bad in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "100::1",
        ] {
            assert!(kind(bad).is_some(), "{bad} must be refused");
        }
        assert_eq!(kind("169.254.169.254"), Some("link-local"));
        assert_eq!(kind("::ffff:127.0.0.1"), Some("loopback"));
    }

    #[test]
    fn allows_public_unicast() {
        for good in [
            "93.184.215.14",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(kind(good), None, "{good} is public");
        }
    }
}
