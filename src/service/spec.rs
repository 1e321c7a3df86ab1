//! What to install: one platform-independent description of the gateway service of a profile,
//! computed once from the invocation (profile, paths, names), the config (port, bind) and the
//! installed binary. Every backend renders its files from this value.
//!
//! Secrets never appear here in clear: the gateway reads its token from the config or from the
//! 0600 `<state>/gateway.token`, and any secret the install must pass along goes into
//! [`ServiceSpec::secret_environment`], which backends write only into 0600 files.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;

use super::ServiceError;
use crate::config::LoadedConfig;
use crate::contract::bind::bind_plan;
use crate::invocation::Invocation;
use crate::profile::Profile;
use crate::service_names::{ServiceNames, install_metadata_env, service_description};

/// Whose supervisor runs the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Scope {
    /// The invoking user's supervisor (systemd user manager, LaunchAgent, logon task).
    User,
    /// The system supervisor (`--system`: /etc/systemd/system), running as `user`.
    System {
        /// The account the service runs as.
        user: String,
    },
}

/// The gateway service of one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// The profile.
    #[serde(serialize_with = "serialize_profile")]
    pub profile: Profile,
    /// Unit, label and task names.
    pub names: ServiceNames,
    /// `OpenClaw Gateway (profile: <p>, v<version>)`.
    pub description: String,
    /// Absolute path of the binary the service runs.
    pub program: PathBuf,
    /// Its arguments: `gateway --port <port> [--profile <p>]`.
    pub args: Vec<String>,
    /// The gateway port.
    pub port: u16,
    /// Addresses the socket unit listens on (from the bind mode).
    pub listen_addresses: Vec<IpAddr>,
    /// Non-secret environment, in plan order (install metadata, profile identity).
    pub environment: Vec<(String, String)>,
    /// Secret environment: written only to 0600 files, never inline.
    #[serde(skip)]
    pub secret_environment: Vec<(String, String)>,
    /// The account home.
    pub home: PathBuf,
    /// The state dir (working directory of the service).
    pub state_dir: PathBuf,
    /// The config file.
    pub config_path: PathBuf,
    /// Socket activation (systemd; default on).
    pub socket_activation: bool,
    /// User or system scope.
    pub scope: Scope,
    /// Start without a config file.
    pub allow_unconfigured: bool,
    /// This build's version.
    pub version: String,
}

fn serialize_profile<S: serde::Serializer>(profile: &Profile, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&profile.to_string())
}

/// Inputs of [`ServiceSpec::build`] that come from the command line.
#[derive(Debug, Clone, Default)]
pub struct SpecOptions {
    /// `--port`.
    pub port: Option<u16>,
    /// `--no-socket-activation`.
    pub no_socket_activation: bool,
    /// `--system`.
    pub system: bool,
    /// `--user <name>` (with `--system`).
    pub system_user: Option<String>,
    /// `--allow-unconfigured`.
    pub allow_unconfigured: bool,
    /// The binary to run (default: this executable).
    pub program: Option<PathBuf>,
}

impl ServiceSpec {
    /// Builds the spec of the invocation's profile.
    pub fn build(
        invocation: &Invocation,
        config: &LoadedConfig,
        options: &SpecOptions,
    ) -> Result<Self, ServiceError> {
        let ports = invocation
            .ports(options.port, config)
            .map_err(|e| ServiceError::new("invalid-port", e.to_string()))?;
        let port = ports.port;
        let cfg = &config.config;
        let mode = cfg
            .gateway_bind()
            .map(|b| b.mode())
            .unwrap_or(crate::config::BindMode::Loopback);
        let bind = bind_plan(mode, cfg.custom_bind_host())
            .map_err(|e| ServiceError::new("invalid-bind", e.message))?;
        let mut listen_addresses = bind.required.clone();
        listen_addresses.extend(bind.optional.iter().copied());
        let program = match &options.program {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .map_err(|e| {
                    ServiceError::new(
                        "no-program",
                        format!("cannot determine the path of this executable: {e}"),
                    )
                })?,
        };
        if !program.is_absolute() {
            return Err(ServiceError::new(
                "no-program",
                format!(
                    "the service program must be an absolute path, got {}",
                    program.display()
                ),
            ));
        }
        let mut args = vec!["gateway".to_owned(), "--port".to_owned(), port.to_string()];
        if let Some(name) = invocation.profile.profile.name() {
            args.push("--profile".into());
            args.push(name.to_owned());
        }
        if options.allow_unconfigured {
            args.push("--allow-unconfigured".into());
        }
        let paths = &invocation.paths;
        let mut environment: Vec<(String, String)> = Vec::new();
        if let Some(name) = invocation.profile.profile.name() {
            environment.push(("OPENCLAW_PROFILE".into(), name.to_owned()));
        }
        if !paths.is_canonical_state_dir() {
            environment.push((
                "OPENCLAW_STATE_DIR".into(),
                paths.state_dir.display().to_string(),
            ));
            environment.push((
                "OPENCLAW_CONFIG_PATH".into(),
                paths.config_path.display().to_string(),
            ));
        }
        environment.push((
            "OPENCLAW_SYSTEMD_UNIT".into(),
            invocation.names.systemd_service_file(),
        ));
        for (key, value) in install_metadata_env() {
            environment.push((key.to_owned(), value.to_owned()));
        }
        let scope = if options.system {
            let user = options
                .system_user
                .clone()
                .or_else(|| invocation.env.get_nonempty("SUDO_USER").map(str::to_owned))
                .or_else(|| invocation.env.get_nonempty("USER").map(str::to_owned))
                .ok_or_else(|| {
                    ServiceError::new(
                        "no-user",
                        "--system needs the account to run as: pass --user <name>",
                    )
                })?;
            Scope::System { user }
        } else {
            Scope::User
        };
        Ok(Self {
            profile: invocation.profile.profile.clone(),
            names: invocation.names.clone(),
            description: service_description(
                &invocation.profile.profile,
                env!("CARGO_PKG_VERSION"),
            ),
            program,
            args,
            port,
            listen_addresses,
            environment,
            secret_environment: Vec::new(),
            home: paths.home.clone(),
            state_dir: paths.state_dir.clone(),
            config_path: paths.config_path.clone(),
            socket_activation: !options.no_socket_activation,
            scope,
            allow_unconfigured: options.allow_unconfigured,
            version: env!("CARGO_PKG_VERSION").to_owned(),
        })
    }

    /// The full command line (program first).
    pub fn command_line(&self) -> Vec<String> {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::invocation::GlobalOptions;

    fn spec(profile: Option<&str>, env: Environment, options: SpecOptions) -> ServiceSpec {
        let globals = GlobalOptions {
            profile: profile.map(str::to_owned),
            ..GlobalOptions::default()
        };
        let inv = Invocation::resolve(&globals, env.clone(), false).unwrap();
        let config =
            LoadedConfig::load(std::path::Path::new("/nonexistent/openclaw.json"), &env).unwrap();
        let options = SpecOptions {
            program: Some(PathBuf::from("/usr/bin/openclaw")),
            ..options
        };
        ServiceSpec::build(&inv, &config, &options).unwrap()
    }

    #[test]
    fn the_default_profile_runs_gateway_on_its_port_with_install_metadata() {
        let s = spec(
            None,
            Environment::empty().with("HOME", "/home/u"),
            SpecOptions::default(),
        );
        assert_eq!(
            s.command_line(),
            ["/usr/bin/openclaw", "gateway", "--port", "18789"]
        );
        assert_eq!(
            s.description,
            format!("OpenClaw Gateway (v{})", env!("CARGO_PKG_VERSION"))
        );
        let keys: Vec<&str> = s.environment.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "OPENCLAW_SYSTEMD_UNIT",
                "OPENCLAW_SERVICE_MARKER",
                "OPENCLAW_SERVICE_KIND",
                "OPENCLAW_SERVICE_VERSION"
            ]
        );
        assert_eq!(
            s.listen_addresses,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(s.socket_activation);
        assert_eq!(s.scope, Scope::User);
    }

    #[test]
    fn a_named_profile_carries_its_name_port_and_identity() {
        let s = spec(
            Some("rescue"),
            Environment::empty().with("HOME", "/home/u"),
            SpecOptions::default(),
        );
        assert_eq!(
            s.command_line(),
            [
                "/usr/bin/openclaw",
                "gateway",
                "--port",
                "23532",
                "--profile",
                "rescue"
            ]
        );
        assert_eq!(
            s.environment[0],
            ("OPENCLAW_PROFILE".to_owned(), "rescue".to_owned())
        );
        assert!(s.environment.contains(&(
            "OPENCLAW_SYSTEMD_UNIT".to_owned(),
            "openclaw-gateway-rescue.service".to_owned()
        )));
        assert_eq!(s.state_dir, PathBuf::from("/home/u/.openclaw-rescue"));
    }

    #[test]
    fn a_custom_state_dir_is_passed_to_the_service() {
        let env = Environment::empty()
            .with("HOME", "/home/u")
            .with("OPENCLAW_STATE_DIR", "/srv/oc");
        let s = spec(None, env, SpecOptions::default());
        assert!(
            s.environment
                .contains(&("OPENCLAW_STATE_DIR".to_owned(), "/srv/oc".to_owned()))
        );
        assert!(s.environment.contains(&(
            "OPENCLAW_CONFIG_PATH".to_owned(),
            "/srv/oc/openclaw.json".to_owned()
        )));
    }

    #[test]
    fn system_scope_runs_as_the_named_or_invoking_user() {
        let env = Environment::empty()
            .with("HOME", "/root")
            .with("SUDO_USER", "alice");
        let s = spec(
            None,
            env,
            SpecOptions {
                system: true,
                ..SpecOptions::default()
            },
        );
        assert_eq!(
            s.scope,
            Scope::System {
                user: "alice".into()
            }
        );
        let env = Environment::empty().with("HOME", "/root");
        let s = spec(
            None,
            env,
            SpecOptions {
                system: true,
                system_user: Some("svc".into()),
                ..SpecOptions::default()
            },
        );
        assert_eq!(s.scope, Scope::System { user: "svc".into() });
    }
}
