//! `models.*` and the agent keys of `agents.*` (agent-runtime.md §1): model providers, their
//! models, and which model each agent uses. Like the rest of the typed config, every unknown key
//! is kept; what the keys must mean (a known `api`, a model that exists) is checked by the agent
//! runtime's catalog, which reports each problem with its key path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{OtherKeys, SecretInput};

/// `models.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsConfig {
    /// `models.mode`: `merge` or `replace` (with built-in catalogues; there are none here, so
    /// both mean "as written").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `models.providers.<id>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `models.providers.<id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// `baseUrl`, e.g. `http://127.0.0.1:8000/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// `apiKey`: a literal, a `${VAR}` (substituted at load) or a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<SecretInput>,
    /// `api` (default `openai-completions` when `baseUrl` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// The budget of one HTTP request to this provider, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Its models.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelEntry>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `models.providers.<id>.models[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
    /// The provider-local id (may contain `/`).
    pub id: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The context window, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// The reply budget, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Input kinds (`text`, `image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<String>>,
    /// Whether it reasons ("thinks").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
    /// Server quirks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat: Option<ModelCompat>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// `…models[].compat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCompat {
    /// The request field of the reply budget (default `max_completion_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_field: Option<String>,
    /// Whether the server accepts `stream_options.include_usage` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_usage_in_streaming: Option<bool>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}

/// An agent's model: `"provider/model"` or `{primary, fallbacks}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModelSetting {
    /// One model.
    Single(String),
    /// A primary model and the ones tried after it, in order.
    Chain {
        /// The primary model.
        primary: String,
        /// The fallbacks.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fallbacks: Vec<String>,
    },
}

impl ModelSetting {
    /// The primary model, then the fallbacks.
    pub fn chain(&self) -> Vec<&str> {
        match self {
            Self::Single(m) => vec![m.as_str()],
            Self::Chain { primary, fallbacks } => std::iter::once(primary.as_str())
                .chain(fallbacks.iter().map(String::as_str))
                .collect(),
        }
    }
}

/// `agents.entries.<id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentEntry {
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its model (else the defaults').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSetting>,
    /// Its workspace (else the defaults').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Its whole-turn budget in seconds (else the defaults'); 0 = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Every other key.
    #[serde(flatten)]
    pub other: OtherKeys,
}
