//! The connect handshake against the real gateway: success, and every pre-connect failure of the
//! spec's table with its exact close code and reason.

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn challenge_then_hello_ok_with_every_required_field() {
    let gw = TestGateway::start();
    let (mut ws, challenge) = open(gw.port).await;
    assert!(
        challenge.get("seq").is_none(),
        "the challenge carries no seq"
    );
    assert_eq!(challenge["payload"]["nonce"].as_str().unwrap().len(), 36);
    assert!(challenge["payload"]["ts"].as_u64().unwrap() > 1_700_000_000_000);
    let res = send_connect(&mut ws, cli_params(Some(TOKEN))).await;
    assert_eq!(res["ok"], true, "{res}");
    let hello = &res["payload"];
    assert_eq!(hello["type"], "hello-ok");
    assert_eq!(hello["protocol"], 4);
    assert_eq!(hello["server"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(hello["server"]["connId"].as_str().unwrap().len(), 36);
    let methods: Vec<&str> = hello["features"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let implemented: Vec<&str> = openclaw::gateway::methods::METHODS
        .iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        methods, implemented,
        "exactly the implemented methods are advertised"
    );
    assert!(
        hello["features"]["events"]
            .as_array()
            .unwrap()
            .contains(&json!("tick"))
    );
    assert_eq!(
        hello["policy"],
        json!({"maxPayload": 26214400, "maxBufferedBytes": 52428800, "tickIntervalMs": 30000})
    );
    let snapshot = &hello["snapshot"];
    assert!(
        snapshot["presence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["mode"] == "gateway" && e["reason"] == "self")
    );
    assert_eq!(snapshot["health"]["ok"], true);
    assert!(snapshot["stateVersion"]["presence"].as_u64().unwrap() >= 1);
    assert!(snapshot["uptimeMs"].is_u64());
    assert_eq!(snapshot["authMode"], "token", "admins see the auth mode");
    assert_eq!(hello["auth"]["role"], "operator");
    assert_eq!(hello["auth"]["method"], "token");
    assert!(
        hello["auth"]["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("operator.admin"))
    );
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/protocol/hello-ok.schema.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    assert!(
        validator.is_valid(hello),
        "hello-ok matches schemas/protocol/hello-ok.schema.json"
    );
}

async fn refused(port: u16, first: Message) -> (Option<Value>, (u16, String)) {
    let (mut ws, _) = open(port).await;
    ws.send(first).await.unwrap();
    let mut response = None;
    loop {
        use futures_util::StreamExt;
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("answer in time");
        match msg {
            Some(Ok(Message::Text(t))) => {
                response = Some(serde_json::from_str(t.as_str()).unwrap())
            }
            Some(Ok(Message::Close(Some(f)))) => {
                return (response, (u16::from(f.code), f.reason.to_string()));
            }
            Some(Ok(Message::Close(None))) => return (response, (1005, String::new())),
            Some(Ok(_)) => {}
            other => panic!("no close frame: {other:?}"),
        }
    }
}

fn connect_msg(params: Value) -> Message {
    req("c1", "connect", params)
}

#[tokio::test]
async fn pre_connect_failures_close_exactly_as_the_reference() {
    let gw = TestGateway::start();
    let port = gw.port;

    let (res, close) = refused(port, Message::Text("this is not json {".into())).await;
    assert_eq!((res, close), (None, (1000, String::new())), "non-JSON text");

    let (res, close) = refused(port, Message::Binary(vec![0u8, 1, 2].into())).await;
    assert_eq!(
        (res, close),
        (None, (1000, String::new())),
        "non-JSON binary"
    );

    let (res, close) = refused(port, Message::Text(r#"{"hello":"world"}"#.into())).await;
    assert_eq!(
        (res, close),
        (None, (1008, "invalid request frame".into())),
        "JSON that is not a frame"
    );

    let (res, close) = refused(port, req("h1", "health", json!({}))).await;
    let res = res.unwrap();
    assert_eq!(res["id"], "h1");
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert_eq!(
        res["error"]["message"],
        "invalid handshake: first request must be connect"
    );
    assert_eq!(
        close,
        (
            1008,
            "invalid handshake: first request must be connect".into()
        )
    );

    let (res, close) = refused(port, connect_msg(json!({"minProtocol": 4}))).await;
    let msg = "invalid connect params: must have required property 'maxProtocol'";
    assert_eq!(res.unwrap()["error"]["message"], msg);
    assert_eq!(close, (1008, msg.into()));

    let (res, close) = refused(port, connect_msg(cli_params(Some("wrong-token")))).await;
    let res = res.unwrap();
    let msg = "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)";
    assert_eq!(res["error"]["message"], msg);
    assert_eq!(
        res["error"]["details"],
        json!({"code": "AUTH_TOKEN_MISMATCH", "authReason": "token_mismatch", "canRetryWithDeviceToken": false, "recommendedNextStep": "update_auth_credentials"})
    );
    assert_eq!(close, (1008, msg.into()));

    let mut backend = cli_params(Some("wrong-token"));
    backend["client"] =
        json!({"id": "gateway-client", "version": "1", "platform": "linux", "mode": "backend"});
    let (res, _) = refused(port, connect_msg(backend.clone())).await;
    assert_eq!(
        res.unwrap()["error"]["message"],
        "unauthorized: gateway token mismatch (provide gateway auth token)"
    );

    backend.as_object_mut().unwrap().remove("auth");
    let (res, close) = refused(port, connect_msg(backend)).await;
    let res = res.unwrap();
    assert_eq!(res["error"]["code"], "NOT_PAIRED");
    assert_eq!(res["error"]["message"], "device identity required");
    assert_eq!(res["error"]["details"]["code"], "DEVICE_IDENTITY_REQUIRED");
    assert_eq!(close, (1008, "device identity required".into()));

    for (min, max) in [(99, 99), (1, 3)] {
        let mut p = cli_params(Some(TOKEN));
        p["minProtocol"] = json!(min);
        p["maxProtocol"] = json!(max);
        let (res, close) = refused(port, connect_msg(p)).await;
        let res = res.unwrap();
        assert_eq!(res["error"]["message"], "protocol mismatch");
        assert_eq!(
            res["error"]["details"],
            json!({"code": "PROTOCOL_MISMATCH", "clientMinProtocol": min, "clientMaxProtocol": max, "expectedProtocol": 4, "minimumProbeProtocol": 3})
        );
        assert_eq!(close, (1002, "protocol mismatch".into()));
    }

    let mut p = cli_params(Some(TOKEN));
    p["role"] = json!("admin");
    let (res, close) = refused(port, connect_msg(p)).await;
    assert_eq!(res.unwrap()["error"]["message"], "invalid role");
    assert_eq!(close, (1008, "invalid role".into()));
}

#[tokio::test]
async fn nodes_and_probes_may_speak_protocol_3() {
    let gw = TestGateway::start();
    let (mut ws, _) = open(gw.port).await;
    let mut p = cli_params(Some(TOKEN));
    p["minProtocol"] = json!(3);
    p["maxProtocol"] = json!(3);
    p["client"] =
        json!({"id": "openclaw-probe", "version": "1", "platform": "linux", "mode": "probe"});
    p["scopes"] = json!([]);
    let res = send_connect(&mut ws, p).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["protocol"], 3);
}

#[tokio::test]
async fn a_silent_client_is_closed_1000_after_the_handshake_timeout() {
    let gw = TestGateway::start_with(
        GatewayOptions::default().env("OPENCLAW_HANDSHAKE_TIMEOUT_MS", "300"),
    );
    let (mut ws, _) = open(gw.port).await;
    let started = std::time::Instant::now();
    assert_eq!(recv_close(&mut ws).await, (1000, String::new()));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test]
async fn an_oversize_pre_auth_frame_is_refused_with_1009() {
    let gw = TestGateway::start();
    let (mut ws, _) = open(gw.port).await;
    let big = format!(
        "{{\"type\":\"req\",\"id\":\"1\",\"method\":\"connect\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(70 * 1024)
    );
    let _ = ws.send(Message::Text(big.into())).await;
    let (code, _) = recv_close(&mut ws).await;
    assert_eq!(code, 1009);
    // The gateway keeps serving others.
    let (_ws, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["type"], "hello-ok");
}

#[tokio::test]
async fn failed_auth_is_rate_limited_per_address_when_loopback_is_not_exempt() {
    let config = r#"{ gateway: { mode: "local", auth: { rateLimit: { maxAttempts: 3, exemptLoopback: false, lockoutMs: 60000 } } } }"#;
    let gw = TestGateway::start_with(GatewayOptions::default().config(config));
    for attempt in 0..3 {
        let (res, _) = refused(gw.port, connect_msg(cli_params(Some("bad")))).await;
        assert_eq!(
            res.unwrap()["error"]["details"]["code"],
            "AUTH_TOKEN_MISMATCH",
            "attempt {attempt}"
        );
    }
    let (res, close) = refused(gw.port, connect_msg(cli_params(Some(TOKEN)))).await;
    let res = res.unwrap();
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_RATE_LIMITED",
        "{res}"
    );
    assert_eq!(res["error"]["retryable"], true);
    let retry = res["error"]["retryAfterMs"].as_u64().unwrap();
    assert!(retry > 50_000 && retry <= 60_000, "{retry}");
    assert_eq!(close.0, 1008);
}

#[tokio::test]
async fn loopback_clients_are_exempt_from_the_rate_limit_by_default() {
    let gw = TestGateway::start();
    for _ in 0..12 {
        let (res, _) = refused(gw.port, connect_msg(cli_params(Some("bad")))).await;
        assert_eq!(
            res.unwrap()["error"]["details"]["code"],
            "AUTH_TOKEN_MISMATCH"
        );
    }
    let (_ws, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["type"], "hello-ok");
}

#[tokio::test]
async fn binary_frames_carrying_json_are_accepted() {
    let gw = TestGateway::start();
    let (mut ws, _) = open(gw.port).await;
    let frame =
        json!({"type": "req", "id": "b1", "method": "connect", "params": cli_params(Some(TOKEN))});
    ws.send(Message::Binary(frame.to_string().into_bytes().into()))
        .await
        .unwrap();
    let res = recv_response(&mut ws, "b1").await;
    assert_eq!(res["ok"], true, "{res}");
}

#[tokio::test]
async fn a_node_without_a_device_identity_is_refused_even_with_the_shared_token() {
    let gw = TestGateway::start();
    let params = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "node-host", "version": "1", "platform": "linux", "mode": "node"},
        "role": "node", "scopes": [], "commands": ["system.run"],
        "auth": {"token": TOKEN},
    });
    let (res, close) = refused(gw.port, connect_msg(params)).await;
    let res = res.unwrap();
    assert_eq!(res["error"]["code"], "NOT_PAIRED");
    assert_eq!(res["error"]["details"]["code"], "DEVICE_IDENTITY_REQUIRED");
    assert_eq!(close, (1008, "device identity required".into()));
}
