//! `node.list`, `node.describe` and `node.event`: the nodes this gateway knows.
//!
//! The catalog is the union of paired nodes (devices paired with the `node` role, and nodes
//! approved through `node.pair.*`) and connected node connections. Live fields win over paired
//! ones, except the display name: a name an owner gave (`node.rename`, pairing) wins over the
//! one the node reports. Order: connected first, then by display name (else node id),
//! case-insensitively, then node id. `lastSeenAtMs`/`lastSeenReason` come from the node's
//! presence entry, which `node.event` `node.presence.alive` refreshes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::gateway::registry::{ConnInfo, Role};
use crate::gateway::state::{GatewayState, lock, now_ms};
use crate::protocol::errors::GatewayError;

/// One node as `node.list` shows it.
#[derive(Debug, Clone, Default)]
struct NodeView {
    node_id: String,
    display_name: Option<String>,
    paired_name: Option<String>,
    platform: Option<String>,
    version: Option<String>,
    core_version: Option<String>,
    ui_version: Option<String>,
    device_family: Option<String>,
    model_identifier: Option<String>,
    remote_ip: Option<String>,
    caps: BTreeSet<String>,
    commands: BTreeSet<String>,
    path_env: Option<String>,
    permissions: Option<Value>,
    connected_at_ms: Option<u64>,
    paired: bool,
    connected: bool,
    last_seen_at_ms: Option<u64>,
    last_seen_reason: Option<String>,
}

impl NodeView {
    fn name(&self) -> Option<&String> {
        self.paired_name.as_ref().or(self.display_name.as_ref())
    }

    fn to_json(&self) -> Value {
        fn put(out: &mut Map<String, Value>, key: &str, value: Option<Value>) {
            if let Some(v) = value {
                out.insert(key.into(), v);
            }
        }
        let text = |v: &Option<String>| v.as_ref().map(|s| json!(s));
        let mut out = Map::new();
        out.insert("nodeId".into(), json!(self.node_id));
        put(&mut out, "displayName", self.name().map(|n| json!(n)));
        put(&mut out, "platform", text(&self.platform));
        put(&mut out, "version", text(&self.version));
        put(&mut out, "coreVersion", text(&self.core_version));
        put(&mut out, "uiVersion", text(&self.ui_version));
        put(&mut out, "deviceFamily", text(&self.device_family));
        put(&mut out, "modelIdentifier", text(&self.model_identifier));
        put(&mut out, "remoteIp", text(&self.remote_ip));
        out.insert("caps".into(), json!(self.caps));
        out.insert("commands".into(), json!(self.commands));
        put(&mut out, "pathEnv", text(&self.path_env));
        put(&mut out, "permissions", self.permissions.clone());
        put(
            &mut out,
            "connectedAtMs",
            self.connected_at_ms.map(|v| json!(v)),
        );
        out.insert("paired".into(), json!(self.paired));
        out.insert("connected".into(), json!(self.connected));
        put(
            &mut out,
            "lastSeenAtMs",
            self.last_seen_at_ms.map(|v| json!(v)),
        );
        put(&mut out, "lastSeenReason", text(&self.last_seen_reason));
        Value::Object(out)
    }
}

fn or<T>(live: Option<T>, paired: Option<T>) -> Option<T> {
    live.or(paired)
}

fn catalog(state: &GatewayState) -> Vec<NodeView> {
    let now = now_ms();
    let mut nodes: BTreeMap<String, NodeView> = BTreeMap::new();
    {
        let store = lock(&state.pairing);
        for device in store.list(now).paired {
            if !device.roles.iter().any(|r| r == "node") && device.role.as_deref() != Some("node") {
                continue;
            }
            let view = nodes.entry(device.device_id.clone()).or_default();
            view.node_id = device.device_id.clone();
            view.paired = true;
            view.paired_name = device.display_name.clone();
            view.platform = or(view.platform.take(), device.platform.clone());
            view.device_family = or(view.device_family.take(), device.device_family.clone());
            view.remote_ip = or(view.remote_ip.take(), device.remote_ip.clone());
        }
        for node in store.node_list(now).paired {
            let view = nodes.entry(node.node_id.clone()).or_default();
            view.node_id = node.node_id.clone();
            view.paired = true;
            view.paired_name = node.display_name.clone().or(view.paired_name.take());
            view.platform = or(node.platform.clone(), view.platform.take());
            view.version = node.version.clone();
            view.core_version = node.core_version.clone();
            view.ui_version = node.ui_version.clone();
            view.device_family = or(node.device_family.clone(), view.device_family.take());
            view.model_identifier = node.model_identifier.clone();
            view.remote_ip = or(node.remote_ip.clone(), view.remote_ip.take());
            view.caps.extend(node.caps.clone().unwrap_or_default());
            view.commands
                .extend(node.commands.clone().unwrap_or_default());
            view.permissions = node
                .permissions
                .as_ref()
                .and_then(|p| serde_json::to_value(p).ok());
        }
    }
    let mut live: Vec<Arc<ConnInfo>> = state
        .registry
        .infos()
        .into_iter()
        .filter(|i| i.role == Role::Node && i.node_id.is_some())
        .collect();
    // With several connections for one node, the newest one describes it.
    live.sort_by_key(|i| i.connected_at_ms);
    for info in live {
        let Some(node_id) = info.node_id.clone() else {
            continue;
        };
        let view = nodes.entry(node_id.clone()).or_default();
        view.node_id = node_id;
        view.connected = true;
        view.display_name = info.display_name.clone();
        view.platform = Some(info.platform.clone());
        view.version = Some(info.client_version.clone());
        view.device_family = or(info.device_family.clone(), view.device_family.take());
        view.model_identifier = or(info.model_identifier.clone(), view.model_identifier.take());
        view.remote_ip = Some(info.remote_ip.to_string());
        view.caps = info.caps.iter().cloned().collect();
        view.commands = info.commands.iter().cloned().collect();
        view.path_env = info.path_env.clone();
        view.permissions = info.permissions.clone().map(Value::Object);
        view.connected_at_ms = Some(info.connected_at_ms);
        if let Some(entry) = info
            .presence_key
            .as_deref()
            .and_then(|key| state.presence_entry(key))
        {
            view.last_seen_at_ms = Some(entry.ts);
            view.last_seen_reason = entry.reason;
        }
    }
    let mut list: Vec<NodeView> = nodes.into_values().collect();
    list.sort_by(|a, b| {
        b.connected
            .cmp(&a.connected)
            .then_with(|| {
                let key = |n: &NodeView| n.name().unwrap_or(&n.node_id).to_lowercase();
                key(a).cmp(&key(b))
            })
            .then_with(|| a.node_id.cmp(&b.node_id))
    });
    list
}

/// `node.list`.
pub fn list(state: &GatewayState) -> Value {
    let nodes: Vec<Value> = catalog(state).iter().map(NodeView::to_json).collect();
    json!({"ts": now_ms(), "nodes": nodes})
}

/// `node.describe`.
pub fn describe(state: &GatewayState, params: &Map<String, Value>) -> Result<Value, GatewayError> {
    let node_id = params
        .get("nodeId")
        .and_then(Value::as_str)
        .map_or("", str::trim);
    if node_id.is_empty() {
        return Err(GatewayError::invalid_request("nodeId required"));
    }
    let node = catalog(state)
        .into_iter()
        .find(|n| n.node_id == node_id)
        .ok_or_else(|| GatewayError::invalid_request("unknown nodeId"))?;
    let mut out = json!({"ts": now_ms()});
    if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), node.to_json()) {
        out.extend(fields);
    }
    Ok(out)
}

/// `node.event` (node role only). `node.presence.alive` refreshes the node's presence entry;
/// other events are accepted and dropped (this gateway has no consumer for them).
pub fn event(state: &GatewayState, info: &ConnInfo, params: &Map<String, Value>) -> Value {
    let name = params.get("event").and_then(Value::as_str).unwrap_or("");
    if name == "node.presence.alive" {
        let payload = params.get("payload").cloned().or_else(|| {
            params
                .get("payloadJSON")
                .and_then(Value::as_str)
                .and_then(|t| serde_json::from_str(t).ok())
        });
        let trigger = payload
            .as_ref()
            .and_then(|p| p.get("trigger"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 64)
            .unwrap_or("alive")
            .to_owned();
        if let Some(key) = info.presence_key.clone() {
            let now = now_ms();
            state.update_presence(|p| {
                p.touch(&key, now, &trigger);
            });
        }
    } else {
        tracing::debug!(node = ?info.node_id, event = name, "node event ignored");
    }
    json!({"ok": true})
}
