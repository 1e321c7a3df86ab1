//! The CLI's side of the gateway protocol: resolve where the gateway is and how to
//! authenticate, connect (challenge → `connect` → `hello-ok`), and make requests.
//!
//! Target: `--url`, else `ws://<host>:<port>` from the resolved port and bind mode (or
//! `gateway.remote.url` when `gateway.mode` is `remote`). Credentials: `--token`/`--password`,
//! then `OPENCLAW_GATEWAY_TOKEN`/`_PASSWORD` (and `_FILE`), then the config, then the generated
//! `<state>/gateway.token`. Local secrets (config and token file) are only sent to loopback
//! targets: a remote `--url` needs explicit credentials, so a typo never leaks the token.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::cli::RpcArgs;
use crate::config::{GatewayMode, LoadedConfig, SecretInput};
use crate::exit_status::{CliError, ExitStatus};
use crate::gateway::secret::Secret;
use crate::gateway::settings::bind_plan;
use crate::invocation::Invocation;
use crate::protocol::constants::{PROTOCOL_VERSION, scope};
use crate::protocol::frames::ErrorShape;

/// Where to connect and with which secret.
#[derive(Debug, Clone)]
pub struct RpcTarget {
    /// `ws://host:port`.
    pub url: String,
    /// Where the URL came from (`cli --url`, `config`, `local`).
    pub url_source: &'static str,
    /// Token to present.
    pub token: Option<Secret>,
    /// Password to present.
    pub password: Option<Secret>,
    /// The config file consulted.
    pub config_path: String,
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host_port = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn secret_from_config(value: Option<&SecretInput>, invocation: &Invocation) -> Option<Secret> {
    match value? {
        SecretInput::Plain(v) if !v.trim().is_empty() => Some(Secret::new(v)),
        SecretInput::Reference(map) if map.get("source").and_then(Value::as_str) == Some("env") => {
            let id = map.get("id").and_then(Value::as_str)?;
            invocation.env.get_nonempty(id).map(Secret::new)
        }
        _ => None,
    }
}

fn env_secret(invocation: &Invocation, key: &str) -> Result<Option<Secret>, CliError> {
    if let Some(v) = invocation.env.get_nonempty(key) {
        return Ok(Some(Secret::new(v)));
    }
    let file_key = format!("{key}_FILE");
    match invocation.env.get_nonempty(&file_key) {
        None => Ok(None),
        Some(path) => std::fs::read_to_string(path)
            .map(|t| Some(Secret::new(&t)))
            .map_err(|e| CliError::usage(format!("cannot read {file_key} {path}: {e}"))),
    }
}

/// Resolves the target of an RPC command.
pub fn resolve_target(
    invocation: &Invocation,
    args: &RpcArgs,
    config: &LoadedConfig,
) -> Result<RpcTarget, CliError> {
    let cfg = &config.config;
    let remote = cfg.gateway_mode() == Some(GatewayMode::Remote);
    let remote_cfg = cfg.gateway.as_ref().and_then(|g| g.other.get("remote"));
    let (url, url_source) = if let Some(url) = &args.url {
        (url.trim().to_owned(), "cli --url")
    } else if let (true, Some(url)) = (
        remote,
        remote_cfg
            .and_then(|r| r.get("url"))
            .and_then(Value::as_str),
    ) {
        (url.to_owned(), "config gateway.remote.url")
    } else {
        let ports = invocation.ports(None, config)?;
        let mode = cfg
            .gateway_bind()
            .map(|b| b.mode())
            .unwrap_or(crate::config::BindMode::Loopback);
        let host = bind_plan(mode, cfg.custom_bind_host())
            .map(|p| p.probe_host())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let host = match host {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        (format!("ws://{host}:{}", ports.port), "local")
    };
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err(CliError::usage(format!(
            "invalid --url {url:?}: use ws://host:port"
        )));
    }
    let explicit_token = match args.token.as_deref() {
        Some(t) => Some(Secret::new(t)),
        None => env_secret(invocation, "OPENCLAW_GATEWAY_TOKEN")?,
    };
    let explicit_password = match args.password.as_deref() {
        Some(p) => Some(Secret::new(p)),
        None => env_secret(invocation, "OPENCLAW_GATEWAY_PASSWORD")?,
    };
    let local_secrets_allowed = is_loopback_url(&url) || url_source != "cli --url";
    let (token, password) =
        if explicit_token.is_some() || explicit_password.is_some() || !local_secrets_allowed {
            (explicit_token, explicit_password)
        } else if remote {
            let secret = |k: &str| {
                remote_cfg
                    .and_then(|r| r.get(k))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
            };
            (secret("token"), secret("password"))
        } else {
            let auth = cfg.auth();
            let token = secret_from_config(auth.and_then(|a| a.token.as_ref()), invocation)
                .or_else(|| {
                    std::fs::read_to_string(invocation.paths.token_file())
                        .ok()
                        .map(|t| Secret::new(&t))
                        .filter(|s| !s.expose().is_empty())
                });
            (
                token,
                secret_from_config(auth.and_then(|a| a.password.as_ref()), invocation),
            )
        };
    if token.is_none() && password.is_none() && !local_secrets_allowed {
        return Err(CliError::usage(format!(
            "{url} is not a loopback address, so local credentials are not sent to it; pass --token or --password (or set OPENCLAW_GATEWAY_TOKEN)"
        )));
    }
    Ok(RpcTarget {
        url,
        url_source,
        token,
        password,
        config_path: config.path.display().to_string(),
    })
}

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
    /// The CLI exit status for this failure.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } => ExitStatus::Unreachable,
            Self::Gateway(_) | Self::Protocol(_) => ExitStatus::Failure,
        }
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
        self.next_id += 1;
        let id = format!("{}:{}", self.next_id, uuid::Uuid::new_v4());
        let frame = json!({"type": "req", "id": id, "method": method, "params": params});
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .map_err(|e| RpcError::Protocol(format!("send failed: {e}")))?;
        loop {
            let frame = next_json(&mut self.ws).await?;
            if frame["type"] != "res" || frame["id"] != id.as_str() {
                continue;
            }
            if frame["ok"] == true {
                return Ok(frame.get("payload").cloned().unwrap_or(Value::Null));
            }
            let error: ErrorShape = serde_json::from_value(frame["error"].clone())
                .map_err(|_| RpcError::Protocol(format!("malformed error response: {frame}")))?;
            return Err(RpcError::Gateway(error));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        for url in [
            "ws://127.0.0.1:18789",
            "ws://localhost:1",
            "ws://[::1]:5/x",
            "ws://127.8.9.1",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "ws://10.0.0.2:18789",
            "ws://example.com:1",
            "ws://[2001:db8::1]:5",
            "ws://localhost.evil.com:1",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
