//! `openclaw setup`: what a fresh account needs before the gateway can run as a service.
//!
//! - The state dir (0700), created when missing.
//! - The config: a missing file is written as `{"gateway": {"mode": "local"}}` (0600); a file
//!   without `gateway.mode` gets `gateway.mode: "local"` (the previous content is kept in
//!   `<config>.bak`); a `gateway.mode` already set is never changed. Writes go through
//!   [`LoadedConfig::set`] / [`LoadedConfig::write`] (atomic, validated, `$include`s kept).
//! - The gateway token `<state>/gateway.token` (0600), generated only when no token or password
//!   is configured anywhere ([`configured_secret_source`]: env, `_FILE`, config).
//! - The workspace dir ([`Paths::workspace_dir`], 0700), created when missing.
//!
//! Everything is checked before anything is written: a broken config file is reported with its
//! file, line and column and left as it is. Running it again changes nothing and says so. No
//! secret is ever part of the report. `openclaw gateway install` runs the same step when no
//! config file exists.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::atomic_write::{PRIVATE_DIR_MODE, create_dir_all_with_mode};
use crate::config::{ConfigError, GatewayMode, LoadedConfig, backup_path};
use crate::environment::Environment;
use crate::gateway::settings::{configured_secret_source, read_or_generate_token};
use crate::paths::Paths;

/// The `gateway.mode` a new config gets.
pub const DEFAULT_GATEWAY_MODE: GatewayMode = GatewayMode::Local;

/// What happened to a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirAction {
    /// It was missing and was created (0700).
    Created,
    /// It was there already and was left as it is.
    Exists,
}

/// A directory setup made sure of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirStep {
    /// The directory.
    pub path: PathBuf,
    /// What was done.
    pub action: DirAction,
}

/// What happened to the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigAction {
    /// There was no file: a minimal one was written.
    Written,
    /// The file had no `gateway.mode`: it was set (previous content in `backup`).
    Updated,
    /// The file sets `gateway.mode` already: left as it is.
    Unchanged,
}

/// The config file step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigStep {
    /// The config file.
    pub path: PathBuf,
    /// What was done.
    pub action: ConfigAction,
    /// `gateway.mode` as the file now says it.
    pub gateway_mode: GatewayMode,
    /// Where the previous content was kept (`updated` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<PathBuf>,
    /// The file's permission bits after setup, e.g. `0600` (Unix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_mode: Option<String>,
}

/// What happened to the gateway token file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenAction {
    /// No token or password was configured and the file did not exist: it was generated.
    Generated,
    /// The file was there already: left as it is.
    Exists,
    /// A token or password is configured (`source`): no file is needed, none was written.
    Configured,
}

/// The gateway token step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStep {
    /// `<state>/gateway.token`.
    pub path: PathBuf,
    /// What was done.
    pub action: TokenAction,
    /// Where the configured secret comes from (`configured` only), e.g.
    /// `env OPENCLAW_GATEWAY_TOKEN`; never the secret itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What `openclaw setup` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupReport {
    /// True when anything was written or created.
    pub changed: bool,
    /// The state dir.
    pub state_dir: DirStep,
    /// The config file.
    pub config: ConfigStep,
    /// The gateway token file.
    pub token: TokenStep,
    /// The agent workspace.
    pub workspace: DirStep,
}

/// Why setup stopped; nothing named in the message was changed by the failing step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// One line: the file and what is wrong.
    pub message: String,
    /// How to fix it.
    pub hints: Vec<String>,
    /// True for a config file that cannot be used as it is (exit 78), false otherwise (exit 1).
    pub config: bool,
}

impl SetupError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hints: Vec::new(),
            config: false,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

fn writable_hint(dir: &Path) -> String {
    format!(
        "make {} a directory you can write (ls -ld {0}; chmod u+w {0}), or choose another state dir with OPENCLAW_STATE_DIR",
        dir.display()
    )
}

fn config_error(path: &Path, error: ConfigError) -> SetupError {
    let hint = match &error {
        ConfigError::Read { .. } => Some(format!(
            "make it readable by you (ls -l {0}; chmod u+r {0}), then run openclaw setup again",
            path.display()
        )),
        ConfigError::Write { .. } => Some(writable_hint(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )),
        _ => None,
    };
    let is_config = !matches!(
        error,
        ConfigError::Write { .. } | ConfigError::ChangedOnDisk { .. }
    );
    let mut e = SetupError::new(error.to_string());
    e.config = is_config;
    match hint {
        Some(h) => e.hint(h),
        None => e,
    }
}

/// Whether `dir` exists as a directory (`false`: missing); anything else in the way is an error.
fn inspect_dir(dir: &Path, what: &str) -> Result<bool, SetupError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(_) => Err(SetupError::new(format!(
            "cannot create the {what} {}: a file of that name is in the way",
            dir.display()
        ))
        .hint(format!(
            "move {} aside (it is not a directory), then run openclaw setup again",
            dir.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(
            SetupError::new(format!("cannot use the {what} {}: {e}", dir.display()))
                .hint(writable_hint(dir.parent().unwrap_or(dir))),
        ),
    }
}

/// Makes sure `dir` exists, creating it (and missing parents) 0700.
fn ensure_dir(dir: &Path, what: &str) -> Result<DirAction, SetupError> {
    if inspect_dir(dir, what)? {
        return Ok(DirAction::Exists);
    }
    create_dir_all_with_mode(dir, PRIVATE_DIR_MODE).map_err(|e| {
        SetupError::new(format!("cannot create the {what} {}: {e}", dir.display()))
            .hint(writable_hint(dir.parent().unwrap_or(dir)))
    })?;
    Ok(DirAction::Created)
}

/// Runs setup for the profile whose locations are `paths`, reading `env` for `${VAR}`
/// references and configured secrets.
pub fn run(paths: &Paths, env: &Environment) -> Result<SetupReport, SetupError> {
    // Everything that can refuse is read before anything is written.
    inspect_dir(&paths.state_dir, "state dir")?;
    let config_path = &paths.config_path;
    let mut loaded =
        LoadedConfig::load(config_path, env).map_err(|e| config_error(config_path, e))?;
    let secret_source = configured_secret_source(env, &loaded.config).map_err(|e| {
        let mut err = SetupError::new(e.message);
        err.config = true;
        err.hint("fix the gateway token/password setting it names (or unset it), then run openclaw setup again")
    })?;
    let (workspace, _) = paths.workspace_dir(loaded.config.workspace(), env);
    inspect_dir(&workspace, "workspace")?;

    let state_dir = ensure_dir(&paths.state_dir, "state dir")?;

    let existing_mode = loaded.config.gateway_mode();
    let config_action = match existing_mode {
        Some(_) => ConfigAction::Unchanged,
        None => {
            if let Some(dir) = config_path.parent().filter(|p| !p.as_os_str().is_empty()) {
                ensure_dir(dir, "config dir")?;
            }
            loaded
                .set(
                    "gateway.mode",
                    serde_json::to_value(DEFAULT_GATEWAY_MODE).unwrap_or(Value::Null),
                )
                .map_err(|e| config_error(config_path, e))?;
            let existed = loaded.exists;
            loaded
                .write(env)
                .map_err(|e| config_error(config_path, e))?;
            if existed {
                ConfigAction::Updated
            } else {
                ConfigAction::Written
            }
        }
    };
    let config = ConfigStep {
        path: config_path.clone(),
        action: config_action,
        gateway_mode: existing_mode.unwrap_or(DEFAULT_GATEWAY_MODE),
        backup: (config_action == ConfigAction::Updated).then(|| backup_path(config_path)),
        file_mode: crate::atomic_write::file_mode(config_path).map(|m| format!("{m:04o}")),
    };

    let token_path = paths.token_file();
    let token = match secret_source {
        Some(source) => TokenStep {
            path: token_path,
            action: TokenAction::Configured,
            source: Some(source),
        },
        None => {
            let (_secret, generated) = read_or_generate_token(&token_path).map_err(|e| {
                SetupError::new(e.message).hint(writable_hint(
                    token_path.parent().unwrap_or(&paths.state_dir),
                ))
            })?;
            TokenStep {
                path: token_path,
                action: if generated {
                    TokenAction::Generated
                } else {
                    TokenAction::Exists
                },
                source: None,
            }
        }
    };

    let workspace_action = ensure_dir(&workspace, "workspace")?;
    let changed = state_dir == DirAction::Created
        || config_action != ConfigAction::Unchanged
        || token.action == TokenAction::Generated
        || workspace_action == DirAction::Created;
    Ok(SetupReport {
        changed,
        state_dir: DirStep {
            path: paths.state_dir.clone(),
            action: state_dir,
        },
        config,
        token,
        workspace: DirStep {
            path: workspace,
            action: workspace_action,
        },
    })
}

fn quoted(mode: GatewayMode) -> String {
    serde_json::to_string(&mode).unwrap_or_default()
}

impl SetupReport {
    /// One line per fact, for humans: what was written and what was left alone.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let state = self.state_dir.path.display();
        lines.push(match self.state_dir.action {
            DirAction::Created => format!("Created state dir {state} (mode 0700)"),
            DirAction::Exists => format!("State dir {state} exists (left as it is)"),
        });
        let c = &self.config;
        let path = c.path.display();
        let mode = quoted(c.gateway_mode);
        lines.push(match c.action {
            ConfigAction::Written => format!(
                "Wrote config {path} (gateway.mode = {mode}, mode {})",
                c.file_mode.as_deref().unwrap_or("0600")
            ),
            ConfigAction::Updated => format!(
                "Set gateway.mode = {mode} in config {path} (previous content kept in {})",
                c.backup.as_deref().unwrap_or(Path::new("")).display()
            ),
            ConfigAction::Unchanged => {
                format!("Config {path} already sets gateway.mode = {mode} (left as it is)")
            }
        });
        let t = &self.token;
        let path = t.path.display();
        lines.push(match t.action {
            TokenAction::Generated => format!("Generated gateway token {path} (mode 0600)"),
            TokenAction::Exists => format!("Gateway token {path} exists (left as it is)"),
            TokenAction::Configured => format!(
                "Gateway auth is configured ({}): no token file needed, none written",
                t.source.as_deref().unwrap_or("configured")
            ),
        });
        let ws = self.workspace.path.display();
        lines.push(match self.workspace.action {
            DirAction::Created => format!("Created workspace {ws}"),
            DirAction::Exists => format!("Workspace {ws} exists (left as it is)"),
        });
        if !self.changed {
            lines.push("Nothing to do: already set up, nothing was changed.".to_owned());
        }
        lines
    }

    /// The report as one JSON object (`messages`: [`SetupReport::lines`]).
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        v["messages"] = json!(self.lines());
        v
    }

    /// Removes what this run created (the written config, the generated token, the created
    /// directories when they are still empty), newest first: `gateway install` calls it when the
    /// install that needed them failed. Nothing that existed before the run is touched; failures
    /// are ignored (what is left is what setup would write again).
    pub fn undo(&self) {
        if self.workspace.action == DirAction::Created {
            let _ = fs::remove_dir(&self.workspace.path);
        }
        if self.token.action == TokenAction::Generated {
            let _ = fs::remove_file(&self.token.path);
        }
        if self.config.action == ConfigAction::Written {
            let _ = fs::remove_file(&self.config.path);
        }
        if self.state_dir.action == DirAction::Created {
            let _ = fs::remove_dir(&self.state_dir.path);
        }
        // A created workspace's parent (`~/.openclaw` of a named profile) is left: it may be
        // another profile's state dir.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_write::file_mode;
    use crate::profile::ProfileSelection;

    fn setup_env() -> (tempfile::TempDir, Environment, Paths) {
        let home = tempfile::tempdir().unwrap();
        let env = Environment::empty().with("HOME", home.path().to_str().unwrap());
        let profile = ProfileSelection::resolve(None, false, &env).unwrap();
        let paths = Paths::resolve(&profile, &env).unwrap();
        (home, env, paths)
    }

    #[test]
    fn an_empty_home_gets_config_token_and_workspace_then_nothing() {
        let (home, env, paths) = setup_env();
        let report = run(&paths, &env).unwrap();
        assert!(report.changed);
        assert_eq!(report.config.action, ConfigAction::Written);
        assert_eq!(report.token.action, TokenAction::Generated);
        assert_eq!(report.state_dir.action, DirAction::Created);
        assert_eq!(report.workspace.action, DirAction::Created);
        let text = fs::read_to_string(&paths.config_path).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v, json!({"gateway": {"mode": "local"}}));
        assert_eq!(file_mode(&paths.config_path), Some(0o600));
        assert_eq!(file_mode(&paths.token_file()), Some(0o600));
        assert_eq!(file_mode(&paths.state_dir), Some(0o700));
        assert_eq!(
            file_mode(&home.path().join(".openclaw/workspace")),
            Some(0o700)
        );
        let token = fs::read_to_string(paths.token_file()).unwrap();
        let rendered = format!("{:?}{}", report.lines(), report.to_json());
        assert!(!rendered.contains(token.trim()), "the token is never shown");

        let again = run(&paths, &env).unwrap();
        assert!(!again.changed);
        assert_eq!(again.config.action, ConfigAction::Unchanged);
        assert_eq!(again.token.action, TokenAction::Exists);
        assert!(again.lines().last().unwrap().starts_with("Nothing to do"));
        assert_eq!(fs::read_to_string(&paths.config_path).unwrap(), text);
        assert!(!backup_path(&paths.config_path).exists());
    }

    #[test]
    fn a_configured_token_means_no_token_file() {
        let (_home, env, paths) = setup_env();
        for env in [
            env.clone().with("OPENCLAW_GATEWAY_TOKEN", "t0k"),
            env.clone().with("OPENCLAW_GATEWAY_PASSWORD", "pw"),
        ] {
            let report = run(&paths, &env).unwrap();
            assert_eq!(report.token.action, TokenAction::Configured);
            let source = report.token.source.as_deref().unwrap();
            assert!(source.starts_with("env OPENCLAW_GATEWAY_"), "{source}");
            assert!(!paths.token_file().exists());
        }
        fs::write(
            &paths.config_path,
            "{gateway: {mode: 'local', auth: {token: 'in-config-secret'}}}",
        )
        .unwrap();
        let report = run(&paths, &env).unwrap();
        assert_eq!(
            report.token.source.as_deref(),
            Some("config gateway.auth.token")
        );
        assert!(!report.to_json().to_string().contains("in-config-secret"));
        assert!(!paths.token_file().exists());
    }

    #[test]
    fn undo_removes_only_what_the_run_created() {
        let (home, env, paths) = setup_env();
        let report = run(&paths, &env).unwrap();
        report.undo();
        assert!(!paths.state_dir.exists());
        assert!(!home.path().join(".openclaw/workspace").exists());
        // An existing state dir with a config lacking the mode: the update is kept on undo.
        fs::create_dir_all(&paths.state_dir).unwrap();
        fs::write(&paths.config_path, "{logging: {level: 'debug'}}").unwrap();
        let report = run(&paths, &env).unwrap();
        assert_eq!(report.config.action, ConfigAction::Updated);
        report.undo();
        assert!(paths.config_path.exists());
        assert!(!paths.token_file().exists());
    }
}
