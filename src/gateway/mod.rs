//! The gateway process: one port serving HTTP and the WebSocket protocol.

pub mod connection;
pub mod device_identity;
pub mod health;
pub mod http_routes;
pub mod idempotency;
pub mod logs_tail;
pub mod methods;
pub mod node_catalog;
pub mod node_commands;
pub mod node_invoke;
pub mod outbound;
pub mod pairing_methods;
pub mod pairing_store;
pub mod preauth_budget;
pub mod presence;
pub mod rate_limit;
pub mod registry;
pub mod secret;
pub mod send_agent;
pub mod server;
pub mod settings;
pub mod state;
