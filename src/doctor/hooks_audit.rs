//! The webhooks' secret: with `hooks.enabled`, a gateway keeps the hooks off when `hooks.token`
//! is empty or is one of the gateway's own secrets (its log says so); doctor says it before
//! the gateway runs, naming the fix and never the secret.

use std::path::Path;

use crate::config::LoadedConfig;
use crate::contract::secret::Secret;
use crate::environment::Environment;

use super::file_audit::Item;
use super::findings::{Finding, RepairKind, Severity};

/// The gateway's own secrets as this profile would resolve them: `OPENCLAW_GATEWAY_TOKEN`,
/// `OPENCLAW_GATEWAY_PASSWORD`, `gateway.auth.token`/`password`, the generated token file.
fn gateway_secrets(loaded: &LoadedConfig, env: &Environment, token_file: &Path) -> Vec<Secret> {
    let mut out: Vec<Secret> = ["OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD"]
        .iter()
        .filter_map(|k| env.get_nonempty(k))
        .map(Secret::new)
        .collect();
    if let Some(auth) = loaded.config.auth() {
        for (input, key) in [
            (&auth.token, "gateway.auth.token"),
            (&auth.password, "gateway.auth.password"),
        ] {
            if let Some(Ok(Some((secret, _)))) = input.as_ref().map(|i| i.resolve(env, key)) {
                out.push(secret);
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string(token_file)
        && !text.trim().is_empty()
    {
        out.push(Secret::new(&text));
    }
    out
}

/// Findings about `hooks.token` of one profile.
pub fn audit_hooks(
    config: &Result<LoadedConfig, String>,
    env: &Environment,
    token_file: &Path,
    config_path: &Path,
    profile: &str,
) -> Vec<Item> {
    let Ok(loaded) = config else {
        return Vec::new();
    };
    let Some(hooks) = loaded
        .config
        .hooks
        .as_ref()
        .filter(|h| h.enabled == Some(true))
    else {
        return Vec::new();
    };
    let finding = |id, message: String| {
        vec![(
            Finding::new(
                id,
                Severity::Error,
                message,
                "Set hooks.token to a long random secret of its own (e.g. `openssl rand -hex 32`, \
                 kept in an env var: \"${OPENCLAW_HOOKS_TOKEN}\") and give it to the webhook senders",
                RepairKind::Manual,
            )
            .profile(profile)
            .path(config_path),
            None,
        )]
    };
    let token = match hooks.token.as_ref().map(|t| t.resolve(env, "hooks.token")) {
        None | Some(Ok(None)) => {
            return finding(
                "hooks-token-missing",
                "hooks.enabled is true but hooks.token is empty: the gateway keeps the webhooks off."
                    .into(),
            );
        }
        Some(Err(e)) => {
            return finding(
                "hooks-token-missing",
                format!(
                    "hooks.token cannot be resolved ({e}): the gateway keeps the webhooks off."
                ),
            );
        }
        Some(Ok(Some((token, _)))) => token,
    };
    let shared = gateway_secrets(loaded, env, token_file)
        .iter()
        .any(|s| s.matches(token.expose()));
    if shared {
        return finding(
            "hooks-token-shared",
            "hooks.token is the gateway's own token or password: the gateway keeps the webhooks \
             off, since a webhook sender holding it could operate the whole gateway."
                .into(),
        );
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(dir: &Path, text: &str) -> Result<LoadedConfig, String> {
        let path = dir.join("openclaw.json");
        std::fs::write(&path, text).unwrap();
        LoadedConfig::load(&path, &Environment::default()).map_err(|e| e.to_string())
    }

    fn ids(items: &[Item]) -> Vec<&str> {
        items.iter().map(|(f, _)| f.id).collect()
    }

    #[test]
    fn a_missing_or_shared_hook_token_is_an_error_without_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("gateway.token");
        std::fs::write(&token_file, "generated-secret\n").unwrap();
        let env = Environment::default();
        let audit = |text: &str| {
            audit_hooks(
                &loaded(dir.path(), text),
                &env,
                &token_file,
                Path::new("/x"),
                "default",
            )
        };
        assert!(
            ids(&audit(r#"{hooks: {token: "x"}}"#)).is_empty(),
            "off: nothing"
        );
        assert_eq!(
            ids(&audit(r#"{hooks: {enabled: true}}"#)),
            ["hooks-token-missing"]
        );
        let shared = audit(
            r#"{gateway: {auth: {token: "cfg-secret"}}, hooks: {enabled: true, token: "cfg-secret"}}"#,
        );
        assert_eq!(ids(&shared), ["hooks-token-shared"]);
        assert!(!shared[0].0.message.contains("cfg-secret"));
        assert_eq!(
            ids(&audit(
                r#"{hooks: {enabled: true, token: "generated-secret"}}"#
            )),
            ["hooks-token-shared"],
            "the generated token counts too"
        );
        assert!(ids(&audit(r#"{hooks: {enabled: true, token: "own-secret"}}"#)).is_empty());
    }
}
