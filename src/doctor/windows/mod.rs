//! Doctor on Task Scheduler: the audit of a scheduled task (`audit`) and its repairs (`repair`).

pub mod audit;
pub mod repair;
