//! Doctor on systemd: the audit of an installed unit (`audit`) and its repairs (`repair`).

pub mod audit;
pub mod repair;
