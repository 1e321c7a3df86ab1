//! Method dispatch: the table of implemented methods, authorization, param validation, handlers.
//!
//! `hello-ok.features.methods` is exactly [`METHODS`]; every entry has a params schema in
//! `schemas/protocol/methods/` (a test checks it). Authorization: `operator.admin` satisfies every
//! operator scope and `operator.write` also allows read; node-only methods need `role: node`.

use std::sync::Arc;

use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::logs_tail::{DEFAULT_LIMIT, DEFAULT_MAX_BYTES, resolve_log_file, tail};
use super::outbound::ConnectionSender;
use super::registry::{ConnInfo, Role};
use super::state::{GatewayState, now_ms};
use super::{node_catalog, node_invoke, pairing_methods, send_agent};
use crate::protocol::constants::scope;
use crate::protocol::errors::GatewayError;
use crate::protocol::schema_validation::Validators;

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `operator.read` (or write/admin).
    Read,
    /// `operator.write` (or admin).
    Write,
    /// `operator.admin`.
    Admin,
    /// `operator.pairing` (or admin).
    Pairing,
    /// Only `role: node` connections.
    NodeOnly,
}

/// One implemented method.
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    /// Name on the wire.
    pub name: &'static str,
    /// Who may call it.
    pub access: Access,
}

const fn m(name: &'static str, access: Access) -> MethodSpec {
    MethodSpec { name, access }
}

/// Every method this gateway implements (and advertises).
pub const METHODS: &[MethodSpec] = &[
    m("health", Access::Read),
    m("status", Access::Read),
    m("system-presence", Access::Read),
    m("system-event", Access::Admin),
    m("last-heartbeat", Access::Read),
    m("set-heartbeats", Access::Admin),
    m("logs.tail", Access::Read),
    m("config.get", Access::Admin),
    m("node.list", Access::Read),
    m("node.describe", Access::Read),
    m("node.rename", Access::Pairing),
    m("node.invoke", Access::Write),
    m("node.invoke.result", Access::NodeOnly),
    m("node.event", Access::NodeOnly),
    // Not classified by spec §4.1, so admin ("unclassified methods default to admin"): filing
    // a node request and checking a node's token are the owner's.
    m("node.pair.request", Access::Admin),
    m("node.pair.list", Access::Pairing),
    m("node.pair.approve", Access::Pairing),
    m("node.pair.reject", Access::Pairing),
    m("node.pair.verify", Access::Admin),
    m("node.pair.remove", Access::Pairing),
    m("device.pair.list", Access::Pairing),
    m("device.pair.approve", Access::Pairing),
    m("device.pair.reject", Access::Pairing),
    m("device.pair.remove", Access::Pairing),
    m("device.token.rotate", Access::Pairing),
    m("device.token.revoke", Access::Pairing),
    m("send", Access::Write),
    m("agent", Access::Write),
];

/// Looks a method up.
pub fn find(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|spec| spec.name == name)
}

fn authorize(info: &ConnInfo, access: Access) -> Result<(), GatewayError> {
    let needed = match access {
        Access::NodeOnly => {
            return if info.role == Role::Node {
                Ok(())
            } else {
                Err(GatewayError::new(
                    crate::protocol::frames::ErrorCode::Forbidden,
                    "unauthorized role: operator",
                ))
            };
        }
        Access::Read => scope::READ,
        Access::Write => scope::WRITE,
        Access::Admin => scope::ADMIN,
        Access::Pairing => scope::PAIRING,
    };
    if info.role == Role::Node {
        return Err(GatewayError::new(
            crate::protocol::frames::ErrorCode::Forbidden,
            "unauthorized role: node",
        ));
    }
    if info.has_scope(needed) {
        Ok(())
    } else {
        let required: &[&str] = match access {
            Access::Read => &[scope::READ, scope::WRITE, scope::ADMIN],
            Access::Write => &[scope::WRITE, scope::ADMIN],
            Access::Pairing => &[scope::PAIRING, scope::ADMIN],
            _ => &[scope::ADMIN],
        };
        Err(GatewayError::missing_scope(needed, required))
    }
}

/// Handles one request; the payload comes back serialised.
pub async fn dispatch(
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    sender: &ConnectionSender,
    method: &str,
    params: Value,
) -> Result<Box<RawValue>, GatewayError> {
    if method == "logs.tail" {
        authorize(info, Access::Read)?;
        check_params(method, &params)?;
        // File I/O and megabyte-sized results (read and serialised) stay off the async workers.
        let state = state.clone();
        let params = params.as_object().cloned().unwrap_or_default();
        return tokio::task::spawn_blocking(move || logs_tail(&state, &params))
            .await
            .map_err(|e| GatewayError::unavailable(format!("log read failed: {e}")))?;
    }
    let payload = dispatch_value(state, info, sender, method, params).await?;
    to_raw_value(&payload).map_err(|e| GatewayError::unavailable(e.to_string()))
}

fn check_params(method: &str, params: &Value) -> Result<(), GatewayError> {
    match Validators::get().check_method(method, params) {
        Some(Err(reason)) => Err(GatewayError::invalid_params(method, &reason)),
        _ => Ok(()),
    }
}

/// Methods that wait for something (a node, a runtime, the disk) and run in their own task.
const WAITING_METHODS: [&str; 4] = ["node.invoke", "send", "agent", "logs.tail"];

/// True for methods that wait (a node, a runtime, the disk): they run in a task of their own
/// through [`dispatch`]; every other method is answered at once by [`dispatch_now`].
pub fn waits(method: &str) -> bool {
    WAITING_METHODS.contains(&method)
}

/// Answers a method that does not wait, on the caller's task (no task spawned per request).
/// Waiting methods are answered with an error here; route them through [`dispatch`].
pub fn dispatch_now(
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    method: &str,
    params: Value,
) -> Result<Box<RawValue>, GatewayError> {
    let params = prepare(info, method, params)?;
    if method == "health" {
        // The cached snapshot, already serialised (the reference serves a cached summary too).
        // `to_owned` copies the text; `RawValue::from_string` would parse it again.
        return Ok(RawValue::to_owned(&state.health_payload()));
    }
    let payload = dispatch_sync(state, info, method, &params).unwrap_or_else(|| {
        Err(GatewayError::unavailable(format!(
            "{method} must be dispatched in its own task"
        )))
    })?;
    to_raw_value(&payload).map_err(|e| GatewayError::unavailable(e.to_string()))
}

/// Looks the method up, authorizes it and validates its params.
fn prepare(
    info: &ConnInfo,
    method: &str,
    params: Value,
) -> Result<Map<String, Value>, GatewayError> {
    let spec = find(method).ok_or_else(|| GatewayError::unknown_method(method))?;
    authorize(info, spec.access)?;
    let mut params = params;
    if method == "node.invoke.result" {
        node_invoke::normalize_result_params(&mut params);
    }
    check_params(method, &params)?;
    Ok(match params {
        Value::Object(map) => map,
        _ => Map::new(),
    })
}

async fn dispatch_value(
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    _sender: &ConnectionSender,
    method: &str,
    params: Value,
) -> Result<Value, GatewayError> {
    let params = prepare(info, method, params)?;
    if let Some(result) = dispatch_sync(state, info, method, &params) {
        return result;
    }
    match method {
        "node.invoke" => node_invoke::invoke(state, info, params).await,
        "send" => send_agent::send(state, &params).await,
        "agent" => send_agent::agent(state, &params).await,
        _ => Err(GatewayError::unknown_method(method)),
    }
}

/// The methods that answer without waiting; `None` for the others.
fn dispatch_sync(
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    method: &str,
    params: &Map<String, Value>,
) -> Option<Result<Value, GatewayError>> {
    Some(match method {
        "health" => Ok(state.health()),
        "status" => Ok(status(state, info)),
        "system-presence" => {
            Ok(serde_json::to_value(state.presence_list()).unwrap_or_else(|_| json!([])))
        }
        "system-event" => system_event(state, params),
        "last-heartbeat" => Ok(Value::Null),
        "set-heartbeats" => {
            let enabled = params
                .get("enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            state.set_heartbeats_enabled(enabled);
            Ok(json!({"ok": true, "enabled": enabled}))
        }
        "config.get" => Ok(config_get(state)),
        "node.list" => Ok(node_catalog::list(state)),
        "node.describe" => node_catalog::describe(state, params),
        "node.rename" => pairing_methods::node_rename(state, params),
        "node.invoke.result" => node_invoke::result(state, info, params),
        "node.event" => Ok(node_catalog::event(state, info, params)),
        "node.pair.request" => pairing_methods::node_request(state, params),
        "node.pair.list" => pairing_methods::node_list(state),
        "node.pair.approve" => pairing_methods::node_approve(state, info, params),
        "node.pair.reject" => pairing_methods::node_reject(state, params),
        "node.pair.verify" => pairing_methods::node_verify(state, params),
        "node.pair.remove" => pairing_methods::node_remove(state, params),
        "device.pair.list" => pairing_methods::device_list(state, info),
        "device.pair.approve" => pairing_methods::device_approve(state, info, params),
        "device.pair.reject" => pairing_methods::device_reject(state, info, params),
        "device.pair.remove" => pairing_methods::device_remove(state, info, params),
        "device.token.rotate" => pairing_methods::token_rotate(state, info, params),
        "device.token.revoke" => pairing_methods::token_revoke(state, info, params),
        _ => return None,
    })
}

/// Cleans up what a closing connection leaves behind: a node's pending invokes fail at once.
pub fn connection_closed(state: &Arc<GatewayState>, info: &ConnInfo) {
    if info.role == Role::Node {
        let failed = state.invokes.fail_connection(&info.conn_id);
        if failed > 0 {
            tracing::debug!(conn = %info.conn_id, failed, "node closed with invokes pending");
        }
    }
}

fn process_rss_bytes() -> Option<u64> {
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

fn status(state: &Arc<GatewayState>, info: &ConnInfo) -> Value {
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

fn system_event(
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

fn logs_tail(
    state: &Arc<GatewayState>,
    params: &Map<String, Value>,
) -> Result<Box<RawValue>, GatewayError> {
    let cursor = params.get("cursor").and_then(Value::as_u64);
    let limit = params
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |l| l as usize);
    let max_bytes = params
        .get("maxBytes")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_BYTES);
    let Some(current) = &state.log_file else {
        let empty = json!({"file": "", "cursor": 0, "size": 0, "lines": [], "truncated": false, "reset": false});
        return to_raw_value(&empty).map_err(|e| GatewayError::unavailable(e.to_string()));
    };
    let file = resolve_log_file(current);
    let result = tail(&file, cursor, limit, max_bytes)
        .map_err(|e| GatewayError::unavailable(format!("log read failed: {e}")))?;
    to_raw_value(&result).map_err(|e| GatewayError::unavailable(e.to_string()))
}

/// Replaces secrets in a config document with a marker; returns the secret values found.
fn redact(value: &mut Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let lower = key.to_ascii_lowercase();
                let secret_key = [
                    "token",
                    "password",
                    "secret",
                    "apikey",
                    "api_key",
                    "privatekey",
                ]
                .iter()
                .any(|s| lower.contains(s));
                match item {
                    Value::String(s) if secret_key && !s.is_empty() => {
                        found.push(s.clone());
                        *item = json!(REDACTED);
                    }
                    _ => redact(item, found),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| redact(i, found)),
        _ => {}
    }
}

/// The marker that replaces secrets in `config.get`.
pub const REDACTED: &str = "__OPENCLAW_REDACTED__";

fn config_get(state: &Arc<GatewayState>) -> Value {
    let path = &state.settings.config_path;
    let raw_text = std::fs::read_to_string(path).ok();
    let hash = raw_text.as_ref().map(|t| {
        let digest = Sha256::digest(t.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    });
    // `parsed`: the root file as written (`$include` kept); `resolved`: includes expanded.
    let (parsed, resolved, valid, issues) = match &raw_text {
        None => (Value::Null, Value::Null, true, vec![]),
        Some(text) => match crate::config::parse_config_text(
            path,
            text,
            &crate::environment::Environment::from_process(),
        ) {
            Ok(parsed) => (parsed.raw, parsed.expanded, true, vec![]),
            Err(e) => (
                Value::Null,
                Value::Null,
                false,
                vec![json!({"path": "", "message": e.to_string()})],
            ),
        },
    };
    let mut secrets = Vec::new();
    let mut parsed_redacted = parsed;
    redact(&mut parsed_redacted, &mut secrets);
    let mut resolved_redacted = resolved;
    redact(&mut resolved_redacted, &mut secrets);
    let mut config = serde_json::to_value(&state.settings.config).unwrap_or(Value::Null);
    redact(&mut config, &mut secrets);
    let raw_redacted = raw_text.map(|mut text| {
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            text = text.replace(secret.as_str(), REDACTED);
        }
        text
    });
    json!({
        "path": path.display().to_string(),
        "exists": raw_redacted.is_some(),
        "raw": raw_redacted,
        "parsed": parsed_redacted,
        "resolved": resolved_redacted,
        "valid": valid,
        "config": config,
        "hash": hash,
        "issues": issues,
        "warnings": [],
        "legacyIssues": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_advertised_method_has_a_params_schema() {
        let v = Validators::get();
        for spec in METHODS {
            assert!(
                v.has_method(spec.name),
                "schemas/protocol/methods/{}.params.schema.json is missing",
                spec.name
            );
        }
    }

    #[test]
    fn redaction_replaces_secret_values_anywhere() {
        let mut v = json!({"gateway": {"auth": {"token": "abcd1234", "mode": "token"}}, "x": [{"apiKey": "k-1"}], "plain": "keep"});
        let mut found = vec![];
        redact(&mut v, &mut found);
        assert_eq!(v["gateway"]["auth"]["token"], REDACTED);
        assert_eq!(v["gateway"]["auth"]["mode"], "token");
        assert_eq!(v["x"][0]["apiKey"], REDACTED);
        assert_eq!(v["plain"], "keep");
        assert_eq!(found, ["abcd1234", "k-1"]);
    }
}
