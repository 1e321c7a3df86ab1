//! `send`: an honest answer from a gateway without channels.
//!
//! It requires an `idempotencyKey` (params schema) and is deduplicated in the idempotency cache
//! under `send:<key>`: a retry with the same key gets the same answer without doing anything
//! again. It answers `NOT_LINKED "no channel is linked; configure a channel first"`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::gateway::state::{GatewayState, now_ms};
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::ErrorCode;

/// `send`'s message.
pub const NOT_LINKED_MESSAGE: &str = "no channel is linked; configure a channel first";

fn key(params: &Map<String, Value>) -> String {
    params
        .get("idempotencyKey")
        .and_then(Value::as_str)
        .map_or("", str::trim)
        .to_owned()
}

/// `send`.
pub async fn send(
    state: &Arc<GatewayState>,
    params: &Map<String, Value>,
) -> Result<Value, GatewayError> {
    let key = key(params);
    let channel = params
        .get("channel")
        .and_then(Value::as_str)
        .map(str::to_owned);
    state
        .idempotency
        .run(&format!("send:{key}"), now_ms, || async move {
            let mut details = json!({"code": "NOT_LINKED"});
            if let Some(channel) = channel {
                details["channel"] = json!(channel);
            }
            let error =
                GatewayError::new(ErrorCode::NotLinked, NOT_LINKED_MESSAGE).with_details(details);
            (Err(error), true)
        })
        .await
}
