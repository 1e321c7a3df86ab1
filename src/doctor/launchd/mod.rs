//! Doctor on launchd: the audit of an installed LaunchAgent (`audit`) and its repairs (`repair`).

pub mod audit;
pub mod repair;
