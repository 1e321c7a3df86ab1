//! Pairing methods (`operator.pairing`; `node.pair.request` and `node.pair.verify` need
//! `operator.admin`, see `methods::METHODS`): `device.pair.*`, `device.token.*`, `node.pair.*`
//! and `node.rename`, on top of the [`PairingStore`](crate::gateway::pairing::PairingStore).
//!
//! - Lists never contain tokens. `node.pair.approve` returns the new node token once, to the
//!   approving operator who hands it to the node (upstream does the same); `device.token.rotate`
//!   returns metadata, plus the new token only when the caller is that same device
//!   (`tokenDelivery: "in-band"`, else `"withheld-cross-device"`).
//! - Approving never grants more than the approver holds: a device request's operator scopes
//!   must all be held by the caller, and a node request declaring commands needs
//!   `operator.write` (`operator.admin` for `system.run*`), as upstream checks.
//! - Events: `device.pair.resolved` and `node.pair.resolved` `{requestId, deviceId|nodeId,
//!   decision, ts}` on approve/reject, `node.pair.requested` (the request) for a new node
//!   request; the registry only delivers them to `operator.pairing` holders.
//! - A caller without `operator.admin` manages only its own device: `device.pair.list` shows
//!   only it, and approve/reject/remove/rotate/revoke of another device is `FORBIDDEN`
//!   (`details {code: "DEVICE_ACCESS_DENIED", reason}`). Approving a `node` role or adding a role
//!   to a paired device needs admin; a rotated token never carries a scope the calling
//!   connection does not hold.
//! - Removing a device, revoking or rotating one of its tokens closes that device's live
//!   connections (of that role, for a token) with 1008; the caller's own connection, when it is
//!   that device's, is closed right after its answer ([`closes_caller`]).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::gateway::connection::MAX_PENDING_TOTAL;
use crate::gateway::node_commands::requires_admin;
use crate::gateway::pairing::{NodePairingInput, PairingStoreError};
use crate::gateway::registry::ConnInfo;

use super::call::Call;
use crate::gateway::state::{GatewayState, lock, now_ms};
use crate::protocol::constants::{close_code, scope};
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::ErrorCode;

fn store_error(e: PairingStoreError) -> GatewayError {
    match e {
        PairingStoreError::Read { .. }
        | PairingStoreError::Corrupt { .. }
        | PairingStoreError::CreateDir { .. }
        | PairingStoreError::Write { .. }
        | PairingStoreError::Random(_) => GatewayError::unavailable(format!("pairing store: {e}")),
        other => GatewayError::invalid_request(other.to_string()),
    }
}

/// Which pairing ledger a request belongs to.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Device,
    Node,
}

/// Broadcasts `device.pair.resolved` / `node.pair.resolved` for a decided request.
fn resolved(state: &GatewayState, subject: Subject, request_id: &str, id: &str, decision: &str) {
    let (event, id_key) = match subject {
        Subject::Device => ("device.pair.resolved", "deviceId"),
        Subject::Node => ("node.pair.resolved", "nodeId"),
    };
    let mut payload = json!({"requestId": request_id, "decision": decision, "ts": now_ms()});
    payload[id_key] = json!(id);
    state
        .registry
        .broadcast(event, &payload, None, true, |_| true);
}

fn to_json(value: &impl Serialize) -> Result<Value, GatewayError> {
    serde_json::to_value(value).map_err(|e| GatewayError::unavailable(e.to_string()))
}

fn missing_scope(scope: &str) -> GatewayError {
    GatewayError::invalid_request(format!("missing scope: {scope}"))
}

/// Closes `device_id`'s other live connections (those in `role`, when given) with 1008.
fn close_device(
    state: &GatewayState,
    info: &ConnInfo,
    device_id: &str,
    role: Option<&str>,
    reason: &str,
) {
    state
        .registry
        .close_where(close_code::POLICY_VIOLATION, reason, |c| {
            c.device_id.as_deref() == Some(device_id)
                && role.is_none_or(|r| c.role.as_str() == r)
                && c.conn_id != info.conn_id
        });
}

/// A refusal of device management, with its reason code.
fn access_denied(reason: &str, message: String) -> GatewayError {
    GatewayError::new(ErrorCode::Forbidden, message)
        .with_details(json!({"code": "DEVICE_ACCESS_DENIED", "reason": reason}))
}

/// A caller without `operator.admin` manages only the device it connected as.
fn check_own_device(info: &ConnInfo, device_id: &str) -> Result<(), GatewayError> {
    if info.has_scope(scope::ADMIN) || info.device_id.as_deref() == Some(device_id.trim()) {
        return Ok(());
    }
    Err(access_denied(
        "other-device",
        format!(
            "device {device_id} is not this connection's device; managing other devices needs operator.admin"
        ),
    ))
}

/// Why the caller's own connection is closed after a successful answer to `method`, if it is.
pub fn closes_caller(method: &str, info: &ConnInfo, params: &Value) -> Option<&'static str> {
    let reason = match method {
        "device.pair.remove" => "device pairing removed",
        "device.token.revoke" => "device token revoked",
        "device.token.rotate" => "device token rotated",
        _ => return None,
    };
    let target = params.get("deviceId").and_then(Value::as_str)?.trim();
    let role = params.get("role").and_then(Value::as_str).map(str::trim);
    let same_device = info.device_id.as_deref() == Some(target);
    (same_device && role.is_none_or(|r| r == info.role.as_str())).then_some(reason)
}

// ----- devices ---------------------------------------------------------------------------------

/// `device.pair.list`: pending requests and paired devices (token metadata only), each paired
/// device with `connected`. A caller without `operator.admin` sees only its own device.
pub fn device_list(call: &Call<'_>) -> Result<Value, GatewayError> {
    let (state, info) = (call.state, call.info);
    let mut list = lock(&state.pairing).list(now_ms());
    if !info.has_scope(scope::ADMIN) {
        let own = info.device_id.as_deref().unwrap_or_default();
        list.pending.retain(|r| r.device_id == own);
        list.paired.retain(|d| d.device_id == own);
    }
    let live: Vec<String> = state
        .registry
        .infos()
        .iter()
        .filter_map(|i| i.device_id.clone())
        .collect();
    let mut out = to_json(&list)?;
    if let Some(paired) = out.get_mut("paired").and_then(Value::as_array_mut) {
        for device in paired {
            let id = device.get("deviceId").and_then(Value::as_str).unwrap_or("");
            let connected = live.iter().any(|d| d == id);
            device["connected"] = json!(connected);
        }
    }
    Ok(out)
}

/// `device.pair.approve`.
pub fn device_approve(call: &Call<'_>) -> Result<Value, GatewayError> {
    let (state, info) = (call.state, call.info);
    let request_id = call.text("requestId");
    let now = now_ms();
    let device = {
        let mut store = lock(&state.pairing);
        let pending = store
            .pending_device(request_id, now)
            .ok_or_else(|| GatewayError::invalid_request("unknown requestId"))?;
        check_own_device(info, &pending.device_id)?;
        if !info.has_scope(scope::ADMIN) {
            let roles: Vec<&String> = pending
                .roles
                .iter()
                .flatten()
                .chain(&pending.role)
                .collect();
            if roles.iter().any(|r| *r == "node") {
                return Err(access_denied(
                    "node-role-requires-admin",
                    "approving the node role needs operator.admin".into(),
                ));
            }
            let approved = store
                .get_device(&pending.device_id)
                .map(|d| d.roles)
                .unwrap_or_default();
            if !approved.is_empty() && roles.iter().any(|r| !approved.contains(r)) {
                return Err(access_denied(
                    "role-upgrade-requires-admin",
                    "adding a role to a paired device needs operator.admin".into(),
                ));
            }
        }
        if let Some(missing) = pending
            .scopes
            .iter()
            .flatten()
            .find(|s| s.starts_with("operator.") && !info.has_scope(s))
        {
            return Err(missing_scope(missing));
        }
        store.approve(request_id, now).map_err(store_error)?
    };
    resolved(
        state,
        Subject::Device,
        request_id,
        &device.device_id,
        "approved",
    );
    Ok(json!({"requestId": request_id, "device": device}))
}

/// `device.pair.reject`.
pub fn device_reject(call: &Call<'_>) -> Result<Value, GatewayError> {
    let (state, info) = (call.state, call.info);
    let request_id = call.text("requestId");
    let rejected = {
        let mut store = lock(&state.pairing);
        if let Some(pending) = store.pending_device(request_id, now_ms()) {
            check_own_device(info, &pending.device_id)?;
        }
        store.reject(request_id).map_err(store_error)?
    };
    resolved(
        state,
        Subject::Device,
        request_id,
        &rejected.device_id,
        "rejected",
    );
    Ok(json!({"requestId": request_id, "deviceId": rejected.device_id}))
}

/// `device.pair.remove`: unpairs the device (its tokens go with it) and closes its other
/// connections.
pub fn device_remove(call: &Call<'_>) -> Result<Value, GatewayError> {
    let (state, info) = (call.state, call.info);
    let device_id = call.text("deviceId");
    check_own_device(info, device_id)?;
    let removed = lock(&state.pairing)
        .remove_device(device_id)
        .map_err(store_error)?;
    close_device(
        state,
        info,
        &removed.device_id,
        None,
        "device pairing removed",
    );
    Ok(json!({"deviceId": removed.device_id}))
}

/// `device.token.rotate`.
pub fn token_rotate(call: &Call<'_>) -> Result<Value, GatewayError> {
    let (state, info) = (call.state, call.info);
    let device_id = call.text("deviceId");
    let role = call.text("role");
    if role != "operator" && role != "node" {
        return Err(GatewayError::invalid_request("invalid role"));
    }
    check_own_device(info, device_id)?;
    let scopes = call.strings("scopes");
    let token = {
        let mut store = lock(&state.pairing);
        let granted = store
            .rotation_scopes(device_id, role, scopes.as_deref())
            .map_err(store_error)?;
        if let Some(missing) = granted.iter().find(|s| !info.has_scope(s)) {
            return Err(access_denied(
                "scope-not-held",
                format!(
                    "missing scope: {missing} (a rotated token never carries a scope the caller does not hold)"
                ),
            ));
        }
        store
            .rotate_token(device_id, role, scopes.as_deref(), now_ms())
            .map_err(store_error)?
    };
    close_device(state, info, device_id, Some(role), "device token rotated");
    let same_device = info.device_id.as_deref() == Some(device_id);
    let mut out = json!({
        "deviceId": device_id,
        "role": token.role,
        "scopes": token.scopes,
        "rotatedAtMs": token.issued_at_ms,
        "tokenDelivery": if same_device { "in-band" } else { "withheld-cross-device" },
    });
    if same_device {
        out["token"] = json!(token.token.expose_secret());
    }
    Ok(out)
}

/// `device.token.revoke`: revokes the role's token and closes the device's other connections in
/// that role.
pub fn token_revoke(call: &Call<'_>) -> Result<Value, GatewayError> {
    let (state, info) = (call.state, call.info);
    let device_id = call.text("deviceId");
    let role = call.text("role");
    check_own_device(info, device_id)?;
    let now = now_ms();
    let summary = lock(&state.pairing)
        .revoke_token(device_id, role, now)
        .map_err(store_error)?;
    close_device(
        state,
        info,
        device_id,
        Some(&summary.role),
        "device token revoked",
    );
    Ok(json!({
        "deviceId": device_id,
        "role": summary.role,
        "revokedAtMs": summary.revoked_at_ms.unwrap_or(now),
    }))
}

// ----- nodes -----------------------------------------------------------------------------------

/// `node.pair.request`: files (or refreshes) a pending node request.
pub fn node_request(call: &Call<'_>) -> Result<Value, GatewayError> {
    let state = call.state;
    let input = NodePairingInput {
        node_id: call.text("nodeId").to_owned(),
        display_name: call.opt_text("displayName"),
        platform: call.opt_text("platform"),
        version: call.opt_text("version"),
        core_version: call.opt_text("coreVersion"),
        ui_version: call.opt_text("uiVersion"),
        device_family: call.opt_text("deviceFamily"),
        model_identifier: call.opt_text("modelIdentifier"),
        caps: call.strings("caps"),
        commands: call.strings("commands"),
        permissions: call
            .params
            .get("permissions")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_bool().map(|b| (k.clone(), b)))
                    .collect::<BTreeMap<_, _>>()
            }),
        remote_ip: call.opt_text("remoteIp"),
        silent: call
            .params
            .get("silent")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    let (request, created) = {
        let mut store = lock(&state.pairing);
        let pending = store.node_list(now_ms()).pending;
        let refresh = pending.iter().any(|r| r.node_id == input.node_id);
        if !refresh && pending.len() >= MAX_PENDING_TOTAL {
            return Err(GatewayError::unavailable(format!(
                "too many pending node pairing requests ({MAX_PENDING_TOTAL}); approve or reject some or wait for them to expire"
            )));
        }
        store.node_request(input, now_ms()).map_err(store_error)?
    };
    let request = to_json(&request)?;
    if created {
        state
            .registry
            .broadcast("node.pair.requested", &request, None, true, |_| true);
    }
    Ok(json!({"status": "pending", "request": request, "created": created}))
}

/// `node.pair.list`.
pub fn node_list(call: &Call<'_>) -> Result<Value, GatewayError> {
    let state = call.state;
    to_json(&lock(&state.pairing).node_list(now_ms()))
}

/// `node.pair.approve`: returns the paired node with its new token (once).
pub fn node_approve(call: &Call<'_>) -> Result<Value, GatewayError> {
    let (state, info) = (call.state, call.info);
    let request_id = call.text("requestId");
    let now = now_ms();
    let approval = {
        let mut store = lock(&state.pairing);
        let pending = store
            .pending_node(request_id, now)
            .ok_or_else(|| GatewayError::invalid_request("unknown requestId"))?;
        let commands = pending.commands.unwrap_or_default();
        let needed = if commands.iter().any(|c| requires_admin(c)) {
            Some(scope::ADMIN)
        } else if !commands.is_empty() {
            Some(scope::WRITE)
        } else {
            None
        };
        if let Some(needed) = needed.filter(|s| !info.has_scope(s)) {
            return Err(missing_scope(needed));
        }
        store.node_approve(request_id, now).map_err(store_error)?
    };
    resolved(
        state,
        Subject::Node,
        request_id,
        &approval.node.node_id,
        "approved",
    );
    let mut node = to_json(&approval.node)?;
    node["token"] = json!(approval.token.expose_secret());
    Ok(json!({"requestId": request_id, "node": node}))
}

/// `node.pair.reject`.
pub fn node_reject(call: &Call<'_>) -> Result<Value, GatewayError> {
    let state = call.state;
    let request_id = call.text("requestId");
    let rejected = lock(&state.pairing)
        .node_reject(request_id)
        .map_err(store_error)?;
    resolved(
        state,
        Subject::Node,
        request_id,
        &rejected.node_id,
        "rejected",
    );
    Ok(json!({"requestId": request_id, "nodeId": rejected.node_id}))
}

/// `node.pair.remove`: unpairs a node approved through `node.pair.*`, or a device paired only
/// as a node; its live node connections are closed.
pub fn node_remove(call: &Call<'_>) -> Result<Value, GatewayError> {
    let state = call.state;
    let node_id = call.text("nodeId").to_owned();
    {
        let mut store = lock(&state.pairing);
        match store.node_remove(&node_id) {
            Ok(_) => {}
            Err(PairingStoreError::UnknownNodeId(_)) => {
                let node_only = store
                    .get_device(&node_id)
                    .is_some_and(|d| !d.roles.is_empty() && d.roles.iter().all(|r| r == "node"));
                if !node_only {
                    return Err(GatewayError::invalid_request("unknown nodeId"));
                }
                store.remove_device(&node_id).map_err(store_error)?;
            }
            Err(e) => return Err(store_error(e)),
        }
    }
    state
        .registry
        .close_where(close_code::POLICY_VIOLATION, "node pairing removed", |c| {
            c.node_id.as_deref() == Some(node_id.as_str())
        });
    Ok(json!({"nodeId": node_id}))
}

/// `node.pair.verify`: `{ok:true, node}` when `token` is the paired node's token.
pub fn node_verify(call: &Call<'_>) -> Result<Value, GatewayError> {
    let state = call.state;
    let node_id = call.text("nodeId");
    let token = call
        .params
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or("");
    let store = lock(&state.pairing);
    if !store.node_verify(node_id, token) {
        return Ok(json!({"ok": false}));
    }
    let node = store.get_node(node_id);
    Ok(json!({"ok": true, "node": node}))
}

/// `node.rename`: renames a node approved through `node.pair.*`, or a device paired as a node.
pub fn node_rename(call: &Call<'_>) -> Result<Value, GatewayError> {
    let state = call.state;
    let node_id = call.text("nodeId");
    let display_name = call.text("displayName");
    if display_name.is_empty() {
        return Err(GatewayError::invalid_request("displayName required"));
    }
    let mut store = lock(&state.pairing);
    let name = match store.node_rename(node_id, display_name) {
        Ok(node) => node.display_name,
        Err(PairingStoreError::UnknownNodeId(_)) => {
            let is_node = store
                .get_device(node_id)
                .is_some_and(|d| d.roles.iter().any(|r| r == "node"));
            if !is_node {
                return Err(GatewayError::invalid_request("unknown nodeId"));
            }
            store
                .rename_device(node_id, display_name)
                .map_err(store_error)?
                .display_name
        }
        Err(e) => return Err(store_error(e)),
    };
    Ok(json!({"nodeId": node_id, "displayName": name}))
}
