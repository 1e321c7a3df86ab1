//! Who listens on a TCP port, and taking the port over (`gateway run --force`).
//!
//! Linux: listening sockets from sock_diag netlink (`sock_diag.rs`), else `/proc/net/tcp` and
//! `/proc/net/tcp6` (state `0A`), matched to processes through the `socket:[inode]` links in
//! `/proc/<pid>/fd`. Elsewhere: `lsof`. When
//! neither works the caller gets a clear error at once rather than a guess. Also the established
//! client connections to a port (`gateway status --deep`), with the client process when local.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A process listening on the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortListener {
    /// Process id.
    pub pid: u32,
    /// Short command name (`comm`).
    pub command: String,
    /// Full command line, when readable.
    pub command_line: Option<String>,
}

impl std::fmt::Display for PortListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} ({})",
            self.pid,
            self.command_line.as_deref().unwrap_or(&self.command)
        )
    }
}

/// Why listeners could not be found or stopped.
#[derive(Debug, thiserror::Error)]
pub enum PortOwnerError {
    /// Neither `/proc` nor `lsof` is usable here.
    #[error(
        "cannot find the process listening on port {port}: /proc/net/tcp is not readable and lsof is not available ({detail})"
    )]
    NoScanner {
        /// The port.
        port: u16,
        /// What failed.
        detail: String,
    },
    /// A listener exists but its process is not visible to this user.
    #[error(
        "port {port} is held by a process this user cannot see (another user or container); stop it as its owner"
    )]
    Invisible {
        /// The port.
        port: u16,
    },
    /// Signalling failed.
    #[error("cannot stop {listener}: {source}; stop it yourself (e.g. `kill {pid}` as its owner)", pid = listener.pid)]
    Signal {
        /// The process.
        listener: PortListener,
        /// The error.
        source: nix::Error,
    },
    /// The process did not let go of the port in time.
    #[error("port {port} is still busy {secs}s after SIGTERM to {who}; it did not exit (try `kill -9 <pid>`)", secs = waited.as_secs())]
    StillBusy {
        /// The port.
        port: u16,
        /// Who was signalled.
        who: String,
        /// How long we waited.
        waited: Duration,
    },
}

/// Inodes of sockets listening on `port` in a `/proc/net/tcp`-format table.
pub fn listening_inodes(table: &str, port: u16) -> HashSet<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?;
            let local_port = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            (*state == "0A" && local_port == port)
                .then(|| inode.parse().ok())
                .flatten()
        })
        .filter(|inode| *inode != 0)
        .collect()
}

fn read_trimmed(path: &Path) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Inodes of the sockets listening on `port`: sock_diag (cost independent of the number of
/// connections on the host), else `/proc/net/tcp{,6}`; `None` when neither is readable.
fn listening_socket_inodes(port: u16) -> Option<HashSet<u64>> {
    #[cfg(target_os = "linux")]
    if let Ok(inodes) = super::sock_diag::listening_inodes(port) {
        return Some(inodes);
    }
    let mut inodes = HashSet::new();
    let mut readable = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = fs::read_to_string(table) {
            readable = true;
            inodes.extend(listening_inodes(&text, port));
        }
    }
    readable.then_some(inodes)
}

/// The processes holding any of `inodes` (from the `socket:[inode]` links in `/proc/<pid>/fd`),
/// each with the inodes it holds, in `/proc` order. One socket can be held by several processes
/// (a service manager and the service it passed the socket to). Processes this user cannot
/// inspect are missing.
pub fn socket_holders(inodes: &HashSet<u64>) -> io::Result<Vec<(PortListener, HashSet<u64>)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let held: HashSet<u64> = fds
            .flatten()
            .filter_map(|fd| {
                let target = fs::read_link(fd.path()).ok()?;
                let t = target.to_string_lossy().into_owned();
                t.strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse::<u64>()
                    .ok()
            })
            .filter(|inode| inodes.contains(inode))
            .collect();
        if !held.is_empty() {
            let command = read_trimmed(&entry.path().join("comm")).unwrap_or_else(|| "?".into());
            let command_line = fs::read(entry.path().join("cmdline"))
                .ok()
                .map(|raw| one_line(&String::from_utf8_lossy(&raw).replace('\0', " ")))
                .filter(|s| !s.is_empty());
            found.push((
                PortListener {
                    pid,
                    command,
                    command_line,
                },
                held,
            ));
        }
    }
    Ok(found)
}

fn proc_listeners(port: u16) -> io::Result<Option<Vec<PortListener>>> {
    let Some(inodes) = listening_socket_inodes(port) else {
        return Ok(None);
    };
    if inodes.is_empty() {
        return Ok(Some(vec![]));
    }
    let found: Vec<PortListener> = socket_holders(&inodes)?
        .into_iter()
        .map(|(process, _)| process)
        .collect();
    if found.is_empty() {
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, "invisible"));
    }
    Ok(Some(found))
}

/// A command line on one short line: whitespace runs folded, at most 160 characters.
fn one_line(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

/// One established connection to a local port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConnection {
    /// Our side: the accepted socket's address.
    pub local: SocketAddr,
    /// The client's address.
    pub peer: SocketAddr,
    /// The client process, for a client in this network namespace whose `/proc` entry this
    /// user can read.
    pub client: Option<PortListener>,
}

/// The established connections to `port` (its accepted sockets, like `ss -tn state established
/// sport = :<port>`), ordered by client address, each with the client process when the client
/// runs on this host: its end of the connection is the socket whose addresses are the accepted
/// one's swapped. Linux only (sock_diag).
pub fn established_clients(port: u16) -> io::Result<Vec<ClientConnection>> {
    #[cfg(target_os = "linux")]
    {
        let sockets = super::sock_diag::established(port)?;
        let (accepted, outgoing): (Vec<_>, Vec<_>) =
            sockets.into_iter().partition(|s| s.local.port() == port);
        let client_inode = |a: &super::sock_diag::TcpSocket| {
            outgoing
                .iter()
                .find(|o| o.local == a.peer && o.peer == a.local && o.inode != 0)
                .map(|o| o.inode)
        };
        let wanted: HashSet<u64> = accepted.iter().filter_map(client_inode).collect();
        let holders = if wanted.is_empty() {
            Vec::new()
        } else {
            socket_holders(&wanted)?
        };
        let mut connections: Vec<ClientConnection> = accepted
            .iter()
            .map(|a| ClientConnection {
                local: a.local,
                peer: a.peer,
                client: client_inode(a).and_then(|inode| {
                    holders
                        .iter()
                        .find(|(_, held)| held.contains(&inode))
                        .map(|(process, _)| process.clone())
                }),
            })
            .collect();
        connections.sort_by_key(|c| c.peer);
        Ok(connections)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "listing connections needs Linux (sock_diag)",
        ))
    }
}

/// Parses `lsof -Fpc` output.
pub fn parse_lsof(output: &str) -> Vec<PortListener> {
    let mut out: Vec<PortListener> = Vec::new();
    for line in output.lines() {
        if let Some(pid) = line.strip_prefix('p').and_then(|p| p.parse().ok()) {
            if !out.iter().any(|l| l.pid == pid) {
                out.push(PortListener {
                    pid,
                    command: "?".into(),
                    command_line: None,
                });
            }
        } else if let (Some(cmd), Some(last)) = (line.strip_prefix('c'), out.last_mut()) {
            last.command = cmd.to_owned();
        }
    }
    out
}

/// The processes listening on `port`.
pub fn find_listeners(port: u16) -> Result<Vec<PortListener>, PortOwnerError> {
    match proc_listeners(port) {
        Ok(Some(found)) => return Ok(found),
        Err(_) => return Err(PortOwnerError::Invisible { port }),
        Ok(None) => {}
    }
    let output = Command::new("lsof")
        .args(["-nP", &format!("-iTCP:{port}"), "-sTCP:LISTEN", "-Fpc"])
        .output()
        .map_err(|e| PortOwnerError::NoScanner {
            port,
            detail: e.to_string(),
        })?;
    Ok(parse_lsof(&String::from_utf8_lossy(&output.stdout)))
}

/// Sends SIGTERM to every other process listening on `port` and waits until the port is free.
/// Returns who was stopped.
pub fn take_over(port: u16, wait: Duration) -> Result<Vec<PortListener>, PortOwnerError> {
    let me = std::process::id();
    let listeners: Vec<PortListener> = find_listeners(port)?
        .into_iter()
        .filter(|l| l.pid != me)
        .collect();
    for listener in &listeners {
        let pid = nix::unistd::Pid::from_raw(listener.pid as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).map_err(|source| {
            PortOwnerError::Signal {
                listener: listener.clone(),
                source,
            }
        })?;
        tracing::warn!("--force: sent SIGTERM to {listener}, which was listening on port {port}");
    }
    let started = Instant::now();
    while started.elapsed() < wait {
        match find_listeners(port) {
            Ok(now) if now.iter().all(|l| l.pid == me) => return Ok(listeners),
            // A socket whose process is exiting is listed without an owner for a moment.
            Ok(_) | Err(PortOwnerError::Invisible { .. }) => {}
            Err(e) => return Err(e),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let who = listeners
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(PortOwnerError::StillBusy {
        port,
        who,
        waited: wait,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4965 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:4965 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0";

    #[test]
    fn only_listening_sockets_on_the_port_are_found() {
        assert_eq!(listening_inodes(TABLE, 0x4965), HashSet::from([123456]));
        assert_eq!(listening_inodes(TABLE, 8080), HashSet::from([999]));
        assert!(listening_inodes(TABLE, 1).is_empty());
    }

    #[test]
    fn lsof_field_output_is_parsed() {
        let l = parse_lsof("p123\ncnode\nf21\np456\ncopenclaw-gatewa\n");
        assert_eq!(
            l.iter()
                .map(|x| (x.pid, x.command.as_str()))
                .collect::<Vec<_>>(),
            [(123, "node"), (456, "openclaw-gatewa")]
        );
    }

    #[test]
    fn a_real_listener_of_this_process_is_found() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = find_listeners(port).unwrap();
        assert_eq!(
            found.iter().map(|l| l.pid).collect::<Vec<_>>(),
            [std::process::id()]
        );
        drop(listener);
        assert!(find_listeners(port).unwrap().is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_established_local_client_is_listed_with_its_process() {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        assert!(established_clients(port).unwrap().is_empty());
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_accepted, _) = server.accept().unwrap();
        let found = established_clients(port).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].peer, client.local_addr().unwrap());
        assert_eq!(found[0].local, server.local_addr().unwrap());
        assert_eq!(
            found[0].client.as_ref().map(|c| c.pid),
            Some(std::process::id())
        );
    }
}
