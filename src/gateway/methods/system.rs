//! `status`, `system-event`: the gateway's own state as methods report it.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::gateway::registry::ConnInfo;
use crate::gateway::state::{GatewayState, now_ms};
use crate::protocol::constants::scope;
use crate::protocol::errors::GatewayError;

pub(super) fn process_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

pub(super) fn status(state: &Arc<GatewayState>, info: &ConnInfo) -> Value {
    let settings = &state.settings;
    let mut out = json!({
        "runtimeVersion": settings.version,
        "runtime": "rust",
        "pid": std::process::id(),
        "uptimeMs": state.uptime_ms(),
        "heartbeat": {"enabled": state.heartbeats_enabled()},
        "channelSummary": [],
        "queuedSystemEvents": state.system_events(),
        "connections": state.registry.len(),
        "processMemory": {"rssBytes": process_rss_bytes()},
    });
    if info.has_scope(scope::ADMIN) {
        out["configPath"] = json!(settings.config_path.display().to_string());
        out["stateDir"] = json!(settings.state_dir.display().to_string());
        out["port"] = json!(settings.ports.port);
        out["bind"] = json!(settings.bind.mode.as_str());
        out["authMode"] = json!(settings.auth.mode.as_str());
    }
    out
}

pub(super) fn system_event(
    state: &Arc<GatewayState>,
    params: &Map<String, Value>,
) -> Result<Value, GatewayError> {
    let text = params
        .get("text")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if text.is_empty() {
        return Err(GatewayError::invalid_request("text required"));
    }
    let mut params = params.clone();
    params.insert("text".into(), json!(text));
    let now = now_ms();
    state.update_presence(|p| p.merge_beacon(&params, now));
    state.push_system_event(json!({"text": text, "ts": now}));
    Ok(json!({"ok": true}))
}
