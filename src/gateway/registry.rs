//! The set of authenticated connections, and broadcasting to them.
//!
//! A connection is registered once its `connect` succeeded. Broadcasts serialise the payload once
//! and offer it to every connection whose role and scopes may see the event (pairing events need
//! `operator.pairing`, chat/agent-like events need `operator.read`; tick, presence, health,
//! heartbeat and shutdown are unrestricted; unknown families are denied).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use serde_json::value::RawValue;

use super::outbound::{ConnectionSender, Outgoing, SendOutcome};
use crate::protocol::constants::scope;
use crate::protocol::frames::StateVersion;

/// A connection's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An operator client (CLI, apps, UIs).
    Operator,
    /// A node (device host).
    Node,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Node => "node",
        }
    }
}

/// What the gateway knows about an authenticated connection.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Connection id (UUID).
    pub conn_id: String,
    /// Role.
    pub role: Role,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Lower-cased client id.
    pub client_id: String,
    /// Client mode.
    pub client_mode: String,
    /// Client display name.
    pub display_name: Option<String>,
    /// Client version.
    pub client_version: String,
    /// Client platform.
    pub platform: String,
    /// Verified device id.
    pub device_id: Option<String>,
    /// Node id (nodes only: device id, else client instance id, else connection id).
    pub node_id: Option<String>,
    /// Client device family.
    pub device_family: Option<String>,
    /// Client hardware model.
    pub model_identifier: Option<String>,
    /// Node `PATH` (connect `pathEnv`).
    pub path_env: Option<String>,
    /// Node OS permissions (connect `permissions`).
    pub permissions: Option<serde_json::Map<String, Value>>,
    /// Node capabilities.
    pub caps: Vec<String>,
    /// Node commands (after the allowlist).
    pub commands: Vec<String>,
    /// Presence key, when the connection is tracked in presence.
    pub presence_key: Option<String>,
    /// Peer address.
    pub remote_ip: IpAddr,
    /// Connect time, ms since epoch.
    pub connected_at_ms: u64,
    /// Negotiated protocol.
    pub protocol: u32,
}

impl ConnInfo {
    /// True when the connection holds `wanted` ([`scope::covers`]; nodes hold no operator scope).
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.role == Role::Operator && scope::covers(&self.scopes, wanted)
    }
}

/// Whether a connection may receive `event`.
pub fn event_visible_to(event: &str, info: &ConnInfo) -> bool {
    match event {
        "tick" | "shutdown" | "presence" | "health" | "heartbeat" => true,
        e if e.starts_with("device.pair.") || e.starts_with("node.pair.") => {
            info.has_scope(scope::PAIRING)
        }
        e if e.starts_with("exec.approval.") => info.has_scope(scope::APPROVALS),
        "agent" | "chat" | "cron" | "talk.mode" | "voicewake.changed" | "update.available" => {
            info.has_scope(scope::READ)
        }
        _ => false,
    }
}

#[derive(Debug, Clone)]
struct Entry {
    sender: ConnectionSender,
    info: Arc<ConnInfo>,
}

/// The registry.
#[derive(Debug, Default)]
pub struct ConnectionRegistry {
    entries: Mutex<HashMap<String, Entry>>,
}

/// Counts of one broadcast, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastReport {
    /// Queued.
    pub queued: usize,
    /// Skipped (droppable, over budget).
    pub dropped: usize,
    /// Closed as slow consumers.
    pub killed: usize,
}

/// Serialises a payload once for many recipients.
pub fn shared_payload(payload: &Value) -> Option<Arc<RawValue>> {
    serde_json::value::to_raw_value(payload).ok().map(Arc::from)
}

impl ConnectionRegistry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds an authenticated connection.
    pub fn register(&self, sender: ConnectionSender, info: ConnInfo) -> Arc<ConnInfo> {
        let info = Arc::new(info);
        self.lock().insert(
            info.conn_id.clone(),
            Entry {
                sender,
                info: info.clone(),
            },
        );
        info
    }

    /// Removes a connection; returns its info when it was registered.
    pub fn remove(&self, conn_id: &str) -> Option<Arc<ConnInfo>> {
        self.lock().remove(conn_id).map(|e| e.info)
    }

    /// Number of registered connections.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no connection is registered.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Infos of every registered connection.
    pub fn infos(&self) -> Vec<Arc<ConnInfo>> {
        self.lock().values().map(|e| e.info.clone()).collect()
    }

    /// The sender of the connected node with `node_id`.
    pub fn node_sender(&self, node_id: &str) -> Option<(ConnectionSender, Arc<ConnInfo>)> {
        self.lock()
            .values()
            .find(|e| e.info.role == Role::Node && e.info.node_id.as_deref() == Some(node_id))
            .map(|e| (e.sender.clone(), e.info.clone()))
    }

    /// Sends `event` to every connection allowed to see it (and passing `filter`).
    pub fn broadcast(
        &self,
        event: &str,
        payload: &Value,
        state_version: Option<StateVersion>,
        droppable: bool,
        filter: impl Fn(&ConnInfo) -> bool,
    ) -> BroadcastReport {
        let payload = shared_payload(payload);
        let name: Arc<str> = Arc::from(event);
        let targets: Vec<Entry> = self
            .lock()
            .values()
            .filter(|e| event_visible_to(event, &e.info) && filter(&e.info))
            .cloned()
            .collect();
        let mut report = BroadcastReport::default();
        for entry in targets {
            let item = Outgoing::Event {
                name: name.clone(),
                payload: payload.clone(),
                state_version,
            };
            match entry.sender.offer(item, droppable) {
                SendOutcome::Queued => report.queued += 1,
                SendOutcome::Dropped => report.dropped += 1,
                SendOutcome::Killed => report.killed += 1,
                SendOutcome::Closed => {}
            }
        }
        report
    }

    /// Queues a close on every connection passing `filter`; returns how many.
    pub fn close_where(
        &self,
        code: u16,
        reason: &str,
        filter: impl Fn(&ConnInfo) -> bool,
    ) -> usize {
        let mut closed = 0;
        for entry in self.lock().values().filter(|e| filter(&e.info)) {
            entry.sender.close(code, reason);
            closed += 1;
        }
        closed
    }

    /// Queues a close on every connection.
    pub fn close_all(&self, code: u16, reason: &str) {
        for entry in self.lock().values() {
            entry.sender.close(code, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::outbound::connection_queue;

    fn info(id: &str, role: Role, scopes: &[&str]) -> ConnInfo {
        ConnInfo {
            conn_id: id.into(),
            role,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            client_id: "cli".into(),
            client_mode: "cli".into(),
            display_name: None,
            client_version: "1".into(),
            platform: "linux".into(),
            device_id: None,
            node_id: (role == Role::Node).then(|| format!("node-{id}")),
            device_family: None,
            model_identifier: None,
            path_env: None,
            permissions: None,
            caps: vec![],
            commands: vec![],
            presence_key: None,
            remote_ip: "127.0.0.1".parse().unwrap(),
            connected_at_ms: 0,
            protocol: 4,
        }
    }

    #[test]
    fn scopes_follow_the_admin_and_write_implications() {
        let admin = info("a", Role::Operator, &[scope::ADMIN]);
        assert!(admin.has_scope(scope::PAIRING) && admin.has_scope(scope::READ));
        let writer = info("w", Role::Operator, &[scope::WRITE]);
        assert!(writer.has_scope(scope::READ) && !writer.has_scope(scope::PAIRING));
        let node = info("n", Role::Node, &[scope::ADMIN]);
        assert!(
            !node.has_scope(scope::READ),
            "nodes never hold operator scopes"
        );
    }

    #[test]
    fn events_are_gated_by_scope_and_unknown_families_denied() {
        let none = info("x", Role::Operator, &[]);
        let pairing = info("p", Role::Operator, &[scope::PAIRING]);
        let node = info("n", Role::Node, &[]);
        assert!(event_visible_to("tick", &none) && event_visible_to("tick", &node));
        assert!(event_visible_to("presence", &none));
        assert!(!event_visible_to("device.pair.requested", &none));
        assert!(event_visible_to("device.pair.requested", &pairing));
        assert!(!event_visible_to("node.pair.resolved", &node));
        assert!(!event_visible_to("agent", &none));
        assert!(!event_visible_to("something.new", &pairing));
    }

    #[test]
    fn broadcast_reaches_only_allowed_connections() {
        let reg = ConnectionRegistry::default();
        let (a, _qa) = connection_queue(1 << 20);
        let (b, _qb) = connection_queue(1 << 20);
        reg.register(a.clone(), info("a", Role::Operator, &[scope::PAIRING]));
        reg.register(b.clone(), info("b", Role::Operator, &[scope::READ]));
        let r = reg.broadcast(
            "device.pair.resolved",
            &serde_json::json!({}),
            None,
            false,
            |_| true,
        );
        assert_eq!(r.queued, 1);
        assert!(a.queued_bytes() > 0 && b.queued_bytes() == 0);
        let r = reg.broadcast("tick", &serde_json::json!({"ts": 1}), None, true, |i| {
            i.conn_id == "b"
        });
        assert_eq!(r.queued, 1);
        assert!(reg.remove("a").is_some());
        assert_eq!(reg.len(), 1);
        assert!(reg.node_sender("x").is_none());
    }
}
