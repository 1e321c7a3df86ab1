//! The pairing step of a connect (after authentication): a paired device goes on; an
//! authenticated loopback device without a browser `Origin` (or the Control UI from an allowed
//! origin) is approved silently when `gateway.nodes.pairing.autoApproveLocal`; any other gets a
//! pending request — within the per-address and total caps — and `NOT_PAIRED`.

use std::sync::Arc;

use serde_json::json;

use super::authenticate::BROWSER_CLIENT_IDS;
use super::{Peer, Refused, policy_refusal};
use crate::gateway::device_identity::VerifiedDevice;
use crate::gateway::pairing::{
    DevicePairingInput, DevicePendingRequest, PENDING_TTL_MS, PairingCheck, PairingStoreError,
};
use crate::gateway::registry::Role;
use crate::gateway::state::{GatewayState, lock, now_ms};
use crate::protocol::connect::ConnectParams;
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::ErrorCode;

/// Auto-approves a local device, or files a pairing request and refuses the connection.
pub(super) fn pair_or_refuse(
    state: &Arc<GatewayState>,
    peer: &Peer,
    params: &ConnectParams,
    device: &VerifiedDevice,
    role: Role,
    scopes: &[String],
    check: &PairingCheck,
) -> Result<(), Refused> {
    let input = DevicePairingInput {
        device_id: device.device_id.clone(),
        public_key: device.public_key_base64url.clone(),
        display_name: params.client.display_name.clone(),
        platform: Some(params.client.platform.clone()),
        device_family: params.client.device_family.clone(),
        client_id: Some(params.client.id.to_ascii_lowercase()),
        client_mode: Some(params.client.mode.to_ascii_lowercase()),
        role: Some(role.as_str().to_owned()),
        scopes: scopes.to_vec(),
        remote_ip: (!peer.is_loopback).then(|| peer.ip.to_string()),
        silent: peer.is_loopback,
    };
    let unavailable = |e: PairingStoreError| {
        policy_refusal(GatewayError::unavailable(format!("pairing store: {e}")))
    };
    let now = now_ms();
    let mut store = lock(&state.pairing);
    if let Some(full) = pending_cap_reached(&store.list(now).pending, device, &input.remote_ip) {
        drop(store);
        tracing::warn!(ip = %peer.ip, "pairing request refused: {full}");
        return Err(policy_refusal(
            GatewayError::unavailable(full).retry_after(PENDING_TTL_MS),
        ));
    }
    let (request, is_new) = store.request(input, now).map_err(unavailable)?;
    // A browser page is paired silently only as the Control UI/webchat from an allowed origin
    // (the origin check has already refused every other origin).
    let browser_ok = peer.origin.is_none()
        || BROWSER_CLIENT_IDS.contains(&params.client.id.to_ascii_lowercase().as_str());
    if peer.is_loopback && browser_ok && state.settings.config.pairing_auto_approve_local() {
        store
            .approve(&request.request_id, now)
            .map_err(unavailable)?;
        drop(store);
        let resolved = json!({"requestId": request.request_id, "deviceId": device.device_id, "decision": "approved", "ts": now});
        state
            .registry
            .broadcast("device.pair.resolved", &resolved, None, false, |_| true);
        return Ok(());
    }
    drop(store);
    if is_new {
        if let Ok(payload) = serde_json::to_value(&request) {
            state
                .registry
                .broadcast("device.pair.requested", &payload, None, false, |_| true);
        }
    }
    let reason = check.reason().unwrap_or("not-paired");
    let message = format!(
        "pairing required: device is not approved yet (requestId: {})",
        request.request_id
    );
    Err(policy_refusal(
        GatewayError::new(ErrorCode::NotPaired, message).with_details(json!({
            "code": "PAIRING_REQUIRED",
            "reason": reason,
            "requestId": request.request_id,
            "recommendedNextStep": "approve the device on the gateway host: openclaw devices approve",
            "retryable": true,
            "pauseReconnect": true,
            "requestedRole": role.as_str(),
            "requestedScopes": scopes,
        })),
    ))
}

/// Pending device requests one address may have at a time (loopback counts as one address).
pub const MAX_PENDING_PER_ADDRESS: usize = 16;
/// Pending device requests the gateway keeps at a time.
pub const MAX_PENDING_TOTAL: usize = 128;

/// Why a new pending request for `device` from `remote_ip` would exceed the caps; `None` when
/// it fits (a device refreshing its own request always fits).
fn pending_cap_reached(
    pending: &[DevicePendingRequest],
    device: &VerifiedDevice,
    remote_ip: &Option<String>,
) -> Option<String> {
    if pending.iter().any(|r| r.device_id == device.device_id) {
        return None;
    }
    if pending.len() >= MAX_PENDING_TOTAL {
        return Some(format!(
            "too many pending pairing requests ({MAX_PENDING_TOTAL}); approve or reject some (openclaw devices list) or wait for them to expire"
        ));
    }
    let from_here = pending.iter().filter(|r| &r.remote_ip == remote_ip).count();
    (from_here >= MAX_PENDING_PER_ADDRESS).then(|| {
        format!(
            "too many pending pairing requests from this address ({MAX_PENDING_PER_ADDRESS}); approve or reject them first or wait for them to expire"
        )
    })
}
