//! `POST /v1/responses` (agent-runtime.md §6.2, **wire**): one agent run per request, answered
//! as one `response` object or streamed as typed SSE events (`response.created` …
//! `response.output_text.delta` … `response.completed|incomplete|failed`, then `[DONE]`), the
//! text forwarded as the model produces it. `previous_response_id` continues the session an
//! earlier answer ran in; a failed run is a response object with `status:"failed"`.

use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::chat_request::session_key;
use super::errors::ApiError;
use super::response_ids::ResponseSession;
use super::responses_request::{ResponsesRequest, parse};
use super::run::{
    HttpRun, SseSender, agent_of, header, model_of, run_error, sse_response, unix_now,
};
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
    let turn = match turn_request(&state, &parts.headers, &asked) {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    let session = ResponseSession {
        agent_id: turn.agent_id.clone(),
        session_key: turn.session_key.clone(),
    };
    let run = match HttpRun::start(&state, turn) {
        Ok(run) => run,
        Err(e) => return error(&e),
    };
    let answer = Answer {
        id: format!("resp_{}", uuid::Uuid::new_v4()),
        created_at: unix_now(),
        asked,
    };
    if answer.asked.store {
        state
            .http_api
            .response_ids
            .remember(&answer.id, session, Instant::now());
    }
    if answer.asked.stream {
        sse_response(&state, move |sse| stream(answer, run, sse))
    } else {
        complete(answer, run).await
    }
}

/// The run `asked` needs: its agent (`x-openclaw-agent-id`, else `model`), its session
/// (`x-openclaw-session-key`, else the one of `previous_response_id`, else one per `user`,
/// else a new one), its model (`x-openclaw-model`).
fn turn_request(
    state: &GatewayState,
    headers: &hyper::HeaderMap,
    asked: &ResponsesRequest,
) -> Result<TurnRequest, ApiError> {
    let agent_id = agent_of(state, headers, asked.agent_id.as_deref())?;
    let model = model_of(state, headers)?;
    let header_key = header(headers, "x-openclaw-session-key");
    let previous = match (&header_key, &asked.previous_response_id) {
        (None, Some(id)) => {
            let known = state.http_api.response_ids.session_of(id, Instant::now());
            let Some(known) = known else {
                return Err(ApiError::invalid(format!(
                    "Invalid `previous_response_id`: {id} is unknown or expired (answers can be \
                     continued for 30 minutes, until the gateway restarts, unless sent with \
                     store: false); send the conversation in `input` instead."
                )));
            };
            if known.agent_id != agent_id {
                return Err(ApiError::invalid(format!(
                    "Invalid `previous_response_id`: {id} was answered by agent {}, not {agent_id}; \
                     use model openclaw/{} to continue it.",
                    known.agent_id, known.agent_id
                )));
            }
            Some(known.session_key)
        }
        _ => None,
    };
    let session_key = header_key
        .or(previous)
        .unwrap_or_else(|| session_key(&agent_id, None, asked.user.as_deref()));
    Ok(TurnRequest {
        run_id: uuid::Uuid::new_v4().to_string(),
        agent_id,
        session_key,
        message: asked.message.clone(),
        timeout: None,
        extra_system_prompt: asked.context.clone(),
        tools: asked.tools.clone(),
        sampling: asked.sampling.clone(),
        model,
    })
}

/// One answer: its id, time and what was asked (for the fields a response object repeats).
struct Answer {
    id: String,
    created_at: u64,
    asked: ResponsesRequest,
}

impl Answer {
    /// The response object in `status` with `output`.
    fn object(&self, status: &str, output: Vec<Value>, summary: Option<&RunSummary>) -> Value {
        let echo =
            |field: &str, default: Value| self.asked.echo.get(field).cloned().unwrap_or(default);
        let usage = summary.map_or(Value::Null, |s| {
            json!({"input_tokens": s.usage.input,
                "input_tokens_details": {"cached_tokens": s.usage.cache_read},
                "output_tokens": s.usage.output,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": s.usage.input + s.usage.output})
        });
        let incomplete = match status {
            "incomplete" => json!({"reason": "max_output_tokens"}),
            _ => Value::Null,
        };
        let error = match summary {
            Some(s) if status == "failed" => {
                let e = run_error(s);
                json!({"code": e.kind, "message": e.message})
            }
            _ => Value::Null,
        };
        json!({"id": self.id, "object": "response", "created_at": self.created_at,
            "status": status, "model": self.asked.model, "output": output, "usage": usage,
            "error": error, "incomplete_details": incomplete,
            "instructions": echo("instructions", Value::Null),
            "metadata": echo("metadata", json!({})),
            "tools": echo("tools", json!([])), "tool_choice": echo("tool_choice", json!("auto")),
            "parallel_tool_calls": true,
            "temperature": echo("temperature", Value::Null),
            "top_p": echo("top_p", Value::Null),
            "max_output_tokens": echo("max_output_tokens", Value::Null),
            "previous_response_id": self.asked.previous_response_id,
            "store": self.asked.store,
            "user": self.asked.user})
    }
}

/// `completed`, `incomplete` (the model stopped at its token limit) or `failed`.
fn status_of(summary: &RunSummary) -> &'static str {
    match (&summary.status, summary.stop_reason.as_deref()) {
        (RunStatus::Ok, Some("length")) => "incomplete",
        (RunStatus::Ok, _) => "completed",
        _ => "failed",
    }
}

fn message_item(id: &str, text: &str, status: &str) -> Value {
    let content = if status == "in_progress" {
        json!([])
    } else {
        json!([{"type": "output_text", "text": text, "annotations": []}])
    };
    json!({"type": "message", "id": id, "role": "assistant", "status": status,
        "content": content})
}

fn function_call_items(summary: &RunSummary) -> Vec<Value> {
    summary
        .tool_calls
        .iter()
        .map(|c| {
            json!({"type": "function_call", "id": format!("fc_{}", uuid::Uuid::new_v4()),
                "call_id": c.id, "name": c.name, "arguments": c.arguments, "status": "completed"})
        })
        .collect()
}

/// The output of a finished run: its text (unless it only called tools), then its tool calls.
fn output_of(summary: &RunSummary, message_id: &str) -> Vec<Value> {
    let mut output = Vec::new();
    if !summary.text.is_empty() || summary.tool_calls.is_empty() {
        let status = match status_of(summary) {
            "completed" => "completed",
            _ => "incomplete",
        };
        output.push(message_item(message_id, &summary.text, status));
    }
    output.extend(function_call_items(summary));
    output
}

async fn complete(answer: Answer, mut run: HttpRun) -> Response<HttpBody> {
    let Some(summary) = run.finished().await else {
        return error(&ApiError::from_failure(None, ""));
    };
    let status = status_of(&summary);
    let message_id = format!("msg_{}", uuid::Uuid::new_v4());
    let object = answer.object(status, output_of(&summary, &message_id), Some(&summary));
    let code = match status {
        "failed" => run_error(&summary).status,
        _ => StatusCode::OK,
    };
    json_response(code, &object)
}

/// The typed events of one streamed answer, numbered.
struct Events {
    sse: SseSender,
    sequence: u64,
}

impl Events {
    async fn send(&mut self, kind: &str, payload: Value) -> bool {
        let mut event = json!({"type": kind, "sequence_number": self.sequence});
        if let (Some(event), Value::Object(fields)) = (event.as_object_mut(), payload) {
            event.extend(fields);
        }
        self.sequence += 1;
        self.sse.event(kind, &event).await
    }
}

/// The events of one streamed answer; returning early drops `run`, which aborts it.
async fn stream(answer: Answer, mut run: HttpRun, sse: SseSender) {
    let mut events = Events { sse, sequence: 0 };
    let message_id = format!("msg_{}", uuid::Uuid::new_v4());
    let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
    let at = |extra: Value| {
        let mut v = json!({"item_id": message_id, "output_index": 0, "content_index": 0});
        if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
            v.extend(extra);
        }
        v
    };
    for kind in ["response.created", "response.in_progress"] {
        let object = answer.object("in_progress", Vec::new(), None);
        if !events.send(kind, json!({"response": object})).await {
            return;
        }
    }
    // The message item opens with the first text (a run that only calls tools has none).
    let mut started = false;
    let mut text = String::new();
    loop {
        let piece = tokio::select! {
            piece = run.text.recv() => piece,
            () = events.sse.closed() => return,
        };
        let Some(piece) = piece else { break };
        if !started {
            started = true;
            if !open_message(&mut events, &message_id, &part).await {
                return;
            }
        }
        text.push_str(&piece);
        let delta = at(json!({"delta": piece, "logprobs": []}));
        if !events.send("response.output_text.delta", delta).await {
            return;
        }
    }
    let Some(summary) = run.finished().await else {
        return;
    };
    let status = status_of(&summary);
    let mut output = Vec::new();
    if status != "failed" {
        if !started && summary.tool_calls.is_empty() {
            started = true;
            if !open_message(&mut events, &message_id, &part).await {
                return;
            }
        }
        if started {
            let item_status = if status == "completed" {
                "completed"
            } else {
                "incomplete"
            };
            let done = [
                (
                    "response.output_text.done",
                    at(json!({"text": text, "logprobs": []})),
                ),
                (
                    "response.content_part.done",
                    at(json!({"part": part(&text)})),
                ),
                (
                    "response.output_item.done",
                    json!({"output_index": 0, "item": message_item(&message_id, &text, item_status)}),
                ),
            ];
            for (kind, payload) in done {
                if !events.send(kind, payload).await {
                    return;
                }
            }
            output.push(message_item(&message_id, &text, item_status));
        }
        for item in function_call_items(&summary) {
            if !send_function_call(&mut events, output.len(), &item).await {
                return;
            }
            output.push(item);
        }
    } else if started {
        output.push(message_item(&message_id, &text, "incomplete"));
    }
    let kind = format!("response.{status}");
    let object = answer.object(status, output, Some(&summary));
    if events.send(&kind, json!({"response": object})).await {
        let _ = events.sse.done().await;
    }
}

async fn open_message(
    events: &mut Events,
    message_id: &str,
    part: &impl Fn(&str) -> Value,
) -> bool {
    events
        .send(
            "response.output_item.added",
            json!({"output_index": 0, "item": message_item(message_id, "", "in_progress")}),
        )
        .await
        && events
            .send(
                "response.content_part.added",
                json!({"item_id": message_id, "output_index": 0, "content_index": 0,
                    "part": part("")}),
            )
            .await
}

async fn send_function_call(events: &mut Events, index: usize, item: &Value) -> bool {
    let mut opening = item.clone();
    opening["arguments"] = json!("");
    opening["status"] = json!("in_progress");
    let id = &item["id"];
    let arguments = &item["arguments"];
    events
        .send(
            "response.output_item.added",
            json!({"output_index": index, "item": opening}),
        )
        .await
        && events
            .send(
                "response.function_call_arguments.delta",
                json!({"item_id": id, "output_index": index, "delta": arguments}),
            )
            .await
        && events
            .send(
                "response.function_call_arguments.done",
                json!({"item_id": id, "output_index": index, "arguments": arguments}),
            )
            .await
        && events
            .send(
                "response.output_item.done",
                json!({"output_index": index, "item": item}),
            )
            .await
}
