//! `openclaw gateway status`: two independent views, never confused.
//!
//! - Supervisor view: what systemd/launchd/Task Scheduler says about the service (state, PID,
//!   uptime, restarts, last exit, status text, unit path), or why it could not be asked.
//! - RPC view: whether a gateway answers on the resolved URL (WebSocket connect as a status
//!   probe, latency, server version, the auth outcome — a missing or mismatched token is its own
//!   state with the fix), and with `--require-rpc` a read RPC (`status`).
//!
//! Plus where things are (config, state dir, profile, log file), the bind mode and host, port and
//! where the port came from, the probe URL, the dashboard link (the Control UI page, unless the
//! config switches it off), who listens on the port, and — when the service looks running
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

mod last_log;
mod render;
mod report;
mod scan;

pub use last_log::last_error_line;
use render::print_human;
pub use render::{DIAGNOSTIC_ONLY, ONE_GATEWAY_ADVICE, summary_lines};
pub use report::*;

use crate::cli::StatusArgs;
use crate::cli::exit_status::{CliError, ExitStatus};
use crate::cli::output::out;
use crate::invocation::Invocation;

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
