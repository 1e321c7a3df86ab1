//! `config.get`: the config as loaded, secrets redacted.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::gateway::state::GatewayState;

/// The marker that replaces secrets in `config.get`.
pub const REDACTED: &str = "__OPENCLAW_REDACTED__";

/// Replaces secrets in a config document with a marker; returns the secret values found.
pub(super) fn redact(value: &mut Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let lower = key.to_ascii_lowercase();
                let secret_key = [
                    "token",
                    "password",
                    "secret",
                    "apikey",
                    "api_key",
                    "privatekey",
                    "api-key",
                    "authorization",
                    "cookie",
                ]
                .iter()
                .any(|s| lower.contains(s));
                match item {
                    Value::String(s) if secret_key && !s.is_empty() => {
                        found.push(s.clone());
                        *item = json!(REDACTED);
                    }
                    _ => redact(item, found),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| redact(i, found)),
        _ => {}
    }
}

pub(super) fn config_get(state: &Arc<GatewayState>) -> Value {
    let path = &state.settings.config_path;
    let raw_text = std::fs::read_to_string(path).ok();
    let hash = raw_text.as_ref().map(|t| {
        let digest = Sha256::digest(t.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    });
    // `parsed`: the root file as written (`$include` kept); `resolved`: includes expanded.
    let (parsed, resolved, valid, issues) = match &raw_text {
        None => (Value::Null, Value::Null, true, vec![]),
        Some(text) => match crate::config::parse_config_text(
            path,
            text,
            &crate::environment::Environment::from_process(),
        ) {
            Ok(parsed) => (parsed.raw, parsed.expanded, true, vec![]),
            Err(e) => (
                Value::Null,
                Value::Null,
                false,
                vec![json!({"path": "", "message": e.to_string()})],
            ),
        },
    };
    let mut secrets = Vec::new();
    let mut parsed_redacted = parsed;
    redact(&mut parsed_redacted, &mut secrets);
    let mut resolved_redacted = resolved;
    redact(&mut resolved_redacted, &mut secrets);
    let mut config = serde_json::to_value(&state.settings.config).unwrap_or(Value::Null);
    redact(&mut config, &mut secrets);
    let raw_redacted = raw_text.map(|mut text| {
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            text = text.replace(secret.as_str(), REDACTED);
        }
        text
    });
    json!({
        "path": path.display().to_string(),
        "exists": raw_redacted.is_some(),
        "raw": raw_redacted,
        "parsed": parsed_redacted,
        "resolved": resolved_redacted,
        "valid": valid,
        "config": config,
        "hash": hash,
        "issues": issues,
        "warnings": [],
        "legacyIssues": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_secret_values_anywhere() {
        let mut v = json!({"gateway": {"auth": {"token": "abcd1234", "mode": "token"}}, "x": [{"apiKey": "k-1"}], "plain": "keep"});
        let mut found = vec![];
        redact(&mut v, &mut found);
        assert_eq!(v["gateway"]["auth"]["token"], REDACTED);
        assert_eq!(v["gateway"]["auth"]["mode"], "token");
        assert_eq!(v["x"][0]["apiKey"], REDACTED);
        assert_eq!(v["plain"], "keep");
        assert_eq!(found, ["abcd1234", "k-1"]);
    }
}
