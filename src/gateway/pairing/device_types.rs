//! The device ledger's records: requests, paired devices, their tokens, check results.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::*;

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
pub(super) struct StoredDevice {
    pub(super) device_id: String,
    pub(super) public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) client_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) approved_scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) remote_ip: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) tokens: BTreeMap<String, StoredDeviceToken>,
    pub(super) created_at_ms: u64,
    pub(super) approved_at_ms: u64,
    /// Fields written by other OpenClaw versions, kept verbatim.
    #[serde(flatten)]
    pub(super) extra: Map<String, Value>,
}

/// A value of `tokens` in a paired device record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoredDeviceToken {
    pub(super) token: SecretToken,
    pub(super) role: String,
    #[serde(default)]
    pub(super) scopes: Vec<String>,
    pub(super) created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rotated_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) revoked_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_used_at_ms: Option<u64>,
    #[serde(flatten)]
    pub(super) extra: Map<String, Value>,
}

impl StoredDevice {
    pub(super) fn approved_roles(&self) -> Vec<String> {
        union([self.roles.as_deref(), self.role.as_slice().into()])
    }

    pub(super) fn approved_scope_ceiling(&self) -> Vec<String> {
        normalize_scopes(
            self.approved_scopes
                .as_deref()
                .or(self.scopes.as_deref())
                .unwrap_or_default(),
        )
    }

    pub(super) fn view(&self) -> PairedDevice {
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
    pub(super) fn summary(&self) -> DeviceTokenSummary {
        DeviceTokenSummary {
            role: self.role.clone(),
            scopes: self.scopes.clone(),
            created_at_ms: self.created_at_ms,
            rotated_at_ms: self.rotated_at_ms,
            revoked_at_ms: self.revoked_at_ms,
            last_used_at_ms: self.last_used_at_ms,
        }
    }

    pub(super) fn issued(&self) -> DeviceToken {
        DeviceToken {
            token: self.token.clone(),
            role: self.role.clone(),
            scopes: self.scopes.clone(),
            issued_at_ms: self.rotated_at_ms.unwrap_or(self.created_at_ms),
        }
    }

    /// A fresh token for `role`, replacing `previous` (whose creation time and use are kept).
    pub(super) fn issue(
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
