//! A `POST /v1/responses` body checked and turned into what a run needs (agent-runtime.md
//! §6.2, **wire**): a strict body (an unknown top-level key is a 400 naming it), `model` as
//! for chat completions but required, `input` as a string or items (`message`,
//! `function_call`, `function_call_output`), `instructions`, function tools (converted to the
//! chat form the providers speak) and the honoured fields with their ranges.

use serde_json::{Map, Value, json};

use super::chat_request::{agent_of_model, content_text, number_in, split_conversation};
use super::errors::ApiError;

/// The top-level keys this endpoint takes.
const KEYS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "stream",
    "max_output_tokens",
    "user",
    "temperature",
    "top_p",
    "previous_response_id",
    "metadata",
    "store",
];

/// What the request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsesRequest {
    /// `model` as sent (echoed).
    pub model: String,
    /// The agent it names (`None`: the default agent).
    pub agent_id: Option<String>,
    /// The new message: the last user message or function call output.
    pub message: String,
    /// `instructions`, then the earlier input items, as more system prompt.
    pub context: Option<String>,
    /// `stream`.
    pub stream: bool,
    /// `user`.
    pub user: Option<String>,
    /// `previous_response_id`.
    pub previous_response_id: Option<String>,
    /// `store` (default true): whether the answer may be continued with `previous_response_id`.
    pub store: bool,
    /// Function tools in the chat form (`{type, function:{name, description, parameters}}`).
    pub tools: Vec<Value>,
    /// `temperature`, `top_p`, `tool_choice`, `max_completion_tokens` for the provider.
    pub sampling: Map<String, Value>,
    /// The fields a response object repeats: `instructions`, `metadata`, `tools` and
    /// `tool_choice` as sent, `temperature`, `top_p`, `max_output_tokens`.
    pub echo: Map<String, Value>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid(message)
}

/// Checks `body` and returns the request.
pub fn parse(body: &Value) -> Result<ResponsesRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(invalid("The body must be a JSON object."));
    };
    if let Some(unknown) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(invalid(format!(
            "Unrecognized key: `{unknown}`; this endpoint takes {}.",
            KEYS.join(", ")
        )));
    }
    let model = match obj.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
        _ => {
            return Err(invalid(
                "Missing `model`. Use `openclaw` or `openclaw/<agentId>`.",
            ));
        }
    };
    let agent_id = agent_of_model(&model)?;
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("Invalid `stream`: use true or false.")),
    };
    let store = match obj.get("store") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("Invalid `store`: use true or false.")),
    };
    let user = optional_string(obj, "user")?;
    let previous_response_id = optional_string(obj, "previous_response_id")?;
    let instructions = optional_string(obj, "instructions")?;

    let mut system: Vec<String> = instructions.iter().cloned().collect();
    let turns = match obj.get("input") {
        Some(Value::String(text)) => vec![("user".to_owned(), text.clone())],
        Some(Value::Array(items)) => input_turns(items, &mut system)?,
        _ => {
            return Err(invalid(
                "Invalid `input`: send a string or an array of input items \
                 ({\"type\":\"message\",\"role\":\"user\",\"content\":…}).",
            ));
        }
    };
    let (message, context) = split_conversation(system, &turns, "input")?;

    let mut sampling = Map::new();
    let mut echo = Map::new();
    for (field, lo, hi) in [("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)] {
        if let Some(v) = number_in(body, field, lo, hi)? {
            sampling.insert(field.into(), v.clone());
            echo.insert(field.into(), v);
        }
    }
    match obj.get("max_output_tokens") {
        None | Some(Value::Null) => {}
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => {
                sampling.insert("max_completion_tokens".into(), json!(n));
                echo.insert("max_output_tokens".into(), json!(n));
            }
            _ => {
                return Err(invalid(
                    "Invalid `max_output_tokens`: use a whole number of at least 1.",
                ));
            }
        },
    }
    match obj.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) if m.len() <= 16 && m.values().all(Value::is_string) => {
            echo.insert("metadata".into(), Value::Object(m.clone()));
        }
        Some(_) => {
            return Err(invalid(
                "Invalid `metadata`: use an object of at most 16 string values.",
            ));
        }
    }
    if let Some(text) = instructions {
        echo.insert("instructions".into(), json!(text));
    }
    let tools = match obj.get("tools") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(all)) => {
            echo.insert("tools".into(), json!(all));
            all.iter()
                .enumerate()
                .map(|(i, t)| chat_tool(i, t))
                .collect::<Result<_, _>>()?
        }
        Some(_) => return Err(invalid("Invalid `tools`: use an array.")),
    };
    match obj.get("tool_choice") {
        None | Some(Value::Null) => {}
        Some(c @ Value::String(s)) if matches!(s.as_str(), "none" | "auto" | "required") => {
            sampling.insert("tool_choice".into(), c.clone());
            echo.insert("tool_choice".into(), c.clone());
        }
        Some(c @ Value::Object(o))
            if o.get("type") == Some(&json!("function"))
                && o.get("name").is_some_and(Value::is_string) =>
        {
            sampling.insert(
                "tool_choice".into(),
                json!({"type": "function", "function": {"name": o["name"]}}),
            );
            echo.insert("tool_choice".into(), c.clone());
        }
        Some(_) => {
            return Err(invalid(
                "Invalid `tool_choice`: use none, auto, required or {\"type\":\"function\",\"name\":…}.",
            ));
        }
    }
    if tools.is_empty() {
        sampling.remove("tool_choice");
    }
    Ok(ResponsesRequest {
        model,
        agent_id,
        message,
        context,
        stream,
        user,
        previous_response_id,
        store,
        tools,
        sampling,
        echo,
    })
}

fn optional_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(invalid(format!("Invalid `{field}`: use a string."))),
    }
}

/// The conversation of `input` items as (role, text) turns; `system`/`developer` messages go
/// to `system`.
fn input_turns(
    items: &[Value],
    system: &mut Vec<String>,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut turns = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let kind =
            item.get("type")
                .and_then(Value::as_str)
                .unwrap_or(if item.get("role").is_some() {
                    "message"
                } else {
                    ""
                });
        let text_of = |field: &str| -> Result<String, ApiError> {
            match item.get(field) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) if field == "content" => content_text(other).ok_or_else(|| {
                    invalid(format!(
                        "Invalid `input[{i}].content`: use a string or an array of input_text parts."
                    ))
                }),
                _ => Err(invalid(format!(
                    "Invalid `input[{i}].{field}`: use a string."
                ))),
            }
        };
        match kind {
            "message" => {
                let text = text_of("content")?;
                match item.get("role").and_then(Value::as_str) {
                    Some("system" | "developer") => system.push(text),
                    Some(role @ ("user" | "assistant")) => turns.push((role.to_owned(), text)),
                    _ => {
                        return Err(invalid(format!(
                            "Invalid `input[{i}].role`: use user, assistant, system or developer."
                        )));
                    }
                }
            }
            "function_call" => {
                let (id, name, arguments) =
                    (text_of("call_id")?, text_of("name")?, text_of("arguments")?);
                turns.push((
                    "assistant".to_owned(),
                    format!("[tool call {id} {name}({arguments})]"),
                ));
            }
            "function_call_output" => {
                let (id, output) = (text_of("call_id")?, text_of("output")?);
                turns.push((
                    "tool".to_owned(),
                    format!("[result of tool call {id}]\n{output}"),
                ));
            }
            other => {
                return Err(invalid(format!(
                    "Invalid `input[{i}].type` {other:?}: use message, function_call or function_call_output."
                )));
            }
        }
    }
    Ok(turns)
}

/// A Responses function tool (`{type, name, description, parameters, strict}`) in the chat
/// form the providers take.
fn chat_tool(i: usize, tool: &Value) -> Result<Value, ApiError> {
    let named = tool["name"].as_str().is_some_and(|n| !n.is_empty());
    if tool["type"] != "function" || !named {
        return Err(invalid(format!(
            "Invalid `tools[{i}]`: only function tools are supported \
             ({{\"type\":\"function\",\"name\":…,\"parameters\":…}})."
        )));
    }
    let mut function = Map::new();
    for key in ["name", "description", "parameters", "strict"] {
        if let Some(v) = tool.get(key).filter(|v| !v.is_null()) {
            function.insert(key.into(), v.clone());
        }
    }
    Ok(json!({"type": "function", "function": function}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_strict_and_model_and_input_are_required() {
        let e = parse(&json!({"model": "openclaw", "input": "hi", "foo_unknown": 1})).unwrap_err();
        assert_eq!(e.status.as_u16(), 400);
        assert!(
            e.message.starts_with("Unrecognized key: `foo_unknown`"),
            "{}",
            e.message
        );
        let e = parse(&json!({"input": "hi"})).unwrap_err();
        assert!(e.message.contains("Missing `model`"), "{}", e.message);
        let e = parse(&json!({"model": "gpt-4", "input": "hi"})).unwrap_err();
        assert!(e.message.contains("Invalid `model`"), "{}", e.message);
        let e = parse(&json!({"model": "openclaw"})).unwrap_err();
        assert!(e.message.contains("Invalid `input`"), "{}", e.message);
        let r = parse(&json!({"model": "openclaw/ops", "input": "hi"})).unwrap();
        assert_eq!(
            (r.agent_id.as_deref(), r.message.as_str(), r.store),
            (Some("ops"), "hi", true)
        );
    }

    #[test]
    fn input_items_give_the_new_message_and_the_rest_is_context() {
        let r = parse(&json!({"model": "openclaw", "instructions": "Be terse.", "input": [
            {"type": "message", "role": "developer", "content": "Metric units."},
            {"role": "user", "content": "weather?"},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "12 C"},
        ]}))
        .unwrap();
        assert_eq!(r.message, "[result of tool call c1]\n12 C");
        let context = r.context.unwrap();
        assert!(
            context.starts_with("Be terse.\n\nMetric units."),
            "{context}"
        );
        assert!(
            context.contains("user: weather?\nassistant: [tool call c1 get_weather({})]"),
            "{context}"
        );
        let r = parse(
            &json!({"model": "openclaw", "input": [{"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "part one"}]}]}),
        )
        .unwrap();
        assert_eq!(r.message, "part one");
        for (input, says) in [
            (
                json!([{"type": "message", "role": "assistant", "content": "x"}]),
                "Missing user message in `input`.",
            ),
            (json!([{"type": "reasoning"}]), "Invalid `input[0].type`"),
            (
                json!([{"role": "robot", "content": "x"}]),
                "Invalid `input[0].role`",
            ),
            (
                json!([{"type": "function_call_output", "call_id": 7, "output": "x"}]),
                "Invalid `input[0].call_id`",
            ),
        ] {
            let e = parse(&json!({"model": "openclaw", "input": input})).unwrap_err();
            assert!(e.message.contains(says), "{says}: {}", e.message);
        }
    }

    #[test]
    fn function_tools_are_converted_and_fields_are_range_checked() {
        let r = parse(
            &json!({"model": "openclaw", "input": "x", "tools": [{"type": "function",
            "name": "get_weather", "parameters": {"type": "object"}}],
            "tool_choice": {"type": "function", "name": "get_weather"}, "temperature": 1,
            "max_output_tokens": 100, "metadata": {"k": "v"}}),
        )
        .unwrap();
        assert_eq!(
            r.tools,
            vec![
                json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}})
            ]
        );
        assert_eq!(
            Value::Object(r.sampling),
            json!({"temperature": 1, "max_completion_tokens": 100,
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})
        );
        assert_eq!(r.echo["metadata"], json!({"k": "v"}));
        for (field, value) in [
            ("temperature", json!(3)),
            ("top_p", json!(2)),
            ("max_output_tokens", json!(0)),
            ("tools", json!([{"type": "web_search"}])),
            ("tool_choice", json!("sometimes")),
            ("stream", json!(1)),
            ("store", json!("no")),
            ("metadata", json!({"k": 1})),
            ("previous_response_id", json!(5)),
        ] {
            let mut body = json!({"model": "openclaw", "input": "x"});
            body[field] = value;
            let e = parse(&body).unwrap_err();
            assert!(
                e.message.contains(&format!("`{field}")),
                "{field}: {}",
                e.message
            );
        }
    }
}
