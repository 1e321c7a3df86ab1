//! Where the gateway is and how to authenticate to it.
//!
//! Target: `--url`, else `ws://<host>:<port>` from the resolved port and bind mode (or
//! `gateway.remote.url` when `gateway.mode` is `remote`). Credentials: `--token`/`--password`,
//! then `OPENCLAW_GATEWAY_TOKEN`/`_PASSWORD` (and `_FILE`), then the config, then the generated
//! `<state>/gateway.token`. Local secrets (config and token file) are only sent to loopback
//! targets: a remote `--url` needs explicit credentials, so a typo never leaks the token.

use std::net::IpAddr;

use serde_json::Value;

use crate::config::{GatewayMode, LoadedConfig, SecretInput};
use crate::contract::bind::bind_plan;
use crate::contract::secret::Secret;
use crate::invocation::{Invocation, InvocationError};

/// What the caller asked for explicitly (the CLI's `--url`, `--token`, `--password`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetOptions {
    /// `ws://host:port` to dial instead of the resolved local gateway.
    pub url: Option<String>,
    /// Token to present instead of the resolved one.
    pub token: Option<String>,
    /// Password to present instead of the resolved one.
    pub password: Option<String>,
}

/// Why no target could be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The config or the profile's ports are unusable.
    #[error(transparent)]
    Invocation(#[from] InvocationError),
    /// The URL or a credential source is unusable; the message says how to fix it.
    #[error("{0}")]
    Usage(String),
}

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

fn env_secret(invocation: &Invocation, key: &str) -> Result<Option<Secret>, TargetError> {
    if let Some(v) = invocation.env.get_nonempty(key) {
        return Ok(Some(Secret::new(v)));
    }
    let file_key = format!("{key}_FILE");
    match invocation.env.get_nonempty(&file_key) {
        None => Ok(None),
        Some(path) => std::fs::read_to_string(path)
            .map(|t| Some(Secret::new(&t)))
            .map_err(|e| TargetError::Usage(format!("cannot read {file_key} {path}: {e}"))),
    }
}

/// Resolves the target of an RPC command.
pub fn resolve_target(
    invocation: &Invocation,
    args: &TargetOptions,
    config: &LoadedConfig,
) -> Result<RpcTarget, TargetError> {
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
        return Err(TargetError::Usage(format!(
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
        return Err(TargetError::Usage(format!(
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
