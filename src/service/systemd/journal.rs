//! Reading the gateway unit's journal (best effort, `journalctl`, 5 s): the last lines shown when
//! a start fails, and the last error line `gateway status` shows when the service looks running
//! but the gateway does not answer.
//!
//! User units are read with `journalctl --user-unit <unit>` (not `--user -u`, which shows nothing
//! with volatile journald storage: platform-practices.md §5 pain point 14), system units with
//! `-u`. The error line comes from `-o json` records: the newest one at priority `err` or worse,
//! or whose message matches [`looks_like_startup_failure`]. No journal (containers, the test
//! harness) ⇒ nothing, and callers fall back to the gateway's log file.

use std::time::Duration;

use serde_json::Value;

use crate::service::runner::{CommandRunner, SystemRunner};

/// Message fragments (lower-case) of the gateway's startup failures (the reference's patterns).
pub const STARTUP_FAILURE_PATTERNS: [&str; 7] = [
    "enospc",
    "no space left on device",
    "refusing to bind gateway",
    "gateway auth mode",
    "gateway start blocked",
    "failed to bind gateway socket",
    "already in use",
];

/// True when `message` reads like a gateway startup failure.
pub fn looks_like_startup_failure(message: &str) -> bool {
    let lower = message.to_lowercase();
    STARTUP_FAILURE_PATTERNS.iter().any(|p| lower.contains(p))
}

fn unit_args(unit: &str, user: bool) -> Vec<String> {
    vec![
        if user { "--user-unit" } else { "-u" }.to_owned(),
        unit.to_owned(),
        "--no-pager".to_owned(),
    ]
}

/// The `journalctl` arguments of [`last_error`].
pub fn last_error_args(unit: &str, user: bool) -> Vec<String> {
    let mut args = unit_args(unit, user);
    args.extend(["-n", "200", "-o", "json"].map(str::to_owned));
    args
}

/// The last lines of the unit's journal, when a journal exists.
pub fn tail(unit: &str, user: bool) -> Vec<String> {
    let mut args = unit_args(unit, user);
    args.extend(["-n", "15", "-o", "short-iso"].map(str::to_owned));
    match SystemRunner.run("journalctl", &args, Duration::from_secs(5)) {
        Ok(out) if out.success() => out
            .stdout
            .lines()
            .filter(|l| !l.starts_with("-- ") && !l.trim().is_empty())
            .filter(|l| !l.contains("No journal files were found"))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The newest error line of the unit's journal (`None` without a journal or without errors).
pub fn last_error(runner: &mut dyn CommandRunner, unit: &str, user: bool) -> Option<String> {
    let out = runner
        .run(
            "journalctl",
            &last_error_args(unit, user),
            Duration::from_secs(5),
        )
        .ok()?;
    out.success()
        .then(|| parse_last_error(&out.stdout))
        .flatten()
}

/// The `journalctl` arguments of [`records`].
pub fn records_args(unit: &str, user: bool, count: usize) -> Vec<String> {
    let mut args = unit_args(unit, user);
    args.extend([
        "-n".to_owned(),
        count.to_string(),
        "-o".into(),
        "json".into(),
    ]);
    args
}

/// The unit's newest `count` journal records (`-o json` objects), oldest first; none without a
/// journal.
pub fn records(runner: &mut dyn CommandRunner, unit: &str, user: bool, count: usize) -> Vec<Value> {
    match runner.run(
        "journalctl",
        &records_args(unit, user, count),
        Duration::from_secs(5),
    ) {
        Ok(out) if out.success() => out
            .stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(Value::is_object)
            .collect(),
        _ => Vec::new(),
    }
}

/// A record's `MESSAGE` (journald gives non-UTF-8 or binary messages as byte arrays).
pub fn message(record: &Value) -> Option<String> {
    match &record["MESSAGE"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(bytes) => Some(
            String::from_utf8_lossy(
                &bytes
                    .iter()
                    .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect::<Vec<u8>>(),
            )
            .into_owned(),
        ),
        _ => None,
    }
}

/// A record's time (`__REALTIME_TIMESTAMP`) as an RFC 3339 timestamp.
pub fn time(record: &Value) -> Option<String> {
    record["__REALTIME_TIMESTAMP"]
        .as_str()
        .and_then(|us| us.parse::<i64>().ok())
        .and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
        .map(|t| t.to_string())
}

/// The newest error record in `journalctl -o json` output, as `<ISO time> <message>`.
pub fn parse_last_error(json_lines: &str) -> Option<String> {
    json_lines.lines().rev().find_map(|line| {
        let record: Value = serde_json::from_str(line).ok()?;
        let message = message(&record)?;
        let priority = record["PRIORITY"]
            .as_str()
            .and_then(|p| p.parse::<u8>().ok());
        let is_error = priority.is_some_and(|p| p <= 3);
        (is_error || looks_like_startup_failure(&message)).then(|| match time(&record) {
            Some(t) => format!("{t} {}", message.trim()),
            None => message.trim().to_owned(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::runner::CommandOutput;

    const JOURNAL: &str = r#"{"__REALTIME_TIMESTAMP":"1767225600000000","PRIORITY":"6","MESSAGE":"listening on ws://127.0.0.1:18789; ready","_SYSTEMD_USER_UNIT":"openclaw-gateway.service"}
{"__REALTIME_TIMESTAMP":"1767225601000000","PRIORITY":"3","MESSAGE":"gateway stopped: port 18789 is already in use on 127.0.0.1","_SYSTEMD_USER_UNIT":"openclaw-gateway.service"}
{"__REALTIME_TIMESTAMP":"1767225602000000","PRIORITY":"6","MESSAGE":"openclaw-gateway.service: Scheduled restart job","_SYSTEMD_USER_UNIT":"openclaw-gateway.service"}
"#;

    #[test]
    fn the_newest_error_record_wins_with_its_time() {
        assert_eq!(
            parse_last_error(JOURNAL).as_deref(),
            Some("2026-01-01T00:00:01Z gateway stopped: port 18789 is already in use on 127.0.0.1")
        );
    }

    #[test]
    fn startup_failures_count_at_any_priority_and_byte_messages_are_read() {
        let bytes: Vec<u8> = b"failed to bind gateway socket 10.0.0.9:1: Cannot assign".to_vec();
        let line = serde_json::json!({"PRIORITY": "6", "MESSAGE": bytes}).to_string();
        assert_eq!(
            parse_last_error(&line).as_deref(),
            Some("failed to bind gateway socket 10.0.0.9:1: Cannot assign")
        );
        let quiet = r#"{"PRIORITY":"6","MESSAGE":"all good"}"#;
        assert_eq!(parse_last_error(quiet), None);
        assert_eq!(parse_last_error("-- No entries --\nnot json"), None);
    }

    struct Journal(CommandOutput, Vec<Vec<String>>);

    impl CommandRunner for Journal {
        fn run(
            &mut self,
            program: &str,
            args: &[String],
            _timeout: Duration,
        ) -> std::io::Result<CommandOutput> {
            assert_eq!(program, "journalctl");
            self.1.push(args.to_vec());
            Ok(self.0.clone())
        }
    }

    #[test]
    fn user_units_are_read_with_user_unit_and_a_failing_journalctl_gives_nothing() {
        let ok = CommandOutput {
            code: Some(0),
            stdout: JOURNAL.to_owned(),
            stderr: String::new(),
        };
        let mut runner = Journal(ok, vec![]);
        assert!(last_error(&mut runner, "openclaw-gateway.service", true).is_some());
        assert_eq!(
            runner.1[0][..2],
            [
                "--user-unit".to_owned(),
                "openclaw-gateway.service".to_owned()
            ]
        );
        let none = CommandOutput {
            code: Some(1),
            stdout: String::new(),
            stderr: "No journal files were found.".to_owned(),
        };
        let mut runner = Journal(none, vec![]);
        assert_eq!(last_error(&mut runner, "x.service", false), None);
        assert_eq!(runner.1[0][..2], ["-u".to_owned(), "x.service".to_owned()]);
    }
}
