//! OpenClaw: the Gateway service and the toolkit that supervises it.
//!
//! Foundation modules: [`environment`] (explicit env snapshot), [`profile`], [`paths`], [`ports`],
//! [`service_names`], [`config`], [`atomic_write`], [`logging`]; the command line (clap, terminal
//! output, exit codes, one module per command) in [`cli`]; first-run set-up in [`setup`].

pub mod atomic_write;
pub mod cli;
pub mod client;
pub mod config;
pub mod contract;
pub mod doctor;
pub mod environment;
pub mod gateway;
pub mod invocation;
pub mod logging;
pub mod paths;
pub mod platform;
pub mod ports;
pub mod profile;
pub mod protocol;
pub mod service;
pub mod service_names;
pub mod setup;
