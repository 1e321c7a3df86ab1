//! `POST /v1/chat/completions` (agent-runtime.md §6.1, **wire**): one agent run per request,
//! answered as one `chat.completion` or streamed as `chat.completion.chunk` SSE events — the
//! text forwarded piece by piece as the model produces it (not the paced WebSocket events). A
//! client that goes away aborts its run.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::chat_request::{CompletionRequest, parse, session_key};
use super::errors::ApiError;
use super::{
    BODY_DEADLINE, HttpBody, MAX_BODY_BYTES, error, json as json_response, read_json, secure,
};
use crate::gateway::agent::catalog::DEFAULT_AGENT_ID;
use crate::gateway::agent::events::EventSink;
use crate::gateway::agent::runtime::{RunHandle, RunSummary, StartError, TurnRequest};
use crate::gateway::session::RunStatus;
use crate::gateway::state::{GatewayState, now_ms};

/// Run events go to the gateway's connections as for any run; the raw text also to this
/// request's answer.
struct HttpRunSink {
    gateway: Arc<GatewayState>,
    text: mpsc::UnboundedSender<String>,
}

impl EventSink for HttpRunSink {
    fn emit(&self, event: &str, payload: &Value) {
        self.gateway.emit(event, payload);
    }

    fn text(&self, delta: &str) {
        let _ = self.text.send(delta.to_owned());
    }
}

/// Aborts the run when the request's answer is dropped before the run ended (the client went
/// away).
struct AbortOnDrop {
    state: Arc<GatewayState>,
    run: Arc<RunHandle>,
    armed: bool,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.state
                .agents
                .abort(&self.run.session_key, Some(&self.run.run_id));
        }
    }
}

/// Answers one request (already authorized).
pub async fn create(request: Request<Incoming>, state: Arc<GatewayState>) -> Response<HttpBody> {
    let (parts, body) = request.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let body = match read_json(body, MAX_BODY_BYTES, BODY_DEADLINE).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let asked = match parse(&body) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    if header("x-openclaw-model").is_some() {
        return error(&ApiError::invalid(
            "The `x-openclaw-model` header is not supported by this gateway yet: set the \
             agent's model in openclaw.json (agents.entries.<id>.model) instead.",
        ));
    }
    let agent_id = header("x-openclaw-agent-id")
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| !a.is_empty())
        .or_else(|| asked.agent_id.clone())
        .unwrap_or_else(|| DEFAULT_AGENT_ID.to_owned());
    if state.agents.catalog().agent(&agent_id).is_none() {
        return error(&ApiError::invalid(format!(
            "Unknown agent `{agent_id}`: GET /v1/models lists the agents (openclaw/<agentId>)."
        )));
    }
    let session_key = session_key(
        &agent_id,
        header("x-openclaw-session-key").as_deref(),
        asked.user.as_deref(),
    );
    let turn = TurnRequest {
        run_id: uuid::Uuid::new_v4().to_string(),
        agent_id,
        session_key,
        message: asked.message.clone(),
        timeout: None,
        extra_system_prompt: asked.context.clone(),
        tools: asked.tools.clone(),
        sampling: asked.sampling.clone(),
    };
    let (text_tx, text_rx) = mpsc::unbounded_channel();
    let sink = Arc::new(HttpRunSink {
        gateway: state.clone(),
        text: text_tx,
    });
    let started = state
        .agents
        .start(turn, sink, &state.tasks, &state.shutdown, now_ms());
    let run = match started {
        Ok(run) => run,
        Err(StartError::Store(e)) => {
            return error(&ApiError::unavailable(format!(
                "agent runs are unavailable: {e}"
            )));
        }
        Err(StartError::InFlight(_) | StartError::Finished) => {
            return error(&ApiError::unavailable("the run id is taken; retry"));
        }
    };
    let guard = AbortOnDrop {
        state: state.clone(),
        run: run.clone(),
        armed: true,
    };
    if asked.stream {
        stream(asked, guard, text_rx)
    } else {
        complete(asked, guard).await
    }
}

fn completion_id() -> String {
    format!("chatcmpl_{}", uuid::Uuid::new_v4())
}

fn unix_now() -> u64 {
    now_ms() / 1000
}

fn finish_reason(summary: &RunSummary) -> &str {
    if !summary.tool_calls.is_empty() {
        return "tool_calls";
    }
    match summary.stop_reason.as_deref() {
        Some("length") => "length",
        Some("content_filter") => "content_filter",
        _ => "stop",
    }
}

fn usage(summary: &RunSummary) -> Value {
    json!({"prompt_tokens": summary.usage.input, "completion_tokens": summary.usage.output,
        "total_tokens": summary.usage.input + summary.usage.output})
}

fn tool_calls(summary: &RunSummary) -> Vec<Value> {
    summary
        .tool_calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect()
}

/// The error for a run that did not end `ok`.
fn run_error(summary: &RunSummary) -> ApiError {
    let message = summary.error.as_deref().unwrap_or("the run failed");
    match summary.status {
        RunStatus::Timeout => ApiError::from_failure(
            Some(crate::gateway::provider::FailureReason::Timeout),
            message,
        ),
        RunStatus::Aborted => ApiError::unavailable(format!("the run was aborted: {message}")),
        _ => ApiError::from_failure(summary.reason, message),
    }
}

async fn complete(asked: CompletionRequest, mut guard: AbortOnDrop) -> Response<HttpBody> {
    let summary = guard.run.finished(None).await;
    guard.armed = false;
    let Some(summary) = summary else {
        return error(&ApiError::from_failure(None, ""));
    };
    if summary.status != RunStatus::Ok {
        return error(&run_error(&summary));
    }
    let mut message = json!({"role": "assistant", "content": summary.text});
    let calls = tool_calls(&summary);
    if !calls.is_empty() {
        message["tool_calls"] = json!(calls);
        if summary.text.is_empty() {
            message["content"] = Value::Null;
        }
    }
    json_response(
        StatusCode::OK,
        &json!({"id": completion_id(), "object": "chat.completion", "created": unix_now(),
            "model": asked.model, "choices": [{"index": 0, "message": message,
            "finish_reason": finish_reason(&summary)}], "usage": usage(&summary)}),
    )
}

fn sse(data: &Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

fn stream(
    asked: CompletionRequest,
    guard: AbortOnDrop,
    mut text: mpsc::UnboundedReceiver<String>,
) -> Response<HttpBody> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let id = completion_id();
    let created = unix_now();
    let chunk = move |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created,
            "model": asked.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let state = guard.state.clone();
    state.tasks.spawn(async move {
        // The whole guard lives in this task: when it ends early (the client went away), the
        // guard's drop aborts the run.
        let mut guard = guard;
        let send = |bytes: Bytes| {
            let tx = tx.clone();
            async move { tx.send(bytes).await.is_ok() }
        };
        if !send(sse(&chunk(json!({"role": "assistant"}), Value::Null))).await {
            return; // The guard aborts the run.
        }
        // The text as it comes; the channel ends with the run.
        loop {
            tokio::select! {
                piece = text.recv() => match piece {
                    Some(piece) => {
                        if !send(sse(&chunk(json!({"content": piece}), Value::Null))).await {
                            return;
                        }
                    }
                    None => break,
                },
                () = tx.closed() => return,
            }
        }
        let summary = guard.run.finished(None).await;
        guard.armed = false;
        let Some(summary) = summary else { return };
        if summary.status != RunStatus::Ok {
            let e = run_error(&summary);
            let _ = send(sse(&e.body())).await;
            let _ = send(Bytes::from_static(b"data: [DONE]\n\n")).await;
            return;
        }
        for (index, call) in tool_calls(&summary).into_iter().enumerate() {
            let mut call = call;
            call["index"] = json!(index);
            if !send(sse(&chunk(json!({"tool_calls": [call]}), Value::Null))).await {
                return;
            }
        }
        if !send(sse(&chunk(json!({}), json!(finish_reason(&summary))))).await {
            return;
        }
        if asked.include_usage {
            let mut last = chunk(json!({}), Value::Null);
            last["choices"] = json!([]);
            last["usage"] = usage(&summary);
            if !send(sse(&last)).await {
                return;
            }
        }
        let _ = send(Bytes::from_static(b"data: [DONE]\n\n")).await;
    });
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    let mut response = Response::new(StreamBody::new(frames).boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(response)
}
