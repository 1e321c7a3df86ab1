//! The gateway under a supervisor: sd_notify readiness and watchdog, socket activation, in-process
//! restart on SIGUSR1, and config hot reload.

mod support;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

/// A datagram socket standing in for systemd's NOTIFY_SOCKET.
struct NotifySocket {
    socket: UnixDatagram,
    path: std::path::PathBuf,
}

impl NotifySocket {
    fn new(dir: &Path) -> Self {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        Self { socket, path }
    }

    /// The next datagram, or None after `within`.
    fn recv(&self, within: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(within)).unwrap();
        let mut buf = vec![0u8; 4096];
        match self.socket.recv(&mut buf) {
            Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => None,
        }
    }

    /// Datagrams received within `window`.
    fn collect(&self, window: Duration) -> Vec<(Duration, String)> {
        let started = Instant::now();
        let mut got = vec![];
        while started.elapsed() < window {
            if let Some(msg) = self.recv(
                window
                    .saturating_sub(started.elapsed())
                    .max(Duration::from_millis(1)),
            ) {
                got.push((started.elapsed(), msg));
            }
        }
        got
    }
}

struct Spawned {
    child: Child,
    port: u16,
    _home: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_gateway(home: tempfile::TempDir, envs: &[(&str, String)]) -> Spawned {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
    cmd.args([
        "gateway",
        "run",
        "--allow-unconfigured",
        "--port",
        &port.to_string(),
    ])
    .env_clear()
    .env("HOME", home.path())
    .env("OPENCLAW_GATEWAY_TOKEN", TOKEN)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    Spawned {
        child: cmd.spawn().unwrap(),
        port,
        _home: home,
    }
}

#[test]
fn ready_and_status_are_sent_only_once_the_port_accepts_connections() {
    let home = tempfile::tempdir().unwrap();
    let notify = NotifySocket::new(home.path());
    let gw = spawn_gateway(
        home,
        &[("NOTIFY_SOCKET", notify.path.display().to_string())],
    );
    let first = notify
        .recv(Duration::from_secs(10))
        .expect("a notification");
    assert!(first.lines().any(|l| l == "READY=1"), "{first}");
    let status = first
        .lines()
        .find_map(|l| l.strip_prefix("STATUS="))
        .expect("STATUS= with READY=1");
    assert!(
        status.contains(&format!("ws://127.0.0.1:{}", gw.port)),
        "{status}"
    );
    // At the moment READY=1 arrived, the port already accepted connections.
    assert!(std::net::TcpStream::connect(("127.0.0.1", gw.port)).is_ok());
    assert_eq!(http_get(gw.port, "/readyz").unwrap().0, 200);
}

#[test]
fn stopping_is_announced_on_sigterm() {
    let home = tempfile::tempdir().unwrap();
    let notify = NotifySocket::new(home.path());
    let mut gw = spawn_gateway(
        home,
        &[("NOTIFY_SOCKET", notify.path.display().to_string())],
    );
    notify.recv(Duration::from_secs(10)).expect("READY");
    Command::new("kill")
        .args(["-TERM", &gw.child.id().to_string()])
        .status()
        .unwrap();
    let msgs = notify.collect(Duration::from_secs(2));
    assert!(
        msgs.iter()
            .any(|(_, m)| m.lines().any(|l| l == "STOPPING=1")),
        "{msgs:?}"
    );
    assert_eq!(gw.child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_connection_accepted_before_sigterm_still_gets_its_answer() {
    use std::io::{Read, Write};
    let home = tempfile::tempdir().unwrap();
    let notify = NotifySocket::new(home.path());
    let mut gw = spawn_gateway(
        home,
        &[("NOTIFY_SOCKET", notify.path.display().to_string())],
    );
    notify.recv(Duration::from_secs(10)).expect("READY");
    // Connected, accepted by the gateway, request not sent yet; a second one never sends.
    let mut early = std::net::TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    let _silent = std::net::TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let stopped_at = Instant::now();
    Command::new("kill")
        .args(["-TERM", &gw.child.id().to_string()])
        .status()
        .unwrap();
    let stopping = notify.recv(Duration::from_secs(5)).expect("STOPPING");
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping}");
    // Shutdown is under way (hyper's graceful shutdown alone would have closed `early` now).
    std::thread::sleep(Duration::from_millis(150));
    early
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    early
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reply = String::new();
    let _ = early.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "reply: {reply:?}");
    assert!(reply.contains(r#""status":"live""#), "reply: {reply:?}");
    // The silent connection holds the exit back by its grace only.
    assert_eq!(gw.child.wait().unwrap().code(), Some(0));
    assert!(
        stopped_at.elapsed() < Duration::from_secs(5),
        "exit took {:?}",
        stopped_at.elapsed()
    );
}

fn watchdog_pings(msgs: &[(Duration, String)]) -> Vec<Duration> {
    msgs.iter()
        .filter(|(_, m)| m.lines().any(|l| l == "WATCHDOG=1"))
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn watchdog_pings_arrive_at_half_the_requested_interval() {
    let home = tempfile::tempdir().unwrap();
    let notify = NotifySocket::new(home.path());
    let _gw = spawn_gateway(
        home,
        &[
            ("NOTIFY_SOCKET", notify.path.display().to_string()),
            ("WATCHDOG_USEC", "400000".into()),
        ],
    );
    let pings = watchdog_pings(&notify.collect(Duration::from_millis(2100)));
    // One every 200 ms: about 10 in 2.1 s (the first right at start).
    assert!(
        (8..=13).contains(&pings.len()),
        "{} pings: {pings:?}",
        pings.len()
    );
    for pair in pings.windows(2).skip(1) {
        let gap = pair[1] - pair[0];
        assert!(
            gap > Duration::from_millis(120) && gap < Duration::from_millis(350),
            "{gap:?}"
        );
    }
}

#[test]
fn a_stalled_runtime_stops_the_watchdog_pings() {
    let home = tempfile::tempdir().unwrap();
    let notify = NotifySocket::new(home.path());
    let _gw = spawn_gateway(
        home,
        &[
            ("NOTIFY_SOCKET", notify.path.display().to_string()),
            ("WATCHDOG_USEC", "200000".into()),
            ("OPENCLAW_DEBUG_STALL_RUNTIME_AFTER_MS", "600".into()),
        ],
    );
    let msgs = notify.collect(Duration::from_millis(2500));
    let pings = watchdog_pings(&msgs);
    assert!(pings.len() >= 3, "pings before the stall: {pings:?}");
    let last = *pings.last().unwrap();
    assert!(
        last < Duration::from_millis(1200),
        "pings kept coming after the stall: {pings:?}"
    );
}

#[test]
fn socket_activation_serves_on_the_passed_socket_without_binding() {
    let home = tempfile::tempdir().unwrap();
    let activated = free_port();
    let unused = free_port();
    let mut child = Command::new("systemd-socket-activate")
        .args([
            "-l",
            &format!("127.0.0.1:{activated}"),
            "--fdname=gateway",
            "-E",
            "HOME",
            "-E",
            "OPENCLAW_GATEWAY_TOKEN",
        ])
        .arg(env!("CARGO_BIN_EXE_openclaw"))
        .args([
            "gateway",
            "run",
            "--allow-unconfigured",
            "--port",
            &unused.to_string(),
        ])
        .env("HOME", home.path())
        .env("OPENCLAW_GATEWAY_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The first connection starts the gateway; it waits in the backlog meanwhile.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut answered = None;
    while Instant::now() < deadline && answered.is_none() {
        answered = http_get(activated, "/readyz").filter(|(code, _)| *code == 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        answered.is_some(),
        "the gateway answers on the activated socket"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", unused)).is_err(),
        "--port was not bound"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn socket_activation_without_a_gateway_named_socket_is_a_config_error() {
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new("systemd-socket-activate")
        .args([
            "-l",
            &format!("127.0.0.1:{port}"),
            "--fdname=http",
            "-E",
            "HOME",
        ])
        .arg(env!("CARGO_BIN_EXE_openclaw"))
        .args(["gateway", "run", "--allow-unconfigured"])
        .env("HOME", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let _ = std::net::TcpStream::connect(("127.0.0.1", port));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "gateway should refuse to start");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(78));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("FileDescriptorName=gateway"), "{stderr}");
}

#[tokio::test]
async fn sigusr1_restarts_in_process_keeping_the_listener_when_authorised() {
    let gw = TestGateway::start_with(
        GatewayOptions::default()
            .config("{ gateway: { mode: 'local' }, commands: { restart: true } }"),
    );
    let (mut ws, hello) = connected_cli(gw.port).await;
    let boot_before = hello["server"]["bootId"].clone();
    // A client connecting in a loop during the restart must never be refused.
    let port = gw.port;
    let prober = std::thread::spawn(move || {
        let started = Instant::now();
        let mut refused = 0;
        let mut attempts = 0;
        while started.elapsed() < Duration::from_secs(3) {
            attempts += 1;
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                refused += 1;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        (attempts, refused)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    Command::new("kill")
        .args(["-USR1", &gw.child.id().to_string()])
        .status()
        .unwrap();
    let shutdown = next_event(&mut ws, "shutdown", Duration::from_secs(5)).await;
    assert_eq!(
        shutdown["payload"],
        json!({"reason": "gateway restarting", "restartExpectedMs": 1500})
    );
    assert_eq!(
        recv_close(&mut ws).await,
        (1012, "service restart".to_owned())
    );
    let (attempts, refused) = prober.join().unwrap();
    assert!(attempts > 100);
    assert_eq!(
        refused, 0,
        "{refused} of {attempts} connections refused during the restart"
    );
    let (_ws, hello) = connected_cli(gw.port).await;
    assert_ne!(
        hello["server"]["bootId"], boot_before,
        "a fresh gateway state answers"
    );
}

#[tokio::test]
async fn sigusr1_without_commands_restart_is_ignored_and_logged() {
    let gw = TestGateway::start();
    let (mut ws, _) = connected_cli(gw.port).await;
    Command::new("kill")
        .args(["-USR1", &gw.child.id().to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        call(&mut ws, "1", "health", json!({})).await["ok"],
        true,
        "still connected"
    );
    assert!(
        gw.stderr().contains(
            "SIGUSR1 restart ignored (not authorized; enable commands.restart or use gateway tool)."
        ),
        "{}",
        gw.stderr()
    );
}

fn write_config(gw: &TestGateway, text: &str) {
    let path = gw.state_dir().join("openclaw.json");
    let tmp = gw.state_dir().join(".openclaw.json.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

#[tokio::test]
async fn a_hot_key_is_applied_without_a_restart() {
    let gw =
        TestGateway::start_with(GatewayOptions::default().config("{ gateway: { mode: 'local' } }"));
    let (mut ws, _) = connected_cli(gw.port).await;
    write_config(
        &gw,
        "{ gateway: { mode: 'local', auth: { rateLimit: { maxAttempts: 2, exemptLoopback: false } } } }",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gw
        .stderr()
        .contains("config hot-applied: gateway.auth.rateLimit")
    {
        assert!(Instant::now() < deadline, "{}", gw.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The new limit is in force: loopback is no longer exempt, 2 failures lock out.
    for _ in 0..2 {
        let (mut bad, _) = open(gw.port).await;
        assert_eq!(
            send_connect(&mut bad, cli_params(Some("wrong"))).await["error"]["details"]["code"],
            "AUTH_TOKEN_MISMATCH"
        );
    }
    let (mut locked, _) = open(gw.port).await;
    assert_eq!(
        send_connect(&mut locked, cli_params(Some(TOKEN))).await["error"]["details"]["code"],
        "AUTH_RATE_LIMITED"
    );
    // No restart happened: the first client is still connected.
    assert_eq!(call(&mut ws, "1", "health", json!({})).await["ok"], true);
}

#[tokio::test]
async fn a_restart_key_restarts_in_process_and_an_invalid_edit_is_ignored() {
    let gw =
        TestGateway::start_with(GatewayOptions::default().config("{ gateway: { mode: 'local' } }"));
    let (mut ws, _) = connected_cli(gw.port).await;
    write_config(
        &gw,
        "{ gateway: { mode: 'local', controlUi: { enabled: false } } }",
    );
    let shutdown = next_event(&mut ws, "shutdown", Duration::from_secs(10)).await;
    assert_eq!(shutdown["payload"]["reason"], "gateway restarting");
    assert_eq!(recv_close(&mut ws).await.0, 1012);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut ws, _) = loop {
        if let Some((code, _)) = http_get(gw.port, "/readyz") {
            if code == 200 {
                break connected_cli(gw.port).await;
            }
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    write_config(
        &gw,
        "{ gateway: { mode: 'local', controlUi: { enabled: true } ",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gw
        .stderr()
        .contains("config reload skipped (invalid config)")
    {
        assert!(Instant::now() < deadline, "{}", gw.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        call(&mut ws, "1", "health", json!({})).await["ok"],
        true,
        "the old config keeps serving"
    );
}

fn foreign_listener(port: u16) -> Child {
    let script = format!(
        "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('127.0.0.1',{port}))\ns.listen()\nprint('up',flush=True)\ntime.sleep(60)\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "up");
    child
}

#[test]
fn a_busy_port_names_its_owner_and_force_takes_it_over() {
    let port = free_port();
    let mut holder = foreign_listener(port);
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args([
            "gateway",
            "run",
            "--allow-unconfigured",
            "--port",
            &port.to_string(),
        ])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("held by pid {}", holder.id())) && stderr.contains("python3"),
        "{stderr}"
    );

    let gw = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args([
            "gateway",
            "run",
            "--allow-unconfigured",
            "--force",
            "--port",
            &port.to_string(),
        ])
        .env_clear()
        .env("HOME", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while http_get(port, "/readyz").is_none_or(|(code, _)| code != 200) {
        assert!(
            Instant::now() < deadline,
            "gateway did not take the port over"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = holder.wait().unwrap();
    assert!(!status.success(), "the holder was terminated: {status}");
    Command::new("kill")
        .args(["-TERM", &gw.id().to_string()])
        .status()
        .unwrap();
    let out = gw.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("--force: sent SIGTERM to pid {}", holder.id())),
        "{stderr}"
    );
}
