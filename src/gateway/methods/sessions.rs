//! `sessions.list|patch|reset|delete` and `chat.inject` (agent-runtime.md §3.3) over the
//! session store.

use serde_json::{Value, json};

use crate::gateway::session::{SessionPatch, SessionStore, StoreError};
use crate::gateway::state::now_ms;
use crate::protocol::errors::GatewayError;

use super::call::Call;
use crate::gateway::session::scoped_key;

fn store<'a>(call: &Call<'a>) -> Result<&'a std::sync::Arc<SessionStore>, GatewayError> {
    call.state
        .agents
        .store()
        .map_err(|e| GatewayError::unavailable(format!("sessions are unavailable: {e}")))
}

fn store_error(e: StoreError) -> GatewayError {
    match e {
        StoreError::UnknownSession(key) => {
            GatewayError::invalid_request(format!("unknown session {key:?}"))
        }
        other => GatewayError::unavailable(other.to_string()),
    }
}

/// The session key a `key` param names (a bare key is the default agent's).
fn key_param(call: &Call<'_>, name: &str) -> Result<String, GatewayError> {
    let key = call.text(name);
    if key.is_empty() {
        return Err(GatewayError::invalid_request(format!("{name} is required")));
    }
    let agent = call
        .opt_text("agentId")
        .unwrap_or_else(|| "main".to_owned());
    Ok(scoped_key(key, &agent))
}

/// `sessions.list {limit?, offset?, agentId?, search?}`.
pub fn list(call: &Call<'_>) -> Result<Value, GatewayError> {
    let store = store(call)?;
    let limit = call
        .params
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(100, |l| (l as usize).clamp(1, 1000));
    let offset = call
        .params
        .get("offset")
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    let agent = call.opt_text("agentId");
    let search = call.opt_text("search");
    let (sessions, total) = store
        .list(agent.as_deref(), search.as_deref(), limit, offset)
        .map_err(store_error)?;
    let rows: Vec<Value> = sessions
        .iter()
        .map(|s| {
            let mut row = serde_json::to_value(s).unwrap_or_default();
            row["hasActiveRun"] = json!(call.state.agents.session_busy(&s.key));
            row
        })
        .collect();
    let has_more = offset + rows.len() < total;
    Ok(
        json!({"ts": now_ms(), "path": store.path().display().to_string(), "count": rows.len(),
        "totalCount": total, "limitApplied": limit, "hasMore": has_more,
        "nextOffset": if has_more { json!(offset + rows.len()) } else { Value::Null },
        "sessions": rows}),
    )
}

/// A `label`/`model`/`thinkingLevel` param: absent (no change), null (clear) or a string.
fn change(call: &Call<'_>, name: &str) -> Result<Option<Option<String>>, GatewayError> {
    match call.params.get(name) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.trim().to_owned()))),
        Some(_) => Err(GatewayError::invalid_request(format!(
            "{name} must be a string or null"
        ))),
    }
}

/// `sessions.patch {key, label?, model?, thinkingLevel?}` (null clears).
pub fn patch(call: &Call<'_>) -> Result<Value, GatewayError> {
    let key = key_param(call, "key")?;
    let patch = SessionPatch {
        label: change(call, "label")?,
        model: change(call, "model")?,
        thinking_level: change(call, "thinkingLevel")?,
    };
    if let Some(Some(model)) = &patch.model {
        if call.state.agents.catalog().model(model).is_none() {
            let known: Vec<String> = call
                .state
                .agents
                .catalog()
                .models()
                .map(|(k, _)| k.clone())
                .collect();
            return Err(GatewayError::invalid_request(format!(
                "unknown model {model}: use one of {} (models.list)",
                known.join(", ")
            )));
        }
    }
    let session = store(call)?
        .patch(&key, &patch, now_ms())
        .map_err(store_error)?;
    Ok(json!({"ok": true, "key": key, "session": session}))
}

/// `sessions.reset {key}`: a new `sessionId` under the key; the old transcript is kept.
pub fn reset(call: &Call<'_>) -> Result<Value, GatewayError> {
    let key = key_param(call, "key")?;
    let session = store(call)?.reset(&key, now_ms()).map_err(store_error)?;
    Ok(json!({"ok": true, "key": key, "sessionId": session.session_id}))
}

/// `sessions.delete {key, deleteTranscript?}`.
pub fn delete(call: &Call<'_>) -> Result<Value, GatewayError> {
    let key = key_param(call, "key")?;
    if call.state.agents.session_busy(&key) {
        return Err(GatewayError::invalid_request(format!(
            "session {key} has a run in progress; chat.abort it first"
        )));
    }
    let with_transcript = call
        .params
        .get("deleteTranscript")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let deleted = store(call)?
        .delete(&key, with_transcript)
        .map_err(store_error)?;
    Ok(json!({"ok": true, "key": key, "deleted": deleted}))
}

/// `chat.inject {sessionKey, message, label?}`: appends an assistant note without a run.
pub fn inject(call: &Call<'_>) -> Result<Value, GatewayError> {
    let key = key_param(call, "sessionKey")?;
    let message = call.text("message");
    if message.is_empty() {
        return Err(GatewayError::invalid_request("message is required"));
    }
    let label = call.opt_text("label");
    if label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(GatewayError::invalid_request(
            "label is at most 100 characters",
        ));
    }
    let entry = store(call)?
        .inject(&key, message, label.as_deref(), now_ms())
        .map_err(store_error)?;
    Ok(json!({"ok": true, "sessionKey": key, "seq": entry.ordinal}))
}
