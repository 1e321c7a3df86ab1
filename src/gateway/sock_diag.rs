//! Listening TCP sockets from the kernel's `NETLINK_SOCK_DIAG` interface (what `ss -ltn` uses).
//!
//! `/proc/net/tcp` lists every TCP socket of the network namespace, so reading it costs time in
//! proportion to all connections on the host (≈10 ms per 2,000 sockets; a gateway holding
//! 10,000 clients makes every `gateway status` slow). A sock_diag dump restricted to the LISTEN
//! state walks only the kernel's listening hash. Linux only; callers fall back to `/proc/net/tcp`
//! when this fails.

use std::collections::HashSet;
use std::io;
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
const TCP_LISTEN: u32 = 10;
const IPPROTO_TCP: u8 = 6;
/// Offsets in `struct inet_diag_msg` (after the netlink header).
const MSG_SPORT: usize = 4;
const MSG_INODE: usize = 68;
const MSG_MIN_LEN: usize = 72;

/// The `inet_diag_req_v2` dump request for listening TCP sockets of `family`.
fn request(family: u8) -> Vec<u8> {
    let mut req = Vec::with_capacity(NLMSG_HDRLEN + 56);
    req.extend_from_slice(&((NLMSG_HDRLEN + 56) as u32).to_ne_bytes()); // nlmsg_len
    req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes()); // nlmsg_type
    req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes()); // nlmsg_flags
    req.extend_from_slice(&1u32.to_ne_bytes()); // nlmsg_seq
    req.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
    req.extend_from_slice(&[family, IPPROTO_TCP, 0, 0]); // family, protocol, ext, pad
    req.extend_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes()); // idiag_states
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

/// Adds the inodes of the sockets on `port` in one datagram of dump answers to `inodes`.
fn parse_batch(buf: &[u8], port: u16, inodes: &mut HashSet<u64>) -> io::Result<Batch> {
    let mut at = 0;
    while at + NLMSG_HDRLEN <= buf.len() {
        let u32_at = |i: usize| u32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        let len = u32_at(at) as usize;
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
            SOCK_DIAG_BY_FAMILY if body.len() >= MSG_MIN_LEN => {
                let sport = u16::from_be_bytes([body[MSG_SPORT], body[MSG_SPORT + 1]]);
                let inode = u32::from_ne_bytes([
                    body[MSG_INODE],
                    body[MSG_INODE + 1],
                    body[MSG_INODE + 2],
                    body[MSG_INODE + 3],
                ]);
                if sport == port && inode != 0 {
                    inodes.insert(u64::from(inode));
                }
            }
            _ => {}
        }
        // NLMSG_ALIGN: messages start on 4-byte boundaries.
        at += (len + 3) & !3;
    }
    Ok(Batch::More)
}

/// Inodes of the IPv4 and IPv6 TCP sockets listening on `port`.
pub fn listening_inodes(port: u16) -> io::Result<HashSet<u64>> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )?;
    let kernel = NetlinkAddr::new(0, 0);
    let mut inodes = HashSet::new();
    let mut buf = vec![0u8; 32 * 1024];
    for family in [nix::libc::AF_INET as u8, nix::libc::AF_INET6 as u8] {
        sendto(fd.as_raw_fd(), &request(family), &kernel, MsgFlags::empty())?;
        loop {
            let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty())?;
            if n == 0 || parse_batch(&buf[..n], port, &mut inodes)? == Batch::Done {
                break;
            }
        }
    }
    Ok(inodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One `inet_diag_msg` answer for a socket on `port` with `inode`.
    fn answer(port: u16, inode: u32) -> Vec<u8> {
        let mut body = vec![0u8; MSG_MIN_LEN];
        body[0] = 2;
        body[1] = TCP_LISTEN as u8;
        body[MSG_SPORT..MSG_SPORT + 2].copy_from_slice(&port.to_be_bytes());
        body[MSG_INODE..MSG_INODE + 4].copy_from_slice(&inode.to_ne_bytes());
        header(SOCK_DIAG_BY_FAMILY, body)
    }

    fn header(kind: u16, body: Vec<u8>) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn answers_for_other_ports_are_ignored_and_done_ends_the_dump() {
        let mut buf = answer(18789, 111);
        buf.extend(answer(8080, 222));
        buf.extend(answer(18789, 333));
        let mut inodes = HashSet::new();
        assert_eq!(parse_batch(&buf, 18789, &mut inodes).unwrap(), Batch::More);
        assert_eq!(inodes, HashSet::from([111, 333]));
        let done = header(NLMSG_DONE, vec![0; 4]);
        assert_eq!(parse_batch(&done, 18789, &mut inodes).unwrap(), Batch::Done);
    }

    #[test]
    fn a_kernel_error_answer_is_an_error() {
        let err = header(NLMSG_ERROR, (-13i32).to_ne_bytes().to_vec());
        let e = parse_batch(&err, 1, &mut HashSet::new()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(13));
        let truncated = &answer(1, 1)[..20];
        assert!(parse_batch(truncated, 1, &mut HashSet::new()).is_err());
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
}
