//! The catalog: the agents and models the config describes, resolved into what a run needs
//! (each agent's model chain as provider [`Endpoint`]s), and every problem found on the way,
//! named by its key path so the loader can point at the file and line.
//!
//! A problem never stops the gateway (a config from another OpenClaw release may name built-in
//! providers this gateway does not have): it is logged at load and reload, and a run of an agent
//! whose model is unusable ends at once with a final error naming the model and the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, ModelEntry, ModelSetting, ProviderConfig, SecretInput};
use crate::contract::secret::Secret;
use crate::environment::Environment;
use crate::gateway::provider::{Endpoint, ModelRef, Timeouts};

/// The agent used when a request names none.
pub const DEFAULT_AGENT_ID: &str = "main";
/// The whole-turn budget when the config sets none: 10 minutes (the reference's 48 hours lets a
/// stuck turn hold its session for days).
pub const DEFAULT_TURN_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest `agents.defaults.maxConcurrent`.
pub const MAX_CONCURRENT_LIMIT: u64 = 1024;
/// The only provider API this gateway speaks so far.
pub const OPENAI_COMPLETIONS: &str = "openai-completions";

/// One problem of the config's agent and model keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// Where (`agents.defaults.model.primary`, `models.providers.local.baseUrl`, …).
    pub key_path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// One model, ready to call.
#[derive(Debug, Clone)]
pub struct CatalogModel {
    /// How to reach it.
    pub endpoint: Endpoint,
    /// Its display name.
    pub name: Option<String>,
    /// Its context window, in tokens.
    pub context_window: Option<u64>,
    /// Whether it reasons.
    pub reasoning: bool,
    /// Input kinds.
    pub input: Vec<String>,
}

/// One agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: Option<String>,
    /// Its models as configured (`provider/model`), primary first.
    pub models: Vec<String>,
    /// Its workspace folder.
    pub workspace: Option<PathBuf>,
    /// Its whole-turn budget (`None`: no limit).
    pub turn_timeout: Option<Duration>,
}

/// The resolved agents and models.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    agents: BTreeMap<String, Agent>,
    /// `agents.defaults.maxConcurrent` (`None`: the default).
    max_concurrent: Option<usize>,
    models: BTreeMap<String, CatalogModel>,
    problems: Vec<Problem>,
}

fn valid_id(id: &str, max: usize) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.len() <= max
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl Catalog {
    /// Resolves `config` (`env` answers secret references; `home` expands `~`).
    pub fn build(config: &Config, env: &Environment, home: &Path) -> Self {
        let mut catalog = Self::default();
        if let Some(models) = &config.models {
            for (id, provider) in &models.providers {
                catalog.add_provider(id, provider, env);
            }
        }
        let agents = config.agents.as_ref();
        let defaults = agents.and_then(|a| a.defaults.as_ref());
        let default_models = defaults.and_then(|d| d.model.as_ref());
        let default_workspace = defaults.and_then(|d| d.workspace.as_deref());
        let default_timeout = defaults.and_then(|d| d.timeout_seconds);
        match defaults.and_then(|d| d.max_concurrent) {
            Some(n @ 1..=MAX_CONCURRENT_LIMIT) => catalog.max_concurrent = Some(n as usize),
            Some(n) => catalog.problem(
                "agents.defaults.maxConcurrent",
                format!("{n} is out of range: use 1 to {MAX_CONCURRENT_LIMIT} (sessions streaming at the same time)"),
            ),
            None => {}
        }
        if let Some(setting) = default_models {
            catalog.check_models("agents.defaults.model", setting);
        }
        let mut entries: Vec<(String, Option<&crate::config::AgentEntry>)> = agents
            .map(|a| {
                a.entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(v)))
                    .collect()
            })
            .unwrap_or_default();
        if !entries.iter().any(|(id, _)| id == DEFAULT_AGENT_ID) {
            entries.push((DEFAULT_AGENT_ID.to_owned(), None));
        }
        for (id, entry) in entries {
            let key = format!("agents.entries.{id}");
            if !valid_id(&id, 64) {
                catalog.problem(
                    &key,
                    format!("agent id {id:?} is not valid: use lower-case letters, digits, '_' and '-' (at most 64, starting with a letter or digit)"),
                );
                continue;
            }
            if let Some(setting) = entry.and_then(|e| e.model.as_ref()) {
                catalog.check_models(&format!("{key}.model"), setting);
            }
            let setting = entry.and_then(|e| e.model.as_ref()).or(default_models);
            let seconds = entry.and_then(|e| e.timeout_seconds).or(default_timeout);
            let workspace = entry
                .and_then(|e| e.workspace.as_deref())
                .or(default_workspace)
                .map(|w| expand_home(w, home));
            catalog.agents.insert(
                id.clone(),
                Agent {
                    id,
                    name: entry.and_then(|e| e.name.clone()),
                    models: setting
                        .map(|s| s.chain().into_iter().map(str::to_owned).collect())
                        .unwrap_or_default(),
                    workspace,
                    turn_timeout: match seconds {
                        Some(0) => None,
                        Some(s) => Some(Duration::from_secs(s)),
                        None => Some(DEFAULT_TURN_TIMEOUT),
                    },
                },
            );
        }
        catalog
    }

    fn problem(&mut self, key_path: &str, message: String) {
        self.problems.push(Problem {
            key_path: key_path.to_owned(),
            message,
        });
    }

    fn add_provider(&mut self, id: &str, provider: &ProviderConfig, env: &Environment) {
        let key = format!("models.providers.{id}");
        if !valid_id(id, 64) {
            return self.problem(
                &key,
                format!(
                    "provider id {id:?} is not valid: use lower-case letters, digits, '_' and '-'"
                ),
            );
        }
        let api = provider.api.as_deref().unwrap_or(OPENAI_COMPLETIONS);
        if api != OPENAI_COMPLETIONS {
            return self.problem(
                &format!("{key}.api"),
                format!("api {api:?} is not supported by this gateway yet: use \"{OPENAI_COMPLETIONS}\" (vLLM, llama.cpp, LM Studio, Ollama /v1, OpenAI, OpenRouter, LiteLLM speak it)"),
            );
        }
        let Some(base_url) = provider.base_url.as_deref().map(str::trim).filter(|u| {
            (u.starts_with("http://") || u.starts_with("https://"))
                && reqwest::Url::parse(u).is_ok()
        }) else {
            return self.problem(
                &format!("{key}.baseUrl"),
                "baseUrl must be an http:// or https:// URL, e.g. \"http://127.0.0.1:8000/v1\""
                    .to_owned(),
            );
        };
        let api_key = match resolve_key(provider.api_key.as_ref(), env) {
            Ok(k) => k,
            Err(message) => return self.problem(&format!("{key}.apiKey"), message),
        };
        let timeouts = Timeouts {
            total: provider
                .timeout_seconds
                .filter(|s| *s > 0)
                .map_or(Timeouts::default().total, Duration::from_secs),
            ..Timeouts::default()
        };
        let timeouts = Timeouts {
            idle: timeouts.idle.min(timeouts.total),
            ..timeouts
        };
        for (i, model) in provider.models.iter().enumerate() {
            let model_key = format!("{key}.models.{i}.id");
            let reference = format!("{id}/{}", model.id.trim());
            let Some(model_ref) = ModelRef::parse(&reference) else {
                self.problem(&model_key, "a model needs a non-empty id".to_owned());
                continue;
            };
            if self.models.contains_key(&reference) {
                self.problem(&model_key, format!("model {reference} is listed twice"));
                continue;
            }
            self.models.insert(
                reference,
                catalog_model(model_ref, model, provider, base_url, &api_key, timeouts),
            );
        }
    }

    fn check_models(&mut self, key: &str, setting: &ModelSetting) {
        let keys: Vec<String> = match setting {
            ModelSetting::Single(_) => vec![key.to_owned()],
            ModelSetting::Chain { fallbacks, .. } => std::iter::once(format!("{key}.primary"))
                .chain((0..fallbacks.len()).map(|i| format!("{key}.fallbacks.{i}")))
                .collect(),
        };
        for (model, key) in setting.chain().into_iter().zip(keys) {
            if let Err(message) = self.model_error(model) {
                self.problem(&key, message);
            }
        }
    }

    /// Why `model` (`provider/model`) cannot be called, with the fix.
    fn model_error(&self, model: &str) -> Result<(), String> {
        if self.models.contains_key(model.trim()) {
            return Ok(());
        }
        let Some(r) = ModelRef::parse(model) else {
            return Err(format!(
                "model {model:?} is not a provider/model reference (e.g. \"local/my-model\")"
            ));
        };
        let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
        let has_provider = self
            .models
            .keys()
            .any(|k| k.starts_with(&format!("{}/", r.provider)));
        let fix = if known.is_empty() {
            "configure it under models.providers (see agent-runtime docs: baseUrl, api \"openai-completions\", models[].id)".to_owned()
        } else {
            format!("configured models: {}", known.join(", "))
        };
        Err(if has_provider {
            format!(
                "unknown model {model}: provider {} has no model {:?}; {fix}",
                r.provider, r.model
            )
        } else {
            format!(
                "unknown model {model}: no provider {:?} is configured; {fix}",
                r.provider
            )
        })
    }

    /// `agents.defaults.maxConcurrent` when it is set (and valid).
    pub fn max_concurrent(&self) -> Option<usize> {
        self.max_concurrent
    }

    /// The problems found, in config order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The agent `id`.
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.agents.get(id)
    }

    /// Every agent, by id.
    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    /// Every model, by `provider/model`.
    pub fn models(&self) -> impl Iterator<Item = (&String, &CatalogModel)> {
        self.models.iter()
    }

    /// The model `provider/model`.
    pub fn model(&self, reference: &str) -> Option<&CatalogModel> {
        self.models.get(reference)
    }

    /// The endpoints a run of `agent` calls, primary first (`model_override`: a session's or a
    /// request's model instead of the agent's primary); an error naming the model and the fix
    /// when one of them is unusable or none is configured.
    pub fn endpoints(
        &self,
        agent: &Agent,
        model_override: Option<&str>,
    ) -> Result<Vec<Endpoint>, String> {
        let chain: Vec<&str> = match model_override {
            Some(m) => std::iter::once(m)
                .chain(agent.models.iter().skip(1).map(String::as_str))
                .collect(),
            None => agent.models.iter().map(String::as_str).collect(),
        };
        if chain.is_empty() {
            return Err(format!(
                "agent {} has no model: set agents.defaults.model (or agents.entries.{}.model) to a configured provider/model",
                agent.id, agent.id
            ));
        }
        chain
            .into_iter()
            .map(|m| {
                self.model_error(m)?;
                Ok(self.models[m.trim()].endpoint.clone())
            })
            .collect()
    }
}

fn catalog_model(
    model_ref: ModelRef,
    model: &ModelEntry,
    provider: &ProviderConfig,
    base_url: &str,
    api_key: &Option<Secret>,
    timeouts: Timeouts,
) -> CatalogModel {
    let compat = model.compat.as_ref();
    CatalogModel {
        endpoint: Endpoint {
            model: model_ref,
            base_url: base_url.to_owned(),
            api_key: api_key.clone(),
            headers: provider.headers.clone().unwrap_or_default(),
            max_tokens: model.max_tokens,
            max_tokens_field: compat
                .and_then(|c| c.max_tokens_field.clone())
                .unwrap_or_else(|| "max_completion_tokens".to_owned()),
            usage_in_streaming: compat
                .and_then(|c| c.supports_usage_in_streaming)
                .unwrap_or(true),
            timeouts,
        },
        name: model.name.clone(),
        context_window: model.context_window,
        reasoning: model.reasoning.unwrap_or(false),
        input: model
            .input
            .clone()
            .unwrap_or_else(|| vec!["text".to_owned()]),
    }
}

/// The key of a provider: none, a literal (already `${VAR}`-substituted) or an env/file reference.
fn resolve_key(input: Option<&SecretInput>, env: &Environment) -> Result<Option<Secret>, String> {
    match input {
        None => Ok(None),
        Some(input) => Ok(input.resolve(env, "apiKey")?.map(|(secret, _)| secret)),
    }
}

fn expand_home(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None if path == "~" => home.to_owned(),
        None => PathBuf::from(path),
    }
}
