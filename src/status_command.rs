//! `openclaw gateway status`: two independent views, never confused.
//!
//! - Supervisor view: what systemd/launchd/Task Scheduler says about the service (state, PID,
//!   uptime, restarts, last exit, status text, unit path), or why it could not be asked.
//! - RPC view: whether a gateway answers on the resolved URL (WebSocket connect as a status
//!   probe, latency, server version, the auth outcome — a missing or mismatched token is its own
//!   state with the fix), and with `--require-rpc` a read RPC (`status`).
//!
//! Plus where things are (config, state dir, profile, log file), the bind mode and host, port and
//! where the port came from, the probe URL, who listens on the port, and — when the service
//! looks running but the gateway does not answer — the last error line of the gateway log.
//! `--json` prints one object matching `schemas/status.schema.json`. Exit 0 unless
//! `--require-rpc` fails or the command itself fails.

use std::io::{self, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::StatusArgs;
use crate::config::{BindMode, LoadedConfig};
use crate::exit_status::{CliError, ExitStatus};
use crate::gateway::logs_tail::{resolve_log_file, tail};
use crate::gateway::port_owner::{PortListener, find_listeners};
use crate::gateway::settings::bind_plan;
use crate::invocation::Invocation;
use crate::logging::{file_for_date, local_date_today};
use crate::rpc_client::{ConnectAs, GatewayClient, RpcError, RpcTarget, resolve_target};
use crate::service::spec::{ServiceSpec, SpecOptions};
use crate::service::status::{ServiceState, SupervisorStatus};
use crate::service::{PlatformKind, backend_for};

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
    /// The RPC view.
    pub rpc: RpcView,
    /// The last gateway error line, when the service looks up but the gateway does not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `cli`.
#[derive(Debug, Clone, Serialize)]
pub struct CliInfo {
    /// Version.
    pub version: String,
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
    /// A note about reachability.
    pub probe_note: String,
}

/// `service`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// The supervisor's answer, when it could be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<SupervisorStatus>,
    /// Why it could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_error: Option<InspectionError>,
}

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
                },
            )
        }
    };
    let ports = invocation.ports(None, &config)?;
    let cfg = &config.config;
    let mode = cfg
        .gateway_bind()
        .map(|b| b.mode())
        .unwrap_or(BindMode::Loopback);
    let host = bind_plan(mode, cfg.custom_bind_host())
        .map(|p| p.probe_host())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let target = resolve_target(invocation, &args.rpc, &config)?;
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
        port: ports.port,
        port_source: ports.port_source.as_str().to_owned(),
        probe_url: target.url.clone(),
        probe_note,
    };

    let service = supervisor_view(invocation, &config);
    let port = port_view(ports.port);
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
    let last_error = (service_up && (!rpc.ok || port.status == "free"))
        .then(|| log_file.as_deref().and_then(last_error_line))
        .flatten();
    let report = StatusReport {
        cli: CliInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        profile: invocation.profile.profile.to_string(),
        state_dir: invocation.paths.state_dir.display().to_string(),
        config: config_view,
        log_file: log_file.map(|p| p.display().to_string()),
        gateway,
        service,
        port,
        rpc,
        last_error,
    };
    if args.rpc.json {
        out(&serde_json::to_string_pretty(&report).map_err(|e| CliError::failure(e.to_string()))?);
    } else {
        print_human(&report, invocation.color, args.require_rpc);
    }
    Ok(if args.require_rpc && !report.rpc.ok {
        ExitStatus::Failure
    } else {
        ExitStatus::Ok
    })
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
            runtime: Some(runtime),
            inspection_error: None,
        },
        Err(e) => inspection(e),
    }
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
    let patterns = [
        "enospc",
        "no space left on device",
        "refusing to bind gateway",
        "gateway auth mode",
        "gateway start blocked",
        "failed to bind gateway socket",
        "already in use",
    ];
    page.lines.iter().rev().find_map(|line| {
        let parsed = crate::rpc_commands::parse_log_line(line);
        let is_error = parsed.level.as_deref() == Some("error");
        let lower = parsed.message.to_lowercase();
        (is_error || patterns.iter().any(|p| lower.contains(p))).then(|| {
            format!("{} {}", parsed.time.unwrap_or_default(), parsed.message)
                .trim()
                .to_owned()
        })
    })
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
    let line = |label: &str, value: &str| out(&format!("  {:<10} {value}", label));

    // Block 1: the supervisor.
    match (&report.service.runtime, &report.service.inspection_error) {
        (Some(rt), _) => {
            out(&format!(
                "{} {} · {}",
                paint("Service", bold, color),
                rt.supervisor,
                rt.name
            ));
            let state_style = match rt.state {
                ServiceState::Running => good,
                ServiceState::Failed | ServiceState::StartLimitHit => bad,
                _ => warn,
            };
            let mut facts = vec![];
            if let Some(pid) = rt.pid {
                facts.push(format!("pid {pid}"));
            }
            if let Some(up) = rt.uptime_secs {
                facts.push(format!("up {}", human_duration(up)));
            }
            if let Some(n) = rt.restarts {
                facts.push(format!("{n} restart(s)"));
            }
            if let Some(exit) = &rt.last_exit {
                facts.push(format!(
                    "last exit {}{}",
                    exit.status.map_or("?".into(), |s| s.to_string()),
                    exit.reason
                        .as_ref()
                        .map_or(String::new(), |r| format!(" ({r})"))
                ));
            }
            let facts = if facts.is_empty() {
                String::new()
            } else {
                format!(" ({})", facts.join(", "))
            };
            line(
                "State",
                &format!("{}{facts}", paint(rt.state.label(), state_style, color)),
            );
            if let Some(path) = &rt.definition_path {
                line("Unit", &path.display().to_string());
            }
            if let Some(text) = &rt.status_text {
                line("Status", text);
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
            if rt.state == ServiceState::NotInstalled {
                line("Fix", "openclaw gateway install");
            }
        }
        (None, Some(e)) => {
            out(&format!(
                "{} {}",
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
    out(&format!(
        "{} {}",
        paint("Gateway", bold, color),
        report.rpc.url
    ));
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
    line(
        "Bind",
        &format!(
            "{} ({}), port {} ({})",
            g.bind_mode, g.bind_host, g.port, g.port_source
        ),
    );
    line("Note", &g.probe_note);
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
        "free" => line(
            "Listener",
            &paint(&format!("nothing listens on port {}", g.port), warn, color),
        ),
        _ => line(
            "Listener",
            report.port.detail.as_deref().unwrap_or("unknown"),
        ),
    }
    if let Some(err) = &report.last_error {
        line("Last error", &paint(err, bad, color));
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
    out(&format!(
        "{} {} · profile {}",
        paint("State", bold, color),
        report.state_dir,
        report.profile
    ));
    if let Some(file) = &report.log_file {
        out(&format!("{} {file}", paint("Logs", bold, color)));
    }
}

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
}
