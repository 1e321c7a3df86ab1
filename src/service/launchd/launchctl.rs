//! `launchctl` in the modern domain-target form, through the [`CommandRunner`].
//!
//! Verbs used: `print`, `enable`, `bootstrap`, `bootout`, `kickstart [-k]`; never the legacy
//! `load`/`unload`, which report errors poorly and fail on macOS 13+. Known exit codes:
//! 3 "No such process" (bootout of a job that is not loaded), 5 "Input/output error" (bootstrap
//! of a job still being torn down, already loaded, disabled or with a refused plist), 37
//! "Operation already in progress" (a concurrent bootstrap), 113 "Could not find service"
//! (print/kickstart of a job that is not loaded), 125 "Domain does not support specified action"
//! (no GUI session, or `gui/0` under sudo).
//!
//! `bootout` is asynchronous: it returns while launchd still tears the job down (up to the job's
//! `ExitTimeOut`), so every bootout here polls `print` until the job is gone; bootstrapping before
//! that fails with 5.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::print_parser::{PrintInfo, parse_print};
use crate::service::ServiceError;
use crate::service::runner::{CommandOutput, CommandRunner};
use crate::service::wait::{Sleeper, poll_count};

/// The program.
pub const LAUNCHCTL: &str = "launchctl";
/// Timeout of one launchctl call.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);
/// Interval of `print` polls while waiting for a bootout.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long a bootout may take (the plist's `ExitTimeOut` is 20 s).
pub const BOOTOUT_TIMEOUT: Duration = Duration::from_secs(30);
/// Delay before retrying a bootstrap that failed with 5 or 37.
pub const BOOTSTRAP_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Bootstrap attempts in all.
pub const BOOTSTRAP_ATTEMPTS: u32 = 6;

/// Exit 3: "No such process" (bootout of a job that is not loaded).
pub const EXIT_NO_SUCH_PROCESS: i32 = 3;
/// Exit 5: "Input/output error".
pub const EXIT_IO_ERROR: i32 = 5;
/// Exit 37: "Operation already in progress".
pub const EXIT_ALREADY_IN_PROGRESS: i32 = 37;
/// Exit 113: "Could not find service".
pub const EXIT_NOT_FOUND: i32 = 113;
/// Exit 125: "Domain does not support specified action".
pub const EXIT_DOMAIN_UNSUPPORTED: i32 = 125;

/// A launchd domain of the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `gui/<uid>`: the Aqua session of a logged-in desktop user (where LaunchAgents live).
    Gui(u32),
    /// `user/<uid>`: the background domain, available without a GUI login (SSH only).
    User(u32),
}

impl Domain {
    /// The service target `<domain>/<label>`.
    pub fn target(self, label: &str) -> String {
        format!("{self}/{label}")
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gui(uid) => write!(f, "gui/{uid}"),
            Self::User(uid) => write!(f, "user/{uid}"),
        }
    }
}

/// Whether launchd knows a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobPresence {
    /// Loaded, with what `print` showed.
    Loaded(PrintInfo),
    /// Not loaded (exit 113 "Could not find service").
    NotLoaded,
}

/// The argument list of a launchctl call, for plans and for running.
pub fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// True when launchctl says the domain cannot be used (no GUI session, `gui/0` under sudo).
pub fn is_domain_error(out: &CommandOutput) -> bool {
    let detail = out.detail().to_ascii_lowercase();
    out.code == Some(EXIT_DOMAIN_UNSUPPORTED)
        || detail.contains("domain does not support specified action")
        || detail.contains("could not find domain for")
}

/// True when launchctl says the job is not loaded.
pub fn is_not_loaded(out: &CommandOutput) -> bool {
    let detail = out.detail().to_ascii_lowercase();
    matches!(out.code, Some(EXIT_NOT_FOUND) | Some(EXIT_NO_SUCH_PROCESS))
        || detail.contains("could not find service")
        || detail.contains("no such process")
}

/// The error for a domain launchctl refuses, with what to do.
pub fn domain_error(verb: &str, domain: Domain, out: &CommandOutput) -> ServiceError {
    ServiceError::new(
        "launchd-gui-domain-unavailable",
        format!("launchctl {verb} failed in {domain}: {}", out.detail()),
    )
    .hint("LaunchAgents need a logged-in macOS desktop session for this user; SSH-only, headless and sudo contexts have none.")
    .hint("Sign in to the desktop (or enable automatic login on a headless Mac) and rerun the command as that user, without sudo.")
}

/// launchctl calls in one domain.
pub struct Launchctl<'a> {
    runner: &'a mut dyn CommandRunner,
    sleeper: &'a mut dyn Sleeper,
    domain: Domain,
}

impl<'a> Launchctl<'a> {
    /// Calls in `domain` through `runner`, pausing with `sleeper`.
    pub fn new(
        runner: &'a mut dyn CommandRunner,
        sleeper: &'a mut dyn Sleeper,
        domain: Domain,
    ) -> Self {
        Self {
            runner,
            sleeper,
            domain,
        }
    }

    /// The domain.
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// Runs `launchctl <args>`; a launchctl that cannot be run at all is an error.
    pub fn run(&mut self, args: &[String]) -> Result<CommandOutput, ServiceError> {
        self.runner
            .run(LAUNCHCTL, args, COMMAND_TIMEOUT)
            .map_err(|e| {
                ServiceError::new(
                    "launchctl-unavailable",
                    format!("cannot run launchctl: {e}"),
                )
            })
    }

    /// True when `gui/<uid>` exists (a desktop session is logged in): `launchctl print gui/<uid>`.
    pub fn domain_exists(&mut self, domain: Domain) -> Result<bool, ServiceError> {
        Ok(self.run(&args(&["print", &domain.to_string()]))?.success())
    }

    /// `launchctl print <target>`, parsed.
    pub fn print(&mut self, label: &str) -> Result<JobPresence, ServiceError> {
        let target = self.domain.target(label);
        let out = self.run(&args(&["print", &target]))?;
        if out.success() {
            return Ok(JobPresence::Loaded(parse_print(&out.stdout)));
        }
        if is_domain_error(&out) {
            return Err(domain_error("print", self.domain, &out));
        }
        if is_not_loaded(&out) {
            return Ok(JobPresence::NotLoaded);
        }
        Err(ServiceError::new(
            "launchctl-failed",
            format!("launchctl print {target} failed: {}", describe(&out)),
        ))
    }

    /// `launchctl enable <target>`: clears a persistent disable (stored outside the plist).
    pub fn enable(&mut self, label: &str) -> Result<(), ServiceError> {
        let target = self.domain.target(label);
        let out = self.run(&args(&["enable", &target]))?;
        if out.success() {
            return Ok(());
        }
        if is_domain_error(&out) {
            return Err(domain_error("enable", self.domain, &out));
        }
        Err(ServiceError::new(
            "launchctl-failed",
            format!("launchctl enable {target} failed: {}", describe(&out)),
        ))
    }

    /// `launchctl bootout <target>`, then waits until `print` no longer finds the job.
    /// Returns whether the job was loaded.
    pub fn bootout(&mut self, label: &str) -> Result<bool, ServiceError> {
        let target = self.domain.target(label);
        let out = self.run(&args(&["bootout", &target]))?;
        if !out.success() {
            if is_domain_error(&out) {
                return Err(domain_error("bootout", self.domain, &out));
            }
            if is_not_loaded(&out) {
                return Ok(false);
            }
            return Err(ServiceError::new(
                "launchctl-failed",
                format!("launchctl bootout {target} failed: {}", describe(&out)),
            ));
        }
        self.wait_gone(label)?;
        Ok(true)
    }

    /// Polls `print` every [`POLL_INTERVAL`] until the job is gone, up to [`BOOTOUT_TIMEOUT`].
    pub fn wait_gone(&mut self, label: &str) -> Result<(), ServiceError> {
        for _ in 0..poll_count(BOOTOUT_TIMEOUT, POLL_INTERVAL) {
            if self.print(label)? == JobPresence::NotLoaded {
                return Ok(());
            }
            self.sleeper.sleep(POLL_INTERVAL);
        }
        Err(ServiceError::new(
            "launchctl-bootout-timeout",
            format!(
                "{} is still loaded {}s after launchctl bootout",
                self.domain.target(label),
                BOOTOUT_TIMEOUT.as_secs()
            ),
        )
        .hint(format!(
            "Check it with: launchctl print {}",
            self.domain.target(label)
        )))
    }

    /// `launchctl bootstrap <domain> <plist>`. Exit 37 is success once the job shows up; exit 5
    /// is retried after booting out whatever is still loaded under `label` (a teardown in
    /// flight), re-enabling it, and waiting [`BOOTSTRAP_RETRY_DELAY`].
    pub fn bootstrap(&mut self, plist: &Path, label: &str) -> Result<(), ServiceError> {
        let domain = self.domain.to_string();
        let plist_arg = plist.display().to_string();
        let mut last = None;
        for attempt in 1..=BOOTSTRAP_ATTEMPTS {
            let out = self.run(&args(&["bootstrap", &domain, &plist_arg]))?;
            if out.success() {
                return Ok(());
            }
            if is_domain_error(&out) {
                return Err(domain_error("bootstrap", self.domain, &out));
            }
            match out.code {
                Some(EXIT_ALREADY_IN_PROGRESS) => {
                    // Another bootstrap of the same plist is in flight: fine once the job shows.
                    if matches!(self.print(label)?, JobPresence::Loaded(_)) {
                        return Ok(());
                    }
                }
                Some(EXIT_IO_ERROR) => {
                    if attempt < BOOTSTRAP_ATTEMPTS {
                        self.bootout(label)?;
                        self.enable(label)?;
                    }
                }
                _ => {
                    return Err(bootstrap_error(self.domain, plist, &out, attempt));
                }
            }
            last = Some(out);
            if attempt < BOOTSTRAP_ATTEMPTS {
                self.sleeper.sleep(BOOTSTRAP_RETRY_DELAY);
            }
        }
        let out = last.unwrap_or(CommandOutput {
            code: None,
            stdout: String::new(),
            stderr: String::new(),
        });
        Err(bootstrap_error(
            self.domain,
            plist,
            &out,
            BOOTSTRAP_ATTEMPTS,
        ))
    }

    /// `launchctl kickstart [-k] <target>`: starts the job (`-k`: kills it first).
    pub fn kickstart(&mut self, label: &str, kill: bool) -> Result<(), ServiceError> {
        let target = self.domain.target(label);
        let words: Vec<&str> = if kill {
            vec!["kickstart", "-k", &target]
        } else {
            vec!["kickstart", &target]
        };
        let out = self.run(&args(&words))?;
        if out.success() {
            return Ok(());
        }
        if is_domain_error(&out) {
            return Err(domain_error("kickstart", self.domain, &out));
        }
        let mut error = ServiceError::new(
            "launchctl-failed",
            format!("launchctl kickstart failed: {}", describe(&out)),
        );
        if is_not_loaded(&out) {
            error = error.hint("The LaunchAgent is not loaded: run openclaw gateway start");
        }
        Err(error)
    }
}

fn describe(out: &CommandOutput) -> String {
    let detail = out.detail();
    match (out.code, detail.is_empty()) {
        (Some(code), true) => format!("exit {code}"),
        (Some(code), false) => format!("{detail} (exit {code})"),
        (None, _) => format!("{detail} (killed)"),
    }
}

fn bootstrap_error(
    domain: Domain,
    plist: &Path,
    out: &CommandOutput,
    attempts: u32,
) -> ServiceError {
    let tries = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    let mut error = ServiceError::new(
        "launchctl-bootstrap-failed",
        format!("launchctl bootstrap failed{tries}: {}", describe(out)),
    );
    if out.code == Some(EXIT_IO_ERROR) || out.detail().contains("ownership/permissions") {
        error = error
            .hint(format!(
                "Check the plist: plutil -lint {0}; it must be owned by you and not group/world-writable (chmod 644 {0})",
                plist.display()
            ))
            .hint(format!(
                "Check that the job is not disabled: launchctl print-disabled {domain}"
            ));
    }
    error.hint(format!(
        "The gateway is not running under launchd now; once fixed, run openclaw gateway start (or launchctl bootstrap {domain} {})",
        plist.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(code: i32, stderr: &str) -> CommandOutput {
        CommandOutput {
            code: Some(code),
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn domains_and_targets() {
        assert_eq!(
            Domain::Gui(501).target("bot.molt.gateway"),
            "gui/501/bot.molt.gateway"
        );
        assert_eq!(Domain::User(501).to_string(), "user/501");
    }

    #[test]
    fn exit_codes_and_messages_are_classified() {
        assert!(is_domain_error(&out(
            125,
            "Bootstrap failed: 125: Domain does not support specified action"
        )));
        assert!(is_domain_error(&out(
            113,
            "Could not find domain for user gui: 0"
        )));
        assert!(!is_domain_error(&out(
            113,
            "Could not find service \"x\" in domain for user gui: 501"
        )));
        assert!(is_not_loaded(&out(
            113,
            "Could not find service \"x\" in domain for user gui: 501"
        )));
        assert!(is_not_loaded(&out(
            3,
            "Boot-out failed: 3: No such process"
        )));
        assert!(!is_not_loaded(&out(
            5,
            "Bootstrap failed: 5: Input/output error"
        )));
    }

    #[test]
    fn a_refused_plist_gets_the_lint_and_permission_hints() {
        let e = bootstrap_error(
            Domain::Gui(501),
            Path::new("/Users/a/Library/LaunchAgents/x.plist"),
            &out(5, "Bootstrap failed: 5: Input/output error"),
            6,
        );
        assert_eq!(
            e.message,
            "launchctl bootstrap failed after 6 attempts: Bootstrap failed: 5: Input/output error (exit 5)"
        );
        assert!(e.hints[0].contains("plutil -lint /Users/a/Library/LaunchAgents/x.plist"));
        assert!(e.hints[1].contains("launchctl print-disabled gui/501"));
        assert!(e.hints[2].contains("openclaw gateway start"));
    }
}
