//! Service management: install the gateway under the OS supervisor and drive it.
//!
//! One interface ([`ServiceManager`]) with one backend per supervisor (systemd, launchd, Windows
//! Task Scheduler), each in its own module. Shared logic lives here once: what to install
//! ([`spec::ServiceSpec`], computed from the profile, config and binary), and the plan model
//! ([`plan::Plan`]: files with content and mode, then manager steps in order). Install and
//! uninstall always compute a plan first; `--dry-run` prints it; the executor carries it out.
//! Plans for every platform can be rendered on any host, so all three backends are tested on
//! Linux.

pub mod abort_hook;
#[cfg(test)]
mod backend_rig;
pub mod discovery;
pub mod fake_tool;
#[cfg(test)]
mod golden;
pub mod installed_definition;
pub mod launchd;
pub mod plan;
pub mod runner;
pub mod spec;
pub mod status;
pub mod systemd;
pub mod templates;
pub mod wait;
pub mod windows;

use std::fmt;

use serde::Serialize;

use self::plan::Plan;
use self::spec::ServiceSpec;
use self::status::SupervisorStatus;
pub use crate::platform::PlatformKind;

/// A failure of a service operation: what went wrong, how to fix it, and the exit status class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// One line: what failed.
    pub message: String,
    /// Lines telling the user what to do.
    pub hints: Vec<String>,
    /// A machine-readable kind (`systemd-unavailable`, `access-denied`, `start-failed`, …).
    pub kind: &'static str,
}

impl ServiceError {
    /// An error of `kind` with `message`.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hints: Vec::new(),
            kind,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServiceError {}

/// The outcome of a lifecycle action, as the `--json` envelope's `result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionResult {
    /// Installed (or rewritten).
    Installed,
    /// The installed files already equal the plan.
    AlreadyInstalled,
    /// Uninstalled.
    Uninstalled,
    /// Nothing was installed.
    NotInstalled,
    /// Started.
    Started,
    /// Already running.
    AlreadyRunning,
    /// Stopped.
    Stopped,
    /// Was not running.
    NotLoaded,
    /// Restarted.
    Restarted,
}

/// What an action did, for the human and JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionOutcome {
    /// The result.
    pub result: ActionResult,
    /// Lines for humans (`Installed systemd service: <path>`, …).
    pub messages: Vec<String>,
    /// Warnings (drift, linger off, …).
    pub warnings: Vec<String>,
}

impl ActionOutcome {
    /// An outcome with one message.
    pub fn new(result: ActionResult, message: impl Into<String>) -> Self {
        Self {
            result,
            messages: vec![message.into()],
            warnings: Vec::new(),
        }
    }
}

/// One supervisor backend.
pub trait ServiceManager {
    /// The platform it manages.
    fn platform(&self) -> PlatformKind;
    /// The plan that installs `spec` (pure: reads nothing but may consult the host's version).
    fn plan_install(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError>;
    /// The plan that removes the service of `spec`.
    fn plan_uninstall(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError>;
    /// Carries out an install plan (files first, then manager steps), waiting for readiness.
    fn install(
        &mut self,
        spec: &ServiceSpec,
        plan: &Plan,
        force: bool,
    ) -> Result<ActionOutcome, ServiceError>;
    /// Carries out an uninstall plan; config, state and logs are kept.
    fn uninstall(&mut self, spec: &ServiceSpec, plan: &Plan)
    -> Result<ActionOutcome, ServiceError>;
    /// Starts the installed service and waits for the job.
    fn start(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError>;
    /// Stops it and waits.
    fn stop(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError>;
    /// Restarts it and waits.
    fn restart(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError>;
    /// The supervisor's view of the service.
    fn status(&mut self, spec: &ServiceSpec) -> Result<SupervisorStatus, ServiceError>;
}

/// The backend for `platform`. Backends are portable Rust: any host can render any platform's
/// plans; executing them needs that platform's supervisor.
pub fn backend_for(
    platform: PlatformKind,
    invocation: &crate::invocation::Invocation,
) -> Result<Box<dyn ServiceManager>, ServiceError> {
    match platform {
        PlatformKind::Linux => Ok(Box::new(systemd::SystemdBackend::new(
            invocation.env.clone(),
        ))),
        PlatformKind::Macos => Ok(Box::new(launchd::LaunchdBackend::new(
            Box::new(runner::SystemRunner),
            Box::new(wait::ThreadSleeper),
            launchd::LaunchdIdentity::current(&invocation.env),
        ))),
        PlatformKind::Windows => Ok(Box::new(windows::WindowsBackend::new(
            Box::new(runner::SystemRunner),
            Box::new(wait::ThreadSleeper),
            windows::WindowsAccount::current(&invocation.env),
        ))),
    }
}
