//! The gateway process: one port serving HTTP and the WebSocket protocol.

pub mod canvas_host;
pub mod config_watch;
pub mod connection;
pub mod device_identity;
pub mod health;
pub mod http_routes;
pub mod logs_tail;
pub mod methods;
pub mod outbound;
pub mod pairing_store;
pub mod port_owner;
pub mod preauth_budget;
pub mod presence;
pub mod rate_limit;
pub mod registry;
pub mod reload_plan;
pub mod secret;
pub mod server;
pub mod settings;
pub mod state;
pub mod supervision;
