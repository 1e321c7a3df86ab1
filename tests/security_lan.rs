//! A LAN host against a gateway bound beyond loopback. The gateway runs in a private network
//! namespace (`unshare --net`, root) whose `lo` also carries 10.203.0.1/32; the test's client
//! thread joins that namespace (`setns`) and connects to 10.203.0.1, so the gateway sees a
//! peer that is not loopback — a host on the LAN — while no packet leaves the namespace.
//!
//! What it may not do there: connect without the token, be paired without an owner's approval,
//! read canvas documents without the capability URL, or keep guessing past the lockout.

mod support;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openclaw::gateway::device_identity::DeviceKeypair;
use serde_json::{Value, json};
use support::{TOKEN, Ws, recv_close, recv_json, send_connect, signed_device};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LAN_ADDR: &str = "10.203.0.1";
const PORT: u16 = 18789;

/// A gateway in its own network namespace, bound to every address there (`bind: "lan"`).
struct LanGateway {
    child: Child,
    home: tempfile::TempDir,
}

impl Drop for LanGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LanGateway {
    fn start(canvas_root: &Path) -> Self {
        let home = tempfile::tempdir().unwrap();
        let state = home.path().join(".openclaw");
        std::fs::create_dir_all(&state).unwrap();
        let config = format!(
            r#"{{ gateway: {{ mode: "local", bind: "lan", auth: {{ rateLimit: {{ maxAttempts: 3, lockoutMs: 60000 }} }} }}, canvasHost: {{ root: {:?} }} }}"#,
            canvas_root
        );
        std::fs::write(state.join("openclaw.json"), config).unwrap();
        let script = format!(
            "set -e\nip link set lo up\nip addr add {LAN_ADDR}/32 dev lo\n\
             exec env -i HOME=\"$1\" PATH=/usr/bin:/bin OPENCLAW_GATEWAY_TOKEN={TOKEN} \
             OPENCLAW_CANVAS_HOST_PORT={} \"$2\" gateway run --port {PORT}",
            PORT + 4
        );
        let child = Command::new("unshare")
            .args(["--net", "/bin/sh", "-c", &script, "sh"])
            .arg(home.path())
            .arg(env!("CARGO_BIN_EXE_openclaw"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(home.path().join("gateway.stderr")).unwrap())
            .spawn()
            .expect("spawn unshare");
        Self { child, home }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.home.path().join("gateway.stderr")).unwrap_or_default()
    }

    fn state_json(&self, name: &str) -> Value {
        std::fs::read_to_string(self.home.path().join(".openclaw").join(name))
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or(Value::Null)
    }

    /// Runs `client` on a thread inside the gateway's network namespace.
    fn in_namespace<T: Send + 'static>(&self, client: impl FnOnce() -> T + Send + 'static) -> T {
        // `unshare` enters the new namespace after it started: wait until the child's differs.
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        let theirs = format!("/proc/{}/ns/net", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(&theirs).ok().as_ref() == Some(&ours) {
            assert!(
                Instant::now() < deadline,
                "unshare --net did not take effect"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let netns = File::open(theirs).unwrap();
        std::thread::spawn(move || {
            // SAFETY: setns on this thread only, with a namespace file descriptor we hold open.
            let rc = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            client()
        })
        .join()
        .unwrap()
    }
}

/// Prints the gateway's stderr when the client thread panics.
struct PrintOnPanic(std::path::PathBuf);

impl Drop for PrintOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "gateway stderr:\n{}",
                std::fs::read_to_string(&self.0).unwrap_or_default()
            );
        }
    }
}

/// `GET path` from the namespace to `host` on the gateway port: status and body.
async fn http_get(host: &str, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect((host, PORT)).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}:{PORT}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let code = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

async fn wait_ready(host: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(Ok(mut stream)) = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect((host, PORT)),
        )
        .await
        {
            let request =
                format!("GET /readyz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            let mut response = String::new();
            if stream.write_all(request.as_bytes()).await.is_ok()
                && stream.read_to_string(&mut response).await.is_ok()
                && response.starts_with("HTTP/1.1 200")
            {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the gateway in the namespace did not get ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn open(host: &str) -> (Ws, String) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{host}:{PORT}"))
        .await
        .expect("ws open");
    let challenge = recv_json(&mut ws).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap().to_owned();
    (ws, nonce)
}

fn app(token: Option<&str>) -> Value {
    let mut p = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "openclaw-macos", "version": "2026.9.6", "platform": "macos", "mode": "ui"},
        "role": "operator", "scopes": ["operator.admin"],
    });
    if let Some(token) = token {
        p["auth"] = json!({"token": token});
    }
    p
}

async fn connect_device(host: &str, key: &DeviceKeypair, mut params: Value) -> (Ws, Value) {
    let (mut ws, nonce) = open(host).await;
    params["device"] = signed_device(key, &nonce, &params);
    let res = send_connect(&mut ws, params).await;
    (ws, res)
}

#[test]
fn a_lan_host_needs_the_token_an_approval_and_the_canvas_capability() {
    if !support::can_unshare(&["--net"]) {
        return;
    }
    let canvas = tempfile::tempdir().unwrap();
    std::fs::write(canvas.path().join("index.html"), "<h1>canvas</h1>").unwrap();
    let gw = LanGateway::start(canvas.path());
    let stderr = gw.home.path().join("gateway.stderr");
    let outcome = gw.in_namespace(move || {
        let _explain = PrintOnPanic(stderr);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                wait_ready(LAN_ADDR).await;
                let key = DeviceKeypair::generate().unwrap();

                // No token: refused before pairing.
                let (mut ws, res) = connect_device(LAN_ADDR, &key, app(None)).await;
                assert_eq!(
                    res["error"]["details"]["code"], "AUTH_TOKEN_MISSING",
                    "{res}"
                );
                assert_eq!(recv_close(&mut ws).await.0, 1008);

                // With the token: a pairing request, not a pairing.
                let (_ws, res) = connect_device(LAN_ADDR, &key, app(Some(TOKEN))).await;
                assert_eq!(res["error"]["details"]["code"], "PAIRING_REQUIRED", "{res}");
                let request_id = res["error"]["details"]["requestId"]
                    .as_str()
                    .unwrap()
                    .to_owned();

                // The same gateway over loopback: a token-authenticated client gets the canvas
                // capability URL; the LAN host may use it, but not the plain path.
                let (mut local, _) = open("127.0.0.1").await;
                let hello = send_connect(&mut local, support::cli_params(Some(TOKEN))).await;
                let url = hello["payload"]["pluginSurfaceUrls"]["canvas"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let capability_path = url.split_once(&format!(":{PORT}")).unwrap().1.to_owned();
                let plain = http_get(LAN_ADDR, "/__openclaw__/canvas/index.html").await;
                let capability = http_get(
                    LAN_ADDR,
                    &format!("{capability_path}/__openclaw__/canvas/index.html"),
                )
                .await;
                let guessed = http_get(
                    LAN_ADDR,
                    &format!(
                        "/__openclaw__/cap/{}/__openclaw__/canvas/index.html",
                        "a".repeat(64)
                    ),
                )
                .await;
                let loopback_plain = http_get("127.0.0.1", "/__openclaw__/canvas/index.html").await;

                // Wrong tokens from the LAN host: locked out after 3, then even the right one.
                let mut codes = Vec::new();
                for i in 0..4 {
                    let (_ws, res) =
                        connect_device(LAN_ADDR, &key, app(Some(&format!("guess-{i}")))).await;
                    codes.push(res["error"]["details"]["code"].as_str().unwrap().to_owned());
                }
                let (_ws, locked) = connect_device(LAN_ADDR, &key, app(Some(TOKEN))).await;
                (
                    request_id,
                    plain,
                    capability,
                    guessed,
                    loopback_plain,
                    codes,
                    locked,
                )
            })
    });
    let (request_id, plain, capability, guessed, loopback_plain, codes, locked) = outcome;
    let paired = gw.state_json("devices/paired.json");
    assert!(paired.as_object().is_none_or(|m| m.is_empty()), "{paired}");
    assert!(
        gw.state_json("devices/pending.json")
            .get(&request_id)
            .is_some()
    );
    assert_eq!(plain.0, 403, "plain canvas path from the LAN: {}", plain.1);
    assert_eq!(capability, (200, "<h1>canvas</h1>".to_owned()));
    assert_eq!(guessed.0, 404);
    assert_eq!(loopback_plain.0, 200);
    assert_eq!(
        codes,
        [
            "AUTH_TOKEN_MISMATCH",
            "AUTH_TOKEN_MISMATCH",
            "AUTH_TOKEN_MISMATCH",
            "AUTH_RATE_LIMITED"
        ],
        "{}",
        gw.stderr()
    );
    assert_eq!(
        locked["error"]["details"]["code"], "AUTH_RATE_LIMITED",
        "{locked}"
    );
}
