//! `agent` (ack, then the final answer, agent-runtime.md §3.1), `agent.wait`, `models.list` and
//! `agents.list`, on top of the [`AgentRuntime`](crate::gateway::agent::AgentRuntime).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::gateway::agent::catalog::DEFAULT_AGENT_ID;
use crate::gateway::agent::events::EventSink;
use crate::gateway::agent::{RunHandle, RunSummary, StartError, TurnRequest};
use crate::gateway::outbound::ConnectionSender;
use crate::gateway::session::{RunStatus, scoped_key};
use crate::gateway::state::{GatewayState, now_ms};
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::response_ok;

use super::call::{Call, param_text};
use super::{Answer, answered};

/// The agent a request names (else `main`), which must exist.
pub(super) fn agent_id(
    state: &GatewayState,
    params: &Map<String, Value>,
) -> Result<String, GatewayError> {
    let id = params
        .get("agentId")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_AGENT_ID);
    if state.agents.catalog().agent(id).is_none() {
        let known: Vec<String> = state
            .agents
            .catalog()
            .agents()
            .map(|a| a.id.clone())
            .collect();
        return Err(GatewayError::invalid_request(format!(
            "unknown agent {id:?} (agents: {})",
            known.join(", ")
        )));
    }
    Ok(id.to_owned())
}

/// The session key of a request's `sessionKey` param (see [`scoped_key`]).
pub(super) fn session_key(params: &Map<String, Value>, agent_id: &str) -> String {
    scoped_key(param_text(params, "sessionKey"), agent_id)
}

/// The run a request asks for: its agent (which must exist), session key, message, and the
/// turn's budget (`Some(0)`: none).
pub(super) fn turn_request(
    state: &GatewayState,
    params: &Map<String, Value>,
    run_id: &str,
    message: String,
    timeout: Option<Duration>,
) -> Result<TurnRequest, GatewayError> {
    let agent_id = agent_id(state, params)?;
    Ok(TurnRequest {
        session_key: session_key(params, &agent_id),
        run_id: run_id.to_owned(),
        agent_id,
        message,
        timeout: timeout.map(|t| (!t.is_zero()).then_some(t)),
        extra_system_prompt: None,
        tools: Vec::new(),
        sampling: serde_json::Map::new(),
        model: None,
    })
}

/// Starts the run of a checked request; the error when it cannot start (an `in_flight` answer
/// for a run already running is the caller's).
pub(super) fn start(
    state: &Arc<GatewayState>,
    request: TurnRequest,
) -> Result<Result<Arc<RunHandle>, Arc<RunHandle>>, GatewayError> {
    // A run that cannot reach a model ends before it starts: one error naming the model and
    // the fix, no ack, nothing stored.
    let catalog = state.agents.catalog();
    let model_override = state
        .agents
        .store()
        .ok()
        .and_then(|s| s.session(&request.session_key).ok().flatten())
        .and_then(|s| s.model);
    let usable = catalog
        .agent(&request.agent_id)
        .ok_or_else(|| format!("unknown agent {}", request.agent_id))
        .and_then(|a| catalog.endpoints(a, model_override.as_deref()));
    if let Err(message) = usable {
        return Err(GatewayError::unavailable(message.clone())
            .with_details(json!({"runId": request.run_id, "reason": "model_not_found"}))
            .with_payload(
                json!({"runId": request.run_id, "status": "error", "summary": message}),
            ));
    }
    let sink: Arc<dyn EventSink> = state.clone();
    match state
        .agents
        .start(request, sink, &state.tasks, &state.shutdown, now_ms())
    {
        Ok(handle) => Ok(Ok(handle)),
        Err(StartError::InFlight(handle)) => Ok(Err(handle)),
        Err(StartError::Finished) => Err(GatewayError::invalid_request(
            "this idempotencyKey was used by an earlier run; send a new key for a new message",
        )),
        Err(StartError::Store(e)) => Err(GatewayError::unavailable(format!(
            "agent runs are unavailable: {e}"
        ))),
    }
}

/// `agent`: answers an ack frame at once (after the user's message is stored) and the final
/// answer when the run ends. A repeat of a running key answers `in_flight`; of a finished one,
/// the stored final (for 5 minutes). The run is accepted before this returns, so a session's
/// runs sent on one connection run in the order they were sent; the returned future waits for
/// the end.
pub fn agent(
    state: &Arc<GatewayState>,
    sender: &ConnectionSender,
    request_id: &str,
    params: &Map<String, Value>,
) -> Answer {
    let run_id = param_text(params, "idempotencyKey").to_owned();
    let message = param_text(params, "message").to_owned();
    if message.is_empty() || run_id.is_empty() {
        return answered(Err(GatewayError::invalid_request(
            "agent needs a non-empty message and idempotencyKey",
        )));
    }
    if state.agents.active(&run_id).is_some() {
        return answered(Ok(json!({"runId": run_id, "status": "in_flight"})));
    }
    let timeout = params
        .get("timeout")
        .and_then(Value::as_u64)
        .map(Duration::from_secs);
    let mut request = match turn_request(state, params, &run_id, message, timeout) {
        Ok(request) => request,
        Err(e) => return answered(Err(e)),
    };
    request.extra_system_prompt = params
        .get("extraSystemPrompt")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let cache = state.idempotency.clone();
    let (state, sender, request_id) = (state.clone(), sender.clone(), request_id.to_owned());
    let accept = move || match start(&state, request) {
        Ok(Ok(handle)) => {
            let ack = json!({"runId": handle.run_id, "sessionKey": handle.session_key,
                "agentId": handle.agent_id, "status": "accepted", "acceptedAt": handle.accepted_at});
            if let Ok(raw) = serde_json::value::to_raw_value(&ack) {
                sender.send_text(response_ok(&request_id, &raw));
            }
            Ok(handle)
        }
        Ok(Err(running)) => Err((
            Ok(json!({"runId": running.run_id, "status": "in_flight"})),
            false,
        )),
        Err(e) => Err((Err(e), false)),
    };
    let finish = |handle: Arc<RunHandle>| async move {
        match handle.finished(None).await {
            Some(summary) => (Ok(final_payload(&handle, &summary)), true),
            None => (
                Err(GatewayError::unavailable("the run ended without a result")),
                false,
            ),
        }
    };
    cache.run_accepting(&format!("agent:{run_id}"), now_ms, accept, finish)
}

/// The final answer of `agent` (§3.1).
pub fn final_payload(handle: &RunHandle, s: &RunSummary) -> Value {
    let (status, summary) = match s.status {
        RunStatus::Ok => ("ok", "completed"),
        RunStatus::Timeout | RunStatus::Aborted => ("timeout", "aborted"),
        RunStatus::Error | RunStatus::Running | RunStatus::Queued => ("error", "failed"),
    };
    let payloads: Vec<Value> = if s.text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"text": s.text, "mediaUrl": null})]
    };
    let mut meta = json!({
        "durationMs": s.ended_at.saturating_sub(s.started_at),
        "agentMeta": {
            "sessionId": s.session_id,
            "sessionFile": handle.session_key,
            "provider": s.provider,
            "model": s.model,
            "usage": {"input": s.usage.input, "output": s.usage.output,
                "cacheRead": s.usage.cache_read, "cacheWrite": s.usage.cache_write,
                "total": s.usage.total},
        },
        "stopReason": s.stop_reason,
    });
    let mut out = json!({"runId": s.run_id, "status": status, "summary": summary,
        "result": {"payloads": payloads, "meta": meta.take()}});
    if let Some(error) = &s.error {
        out["error"] = json!({
            "reason": s.reason.map_or("unknown", |r| r.as_str()),
            "message": error,
        });
        out["result"]["meta"]["error"] = out["error"].clone();
    }
    out
}

fn wait_status(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Ok => "ok",
        RunStatus::Running | RunStatus::Queued => "pending",
        RunStatus::Timeout | RunStatus::Aborted => "timeout",
        RunStatus::Error => "error",
    }
}

/// `agent.wait {runId, timeoutMs = 30000}`: the run's end, or `status: "timeout"` when it does
/// not end in time (the run goes on).
pub async fn wait(
    state: &Arc<GatewayState>,
    params: &Map<String, Value>,
) -> Result<Value, GatewayError> {
    let run_id = param_text(params, "runId").to_owned();
    let limit = Duration::from_millis(
        params
            .get("timeoutMs")
            .and_then(Value::as_u64)
            .unwrap_or(30_000),
    );
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(handle) = state.agents.active(&run_id) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            return Ok(match handle.finished(Some(left)).await {
                Some(s) => {
                    let mut out = json!({"runId": run_id, "status": wait_status(s.status),
                        "startedAt": s.started_at, "endedAt": s.ended_at, "stopReason": s.stop_reason});
                    if let Some(e) = &s.error {
                        out["error"] = json!(e);
                    }
                    out
                }
                None => json!({"runId": run_id, "status": "timeout"}),
            });
        }
        if let Some(run) = state
            .agents
            .store()
            .ok()
            .and_then(|s| s.run(&run_id).ok().flatten())
        {
            if !matches!(run.status, RunStatus::Running | RunStatus::Queued) {
                let mut out = json!({"runId": run_id, "status": wait_status(run.status),
                    "startedAt": run.started_at, "endedAt": run.ended_at});
                if let Some(e) = run.error {
                    out["error"] = json!(e);
                }
                return Ok(out);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(json!({"runId": run_id, "status": "timeout"}));
        }
        // The run may be about to start (a wait sent right after its `agent`).
        tokio::time::sleep(Duration::from_millis(50).min(limit)).await;
    }
}

/// `models.list`: the configured models.
pub fn models_list(call: &Call<'_>) -> Value {
    let catalog = call.state.agents.catalog();
    let models: Vec<Value> = catalog
        .models()
        .map(|(id, m)| {
            json!({"id": id, "name": m.name.clone().unwrap_or_else(|| m.endpoint.model.model.clone()),
                "provider": m.endpoint.model.provider, "contextWindow": m.context_window,
                "maxTokens": m.endpoint.max_tokens, "reasoning": m.reasoning, "input": m.input})
        })
        .collect();
    json!({"models": models})
}

/// `agents.list`: the agents, the default first.
pub fn agents_list(call: &Call<'_>) -> Value {
    let catalog = call.state.agents.catalog();
    let agents: Vec<Value> = catalog
        .agents()
        .map(|a| {
            json!({"id": a.id, "name": a.name, "model": a.models.first(),
                "workspace": a.workspace.as_ref().map(|w| w.display().to_string())})
        })
        .collect();
    json!({"defaultId": DEFAULT_AGENT_ID, "agents": agents})
}
