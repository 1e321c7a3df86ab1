//! A connected, authenticated client: challenge → `connect` → `hello-ok`, then requests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::protocol::constants::{PROTOCOL_VERSION, scope};
use crate::protocol::frames::ErrorShape;

use super::target::RpcTarget;

/// A failed RPC interaction.
#[derive(Debug, Clone)]
pub enum RpcError {
    /// No connection could be made (exit 3).
    Unreachable {
        /// The URL tried.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The gateway refused the handshake or a request (exit 1).
    Gateway(ErrorShape),
    /// The connection broke or the gateway spoke nonsense (exit 1).
    Protocol(String),
    /// Nothing came back in time (exit 3).
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        after: Duration,
    },
}

impl RpcError {
    /// True when no gateway answered (nothing listening, or silence): the CLI's "unreachable".
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Timeout { .. })
    }

    /// One line for humans.
    pub fn message(&self) -> String {
        match self {
            Self::Unreachable { url, reason } => {
                format!("Gateway not reachable at {url} ({reason}).")
            }
            Self::Gateway(e) => e.message.clone(),
            Self::Protocol(m) => m.clone(),
            Self::Timeout { url, after } => format!(
                "Gateway at {url} did not answer within {}ms.",
                after.as_millis()
            ),
        }
    }

    /// The `{ok:false, error}` JSON of `--json` output.
    pub fn to_json(&self, target: &RpcTarget) -> Value {
        let error = match self {
            Self::Gateway(e) => {
                let mut v = json!({"type": "gateway_request_error", "code": e.code, "message": e.message, "retryable": e.retryable.unwrap_or(false)});
                if let Some(d) = &e.details {
                    v["details"] = d.clone();
                }
                if let Some(ms) = e.retry_after_ms {
                    v["retryAfterMs"] = json!(ms);
                }
                v
            }
            Self::Unreachable { reason, .. } => {
                json!({"type": "gateway_transport_error", "kind": "closed", "message": self.message(), "reason": reason})
            }
            Self::Timeout { .. } => {
                json!({"type": "gateway_transport_error", "kind": "timeout", "message": self.message()})
            }
            Self::Protocol(m) => {
                json!({"type": "gateway_transport_error", "kind": "protocol", "message": m})
            }
        };
        json!({"ok": false, "error": error, "gateway": {"url": target.url, "urlSource": target.url_source}})
    }
}

/// A connected, authenticated client.
pub struct GatewayClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// The `hello-ok` payload.
    pub hello: Value,
}

fn operator_scopes() -> Vec<&'static str> {
    vec![
        scope::ADMIN,
        scope::READ,
        scope::WRITE,
        scope::APPROVALS,
        scope::PAIRING,
    ]
}

fn platform() -> (&'static str, &'static str) {
    match std::env::consts::OS {
        "macos" => ("macos", "Mac"),
        "windows" => ("windows", "Windows"),
        _ => ("linux", "Linux"),
    }
}

/// Who the client says it is in `connect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectAs {
    /// The CLI (`cli`/`cli`, protocol 4, the operator scopes).
    Cli,
    /// A status probe (`cli`/`probe`, protocol 3–4, read scope asked; not tracked in presence).
    Probe,
}

impl GatewayClient {
    /// Connects and authenticates as the CLI.
    pub async fn connect(target: &RpcTarget) -> Result<Self, RpcError> {
        Self::connect_as(target, ConnectAs::Cli).await
    }

    /// Connects and authenticates as `who`.
    pub async fn connect_as(target: &RpcTarget, who: ConnectAs) -> Result<Self, RpcError> {
        if target.url.starts_with("wss://") {
            return Err(RpcError::Protocol("wss:// URLs are not supported by this build; use ws:// (loopback) or an SSH tunnel".into()));
        }
        let (mut ws, _) = tokio_tungstenite::connect_async(target.url.as_str())
            .await
            .map_err(|e| RpcError::Unreachable {
                url: target.url.clone(),
                reason: match &e {
                    tokio_tungstenite::tungstenite::Error::Io(io)
                        if io.kind() == std::io::ErrorKind::ConnectionRefused =>
                    {
                        "ECONNREFUSED".to_owned()
                    }
                    other => other.to_string(),
                },
            })?;
        let challenge = next_json(&mut ws).await?;
        if challenge["event"] != "connect.challenge" {
            return Err(RpcError::Protocol(format!(
                "expected connect.challenge, got {challenge}"
            )));
        }
        let (platform, family) = platform();
        let mut auth = serde_json::Map::new();
        if let Some(t) = &target.token {
            auth.insert("token".into(), json!(t.expose()));
        }
        if let Some(p) = &target.password {
            auth.insert("password".into(), json!(p.expose()));
        }
        let (mode, min_protocol, scopes) = match who {
            ConnectAs::Cli => ("cli", PROTOCOL_VERSION, operator_scopes()),
            ConnectAs::Probe => (
                "probe",
                crate::protocol::constants::MIN_PROBE_PROTOCOL_VERSION,
                vec![scope::READ],
            ),
        };
        let params = json!({
            "minProtocol": min_protocol, "maxProtocol": PROTOCOL_VERSION,
            "client": {"id": "cli", "version": env!("CARGO_PKG_VERSION"), "platform": platform, "deviceFamily": family, "mode": mode},
            "role": "operator",
            "scopes": scopes,
            "caps": [],
            "auth": auth,
        });
        let mut client = Self {
            ws,
            next_id: 0,
            hello: Value::Null,
        };
        client.hello = client.request("connect", params).await?;
        Ok(client)
    }

    /// Sends a request and waits for its response (events are skipped).
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.send_request(method, params).await?;
        loop {
            let frame = self.next_frame().await?;
            if frame["type"] == "res" && frame["id"] == id.as_str() {
                return Self::response_payload(frame);
            }
        }
    }

    /// Sends a request without waiting; its id.
    pub async fn send_request(&mut self, method: &str, params: Value) -> Result<String, RpcError> {
        self.next_id += 1;
        let id = format!("{}:{}", self.next_id, uuid::Uuid::new_v4());
        let frame = json!({"type": "req", "id": id, "method": method, "params": params});
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .map_err(|e| RpcError::Protocol(format!("send failed: {e}")))?;
        Ok(id)
    }

    /// The next frame from the gateway (a response or an event).
    pub async fn next_frame(&mut self) -> Result<Value, RpcError> {
        next_json(&mut self.ws).await
    }

    /// The payload of a response frame, or its error.
    pub fn response_payload(frame: Value) -> Result<Value, RpcError> {
        if frame["ok"] == true {
            return Ok(frame.get("payload").cloned().unwrap_or(Value::Null));
        }
        let error: ErrorShape = serde_json::from_value(frame["error"].clone())
            .map_err(|_| RpcError::Protocol(format!("malformed error response: {frame}")))?;
        Err(RpcError::Gateway(error))
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.ws.close(None)).await;
    }
}

async fn next_json(ws: &mut WebSocketStream<MaybeTlsStream<TcpStream>>) -> Result<Value, RpcError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str())
                    .map_err(|e| RpcError::Protocol(format!("invalid JSON from gateway: {e}")));
            }
            Some(Ok(Message::Binary(b))) => {
                return serde_json::from_slice(&b)
                    .map_err(|e| RpcError::Protocol(format!("invalid JSON from gateway: {e}")));
            }
            Some(Ok(Message::Close(frame))) => {
                let reason = frame
                    .map(|f| format!("{} {}", u16::from(f.code), f.reason))
                    .unwrap_or_else(|| "no reason".into());
                return Err(RpcError::Protocol(format!(
                    "gateway closed the connection ({reason})"
                )));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(RpcError::Protocol(format!("connection error: {e}"))),
            None => return Err(RpcError::Protocol("gateway closed the connection".into())),
        }
    }
}

/// Runs `work` against a connected client with the `--timeout` budget for the whole exchange.
pub async fn with_client<T>(
    target: &RpcTarget,
    timeout: Duration,
    work: impl AsyncFnOnce(&mut GatewayClient) -> Result<T, RpcError>,
) -> Result<T, RpcError> {
    let exchange = async {
        let mut client = GatewayClient::connect(target).await?;
        let result = work(&mut client).await;
        client.close().await;
        result
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(RpcError::Timeout {
            url: target.url.clone(),
            after: timeout,
        }))
}
