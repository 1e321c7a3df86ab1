//! TCP sockets from the kernel's `NETLINK_SOCK_DIAG` interface (what `ss` uses): the listening
//! sockets of a port (`ss -ltn`) and the established connections to it (`ss -tn`).
//!
//! `/proc/net/tcp` lists every TCP socket of the network namespace, so reading it costs time in
//! proportion to all connections on the host (≈10 ms per 2,000 sockets; a gateway holding
//! 10,000 clients makes every `gateway status` slow). A sock_diag dump restricted to the LISTEN
//! state walks only the kernel's listening hash. Linux only; callers fall back to `/proc/net/tcp`
//! when the listening dump fails.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};

/// `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
/// `TCP_ESTABLISHED` (include/net/tcp_states.h).
const TCP_ESTABLISHED: u32 = 1;
/// `TCP_LISTEN`.
const TCP_LISTEN: u32 = 10;
const IPPROTO_TCP: u8 = 6;
/// Offsets in `struct inet_diag_msg` (after the netlink header).
const MSG_FAMILY: usize = 0;
const MSG_STATE: usize = 1;
const MSG_SPORT: usize = 4;
const MSG_DPORT: usize = 6;
const MSG_SRC: usize = 8;
const MSG_DST: usize = 24;
const MSG_UID: usize = 64;
const MSG_INODE: usize = 68;
const MSG_MIN_LEN: usize = 72;

/// One socket of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    /// `TCP_*` state (1 established, 10 listen).
    pub state: u8,
    /// Local address and port (IPv4-mapped IPv6 addresses are given as IPv4).
    pub local: SocketAddr,
    /// Remote address and port (unspecified for a listener).
    pub peer: SocketAddr,
    /// Owner's uid.
    pub uid: u32,
    /// Socket inode (the `socket:[inode]` link in `/proc/<pid>/fd`); 0 for sockets no process
    /// holds any more.
    pub inode: u64,
}

/// The `inet_diag_req_v2` dump request for the TCP sockets of `family` in the `states` bit set.
fn request(family: u8, states: u32) -> Vec<u8> {
    let mut req = Vec::with_capacity(NLMSG_HDRLEN + 56);
    req.extend_from_slice(&((NLMSG_HDRLEN + 56) as u32).to_ne_bytes()); // nlmsg_len
    req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes()); // nlmsg_type
    req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes()); // nlmsg_flags
    req.extend_from_slice(&1u32.to_ne_bytes()); // nlmsg_seq
    req.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
    req.extend_from_slice(&[family, IPPROTO_TCP, 0, 0]); // family, protocol, ext, pad
    req.extend_from_slice(&states.to_ne_bytes()); // idiag_states
    req.extend_from_slice(&[0u8; 48]); // inet_diag_sockid: everything zero
    req
}

/// What one received datagram said.
#[derive(Debug, PartialEq, Eq)]
enum Batch {
    /// More messages follow.
    More,
    /// `NLMSG_DONE` seen.
    Done,
}

/// An address of `inet_diag_sockid` (network byte order; IPv4 in the first four bytes).
fn address(family: u8, raw: &[u8], port: u16) -> SocketAddr {
    let ip = if i32::from(family) == nix::libc::AF_INET {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&raw[..16]);
        let v6 = Ipv6Addr::from(octets);
        v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
    };
    SocketAddr::new(ip, port)
}

/// Parses one `inet_diag_msg`.
fn parse_socket(body: &[u8]) -> TcpSocket {
    let u32_at = |i: usize| u32::from_ne_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
    let port_at = |i: usize| u16::from_be_bytes([body[i], body[i + 1]]);
    let family = body[MSG_FAMILY];
    TcpSocket {
        state: body[MSG_STATE],
        local: address(family, &body[MSG_SRC..MSG_DST], port_at(MSG_SPORT)),
        peer: address(family, &body[MSG_DST..MSG_DST + 16], port_at(MSG_DPORT)),
        uid: u32_at(MSG_UID),
        inode: u64::from(u32_at(MSG_INODE)),
    }
}

/// Hands every socket of one datagram of dump answers to `found`.
fn parse_batch(buf: &[u8], found: &mut dyn FnMut(TcpSocket)) -> io::Result<Batch> {
    let mut at = 0;
    while at + NLMSG_HDRLEN <= buf.len() {
        let len = u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
        let kind = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "truncated sock_diag message",
            ));
        }
        let body = &buf[at + NLMSG_HDRLEN..at + len];
        match kind {
            NLMSG_DONE => return Ok(Batch::Done),
            NLMSG_ERROR => {
                let errno = body
                    .get(..4)
                    .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                return Err(io::Error::from_raw_os_error(-errno));
            }
            SOCK_DIAG_BY_FAMILY if body.len() >= MSG_MIN_LEN => found(parse_socket(body)),
            _ => {}
        }
        // NLMSG_ALIGN: messages start on 4-byte boundaries.
        at += (len + 3) & !3;
    }
    Ok(Batch::More)
}

/// Dumps the IPv4 and IPv6 TCP sockets in the `states` bit set, handing each to `found`.
fn dump(states: u32, found: &mut dyn FnMut(TcpSocket)) -> io::Result<()> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )?;
    let kernel = NetlinkAddr::new(0, 0);
    let mut buf = vec![0u8; 32 * 1024];
    for family in [nix::libc::AF_INET as u8, nix::libc::AF_INET6 as u8] {
        sendto(
            fd.as_raw_fd(),
            &request(family, states),
            &kernel,
            MsgFlags::empty(),
        )?;
        loop {
            let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty())?;
            if n == 0 || parse_batch(&buf[..n], found)? == Batch::Done {
                break;
            }
        }
    }
    Ok(())
}

/// Inodes of the IPv4 and IPv6 TCP sockets listening on `port`.
pub fn listening_inodes(port: u16) -> io::Result<HashSet<u64>> {
    let mut inodes = HashSet::new();
    dump(1 << TCP_LISTEN, &mut |s| {
        if s.local.port() == port && s.inode != 0 {
            inodes.insert(s.inode);
        }
    })?;
    Ok(inodes)
}

/// The established TCP connections with `port` at either end: the accepted side (local port
/// `port`) and, for clients in this network namespace, their side (peer port `port`).
pub fn established(port: u16) -> io::Result<Vec<TcpSocket>> {
    let mut found = Vec::new();
    dump(1 << TCP_ESTABLISHED, &mut |s| {
        if s.local.port() == port || s.peer.port() == port {
            found.push(s);
        }
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One `inet_diag_msg` answer: an IPv4 socket `src:sport` → `dst:dport` with `inode`.
    fn answer(
        state: u32,
        src: [u8; 4],
        sport: u16,
        dst: [u8; 4],
        dport: u16,
        inode: u32,
    ) -> Vec<u8> {
        let mut body = vec![0u8; MSG_MIN_LEN];
        body[MSG_FAMILY] = nix::libc::AF_INET as u8;
        body[MSG_STATE] = state as u8;
        body[MSG_SPORT..MSG_SPORT + 2].copy_from_slice(&sport.to_be_bytes());
        body[MSG_DPORT..MSG_DPORT + 2].copy_from_slice(&dport.to_be_bytes());
        body[MSG_SRC..MSG_SRC + 4].copy_from_slice(&src);
        body[MSG_DST..MSG_DST + 4].copy_from_slice(&dst);
        body[MSG_UID..MSG_UID + 4].copy_from_slice(&1000u32.to_ne_bytes());
        body[MSG_INODE..MSG_INODE + 4].copy_from_slice(&inode.to_ne_bytes());
        header(SOCK_DIAG_BY_FAMILY, body)
    }

    fn listener(port: u16, inode: u32) -> Vec<u8> {
        answer(TCP_LISTEN, [127, 0, 0, 1], port, [0; 4], 0, inode)
    }

    fn header(kind: u16, body: Vec<u8>) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&body);
        m
    }

    fn collect(buf: &[u8]) -> (io::Result<Batch>, Vec<TcpSocket>) {
        let mut found = Vec::new();
        let batch = parse_batch(buf, &mut |s| found.push(s));
        (batch, found)
    }

    #[test]
    fn every_answer_of_a_batch_is_parsed_and_done_ends_the_dump() {
        let mut buf = listener(18789, 111);
        buf.extend(listener(8080, 222));
        buf.extend(answer(
            TCP_ESTABLISHED,
            [127, 0, 0, 1],
            18789,
            [10, 0, 0, 7],
            54321,
            333,
        ));
        let (batch, found) = collect(&buf);
        assert_eq!(batch.unwrap(), Batch::More);
        assert_eq!(
            found.iter().map(|s| s.inode).collect::<Vec<_>>(),
            [111, 222, 333]
        );
        let conn = found[2];
        assert_eq!(conn.state, TCP_ESTABLISHED as u8);
        assert_eq!(conn.local, "127.0.0.1:18789".parse().unwrap());
        assert_eq!(conn.peer, "10.0.0.7:54321".parse().unwrap());
        assert_eq!(conn.uid, 1000);
        let done = header(NLMSG_DONE, vec![0; 4]);
        assert_eq!(collect(&done).0.unwrap(), Batch::Done);
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_read_as_ipv4() {
        let mut raw = [0u8; 16];
        raw[10] = 0xff;
        raw[11] = 0xff;
        raw[12..].copy_from_slice(&[127, 0, 0, 1]);
        let family = nix::libc::AF_INET6 as u8;
        assert_eq!(
            address(family, &raw, 80),
            "127.0.0.1:80".parse::<SocketAddr>().unwrap()
        );
        raw[10] = 0;
        raw[11] = 0;
        raw[15] = 1;
        raw[12] = 0;
        assert_eq!(
            address(family, &raw, 80).ip(),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
    }

    #[test]
    fn a_kernel_error_answer_is_an_error() {
        let err = header(NLMSG_ERROR, (-13i32).to_ne_bytes().to_vec());
        let e = collect(&err).0.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(13));
        let truncated = &listener(1, 1)[..20];
        assert!(collect(truncated).0.is_err());
    }

    #[test]
    fn a_real_listener_is_found_with_the_inode_proc_net_tcp_shows() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        let found = listening_inodes(port).unwrap();
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let expected = crate::gateway::port_owner::listening_inodes(&table, port);
        assert_eq!(found, expected);
        assert_eq!(found.len(), 1);
        // An IPv6 listener on another port is found in the second dump.
        if let Ok(v6) = std::net::TcpListener::bind("[::1]:0") {
            let p6 = v6.local_addr().unwrap().port();
            assert_eq!(listening_inodes(p6).unwrap().len(), 1);
        }
        // A connected (not listening) socket on the port is not reported twice.
        let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _accepted = v4.accept().unwrap();
        assert_eq!(listening_inodes(port).unwrap(), found);
        drop(v4);
        assert!(listening_inodes(port).unwrap().is_empty());
    }

    #[test]
    fn a_real_connection_is_found_from_both_ends() {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        assert!(established(port).unwrap().is_empty());
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_accepted, peer) = server.accept().unwrap();
        let found = established(port).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        let accepted = found.iter().find(|s| s.local.port() == port).unwrap();
        assert_eq!(accepted.peer, peer);
        let outgoing = found.iter().find(|s| s.peer.port() == port).unwrap();
        assert_eq!(outgoing.local, client.local_addr().unwrap());
        assert!(found.iter().all(|s| s.inode != 0 && s.state == 1));
        drop(client);
    }
}
