//! The human output of `gateway status` and the short `openclaw status` lines.

use super::report::{MAX_LISTED_CONNECTIONS, ShutdownView, StatusReport};
use crate::cli::output::out;
use crate::service::status::{ServiceState, SupervisorStatus};

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

/// ` (pid N, up T[, N restart(s)], last exit …)` of a supervisor's view, or nothing.
pub(crate) fn runtime_facts(rt: &SupervisorStatus, restarts: bool) -> String {
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

pub(crate) fn paint(text: &str, style: anstyle::Style, color: bool) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_owned()
    }
}

/// One `  Label         value` line of the human output.
fn line(label: &str, value: &str) {
    out(&format!("  {:<13} {value}", label));
}

/// The styles of the human output (plain when colour is off).
#[derive(Clone, Copy)]
struct Styles {
    bold: anstyle::Style,
    good: anstyle::Style,
    bad: anstyle::Style,
    warn: anstyle::Style,
    color: bool,
}

pub(crate) fn print_human(report: &StatusReport, color: bool, require_rpc: bool) {
    use anstyle::{AnsiColor, Style};
    let styles = Styles {
        bold: Style::new().bold(),
        good: Style::new().fg_color(Some(AnsiColor::Green.into())),
        bad: Style::new().fg_color(Some(AnsiColor::Red.into())),
        warn: Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        color,
    };
    print_service(report, &styles);
    out("");
    print_gateway(report, &styles, require_rpc);
    print_listener(report, &styles);
    print_connections(report);
    out("");
    print_config(report, &styles);
    print_other_services(report, &styles);
}

/// Block 1: the supervisor's view of the service.
fn print_service(report: &StatusReport, styles: &Styles) {
    let Styles {
        bold,
        good,
        bad,
        warn,
        color,
        ..
    } = *styles;
    let role = if report.service.target_role == "target" {
        String::new()
    } else {
        format!(" {}", paint(DIAGNOSTIC_ONLY, warn, color))
    };
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
}

/// Block 2: where the gateway listens and what the probe found.
fn print_gateway(report: &StatusReport, styles: &Styles, require_rpc: bool) {
    let Styles {
        bold,
        good,
        bad,
        color,
        ..
    } = *styles;
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
        &match &g.control_ui_links.dashboard_url {
            Some(url) => format!("{url} (run `openclaw dashboard` to open it signed in)"),
            None => format!("{} ({NO_CONTROL_UI})", g.control_ui_links.http_url),
        },
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
}

/// Who listens on the port (and the CLI's own port when it differs), the last error.
fn print_listener(report: &StatusReport, styles: &Styles) {
    let Styles {
        bad, warn, color, ..
    } = *styles;
    let g = &report.gateway;
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
}

/// `--deep`: the established client connections and the last shutdown.
fn print_connections(report: &StatusReport) {
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
}

/// Block 3: the config, the state dir and the log file.
fn print_config(report: &StatusReport, styles: &Styles) {
    let Styles {
        bold, warn, color, ..
    } = *styles;
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
}

/// Other gateway-like services and the warnings.
fn print_other_services(report: &StatusReport, styles: &Styles) {
    let Styles { warn, color, .. } = *styles;
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

/// What the `Dashboard` line adds when the config switches the Control UI off.
pub(crate) const NO_CONTROL_UI: &str = "Control UI off: gateway.controlUi.enabled is false";

/// How many connections the text output lists.
pub(crate) const MAX_PRINTED_CONNECTIONS: usize = 10;

/// `last exit N (…)`: a signal exit status (128 + n, spec §5.4) or a killing signal named.
pub(crate) fn describe_last_exit(exit: &crate::service::status::LastExit) -> String {
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
pub(crate) fn log_command(rt: &SupervisorStatus) -> Option<String> {
    if !matches!(rt.state, ServiceState::Failed | ServiceState::StartLimitHit) {
        return None;
    }
    let j = rt.journal.as_ref()?;
    Some(if j.user {
        format!("journalctl --user-unit {} -n 200 --no-pager", j.unit)
    } else {
        format!("journalctl -u {} -n 200 --no-pager", j.unit)
    })
}

/// `SIGTERM at <time>, clean in 12 ms (pid 42, from the log file)`.
pub(crate) fn describe_shutdown(s: &ShutdownView) -> String {
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

pub(crate) fn human_duration(secs: u64) -> String {
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
}
