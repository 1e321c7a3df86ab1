//! The agent runtime (agent-runtime.md §1–§5): what the config says about agents and models
//! ([`catalog`]).

pub mod catalog;
#[cfg(test)]
mod catalog_tests;
