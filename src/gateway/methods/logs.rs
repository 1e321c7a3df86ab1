//! `logs.tail`: pages of the gateway's file log.

use std::sync::Arc;

use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value, json};

use crate::gateway::logs_tail::{DEFAULT_LIMIT, DEFAULT_MAX_BYTES, resolve_log_file, tail};
use crate::gateway::state::GatewayState;
use crate::protocol::errors::GatewayError;

pub(super) fn logs_tail(
    state: &Arc<GatewayState>,
    params: &Map<String, Value>,
) -> Result<Box<RawValue>, GatewayError> {
    let cursor = params.get("cursor").and_then(Value::as_u64);
    let limit = params
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |l| l as usize);
    let max_bytes = params
        .get("maxBytes")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_BYTES);
    let Some(current) = &state.log_file else {
        let empty = json!({"file": "", "cursor": 0, "size": 0, "lines": [], "truncated": false, "reset": false});
        return to_raw_value(&empty).map_err(|e| GatewayError::unavailable(e.to_string()));
    };
    let file = resolve_log_file(current);
    let result = tail(&file, cursor, limit, max_bytes)
        .map_err(|e| GatewayError::unavailable(format!("log read failed: {e}")))?;
    to_raw_value(&result).map_err(|e| GatewayError::unavailable(e.to_string()))
}
