//! Model providers: one streaming chat call to a provider's API (`openai_completions`), the
//! classification of its failures into the reasons of agent-runtime.md §2.2 (`failure`), and the
//! attempts over a primary model and its fallbacks (`attempts`).
//!
//! What a caller hands in is plain data ([`Endpoint`], [`ChatRequest`]); what comes back is the
//! accumulated [`Completion`] or a [`Failure`], with every [`StreamEvent`] passed to the caller's
//! sink as it arrives. Cancelling the caller's token drops the upstream connection.

pub mod attempts;
pub mod failure;
pub mod openai_completions;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::contract::secret::Secret;

pub use self::failure::{Failure, FailureReason};

/// A model reference `provider/model`, split at the first `/` (`mlx/org/Model-7B` is provider
/// `mlx`, model `org/Model-7B`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelRef {
    /// The provider id.
    pub provider: String,
    /// The provider-local model id.
    pub model: String,
}

impl ModelRef {
    /// Parses `provider/model`; `None` when either side is empty or there is no `/`.
    pub fn parse(text: &str) -> Option<Self> {
        let (provider, model) = text.trim().split_once('/')?;
        (!provider.is_empty() && !model.is_empty()).then(|| Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// Where and how to reach one model of a provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The model, for logs and errors.
    pub model: ModelRef,
    /// `baseUrl` (without the trailing `/chat/completions`).
    pub base_url: String,
    /// `apiKey`, sent as `Authorization: Bearer` (none: no header).
    pub api_key: Option<Secret>,
    /// Extra request headers (`headers`).
    pub headers: BTreeMap<String, String>,
    /// The reply budget (`maxTokens`), sent as `max_completion_tokens` or the `compat` field.
    pub max_tokens: Option<u64>,
    /// `compat.maxTokensField` (`max_completion_tokens` by default).
    pub max_tokens_field: String,
    /// `compat.supportsUsageInStreaming` (true by default).
    pub usage_in_streaming: bool,
    /// The timeouts of one request.
    pub timeouts: Timeouts,
}

/// The timeouts of one upstream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the connection.
    pub connect: Duration,
    /// The longest wait for the response head, the first byte, or between two chunks.
    pub idle: Duration,
    /// The whole request (the provider's `timeoutSeconds`).
    pub total: Duration,
}

impl Default for Timeouts {
    /// Connect 10 s; idle 120 s (cold-starting local models need minutes); total 300 s.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            idle: Duration::from_secs(120),
            total: Duration::from_secs(300),
        }
    }
}

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// Its text.
    pub content: String,
}

impl ChatMessage {
    /// A message of `role` with `content`.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_owned(),
            content: content.into(),
        }
    }
}

/// What one model call sends besides the endpoint's own settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    /// System prompt first, then the history, then the new user message.
    pub messages: Vec<ChatMessage>,
    /// Function tools offered to the model (OpenAI `tools` items); none: no `tools` field.
    pub tools: Vec<serde_json::Value>,
    /// `temperature`, `top_p`, `stop`, `seed`, … as the caller set them.
    pub sampling: serde_json::Map<String, serde_json::Value>,
}

/// One piece of a streamed answer, as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// Answer text.
    Text(String),
    /// Reasoning ("thinking") text.
    Reasoning(String),
    /// A fragment of a tool call (`index` says which call).
    ToolCall {
        /// Which call of this answer.
        index: usize,
        /// Its id (first fragment).
        id: Option<String>,
        /// The function's name (first fragment).
        name: Option<String>,
        /// A fragment of the JSON arguments.
        arguments: String,
    },
}

/// A tool call the model asked for, put together from its fragments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ToolCall {
    /// The call id.
    pub id: String,
    /// The function's name.
    pub name: String,
    /// The JSON arguments, as text.
    pub arguments: String,
}

/// Token counts the provider reported (zero when it did not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Prompt tokens.
    pub input: u64,
    /// Completion tokens.
    pub output: u64,
    /// Prompt tokens served from the provider's cache.
    pub cache_read: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write: u64,
    /// All of them.
    pub total: u64,
}

/// A model's whole answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// The model that answered.
    pub model: Option<ModelRef>,
    /// Answer text.
    pub text: String,
    /// Reasoning text.
    pub reasoning: String,
    /// Tool calls, in order.
    pub tool_calls: Vec<ToolCall>,
    /// `stop`, `length`, `tool_calls`, `content_filter` (none when the stream ended without one).
    pub finish_reason: Option<String>,
    /// Token counts.
    pub usage: Usage,
}

impl Completion {
    /// Whether any text, reasoning or tool call arrived (a failure after this is not retried).
    pub fn has_output(&self) -> bool {
        !self.text.is_empty() || !self.reasoning.is_empty() || !self.tool_calls.is_empty()
    }

    /// Adds one streamed piece.
    pub fn absorb(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Text(t) => self.text.push_str(t),
            StreamEvent::Reasoning(t) => self.reasoning.push_str(t),
            StreamEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            } => {
                if self.tool_calls.len() <= *index {
                    self.tool_calls.resize(index + 1, ToolCall::default());
                }
                let call = &mut self.tool_calls[*index];
                if let Some(id) = id {
                    call.id.clone_from(id);
                }
                if let Some(name) = name {
                    call.name.push_str(name);
                }
                call.arguments.push_str(arguments);
            }
        }
    }
}

/// Idle connections kept per provider host.
pub const IDLE_CONNECTIONS_PER_HOST: usize = 8;
/// How long an idle provider connection is kept.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// The one HTTP client of the gateway's provider calls (connection pool; rustls with aws-lc-rs
/// and the platform's certificate roots). `connect` is the connect timeout.
pub fn http_client(connect: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(connect)
        // A burst of concurrent runs opens one connection each; keep a few for the next turns,
        // not every one of them with its buffers for minutes.
        .pool_max_idle_per_host(IDLE_CONNECTIONS_PER_HOST)
        .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
        .user_agent(concat!("openclaw-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_reference_splits_at_the_first_slash() {
        let m = ModelRef::parse("mlx/org/Model-7B").unwrap();
        assert_eq!(
            (m.provider.as_str(), m.model.as_str()),
            ("mlx", "org/Model-7B")
        );
        assert_eq!(m.to_string(), "mlx/org/Model-7B");
        for bad in ["", "local", "/m", "local/", " / "] {
            assert_eq!(ModelRef::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tool_call_fragments_are_put_together_by_index() {
        let mut c = Completion::default();
        for e in [
            StreamEvent::ToolCall {
                index: 1,
                id: Some("b".into()),
                name: Some("second".into()),
                arguments: "{\"y\":".into(),
            },
            StreamEvent::ToolCall {
                index: 0,
                id: Some("a".into()),
                name: Some("first".into()),
                arguments: "{}".into(),
            },
            StreamEvent::ToolCall {
                index: 1,
                id: None,
                name: None,
                arguments: "2}".into(),
            },
        ] {
            c.absorb(&e);
        }
        assert_eq!(c.tool_calls[0].name, "first");
        assert_eq!(c.tool_calls[1].arguments, "{\"y\":2}");
        assert!(c.has_output());
    }
}
