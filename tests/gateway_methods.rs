//! Node, pairing, send and agent methods against the real binary: `node.invoke` through a second
//! connection acting as a node, pairing approval over RPC, device token rotation and revocation,
//! the `node.pair.*` flow, and the honest answers of `send` and `agent`.

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use openclaw::gateway::device_identity::DeviceKeypair;
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

/// Opens a socket and sends `connect` with `params` signed by `key`.
async fn connect_signed(port: u16, key: &DeviceKeypair, mut params: Value) -> (Ws, Value) {
    let (mut ws, challenge) = open(port).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap().to_owned();
    params["device"] = signed_device(key, &nonce, &params);
    let res = send_connect(&mut ws, params).await;
    (ws, res)
}

fn node_params(commands: &[&str]) -> Value {
    json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "node-host", "version": "1.2.3", "platform": "linux", "mode": "node", "displayName": "Build Box"},
        "role": "node", "scopes": [], "caps": ["system"], "commands": commands,
        "auth": {"token": TOKEN},
    })
}

/// A node connection (signed device, paired locally); returns it with its node id.
async fn connect_node(port: u16, commands: &[&str]) -> (Ws, String) {
    let key = DeviceKeypair::generate().unwrap();
    let (ws, res) = connect_signed(port, &key, node_params(commands)).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["auth"]["role"], "node");
    (ws, key.device_id())
}

fn app_params(token: &str) -> Value {
    json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "openclaw-macos", "version": "2026.9.6", "platform": "macos", "mode": "ui", "deviceFamily": "Mac", "instanceId": "app-1"},
        "role": "operator", "scopes": ["operator.admin"],
        "auth": {"token": token},
    })
}

/// True when no frame matching `pred` arrives within `within` (other frames are skipped).
async fn quiet_for(ws: &mut Ws, within: Duration, pred: impl Fn(&Value) -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) | Ok(None) => return true,
            Ok(Some(Ok(Message::Text(t)))) => {
                let frame: Value = serde_json::from_str(t.as_str()).unwrap();
                if pred(&frame) {
                    return false;
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("stream error: {e}"),
        }
    }
}

fn is_invoke_request(frame: &Value) -> bool {
    frame["type"] == "event" && frame["event"] == "node.invoke.request"
}

/// Calls `method` and returns its response with the event `event` it caused (the gateway
/// broadcasts before it answers, so the event may come first).
async fn call_expecting_event(
    ws: &mut Ws,
    id: &str,
    method: &str,
    params: Value,
    event: &str,
) -> (Value, Value) {
    ws.send(req(id, method, params)).await.unwrap();
    let (mut res, mut ev) = (None, None);
    while res.is_none() || ev.is_none() {
        let frame = recv_json(ws).await;
        if frame["type"] == "res" && frame["id"] == id {
            res = Some(frame);
        } else if frame["type"] == "event" && frame["event"] == event {
            ev = Some(frame);
        }
    }
    (res.unwrap(), ev.unwrap())
}

#[tokio::test]
async fn node_invoke_round_trips_through_a_node_connection_and_is_deduplicated() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let (mut node, node_id) =
        connect_node(gw.port, &["system.which", "camera.snap", "system.which"]).await;

    let list = call(&mut admin, "l1", "node.list", json!({})).await;
    let nodes = list["payload"]["nodes"].as_array().unwrap();
    let entry = nodes
        .iter()
        .find(|n| n["nodeId"] == node_id)
        .expect("listed");
    assert_eq!(entry["connected"], true);
    assert_eq!(entry["paired"], true, "paired locally as a node device");
    assert_eq!(entry["displayName"], "Build Box");
    assert_eq!(
        entry["commands"],
        json!(["system.which"]),
        "camera.snap is not allowlisted by default; duplicates dropped"
    );

    admin
        .send(req(
            "inv1",
            "node.invoke",
            json!({"nodeId": node_id, "command": "system.which", "params": {"bins": ["git"]}, "idempotencyKey": "k-1"}),
        ))
        .await
        .unwrap();
    let request = next_event(&mut node, "node.invoke.request", Duration::from_secs(5)).await;
    assert!(request["seq"].is_u64(), "{request}");
    let p = &request["payload"];
    assert_eq!(p["nodeId"], node_id.as_str());
    assert_eq!(p["command"], "system.which");
    assert_eq!(p["idempotencyKey"], "k-1");
    let params: Value = serde_json::from_str(p["paramsJSON"].as_str().unwrap()).unwrap();
    assert_eq!(params, json!({"bins": ["git"]}));
    let id = p["id"].as_str().unwrap().to_owned();

    let res = call(
        &mut node,
        "r1",
        "node.invoke.result",
        json!({"id": id, "nodeId": node_id, "ok": true, "payloadJSON": "{\"path\":\"/usr/bin/git\"}"}),
    )
    .await;
    assert_eq!(res["payload"], json!({"ok": true}), "{res}");
    let answer = recv_response(&mut admin, "inv1").await;
    assert_eq!(
        answer["payload"],
        json!({"ok": true, "nodeId": node_id, "command": "system.which", "payload": {"path": "/usr/bin/git"}, "payloadJSON": "{\"path\":\"/usr/bin/git\"}"}),
        "{answer}"
    );

    // Same key: the stored answer, and the node is not asked again.
    let again = call(
        &mut admin,
        "inv2",
        "node.invoke",
        json!({"nodeId": node_id, "command": "system.which", "params": {"bins": ["git"]}, "idempotencyKey": "k-1"}),
    )
    .await;
    assert_eq!(again["payload"], answer["payload"]);
    assert!(
        quiet_for(&mut node, Duration::from_millis(300), is_invoke_request).await,
        "a replay must not reach the node"
    );

    // node.presence.alive refreshes the node's presence entry.
    let res = call(
        &mut node,
        "e1",
        "node.event",
        json!({"event": "node.presence.alive", "payload": {"trigger": "background"}}),
    )
    .await;
    assert_eq!(res["payload"], json!({"ok": true}));
    let described = call(
        &mut admin,
        "d1",
        "node.describe",
        json!({"nodeId": node_id}),
    )
    .await;
    assert_eq!(
        described["payload"]["lastSeenReason"], "background",
        "{described}"
    );
    assert!(described["payload"]["ts"].is_u64());
    let unknown = call(&mut admin, "d2", "node.describe", json!({"nodeId": "nope"})).await;
    assert_eq!(
        unknown["error"],
        json!({"code": "INVALID_REQUEST", "message": "unknown nodeId"})
    );
}

#[tokio::test]
async fn node_invoke_errors_follow_the_spec() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let (mut node, node_id) = connect_node(gw.port, &["system.which", "camera.snap"]).await;

    let res = call(
        &mut admin,
        "1",
        "node.invoke",
        json!({"nodeId": "ghost", "command": "system.which", "idempotencyKey": "a"}),
    )
    .await;
    assert_eq!(res["error"]["code"], "UNAVAILABLE", "{res}");
    assert_eq!(res["error"]["message"], "node not connected");
    assert_eq!(res["error"]["details"], json!({"code": "NOT_CONNECTED"}));

    let res = call(
        &mut admin,
        "2",
        "node.invoke",
        json!({"nodeId": node_id, "command": "camera.snap", "idempotencyKey": "b"}),
    )
    .await;
    assert_eq!(
        res["error"],
        json!({"code": "INVALID_REQUEST", "message": "node command not allowed", "details": {"reason": "command not allowlisted", "command": "camera.snap"}})
    );
    let res = call(
        &mut admin,
        "3",
        "node.invoke",
        json!({"nodeId": node_id, "command": "system.run", "idempotencyKey": "c"}),
    )
    .await;
    assert_eq!(
        res["error"]["details"],
        json!({"reason": "command not declared by node", "command": "system.run"})
    );
    let res = call(
        &mut admin,
        "3b",
        "node.invoke",
        json!({"nodeId": node_id, "command": "system.which"}),
    )
    .await;
    assert_eq!(
        res["error"]["message"],
        "invalid node.invoke params: must have required property 'idempotencyKey'"
    );

    // The node's own error.
    admin
        .send(req(
            "4",
            "node.invoke",
            json!({"nodeId": node_id, "command": "system.which", "idempotencyKey": "d"}),
        ))
        .await
        .unwrap();
    let request = next_event(&mut node, "node.invoke.request", Duration::from_secs(5)).await;
    let id = request["payload"]["id"].as_str().unwrap().to_owned();
    assert!(request["payload"].get("paramsJSON").is_none());
    let res = call(
        &mut node,
        "r",
        "node.invoke.result",
        json!({"id": id, "nodeId": node_id, "ok": false, "error": {"code": "E_FAIL", "message": "boom"}, "payloadJSON": null}),
    )
    .await;
    assert_eq!(
        res["payload"],
        json!({"ok": true}),
        "null fields are tolerated: {res}"
    );
    let res = recv_response(&mut admin, "4").await;
    assert_eq!(
        res["error"],
        json!({"code": "UNAVAILABLE", "message": "boom", "details": {"nodeError": {"code": "E_FAIL", "message": "boom"}}})
    );

    // A timeout is retryable; the late result is ignored.
    let started = Instant::now();
    let res = call(
        &mut admin,
        "5",
        "node.invoke",
        json!({"nodeId": node_id, "command": "system.which", "timeoutMs": 300, "idempotencyKey": "e"}),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(res["error"]["code"], "UNAVAILABLE", "{res}");
    assert_eq!(res["error"]["message"], "node invoke timed out");
    assert_eq!(res["error"]["retryable"], true);
    let request = next_event(&mut node, "node.invoke.request", Duration::from_secs(5)).await;
    assert_eq!(request["payload"]["timeoutMs"], 300);
    let late_id = request["payload"]["id"].as_str().unwrap().to_owned();
    let res = call(
        &mut node,
        "late",
        "node.invoke.result",
        json!({"id": late_id, "nodeId": node_id, "ok": true}),
    )
    .await;
    assert_eq!(res["payload"], json!({"ok": true, "ignored": true}));

    // A result for another node id is refused.
    let res = call(
        &mut node,
        "mm",
        "node.invoke.result",
        json!({"id": late_id, "nodeId": "someone-else", "ok": true}),
    )
    .await;
    assert_eq!(
        res["error"],
        json!({"code": "INVALID_REQUEST", "message": "nodeId mismatch"})
    );

    // Roles: operators cannot answer invokes, nodes cannot call operator methods.
    let res = call(
        &mut admin,
        "6",
        "node.invoke.result",
        json!({"id": "x", "nodeId": "y", "ok": true}),
    )
    .await;
    assert_eq!(res["error"]["code"], "FORBIDDEN");
    let res = call(&mut node, "7", "node.list", json!({})).await;
    assert_eq!(res["error"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn a_node_that_disconnects_fails_its_pending_invokes_at_once() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let (mut node, node_id) = connect_node(gw.port, &["system.which"]).await;
    admin
        .send(req(
            "1",
            "node.invoke",
            json!({"nodeId": node_id, "command": "system.which", "timeoutMs": 30000, "idempotencyKey": "dc"}),
        ))
        .await
        .unwrap();
    next_event(&mut node, "node.invoke.request", Duration::from_secs(5)).await;
    let started = Instant::now();
    node.close(None).await.unwrap();
    drop(node);
    let res = recv_response(&mut admin, "1").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(res["error"]["code"], "UNAVAILABLE", "{res}");
    assert_eq!(res["error"]["message"], "node disconnected (system.which)");
    assert_eq!(res["error"]["details"]["code"], "NOT_CONNECTED");
    // The failure was not stored: a retry with the same key is tried again.
    let res = call(
        &mut admin,
        "2",
        "node.invoke",
        json!({"nodeId": node_id, "command": "system.which", "idempotencyKey": "dc"}),
    )
    .await;
    assert_eq!(res["error"]["message"], "node not connected");
}

#[tokio::test]
async fn device_pairing_is_approved_over_rpc_and_the_issued_device_token_works() {
    let config =
        r#"{ gateway: { mode: "local", nodes: { pairing: { autoApproveLocal: false } } } }"#;
    let gw = TestGateway::start_with(GatewayOptions::default().config(config));
    let (mut admin, _) = connected_cli(gw.port).await;
    let key = DeviceKeypair::generate().unwrap();
    let (mut ws, res) = connect_signed(gw.port, &key, app_params(TOKEN)).await;
    assert_eq!(res["error"]["code"], "NOT_PAIRED", "{res}");
    let request_id = res["error"]["details"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    recv_close(&mut ws).await;

    let list = call(&mut admin, "1", "device.pair.list", json!({})).await;
    let pending = list["payload"]["pending"].as_array().unwrap();
    assert!(
        pending
            .iter()
            .any(|r| r["requestId"] == request_id.as_str()),
        "{list}"
    );

    // A caller with only operator.pairing manages only its own device: another device's
    // request is not its to approve.
    let (mut pairing_only, _) = open(gw.port).await;
    let mut p = cli_params(Some(TOKEN));
    p["scopes"] = json!(["operator.pairing"]);
    assert_eq!(send_connect(&mut pairing_only, p).await["ok"], true);
    let res = call(
        &mut pairing_only,
        "x",
        "device.pair.approve",
        json!({"requestId": request_id}),
    )
    .await;
    assert_eq!(res["error"]["code"], "FORBIDDEN", "{res}");
    assert_eq!(
        res["error"]["details"],
        json!({"code": "DEVICE_ACCESS_DENIED", "reason": "other-device"})
    );

    let (res, event) = call_expecting_event(
        &mut admin,
        "2",
        "device.pair.approve",
        json!({"requestId": request_id}),
        "device.pair.resolved",
    )
    .await;
    assert_eq!(res["payload"]["requestId"], request_id.as_str(), "{res}");
    assert_eq!(res["payload"]["device"]["deviceId"], key.device_id());
    assert_eq!(event["payload"]["decision"], "approved");
    assert_eq!(event["payload"]["requestId"], request_id.as_str());
    let res = call(
        &mut admin,
        "3",
        "device.pair.approve",
        json!({"requestId": request_id}),
    )
    .await;
    assert_eq!(res["error"]["message"], "unknown requestId");

    // Paired now: the shared token connects and a device token is issued...
    let (_ws, res) = connect_signed(gw.port, &key, app_params(TOKEN)).await;
    assert_eq!(res["ok"], true, "{res}");
    let device_token = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // ...and that device token alone connects.
    let (mut ws, res) = connect_signed(gw.port, &key, app_params(&device_token)).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["auth"]["method"], "device-token");

    // Lists never contain tokens.
    let list = call(&mut admin, "4", "device.pair.list", json!({})).await;
    let text = list.to_string();
    assert!(!text.contains(&device_token), "{text}");
    let paired = list["payload"]["paired"].as_array().unwrap();
    let device = paired
        .iter()
        .find(|d| d["deviceId"] == key.device_id())
        .unwrap();
    assert_eq!(device["connected"], true);
    assert_eq!(device["tokens"][0]["role"], "operator");
    assert!(device["tokens"][0].get("token").is_none());

    // Rejecting another request, and removing the paired device (its connection is closed).
    let other = DeviceKeypair::generate().unwrap();
    let (_x, res) = connect_signed(gw.port, &other, app_params(TOKEN)).await;
    let other_request = res["error"]["details"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = call(
        &mut admin,
        "5",
        "device.pair.reject",
        json!({"requestId": other_request}),
    )
    .await;
    assert_eq!(
        res["payload"],
        json!({"requestId": other_request, "deviceId": other.device_id()})
    );
    let res = call(
        &mut admin,
        "6",
        "device.pair.remove",
        json!({"deviceId": key.device_id()}),
    )
    .await;
    assert_eq!(res["payload"], json!({"deviceId": key.device_id()}));
    assert_eq!(
        recv_close(&mut ws).await,
        (1008, "device pairing removed".to_owned())
    );
}

#[tokio::test]
async fn device_tokens_rotate_in_band_only_for_the_same_device_and_revoke() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let key = DeviceKeypair::generate().unwrap();
    let device_id = key.device_id();
    let (mut ws, res) = connect_signed(gw.port, &key, app_params(TOKEN)).await;
    assert_eq!(res["ok"], true, "{res}");
    let first = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // The device rotates its own token: the new one comes back in-band.
    let res = call(
        &mut ws,
        "1",
        "device.token.rotate",
        json!({"deviceId": device_id, "role": "operator"}),
    )
    .await;
    assert_eq!(res["payload"]["tokenDelivery"], "in-band", "{res}");
    assert_eq!(res["payload"]["scopes"], json!(["operator.admin"]));
    let second = res["payload"]["token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (_old, res) = connect_signed(gw.port, &key, app_params(&first)).await;
    assert_eq!(res["ok"], false, "the old token is gone: {res}");
    let (_ws2, res) = connect_signed(gw.port, &key, app_params(&second)).await;
    assert_eq!(res["ok"], true, "{res}");

    // Another caller rotating it gets metadata only.
    let res = call(
        &mut admin,
        "2",
        "device.token.rotate",
        json!({"deviceId": device_id, "role": "operator"}),
    )
    .await;
    assert_eq!(res["payload"]["tokenDelivery"], "withheld-cross-device");
    assert!(res["payload"].get("token").is_none(), "{res}");
    assert!(res["payload"]["rotatedAtMs"].is_u64());
    let (_x, res) = connect_signed(gw.port, &key, app_params(&second)).await;
    assert_eq!(res["ok"], false);

    // The shared token still works and hands the device its current token; revoking it closes
    // the device's connection and the token stops working.
    let (mut ws3, res) = connect_signed(gw.port, &key, app_params(TOKEN)).await;
    let third = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = call(
        &mut admin,
        "3",
        "device.token.revoke",
        json!({"deviceId": device_id, "role": "operator"}),
    )
    .await;
    assert_eq!(res["payload"]["deviceId"], device_id.as_str(), "{res}");
    assert_eq!(res["payload"]["role"], "operator");
    assert!(res["payload"]["revokedAtMs"].is_u64());
    assert_eq!(
        recv_close(&mut ws3).await,
        (1008, "device token revoked".to_owned())
    );
    let (_y, res) = connect_signed(gw.port, &key, app_params(&third)).await;
    assert_eq!(res["ok"], false, "{res}");

    let res = call(
        &mut admin,
        "4",
        "device.token.rotate",
        json!({"deviceId": "unknown-device", "role": "operator"}),
    )
    .await;
    assert_eq!(
        res["error"],
        json!({"code": "INVALID_REQUEST", "message": "unknown deviceId"})
    );
}

#[tokio::test]
async fn node_pairing_request_approve_verify_rename_and_remove() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let request = json!({"nodeId": "n-1", "displayName": "Kitchen", "platform": "ios", "commands": ["canvas.snapshot"]});
    let (res, event) = call_expecting_event(
        &mut admin,
        "1",
        "node.pair.request",
        request.clone(),
        "node.pair.requested",
    )
    .await;
    assert_eq!(res["payload"]["status"], "pending", "{res}");
    assert_eq!(res["payload"]["created"], true);
    let request_id = res["payload"]["request"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(event["payload"]["requestId"], request_id.as_str());
    let res = call(&mut admin, "2", "node.pair.request", request).await;
    assert_eq!(res["payload"]["created"], false);
    assert_eq!(
        res["payload"]["request"]["requestId"],
        request_id.as_str(),
        "refreshed"
    );

    let list = call(&mut admin, "3", "node.pair.list", json!({})).await;
    assert_eq!(
        list["payload"]["pending"][0]["requestId"],
        request_id.as_str()
    );

    let (res, event) = call_expecting_event(
        &mut admin,
        "4",
        "node.pair.approve",
        json!({"requestId": request_id}),
        "node.pair.resolved",
    )
    .await;
    assert_eq!(res["payload"]["node"]["nodeId"], "n-1", "{res}");
    let token = res["payload"]["node"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        (&event["payload"]["decision"], &event["payload"]["nodeId"]),
        (&json!("approved"), &json!("n-1"))
    );

    let list = call(&mut admin, "5", "node.pair.list", json!({})).await;
    assert_eq!(list["payload"]["paired"][0]["nodeId"], "n-1");
    assert!(
        !list.to_string().contains(&token),
        "lists never hold tokens"
    );

    let res = call(
        &mut admin,
        "6",
        "node.pair.verify",
        json!({"nodeId": "n-1", "token": token}),
    )
    .await;
    assert_eq!(res["payload"]["ok"], true);
    assert!(!res.to_string().contains(&token));
    let res = call(
        &mut admin,
        "7",
        "node.pair.verify",
        json!({"nodeId": "n-1", "token": "wrong"}),
    )
    .await;
    assert_eq!(res["payload"], json!({"ok": false}));

    let res = call(
        &mut admin,
        "8",
        "node.rename",
        json!({"nodeId": "n-1", "displayName": "Pantry"}),
    )
    .await;
    assert_eq!(
        res["payload"],
        json!({"nodeId": "n-1", "displayName": "Pantry"})
    );
    let described = call(&mut admin, "9", "node.describe", json!({"nodeId": "n-1"})).await;
    let node = &described["payload"];
    assert_eq!(
        (&node["displayName"], &node["paired"], &node["connected"]),
        (&json!("Pantry"), &json!(true), &json!(false)),
        "{described}"
    );
    assert_eq!(node["commands"], json!(["canvas.snapshot"]));

    // A second request is rejected.
    let res = call(
        &mut admin,
        "10",
        "node.pair.request",
        json!({"nodeId": "n-2"}),
    )
    .await;
    let second = res["payload"]["request"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = call(
        &mut admin,
        "11",
        "node.pair.reject",
        json!({"requestId": second}),
    )
    .await;
    assert_eq!(
        res["payload"],
        json!({"requestId": second, "nodeId": "n-2"})
    );

    let res = call(
        &mut admin,
        "12",
        "node.pair.remove",
        json!({"nodeId": "n-1"}),
    )
    .await;
    assert_eq!(res["payload"], json!({"nodeId": "n-1"}));
    let res = call(&mut admin, "13", "node.describe", json!({"nodeId": "n-1"})).await;
    assert_eq!(res["error"]["message"], "unknown nodeId");
    let res = call(
        &mut admin,
        "14",
        "node.rename",
        json!({"nodeId": "n-1", "displayName": "x"}),
    )
    .await;
    assert_eq!(res["error"]["message"], "unknown nodeId");
}

#[tokio::test]
async fn send_and_agent_answer_honestly_and_deduplicate_by_key() {
    let gw = TestGateway::start();
    let (mut admin, _) = connected_cli(gw.port).await;
    let send = json!({"to": "+15550100", "message": "hi", "idempotencyKey": "s-1"});
    let first = call(&mut admin, "1", "send", send.clone()).await;
    assert_eq!(first["ok"], false);
    assert_eq!(first["error"]["code"], "NOT_LINKED", "{first}");
    assert_eq!(
        first["error"]["message"],
        "no channel is linked; configure a channel first"
    );
    let second = call(&mut admin, "2", "send", send).await;
    assert_eq!(second["error"], first["error"]);
    let res = call(&mut admin, "3", "send", json!({"to": "+1"})).await;
    assert_eq!(
        res["error"]["message"],
        "invalid send params: must have required property 'idempotencyKey'"
    );

    // No model is configured: the run cannot start, and the one answer says what to set.
    let agent = json!({"message": "hello", "idempotencyKey": "run-1"});
    let first = call(&mut admin, "4", "agent", agent.clone()).await;
    assert_eq!(first["ok"], false, "{first}");
    let fix = "agent main has no model: set agents.defaults.model (or agents.entries.main.model) to a configured provider/model";
    assert_eq!(
        first["payload"],
        json!({"runId": "run-1", "status": "error", "summary": fix})
    );
    assert_eq!(first["error"]["code"], "UNAVAILABLE");
    assert_eq!(first["error"]["message"], fix);
    assert!(
        quiet_for(&mut admin, Duration::from_millis(300), |f| f["type"]
            == "res"
            && f["id"] == "4")
        .await,
        "exactly one response: never an accepted ack for a run that cannot start"
    );
    let second = call(&mut admin, "5", "agent", agent).await;
    assert_eq!(
        (&second["payload"], &second["error"]),
        (&first["payload"], &first["error"])
    );

    // Both need operator.write.
    let (mut reader, _) = open(gw.port).await;
    let mut p = cli_params(Some(TOKEN));
    p["scopes"] = json!(["operator.read"]);
    assert_eq!(send_connect(&mut reader, p).await["ok"], true);
    for (id, method, params) in [
        ("6", "send", json!({"to": "x", "idempotencyKey": "s-2"})),
        (
            "7",
            "agent",
            json!({"message": "m", "idempotencyKey": "r-2"}),
        ),
        (
            "8",
            "node.invoke",
            json!({"nodeId": "n", "command": "c", "idempotencyKey": "i"}),
        ),
    ] {
        let res = call(&mut reader, id, method, params).await;
        assert_eq!(
            res["error"]["message"], "missing scope: operator.write",
            "{method}"
        );
    }
}

#[tokio::test]
async fn every_new_method_is_advertised_in_hello_ok() {
    let gw = TestGateway::start();
    let (_ws, hello) = connected_cli(gw.port).await;
    let methods: Vec<&str> = hello["features"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for method in [
        "node.list",
        "node.describe",
        "node.rename",
        "node.invoke",
        "node.invoke.result",
        "node.event",
        "node.pair.request",
        "node.pair.list",
        "node.pair.approve",
        "node.pair.reject",
        "node.pair.verify",
        "node.pair.remove",
        "device.pair.list",
        "device.pair.approve",
        "device.pair.reject",
        "device.pair.remove",
        "device.token.rotate",
        "device.token.revoke",
        "send",
        "agent",
    ] {
        assert!(methods.contains(&method), "{method} not advertised");
    }
}
