//! The command-line tree (clap derive).
//!
//! Global flags (`--profile`, `--dev`, `--verbose`, `--no-color`) are accepted anywhere on the
//! line. `openclaw gateway` with no verb runs the gateway in the foreground, like `gateway run`.
//! `daemon` is an alias of `gateway`, as in the reference CLI.

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use super::agent_args::{AgentArgs, ModelsArgs, SessionsArgs};
use crate::invocation::GlobalOptions;

/// OpenClaw: the always-on Gateway and the toolkit that supervises it.
#[derive(Debug, Parser)]
#[command(
    name = "openclaw",
    version = env!("OPENCLAW_VERSION_LONG"),
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Flags accepted before or after any verb.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted anywhere on the line.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Use an isolated profile: its own state dir (~/.openclaw-<NAME>), port and service names.
    #[arg(long, global = true, value_name = "NAME", allow_hyphen_values = true)]
    pub profile: Option<String>,
    /// Use the dev profile (profile `dev`, default port 19001).
    #[arg(long, global = true)]
    pub dev: bool,
    /// Mirror debug logs to stderr.
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Never colour output (NO_COLOR is honoured too).
    #[arg(long, global = true)]
    pub no_color: bool,
}

impl GlobalArgs {
    /// The global options as the invocation resolver takes them.
    pub fn options(&self) -> GlobalOptions {
        GlobalOptions {
            profile: self.profile.clone(),
            dev: self.dev,
            verbose: self.verbose,
            no_color: self.no_color,
        }
    }
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway, or manage it as an OS service.
    #[command(alias = "daemon")]
    Gateway(GatewayArgs),
    /// Prepare this account: a minimal config (gateway.mode "local"), the gateway token, the workspace.
    Setup(SetupArgs),
    /// Show the gateway service and whether the gateway answers (a summary of `gateway status`).
    Status(StatusArgs),
    /// Ask the running gateway for its health (as `gateway health`).
    Health(RpcArgs),
    /// Audit the installation and repair what is wrong.
    Doctor(DoctorArgs),
    /// Show the gateway's log (tails it over the gateway connection).
    Logs(LogsArgs),
    /// Run one agent turn through the gateway and print the answer.
    Agent(AgentArgs),
    /// The models the gateway can use.
    Models(ModelsArgs),
    /// The gateway's chat sessions.
    Sessions(SessionsArgs),
    /// Print the Control UI's address, signed in with the gateway token, and open it in a browser.
    Dashboard(DashboardArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Write the files distribution packages ship (units, man pages, completions) into a dir.
    #[command(name = "__packaging-files", hide = true)]
    PackagingFiles(PackagingFilesArgs),
    /// Run inside `gateway install`'s sandbox probe unit: check the sandbox, send READY=1.
    #[command(name = "__sandbox-probe", hide = true)]
    SandboxProbe,
}

/// `openclaw gateway [verb]`.
#[derive(Debug, Args)]
#[command(subcommand_required = false)]
pub struct GatewayArgs {
    /// The verb; none runs the gateway in the foreground.
    #[command(subcommand)]
    pub verb: Option<GatewayVerb>,
    /// Options of `gateway run`, when no verb is given.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Verbs of `openclaw gateway`.
#[derive(Debug, Subcommand)]
pub enum GatewayVerb {
    /// Run the gateway in the foreground (what the service runs).
    Run(RunArgs),
    /// Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task).
    Install(InstallArgs),
    /// Stop and remove the service; config, state and logs are kept.
    Uninstall(UninstallArgs),
    /// Start the installed service.
    Start(ServiceActionArgs),
    /// Stop the installed service.
    Stop(StopArgs),
    /// Restart the installed service.
    Restart(ServiceActionArgs),
    /// Show the service (supervisor view) and whether the gateway answers (RPC view).
    Status(StatusArgs),
    /// Ask the running gateway for its health.
    Health(RpcArgs),
    /// Call a gateway method and print its result.
    Call(CallArgs),
}

/// Options of `gateway run`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct RunArgs {
    /// Port for WebSocket and HTTP (default: by profile; see `gateway status`).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Where to listen: loopback, lan, custom, auto or tailnet.
    #[arg(long, value_name = "MODE")]
    pub bind: Option<String>,
    /// Auth mode: none, token, password or trusted-proxy.
    #[arg(long, value_name = "MODE")]
    pub auth: Option<String>,
    /// Shared token clients must present (default: OPENCLAW_GATEWAY_TOKEN, config, generated).
    #[arg(long)]
    pub token: Option<String>,
    /// Read the shared token from a file (OPENCLAW_GATEWAY_TOKEN_FILE).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<std::path::PathBuf>,
    /// Shared password clients must present (default: OPENCLAW_GATEWAY_PASSWORD, config).
    #[arg(long)]
    pub password: Option<String>,
    /// Read the shared password from a file.
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<std::path::PathBuf>,
    /// Start even when no config file exists.
    #[arg(long)]
    pub allow_unconfigured: bool,
    /// Stop whatever listens on the port first.
    #[arg(long)]
    pub force: bool,
}

impl RunArgs {
    /// The start options the gateway's settings take (`--force` is the command's own).
    pub fn start_options(&self) -> crate::gateway::settings::StartOptions {
        crate::gateway::settings::StartOptions {
            port: self.port,
            bind: self.bind.clone(),
            auth: self.auth.clone(),
            token: self.token.clone(),
            token_file: self.token_file.clone(),
            password: self.password.clone(),
            password_file: self.password_file.clone(),
            allow_unconfigured: self.allow_unconfigured,
        }
    }
}

impl GatewayArgs {
    /// The verb to run, refusing `gateway run` options given together with another verb
    /// (`openclaw gateway --port 1 install`).
    pub fn into_verb(self) -> Result<GatewayVerb, String> {
        match self.verb {
            None => Ok(GatewayVerb::Run(self.run)),
            Some(GatewayVerb::Run(run)) if self.run == RunArgs::default() => Ok(GatewayVerb::Run(run)),
            Some(verb) if self.run == RunArgs::default() => Ok(verb),
            Some(_) => Err(
                "options of `gateway run` (--port, --bind, --token, ...) must follow the verb they belong to, e.g. `openclaw gateway install --port 1234`".to_owned(),
            ),
        }
    }
}

/// The platforms a service plan can be rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    /// systemd.
    Linux,
    /// launchd.
    Macos,
    /// Task Scheduler.
    Windows,
}

/// Options of `gateway install`.
#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// Port the service listens on.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Rewrite the service even if it is already installed.
    #[arg(long)]
    pub force: bool,
    /// Print the plan (files and manager actions) without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Render the plan for another platform (with --dry-run).
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,
    /// Do not use socket activation (systemd).
    #[arg(long)]
    pub no_socket_activation: bool,
    /// Install a system unit in /etc/systemd/system (root required).
    #[arg(long)]
    pub system: bool,
    /// Account the system unit runs as (with --system).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Let the service start without a config file (without it, install first writes a minimal
    /// one when there is none, as `openclaw setup` does).
    #[arg(long)]
    pub allow_unconfigured: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Options of `gateway uninstall`.
#[derive(Debug, Clone, Args)]
pub struct UninstallArgs {
    /// Print the plan without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Render the plan for another platform (with --dry-run).
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,
    /// Act on the system unit.
    #[arg(long)]
    pub system: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Options of `gateway start` and `gateway restart`.
#[derive(Debug, Clone, Args)]
pub struct ServiceActionArgs {
    /// Act on the system unit.
    #[arg(long)]
    pub system: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Options of `gateway stop`.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Stop even from inside the gateway's own process tree (OPENCLAW_SERVICE_KIND=gateway).
    #[arg(long)]
    pub force: bool,
    /// Act on the system unit.
    #[arg(long)]
    pub system: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Options of `setup`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Writes only what is missing: the config (0600) when there is none, gateway.mode = \"local\" when the config has no gateway.mode (the previous file is kept as <config>.bak), the gateway token <state>/gateway.token (0600) when no token or password is configured, the state dir and the workspace dir (0700). An existing gateway.mode is never changed; running it again changes nothing. `gateway install` runs the same step when no config exists."
)]
pub struct SetupArgs {
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Which gateway a client command talks to, and with which credentials.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Gateway URL (default: ws://127.0.0.1:<resolved port>).
    #[arg(long)]
    pub url: Option<String>,
    /// Token (default: OPENCLAW_GATEWAY_TOKEN, config, then <state>/gateway.token).
    #[arg(long)]
    pub token: Option<String>,
    /// Password (default: OPENCLAW_GATEWAY_PASSWORD, config).
    #[arg(long)]
    pub password: Option<String>,
}

impl TargetArgs {
    /// The explicit target, as the client layer takes it.
    pub fn options(&self) -> crate::client::TargetOptions {
        crate::client::TargetOptions {
            url: self.url.clone(),
            token: self.token.clone(),
            password: self.password.clone(),
        }
    }
}

/// How a client reaches the gateway.
#[derive(Debug, Clone, Args)]
pub struct RpcArgs {
    /// The gateway and the credentials.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Timeout in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = crate::client::probe::DEFAULT_PROBE_TIMEOUT_MS)]
    pub timeout: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl RpcArgs {
    /// The explicit target of the command, as the client layer takes it.
    pub fn target_options(&self) -> crate::client::TargetOptions {
        self.target.options()
    }
}

/// Options of `gateway status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Do not connect to the gateway; show the supervisor view only.
    #[arg(long)]
    pub no_probe: bool,
    /// Also scan for other gateway-like services and port listeners, list the established
    /// client connections and show the gateway's last shutdown.
    #[arg(long)]
    pub deep: bool,
    /// Exit 1 when the gateway does not answer.
    #[arg(long)]
    pub require_rpc: bool,
    /// Probe the gateway on this port of 127.0.0.1 (instead of the service's or the configured port).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..), conflicts_with = "url")]
    pub port: Option<u16>,
    /// How to reach the gateway.
    #[command(flatten)]
    pub rpc: RpcArgs,
}

/// Options of `gateway call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// Method name, e.g. `health`.
    pub method: String,
    /// Params as JSON.
    #[arg(long, default_value = "{}")]
    pub params: String,
    /// How to reach the gateway.
    #[command(flatten)]
    pub rpc: RpcArgs,
}

/// Options of `doctor`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Exit status: 0 when no error or warning is left (clean, or everything fixed), 1 when findings remain, 2 for usage errors.\n\nAll profiles found (~/.openclaw-* state dirs, installed openclaw-gateway-*.service units) are audited unless --profile is given. System units and LaunchDaemons are never modified; config and state are never deleted.\n\nWhen the gateway does not answer, the service is checked as `gateway status` sees it: a service that is installed but not loaded or not running is started (asked on a terminal); a running one is restarted and a missing one installed only after a yes on a terminal (never with --yes or --non-interactive). The command of a running service is never rewritten, even with --force: stop it first or use `openclaw gateway install --force`. With OPENCLAW_SERVICE_REPAIR_POLICY=external doctor never changes the service."
)]
pub struct DoctorArgs {
    /// Apply the repairs (asks per repair on a terminal).
    #[arg(long, visible_alias = "repair")]
    pub fix: bool,
    /// Assume yes to every question (implies --fix), except installing or restarting the service.
    #[arg(long)]
    pub yes: bool,
    /// Never prompt; apply only safe repairs.
    #[arg(long)]
    pub non_interactive: bool,
    /// Also apply aggressive repairs (overwrite custom edits of the service).
    #[arg(long)]
    pub force: bool,
    /// With --fix: print the repair plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow touching system units / LaunchDaemons (doctor currently only reports them).
    #[arg(long)]
    pub system: bool,
    /// Print the findings as one JSON object (read-only; schemas/doctor.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Options of `dashboard`.
#[derive(Debug, Clone, Args)]
pub struct DashboardArgs {
    /// Only print the address; do not open a browser.
    #[arg(long)]
    pub no_open: bool,
}

/// Options of `logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Keep polling for new lines.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Lines to show.
    #[arg(long, default_value_t = 200)]
    pub limit: usize,
    /// Most bytes to read per poll.
    #[arg(long, default_value_t = 250_000)]
    pub max_bytes: u64,
    /// Plain `<time> <level> <subsystem> <message>` lines (the default; accepted for compatibility).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// Poll interval in milliseconds (with --follow).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub interval: u64,
    /// How to reach the gateway (and --json).
    #[command(flatten)]
    pub rpc: RpcArgs,
}

/// Options of `completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Options of the hidden `__packaging-files`.
#[derive(Debug, Clone, Args)]
pub struct PackagingFilesArgs {
    /// The output directory (the repository keeps them in packaging/generated).
    pub dir: std::path::PathBuf,
}

/// Parses the command line; errors about `--profile` use the documented wording.
pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    Cli::try_parse_from(args).map_err(|err| {
        let about_profile = matches!(
            err.get(ContextKind::InvalidArg),
            Some(ContextValue::String(arg)) if arg.starts_with("--profile")
        );
        if about_profile && err.kind() == ErrorKind::InvalidValue {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            cmd.error(ErrorKind::InvalidValue, "--profile requires a value")
        } else {
            err
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::invocation::Invocation;

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

    use clap::CommandFactory;

    #[test]
    fn a_profile_flag_without_value_says_it_requires_one() {
        let err = parse_args(["openclaw", "gateway", "status", "--profile"]).unwrap_err();
        assert!(
            err.to_string().contains("--profile requires a value"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
        let cli = parse_args(["openclaw", "--profile", "-x", "doctor"]).unwrap();
        assert_eq!(
            cli.global.profile.as_deref(),
            Some("-x"),
            "hyphen values reach the validator"
        );
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn global_flags_are_accepted_before_and_after_the_verb() {
        let before = parse(&["openclaw", "--profile", "rescue", "gateway", "install"]);
        let after = parse(&["openclaw", "gateway", "install", "--profile", "rescue"]);
        let middle = parse(&["openclaw", "gateway", "--profile=rescue", "install"]);
        for cli in [&before, &after, &middle] {
            assert_eq!(cli.global.profile.as_deref(), Some("rescue"));
            assert!(matches!(
                &cli.command,
                Command::Gateway(GatewayArgs {
                    verb: Some(GatewayVerb::Install(_)),
                    ..
                })
            ));
        }
        let cli = parse(&["openclaw", "doctor", "--dev", "--verbose", "--no-color"]);
        assert!(cli.global.dev && cli.global.verbose && cli.global.no_color);
    }

    #[test]
    fn gateway_without_a_verb_takes_run_options() {
        let cli = parse(&[
            "openclaw",
            "gateway",
            "--port",
            "1234",
            "--allow-unconfigured",
        ]);
        match cli.command {
            Command::Gateway(GatewayArgs { verb: None, run }) => {
                assert_eq!(run.port, Some(1234));
                assert!(run.allow_unconfigured);
            }
            other => panic!("{other:?}"),
        }
        let cli = parse(&["openclaw", "daemon", "status", "--no-probe"]);
        assert!(matches!(
            cli.command,
            Command::Gateway(GatewayArgs {
                verb: Some(GatewayVerb::Status(_)),
                ..
            })
        ));
    }

    #[test]
    fn daemon_is_an_alias_of_gateway_for_every_verb() {
        let command = Cli::command();
        let gateway = command.find_subcommand("gateway").unwrap();
        let verbs: Vec<&str> = gateway
            .get_subcommands()
            .map(|s| s.get_name())
            .filter(|name| *name != "help")
            .collect();
        assert!(verbs.len() >= 9, "{verbs:?}");
        for verb in verbs {
            let extra: &[&str] = if verb == "call" { &["health"] } else { &[] };
            let line = |top: &str| {
                let mut args = vec!["openclaw", top, verb];
                args.extend(extra);
                format!("{:?}", parse(&args).command)
            };
            assert_eq!(line("daemon"), line("gateway"), "daemon {verb}");
        }
    }

    #[test]
    fn setup_status_and_health_are_top_level_commands_taking_the_global_flags() {
        let cli = parse(&["openclaw", "--dev", "setup", "--json"]);
        assert!(cli.global.dev);
        assert!(matches!(
            cli.command,
            Command::Setup(SetupArgs { json: true })
        ));
        let cli = parse(&["openclaw", "status", "--json", "--deep", "--dev"]);
        assert!(cli.global.dev);
        assert!(matches!(
            cli.command,
            Command::Status(StatusArgs {
                deep: true,
                rpc: RpcArgs { json: true, .. },
                ..
            })
        ));
        let cli = parse(&["openclaw", "health", "--timeout", "50", "--profile", "x"]);
        assert_eq!(cli.global.profile.as_deref(), Some("x"));
        assert!(matches!(
            cli.command,
            Command::Health(RpcArgs { timeout: 50, .. })
        ));
    }

    #[test]
    fn ports_outside_1_to_65535_are_rejected_naming_the_flag() {
        for bad in ["0", "65536", "x"] {
            let err =
                Cli::try_parse_from(["openclaw", "gateway", "run", "--port", bad]).unwrap_err();
            assert!(err.to_string().contains("--port"), "{bad}: {err}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn run_options_cannot_be_mixed_with_another_verb() {
        let cli = parse(&["openclaw", "gateway", "--port", "1", "install"]);
        let Command::Gateway(gateway) = cli.command else {
            panic!()
        };
        assert!(
            gateway
                .into_verb()
                .unwrap_err()
                .contains("must follow the verb")
        );
        let cli = parse(&["openclaw", "gateway", "run", "--port", "7"]);
        let Command::Gateway(gateway) = cli.command else {
            panic!()
        };
        assert!(matches!(
            gateway.into_verb(),
            Ok(GatewayVerb::Run(RunArgs { port: Some(7), .. }))
        ));
    }
}
