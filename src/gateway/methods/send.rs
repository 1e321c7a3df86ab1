//! `send` and `agent`: honest answers from a gateway without channels or an agent runtime.
//!
//! Both require an `idempotencyKey` (params schema) and are deduplicated in the idempotency
//! cache under `send:<key>` / `agent:<key>`: a retry with the same key gets the same answer
//! without doing anything again.
//!
//! - `send` answers `NOT_LINKED "no channel is linked; configure a channel first"`.
//! - `agent` answers one final response: `ok:false`, payload `{runId, status:"error", summary}`
//!   (`runId` = the idempotency key) and error `UNAVAILABLE "no agent runtime is configured"`.
//!   There is no preceding `{status:"accepted"}` ack: clients that take the first response (the
//!   Swift client, TS clients without "expect final") would read an ack as a started run, and
//!   no run ever starts. The one frame is exactly the spec's final error frame, so TS clients
//!   waiting for the final answer get it too.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::gateway::state::{GatewayState, now_ms};
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::ErrorCode;

/// `send`'s message.
pub const NOT_LINKED_MESSAGE: &str = "no channel is linked; configure a channel first";
/// `agent`'s message.
pub const NO_RUNTIME_MESSAGE: &str = "no agent runtime is configured";

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

/// `agent`.
pub async fn agent(
    state: &Arc<GatewayState>,
    params: &Map<String, Value>,
) -> Result<Value, GatewayError> {
    let run_id = key(params);
    state
        .idempotency
        .run(&format!("agent:{run_id}"), now_ms, || async move {
            let error = GatewayError::unavailable(NO_RUNTIME_MESSAGE)
                .with_details(json!({"runId": run_id}))
                .with_payload(json!({
                    "runId": run_id,
                    "status": "error",
                    "summary": NO_RUNTIME_MESSAGE,
                }));
            (Err(error), true)
        })
        .await
}
