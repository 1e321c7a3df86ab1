//! The `connect` request params and the `hello-ok` answer.
//!
//! Inbound params are lenient (unknown keys ignored) so v3-era and v4 clients both parse; the
//! outbound `hello-ok` carries every field the strict Swift client requires.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::frames::StateVersion;

/// `connect` params (protocol v4; v3 clients send a subset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectParams {
    /// Oldest protocol the client speaks.
    pub min_protocol: u32,
    /// Newest protocol the client speaks.
    pub max_protocol: u32,
    /// Who the client is.
    pub client: ClientInfo,
    /// Advisory capabilities.
    #[serde(default)]
    pub caps: Vec<String>,
    /// Node commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    /// Node permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Map<String, Value>>,
    /// Node PATH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_env: Option<String>,
    /// `operator` (default) or `node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Requested scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Device identity proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceParams>,
    /// Shared-secret and token credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthParams>,
    /// Client locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Client user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// `connect.params.client`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// Client id (case-insensitive, one of the known ids).
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Client version.
    pub version: String,
    /// Platform, e.g. `linux`.
    pub platform: String,
    /// Device family, e.g. `Mac`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// Hardware model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_identifier: Option<String>,
    /// Client mode (`cli`, `ui`, `backend`, `node`, `probe`, …).
    pub mode: String,
    /// Stable per-install instance id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// `connect.params.device`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceParams {
    /// Hex SHA-256 of the public key.
    pub id: String,
    /// base64url raw Ed25519 key (or PEM SPKI).
    pub public_key: String,
    /// base64url signature of the payload.
    pub signature: String,
    /// Signing time, ms since epoch.
    pub signed_at: u64,
    /// The challenge nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// `connect.params.auth`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthParams {
    /// Shared token (or a device token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Bootstrap token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_token: Option<String>,
    /// Device token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// Shared password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The `hello-ok` payload (v4 shape; v3 clients get `canvasHostUrl` semantics by omission).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloOk {
    /// Always `hello-ok`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Negotiated protocol.
    pub protocol: u32,
    /// Server identity.
    pub server: ServerInfo,
    /// Methods and events.
    pub features: Features,
    /// State at connect time.
    pub snapshot: Snapshot,
    /// Surface URLs (v4), e.g. the canvas capability URL; omitted when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_surface_urls: Option<std::collections::BTreeMap<String, String>>,
    /// The v3 field `pluginSurfaceUrls` replaced: the canvas URL, for v3 clients only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canvas_host_url: Option<String>,
    /// The connection's auth outcome.
    pub auth: HelloAuth,
    /// Limits.
    pub policy: Policy,
}

/// `hello-ok.server`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// Server version.
    pub version: String,
    /// This connection's id.
    pub conn_id: String,
    /// This process's boot id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}

/// `hello-ok.features`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// Exactly the methods implemented.
    pub methods: Vec<String>,
    /// Events the server may send.
    pub events: Vec<String>,
}

/// `hello-ok.snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Presence entries, newest first.
    pub presence: Vec<Value>,
    /// The health summary.
    pub health: Value,
    /// Version counters.
    pub state_version: StateVersion,
    /// Process uptime.
    pub uptime_ms: u64,
    /// Config path (admin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    /// State dir (admin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<String>,
    /// Auth mode (admin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
    /// The default agent and its main session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_defaults: Option<SessionDefaults>,
}

/// `hello-ok.snapshot.sessionDefaults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDefaults {
    /// The agent used when a request names none (`main`).
    pub default_agent_id: String,
    /// The main session's short key (`main`).
    pub main_key: String,
    /// The main session's key (`agent:main:main`).
    pub main_session_key: String,
    /// How sessions are scoped (`per-sender`).
    pub scope: String,
    /// Whether the default agent has a usable model.
    pub model_configured: bool,
}

/// `hello-ok.auth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloAuth {
    /// How the connection authenticated (`token`, `password`, `device-token`, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The role.
    pub role: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// A device token issued for (device, role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// When the device token was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at_ms: Option<u64>,
}

/// `hello-ok.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Largest message.
    pub max_payload: usize,
    /// Send-buffer cap.
    pub max_buffered_bytes: usize,
    /// Tick cadence.
    pub tick_interval_ms: u64,
}
