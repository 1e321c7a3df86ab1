//! The Windows backend: a per-user scheduled task, defined by XML and driven with `schtasks`.
//!
//! The task (`OpenClaw Gateway` / `OpenClaw Gateway (<profile>)`) starts at the user's logon with
//! the user's own, non-elevated token and runs the gateway executable directly with its
//! arguments: no `.cmd` script, no environment, no secret (the gateway finds its state dir from
//! `--profile` and its token in the config or its `gateway.token`; a token handed over at install
//! goes to `<state>/service-env/scheduled-task.token`, named by `--token-file`). The definition is
//! rendered from the repo template by [`task_xml`] into `<state>/gateway-task.xml` (UTF-16 LE with
//! a BOM), imported with `schtasks /Create /XML … /F` and kept there as the record `install`
//! compares against. Status reads the registered XML and the COM state, never localised text.

pub mod discovery;
pub mod schtasks;
pub mod task_xml;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use self::schtasks::{
    Schtasks, TASK_STATE_DISABLED, TASK_STATE_QUEUED, TASK_STATE_READY, TaskRuntime,
};
use self::task_xml::{TaskValues, encode_utf16_with_bom, render_task_xml, windows_command_line};
use super::plan::{Plan, PlanAction, PlannedFile, Step};
use super::runner::CommandRunner;
use super::spec::ServiceSpec;
use super::status::{LastExit, ServiceState, SupervisorStatus};
use super::wait::{Sleeper, poll_count};
use super::{ActionOutcome, ActionResult, PlatformKind, ServiceError, ServiceManager};
use crate::atomic_write::{PUBLIC_FILE_MODE, SECRET_FILE_MODE};
use crate::environment::Environment;
use crate::service_names::{KNOWN_SERVICE_NAMES, Treatment};

/// How `gateway status` names this supervisor.
pub const SUPERVISOR_LABEL: &str = "Scheduled Task";
/// Interval of state polls after `/End`.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How long a stop may take.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The account the task runs for: `DOMAIN\user`. Injectable, so tests use a fixed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsAccount {
    /// `DOMAIN\user`, or just `user`; `None` when no user name is known.
    pub user_id: Option<String>,
}

impl WindowsAccount {
    /// A fixed account.
    pub fn fixed(user_id: &str) -> Self {
        Self {
            user_id: Some(user_id.to_owned()),
        }
    }

    /// From the environment: `USERNAME` (else `USER`, `LOGNAME`, else the name of the current
    /// uid's passwd entry: a dry run on a Unix host without those variables), prefixed
    /// `USERDOMAIN\` unless the domain is `WORKGROUP` or the name already holds a `\`.
    pub fn current(env: &Environment) -> Self {
        let user = env
            .get_nonempty("USERNAME")
            .or_else(|| env.get_nonempty("USER"))
            .or_else(|| env.get_nonempty("LOGNAME"))
            .map(str::to_owned)
            .or_else(passwd_user_name);
        let user_id = user.map(|user| match env.get_nonempty("USERDOMAIN") {
            Some(domain) if !domain.eq_ignore_ascii_case("WORKGROUP") && !user.contains('\\') => {
                format!("{domain}\\{user}")
            }
            _ => user,
        });
        Self { user_id }
    }
}

/// The name of the effective uid's passwd entry.
#[cfg(unix)]
pub(crate) fn passwd_user_name() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .filter(|name| !name.is_empty())
}

#[cfg(not(unix))]
pub(crate) fn passwd_user_name() -> Option<String> {
    None
}

/// `<state>/gateway-task.xml`: the task definition as imported.
pub fn task_file(spec: &ServiceSpec) -> PathBuf {
    spec.state_dir.join("gateway-task.xml")
}

/// Secrets the gateway reads from a file: the secret, the gateway flag naming the file, the
/// file suffix.
pub const SECRET_FILE_FLAGS: [(&str, &str, &str); 2] = [
    ("OPENCLAW_GATEWAY_TOKEN", "--token-file", "token"),
    ("OPENCLAW_GATEWAY_PASSWORD", "--password-file", "password"),
];

/// `<state>/service-env/scheduled-task.<suffix>`: a secret file this backend owns.
pub fn secret_file(spec: &ServiceSpec, suffix: &str) -> PathBuf {
    spec.state_dir
        .join("service-env")
        .join(format!("scheduled-task.{suffix}"))
}

/// The secret files of `spec`: `(gateway flag, path, content)`.
fn secret_files(spec: &ServiceSpec) -> Result<Vec<(&'static str, PathBuf, String)>, ServiceError> {
    spec.secret_environment
        .iter()
        .map(|(key, value)| {
            let (_, flag, suffix) = SECRET_FILE_FLAGS
                .iter()
                .find(|(k, _, _)| k == key)
                .ok_or_else(|| {
                    ServiceError::new(
                        "unsupported-secret",
                        format!(
                            "{key} cannot be handed to a scheduled task: the task runs without environment and the gateway reads only its token and password from files; put it in the gateway config instead"
                        ),
                    )
                })?;
            Ok((*flag, secret_file(spec, suffix), format!("{}\n", value.trim())))
        })
        .collect()
}

/// The task values of `spec` for `account`.
pub fn task_values(
    spec: &ServiceSpec,
    account: &WindowsAccount,
) -> Result<TaskValues, ServiceError> {
    if let Some((key, _)) = spec
        .environment
        .iter()
        .find(|(k, _)| k == "OPENCLAW_STATE_DIR" || k == "OPENCLAW_CONFIG_PATH")
    {
        return Err(ServiceError::new(
            "unsupported-state-dir",
            format!(
                "the scheduled task runs the gateway without environment, so {key} cannot be passed to it: only the profile's default state dir can own a Windows service"
            ),
        )
        .hint("Unset OPENCLAW_STATE_DIR / OPENCLAW_CONFIG_PATH, or use --profile <name> for a separate state dir"));
    }
    let mut arguments = spec.args.clone();
    for (flag, path, _) in secret_files(spec)? {
        arguments.push(flag.to_owned());
        arguments.push(path.display().to_string());
    }
    let user_id = account.user_id.clone().ok_or_else(|| {
        ServiceError::new(
            "no-user",
            "cannot tell which Windows account the logon trigger is for: USERNAME is not set (nor USER, LOGNAME or a passwd entry of this user)",
        )
    })?;
    Ok(TaskValues {
        description: spec.description.clone(),
        user_id,
        command: spec.program.display().to_string(),
        arguments: windows_command_line(&arguments),
        working_directory: spec.state_dir.display().to_string(),
    })
}

/// Task names older releases used, to delete at install.
pub fn legacy_task_names() -> Vec<&'static str> {
    KNOWN_SERVICE_NAMES
        .iter()
        .filter(|n| {
            n.platform == PlatformKind::Windows && n.treatment == Treatment::LegacyToMigrate
        })
        .map(|n| n.pattern)
        .filter(|p| !p.contains(['<', '*']))
        .collect()
}

fn command(args: Vec<String>, accept: &[i32]) -> Step {
    Step::Command {
        program: schtasks::SCHTASKS.to_owned(),
        args,
        accept_exit_codes: accept.to_vec(),
    }
}

/// The Task Scheduler backend.
pub struct WindowsBackend {
    runner: Box<dyn CommandRunner>,
    sleeper: Box<dyn Sleeper>,
    account: WindowsAccount,
}

impl WindowsBackend {
    /// A backend running schtasks through `runner` for `account`.
    pub fn new(
        runner: Box<dyn CommandRunner>,
        sleeper: Box<dyn Sleeper>,
        account: WindowsAccount,
    ) -> Self {
        Self {
            runner,
            sleeper,
            account,
        }
    }

    fn schtasks(&mut self) -> Schtasks<'_> {
        Schtasks::new(self.runner.as_mut())
    }

    fn not_installed(name: &str) -> ServiceError {
        ServiceError::new(
            "not-installed",
            format!("Gateway service missing: scheduled task \"{name}\" is not registered."),
        )
        .hint("openclaw gateway install")
    }

    /// `/End`, then polls the COM state until the task no longer runs.
    fn end_and_wait(&mut self, name: &str) -> Result<(), ServiceError> {
        self.schtasks().end(name)?;
        for _ in 0..poll_count(STOP_TIMEOUT, POLL_INTERVAL) {
            match self.schtasks().runtime(name) {
                Some(r) if r.is_running() => self.sleeper.sleep(POLL_INTERVAL),
                _ => return Ok(()),
            }
        }
        Err(ServiceError::new(
            "stop-timeout",
            format!(
                "scheduled task \"{name}\" still runs {}s after schtasks /End",
                STOP_TIMEOUT.as_secs()
            ),
        ))
    }
}

fn status_from_runtime(runtime: &TaskRuntime, status: &mut SupervisorStatus) {
    status.state = match runtime.state {
        Some(schtasks::TASK_STATE_RUNNING) => ServiceState::Running,
        Some(TASK_STATE_QUEUED) => ServiceState::Starting,
        Some(TASK_STATE_DISABLED) => ServiceState::InstalledNotLoaded,
        Some(TASK_STATE_READY) => match runtime.last_run_result {
            Some(code) if code != 0 && code != schtasks::RESULT_NOT_YET_RUN => ServiceState::Failed,
            _ => ServiceState::Stopped,
        },
        _ => ServiceState::Unknown,
    };
    if let Some(enabled) = runtime.enabled {
        status.enabled = Some(enabled);
    }
    if let Some(code) = runtime.last_run_result {
        if code != schtasks::RESULT_NOT_YET_RUN && code != schtasks::RESULT_RUNNING {
            status.last_exit = Some(LastExit {
                status: i32::try_from(code).ok(),
                reason: Some(format!("last run result 0x{code:x}")),
            });
        }
    }
    let mut detail = Vec::new();
    if let Some(state) = runtime.state {
        detail.push(format!("task state {state}"));
    }
    if let Some(time) = &runtime.last_run_time {
        detail.push(format!("last run {time}"));
    }
    status.detail = (!detail.is_empty()).then(|| detail.join(", "));
}

impl ServiceManager for WindowsBackend {
    fn platform(&self) -> PlatformKind {
        PlatformKind::Windows
    }

    fn plan_install(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError> {
        let name = spec.names.windows_task.as_str();
        let file = task_file(spec);
        let text = render_task_xml(&task_values(spec, &self.account)?)?;
        let mut plan = Plan::new(PlatformKind::Windows, PlanAction::Install);
        plan.files.push(PlannedFile {
            path: file.clone(),
            mode: PUBLIC_FILE_MODE,
            contents: encode_utf16_with_bom(&text),
            secret: false,
            purpose: format!("Task Scheduler definition of \"{name}\" (UTF-16 LE with BOM)"),
        });
        for (flag, path, contents) in secret_files(spec)? {
            plan.files.push(PlannedFile {
                path,
                mode: SECRET_FILE_MODE,
                contents: contents.into_bytes(),
                secret: true,
                purpose: format!("secret read by the gateway through {flag}"),
            });
        }
        for legacy in legacy_task_names() {
            plan.steps
                .push(command(schtasks::delete_args(legacy), &[1]));
            plan.notes.push(format!(
                "Legacy scheduled task \"{legacy}\" is ended and deleted if schtasks /Query finds it."
            ));
        }
        plan.steps.push(command(schtasks::end_args(name), &[1]));
        plan.steps
            .push(command(schtasks::create_args(&file, name), &[]));
        plan.steps.push(command(schtasks::query_args(name), &[]));
        plan.steps.push(command(schtasks::run_args(name), &[]));
        plan.notes.push(format!(
            "/End runs only when \"{name}\" is already registered, so the new definition takes effect; /Query /XML verifies the registration."
        ));
        plan.notes.push(format!(
            "The task runs {} directly at logon of {} (no script window, no environment, no secret).",
            spec.program.display(),
            self.account.user_id.as_deref().unwrap_or("?")
        ));
        plan.notes.push(
            "The task file is written UTF-16 LE with a BOM: the text above is shown decoded; --json gives the exact bytes (base64).".into(),
        );
        Ok(plan)
    }

    fn plan_uninstall(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError> {
        let name = spec.names.windows_task.as_str();
        let mut plan = Plan::new(PlatformKind::Windows, PlanAction::Uninstall);
        plan.steps.push(command(schtasks::end_args(name), &[1]));
        plan.steps.push(command(schtasks::delete_args(name), &[]));
        plan.removals.push(task_file(spec));
        for (_, _, suffix) in SECRET_FILE_FLAGS {
            let path = secret_file(spec, suffix);
            if path.exists() {
                plan.removals.push(path);
            }
        }
        plan.notes.push(format!(
            "Only when schtasks /Query finds \"{name}\"; the config, state dir and logs are kept."
        ));
        Ok(plan)
    }

    fn install(
        &mut self,
        spec: &ServiceSpec,
        plan: &Plan,
        force: bool,
    ) -> Result<ActionOutcome, ServiceError> {
        let name = spec.names.windows_task.clone();
        let file = task_file(spec);
        let ours = task_values(spec, &self.account)?;
        let registered = self.schtasks().query_xml(&name)?;
        let changed = !plan.differing_files().is_empty();
        let same_action = registered.as_ref().is_some_and(|def| {
            def.command() == Some(ours.command.as_str())
                && def.arguments().unwrap_or("") == ours.arguments
                && def.enabled()
        });
        if same_action && !changed && !force {
            return Ok(ActionOutcome {
                result: ActionResult::AlreadyInstalled,
                messages: vec![
                    "Gateway service already registered.".into(),
                    "Reinstall with: openclaw gateway install --force".into(),
                ],
                warnings: vec![],
            });
        }
        let mut messages = Vec::new();
        for legacy in legacy_task_names() {
            if self.schtasks().query_xml(legacy)?.is_some() {
                self.schtasks().end(legacy)?;
                self.schtasks().delete(legacy)?;
                messages.push(format!("Removed legacy scheduled task: {legacy}"));
            }
        }
        plan.write_files().map_err(|e| {
            ServiceError::new("write-failed", format!("Gateway install failed: {e}"))
        })?;
        if registered.is_some() {
            self.end_and_wait(&name)?;
        }
        self.schtasks().create(&file, &name)?;
        match self.schtasks().query_xml(&name)? {
            Some(def) if def.command() == Some(ours.command.as_str()) && def.enabled() => {}
            Some(_) => {
                return Err(ServiceError::new(
                    "verification-failed",
                    format!(
                        "Gateway install verification failed: scheduled task \"{name}\" does not run {} or is disabled.",
                        ours.command
                    ),
                ));
            }
            None => {
                return Err(ServiceError::new(
                    "verification-failed",
                    format!(
                        "Gateway install verification failed: schtasks /Query cannot find \"{name}\" after /Create."
                    ),
                ));
            }
        }
        self.schtasks().run_task(&name)?;
        let verb = if registered.is_some() {
            "Updated"
        } else {
            "Installed"
        };
        messages.push(format!("{verb} Scheduled Task: {name}"));
        messages.push(format!("Task definition: {}", file.display()));
        Ok(ActionOutcome {
            result: ActionResult::Installed,
            messages,
            warnings: vec![],
        })
    }

    fn uninstall(
        &mut self,
        spec: &ServiceSpec,
        plan: &Plan,
    ) -> Result<ActionOutcome, ServiceError> {
        let name = spec.names.windows_task.clone();
        let mut messages = Vec::new();
        let registered = self.schtasks().query_xml(&name)?.is_some();
        if registered {
            self.schtasks().end(&name)?;
            self.schtasks().delete(&name)?;
            messages.push(format!("Removed Scheduled Task: {name}"));
        } else {
            messages.push(format!("Scheduled Task not found: {name}"));
        }
        for path in &plan.removals {
            if remove_if_present(path)? {
                let what = if path == &task_file(spec) {
                    "task definition"
                } else {
                    "service secret file"
                };
                messages.push(format!("Removed {what}: {}", path.display()));
            }
        }
        Ok(ActionOutcome {
            result: if registered {
                ActionResult::Uninstalled
            } else {
                ActionResult::NotInstalled
            },
            messages,
            warnings: vec![],
        })
    }

    fn start(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        let name = spec.names.windows_task.clone();
        if self.schtasks().query_xml(&name)?.is_none() {
            return Err(Self::not_installed(&name));
        }
        if self
            .schtasks()
            .runtime(&name)
            .is_some_and(|r| r.is_running())
        {
            return Ok(ActionOutcome::new(
                ActionResult::AlreadyRunning,
                "Gateway service already running.",
            ));
        }
        self.schtasks().run_task(&name)?;
        Ok(ActionOutcome::new(
            ActionResult::Started,
            format!("Started Scheduled Task: {name}"),
        ))
    }

    fn stop(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        let name = spec.names.windows_task.clone();
        if self.schtasks().query_xml(&name)?.is_none() {
            return Ok(ActionOutcome::new(
                ActionResult::NotLoaded,
                format!("Scheduled Task not found: {name}"),
            ));
        }
        if self
            .schtasks()
            .runtime(&name)
            .is_some_and(|r| !r.is_running() && r.state.is_some())
        {
            return Ok(ActionOutcome::new(
                ActionResult::NotLoaded,
                "Gateway service is not running.",
            ));
        }
        self.end_and_wait(&name)?;
        Ok(ActionOutcome::new(
            ActionResult::Stopped,
            format!("Stopped Scheduled Task: {name}"),
        ))
    }

    fn restart(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        let name = spec.names.windows_task.clone();
        if self.schtasks().query_xml(&name)?.is_none() {
            return Err(Self::not_installed(&name));
        }
        self.end_and_wait(&name)?;
        self.schtasks().run_task(&name)?;
        Ok(ActionOutcome::new(
            ActionResult::Restarted,
            format!("Restarted Scheduled Task: {name}"),
        ))
    }

    fn status(&mut self, spec: &ServiceSpec) -> Result<SupervisorStatus, ServiceError> {
        let name = spec.names.windows_task.clone();
        let mut status =
            SupervisorStatus::new(ServiceState::Unknown, SUPERVISOR_LABEL, name.clone());
        let Some(def) = self.schtasks().query_xml(&name)? else {
            status.state = ServiceState::NotInstalled;
            return Ok(status);
        };
        let file = task_file(spec);
        status.definition_path = file.exists().then_some(file);
        status.enabled = Some(def.enabled());
        match self.schtasks().runtime(&name) {
            Some(runtime) if runtime.is_missing() => status.state = ServiceState::NotInstalled,
            Some(runtime) if runtime.state.is_some() => status_from_runtime(&runtime, &mut status),
            _ => {
                status.state = if def.enabled() {
                    ServiceState::Unknown
                } else {
                    ServiceState::InstalledNotLoaded
                };
                status.detail = Some(
                    "registered; the run state could not be read from the Task Scheduler (PowerShell unavailable?)".into(),
                );
            }
        }
        Ok(status)
    }
}

/// Removes `path`; `Ok(false)` when it did not exist.
fn remove_if_present(path: &Path) -> Result<bool, ServiceError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ServiceError::new(
            "remove-failed",
            format!("cannot remove {}: {e}", path.display()),
        )),
    }
}
