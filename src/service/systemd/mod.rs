//! The systemd backend: unit rendering ([`units`]).
//!
//! Placeholder module root of the `systemd-units` branch; the D-Bus executor's branch replaces
//! this file at merge time.

pub mod units;
