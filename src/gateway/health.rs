//! The health summary served by the `health` RPC, the `health` event and `snapshot.health`.
//!
//! This gateway runs no channels yet and no heartbeats, so the summary says exactly that; the
//! agents and sessions come from the agent runtime's catalog and session store. Fields keep the
//! reference shape so clients render it.

use serde_json::{Value, json};

/// The agents and sessions part of the health summary.
#[derive(Debug, Clone, Default)]
pub struct AgentsHealth {
    /// `agents[]`: `{agentId, name?, isDefault, sessions: {path, count, recent}}`.
    pub agents: Value,
    /// `sessions`: `{path, count, recent: [{key, updatedAt, age}]}` (5 newest).
    pub sessions: Value,
}

/// Builds the summary at `now_ms`.
pub fn health_summary(now_ms: u64, agents: &AgentsHealth, heartbeats_enabled: bool) -> Value {
    json!({
        "ok": true,
        "ts": now_ms,
        "durationMs": 0,
        "channels": {},
        "channelOrder": [],
        "channelLabels": {},
        "heartbeatSeconds": 0,
        "heartbeatsEnabled": heartbeats_enabled,
        "defaultAgentId": "main",
        "agents": agents.agents,
        "sessions": agents.sessions,
    })
}
