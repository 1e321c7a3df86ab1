//! The health summary served by the `health` RPC, the `health` event and `snapshot.health`.
//!
//! This gateway runs no channels or agents yet, so the summary says exactly that: no channels,
//! no agents, heartbeats off. Fields keep the reference shape so clients render it.

use serde_json::{Value, json};

/// Builds the summary at `now_ms`.
pub fn health_summary(now_ms: u64, sessions_path: &str, heartbeats_enabled: bool) -> Value {
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
        "agents": [],
        "sessions": {"path": sessions_path, "count": 0, "recent": []},
    })
}
