//! The status probe: the connectivity check of `openclaw gateway status`, also what `doctor`
//! runs to tell a healthy service from one that runs but does not answer. Connects as a probe
//! (or as the CLI with `--require-rpc`), reports the outcome, latency, version and what the
//! credentials allow, with the fix for an auth failure.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::LoadedConfig;
use crate::invocation::Invocation;
use crate::service::installed_definition::InstalledDefinition;
use crate::service::status::SupervisorStatus;

use super::connection::{ConnectAs, GatewayClient, RpcError};
use super::target::{RpcTarget, TargetError, TargetOptions, resolve_target};

/// `rpc`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcView {
    /// Whether the probe ran.
    pub probed: bool,
    /// Whether the gateway answered (and, with `--require-rpc`, the read RPC succeeded).
    pub ok: bool,
    /// The URL probed.
    pub url: String,
    /// Where the URL came from.
    pub url_source: String,
    /// `connected`, `unreachable`, `auth-failed`, `refused`, `timeout`, `protocol-error`,
    /// `rpc-failed`, `skipped`.
    pub outcome: String,
    /// Round trip of connect + hello, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// The gateway's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// `admin`, `read_only`, `connected_no_operator_scope`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    /// The error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The fix for an auth failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The timeout of the status probe when `--timeout` is not given, ms.
pub const DEFAULT_PROBE_TIMEOUT_MS: u64 = 10_000;

/// Where the probe goes: the resolved target, moved to the port the installed service runs with
/// (the `--port` of its definition) when the URL is the local default, because that port beats
/// env and config (spec §5.2) and a differing CLI config shows as `config.mismatch`; with the
/// port and where it came from.
pub fn probe_target(
    invocation: &Invocation,
    explicit: &TargetOptions,
    port_flag: Option<u16>,
    config: &LoadedConfig,
    definition: Option<&InstalledDefinition>,
) -> Result<(RpcTarget, u16, String), TargetError> {
    let ports = invocation.ports(port_flag, config)?;
    // `--port N` probes ws://127.0.0.1:N exactly as `--url` would (spec §5.1), with the port
    // shown as coming from the command line.
    let mut target = match port_flag {
        Some(port) => {
            let explicit = TargetOptions {
                url: Some(format!("ws://127.0.0.1:{port}")),
                ..explicit.clone()
            };
            let mut target = resolve_target(invocation, &explicit, config)?;
            target.url_source = "cli --port";
            target
        }
        None => resolve_target(invocation, explicit, config)?,
    };
    // The port the installed service runs with beats env and config (spec §5.2): the probe
    // goes where the service listens, and a differing CLI config shows as config.mismatch.
    match definition.and_then(InstalledDefinition::port) {
        Some(p) if target.url_source == "local" => {
            target.url = replace_port(&target.url, p);
            Ok((target, p, "service args".to_owned()))
        }
        _ => Ok((target, ports.port, ports.port_source.as_str().to_owned())),
    }
}

/// The connectivity probe of `openclaw gateway status` (no flags) for `invocation`'s profile:
/// the same target (the installed service's `--port` when `runtime` names its definition), the
/// same connect-as-probe handshake and the default timeout. `openclaw doctor` uses it to tell a
/// healthy service from one that runs but does not answer.
pub fn probe_gateway(
    invocation: &Invocation,
    config: &LoadedConfig,
    runtime: Option<&SupervisorStatus>,
) -> RpcView {
    let definition = runtime
        .and_then(|r| r.definition_path.as_deref())
        .and_then(InstalledDefinition::read);
    match probe_target(
        invocation,
        &TargetOptions::default(),
        None,
        config,
        definition.as_ref(),
    ) {
        Ok((target, _, _)) => probe(
            &target,
            Duration::from_millis(DEFAULT_PROBE_TIMEOUT_MS),
            false,
            invocation,
        ),
        Err(e) => RpcView {
            probed: false,
            ok: false,
            url: String::new(),
            url_source: String::new(),
            outcome: "skipped".into(),
            latency_ms: None,
            server_version: None,
            capability: None,
            error: Some(e.to_string()),
            fix: None,
        },
    }
}

impl RpcView {
    /// True when a gateway answered the probe at all: connected, or refused it with an error
    /// of its own (auth, a failed read RPC). Unreachable, timed out or not speaking the protocol
    /// is no answer.
    pub fn gateway_answered(&self) -> bool {
        self.probed
            && matches!(
                self.outcome.as_str(),
                "connected" | "auth-failed" | "refused" | "rpc-failed"
            )
    }
}

/// `ws://host:old` → `ws://host:port`.
fn replace_port(url: &str, port: u16) -> String {
    match url.rsplit_once(':') {
        Some((head, tail)) if tail.chars().all(|c| c.is_ascii_digit()) => {
            format!("{head}:{port}")
        }
        _ => url.to_owned(),
    }
}

pub fn probe(
    target: &RpcTarget,
    timeout: Duration,
    require_rpc: bool,
    invocation: &Invocation,
) -> RpcView {
    let mut view = RpcView {
        probed: true,
        ok: false,
        url: target.url.clone(),
        url_source: target.url_source.to_owned(),
        outcome: String::new(),
        latency_ms: None,
        server_version: None,
        capability: None,
        error: None,
        fix: None,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            view.outcome = "protocol-error".into();
            view.error = Some(e.to_string());
            return view;
        }
    };
    let who = if require_rpc {
        ConnectAs::Cli
    } else {
        ConnectAs::Probe
    };
    let result = runtime.block_on(async {
        tokio::time::timeout(timeout, async {
            let started = Instant::now();
            let mut client = GatewayClient::connect_as(target, who).await?;
            let latency = started.elapsed();
            let rpc = if require_rpc {
                Some(client.request("status", json!({})).await)
            } else {
                None
            };
            let hello = client.hello.clone();
            client.close().await;
            Ok::<_, RpcError>((hello, latency, rpc))
        })
        .await
        .unwrap_or(Err(RpcError::Timeout {
            url: target.url.clone(),
            after: timeout,
        }))
    });
    match result {
        Ok((hello, latency, rpc)) => {
            view.latency_ms = Some((latency.as_secs_f64() * 10_000.0).round() / 10.0);
            view.server_version = hello["server"]["version"].as_str().map(str::to_owned);
            let scopes: Vec<&str> = hello["auth"]["scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            view.capability = Some(
                if scopes.contains(&"operator.admin") {
                    "admin"
                } else if scopes
                    .iter()
                    .any(|s| *s == "operator.read" || *s == "operator.write")
                {
                    "read_only"
                } else {
                    "connected_no_operator_scope"
                }
                .to_owned(),
            );
            match rpc {
                Some(Err(e)) => {
                    view.outcome = "rpc-failed".into();
                    view.error = Some(format!("status RPC failed: {}", e.message()));
                }
                _ => {
                    view.ok = true;
                    view.outcome = "connected".into();
                }
            }
        }
        Err(e) => {
            view.error = Some(e.message());
            view.outcome = match &e {
                RpcError::Unreachable { .. } => "unreachable",
                RpcError::Timeout { .. } => "timeout",
                RpcError::Protocol(_) => "protocol-error",
                RpcError::Gateway(shape) => {
                    let code = shape
                        .details
                        .as_ref()
                        .and_then(|d| d["code"].as_str())
                        .unwrap_or("");
                    if code.starts_with("AUTH_") {
                        view.fix = Some(auth_fix(code, target, invocation));
                        "auth-failed"
                    } else {
                        "refused"
                    }
                }
            }
            .to_owned();
        }
    }
    view
}

fn auth_fix(code: &str, target: &RpcTarget, invocation: &Invocation) -> String {
    let token_file = invocation.paths.token_file();
    match code {
        "AUTH_TOKEN_MISSING" | "AUTH_PASSWORD_MISSING" => format!(
            "this CLI has no credential for {}: pass --token (or --password), set OPENCLAW_GATEWAY_TOKEN, or run on the gateway host where {} holds the token",
            target.url,
            token_file.display()
        ),
        "AUTH_RATE_LIMITED" => "too many failed attempts from this address: wait for the lockout to end, then retry with the right token".to_owned(),
        _ => format!(
            "the token this CLI sent differs from the gateway's: use the gateway's gateway.auth.token or the contents of {} (on the gateway host), or pass --token",
            token_file.display()
        ),
    }
}
