//! `node.invoke` and `node.invoke.result`: forward a command to a connected node and wait for
//! its answer.
//!
//! The operator's request becomes the targeted, non-droppable event `node.invoke.request {id,
//! nodeId, command, paramsJSON?, timeoutMs?, idempotencyKey?}` sent only to that node. The node
//! answers with `node.invoke.result {id, nodeId, ok, payload?, payloadJSON?, error?}`, matched
//! by `id` in [`PendingInvokes`] (bounded). The wait ends with the node's result, a timeout
//! (`timeoutMs`, default 30 s, clamped to 1 ms ..= 10 min), or the node's disconnect, which
//! fails its pending invokes at once.
//!
//! Commands that run code, read files or proxy a browser
//! ([`requires_admin`](crate::gateway::node_commands::requires_admin)) need `operator.admin`.
//!
//! Idempotency: the cache key is `node.invoke:<caller>:<nodeId>:<command>:<idempotencyKey>`
//! (the caller is its device id, or `shared-secret`). A retry while the first request
//! is in flight waits for its answer; the node's answer (success or node error) is replayed for
//! 5 minutes. Answers that a retry could change — node not connected, command not allowed,
//! timeout, disconnect — are not stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use crate::gateway::node_commands::{CommandPolicy, Platform, requires_admin};
use crate::gateway::outbound::{Outgoing, SendOutcome};
use crate::gateway::registry::{ConnInfo, shared_payload};
use crate::gateway::state::{GatewayState, lock, now_ms};
use crate::protocol::constants::scope;
use crate::protocol::errors::GatewayError;

/// Wait when the caller gives no `timeoutMs`.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Longest wait a caller may ask for.
pub const MAX_TIMEOUT_MS: u64 = 600_000;
/// Most invokes waiting for a node at once (gateway-wide).
pub const MAX_PENDING: usize = 1024;

/// What a node answered.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeReply {
    /// `node.invoke.result`.
    Result {
        /// Whether the command succeeded.
        ok: bool,
        /// Result payload.
        payload: Option<Value>,
        /// Result payload as JSON text.
        payload_json: Option<String>,
        /// The node's error (`{code?, message?}`).
        error: Option<Value>,
    },
    /// The node's connection closed first.
    Disconnected,
}

#[derive(Debug)]
struct Pending {
    node_id: String,
    conn_id: String,
    tx: oneshot::Sender<NodeReply>,
}

/// Invokes waiting for their node, by request id.
#[derive(Debug, Clone)]
pub struct PendingInvokes {
    map: Arc<Mutex<HashMap<String, Pending>>>,
    max: usize,
}

impl Default for PendingInvokes {
    fn default() -> Self {
        Self::new(MAX_PENDING)
    }
}

/// Removes its pending invoke when dropped (answered, timed out, or the caller went away).
#[derive(Debug)]
pub struct PendingGuard {
    map: Arc<Mutex<HashMap<String, Pending>>>,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        lock(&self.map).remove(&self.id);
    }
}

impl PendingInvokes {
    /// A table holding at most `max` pending invokes.
    pub fn new(max: usize) -> Self {
        Self {
            map: Arc::default(),
            max,
        }
    }

    /// Registers invoke `id` for the node `node_id` on connection `conn_id`.
    pub fn register(
        &self,
        id: &str,
        node_id: &str,
        conn_id: &str,
    ) -> Result<(oneshot::Receiver<NodeReply>, PendingGuard), GatewayError> {
        let mut map = lock(&self.map);
        if map.len() >= self.max {
            return Err(
                GatewayError::unavailable("too many node invokes in flight").retry_after(1000)
            );
        }
        let (tx, rx) = oneshot::channel();
        map.insert(
            id.to_owned(),
            Pending {
                node_id: node_id.to_owned(),
                conn_id: conn_id.to_owned(),
                tx,
            },
        );
        Ok((
            rx,
            PendingGuard {
                map: self.map.clone(),
                id: id.to_owned(),
            },
        ))
    }

    /// Delivers a node's result; false when no invoke `id` of `node_id` is waiting (late).
    pub fn resolve(&self, id: &str, node_id: &str, reply: NodeReply) -> bool {
        let mut map = lock(&self.map);
        match map.get(id) {
            Some(p) if p.node_id == node_id => {}
            _ => return false,
        }
        map.remove(id)
            .is_some_and(|pending| pending.tx.send(reply).is_ok())
    }

    /// Fails every invoke waiting on connection `conn_id`; returns how many.
    pub fn fail_connection(&self, conn_id: &str) -> usize {
        let mut map = lock(&self.map);
        let ids: Vec<String> = map
            .iter()
            .filter(|(_, p)| p.conn_id == conn_id)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ids {
            if let Some(pending) = map.remove(id) {
                let _ = pending.tx.send(NodeReply::Disconnected);
            }
        }
        ids.len()
    }

    /// Number of waiting invokes.
    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn str_param<'a>(params: &'a Map<String, Value>, key: &str) -> &'a str {
    params
        .get(key)
        .and_then(Value::as_str)
        .map_or("", str::trim)
}

/// `node.invoke`.
pub async fn invoke(
    state: &Arc<GatewayState>,
    info: &ConnInfo,
    params: Map<String, Value>,
) -> Result<Value, GatewayError> {
    let node_id = str_param(&params, "nodeId").to_owned();
    let command = str_param(&params, "command").to_owned();
    let key = str_param(&params, "idempotencyKey").to_owned();
    if node_id.is_empty() || command.is_empty() {
        return Err(GatewayError::invalid_request("nodeId and command required"));
    }
    if command.starts_with("system.execApprovals.") {
        return Err(GatewayError::invalid_request(
            "node.invoke does not allow system.execApprovals.*; use exec.approvals.node.*",
        )
        .with_details(json!({"command": command})));
    }
    if requires_admin(&command) && !info.has_scope(scope::ADMIN) {
        return Err(GatewayError::missing_scope(scope::ADMIN, &[scope::ADMIN]));
    }
    // One caller's key never answers another caller's request: the cache key names the
    // caller (its device, else the shared-secret holder), the node and the command.
    let caller = info.device_id.as_deref().unwrap_or("shared-secret");
    let cache_key = format!("node.invoke:{caller}:{node_id}:{command}:{key}");
    let request = InvokeRequest {
        node_id,
        command,
        key: key.clone(),
        params: params.get("params").cloned(),
        timeout_ms: params.get("timeoutMs").and_then(Value::as_u64),
    };
    let cache = state.idempotency.clone();
    let state = state.clone();
    cache
        .run(&cache_key, now_ms, move || async move {
            request.send_and_wait(&state).await
        })
        .await
}

struct InvokeRequest {
    node_id: String,
    command: String,
    key: String,
    params: Option<Value>,
    timeout_ms: Option<u64>,
}

fn not_connected() -> GatewayError {
    GatewayError::unavailable("node not connected").with_details(json!({"code": "NOT_CONNECTED"}))
}

impl InvokeRequest {
    /// Sends the request to the node and waits; the flag tells whether to store the answer.
    async fn send_and_wait(self, state: &GatewayState) -> (Result<Value, GatewayError>, bool) {
        let Some((sender, node)) = state.registry.node_sender(&self.node_id) else {
            return (Err(not_connected()), false);
        };
        let policy = CommandPolicy::from_config(&state.settings.config);
        let platform = Platform::detect(&node.platform, node.device_family.as_deref());
        if let Err(reason) = policy.check(platform, &node.commands, &self.command) {
            let error = GatewayError::invalid_request("node command not allowed")
                .with_details(json!({"reason": reason, "command": self.command}));
            return (Err(error), false);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let (rx, _guard) = match state.invokes.register(&id, &self.node_id, &node.conn_id) {
            Ok(registered) => registered,
            Err(e) => return (Err(e), false),
        };
        let mut event = json!({"id": id, "nodeId": self.node_id, "command": self.command});
        if let Some(params) = &self.params {
            event["paramsJSON"] = json!(params.to_string());
        }
        if let Some(ms) = self.timeout_ms {
            event["timeoutMs"] = json!(ms);
        }
        if !self.key.is_empty() {
            event["idempotencyKey"] = json!(self.key);
        }
        let item = Outgoing::Event {
            name: Arc::from("node.invoke.request"),
            payload: shared_payload(&event),
            state_version: None,
        };
        if sender.offer(item, false) != SendOutcome::Queued {
            return (
                Err(GatewayError::unavailable("failed to send invoke to node").retryable()),
                false,
            );
        }
        let wait = self
            .timeout_ms
            .unwrap_or(DEFAULT_TIMEOUT_MS)
            .clamp(1, MAX_TIMEOUT_MS);
        match tokio::time::timeout(Duration::from_millis(wait), rx).await {
            Err(_) => {
                let error = GatewayError::unavailable("node invoke timed out")
                    .with_details(json!({"nodeError": {"code": "TIMEOUT", "message": "node invoke timed out"}}))
                    .retryable();
                (Err(error), false)
            }
            Ok(Err(_)) | Ok(Ok(NodeReply::Disconnected)) => {
                let error =
                    GatewayError::unavailable(format!("node disconnected ({})", self.command))
                        .with_details(json!({"code": "NOT_CONNECTED"}))
                        .retryable();
                (Err(error), false)
            }
            Ok(Ok(NodeReply::Result {
                ok: true,
                payload,
                payload_json,
                ..
            })) => {
                let payload = match &payload_json {
                    Some(text) => parse_payload_json(text),
                    None => payload,
                };
                let mut answer =
                    json!({"ok": true, "nodeId": self.node_id, "command": self.command});
                if let Some(payload) = payload {
                    answer["payload"] = payload;
                }
                answer["payloadJSON"] = payload_json.map_or(Value::Null, Value::String);
                (Ok(answer), true)
            }
            Ok(Ok(NodeReply::Result { error, .. })) => {
                let message = error
                    .as_ref()
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or("node invoke failed")
                    .to_owned();
                let error = GatewayError::unavailable(message)
                    .with_details(json!({"nodeError": error.unwrap_or(Value::Null)}));
                (Err(error), true)
            }
        }
    }
}

/// Upstream's lenient parse of `payloadJSON`: blank is no payload, invalid JSON is wrapped.
fn parse_payload_json(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(serde_json::from_str(trimmed).unwrap_or_else(|_| json!({"payloadJSON": text})))
}

/// Drops `null` optional fields some node clients send, before the params schema check.
pub fn normalize_result_params(params: &mut Value) {
    if let Some(map) = params.as_object_mut() {
        for key in ["payloadJSON", "error", "payload"] {
            if map.get(key).is_some_and(Value::is_null) {
                map.remove(key);
            }
        }
    }
}

/// `node.invoke.result` (node role only).
pub fn result(
    state: &GatewayState,
    info: &ConnInfo,
    params: &Map<String, Value>,
) -> Result<Value, GatewayError> {
    let id = str_param(params, "id");
    let node_id = str_param(params, "nodeId");
    if info.node_id.as_deref() != Some(node_id) {
        return Err(GatewayError::invalid_request("nodeId mismatch"));
    }
    let reply = NodeReply::Result {
        ok: params.get("ok").and_then(Value::as_bool).unwrap_or(false),
        payload: params.get("payload").cloned(),
        payload_json: params
            .get("payloadJSON")
            .and_then(Value::as_str)
            .map(str::to_owned),
        error: params.get("error").cloned(),
    };
    if state.invokes.resolve(id, node_id, reply) {
        Ok(json!({"ok": true}))
    } else {
        tracing::debug!(id, node = node_id, "late node invoke result ignored");
        Ok(json!({"ok": true, "ignored": true}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_reply() -> NodeReply {
        NodeReply::Result {
            ok: true,
            payload: Some(json!(1)),
            payload_json: None,
            error: None,
        }
    }

    #[test]
    fn results_match_by_id_and_node_and_late_ones_are_refused() {
        let table = PendingInvokes::new(4);
        let (mut rx, guard) = table.register("a", "node-1", "conn-1").unwrap();
        assert!(!table.resolve("a", "node-2", ok_reply()), "other node");
        assert!(table.resolve("a", "node-1", ok_reply()));
        assert_eq!(rx.try_recv().unwrap(), ok_reply());
        assert!(!table.resolve("a", "node-1", ok_reply()), "late");
        drop(guard);
        assert!(table.is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_guards_free_their_slot() {
        let table = PendingInvokes::new(1);
        let (_rx, guard) = table.register("a", "n", "c").unwrap();
        let full = table.register("b", "n", "c").unwrap_err();
        assert_eq!(full.retryable, Some(true));
        drop(guard);
        assert!(table.register("b", "n", "c").is_ok());
    }

    #[test]
    fn a_closing_connection_fails_only_its_invokes() {
        let table = PendingInvokes::new(8);
        let (mut a, _ga) = table.register("a", "n", "conn-1").unwrap();
        let (mut b, _gb) = table.register("b", "m", "conn-2").unwrap();
        assert_eq!(table.fail_connection("conn-1"), 1);
        assert_eq!(a.try_recv().unwrap(), NodeReply::Disconnected);
        assert!(b.try_recv().is_err(), "still waiting");
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn payload_json_is_parsed_leniently() {
        assert_eq!(parse_payload_json(" {\"a\":1} "), Some(json!({"a": 1})));
        assert_eq!(parse_payload_json("  "), None);
        assert_eq!(
            parse_payload_json("not json"),
            Some(json!({"payloadJSON": "not json"}))
        );
        let mut p = json!({"id": "x", "payloadJSON": null, "error": null, "ok": true});
        normalize_result_params(&mut p);
        assert_eq!(p, json!({"id": "x", "ok": true}));
    }
}
