//! `api: "openai-completions"`: `POST {baseUrl}/chat/completions` with `stream: true`, the SSE
//! answer read chunk by chunk (agent-runtime.md §2.1). Works with vLLM, llama.cpp, LM Studio,
//! Ollama's `/v1`, OpenAI, OpenRouter, LiteLLM.
//!
//! Timeouts: the connect timeout is the client's; the idle timeout bounds the wait for the
//! response head and for every chunk; the total bounds the whole request. Cancelling `cancel`
//! returns at once and drops the response, which closes the upstream connection.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::failure::clip;
use super::{ChatRequest, Completion, Endpoint, Failure, FailureReason, StreamEvent, Usage};

/// The most of an error body read for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A call that ended without a whole answer: why, and what had arrived by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// Why.
    pub failure: Failure,
    /// The text, reasoning and tool calls that arrived before it.
    pub partial: Completion,
}

/// The JSON body of the request.
pub fn request_body(endpoint: &Endpoint, request: &ChatRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(endpoint.model.model));
    body.insert("messages".into(), json!(request.messages));
    body.insert("stream".into(), json!(true));
    if endpoint.usage_in_streaming {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if let Some(max) = endpoint.max_tokens {
        body.insert(endpoint.max_tokens_field.clone(), json!(max));
    }
    if !request.tools.is_empty() {
        body.insert("tools".into(), json!(request.tools));
        body.insert("tool_choice".into(), json!("auto"));
    }
    for (k, v) in &request.sampling {
        body.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Value::Object(body)
}

/// Streams one chat completion from `endpoint`, passing every piece to `sink` as it arrives.
pub async fn stream_chat(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    request: &ChatRequest,
    cancel: &CancellationToken,
    sink: &mut (dyn FnMut(&StreamEvent) + Send),
) -> Result<Completion, Interrupted> {
    let mut completion = Completion {
        model: Some(endpoint.model.clone()),
        ..Completion::default()
    };
    let deadline = Instant::now() + endpoint.timeouts.total;
    let outcome = tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Failure::new(FailureReason::Aborted, "cancelled")),
        r = tokio::time::timeout_at(deadline, exchange(client, endpoint, request, &mut completion, sink)) => {
            r.unwrap_or_else(|_| Err(Failure::new(
                FailureReason::Timeout,
                format!("no complete answer within {} s", endpoint.timeouts.total.as_secs()),
            )))
        }
    };
    match outcome {
        Ok(()) => Ok(completion),
        Err(failure) => Err(Interrupted {
            failure,
            partial: completion,
        }),
    }
}

async fn exchange(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    request: &ChatRequest,
    completion: &mut Completion,
    sink: &mut (dyn FnMut(&StreamEvent) + Send),
) -> Result<(), Failure> {
    let url = format!(
        "{}/chat/completions",
        endpoint.base_url.trim_end_matches('/')
    );
    let mut builder = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(request_body(endpoint, request).to_string());
    // A configured Authorization header replaces the key's (never two of them).
    let own_authorization = endpoint
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("authorization"));
    if let Some(key) = endpoint.api_key.as_ref().filter(|_| !own_authorization) {
        builder = builder.bearer_auth(key.expose());
    }
    for (k, v) in &endpoint.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let idle = endpoint.timeouts.idle;
    let response = tokio::time::timeout(idle, builder.send())
        .await
        .map_err(|_| idle_timeout(idle, "the response head"))?
        .map_err(|e| send_failure(&e))?;
    let status = response.status().as_u16();
    if !response.status().is_success() {
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_error_body(response, idle).await;
        return Err(Failure::of_response(status, &body, retry_after.as_deref()));
    }
    let mut events = response.bytes_stream().eventsource();
    loop {
        let next = tokio::time::timeout(idle, events.next())
            .await
            .map_err(|_| idle_timeout(idle, "the next chunk"))?;
        let event = match next {
            None if completion.finish_reason.is_some() => return Ok(()),
            None => {
                return Err(Failure::new(
                    FailureReason::ServerError,
                    "the stream ended before the answer was finished",
                ));
            }
            Some(Err(e)) => {
                return Err(Failure::new(
                    FailureReason::ServerError,
                    format!("the stream broke: {e}"),
                ));
            }
            Some(Ok(event)) => event,
        };
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(());
        }
        if data.is_empty() {
            continue;
        }
        apply_chunk(data, completion, sink)?;
    }
}

/// Reads one `chat.completion.chunk` into `completion`, passing its pieces to `sink`.
fn apply_chunk(
    data: &str,
    completion: &mut Completion,
    sink: &mut (dyn FnMut(&StreamEvent) + Send),
) -> Result<(), Failure> {
    let chunk: Value = serde_json::from_str(data).map_err(|e| {
        Failure::new(
            FailureReason::ServerError,
            format!("a chunk is not JSON ({e}): {}", clip(data, 120)),
        )
    })?;
    if let Some(error) = chunk.get("error") {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the upstream reported an error in the stream");
        return Err(Failure::new(FailureReason::ServerError, clip(message, 300)));
    }
    if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
        completion.usage = usage_of(usage);
    }
    let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) else {
        return Ok(());
    };
    let delta = choice.get("delta").unwrap_or(&Value::Null);
    let mut pieces = Vec::new();
    for key in ["reasoning_content", "reasoning"] {
        if let Some(t) = delta
            .get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            pieces.push(StreamEvent::Reasoning(t.to_owned()));
        }
    }
    if let Some(t) = delta
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        pieces.push(StreamEvent::Text(t.to_owned()));
    }
    for (i, call) in delta
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let function = call.get("function");
        pieces.push(StreamEvent::ToolCall {
            index: call
                .get("index")
                .and_then(Value::as_u64)
                .map_or(i, |n| n as usize),
            id: text(call.get("id")),
            name: text(function.and_then(|f| f.get("name"))),
            arguments: text(function.and_then(|f| f.get("arguments"))).unwrap_or_default(),
        });
    }
    for piece in &pieces {
        completion.absorb(piece);
        sink(piece);
    }
    if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
        completion.finish_reason = Some(reason.to_owned());
    }
    Ok(())
}

fn usage_of(usage: &Value) -> Usage {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let input = n(usage.get("prompt_tokens"));
    let output = n(usage.get("completion_tokens"));
    Usage {
        input,
        output,
        cache_read: n(usage.pointer("/prompt_tokens_details/cached_tokens")),
        cache_write: 0,
        total: usage
            .get("total_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(input + output),
    }
}

fn idle_timeout(idle: Duration, what: &str) -> Failure {
    Failure::new(
        FailureReason::Timeout,
        format!("no data for {} s while waiting for {what}", idle.as_secs()),
    )
}

fn send_failure(e: &reqwest::Error) -> Failure {
    // The error's text names the URL, never the key (it is a header).
    let reason = if e.is_timeout() {
        FailureReason::Timeout
    } else {
        FailureReason::ServerError
    };
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Failure::new(reason, clip(&message, 300))
}

async fn read_error_body(response: reqwest::Response, idle: Duration) -> String {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while body.len() < ERROR_BODY_LIMIT {
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(Ok(bytes))) => body.extend_from_slice(&bytes),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY_LIMIT);
    String::from_utf8_lossy(&body).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::provider::{ChatMessage, ModelRef, Timeouts};

    fn endpoint() -> Endpoint {
        Endpoint {
            model: ModelRef::parse("local/fake-model").unwrap(),
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key: None,
            headers: Default::default(),
            max_tokens: Some(512),
            max_tokens_field: "max_completion_tokens".into(),
            usage_in_streaming: true,
            timeouts: Timeouts::default(),
        }
    }

    #[test]
    fn the_body_asks_for_a_stream_with_usage_and_omits_empty_tools() {
        let request = ChatRequest {
            messages: vec![
                ChatMessage::new("system", "s"),
                ChatMessage::new("user", "hi"),
            ],
            ..ChatRequest::default()
        };
        let body = request_body(&endpoint(), &request);
        assert_eq!(
            body,
            json!({"model": "fake-model", "messages": [{"role": "system", "content": "s"},
                {"role": "user", "content": "hi"}], "stream": true,
                "stream_options": {"include_usage": true}, "max_completion_tokens": 512})
        );
        let mut e = endpoint();
        e.usage_in_streaming = false;
        e.max_tokens_field = "max_tokens".into();
        let tools = ChatRequest {
            tools: vec![json!({"type": "function", "function": {"name": "f"}})],
            ..request
        };
        let body = request_body(&e, &tools);
        assert!(body.get("stream_options").is_none());
        assert_eq!(body["max_tokens"], 512);
        assert_eq!(body["tool_choice"], "auto");
    }

    #[test]
    fn chunks_accumulate_text_reasoning_tool_calls_finish_and_usage() {
        let mut c = Completion::default();
        let mut seen = Vec::new();
        let mut sink = |e: &StreamEvent| seen.push(e.clone());
        for data in [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"think"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{\"a\""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
        ] {
            apply_chunk(data, &mut c, &mut sink).unwrap();
        }
        assert_eq!(c.text, "Hello");
        assert_eq!(c.reasoning, "think");
        assert_eq!(c.tool_calls[0].arguments, "{\"a\":1}");
        assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!((c.usage.input, c.usage.output, c.usage.total), (7, 3, 10));
        assert_eq!(seen[1], StreamEvent::Text("Hel".into()));
    }

    #[test]
    fn an_error_object_in_the_stream_is_a_server_error() {
        let mut c = Completion::default();
        let f = apply_chunk(r#"{"error":{"message":"boom"}}"#, &mut c, &mut |_| {}).unwrap_err();
        assert_eq!(
            (f.reason, f.message.as_str()),
            (FailureReason::ServerError, "boom")
        );
    }
}
