//! [`Call`]: one method call as a handler sees it — the gateway's state, the calling connection
//! and the params (already authorized and checked against the method's schema) — with the
//! params readers handlers share.

use serde_json::{Map, Value};

use crate::gateway::registry::ConnInfo;
use crate::gateway::state::GatewayState;

/// One method call.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The gateway's shared state.
    pub state: &'a GatewayState,
    /// The calling connection.
    pub info: &'a ConnInfo,
    /// The params object (empty when the call sent none).
    pub params: &'a Map<String, Value>,
}

/// The string param `key` of `params`, trimmed; empty when absent or not a string.
pub fn param_text<'p>(params: &'p Map<String, Value>, key: &str) -> &'p str {
    params
        .get(key)
        .and_then(Value::as_str)
        .map_or("", str::trim)
}

impl<'a> Call<'a> {
    /// The string param `key`, trimmed; empty when absent or not a string.
    pub fn text(&self, key: &str) -> &'a str {
        param_text(self.params, key)
    }

    /// The string param `key`, trimmed; `None` when absent, blank or not a string.
    pub fn opt_text(&self, key: &str) -> Option<String> {
        Some(self.text(key))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// The string items of the array param `key`; `None` when it is not an array.
    pub fn strings(&self, key: &str) -> Option<Vec<String>> {
        self.params.get(key).and_then(Value::as_array).map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
    }
}
