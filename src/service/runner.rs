//! Running supervisor tools (`launchctl`, `schtasks`, `systemd-analyze`) through one small
//! interface, so backends are tested with a test double that behaves like the real tool.

use std::process::Command;
use std::time::Duration;

/// What a command printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CommandOutput {
    /// Exit 0 with `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Self {
            code: Some(0),
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// Exit `code` with `stderr`.
    pub fn failed(code: i32, stderr: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    /// True for exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout and stderr joined, trimmed (for error details).
    pub fn detail(&self) -> String {
        let mut text = self.stdout.trim().to_owned();
        if !self.stderr.trim().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(self.stderr.trim());
        }
        text
    }
}

/// Runs external commands.
pub trait CommandRunner {
    /// Runs `program` with `args`, waiting at most `timeout`.
    fn run(
        &mut self,
        program: &str,
        args: &[String],
        timeout: Duration,
    ) -> std::io::Result<CommandOutput>;
}

/// The real runner (`std::process::Command`, killed after the timeout).
#[derive(Debug, Default)]
pub struct SystemRunner;

impl CommandRunner for SystemRunner {
    fn run(
        &mut self,
        program: &str,
        args: &[String],
        timeout: Duration,
    ) -> std::io::Result<CommandOutput> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let started = std::time::Instant::now();
        loop {
            if child.try_wait()?.is_some() {
                let output = child.wait_with_output()?;
                return Ok(CommandOutput {
                    code: output.status.code(),
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                });
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let output = child.wait_with_output()?;
                return Ok(CommandOutput {
                    code: Some(124),
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: format!("{program} timed out after {}s", timeout.as_secs()),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_runner_reports_output_exit_codes_and_timeouts() {
        let mut r = SystemRunner;
        let out = r
            .run(
                "sh",
                &["-c".into(), "echo out; echo err >&2; exit 3".into()],
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
        assert_eq!(out.detail(), "out\nerr");
        let out = r
            .run("sleep", &["5".into()], Duration::from_millis(100))
            .unwrap();
        assert_eq!(out.code, Some(124));
        assert!(
            r.run("/no/such/program", &[], Duration::from_secs(1))
                .is_err()
        );
    }
}
