//! `openclaw gateway status`: two independent views, never confused.
//!
//! - Supervisor view: what systemd/launchd/Task Scheduler says about the service (state, PID,
//!   uptime, restarts, last exit, status text, unit path), or why it could not be asked.
//! - RPC view: whether a gateway answers on the resolved URL (WebSocket connect as a status
//!   probe, latency, server version, the auth outcome — a missing or mismatched token is its own
//!   state with the fix), and with `--require-rpc` a read RPC (`status`).
//!
//! Plus where things are (config, state dir, profile, log file), the bind mode and host, port and
//! where the port came from, the probe URL, the dashboard link (the gateway's HTTP root: this
//! gateway bundles no Control UI), who listens on the port, and — when the service looks running
//! but the gateway does not answer — the last error line of the gateway log.
//! The probe goes to `--port` on 127.0.0.1 (`portSource: "cli"`), else to the port of the
//! installed service's command line when it has one (`"service args"`), else env/config; a
//! service that is not what the probe reaches is `targetRole: "diagnostic-only"`. A service that
//! reads another config than this CLI is reported as `config.mismatch` with the fix. The last error line comes from the unit's journal, else
//! the gateway's log file. Other gateway-like services ([`crate::service::discovery`]: user
//! definitions always, system folders and scheduled tasks with `--deep`) are listed with the
//! exact command to remove each; `--deep` also warns about a port shared by a user and a system
//! unit and about listeners on our port that are not our service, lists the established client
//! connections (sock_diag) and shows the last shutdown the gateway logged. Nothing is changed.
//! `--json` prints one object matching `schemas/status.schema.json`. Exit 0 unless
//! `--require-rpc` fails or the command itself fails.

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{RpcArgs, StatusArgs};
use crate::config::{BindMode, LoadedConfig};
use crate::environment::Environment;
use crate::exit_status::{CliError, ExitStatus};
use crate::gateway::logs_tail::{resolve_log_file, tail};
use crate::gateway::port_owner::{PortListener, established_clients, find_listeners};
use crate::gateway::settings::bind_plan;
use crate::invocation::Invocation;
use crate::logging::{FileTarget, file_for_date, is_rolling_log_name, local_date_today};
use crate::paths::Paths;
use crate::profile::ProfileSelection;
use crate::rpc_client::{ConnectAs, GatewayClient, RpcError, RpcTarget, resolve_target};
use crate::service::discovery::{self, DiscoveryRoots, DiscoveryScope, PlistJob, ServiceClass};
use crate::service::runner::SystemRunner;
use crate::service::spec::{ServiceSpec, SpecOptions};
use crate::service::status::{ServiceState, SupervisorStatus};
use crate::service::systemd::drift::{UnitFile, flag_value};
use crate::service::systemd::journal::{self, looks_like_startup_failure};
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

/// `gateway.controlUiLinks`. This gateway bundles no Control UI: `httpUrl` is the HTTP root of
/// the gateway port (what the reference prints as its dashboard), where only `/health(z)`,
/// `/ready(z)` and the WebSocket upgrade are served (other paths answer a JSON 404).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlUiLinks {
    /// `http[s]://<host>:<port>/`.
    pub http_url: String,
    /// `ws[s]://<host>:<port>`.
    pub ws_url: String,
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
const REDACTED: &str = "<redacted>";

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

/// `rpc`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcView {
    /// Whether the probe ran.
    pub probed: bool,
    /// Whether the gateway answered (and, with `--require-rpc`, the read RPC succeeded).
    pub ok: bool,
    /// The URL probed.
    pub url: String,
    /// Where the URL came from.
    pub url_source: String,
    /// `connected`, `unreachable`, `auth-failed`, `refused`, `timeout`, `protocol-error`,
    /// `rpc-failed`, `skipped`.
    pub outcome: String,
    /// Round trip of connect + hello, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// The gateway's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// `admin`, `read_only`, `connected_no_operator_scope`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    /// The error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The fix for an auth failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn out(text: &str) {
    let _ = writeln!(io::stdout().lock(), "{text}");
}

/// `openclaw gateway status`.
pub fn status(invocation: &Invocation, args: &StatusArgs) -> Result<ExitStatus, CliError> {
    let report = build_report(invocation, args)?;
    if args.rpc.json {
        print_json(&report)?;
    } else {
        print_human(&report, invocation.color, args.require_rpc);
    }
    Ok(exit_status(&report, args))
}

/// `openclaw status`: the report of `gateway status` (the same `--json`), as a short summary
/// in text: the service, whether the gateway answers, the port, the versions.
pub fn summary(invocation: &Invocation, args: &StatusArgs) -> Result<ExitStatus, CliError> {
    let report = build_report(invocation, args)?;
    if args.rpc.json {
        print_json(&report)?;
    } else {
        let cli = match invocation.profile.profile.name() {
            Some(name) => format!("openclaw --profile {name}"),
            None => "openclaw".to_owned(),
        };
        for line in summary_lines(&report, &cli) {
            out(&line);
        }
        out(&format!("Details: {cli} gateway status"));
    }
    Ok(exit_status(&report, args))
}

fn print_json(report: &StatusReport) -> Result<(), CliError> {
    out(&serde_json::to_string_pretty(report).map_err(|e| CliError::failure(e.to_string()))?);
    Ok(())
}

fn exit_status(report: &StatusReport, args: &StatusArgs) -> ExitStatus {
    if args.require_rpc && !report.rpc.ok {
        ExitStatus::Failure
    } else {
        ExitStatus::Ok
    }
}

/// The lines of `openclaw status` (without colour): `Service`, `Gateway`, `Port`, `Version`;
/// `cli` is how commands it suggests begin (`openclaw --profile dev`).
pub fn summary_lines(report: &StatusReport, cli: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let role = if report.service.target_role == "target" {
        String::new()
    } else {
        format!(" {DIAGNOSTIC_ONLY}")
    };
    match (&report.service.runtime, &report.service.inspection_error) {
        (Some(rt), _) => {
            let facts = runtime_facts(rt, false);
            let fix = if rt.state == ServiceState::NotInstalled {
                format!(" · install: {cli} gateway install")
            } else {
                String::new()
            };
            lines.push(format!(
                "Service  {} · {} · {}{facts}{fix}{role}",
                rt.supervisor,
                rt.name,
                rt.state.label()
            ));
            if let Some(reason) = rt
                .reason
                .as_deref()
                .filter(|_| rt.state != ServiceState::Running)
            {
                lines.push(format!("Why      {reason}"));
            }
        }
        (None, Some(e)) => lines.push(format!("Service  cannot be inspected: {}{role}", e.message)),
        (None, None) => lines.push(format!("Service  unknown{role}")),
    }
    let rpc = &report.rpc;
    let gateway = if !rpc.probed {
        format!("{} not probed (--no-probe)", rpc.url)
    } else if rpc.ok {
        let mut facts = vec![];
        if let Some(ms) = rpc.latency_ms {
            facts.push(format!("{ms} ms"));
        }
        if let Some(c) = &rpc.capability {
            facts.push(format!("capability {c}"));
        }
        format!("{} reachable ({})", rpc.url, facts.join(", "))
    } else {
        format!(
            "{} {} ({})",
            rpc.url,
            rpc.outcome,
            rpc.error.as_deref().unwrap_or("no answer")
        )
    };
    lines.push(format!("Gateway  {gateway}"));
    if let Some(fix) = rpc.fix.as_deref().filter(|_| rpc.probed && !rpc.ok) {
        lines.push(format!("Fix      {fix}"));
    }
    if let Some(err) = &report.last_error {
        lines.push(format!("Error    {err}"));
    }
    let g = &report.gateway;
    lines.push(format!(
        "Port     {} ({}), bind {}",
        g.port, g.port_source, g.bind_mode
    ));
    lines.push(format!(
        "Version  openclaw {}{}",
        report.cli.version,
        match &rpc.server_version {
            Some(v) => format!(" · gateway {v}"),
            None => String::new(),
        }
    ));
    if report.config.valid && !report.config.exists {
        lines.push(format!(
            "Config   {} not found (set it up: {cli} setup)",
            report.config.path
        ));
    } else if !report.config.valid {
        lines.push(format!(
            "Config   {} INVALID: {}",
            report.config.path,
            report.config.error.as_deref().unwrap_or("")
        ));
    }
    lines
}

/// The report of `gateway status` (and `openclaw status`).
pub fn build_report(invocation: &Invocation, args: &StatusArgs) -> Result<StatusReport, CliError> {
    if args.require_rpc && args.no_probe {
        return Err(CliError::failure(
            "Gateway status failed: --require-rpc needs probing enabled. Remove --no-probe or drop --require-rpc.",
        ));
    }
    let (config, config_view) = match invocation.load_config() {
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
                    error: Some(e.message),
                    daemon: None,
                    mismatch: None,
                    mismatch_fix: None,
                },
            )
        }
    };
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
    let definition = definition_path.as_deref().and_then(ServiceDefinition::read);
    service.command = definition
        .as_ref()
        .zip(definition_path.as_deref())
        .map(|(d, path)| d.view(path));
    let (target, port_number, port_source) = probe_target(
        invocation,
        &args.rpc,
        args.port,
        &config,
        definition.as_ref(),
    )?;
    service.target_role = target_role(invocation, &target, &service).to_owned();
    let probe_note = match mode {
        BindMode::Loopback => "Loopback-only gateway; only local clients can connect.".to_owned(),
        BindMode::Lan => {
            format!("bind=lan listens on 0.0.0.0 (all interfaces); probing via {host}.")
        }
        other => format!("bind={other}; probing via {host}."),
    };
    let gateway = GatewayView {
        bind_mode: mode.to_string(),
        bind_host: host.to_string(),
        port: port_number,
        port_source,
        probe_url: target.url.clone(),
        control_ui_links: control_ui_links(&target.url),
        probe_note,
    };

    let port = port_view(port_number);
    let port_cli = (ports.port != port_number).then(|| port_view(ports.port));
    let rpc = if args.no_probe {
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
            &target,
            Duration::from_millis(args.rpc.timeout),
            args.require_rpc,
            invocation,
        )
    };
    let log_file = current_log_file(invocation, &config);
    let service_up = service
        .runtime
        .as_ref()
        .is_some_and(|r| matches!(r.state, ServiceState::Running | ServiceState::Starting));
    let (last_error, last_error_source) = if wants_last_error(service_up, &rpc, &port.status) {
        match service.runtime.as_ref().and_then(journal_last_error) {
            Some(line) => (Some(line), Some("journal".to_owned())),
            None => match log_file.as_deref().and_then(last_error_line) {
                Some(line) => (Some(line), Some("log-file".to_owned())),
                None => (None, None),
            },
        }
    } else {
        (None, None)
    };
    let mut config_view = config_view;
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

/// The timeout of the status probe when `--timeout` is not given, ms.
pub const DEFAULT_PROBE_TIMEOUT_MS: u64 = 10_000;

/// Where the probe goes: the resolved target, moved to the port the installed service runs with
/// (the `--port` of its definition) when the URL is the local default, because that port beats
/// env and config (spec §5.2) and a differing CLI config shows as `config.mismatch`; with the
/// port and where it came from.
fn probe_target(
    invocation: &Invocation,
    rpc: &RpcArgs,
    port_flag: Option<u16>,
    config: &LoadedConfig,
    definition: Option<&ServiceDefinition>,
) -> Result<(RpcTarget, u16, String), CliError> {
    let ports = invocation.ports(port_flag, config)?;
    // `--port N` probes ws://127.0.0.1:N exactly as `--url` would (spec §5.1), with the port
    // shown as coming from the command line.
    let mut target = match port_flag {
        Some(port) => {
            let rpc = RpcArgs {
                url: Some(format!("ws://127.0.0.1:{port}")),
                ..rpc.clone()
            };
            let mut target = resolve_target(invocation, &rpc, config)?;
            target.url_source = "cli --port";
            target
        }
        None => resolve_target(invocation, rpc, config)?,
    };
    // The port the installed service runs with beats env and config (spec §5.2): the probe
    // goes where the service listens, and a differing CLI config shows as config.mismatch.
    match definition.and_then(ServiceDefinition::port) {
        Some(p) if target.url_source == "local" => {
            target.url = replace_port(&target.url, p);
            Ok((target, p, "service args".to_owned()))
        }
        _ => Ok((target, ports.port, ports.port_source.as_str().to_owned())),
    }
}

/// The connectivity probe of `openclaw gateway status` (no flags) for `invocation`'s profile:
/// the same target (the installed service's `--port` when `runtime` names its definition), the
/// same connect-as-probe handshake and the default timeout. `openclaw doctor` uses it to tell a
/// healthy service from one that runs but does not answer.
pub fn probe_gateway(
    invocation: &Invocation,
    config: &LoadedConfig,
    runtime: Option<&SupervisorStatus>,
) -> RpcView {
    let rpc = RpcArgs {
        url: None,
        token: None,
        password: None,
        timeout: DEFAULT_PROBE_TIMEOUT_MS,
        json: false,
    };
    let definition = runtime
        .and_then(|r| r.definition_path.as_deref())
        .and_then(ServiceDefinition::read);
    match probe_target(invocation, &rpc, None, config, definition.as_ref()) {
        Ok((target, _, _)) => probe(
            &target,
            Duration::from_millis(rpc.timeout),
            false,
            invocation,
        ),
        Err(e) => RpcView {
            probed: false,
            ok: false,
            url: String::new(),
            url_source: String::new(),
            outcome: "skipped".into(),
            latency_ms: None,
            server_version: None,
            capability: None,
            error: Some(e.message),
            fix: None,
        },
    }
}

impl RpcView {
    /// True when a gateway answered the probe at all: connected, or refused it with an error
    /// of its own (auth, a failed read RPC). Unreachable, timed out or not speaking the protocol
    /// is no answer.
    pub fn gateway_answered(&self) -> bool {
        self.probed
            && matches!(
                self.outcome.as_str(),
                "connected" | "auth-failed" | "refused" | "rpc-failed"
            )
    }
}

fn supervisor_view(invocation: &Invocation, config: &LoadedConfig) -> ServiceView {
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

/// `gateway.controlUiLinks` of a probe URL: its scheme and authority as HTTP root and WebSocket
/// URL.
fn control_ui_links(probe_url: &str) -> ControlUiLinks {
    let (scheme, rest) = probe_url.split_once("://").unwrap_or(("ws", probe_url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let (http, ws) = if scheme.eq_ignore_ascii_case("wss") {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    ControlUiLinks {
        http_url: format!("{http}://{authority}/"),
        ws_url: format!("{ws}://{authority}"),
    }
}

/// How many connections `connections.clients` lists.
pub const MAX_LISTED_CONNECTIONS: usize = 100;

/// `connections` (`--deep`): the established connections to the gateway port, without this
/// command's own.
fn connections_view(port: u16) -> ConnectionsView {
    match established_clients(port) {
        Ok(found) => {
            let me = std::process::id();
            let found: Vec<_> = found
                .into_iter()
                .filter(|c| c.client.as_ref().is_none_or(|p| p.pid != me))
                .collect();
            ConnectionsView {
                port,
                count: Some(found.len()),
                clients: found
                    .into_iter()
                    .take(MAX_LISTED_CONNECTIONS)
                    .map(|c| ClientView {
                        peer: c.peer.to_string(),
                        local: c.local.to_string(),
                        pid: c.client.as_ref().map(|p| p.pid),
                        command: c.client.as_ref().map(|p| p.command.clone()),
                        command_line: c.client.and_then(|p| p.command_line),
                    })
                    .collect(),
                detail: None,
            }
        }
        Err(e) => ConnectionsView {
            port,
            count: None,
            clients: vec![],
            detail: Some(format!("cannot list connections: {e}")),
        },
    }
}

/// One log record as the shutdown search needs it.
struct LogRecord {
    time: Option<String>,
    message: String,
    /// The `port` field, when the record has one.
    port: Option<u64>,
    /// The `pid` field.
    pid: Option<u64>,
}

/// Messages the shutdown search looks at (a cheap filter before JSON parsing).
const SHUTDOWN_MARKERS: [&str; 5] = [
    "; shutting down",
    "completed cleanly in ",
    "shutdown timed out",
    "restarting in-process",
    "; ready",
];

/// The newest shutdown of the gateway on `port` in `records` (oldest first): a `received
/// <signal>; shutting down` record, ended by `completed cleanly in <n>ms` (clean) or `shutdown
/// timed out` (timed-out); `unfinished` when neither follows before the next start or in-process
/// restart. Records of another port are skipped; records without a port (older gateways, the
/// reference's) count.
fn find_last_shutdown(
    records: impl Iterator<Item = LogRecord>,
    port: u16,
    source: &str,
) -> Option<ShutdownView> {
    let mut last: Option<ShutdownView> = None;
    let mut open = false;
    for record in records {
        if record.port.is_some_and(|p| p != u64::from(port)) {
            continue;
        }
        let message = record.message.trim();
        if let Some(signal) = message
            .strip_prefix("received ")
            .and_then(|m| m.strip_suffix("; shutting down"))
        {
            last = Some(ShutdownView {
                time: record.time,
                signal: signal.to_owned(),
                outcome: "unfinished".into(),
                duration_ms: None,
                pid: record.pid.and_then(|p| u32::try_from(p).ok()),
                source: source.to_owned(),
            });
            open = true;
            continue;
        }
        if !open {
            continue;
        }
        let Some(view) = last.as_mut() else { continue };
        if let Some(ms) = message
            .strip_prefix("completed cleanly in ")
            .and_then(|m| m.strip_suffix("ms"))
            .and_then(|m| m.parse().ok())
        {
            view.outcome = "clean".into();
            view.duration_ms = Some(ms);
            open = false;
        } else if message.starts_with("shutdown timed out") {
            view.outcome = "timed-out".into();
            open = false;
        } else if message.starts_with("restarting in-process") || message.ends_with("; ready") {
            open = false;
        }
    }
    last
}

/// The log files to search for the last shutdown, newest first: the current file and the older
/// rolling files of its directory (or a fixed file and its roll-over `.1`).
fn shutdown_log_files(invocation: &Invocation, config: &LoadedConfig) -> Vec<std::path::PathBuf> {
    match invocation.log_target(&config.config) {
        FileTarget::Fixed(path) => {
            let mut rolled = path.clone().into_os_string();
            rolled.push(".1");
            vec![path, rolled.into()]
        }
        FileTarget::Rolling { dir } => {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| is_rolling_log_name(&e.path()))
                .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
                .collect();
            files.sort_by_key(|f| std::cmp::Reverse(f.0));
            files.into_iter().map(|(_, p)| p).collect()
        }
    }
}

/// `lastShutdown` (`--deep`): from the gateway's file log (newest file first, the last 4 MiB of
/// each), else, for a systemd unit, from its journal (the gateway writes both).
fn last_shutdown(
    invocation: &Invocation,
    config: &LoadedConfig,
    runtime: Option<&SupervisorStatus>,
    port: u16,
) -> Option<ShutdownView> {
    for file in shutdown_log_files(invocation, config) {
        let Ok(page) = tail(&file, None, usize::MAX, 4 * 1024 * 1024) else {
            continue;
        };
        let records = page
            .lines
            .iter()
            .filter(|line| SHUTDOWN_MARKERS.iter().any(|m| line.contains(m)))
            .map(|line| {
                let record: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                let parsed = crate::rpc_commands::parse_log_line(line);
                LogRecord {
                    time: parsed.time,
                    message: parsed.message,
                    port: record["fields"]["port"].as_u64(),
                    pid: record["fields"]["pid"].as_u64(),
                }
            });
        if let Some(found) = find_last_shutdown(records, port, "log-file") {
            return Some(found);
        }
    }
    let runtime = runtime?;
    let user = systemd_user_unit(runtime)?;
    let records = journal::records(&mut SystemRunner, &runtime.name, user, 5000);
    let records = records.iter().filter_map(|r| {
        let field = |k: &str| r[k].as_str().and_then(|v| v.parse::<u64>().ok());
        Some(LogRecord {
            time: journal::time(r),
            message: journal::message(r)?,
            port: field("F_PORT"),
            pid: field("F_PID"),
        })
    });
    find_last_shutdown(records, port, "journal")
}

/// Whether to look for the gateway's last error (journal, else log file): the service looks up
/// but nothing listens on its port, or the probe ran and failed. A skipped probe (`--no-probe`)
/// is not a failure: a healthy service is then reported without reading the journal (a
/// `journalctl` run is most of the command's time).
fn wants_last_error(service_up: bool, rpc: &RpcView, port_status: &str) -> bool {
    service_up && ((rpc.probed && !rpc.ok) || port_status == "free")
}

/// The newest error line of the systemd unit's journal (none for other supervisors, or
/// without a journal).
fn journal_last_error(runtime: &SupervisorStatus) -> Option<String> {
    let user = systemd_user_unit(runtime)?;
    journal::last_error(&mut SystemRunner, &runtime.name, user)
}

/// `Some(true)` for a systemd user unit, `Some(false)` for a system unit, `None` for other
/// supervisors (no journal to read).
fn systemd_user_unit(runtime: &SupervisorStatus) -> Option<bool> {
    match runtime.supervisor.as_str() {
        "systemd user" => Some(true),
        "systemd system" => Some(false),
        _ => None,
    }
}

/// What a service definition (unit file or plist) says about its environment and arguments.
struct ServiceDefinition {
    /// Path-related variables of its environment (never secrets).
    vars: Vec<(&'static str, String)>,
    /// Its command line.
    argv: Vec<String>,
    /// Its working directory.
    working_directory: Option<String>,
}

/// The environment variables `service.command.environment` shows (spec §5.3; never secrets).
const COMMAND_ENV_KEYS: [&str; 6] = [
    "OPENCLAW_PROFILE",
    "OPENCLAW_STATE_DIR",
    "OPENCLAW_CONFIG_PATH",
    "OPENCLAW_GATEWAY_PORT",
    "OPENCLAW_CONFIG_READONLY",
    "OPENCLAW_NIX_MODE",
];

impl ServiceDefinition {
    const KEYS: [&'static str; 9] = [
        "OPENCLAW_STATE_DIR",
        "CLAWDBOT_STATE_DIR",
        "OPENCLAW_CONFIG_PATH",
        "CLAWDBOT_CONFIG_PATH",
        "OPENCLAW_PROFILE",
        "HOME",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_CONFIG_READONLY",
        "OPENCLAW_NIX_MODE",
    ];

    /// Reads a `.service` or `.plist` file; `None` for anything else or an unreadable file.
    fn read(path: &Path) -> Option<Self> {
        let mut vars = Vec::new();
        let (argv, working_directory) = match path.extension().and_then(|e| e.to_str()) {
            Some("service") => {
                let unit = UnitFile::parse(&std::fs::read_to_string(path).ok()?);
                for key in Self::KEYS {
                    if let Some(v) = unit.environment(key).filter(|v| !v.is_empty()) {
                        vars.push((key, v));
                    }
                }
                let dir = unit
                    .last("Service", "WorkingDirectory")
                    .map(|d| d.trim_start_matches('-').to_owned())
                    .filter(|d| !d.is_empty());
                (unit.exec_start(), dir)
            }
            Some("plist") => {
                let job = PlistJob::read(path)?;
                for key in Self::KEYS {
                    if let Some(v) = job.env(key) {
                        vars.push((key, v));
                    }
                }
                let dir = job
                    .dict
                    .get("WorkingDirectory")
                    .and_then(plist::Value::as_string)
                    .map(str::to_owned);
                (job.argv, dir)
            }
            _ => return None,
        };
        Some(Self {
            vars,
            argv,
            working_directory,
        })
    }

    /// `service.command`: the command line with `--token`/`--password` values redacted, the
    /// working directory and the [`COMMAND_ENV_KEYS`] of the environment.
    fn view(&self, source: &Path) -> CommandView {
        let mut redact_next = false;
        let program_arguments = self
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
            working_directory: self.working_directory.clone(),
            environment: self
                .vars
                .iter()
                .filter(|(k, _)| COMMAND_ENV_KEYS.contains(k))
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            source_path: source.display().to_string(),
        }
    }

    /// The last `--name V` / `--name=V` of the command line.
    fn flag(&self, name: &str) -> Option<String> {
        flag_value(&self.argv, name)
    }

    /// `--port N` of the command line (invalid values count as absent).
    fn port(&self) -> Option<u16> {
        self.flag("--port")
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|p| *p > 0)
    }
}

/// `ws://host:old` → `ws://host:port`.
fn replace_port(url: &str, port: u16) -> String {
    match url.rsplit_once(':') {
        Some((head, tail)) if tail.chars().all(|c| c.is_ascii_digit()) => {
            format!("{head}:{port}")
        }
        _ => url.to_owned(),
    }
}

/// The config the installed service reads: its definition's `OPENCLAW_STATE_DIR` /
/// `OPENCLAW_CONFIG_PATH` (or legacy `CLAWDBOT_*`), `OPENCLAW_PROFILE` / `--profile` and `HOME`,
/// resolved exactly as the gateway resolves its own paths. Values kept in an env file (secrets
/// only, by design) are not read.
fn daemon_config(
    invocation: &Invocation,
    runtime: &SupervisorStatus,
    definition: &ServiceDefinition,
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

#[derive(Default)]
struct Scan {
    extras: Vec<ExtraServiceView>,
    warnings: Vec<String>,
}

/// Other gateway-like services (user definitions always; system folders, LaunchDaemons and
/// scheduled tasks with `--deep`), and with `--deep` the port findings: a user and a system
/// unit serving the same port, and listeners on our port that are not our service.
fn scan_services(
    invocation: &Invocation,
    service: &ServiceView,
    port: &PortView,
    deep: bool,
) -> Scan {
    let mut scan = Scan::default();
    let roots = DiscoveryRoots::from_env(invocation.paths.home.clone(), &invocation.env);
    let found = match PlatformKind::host() {
        PlatformKind::Linux => discovery::discover_systemd(&roots, deep),
        PlatformKind::Macos => discovery::discover_launchd(&roots, deep),
        PlatformKind::Windows if deep => discovery::query_windows_tasks(&mut SystemRunner)
            .unwrap_or_else(|e| {
                scan.warnings
                    .push(format!("scheduled tasks could not be listed: {e}"));
                Vec::new()
            }),
        PlatformKind::Windows => Vec::new(),
    };
    let runtime = service.runtime.as_ref();
    let ours = runtime.and_then(|r| r.definition_path.as_ref());
    scan.extras = found
        .iter()
        .filter(|s| discovery::is_extra(s) && s.path.as_ref() != ours)
        .map(|s| ExtraServiceView {
            platform: s.platform.to_string(),
            label: s.label.clone(),
            detail: s.detail.clone(),
            scope: s.scope.as_str().to_owned(),
            marker: s.marker.clone(),
            legacy: s.is_legacy(),
            class: match &s.class {
                ServiceClass::ProfileService { .. } => "profile-service",
                ServiceClass::OtherRelease => "other-release",
                ServiceClass::Legacy => "legacy",
                ServiceClass::Foreign => "foreign",
                ServiceClass::NodeCompanion => "node-companion",
                ServiceClass::PackagedHomebrew { .. } => "packaged-homebrew",
            }
            .to_owned(),
            path: s.path.as_ref().map(|p| p.display().to_string()),
            port: s.port,
            embeds_secret: s.embeds_secret,
            removal: s.removal.clone(),
        })
        .collect();
    if !deep {
        return scan;
    }
    let gateways = || {
        found
            .iter()
            .filter(|s| !matches!(s.class, ServiceClass::NodeCompanion))
    };
    for system in gateways().filter(|s| s.scope == DiscoveryScope::System) {
        for user in gateways().filter(|s| s.scope == DiscoveryScope::User) {
            if let (Some(p), Some(q)) = (system.port, user.port) {
                if p == q {
                    scan.warnings.push(format!(
                        "user unit {} and system unit {} both serve port {p}: only one can listen. Keep one; to remove the system unit: {}",
                        user.label,
                        system.label,
                        system.removal_command()
                    ));
                }
            }
        }
    }
    let main_pid = runtime.and_then(|r| r.pid);
    for l in &port.listeners {
        // With socket activation the service manager holds the listening socket too.
        if Some(l.pid) == main_pid || l.command == "systemd" {
            continue;
        }
        let who = l.command_line.as_deref().unwrap_or(&l.command);
        scan.warnings.push(match (runtime, main_pid) {
            (Some(r), Some(pid)) => format!(
                "port {} is also held by pid {} ({who}), not by {} (pid {pid})",
                port.port, l.pid, r.name
            ),
            (Some(r), None) => format!(
                "port {} is held by pid {} ({who}), not by the {} service ({})",
                port.port,
                l.pid,
                r.name,
                r.state.label()
            ),
            _ => format!(
                "port {} is held by pid {} ({who}), which no supervisor runs for this profile",
                port.port, l.pid
            ),
        });
    }
    scan
}

fn port_view(port: u16) -> PortView {
    match find_listeners(port) {
        Ok(listeners) => PortView {
            port,
            status: if listeners.is_empty() { "free" } else { "busy" }.to_owned(),
            listeners: listeners
                .into_iter()
                .map(
                    |PortListener {
                         pid,
                         command,
                         command_line,
                     }| ListenerView {
                        pid,
                        command,
                        command_line,
                    },
                )
                .collect(),
            detail: None,
        },
        Err(e) => PortView {
            port,
            status: "unknown".into(),
            listeners: vec![],
            detail: Some(e.to_string()),
        },
    }
}

fn probe(
    target: &RpcTarget,
    timeout: Duration,
    require_rpc: bool,
    invocation: &Invocation,
) -> RpcView {
    let mut view = RpcView {
        probed: true,
        ok: false,
        url: target.url.clone(),
        url_source: target.url_source.to_owned(),
        outcome: String::new(),
        latency_ms: None,
        server_version: None,
        capability: None,
        error: None,
        fix: None,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            view.outcome = "protocol-error".into();
            view.error = Some(e.to_string());
            return view;
        }
    };
    let who = if require_rpc {
        ConnectAs::Cli
    } else {
        ConnectAs::Probe
    };
    let result = runtime.block_on(async {
        tokio::time::timeout(timeout, async {
            let started = Instant::now();
            let mut client = GatewayClient::connect_as(target, who).await?;
            let latency = started.elapsed();
            let rpc = if require_rpc {
                Some(client.request("status", json!({})).await)
            } else {
                None
            };
            let hello = client.hello.clone();
            client.close().await;
            Ok::<_, RpcError>((hello, latency, rpc))
        })
        .await
        .unwrap_or(Err(RpcError::Timeout {
            url: target.url.clone(),
            after: timeout,
        }))
    });
    match result {
        Ok((hello, latency, rpc)) => {
            view.latency_ms = Some((latency.as_secs_f64() * 10_000.0).round() / 10.0);
            view.server_version = hello["server"]["version"].as_str().map(str::to_owned);
            let scopes: Vec<&str> = hello["auth"]["scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            view.capability = Some(
                if scopes.contains(&"operator.admin") {
                    "admin"
                } else if scopes
                    .iter()
                    .any(|s| *s == "operator.read" || *s == "operator.write")
                {
                    "read_only"
                } else {
                    "connected_no_operator_scope"
                }
                .to_owned(),
            );
            match rpc {
                Some(Err(e)) => {
                    view.outcome = "rpc-failed".into();
                    view.error = Some(format!("status RPC failed: {}", e.message()));
                }
                _ => {
                    view.ok = true;
                    view.outcome = "connected".into();
                }
            }
        }
        Err(e) => {
            view.error = Some(e.message());
            view.outcome = match &e {
                RpcError::Unreachable { .. } => "unreachable",
                RpcError::Timeout { .. } => "timeout",
                RpcError::Protocol(_) => "protocol-error",
                RpcError::Gateway(shape) => {
                    let code = shape
                        .details
                        .as_ref()
                        .and_then(|d| d["code"].as_str())
                        .unwrap_or("");
                    if code.starts_with("AUTH_") {
                        view.fix = Some(auth_fix(code, target, invocation));
                        "auth-failed"
                    } else {
                        "refused"
                    }
                }
            }
            .to_owned();
        }
    }
    view
}

fn auth_fix(code: &str, target: &RpcTarget, invocation: &Invocation) -> String {
    let token_file = invocation.paths.token_file();
    match code {
        "AUTH_TOKEN_MISSING" | "AUTH_PASSWORD_MISSING" => format!(
            "this CLI has no credential for {}: pass --token (or --password), set OPENCLAW_GATEWAY_TOKEN, or run on the gateway host where {} holds the token",
            target.url,
            token_file.display()
        ),
        "AUTH_RATE_LIMITED" => "too many failed attempts from this address: wait for the lockout to end, then retry with the right token".to_owned(),
        _ => format!(
            "the token this CLI sent differs from the gateway's: use the gateway's gateway.auth.token or the contents of {} (on the gateway host), or pass --token",
            token_file.display()
        ),
    }
}

fn current_log_file(invocation: &Invocation, config: &LoadedConfig) -> Option<std::path::PathBuf> {
    let target = invocation.log_target(&config.config);
    let file = resolve_log_file(&file_for_date(&target, &local_date_today()));
    file.exists().then_some(file)
}

/// The last error-like line of the gateway log (256 KiB window): an error record, else a record
/// matching the reference's startup-failure patterns.
pub fn last_error_line(file: &std::path::Path) -> Option<String> {
    let page = tail(file, None, 5000, 256 * 1024).ok()?;
    page.lines.iter().rev().find_map(|line| {
        let parsed = crate::rpc_commands::parse_log_line(line);
        let is_error = parsed.level.as_deref() == Some("error");
        (is_error || looks_like_startup_failure(&parsed.message)).then(|| {
            format!("{} {}", parsed.time.unwrap_or_default(), parsed.message)
                .trim()
                .to_owned()
        })
    })
}

/// ` (pid N, up T[, N restart(s)], last exit …)` of a supervisor's view, or nothing.
fn runtime_facts(rt: &SupervisorStatus, restarts: bool) -> String {
    let mut facts = vec![];
    if let Some(pid) = rt.pid {
        facts.push(format!("pid {pid}"));
    }
    if let Some(up) = rt.uptime_secs {
        facts.push(format!("up {}", human_duration(up)));
    }
    if let Some(n) = rt.restarts.filter(|_| restarts) {
        facts.push(format!("{n} restart(s)"));
    }
    if let Some(exit) = &rt.last_exit {
        facts.push(describe_last_exit(exit));
    }
    if facts.is_empty() {
        String::new()
    } else {
        format!(" ({})", facts.join(", "))
    }
}

fn paint(text: &str, style: anstyle::Style, color: bool) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_owned()
    }
}

fn print_human(report: &StatusReport, color: bool, require_rpc: bool) {
    use anstyle::{AnsiColor, Style};
    let bold = Style::new().bold();
    let good = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let bad = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let warn = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let line = |label: &str, value: &str| out(&format!("  {:<13} {value}", label));
    let role = if report.service.target_role == "target" {
        String::new()
    } else {
        format!(" {}", paint(DIAGNOSTIC_ONLY, warn, color))
    };

    // Block 1: the supervisor.
    match (&report.service.runtime, &report.service.inspection_error) {
        (Some(rt), _) => {
            out(&format!(
                "{} {} · {}{role}",
                paint("Service", bold, color),
                rt.supervisor,
                rt.name
            ));
            let state_style = match rt.state {
                ServiceState::Running => good,
                ServiceState::Failed | ServiceState::StartLimitHit => bad,
                _ => warn,
            };
            let facts = runtime_facts(rt, true);
            line(
                "State",
                &format!("{}{facts}", paint(rt.state.label(), state_style, color)),
            );
            if let Some(path) = &rt.definition_path {
                line("Unit", &path.display().to_string());
            }
            if let Some(cmd) = &report.service.command {
                line("Command", &cmd.program_arguments.join(" "));
                if let Some(dir) = &cmd.working_directory {
                    line("Working dir", dir);
                }
                if !cmd.environment.is_empty() {
                    let env: Vec<String> = cmd
                        .environment
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    line("Service env", &env.join(" "));
                }
            }
            if let Some(text) = &rt.status_text {
                line("Status", text);
            }
            if let Some(level) = &rt.sandbox {
                line(
                    "Sandbox",
                    &format!("{level} (the level install's probe chose in the service manager)"),
                );
            }
            if rt.reload_pending {
                line(
                    "Reload",
                    &paint(
                        "pending: the unit file changed on disk; run openclaw gateway install --force",
                        warn,
                        color,
                    ),
                );
            }
            if let Some(reason) = &rt.reason {
                line("Why", reason);
            }
            if let Some(command) = log_command(rt) {
                line("Logs", &command);
            }
            if rt.state == ServiceState::NotInstalled {
                line("Fix", "openclaw gateway install");
            }
        }
        (None, Some(e)) => {
            out(&format!(
                "{} {}{role}",
                paint("Service", bold, color),
                paint("cannot be inspected", warn, color)
            ));
            line("Why", &e.message);
            for hint in &e.hints {
                line("Hint", hint);
            }
        }
        (None, None) => {}
    }
    out("");
    // Block 2: the gateway over RPC.
    let g = &report.gateway;
    out(&paint("Gateway", bold, color));
    line(
        "Bind",
        &format!(
            "{} ({}), port {} ({})",
            g.bind_mode, g.bind_host, g.port, g.port_source
        ),
    );
    line(
        "Probe target",
        &format!("{} ({})", report.rpc.url, report.rpc.url_source),
    );
    line(
        "Dashboard",
        &format!("{} ({NO_CONTROL_UI})", g.control_ui_links.http_url),
    );
    line("Probe note", &g.probe_note);
    let rpc = &report.rpc;
    let label = if require_rpc { "Read RPC" } else { "RPC" };
    if !rpc.probed {
        line(label, "not probed (--no-probe)");
    } else if rpc.ok {
        let mut parts = vec![paint("ok", good, color)];
        if let Some(ms) = rpc.latency_ms {
            parts.push(format!("{ms} ms"));
        }
        if let Some(v) = &rpc.server_version {
            parts.push(format!("gateway {v}"));
        }
        if let Some(c) = &rpc.capability {
            parts.push(format!("capability {c}"));
        }
        line(label, &parts.join(" · "));
    } else {
        line(
            label,
            &format!(
                "{} ({})",
                paint(&rpc.outcome, bad, color),
                rpc.error.as_deref().unwrap_or("")
            ),
        );
        if let Some(fix) = &rpc.fix {
            line("Fix", fix);
        }
    }
    match report.port.status.as_str() {
        "busy" => {
            for l in &report.port.listeners {
                line(
                    "Listener",
                    &format!(
                        "pid {} ({})",
                        l.pid,
                        l.command_line.as_deref().unwrap_or(&l.command)
                    ),
                );
            }
        }
        "free" => {
            let up =
                report.service.runtime.as_ref().is_some_and(|r| {
                    matches!(r.state, ServiceState::Running | ServiceState::Starting)
                });
            let text = if up {
                format!(
                    "nothing listens on port {} (service appears running)",
                    g.port
                )
            } else {
                format!("nothing listens on port {}", g.port)
            };
            line(
                "Listener",
                &paint(&text, if up { bad } else { warn }, color),
            );
        }
        _ => line(
            "Listener",
            report.port.detail.as_deref().unwrap_or("unknown"),
        ),
    }
    if let Some(cli) = &report.port_cli {
        let state = match cli.status.as_str() {
            "busy" => "busy",
            "free" => "free",
            _ => "unknown",
        };
        line(
            "CLI port",
            &format!(
                "{} ({state}): what this CLI's env/config resolves; the service runs with --port {}",
                cli.port, g.port
            ),
        );
    }
    if let Some(err) = &report.last_error {
        let from = match report.last_error_source.as_deref() {
            Some("journal") => "journal",
            _ => "log file",
        };
        line(
            "Last error",
            &format!("{} (from the {from})", paint(err, bad, color)),
        );
    }
    if let Some(c) = &report.connections {
        match c.count {
            Some(n) => {
                line("Connections", &format!("{n} established"));
                for client in c.clients.iter().take(MAX_PRINTED_CONNECTIONS) {
                    let who = match (client.pid, &client.command_line, &client.command) {
                        (Some(pid), Some(cmd), _) | (Some(pid), None, Some(cmd)) => {
                            format!(" (pid {pid}, {cmd})")
                        }
                        (Some(pid), None, None) => format!(" (pid {pid})"),
                        _ => String::new(),
                    };
                    line("", &format!("- {}{who}", client.peer));
                }
                if n > MAX_PRINTED_CONNECTIONS {
                    line(
                        "",
                        &format!(
                            "… and {} more (--json lists up to {MAX_LISTED_CONNECTIONS})",
                            n - MAX_PRINTED_CONNECTIONS
                        ),
                    );
                }
            }
            None => line("Connections", c.detail.as_deref().unwrap_or("unknown")),
        }
    }
    if let Some(shutdown) = &report.last_shutdown {
        line(
            "Last shutdown",
            &shutdown
                .as_ref()
                .map_or_else(|| "none recorded".to_owned(), describe_shutdown),
        );
    }
    out("");
    out(&format!(
        "{} {} ({})",
        paint("Config", bold, color),
        report.config.path,
        if !report.config.exists {
            "not found: defaults"
        } else if report.config.valid {
            "valid"
        } else {
            "INVALID"
        }
    ));
    if let Some(e) = &report.config.error {
        line("Error", e);
    }
    if let Some(daemon) = &report.config.daemon {
        if report.config.mismatch == Some(true) {
            line(
                "Service",
                &paint(
                    &format!("{} (differs from the CLI's)", daemon.path),
                    warn,
                    color,
                ),
            );
            if let Some(fix) = &report.config.mismatch_fix {
                line("Fix", fix);
            }
        }
    }
    out(&format!(
        "{} {} · profile {}",
        paint("State", bold, color),
        report.state_dir,
        report.profile
    ));
    if let Some(file) = &report.log_file {
        out(&format!("{} {file}", paint("Logs", bold, color)));
    }
    if !report.extra_services.is_empty() {
        out("");
        out(&paint(
            "Other gateway-like services detected (best effort):",
            warn,
            color,
        ));
        for extra in &report.extra_services {
            out(&format!(
                "- {} ({}, {})",
                extra.label, extra.scope, extra.detail
            ));
            if !extra.removal.is_empty() {
                out(&format!("    remove: {}", extra.removal.join(" && ")));
            }
        }
        out(ONE_GATEWAY_ADVICE);
    }
    if !report.warnings.is_empty() {
        out("");
        for warning in &report.warnings {
            out(&format!("{} {warning}", paint("Warning:", warn, color)));
        }
    }
}

/// The text suffix of a service that is not the probe target (spec §5.2).
pub const DIAGNOSTIC_ONLY: &str = "(diagnostic only, not the probe target)";

/// What the `Dashboard` line adds: this gateway serves no Control UI.
const NO_CONTROL_UI: &str =
    "no Control UI in this gateway: only /healthz, /readyz and the WebSocket answer there";

/// How many connections the text output lists.
const MAX_PRINTED_CONNECTIONS: usize = 10;

/// `last exit N (…)`: a signal exit status (128 + n, spec §5.4) or a killing signal named.
fn describe_last_exit(exit: &crate::service::status::LastExit) -> String {
    let Some(status) = exit.status else {
        return format!(
            "last exit ?{}",
            exit.reason
                .as_ref()
                .map_or(String::new(), |r| format!(" ({r})"))
        );
    };
    let signal = |n: i32| crate::service::systemd::state::signal_name(n);
    let note = match exit.reason.as_deref() {
        Some("killed") => Some(format!("killed by {}", signal(status))),
        Some("dumped") => Some(format!("{}, core dumped", signal(status))),
        None | Some("exited") if matches!(status, 129 | 130 | 131 | 134 | 137 | 143) => {
            Some(signal(status - 128))
        }
        other => other.map(str::to_owned),
    };
    match note {
        Some(note) => format!("last exit {status} ({note})"),
        None => format!("last exit {status}"),
    }
}

/// Where to read why a failed systemd unit ended (spec §5.4 log hints). User units are read
/// with `--user-unit` (`--user -u` shows nothing with volatile journal storage).
fn log_command(rt: &SupervisorStatus) -> Option<String> {
    if !matches!(rt.state, ServiceState::Failed | ServiceState::StartLimitHit) {
        return None;
    }
    Some(if systemd_user_unit(rt)? {
        format!("journalctl --user-unit {} -n 200 --no-pager", rt.name)
    } else {
        format!("journalctl -u {} -n 200 --no-pager", rt.name)
    })
}

/// `SIGTERM at <time>, clean in 12 ms (pid 42, from the log file)`.
fn describe_shutdown(s: &ShutdownView) -> String {
    let outcome = match (s.outcome.as_str(), s.duration_ms) {
        ("clean", Some(ms)) => format!("completed cleanly in {ms} ms"),
        ("clean", None) => "completed cleanly".to_owned(),
        ("timed-out", _) => "drain timed out; exited without full cleanup".to_owned(),
        _ => "no end recorded (killed while draining, or still draining)".to_owned(),
    };
    let mut text = s.signal.clone();
    if let Some(time) = &s.time {
        text.push_str(&format!(" at {time}"));
    }
    text.push_str(&format!(", {outcome} ("));
    if let Some(pid) = s.pid {
        text.push_str(&format!("pid {pid}, "));
    }
    text.push_str(match s.source.as_str() {
        "journal" => "from the journal)",
        _ => "from the log file)",
    });
    text
}

/// The advice printed under the extra services.
pub const ONE_GATEWAY_ADVICE: &str =
    "One gateway per machine is recommended; use isolated profiles/ports for a rescue bot.";

fn human_duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    fn rpc(probed: bool, ok: bool) -> super::RpcView {
        super::RpcView {
            probed,
            ok,
            url: "ws://127.0.0.1:18789".into(),
            url_source: "local".into(),
            outcome: if probed { "refused" } else { "skipped" }.into(),
            latency_ms: None,
            server_version: None,
            capability: None,
            error: None,
            fix: None,
        }
    }

    #[test]
    fn the_last_error_is_looked_up_for_a_failed_probe_or_a_free_port_not_a_skipped_probe() {
        use super::wants_last_error;
        // Running, port held, probe skipped (--no-probe): nothing known to be wrong.
        assert!(!wants_last_error(true, &rpc(false, false), "busy"));
        // Running, port held, probe failed / answered.
        assert!(wants_last_error(true, &rpc(true, false), "busy"));
        assert!(!wants_last_error(true, &rpc(true, true), "busy"));
        // Running but nothing listens: with or without the probe.
        assert!(wants_last_error(true, &rpc(false, false), "free"));
        // Not running: never.
        assert!(!wants_last_error(false, &rpc(true, false), "free"));
    }

    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(125), "2m 5s");
        assert_eq!(human_duration(7_380), "2h 3m");
        assert_eq!(human_duration(90_000), "1d 1h");
    }

    #[test]
    fn the_last_error_line_prefers_error_records() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway-2026-01-01.jsonl");
        let rec = |level: &str, msg: &str| {
            format!(
                "{{\"time\":\"t\",\"_meta\":{{\"logLevelName\":\"{level}\"}},\"message\":\"{msg}\"}}\n"
            )
        };
        std::fs::write(
            &file,
            rec("ERROR", "boom") + &rec("INFO", "fine") + &rec("INFO", "still fine"),
        )
        .unwrap();
        assert_eq!(last_error_line(&file).as_deref(), Some("t boom"));
        std::fs::write(&file, rec("INFO", "fine")).unwrap();
        assert_eq!(last_error_line(&file), None);
    }

    #[test]
    fn control_ui_links_are_the_probe_urls_http_root_and_websocket() {
        let links = control_ui_links("ws://127.0.0.1:18789");
        assert_eq!(links.http_url, "http://127.0.0.1:18789/");
        assert_eq!(links.ws_url, "ws://127.0.0.1:18789");
        let links = control_ui_links("wss://[::1]:8443/some/path?x=1");
        assert_eq!(links.http_url, "https://[::1]:8443/");
        assert_eq!(links.ws_url, "wss://[::1]:8443");
    }

    #[test]
    fn exit_statuses_of_signals_are_annotated() {
        use crate::service::status::LastExit;
        let exit = |status: i32, reason: &str| LastExit {
            status: Some(status),
            reason: Some(reason.to_owned()),
        };
        assert_eq!(
            describe_last_exit(&exit(143, "exited")),
            "last exit 143 (SIGTERM)"
        );
        assert_eq!(
            describe_last_exit(&exit(137, "exited")),
            "last exit 137 (SIGKILL)"
        );
        assert_eq!(
            describe_last_exit(&exit(78, "exited")),
            "last exit 78 (exited)"
        );
        assert_eq!(
            describe_last_exit(&exit(9, "killed")),
            "last exit 9 (killed by SIGKILL)"
        );
        assert_eq!(
            describe_last_exit(&exit(11, "dumped")),
            "last exit 11 (SIGSEGV, core dumped)"
        );
        let bare = LastExit {
            status: Some(130),
            reason: None,
        };
        assert_eq!(describe_last_exit(&bare), "last exit 130 (SIGINT)");
    }

    fn rec(time: &str, message: &str, port: Option<u64>) -> LogRecord {
        LogRecord {
            time: Some(time.to_owned()),
            message: message.to_owned(),
            port,
            pid: port.map(|_| 42),
        }
    }

    #[test]
    fn the_last_shutdown_is_the_newest_stop_of_this_port_with_its_end() {
        let records = vec![
            rec("t1", "received SIGINT; shutting down", Some(18789)),
            rec("t2", "completed cleanly in 12ms", Some(18789)),
            rec(
                "t3",
                "listening on ws://127.0.0.1:18789 (127.0.0.1:18789); ready",
                Some(18789),
            ),
            rec("t4", "received SIGTERM; shutting down", Some(18789)),
            // Another gateway logging to the same file.
            rec("t5", "received SIGTERM; shutting down", Some(19001)),
            rec("t6", "completed cleanly in 999ms", Some(19001)),
            rec("t7", "completed cleanly in 7ms", Some(18789)),
        ];
        let found = find_last_shutdown(records.into_iter(), 18789, "log-file").unwrap();
        assert_eq!(
            found,
            ShutdownView {
                time: Some("t4".into()),
                signal: "SIGTERM".into(),
                outcome: "clean".into(),
                duration_ms: Some(7),
                pid: Some(42),
                source: "log-file".into(),
            }
        );
    }

    #[test]
    fn a_shutdown_without_an_end_before_the_next_start_is_unfinished() {
        let records = vec![
            rec("t1", "received SIGTERM; shutting down", None),
            rec(
                "t2",
                "listening on ws://127.0.0.1:1 (127.0.0.1:1); ready",
                None,
            ),
            rec("t3", "restarting in-process (SIGUSR1)", None),
            rec("t4", "completed cleanly in 3ms", None),
        ];
        let found = find_last_shutdown(records.into_iter(), 1, "journal").unwrap();
        assert_eq!(found.outcome, "unfinished");
        assert_eq!(found.duration_ms, None);
        assert_eq!(found.pid, None);
        let timed_out = vec![
            rec("t1", "received SIGTERM; shutting down", None),
            rec(
                "t2",
                "shutdown timed out; exiting without full cleanup",
                None,
            ),
        ];
        let found = find_last_shutdown(timed_out.into_iter(), 1, "journal").unwrap();
        assert_eq!(found.outcome, "timed-out");
        let none = vec![rec("t1", "restarting in-process (config)", None)];
        assert_eq!(find_last_shutdown(none.into_iter(), 1, "journal"), None);
    }

    #[test]
    fn the_service_command_hides_secrets_and_keeps_the_listed_environment() {
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("openclaw-gateway.service");
        std::fs::write(
            &unit,
            "[Service]\nExecStart=/usr/bin/openclaw gateway --port 1234 --token s3cret --password=pw\nWorkingDirectory=-/srv/oc\nEnvironment=OPENCLAW_PROFILE=work OPENCLAW_GATEWAY_TOKEN=tok HOME=/home/u OPENCLAW_NIX_MODE=1\n",
        )
        .unwrap();
        let def = ServiceDefinition::read(&unit).unwrap();
        assert_eq!(def.port(), Some(1234));
        let view = def.view(&unit);
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
