//! The typed view of `openclaw.json`: the keys this project reads, with every other key kept.
//!
//! Each struct keeps the keys it does not know in `other`, so a config written by any OpenClaw
//! release survives a read–write round trip. Enumerated values are strict: an unknown bind mode
//! or reload mode is an error naming the key and the allowed values, never a silent default.
//! Accessors apply the documented defaults.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

pub use super::models::{
    AgentEntry, ModelCompat, ModelEntry, ModelSetting, ModelsConfig, ProviderConfig,
};

/// Unknown keys of one object, kept verbatim.
pub type OtherKeys = Map<String, Value>;

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// `gateway.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayConfig>,
    /// `canvasHost.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canvas_host: Option<CanvasHostConfig>,
    /// `logging.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<LoggingConfig>,
    /// `commands.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<CommandsConfig>,
    /// `agents.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<AgentsConfig>,
    /// `models.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<ModelsConfig>,
    /// `hooks.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<HooksConfig>,
    /// Every other top-level key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `hooks.*`: the webhooks `<path>/wake` and `<path>/agent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HooksConfig {
    /// `hooks.enabled` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `hooks.token`: the hooks' own secret (must differ from the gateway's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<SecretInput>,
    /// `hooks.path` (default `/hooks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `hooks.allowRequestSessionKey`: a hook may name its session (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_request_session_key: Option<bool>,
    /// Other keys (`mappings`, `presets`, `gmail`, …), kept.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `gateway.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayConfig {
    /// `gateway.mode`: must be `local` for this machine to run a gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<GatewayMode>,
    /// `gateway.port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `gateway.bind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindSetting>,
    /// `gateway.customBindHost` (for `bind: "custom"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_bind_host: Option<String>,
    /// `gateway.auth.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
    /// `gateway.reload.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload: Option<ReloadConfig>,
    /// `gateway.tls.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// Every other `gateway.*` key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `gateway.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayMode {
    /// This machine runs the gateway.
    Local,
    /// The CLI talks to a gateway elsewhere (`gateway.remote.*`).
    Remote,
}

/// The bind modes of `gateway.bind` / `--bind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindMode {
    /// 127.0.0.1 if bindable, else 0.0.0.0.
    Auto,
    /// 127.0.0.1 and ::1.
    Loopback,
    /// 0.0.0.0.
    Lan,
    /// The Tailscale address.
    Tailnet,
    /// `gateway.customBindHost`.
    Custom,
}

impl BindMode {
    /// Every mode, in documentation order.
    pub const ALL: [BindMode; 5] = [
        BindMode::Auto,
        BindMode::Loopback,
        BindMode::Lan,
        BindMode::Tailnet,
        BindMode::Custom,
    ];

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Loopback => "loopback",
            Self::Lan => "lan",
            Self::Tailnet => "tailnet",
            Self::Custom => "custom",
        }
    }

    /// Parses a mode name (exact, lower-case).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

impl fmt::Display for BindMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `gateway.bind` as written: a mode, or a legacy host alias that doctor migrates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindSetting {
    /// One of the bind modes.
    Mode(BindMode),
    /// A legacy host alias (`0.0.0.0`, `localhost`, `127.0.0.1`, `::`, `::1`): read as the mode
    /// it meant, flagged by doctor.
    LegacyHost(String),
}

impl BindSetting {
    /// The legacy host aliases older releases accepted, with the mode each means.
    pub const LEGACY_ALIASES: [(&'static str, BindMode); 5] = [
        ("0.0.0.0", BindMode::Lan),
        ("::", BindMode::Lan),
        ("localhost", BindMode::Loopback),
        ("127.0.0.1", BindMode::Loopback),
        ("::1", BindMode::Loopback),
    ];

    /// The mode this setting means.
    pub fn mode(&self) -> BindMode {
        match self {
            Self::Mode(mode) => *mode,
            Self::LegacyHost(host) => Self::LEGACY_ALIASES
                .iter()
                .find(|(alias, _)| alias == host)
                .map_or(BindMode::Lan, |(_, mode)| *mode),
        }
    }

    /// Parses a `gateway.bind` / `--bind` value.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if let Some(mode) = BindMode::parse(&trimmed.to_ascii_lowercase()) {
            return Ok(Self::Mode(mode));
        }
        if Self::LEGACY_ALIASES
            .iter()
            .any(|(alias, _)| *alias == trimmed)
        {
            return Ok(Self::LegacyHost(trimmed.to_owned()));
        }
        Err(format!(
            "unknown bind mode {text:?} (use auto, loopback, lan, tailnet or custom)"
        ))
    }

    fn as_written(&self) -> &str {
        match self {
            Self::Mode(mode) => mode.as_str(),
            Self::LegacyHost(host) => host,
        }
    }
}

impl Serialize for BindSetting {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_written())
    }
}

impl<'de> Deserialize<'de> for BindSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

/// `gateway.auth.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthConfig {
    /// `gateway.auth.mode` (inferred from which secret is set when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<AuthMode>,
    /// `gateway.auth.token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<SecretInput>,
    /// `gateway.auth.password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretInput>,
    /// `gateway.auth.rateLimit.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
    /// Every other `gateway.auth.*` key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `gateway.auth.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// No shared secret (loopback only).
    None,
    /// Shared token.
    Token,
    /// Shared password.
    Password,
    /// Identity from a trusted reverse proxy.
    TrustedProxy,
}

impl AuthMode {
    /// The config and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Token => "token",
            Self::Password => "password",
            Self::TrustedProxy => "trusted-proxy",
        }
    }
}

/// A secret as written in the config: the value itself, or a reference object resolved elsewhere
/// (e.g. `{ "source": "env", "id": "MY_TOKEN" }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretInput {
    /// The secret inline.
    Plain(String),
    /// A reference to a secret kept elsewhere.
    Reference(Map<String, Value>),
}

impl SecretInput {
    /// The inline secret, when it is inline and not blank.
    pub fn plain(&self) -> Option<&str> {
        match self {
            Self::Plain(s) if !s.trim().is_empty() => Some(s),
            _ => None,
        }
    }

    /// The secret this stands for (`None`: blank), and where it came from for messages
    /// (`config <key>`, `env <VAR> (via <key>)`, a file path) — never the secret itself. A
    /// literal is taken as written (`${VAR}` already substituted); references are `env` and
    /// `file` (first line, trimmed). The error names `key` and the fix.
    pub fn resolve(
        &self,
        env: &crate::environment::Environment,
        key: &str,
    ) -> Result<Option<(crate::contract::secret::Secret, String)>, String> {
        use crate::contract::secret::Secret;
        match self {
            Self::Plain(v) if v.trim().is_empty() => Ok(None),
            Self::Plain(v) => Ok(Some((Secret::new(v), format!("config {key}")))),
            Self::Reference(map) => {
                let source = map.get("source").and_then(Value::as_str).unwrap_or("");
                let id = map.get("id").and_then(Value::as_str).unwrap_or("");
                match source {
                    "env" => env
                        .get_nonempty(id)
                        .map(|v| Some((Secret::new(v), format!("env {id} (via {key})"))))
                        .ok_or_else(|| {
                            format!("{key} references env var {id:?}, which is not set")
                        }),
                    "file" => {
                        secret_file(std::path::Path::new(id), key).map(|s| Some((s, id.to_owned())))
                    }
                    _ => Err(format!(
                        "{key} is a secret reference with source {source:?}, which this gateway \
                         cannot resolve; use a literal, \"${{VAR}}\", or an env or file reference"
                    )),
                }
            }
        }
    }
}

/// The secret on the first line of `path` (`origin` names what pointed there, for the error).
pub fn secret_file(
    path: &std::path::Path,
    origin: &str,
) -> Result<crate::contract::secret::Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {origin} {}: {e}", path.display()))?;
    let value = text.lines().next().unwrap_or_default().trim();
    if value.is_empty() {
        return Err(format!(
            "{origin} {} is empty; put the secret on its first line",
            path.display()
        ));
    }
    Ok(crate::contract::secret::Secret::new(value))
}

/// `gateway.auth.rateLimit.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitConfig {
    /// Failed attempts allowed per window (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Window length (default 60 000 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// Lockout after the limit (default 300 000 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_ms: Option<u64>,
    /// Loopback clients are not limited (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempt_loopback: Option<bool>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// The effective failed-auth rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Failed attempts allowed per window.
    pub max_attempts: u32,
    /// Window length in ms.
    pub window_ms: u64,
    /// Lockout length in ms.
    pub lockout_ms: u64,
    /// Whether loopback clients are exempt.
    pub exempt_loopback: bool,
}

/// `gateway.reload.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadConfig {
    /// `gateway.reload.mode` (default `hybrid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ReloadMode>,
    /// `gateway.reload.debounceMs` (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debounce_ms: Option<u64>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `gateway.reload.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReloadMode {
    /// Log changes only.
    Off,
    /// Apply hot-reloadable changes, ignore restart-required ones.
    Hot,
    /// Restart on any change.
    Restart,
    /// Apply hot changes, restart in-process when required.
    Hybrid,
}

/// `gateway.tls.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    /// Serve TLS on the gateway port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Generate a self-signed certificate when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_generate: Option<bool>,
    /// PEM certificate chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_path: Option<String>,
    /// PEM private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<String>,
    /// PEM CA bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_path: Option<String>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `canvasHost.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasHostConfig {
    /// Serve the canvas host (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Root folder of the canvas files (default `<workspace>/canvas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Port of the canvas host (default gateway port + 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `logging.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfig {
    /// `logging.level` (default `info`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<LogLevel>,
    /// `logging.file`: the JSON-lines log file (default `<state>/logs/gateway-YYYY-MM-DD.jsonl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `logging.maxFileBytes`: size at which the day's file is rolled over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_bytes: Option<u64>,
    /// `logging.maxAgeDays`: log files older than this are removed (default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `logging.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// No file log.
    Silent,
    /// Fatal errors only (logged as errors).
    Fatal,
    /// Errors.
    Error,
    /// Warnings and errors.
    Warn,
    /// Informational (default).
    Info,
    /// Debug.
    Debug,
    /// Everything.
    Trace,
}

/// `commands.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandsConfig {
    /// `commands.restart`: authorises the in-process restart signal (SIGUSR1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<bool>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `agents.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentsConfig {
    /// `agents.defaults.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<AgentDefaults>,
    /// `agents.entries.<id>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entries: BTreeMap<String, AgentEntry>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `agents.defaults.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentDefaults {
    /// `agents.defaults.workspace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// `agents.defaults.model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSetting>,
    /// `agents.defaults.timeoutSeconds`: the whole-turn budget; 0 = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// `agents.defaults.maxConcurrent`: sessions whose runs may stream at the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u64>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

impl Config {
    /// `gateway.mode`, if set.
    pub fn gateway_mode(&self) -> Option<GatewayMode> {
        self.gateway.as_ref()?.mode
    }

    /// `gateway.port`, if set.
    pub fn gateway_port(&self) -> Option<u16> {
        self.gateway.as_ref()?.port
    }

    /// `gateway.bind`, if set.
    pub fn gateway_bind(&self) -> Option<&BindSetting> {
        self.gateway.as_ref()?.bind.as_ref()
    }

    /// `gateway.customBindHost`, if set.
    pub fn custom_bind_host(&self) -> Option<&str> {
        self.gateway.as_ref()?.custom_bind_host.as_deref()
    }

    /// `gateway.auth`, if set.
    pub fn auth(&self) -> Option<&AuthConfig> {
        self.gateway.as_ref()?.auth.as_ref()
    }

    /// The effective failed-auth rate limit (defaults 10 per 60 s, 5 min lockout, loopback exempt).
    pub fn rate_limit(&self) -> RateLimit {
        let cfg = self.auth().and_then(|a| a.rate_limit.as_ref());
        RateLimit {
            max_attempts: cfg.and_then(|c| c.max_attempts).unwrap_or(10),
            window_ms: cfg.and_then(|c| c.window_ms).unwrap_or(60_000),
            lockout_ms: cfg.and_then(|c| c.lockout_ms).unwrap_or(300_000),
            exempt_loopback: cfg.and_then(|c| c.exempt_loopback).unwrap_or(true),
        }
    }

    /// `gateway.reload.mode` (default `hybrid`).
    pub fn reload_mode(&self) -> ReloadMode {
        self.gateway
            .as_ref()
            .and_then(|g| g.reload.as_ref())
            .and_then(|r| r.mode)
            .unwrap_or(ReloadMode::Hybrid)
    }

    /// `gateway.reload.debounceMs` (default 300).
    pub fn reload_debounce_ms(&self) -> u64 {
        self.gateway
            .as_ref()
            .and_then(|g| g.reload.as_ref())
            .and_then(|r| r.debounce_ms)
            .unwrap_or(300)
    }

    /// `canvasHost.port`, if set.
    pub fn canvas_host_port(&self) -> Option<u16> {
        self.canvas_host.as_ref()?.port
    }

    /// `canvasHost.enabled` (default true).
    pub fn canvas_host_enabled(&self) -> bool {
        self.canvas_host
            .as_ref()
            .and_then(|c| c.enabled)
            .unwrap_or(true)
    }

    /// A key under `gateway` that this model keeps untyped (`gateway.<key>`).
    fn gateway_other(&self, key: &str) -> Option<&serde_json::Value> {
        self.gateway.as_ref().and_then(|g| g.other.get(key))
    }

    /// `gateway.controlUi.allowedOrigins`: browser origins allowed to open gateway connections
    /// besides the gateway's own (strings; `"*"` allows every origin).
    pub fn control_ui_allowed_origins(&self) -> Vec<String> {
        self.gateway_other("controlUi")
            .and_then(|c| c.get("allowedOrigins"))
            .and_then(serde_json::Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `gateway.controlUi.enabled` (default true): whether the gateway serves the Control UI.
    pub fn control_ui_enabled(&self) -> bool {
        self.gateway_other("controlUi")
            .and_then(|c| c.get("enabled"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true)
    }

    /// `gateway.controlUi.basePath` as served: `""` for the root, else `/a/b` (no trailing
    /// slash); the problem and its fix when it is not a plain URL path.
    pub fn control_ui_base_path(&self) -> Result<String, String> {
        let Some(raw) = self
            .gateway_other("controlUi")
            .and_then(|c| c.get("basePath"))
            .and_then(serde_json::Value::as_str)
        else {
            return Ok(String::new());
        };
        let trimmed = raw.trim().trim_end_matches('/');
        let plain_segment = |seg: &str| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        };
        let ok = trimmed.is_empty()
            || trimmed
                .strip_prefix('/')
                .is_some_and(|rest| rest.split('/').all(plain_segment));
        if ok {
            Ok(trimmed.to_owned())
        } else {
            Err(format!(
                "gateway.controlUi.basePath {raw:?} is not a URL path: use \"/\" or segments of letters, digits, '-', '_', '.' or '~' like \"/openclaw\""
            ))
        }
    }

    /// The name the Control UI shows for the assistant: `ui.assistant.name`, else `Assistant`.
    pub fn assistant_name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|raw| {
                raw.pointer("/ui/assistant/name")
                    .and_then(serde_json::Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "Assistant".to_owned())
    }

    /// `gateway.nodes.pairing.autoApproveLocal` (default true): authenticated loopback devices
    /// are paired without asking.
    pub fn pairing_auto_approve_local(&self) -> bool {
        self.gateway_other("nodes")
            .and_then(|n| n.get("pairing"))
            .and_then(|p| p.get("autoApproveLocal"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true)
    }

    /// `logging.level` (default `info`).
    pub fn log_level(&self) -> LogLevel {
        self.logging
            .as_ref()
            .and_then(|l| l.level)
            .unwrap_or(LogLevel::Info)
    }

    /// `commands.restart` (default false).
    pub fn restart_command_enabled(&self) -> bool {
        self.commands
            .as_ref()
            .and_then(|c| c.restart)
            .unwrap_or(false)
    }

    /// `agents.defaults.workspace`, if set.
    pub fn workspace(&self) -> Option<&str> {
        self.agents
            .as_ref()?
            .defaults
            .as_ref()?
            .workspace
            .as_deref()
    }
}
