//! The node ledger's records: requests, paired nodes, approvals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::*;

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
pub(super) struct StoredNode {
    pub(super) node_id: String,
    pub(super) token: SecretToken,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) core_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) ui_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) model_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) caps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) commands: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) permissions: Option<BTreeMap<String, bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) remote_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) bins: Option<Vec<String>>,
    pub(super) created_at_ms: u64,
    pub(super) approved_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_connected_at_ms: Option<u64>,
    /// Fields written by other OpenClaw versions, kept verbatim.
    #[serde(flatten)]
    pub(super) extra: Map<String, Value>,
}

impl StoredNode {
    pub(super) fn view(&self) -> PairedNode {
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
