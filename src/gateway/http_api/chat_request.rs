//! A `POST /v1/chat/completions` body checked and turned into what a run needs
//! (agent-runtime.md §6.1, **wire**): the agent named by `model`, the new message, the client's
//! earlier messages and system texts as context, the honoured fields with their ranges.

use serde_json::{Map, Value, json};

use super::errors::ApiError;

/// What the request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    /// `model` as the client sent it (echoed in the answer); `openclaw` when missing.
    pub model: String,
    /// The agent it names (`None`: the default agent).
    pub agent_id: Option<String>,
    /// The new message (the last `user` or `tool` entry).
    pub message: String,
    /// `system`/`developer` texts, then the earlier messages, as more system prompt.
    pub context: Option<String>,
    /// `stream`.
    pub stream: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// `user`.
    pub user: Option<String>,
    /// Function tools for the model, as sent.
    pub tools: Vec<Value>,
    /// `temperature`, `top_p`, `stop`, `seed`, `tool_choice`, `max_completion_tokens`.
    pub sampling: Map<String, Value>,
}

/// The agent `model` names: `Ok(None)` for the default agent.
pub fn agent_of_model(model: &str) -> Result<Option<String>, ApiError> {
    let model = model.trim();
    let id = match model {
        "openclaw" | "openclaw/default" => return Ok(None),
        _ => model
            .strip_prefix("openclaw/")
            .or_else(|| model.strip_prefix("openclaw:"))
            .or_else(|| model.strip_prefix("agent:")),
    };
    match id {
        Some(id) if !id.is_empty() => Ok(Some(id.to_ascii_lowercase())),
        _ => Err(ApiError::invalid(
            "Invalid `model`. Use `openclaw` or `openclaw/<agentId>`.",
        )),
    }
}

/// The text of a message's `content`: a string, or the `text` parts of an array.
pub(super) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                    Some("text" | "input_text" | "output_text") => {
                        p.get("text").and_then(Value::as_str)
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// The new message (the last non-blank `user` or `tool` turn) and the context a run gets:
/// the system texts, then the turns before it as one block. 400 naming `field` without one.
pub(super) fn split_conversation(
    system: Vec<String>,
    turns: &[(String, String)],
    field: &str,
) -> Result<(String, Option<String>), ApiError> {
    let last = turns.iter().rposition(|(role, text)| {
        matches!(role.as_str(), "user" | "tool") && !text.trim().is_empty()
    });
    let Some(last) = last else {
        return Err(ApiError::invalid(format!(
            "Missing user message in `{field}`."
        )));
    };
    let earlier: Vec<String> = turns[..last]
        .iter()
        .map(|(role, text)| format!("{role}: {text}"))
        .collect();
    let mut context = system;
    if !earlier.is_empty() {
        context.push(format!(
            "The conversation so far, as the client sent it:\n{}",
            earlier.join("\n")
        ));
    }
    let context = (!context.is_empty()).then(|| context.join("\n\n"));
    Ok((turns[last].1.clone(), context))
}

pub(super) fn number_in(
    body: &Value,
    field: &str,
    lo: f64,
    hi: f64,
) -> Result<Option<Value>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(x) if (lo..=hi).contains(&x) => Ok(Some(v.clone())),
            _ => Err(ApiError::invalid(format!(
                "Invalid `{field}`: use a number from {lo} to {hi}."
            ))),
        },
    }
}

/// Checks `body` and returns the request.
pub fn parse(body: &Value) -> Result<CompletionRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::invalid("The body must be a JSON object."));
    };
    let model = match obj.get("model") {
        None | Some(Value::Null) => "openclaw".to_owned(),
        Some(Value::String(m)) => m.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid `model`. Use `openclaw` or `openclaw/<agentId>`.",
            ));
        }
    };
    let agent_id = agent_of_model(&model)?;
    let flag = |field: &str| -> Result<bool, ApiError> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::invalid(format!(
                "Invalid `{field}`: use true or false."
            ))),
        }
    };
    let stream = flag("stream")?;
    let include_usage = match obj.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => match o.get("include_usage") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ApiError::invalid(
                    "Invalid `stream_options.include_usage`: use true or false.",
                ));
            }
        },
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid `stream_options`: use an object.",
            ));
        }
    };
    let user = match obj.get("user") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) if !u.trim().is_empty() => Some(u.trim().to_owned()),
        Some(Value::String(_)) => None,
        Some(_) => return Err(ApiError::invalid("Invalid `user`: use a string.")),
    };

    let Some(messages) = obj.get("messages").and_then(Value::as_array) else {
        return Err(ApiError::invalid(
            "Missing `messages`: send an array of {role, content} messages.",
        ));
    };
    let mut system = Vec::new();
    let mut turns: Vec<(String, String)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        let Some(text) = m
            .get("content")
            .and_then(content_text)
            .or_else(|| m.get("content").is_none().then(String::new))
        else {
            return Err(ApiError::invalid(format!(
                "Invalid `messages[{i}].content`: use a string or an array of text parts."
            )));
        };
        match role {
            "system" | "developer" => system.push(text),
            "user" | "assistant" | "tool" => {
                let mut text = text;
                if role == "assistant"
                    && let Some(calls) = m.get("tool_calls").and_then(Value::as_array)
                {
                    for c in calls {
                        text.push_str(&format!(
                            "\n[tool call {} {}({})]",
                            c["id"].as_str().unwrap_or_default(),
                            c["function"]["name"].as_str().unwrap_or_default(),
                            c["function"]["arguments"].as_str().unwrap_or_default()
                        ));
                    }
                }
                if role == "tool"
                    && let Some(id) = m.get("tool_call_id").and_then(Value::as_str)
                {
                    text = format!("[result of tool call {id}]\n{text}");
                }
                turns.push((role.to_owned(), text));
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid `messages[{i}].role`: use system, developer, user, assistant or tool."
                )));
            }
        }
    }
    let (message, context) = split_conversation(system, &turns, "messages")?;

    let mut sampling = Map::new();
    if let Some(v) = number_in(body, "temperature", 0.0, 2.0)? {
        sampling.insert("temperature".into(), v);
    }
    if let Some(v) = number_in(body, "top_p", 0.0, 1.0)? {
        sampling.insert("top_p".into(), v);
    }
    for field in ["max_completion_tokens", "max_tokens"] {
        match obj.get(field) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => {
                    sampling
                        .entry("max_completion_tokens")
                        .or_insert_with(|| json!(n));
                }
                _ => {
                    return Err(ApiError::invalid(format!(
                        "Invalid `{field}`: use a whole number of at least 1."
                    )));
                }
            },
        }
    }
    match obj.get("stop") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            sampling.insert("stop".into(), json!(s));
        }
        Some(Value::Array(all)) if all.len() <= 4 && all.iter().all(Value::is_string) => {
            sampling.insert("stop".into(), json!(all));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid `stop`: use a string or an array of at most 4 strings.",
            ));
        }
    }
    match obj.get("seed") {
        None | Some(Value::Null) => {}
        Some(v) if v.is_i64() || v.is_u64() => {
            sampling.insert("seed".into(), v.clone());
        }
        Some(_) => return Err(ApiError::invalid("Invalid `seed`: use an integer.")),
    }
    let tools = match obj.get("tools") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(all)) => {
            for (i, t) in all.iter().enumerate() {
                let named = t["function"]["name"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty());
                if t["type"] != "function" || !named {
                    return Err(ApiError::invalid(format!(
                        "Invalid `tools[{i}]`: only function tools are supported \
                         ({{\"type\":\"function\",\"function\":{{\"name\":…}}}})."
                    )));
                }
            }
            all.clone()
        }
        Some(_) => return Err(ApiError::invalid("Invalid `tools`: use an array.")),
    };
    match obj.get("tool_choice") {
        None | Some(Value::Null) => {}
        Some(Value::String(c)) if matches!(c.as_str(), "none" | "auto" | "required") => {
            sampling.insert("tool_choice".into(), json!(c));
        }
        Some(c @ Value::Object(_))
            if c["type"] == "function" && c["function"]["name"].is_string() =>
        {
            sampling.insert("tool_choice".into(), c.clone());
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid `tool_choice`: use none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}.",
            ));
        }
    }
    if sampling.contains_key("tool_choice") && tools.is_empty() {
        sampling.remove("tool_choice");
    }
    Ok(CompletionRequest {
        model,
        agent_id,
        message,
        context,
        stream,
        include_usage,
        user,
        tools,
        sampling,
    })
}

/// The session a request runs in: the `x-openclaw-session-key` header, else one per `user`,
/// else a new one.
pub fn session_key(agent_id: &str, header: Option<&str>, user: Option<&str>) -> String {
    if let Some(key) = header.map(str::trim).filter(|k| !k.is_empty()) {
        return key.to_owned();
    }
    match user {
        Some(u) => format!("agent:{agent_id}:openai-user:{}", u.to_lowercase()),
        None => format!("agent:{agent_id}:openai:{}", uuid::Uuid::new_v4()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Value {
        json!({"messages": [{"role": "user", "content": text}]})
    }

    #[test]
    fn model_names_pick_the_agent_and_anything_else_is_refused() {
        for (model, agent) in [
            ("openclaw", None),
            ("openclaw/default", None),
            ("openclaw/ops", Some("ops")),
            ("openclaw:ops", Some("ops")),
            ("agent:Ops", Some("ops")),
        ] {
            assert_eq!(agent_of_model(model).unwrap().as_deref(), agent, "{model}");
        }
        for bad in ["gpt-4o", "openclaw/", "", "local/fake-model"] {
            let e = agent_of_model(bad).unwrap_err();
            assert_eq!(e.status.as_u16(), 400);
            assert!(
                e.message.contains("Invalid `model`"),
                "{bad}: {}",
                e.message
            );
        }
        assert_eq!(parse(&msg("hi")).unwrap().model, "openclaw");
    }

    #[test]
    fn the_last_user_message_is_the_message_and_the_rest_is_context() {
        let r = parse(&json!({"model": "openclaw", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "answer"},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {"role": "user", "content": [{"type": "text", "text": "second"}]},
        ]}))
        .unwrap();
        assert_eq!(r.message, "second");
        let context = r.context.unwrap();
        assert!(
            context.starts_with("Be brief.\n\nUse metric units."),
            "{context}"
        );
        assert!(
            context.contains("user: first\nassistant: answer"),
            "{context}"
        );
        let e = parse(&json!({"messages": [{"role": "system", "content": "x"}]})).unwrap_err();
        assert_eq!(e.message, "Missing user message in `messages`.");
    }

    #[test]
    fn honoured_fields_are_range_checked_by_name() {
        let r = parse(
            &json!({"messages": [{"role": "user", "content": "x"}], "temperature": 0.5,
            "top_p": 1, "max_tokens": 64, "stop": ["\n"], "seed": 7, "stream": true,
            "stream_options": {"include_usage": true}, "user": "Alice"}),
        )
        .unwrap();
        assert!(r.stream && r.include_usage);
        assert_eq!(r.user.as_deref(), Some("Alice"));
        assert_eq!(
            Value::Object(r.sampling),
            json!({"temperature": 0.5, "top_p": 1, "max_completion_tokens": 64, "stop": ["\n"], "seed": 7})
        );
        for (field, value) in [
            ("temperature", json!(2.5)),
            ("top_p", json!(-0.1)),
            ("max_tokens", json!(0)),
            ("max_completion_tokens", json!("many")),
            ("stop", json!(["a", "b", "c", "d", "e"])),
            ("seed", json!(1.5)),
            ("stream", json!("yes")),
            ("tools", json!([{"type": "code_interpreter"}])),
            ("tool_choice", json!("sometimes")),
        ] {
            let mut body = msg("x");
            body[field] = value;
            let e = parse(&body).unwrap_err();
            assert_eq!(e.status.as_u16(), 400);
            assert!(
                e.message.contains(&format!("`{field}")),
                "{field}: {}",
                e.message
            );
        }
    }

    #[test]
    fn function_tools_pass_through_with_their_choice() {
        let tool = json!({"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
        let mut body = msg("weather?");
        body["tools"] = json!([tool]);
        body["tool_choice"] = json!("required");
        let r = parse(&body).unwrap();
        assert_eq!(r.tools, vec![tool]);
        assert_eq!(r.sampling["tool_choice"], "required");
    }

    #[test]
    fn sessions_come_from_the_header_then_the_user_then_a_new_key() {
        assert_eq!(
            session_key("main", Some("agent:main:x"), Some("bob")),
            "agent:main:x"
        );
        assert_eq!(
            session_key("main", None, Some("Bob")),
            "agent:main:openai-user:bob"
        );
        let fresh = session_key("ops", Some("  "), None);
        assert!(fresh.starts_with("agent:ops:openai:"), "{fresh}");
        assert_ne!(fresh, session_key("ops", None, None));
    }
}
