//! Reliability under abuse and failure (issue 8): a flood of bad connections, a failed-auth
//! flood from one address, `kill -9` of `gateway install` after every plan action, and a full
//! or read-only state directory. Loopback only, bounded in time (explicit deadlines).
//!
//! The other reliability cases live beside the feature they exercise (see `RELIABILITY.md`):
//! slow consumer and SIGTERM under traffic in `gateway_session.rs`, corrupted config in
//! `gateway_http.rs` / `gateway_lifecycle.rs`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use openclaw::gateway::device_identity::DeviceKeypair;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// The latency comparison runs alone: every other test of this file takes this for reading,
/// the flood for writing, so the idle and flood samples see the same background (the other
/// tests running beside it made its 2x bound fail on a loaded 2-core machine).
static LATENCY_QUIET: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

// ---------------------------------------------------------------------------------------------
// 1,000 bad first frames
// ---------------------------------------------------------------------------------------------

/// What a misbehaving client sends first, and how the spec (§3.4) says it is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadClient {
    /// Non-JSON text: silent close 1000.
    GarbageText,
    /// Binary that is not JSON: silent close 1000.
    GarbageBinary,
    /// JSON that is not a frame: 1008 `invalid request frame`.
    NotAFrame,
    /// Over the 64 KiB pre-auth cap: 1009.
    Oversize,
    /// Nothing at all: silent close 1000 after the handshake timeout.
    Silent,
}

impl BadClient {
    const ALL: [Self; 5] = [
        Self::GarbageText,
        Self::GarbageBinary,
        Self::NotAFrame,
        Self::Oversize,
        Self::Silent,
    ];

    fn first_frame(self) -> Option<Message> {
        match self {
            Self::GarbageText => Some(Message::Text("this is not json {".into())),
            Self::GarbageBinary => Some(Message::Binary(vec![0u8, 1, 2].into())),
            Self::NotAFrame => Some(Message::Text(r#"{"hello":"world"}"#.into())),
            Self::Oversize => Some(Message::Text(
                format!(
                    r#"{{"type":"req","id":"1","method":"connect","params":{{"pad":"{}"}}}}"#,
                    "x".repeat(70 * 1024)
                )
                .into(),
            )),
            Self::Silent => None,
        }
    }

    fn expected_close(self) -> (u16, &'static str) {
        match self {
            Self::GarbageText | Self::GarbageBinary | Self::Silent => (1000, ""),
            Self::NotAFrame => (1008, "invalid request frame"),
            Self::Oversize => (1009, "max payload size exceeded"),
        }
    }
}

/// Opens a connection, plays `kind`, and returns the close code and reason the gateway sent.
async fn misbehave(port: u16, kind: BadClient) -> Result<(u16, String), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}"))
        .await
        .map_err(|e| format!("open: {e}"))?;
    if let Some(frame) = kind.first_frame() {
        // The gateway may close while an oversize frame is still being written.
        let _ = ws.send(frame).await;
    }
    read_close(&mut ws, Duration::from_secs(30)).await
}

/// Reads until the close frame (skipping the challenge and any response).
async fn read_close<S>(
    ws: &mut WebSocketStream<S>,
    within: Duration,
) -> Result<(u16, String), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err(format!("no close within {within:?}")),
            Ok(None) => return Err("stream ended without a close frame".into()),
            Ok(Some(Err(e))) => return Err(format!("stream error before close: {e}")),
            Ok(Some(Ok(Message::Close(Some(f))))) => {
                return Ok((u16::from(f.code), f.reason.to_string()));
            }
            Ok(Some(Ok(Message::Close(None)))) => return Ok((1005, String::new())),
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Health round trips of one well-behaved client.
struct HealthSamples {
    /// Before the flood.
    idle_before: Vec<Duration>,
    /// While the flood runs.
    during: Vec<Duration>,
    /// After the flood ended (every bad connection closed).
    idle_after: Vec<Duration>,
}

/// `health` round trips of one well-behaved client on its own thread and runtime (so the
/// flood's client tasks cannot delay it): `idle` samples, then samples until `stop`, then
/// `idle` samples again.
fn health_prober(
    port: u16,
    idle: usize,
    flood_started: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<HealthSamples> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (mut ws, _) = connected_cli(port).await;
            let mut n = 0u64;
            let mut round_trip = async |ws: &mut Ws| {
                n += 1;
                let id = format!("h{n}");
                let started = Instant::now();
                let res = call(ws, &id, "health", json!({})).await;
                assert_eq!(res["ok"], true, "{res}");
                started.elapsed()
            };
            // Warm-up, then the idle baseline.
            for _ in 0..10 {
                round_trip(&mut ws).await;
            }
            let mut idle_before = Vec::new();
            for _ in 0..idle {
                idle_before.push(round_trip(&mut ws).await);
            }
            flood_started.store(true, Ordering::SeqCst);
            let mut during = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                during.push(round_trip(&mut ws).await);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let mut idle_after = Vec::new();
            for _ in 0..idle {
                idle_after.push(round_trip(&mut ws).await);
            }
            HealthSamples {
                idle_before,
                during,
                idle_after,
            }
        })
    })
}

#[test]
fn a_thousand_bad_first_frames_are_each_closed_per_spec_and_health_latency_holds() {
    let _quiet = LATENCY_QUIET.blocking_write();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(bad_first_frames_flood());
}

async fn bad_first_frames_flood() {
    // 250 unauthenticated sockets at once from 127.0.0.1: above the default per-address cap
    // of 32 (tests/security.rs covers the cap), so the cap is raised to see every bad frame.
    let gw = TestGateway::start_with(
        GatewayOptions::default()
            .env("OPENCLAW_HANDSHAKE_TIMEOUT_MS", "2000")
            .env("OPENCLAW_MAX_PREAUTH_CONNECTIONS_PER_IP", "256"),
    );
    let port = gw.port;
    let flood_started = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let prober = health_prober(port, 60, flood_started.clone(), stop.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !flood_started.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "idle health baseline took too long"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // 1,000 connections, at most 250 open at once, the five kinds interleaved, opened at
    // 125 a second: unpaced (≈ 400/s), this test's own clients took the CPU from the gateway
    // and the prober alike on a 2-core machine, and the ratio measured the load generator
    // (2.0–2.3 on a slower machine; 1.6–1.8 at 250/s; 1.4–1.5 at 125/s).
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(250));
    let mut tasks = tokio::task::JoinSet::new();
    let mut pace = tokio::time::interval(Duration::from_millis(8));
    for i in 0..1000 {
        pace.tick().await;
        let kind = BadClient::ALL[i % BadClient::ALL.len()];
        let gate = gate.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            (kind, misbehave(port, kind).await)
        });
    }
    let mut wrong = Vec::new();
    let mut per_kind = std::collections::BTreeMap::new();
    let flood = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(joined) = tasks.join_next().await {
            let (kind, outcome) = joined.unwrap();
            *per_kind.entry(format!("{kind:?}")).or_insert(0) += 1;
            let expected = kind.expected_close();
            match outcome {
                Ok((code, reason)) if (code, reason.as_str()) == expected => {}
                other => wrong.push(format!("{kind:?}: {other:?}, expected {expected:?}")),
            }
        }
    })
    .await;
    let flood_took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let mut samples = prober.join().unwrap();
    assert!(flood.is_ok(), "the flood did not finish within 60 s");
    assert!(
        wrong.is_empty(),
        "{} of 1000 connections were not closed per spec, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    assert_eq!(per_kind.values().sum::<i32>(), 1000, "{per_kind:?}");

    // "Idle" is bracketed: the median before and after the flood, the larger one. On a shared
    // 2-core CI machine the background load drifts during the test; a baseline taken on one
    // side only made the 2x bound flaky (60 round trips of ~0.3 ms each).
    let before = median(&mut samples.idle_before);
    let after = median(&mut samples.idle_after);
    let idle_median = before.max(after);
    let flood_median = median(&mut samples.during);
    eprintln!(
        "flood of 1000 bad connections took {flood_took:?}; health median idle {before:?} before, \
         {after:?} after ({} samples each); during the flood {flood_median:?} ({} samples)",
        samples.idle_before.len(),
        samples.during.len()
    );
    assert!(
        samples.during.len() >= 20,
        "too few health samples during the flood"
    );
    assert!(
        flood_median <= idle_median * 2,
        "health median during the flood {flood_median:?} > 2 × idle {idle_median:?}"
    );
    // The gateway still serves a new client afterwards.
    let (_ws, hello) = connected_cli(port).await;
    assert_eq!(hello["type"], "hello-ok");
}

// ---------------------------------------------------------------------------------------------
// Failed-auth flood from one address
// ---------------------------------------------------------------------------------------------

/// A WebSocket to the gateway on 127.0.0.1 from the loopback source address `from`.
async fn open_from(from: [u8; 4], port: u16) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((from, 0).into()).unwrap();
    let stream = socket
        .connect(([127, 0, 0, 1], port).into())
        .await
        .expect("connect");
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://127.0.0.1:{port}"), stream)
        .await
        .expect("ws open");
    let challenge = next_text(&mut ws).await;
    assert_eq!(challenge["event"], "connect.challenge", "{challenge}");
    ws
}

async fn next_text(ws: &mut WebSocketStream<TcpStream>) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("frame in time")
            .expect("stream open")
            .expect("frame ok");
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// `connect` as the CLI with `token` from `from`: the response frame.
async fn connect_from(from: [u8; 4], port: u16, token: &str) -> Value {
    let mut ws = open_from(from, port).await;
    ws.send(req("c1", "connect", cli_params(Some(token))))
        .await
        .unwrap();
    next_text(&mut ws).await
}

#[tokio::test]
async fn a_failed_auth_flood_from_one_address_is_rate_limited_and_another_address_is_not() {
    let _quiet = LATENCY_QUIET.read().await;
    let config = r#"{ gateway: { mode: "local", auth: { rateLimit: { maxAttempts: 5, exemptLoopback: false, lockoutMs: 60000 } } } }"#;
    // 40 sockets at once: above the default per-address pre-auth cap of 32.
    let gw = TestGateway::start_with(
        GatewayOptions::default()
            .config(config)
            .env("OPENCLAW_MAX_PREAUTH_CONNECTIONS_PER_IP", "64"),
    );
    let attacker = [127, 0, 0, 2];
    let bystander = [127, 0, 0, 1];
    // 40 concurrent bad attempts from the attacker address.
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let port = gw.port;
        flood.spawn(async move { connect_from(attacker, port, "wrong-token").await });
    }
    let mut codes = std::collections::BTreeMap::new();
    while let Some(res) = flood.join_next().await {
        let res = res.unwrap();
        assert_eq!(res["ok"], false, "{res}");
        let code = res["error"]["details"]["code"].as_str().unwrap().to_owned();
        *codes.entry(code).or_insert(0) += 1;
    }
    assert!(
        codes.get("AUTH_RATE_LIMITED").copied().unwrap_or(0) >= 30,
        "the flood was not rate limited: {codes:?}"
    );
    // Locked out: even the right token is refused from the attacker address.
    let res = connect_from(attacker, gw.port, TOKEN).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_RATE_LIMITED",
        "{res}"
    );
    assert!(
        res["error"]["retryAfterMs"].as_u64().unwrap() > 30_000,
        "{res}"
    );
    // The other address is untouched: a wrong token is a plain mismatch, the right one works.
    let res = connect_from(bystander, gw.port, "wrong-token").await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
        "{res}"
    );
    let res = connect_from(bystander, gw.port, TOKEN).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["type"], "hello-ok");
}

// ---------------------------------------------------------------------------------------------
// SIGTERM while every client is busy; a corrupted config edit while running
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sigterm_while_every_client_sends_requests_gives_each_shutdown_then_1012_and_exit_0_in_5s()
{
    let _quiet = LATENCY_QUIET.read().await;
    let mut gw = TestGateway::start();
    let port = gw.port;
    // 20 clients, each with `health` requests in flight all the time until it sees the close.
    let mut clients = tokio::task::JoinSet::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(20);
    for c in 0..20 {
        let ready_tx = ready_tx.clone();
        clients.spawn(async move {
            let (ws, _) = connected_cli(port).await;
            let (mut sink, mut stream) = ws.split();
            let sender = tokio::spawn(async move {
                for i in 0u64.. {
                    let frame = req(&format!("c{c}-{i}"), "health", json!({}));
                    if sink.send(frame).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
            let mut answered = 0u32;
            let mut shutdown_seen = false;
            let close = loop {
                let msg = tokio::time::timeout(Duration::from_secs(20), stream.next())
                    .await
                    .expect("close in time");
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        let frame: Value = serde_json::from_str(t.as_str()).unwrap();
                        if frame["type"] == "res" {
                            answered += 1;
                            if answered == 3 {
                                let _ = ready_tx.send(()).await;
                            }
                        } else if frame["event"] == "shutdown" {
                            assert_eq!(
                                frame["payload"],
                                json!({"reason": "gateway stopping", "restartExpectedMs": null})
                            );
                            shutdown_seen = true;
                        }
                    }
                    Some(Ok(Message::Close(f))) => {
                        break f.map(|f| (u16::from(f.code), f.reason.to_string()));
                    }
                    Some(Ok(_)) => {}
                    other => panic!("client {c}: no close frame: {other:?}"),
                }
            };
            sender.abort();
            (c, shutdown_seen, close)
        });
    }
    drop(ready_tx);
    for _ in 0..20 {
        tokio::time::timeout(Duration::from_secs(20), ready_rx.recv())
            .await
            .expect("every client gets answers before the signal");
    }
    let waiter = std::thread::spawn(move || {
        let result = gw.signal_and_wait("TERM", Duration::from_secs(10));
        (result, gw)
    });
    while let Some(joined) = clients.join_next().await {
        let (c, shutdown_seen, close) = joined.unwrap();
        assert!(
            shutdown_seen,
            "client {c} saw no shutdown event before the close"
        );
        assert_eq!(
            close,
            Some((1012, "service restart".to_owned())),
            "client {c}"
        );
    }
    let ((code, took), gw) = waiter.join().unwrap();
    assert_eq!(code, Some(0), "{}", gw.stderr());
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
}

#[tokio::test]
async fn a_corrupted_config_edit_while_running_is_reported_with_line_and_column_ignored_and_left_as_is()
 {
    let _quiet = LATENCY_QUIET.read().await;
    let good = "{ gateway: { mode: 'local' } }\n";
    let gw = TestGateway::start_with(GatewayOptions::default().config(good));
    let (mut ws, _) = connected_cli(gw.port).await;
    let path = gw.state_dir().join("openclaw.json");
    // Edited in place (no rename), as an editor or a half-finished script would.
    let corrupted = "{\n  gateway: {\n    mode: 'local'\n    port: 1\n  }\n}\n";
    std::fs::write(&path, corrupted).unwrap();
    let expected = format!(
        "config reload skipped (invalid config): {}:4:5",
        path.display()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gw.stderr().contains(&expected) {
        assert!(Instant::now() < deadline, "{}", gw.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Same connection (no restart), still serving; the file is exactly what was written.
    let res = call(&mut ws, "h1", "health", json!({})).await;
    assert_eq!(res["ok"], true, "{res}");
    let (_other, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["type"], "hello-ok");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupted);
}

// ---------------------------------------------------------------------------------------------
// Full or read-only state directory (private mount namespace)
// ---------------------------------------------------------------------------------------------

/// A gateway started inside a private mount namespace (`unshare --mount`, root) after `setup`
/// (a shell snippet with `$S` = the state dir) ran there.
struct NamespacedGateway {
    child: Child,
    port: u16,
    stderr: PathBuf,
    _home: tempfile::TempDir,
    state: PathBuf,
}

/// Whether `unshare --mount` works here (root).
fn can_unshare_mount() -> bool {
    can_unshare(&["--mount", "--propagation", "private"])
}

impl NamespacedGateway {
    /// Runs `setup` (which fills `home/.openclaw` from `$SEED`) in a new mount namespace, then
    /// the gateway there: exec'd (the child is the gateway), or, with `copy_config_out`, as a
    /// child of the shell, which copies the config out to `home/config.after` when it exits.
    fn spawn(seed: &Path, setup: &str, copy_config_out: bool) -> Self {
        let home = tempfile::tempdir().unwrap();
        let state = home.path().join(".openclaw");
        std::fs::create_dir_all(&state).unwrap();
        let port = free_port();
        let stderr = home.path().join("gateway.stderr");
        let run = format!(
            "env -i HOME=\"$2\" PATH=/usr/bin:/bin OPENCLAW_GATEWAY_TOKEN={TOKEN} \
             OPENCLAW_SKIP_CANVAS_HOST=1 \"$3\" gateway run --port \"$4\""
        );
        let run = if copy_config_out {
            format!("set +e\n{run}\nrc=$?\ncp \"$S/openclaw.json\" \"$2/config.after\"\nexit $rc")
        } else {
            format!("exec {run}")
        };
        let script = format!("set -e\nS=\"$1\"\n{setup}\n{run}");
        let child = Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "/bin/sh",
                "-c",
                &script,
                "sh",
            ])
            .arg(&state)
            .arg(home.path())
            .arg(env!("CARGO_BIN_EXE_openclaw"))
            .arg(port.to_string())
            .env("SEED", seed)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("spawn unshare");
        Self {
            child,
            port,
            stderr,
            _home: home,
            state,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The config as the namespace saw it when the gateway exited (`copy_config_out`).
    fn config_after(&self) -> String {
        std::fs::read_to_string(self._home.path().join("config.after")).unwrap_or_default()
    }

    /// Waits for the exit code (the gateway refused to start), at most `within`.
    fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "gateway still running after {within:?}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        while http_get(self.port, "/readyz").is_none_or(|(code, _)| code != 200) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("gateway exited with {status}: {}", self.stderr());
            }
            assert!(Instant::now() < deadline, "not ready: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `rel` inside the state dir as the gateway sees it (its mount namespace).
    fn inside(&self, rel: &str) -> PathBuf {
        let state = self.state.strip_prefix("/").unwrap();
        PathBuf::from(format!("/proc/{}/root", self.child.id()))
            .join(state)
            .join(rel)
    }
}

impl Drop for NamespacedGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SMALL_TMPFS: &str =
    "mount -t tmpfs -o size=256k,mode=0700 oc-state \"$S\"\ncp -a \"$SEED\"/. \"$S\"/";
const FILL: &str = "dd if=/dev/zero of=\"$S/filler\" bs=4k 2>/dev/null || true";
const READ_ONLY: &str =
    "cp -a \"$SEED\"/. \"$S\"/\nmount --bind \"$S\" \"$S\"\nmount -o remount,bind,ro \"$S\"";

const STATE_CONFIG: &str = "// state-dir test\n{ gateway: { mode: \"local\" } }\n";

/// A state dir seed: the config, plus the gateway identity when `with_identity` (made by
/// running the gateway once on a normal disk).
fn seed(with_identity: bool) -> tempfile::TempDir {
    if with_identity {
        let gw = TestGateway::start_with(GatewayOptions::default().config(STATE_CONFIG));
        seed_from(&gw)
    } else {
        let seed = tempfile::tempdir().unwrap();
        std::fs::write(seed.path().join("openclaw.json"), STATE_CONFIG).unwrap();
        seed
    }
}

/// A copy of `gw`'s state dir (config, identity, pairing store), without its logs.
fn seed_from(gw: &TestGateway) -> tempfile::TempDir {
    let seed = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", gw.state_dir().display()))
        .arg(seed.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(seed.path().join("logs")).unwrap();
    seed
}

/// `connect` params of a desktop app authenticating with `token`.
fn device_params(token: &str) -> Value {
    json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "openclaw-macos", "version": "1", "platform": "macos", "mode": "ui"},
        "role": "operator", "scopes": ["operator.read"],
        "auth": {"token": token},
    })
}

/// `connect` as device `key` with `token`: the response frame.
async fn connect_device(port: u16, key: &DeviceKeypair, token: &str) -> Value {
    let (mut ws, challenge) = open(port).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap().to_owned();
    let mut params = device_params(token);
    params["device"] = signed_device(key, &nonce, &params);
    send_connect(&mut ws, params).await
}

#[test]
fn a_full_state_dir_stops_the_first_start_with_the_path_and_no_space_left_and_keeps_the_config() {
    let _quiet = crate::LATENCY_QUIET.blocking_read();
    if !can_unshare_mount() {
        return;
    }
    let seed = seed(false);
    let mut gw = NamespacedGateway::spawn(seed.path(), &format!("{SMALL_TMPFS}\n{FILL}"), true);
    let code = gw.exit_code(Duration::from_secs(20));
    let stderr = gw.stderr();
    assert_eq!(code, Some(1), "{stderr}");
    let identity = gw.state.join("identity/device.json");
    assert!(
        stderr.contains(&format!("{}", identity.display()))
            && stderr.contains("No space left on device")
            && stderr.contains("Free space in, or make writable, the state directory"),
        "{stderr}"
    );
    assert_eq!(gw.config_after(), STATE_CONFIG);
}

#[tokio::test]
async fn on_a_full_state_dir_a_known_gateway_keeps_serving_and_loses_nothing() {
    let _quiet = LATENCY_QUIET.read().await;
    if !can_unshare_mount() {
        return;
    }
    let seed = seed(true);
    let identity_before = std::fs::read(seed.path().join("identity/device.json")).unwrap();
    let mut gw = NamespacedGateway::spawn(seed.path(), &format!("{SMALL_TMPFS}\n{FILL}"), false);
    gw.wait_ready(Duration::from_secs(20));
    let (mut ws, _) = connected_cli(gw.port).await;
    for i in 0..20 {
        let res = call(&mut ws, &format!("h{i}"), "health", json!({})).await;
        assert_eq!(res["ok"], true, "{res}");
    }
    // The filesystem really is full, and nothing of ours was truncated.
    let probe = std::fs::write(gw.inside("probe"), vec![0u8; 64 * 1024]);
    assert!(
        probe.as_ref().is_err_and(|e| e.raw_os_error() == Some(28)),
        "{probe:?}"
    );
    assert_eq!(
        std::fs::read(gw.inside("identity/device.json")).unwrap(),
        identity_before
    );
    assert_eq!(
        std::fs::read_to_string(gw.inside("openclaw.json")).unwrap(),
        STATE_CONFIG
    );
}

#[tokio::test]
async fn on_a_full_state_dir_a_new_device_is_refused_with_the_reason_and_paired_devices_keep_working()
 {
    let _quiet = LATENCY_QUIET.read().await;
    if !can_unshare_mount() {
        return;
    }
    // Device A paired on a normal disk; its pairing record and token travel with the seed.
    let paired = DeviceKeypair::generate().unwrap();
    let seed = {
        let gw = TestGateway::start_with(GatewayOptions::default().config(STATE_CONFIG));
        let res = connect_device(gw.port, &paired, TOKEN).await;
        assert_eq!(res["ok"], true, "{res}");
        seed_from(&gw)
    };
    let pairing_before = std::fs::read(seed.path().join("devices/paired.json")).unwrap();
    let mut gw = NamespacedGateway::spawn(seed.path(), &format!("{SMALL_TMPFS}\n{FILL}"), false);
    gw.wait_ready(Duration::from_secs(20));
    // A new device cannot be recorded: refused, with the reason.
    let newcomer = DeviceKeypair::generate().unwrap();
    let res = connect_device(gw.port, &newcomer, TOKEN).await;
    assert_eq!(res["ok"], false, "{res}");
    let message = res["error"]["message"].as_str().unwrap();
    assert_eq!(res["error"]["code"], "UNAVAILABLE", "{res}");
    assert!(
        message.starts_with("pairing store: ") && message.contains("No space left on device"),
        "{res}"
    );
    eprintln!("new device on a full disk: {message}");
    // The paired device still connects, and the store on disk is unchanged.
    let res = connect_device(gw.port, &paired, TOKEN).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(
        std::fs::read(gw.inside("devices/paired.json")).unwrap(),
        pairing_before
    );
}

#[test]
fn a_read_only_state_dir_stops_the_first_start_with_the_path_and_the_reason() {
    let _quiet = crate::LATENCY_QUIET.blocking_read();
    if !can_unshare_mount() {
        return;
    }
    let seed = seed(false);
    let mut gw = NamespacedGateway::spawn(seed.path(), READ_ONLY, true);
    let code = gw.exit_code(Duration::from_secs(20));
    let stderr = gw.stderr();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}", gw.state.join("identity").display()))
            && stderr.contains("Read-only file system"),
        "{stderr}"
    );
    assert_eq!(gw.config_after(), STATE_CONFIG);
}

#[tokio::test]
async fn on_a_read_only_state_dir_a_known_gateway_serves_and_says_the_log_file_is_off() {
    let _quiet = LATENCY_QUIET.read().await;
    if !can_unshare_mount() {
        return;
    }
    let seed = seed(true);
    let mut gw = NamespacedGateway::spawn(seed.path(), READ_ONLY, false);
    gw.wait_ready(Duration::from_secs(20));
    let (mut ws, _) = connected_cli(gw.port).await;
    let res = call(&mut ws, "h1", "health", json!({})).await;
    assert_eq!(res["ok"], true, "{res}");
    let stderr = gw.stderr();
    assert!(
        stderr.contains("file log disabled") && stderr.contains("Read-only file system"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(gw.inside("openclaw.json")).unwrap(),
        STATE_CONFIG
    );
}

// ---------------------------------------------------------------------------------------------
// kill -9 of `gateway install` after every plan action (real systemd --user manager)
// ---------------------------------------------------------------------------------------------

#[cfg(target_os = "linux")]
mod killed_install {
    use std::collections::BTreeMap;
    use std::os::unix::process::ExitStatusExt;
    use std::path::PathBuf;

    use serde_json::Value;

    use crate::support::systemd_harness::{
        COMMAND_TIMEOUT, RunOutput, SystemdHarness, harness_or_skip, run_with_timeout,
    };

    const CONFIG: &str = r#"{ "gateway": { "mode": "local", "auth": { "mode": "token", "token": "test-token-0123456789" } } }"#;

    /// Each planned file's content (`None` = absent).
    type Snapshot = BTreeMap<PathBuf, Option<Vec<u8>>>;

    struct Install {
        h: SystemdHarness,
        bin: PathBuf,
    }

    impl Install {
        fn new() -> Option<Self> {
            let h = harness_or_skip()?;
            let bin = h.copy_executable(env!("CARGO_BIN_EXE_openclaw"));
            let config = h.write_file(".openclaw/openclaw.json", CONFIG.as_bytes(), 0o600);
            std::fs::set_permissions(
                config.parent().unwrap(),
                std::os::unix::fs::PermissionsExt::from_mode(0o700),
            )
            .unwrap();
            Some(Self { h, bin })
        }

        /// `openclaw <args> --json` as the test user, killed after plan action `abort_after`.
        fn run(&self, args: &[&str], abort_after: Option<usize>) -> RunOutput {
            let mut cmd = self.h.command(&self.bin);
            cmd.args(args).arg("--json");
            if let Some(k) = abort_after {
                cmd.env("OPENCLAW_DEBUG_ABORT_AFTER_PLAN_STEP", k.to_string());
            }
            run_with_timeout(cmd, COMMAND_TIMEOUT)
        }

        fn install(&self, port: u16, force: bool, abort_after: Option<usize>) -> RunOutput {
            let port = port.to_string();
            let mut args = vec!["gateway", "install", "--port", &port];
            if force {
                args.push("--force");
            }
            self.run(&args, abort_after)
        }

        /// The install plan for `port`: its files and how many actions it has (files + steps).
        fn plan(&self, port: u16) -> (Vec<PathBuf>, usize) {
            let port = port.to_string();
            let out = self.run(&["gateway", "install", "--port", &port, "--dry-run"], None);
            assert!(out.success(), "{out}");
            let plan: Value = serde_json::from_str(out.stdout.trim()).unwrap();
            let files: Vec<PathBuf> = plan["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| PathBuf::from(f["path"].as_str().unwrap()))
                .collect();
            let steps = plan["steps"].as_array().unwrap().len();
            let actions = files.len() + steps;
            (files, actions)
        }

        /// Installs and expects one of `results`.
        fn converge(&self, port: u16, force: bool, results: &[&str]) {
            let out = self.install(port, force, None);
            let v: Value = serde_json::from_str(out.stdout.trim())
                .unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
            assert!(
                out.success() && results.iter().any(|r| v["result"] == *r),
                "expected {results:?}: {out}\nmanager log:\n{}",
                self.h.manager_log()
            );
        }
    }

    fn snapshot(files: &[PathBuf]) -> Snapshot {
        files
            .iter()
            .map(|p| (p.clone(), std::fs::read(p).ok()))
            .collect()
    }

    fn describe(content: &Option<Vec<u8>>) -> String {
        match content {
            None => "absent".into(),
            Some(bytes) => format!("{} bytes", bytes.len()),
        }
    }

    /// Every file in `mid` is its `old` or its `new` version, byte for byte.
    fn assert_old_or_new(k: usize, old: &Snapshot, mid: &Snapshot, new: &Snapshot) {
        for (path, now) in mid {
            assert!(
                now == &old[path] || now == &new[path],
                "after a kill at action {k}, {} is neither the old ({}) nor the new ({}) \
                 version: {}",
                path.display(),
                describe(&old[path]),
                describe(&new[path]),
                describe(now)
            );
        }
    }

    fn assert_killed(k: usize, out: &RunOutput) {
        assert_eq!(out.status.signal(), Some(9), "action {k}: {out}");
        assert!(
            out.stderr
                .contains(&format!("debug hook: SIGKILL after plan action {k} ")),
            "action {k}: {out}"
        );
    }

    fn ready(port: u16) -> bool {
        crate::support::http_get(port, "/readyz").is_some_and(|(code, _)| code == 200)
    }

    #[test]
    fn an_upgrade_killed_after_any_plan_action_leaves_old_or_new_files_and_a_rerun_converges() {
        let _heavy = crate::LATENCY_QUIET.blocking_read();
        let Some(t) = Install::new() else { return };
        let ports = [crate::support::free_port(), crate::support::free_port()];
        t.converge(ports[0], false, &["installed"]);
        let (files, actions) = t.plan(ports[1]);
        assert!(actions >= 8, "{files:?} {actions}");
        // Each round upgrades to the other port (every file differs), killed after action k.
        for k in 1..=actions {
            let port = ports[k % 2];
            let old = snapshot(&files);
            let out = t.install(port, true, Some(k));
            assert_killed(k, &out);
            let mid = snapshot(&files);
            t.converge(port, true, &["installed"]);
            let new = snapshot(&files);
            assert_ne!(old, new, "the upgrade changed nothing");
            assert_old_or_new(k, &old, &mid, &new);
            t.converge(port, false, &["already-installed"]);
            assert!(ready(port), "round {k}: not serving on {port}");
        }
    }

    #[test]
    fn a_first_install_killed_after_any_plan_action_leaves_whole_files_and_a_plain_rerun_converges()
    {
        let _heavy = crate::LATENCY_QUIET.blocking_read();
        let Some(t) = Install::new() else { return };
        let port = crate::support::free_port();
        let (files, actions) = t.plan(port);
        // Every action: the file writes (the partial states a rerun must accept) and the steps.
        for k in 1..=actions {
            let old = snapshot(&files);
            assert!(old.values().all(Option::is_none), "{old:?}");
            let out = t.install(port, false, Some(k));
            assert_killed(k, &out);
            let mid = snapshot(&files);
            // No --force: a half-written first install is not drift. Killed after the service
            // started, the rerun finds it running ("already-installed"); before, it installs.
            t.converge(port, false, &["installed", "already-installed"]);
            let new = snapshot(&files);
            assert_old_or_new(k, &old, &mid, &new);
            t.converge(port, false, &["already-installed"]);
            assert!(ready(port), "round {k}: not serving on {port}");
            let out = t.run(&["gateway", "uninstall"], None);
            assert!(out.success(), "{out}");
        }
    }

    /// Runs `script` as root in the manager's mount namespace (`$1` = the state dir).
    fn in_manager_namespace(h: &SystemdHarness, script: &str, state: &std::path::Path) {
        let out = std::process::Command::new("nsenter")
            .arg("--target")
            .arg(h.manager_pid().to_string())
            .args(["--mount", "--", "/bin/sh", "-c", script, "sh"])
            .arg(state)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}: {out:?}");
    }

    #[test]
    fn install_onto_a_full_state_dir_reports_no_space_left_for_the_identity_and_converges_once_freed()
     {
        let _heavy = crate::LATENCY_QUIET.blocking_read();
        let Some(t) = Install::new() else { return };
        let state = t.h.home().join(".openclaw");
        let config_before = std::fs::read(state.join("openclaw.json")).unwrap();
        // A full 256 KiB tmpfs over the state dir, holding the same config (manager namespace).
        in_manager_namespace(
            &t.h,
            &format!(
                "set -e\ncp \"$1/openclaw.json\" /tmp/oc-config.$$\n\
                 mount -t tmpfs -o size=256k,mode=0700,uid={uid},gid={gid} oc-full \"$1\"\n\
                 cp /tmp/oc-config.$$ \"$1/openclaw.json\"\nrm /tmp/oc-config.$$\n\
                 chown {uid}:{gid} \"$1/openclaw.json\"\n\
                 dd if=/dev/zero of=\"$1/filler\" bs=4k 2>/dev/null || true",
                uid = t.h.uid(),
                gid = t.h.gid()
            ),
            &state,
        );
        let inside = |rel: &str| {
            PathBuf::from(format!("/proc/{}/root", t.h.manager_pid()))
                .join(state.strip_prefix("/").unwrap())
                .join(rel)
        };
        let port = crate::support::free_port();
        let out = t.install(port, false, None);
        assert_eq!(out.code(), Some(1), "{out}");
        // The files fit (the env file is empty); the gateway cannot create its identity and
        // exits 1 (not 78: once space is freed a restart fixes it). Install says why.
        let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
        let identity = state.join("identity/device.json");
        let hints = v["hints"].to_string();
        assert!(
            hints.contains(&format!(
                "Last status: cannot create gateway identity {}: No space left on device",
                identity.display()
            )),
            "{v}"
        );
        assert!(v["error"].as_str().unwrap().contains("status 1"), "{v}");
        assert!(
            !hints.contains("config"),
            "a disk-full start blamed the config: {v}"
        );
        assert_eq!(
            std::fs::read(inside("openclaw.json")).unwrap(),
            config_before
        );
        let litter: Vec<_> = std::fs::read_dir(inside("identity"))
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(litter.is_empty(), "partial identity files: {litter:?}");
        // Space freed: the same install converges (no --force: half done is not drift).
        in_manager_namespace(&t.h, "rm \"$1/filler\"", &state);
        t.converge(port, false, &["installed"]);
        t.converge(port, false, &["already-installed"]);
        assert!(ready(port), "not serving on {port}");
        assert_eq!(
            std::fs::read(inside("openclaw.json")).unwrap(),
            config_before
        );
    }

    #[test]
    fn an_upgrade_onto_a_read_only_unit_dir_fails_naming_the_file_and_the_old_install_keeps_running()
     {
        let _heavy = crate::LATENCY_QUIET.blocking_read();
        let Some(t) = Install::new() else { return };
        let ports = [crate::support::free_port(), crate::support::free_port()];
        t.converge(ports[0], false, &["installed"]);
        let (files, _) = t.plan(ports[0]);
        let before = snapshot(&files);
        let unit_dir = t.h.unit_dir();
        in_manager_namespace(
            &t.h,
            "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\"",
            &unit_dir,
        );
        let out = t.install(ports[1], true, None);
        assert_eq!(out.code(), Some(1), "{out}");
        let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
        let error = v["error"].as_str().unwrap();
        let service = unit_dir.join("openclaw-gateway.service");
        assert!(
            error.starts_with("Gateway install failed: ")
                && error.contains(&service.display().to_string())
                && error.contains("Read-only file system"),
            "{v}"
        );
        // Nothing changed (the files the test sees are the same inodes as in the namespace:
        // a bind mount of the same directory) and the old gateway keeps serving.
        assert_eq!(snapshot(&files), before);
        assert!(ready(ports[0]), "the old install stopped serving");
    }
}
