//! What the gateway's logs say about its last stop and its last error.

use serde_json::Value;

use super::report::ShutdownView;
use crate::client::probe::RpcView;
use crate::config::LoadedConfig;
use crate::gateway::logs_tail::{resolve_log_file, tail};
use crate::invocation::Invocation;
use crate::logging::{FileTarget, file_for_date, is_rolling_log_name, local_date_today};
use crate::service::runner::SystemRunner;
use crate::service::status::SupervisorStatus;
use crate::service::systemd::journal::{self, looks_like_startup_failure};

/// One log record as the shutdown search needs it.
pub(crate) struct LogRecord {
    time: Option<String>,
    message: String,
    /// The `port` field, when the record has one.
    port: Option<u64>,
    /// The `pid` field.
    pid: Option<u64>,
}

/// Messages the shutdown search looks at (a cheap filter before JSON parsing).
pub(crate) const SHUTDOWN_MARKERS: [&str; 5] = [
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
pub(crate) fn find_last_shutdown(
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
pub(crate) fn shutdown_log_files(
    invocation: &Invocation,
    config: &LoadedConfig,
) -> Vec<std::path::PathBuf> {
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
pub(crate) fn last_shutdown(
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
                let parsed = crate::cli::rpc::parse_log_line(line);
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
    let j = runtime?.journal.as_ref()?;
    let records = journal::records(&mut SystemRunner, &j.unit, j.user, 5000);
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
pub(crate) fn wants_last_error(service_up: bool, rpc: &RpcView, port_status: &str) -> bool {
    service_up && ((rpc.probed && !rpc.ok) || port_status == "free")
}

/// The newest error line of the service's journal (none when its manager keeps none).
pub(crate) fn journal_last_error(runtime: &SupervisorStatus) -> Option<String> {
    let j = runtime.journal.as_ref()?;
    journal::last_error(&mut SystemRunner, &j.unit, j.user)
}

pub(crate) fn current_log_file(
    invocation: &Invocation,
    config: &LoadedConfig,
) -> Option<std::path::PathBuf> {
    let target = invocation.log_target(&config.config);
    let file = resolve_log_file(&file_for_date(&target, &local_date_today()));
    file.exists().then_some(file)
}

/// The last error-like line of the gateway log (256 KiB window): an error record, else a record
/// matching the reference's startup-failure patterns.
pub fn last_error_line(file: &std::path::Path) -> Option<String> {
    let page = tail(file, None, 5000, 256 * 1024).ok()?;
    page.lines.iter().rev().find_map(|line| {
        let parsed = crate::cli::rpc::parse_log_line(line);
        let is_error = parsed.level.as_deref() == Some("error");
        (is_error || looks_like_startup_failure(&parsed.message)).then(|| {
            format!("{} {}", parsed.time.unwrap_or_default(), parsed.message)
                .trim()
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpc(probed: bool, ok: bool) -> RpcView {
        RpcView {
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
}
