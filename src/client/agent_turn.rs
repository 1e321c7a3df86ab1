//! One agent turn from the CLI's side: send `agent`, pass the answer's text to the caller as it
//! streams (`agent` events of this run), ask `chat.abort` when the caller is interrupted, and
//! return the final answer.

use std::future::Future;

use serde_json::{Value, json};

use super::connection::{GatewayClient, RpcError};

/// What to ask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnOptions {
    /// The message.
    pub message: String,
    /// The agent (else the gateway's default).
    pub agent_id: Option<String>,
    /// The session key (else the agent's main session).
    pub session_key: Option<String>,
    /// The turn's budget in seconds (0 = none; else the agent's).
    pub timeout_seconds: Option<u64>,
    /// The run id (idempotency key).
    pub run_id: String,
}

/// Runs the turn; `on_text` gets every piece of answer text, `interrupted` resolving sends
/// `chat.abort` for the run (once) and the turn goes on to its (aborted) final answer.
pub async fn run_turn(
    client: &mut GatewayClient,
    options: &TurnOptions,
    mut on_text: impl FnMut(&str),
    interrupted: impl Future<Output = ()>,
) -> Result<Value, RpcError> {
    let mut params = json!({"message": options.message, "idempotencyKey": options.run_id});
    if let Some(a) = &options.agent_id {
        params["agentId"] = json!(a);
    }
    if let Some(k) = &options.session_key {
        params["sessionKey"] = json!(k);
    }
    if let Some(t) = options.timeout_seconds {
        params["timeout"] = json!(t);
    }
    let id = client.send_request("agent", params).await?;
    let mut session_key = None;
    tokio::pin!(interrupted);
    let mut abort_sent = false;
    loop {
        let frame = tokio::select! {
            frame = client.next_frame() => frame?,
            () = &mut interrupted, if !abort_sent => {
                abort_sent = true;
                let key = session_key.clone().unwrap_or_default();
                client
                    .send_request("chat.abort", json!({"sessionKey": key, "runId": options.run_id}))
                    .await?;
                continue;
            }
        };
        if frame["type"] == "event" {
            let p = &frame["payload"];
            if frame["event"] == "agent"
                && p["runId"] == options.run_id.as_str()
                && p["stream"] == "assistant"
            {
                if let Some(delta) = p["data"]["delta"].as_str() {
                    on_text(delta);
                }
            }
            continue;
        }
        if frame["type"] != "res" || frame["id"] != id.as_str() {
            continue;
        }
        if frame["ok"] == true && frame["payload"]["status"] == "accepted" {
            session_key = frame["payload"]["sessionKey"].as_str().map(str::to_owned);
            continue;
        }
        return GatewayClient::response_payload(frame);
    }
}
