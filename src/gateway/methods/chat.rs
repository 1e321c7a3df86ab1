//! `chat.send` (an ack; the answer arrives as `chat` and `agent` events), `chat.history` and
//! `chat.abort` (agent-runtime.md §3.3).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::gateway::session::{Entry, EntryStatus, Role};
use crate::gateway::state::{GatewayState, now_ms};
use crate::protocol::errors::GatewayError;

use super::agent::{agent_id, session_key, start, turn_request};
use super::call::{Call, param_text};
use super::{Answer, answered};

/// Most entries one `chat.history` returns.
const HISTORY_MAX: usize = 1000;

/// `chat.send {sessionKey, message, idempotencyKey, agentId?, timeoutMs?}` → `{runId, status}`.
/// The run is accepted before this returns (runs sent on one connection keep their order).
pub fn send(state: &Arc<GatewayState>, params: &Map<String, Value>) -> Answer {
    let call_text = |k: &str| param_text(params, k).to_owned();
    let (run_id, message) = (call_text("idempotencyKey"), call_text("message"));
    if run_id.is_empty() || message.is_empty() || call_text("sessionKey").is_empty() {
        return answered(Err(GatewayError::invalid_request(
            "chat.send needs a non-empty sessionKey, message and idempotencyKey",
        )));
    }
    let timeout = params
        .get("timeoutMs")
        .and_then(Value::as_u64)
        .map(Duration::from_millis);
    let request = match turn_request(state, params, &run_id, message, timeout) {
        Ok(request) => request,
        Err(e) => return answered(Err(e)),
    };
    let cache = state.idempotency.clone();
    let state = state.clone();
    let accept = move || match start(&state, request) {
        Ok(Ok(h)) => Ok(json!({"runId": h.run_id, "status": "started"})),
        Ok(Err(h)) => Err((Ok(json!({"runId": h.run_id, "status": "in_flight"})), false)),
        Err(e) => Err((Err(e), false)),
    };
    let finish = |started: Value| std::future::ready((Ok(started), true));
    cache.run_accepting(&format!("chat.send:{run_id}"), now_ms, accept, finish)
}

fn history_message(e: &Entry) -> Value {
    let mut m = if e.role == Role::User {
        json!({"role": "user", "content": e.text, "timestamp": e.created_at})
    } else {
        json!({"role": "assistant", "content": [{"type": "text", "text": e.text}],
            "timestamp": e.created_at})
    };
    if let Some(model) = e.model.as_deref().and_then(|m| m.split_once('/')) {
        m["provider"] = json!(model.0);
        m["model"] = json!(model.1);
    }
    if let Some(usage) = &e.usage {
        m["usage"] = usage.clone();
    }
    match e.status {
        EntryStatus::Complete => {}
        EntryStatus::Aborted => m["stopReason"] = json!("aborted"),
        EntryStatus::Incomplete | EntryStatus::Error => m["stopReason"] = json!("error"),
    }
    if e.status != EntryStatus::Complete {
        m["incomplete"] = json!(true);
    }
    if let Some(detail) = &e.detail {
        m[if e.role == Role::Note {
            "label"
        } else {
            "errorMessage"
        }] = json!(detail);
    }
    m["__openclaw"] = json!({"runId": e.run_id, "seq": e.ordinal});
    m
}

/// `chat.history {sessionKey, agentId?, limit?, offset?}`: the newest entries of the session's
/// transcript (skipping the newest `offset`), oldest first.
pub fn history(call: &Call<'_>) -> Result<Value, GatewayError> {
    let agent_id = agent_id(call.state, call.params)?;
    let key = session_key(call.params, &agent_id);
    let limit = call
        .params
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(200, |l| (l as usize).clamp(1, HISTORY_MAX));
    let offset = call
        .params
        .get("offset")
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    let store = call
        .state
        .agents
        .store()
        .map_err(|e| GatewayError::unavailable(format!("sessions are unavailable: {e}")))?;
    let unavailable =
        |e: crate::gateway::session::StoreError| GatewayError::unavailable(e.to_string());
    let Some(session) = store.session(&key).map_err(unavailable)? else {
        return Ok(json!({"sessionKey": key, "messages": []}));
    };
    let page = store
        .transcript(&session.session_id, limit, offset)
        .map_err(unavailable)?;
    let messages: Vec<Value> = page.entries.iter().map(history_message).collect();
    let mut out = json!({"sessionKey": key, "sessionId": session.session_id, "messages": messages,
        "hasMore": page.has_more});
    if page.has_more {
        out["nextOffset"] = json!(offset + page.entries.len());
    }
    if let Some(level) = session.thinking_level {
        out["thinkingLevel"] = json!(level);
    }
    Ok(out)
}

/// `chat.abort {sessionKey, runId?}` → `{ok, aborted, runIds}`.
pub fn abort(call: &Call<'_>) -> Result<Value, GatewayError> {
    let agent_id = agent_id(call.state, call.params)?;
    let key = session_key(call.params, &agent_id);
    let run_id = call.opt_text("runId");
    let run_ids = call.state.agents.abort(&key, run_id.as_deref());
    Ok(json!({"ok": true, "aborted": !run_ids.is_empty(), "runIds": run_ids}))
}
