//! The systemd backend: unit rendering ([`units`]) and install/uninstall plans ([`plan`]).
//!
//! Placeholder module root of the `systemd-units` branch; the D-Bus executor's branch replaces
//! this file at merge time.

pub mod plan;
pub mod units;
