//! The connect pipeline after the first frame: negotiate → origin check → device proof →
//! authenticate ([`super::authenticate`]) → pair ([`super::pairing_step`]) → device token →
//! the connection's info and its `hello-ok`.

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::json;

use super::authenticate::{Claimant, authenticate, check_origin};
use super::handshake::{Negotiated, check_device, negotiate};
use super::pairing_step::pair_or_refuse;
use super::{EVENTS, Peer, Refused, policy_refusal};
use crate::config::AuthMode;
use crate::gateway::canvas_host;
use crate::gateway::device_identity::{VerifiedDevice, VerifyContext};
use crate::gateway::methods;
use crate::gateway::node_commands::{CommandPolicy, Platform};
use crate::gateway::pairing::DeviceToken;
use crate::gateway::registry::{ConnInfo, Role};
use crate::gateway::state::{GatewayState, lock, now_ms};
use crate::protocol::connect::{
    ConnectParams, Features, HelloAuth, HelloOk, Policy, ServerInfo, Snapshot,
};
use crate::protocol::constants::*;
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::{ErrorCode, response_ok};

pub(super) async fn accept(
    state: &Arc<GatewayState>,
    peer: &Peer,
    conn_id: &str,
    nonce: &str,
    request_id: &str,
    params: ConnectParams,
) -> Result<(ConnInfo, String), Refused> {
    let negotiated = negotiate(&params)?;
    check_origin(state, peer).map_err(policy_refusal)?;
    require_device(state, &params, negotiated.role).map_err(policy_refusal)?;
    let verified = verify_device(peer, nonce, &params, &negotiated).map_err(policy_refusal)?;
    let requested_scopes: Vec<String> = params.scopes.clone().unwrap_or_default();
    // Authentication first (shared secret, or a device token of the verified device); only an
    // authenticated connect goes on to pairing.
    let claimant = Claimant {
        peer,
        params: &params,
        role: negotiated.role,
        client_id: &negotiated.client_id,
        device: verified.as_ref(),
        scopes: &requested_scopes,
    };
    let auth_method = authenticate(state, &claimant)
        .await
        .map_err(policy_refusal)?;
    let granted = match &verified {
        Some(device) => pair_device(
            state,
            peer,
            &params,
            device,
            negotiated.role,
            &requested_scopes,
        )?,
        None => Granted {
            scopes: deviceless_scopes(peer, &negotiated, requested_scopes),
            issued: None,
        },
    };
    let info = conn_info(
        state,
        peer,
        conn_id,
        &params,
        negotiated,
        verified.as_ref(),
        &granted,
    );
    let hello = hello_ok(state, peer, &info, auth_method, granted);
    let payload = serde_json::value::to_raw_value(&hello)
        .map_err(|e| policy_refusal(GatewayError::unavailable(e.to_string())))?;
    Ok((info, response_ok(request_id, &payload)))
}

/// Only operators may connect without a device identity, and only with a credential (or with
/// auth off); a node's pairing is its authorization, so a node always presents one (as
/// upstream requires).
fn require_device(
    state: &GatewayState,
    params: &ConnectParams,
    role: Role,
) -> Result<(), GatewayError> {
    let presented = params.auth.clone().unwrap_or_default();
    let nothing_presented = presented.token.is_none()
        && presented.password.is_none()
        && presented.device_token.is_none();
    let device_required =
        role == Role::Node || (nothing_presented && state.settings.auth.mode != AuthMode::None);
    if params.device.is_none() && device_required {
        return Err(
            GatewayError::new(ErrorCode::NotPaired, "device identity required")
                .with_details(json!({"code": "DEVICE_IDENTITY_REQUIRED"})),
        );
    }
    Ok(())
}

/// The device identity's proof (signature over this connection's challenge), when presented.
fn verify_device(
    peer: &Peer,
    nonce: &str,
    params: &ConnectParams,
    negotiated: &Negotiated,
) -> Result<Option<VerifiedDevice>, GatewayError> {
    let ctx = VerifyContext {
        challenge_nonce: nonce,
        now_ms: now_ms(),
        is_loopback: peer.is_loopback,
        nonce_required: negotiated.protocol >= PROTOCOL_VERSION || !peer.is_loopback,
    };
    check_device(params, negotiated.role, &ctx)
        .transpose()
        .map_err(|e| {
            GatewayError::invalid_request(e.message())
                .with_details(json!({"code": e.detail_code()}))
        })
}

/// What an accepted connection holds: its scopes and, for a device, the token issued to it.
struct Granted {
    scopes: Vec<String>,
    issued: Option<DeviceToken>,
}

/// A verified device: paired already, or paired now (silently on loopback, else refused with
/// a pending request); then its device token. A node holds no operator scopes.
fn pair_device(
    state: &Arc<GatewayState>,
    peer: &Peer,
    params: &ConnectParams,
    device: &VerifiedDevice,
    role: Role,
    requested_scopes: &[String],
) -> Result<Granted, Refused> {
    let check = lock(&state.pairing).check(
        &device.device_id,
        &device.public_key_base64url,
        role.as_str(),
        requested_scopes,
    );
    if !check.is_paired() {
        pair_or_refuse(state, peer, params, device, role, requested_scopes, &check)?;
    }
    let token = lock(&state.pairing)
        .ensure_token(&device.device_id, role.as_str(), requested_scopes, now_ms())
        .map_err(|e| policy_refusal(GatewayError::unavailable(format!("device token: {e}"))))?;
    Ok(Granted {
        scopes: if role == Role::Node {
            Vec::new()
        } else {
            requested_scopes.to_vec()
        },
        issued: Some(token),
    })
}

/// A connection without a device identity keeps its requested scopes only as the local CLI or
/// the gateway's own backend client on loopback; otherwise none.
fn deviceless_scopes(peer: &Peer, negotiated: &Negotiated, requested: Vec<String>) -> Vec<String> {
    let (id, mode) = (
        negotiated.client_id.as_str(),
        negotiated.client_mode.as_str(),
    );
    let trusted = peer.is_loopback
        && ((id == "gateway-client" && mode == "backend") || (id == "cli" && mode == "cli"));
    if trusted && negotiated.role == Role::Operator {
        requested
    } else {
        Vec::new()
    }
}

/// The registry's record of the accepted connection.
fn conn_info(
    state: &GatewayState,
    peer: &Peer,
    conn_id: &str,
    params: &ConnectParams,
    negotiated: Negotiated,
    verified: Option<&VerifiedDevice>,
    granted: &Granted,
) -> ConnInfo {
    let Negotiated {
        role,
        probe,
        protocol,
        client_id,
        client_mode,
    } = negotiated;
    let stable_id = || {
        verified
            .map(|d| d.device_id.clone())
            .or_else(|| params.client.instance_id.clone())
            .unwrap_or_else(|| conn_id.to_owned())
    };
    let node_id = (role == Role::Node).then(stable_id);
    let tracked = client_mode != "cli" && !probe;
    let presence_key = tracked.then(stable_id);
    ConnInfo {
        conn_id: conn_id.to_owned(),
        role,
        scopes: granted.scopes.clone(),
        client_id,
        client_mode,
        display_name: params.client.display_name.clone(),
        client_version: params.client.version.clone(),
        platform: params.client.platform.clone(),
        device_id: verified.map(|d| d.device_id.clone()),
        node_id,
        device_family: params.client.device_family.clone(),
        model_identifier: params.client.model_identifier.clone(),
        path_env: params.path_env.clone(),
        permissions: params.permissions.clone(),
        caps: params.caps.clone(),
        commands: declared_commands(state, role, params),
        presence_key,
        remote_ip: peer.ip,
        connected_at_ms: now_ms(),
        protocol,
    }
}

/// The `hello-ok` of an accepted connection: server, features, snapshot (paths and auth mode
/// for admins only), canvas URL, what the connection holds, policy.
fn hello_ok(
    state: &GatewayState,
    peer: &Peer,
    info: &ConnInfo,
    auth_method: &str,
    granted: Granted,
) -> HelloOk {
    let protocol = info.protocol;
    let is_admin = info.has_scope(scope::ADMIN);
    let settings = &state.settings;
    HelloOk {
        kind: "hello-ok".into(),
        protocol,
        server: ServerInfo {
            version: settings.version.clone(),
            conn_id: info.conn_id.clone(),
            boot_id: Some(state.boot_id.clone()),
        },
        features: Features {
            methods: methods::METHODS.iter().map(|m| m.name.to_owned()).collect(),
            events: EVENTS.iter().map(|e| (*e).to_owned()).collect(),
        },
        snapshot: Snapshot {
            presence: state
                .presence_list()
                .into_iter()
                .filter_map(|e| serde_json::to_value(e).ok())
                .collect(),
            health: state.health(),
            state_version: state.state_version(),
            uptime_ms: state.uptime_ms(),
            config_path: is_admin.then(|| settings.config_path.display().to_string()),
            state_dir: is_admin.then(|| settings.state_dir.display().to_string()),
            auth_mode: is_admin.then(|| settings.auth.mode.as_str().to_owned()),
            session_defaults: Some(state.session_defaults()),
        },
        plugin_surface_urls: (protocol >= PROTOCOL_VERSION)
            .then(|| canvas_url(state, peer))
            .flatten()
            .map(|url| [("canvas".to_owned(), url)].into()),
        canvas_host_url: (protocol < PROTOCOL_VERSION)
            .then(|| canvas_url(state, peer))
            .flatten(),
        auth: HelloAuth {
            method: Some(auth_method.to_owned()),
            role: info.role.as_str().to_owned(),
            // What this connection holds (the device token may carry more).
            scopes: granted.scopes,
            device_token: granted
                .issued
                .as_ref()
                .map(|t| t.token.expose_secret().to_owned()),
            issued_at_ms: granted.issued.as_ref().map(|t| t.issued_at_ms),
        },
        policy: Policy {
            max_payload: MAX_PAYLOAD_BYTES,
            max_buffered_bytes: settings.max_buffered_bytes,
            tick_interval_ms: settings.tick_interval.as_millis() as u64,
        },
    }
}

/// A node keeps the declared commands its platform's allowlist admits (spec §2.5); other roles
/// keep what they declared.
fn declared_commands(state: &GatewayState, role: Role, params: &ConnectParams) -> Vec<String> {
    let declared = params.commands.clone().unwrap_or_default();
    if role != Role::Node {
        return declared;
    }
    let platform = Platform::detect(
        &params.client.platform,
        params.client.device_family.as_deref(),
    );
    CommandPolicy::from_config(&state.settings.config).filter_declared(platform, &declared)
}

/// The canvas capability URL for a connection that reached the gateway as `peer.host`.
fn canvas_url(state: &GatewayState, peer: &Peer) -> Option<String> {
    state.settings.canvas.as_ref()?;
    let host = peer.host.clone().unwrap_or_else(|| {
        let ip = state.settings.bind.probe_host();
        let port = state.settings.ports.port;
        match ip {
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
            v4 => format!("{v4}:{port}"),
        }
    });
    Some(format!(
        "http://{host}{}/{}",
        canvas_host::CAPABILITY_PREFIX,
        state.canvas_capability.expose()
    ))
}
