//! The gateway wire protocol: frames, handshake payloads, error shapes and constants.
//!
//! Shared by the gateway (server side) and the CLI's client. The JSON Schemas in `schemas/`
//! describe the same shapes; tests check that the two agree.

pub mod connect;
pub mod constants;
pub mod errors;
pub mod frames;
pub mod schema_validation;
