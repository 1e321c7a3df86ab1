//! The command line: the only layer that knows clap, terminal output and exit codes.
//!
//! [`args`] is the clap tree; [`dispatch`] turns a parsed line into a command; one module per
//! command family ([`gateway_run`], [`service`], [`rpc`], [`status`], [`packaging`]); each
//! converts its clap arguments into the plain option structs of the layer below (`client`,
//! `gateway`, `service`, `doctor`) and maps their results to an [`exit_status::ExitStatus`].

pub mod agent;
pub mod agent_args;
pub mod args;
pub mod dashboard;
pub mod dispatch;
pub mod doctor;
pub mod exit_status;
pub mod gateway_run;
pub mod output;
pub mod packaging;
pub mod rpc;
pub mod service;
pub mod setup;
pub mod status;

pub use agent_args::*;
pub use args::*;
pub use dispatch::run;
