//! Where an invocation keeps its state, config and workspace.
//!
//! State dir: `OPENCLAW_STATE_DIR` (legacy `CLAWDBOT_STATE_DIR`), else `~/.openclaw` for the
//! default profile and `~/.openclaw-<profile>` for a named one. Config: `OPENCLAW_CONFIG_PATH`
//! (legacy `CLAWDBOT_CONFIG_PATH`), else `<state>/openclaw.json`. Workspace:
//! `agents.defaults.workspace`, else `~/.openclaw/workspace` (`workspace-<profile>` for named
//! profiles). Explicit variables win over the profile's defaults; `~` and relative paths are
//! resolved like a shell user would expect.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::environment::Environment;
use crate::profile::{Profile, ProfileSelection};

/// The file name of the config inside the state dir.
pub const CONFIG_FILE_NAME: &str = "openclaw.json";

/// Where a path came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathSource {
    /// An environment variable (its name).
    Env(&'static str),
    /// `agents.defaults.workspace` in the config.
    Config,
    /// The profile's default location.
    Default,
}

/// The resolved locations of one invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Paths {
    /// The account home.
    pub home: PathBuf,
    /// The state dir (config, tokens, logs, pairing stores).
    pub state_dir: PathBuf,
    /// Where `state_dir` came from.
    pub state_dir_source: PathSource,
    /// The config file.
    pub config_path: PathBuf,
    /// Where `config_path` came from.
    pub config_path_source: PathSource,
    #[serde(skip)]
    profile: Profile,
}

/// The account home could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Missing HOME: set HOME (or USERPROFILE on Windows) to your account's home directory")]
pub struct MissingHome;

impl Paths {
    /// Resolves the paths of `selection` from the environment.
    pub fn resolve(selection: &ProfileSelection, env: &Environment) -> Result<Self, MissingHome> {
        let home = env.home_dir().ok_or(MissingHome)?;
        let from_env = |keys: [&'static str; 2]| {
            keys.into_iter().find_map(|key| {
                env.get_nonempty(key)
                    .map(|raw| (env.resolve_user_path(raw, &home), PathSource::Env(key)))
            })
        };
        let (state_dir, state_dir_source) = from_env(["OPENCLAW_STATE_DIR", "CLAWDBOT_STATE_DIR"])
            .unwrap_or_else(|| {
                let dir = match &selection.profile {
                    Profile::Default => home.join(".openclaw"),
                    Profile::Named(name) => home.join(format!(".openclaw-{name}")),
                };
                (dir, PathSource::Default)
            });
        let (config_path, config_path_source) =
            from_env(["OPENCLAW_CONFIG_PATH", "CLAWDBOT_CONFIG_PATH"])
                .unwrap_or_else(|| (state_dir.join(CONFIG_FILE_NAME), PathSource::Default));
        Ok(Self {
            home,
            state_dir,
            state_dir_source,
            config_path,
            config_path_source,
            profile: selection.profile.clone(),
        })
    }

    /// The agent workspace: `agents.defaults.workspace` when configured, else
    /// `~/.openclaw/workspace` (default profile) or `~/.openclaw/workspace-<profile>`.
    pub fn workspace_dir(
        &self,
        configured: Option<&str>,
        env: &Environment,
    ) -> (PathBuf, PathSource) {
        match configured.map(str::trim).filter(|w| !w.is_empty()) {
            Some(raw) => (env.resolve_user_path(raw, &self.home), PathSource::Config),
            None => {
                let base = self.home.join(".openclaw");
                let dir = match &self.profile {
                    Profile::Default => base.join("workspace"),
                    Profile::Named(name) => base.join(format!("workspace-{name}")),
                };
                (dir, PathSource::Default)
            }
        }
    }

    /// The generated gateway token: `<state>/gateway.token` (mode 0600).
    pub fn token_file(&self) -> PathBuf {
        self.state_dir.join("gateway.token")
    }

    /// The log directory: `<state>/logs`.
    pub fn logs_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }

    /// The systemd env file holding secrets for the unit: `<state>/gateway.systemd.env` (0600).
    pub fn systemd_env_file(&self) -> PathBuf {
        self.state_dir.join("gateway.systemd.env")
    }

    /// True when the state dir is the canonical one of the profile under the account home.
    pub fn is_canonical_state_dir(&self) -> bool {
        self.state_dir_source == PathSource::Default
            && self.config_path_source == PathSource::Default
    }

    /// The state dir as a path.
    pub fn state(&self) -> &Path {
        &self.state_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn sel(profile: Option<&str>, dev: bool) -> ProfileSelection {
        ProfileSelection::resolve(profile, dev, &Environment::empty()).unwrap()
    }

    fn home_env() -> Environment {
        Environment::empty()
            .with("HOME", "/home/u")
            .with_cwd("/cwd")
    }

    #[test]
    fn default_profile_uses_dot_openclaw() {
        let p = Paths::resolve(&sel(None, false), &home_env()).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.openclaw"));
        assert_eq!(
            p.config_path,
            PathBuf::from("/home/u/.openclaw/openclaw.json")
        );
        assert_eq!(p.state_dir_source, PathSource::Default);
        assert!(p.is_canonical_state_dir());
        assert_eq!(
            p.token_file(),
            PathBuf::from("/home/u/.openclaw/gateway.token")
        );
    }

    #[test]
    fn named_and_dev_profiles_get_their_own_state_dir() {
        let p = Paths::resolve(&sel(Some("rescue"), false), &home_env()).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.openclaw-rescue"));
        assert_eq!(
            p.config_path,
            PathBuf::from("/home/u/.openclaw-rescue/openclaw.json")
        );
        let p = Paths::resolve(&sel(None, true), &home_env()).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.openclaw-dev"));
    }

    #[test]
    fn state_dir_env_wins_over_the_profile_and_moves_the_config() {
        let env = home_env().with("OPENCLAW_STATE_DIR", "~/custom");
        let p = Paths::resolve(&sel(Some("rescue"), false), &env).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/home/u/custom"));
        assert_eq!(p.state_dir_source, PathSource::Env("OPENCLAW_STATE_DIR"));
        assert_eq!(p.config_path, PathBuf::from("/home/u/custom/openclaw.json"));
        assert!(!p.is_canonical_state_dir());
    }

    #[test]
    fn config_path_env_is_independent_of_the_state_dir() {
        let env = home_env().with("OPENCLAW_CONFIG_PATH", "conf/oc.json5");
        let p = Paths::resolve(&sel(None, false), &env).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.openclaw"));
        assert_eq!(p.config_path, PathBuf::from("/cwd/conf/oc.json5"));
        assert_eq!(
            p.config_path_source,
            PathSource::Env("OPENCLAW_CONFIG_PATH")
        );
    }

    #[test]
    fn both_envs_together_and_legacy_names_as_fallback() {
        let env = home_env()
            .with("OPENCLAW_STATE_DIR", "/s")
            .with("OPENCLAW_CONFIG_PATH", "/c/x.json")
            .with("CLAWDBOT_STATE_DIR", "/legacy");
        let p = Paths::resolve(&sel(None, false), &env).unwrap();
        assert_eq!(
            (p.state_dir.as_path(), p.config_path.as_path()),
            (Path::new("/s"), Path::new("/c/x.json"))
        );
        let env = home_env().with("CLAWDBOT_STATE_DIR", "/legacy");
        let p = Paths::resolve(&sel(None, false), &env).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/legacy"));
        assert_eq!(p.state_dir_source, PathSource::Env("CLAWDBOT_STATE_DIR"));
    }

    #[test]
    fn blank_env_values_are_ignored() {
        let env = home_env().with("OPENCLAW_STATE_DIR", "  ");
        let p = Paths::resolve(&sel(None, false), &env).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.openclaw"));
    }

    #[test]
    fn missing_home_is_an_error_with_the_fix() {
        let err = Paths::resolve(&sel(None, false), &Environment::empty()).unwrap_err();
        assert!(err.to_string().contains("set HOME"));
    }

    #[test]
    fn workspace_defaults_per_profile_and_config_wins() {
        let env = home_env();
        let p = Paths::resolve(&sel(None, false), &env).unwrap();
        assert_eq!(
            p.workspace_dir(None, &env).0,
            PathBuf::from("/home/u/.openclaw/workspace")
        );
        let p = Paths::resolve(&sel(Some("rescue"), false), &env).unwrap();
        assert_eq!(
            p.workspace_dir(None, &env).0,
            PathBuf::from("/home/u/.openclaw/workspace-rescue")
        );
        let p = Paths::resolve(&sel(None, true), &env).unwrap();
        assert_eq!(
            p.workspace_dir(None, &env).0,
            PathBuf::from("/home/u/.openclaw/workspace-dev")
        );
        assert_eq!(
            p.workspace_dir(Some("~/ws"), &env),
            (PathBuf::from("/home/u/ws"), PathSource::Config)
        );
    }
}
