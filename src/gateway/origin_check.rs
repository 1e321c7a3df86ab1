//! The browser origin check of WebSocket connects (spec `web-and-channels.md` §1.2).
//!
//! Browsers send `Origin` with every WebSocket handshake and scripts cannot forge it; other
//! clients (the CLI, apps, nodes) send none and are not affected. A connect carrying `Origin` is
//! allowed when the origin is listed in `gateway.controlUi.allowedOrigins` (or the list holds
//! `"*"`), when it is the gateway's own origin reached through a loopback, private-network,
//! `.local` or `.ts.net` host, or when a loopback page talks to the gateway over loopback (a
//! local development server). A page whose name resolves to 127.0.0.1 (DNS rebinding) names
//! its own host in `Host`, which is none of these, so it is refused.

use std::net::IpAddr;

/// The origin as a browser serialises it: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    /// `scheme://host[:port]`, lower-cased, default port dropped.
    serialized: String,
    /// `host[:port]` as it would appear in a `Host` header.
    authority: String,
    /// The host name or address without brackets.
    hostname: String,
}

fn parse_origin(raw: &str) -> Option<Origin> {
    let raw = raw.trim().to_ascii_lowercase();
    let (scheme, rest) = raw.split_once("://")?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains(['/', '?', '#', '@'])
    {
        return None;
    }
    let (hostname, port) = split_host_port(rest)?;
    let default_port = if scheme == "https" { 443 } else { 80 };
    let authority = match port {
        Some(p) if p != default_port => format!("{}:{p}", bracketed(&hostname)),
        _ => bracketed(&hostname),
    };
    Some(Origin {
        serialized: format!("{scheme}://{authority}"),
        authority,
        hostname,
    })
}

fn bracketed(hostname: &str) -> String {
    if hostname.contains(':') {
        format!("[{hostname}]")
    } else {
        hostname.to_owned()
    }
}

/// Splits `host[:port]` / `[v6][:port]`; `None` when malformed.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Some((host.to_owned(), Some(port.parse().ok()?)))
        }
        Some(_) => None,
        None => Some((authority.to_owned(), None)),
    }
    .filter(|(host, _)| !host.is_empty())
}

fn is_loopback_name(hostname: &str) -> bool {
    hostname == "localhost"
        || hostname.ends_with(".localhost")
        || hostname.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Loopback, private-network (RFC 1918, link-local, IPv6 unique-local), `.local` or `.ts.net`.
fn is_local_network_name(hostname: &str) -> bool {
    if is_loopback_name(hostname) || hostname.ends_with(".local") || hostname.ends_with(".ts.net") {
        return true;
    }
    match hostname.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_private() || v4.is_link_local() || is_cgnat(v4.octets()),
        Ok(IpAddr::V6(v6)) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// 100.64.0.0/10 (Tailscale addresses).
fn is_cgnat(octets: [u8; 4]) -> bool {
    octets[0] == 100 && (octets[1] & 0xc0) == 64
}

/// What the check looks at.
#[derive(Debug, Clone, Copy)]
pub struct OriginRequest<'a> {
    /// The `Origin` header.
    pub origin: &'a str,
    /// The `Host` header, if any.
    pub host: Option<&'a str>,
    /// The peer address is loopback.
    pub peer_is_loopback: bool,
}

/// True when a browser page of `request.origin` may open a gateway connection.
pub fn origin_allowed(request: OriginRequest<'_>, allowed: &[String]) -> bool {
    let Some(origin) = parse_origin(request.origin) else {
        return allowed.iter().any(|a| a.trim() == "*");
    };
    let listed = allowed.iter().any(|a| {
        let a = a.trim();
        a == "*" || parse_origin(a).is_some_and(|a| a.serialized == origin.serialized)
    });
    if listed {
        return true;
    }
    let Some((host_name, host_port)) = request
        .host
        .map(|h| h.trim().to_ascii_lowercase())
        .and_then(|h| split_host_port(&h))
    else {
        return false;
    };
    let host_authority = match host_port {
        Some(p) => format!("{}:{p}", bracketed(&host_name)),
        None => bracketed(&host_name),
    };
    let same_origin = host_authority == origin.authority && is_local_network_name(&host_name);
    let local_page = request.peer_is_loopback
        && is_loopback_name(&host_name)
        && is_loopback_name(&origin.hostname);
    same_origin || local_page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(origin: &str, host: &str, loopback: bool, list: &[&str]) -> bool {
        let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        origin_allowed(
            OriginRequest {
                origin,
                host: Some(host),
                peer_is_loopback: loopback,
            },
            &list,
        )
    }

    #[test]
    fn the_gateways_own_origin_on_a_local_host_is_allowed() {
        assert!(allowed(
            "http://127.0.0.1:18789",
            "127.0.0.1:18789",
            true,
            &[]
        ));
        assert!(allowed(
            "http://LOCALHOST:18789",
            "localhost:18789",
            true,
            &[]
        ));
        assert!(allowed(
            "http://192.168.1.5:18789",
            "192.168.1.5:18789",
            false,
            &[]
        ));
        assert!(allowed(
            "http://box.local:18789",
            "box.local:18789",
            false,
            &[]
        ));
        assert!(allowed(
            "https://box.tail1.ts.net",
            "box.tail1.ts.net",
            false,
            &[]
        ));
        assert!(allowed("http://[::1]:18789", "[::1]:18789", true, &[]));
    }

    #[test]
    fn a_loopback_page_may_reach_the_gateway_over_loopback() {
        assert!(allowed(
            "http://localhost:5173",
            "127.0.0.1:18789",
            true,
            &[]
        ));
        assert!(
            !allowed("http://localhost:5173", "192.168.1.5:18789", false, &[]),
            "not when the gateway is reached from another host"
        );
    }

    #[test]
    fn foreign_pages_are_refused_unless_listed() {
        assert!(!allowed(
            "https://evil.example",
            "127.0.0.1:18789",
            true,
            &[]
        ));
        assert!(!allowed("null", "127.0.0.1:18789", true, &[]));
        assert!(!allowed("file://", "127.0.0.1:18789", true, &[]));
        assert!(allowed(
            "https://evil.example",
            "127.0.0.1:18789",
            true,
            &["https://EVIL.example:443"]
        ));
        assert!(allowed(
            "https://any.example",
            "127.0.0.1:18789",
            true,
            &["*"]
        ));
        assert!(!allowed(
            "https://evil.example",
            "127.0.0.1:18789",
            true,
            &["https://evil.example:8443"]
        ));
    }

    #[test]
    fn dns_rebinding_names_its_own_host_and_is_refused() {
        // evil.example resolved to 127.0.0.1: Host and Origin agree, but the host is public.
        assert!(!allowed(
            "http://evil.example:18789",
            "evil.example:18789",
            true,
            &[]
        ));
        assert!(!allowed(
            "http://127.0.0.1.nip.io:18789",
            "127.0.0.1.nip.io:18789",
            true,
            &[]
        ));
    }

    #[test]
    fn a_port_mismatch_with_a_private_host_is_not_same_origin() {
        assert!(!allowed(
            "http://192.168.1.5:8080",
            "192.168.1.5:18789",
            false,
            &[]
        ));
    }
}
