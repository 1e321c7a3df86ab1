//! The status report: the supervisor's view, the config the service reads, the port, the
//! probe and (with `--deep`) other gateway-like services, as one [`StatusReport`].

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::last_log::{
    current_log_file, journal_last_error, last_error_line, last_shutdown, wants_last_error,
};
use super::scan::{connections_view, port_view, scan_services};
use crate::cli::StatusArgs;
use crate::cli::exit_status::CliError;
use crate::client::RpcTarget;
use crate::client::dashboard::{ControlUiLinks, links_for};
use crate::client::probe::{RpcView, probe, probe_target};
use crate::config::{BindMode, Config, LoadedConfig};
use crate::contract::bind::bind_plan;
use crate::environment::Environment;
use crate::invocation::Invocation;
use crate::paths::Paths;
use crate::profile::ProfileSelection;
use crate::service::installed_definition::InstalledDefinition;
use crate::service::spec::{ServiceSpec, SpecOptions};
use crate::service::status::{ServiceState, SupervisorStatus};
use crate::service::{PlatformKind, backend_for};
use crate::service_names::ServiceNames;

/// The whole report (the `--json` output).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// This CLI.
    pub cli: CliInfo,
    /// The profile.
    pub profile: String,
    /// The state dir.
    pub state_dir: String,
    /// The config file as the CLI sees it.
    pub config: ConfigView,
    /// The gateway's log file.
    pub log_file: Option<String>,
    /// Where the gateway listens and is probed.
    pub gateway: GatewayView,
    /// The supervisor view.
    pub service: ServiceView,
    /// Who listens on the port.
    pub port: PortView,
    /// The port this CLI's `--port`/env/config resolves, when the probe goes elsewhere (the
    /// service's `--port` argument differs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_cli: Option<PortView>,
    /// The RPC view.
    pub rpc: RpcView,
    /// The last gateway error line, when the service looks up but the gateway does not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Where [`StatusReport::last_error`] was read: `journal` or `log-file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_source: Option<String>,
    /// `--deep`: the established client connections to the gateway port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections: Option<ConnectionsView>,
    /// `--deep`: the newest shutdown of a gateway on the port, from its log (`null` when none is
    /// recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_shutdown: Option<Option<ShutdownView>>,
    /// Whether the system-level scans of `--deep` ran.
    pub deep: bool,
    /// Gateway-like services that are not this profile's service (user units always; system
    /// folders, LaunchDaemons and scheduled tasks with `--deep`).
    pub extra_services: Vec<ExtraServiceView>,
    /// Findings of the scans: a port shared by a user and a system unit, a foreign listener.
    pub warnings: Vec<String>,
}

/// One entry of `extraServices`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtraServiceView {
    /// `linux`, `macos`, `windows`.
    pub platform: String,
    /// Unit file name, launchd label or task name.
    pub label: String,
    /// Where it is and what it runs.
    pub detail: String,
    /// `user` or `system`.
    pub scope: String,
    /// Its `OPENCLAW_SERVICE_MARKER`.
    pub marker: Option<String>,
    /// True for names and markers of older releases.
    pub legacy: bool,
    /// `profile-service`, `other-release`, `legacy`, `foreign`.
    pub class: String,
    /// The definition file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The port it serves, when its definition says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// A token or password is written inline in its definition.
    pub embeds_secret: bool,
    /// The exact commands that remove it, in order.
    pub removal: Vec<String>,
}

/// `cli`.
#[derive(Debug, Clone, Serialize)]
pub struct CliInfo {
    /// Version.
    pub version: String,
    /// This executable.
    pub entrypoint: Option<String>,
}

/// `connections` (`--deep`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionsView {
    /// The gateway port.
    pub port: u16,
    /// How many established connections the port has (`null` when they cannot be listed).
    pub count: Option<usize>,
    /// The first [`MAX_LISTED_CONNECTIONS`] of them, by client address.
    pub clients: Vec<ClientView>,
    /// Why they cannot be listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One established connection.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    /// The client's address.
    pub peer: String,
    /// The gateway's side.
    pub local: String,
    /// The client process (local clients this user can see).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its `comm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Its command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
}

/// `lastShutdown` (`--deep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShutdownView {
    /// When the shutdown began (the record's time).
    pub time: Option<String>,
    /// What asked for it (`SIGTERM`, `SIGINT`).
    pub signal: String,
    /// `clean` (drained and closed), `timed-out` (the drain budget ran out) or `unfinished`
    /// (no end recorded: the process was killed while draining, or is still draining).
    pub outcome: String,
    /// How long the clean shutdown took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The gateway's process id, when the record carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// `log-file` or `journal`.
    pub source: String,
}

/// `config`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigView {
    /// Path.
    pub path: String,
    /// Whether it exists.
    pub exists: bool,
    /// Whether it parses.
    pub valid: bool,
    /// The error when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The config the installed service reads (from its `OPENCLAW_STATE_DIR` /
    /// `OPENCLAW_CONFIG_PATH` / profile), when a definition could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daemon: Option<DaemonConfigView>,
    /// True when the service reads another config than this CLI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<bool>,
    /// Why, and the fix, when `mismatch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch_fix: Option<String>,
}

/// `config.daemon`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonConfigView {
    /// The config path the service uses.
    pub path: String,
    /// Whether it exists.
    pub exists: bool,
    /// The state dir the service uses.
    pub state_dir: String,
    /// The definition it was read from.
    pub source: String,
}

/// `gateway`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayView {
    /// Bind mode.
    pub bind_mode: String,
    /// The host clients on this machine dial.
    pub bind_host: String,
    /// Port.
    pub port: u16,
    /// Where the port came from (`cli`, `env`, `config`, `default`).
    pub port_source: String,
    /// The probe URL.
    pub probe_url: String,
    /// Where a browser and a WebSocket client reach the gateway on the probe host and port.
    pub control_ui_links: ControlUiLinks,
    /// A note about reachability.
    pub probe_note: String,
}

/// `service`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// `target` when the probe goes to this service's gateway, `diagnostic-only` when it is
    /// shown for information ([`target_role`]).
    pub target_role: String,
    /// What the service definition runs (`null` without a readable unit file or plist).
    pub command: Option<CommandView>,
    /// The supervisor's answer, when it could be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<SupervisorStatus>,
    /// Why it could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_error: Option<InspectionError>,
}

/// `service.command`: what the service definition runs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandView {
    /// The command line (`--token`/`--password` values shown as `<redacted>`).
    pub program_arguments: Vec<String>,
    /// Its working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    /// `OPENCLAW_PROFILE`, `OPENCLAW_STATE_DIR`, `OPENCLAW_CONFIG_PATH`, `OPENCLAW_GATEWAY_PORT`,
    /// `OPENCLAW_CONFIG_READONLY`, `OPENCLAW_NIX_MODE` of its environment, when set inline.
    pub environment: std::collections::BTreeMap<String, String>,
    /// The unit file or plist.
    pub source_path: String,
}

/// How secrets of a service's command line are shown.
pub(crate) const REDACTED: &str = "<redacted>";

/// Why the supervisor could not be asked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectionError {
    /// Kind (`systemd-unavailable`, `not-implemented`, …).
    pub kind: String,
    /// Message.
    pub message: String,
    /// What to do.
    pub hints: Vec<String>,
}

/// `port`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortView {
    /// Port.
    pub port: u16,
    /// `busy`, `free` or `unknown`.
    pub status: String,
    /// Listening processes.
    pub listeners: Vec<ListenerView>,
    /// Why `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One listener.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerView {
    /// PID.
    pub pid: u32,
    /// `comm`.
    pub command: String,
    /// Command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
}

/// The report of `gateway status` (and `openclaw status`).
pub fn build_report(invocation: &Invocation, args: &StatusArgs) -> Result<StatusReport, CliError> {
    if args.require_rpc && args.no_probe {
        return Err(CliError::failure(
            "Gateway status failed: --require-rpc needs probing enabled. Remove --no-probe or drop --require-rpc.",
        ));
    }
    let (config, mut config_view) = config_and_view(invocation)?;
    let ports = invocation.ports(args.port, &config)?;
    let cfg = &config.config;
    let mode = cfg
        .gateway_bind()
        .map(|b| b.mode())
        .unwrap_or(BindMode::Loopback);
    let host = bind_plan(mode, cfg.custom_bind_host())
        .map(|p| p.probe_host())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let mut service = supervisor_view(invocation, &config);
    let definition_path = service
        .runtime
        .as_ref()
        .and_then(|r| r.definition_path.clone());
    let definition = definition_path
        .as_deref()
        .and_then(InstalledDefinition::read);
    service.command = definition
        .as_ref()
        .zip(definition_path.as_deref())
        .map(|(d, path)| command_view(d, path));
    let (target, port_number, port_source) = probe_target(
        invocation,
        &args.rpc.target_options(),
        args.port,
        &config,
        definition.as_ref(),
    )?;
    service.target_role = target_role(invocation, &target, &service).to_owned();
    let gateway = gateway_view(mode, host, &target, cfg, port_number, port_source);

    let port = port_view(port_number);
    let port_cli = (ports.port != port_number).then(|| port_view(ports.port));
    let rpc = rpc_view(invocation, args, &target);
    let log_file = current_log_file(invocation, &config);
    let (last_error, last_error_source) = last_error(&service, &rpc, &port, log_file.as_deref());
    if let Some(daemon) = service
        .runtime
        .as_ref()
        .zip(definition.as_ref())
        .and_then(|(r, d)| daemon_config(invocation, r, d))
    {
        let mismatch = Path::new(&daemon.path) != invocation.paths.config_path;
        config_view.mismatch_fix = mismatch.then(|| {
            format!(
                "the service reads {} but this CLI reads {}: run `openclaw gateway install --force` from the profile and environment you intend the service to use (or run this CLI with the service's profile)",
                daemon.path, config_view.path
            )
        });
        config_view.mismatch = Some(mismatch);
        config_view.daemon = Some(daemon);
    }
    let scan = scan_services(invocation, &service, &port, args.deep);
    // After the probe, whose own connection is closed by now.
    let connections = args.deep.then(|| connections_view(port_number));
    let last_shutdown = args
        .deep
        .then(|| last_shutdown(invocation, &config, service.runtime.as_ref(), port_number));
    let report = StatusReport {
        cli: CliInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            entrypoint: std::env::current_exe()
                .ok()
                .map(|p| p.display().to_string()),
        },
        profile: invocation.profile.profile.to_string(),
        state_dir: invocation.paths.state_dir.display().to_string(),
        config: config_view,
        log_file: log_file.map(|p| p.display().to_string()),
        gateway,
        service,
        port,
        port_cli,
        rpc,
        last_error,
        last_error_source,
        connections,
        last_shutdown,
        deep: args.deep,
        extra_services: scan.extras,
        warnings: scan.warnings,
    };
    Ok(report)
}

/// The CLI's config and its view; a broken file is reported (the defaults stand in for it).
fn config_and_view(invocation: &Invocation) -> Result<(LoadedConfig, ConfigView), CliError> {
    Ok(match invocation.load_config() {
        Ok(c) => {
            let view = ConfigView {
                path: c.path.display().to_string(),
                exists: c.exists,
                valid: true,
                error: None,
                daemon: None,
                mismatch: None,
                mismatch_fix: None,
            };
            (c, view)
        }
        Err(e) => {
            let path = invocation.paths.config_path.display().to_string();
            let defaults = LoadedConfig::load(
                std::path::Path::new("/nonexistent/openclaw.json"),
                &invocation.env,
            )
            .map_err(|e| CliError::failure(e.to_string()))?;
            (
                defaults,
                ConfigView {
                    path,
                    exists: true,
                    valid: false,
                    error: Some(e.to_string()),
                    daemon: None,
                    mismatch: None,
                    mismatch_fix: None,
                },
            )
        }
    })
}

/// `gateway`: the bind mode and host, the port and where it came from, the probe URL.
fn gateway_view(
    mode: BindMode,
    host: IpAddr,
    target: &RpcTarget,
    config: &Config,
    port_number: u16,
    port_source: String,
) -> GatewayView {
    let probe_note = match mode {
        BindMode::Loopback => "Loopback-only gateway; only local clients can connect.".to_owned(),
        BindMode::Lan => {
            format!("bind=lan listens on 0.0.0.0 (all interfaces); probing via {host}.")
        }
        other => format!("bind={other}; probing via {host}."),
    };
    GatewayView {
        bind_mode: mode.to_string(),
        bind_host: host.to_string(),
        port: port_number,
        port_source,
        probe_url: target.url.clone(),
        control_ui_links: links_for(&target.url, config),
        probe_note,
    }
}

/// `rpc`: the probe's outcome, or `skipped` with `--no-probe`.
fn rpc_view(invocation: &Invocation, args: &StatusArgs, target: &RpcTarget) -> RpcView {
    if args.no_probe {
        RpcView {
            probed: false,
            ok: false,
            url: target.url.clone(),
            url_source: target.url_source.to_owned(),
            outcome: "skipped".into(),
            latency_ms: None,
            server_version: None,
            capability: None,
            error: None,
            fix: None,
        }
    } else {
        probe(
            target,
            Duration::from_millis(args.rpc.timeout),
            args.require_rpc,
            invocation,
        )
    }
}

/// The last error line (and whether it came from the journal or the log file) when the
/// service looks up but the gateway does not answer.
fn last_error(
    service: &ServiceView,
    rpc: &RpcView,
    port: &PortView,
    log_file: Option<&Path>,
) -> (Option<String>, Option<String>) {
    let service_up = service
        .runtime
        .as_ref()
        .is_some_and(|r| matches!(r.state, ServiceState::Running | ServiceState::Starting));
    if wants_last_error(service_up, rpc, &port.status) {
        match service.runtime.as_ref().and_then(journal_last_error) {
            Some(line) => (Some(line), Some("journal".to_owned())),
            None => match log_file.and_then(last_error_line) {
                Some(line) => (Some(line), Some("log-file".to_owned())),
                None => (None, None),
            },
        }
    } else {
        (None, None)
    }
}

pub(crate) fn supervisor_view(invocation: &Invocation, config: &LoadedConfig) -> ServiceView {
    let inspection = |e: crate::service::ServiceError| {
        let message = if e.kind == "not-implemented" {
            format!(
                "this build cannot inspect {} services yet",
                PlatformKind::host().supervisor()
            )
        } else {
            e.message
        };
        ServiceView {
            target_role: String::new(),
            command: None,
            runtime: None,
            inspection_error: Some(InspectionError {
                kind: e.kind.to_owned(),
                message,
                hints: e.hints,
            }),
        }
    };
    let spec = match ServiceSpec::build(invocation, config, &SpecOptions::default()) {
        Ok(spec) => spec,
        Err(e) => return inspection(e),
    };
    match backend_for(PlatformKind::host(), invocation).and_then(|mut b| b.status(&spec)) {
        Ok(runtime) => ServiceView {
            target_role: String::new(),
            command: None,
            runtime: Some(runtime),
            inspection_error: None,
        },
        Err(e) => inspection(e),
    }
}

/// `service.targetRole` (spec §5.2): the service is the probe target only when the probe goes
/// to the locally resolved gateway (no `--port`, `--url` or remote `gateway.remote.url`), the
/// host runs a service manager we support (systemd, launchd, Task Scheduler), the service has
/// the default install identity (the profile's canonical state dir and config path, the
/// profile's own unit/label/task names) and no external supervisor runs the gateway
/// (`OPENCLAW_SUPERVISOR_MODE=external`). Otherwise it is shown for diagnosis only.
pub fn target_role(
    invocation: &Invocation,
    target: &RpcTarget,
    service: &ServiceView,
) -> &'static str {
    let own_names = ServiceNames::for_profile(&invocation.profile.profile);
    let names = &invocation.names;
    let default_identity = invocation.paths.is_canonical_state_dir()
        && names.systemd_unit == own_names.systemd_unit
        && names.launchd_label == own_names.launchd_label
        && names.windows_task == own_names.windows_task;
    let external = invocation
        .env
        .get_nonempty("OPENCLAW_SUPERVISOR_MODE")
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("external"));
    let supported_manager = service
        .runtime
        .as_ref()
        .is_some_and(|r| r.inspection_reason.as_deref() != Some("service-manager-unavailable"));
    if target.url_source == "local" && supported_manager && default_identity && !external {
        "target"
    } else {
        "diagnostic-only"
    }
}

/// How many connections `connections.clients` lists.
pub const MAX_LISTED_CONNECTIONS: usize = 100;

/// The environment variables `service.command.environment` shows (spec §5.3; never secrets).
pub(crate) const COMMAND_ENV_KEYS: [&str; 6] = [
    "OPENCLAW_PROFILE",
    "OPENCLAW_STATE_DIR",
    "OPENCLAW_CONFIG_PATH",
    "OPENCLAW_GATEWAY_PORT",
    "OPENCLAW_CONFIG_READONLY",
    "OPENCLAW_NIX_MODE",
];

/// The config the installed service reads: its definition's `OPENCLAW_STATE_DIR` /
/// `OPENCLAW_CONFIG_PATH` (or legacy `CLAWDBOT_*`), `OPENCLAW_PROFILE` / `--profile` and `HOME`,
/// resolved exactly as the gateway resolves its own paths. Values kept in an env file (secrets
/// only, by design) are not read.
pub(crate) fn daemon_config(
    invocation: &Invocation,
    runtime: &SupervisorStatus,
    definition: &InstalledDefinition,
) -> Option<DaemonConfigView> {
    let source = runtime.definition_path.as_ref()?;
    let mut env = Environment::empty().with("HOME", &invocation.paths.home.display().to_string());
    for (key, value) in &definition.vars {
        env = env.with(key, value);
    }
    let profile_flag = definition.flag("--profile");
    let selection = ProfileSelection::resolve(profile_flag.as_deref(), false, &env).ok()?;
    let paths = Paths::resolve(&selection, &env).ok()?;
    Some(DaemonConfigView {
        exists: paths.config_path.exists(),
        path: paths.config_path.display().to_string(),
        state_dir: paths.state_dir.display().to_string(),
        source: source.display().to_string(),
    })
}

/// `service.command`: the command line with `--token`/`--password` values redacted, the
/// working directory and the [`COMMAND_ENV_KEYS`] of the environment.
pub(crate) fn command_view(def: &InstalledDefinition, source: &Path) -> CommandView {
    let mut redact_next = false;
    let program_arguments = def
        .argv
        .iter()
        .map(|arg| {
            let secret_flag = ["--token", "--password"]
                .iter()
                .find(|f| arg.starts_with(&format!("{f}=")));
            let shown = if redact_next {
                REDACTED.to_owned()
            } else if let Some(flag) = secret_flag {
                format!("{flag}={REDACTED}")
            } else {
                arg.clone()
            };
            redact_next = arg == "--token" || arg == "--password";
            shown
        })
        .collect();
    CommandView {
        program_arguments,
        working_directory: def.working_directory.clone(),
        environment: def
            .vars
            .iter()
            .filter(|(k, _)| COMMAND_ENV_KEYS.contains(k))
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        source_path: source.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_command_hides_secrets_and_keeps_the_listed_environment() {
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("openclaw-gateway.service");
        std::fs::write(
            &unit,
            "[Service]\nExecStart=/usr/bin/openclaw gateway --port 1234 --token s3cret --password=pw\nWorkingDirectory=-/srv/oc\nEnvironment=OPENCLAW_PROFILE=work OPENCLAW_GATEWAY_TOKEN=tok HOME=/home/u OPENCLAW_NIX_MODE=1\n",
        )
        .unwrap();
        let def = InstalledDefinition::read(&unit).unwrap();
        assert_eq!(def.port(), Some(1234));
        let view = command_view(&def, &unit);
        assert_eq!(
            view.program_arguments,
            [
                "/usr/bin/openclaw",
                "gateway",
                "--port",
                "1234",
                "--token",
                "<redacted>",
                "--password=<redacted>"
            ]
        );
        assert_eq!(view.working_directory.as_deref(), Some("/srv/oc"));
        assert_eq!(
            view.environment.into_iter().collect::<Vec<_>>(),
            [
                ("OPENCLAW_NIX_MODE".to_owned(), "1".to_owned()),
                ("OPENCLAW_PROFILE".to_owned(), "work".to_owned())
            ]
        );
        assert_eq!(view.source_path, unit.display().to_string());
    }
}
