//! The gateway's trust boundary, tried the way an attacker would against the real binary: a
//! local process or a web page without the token, a foreign browser `Origin`, a revoked device,
//! a paired low-scope device managing other devices or widening its own token, a flood of
//! unauthenticated sockets and pairing attempts, a password guesser, the canvas host's dotfiles,
//! and an idempotency key reused by another caller. SECURITY.md lists each case.
//!
//! Every case here failed against the gateway before the trust-boundary change (commit message
//! of that change); the method × scope table lives in `tests/method_scopes.rs`.

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use openclaw::gateway::device_identity::DeviceKeypair;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Opens a WebSocket with an optional `Origin` header; returns it with the challenge nonce.
async fn open_from(port: u16, origin: Option<&str>) -> (Ws, String) {
    let mut request = format!("ws://127.0.0.1:{port}")
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("ws open");
    let challenge = recv_json(&mut ws).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap().to_owned();
    (ws, nonce)
}

/// `connect` params of an app (`client_id`/`mode`) asking for `scopes`, with `token` as
/// `auth.token` when given.
fn app(client_id: &str, mode: &str, scopes: &[&str], token: Option<&str>) -> Value {
    let mut p = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": client_id, "version": "2026.9.6", "platform": "linux", "mode": mode},
        "role": "operator", "scopes": scopes,
    });
    if let Some(token) = token {
        p["auth"] = json!({"token": token});
    }
    p
}

/// Connects as the device `key` (signed over the challenge), from `origin` if given.
async fn connect_device(
    port: u16,
    key: &DeviceKeypair,
    mut params: Value,
    origin: Option<&str>,
) -> (Ws, Value) {
    let (mut ws, nonce) = open_from(port, origin).await;
    params["device"] = signed_device(key, &nonce, &params);
    let res = send_connect(&mut ws, params).await;
    (ws, res)
}

/// Connects without a device, from `origin` if given.
async fn connect_plain(port: u16, params: Value, origin: Option<&str>) -> (Ws, Value) {
    let (mut ws, _) = open_from(port, origin).await;
    let res = send_connect(&mut ws, params).await;
    (ws, res)
}

/// The JSON file `name` of the state dir (`Null` when it does not exist).
fn state_json(gw: &TestGateway, name: &str) -> Value {
    std::fs::read_to_string(gw.state_dir().join(name))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null)
}

/// True when the pending-device store holds no request.
fn no_pending_devices(gw: &TestGateway) -> bool {
    match state_json(gw, "devices/pending.json") {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        other => panic!("unexpected pending.json {other}"),
    }
}

fn is_paired(gw: &TestGateway, key: &DeviceKeypair) -> bool {
    state_json(gw, "devices/paired.json")
        .get(key.device_id())
        .is_some()
}

/// A gateway that files pairing requests instead of approving loopback devices itself.
fn gateway_asking_for_approval() -> TestGateway {
    let config =
        r#"{ gateway: { mode: "local", nodes: { pairing: { autoApproveLocal: false } } } }"#;
    TestGateway::start_with(GatewayOptions::default().config(config))
}

/// Pairs `key` for `scopes` through an admin approval; returns the device token it receives.
async fn pair_through_admin(
    gw: &TestGateway,
    admin: &mut Ws,
    key: &DeviceKeypair,
    scopes: &[&str],
) -> String {
    let params = app("openclaw-macos", "ui", scopes, Some(TOKEN));
    let (_ws, res) = connect_device(gw.port, key, params.clone(), None).await;
    assert_eq!(res["error"]["details"]["code"], "PAIRING_REQUIRED", "{res}");
    let request_id = res["error"]["details"]["requestId"].as_str().unwrap();
    let approved = call(
        admin,
        "approve",
        "device.pair.approve",
        json!({"requestId": request_id}),
    )
    .await;
    assert_eq!(approved["ok"], true, "{approved}");
    let (_ws, res) = connect_device(gw.port, key, params, None).await;
    assert_eq!(res["ok"], true, "{res}");
    res["payload"]["auth"]["deviceToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ----- authentication before pairing --------------------------------------------------------

#[tokio::test]
async fn a_fresh_device_without_the_token_is_refused_on_loopback_and_never_paired() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let key = DeviceKeypair::generate().unwrap();
    let params = app("gateway-client", "backend", &["operator.admin"], None);
    let (mut ws, res) = connect_device(gw.port, &key, params, None).await;
    assert_eq!(res["ok"], false, "no token, no connection: {res}");
    assert_eq!(
        res["error"]["message"],
        "unauthorized: gateway token missing (provide gateway auth token)"
    );
    assert_eq!(res["error"]["details"]["code"], "AUTH_TOKEN_MISSING");
    let (code, reason) = recv_close(&mut ws).await;
    assert_eq!(
        (
            code,
            reason.starts_with("unauthorized: gateway token missing")
        ),
        (1008, true)
    );
    assert!(
        !is_paired(&gw, &key),
        "the device was paired without authenticating"
    );
    assert!(
        no_pending_devices(&gw),
        "a request was filed before authentication"
    );
    let list = call(&mut admin, "1", "device.pair.list", json!({})).await;
    assert_eq!(list["payload"]["pending"], json!([]), "{list}");

    // A wrong token is refused the same way (and a device cannot stand in for it).
    let params = app("cli", "cli", &["operator.admin"], Some("not-the-token"));
    let (_ws, res) = connect_device(gw.port, &key, params, None).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
        "{res}"
    );
    assert!(!is_paired(&gw, &key));
}

#[tokio::test]
async fn a_revoked_or_removed_device_cannot_come_back_without_the_secret() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    for method in ["device.token.revoke", "device.pair.remove"] {
        let key = DeviceKeypair::generate().unwrap();
        let params = app("openclaw-macos", "ui", &["operator.admin"], Some(TOKEN));
        let (_ws, res) = connect_device(gw.port, &key, params, None).await;
        assert_eq!(res["ok"], true, "{res}");
        let device_token = res["payload"]["auth"]["deviceToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_ws, res) = connect_device(
            gw.port,
            &key,
            app(
                "openclaw-macos",
                "ui",
                &["operator.admin"],
                Some(&device_token),
            ),
            None,
        )
        .await;
        assert_eq!(res["payload"]["auth"]["method"], "device-token", "{res}");

        let params = if method == "device.pair.remove" {
            json!({"deviceId": key.device_id()})
        } else {
            json!({"deviceId": key.device_id(), "role": "operator"})
        };
        let done = call(&mut admin, method, method, params).await;
        assert_eq!(done["ok"], true, "{done}");

        for auth in [Some(device_token.as_str()), None] {
            let params = app("openclaw-macos", "ui", &["operator.admin"], auth);
            let (_ws, res) = connect_device(gw.port, &key, params, None).await;
            assert_eq!(res["ok"], false, "{method}, auth {auth:?}: {res}");
            let message = res["error"]["message"].as_str().unwrap();
            assert!(message.starts_with("unauthorized"), "{method}: {message}");
        }
    }
}

// ----- browser origins -----------------------------------------------------------------------

#[tokio::test]
async fn a_foreign_web_page_is_refused_with_or_without_the_token() {
    let gw = TestGateway::start();
    let evil = Some("https://evil.example");
    let key = DeviceKeypair::generate().unwrap();
    let attempts = [
        (
            "device, no token",
            Some(&key),
            app("gateway-client", "backend", &["operator.admin"], None),
        ),
        (
            "device and token",
            Some(&key),
            app(
                "openclaw-control-ui",
                "webchat",
                &["operator.admin"],
                Some(TOKEN),
            ),
        ),
        (
            "token, no device",
            None,
            app("cli", "cli", &["operator.admin"], Some(TOKEN)),
        ),
    ];
    for (what, device, params) in attempts {
        let (mut ws, res) = match device {
            Some(key) => connect_device(gw.port, key, params, evil).await,
            None => connect_plain(gw.port, params, evil).await,
        };
        assert_eq!(res["ok"], false, "{what}: {res}");
        assert_eq!(res["error"]["code"], "INVALID_REQUEST", "{what}");
        assert_eq!(
            res["error"]["message"],
            "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)"
        );
        assert_eq!(
            res["error"]["details"]["code"],
            "CONTROL_UI_ORIGIN_NOT_ALLOWED"
        );
        assert_eq!(recv_close(&mut ws).await.0, 1008, "{what}");
    }
    assert!(!is_paired(&gw, &key));
    assert!(no_pending_devices(&gw));

    // DNS rebinding: the page's own name resolves to 127.0.0.1, Origin and Host agree.
    let (_ws, res) = connect_plain(
        gw.port,
        app("cli", "cli", &["operator.admin"], Some(TOKEN)),
        Some(&format!("http://rebind.example:{}", gw.port)),
    )
    .await;
    assert_eq!(
        res["error"]["details"]["code"], "CONTROL_UI_ORIGIN_NOT_ALLOWED",
        "{res}"
    );

    // The gateway's own origin, and clients without Origin, are unaffected.
    let own = format!("http://127.0.0.1:{}", gw.port);
    let (_ws, res) = connect_plain(gw.port, cli_params(Some(TOKEN)), Some(&own)).await;
    assert_eq!(res["ok"], true, "{res}");
    let (_ws, res) = connect_plain(gw.port, cli_params(Some(TOKEN)), None).await;
    assert_eq!(res["ok"], true, "{res}");
}

#[tokio::test]
async fn an_allowed_origin_pairs_silently_only_the_control_ui() {
    let config =
        r#"{ gateway: { mode: "local", controlUi: { allowedOrigins: ["https://ops.example"] } } }"#;
    let gw = TestGateway::start_with(GatewayOptions::default().config(config));
    let origin = Some("https://ops.example");

    // Another client id from a browser page: authenticated, but a pairing request, not a pairing.
    let key = DeviceKeypair::generate().unwrap();
    let params = app("cli", "cli", &["operator.admin"], Some(TOKEN));
    let (_ws, res) = connect_device(gw.port, &key, params, origin).await;
    assert_eq!(res["error"]["details"]["code"], "PAIRING_REQUIRED", "{res}");
    assert!(!is_paired(&gw, &key));

    // The Control UI from the allowed origin is approved on loopback like any local device.
    let ui = DeviceKeypair::generate().unwrap();
    let params = app(
        "openclaw-control-ui",
        "webchat",
        &["operator.read"],
        Some(TOKEN),
    );
    let (_ws, res) = connect_device(gw.port, &ui, params, origin).await;
    assert_eq!(res["ok"], true, "{res}");
    assert!(is_paired(&gw, &ui));
}

// ----- device management -------------------------------------------------------------------

#[tokio::test]
async fn a_pairing_only_device_manages_only_itself() {
    let gw = gateway_asking_for_approval();
    let (mut admin, _) = connected_cli(gw.port).await;
    let low = DeviceKeypair::generate().unwrap();
    let low_token = pair_through_admin(&gw, &mut admin, &low, &["operator.pairing"]).await;
    let other = DeviceKeypair::generate().unwrap();
    pair_through_admin(&gw, &mut admin, &other, &["operator.admin"]).await;

    // A pending request of a third device.
    let third = DeviceKeypair::generate().unwrap();
    let (_ws, res) = connect_device(
        gw.port,
        &third,
        app("openclaw-macos", "ui", &["operator.admin"], Some(TOKEN)),
        None,
    )
    .await;
    let third_request = res["error"]["details"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();

    // The low device, connected with its own device token.
    let (mut ws, res) = connect_device(
        gw.port,
        &low,
        app(
            "openclaw-macos",
            "ui",
            &["operator.pairing"],
            Some(&low_token),
        ),
        None,
    )
    .await;
    assert_eq!(
        res["payload"]["auth"]["scopes"],
        json!(["operator.pairing"]),
        "{res}"
    );

    let list = call(&mut ws, "l", "device.pair.list", json!({})).await;
    let paired: Vec<&str> = list["payload"]["paired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap())
        .collect();
    assert_eq!(paired, [low.device_id()], "{list}");
    assert_eq!(
        list["payload"]["pending"],
        json!([]),
        "another device's request is hidden"
    );

    let other_id = other.device_id();
    let attempts = [
        ("device.pair.approve", json!({"requestId": third_request})),
        ("device.pair.reject", json!({"requestId": third_request})),
        ("device.pair.remove", json!({"deviceId": other_id})),
        (
            "device.token.rotate",
            json!({"deviceId": other_id, "role": "operator"}),
        ),
        (
            "device.token.revoke",
            json!({"deviceId": other_id, "role": "operator"}),
        ),
    ];
    for (method, params) in attempts {
        let res = call(&mut ws, method, method, params).await;
        assert_eq!(res["error"]["code"], "FORBIDDEN", "{method}: {res}");
        assert_eq!(
            res["error"]["details"],
            json!({"code": "DEVICE_ACCESS_DENIED", "reason": "other-device"}),
            "{method}"
        );
    }
    // Nothing happened to the others.
    assert!(is_paired(&gw, &other));
    let full = call(&mut admin, "full", "device.pair.list", json!({})).await;
    assert!(full.to_string().contains(&third_request), "{full}");
}

#[tokio::test]
async fn a_scope_narrowed_device_cannot_rotate_itself_back_to_admin() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let key = DeviceKeypair::generate().unwrap();
    let id = key.device_id();
    // Paired with operator.admin approved (the ceiling), then narrowed by the owner.
    let (_ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.admin"], Some(TOKEN)),
        None,
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    let narrowed = call(
        &mut admin,
        "n",
        "device.token.rotate",
        json!({"deviceId": id, "role": "operator", "scopes": ["operator.pairing"]}),
    )
    .await;
    assert_eq!(
        narrowed["payload"]["scopes"],
        json!(["operator.pairing"]),
        "{narrowed}"
    );
    let (_ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.pairing"], Some(TOKEN)),
        None,
    )
    .await;
    let token = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // With the narrowed token it cannot ask for admin...
    let (mut ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.admin"], Some(&token)),
        None,
    )
    .await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_SCOPE_MISMATCH",
        "{res}"
    );
    assert_eq!(recv_close(&mut ws).await.0, 1008);

    // ...nor rotate its own token back to admin.
    let (mut ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.pairing"], Some(&token)),
        None,
    )
    .await;
    assert_eq!(
        res["payload"]["auth"]["scopes"],
        json!(["operator.pairing"]),
        "{res}"
    );
    for scopes in [
        json!(["operator.admin"]),
        json!(["operator.pairing", "operator.write"]),
    ] {
        let res = call(
            &mut ws,
            "r",
            "device.token.rotate",
            json!({"deviceId": id, "role": "operator", "scopes": scopes}),
        )
        .await;
        assert_eq!(res["error"]["code"], "FORBIDDEN", "{res}");
        assert_eq!(res["error"]["details"]["reason"], "scope-not-held");
    }
    let (_ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.admin"], Some(&token)),
        None,
    )
    .await;
    assert_eq!(res["ok"], false, "the token is still narrow: {res}");
}

#[tokio::test]
async fn hello_ok_reports_the_scopes_the_connection_holds() {
    let gw = TestGateway::start();
    let key = DeviceKeypair::generate().unwrap();
    let (_ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.admin"], Some(TOKEN)),
        None,
    )
    .await;
    let token = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // The admin token, used for a read-only connection: the connection holds read only.
    let (mut ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.read"], Some(&token)),
        None,
    )
    .await;
    assert_eq!(
        res["payload"]["auth"]["scopes"],
        json!(["operator.read"]),
        "{res}"
    );
    let denied = call(&mut ws, "1", "config.get", json!({})).await;
    assert_eq!(denied["error"]["message"], "missing scope: operator.admin");
}

#[tokio::test]
async fn approving_a_node_role_or_a_node_with_file_access_needs_admin() {
    let gw = gateway_asking_for_approval();
    let (mut admin, _) = connected_cli(gw.port).await;
    let key = DeviceKeypair::generate().unwrap();
    let token = pair_through_admin(
        &gw,
        &mut admin,
        &key,
        &["operator.pairing", "operator.write"],
    )
    .await;

    // The same device asks for the node role (a role upgrade)...
    let mut node = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "node-host", "version": "1", "platform": "linux", "mode": "node"},
        "role": "node", "scopes": [], "auth": {"token": TOKEN},
    });
    let (_n, res) = connect_device(gw.port, &key, node.take(), None).await;
    let request_id = res["error"]["details"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    // ...and cannot approve it for itself.
    let (mut ws, res) = connect_device(
        gw.port,
        &key,
        app(
            "openclaw-macos",
            "ui",
            &["operator.pairing", "operator.write"],
            Some(&token),
        ),
        None,
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    let res = call(
        &mut ws,
        "1",
        "device.pair.approve",
        json!({"requestId": request_id}),
    )
    .await;
    assert_eq!(res["error"]["code"], "FORBIDDEN", "{res}");
    assert_eq!(
        res["error"]["details"]["reason"],
        "node-role-requires-admin"
    );

    // A node declaring fs.listDir is approved only by an admin.
    let filed = call(
        &mut admin,
        "2",
        "node.pair.request",
        json!({"nodeId": "n-files", "commands": ["fs.listDir"]}),
    )
    .await;
    let node_request = filed["payload"]["request"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = call(
        &mut ws,
        "3",
        "node.pair.approve",
        json!({"requestId": node_request}),
    )
    .await;
    assert_eq!(
        res["error"]["message"], "missing scope: operator.admin",
        "{res}"
    );
    let res = call(
        &mut admin,
        "4",
        "node.pair.approve",
        json!({"requestId": node_request}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
}

#[tokio::test]
async fn revoking_its_own_token_ends_the_callers_connection_after_the_answer() {
    let gw = TestGateway::start();
    let key = DeviceKeypair::generate().unwrap();
    let (mut ws, res) = connect_device(
        gw.port,
        &key,
        app("openclaw-macos", "ui", &["operator.admin"], Some(TOKEN)),
        None,
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    // Revoke, with a request pipelined behind it.
    ws.send(req(
        "1",
        "device.token.revoke",
        json!({"deviceId": key.device_id(), "role": "operator"}),
    ))
    .await
    .unwrap();
    ws.send(req("2", "config.get", json!({}))).await.unwrap();
    let answer = recv_response(&mut ws, "1").await;
    assert_eq!(answer["ok"], true, "{answer}");
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                let frame: Value = serde_json::from_str(t.as_str()).unwrap();
                assert_ne!(
                    frame["id"], "2",
                    "a request after the revocation was served: {frame}"
                );
            }
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                let frame = frame.expect("close frame");
                assert_eq!(
                    (u16::from(frame.code), frame.reason.as_str()),
                    (1008, "device token revoked")
                );
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("stream ended without a close: {other:?}"),
        }
    }
}

// ----- pre-auth limits and pacing ------------------------------------------------------------

/// Sends a WebSocket upgrade from `source` and returns the response status.
async fn upgrade_status(port: u16, source: &str) -> (u16, tokio::net::TcpStream) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket
        .connect(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("status line in time")
            .unwrap();
        assert_eq!(n, 1, "closed before a status line");
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    (status, stream)
}

#[tokio::test]
async fn three_hundred_idle_sockets_from_one_address_get_32_and_others_are_unaffected() {
    let gw = TestGateway::start_with(
        GatewayOptions::default().env("OPENCLAW_HANDSHAKE_TIMEOUT_MS", "60000"),
    );
    let mut held = Vec::new();
    let (mut upgraded, mut refused) = (0, 0);
    for _ in 0..300 {
        let (status, stream) = upgrade_status(gw.port, "127.0.0.1").await;
        match status {
            101 => upgraded += 1,
            503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
        held.push(stream);
    }
    assert_eq!((upgraded, refused), (32, 268));
    // Another address still connects, authenticates and works.
    let (status, _s) = upgrade_status(gw.port, "127.0.0.2").await;
    assert_eq!(status, 101);
    // Closing the idle sockets frees the address.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _s) = upgrade_status(gw.port, "127.0.0.1").await;
        if status == 101 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the address stayed blocked after its sockets closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_ws, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["type"], "hello-ok");
}

#[tokio::test]
async fn a_thousand_unauthenticated_pairing_attempts_leave_the_pending_store_empty() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let port = gw.port;
    let mut refused = 0;
    for batch in 0..40 {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..25 {
            set.spawn(async move {
                let key = DeviceKeypair::generate().unwrap();
                let client = if (batch + i) % 2 == 0 {
                    "openclaw-macos"
                } else {
                    "node-host"
                };
                let mode = if client == "node-host" { "node" } else { "ui" };
                let mut params = app(client, mode, &["operator.admin"], None);
                if mode == "node" {
                    params["role"] = json!("node");
                    params["scopes"] = json!([]);
                }
                connect_device(port, &key, params, None).await.1
            });
        }
        while let Some(res) = set.join_next().await {
            let res = res.unwrap();
            assert_eq!(
                res["error"]["details"]["code"], "AUTH_TOKEN_MISSING",
                "{res}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 1000);
    assert!(
        no_pending_devices(&gw),
        "{}",
        state_json(&gw, "devices/pending.json")
    );
    assert_eq!(
        state_json(&gw, "devices/paired.json")
            .as_object()
            .map_or(0, |m| m.len()),
        0
    );
    let list = call(&mut admin, "1", "device.pair.list", json!({})).await;
    assert_eq!(list["payload"]["pending"], json!([]));
    // No `device.pair.requested` reached the admin meanwhile.
    while let Ok(Some(Ok(msg))) =
        tokio::time::timeout(Duration::from_millis(200), admin.next()).await
    {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            assert!(!t.as_str().contains("device.pair.requested"), "{t}");
        }
    }
}

#[tokio::test]
async fn wrong_tokens_from_one_address_are_answered_about_four_a_second() {
    let gw = TestGateway::start();
    let port = gw.port;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        set.spawn(async move {
            let sent = Instant::now();
            let (_ws, res) = connect_plain(
                port,
                app(
                    "cli",
                    "cli",
                    &["operator.admin"],
                    Some(&format!("guess-{i}")),
                ),
                None,
            )
            .await;
            (res, sent.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(outcome) = set.join_next().await {
        let (res, took) = outcome.unwrap();
        assert_eq!(
            res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
            "{res}"
        );
        assert!(
            took >= Duration::from_millis(240),
            "a wrong token was answered after {took:?}"
        );
        slowest = slowest.max(took);
    }
    // 12 guesses, one answer every 250 ms: the last comes ≥ 3 s after the first was sent.
    assert!(
        slowest >= Duration::from_millis(2900),
        "12 guesses answered within {slowest:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(2900));
    // The right token is not held up behind the guesses.
    let (_ws, res) = connect_plain(port, cli_params(Some(TOKEN)), None).await;
    assert_eq!(res["ok"], true);
}

// ----- canvas host, state dir ------------------------------------------------------------------

#[tokio::test]
async fn the_canvas_host_never_serves_dotfiles_and_hands_out_a_capability_url() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.html"), "<h1>canvas</h1>").unwrap();
    std::fs::write(root.path().join(".env"), "OPENAI_API_KEY=sk-secret").unwrap();
    std::fs::create_dir_all(root.path().join(".git")).unwrap();
    std::fs::write(root.path().join(".git/config"), "[remote]").unwrap();
    let config = format!(
        r#"{{ gateway: {{ mode: "local" }}, canvasHost: {{ root: {:?} }} }}"#,
        root.path()
    );
    let canvas_port = free_port();
    let gw = TestGateway::start_with(
        GatewayOptions::default()
            .config(&config)
            .env("OPENCLAW_CANVAS_HOST_PORT", &canvas_port.to_string()),
    );
    for port in [gw.port, canvas_port] {
        for path in [
            "/__openclaw__/canvas/.env",
            "/__openclaw__/canvas/%2eenv",
            "/__openclaw__/canvas/.git/config",
            "/__openclaw__/canvas/./.env",
        ] {
            let (code, body) = http_get(port, path).unwrap();
            assert_eq!(code, 404, "{path} on {port}: {body}");
            assert!(!body.contains("sk-secret"));
        }
        let (code, body) = http_get(port, "/__openclaw__/canvas/sub/../.env").unwrap();
        assert_eq!(code, 403, "dot-dot is refused before any lookup: {body}");
        assert_eq!(http_get(port, "/__openclaw__/canvas/").unwrap().0, 200);
    }
    let (_ws, hello) = connected_cli(gw.port).await;
    let url = hello["pluginSurfaceUrls"]["canvas"]
        .as_str()
        .expect("canvas URL")
        .to_owned();
    let path = url.split_once(&format!("127.0.0.1:{}", gw.port)).unwrap().1;
    assert!(path.starts_with("/__openclaw__/cap/"), "{url}");
    let (code, body) =
        http_get(gw.port, &format!("{path}/__openclaw__/canvas/index.html")).unwrap();
    assert_eq!((code, body.as_str()), (200, "<h1>canvas</h1>"));
    assert_eq!(http_get(gw.port, &format!("{path}/.env")).unwrap().0, 404);
    let wrong = format!("/__openclaw__/cap/{}/index.html", "0".repeat(64));
    assert_eq!(http_get(gw.port, &wrong).unwrap().0, 404);
}

#[test]
fn a_state_dir_readable_by_others_is_tightened_at_start_and_logged() {
    // The harness creates the state dir with the default umask (0755).
    let gw = TestGateway::start();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(gw.state_dir())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
    assert!(
        gw.stderr().contains("tightened it to 0700"),
        "{}",
        gw.stderr()
    );
}

// ----- idempotency across callers -------------------------------------------------------------

#[tokio::test]
async fn an_idempotency_key_reused_by_another_caller_is_not_answered_from_the_first_callers_result()
{
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let node_key = DeviceKeypair::generate().unwrap();
    let mut node_params = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "node-host", "version": "1", "platform": "linux", "mode": "node"},
        "role": "node", "scopes": [], "commands": ["system.notify"], "auth": {"token": TOKEN},
    });
    let (mut node, res) = connect_device(gw.port, &node_key, node_params.take(), None).await;
    assert_eq!(res["ok"], true, "{res}");
    let node_id = node_key.device_id();

    // The other caller: a paired device with operator.write.
    let caller = DeviceKeypair::generate().unwrap();
    let (mut other, res) = connect_device(
        gw.port,
        &caller,
        app("openclaw-macos", "ui", &["operator.write"], Some(TOKEN)),
        None,
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");

    let invoke = json!({"nodeId": node_id, "command": "system.notify", "params": {"title": "x"}, "idempotencyKey": "shared-key"});
    for (ws, answer) in [
        (&mut admin, "first caller's answer"),
        (&mut other, "second caller's answer"),
    ] {
        ws.send(req("inv", "node.invoke", invoke.clone()))
            .await
            .unwrap();
        let request = next_event(&mut node, "node.invoke.request", Duration::from_secs(5)).await;
        let id = request["payload"]["id"].as_str().unwrap().to_owned();
        let done = call(
            &mut node,
            "r",
            "node.invoke.result",
            json!({"id": id, "nodeId": node_id, "ok": true, "payload": {"answer": answer}}),
        )
        .await;
        assert_eq!(done["payload"], json!({"ok": true}), "{done}");
        let res = recv_response(ws, "inv").await;
        assert_eq!(
            res["payload"]["payload"],
            json!({"answer": answer}),
            "{res}"
        );
    }
}

/// R14/R15: a paired device's token is a WebSocket credential only; the HTTP APIs and the
/// webhooks take the gateway's shared secret (or the hooks' own token) and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_devices_token_opens_no_http_api_and_no_webhook() {
    let config = r#"{ gateway: { mode: "local", nodes: { pairing: { autoApproveLocal: false } },
        http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } } },
        hooks: { enabled: true, token: "hook-secret-for-the-security-test" } }"#;
    let gw = TestGateway::start_with(GatewayOptions::default().config(config));
    let (mut admin, _) = connected_cli(gw.port).await;
    let key = DeviceKeypair::generate().unwrap();
    let device_token = pair_through_admin(&gw, &mut admin, &key, &["operator.admin"]).await;
    let bearer = format!("Authorization: Bearer {device_token}\r\n");
    for (method, path, body) in [
        (
            "POST",
            "/v1/chat/completions",
            r#"{"messages":[{"role":"user","content":"hi"}]}"#,
        ),
        (
            "POST",
            "/v1/responses",
            r#"{"model":"openclaw","input":"hi"}"#,
        ),
        ("GET", "/v1/models", ""),
        ("POST", "/tools/invoke", r#"{"tool":"x"}"#),
        ("POST", "/hooks/agent", r#"{"message":"hi"}"#),
        ("POST", "/hooks/wake", r#"{"text":"hi"}"#),
    ] {
        let (code, _, answer) =
            support::http_client::request(gw.port, method, path, bearer.clone(), body);
        assert_eq!(code, 401, "{method} {path} with a device token: {answer}");
        assert!(!answer.contains(&device_token), "{answer}");
    }
}
