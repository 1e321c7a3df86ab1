//! OpenClaw: the Gateway service and the toolkit that supervises it.
//!
//! Foundation modules: [`environment`] (explicit env snapshot), [`profile`], [`paths`], [`ports`],
//! [`service_names`], [`config`], [`atomic_write`], [`logging`]; the command line in [`cli`] and
//! [`commands`]; first-run set-up in [`setup`]; the gateway process in [`gateway_run`]; the
//! files distribution packages ship in [`packaging_files`].

pub mod atomic_write;
pub mod cli;
pub mod commands;
pub mod config;
pub mod doctor;
pub mod environment;
pub mod exit_status;
pub mod gateway;
pub mod gateway_run;
pub mod invocation;
pub mod logging;
pub mod packaging_files;
pub mod paths;
pub mod ports;
pub mod profile;
pub mod protocol;
pub mod rpc_client;
pub mod rpc_commands;
pub mod service;
pub mod service_commands;
pub mod service_names;
pub mod setup;
pub mod status_command;
