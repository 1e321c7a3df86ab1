//! `POST /v1/chat/completions` (agent-runtime.md §6.1, **wire**): one agent run per request,
//! answered as one `chat.completion` or streamed as `chat.completion.chunk` SSE events — the
//! text forwarded piece by piece as the model produces it (not the paced WebSocket events). A
//! client that goes away aborts its run.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::chat_request::{CompletionRequest, parse, session_key};
use super::run::{HttpRun, SseSender, agent_of, model_of, run_error, sse_response, unix_now};
use super::{HttpBody, MAX_BODY_BYTES, body_deadline, error, json as json_response, read_json};
use crate::gateway::agent::runtime::{RunSummary, TurnRequest};
use crate::gateway::session::RunStatus;
use crate::gateway::state::GatewayState;

/// Answers one request (already authorized).
pub async fn create(request: Request<Incoming>, state: Arc<GatewayState>) -> Response<HttpBody> {
    let (parts, body) = request.into_parts();
    let body = match read_json(body, MAX_BODY_BYTES, body_deadline(&state)).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let asked = match parse(&body) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    let chosen = agent_of(&state, &parts.headers, asked.agent_id.as_deref())
        .and_then(|agent| Ok((agent, model_of(&state, &parts.headers)?)));
    let (agent_id, model) = match chosen {
        Ok(c) => c,
        Err(e) => return error(&e),
    };
    let session_key = session_key(
        &agent_id,
        super::run::header(&parts.headers, "x-openclaw-session-key").as_deref(),
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
        model,
    };
    let run = match HttpRun::start(&state, turn) {
        Ok(run) => run,
        Err(e) => return error(&e),
    };
    if asked.stream {
        sse_response(&state, move |sse| stream(asked, run, sse))
    } else {
        complete(asked, run).await
    }
}

fn completion_id() -> String {
    format!("chatcmpl_{}", uuid::Uuid::new_v4())
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

async fn complete(asked: CompletionRequest, mut run: HttpRun) -> Response<HttpBody> {
    let Some(summary) = run.finished().await else {
        return error(&super::errors::ApiError::from_failure(None, ""));
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

/// The chunks of one streamed answer; returning early drops `run`, which aborts it.
async fn stream(asked: CompletionRequest, mut run: HttpRun, sse: SseSender) {
    let id = completion_id();
    let created = unix_now();
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created,
            "model": asked.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    if !sse
        .data(&chunk(json!({"role": "assistant"}), Value::Null))
        .await
    {
        return;
    }
    // The text as it comes; the channel ends with the run.
    loop {
        tokio::select! {
            piece = run.text.recv() => match piece {
                Some(piece) => {
                    if !sse.data(&chunk(json!({"content": piece}), Value::Null)).await {
                        return;
                    }
                }
                None => break,
            },
            () = sse.closed() => return,
        }
    }
    let Some(summary) = run.finished().await else {
        return;
    };
    if summary.status != RunStatus::Ok {
        let _ = sse.data(&run_error(&summary).body()).await;
        let _ = sse.done().await;
        return;
    }
    for (index, call) in tool_calls(&summary).into_iter().enumerate() {
        let mut call = call;
        call["index"] = json!(index);
        if !sse
            .data(&chunk(json!({"tool_calls": [call]}), Value::Null))
            .await
        {
            return;
        }
    }
    if !sse
        .data(&chunk(json!({}), json!(finish_reason(&summary))))
        .await
    {
        return;
    }
    if asked.include_usage {
        let mut last = chunk(json!({}), Value::Null);
        last["choices"] = json!([]);
        last["usage"] = usage(&summary);
        if !sse.data(&last).await {
            return;
        }
    }
    let _ = sse.done().await;
}
