//! The resolved context of one command: environment, profile, paths and service names.
//!
//! Built once from the global flags before any command runs, so a bad profile or a missing home
//! fails the same way for every verb, and `--profile` means the same wherever it was written.

use crate::config::LoadedConfig;
use crate::environment::Environment;
use crate::exit_status::CliError;
use crate::paths::Paths;
use crate::ports::{PortInputs, ResolvedPorts, resolve_ports};
use crate::profile::ProfileSelection;
use crate::service_names::ServiceNames;

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
    /// Resolves the context; errors are usage errors (exit 2).
    pub fn resolve(
        options: &GlobalOptions,
        env: Environment,
        stderr_is_terminal: bool,
    ) -> Result<Self, CliError> {
        let profile = ProfileSelection::resolve(options.profile.as_deref(), options.dev, &env)
            .map_err(|e| CliError::usage(e.to_string()))?;
        let paths = Paths::resolve(&profile, &env).map_err(|e| CliError::usage(e.to_string()))?;
        let names = ServiceNames::resolve(&profile.profile, &env)
            .map_err(|e| CliError::usage(e.to_string()))?;
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

    /// Reads the config file; a broken file is a configuration error (exit 78).
    pub fn load_config(&self) -> Result<LoadedConfig, CliError> {
        LoadedConfig::load(&self.paths.config_path, &self.env)
            .map_err(|e| CliError::config(e.to_string()))
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
    ) -> Result<ResolvedPorts, CliError> {
        let inputs = PortInputs {
            cli_port,
            config_port: config.config.gateway_port(),
            config_canvas_port: config.config.canvas_host_port(),
        };
        resolve_ports(&self.profile, &self.env, inputs).map_err(|e| CliError::config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse_args;

    fn resolve(args: &[&str]) -> Invocation {
        let cli = parse_args(args).unwrap();
        let env = Environment::empty().with("HOME", "/home/u");
        Invocation::resolve(&cli.global.options(), env, false).unwrap()
    }

    #[test]
    fn profile_after_the_verb_resolves_the_same_context_as_before_it() {
        let before = resolve(&["openclaw", "--profile", "rescue", "gateway", "install"]);
        let after = resolve(&["openclaw", "gateway", "install", "--profile", "rescue"]);
        assert_eq!(before.profile, after.profile);
        assert_eq!(before.paths, after.paths);
        assert_eq!(before.names, after.names);
        assert_eq!(
            after.paths.state_dir,
            std::path::PathBuf::from("/home/u/.openclaw-rescue")
        );
        assert_eq!(after.names.systemd_unit, "openclaw-gateway-rescue");
    }

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
