//! The CLI's side of the gateway protocol, used by the commands and by `doctor`: where the
//! gateway is and with which credentials ([`target`]), a connected client ([`connection`]),
//! the status probe ([`probe`]), one agent turn ([`agent_turn`]).
//! Imports nothing of `cli`; failures are typed ([`TargetError`], [`RpcError`]) and the CLI
//! chooses the exit codes.

pub mod agent_turn;
pub mod connection;
pub mod dashboard;
pub mod probe;
pub mod target;

pub use connection::{ConnectAs, GatewayClient, RpcError, with_client};
pub use target::{RpcTarget, TargetError, TargetOptions, resolve_target};
