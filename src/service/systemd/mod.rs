//! The systemd backend: install, uninstall, start, stop, restart and inspect the gateway's units
//! over D-Bus (no `systemctl` for control).
//!
//! - **Reaching the manager** ([`dbus`]): user scope via `DBUS_SESSION_BUS_ADDRESS`, then
//!   `$XDG_RUNTIME_DIR/bus`, then the manager's private socket; system scope via the system bus.
//!   When nothing answers, [`diagnose`] says which of `XDG_RUNTIME_DIR`, the bus socket and the
//!   private socket is missing, with WSL, linger, container and `--system` hints.
//! - **Plans** come from the unit renderer ([`units`], [`plan`]); this module
//!   carries them out: files are written atomically (and removals done) right before the first
//!   `Reload` step, then every `Step::Dbus` becomes its Manager call. Jobs (`StartUnit`,
//!   `StopUnit`, `RestartUnit`) are waited for through `JobRemoved` and their result (`done`,
//!   `failed`, `timeout`, …) is reported; `Step::WaitReady` waits until the unit is `active`
//!   (with `Type=notify` that means the gateway sent `READY=1`) and its `/readyz` answers 200,
//!   or reports the failure with `ExecMainStatus`, `Result`, `StatusText` and, where a journal
//!   exists, the last log lines. A `RestartUnit` of a `.socket` whose file did not change is
//!   run as `StartUnit` (restarting a listening socket would refuse connections), and when it
//!   did change the service is stopped first (systemd refuses to restart a socket while its
//!   service runs).
//! - **Install semantics**: files equal to the plan and every enabled unit enabled and active ⇒
//!   `already-installed`, nothing touched (exit 0). Files equal but units disabled or stopped ⇒
//!   the plan's steps run again (a repair). Installed unit files that differ from the plan ⇒
//!   **drift**: reported file by file (binary, port, profile, version, listen addresses, other
//!   keys; secret files only as "differ") and *not applied* unless `--force` (exit 1, kind
//!   `drift`), so an operator's edit or an older install is never overwritten silently. `--force`
//!   rewrites and re-applies. A user unit is refused while a system unit of the same name exists
//!   (except a packaged one of ours that is not enabled, [`packaged`]). Over a packaged unit of
//!   the same name the plan notes that the installed unit overrides it.
//! - **Uninstall**: stop, disable, remove the unit files and the env file, reload; config, state
//!   and logs are kept (and the output says so); nothing installed ⇒ `not-installed`. The
//!   manager must be reachable: nothing is deleted on uncertainty.
//! - **start/restart** clear a `failed` state and the start-limit latch with `ResetFailedUnit`
//!   first, make sure the socket listens, then wait for the job and for readiness.
//! - **Guards**: `sudo openclaw gateway …` for the user scope is refused (the files would belong
//!   to root and root's manager would be driven); the system scope needs root.
//! - **Linger** (user scope): `install` warns with the exact `loginctl enable-linger <user>`
//!   command when `/var/lib/systemd/linger/<user>` is absent ([`linger`]).

pub mod dbus;
pub mod diagnose;
pub mod discovery;
pub mod drift;
mod executor;
mod install;
pub mod journal;
pub mod linger;
pub mod packaged;
pub mod plan;
pub mod private_socket;
mod readyz;
pub mod rollback;
mod sandbox_choice;
pub mod sandbox_probe;
pub mod state;
pub mod units;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use self::dbus::{ConnectTargets, JobMethod, ManagerConnection, ManagerScope, UnitProperties};
use self::diagnose::HostFacts;
use self::executor::{Executor, now_usec, systemd_error};
use self::install::{file_name, same_listening};
use self::linger::Linger;
pub use self::readyz::{probe_address, probe_readyz};
use self::state::{StatusInputs, start_limit_hit, supervisor_status};
use self::units::SandboxLevel;
use super::plan::{Plan, PlannedFile};
use super::spec::{Scope, ServiceSpec};
use super::status::{JournalRef, ServiceState, SupervisorStatus};
use super::{ActionOutcome, ActionResult, PlatformKind, ServiceError, ServiceManager};
use crate::environment::Environment;

/// How long install gives a started service to report `READY=1` and answer `/readyz`
/// before it is rolled back (the gateway is ready in milliseconds; systemd's own
/// `TimeoutStartSec=` is 30 s).
pub const INSTALL_READY_BUDGET: Duration = Duration::from_secs(plan::READY_TIMEOUT_SECS);
/// How long `start` waits for readiness (spec §7.5).
pub const START_READY_TIMEOUT: Duration = Duration::from_secs(45);
/// How long `restart` waits for readiness (spec §7.7).
pub const RESTART_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Added to the unit's own start/stop timeout when waiting for a job.
const JOB_MARGIN: Duration = Duration::from_secs(15);
/// The longest any job wait may take.
const JOB_CAP: Duration = Duration::from_secs(15 * 60);
/// Poll interval of the readiness wait.
const POLL: Duration = Duration::from_millis(200);
/// Directories holding system units (a user unit of the same name would duel with them).
const SYSTEM_UNIT_DIRS: [&str; 3] = [
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// The systemd backend.
#[derive(Debug, Clone)]
pub struct SystemdBackend {
    env: Environment,
    euid: u32,
    user: String,
    linger_dir: PathBuf,
    /// The host's systemd features, probed once (`systemctl --version`, an `unshare` test).
    features: std::sync::OnceLock<units::SystemdFeatures>,
}

impl SystemdBackend {
    /// A backend acting with the invocation's environment (bus addresses, `SUDO_USER`, …) as
    /// the current effective user.
    pub fn new(env: Environment) -> Self {
        let euid = nix::unistd::geteuid().as_raw();
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(euid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| env.get_nonempty("USER").map(str::to_owned))
            .unwrap_or_else(|| euid.to_string());
        let linger_dir = linger::linger_dir(&env);
        Self {
            env,
            euid,
            user,
            linger_dir,
            features: std::sync::OnceLock::new(),
        }
    }

    /// The host's systemd features (probed on first use, then kept).
    pub fn features(&self) -> units::SystemdFeatures {
        *self.features.get_or_init(units::SystemdFeatures::detect)
    }

    /// Reads linger from `dir` instead of `/var/lib/systemd/linger`.
    pub fn with_linger_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.linger_dir = dir.into();
        self
    }

    /// Linger of the current user.
    pub fn linger(&self) -> Linger {
        linger::linger(&self.linger_dir, &self.user)
    }

    fn facts(&self) -> HostFacts {
        let linger = match self.linger() {
            Linger::On => Some(true),
            Linger::Off => Some(false),
            Linger::Unknown(_) => None,
        };
        HostFacts::probe(&self.env, &self.user, self.euid, linger)
    }

    /// Connects to the manager that owns `spec`'s units.
    pub fn connect(&self, spec: &ServiceSpec) -> Result<ManagerConnection, ServiceError> {
        let scope = manager_scope(spec);
        let facts = self.facts();
        let targets = ConnectTargets {
            session_bus_address: facts.session_bus_address.clone(),
            runtime_dir: facts.runtime_dir(),
        };
        ManagerConnection::connect(scope, &targets)
            .map_err(|failure| diagnose::diagnose(scope, &failure, &facts))
    }

    /// Refuses what cannot work: sudo-to-root for the user scope, the system scope without root.
    fn guard(&self, spec: &ServiceSpec, action: &str) -> Result<(), ServiceError> {
        match &spec.scope {
            Scope::User => {
                let sudo_user = self.env.get_nonempty("SUDO_USER").filter(|u| *u != "root");
                if let (0, Some(invoker)) = (self.euid, sudo_user) {
                    return Err(ServiceError::new(
                        "sudo-user-scope",
                        format!(
                            "Gateway {action} blocked: under sudo this would {action} root's user service (files owned by root, driven by root's user manager), not {invoker}'s."
                        ),
                    )
                    .hint(format!(
                        "Run it as {invoker} without sudo: {}",
                        cli_command(spec, &format!("gateway {action}"))
                    ))
                    .hint(format!(
                        "Or use a system unit: sudo {}",
                        cli_command(spec, &format!("gateway {action} --system"))
                    )));
                }
            }
            Scope::System { .. } => {
                if self.euid != 0 {
                    return Err(ServiceError::new(
                        "access-denied",
                        format!(
                            "Gateway {action} of a system unit needs root (it lives in /etc/systemd/system and is driven through PID 1)."
                        ),
                    )
                    .hint(format!(
                        "Run: sudo {}",
                        cli_command(spec, &format!("gateway {action} --system"))
                    )));
                }
            }
        }
        Ok(())
    }

    /// The executor of start/stop/restart: no file changes, probing where the installed unit
    /// listens.
    fn lifecycle_executor<'a>(
        &'a self,
        mgr: &'a ManagerConnection,
        spec: &'a ServiceSpec,
        units: &Units,
    ) -> Executor<'a> {
        self.executor(
            mgr,
            spec,
            HashSet::new(),
            units.installed_probe_address(spec),
        )
    }

    fn executor<'a>(
        &'a self,
        mgr: &'a ManagerConnection,
        spec: &'a ServiceSpec,
        changed: HashSet<String>,
        probe: SocketAddr,
    ) -> Executor<'a> {
        let units = Units::of(spec);
        Executor {
            mgr,
            spec,
            units,
            probe,
            changed,
            log: Vec::new(),
            ready_budget: None,
        }
    }
}

/// The sandbox level of the installed service unit (`OPENCLAW_SANDBOX=`), if any.
pub fn installed_level(spec: &ServiceSpec) -> Option<SandboxLevel> {
    let text = std::fs::read_to_string(Units::of(spec).service_path()).ok()?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Environment=OPENCLAW_SANDBOX="))
        .and_then(SandboxLevel::parse)
}

fn self_units_journal_hint(spec: &ServiceSpec, unit: &str) -> String {
    Units::of(spec).journal_hint(unit)
}

/// The manager scope of a spec.
pub fn manager_scope(spec: &ServiceSpec) -> ManagerScope {
    match spec.scope {
        Scope::User => ManagerScope::User,
        Scope::System { .. } => ManagerScope::System,
    }
}

/// `openclaw [--profile p] <rest>`, the way users retype it.
pub fn cli_command(spec: &ServiceSpec, rest: &str) -> String {
    match spec.profile.name() {
        Some(p) => format!("openclaw --profile {p} {rest}"),
        None => format!("openclaw {rest}"),
    }
}

/// The unit names and paths of one spec.
#[derive(Debug, Clone)]
struct Units {
    dir: PathBuf,
    service: String,
    socket: String,
    user: bool,
}

impl Units {
    fn of(spec: &ServiceSpec) -> Self {
        Self {
            dir: units::unit_dir(spec),
            service: spec.names.systemd_service_file(),
            socket: spec.names.systemd_socket_file(),
            user: spec.scope == Scope::User,
        }
    }

    fn service_path(&self) -> PathBuf {
        self.dir.join(&self.service)
    }

    fn socket_path(&self) -> PathBuf {
        self.dir.join(&self.socket)
    }

    fn socket_installed(&self) -> bool {
        self.socket_path().exists()
    }

    /// Where the installed gateway answers: the `--port` of the installed `ExecStart=` (the
    /// unit may have been installed with `--port`), else the spec's port.
    fn installed_probe_address(&self, spec: &ServiceSpec) -> SocketAddr {
        let mut addr = probe_address(spec);
        if let Ok(text) = std::fs::read_to_string(self.service_path()) {
            let facts = drift::gateway_facts(&drift::UnitFile::parse(&text));
            if let Some(port) = facts.port.and_then(|p| p.parse::<u16>().ok()) {
                addr.set_port(port);
            }
        }
        addr
    }

    fn systemctl(&self) -> &'static str {
        if self.user {
            "systemctl --user"
        } else {
            "systemctl"
        }
    }

    fn journal(&self) -> JournalRef {
        JournalRef {
            unit: self.service.clone(),
            user: self.user,
        }
    }

    fn journal_hint(&self, unit: &str) -> String {
        if self.user {
            format!("Logs: journalctl --user-unit {unit} -n 50 --no-pager")
        } else {
            format!("Logs: journalctl -u {unit} -n 50 --no-pager")
        }
    }
}

impl ServiceManager for SystemdBackend {
    fn platform(&self) -> PlatformKind {
        PlatformKind::Linux
    }

    fn plan_install(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError> {
        let features = self.features();
        let level = match self.sandbox_override()? {
            Some(level) => level,
            None => installed_level(spec)
                .filter(|l| *l <= units::best_level(spec, &features))
                .unwrap_or_else(|| units::best_level(spec, &features)),
        };
        self.plan_at(spec, &features, level)
    }

    fn plan_uninstall(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError> {
        Ok(plan::uninstall_plan(spec))
    }

    fn install(
        &mut self,
        spec: &ServiceSpec,
        plan: &Plan,
        force: bool,
    ) -> Result<ActionOutcome, ServiceError> {
        self.guard(spec, "install")?;
        let units = Units::of(spec);
        if units.user {
            install::refuse_beside_system_unit(spec, &units)?;
        }
        let mgr = self.connect(spec)?;
        let (plan, sandbox_notes) = self.choose_sandbox(&mgr, spec, plan, force)?;
        let plan = &plan;
        let differing: Vec<&PlannedFile> = plan.differing_files();
        let units_on_disk = plan.files.iter().any(|f| !f.secret && f.path.exists());
        let mut messages = sandbox_notes;
        if !force {
            if let Some(done) = install::check_existing(
                &mgr,
                spec,
                plan,
                &units,
                &differing,
                units_on_disk,
                &mut messages,
            )? {
                return Ok(done);
            }
        }
        // A socket unit whose listening setup is unchanged keeps listening (restarting it would
        // refuse connections for a moment); its other settings apply at its next restart.
        let changed: HashSet<String> = differing
            .iter()
            .filter(|f| !(f.path == units.socket_path() && same_listening(f)))
            .map(|f| file_name(&f.path))
            .collect();
        let mut written: Vec<PathBuf> = Vec::new();
        let snapshot = rollback::Snapshot::take(plan);
        let socket_before = units.socket_installed();
        let plan_has_socket = plan.files.iter().any(|f| f.path == units.socket_path());
        let was_running = mgr
            .unit_properties(&units.service)
            .is_ok_and(|p| matches!(p.active_state.as_str(), "active" | "reloading"));
        let began = SystemTime::now();
        let mut exec = self.executor(&mgr, spec, changed, probe_address(spec));
        exec.ready_budget = Some(INSTALL_READY_BUDGET);
        let mut files_written = false;
        let ran = exec.run_plan(plan, true, &mut || {
            files_written = true;
            written = plan.write_files().map_err(|e| {
                ServiceError::new("write-failed", format!("Gateway install failed: {e}"))
                    .hint("Check that you own the unit directory and the state directory.")
            })?;
            Ok(())
        });
        if let Err(e) = ran {
            return Err(install::failed(
                e,
                &mgr,
                spec,
                &units,
                install::Undo {
                    files_written,
                    snapshot: &snapshot,
                    socket_before,
                    plan_has_socket,
                    was_running,
                    began,
                },
            ));
        }
        install::verify_enabled(&mgr, plan)?;
        install::report_written(
            &mut messages,
            plan,
            &units,
            &written,
            force && units_on_disk,
        );
        messages.extend(exec.log);
        messages.extend(
            plan.notes
                .iter()
                .filter(|n| n.starts_with(packaged::PACKAGED_NOTE_PREFIX))
                .cloned(),
        );
        messages.push(format!(
            "Gateway service installed on port {} via the systemd {} manager {} (systemd {}).",
            spec.port,
            if units.user { "user" } else { "system" },
            mgr.transport(),
            mgr.version()
        ));
        let mut outcome = ActionOutcome {
            result: ActionResult::Installed,
            messages,
            warnings: Vec::new(),
        };
        if units.user {
            if let Some(w) = linger::warning(&self.user, &self.linger()) {
                outcome.warnings.push(w);
            }
        }
        Ok(outcome)
    }

    fn uninstall(
        &mut self,
        spec: &ServiceSpec,
        plan: &Plan,
    ) -> Result<ActionOutcome, ServiceError> {
        self.guard(spec, "uninstall")?;
        let units = Units::of(spec);
        let mgr = self.connect(spec).map_err(|e| ServiceError {
            message: format!(
                "Gateway uninstall aborted because the service state is unknown (nothing was deleted): {}",
                e.message
            ),
            ..e
        })?;
        let svc = mgr
            .unit_properties(&units.service)
            .map_err(|e| systemd_error(&format!("reading {}", units.service), &e))?;
        let files_present = units.service_path().exists() || units.socket_installed();
        if !files_present && !svc.is_loaded() {
            return Ok(ActionOutcome::new(
                ActionResult::NotInstalled,
                format!(
                    "Systemd service not found at {}; nothing to uninstall.",
                    units.service_path().display()
                ),
            ));
        }
        let mut removed: Vec<PathBuf> = Vec::new();
        let mut exec = self.lifecycle_executor(&mgr, spec, &units);
        exec.run_plan(plan, false, &mut || {
            removed = plan.remove_files().map_err(|e| {
                ServiceError::new("remove-failed", format!("Gateway uninstall failed: {e}"))
            })?;
            Ok(())
        })
        .map_err(|e| ServiceError {
            message: if e.message.starts_with("Gateway uninstall") {
                e.message.clone()
            } else {
                format!("Gateway uninstall failed: {}", e.message)
            },
            ..e
        })?;
        let after = mgr
            .unit_properties(&units.service)
            .map_err(|e| systemd_error(&format!("reading {}", units.service), &e))?;
        // A packaged unit of the same name stays loaded (and stopped, disabled): that is the
        // expected state after removing ours, not a failed uninstall.
        let packaged = packaged::packaged_unit(Path::new("/"), &spec.scope, &units.service)
            .filter(|p| packaged::same_file(p, Path::new(&after.fragment_path)));
        let loaded_by_us = after.is_loaded() && packaged.is_none();
        if loaded_by_us || !matches!(after.active_state.as_str(), "inactive" | "failed" | "") {
            return Err(ServiceError::new(
                "still-loaded",
                format!(
                    "Gateway service still loaded after uninstall ({}: LoadState={}, ActiveState={}).",
                    units.service, after.load_state, after.active_state
                ),
            ));
        }
        let mut outcome = ActionOutcome::new(
            ActionResult::Uninstalled,
            format!(
                "Removed systemd service: {}",
                units.service_path().display()
            ),
        );
        for path in &removed {
            if *path != units.service_path() {
                outcome.messages.push(format!("Removed {}", path.display()));
            }
        }
        if let Some(path) = packaged {
            outcome.messages.push(format!(
                "The packaged unit {} applies again (stopped and disabled); start it at login with: {} enable --now {}",
                path.display(),
                if units.user { "systemctl --user" } else { "systemctl" },
                spec.names.systemd_socket_file()
            ));
        }
        outcome.messages.extend(
            plan.notes
                .iter()
                .filter(|n| n.to_ascii_lowercase().contains("kept"))
                .cloned(),
        );
        if !outcome.messages.iter().any(|m| m.contains("kept")) {
            outcome.messages.push(format!(
                "Config, state and logs in {} are kept.",
                spec.state_dir.display()
            ));
        }
        Ok(outcome)
    }

    fn start(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        self.guard(spec, "start")?;
        let units = Units::of(spec);
        let mgr = self.connect(spec)?;
        let mut exec = self.lifecycle_executor(&mgr, spec, &units);
        let svc = prepare_lifecycle(&mut exec, &units, spec, "start")?;
        if svc.active_state == "active" {
            return Ok(ActionOutcome::new(
                ActionResult::AlreadyRunning,
                format!("Gateway service already running (pid {}).", svc.main_pid),
            ));
        }
        let latched = start_limit_hit(&svc);
        clear_failed(&mgr, &units);
        if units.socket_installed() {
            exec.job(&units.socket, JobMethod::Start)?;
        }
        exec.job(&units.service, JobMethod::Start)?;
        let pid = exec.wait_ready(&units.service, START_READY_TIMEOUT)?;
        let mut outcome = ActionOutcome::new(
            ActionResult::Started,
            format!("Started systemd service: {} (pid {pid})", units.service),
        );
        if latched {
            outcome
                .messages
                .push("Cleared systemd's start-limit latch (ResetFailedUnit).".into());
        }
        Ok(outcome)
    }

    fn stop(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        self.guard(spec, "stop")?;
        let units = Units::of(spec);
        let mgr = self.connect(spec)?;
        let mut exec = self.lifecycle_executor(&mgr, spec, &units);
        let svc = exec.props(&units.service)?;
        if !svc.is_loaded() && !units.service_path().exists() {
            return Ok(ActionOutcome::new(
                ActionResult::NotLoaded,
                "Gateway service disabled.",
            ));
        }
        let was = if svc.active_state == "inactive" {
            " (it was not running)"
        } else {
            ""
        };
        let mut outcome = ActionOutcome::new(
            ActionResult::Stopped,
            format!("Stopped systemd service: {}{was}", units.service),
        );
        // The socket first: otherwise a connection could start the service again.
        let socket = exec.props(&units.socket)?;
        if socket.is_loaded() {
            exec.job(&units.socket, JobMethod::Stop)?;
            outcome.messages.push(format!(
                "Stopped systemd socket: {} (no connection will start the gateway until `{}`)",
                units.socket,
                cli_command(spec, "gateway start")
            ));
        }
        exec.job(&units.service, JobMethod::Stop)?;
        let after = exec.props(&units.service)?;
        if !matches!(after.active_state.as_str(), "inactive" | "failed") {
            return Err(ServiceError::new(
                "still-running",
                format!(
                    "{} is still {} after stop.",
                    units.service, after.active_state
                ),
            ));
        }
        Ok(outcome)
    }

    fn restart(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        self.guard(spec, "restart")?;
        let units = Units::of(spec);
        let mgr = self.connect(spec)?;
        let mut exec = self.lifecycle_executor(&mgr, spec, &units);
        let svc = prepare_lifecycle(&mut exec, &units, spec, "restart")?;
        let latched = start_limit_hit(&svc);
        clear_failed(&mgr, &units);
        if units.socket_installed() {
            exec.job(&units.socket, JobMethod::Start)?;
        }
        exec.job(&units.service, JobMethod::Restart)?;
        let pid = exec.wait_ready(&units.service, RESTART_READY_TIMEOUT)?;
        let old = if svc.main_pid > 0 {
            format!("pid {} -> {pid}", svc.main_pid)
        } else {
            format!("pid {pid}")
        };
        let mut outcome = ActionOutcome::new(
            ActionResult::Restarted,
            format!("Restarted systemd service: {} ({old})", units.service),
        );
        if latched {
            outcome
                .messages
                .push("Cleared systemd's start-limit latch (ResetFailedUnit).".into());
        }
        Ok(outcome)
    }

    fn status(&mut self, spec: &ServiceSpec) -> Result<SupervisorStatus, ServiceError> {
        let units = Units::of(spec);
        let supervisor = if units.user {
            "systemd user"
        } else {
            "systemd system"
        };
        let unit_path = units.service_path();
        let exists = unit_path.exists();
        let mgr = match self.connect(spec) {
            Ok(m) => m,
            Err(e) => {
                let state = if exists {
                    ServiceState::Unknown
                } else {
                    ServiceState::NotInstalled
                };
                let mut st = SupervisorStatus::new(state, supervisor, &units.service);
                st.journal = Some(units.journal());
                st.definition_path = exists.then_some(unit_path);
                st.reason = Some(e.message);
                let booted_with_systemd = Path::new("/run/systemd/system").is_dir();
                st.inspection_reason = Some(
                    if units.user && booted_with_systemd {
                        "systemd-user-bus-unavailable"
                    } else {
                        "service-manager-unavailable"
                    }
                    .to_owned(),
                );
                return Ok(st);
            }
        };
        let svc = mgr
            .unit_properties(&units.service)
            .map_err(|e| systemd_error(&format!("reading {}", units.service), &e))?;
        let socket = mgr
            .unit_properties(&units.socket)
            .ok()
            .filter(|s| s.is_loaded());
        let mut status = supervisor_status(&StatusInputs {
            supervisor,
            service_name: &units.service,
            unit_path: &unit_path,
            unit_file_exists: exists,
            service: &svc,
            socket: socket.as_ref(),
            now_usec: now_usec(),
        });
        status.sandbox = installed_level(spec).map(|l| l.as_str().to_owned());
        status.journal = Some(units.journal());
        Ok(status)
    }
}

/// Start/restart preamble: the unit must be installed; a pending reload is done.
fn prepare_lifecycle(
    exec: &mut Executor<'_>,
    units: &Units,
    spec: &ServiceSpec,
    action: &str,
) -> Result<UnitProperties, ServiceError> {
    let mut svc = exec.props(&units.service)?;
    if svc.need_daemon_reload || (!svc.is_loaded() && units.service_path().exists()) {
        exec.reload()?;
        svc = exec.props(&units.service)?;
    }
    if !svc.is_loaded() {
        return Err(ServiceError::new(
            "not-installed",
            format!(
                "Gateway service disabled: {} is not installed ({action} needs it).",
                units.service
            ),
        )
        .hint(format!(
            "Install it: {}",
            cli_command(spec, "gateway install")
        ))
        .hint(format!(
            "Or, if you manage the unit yourself: {} {action} {}",
            units.systemctl(),
            units.service
        )));
    }
    Ok(svc)
}

/// `ResetFailedUnit` for the service and its socket (errors mean "nothing to reset").
fn clear_failed(mgr: &ManagerConnection, units: &Units) {
    let _ = mgr.reset_failed(&units.service);
    if units.socket_installed() {
        let _ = mgr.reset_failed(&units.socket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_carry_the_profile() {
        let env = Environment::empty().with("HOME", "/home/u");
        let globals = crate::invocation::GlobalOptions {
            profile: Some("rescue".into()),
            ..Default::default()
        };
        let inv = crate::invocation::Invocation::resolve(&globals, env.clone(), false).unwrap();
        let config =
            crate::config::LoadedConfig::load(Path::new("/nonexistent.json"), &env).unwrap();
        let spec = ServiceSpec::build(
            &inv,
            &config,
            &crate::service::spec::SpecOptions {
                program: Some("/usr/bin/openclaw".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            cli_command(&spec, "gateway install --force"),
            "openclaw --profile rescue gateway install --force"
        );
        assert_eq!(probe_address(&spec), "127.0.0.1:23532".parse().unwrap());
        // sudo to root for the user scope is refused; the system scope needs root.
        let mut backend = SystemdBackend::new(env.clone().with("SUDO_USER", "alice"));
        backend.euid = 0;
        let e = backend.guard(&spec, "install").unwrap_err();
        assert_eq!(e.kind, "sudo-user-scope");
        assert!(
            e.message.starts_with("Gateway install blocked: "),
            "{}",
            e.message
        );
        assert!(
            e.hints[0].contains("as alice without sudo"),
            "{:?}",
            e.hints
        );
        let mut system = spec.clone();
        system.scope = Scope::System {
            user: "alice".into(),
        };
        assert!(backend.guard(&system, "install").is_ok());
        backend.euid = 1000;
        assert_eq!(
            backend.guard(&system, "install").unwrap_err().kind,
            "access-denied"
        );
        assert!(backend.guard(&spec, "install").is_ok());
    }
}
