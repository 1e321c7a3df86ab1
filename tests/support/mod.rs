//! Test support: start the real `openclaw` binary as a gateway on a free loopback port and talk
//! to it with a real WebSocket client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use openclaw::gateway::device_identity::{
    DeviceKeypair, PayloadVersion, SignedFields, build_payload,
};
use serde_json::{Value, json};
use tokio::net::TcpStream as TokioTcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A private, real `systemd --user` manager per test (Linux, root); see `SYSTEMD_HARNESS.md`.
#[cfg(target_os = "linux")]
pub mod systemd_harness;

/// The systemd-harness fixture shared by the service tests.
#[cfg(target_os = "linux")]
pub mod service_fixture;

/// A scriptable OpenAI-compatible upstream standing in for model providers.
pub mod fake_openai;

/// The OpenAI Python SDK and raw HTTP requests, for the HTTP API tests.
pub mod http_client;

pub type Ws = WebSocketStream<MaybeTlsStream<TokioTcpStream>>;

pub const TOKEN: &str = "test-token-0123456789";

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A gateway process under test.
pub struct TestGateway {
    pub child: Child,
    pub port: u16,
    pub home: tempfile::TempDir,
    pub stderr_path: PathBuf,
    options: GatewayOptions,
}

/// How to start a gateway.
#[derive(Default, Clone)]
pub struct GatewayOptions {
    pub config: Option<String>,
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
    pub no_token: bool,
    /// Files written into the state dir (next to the config) before the start: (name, text).
    pub files: Vec<(String, String)>,
    /// The port the config sets: no `--port` is passed, and this is the port waited on.
    pub configured_port: Option<u16>,
}

impl GatewayOptions {
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn config(mut self, text: &str) -> Self {
        self.config = Some(text.into());
        self
    }
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn file(mut self, name: &str, text: &str) -> Self {
        self.files.push((name.into(), text.into()));
        self
    }
    pub fn configured_port(mut self, port: u16) -> Self {
        self.configured_port = Some(port);
        self
    }
}

/// Starts `openclaw gateway run` for `home` on `port` (stderr appended to `stderr_path`).
fn spawn_gateway(home: &Path, port: u16, stderr_path: &Path, options: &GatewayOptions) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
    cmd.args(["gateway", "run", "--allow-unconfigured"]);
    if options.configured_port.is_none() {
        cmd.args(["--port", &port.to_string()]);
    }
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(stderr_path)
        .unwrap();
    cmd.args(&options.args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    if !options.no_token {
        cmd.env("OPENCLAW_GATEWAY_TOKEN", TOKEN);
    }
    // The canvas host would take gateway port + 4, which another test may have picked.
    if !options
        .env
        .iter()
        .any(|(k, _)| k == "OPENCLAW_CANVAS_HOST_PORT")
    {
        cmd.env("OPENCLAW_SKIP_CANVAS_HOST", "1");
    }
    for (k, v) in &options.env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn gateway")
}

impl TestGateway {
    pub fn start() -> Self {
        Self::start_with(GatewayOptions::default())
    }

    pub fn start_with(options: GatewayOptions) -> Self {
        let home = tempfile::tempdir().unwrap();
        let state = home.path().join(".openclaw");
        std::fs::create_dir_all(&state).unwrap();
        if let Some(config) = &options.config {
            std::fs::write(state.join("openclaw.json"), config).unwrap();
        }
        for (name, text) in &options.files {
            let path = state.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let port = options.configured_port.unwrap_or_else(free_port);
        let stderr_path = home.path().join("gateway.stderr");
        let child = spawn_gateway(home.path(), port, &stderr_path, &options);
        let mut gw = Self {
            child,
            port,
            home,
            stderr_path,
            options,
        };
        gw.wait_ready(Duration::from_secs(15));
        gw
    }

    /// Kills the gateway with SIGKILL (no shutdown path runs) and starts it again on the same
    /// home, state dir and port.
    pub fn kill_9_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn_gateway(
            self.home.path(),
            self.port,
            &self.stderr_path,
            &self.options,
        );
        self.wait_ready(Duration::from_secs(15));
    }

    fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("gateway exited early with {status}: {}", self.stderr());
            }
            if http_get(self.port, "/readyz").is_some_and(|(code, _)| code == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("gateway not ready within {within:?}: {}", self.stderr());
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join(".openclaw")
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Sends a signal and waits for exit, returning the exit code and how long it took.
    pub fn signal_and_wait(&mut self, signal: &str, within: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        while started.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code(), started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("gateway did not exit within {within:?} after SIG{signal}");
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET; returns (status, body).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_request(port, "GET", path)
}

pub fn http_request(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let code = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((code, body))
}

/// Opens a WebSocket and returns it with the challenge event.
pub async fn open(port: u16) -> (Ws, Value) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}"))
        .await
        .expect("ws open");
    let challenge = recv_json(&mut ws).await;
    assert_eq!(challenge["event"], "connect.challenge", "{challenge}");
    (ws, challenge)
}

/// The next JSON frame (panics after 5 s).
pub async fn recv_json(ws: &mut Ws) -> Value {
    recv_json_within(ws, Duration::from_secs(5)).await
}

pub async fn recv_json_within(ws: &mut Ws, within: Duration) -> Value {
    loop {
        let msg = tokio::time::timeout(within, ws.next())
            .await
            .expect("frame in time")
            .expect("stream open")
            .expect("frame ok");
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Binary(b) => return serde_json::from_slice(&b).unwrap(),
            Message::Close(f) => panic!("unexpected close {f:?}"),
            _ => continue,
        }
    }
}

/// Reads until the close frame; returns its code and reason.
pub async fn recv_close(ws: &mut Ws) -> (u16, String) {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("close in time");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) => return (1005, String::new()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("stream error before close: {e}"),
            None => panic!("stream ended without a close frame"),
        }
    }
}

/// `connect` params of the CLI.
pub fn cli_params(token: Option<&str>) -> Value {
    let mut p = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "cli", "version": "test", "platform": "linux", "mode": "cli"},
        "role": "operator",
        "scopes": ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.pairing"],
    });
    if let Some(t) = token {
        p["auth"] = json!({"token": t});
    }
    p
}

pub fn req(id: &str, method: &str, params: Value) -> Message {
    Message::Text(
        json!({"type": "req", "id": id, "method": method, "params": params})
            .to_string()
            .into(),
    )
}

/// Sends `connect` and returns the response frame.
pub async fn send_connect(ws: &mut Ws, params: Value) -> Value {
    ws.send(req("c1", "connect", params)).await.unwrap();
    recv_response(ws, "c1").await
}

/// The response to `id`, skipping events.
pub async fn recv_response(ws: &mut Ws, id: &str) -> Value {
    loop {
        let frame = recv_json(ws).await;
        if frame["type"] == "res" && frame["id"] == id {
            return frame;
        }
    }
}

/// A connected CLI client (admin scopes via the loopback trust path).
pub async fn connected_cli(port: u16) -> (Ws, Value) {
    let (mut ws, _) = open(port).await;
    let res = send_connect(&mut ws, cli_params(Some(TOKEN))).await;
    assert_eq!(res["ok"], true, "{res}");
    (ws, res["payload"].clone())
}

/// Calls `method` and returns the response frame.
pub async fn call(ws: &mut Ws, id: &str, method: &str, params: Value) -> Value {
    ws.send(req(id, method, params)).await.unwrap();
    recv_response(ws, id).await
}

/// The next event named `name` (skipping others).
pub async fn next_event(ws: &mut Ws, name: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = recv_json_within(ws, left.max(Duration::from_millis(1))).await;
        if frame["type"] == "event" && frame["event"] == name {
            return frame;
        }
    }
}

/// Asserts that `report` validates against `schemas/<schema_file>` (JSON Schema 2020-12),
/// listing every error with its location.
pub fn assert_matches_schema(schema_file: &str, report: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(schema_file);
    let text = std::fs::read_to_string(&path).unwrap();
    let schema = jsonschema::draft202012::new(&serde_json::from_str(&text).unwrap()).unwrap();
    let errors: Vec<String> = schema
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{report:#}");
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// `connect.params.device` for `params`, signed by `key` over the challenge `nonce` (v3, now).
pub fn signed_device(key: &DeviceKeypair, nonce: &str, params: &Value) -> Value {
    signed_device_as(key, nonce, params, PayloadVersion::V3, now_ms())
}

/// `connect.params.device` for `params`, signed by `key` with payload `version` at `signed_at`.
pub fn signed_device_as(
    key: &DeviceKeypair,
    nonce: &str,
    params: &Value,
    version: PayloadVersion,
    signed_at: u64,
) -> Value {
    let scopes: Vec<String> = params["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let fields = SignedFields {
        client_id: params["client"]["id"].as_str().unwrap(),
        client_mode: params["client"]["mode"].as_str().unwrap(),
        role: params["role"].as_str().unwrap(),
        scopes: &scopes,
        token: params["auth"]["token"].as_str(),
        platform: params["client"]["platform"].as_str(),
        device_family: params["client"]["deviceFamily"].as_str(),
        instance_id: params["client"]["instanceId"].as_str(),
    };
    let payload = build_payload(version, &fields, &key.device_id(), signed_at, Some(nonce));
    json!({"id": key.device_id(), "publicKey": key.public_key_base64url(), "signature": key.sign(&payload), "signedAt": signed_at, "nonce": nonce})
}

/// Whether `unshare <flags> true` works here (root). Outside CI a missing privilege prints why
/// and returns false; with `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1` (CI) it fails the test.
pub fn can_unshare(flags: &[&str]) -> bool {
    let ok = Command::new("unshare")
        .args(flags)
        .arg("true")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("OPENCLAW_REQUIRE_SYSTEMD_HARNESS").is_none_or(|v| v != "1"),
            "unshare {flags:?} is required (root) in CI"
        );
        eprintln!("SKIPPED: unshare {flags:?} does not work here (needs root)");
    }
    ok
}
