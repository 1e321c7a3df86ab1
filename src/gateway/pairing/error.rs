//! What a pairing operation can fail with.

use std::io;
use std::path::PathBuf;

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
pub(super) type Result<T, E = PairingStoreError> = std::result::Result<T, E>;
