//! After the handshake: methods, scopes, events, devices and pairing, slow consumers, shutdown.

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use openclaw::gateway::device_identity::{DeviceKeypair, PayloadVersion};
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn unknown_methods_and_bad_params_are_errors_and_the_connection_stays_open() {
    let gw = TestGateway::start();
    let (mut ws, _) = connected_cli(gw.port).await;
    let res = call(&mut ws, "1", "no.such.method", json!({})).await;
    assert_eq!(res["ok"], false);
    assert_eq!(
        res["error"],
        json!({"code": "INVALID_REQUEST", "message": "unknown method: no.such.method"})
    );
    let res = call(&mut ws, "2", "logs.tail", json!({"limit": 0})).await;
    assert_eq!(
        res["error"]["message"],
        "invalid logs.tail params: at /limit: must be >= 1"
    );
    let res = call(&mut ws, "3", "set-heartbeats", json!({})).await;
    assert_eq!(
        res["error"]["message"],
        "invalid set-heartbeats params: must have required property 'enabled'"
    );
    let res = call(&mut ws, "4", "health", json!({"surprise": true})).await;
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    ws.send(Message::Text(r#"{"type":"event","event":"x"}"#.into()))
        .await
        .unwrap();
    let res = recv_response(&mut ws, "invalid").await;
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid request frame"),
        "{res}"
    );
    ws.send(Message::Text("not json at all".into()))
        .await
        .unwrap();
    let res = call(&mut ws, "5", "health", json!({})).await;
    assert_eq!(res["ok"], true, "still serving: {res}");
    assert_eq!(res["payload"]["ok"], true);
}

#[tokio::test]
async fn a_request_without_params_is_accepted() {
    let gw = TestGateway::start();
    let (mut ws, _) = connected_cli(gw.port).await;
    ws.send(Message::Text(
        r#"{"type":"req","id":"np","method":"health"}"#.into(),
    ))
    .await
    .unwrap();
    assert_eq!(recv_response(&mut ws, "np").await["ok"], true);
}

#[tokio::test]
async fn scopes_are_enforced_with_forbidden_missing_scope() {
    let gw = TestGateway::start();
    let (mut ws, _) = open(gw.port).await;
    let mut p = cli_params(Some(TOKEN));
    p["client"] =
        json!({"id": "openclaw-probe", "version": "1", "platform": "linux", "mode": "probe"});
    p["scopes"] = json!([]);
    assert_eq!(send_connect(&mut ws, p).await["ok"], true);
    let res = call(&mut ws, "1", "health", json!({})).await;
    assert_eq!(res["error"]["code"], "FORBIDDEN");
    assert_eq!(res["error"]["message"], "missing scope: operator.read");
    assert_eq!(res["error"]["details"]["code"], "MISSING_SCOPE");

    let (mut ws, _) = open(gw.port).await;
    let mut p = cli_params(Some(TOKEN));
    p["scopes"] = json!(["operator.read"]);
    assert_eq!(send_connect(&mut ws, p).await["ok"], true);
    assert_eq!(call(&mut ws, "1", "health", json!({})).await["ok"], true);
    let res = call(&mut ws, "2", "config.get", json!({})).await;
    assert_eq!(res["error"]["message"], "missing scope: operator.admin");
}

#[tokio::test]
async fn ticks_arrive_at_the_configured_cadence_with_per_connection_seq() {
    let gw =
        TestGateway::start_with(GatewayOptions::default().env("OPENCLAW_TICK_INTERVAL_MS", "200"));
    let (mut ws, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["policy"]["tickIntervalMs"], 200);
    let mut seqs = vec![];
    let mut times = vec![];
    while seqs.len() < 4 {
        let tick = next_event(&mut ws, "tick", Duration::from_secs(3)).await;
        assert!(tick["payload"]["ts"].is_u64());
        seqs.push(tick["seq"].as_u64().unwrap());
        times.push(Instant::now());
    }
    assert_eq!(
        seqs,
        [1, 2, 3, 4],
        "first event on a fresh connection has seq 1"
    );
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap > Duration::from_millis(120) && gap < Duration::from_millis(600),
            "{gap:?}"
        );
    }
}

#[tokio::test]
async fn presence_tracks_ui_clients_but_not_cli_and_is_broadcast() {
    let gw = TestGateway::start();
    let (mut admin, hello) = connected_cli(gw.port).await;
    let before = hello["snapshot"]["stateVersion"]["presence"]
        .as_u64()
        .unwrap();
    let list = call(&mut admin, "1", "system-presence", json!({})).await["payload"].clone();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the gateway itself; CLI clients are not tracked: {list}"
    );

    let (mut ui, _) = open(gw.port).await;
    let mut p = cli_params(Some(TOKEN));
    p["client"] = json!({"id": "webchat", "version": "9.9", "platform": "web", "mode": "webchat", "displayName": "Browser", "instanceId": "inst-1"});
    assert_eq!(send_connect(&mut ui, p).await["ok"], true);
    let event = next_event(&mut admin, "presence", Duration::from_secs(3)).await;
    assert!(event["stateVersion"]["presence"].as_u64().unwrap() > before);
    let entries = event["payload"]["presence"].as_array().unwrap();
    let entry = entries
        .iter()
        .find(|e| e["host"] == "Browser")
        .expect("ui client in presence");
    assert_eq!(entry["reason"], "connect");
    assert_eq!(entry["mode"], "webchat");
    assert!(entry.get("ip").is_none(), "loopback IPs are not reported");

    drop(ui);
    let event = next_event(&mut admin, "presence", Duration::from_secs(3)).await;
    let entries = event["payload"]["presence"].as_array().unwrap();
    assert_eq!(
        entries.iter().find(|e| e["host"] == "Browser").unwrap()["reason"],
        "disconnect"
    );

    let res = call(&mut admin, "2", "system-event", json!({"text": "Node: mac (10.0.0.2) · app 1.0 · mode node", "host": "mac", "deviceId": "dev-9"})).await;
    assert_eq!(res["payload"], json!({"ok": true}));
    let list = call(&mut admin, "3", "system-presence", json!({})).await["payload"].clone();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|e| e["deviceId"] == "dev-9")
    );
    let res = call(&mut admin, "4", "system-event", json!({"text": "   "})).await;
    assert_eq!(res["error"]["message"], "text required");
}

#[tokio::test]
async fn logs_tail_reads_the_gateway_log_with_a_cursor() {
    let gw = TestGateway::start();
    let (mut ws, _) = connected_cli(gw.port).await;
    let first = call(&mut ws, "1", "logs.tail", json!({"limit": 50})).await["payload"].clone();
    assert!(
        first["file"].as_str().unwrap().ends_with(".jsonl"),
        "{first}"
    );
    let lines = first["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.as_str().unwrap().contains("listening on ws://127.0.0.1")),
        "{first}"
    );
    let record: Value = serde_json::from_str(lines[0].as_str().unwrap()).unwrap();
    assert!(record["_meta"]["logLevelName"].is_string() && record["time"].is_string());
    let cursor = first["cursor"].as_u64().unwrap();
    assert_eq!(cursor, first["size"].as_u64().unwrap());
    let next = call(&mut ws, "2", "logs.tail", json!({"cursor": cursor})).await["payload"].clone();
    assert_eq!(next["reset"], false);
    let reset = call(
        &mut ws,
        "3",
        "logs.tail",
        json!({"cursor": cursor + 1_000_000}),
    )
    .await["payload"]
        .clone();
    assert_eq!(reset["reset"], true);
}

#[tokio::test]
async fn config_get_never_reveals_secrets() {
    let config = r#"{ gateway: { mode: "local", auth: { token: "config-secret-token" } }, custom: { apiKey: "sk-live-123" } }"#;
    let gw = TestGateway::start_with(GatewayOptions::default().config(config));
    let (mut ws, _) = connected_cli(gw.port).await;
    let res = call(&mut ws, "1", "config.get", json!({})).await;
    let text = res.to_string();
    assert!(
        !text.contains("config-secret-token") && !text.contains("sk-live-123"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
    let payload = &res["payload"];
    assert_eq!(payload["exists"], true);
    assert_eq!(payload["valid"], true);
    assert_eq!(payload["parsed"]["gateway"]["mode"], "local");
    assert_eq!(payload["hash"].as_str().unwrap().len(), 64);
    assert!(
        payload["raw"]
            .as_str()
            .unwrap()
            .contains("__OPENCLAW_REDACTED__")
    );
}

fn app_params(token: &str) -> Value {
    json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "openclaw-macos", "version": "2026.9.6", "platform": "macos", "mode": "ui", "deviceFamily": "Mac", "instanceId": "i-1"},
        "role": "operator", "scopes": ["operator.admin"],
        "auth": {"token": token},
    })
}

#[tokio::test]
async fn a_signed_device_is_paired_locally_and_its_device_token_works_on_reconnect() {
    let gw = TestGateway::start();
    let key = DeviceKeypair::generate().unwrap();
    let (mut ws, challenge) = open(gw.port).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap();
    let mut p = app_params(TOKEN);
    p["device"] = signed_device_as(&key, nonce, &p, PayloadVersion::V3, now_ms());
    let res = send_connect(&mut ws, p).await;
    assert_eq!(res["ok"], true, "{res}");
    let device_token = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("device token issued")
        .to_owned();
    assert_eq!(res["payload"]["auth"]["scopes"], json!(["operator.admin"]));
    let paired: Value = serde_json::from_str(
        &std::fs::read_to_string(gw.state_dir().join("devices/paired.json")).unwrap(),
    )
    .unwrap();
    assert!(
        paired.get(key.device_id()).is_some(),
        "paired record persisted"
    );
    drop(ws);

    // Reconnect with only the device token (no shared token).
    let (mut ws, challenge) = open(gw.port).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap();
    let mut p = app_params(&device_token);
    p["device"] = signed_device_as(&key, nonce, &p, PayloadVersion::V4, now_ms());
    let res = send_connect(&mut ws, p).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["auth"]["method"], "device-token");
    assert_eq!(
        call(&mut ws, "1", "config.get", json!({})).await["ok"],
        true,
        "admin scope kept"
    );

    // A wrong device token is refused.
    let (mut ws, challenge) = open(gw.port).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap();
    let mut p = app_params("not-the-device-token");
    p["device"] = signed_device_as(&key, nonce, &p, PayloadVersion::V3, now_ms());
    let res = send_connect(&mut ws, p).await;
    assert_eq!(res["ok"], false);
    assert_eq!(recv_close(&mut ws).await.0, 1008);
}

#[tokio::test]
async fn each_device_check_refuses_with_its_message_and_code() {
    let gw = TestGateway::start();
    let key = DeviceKeypair::generate().unwrap();
    let other = DeviceKeypair::generate().unwrap();
    type Tamper = Box<dyn Fn(&mut Value, &str)>;
    let cases: Vec<(&str, &str, Tamper)> = vec![
        (
            "device identity mismatch",
            "DEVICE_AUTH_DEVICE_ID_MISMATCH",
            Box::new(|d: &mut Value, _: &str| d["id"] = json!("00".repeat(32))),
        ),
        (
            "device signature expired",
            "DEVICE_AUTH_SIGNATURE_EXPIRED",
            Box::new(|_: &mut Value, _: &str| {}),
        ),
        (
            "device nonce required",
            "DEVICE_AUTH_NONCE_REQUIRED",
            Box::new(|d: &mut Value, _: &str| {
                d.as_object_mut().unwrap().remove("nonce");
            }),
        ),
        (
            "device nonce mismatch",
            "DEVICE_AUTH_NONCE_MISMATCH",
            Box::new(|d: &mut Value, _: &str| d["nonce"] = json!("another-nonce")),
        ),
        (
            "device signature invalid",
            "DEVICE_AUTH_SIGNATURE_INVALID",
            Box::new(|d: &mut Value, _: &str| d["scopes_tampered"] = json!(true)),
        ),
    ];
    for (message, code, tamper) in cases {
        let (mut ws, challenge) = open(gw.port).await;
        let nonce = challenge["payload"]["nonce"].as_str().unwrap().to_owned();
        let mut p = app_params(TOKEN);
        let signed_at = if code == "DEVICE_AUTH_SIGNATURE_EXPIRED" {
            now_ms() - 11 * 60_000
        } else {
            now_ms()
        };
        let mut device = signed_device_as(&key, &nonce, &p, PayloadVersion::V3, signed_at);
        tamper(&mut device, &nonce);
        if code == "DEVICE_AUTH_SIGNATURE_INVALID" {
            device.as_object_mut().unwrap().remove("scopes_tampered");
            let forged = signed_device_as(&other, &nonce, &p, PayloadVersion::V3, signed_at);
            device["signature"] = forged["signature"].clone();
        }
        p["device"] = device;
        let res = send_connect(&mut ws, p).await;
        assert_eq!(res["error"]["message"], message, "{res}");
        assert_eq!(res["error"]["details"]["code"], code);
        assert_eq!(recv_close(&mut ws).await, (1008, message.to_owned()));
    }
}

#[tokio::test]
async fn a_remote_device_needs_pairing_approval() {
    // Loopback is the only address here, so disable local auto-approval to see the request path.
    let config =
        r#"{ gateway: { mode: "local", nodes: { pairing: { autoApproveLocal: false } } } }"#;
    let gw = TestGateway::start_with(GatewayOptions::default().config(config));
    let (mut admin, _) = connected_cli(gw.port).await;
    let key = DeviceKeypair::generate().unwrap();
    let (mut ws, challenge) = open(gw.port).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap();
    let mut p = app_params(TOKEN);
    p["device"] = signed_device_as(&key, nonce, &p, PayloadVersion::V3, now_ms());
    let res = send_connect(&mut ws, p).await;
    assert_eq!(res["error"]["code"], "NOT_PAIRED", "{res}");
    let details = &res["error"]["details"];
    assert_eq!(details["code"], "PAIRING_REQUIRED");
    assert_eq!(details["reason"], "not-paired");
    let request_id = details["requestId"].as_str().unwrap();
    let (code, reason) = recv_close(&mut ws).await;
    assert_eq!(code, 1008);
    assert_eq!(
        reason,
        format!("pairing required: device is not approved yet (requestId: {request_id})")
    );
    let event = next_event(&mut admin, "device.pair.requested", Duration::from_secs(3)).await;
    assert_eq!(event["payload"]["deviceId"], key.device_id());
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_as_a_slow_consumer_and_others_keep_their_ticks() {
    // A 2 MB send-buffer cap and a 1 MB log make a client that stops reading overflow quickly.
    let options = GatewayOptions::default()
        .env("OPENCLAW_TICK_INTERVAL_MS", "100")
        .env("OPENCLAW_MAX_BUFFERED_BYTES", "2000000");
    let gw = TestGateway::start_with(options);
    let logs = gw.state_dir().join("logs");
    let file = std::fs::read_dir(&logs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let line = format!("{}\n", "x".repeat(1000));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    for _ in 0..1000 {
        std::io::Write::write_all(&mut f, line.as_bytes()).unwrap();
    }
    let (mut good, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["policy"]["maxBufferedBytes"], 2_000_000);
    let (mut slow, _) = connected_cli(gw.port).await;
    for i in 0..64 {
        slow.send(req(
            &format!("r{i}"),
            "logs.tail",
            json!({"maxBytes": 1_000_000, "limit": 5000}),
        ))
        .await
        .unwrap();
    }
    // While the slow client reads nothing, the good one keeps getting its ticks (15 are due in
    // 1.5 s; the bound leaves room for a machine busy with other builds, a stalled client gets
    // none)...
    let started = Instant::now();
    let mut ticks = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        next_event(&mut good, "tick", Duration::from_secs(3)).await;
        ticks += 1;
    }
    assert!(ticks >= 5, "good client got {ticks} ticks in 1.5 s");
    // ...and the gateway drops the slow one once its buffer passes the cap.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = call(
            &mut good,
            &format!("s{}", started.elapsed().as_millis()),
            "status",
            json!({}),
        )
        .await;
        if status["payload"]["connections"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slow consumer never dropped: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        next_event(&mut good, "tick", Duration::from_secs(1)).await["event"],
        "tick"
    );
    // The slow client, once it reads again, finds the 1008 close after what was already sent.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut close = None;
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), slow.next()).await {
            Ok(Some(Ok(Message::Close(Some(f))))) => {
                close = Some((u16::from(f.code), f.reason.to_string()));
                break;
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    assert_eq!(close, Some((1008, "slow consumer".to_owned())));
}

#[tokio::test]
async fn sigterm_during_traffic_sends_shutdown_then_1012_and_exits_0_fast() {
    let mut gw = TestGateway::start();
    let mut clients = vec![];
    for _ in 0..5 {
        clients.push(connected_cli(gw.port).await.0);
    }
    let port = gw.port;
    let traffic = tokio::spawn(async move {
        let (mut ws, _) = connected_cli(port).await;
        for i in 0.. {
            if ws
                .send(req(&format!("t{i}"), "health", json!({})))
                .await
                .is_err()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiter = std::thread::spawn(move || {
        let result = gw.signal_and_wait("TERM", Duration::from_secs(10));
        (result, gw)
    });
    for mut ws in clients {
        let shutdown = next_event(&mut ws, "shutdown", Duration::from_secs(5)).await;
        assert_eq!(
            shutdown["payload"],
            json!({"reason": "gateway stopping", "restartExpectedMs": null})
        );
        assert_eq!(
            recv_close(&mut ws).await,
            (1012, "service restart".to_owned())
        );
    }
    let ((code, took), gw) = waiter.join().unwrap();
    assert_eq!(code, Some(0), "{}", gw.stderr());
    assert!(took < Duration::from_secs(5), "{took:?}");
    traffic.abort();
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[tokio::test]
async fn connections_closed_by_clients_are_released_and_shutdown_stays_fast() {
    let mut gw = TestGateway::start();
    let pid = gw.child.id();
    // Warm up: the first connection may open lazily created files (log file, identity).
    drop(connected_cli(gw.port).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let baseline = open_fds(pid);
    for _ in 0..50 {
        let (mut ws, _) = connected_cli(gw.port).await;
        assert_eq!(call(&mut ws, "h", "health", json!({})).await["ok"], true);
        ws.close(None).await.unwrap();
        drop(ws);
        // Pre-auth connections closed by the client too.
        let (ws, _) = open(gw.port).await;
        drop(ws);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds(pid) > baseline + 2 {
        assert!(
            Instant::now() < deadline,
            "file descriptors leak: {} open vs {baseline} before",
            open_fds(pid)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, took) = gw.signal_and_wait("TERM", Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(
        took < Duration::from_secs(2),
        "shutdown took {took:?}: {}",
        gw.stderr()
    );
    assert!(
        !gw.stderr().contains("shutdown timed out"),
        "{}",
        gw.stderr()
    );
}

#[tokio::test]
async fn the_cached_health_summary_follows_set_heartbeats_and_is_broadcast() {
    let gw = TestGateway::start();
    let (mut ws, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["snapshot"]["health"]["heartbeatsEnabled"], true);
    let version = hello["snapshot"]["stateVersion"]["health"]
        .as_u64()
        .unwrap();
    ws.send(req("1", "set-heartbeats", json!({"enabled": false})))
        .await
        .unwrap();
    let (mut res, mut event) = (None, None);
    while res.is_none() || event.is_none() {
        let frame = recv_json(&mut ws).await;
        if frame["type"] == "res" && frame["id"] == "1" {
            res = Some(frame);
        } else if frame["type"] == "event" && frame["event"] == "health" {
            event = Some(frame);
        }
    }
    let (res, event) = (res.unwrap(), event.unwrap());
    assert_eq!(res["payload"], json!({"ok": true, "enabled": false}));
    assert_eq!(event["payload"]["heartbeatsEnabled"], false);
    assert!(event["stateVersion"]["health"].as_u64().unwrap() > version);
    let health = call(&mut ws, "2", "health", json!({})).await;
    assert_eq!(health["payload"]["heartbeatsEnabled"], false);
}
