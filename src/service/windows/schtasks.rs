//! `schtasks` (and one PowerShell query of the Task Scheduler COM API) through the
//! [`CommandRunner`].
//!
//! Commands: `/Create /XML <file> /TN <name> /F`, `/Run /TN`, `/End /TN`, `/Delete /TN /F`, and
//! `/Query /TN <name> /XML` whose XML (not the localised `/V /FO LIST` text) tells whether the task
//! is registered and what it runs. The running state is not in the definition: it comes from
//! `Schedule.Service` over COM (numeric `State`, `LastTaskResult`, HRESULTs), printed as JSON by
//! a PowerShell script passed with `-EncodedCommand`, so nothing localised is parsed either.
//! schtasks exits 1 for every failure; "Access is denied" (or HRESULT 0x80070005) becomes an error
//! that names the command to run from an elevated prompt.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use super::task_xml::{TaskDefinition, normalise_query_output, parse_task_xml, quote_windows_arg};
use crate::service::ServiceError;
use crate::service::runner::{CommandOutput, CommandRunner};

/// The program.
pub const SCHTASKS: &str = "schtasks";
/// PowerShell, for the COM status query.
pub const POWERSHELL: &str = "powershell.exe";
/// Timeout of one schtasks call.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);
/// Timeout of the PowerShell status query (PowerShell starts slowly on a cold machine).
pub const POWERSHELL_TIMEOUT: Duration = Duration::from_secs(30);

/// `TASK_STATE_DISABLED`.
pub const TASK_STATE_DISABLED: u32 = 1;
/// `TASK_STATE_QUEUED`.
pub const TASK_STATE_QUEUED: u32 = 2;
/// `TASK_STATE_READY`.
pub const TASK_STATE_READY: u32 = 3;
/// `TASK_STATE_RUNNING`.
pub const TASK_STATE_RUNNING: u32 = 4;
/// `SCHED_S_TASK_RUNNING` as `LastTaskResult`.
pub const RESULT_RUNNING: i64 = 0x41301;
/// `SCHED_S_TASK_HAS_NOT_RUN` as `LastTaskResult`.
pub const RESULT_NOT_YET_RUN: i64 = 0x41303;
/// HRESULTs meaning "no such task" (file / path not found).
pub const HRESULT_NOT_FOUND: [i64; 2] = [-2147024894, -2147024893];

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// `/Create /XML <file> /TN <name> /F`.
pub fn create_args(xml_file: &Path, name: &str) -> Vec<String> {
    args(&[
        "/Create",
        "/XML",
        &xml_file.display().to_string(),
        "/TN",
        name,
        "/F",
    ])
}
/// `/Query /TN <name> /XML`.
pub fn query_args(name: &str) -> Vec<String> {
    args(&["/Query", "/TN", name, "/XML"])
}
/// `/Run /TN <name>`.
pub fn run_args(name: &str) -> Vec<String> {
    args(&["/Run", "/TN", name])
}
/// `/End /TN <name>`.
pub fn end_args(name: &str) -> Vec<String> {
    args(&["/End", "/TN", name])
}
/// `/Delete /TN <name> /F`.
pub fn delete_args(name: &str) -> Vec<String> {
    args(&["/Delete", "/TN", name, "/F"])
}

/// The command line to type in a prompt, quoted for cmd.exe.
pub fn display_command(args: &[String]) -> String {
    std::iter::once(SCHTASKS.to_owned())
        .chain(args.iter().map(|a| quote_windows_arg(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when schtasks said "Access is denied" (English) or printed the HRESULT.
pub fn is_access_denied(out: &CommandOutput) -> bool {
    let detail = out.detail().to_ascii_lowercase();
    detail.contains("access is denied") || detail.contains("0x80070005")
}

/// The PowerShell script printing the task's COM state as one JSON object.
pub fn status_script(name: &str) -> String {
    let quoted = name.replace('\'', "''");
    format!(
        "$ErrorActionPreference = 'Stop'\n\
         try {{\n\
         \x20 $service = New-Object -ComObject Schedule.Service\n\
         \x20 $service.Connect()\n\
         \x20 $task = $service.GetFolder('\\').GetTask('{quoted}')\n\
         \x20 [pscustomobject]@{{ state = [int]$task.State; enabled = [bool]$task.Enabled; lastRunResult = [int64]$task.LastTaskResult; lastRunTime = $task.LastRunTime.ToString('o') }} | ConvertTo-Json -Compress\n\
         }} catch {{\n\
         \x20 $e = $_.Exception; if ($e.InnerException) {{ $e = $e.InnerException }}\n\
         \x20 [pscustomobject]@{{ hresult = [int64]$e.HResult }} | ConvertTo-Json -Compress\n\
         \x20 exit 1\n\
         }}\n"
    )
}

/// `-EncodedCommand` takes base64 of the UTF-16 LE script (no BOM).
pub fn encode_powershell(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What the Task Scheduler says about a task at run time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRuntime {
    /// `TASK_STATE` (1 disabled, 2 queued, 3 ready, 4 running).
    pub state: Option<u32>,
    /// `Enabled`.
    pub enabled: Option<bool>,
    /// `LastTaskResult` (exit code or `SCHED_S_*`).
    pub last_run_result: Option<i64>,
    /// `LastRunTime`, ISO 8601.
    pub last_run_time: Option<String>,
    /// The HRESULT of a failed query.
    pub hresult: Option<i64>,
}

impl TaskRuntime {
    /// True for `TASK_STATE_RUNNING`.
    pub fn is_running(&self) -> bool {
        self.state == Some(TASK_STATE_RUNNING)
    }

    /// True when the query failed because the task does not exist.
    pub fn is_missing(&self) -> bool {
        self.hresult.is_some_and(|h| HRESULT_NOT_FOUND.contains(&h))
    }
}

/// Parses the status script's JSON line.
pub fn parse_runtime(stdout: &str) -> Option<TaskRuntime> {
    let line = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with('{'))?;
    serde_json::from_str(line).ok()
}

/// schtasks calls.
pub struct Schtasks<'a> {
    runner: &'a mut dyn CommandRunner,
}

impl<'a> Schtasks<'a> {
    /// Calls through `runner`.
    pub fn new(runner: &'a mut dyn CommandRunner) -> Self {
        Self { runner }
    }

    /// Runs `schtasks <args>`.
    pub fn run(&mut self, args: &[String]) -> Result<CommandOutput, ServiceError> {
        self.runner
            .run(SCHTASKS, args, COMMAND_TIMEOUT)
            .map_err(|e| {
                ServiceError::new("schtasks-unavailable", format!("cannot run schtasks: {e}"))
            })
    }

    fn fail(&self, verb: &str, args: &[String], out: &CommandOutput) -> ServiceError {
        let command = display_command(args);
        if is_access_denied(out) {
            return ServiceError::new(
                "access-denied",
                format!("schtasks {verb} failed: Access is denied."),
            )
            .hint(format!(
                "Run this from an elevated prompt (Run as administrator), then rerun the openclaw command: {command}"
            ));
        }
        let code = out
            .code
            .map_or("killed".to_owned(), |c| format!("exit {c}"));
        let mut error = ServiceError::new(
            "schtasks-failed",
            format!("schtasks {verb} failed ({code}): {}", out.detail()),
        );
        if verb == "/Create" && out.code == Some(1) {
            // Localised "Access is denied" cannot be recognised: say what to try anyway.
            error = error.hint(format!(
                "If the task cannot be created without elevation, run from an elevated prompt: {command}"
            ));
        }
        error
    }

    /// The registered definition, or `None` when `/Query` fails (no such task).
    pub fn query_xml(&mut self, name: &str) -> Result<Option<TaskDefinition>, ServiceError> {
        let args = query_args(name);
        let out = self.run(&args)?;
        if out.success() {
            return parse_task_xml(&normalise_query_output(&out.stdout)).map(Some);
        }
        if is_access_denied(&out) {
            return Err(self.fail("/Query", &args, &out));
        }
        Ok(None)
    }

    /// `/Create /XML <file> /TN <name> /F`.
    pub fn create(&mut self, xml_file: &Path, name: &str) -> Result<(), ServiceError> {
        let args = create_args(xml_file, name);
        let out = self.run(&args)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.fail("/Create", &args, &out))
        }
    }

    /// `/Run /TN <name>`.
    pub fn run_task(&mut self, name: &str) -> Result<(), ServiceError> {
        let args = run_args(name);
        let out = self.run(&args)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.fail("/Run", &args, &out))
        }
    }

    /// `/End /TN <name>`: `Ok(false)` when schtasks refused for another reason than access
    /// (typically: the task is not running).
    pub fn end(&mut self, name: &str) -> Result<bool, ServiceError> {
        let args = end_args(name);
        let out = self.run(&args)?;
        if out.success() {
            return Ok(true);
        }
        if is_access_denied(&out) {
            return Err(self.fail("/End", &args, &out));
        }
        Ok(false)
    }

    /// `/Delete /TN <name> /F`.
    pub fn delete(&mut self, name: &str) -> Result<(), ServiceError> {
        let args = delete_args(name);
        let out = self.run(&args)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.fail("/Delete", &args, &out))
        }
    }

    /// The COM view of the task; `None` when PowerShell is missing or printed nothing usable.
    pub fn runtime(&mut self, name: &str) -> Option<TaskRuntime> {
        let args = vec![
            "-NoProfile".to_owned(),
            "-NonInteractive".to_owned(),
            "-EncodedCommand".to_owned(),
            encode_powershell(&status_script(name)),
        ];
        let out = self
            .runner
            .run(POWERSHELL, &args, POWERSHELL_TIMEOUT)
            .ok()?;
        parse_runtime(&out.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_displayed_quoted_for_cmd() {
        assert_eq!(
            display_command(&create_args(
                Path::new("C:\\Users\\a b\\.openclaw\\gateway-task.xml"),
                "OpenClaw Gateway"
            )),
            "schtasks /Create /XML \"C:\\Users\\a b\\.openclaw\\gateway-task.xml\" /TN \"OpenClaw Gateway\" /F"
        );
    }

    #[test]
    fn the_status_script_is_encoded_as_utf16_base64_and_quotes_the_name() {
        let script = status_script("it's");
        assert!(script.contains("GetTask('it''s')"), "{script}");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encode_powershell("ab"))
            .unwrap();
        assert_eq!(decoded, [b'a', 0, b'b', 0]);
    }

    #[test]
    fn runtime_json_is_parsed() {
        let r = parse_runtime("{\"state\":4,\"enabled\":true,\"lastRunResult\":267009,\"lastRunTime\":\"2026-05-01T08:00:00.0000000+02:00\"}\r\n").unwrap();
        assert!(r.is_running());
        assert_eq!(r.last_run_result, Some(RESULT_RUNNING));
        let r = parse_runtime("{\"hresult\":-2147024894}").unwrap();
        assert!(r.is_missing() && !r.is_running());
        assert_eq!(parse_runtime("Der Befehl wurde nicht gefunden"), None);
    }

    #[test]
    fn access_denied_is_recognised_in_english_and_by_hresult() {
        let out = |s: &str| CommandOutput {
            code: Some(1),
            stdout: String::new(),
            stderr: s.into(),
        };
        assert!(is_access_denied(&out("ERROR: Access is denied.\r\n")));
        assert!(is_access_denied(&out(
            "FEHLER: Zugriff verweigert (0x80070005)"
        )));
        assert!(!is_access_denied(&out(
            "ERROR: The system cannot find the file specified."
        )));
    }
}
