//! `openclaw gateway health`, `openclaw gateway call`, `openclaw logs`: CLI commands that talk to
//! a running gateway. Output follows the reference CLI so scripts keep working: `--json` prints
//! the bare payload (or `{ok:false, error}` on failure), exit 0 ok, 1 gateway error, 2 usage,
//! 3 unreachable.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::exit_status::{CliError, ExitStatus};
use crate::cli::output::out;
use crate::cli::{CallArgs, LogsArgs, RpcArgs};
use crate::client::{RpcError, RpcTarget, resolve_target, with_client};
use crate::invocation::Invocation;

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))
}

pub(super) fn target(invocation: &Invocation, rpc: &RpcArgs) -> Result<RpcTarget, CliError> {
    let config = invocation.load_config()?;
    Ok(resolve_target(invocation, &rpc.target_options(), &config)?)
}

pub(super) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Prints a failure the way the reference does and returns its exit status.
pub(super) fn report_failure(
    error: &RpcError,
    target: &RpcTarget,
    json_output: bool,
    human_prefix: &str,
) -> ExitStatus {
    if json_output {
        out(&pretty(&error.to_json(target)));
    } else {
        let mut stderr = io::stderr().lock();
        let _ = writeln!(stderr, "{human_prefix}{}", error.message());
        if matches!(
            error,
            RpcError::Unreachable { .. } | RpcError::Timeout { .. }
        ) {
            let _ = writeln!(
                stderr,
                "Gateway target: {} (source: {})",
                target.url, target.url_source
            );
            let _ = writeln!(
                stderr,
                "Hint: is the gateway running? Start it with `openclaw gateway run`, or check `openclaw gateway status`."
            );
        }
    }
    ExitStatus::from(error)
}

/// `openclaw gateway call <method> --params <json>`.
pub fn call(invocation: &Invocation, args: &CallArgs) -> Result<ExitStatus, CliError> {
    let params: Value = serde_json::from_str(&args.params)
        .map_err(|e| CliError::usage(format!("invalid --params (must be JSON): {e}")))?;
    if !params.is_object() {
        return Err(CliError::usage(
            "invalid --params: must be a JSON object, e.g. '{\"limit\": 5}'",
        ));
    }
    let target = target(invocation, &args.rpc)?;
    let method = args.method.clone();
    let result = runtime()?.block_on(with_client(
        &target,
        Duration::from_millis(args.rpc.timeout),
        async |c| c.request(&method, params).await,
    ));
    match result {
        Ok(payload) => {
            if !args.rpc.json {
                out(&format!("Gateway call: {}", args.method));
            }
            out(&pretty(&payload));
            Ok(ExitStatus::Ok)
        }
        Err(e) => Ok(report_failure(
            &e,
            &target,
            args.rpc.json,
            "Gateway call failed: ",
        )),
    }
}

/// `openclaw gateway health`.
pub fn health(invocation: &Invocation, args: &RpcArgs) -> Result<ExitStatus, CliError> {
    let target = target(invocation, args)?;
    let result = runtime()?.block_on(with_client(
        &target,
        Duration::from_millis(args.timeout),
        async |c| {
            let started = Instant::now();
            let payload = c.request("health", json!({})).await?;
            Ok((payload, started.elapsed()))
        },
    ));
    match result {
        Ok((payload, took)) => {
            if args.json {
                out(&pretty(&payload));
            } else {
                let ok = payload.get("ok").and_then(Value::as_bool).unwrap_or(false);
                let ms = took.as_secs_f64() * 1000.0;
                let ms = if ms < 10.0 {
                    format!("{ms:.1}")
                } else {
                    format!("{ms:.0}")
                };
                out("Gateway Health");
                out(&format!("{} ({ms}ms)", if ok { "OK" } else { "NOT OK" }));
            }
            let ok = payload.get("ok").and_then(Value::as_bool).unwrap_or(false);
            Ok(if ok {
                ExitStatus::Ok
            } else {
                ExitStatus::Failure
            })
        }
        Err(e) => Ok(report_failure(&e, &target, args.json, "")),
    }
}

/// One log line as `openclaw logs` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// ISO time, when the line is a record.
    pub time: Option<String>,
    /// Lower-case level.
    pub level: Option<String>,
    /// Subsystem.
    pub subsystem: Option<String>,
    /// The message (the raw line when it is not a record).
    pub message: String,
}

/// Parses a JSON-lines record of ours or of the reference gateway; other lines are kept raw.
pub fn parse_log_line(raw: &str) -> LogLine {
    let Ok(Value::Object(record)) = serde_json::from_str::<Value>(raw) else {
        return LogLine {
            time: None,
            level: None,
            subsystem: None,
            message: raw.to_owned(),
        };
    };
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let meta = record.get("_meta");
    let time = s(record.get("time")).or_else(|| s(meta.and_then(|m| m.get("date"))));
    let level = s(meta.and_then(|m| m.get("logLevelName")))
        .or_else(|| s(record.get("level")))
        .map(|l| l.to_ascii_lowercase());
    let subsystem_in = |v: Option<&Value>| {
        s(v).and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|v| s(v.get("subsystem")))
    };
    let subsystem = s(record.get("subsystem"))
        .or_else(|| subsystem_in(record.get("0")))
        .or_else(|| subsystem_in(meta.and_then(|m| m.get("name"))));
    let message = s(record.get("message")).unwrap_or_else(|| {
        (0..)
            .map_while(|i| record.get(&i.to_string()))
            .filter_map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| Some(v.to_string()))
            })
            .filter(|part| {
                serde_json::from_str::<Value>(part)
                    .ok()
                    .and_then(|v| v.get("subsystem").cloned())
                    .is_none()
            })
            .collect::<Vec<_>>()
            .join(" ")
    });
    LogLine {
        time,
        level,
        subsystem,
        message,
    }
}

fn render_plain(line: &LogLine) -> String {
    [
        line.time.as_deref(),
        line.level.as_deref(),
        line.subsystem.as_deref(),
        Some(line.message.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// `openclaw logs [--follow] [--json] [--limit N]`.
pub fn logs(invocation: &Invocation, args: &LogsArgs) -> Result<ExitStatus, CliError> {
    let target = target(invocation, &args.rpc)?;
    let rt = runtime()?;
    let timeout = Duration::from_millis(args.rpc.timeout);
    let json_output = args.rpc.json;
    let mut cursor: Option<u64> = None;
    let mut first = true;
    let mut stdout = io::stdout().lock();
    loop {
        let mut params = json!({"limit": args.limit.clamp(1, 5000), "maxBytes": args.max_bytes.clamp(1, 1_000_000)});
        if let Some(c) = cursor {
            params["cursor"] = json!(c);
        }
        let result = rt.block_on(with_client(&target, timeout, async |c| {
            c.request("logs.tail", params).await
        }));
        let page = match result {
            Ok(page) => page,
            Err(e) => return Ok(report_failure(&e, &target, json_output, "")),
        };
        let file = page["file"].as_str().unwrap_or("");
        if first {
            if json_output {
                let meta = json!({"type": "meta", "file": file, "sourceKind": "file", "cursor": page["cursor"], "size": page["size"]});
                let _ = writeln!(stdout, "{meta}");
            } else {
                let _ = writeln!(stdout, "Log file: {file}");
            }
        } else if page["reset"] == true {
            let notice = "Log file rotated or truncated; continuing from its end.";
            if json_output {
                let _ = writeln!(stdout, "{}", json!({"type": "notice", "message": notice}));
            } else {
                eprintln!("{notice}");
            }
        }
        for raw in page["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let line = parse_log_line(raw);
            if json_output {
                let mut out = json!({"type": "log", "message": line.message, "raw": raw});
                for (key, value) in [
                    ("time", &line.time),
                    ("level", &line.level),
                    ("subsystem", &line.subsystem),
                ] {
                    if let Some(v) = value {
                        out[key] = json!(v);
                    }
                }
                let _ = writeln!(stdout, "{out}");
            } else {
                let _ = writeln!(stdout, "{}", render_plain(&line));
            }
        }
        if first && page["truncated"] == true {
            let notice = "Log tail truncated (increase --limit or --max-bytes).";
            if json_output {
                let _ = writeln!(stdout, "{}", json!({"type": "notice", "message": notice}));
            } else {
                eprintln!("{notice}");
            }
        }
        let _ = stdout.flush();
        first = false;
        cursor = page["cursor"].as_u64();
        if !args.follow {
            return Ok(ExitStatus::Ok);
        }
        std::thread::sleep(Duration::from_millis(args.interval.max(100)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_records_render_time_level_subsystem_message() {
        let raw = r#"{"0":"{\"subsystem\":\"gateway\"}","1":"listening","_meta":{"logLevelName":"INFO","date":"x"},"time":"2026-11-21T03:00:00.000+00:00","message":"listening"}"#;
        let line = parse_log_line(raw);
        assert_eq!(
            render_plain(&line),
            "2026-11-21T03:00:00.000+00:00 info gateway listening"
        );
    }

    #[test]
    fn reference_records_without_message_join_their_positional_parts() {
        let raw = r#"{"0":"Gateway call: health","_meta":{"logLevelName":"INFO","date":"2026-11-21T03:28:56.758Z"},"time":"2026-11-21T03:28:56.758+00:00"}"#;
        let line = parse_log_line(raw);
        assert_eq!(line.message, "Gateway call: health");
        assert_eq!(line.subsystem, None);
        assert_eq!(line.level.as_deref(), Some("info"));
    }

    #[test]
    fn non_json_lines_are_shown_raw() {
        let line = parse_log_line("plain text line");
        assert_eq!(render_plain(&line), "plain text line");
    }
}
