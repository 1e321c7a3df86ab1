//! The agent runtime (agent-runtime.md §1–§5): what the config says about agents and models
//! ([`catalog`]), the prompt ([`prompt`]), a session's runs in order ([`lanes`]), one run from queue to answer ([`turn`]), its events
//! ([`events`]), and the runs of the gateway ([`runtime`]).

pub mod catalog;
#[cfg(test)]
mod catalog_tests;
pub mod events;
mod lanes;
pub mod loading;
pub mod prompt;
pub mod runtime;
pub mod system_events;
mod turn;

pub use self::runtime::{AgentRuntime, RunHandle, RunSummary, StartError, TurnRequest};
