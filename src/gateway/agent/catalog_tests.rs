use std::path::Path;

use serde_json::json;

use super::catalog::*;
use crate::config::Config;
use crate::environment::Environment;

fn catalog(config: serde_json::Value) -> Catalog {
    let config: Config = serde_json::from_value(config).unwrap();
    let env = Environment::empty().with("LLM_KEY", "sk-from-env");
    Catalog::build(&config, &env, Path::new("/home/u"))
}

fn providers() -> serde_json::Value {
    json!({
        "local": {"baseUrl": "http://127.0.0.1:8000/v1", "apiKey": "sk-local",
            "headers": {"X-Extra": "v"}, "timeoutSeconds": 30,
            "models": [{"id": "my-model", "name": "My model", "contextWindow": 32768, "maxTokens": 4096,
                "compat": {"maxTokensField": "max_tokens", "supportsUsageInStreaming": false}},
                {"id": "org/Model-7B"}]},
        "other": {"baseUrl": "https://api.example.com/v1",
            "apiKey": {"source": "env", "id": "LLM_KEY"}, "models": [{"id": "model-b"}]},
    })
}

#[test]
fn agents_resolve_their_model_chain_into_endpoints() {
    let c = catalog(json!({
        "models": {"providers": providers()},
        "agents": {
            "defaults": {"model": {"primary": "local/my-model", "fallbacks": ["other/model-b"]},
                "timeoutSeconds": 120, "workspace": "~/.openclaw/workspace"},
            "entries": {"ops": {"name": "Ops", "model": "local/org/Model-7B", "timeoutSeconds": 0}},
        },
    }));
    assert!(c.problems().is_empty(), "{:?}", c.problems());
    let main = c
        .agent(DEFAULT_AGENT_ID)
        .expect("main exists without an entry");
    assert_eq!(main.models, ["local/my-model", "other/model-b"]);
    assert_eq!(main.turn_timeout, Some(std::time::Duration::from_secs(120)));
    assert_eq!(
        main.workspace.as_deref(),
        Some(Path::new("/home/u/.openclaw/workspace"))
    );
    let endpoints = c.endpoints(main, None).unwrap();
    assert_eq!(endpoints[0].model.to_string(), "local/my-model");
    assert_eq!(endpoints[0].max_tokens_field, "max_tokens");
    assert!(!endpoints[0].usage_in_streaming);
    assert_eq!(endpoints[0].timeouts.total.as_secs(), 30);
    assert_eq!(endpoints[0].headers["X-Extra"], "v");
    assert_eq!(
        endpoints[1].api_key.as_ref().map(|k| k.expose()),
        Some("sk-from-env")
    );
    let ops = c.agent("ops").unwrap();
    assert_eq!(ops.turn_timeout, None, "0 = no limit");
    assert_eq!(
        c.endpoints(ops, None).unwrap()[0].model.model,
        "org/Model-7B"
    );
    let swapped = c.endpoints(main, Some("other/model-b")).unwrap();
    assert_eq!(swapped[0].model.to_string(), "other/model-b");
}

#[test]
fn an_unknown_model_is_a_problem_at_its_key_and_a_clear_error_at_run_time() {
    let c = catalog(json!({
        "models": {"providers": providers()},
        "agents": {"defaults": {"model": {"primary": "local/nope", "fallbacks": ["ghost/m"]}}},
    }));
    let problems: Vec<_> = c.problems().iter().map(|p| p.key_path.as_str()).collect();
    assert_eq!(
        problems,
        [
            "agents.defaults.model.primary",
            "agents.defaults.model.fallbacks.0"
        ]
    );
    assert!(
        c.problems()[0]
            .message
            .contains("provider local has no model \"nope\"")
    );
    assert!(c.problems()[1].message.contains("no provider \"ghost\""));
    let err = c.endpoints(c.agent("main").unwrap(), None).unwrap_err();
    assert!(err.contains("unknown model local/nope"), "{err}");
    assert!(err.contains("configured models: local/my-model"), "{err}");
}

#[test]
fn an_agent_without_a_model_fails_its_runs_with_the_fix() {
    let c = catalog(json!({}));
    assert!(c.problems().is_empty());
    let err = c.endpoints(c.agent("main").unwrap(), None).unwrap_err();
    assert!(err.contains("set agents.defaults.model"), "{err}");
}

#[test]
fn bad_providers_are_problems_naming_the_key_and_never_the_key_value() {
    let c = catalog(json!({
        "models": {"providers": {
            "anth": {"api": "anthropic-messages", "baseUrl": "https://x", "models": [{"id": "m"}]},
            "nourl": {"apiKey": "sk-secret-value", "models": [{"id": "m"}]},
            "badref": {"baseUrl": "http://h/v1", "apiKey": {"source": "env", "id": "MISSING"}},
            "Bad Id": {"baseUrl": "http://h/v1"},
            "dup": {"baseUrl": "http://h/v1", "models": [{"id": "m"}, {"id": "m"}]},
        }},
    }));
    let keys: Vec<_> = c.problems().iter().map(|p| p.key_path.as_str()).collect();
    assert_eq!(
        keys,
        [
            "models.providers.Bad Id",
            "models.providers.anth.api",
            "models.providers.badref.apiKey",
            "models.providers.dup.models.1.id",
            "models.providers.nourl.baseUrl",
        ]
    );
    for p in c.problems() {
        assert!(!p.message.contains("sk-secret-value"), "{p:?}");
    }
}

#[test]
fn invalid_agent_ids_are_problems() {
    let c = catalog(json!({"agents": {"entries": {"Main Agent": {}}}}));
    assert_eq!(c.problems()[0].key_path, "agents.entries.Main Agent");
    assert!(c.agent("Main Agent").is_none());
}

#[test]
fn max_concurrent_is_taken_in_range_and_a_problem_outside_it() {
    let c = catalog(json!({"agents": {"defaults": {"maxConcurrent": 100}}}));
    assert_eq!(c.max_concurrent(), Some(100));
    assert!(c.problems().is_empty());
    assert_eq!(catalog(json!({})).max_concurrent(), None);
    for bad in [0, 1025] {
        let c = catalog(json!({"agents": {"defaults": {"maxConcurrent": bad}}}));
        assert_eq!(c.max_concurrent(), None);
        let p = &c.problems()[0];
        assert_eq!(p.key_path, "agents.defaults.maxConcurrent");
        assert!(p.message.contains("use 1 to 1024"), "{}", p.message);
    }
}
