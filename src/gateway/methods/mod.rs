//! Method dispatch: the table of implemented methods, authorization, param validation, handlers.
//!
//! `hello-ok.features.methods` is exactly [`METHODS`]; every entry has a params schema in
//! `schemas/protocol/methods/` (a test checks it). Authorization: `operator.admin` satisfies every
//! operator scope and `operator.write` also allows read; node-only methods need `role: node`.

mod agent;
mod call;
mod chat;
mod config;
mod logs;
pub mod node_catalog;
pub mod node_invoke;
pub mod pairing;
pub mod send;
mod sessions;
mod system;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value, json};

use super::outbound::ConnectionSender;
use super::registry::{ConnInfo, Role};
use super::state::GatewayState;
use crate::protocol::constants::scope;
use crate::protocol::errors::GatewayError;
use crate::protocol::schema_validation::Validators;

pub use self::call::Call;
pub use self::config::REDACTED;
use self::config::config_get;
use self::logs::logs_tail;
use self::system::{status, system_event};

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
    m("agent.wait", Access::Write),
    m("chat.send", Access::Write),
    m("chat.abort", Access::Write),
    m("chat.history", Access::Read),
    m("models.list", Access::Read),
    m("agents.list", Access::Read),
    // Not classified by §4.1: listing is a read like chat.history; changing or deleting a
    // session, and writing into its transcript (chat.inject, admin in §4.1), are the owner's.
    m("sessions.list", Access::Read),
    m("sessions.patch", Access::Admin),
    m("sessions.reset", Access::Admin),
    m("sessions.delete", Access::Admin),
    m("chat.inject", Access::Admin),
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

/// A method's answer still to come: what has to keep the caller's order is done before it is
/// handed out, the rest runs in the request's own task.
pub type Answer = Pin<Box<dyn Future<Output = Result<Value, GatewayError>> + Send>>;

/// An answer already known.
fn answered(result: Result<Value, GatewayError>) -> Answer {
    Box::pin(std::future::ready(result))
}

/// Starts a waiting method (see [`waits`]) and returns the rest of it to run in its own task.
/// Runs (`agent`, `chat.send`) are accepted before this returns, so a connection's runs are
/// queued in the order its frames arrived.
pub fn dispatch(
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    sender: &ConnectionSender,
    request_id: &str,
    method: &str,
    params: Value,
) -> Pin<Box<dyn Future<Output = Result<Box<RawValue>, GatewayError>> + Send>> {
    let serialised = |answer: Answer| -> Pin<Box<dyn Future<Output = _> + Send>> {
        Box::pin(async move {
            let payload = answer.await?;
            to_raw_value(&payload).map_err(|e| GatewayError::unavailable(e.to_string()))
        })
    };
    if method == "logs.tail" {
        if let Err(e) = authorize(info, Access::Read).and_then(|()| check_params(method, &params)) {
            return Box::pin(std::future::ready(Err(e)));
        }
        // File I/O and megabyte-sized results (read and serialised) stay off the async workers.
        let state = state.clone();
        let params = params.as_object().cloned().unwrap_or_default();
        return Box::pin(async move {
            tokio::task::spawn_blocking(move || logs_tail(&state, &params))
                .await
                .map_err(|e| GatewayError::unavailable(format!("log read failed: {e}")))?
        });
    }
    let params = match prepare(info, method, params) {
        Ok(params) => params,
        Err(e) => return Box::pin(std::future::ready(Err(e))),
    };
    if let Some(result) = dispatch_sync(state, info, method, &params) {
        return serialised(answered(result));
    }
    let (state, info) = (state.clone(), info.clone());
    serialised(match method {
        "agent" => agent::agent(&state, sender, request_id, &params),
        "chat.send" => chat::send(&state, &params),
        "node.invoke" => Box::pin(async move { node_invoke::invoke(&state, &info, params).await }),
        "send" => Box::pin(async move { send::send(&state, &params).await }),
        "agent.wait" => Box::pin(async move { agent::wait(&state, &params).await }),
        _ => answered(Err(GatewayError::unknown_method(method))),
    })
}

fn check_params(method: &str, params: &Value) -> Result<(), GatewayError> {
    match Validators::get().check_method(method, params) {
        Some(Err(reason)) => Err(GatewayError::invalid_params(method, &reason)),
        _ => Ok(()),
    }
}

/// Methods that wait for something (a node, a runtime, the disk) and run in their own task.
const WAITING_METHODS: [&str; 6] = [
    "node.invoke",
    "send",
    "agent",
    "agent.wait",
    "chat.send",
    "logs.tail",
];

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

/// The methods that answer without waiting; `None` for the others.
fn dispatch_sync(
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    method: &str,
    params: &Map<String, Value>,
) -> Option<Result<Value, GatewayError>> {
    let call = Call {
        state,
        info,
        params,
    };
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
        "node.rename" => pairing::node_rename(&call),
        "node.invoke.result" => node_invoke::result(state, info, params),
        "node.event" => Ok(node_catalog::event(state, info, params)),
        "node.pair.request" => pairing::node_request(&call),
        "node.pair.list" => pairing::node_list(&call),
        "node.pair.approve" => pairing::node_approve(&call),
        "node.pair.reject" => pairing::node_reject(&call),
        "node.pair.verify" => pairing::node_verify(&call),
        "node.pair.remove" => pairing::node_remove(&call),
        "device.pair.list" => pairing::device_list(&call),
        "device.pair.approve" => pairing::device_approve(&call),
        "device.pair.reject" => pairing::device_reject(&call),
        "device.pair.remove" => pairing::device_remove(&call),
        "device.token.rotate" => pairing::token_rotate(&call),
        "device.token.revoke" => pairing::token_revoke(&call),
        "chat.history" => chat::history(&call),
        "chat.abort" => chat::abort(&call),
        "models.list" => Ok(agent::models_list(&call)),
        "agents.list" => Ok(agent::agents_list(&call)),
        "sessions.list" => sessions::list(&call),
        "sessions.patch" => sessions::patch(&call),
        "sessions.reset" => sessions::reset(&call),
        "sessions.delete" => sessions::delete(&call),
        "chat.inject" => sessions::inject(&call),
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
}
