//! Asking the gateway whether it is ready: `GET /readyz` over plain HTTP on a loopback address
//! it listens on.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::service::spec::ServiceSpec;

/// `GET /readyz` on `addr`: the HTTP status code.
pub fn probe_readyz(addr: SocketAddr, timeout: Duration) -> Result<u16, String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    // One write: `write!` on a bare stream sends each formatted piece as its own segment, and a
    // server that answers after the first one would reset the rest of the request.
    let request = format!(
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: openclaw-service\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < 12 {
        let n = stream.read(&mut head[len..]).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let line = String::from_utf8_lossy(&head[..len]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {line:?}"))
}

/// Where to probe the gateway of `spec`: a loopback address it listens on.
pub fn probe_address(spec: &ServiceSpec) -> SocketAddr {
    let ip = spec
        .listen_addresses
        .iter()
        .copied()
        .find(|ip| ip.is_loopback() && ip.is_ipv4())
        .or_else(|| {
            spec.listen_addresses
                .iter()
                .copied()
                .find(|ip| !ip.is_unspecified())
        })
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    SocketAddr::new(ip, spec.port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn readyz_is_probed_over_plain_http() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 512];
            while !request.ends_with(b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "the probe hung up before ending its request");
                request.extend_from_slice(&buf[..n]);
            }
            assert!(String::from_utf8_lossy(&request).starts_with("GET /readyz HTTP/1.1\r\n"));
            conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        });
        assert_eq!(probe_readyz(addr, Duration::from_secs(5)), Ok(503));
        server.join().unwrap();
        // A peer that hangs up without an HTTP answer is an error (a freed ephemeral port is
        // not used for this: another process may take it before the probe runs).
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let silent_addr = silent.local_addr().unwrap();
        let hang_up = std::thread::spawn(move || drop(silent.accept().unwrap()));
        assert!(probe_readyz(silent_addr, Duration::from_secs(1)).is_err());
        hang_up.join().unwrap();
    }
}
