//! The resolved context of one command: environment, profile, paths and service names.
//!
//! Built once from the global flags before any command runs, so a bad profile or a missing home
//! fails the same way for every verb, and `--profile` means the same wherever it was written.

use crate::config::LoadedConfig;
use crate::environment::Environment;
use crate::paths::Paths;
use crate::ports::{PortInputs, ResolvedPorts, resolve_ports};
use crate::profile::ProfileSelection;
use crate::service_names::ServiceNames;

/// Why a command's context cannot be resolved. The CLI maps the kind to its exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    /// A flag or the environment names something unusable (a bad profile, no home).
    #[error("{0}")]
    Usage(String),
    /// The config file is broken, or its ports are.
    #[error("{0}")]
    Config(String),
}

/// The global flags, as parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalOptions {
    /// `--profile <name>`.
    pub profile: Option<String>,
    /// `--dev`.
    pub dev: bool,
    /// `--verbose`.
    pub verbose: bool,
    /// `--no-color`.
    pub no_color: bool,
}

/// Everything a command needs to know about where and as whom it runs.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The environment snapshot.
    pub env: Environment,
    /// The selected profile.
    pub profile: ProfileSelection,
    /// State dir, config path, home.
    pub paths: Paths,
    /// Service names of the profile (with env overrides).
    pub names: ServiceNames,
    /// `--verbose`.
    pub verbose: bool,
    /// Whether to colour terminal output.
    pub color: bool,
}

impl Invocation {
    /// Resolves the context; errors are [`InvocationError::Usage`].
    pub fn resolve(
        options: &GlobalOptions,
        env: Environment,
        stderr_is_terminal: bool,
    ) -> Result<Self, InvocationError> {
        let usage = |e: &dyn std::fmt::Display| InvocationError::Usage(e.to_string());
        let profile = ProfileSelection::resolve(options.profile.as_deref(), options.dev, &env)
            .map_err(|e| usage(&e))?;
        let paths = Paths::resolve(&profile, &env).map_err(|e| usage(&e))?;
        let names = ServiceNames::resolve(&profile.profile, &env).map_err(|e| usage(&e))?;
        let color = !options.no_color
            && env.get("NO_COLOR").is_none_or(str::is_empty)
            && stderr_is_terminal;
        Ok(Self {
            env,
            profile,
            paths,
            names,
            verbose: options.verbose,
            color,
        })
    }

    /// Reads the config file; a broken file is an [`InvocationError::Config`].
    pub fn load_config(&self) -> Result<LoadedConfig, InvocationError> {
        LoadedConfig::load(&self.paths.config_path, &self.env)
            .map_err(|e| InvocationError::Config(e.to_string()))
    }

    /// Where the gateway's file log goes: `logging.file`, else the daily files in `<state>/logs`.
    pub fn log_target(&self, config: &crate::config::Config) -> crate::logging::FileTarget {
        let configured = config
            .logging
            .as_ref()
            .and_then(|l| l.file.as_deref())
            .map(str::trim)
            .filter(|f| !f.is_empty());
        match configured {
            Some(path) => crate::logging::FileTarget::Fixed(
                self.env.resolve_user_path(path, &self.paths.home),
            ),
            None => crate::logging::FileTarget::Rolling {
                dir: self.paths.logs_dir(),
            },
        }
    }

    /// Resolves the gateway port and its derived ports against `config`.
    pub fn ports(
        &self,
        cli_port: Option<u16>,
        config: &LoadedConfig,
    ) -> Result<ResolvedPorts, InvocationError> {
        let inputs = PortInputs {
            cli_port,
            config_port: config.config.gateway_port(),
            config_canvas_port: config.config.canvas_host_port(),
        };
        resolve_ports(&self.profile, &self.env, inputs)
            .map_err(|e| InvocationError::Config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_and_no_color_env_disable_colour_even_on_a_terminal() {
        let env = Environment::empty().with("HOME", "/h");
        let on = Invocation::resolve(&GlobalOptions::default(), env.clone(), true).unwrap();
        assert!(on.color);
        let flag = GlobalOptions {
            no_color: true,
            ..GlobalOptions::default()
        };
        assert!(!Invocation::resolve(&flag, env.clone(), true).unwrap().color);
        let no_color_env = env.with("NO_COLOR", "1");
        assert!(
            !Invocation::resolve(&GlobalOptions::default(), no_color_env, true)
                .unwrap()
                .color
        );
    }
}
