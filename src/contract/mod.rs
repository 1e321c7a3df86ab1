//! The agreements between the gateway process, the service definitions that run it and the
//! clients that dial it. Kept below all three, so `service`, `client` and `doctor` never import
//! the server to learn them.

use std::time::Duration;

pub mod bind;
pub mod secret;

/// The `FileDescriptorName=` of the gateway's socket unit (the gateway takes only the sockets
/// passed under this name).
pub const SOCKET_NAME: &str = "gateway";

/// How long a stopping gateway drains (connections told, tasks finished) after SIGTERM before it
/// exits anyway; service definitions give it this plus a margin before they kill it.
pub const SHUTDOWN_BUDGET: Duration = Duration::from_secs(5);
