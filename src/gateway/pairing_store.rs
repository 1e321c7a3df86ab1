//! The pairing store: which devices (operators' and nodes' devices) and which nodes the gateway
//! trusts, the requests waiting for an owner's approval, and the device tokens issued to paired
//! devices.
//!
//! # On-disk layout (the same as upstream OpenClaw, so a doctor can migrate existing installs)
//!
//! ```text
//! <state>/devices/pending.json   { "<requestId>": DevicePendingRequest, ... }
//! <state>/devices/paired.json    { "<deviceId>": { deviceId, publicKey, ..., roles, scopes,
//!                                   approvedScopes, tokens: { "<role>": { token, role, scopes,
//!                                   createdAtMs, rotatedAtMs?, revokedAtMs?, lastUsedAtMs? } },
//!                                   createdAtMs, approvedAtMs }, ... }
//! <state>/nodes/pending.json     { "<requestId>": NodePendingRequest, ... }
//! <state>/nodes/paired.json      { "<nodeId>": { nodeId, token, displayName?, ..., createdAtMs,
//!                                   approvedAtMs, lastConnectedAtMs? }, ... }
//! ```
//!
//! Files are pretty-printed JSON objects written with [`write_atomic`] (mode 0600) in directories
//! created 0700. A missing file is an empty map; a file that cannot be parsed is an error naming
//! the file, and the store never overwrites it (the gateway refuses to start until an owner moves
//! it aside). Fields of paired records this version does not know are kept on rewrite, so data
//! written by a newer OpenClaw survives a round trip.
//!
//! # Semantics
//!
//! - One [`PairingStore`] owns the data in memory; the gateway keeps it behind a mutex. Every
//!   mutation is written to disk before it becomes visible in memory, so a failed write leaves
//!   memory and disk agreeing on the previous state.
//! - Pending requests expire [`PENDING_TTL_MS`] (5 min) after their `ts`. Lists skip expired
//!   requests; mutations drop them.
//! - A device asking again while its request is pending refreshes that request (same
//!   `requestId`, new `ts` and metadata) when the new request asks for nothing the pending one did
//!   not (same public key, roles and scopes covered). Otherwise the pending request is superseded
//!   by a new one (new `requestId`, roles and scopes merged) so an owner never approves more than
//!   the request they looked at. Nodes behave alike, keyed on their declared commands, caps and
//!   permissions.
//! - Approval merges roles and scopes into the paired record (union).
//! - Tokens are 32 random bytes, base64url without padding, compared in constant time, and never
//!   part of a list, a view or a `Debug` output.
//! - Time is always passed in by the caller (ms since the Unix epoch); the store reads no clock.

use crate::protocol::constants::scope;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::atomic_write::{
    PRIVATE_DIR_MODE, SECRET_FILE_MODE, create_dir_all_with_mode, write_atomic,
};

/// How long a pending pairing request stays valid after its `ts`: 5 minutes.
pub const PENDING_TTL_MS: u64 = 5 * 60 * 1000;
/// Random bytes in a device or node token (encoded as base64url, 43 characters).
pub const TOKEN_BYTES: usize = 32;
/// The operator role.
pub const OPERATOR_ROLE: &str = "operator";

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a pairing operation failed. Messages are meant for the person running the gateway or the
/// operator calling a `*.pair.*` method.
#[derive(Debug, thiserror::Error)]
pub enum PairingStoreError {
    /// A store file exists but could not be read.
    #[error("cannot read pairing file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A store file is not what this store writes.
    #[error(
        "pairing file {path} is corrupt ({source}); it was not modified. Move it aside (e.g. `mv {path} {path}.corrupt`) and restart the gateway to start with an empty list (devices and nodes will have to pair again), or restore it from a backup"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser found.
        source: serde_json::Error,
    },
    /// A store directory could not be created.
    #[error("cannot create pairing directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A store file could not be written; the previous content is intact.
    #[error("cannot write pairing file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The system random number generator failed.
    #[error("cannot generate a pairing token or request id: {0}")]
    Random(getrandom::Error),
    /// No pending request has this id (never existed, already resolved, or expired).
    #[error("unknown requestId")]
    UnknownRequestId(String),
    /// No paired device has this id.
    #[error("unknown deviceId")]
    UnknownDeviceId(String),
    /// No paired node has this id.
    #[error("unknown nodeId")]
    UnknownNodeId(String),
    /// An empty `deviceId`.
    #[error("deviceId required")]
    DeviceIdRequired,
    /// An empty `publicKey`.
    #[error("publicKey required")]
    PublicKeyRequired,
    /// An empty `nodeId`.
    #[error("nodeId required")]
    NodeIdRequired,
    /// An empty `role`.
    #[error("role required")]
    RoleRequired,
    /// An empty `displayName`.
    #[error("displayName required")]
    DisplayNameRequired,
    /// The device is paired, but not for this role.
    #[error("role {role} is not approved for this device (approve a pairing request for it first)")]
    RoleNotApproved {
        /// The role asked for.
        role: String,
    },
    /// The device is paired, but this scope was never approved for it.
    #[error(
        "scope {scope} is not approved for this device (approve a pairing request for it first)"
    )]
    ScopeNotApproved {
        /// The first scope not covered.
        scope: String,
    },
    /// The device has no token for this role.
    #[error("no {role} token for this device")]
    UnknownToken {
        /// The role asked for.
        role: String,
    },
}

/// Result alias for this module.
type Result<T, E = PairingStoreError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

/// A device or node token. `Debug` never shows it; read it with [`SecretToken::expose_secret`]
/// only to hand it to its owner. Serialises as the plain string (files and `hello-ok`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretToken(String);

impl SecretToken {
    fn generate() -> Result<Self> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(PairingStoreError::Random)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The token string.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a presented token (the length is not secret).
    fn matches(&self, presented: &str) -> bool {
        !self.0.is_empty() && bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// A random request id in UUID v4 form, as upstream uses.
fn new_request_id() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(PairingStoreError::Random)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

// ---------------------------------------------------------------------------------------------
// Device types
// ---------------------------------------------------------------------------------------------

/// What a connecting device asks for; the input of [`PairingStore::request`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevicePairingInput {
    /// Hex SHA-256 of the raw public key.
    pub device_id: String,
    /// The public key, base64url (normalised by the caller).
    pub public_key: String,
    /// `client.displayName`.
    pub display_name: Option<String>,
    /// `client.platform`.
    pub platform: Option<String>,
    /// `client.deviceFamily`.
    pub device_family: Option<String>,
    /// `client.id`.
    pub client_id: Option<String>,
    /// `client.mode`.
    pub client_mode: Option<String>,
    /// The role asked for (`operator` or `node`).
    pub role: Option<String>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The client's address.
    pub remote_ip: Option<String>,
    /// Whether the request should not prompt an owner (e.g. a local auto-approval).
    pub silent: bool,
}

/// A device pairing request waiting for approval: the `device.pair.requested` payload, and a
/// value of `devices/pending.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePendingRequest {
    /// Random id (UUID) the owner approves or rejects.
    pub request_id: String,
    /// Hex SHA-256 of the public key.
    pub device_id: String,
    /// The public key, base64url.
    pub public_key: String,
    /// `client.displayName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `client.platform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `client.deviceFamily`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// `client.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `client.mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_mode: Option<String>,
    /// The role of the latest connect attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// All roles approval grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// All scopes approval grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The client's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// Whether owners need not be prompted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    /// Whether the device was already paired (a role/scope upgrade or a key repair).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_repair: Option<bool>,
    /// Creation or last refresh, ms since the epoch.
    pub ts: u64,
}

/// A paired device as lists and method results show it: no token strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedDevice {
    /// Hex SHA-256 of the public key.
    pub device_id: String,
    /// The public key, base64url.
    pub public_key: String,
    /// Name shown to owners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Platform reported at pairing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Device family reported at pairing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// Client id reported at pairing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Client mode reported at pairing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_mode: Option<String>,
    /// The role of the latest approved request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Approved roles.
    pub roles: Vec<String>,
    /// Scopes of the latest approvals.
    pub scopes: Vec<String>,
    /// Every scope ever approved: the ceiling for tokens and connects.
    pub approved_scopes: Vec<String>,
    /// Address at pairing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// Token metadata per role, sorted by role (never the token strings).
    pub tokens: Vec<DeviceTokenSummary>,
    /// First approval, ms since the epoch.
    pub created_at_ms: u64,
    /// Latest approval, ms since the epoch.
    pub approved_at_ms: u64,
}

/// Metadata of one device token, without the token string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTokenSummary {
    /// The role the token is for.
    pub role: String,
    /// The scopes the token carries.
    pub scopes: Vec<String>,
    /// First issue for this role.
    pub created_at_ms: u64,
    /// Latest rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_at_ms: Option<u64>,
    /// Revocation, if revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at_ms: Option<u64>,
    /// Latest successful use, as recorded by an earlier OpenClaw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at_ms: Option<u64>,
}

/// A device token handed to its device (`hello-ok.auth`, `device.token.rotate` to the same
/// device).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceToken {
    /// The token (redacted in `Debug`).
    pub token: SecretToken,
    /// The role it authenticates.
    pub role: String,
    /// The scopes it carries.
    pub scopes: Vec<String>,
    /// Latest rotation, else first issue.
    pub issued_at_ms: u64,
}

/// Pending and paired devices, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePairingList {
    /// Unexpired pending requests, newest `ts` first.
    pub pending: Vec<DevicePendingRequest>,
    /// Paired devices, latest approval first.
    pub paired: Vec<PairedDevice>,
}

/// Whether a connecting device's pairing covers what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingCheck {
    /// Paired with this key, role approved, scopes covered.
    Paired,
    /// No paired record for this device id.
    NotPaired,
    /// A paired record exists but holds another public key: pair again (a repair).
    PublicKeyMismatch,
    /// Paired, but not for the requested role.
    RoleUpgrade {
        /// Roles approved so far.
        approved_roles: Vec<String>,
    },
    /// Paired for the role, but a requested scope was never approved.
    ScopeUpgrade {
        /// Scopes approved so far.
        approved_scopes: Vec<String>,
        /// The first requested scope not covered.
        missing_scope: String,
    },
}

impl PairingCheck {
    /// Whether the connection may proceed without a pairing request.
    pub fn is_paired(&self) -> bool {
        matches!(self, Self::Paired)
    }

    /// `details.reason` of a `PAIRING_REQUIRED` error; `None` when paired.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::Paired => None,
            Self::NotPaired | Self::PublicKeyMismatch => Some("not-paired"),
            Self::RoleUpgrade { .. } => Some("role-upgrade"),
            Self::ScopeUpgrade { .. } => Some("scope-upgrade"),
        }
    }
}

/// The result of checking a presented device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// The token is this device's current token for the role and covers the scopes.
    Valid,
    /// The device is not paired.
    DeviceNotPaired,
    /// The device has no token for the role.
    TokenMissing,
    /// The role's token was revoked.
    TokenRevoked,
    /// The presented token is not the role's token.
    TokenMismatch,
    /// The token is right but does not carry a requested scope.
    ScopeMismatch {
        /// The first requested scope not covered.
        missing_scope: String,
    },
}

impl TokenCheck {
    /// Whether the token authenticates the connection.
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid)
    }

    /// Upstream's reason string; `None` when valid.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::Valid => None,
            Self::DeviceNotPaired => Some("device-not-paired"),
            Self::TokenMissing => Some("token-missing"),
            Self::TokenRevoked => Some("token-revoked"),
            Self::TokenMismatch => Some("token-mismatch"),
            Self::ScopeMismatch { .. } => Some("scope-mismatch"),
        }
    }
}

/// A value of `devices/paired.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredDevice {
    device_id: String,
    public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    approved_scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remote_ip: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tokens: BTreeMap<String, StoredDeviceToken>,
    created_at_ms: u64,
    approved_at_ms: u64,
    /// Fields written by other OpenClaw versions, kept verbatim.
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A value of `tokens` in a paired device record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredDeviceToken {
    token: SecretToken,
    role: String,
    #[serde(default)]
    scopes: Vec<String>,
    created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotated_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used_at_ms: Option<u64>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl StoredDevice {
    fn approved_roles(&self) -> Vec<String> {
        union([self.roles.as_deref(), self.role.as_slice().into()])
    }

    fn approved_scope_ceiling(&self) -> Vec<String> {
        normalize_scopes(
            self.approved_scopes
                .as_deref()
                .or(self.scopes.as_deref())
                .unwrap_or_default(),
        )
    }

    fn view(&self) -> PairedDevice {
        let mut tokens: Vec<DeviceTokenSummary> = self
            .tokens
            .values()
            .map(StoredDeviceToken::summary)
            .collect();
        tokens.sort_by(|a, b| a.role.cmp(&b.role));
        PairedDevice {
            device_id: self.device_id.clone(),
            public_key: self.public_key.clone(),
            display_name: self.display_name.clone(),
            platform: self.platform.clone(),
            device_family: self.device_family.clone(),
            client_id: self.client_id.clone(),
            client_mode: self.client_mode.clone(),
            role: self.role.clone(),
            roles: self.approved_roles(),
            scopes: normalize_scopes(self.scopes.as_deref().unwrap_or_default()),
            approved_scopes: self.approved_scope_ceiling(),
            remote_ip: self.remote_ip.clone(),
            tokens,
            created_at_ms: self.created_at_ms,
            approved_at_ms: self.approved_at_ms,
        }
    }
}

impl StoredDeviceToken {
    fn summary(&self) -> DeviceTokenSummary {
        DeviceTokenSummary {
            role: self.role.clone(),
            scopes: self.scopes.clone(),
            created_at_ms: self.created_at_ms,
            rotated_at_ms: self.rotated_at_ms,
            revoked_at_ms: self.revoked_at_ms,
            last_used_at_ms: self.last_used_at_ms,
        }
    }

    fn issued(&self) -> DeviceToken {
        DeviceToken {
            token: self.token.clone(),
            role: self.role.clone(),
            scopes: self.scopes.clone(),
            issued_at_ms: self.rotated_at_ms.unwrap_or(self.created_at_ms),
        }
    }

    /// A fresh token for `role`, replacing `previous` (whose creation time and use are kept).
    fn issue(
        role: &str,
        scopes: Vec<String>,
        previous: Option<&StoredDeviceToken>,
        now_ms: u64,
    ) -> Result<Self> {
        Ok(Self {
            token: SecretToken::generate()?,
            role: role.to_owned(),
            scopes,
            created_at_ms: previous.map_or(now_ms, |p| p.created_at_ms),
            rotated_at_ms: previous.map(|_| now_ms),
            revoked_at_ms: None,
            last_used_at_ms: previous.and_then(|p| p.last_used_at_ms),
            extra: previous.map(|p| p.extra.clone()).unwrap_or_default(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Node types
// ---------------------------------------------------------------------------------------------

/// What a node asks for: the `node.pair.request` params; the input of
/// [`PairingStore::node_request`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodePairingInput {
    /// The node's id.
    pub node_id: String,
    /// Name shown to owners.
    pub display_name: Option<String>,
    /// Platform.
    pub platform: Option<String>,
    /// App version.
    pub version: Option<String>,
    /// Core version.
    pub core_version: Option<String>,
    /// UI version.
    pub ui_version: Option<String>,
    /// Device family.
    pub device_family: Option<String>,
    /// Hardware model.
    pub model_identifier: Option<String>,
    /// Capability categories.
    pub caps: Option<Vec<String>>,
    /// Declared commands.
    pub commands: Option<Vec<String>>,
    /// OS permissions granted to the node app.
    pub permissions: Option<BTreeMap<String, bool>>,
    /// The node's address.
    pub remote_ip: Option<String>,
    /// Whether owners need not be prompted.
    pub silent: bool,
}

/// A node pairing request waiting for approval: the `node.pair.requested` payload, and a value
/// of `nodes/pending.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePendingRequest {
    /// Random id (UUID) the owner approves or rejects.
    pub request_id: String,
    /// The node's id.
    pub node_id: String,
    /// Name shown to owners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// App version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Core version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_version: Option<String>,
    /// UI version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_version: Option<String>,
    /// Device family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// Hardware model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_identifier: Option<String>,
    /// Capability categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caps: Option<Vec<String>>,
    /// Declared commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    /// OS permissions granted to the node app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<BTreeMap<String, bool>>,
    /// The node's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// Whether owners need not be prompted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    /// Whether the node was already paired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_repair: Option<bool>,
    /// Creation or last refresh, ms since the epoch.
    pub ts: u64,
}

/// A paired node as lists and method results show it: no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedNode {
    /// The node's id.
    pub node_id: String,
    /// Name shown to owners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// App version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Core version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core_version: Option<String>,
    /// UI version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_version: Option<String>,
    /// Device family.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// Hardware model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_identifier: Option<String>,
    /// Capability categories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caps: Option<Vec<String>>,
    /// Declared commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    /// OS permissions granted to the node app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<BTreeMap<String, bool>>,
    /// Address at pairing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// Executables reported by the node (written by upstream OpenClaw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bins: Option<Vec<String>>,
    /// First approval, ms since the epoch.
    pub created_at_ms: u64,
    /// Latest approval, ms since the epoch.
    pub approved_at_ms: u64,
    /// Latest connection, as recorded by upstream OpenClaw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_connected_at_ms: Option<u64>,
}

/// The result of [`PairingStore::node_approve`]: the paired node and its new token.
#[derive(Debug, Clone)]
pub struct NodeApproval {
    /// The paired node (no token).
    pub node: PairedNode,
    /// The node's new token (redacted in `Debug`), to hand to the node only.
    pub token: SecretToken,
}

/// Pending and paired nodes, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePairingList {
    /// Unexpired pending requests, newest `ts` first.
    pub pending: Vec<NodePendingRequest>,
    /// Paired nodes, latest approval first.
    pub paired: Vec<PairedNode>,
}

/// A value of `nodes/paired.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredNode {
    node_id: String,
    token: SecretToken,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    core_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ui_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    caps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commands: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    permissions: Option<BTreeMap<String, bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remote_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bins: Option<Vec<String>>,
    created_at_ms: u64,
    approved_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_connected_at_ms: Option<u64>,
    /// Fields written by other OpenClaw versions, kept verbatim.
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl StoredNode {
    fn view(&self) -> PairedNode {
        PairedNode {
            node_id: self.node_id.clone(),
            display_name: self.display_name.clone(),
            platform: self.platform.clone(),
            version: self.version.clone(),
            core_version: self.core_version.clone(),
            ui_version: self.ui_version.clone(),
            device_family: self.device_family.clone(),
            model_identifier: self.model_identifier.clone(),
            caps: self.caps.clone(),
            commands: self.commands.clone(),
            permissions: self.permissions.clone(),
            remote_ip: self.remote_ip.clone(),
            bins: self.bins.clone(),
            created_at_ms: self.created_at_ms,
            approved_at_ms: self.approved_at_ms,
            last_connected_at_ms: self.last_connected_at_ms,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// Where the store keeps its files under a state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingPaths {
    /// `<state>/devices`.
    pub devices_dir: PathBuf,
    /// `<state>/devices/pending.json`.
    pub devices_pending: PathBuf,
    /// `<state>/devices/paired.json`.
    pub devices_paired: PathBuf,
    /// `<state>/nodes`.
    pub nodes_dir: PathBuf,
    /// `<state>/nodes/pending.json`.
    pub nodes_pending: PathBuf,
    /// `<state>/nodes/paired.json`.
    pub nodes_paired: PathBuf,
}

impl PairingPaths {
    /// The store's paths under `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        let devices_dir = state_dir.join("devices");
        let nodes_dir = state_dir.join("nodes");
        Self {
            devices_pending: devices_dir.join("pending.json"),
            devices_paired: devices_dir.join("paired.json"),
            nodes_pending: nodes_dir.join("pending.json"),
            nodes_paired: nodes_dir.join("paired.json"),
            devices_dir,
            nodes_dir,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

type DevicePending = BTreeMap<String, DevicePendingRequest>;
type DevicePaired = BTreeMap<String, StoredDevice>;
type NodePending = BTreeMap<String, NodePendingRequest>;
type NodePaired = BTreeMap<String, StoredNode>;

/// Device and node pairing state, loaded from and persisted to the state directory.
#[derive(Debug)]
pub struct PairingStore {
    paths: PairingPaths,
    devices_pending: DevicePending,
    devices_paired: DevicePaired,
    nodes_pending: NodePending,
    nodes_paired: NodePaired,
}

impl PairingStore {
    /// Loads the store from `state_dir`. Missing files are empty; nothing is created until the
    /// first mutation. A corrupt file is an error and is left untouched.
    pub fn open(state_dir: &Path) -> Result<Self> {
        let paths = PairingPaths::new(state_dir);
        Ok(Self {
            devices_pending: load_json(&paths.devices_pending)?,
            devices_paired: load_json(&paths.devices_paired)?,
            nodes_pending: load_json(&paths.nodes_pending)?,
            nodes_paired: load_json(&paths.nodes_paired)?,
            paths,
        })
    }

    /// The store's file locations.
    pub fn paths(&self) -> &PairingPaths {
        &self.paths
    }

    /// Drops expired pending device and node requests; returns how many were dropped.
    pub fn prune_expired(&mut self, now_ms: u64) -> Result<usize> {
        let mut devices = self.devices_pending.clone();
        let mut nodes = self.nodes_pending.clone();
        let dropped_devices = prune(&mut devices, now_ms, |r| r.ts);
        let dropped_nodes = prune(&mut nodes, now_ms, |r| r.ts);
        if dropped_devices > 0 {
            self.commit_devices_pending(devices)?;
        }
        if dropped_nodes > 0 {
            self.commit_nodes_pending(nodes)?;
        }
        Ok(dropped_devices + dropped_nodes)
    }

    // ----- devices -----------------------------------------------------------------------------

    /// Whether the device is paired with this public key for `role` and `scopes`.
    pub fn check(
        &self,
        device_id: &str,
        public_key: &str,
        role: &str,
        scopes: &[String],
    ) -> PairingCheck {
        let Some(device) = self.devices_paired.get(device_id.trim()) else {
            return PairingCheck::NotPaired;
        };
        if device.public_key != public_key.trim() {
            return PairingCheck::PublicKeyMismatch;
        }
        let role = role.trim();
        let approved_roles = device.approved_roles();
        if !approved_roles.iter().any(|r| r == role) {
            return PairingCheck::RoleUpgrade { approved_roles };
        }
        let approved_scopes = device.approved_scope_ceiling();
        match first_missing_scope(role, scopes, &approved_scopes) {
            Some(missing_scope) => PairingCheck::ScopeUpgrade {
                approved_scopes,
                missing_scope,
            },
            None => PairingCheck::Paired,
        }
    }

    /// Creates a pending request for the device, or refreshes its pending one.
    ///
    /// Returns the request and whether it is new (broadcast `device.pair.requested` only then).
    /// A pending request that already covers the input keeps its `requestId` and gets the new
    /// metadata and `ts`; one that does not is replaced by a new request merging both.
    pub fn request(
        &mut self,
        input: DevicePairingInput,
        now_ms: u64,
    ) -> Result<(DevicePendingRequest, bool)> {
        let device_id = input.device_id.trim().to_owned();
        if device_id.is_empty() {
            return Err(PairingStoreError::DeviceIdRequired);
        }
        let public_key = input.public_key.trim().to_owned();
        if public_key.is_empty() {
            return Err(PairingStoreError::PublicKeyRequired);
        }
        let role = non_empty(input.role);
        let scopes = normalize_scopes(&input.scopes);
        let is_repair = self.devices_paired.contains_key(&device_id);

        let mut pending = self.devices_pending.clone();
        prune(&mut pending, now_ms, |r| r.ts);
        let mut existing: Vec<DevicePendingRequest> = pending
            .values()
            .filter(|r| r.device_id == device_id)
            .cloned()
            .collect();
        existing.sort_by(|a, b| {
            b.ts.cmp(&a.ts)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });

        let (request, is_new) = match existing.as_slice() {
            [only] if device_request_covers(only, &public_key, role.as_deref(), &scopes) => {
                let mut refreshed = only.clone();
                refreshed.display_name = input.display_name.or(refreshed.display_name);
                refreshed.platform = input.platform.or(refreshed.platform);
                refreshed.device_family = input.device_family.or(refreshed.device_family);
                refreshed.client_id = input.client_id.or(refreshed.client_id);
                refreshed.client_mode = input.client_mode.or(refreshed.client_mode);
                refreshed.role = role.or(refreshed.role);
                refreshed.remote_ip = input.remote_ip.or(refreshed.remote_ip);
                refreshed.silent = silent_flag(input.silent && only.silent == Some(true));
                refreshed.is_repair = Some(is_repair);
                refreshed.ts = now_ms;
                (refreshed, false)
            }
            _ => {
                for old in &existing {
                    pending.remove(&old.request_id);
                }
                let roles = union(
                    existing
                        .iter()
                        .flat_map(|r| [r.roles.as_deref(), r.role.as_slice().into()])
                        .chain([role.as_slice().into()]),
                );
                let scopes = union(
                    existing
                        .iter()
                        .map(|r| r.scopes.as_deref())
                        .chain([Some(scopes.as_slice())]),
                );
                let silent = input.silent && existing.iter().all(|r| r.silent == Some(true));
                let request = DevicePendingRequest {
                    request_id: new_request_id()?,
                    device_id: device_id.clone(),
                    public_key,
                    display_name: input.display_name,
                    platform: input.platform,
                    device_family: input.device_family,
                    client_id: input.client_id,
                    client_mode: input.client_mode,
                    role: role.or_else(|| existing.first().and_then(|r| r.role.clone())),
                    roles: non_empty_vec(roles),
                    scopes: non_empty_vec(scopes),
                    remote_ip: input.remote_ip,
                    silent: silent_flag(silent),
                    is_repair: Some(is_repair),
                    ts: now_ms,
                };
                (request, true)
            }
        };
        pending.insert(request.request_id.clone(), request.clone());
        self.commit_devices_pending(pending)?;
        Ok((request, is_new))
    }

    /// Approves a pending device request: merges its roles and scopes into the paired record
    /// and issues a fresh token for the request's role (replacing that role's old token).
    pub fn approve(&mut self, request_id: &str, now_ms: u64) -> Result<PairedDevice> {
        let mut pending = self.devices_pending.clone();
        prune(&mut pending, now_ms, |r| r.ts);
        let request = pending
            .remove(request_id)
            .ok_or_else(|| PairingStoreError::UnknownRequestId(request_id.to_owned()))?;

        let mut paired = self.devices_paired.clone();
        let existing = paired.remove(&request.device_id);
        let existing = existing.as_ref();
        let roles = union([
            existing.and_then(|d| d.roles.as_deref()),
            existing.map(|d| d.role.as_slice()),
            request.roles.as_deref(),
            request.role.as_slice().into(),
        ]);
        let scopes = union([
            existing.and_then(|d| d.scopes.as_deref()),
            request.scopes.as_deref(),
        ]);
        let approved_scopes = union([
            existing.and_then(|d| d.approved_scopes.as_deref()),
            existing.and_then(|d| d.scopes.as_deref()),
            request.scopes.as_deref(),
        ]);
        let mut tokens = existing.map(|d| d.tokens.clone()).unwrap_or_default();
        if let Some(role) = request.role.as_deref() {
            let token_scopes = normalize_scopes(request.scopes.as_deref().unwrap_or_default());
            let token = StoredDeviceToken::issue(role, token_scopes, tokens.get(role), now_ms)?;
            tokens.insert(role.to_owned(), token);
        }
        let keep = |new: &Option<String>, old: Option<&Option<String>>| {
            new.clone().or_else(|| old.cloned().flatten())
        };
        let device = StoredDevice {
            device_id: request.device_id.clone(),
            public_key: request.public_key.clone(),
            // A name an owner gave the device wins over the one the client reports.
            display_name: existing
                .and_then(|d| d.display_name.clone())
                .or_else(|| request.display_name.clone()),
            platform: keep(&request.platform, existing.map(|d| &d.platform)),
            device_family: keep(&request.device_family, existing.map(|d| &d.device_family)),
            client_id: keep(&request.client_id, existing.map(|d| &d.client_id)),
            client_mode: keep(&request.client_mode, existing.map(|d| &d.client_mode)),
            role: keep(&request.role, existing.map(|d| &d.role)),
            roles: non_empty_vec(roles),
            scopes: non_empty_vec(scopes),
            approved_scopes: non_empty_vec(approved_scopes),
            remote_ip: keep(&request.remote_ip, existing.map(|d| &d.remote_ip)),
            tokens,
            created_at_ms: existing.map_or(now_ms, |d| d.created_at_ms),
            approved_at_ms: now_ms,
            extra: existing.map(|d| d.extra.clone()).unwrap_or_default(),
        };
        let view = device.view();
        paired.insert(device.device_id.clone(), device);
        self.commit_devices_paired(paired)?;
        self.commit_devices_pending(pending)?;
        Ok(view)
    }

    /// Rejects (drops) a pending device request; returns it for `device.pair.resolved`.
    pub fn reject(&mut self, request_id: &str) -> Result<DevicePendingRequest> {
        let mut pending = self.devices_pending.clone();
        let request = pending
            .remove(request_id)
            .ok_or_else(|| PairingStoreError::UnknownRequestId(request_id.to_owned()))?;
        self.commit_devices_pending(pending)?;
        Ok(request)
    }

    /// Unpairs a device (its tokens go with it); returns what was removed.
    pub fn remove_device(&mut self, device_id: &str) -> Result<PairedDevice> {
        let mut paired = self.devices_paired.clone();
        let device = paired
            .remove(device_id.trim())
            .ok_or_else(|| PairingStoreError::UnknownDeviceId(device_id.to_owned()))?;
        self.commit_devices_paired(paired)?;
        Ok(device.view())
    }

    /// Sets a paired device's display name (trimmed, non-empty).
    pub fn rename_device(&mut self, device_id: &str, display_name: &str) -> Result<PairedDevice> {
        let name = display_name.trim();
        if name.is_empty() {
            return Err(PairingStoreError::DisplayNameRequired);
        }
        self.update_device(device_id, |device| {
            device.display_name = Some(name.to_owned());
            Ok(())
        })
        .map(|device| device.view())
    }

    /// Unexpired pending requests and paired devices, tokens redacted.
    pub fn list(&self, now_ms: u64) -> DevicePairingList {
        let mut pending: Vec<DevicePendingRequest> = self
            .devices_pending
            .values()
            .filter(|r| !is_expired(r.ts, now_ms))
            .cloned()
            .collect();
        pending.sort_by(|a, b| {
            b.ts.cmp(&a.ts)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });
        let mut paired: Vec<PairedDevice> = self
            .devices_paired
            .values()
            .map(StoredDevice::view)
            .collect();
        paired.sort_by(|a, b| {
            b.approved_at_ms
                .cmp(&a.approved_at_ms)
                .then_with(|| a.device_id.cmp(&b.device_id))
        });
        DevicePairingList { pending, paired }
    }

    /// One paired device, tokens redacted.
    pub fn get_device(&self, device_id: &str) -> Option<PairedDevice> {
        self.devices_paired
            .get(device_id.trim())
            .map(StoredDevice::view)
    }

    /// The device's token for `role`, issuing one when it has none, it was revoked, or it does
    /// not carry every requested scope. The role and scopes must have been approved.
    pub fn ensure_token(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: &[String],
        now_ms: u64,
    ) -> Result<DeviceToken> {
        let (device, role) = self.approved_device_role(device_id, role)?;
        let requested = normalize_scopes(scopes);
        if let Some(scope) =
            first_missing_scope(&role, &requested, &device.approved_scope_ceiling())
        {
            return Err(PairingStoreError::ScopeNotApproved { scope });
        }
        if let Some(current) = device.tokens.get(&role) {
            if current.revoked_at_ms.is_none()
                && first_missing_scope(&role, &requested, &current.scopes).is_none()
            {
                return Ok(current.issued());
            }
        }
        self.issue_token(device_id, &role, requested, false, now_ms)
    }

    /// Checks a presented device token for `role` in constant time, then its scopes.
    pub fn verify_token(
        &self,
        device_id: &str,
        role: &str,
        token: &str,
        requested_scopes: &[String],
    ) -> TokenCheck {
        let Some(device) = self.devices_paired.get(device_id.trim()) else {
            return TokenCheck::DeviceNotPaired;
        };
        let role = role.trim();
        let Some(entry) = device.tokens.get(role) else {
            return TokenCheck::TokenMissing;
        };
        if entry.revoked_at_ms.is_some() {
            return TokenCheck::TokenRevoked;
        }
        if !entry.token.matches(token) {
            return TokenCheck::TokenMismatch;
        }
        match first_missing_scope(role, requested_scopes, &entry.scopes) {
            Some(missing_scope) => TokenCheck::ScopeMismatch { missing_scope },
            None => TokenCheck::Valid,
        }
    }

    /// Issues a new token for `role` (`device.token.rotate`). Without `scopes` the old token's
    /// scopes are kept (or, with no old token, the approved scopes of that role). The scopes must
    /// have been approved; rotation never widens a device's approval.
    pub fn rotate_token(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: Option<&[String]>,
        now_ms: u64,
    ) -> Result<DeviceToken> {
        let requested = self.rotation_scopes(device_id, role, scopes)?;
        let role = role.trim();
        let record_scopes = scopes.is_some();
        self.issue_token(device_id, role, requested, record_scopes, now_ms)
    }

    /// The scopes [`rotate_token`](Self::rotate_token) would give the new token, checked
    /// against the approval ceiling; nothing is changed.
    pub fn rotation_scopes(
        &self,
        device_id: &str,
        role: &str,
        scopes: Option<&[String]>,
    ) -> Result<Vec<String>> {
        let (device, role) = self.approved_device_role(device_id, role)?;
        let ceiling = device.approved_scope_ceiling();
        let requested = match (scopes, device.tokens.get(&role)) {
            (Some(scopes), _) => normalize_scopes(scopes),
            (None, Some(current)) => current.scopes.clone(),
            (None, None) => {
                let prefix = format!("{role}.");
                ceiling
                    .iter()
                    .filter(|s| s.starts_with(&prefix))
                    .cloned()
                    .collect()
            }
        };
        if let Some(scope) = first_missing_scope(&role, &requested, &ceiling) {
            return Err(PairingStoreError::ScopeNotApproved { scope });
        }
        Ok(requested)
    }

    /// Revokes the device's token for `role` (`device.token.revoke`); the record keeps its
    /// metadata with `revokedAtMs`. A later [`ensure_token`](Self::ensure_token) issues a new one.
    pub fn revoke_token(
        &mut self,
        device_id: &str,
        role: &str,
        now_ms: u64,
    ) -> Result<DeviceTokenSummary> {
        let role = role.trim().to_owned();
        if role.is_empty() {
            return Err(PairingStoreError::RoleRequired);
        }
        let device = self.update_device(device_id, |device| {
            let entry = device
                .tokens
                .get_mut(&role)
                .ok_or_else(|| PairingStoreError::UnknownToken { role: role.clone() })?;
            entry.revoked_at_ms = Some(now_ms);
            Ok(())
        })?;
        device
            .tokens
            .get(&role)
            .map(StoredDeviceToken::summary)
            .ok_or(PairingStoreError::UnknownToken { role })
    }

    fn approved_device_role(&self, device_id: &str, role: &str) -> Result<(&StoredDevice, String)> {
        let device = self
            .devices_paired
            .get(device_id.trim())
            .ok_or_else(|| PairingStoreError::UnknownDeviceId(device_id.to_owned()))?;
        let role = role.trim();
        if role.is_empty() {
            return Err(PairingStoreError::RoleRequired);
        }
        if !device.approved_roles().iter().any(|r| r == role) {
            return Err(PairingStoreError::RoleNotApproved {
                role: role.to_owned(),
            });
        }
        Ok((device, role.to_owned()))
    }

    /// Replaces the device's token for `role`; with `record_scopes` (an explicit rotation) the
    /// scopes also become the device's current `scopes`, as upstream records them.
    fn issue_token(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: Vec<String>,
        record_scopes: bool,
        now_ms: u64,
    ) -> Result<DeviceToken> {
        let device = self.update_device(device_id, |device| {
            if record_scopes {
                // Keep the approval ceiling when `scopes` (its legacy fallback) changes.
                if device.approved_scopes.is_none() {
                    device.approved_scopes = non_empty_vec(device.approved_scope_ceiling());
                }
                device.scopes = non_empty_vec(scopes.clone());
            }
            let token = StoredDeviceToken::issue(role, scopes, device.tokens.get(role), now_ms)?;
            device.tokens.insert(role.to_owned(), token);
            Ok(())
        })?;
        device
            .tokens
            .get(role)
            .map(StoredDeviceToken::issued)
            .ok_or_else(|| PairingStoreError::UnknownToken {
                role: role.to_owned(),
            })
    }

    /// Applies `change` to a copy of the device record, persists, and returns the new record.
    fn update_device(
        &mut self,
        device_id: &str,
        change: impl FnOnce(&mut StoredDevice) -> Result<()>,
    ) -> Result<StoredDevice> {
        let id = device_id.trim();
        let mut paired = self.devices_paired.clone();
        let device = paired
            .get_mut(id)
            .ok_or_else(|| PairingStoreError::UnknownDeviceId(device_id.to_owned()))?;
        change(device)?;
        let updated = device.clone();
        self.commit_devices_paired(paired)?;
        Ok(updated)
    }

    // ----- nodes -------------------------------------------------------------------------------

    /// Creates a pending request for the node, or refreshes its pending one (`node.pair.request`).
    ///
    /// Returns the request and whether it is new (broadcast `node.pair.requested` only then). A
    /// pending request declaring the same commands, caps and permissions keeps its `requestId`;
    /// a different declaration replaces it with a new request.
    pub fn node_request(
        &mut self,
        input: NodePairingInput,
        now_ms: u64,
    ) -> Result<(NodePendingRequest, bool)> {
        let node_id = input.node_id.trim().to_owned();
        if node_id.is_empty() {
            return Err(PairingStoreError::NodeIdRequired);
        }
        let is_repair = self.nodes_paired.contains_key(&node_id);
        let mut pending = self.nodes_pending.clone();
        prune(&mut pending, now_ms, |r| r.ts);
        let mut existing: Vec<NodePendingRequest> = pending
            .values()
            .filter(|r| r.node_id == node_id)
            .cloned()
            .collect();
        existing.sort_by(|a, b| {
            b.ts.cmp(&a.ts)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });

        let (request_id, is_new, silent) = match existing.as_slice() {
            [only] if same_node_surface(only, &input) => (
                only.request_id.clone(),
                false,
                input.silent && only.silent == Some(true),
            ),
            _ => {
                for old in &existing {
                    pending.remove(&old.request_id);
                }
                let silent = input.silent && existing.iter().all(|r| r.silent == Some(true));
                (new_request_id()?, true, silent)
            }
        };
        let previous = existing.first().filter(|_| !is_new);
        let keep = |new: Option<String>, old: Option<&Option<String>>| {
            new.or_else(|| old.cloned().flatten())
        };
        let request = NodePendingRequest {
            request_id,
            node_id,
            display_name: keep(input.display_name, previous.map(|r| &r.display_name)),
            platform: keep(input.platform, previous.map(|r| &r.platform)),
            version: keep(input.version, previous.map(|r| &r.version)),
            core_version: keep(input.core_version, previous.map(|r| &r.core_version)),
            ui_version: keep(input.ui_version, previous.map(|r| &r.ui_version)),
            device_family: keep(input.device_family, previous.map(|r| &r.device_family)),
            model_identifier: keep(
                input.model_identifier,
                previous.map(|r| &r.model_identifier),
            ),
            caps: input.caps,
            commands: input.commands,
            permissions: input.permissions,
            remote_ip: keep(input.remote_ip, previous.map(|r| &r.remote_ip)),
            silent: silent_flag(silent),
            is_repair: Some(is_repair),
            ts: now_ms,
        };
        pending.insert(request.request_id.clone(), request.clone());
        self.commit_nodes_pending(pending)?;
        Ok((request, is_new))
    }

    /// Approves a pending node request and issues the node a new token (`node.pair.approve`).
    /// The token is returned once here, for delivery to the node; lists never show it.
    pub fn node_approve(&mut self, request_id: &str, now_ms: u64) -> Result<NodeApproval> {
        let mut pending = self.nodes_pending.clone();
        prune(&mut pending, now_ms, |r| r.ts);
        let request = pending
            .remove(request_id)
            .ok_or_else(|| PairingStoreError::UnknownRequestId(request_id.to_owned()))?;
        let mut paired = self.nodes_paired.clone();
        let existing = paired.remove(&request.node_id);
        let existing = existing.as_ref();
        let node = StoredNode {
            node_id: request.node_id.clone(),
            token: SecretToken::generate()?,
            // A name an owner gave the node wins over the one the node reports.
            display_name: existing
                .and_then(|n| n.display_name.clone())
                .or(request.display_name),
            platform: request.platform,
            version: request.version,
            core_version: request.core_version,
            ui_version: request.ui_version,
            device_family: request.device_family,
            model_identifier: request.model_identifier,
            caps: request.caps,
            commands: request.commands,
            permissions: request.permissions,
            remote_ip: request.remote_ip,
            bins: existing.and_then(|n| n.bins.clone()),
            created_at_ms: existing.map_or(now_ms, |n| n.created_at_ms),
            approved_at_ms: now_ms,
            last_connected_at_ms: existing.and_then(|n| n.last_connected_at_ms),
            extra: existing.map(|n| n.extra.clone()).unwrap_or_default(),
        };
        let approval = NodeApproval {
            node: node.view(),
            token: node.token.clone(),
        };
        paired.insert(node.node_id.clone(), node);
        self.commit_nodes_paired(paired)?;
        self.commit_nodes_pending(pending)?;
        Ok(approval)
    }

    /// Rejects (drops) a pending node request; returns it for `node.pair.resolved`.
    pub fn node_reject(&mut self, request_id: &str) -> Result<NodePendingRequest> {
        let mut pending = self.nodes_pending.clone();
        let request = pending
            .remove(request_id)
            .ok_or_else(|| PairingStoreError::UnknownRequestId(request_id.to_owned()))?;
        self.commit_nodes_pending(pending)?;
        Ok(request)
    }

    /// Unpairs a node (`node.pair.remove`); returns what was removed.
    pub fn node_remove(&mut self, node_id: &str) -> Result<PairedNode> {
        let mut paired = self.nodes_paired.clone();
        let node = paired
            .remove(node_id.trim())
            .ok_or_else(|| PairingStoreError::UnknownNodeId(node_id.to_owned()))?;
        self.commit_nodes_paired(paired)?;
        Ok(node.view())
    }

    /// Whether `token` is the paired node's token (constant-time; `node.pair.verify`).
    pub fn node_verify(&self, node_id: &str, token: &str) -> bool {
        self.nodes_paired
            .get(node_id.trim())
            .is_some_and(|node| node.token.matches(token))
    }

    /// Sets a paired node's display name (trimmed, non-empty; `node.rename`).
    pub fn node_rename(&mut self, node_id: &str, display_name: &str) -> Result<PairedNode> {
        let name = display_name.trim();
        if name.is_empty() {
            return Err(PairingStoreError::DisplayNameRequired);
        }
        let mut paired = self.nodes_paired.clone();
        let node = paired
            .get_mut(node_id.trim())
            .ok_or_else(|| PairingStoreError::UnknownNodeId(node_id.to_owned()))?;
        node.display_name = Some(name.to_owned());
        let view = node.view();
        self.commit_nodes_paired(paired)?;
        Ok(view)
    }

    /// Unexpired pending requests and paired nodes, tokens redacted (`node.pair.list`).
    pub fn node_list(&self, now_ms: u64) -> NodePairingList {
        let mut pending: Vec<NodePendingRequest> = self
            .nodes_pending
            .values()
            .filter(|r| !is_expired(r.ts, now_ms))
            .cloned()
            .collect();
        pending.sort_by(|a, b| {
            b.ts.cmp(&a.ts)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });
        let mut paired: Vec<PairedNode> =
            self.nodes_paired.values().map(StoredNode::view).collect();
        paired.sort_by(|a, b| {
            b.approved_at_ms
                .cmp(&a.approved_at_ms)
                .then_with(|| a.node_id.cmp(&b.node_id))
        });
        NodePairingList { pending, paired }
    }

    /// One paired node, token redacted.
    pub fn get_node(&self, node_id: &str) -> Option<PairedNode> {
        self.nodes_paired.get(node_id.trim()).map(StoredNode::view)
    }

    // ----- persistence -------------------------------------------------------------------------

    fn commit_devices_pending(&mut self, next: DevicePending) -> Result<()> {
        save_json(&self.paths.devices_dir, &self.paths.devices_pending, &next)?;
        self.devices_pending = next;
        Ok(())
    }

    fn commit_devices_paired(&mut self, next: DevicePaired) -> Result<()> {
        save_json(&self.paths.devices_dir, &self.paths.devices_paired, &next)?;
        self.devices_paired = next;
        Ok(())
    }

    fn commit_nodes_pending(&mut self, next: NodePending) -> Result<()> {
        save_json(&self.paths.nodes_dir, &self.paths.nodes_pending, &next)?;
        self.nodes_pending = next;
        Ok(())
    }

    fn commit_nodes_paired(&mut self, next: NodePaired) -> Result<()> {
        save_json(&self.paths.nodes_dir, &self.paths.nodes_paired, &next)?;
        self.nodes_paired = next;
        Ok(())
    }
}

fn load_json<T: DeserializeOwned + Default>(path: &Path) -> Result<T> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| PairingStoreError::Corrupt {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(source) => Err(PairingStoreError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn save_json<T: Serialize>(dir: &Path, path: &Path, value: &T) -> Result<()> {
    create_dir_all_with_mode(dir, PRIVATE_DIR_MODE).map_err(|source| {
        PairingStoreError::CreateDir {
            path: dir.to_owned(),
            source,
        }
    })?;
    let write_error = |source| PairingStoreError::Write {
        path: path.to_owned(),
        source,
    };
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| write_error(io::Error::other(e)))?;
    bytes.push(b'\n');
    write_atomic(path, &bytes, SECRET_FILE_MODE).map_err(write_error)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn is_expired(ts: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(ts) > PENDING_TTL_MS
}

fn prune<T>(pending: &mut BTreeMap<String, T>, now_ms: u64, ts: impl Fn(&T) -> u64) -> usize {
    let before = pending.len();
    pending.retain(|_, r| !is_expired(ts(r), now_ms));
    before - pending.len()
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn non_empty_vec(values: Vec<String>) -> Option<Vec<String>> {
    (!values.is_empty()).then_some(values)
}

fn silent_flag(silent: bool) -> Option<bool> {
    silent.then_some(true)
}

/// Trimmed, non-empty, deduplicated, sorted.
fn normalize_scopes(scopes: &[String]) -> Vec<String> {
    union([Some(scopes)])
}

/// The sorted union of string lists (trimmed, empty strings dropped).
fn union<'a>(lists: impl IntoIterator<Item = Option<&'a [String]>>) -> Vec<String> {
    let set: BTreeSet<String> = lists
        .into_iter()
        .flatten()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    set.into_iter().collect()
}

/// Whether `granted` covers `requested` for `role`: exact grants, plus, for operators, the one
/// scope rule ([`scope::covers`]).
fn scope_satisfied(role: &str, requested: &str, granted: &[String]) -> bool {
    let exact = granted.iter().any(|g| g.trim() == requested);
    exact || (role == OPERATOR_ROLE && scope::covers(granted, requested))
}

/// The first requested scope (trimmed, non-empty) that `granted` does not cover.
fn first_missing_scope(role: &str, requested: &[String], granted: &[String]) -> Option<String> {
    requested
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .find(|s| !scope_satisfied(role, s, granted))
        .map(str::to_owned)
}

/// Whether approving `pending` would grant everything the new request asks for.
fn device_request_covers(
    pending: &DevicePendingRequest,
    public_key: &str,
    role: Option<&str>,
    scopes: &[String],
) -> bool {
    if pending.public_key != public_key {
        return false;
    }
    let roles = union([pending.roles.as_deref(), pending.role.as_slice().into()]);
    if let Some(role) = role {
        if !roles.iter().any(|r| r == role) {
            return false;
        }
    }
    let granted = pending.scopes.as_deref().unwrap_or_default();
    first_missing_scope(role.unwrap_or_default(), scopes, granted).is_none()
}

/// Whether a node declares the same commands, caps and permissions as its pending request.
fn same_node_surface(pending: &NodePendingRequest, input: &NodePairingInput) -> bool {
    let set = |v: Option<&Vec<String>>| union([v.map(Vec::as_slice)]);
    let perms = |p: Option<&BTreeMap<String, bool>>| p.cloned().unwrap_or_default();
    set(pending.commands.as_ref()) == set(input.commands.as_ref())
        && set(pending.caps.as_ref()) == set(input.caps.as_ref())
        && perms(pending.permissions.as_ref()) == perms(input.permissions.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000_000;
    const KEY: &str = "pub-key-a";
    const DEVICE: &str = "d1";

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    fn open(dir: &tempfile::TempDir) -> PairingStore {
        PairingStore::open(dir.path()).unwrap()
    }

    fn input(role: &str, scopes: &[&str]) -> DevicePairingInput {
        DevicePairingInput {
            device_id: DEVICE.to_owned(),
            public_key: KEY.to_owned(),
            display_name: Some("laptop".to_owned()),
            platform: Some("linux".to_owned()),
            client_id: Some("cli".to_owned()),
            client_mode: Some("cli".to_owned()),
            role: Some(role.to_owned()),
            scopes: s(scopes),
            remote_ip: Some("10.0.0.2".to_owned()),
            ..Default::default()
        }
    }

    /// Requests and approves `scopes` for the operator role.
    fn pair(store: &mut PairingStore, scopes: &[&str], now: u64) -> PairedDevice {
        let (req, _) = store.request(input(OPERATOR_ROLE, scopes), now).unwrap();
        store.approve(&req.request_id, now).unwrap()
    }

    fn node_input(commands: &[&str]) -> NodePairingInput {
        NodePairingInput {
            node_id: "node-1".to_owned(),
            display_name: Some("phone".to_owned()),
            platform: Some("ios".to_owned()),
            commands: Some(s(commands)),
            caps: Some(s(&["camera"])),
            ..Default::default()
        }
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn request_then_approve_issues_a_token_that_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let scopes = s(&["operator.read", "operator.write"]);
        assert_eq!(
            store.check(DEVICE, KEY, OPERATOR_ROLE, &scopes),
            PairingCheck::NotPaired
        );

        let (req, is_new) = store
            .request(
                input(OPERATOR_ROLE, &["operator.write", "operator.read"]),
                T0,
            )
            .unwrap();
        assert!(is_new);
        assert_eq!(req.request_id.len(), 36);
        assert_eq!(req.is_repair, Some(false));
        assert_eq!(req.scopes, Some(scopes.clone()));
        assert_eq!(store.list(T0).pending, vec![req.clone()]);

        let device = store.approve(&req.request_id, T0 + 10).unwrap();
        assert_eq!(device.roles, s(&[OPERATOR_ROLE]));
        assert_eq!(device.approved_scopes, scopes);
        assert_eq!(device.approved_at_ms, T0 + 10);
        assert_eq!(device.tokens.len(), 1);
        assert!(store.list(T0 + 10).pending.is_empty());
        assert_eq!(
            store.check(DEVICE, KEY, OPERATOR_ROLE, &scopes),
            PairingCheck::Paired
        );

        let token = store
            .ensure_token(DEVICE, OPERATOR_ROLE, &scopes, T0 + 20)
            .unwrap();
        assert_eq!(token.role, OPERATOR_ROLE);
        assert_eq!(token.scopes, scopes);
        assert_eq!(
            token.issued_at_ms,
            T0 + 10,
            "the approval's token is reused"
        );
        assert_eq!(token.token.expose_secret().len(), 43);
        assert!(
            token
                .token
                .expose_secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            store.verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &scopes),
            TokenCheck::Valid
        );
    }

    #[test]
    fn ensure_token_reuses_a_covering_token_and_replaces_a_narrower_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (req, _) = store
            .request(input(OPERATOR_ROLE, &["operator.admin"]), T0)
            .unwrap();
        store.approve(&req.request_id, T0).unwrap();
        // Rotate down to read only, then ask for write: a new token with the asked scopes.
        let read = store
            .rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.read"])), T0 + 1)
            .unwrap();
        let again = store
            .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.read"]), T0 + 2)
            .unwrap();
        assert_eq!(again.token.expose_secret(), read.token.expose_secret());
        let write = store
            .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.write"]), T0 + 3)
            .unwrap();
        assert_ne!(write.token.expose_secret(), read.token.expose_secret());
        assert_eq!(write.scopes, s(&["operator.write"]));
        assert_eq!(write.issued_at_ms, T0 + 3);
        // write covers read: reused.
        let covered = store
            .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.read"]), T0 + 4)
            .unwrap();
        assert_eq!(covered.token.expose_secret(), write.token.expose_secret());
    }

    #[test]
    fn ensure_token_refuses_unapproved_roles_and_scopes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read"], T0);
        assert!(matches!(
            store.ensure_token(DEVICE, "node", &[], T0),
            Err(PairingStoreError::RoleNotApproved { role }) if role == "node"
        ));
        assert!(matches!(
            store.ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.admin"]), T0),
            Err(PairingStoreError::ScopeNotApproved { scope }) if scope == "operator.admin"
        ));
        assert!(matches!(
            store.ensure_token("nope", OPERATOR_ROLE, &[], T0),
            Err(PairingStoreError::UnknownDeviceId(_))
        ));
    }

    #[test]
    fn repeating_a_pending_request_keeps_its_request_id_and_refreshes_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (first, is_new) = store
            .request(input(OPERATOR_ROLE, &["operator.read"]), T0)
            .unwrap();
        assert!(is_new);
        let mut again = input(OPERATOR_ROLE, &["operator.read"]);
        again.display_name = Some("renamed laptop".to_owned());
        again.remote_ip = Some("10.0.0.9".to_owned());
        let (second, is_new) = store.request(again, T0 + 60_000).unwrap();
        assert!(!is_new);
        assert_eq!(second.request_id, first.request_id);
        assert_eq!(second.ts, T0 + 60_000);
        assert_eq!(second.display_name.as_deref(), Some("renamed laptop"));
        assert_eq!(second.remote_ip.as_deref(), Some("10.0.0.9"));
        assert_eq!(store.list(T0 + 60_000).pending, vec![second.clone()]);
        let on_disk = read_json(&store.paths().devices_pending);
        assert_eq!(on_disk.as_object().unwrap().len(), 1);
        assert_eq!(on_disk[&first.request_id]["ts"], T0 + 60_000);
        // A narrower request is covered by the pending one too.
        let (third, is_new) = store
            .request(input(OPERATOR_ROLE, &[]), T0 + 70_000)
            .unwrap();
        assert!(!is_new);
        assert_eq!(third.request_id, first.request_id);
        assert_eq!(third.scopes, Some(s(&["operator.read"])));
    }

    #[test]
    fn a_request_asking_for_more_supersedes_the_pending_one_with_merged_scopes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (first, _) = store
            .request(input(OPERATOR_ROLE, &["operator.read"]), T0)
            .unwrap();
        let (second, is_new) = store
            .request(input(OPERATOR_ROLE, &["operator.pairing"]), T0 + 1)
            .unwrap();
        assert!(is_new);
        assert_ne!(second.request_id, first.request_id);
        assert_eq!(
            second.scopes,
            Some(s(&["operator.pairing", "operator.read"]))
        );
        assert_eq!(store.list(T0 + 1).pending, vec![second.clone()]);
        assert!(matches!(
            store.approve(&first.request_id, T0 + 2),
            Err(PairingStoreError::UnknownRequestId(_))
        ));
        let device = store.approve(&second.request_id, T0 + 2).unwrap();
        assert_eq!(
            device.approved_scopes,
            s(&["operator.pairing", "operator.read"])
        );
    }

    #[test]
    fn pending_requests_expire_five_minutes_after_their_ts() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (req, _) = store.request(input(OPERATOR_ROLE, &[]), T0).unwrap();
        assert_eq!(store.list(T0 + PENDING_TTL_MS).pending.len(), 1);
        assert!(store.list(T0 + PENDING_TTL_MS + 1).pending.is_empty());
        assert!(matches!(
            store.approve(&req.request_id, T0 + PENDING_TTL_MS + 1),
            Err(PairingStoreError::UnknownRequestId(_))
        ));
        // Asking again after expiry is a new request.
        let (fresh, is_new) = store
            .request(input(OPERATOR_ROLE, &[]), T0 + PENDING_TTL_MS + 1)
            .unwrap();
        assert!(is_new);
        assert_ne!(fresh.request_id, req.request_id);

        let (node_req, _) = store.node_request(node_input(&[]), T0).unwrap();
        assert!(store.node_list(T0 + PENDING_TTL_MS + 1).pending.is_empty());
        assert_eq!(store.prune_expired(T0 + 2 * PENDING_TTL_MS + 2).unwrap(), 2);
        assert!(
            read_json(&store.paths().devices_pending)
                .as_object()
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            store.node_approve(&node_req.request_id, T0 + 1),
            Err(PairingStoreError::UnknownRequestId(_))
        ));
    }

    #[test]
    fn approving_an_expired_request_fails_even_if_not_yet_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
        let err = store
            .node_approve(&req.request_id, T0 + PENDING_TTL_MS + 1)
            .unwrap_err();
        assert_eq!(err.to_string(), "unknown requestId");
        assert!(!store.node_verify("node-1", ""));
    }

    #[test]
    fn check_detects_role_and_scope_upgrades_with_operator_implications() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.write"], T0);
        let check = |store: &PairingStore, role: &str, scopes: &[&str]| {
            store.check(DEVICE, KEY, role, &s(scopes))
        };
        assert_eq!(check(&store, OPERATOR_ROLE, &[]), PairingCheck::Paired);
        assert_eq!(
            check(&store, OPERATOR_ROLE, &["operator.read"]),
            PairingCheck::Paired,
            "write implies read"
        );
        let upgrade = check(&store, OPERATOR_ROLE, &["operator.read", "operator.admin"]);
        assert_eq!(
            upgrade,
            PairingCheck::ScopeUpgrade {
                approved_scopes: s(&["operator.write"]),
                missing_scope: "operator.admin".to_owned(),
            }
        );
        assert_eq!(upgrade.reason(), Some("scope-upgrade"));
        let role = check(&store, "node", &[]);
        assert_eq!(
            role,
            PairingCheck::RoleUpgrade {
                approved_roles: s(&[OPERATOR_ROLE])
            }
        );
        assert_eq!(role.reason(), Some("role-upgrade"));
        assert_eq!(PairingCheck::NotPaired.reason(), Some("not-paired"));
        assert_eq!(PairingCheck::Paired.reason(), None);

        // admin covers every operator scope
        let (req, _) = store
            .request(input(OPERATOR_ROLE, &["operator.admin"]), T0 + 1)
            .unwrap();
        assert_eq!(req.is_repair, Some(true));
        store.approve(&req.request_id, T0 + 1).unwrap();
        assert_eq!(
            check(
                &store,
                OPERATOR_ROLE,
                &["operator.pairing", "operator.talk.secrets"]
            ),
            PairingCheck::Paired
        );
        assert!(matches!(
            check(&store, OPERATOR_ROLE, &["node.something"]),
            PairingCheck::ScopeUpgrade { .. }
        ));
    }

    #[test]
    fn a_different_public_key_for_a_paired_id_needs_pairing_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read"], T0);
        let check = store.check(DEVICE, "other-key", OPERATOR_ROLE, &[]);
        assert_eq!(check, PairingCheck::PublicKeyMismatch);
        assert_eq!(check.reason(), Some("not-paired"));
        assert!(!check.is_paired());

        let mut repair = input(OPERATOR_ROLE, &["operator.read"]);
        repair.public_key = "other-key".to_owned();
        let (req, is_new) = store.request(repair, T0 + 1).unwrap();
        assert!(is_new);
        assert_eq!(req.is_repair, Some(true));
        let device = store.approve(&req.request_id, T0 + 2).unwrap();
        assert_eq!(device.public_key, "other-key");
        assert_eq!(device.created_at_ms, T0);
        assert_eq!(
            store.check(DEVICE, "other-key", OPERATOR_ROLE, &s(&["operator.read"])),
            PairingCheck::Paired
        );
        assert_eq!(
            store.check(DEVICE, KEY, OPERATOR_ROLE, &[]),
            PairingCheck::PublicKeyMismatch
        );
    }

    #[test]
    fn approval_merges_roles_and_scopes_and_keeps_other_roles_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read"], T0);
        let operator = store
            .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.read"]), T0)
            .unwrap();
        store.rename_device(DEVICE, "Owner's name").unwrap();

        let (req, _) = store.request(input("node", &[]), T0 + 1).unwrap();
        assert_eq!(req.roles, Some(s(&["node"])));
        let device = store.approve(&req.request_id, T0 + 2).unwrap();
        assert_eq!(device.roles, s(&["node", OPERATOR_ROLE]));
        assert_eq!(device.approved_scopes, s(&["operator.read"]));
        assert_eq!(device.role.as_deref(), Some("node"));
        assert_eq!(device.display_name.as_deref(), Some("Owner's name"));
        assert_eq!(
            device
                .tokens
                .iter()
                .map(|t| t.role.as_str())
                .collect::<Vec<_>>(),
            vec!["node", OPERATOR_ROLE]
        );
        assert_eq!(
            store.verify_token(
                DEVICE,
                OPERATOR_ROLE,
                operator.token.expose_secret(),
                &s(&["operator.read"])
            ),
            TokenCheck::Valid
        );
        assert_eq!(store.check(DEVICE, KEY, "node", &[]), PairingCheck::Paired);
    }

    #[test]
    fn reject_drops_the_request_and_unknown_ids_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (req, _) = store.request(input(OPERATOR_ROLE, &[]), T0).unwrap();
        let rejected = store.reject(&req.request_id).unwrap();
        assert_eq!(rejected, req);
        assert!(store.list(T0).pending.is_empty());
        assert!(store.list(T0).paired.is_empty());
        let err = store.reject(&req.request_id).unwrap_err();
        assert!(
            matches!(err, PairingStoreError::UnknownRequestId(ref id) if *id == req.request_id)
        );
        assert_eq!(err.to_string(), "unknown requestId");
        assert_eq!(
            store.check(DEVICE, KEY, OPERATOR_ROLE, &[]),
            PairingCheck::NotPaired
        );
    }

    #[test]
    fn remove_device_unpairs_it_and_drops_its_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read"], T0);
        let token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
        let removed = store.remove_device(DEVICE).unwrap();
        assert_eq!(removed.device_id, DEVICE);
        assert_eq!(
            store.verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &[]),
            TokenCheck::DeviceNotPaired
        );
        assert_eq!(
            store.check(DEVICE, KEY, OPERATOR_ROLE, &[]),
            PairingCheck::NotPaired
        );
        let err = store.remove_device(DEVICE).unwrap_err();
        assert_eq!(err.to_string(), "unknown deviceId");
        assert!(store.get_device(DEVICE).is_none());
    }

    #[test]
    fn rename_device_trims_and_refuses_empty_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &[], T0);
        let device = store.rename_device(DEVICE, "  Work laptop ").unwrap();
        assert_eq!(device.display_name.as_deref(), Some("Work laptop"));
        assert!(matches!(
            store.rename_device(DEVICE, "   "),
            Err(PairingStoreError::DisplayNameRequired)
        ));
        assert!(matches!(
            store.rename_device("nope", "x"),
            Err(PairingStoreError::UnknownDeviceId(_))
        ));
        assert_eq!(
            store.get_device(DEVICE).unwrap().display_name.as_deref(),
            Some("Work laptop")
        );
    }

    #[test]
    fn rotating_a_token_invalidates_the_old_one_and_never_widens_approval() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read", "operator.write"], T0);
        let old = store
            .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.write"]), T0)
            .unwrap();
        let new = store
            .rotate_token(DEVICE, OPERATOR_ROLE, None, T0 + 5)
            .unwrap();
        assert_ne!(new.token.expose_secret(), old.token.expose_secret());
        assert_eq!(
            new.scopes, old.scopes,
            "scopes kept without an explicit list"
        );
        assert_eq!(new.issued_at_ms, T0 + 5);
        assert_eq!(
            store.verify_token(DEVICE, OPERATOR_ROLE, old.token.expose_secret(), &[]),
            TokenCheck::TokenMismatch
        );
        assert_eq!(
            store.verify_token(DEVICE, OPERATOR_ROLE, new.token.expose_secret(), &[]),
            TokenCheck::Valid
        );
        let summary = &store.get_device(DEVICE).unwrap().tokens[0];
        assert_eq!(summary.created_at_ms, T0);
        assert_eq!(summary.rotated_at_ms, Some(T0 + 5));

        assert!(matches!(
            store.rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.admin"])), T0 + 6),
            Err(PairingStoreError::ScopeNotApproved { scope }) if scope == "operator.admin"
        ));
        let narrowed = store
            .rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.read"])), T0 + 7)
            .unwrap();
        assert_eq!(narrowed.scopes, s(&["operator.read"]));
        // Narrowing the token does not narrow what the device may ask for.
        assert_eq!(
            store.check(DEVICE, KEY, OPERATOR_ROLE, &s(&["operator.write"])),
            PairingCheck::Paired
        );
        assert!(matches!(
            store.rotate_token(DEVICE, "node", None, T0),
            Err(PairingStoreError::RoleNotApproved { .. })
        ));
    }

    #[test]
    fn revoking_a_token_makes_it_fail_until_a_new_one_is_issued() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read"], T0);
        let token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
        let summary = store.revoke_token(DEVICE, OPERATOR_ROLE, T0 + 9).unwrap();
        assert_eq!(summary.revoked_at_ms, Some(T0 + 9));
        assert_eq!(
            store.verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &[]),
            TokenCheck::TokenRevoked
        );
        assert_eq!(TokenCheck::TokenRevoked.reason(), Some("token-revoked"));
        let fresh = store
            .ensure_token(DEVICE, OPERATOR_ROLE, &[], T0 + 10)
            .unwrap();
        assert_ne!(fresh.token.expose_secret(), token.token.expose_secret());
        assert!(
            store
                .verify_token(DEVICE, OPERATOR_ROLE, fresh.token.expose_secret(), &[])
                .is_valid()
        );
        assert!(
            store.get_device(DEVICE).unwrap().tokens[0]
                .revoked_at_ms
                .is_none()
        );
        assert!(matches!(
            store.revoke_token(DEVICE, "node", T0),
            Err(PairingStoreError::UnknownToken { role }) if role == "node"
        ));
        assert!(matches!(
            store.revoke_token("nope", OPERATOR_ROLE, T0),
            Err(PairingStoreError::UnknownDeviceId(_))
        ));
    }

    #[test]
    fn verify_token_tells_a_wrong_token_from_a_scope_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read", "operator.admin"], T0);
        let token = store
            .rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.read"])), T0)
            .unwrap();
        let secret = token.token.expose_secret();
        let mut wrong = secret.to_owned();
        wrong.replace_range(0..1, if secret.starts_with('A') { "B" } else { "A" });
        assert_eq!(
            store.verify_token(DEVICE, OPERATOR_ROLE, &wrong, &[]),
            TokenCheck::TokenMismatch
        );
        assert_eq!(
            store.verify_token(DEVICE, OPERATOR_ROLE, "", &[]),
            TokenCheck::TokenMismatch
        );
        let scope = store.verify_token(DEVICE, OPERATOR_ROLE, secret, &s(&["operator.admin"]));
        assert_eq!(
            scope,
            TokenCheck::ScopeMismatch {
                missing_scope: "operator.admin".to_owned()
            }
        );
        assert_eq!(scope.reason(), Some("scope-mismatch"));
        assert_eq!(
            store.verify_token(DEVICE, "node", secret, &[]),
            TokenCheck::TokenMissing
        );
        assert_eq!(
            store.verify_token("nope", OPERATOR_ROLE, secret, &[]),
            TokenCheck::DeviceNotPaired
        );
    }

    #[test]
    fn lists_views_and_debug_output_never_contain_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let approved = pair(&mut store, &["operator.read"], T0);
        let device_token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
        let (node_req, _) = store
            .node_request(node_input(&["camera.snap"]), T0)
            .unwrap();
        let node = store.node_approve(&node_req.request_id, T0).unwrap();
        store.request(input("node", &[]), T0 + 1).unwrap();

        let secrets = [
            device_token.token.expose_secret().to_owned(),
            node.token.expose_secret().to_owned(),
        ];
        let outputs = [
            serde_json::to_string(&store.list(T0 + 1)).unwrap(),
            serde_json::to_string(&store.node_list(T0 + 1)).unwrap(),
            serde_json::to_string(&approved).unwrap(),
            serde_json::to_string(&node.node).unwrap(),
            format!("{store:?}"),
            format!("{device_token:?}"),
            format!("{node:?}"),
        ];
        for output in &outputs {
            for secret in &secrets {
                assert!(
                    !output.contains(secret.as_str()),
                    "token leaked in {output}"
                );
            }
            assert!(!output.contains("\"token\""), "token field in {output}");
        }
        // The files do hold them.
        let paired = fs::read_to_string(&store.paths().devices_paired).unwrap();
        assert!(paired.contains(secrets[0].as_str()));
        let nodes = fs::read_to_string(&store.paths().nodes_paired).unwrap();
        assert!(nodes.contains(secrets[1].as_str()));
    }

    #[cfg(unix)]
    #[test]
    fn files_are_0600_and_directories_0700() {
        use crate::atomic_write::file_mode;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let mut store = PairingStore::open(&state).unwrap();
        assert!(!state.exists(), "opening creates nothing");
        pair(&mut store, &[], T0);
        let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
        store.node_approve(&req.request_id, T0).unwrap();
        let paths = store.paths().clone();
        for d in [&state, &paths.devices_dir, &paths.nodes_dir] {
            assert_eq!(file_mode(d), Some(0o700), "{}", d.display());
        }
        for f in [
            &paths.devices_pending,
            &paths.devices_paired,
            &paths.nodes_pending,
            &paths.nodes_paired,
        ] {
            assert_eq!(file_mode(f), Some(0o600), "{}", f.display());
        }
        // No temp files left behind.
        assert_eq!(fs::read_dir(&paths.devices_dir).unwrap().count(), 2);
    }

    #[test]
    fn everything_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &["operator.read"], T0);
        let token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
        store.request(input("node", &[]), T0 + 1).unwrap();
        let (node_req, _) = store.node_request(node_input(&["x"]), T0).unwrap();
        let node = store.node_approve(&node_req.request_id, T0).unwrap();
        let mut other = node_input(&[]);
        other.node_id = "node-2".to_owned();
        store.node_request(other, T0 + 2).unwrap();

        let reloaded = open(&dir);
        assert_eq!(reloaded.list(T0 + 3), store.list(T0 + 3));
        assert_eq!(reloaded.node_list(T0 + 3), store.node_list(T0 + 3));
        assert_eq!(reloaded.list(T0 + 3).pending.len(), 1);
        assert_eq!(reloaded.node_list(T0 + 3).pending.len(), 1);
        assert!(
            reloaded
                .verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &[])
                .is_valid()
        );
        assert!(reloaded.node_verify("node-1", node.token.expose_secret()));
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it_and_is_left_untouched() {
        for (name, content) in [
            ("devices/paired.json", "{ not json"),
            ("devices/pending.json", "[]"),
            ("nodes/paired.json", "{\"n\": {\"nodeId\": \"n\"}}"),
            ("nodes/pending.json", ""),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, content).unwrap();
            let err = PairingStore::open(dir.path()).unwrap_err();
            assert!(
                matches!(err, PairingStoreError::Corrupt { .. }),
                "{name}: {err}"
            );
            let message = err.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("Move it aside"), "{message}");
            assert_eq!(fs::read_to_string(&path).unwrap(), content);
        }
    }

    #[test]
    fn a_failed_write_changes_nothing_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        pair(&mut store, &[], T0);
        // A non-empty directory where pending.json goes makes the rename fail.
        let blocker = store.paths().devices_pending.clone();
        fs::remove_file(&blocker).unwrap();
        fs::create_dir(&blocker).unwrap();
        fs::write(blocker.join("keep"), "x").unwrap();
        let err = store.request(input("node", &[]), T0).unwrap_err();
        assert!(matches!(err, PairingStoreError::Write { .. }), "{err}");
        assert!(err.to_string().contains("pending.json"));
        assert!(store.list(T0).pending.is_empty());
    }

    #[test]
    fn upstream_files_load_and_unknown_fields_survive_a_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let devices = dir.path().join("devices");
        fs::create_dir_all(&devices).unwrap();
        let upstream = serde_json::json!({
            "d9": {
                "deviceId": "d9", "publicKey": "k9", "displayName": "mac",
                "platform": "darwin", "clientId": "openclaw-macos", "clientMode": "ui",
                "role": "operator", "roles": ["operator"],
                "scopes": ["operator.admin"], "approvedScopes": ["operator.admin"],
                "tokens": { "operator": {
                    "token": "tok-9", "role": "operator", "scopes": ["operator.admin"],
                    "createdAtMs": 5, "lastUsedAtMs": 7, "futureTokenField": 1 } },
                "createdAtMs": 5, "approvedAtMs": 6,
                "futureField": { "nested": true }
            }
        });
        fs::write(devices.join("paired.json"), upstream.to_string()).unwrap();
        let mut store = open(&dir);
        assert_eq!(
            store.check("d9", "k9", OPERATOR_ROLE, &s(&["operator.pairing"])),
            PairingCheck::Paired
        );
        assert!(
            store
                .verify_token("d9", OPERATOR_ROLE, "tok-9", &s(&["operator.read"]))
                .is_valid()
        );
        let token = store.ensure_token("d9", OPERATOR_ROLE, &[], 10).unwrap();
        assert_eq!(token.issued_at_ms, 5);

        store.rename_device("d9", "Mac mini").unwrap();
        let written = read_json(&store.paths().devices_paired);
        assert_eq!(written["d9"]["futureField"]["nested"], true);
        assert_eq!(written["d9"]["displayName"], "Mac mini");
        assert_eq!(written["d9"]["tokens"]["operator"]["futureTokenField"], 1);
        assert_eq!(written["d9"]["tokens"]["operator"]["lastUsedAtMs"], 7);
        assert_eq!(written["d9"]["tokens"]["operator"]["token"], "tok-9");
        assert_eq!(written["d9"]["approvedAtMs"], 6);
    }

    #[test]
    fn request_inputs_need_ids_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let mut no_id = input(OPERATOR_ROLE, &[]);
        no_id.device_id = "  ".to_owned();
        assert!(matches!(
            store.request(no_id, T0),
            Err(PairingStoreError::DeviceIdRequired)
        ));
        let mut no_key = input(OPERATOR_ROLE, &[]);
        no_key.public_key = String::new();
        assert!(matches!(
            store.request(no_key, T0),
            Err(PairingStoreError::PublicKeyRequired)
        ));
        let mut no_node = node_input(&[]);
        no_node.node_id = String::new();
        assert!(matches!(
            store.node_request(no_node, T0),
            Err(PairingStoreError::NodeIdRequired)
        ));
        assert!(!dir.path().join("devices").exists());
    }

    #[test]
    fn silent_requests_stay_interactive_once_an_owner_was_prompted() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (first, _) = store.request(input(OPERATOR_ROLE, &[]), T0).unwrap();
        assert_eq!(first.silent, None);
        let mut silent = input(OPERATOR_ROLE, &[]);
        silent.silent = true;
        let (again, _) = store.request(silent, T0 + 1).unwrap();
        assert_eq!(again.request_id, first.request_id);
        assert_eq!(again.silent, None);
    }

    #[test]
    fn node_pairing_flow_issues_a_token_that_only_it_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (req, is_new) = store
            .node_request(node_input(&["camera.snap", "canvas.present"]), T0)
            .unwrap();
        assert!(is_new);
        assert_eq!(req.is_repair, Some(false));
        let mut refresh = node_input(&["canvas.present", "camera.snap"]);
        refresh.version = Some("1.2.3".to_owned());
        let (same, is_new) = store.node_request(refresh, T0 + 1).unwrap();
        assert!(!is_new);
        assert_eq!(same.request_id, req.request_id);
        assert_eq!(same.version.as_deref(), Some("1.2.3"));
        assert_eq!(same.ts, T0 + 1);
        let listed = store.node_list(T0 + 1);
        assert_eq!(listed.pending, vec![same.clone()]);
        assert!(listed.paired.is_empty());

        let approval = store.node_approve(&req.request_id, T0 + 2).unwrap();
        assert_eq!(approval.node.node_id, "node-1");
        assert_eq!(approval.node.version.as_deref(), Some("1.2.3"));
        assert_eq!(approval.node.approved_at_ms, T0 + 2);
        let token = approval.token.expose_secret().to_owned();
        assert_eq!(token.len(), 43);
        assert!(store.node_verify("node-1", &token));
        assert!(!store.node_verify("node-1", "wrong"));
        assert!(!store.node_verify("node-1", ""));
        assert!(!store.node_verify("node-2", &token));
        assert!(store.node_list(T0 + 2).pending.is_empty());
        assert_eq!(store.node_list(T0 + 2).paired, vec![approval.node.clone()]);
        assert_eq!(store.get_node("node-1"), Some(approval.node.clone()));

        // Pairing again (repair) issues a new token; the old one stops working.
        let (repair, is_new) = store
            .node_request(node_input(&["camera.snap"]), T0 + 3)
            .unwrap();
        assert!(is_new);
        assert_eq!(repair.is_repair, Some(true));
        let second = store.node_approve(&repair.request_id, T0 + 4).unwrap();
        assert_eq!(second.node.created_at_ms, T0 + 2);
        assert!(!store.node_verify("node-1", &token));
        assert!(store.node_verify("node-1", second.token.expose_secret()));
    }

    #[test]
    fn a_node_declaring_other_commands_supersedes_its_pending_request() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (first, _) = store
            .node_request(node_input(&["camera.snap"]), T0)
            .unwrap();
        let (second, is_new) = store
            .node_request(node_input(&["system.run"]), T0 + 1)
            .unwrap();
        assert!(is_new);
        assert_ne!(second.request_id, first.request_id);
        assert_eq!(store.node_list(T0 + 1).pending, vec![second]);
        assert!(matches!(
            store.node_reject(&first.request_id),
            Err(PairingStoreError::UnknownRequestId(_))
        ));
    }

    #[test]
    fn node_reject_rename_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
        assert_eq!(store.node_reject(&req.request_id).unwrap(), req);
        assert!(store.node_list(T0).pending.is_empty());
        assert!(store.node_list(T0).paired.is_empty());

        let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
        let approval = store.node_approve(&req.request_id, T0).unwrap();
        let renamed = store.node_rename("node-1", " Kitchen iPad ").unwrap();
        assert_eq!(renamed.display_name.as_deref(), Some("Kitchen iPad"));
        assert!(matches!(
            store.node_rename("node-1", ""),
            Err(PairingStoreError::DisplayNameRequired)
        ));
        let err = store.node_rename("nope", "x").unwrap_err();
        assert_eq!(err.to_string(), "unknown nodeId");
        // An owner's name survives a re-approval.
        let (again, _) = store.node_request(node_input(&["x"]), T0 + 1).unwrap();
        let reapproved = store.node_approve(&again.request_id, T0 + 1).unwrap();
        assert_eq!(
            reapproved.node.display_name.as_deref(),
            Some("Kitchen iPad")
        );

        let removed = store.node_remove("node-1").unwrap();
        assert_eq!(removed.node_id, "node-1");
        assert!(!store.node_verify("node-1", approval.token.expose_secret()));
        assert!(!store.node_verify("node-1", reapproved.token.expose_secret()));
        assert!(matches!(
            store.node_remove("node-1"),
            Err(PairingStoreError::UnknownNodeId(_))
        ));
        assert!(open(&dir).node_list(T0).paired.is_empty());
    }
}
