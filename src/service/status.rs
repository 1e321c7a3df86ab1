//! The supervisor's view of the service, as one typed value that `gateway status` combines with
//! the RPC probe. Backends fill it from systemd unit properties, `launchctl print` or the task
//! definition.

use std::path::PathBuf;

use serde::Serialize;

/// The state of the service as the supervisor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceState {
    /// No unit/plist/task exists.
    NotInstalled,
    /// The definition exists but the supervisor has not loaded it (or it is disabled).
    InstalledNotLoaded,
    /// Loaded, not running.
    Stopped,
    /// Being started (activating, waiting for readiness).
    Starting,
    /// Running.
    Running,
    /// Stopping.
    Stopping,
    /// Failed (last run ended in error).
    Failed,
    /// The supervisor gave up restarting it (start limit hit).
    StartLimitHit,
    /// The supervisor could not be asked.
    Unknown,
}

impl ServiceState {
    /// Words for humans.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotInstalled => "not installed",
            Self::InstalledNotLoaded => "installed, not loaded",
            Self::Stopped => "stopped",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Failed => "failed",
            Self::StartLimitHit => "failed (start limit hit)",
            Self::Unknown => "unknown",
        }
    }
}

/// How the last run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastExit {
    /// Exit status (or signal number when `reason` says so).
    pub status: Option<i32>,
    /// `exited`, `killed`, `dumped`, `watchdog`, …
    pub reason: Option<String>,
}

/// The supervisor view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SupervisorStatus {
    /// The state.
    pub state: ServiceState,
    /// `systemd user`, `systemd system`, `LaunchAgent`, `Scheduled Task`.
    pub supervisor: String,
    /// Unit name, label or task name.
    pub name: String,
    /// Unit file, plist or task script path.
    pub definition_path: Option<PathBuf>,
    /// Main process id.
    pub pid: Option<u32>,
    /// Time since the service became active, in seconds.
    pub uptime_secs: Option<u64>,
    /// Restarts by the supervisor.
    pub restarts: Option<u64>,
    /// How the last run ended.
    pub last_exit: Option<LastExit>,
    /// The service's status line (systemd `StatusText`).
    pub status_text: Option<String>,
    /// The supervisor's raw state words (e.g. `active/running`, `failed/exit-code`).
    pub detail: Option<String>,
    /// Whether the definition is enabled to start at login/boot.
    pub enabled: Option<bool>,
    /// The supervisor needs a reload to see the files on disk (`NeedDaemonReload`).
    pub reload_pending: bool,
    /// Why the service is in this state, in words (a config error, the start-limit latch, a
    /// watchdog kill, …), when there is something to explain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why the service manager could not be asked (spec §5.5): `service-manager-unavailable`
    /// (this host runs no service manager we support) or `systemd-user-bus-unavailable` (the
    /// user's systemd manager cannot be reached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_reason: Option<String>,
    /// How strongly the supervisor sandboxes the gateway, as the installed definition says
    /// (systemd: `namespaces`, `seccomp` or `none`, the level install's probe chose).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
    /// Where the manager keeps the service's own output, when it keeps it (set by the systemd
    /// backend; launchd and Task Scheduler leave it to the gateway's log file).
    #[serde(skip)]
    pub journal: Option<JournalRef>,
}

/// A unit's journal: `journalctl [--user] -u <unit>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRef {
    /// The unit whose lines to read.
    pub unit: String,
    /// The user manager's journal (`--user`), else the system's.
    pub user: bool,
}

impl SupervisorStatus {
    /// A status with only the state known.
    pub fn new(
        state: ServiceState,
        supervisor: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            state,
            supervisor: supervisor.into(),
            name: name.into(),
            definition_path: None,
            pid: None,
            uptime_secs: None,
            restarts: None,
            last_exit: None,
            status_text: None,
            detail: None,
            enabled: None,
            reload_pending: false,
            reason: None,
            inspection_reason: None,
            sandbox: None,
            journal: None,
        }
    }
}
