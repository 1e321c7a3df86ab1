//! Node methods against the real binary: `node.list`/`node.describe`, and `node.invoke` through
//! a second connection acting as a node (round trip, errors, timeout, disconnect, dedupe).

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use openclaw::gateway::device_identity::{
    DeviceKeypair, PayloadVersion, SignedFields, build_payload,
};
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Signs `params` for `key` with the challenge `nonce` (v3 payload).
fn signed_device(key: &DeviceKeypair, nonce: &str, params: &Value) -> Value {
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
    let signed_at = now_ms();
    let payload = build_payload(
        PayloadVersion::V3,
        &fields,
        &key.device_id(),
        signed_at,
        Some(nonce),
    );
    json!({"id": key.device_id(), "publicKey": key.public_key_base64url(), "signature": key.sign(&payload), "signedAt": signed_at, "nonce": nonce})
}

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
