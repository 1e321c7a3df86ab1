//! One WebSocket connection: challenge, `connect` handshake, then the request loop.
//!
//! Handshake refusals follow the reference exactly: a non-JSON first frame or a handshake timeout
//! is a silent close 1000; JSON that is not a frame closes 1008 `invalid request frame`; every
//! other refusal answers an error response first and then closes (1002 for a protocol mismatch,
//! 1008 otherwise) with the error message as reason.
//!
//! The steps live beside this file: [`handshake`] (the pure first-frame checks), [`accept`]
//! (the pipeline: origin → device proof → [`authenticate`] → [`pairing_step`] → token →
//! hello-ok); this file runs the socket: challenge, handshake, request loop.

mod accept;
pub mod authenticate;
pub mod handshake;
pub mod pairing_step;

pub use self::handshake::{Negotiated, check_device, negotiate, parse_connect_frame};
pub use self::pairing_step::{MAX_PENDING_PER_ADDRESS, MAX_PENDING_TOTAL};

use std::net::IpAddr;
use std::sync::Arc;

use futures_util::stream::{SplitStream, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Bytes, Message};

use super::methods::{self, pairing as pairing_methods};
use super::outbound::{ConnectionSender, connection_queue, run_writer};
use super::presence::PresenceEntry;
use super::registry::ConnInfo;
use super::state::{GatewayState, now_ms};
use crate::protocol::constants::*;
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::{response_error, response_error_with_payload, response_ok};
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

/// The usual refusal of a `connect`: answer `e`, then close with 1008 (policy violation).
pub fn policy_refusal(e: GatewayError) -> Refused {
    Box::new((e, close_code::POLICY_VIOLATION))
}

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
    accept::accept(state, peer, conn_id, nonce, &id, params)
        .await
        .map_err(|refused| {
            let (error, code) = *refused;
            Refusal::Error { id, error, code }
        })
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
    // What must keep the frames' order (a run's acceptance) happens here, the rest in a task.
    let answer = methods::dispatch(state, info, sender, &request.id, &request.method, params);
    let sender = sender.clone();
    inflight.spawn(async move {
        let result = answer.await;
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
