//! One WebSocket connection: challenge, `connect` handshake, then the request loop.
//!
//! Handshake refusals follow the reference exactly: a non-JSON first frame or a handshake timeout
//! is a silent close 1000; JSON that is not a frame closes 1008 `invalid request frame`; every
//! other refusal answers an error response first and then closes (1002 for a protocol mismatch,
//! 1008 otherwise) with the error message as reason.

use std::net::IpAddr;
use std::sync::Arc;

use futures_util::stream::{SplitStream, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Bytes, Message};

use super::canvas_host;
use super::connect_auth::{BROWSER_CLIENT_IDS, Claimant, authenticate, check_origin};
use super::device_identity::{
    DeviceAuthError, DeviceProof, SignedFields, VerifiedDevice, VerifyContext, verify_device,
};
use super::node_commands::{CommandPolicy, Platform};
use super::outbound::{ConnectionSender, connection_queue, run_writer};
use super::pairing_store::{
    DevicePairingInput, DevicePendingRequest, PENDING_TTL_MS, PairingCheck,
};
use super::presence::PresenceEntry;
use super::registry::{ConnInfo, Role};
use super::state::{GatewayState, lock, now_ms};
use super::{methods, pairing_methods};
use crate::config::AuthMode;
use crate::protocol::connect::{
    ConnectParams, Features, HelloAuth, HelloOk, Policy, ServerInfo, Snapshot,
};
use crate::protocol::constants::*;
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::{
    ErrorCode, Frame, RequestFrame, response_error, response_error_with_payload, response_ok,
};
use crate::protocol::schema_validation::Validators;

/// Most requests one connection may have in flight.
pub const MAX_INFLIGHT_REQUESTS: usize = 64;

/// Events this gateway may send (`hello-ok.features.events`).
pub const EVENTS: &[&str] = &[
    "connect.challenge",
    "tick",
    "shutdown",
    "presence",
    "health",
    "heartbeat",
    "node.invoke.request",
    "node.pair.requested",
    "node.pair.resolved",
    "device.pair.requested",
    "device.pair.resolved",
];

/// The peer of a connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Remote address.
    pub ip: IpAddr,
    /// True for loopback peers.
    pub is_loopback: bool,
    /// The upgrade request's `Origin` header (browsers send one; other clients do not).
    pub origin: Option<String>,
    /// The upgrade request's `Host` header.
    pub host: Option<String>,
}

/// Turns the pre-auth byte budget off once `connect` succeeded.
pub trait PreauthBudget: Send {
    /// Lifts the pre-auth cap.
    fn lift(&self);
}

/// A refused `connect`: the error to answer and the close code.
pub type Refused = Box<(GatewayError, u16)>;

/// How a handshake ended without a connection.
#[derive(Debug)]
pub enum Refusal {
    /// Close without a response frame.
    Close {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Answer `id` with `error`, then close.
    Error {
        /// The request id the error answers.
        id: String,
        /// The error response.
        error: GatewayError,
        /// The close code after the response.
        code: u16,
    },
}

impl Refusal {
    fn error(id: &str, error: GatewayError) -> Self {
        Self::Error {
            id: id.to_owned(),
            error,
            code: close_code::POLICY_VIOLATION,
        }
    }
}

/// Serves one upgraded WebSocket until it closes or the gateway stops.
pub async fn serve<S>(
    ws: WebSocketStream<S>,
    peer: Peer,
    state: Arc<GatewayState>,
    budget: Box<dyn PreauthBudget>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn_id = uuid::Uuid::new_v4().to_string();
    let (sink, mut stream) = ws.split();
    let (sender, queue) = connection_queue(state.settings.max_buffered_bytes);
    let writer = state
        .tasks
        .spawn(run_writer(sink, queue, state.shutdown.clone()));
    let nonce = uuid::Uuid::new_v4().to_string();
    let challenge = json!({"type": "event", "event": "connect.challenge", "payload": {"nonce": nonce, "ts": now_ms()}});
    sender.send_text(challenge.to_string());

    let outcome = tokio::select! {
        outcome = handshake(&mut stream, &state, &peer, &conn_id, &nonce) => outcome,
        () = state.shutdown.cancelled() => Err(Refusal::Close { code: close_code::SERVICE_RESTART, reason: "service restart".into() }),
    };
    let (info, hello) = match outcome {
        Ok(accepted) => accepted,
        Err(Refusal::Close { code, reason }) => {
            sender.close(code, &reason);
            drop(sender);
            let _ = writer.await;
            return;
        }
        Err(Refusal::Error { id, error, code }) => {
            tracing::debug!(conn = %conn_id, ip = %peer.ip, message = %error.message, "connect refused");
            sender.send_text(response_error(&id, &error.to_shape()));
            sender.close(code, &error.message);
            drop(sender);
            let _ = writer.await;
            return;
        }
    };
    budget.lift();
    sender.send_text(hello);
    let info = state.registry.register(sender.clone(), info);
    if let Some(key) = &info.presence_key {
        let entry = presence_entry(&info);
        let key = key.clone();
        state.update_presence(|p| p.upsert(&key, entry));
    }
    tracing::debug!(conn = %conn_id, client = %info.client_id, role = info.role.as_str(), "client connected");

    request_loop(&mut stream, &state, &info, &sender).await;

    state.registry.remove(&conn_id);
    if let Some(key) = &info.presence_key {
        let key = key.clone();
        state.update_presence(|p| {
            p.mark_disconnected(&key, now_ms());
        });
    }
    methods::connection_closed(&state, &info);
    drop(sender);
    let _ = writer.await;
    tracing::debug!(conn = %conn_id, "client disconnected");
}

async fn next_payload<S>(stream: &mut SplitStream<WebSocketStream<S>>) -> Option<Result<Bytes, u16>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match stream.next().await? {
            Ok(Message::Text(text)) => return Some(Ok(text.into())),
            Ok(Message::Binary(bytes)) => return Some(Ok(bytes)),
            Ok(Message::Close(_)) => return None,
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Err(tokio_tungstenite::tungstenite::Error::Capacity(_)) => {
                return Some(Err(close_code::MESSAGE_TOO_BIG));
            }
            Err(tokio_tungstenite::tungstenite::Error::Io(e))
                if e.kind() == std::io::ErrorKind::QuotaExceeded =>
            {
                return Some(Err(close_code::MESSAGE_TOO_BIG));
            }
            Err(_) => return None,
        }
    }
}

async fn handshake<S>(
    stream: &mut SplitStream<WebSocketStream<S>>,
    state: &Arc<GatewayState>,
    peer: &Peer,
    conn_id: &str,
    nonce: &str,
) -> Result<(ConnInfo, String), Refusal>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let silent = || Refusal::Close {
        code: close_code::NORMAL,
        reason: String::new(),
    };
    let first = tokio::time::timeout(state.settings.handshake_timeout, next_payload(stream))
        .await
        .map_err(|_| silent())?;
    let bytes = match first {
        None => return Err(silent()),
        Some(Err(code)) => {
            return Err(Refusal::Close {
                code,
                reason: "max payload size exceeded".into(),
            });
        }
        Some(Ok(bytes)) if bytes.len() > MAX_PREAUTH_PAYLOAD_BYTES => {
            return Err(Refusal::Close {
                code: close_code::MESSAGE_TOO_BIG,
                reason: "max payload size exceeded".into(),
            });
        }
        Some(Ok(bytes)) => bytes,
    };
    let (id, params) = parse_connect_frame(&bytes)?;
    accept(state, peer, conn_id, nonce, &id, params)
        .await
        .map_err(|refused| {
            let (error, code) = *refused;
            Refusal::Error { id, error, code }
        })
}

/// Reads a handshake's first frame (already within the pre-auth size cap): the `connect`
/// request id and its schema-checked params, or how the handshake is refused.
///
/// Pure: no state, no I/O — the gateway's handshake and the `connect_params` fuzz target both
/// call it.
pub fn parse_connect_frame(bytes: &[u8]) -> Result<(String, ConnectParams), Refusal> {
    let silent = || Refusal::Close {
        code: close_code::NORMAL,
        reason: String::new(),
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|_| silent())?;
    let invalid_frame = || Refusal::Close {
        code: close_code::POLICY_VIOLATION,
        reason: "invalid request frame".into(),
    };
    let frame: Frame = match Validators::get().check_frame(&value) {
        Ok(()) => serde_json::from_value(value).map_err(|_| invalid_frame())?,
        Err(_) => {
            // A request-shaped frame with a bad method still gets the handshake answer.
            return Err(
                match (
                    value.get("type").and_then(Value::as_str),
                    value.get("id").and_then(Value::as_str),
                ) {
                    (Some("req"), Some(id))
                        if value.get("method").and_then(Value::as_str) != Some("connect") =>
                    {
                        Refusal::error(
                            id,
                            GatewayError::invalid_request(
                                "invalid handshake: first request must be connect",
                            ),
                        )
                    }
                    _ => invalid_frame(),
                },
            );
        }
    };
    let Frame::Request(RequestFrame { id, method, params }) = frame else {
        return Err(invalid_frame());
    };
    if method != "connect" {
        return Err(Refusal::error(
            &id,
            GatewayError::invalid_request("invalid handshake: first request must be connect"),
        ));
    }
    let params = params.unwrap_or_else(|| json!({}));
    let bad_params =
        |reason: &str| Refusal::error(&id, GatewayError::invalid_params("connect", reason));
    Validators::get()
        .check_connect(&params)
        .map_err(|reason| bad_params(&reason))?;
    let params: ConnectParams =
        serde_json::from_value(params).map_err(|e| bad_params(&e.to_string()))?;
    Ok((id, params))
}

/// What `connect` negotiated before any credential is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The role the client asked for.
    pub role: Role,
    /// The client is a probe (accepts older protocol versions).
    pub probe: bool,
    /// The protocol version both sides speak.
    pub protocol: u32,
    /// `client.id`, lower-cased and known.
    pub client_id: String,
    /// `client.mode`, lower-cased and known.
    pub client_mode: String,
}

/// Role, protocol version and client id/mode checks of `connect` (pure; no state).
pub fn negotiate(params: &ConnectParams) -> Result<Negotiated, Refused> {
    let refuse = |e: GatewayError| Box::new((e, close_code::POLICY_VIOLATION));
    let role = match params.role.as_deref().unwrap_or("operator") {
        "operator" => Role::Operator,
        "node" => Role::Node,
        _ => return Err(refuse(GatewayError::invalid_request("invalid role"))),
    };
    let probe = client_is_probe(params);
    let minimum = if role == Role::Node || probe {
        MIN_NODE_PROTOCOL_VERSION.min(MIN_PROBE_PROTOCOL_VERSION)
    } else {
        MIN_CLIENT_PROTOCOL_VERSION
    };
    let protocol =
        if params.min_protocol <= PROTOCOL_VERSION && PROTOCOL_VERSION <= params.max_protocol {
            PROTOCOL_VERSION
        } else if params.min_protocol <= minimum
            && minimum <= params.max_protocol
            && params.max_protocol < PROTOCOL_VERSION
        {
            params.max_protocol
        } else {
            return Err(Box::new((
                GatewayError::invalid_request("protocol mismatch").with_details(json!({
                    "code": "PROTOCOL_MISMATCH",
                    "clientMinProtocol": params.min_protocol,
                    "clientMaxProtocol": params.max_protocol,
                    "expectedProtocol": PROTOCOL_VERSION,
                    "minimumProbeProtocol": MIN_PROBE_PROTOCOL_VERSION,
                })),
                close_code::PROTOCOL_ERROR,
            )));
        };
    let client_id = params.client.id.to_ascii_lowercase();
    if !KNOWN_CLIENT_IDS.contains(&client_id.as_str()) {
        return Err(refuse(GatewayError::invalid_params(
            "connect",
            &format!("unknown client id {:?}", params.client.id),
        )));
    }
    let client_mode = params.client.mode.to_ascii_lowercase();
    if !KNOWN_CLIENT_MODES.contains(&client_mode.as_str()) {
        return Err(refuse(GatewayError::invalid_params(
            "connect",
            &format!("unknown client mode {:?}", params.client.mode),
        )));
    }

    Ok(Negotiated {
        role,
        probe,
        protocol,
        client_id,
        client_mode,
    })
}

/// Checks `connect.params.device` against the fields its signature covers (pure; `None`
/// without a device): the token signed is `auth.token`, else `auth.deviceToken`.
pub fn check_device(
    params: &ConnectParams,
    role: Role,
    ctx: &VerifyContext<'_>,
) -> Option<Result<VerifiedDevice, DeviceAuthError>> {
    let device = params.device.as_ref()?;
    let auth = params.auth.as_ref();
    let fields = SignedFields {
        client_id: &params.client.id,
        client_mode: &params.client.mode,
        role: role.as_str(),
        scopes: params.scopes.as_deref().unwrap_or_default(),
        token: auth.and_then(|a| a.token.as_deref().or(a.device_token.as_deref())),
        platform: Some(&params.client.platform),
        device_family: params.client.device_family.as_deref(),
        instance_id: params.client.instance_id.as_deref(),
    };
    let proof = DeviceProof {
        id: &device.id,
        public_key: &device.public_key,
        signature: &device.signature,
        signed_at_ms: device.signed_at,
        nonce: device.nonce.as_deref(),
    };
    Some(verify_device(&proof, &fields, ctx))
}

fn client_is_probe(params: &ConnectParams) -> bool {
    params.client.mode.eq_ignore_ascii_case("probe")
        || params.client.id.to_ascii_lowercase().ends_with("-probe")
}

async fn accept(
    state: &Arc<GatewayState>,
    peer: &Peer,
    conn_id: &str,
    nonce: &str,
    request_id: &str,
    params: ConnectParams,
) -> Result<(ConnInfo, String), Refused> {
    let policy = close_code::POLICY_VIOLATION;
    let refuse = |e: GatewayError| Box::new((e, policy));
    let Negotiated {
        role,
        probe,
        protocol,
        client_id,
        client_mode,
    } = negotiate(&params)?;

    check_origin(state, peer).map_err(refuse)?;

    let auth = &state.settings.auth;
    let presented = params.auth.clone().unwrap_or_default();
    let nothing_presented = presented.token.is_none()
        && presented.password.is_none()
        && presented.device_token.is_none();
    // Only operators may connect without a device identity; a node's pairing is its
    // authorization, so a node must always present one (as upstream requires).
    let device_required = role == Role::Node || (nothing_presented && auth.mode != AuthMode::None);
    if params.device.is_none() && device_required {
        return Err(refuse(
            GatewayError::new(ErrorCode::NotPaired, "device identity required")
                .with_details(json!({"code": "DEVICE_IDENTITY_REQUIRED"})),
        ));
    }
    let requested_scopes: Vec<String> = params.scopes.clone().unwrap_or_default();

    // Device identity, when presented.
    let ctx = VerifyContext {
        challenge_nonce: nonce,
        now_ms: now_ms(),
        is_loopback: peer.is_loopback,
        nonce_required: protocol >= PROTOCOL_VERSION || !peer.is_loopback,
    };
    let verified = match check_device(&params, role, &ctx) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            return Err(refuse(
                GatewayError::invalid_request(e.message())
                    .with_details(json!({"code": e.detail_code()})),
            ));
        }
    };

    // Authentication first (shared secret, or a device token of the verified device); only an
    // authenticated connect goes on to pairing.
    let claimant = Claimant {
        peer,
        params: &params,
        role,
        client_id: &client_id,
        device: verified.as_ref(),
        scopes: &requested_scopes,
    };
    let auth_method = authenticate(state, &claimant).await.map_err(refuse)?;

    // Pairing for device connections; scope rules for device-less ones.
    let mut issued = None;
    let scopes = match &verified {
        Some(device) => {
            let check = lock(&state.pairing).check(
                &device.device_id,
                &device.public_key_base64url,
                role.as_str(),
                &requested_scopes,
            );
            if !check.is_paired() {
                pair_or_refuse(
                    state,
                    peer,
                    &params,
                    device,
                    role,
                    &requested_scopes,
                    &check,
                )?;
            }
            let token = lock(&state.pairing)
                .ensure_token(
                    &device.device_id,
                    role.as_str(),
                    &requested_scopes,
                    now_ms(),
                )
                .map_err(|e| refuse(GatewayError::unavailable(format!("device token: {e}"))))?;
            issued = Some(token);
            if role == Role::Node {
                Vec::new()
            } else {
                requested_scopes.clone()
            }
        }
        None => {
            let trusted = peer.is_loopback
                && ((client_id == "gateway-client" && client_mode == "backend")
                    || (client_id == "cli" && client_mode == "cli"));
            if trusted && role == Role::Operator {
                requested_scopes.clone()
            } else {
                Vec::new()
            }
        }
    };

    let node_id = (role == Role::Node).then(|| {
        verified
            .as_ref()
            .map(|d| d.device_id.clone())
            .or_else(|| params.client.instance_id.clone())
            .unwrap_or_else(|| conn_id.to_owned())
    });
    let tracked = client_mode != "cli" && !probe;
    let presence_key = tracked.then(|| {
        verified
            .as_ref()
            .map(|d| d.device_id.clone())
            .or_else(|| params.client.instance_id.clone())
            .unwrap_or_else(|| conn_id.to_owned())
    });
    let info = ConnInfo {
        conn_id: conn_id.to_owned(),
        role,
        scopes: scopes.clone(),
        client_id,
        client_mode,
        display_name: params.client.display_name.clone(),
        client_version: params.client.version.clone(),
        platform: params.client.platform.clone(),
        device_id: verified.as_ref().map(|d| d.device_id.clone()),
        node_id,
        device_family: params.client.device_family.clone(),
        model_identifier: params.client.model_identifier.clone(),
        path_env: params.path_env.clone(),
        permissions: params.permissions.clone(),
        caps: params.caps.clone(),
        commands: declared_commands(state, role, &params),
        presence_key,
        remote_ip: peer.ip,
        connected_at_ms: now_ms(),
        protocol,
    };
    let is_admin = info.has_scope(scope::ADMIN);
    let settings = &state.settings;
    let hello = HelloOk {
        kind: "hello-ok".into(),
        protocol,
        server: ServerInfo {
            version: settings.version.clone(),
            conn_id: conn_id.to_owned(),
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
            role: role.as_str().to_owned(),
            // What this connection holds (the device token may carry more).
            scopes,
            device_token: issued.as_ref().map(|t| t.token.expose_secret().to_owned()),
            issued_at_ms: issued.as_ref().map(|t| t.issued_at_ms),
        },
        policy: Policy {
            max_payload: MAX_PAYLOAD_BYTES,
            max_buffered_bytes: settings.max_buffered_bytes,
            tick_interval_ms: settings.tick_interval.as_millis() as u64,
        },
    };
    let payload = serde_json::value::to_raw_value(&hello)
        .map_err(|e| refuse(GatewayError::unavailable(e.to_string())))?;
    Ok((info, response_ok(request_id, &payload)))
}

/// Auto-approves a local device, or files a pairing request and refuses the connection.
fn pair_or_refuse(
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
    let unavailable = |e: super::pairing_store::PairingStoreError| {
        (
            GatewayError::unavailable(format!("pairing store: {e}")),
            close_code::POLICY_VIOLATION,
        )
    };
    let now = now_ms();
    let mut store = lock(&state.pairing);
    if let Some(full) = pending_cap_reached(&store.list(now).pending, device, &input.remote_ip) {
        drop(store);
        tracing::warn!(ip = %peer.ip, "pairing request refused: {full}");
        return Err(Box::new((
            GatewayError::unavailable(full).retry_after(PENDING_TTL_MS),
            close_code::POLICY_VIOLATION,
        )));
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
    Err(Box::new((
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
        close_code::POLICY_VIOLATION,
    )))
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

fn presence_entry(info: &ConnInfo) -> PresenceEntry {
    PresenceEntry {
        host: Some(
            info.display_name
                .clone()
                .unwrap_or_else(|| info.client_id.clone()),
        ),
        ip: (!info.remote_ip.is_loopback()).then(|| info.remote_ip.to_string()),
        version: Some(info.client_version.clone()),
        platform: Some(info.platform.clone()),
        mode: Some(info.client_mode.clone()),
        reason: Some("connect".into()),
        ts: now_ms(),
        device_id: info.device_id.clone(),
        roles: Some(vec![info.role.as_str().to_owned()]),
        scopes: Some(info.scopes.clone()),
        ..Default::default()
    }
}

async fn request_loop<S>(
    stream: &mut SplitStream<WebSocketStream<S>>,
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    sender: &ConnectionSender,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut inflight = JoinSet::new();
    // Created once: a fresh wait future per frame would register a waiter every time.
    let shutdown = state.shutdown.cancelled();
    let killed = sender.killed();
    let closing = sender.closing();
    tokio::pin!(shutdown, killed, closing);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = &mut killed => break,
            () = &mut closing => break,
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            next = next_payload(stream) => match next {
                None => break,
                Some(Err(code)) => {
                    sender.close(code, "max payload size exceeded");
                    break;
                }
                Some(Ok(bytes)) => handle_frame(&bytes, state, info, sender, &mut inflight),
            },
        }
    }
    inflight.abort_all();
}

/// The response frame of a method's result (errors may carry a payload, as `agent`'s do).
fn reply_frame(id: &str, result: Result<Box<serde_json::value::RawValue>, GatewayError>) -> String {
    match result {
        Ok(payload) => response_ok(id, &payload),
        Err(error) => {
            let payload = error
                .payload
                .as_ref()
                .and_then(|p| serde_json::value::to_raw_value(p).ok());
            response_error_with_payload(id, payload.as_deref(), &error.to_shape())
        }
    }
}

fn handle_frame(
    bytes: &[u8],
    state: &Arc<GatewayState>,
    info: &Arc<ConnInfo>,
    sender: &ConnectionSender,
    inflight: &mut JoinSet<()>,
) {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        tracing::debug!(conn = %info.conn_id, "ignoring a frame that is not JSON");
        return;
    };
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("invalid")
        .to_owned();
    let invalid = |reason: &str| {
        let error = GatewayError::invalid_request(format!("invalid request frame: {reason}"));
        sender.send_text(response_error(&id, &error.to_shape()));
    };
    if let Err(reason) = Validators::get().check_frame(&value) {
        return invalid(&reason);
    }
    // The envelope schema has checked the shape: take the fields out of the parsed map instead
    // of deserialising the value a second time.
    let Some(request) = RequestParts::take(value) else {
        return invalid("only req frames are accepted");
    };
    let params = request.params;
    if !methods::waits(&request.method) {
        let closes = pairing_methods::closes_caller(&request.method, info, &params);
        let result = methods::dispatch_now(state, info, &request.method, params);
        let succeeded = result.is_ok();
        sender.send_text(reply_frame(&request.id, result));
        if let Some(reason) = closes.filter(|_| succeeded) {
            // The caller removed, revoked or rotated its own credentials: what it held ends
            // with the answer.
            sender.close(close_code::POLICY_VIOLATION, reason);
        }
        return;
    }
    if inflight.len() >= MAX_INFLIGHT_REQUESTS {
        let error = GatewayError::unavailable("too many requests in flight").retry_after(100);
        sender.send_text(response_error(&request.id, &error.to_shape()));
        return;
    }
    let state = state.clone();
    let info = info.clone();
    let sender = sender.clone();
    inflight.spawn(async move {
        let result = methods::dispatch(&state, &info, &sender, &request.method, params).await;
        sender.send_text(reply_frame(&request.id, result));
    });
}

/// The parts of a request frame that passed the envelope schema.
struct RequestParts {
    id: String,
    method: String,
    params: Value,
}

impl RequestParts {
    /// Moves `id`, `method` and `params` (absent = `{}`) out of a schema-checked frame; `None`
    /// for a frame that is not a request.
    fn take(value: Value) -> Option<Self> {
        let Value::Object(mut map) = value else {
            return None;
        };
        if map.get("type").and_then(Value::as_str) != Some("req") {
            return None;
        }
        let mut text = |key: &str| match map.swap_remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let id = text("id")?;
        let method = text("method")?;
        let params = map.swap_remove("params").unwrap_or_else(|| json!({}));
        Some(Self { id, method, params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close_of(bytes: &[u8]) -> (u16, String) {
        match parse_connect_frame(bytes) {
            Err(Refusal::Close { code, reason }) => (code, reason),
            Err(Refusal::Error { error, code, .. }) => (code, error.message),
            Ok((id, _)) => panic!("accepted as connect {id}"),
        }
    }

    #[test]
    fn first_frames_are_refused_as_the_spec_table_says() {
        assert_eq!(close_of(b"this is not json {"), (1000, String::new()));
        assert_eq!(close_of(&[0, 1, 2]), (1000, String::new()));
        assert_eq!(
            close_of(br#"{"hello":"world"}"#),
            (1008, "invalid request frame".into())
        );
        assert_eq!(
            close_of(br#"{"type":"req","id":"1","method":"health"}"#),
            (
                1008,
                "invalid handshake: first request must be connect".into()
            )
        );
        assert_eq!(
            close_of(br#"{"type":"req","id":"1","method":"connect","params":{"minProtocol":4}}"#),
            (
                1008,
                "invalid connect params: must have required property 'maxProtocol'".into()
            )
        );
    }

    fn params(min: u32, max: u32, role: &str, client: &str, mode: &str) -> ConnectParams {
        serde_json::from_value(json!({
            "minProtocol": min, "maxProtocol": max, "role": role,
            "client": {"id": client, "version": "1", "platform": "linux", "mode": mode},
        }))
        .unwrap()
    }

    #[test]
    fn negotiation_picks_the_protocol_and_refuses_mismatches_with_1002() {
        let ok = negotiate(&params(3, 5, "operator", "CLI", "cli")).unwrap();
        assert_eq!((ok.role, ok.protocol), (Role::Operator, PROTOCOL_VERSION));
        assert_eq!((ok.client_id.as_str(), ok.probe), ("cli", false));
        let refused = negotiate(&params(99, 99, "operator", "cli", "cli")).unwrap_err();
        assert_eq!(
            (refused.1, refused.0.message.as_str()),
            (1002, "protocol mismatch")
        );
        let refused = negotiate(&params(1, 3, "operator", "cli", "cli")).unwrap_err();
        assert_eq!(refused.1, 1002);
        let refused = negotiate(&params(4, 4, "admin", "cli", "cli")).unwrap_err();
        assert_eq!(
            (refused.1, refused.0.message.as_str()),
            (1008, "invalid role")
        );
        let refused = negotiate(&params(4, 4, "operator", "nope", "cli")).unwrap_err();
        assert_eq!(refused.1, 1008);
    }
}
