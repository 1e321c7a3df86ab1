//! The listener side: bind the port, accept TCP connections, serve HTTP with hyper, and hand
//! WebSocket upgrades on the same port to the protocol.

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    CONNECTION, HOST, HeaderValue, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::{TcpListener, TcpSocket};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role as WsRole, WebSocketConfig};

use super::canvas_host;
use super::connection::{self, Peer};
use super::control_ui::ControlUi;
use super::http_api::{self, HttpBody};
use super::http_routes::{json_response, not_found, route};
use super::preauth_budget::{Budget, Budgeted, PreauthHold};
use super::state::{GatewayState, Phase};
use crate::contract::bind::BindPlan;
use crate::protocol::constants::{MAX_PAYLOAD_BYTES, MAX_PREAUTH_PAYLOAD_BYTES};

/// Why the port could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another process listens there.
    #[error(
        "port {port} is already in use on {addr} (another gateway instance is already listening?); stop it, pick another port with --port, or take the port over with --force"
    )]
    InUse {
        /// The address.
        addr: IpAddr,
        /// The port.
        port: u16,
    },
    /// Any other bind failure.
    #[error("failed to bind gateway socket {addr}:{port}: {source}")]
    Other {
        /// The address.
        addr: IpAddr,
        /// The port.
        port: u16,
        /// The error.
        source: io::Error,
    },
}

fn bind_one(addr: IpAddr, port: u16) -> Result<TcpListener, BindError> {
    let wrap = |source: io::Error| {
        if source.kind() == io::ErrorKind::AddrInUse {
            BindError::InUse { addr, port }
        } else {
            BindError::Other { addr, port, source }
        }
    };
    let socket = match addr {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(wrap)?;
    socket.set_reuseaddr(true).map_err(wrap)?;
    socket.bind(SocketAddr::new(addr, port)).map_err(wrap)?;
    socket.listen(1024).map_err(wrap)
}

/// Binds every address of `plan` on `port`: required ones must bind, optional ones are skipped
/// with a warning, `auto` falls back to 0.0.0.0.
pub fn bind(plan: &BindPlan, port: u16) -> Result<Vec<TcpListener>, BindError> {
    let mut listeners = Vec::new();
    for addr in &plan.required {
        match (bind_one(*addr, port), plan.fallback) {
            (Ok(listener), _) => listeners.push(listener),
            // `auto`: 127.0.0.1 is not bindable (not merely busy): use 0.0.0.0.
            (Err(e @ BindError::Other { .. }), Some(fallback)) => {
                tracing::warn!("{e}; falling back to {fallback}");
                listeners.push(bind_one(fallback, port)?);
            }
            (Err(e), _) => return Err(e),
        }
    }
    for addr in &plan.optional {
        match bind_one(*addr, port) {
            Ok(listener) => listeners.push(listener),
            Err(e) => tracing::debug!("optional listener skipped: {e}"),
        }
    }
    Ok(listeners)
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(usize::MAX)
        .max_message_size(Some(MAX_PAYLOAD_BYTES))
        .max_frame_size(Some(MAX_PAYLOAD_BYTES))
}

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerRole {
    /// The gateway port: HTTP endpoints, WebSocket protocol, canvas paths.
    Gateway,
    /// The canvas port: canvas files only.
    Canvas,
}

/// Spawns an accept loop per listener; they stop when the gateway state shuts down, leaving the
/// sockets open for the next state (in-process restart).
pub fn serve(listeners: &[Arc<TcpListener>], state: &Arc<GatewayState>, role: ListenerRole) {
    for listener in listeners {
        let state = state.clone();
        state
            .tasks
            .clone()
            .spawn(accept_loop(listener.clone(), state, role));
    }
}

async fn accept_loop(listener: Arc<TcpListener>, state: Arc<GatewayState>, role: ListenerRole) {
    loop {
        let accepted = tokio::select! {
            () = state.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                state
                    .tasks
                    .clone()
                    .spawn(serve_http(stream, peer, state, role));
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_http(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<GatewayState>,
    role: ListenerRole,
) {
    let service_state = state.clone();
    let dispatched = Arc::new(AtomicBool::new(false));
    let service = service_fn({
        let dispatched = dispatched.clone();
        move |request| {
            dispatched.store(true, Ordering::Relaxed);
            let state = service_state.clone();
            async move { Ok::<_, Infallible>(handle(request, peer, state, role).await) }
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = &mut connection => return,
        () = state.shutdown.cancelled() => {}
    }
    // Shutting down. hyper's graceful shutdown closes a connection whose first request has not
    // arrived yet without answering (hyperium/hyper#3792); a client whose connect was accepted
    // just before would see its request fail although, under socket activation, the next
    // process would have served it. Such a connection gets a short grace for its first request.
    if !dispatched.load(Ordering::Relaxed) {
        let first_request = std::future::poll_fn(|cx| match connection.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(true),
            Poll::Pending if dispatched.load(Ordering::Relaxed) => Poll::Ready(false),
            Poll::Pending => Poll::Pending,
        });
        if let Ok(true) = tokio::time::timeout(FIRST_REQUEST_GRACE, first_request).await {
            return; // Done (answered, upgraded or closed by the client) within the grace.
        }
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(2), connection).await;
}

/// How long a connection accepted before shutdown may take to send its first request.
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn is_websocket_upgrade(request: &Request<Incoming>) -> bool {
    let has_token = |name, token: &str| {
        request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
    };
    has_token(UPGRADE, "websocket") && has_token(CONNECTION, "upgrade")
}

async fn handle(
    request: Request<Incoming>,
    peer: SocketAddr,
    state: Arc<GatewayState>,
    role: ListenerRole,
) -> Response<HttpBody> {
    let path = request.uri().path();
    if role == ListenerRole::Gateway && state.http_api.owns(path) {
        return http_api::HttpApi::serve(request, canonical_ip(peer.ip()), state).await;
    }
    if role == ListenerRole::Gateway
        && matches!(*request.method(), Method::GET | Method::HEAD)
        && !is_websocket_upgrade(&request)
        && !canvas_host::is_canvas_path(path)
        && state.control_ui.owns(path)
    {
        return ControlUi::serve(request, canonical_ip(peer.ip()), state).await;
    }
    handle_plain(request, peer, state, role)
        .await
        .map(BodyExt::boxed_unsync)
}

async fn handle_plain(
    mut request: Request<Incoming>,
    peer: SocketAddr,
    state: Arc<GatewayState>,
    role: ListenerRole,
) -> Response<Full<Bytes>> {
    let canvas_path = canvas_host::is_canvas_path(request.uri().path());
    match (&state.settings.canvas, role, canvas_path) {
        (Some(canvas), _, true) => {
            let access = canvas_host::CanvasAccess {
                capability: &state.canvas_capability,
                peer_is_loopback: canonical_ip(peer.ip()).is_loopback(),
            };
            return canvas_host::serve(canvas, &request, access).await;
        }
        (_, ListenerRole::Canvas, _) => {
            return not_found(false);
        }
        _ => {}
    }
    if !is_websocket_upgrade(&request) {
        return route(&request, &state);
    }
    let bad = |message: &str| {
        json_response(
            StatusCode::BAD_REQUEST,
            &json!({"ok": false, "error": {"type": "bad_request", "message": message}}),
            false,
        )
    };
    if request
        .headers()
        .get(SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        != Some("13")
    {
        let mut response = bad("unsupported WebSocket version (use 13)");
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return response;
    }
    let Some(key) = request
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()))
    else {
        return bad("missing Sec-WebSocket-Key");
    };
    if state.phase() == Phase::Draining {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"ok": false, "error": {"type": "unavailable", "message": "gateway is shutting down"}}),
            false,
        );
    }
    let ip = canonical_ip(peer.ip());
    let slot = match state.preauth.try_enter(ip) {
        Ok(slot) => slot,
        Err(full) => {
            tracing::debug!(%ip, "websocket refused: {}", full.message());
            return json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"ok": false, "error": {"type": "unavailable", "message": full.message()}}),
                false,
            );
        }
    };
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let peer = Peer {
        ip,
        is_loopback: ip.is_loopback(),
        origin: header(ORIGIN),
        host: header(HOST),
    };
    let on_upgrade = hyper::upgrade::on(&mut request);
    let task_state = state.clone();
    state.tasks.spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                tracing::debug!("websocket upgrade failed: {e}");
                return;
            }
        };
        let budget = Budget::new((MAX_PREAUTH_PAYLOAD_BYTES + 1024) as u64);
        let io = Budgeted::new(TokioIo::new(upgraded), budget.clone());
        let ws = WebSocketStream::from_raw_socket(io, WsRole::Server, Some(ws_config())).await;
        let hold = PreauthHold::new(budget, slot);
        connection::serve(ws, peer, task_state, Box::new(hold)).await;
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(value) = HeaderValue::from_str(&key) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, value);
    }
    response
}
