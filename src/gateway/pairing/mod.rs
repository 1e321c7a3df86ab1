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

use std::path::{Path, PathBuf};

mod device_types;
mod devices;
mod error;
mod ledger;
mod node_types;
mod nodes;
mod rules;
mod secret_token;
#[cfg(test)]
mod tests;
mod tokens;

pub use device_types::*;
pub use error::*;
use ledger::Ledger;
pub use node_types::*;
use rules::*;
pub use secret_token::*;

/// How long a pending pairing request stays valid after its `ts`: 5 minutes.
pub const PENDING_TTL_MS: u64 = 5 * 60 * 1000;
/// Random bytes in a device or node token (encoded as base64url, 43 characters).
pub const TOKEN_BYTES: usize = 32;
/// The operator role.
pub const OPERATOR_ROLE: &str = "operator";

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

/// Device and node pairing state, loaded from and persisted to the state directory.
#[derive(Debug)]
pub struct PairingStore {
    paths: PairingPaths,
    devices: Ledger<DevicePendingRequest, StoredDevice>,
    nodes: Ledger<NodePendingRequest, StoredNode>,
}

impl PairingStore {
    /// Loads the store from `state_dir`. Missing files are empty; nothing is created until the
    /// first mutation. A corrupt file is an error and is left untouched.
    pub fn open(state_dir: &Path) -> Result<Self> {
        let paths = PairingPaths::new(state_dir);
        Ok(Self {
            devices: Ledger::open(
                paths.devices_dir.clone(),
                PairingStoreError::UnknownDeviceId,
            )?,
            nodes: Ledger::open(paths.nodes_dir.clone(), PairingStoreError::UnknownNodeId)?,
            paths,
        })
    }

    /// The store's file locations.
    pub fn paths(&self) -> &PairingPaths {
        &self.paths
    }

    /// Drops expired pending device and node requests; returns how many were dropped.
    pub fn prune_expired(&mut self, now_ms: u64) -> Result<usize> {
        Ok(self.devices.prune_expired(now_ms)? + self.nodes.prune_expired(now_ms)?)
    }
}

// ---------------------------------------------------------------------------------------------
