//! A fake `launchctl` for tests: a small launchd model behind the [`CommandRunner`](crate::service::runner::CommandRunner) interface.
//!
//! It keeps state like the real tool (jobs loaded per domain with their plist, pid, runs and last
//! exit; persistent disables; an asynchronous bootout that leaves the job visible for a few
//! `print` polls) and answers with launchctl's documented outputs and exit codes: bootstrap 5
//! "Input/output error" while a job is loaded or tearing down, or is disabled, or the plist is
//! group/world-writable; 37 "Operation already in progress" for a concurrent bootstrap; 3 "No such
//! process" for bootout of an unknown job; 113 "Could not find service"; 125 "Domain does not
//! support specified action" for `gui/<uid>` without a desktop session.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::service::fake_tool::{FakeTool, SharedFake};
use crate::service::runner::CommandOutput;

/// One loaded job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeJob {
    /// The domain it was bootstrapped into (`gui/501`).
    pub domain: String,
    /// The plist it came from.
    pub plist: PathBuf,
    /// The program arguments read from the plist.
    pub arguments: Vec<String>,
    /// Running pid.
    pub pid: Option<u32>,
    /// Spawns since it was loaded.
    pub runs: u64,
    /// Last exit code.
    pub last_exit: Option<i32>,
    /// `print` polls left before a booted-out job disappears.
    pub teardown: Option<u32>,
}

/// The launchd model.
#[derive(Debug, Default)]
pub struct FakeLaunchd {
    /// The user's uid.
    pub uid: u32,
    /// Whether `gui/<uid>` exists (a desktop login).
    pub gui_session: bool,
    /// Loaded jobs by label.
    pub jobs: BTreeMap<String, FakeJob>,
    /// Persistently disabled targets.
    pub disabled: BTreeSet<String>,
    /// Every call, as `launchctl <args>`.
    pub calls: Vec<String>,
    /// Every pause the code under test asked for.
    pub sleeps: Vec<Duration>,
    /// How many `print` polls a booted-out job stays visible.
    pub teardown_polls: u32,
    /// The next N bootstraps fail with 5 although nothing is loaded (a teardown launchd still
    /// finishes after `print` stopped showing the job).
    pub spurious_eio: u32,
    /// The next bootstrap fails with 37 while a concurrent bootstrap loads the job.
    pub concurrent_bootstrap: bool,
    /// Exit code the gateway dies with right after every spawn (`None`: it keeps running).
    pub crash_exit: Option<i32>,
    next_pid: u32,
}

/// A handle on a shared [`FakeLaunchd`]: the backend owns one, the test keeps another.
pub type FakeLaunchctl = SharedFake<FakeLaunchd>;

impl SharedFake<FakeLaunchd> {
    /// A user `uid` with (or without) a desktop session, nothing loaded.
    pub fn new(uid: u32, gui_session: bool) -> Self {
        Self::with_state(FakeLaunchd {
            uid,
            gui_session,
            teardown_polls: 2,
            next_pid: 4242,
            ..FakeLaunchd::default()
        })
    }
}

fn ok(stdout: impl Into<String>) -> CommandOutput {
    CommandOutput::ok(stdout)
}

fn fail(code: i32, stderr: impl Into<String>) -> CommandOutput {
    CommandOutput::failed(code, stderr)
}

const USAGE: i32 = 64;

impl FakeLaunchd {
    fn domain_ok(&self, domain: &str) -> bool {
        let uid = self.uid;
        domain == format!("user/{uid}") || (self.gui_session && domain == format!("gui/{uid}"))
    }

    fn domain_failure(&self, verb: &str, domain: &str) -> CommandOutput {
        match verb {
            "bootstrap" => fail(
                125,
                "Bootstrap failed: 125: Domain does not support specified action\n",
            ),
            "bootout" => fail(
                125,
                "Boot-out failed: 125: Domain does not support specified action\n",
            ),
            _ => fail(
                113,
                format!(
                    "Could not find domain for user {}\n",
                    domain.replace('/', ": ")
                ),
            ),
        }
    }

    fn not_found(label: &str, domain: &str) -> CommandOutput {
        let (kind, uid) = domain.split_once('/').unwrap_or((domain, ""));
        fail(
            113,
            format!("Could not find service \"{label}\" in domain for user {kind}: {uid}\n"),
        )
    }

    fn spawn(&mut self, label: &str) {
        let pid = self.next_pid;
        self.next_pid += 1;
        let crash = self.crash_exit;
        if let Some(job) = self.jobs.get_mut(label) {
            job.runs += 1;
            match crash {
                Some(code) => {
                    job.pid = None;
                    job.last_exit = Some(code);
                }
                None => job.pid = Some(pid),
            }
        }
    }

    /// Looks a job up the way `print` does, advancing an asynchronous teardown.
    fn visible(&mut self, label: &str, domain: &str) -> bool {
        let Some(job) = self.jobs.get_mut(label) else {
            return false;
        };
        if job.domain != domain {
            return false;
        }
        match job.teardown {
            Some(0) => {
                self.jobs.remove(label);
                false
            }
            Some(n) => {
                job.teardown = Some(n - 1);
                true
            }
            None => true,
        }
    }

    fn split_target(target: &str) -> Option<(String, String)> {
        let mut parts = target.splitn(3, '/');
        let kind = parts.next()?;
        let uid = parts.next()?;
        let label = parts.next()?;
        Some((format!("{kind}/{uid}"), label.to_owned()))
    }

    fn print(&mut self, target: &str) -> CommandOutput {
        let Some((domain, label)) = Self::split_target(target) else {
            // `print <domain>`: the domain dump.
            return if self.domain_ok(target) {
                ok(format!(
                    "{target} = {{\n\ttype = {}\n\thandle = {}\n}}\n",
                    if target.starts_with("gui") {
                        "login"
                    } else {
                        "user"
                    },
                    self.uid
                ))
            } else {
                self.domain_failure("print", target)
            };
        };
        if !self.domain_ok(&domain) {
            return self.domain_failure("print", &domain);
        }
        if !self.visible(&label, &domain) {
            return Self::not_found(&label, &domain);
        }
        let job = &self.jobs[&label];
        let mut out = format!(
            "{target} = {{\n\tactive count = {}\n",
            u8::from(job.pid.is_some())
        );
        let _ = writeln!(out, "\tpath = {}", job.plist.display());
        out.push_str("\ttype = LaunchAgent\n");
        let state = if job.pid.is_some() {
            "running"
        } else {
            "not running"
        };
        let _ = writeln!(out, "\tstate = {state}\n");
        if let Some(program) = job.arguments.first() {
            let _ = writeln!(out, "\tprogram = {program}");
        }
        out.push_str("\targuments = {\n");
        for arg in &job.arguments {
            let _ = writeln!(out, "\t\t{arg}");
        }
        out.push_str("\t}\n\n");
        let _ = writeln!(out, "\tdomain = {domain} [100008]");
        out.push_str("\tminimum runtime = 15\n\texit timeout = 20\n");
        let _ = writeln!(out, "\truns = {}", job.runs);
        if let Some(pid) = job.pid {
            let _ = writeln!(out, "\tpid = {pid}");
        }
        match job.last_exit {
            Some(78) => out.push_str("\tlast exit code = 78: EX_CONFIG\n"),
            Some(code) => {
                let _ = writeln!(out, "\tlast exit code = {code}");
            }
            None => out.push_str("\tlast exit code = (never exited)\n"),
        }
        out.push_str("\n\tjetsam coalition = {\n\t\tID = 1419\n\t\tstate = active\n\t}\n\n");
        out.push_str("\tproperties = keepalive | runatload | inferred program\n}\n");
        ok(out)
    }

    fn bootstrap(&mut self, domain: &str, plist: &str) -> CommandOutput {
        if !self.domain_ok(domain) {
            return self.domain_failure("bootstrap", domain);
        }
        let path = PathBuf::from(plist);
        let Ok(bytes) = std::fs::read(&path) else {
            return fail(5, "Bootstrap failed: 5: Input/output error\n");
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            if mode & 0o022 != 0 {
                // launchd refuses group/world-writable plists; without root the detail is generic.
                return fail(
                    5,
                    "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n",
                );
            }
        }
        let Ok(value) = plist::Value::from_reader_xml(bytes.as_slice()) else {
            return fail(5, "Bootstrap failed: 5: Input/output error\n");
        };
        let Some(dict) = value.as_dictionary() else {
            return fail(5, "Bootstrap failed: 5: Input/output error\n");
        };
        let Some(label) = dict
            .get("Label")
            .and_then(|v| v.as_string())
            .map(str::to_owned)
        else {
            return fail(5, "Bootstrap failed: 5: Input/output error\n");
        };
        let arguments: Vec<String> = dict
            .get("ProgramArguments")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_string().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let run_at_load = dict.get("RunAtLoad").and_then(|v| v.as_boolean()) == Some(true);
        if self.spurious_eio > 0 {
            self.spurious_eio -= 1;
            return fail(
                5,
                "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n",
            );
        }
        if self.jobs.contains_key(&label) || self.disabled.contains(&format!("{domain}/{label}")) {
            return fail(
                5,
                "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n",
            );
        }
        self.jobs.insert(
            label.clone(),
            FakeJob {
                domain: domain.to_owned(),
                plist: path,
                arguments,
                pid: None,
                runs: 0,
                last_exit: None,
                teardown: None,
            },
        );
        if run_at_load {
            self.spawn(&label);
        }
        if std::mem::take(&mut self.concurrent_bootstrap) {
            return fail(37, "Bootstrap failed: 37: Operation already in progress\n");
        }
        ok("")
    }

    fn bootout(&mut self, target: &str) -> CommandOutput {
        let Some((domain, label)) = Self::split_target(target) else {
            return fail(
                USAGE,
                "Usage: launchctl bootout <domain-target> [service-path …]\n",
            );
        };
        if !self.domain_ok(&domain) {
            return self.domain_failure("bootout", &domain);
        }
        let polls = self.teardown_polls;
        match self.jobs.get_mut(&label) {
            Some(job) if job.domain == domain && job.teardown.is_none() => {
                job.pid = None;
                job.last_exit = Some(0);
                job.teardown = Some(polls);
                ok("")
            }
            _ => fail(3, "Boot-out failed: 3: No such process\n"),
        }
    }

    fn kickstart(&mut self, target: &str, kill: bool) -> CommandOutput {
        let Some((domain, label)) = Self::split_target(target) else {
            return fail(USAGE, "Usage: launchctl kickstart [-kp] <service-target>\n");
        };
        if !self.domain_ok(&domain) {
            return self.domain_failure("kickstart", &domain);
        }
        if !self.visible(&label, &domain) {
            return Self::not_found(&label, &domain);
        }
        let running = self.jobs[&label].pid.is_some();
        if running && !kill {
            return ok("");
        }
        if running {
            if let Some(job) = self.jobs.get_mut(&label) {
                job.pid = None;
                job.last_exit = Some(0);
            }
        }
        self.spawn(&label);
        ok("")
    }

    fn dispatch(&mut self, args: &[String]) -> CommandOutput {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["print", target] => self.print(target),
            ["enable", target] => {
                self.disabled.remove(*target);
                ok("")
            }
            ["disable", target] => {
                self.disabled.insert((*target).to_owned());
                ok("")
            }
            ["bootstrap", domain, plist] => self.bootstrap(domain, plist),
            ["bootout", target] => self.bootout(target),
            ["kickstart", target] => self.kickstart(target, false),
            ["kickstart", "-k", target] => self.kickstart(target, true),
            ["load", ..] | ["unload", ..] => panic!("legacy launchctl verb used: {words:?}"),
            _ => fail(USAGE, format!("Unrecognized subcommand: {words:?}\n")),
        }
    }
}

impl FakeTool for FakeLaunchd {
    fn answer(&mut self, program: &str, args: &[String]) -> std::io::Result<CommandOutput> {
        assert_eq!(program, "launchctl", "only launchctl is faked");
        self.calls.push(format!("launchctl {}", args.join(" ")));
        Ok(self.dispatch(args))
    }

    fn calls(&mut self) -> &mut Vec<String> {
        &mut self.calls
    }

    fn sleeps(&mut self) -> &mut Vec<Duration> {
        &mut self.sleeps
    }
}
