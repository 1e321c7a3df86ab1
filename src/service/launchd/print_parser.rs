//! Parsing `launchctl print <domain>/<label>`.
//!
//! The output is one `<target> = { … }` block of `key = value` lines with nested `name = { … }`
//! sections (arguments, environments, coalitions, endpoints…). Only the job's own top-level keys
//! count: a `state = …` inside a nested section is not the job state. Keys are compared
//! lower-cased; numbers are strict (`pid = 0`, `-1` or `123abc` mean no pid).

use serde::Serialize;

/// What `launchctl print` says about a loaded job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrintInfo {
    /// `state`: `running`, `not running`, `spawn scheduled`, …
    pub state: Option<String>,
    /// `pid`, when strictly positive.
    pub pid: Option<u32>,
    /// `runs`: how many times launchd spawned the job since it was loaded.
    pub runs: Option<u64>,
    /// The numeric part of `last exit code` (or `last exit status`); `None` when it never exited.
    pub last_exit_code: Option<i32>,
    /// The text after the number (`EX_CONFIG`), or `(never exited)`.
    pub last_exit_detail: Option<String>,
    /// `last terminating signal` (`Killed: 9`).
    pub last_terminating_signal: Option<String>,
    /// `path`: the plist launchd loaded the job from.
    pub path: Option<String>,
    /// `program`.
    pub program: Option<String>,
    /// `immediate reason` of the last spawn.
    pub immediate_reason: Option<String>,
}

impl PrintInfo {
    /// Running when `state = running` or a pid above 1 is shown.
    pub fn is_running(&self) -> bool {
        self.state.as_deref() == Some("running") || self.pid.is_some_and(|p| p > 1)
    }

    /// True when the job has never been spawned since it was loaded.
    pub fn never_ran(&self) -> bool {
        self.runs == Some(0)
            || (self.last_exit_detail.as_deref() == Some("(never exited)")
                && self.last_exit_code.is_none()
                && !self.is_running())
    }
}

/// Parses the output of `launchctl print <target>` (exit 0).
pub fn parse_print(output: &str) -> PrintInfo {
    let mut info = PrintInfo::default();
    let mut depth = 0usize;
    let mut saw_outer_block = false;
    for raw in output.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line == "}" || line == "};" {
            depth = depth.saturating_sub(1);
            continue;
        }
        let opens = line.ends_with('{');
        // Top level is depth 1 inside `<target> = {`; depth 0 when the output has no outer block.
        let top_level = if saw_outer_block {
            depth == 1
        } else {
            depth == 0
        };
        if top_level && !opens {
            if let Some((key, value)) = line.split_once(" = ") {
                apply(&mut info, &key.trim().to_ascii_lowercase(), value.trim());
            }
        }
        if opens {
            if depth == 0 {
                saw_outer_block = true;
            }
            depth += 1;
        }
    }
    info
}

fn apply(info: &mut PrintInfo, key: &str, value: &str) {
    let owned = || Some(value.to_owned());
    match key {
        "state" => info.state = owned(),
        "pid" => info.pid = strict_u32(value).filter(|p| *p > 0),
        "runs" => info.runs = value.parse::<u64>().ok(),
        "last exit code" | "last exit status" => {
            let (code, detail) = split_exit(value);
            info.last_exit_code = code;
            info.last_exit_detail = detail;
        }
        "last terminating signal" => info.last_terminating_signal = owned(),
        "path" => info.path = owned(),
        "program" => info.program = owned(),
        "immediate reason" => info.immediate_reason = owned(),
        _ => {}
    }
}

fn strict_u32(value: &str) -> Option<u32> {
    (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.parse().ok())
        .flatten()
}

/// `78: EX_CONFIG` → (78, "EX_CONFIG"); `0` → (0, None); `(never exited)` → (None, that text).
fn split_exit(value: &str) -> (Option<i32>, Option<String>) {
    let (number, rest) = match value.split_once(':') {
        Some((n, rest)) => (n.trim(), Some(rest.trim().to_owned())),
        None => (value, None),
    };
    let digits = number.strip_prefix('-').unwrap_or(number);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        (number.parse().ok(), rest.filter(|r| !r.is_empty()))
    } else {
        (None, Some(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/launchctl")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn a_running_job_has_state_pid_runs_and_ignores_nested_sections() {
        let info = parse_print(&fixture("print-running.txt"));
        assert_eq!(info.state.as_deref(), Some("running"));
        assert_eq!(info.pid, Some(4242));
        assert_eq!(info.runs, Some(4));
        assert_eq!(info.last_exit_code, Some(0));
        assert_eq!(info.last_exit_detail, None);
        assert_eq!(
            info.path.as_deref(),
            Some("/Users/alice/Library/LaunchAgents/bot.molt.gateway.plist")
        );
        assert_eq!(info.program.as_deref(), Some("/usr/local/bin/openclaw"));
        assert_eq!(info.immediate_reason.as_deref(), Some("speculative"));
        assert!(info.is_running());
        assert!(!info.never_ran());
    }

    #[test]
    fn a_job_that_exited_with_ex_config_is_not_running() {
        let info = parse_print(&fixture("print-exit-78.txt"));
        assert_eq!(info.state.as_deref(), Some("not running"));
        assert_eq!(info.pid, None);
        assert_eq!(info.runs, Some(7));
        assert_eq!(info.last_exit_code, Some(78));
        assert_eq!(info.last_exit_detail.as_deref(), Some("EX_CONFIG"));
        assert!(!info.is_running());
    }

    #[test]
    fn a_job_that_never_ran() {
        let info = parse_print(&fixture("print-never-run.txt"));
        assert_eq!(info.state.as_deref(), Some("not running"));
        assert_eq!(info.runs, Some(0));
        assert_eq!(info.last_exit_code, None);
        assert_eq!(info.last_exit_detail.as_deref(), Some("(never exited)"));
        assert!(info.never_ran());
        assert!(!info.is_running());
    }

    #[test]
    fn a_job_stopped_cleanly_and_one_killed_by_a_signal() {
        let info = parse_print(&fixture("print-not-running.txt"));
        assert_eq!(info.state.as_deref(), Some("not running"));
        assert_eq!(
            (info.pid, info.runs, info.last_exit_code),
            (None, Some(1), Some(0))
        );
        let info = parse_print(&fixture("print-killed.txt"));
        assert_eq!(info.state.as_deref(), Some("spawn scheduled"));
        assert_eq!(info.last_terminating_signal.as_deref(), Some("Killed: 9"));
        assert_eq!(info.last_exit_code, None);
    }

    #[test]
    fn junk_numbers_are_dropped() {
        for (pid, want) in [
            ("0", None),
            ("-1", None),
            ("123abc", None),
            ("", None),
            ("77", Some(77)),
        ] {
            let text =
                format!("gui/501/x = {{\n\tstate = running\n\tpid = {pid}\n\truns = 1x\n}}\n");
            let info = parse_print(&text);
            assert_eq!(info.pid, want, "{pid:?}");
            assert_eq!(info.runs, None);
        }
        let info = parse_print("state = not running\nlast exit status = -9: Killed\n");
        assert_eq!(info.state.as_deref(), Some("not running"));
        assert_eq!(info.last_exit_code, Some(-9));
        assert_eq!(info.last_exit_detail.as_deref(), Some("Killed"));
    }
}
