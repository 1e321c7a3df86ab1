//! The gateway process: one port serving HTTP and the WebSocket protocol.

pub mod canvas_host;
pub mod config_watch;
pub mod connection;
pub mod device_identity;
pub mod health;
pub mod http_routes;
pub mod idempotency;
pub mod logs_tail;
pub mod methods;
pub mod node_commands;
pub mod origin_check;
pub mod outbound;
pub mod pairing;
pub mod port_owner;
pub mod preauth_budget;
pub mod preauth_limit;
pub mod presence;
pub mod rate_limit;
pub mod registry;
pub mod reload_plan;
pub mod server;
pub mod settings;
#[cfg(target_os = "linux")]
pub mod sock_diag;
pub mod state;
pub mod supervision;
