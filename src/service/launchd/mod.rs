//! The macOS backend: a per-user LaunchAgent driven with `launchctl`.
//!
//! Files: `~/Library/LaunchAgents/<label>.plist` (0644, rendered from the repo template by
//! [`plist_render`]), and only when the install hands a secret over, a 0600 file under
//! `<state>/service-env/` that the plist names through `OPENCLAW_GATEWAY_TOKEN_FILE` (or `_PASSWORD_FILE`).
//! The plist itself never holds a secret: by default the gateway reads `gateway.auth.token` from
//! the config or its own 0600 `<state>/gateway.token`, the same sources every CLI client uses;
//! naming `<state>/gateway.token` in the plist would make a missing file an exit-78 loop and
//! would outrank a config token (the `_FILE` variable comes before the config).
//!
//! Control goes through [`launchctl::Launchctl`] (modern domain-target verbs only) in the domain
//! `gui/<uid>`, or `user/<uid>` when no desktop session exists (SSH only). Running as root is
//! refused: launchctl would target `gui/0`, not the user's session.

pub mod discovery;
pub mod homebrew;
pub mod launchctl;
pub mod layout;
pub mod plist_render;
pub mod print_parser;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

use std::path::Path;

use self::launchctl::{Domain, EXIT_NO_SUCH_PROCESS, EXIT_NOT_FOUND, JobPresence, Launchctl};
use self::layout::secret_files;
pub use self::layout::{
    LaunchdIdentity, LaunchdPaths, MACOS_PATH_DIRS, SECRET_FILE_VARS, foreign_agents, plist_values,
    service_path,
};
use self::plist_render::render_plist;
use self::print_parser::PrintInfo;
use super::plan::{Plan, PlanAction, PlannedFile, Step};
use super::runner::CommandRunner;
use super::spec::ServiceSpec;
use super::status::{LastExit, ServiceState, SupervisorStatus};
use super::wait::Sleeper;
use super::{ActionOutcome, ActionResult, PlatformKind, ServiceError, ServiceManager};
use crate::atomic_write::{
    PRIVATE_DIR_MODE, PUBLIC_FILE_MODE, SECRET_FILE_MODE, create_dir_all_with_mode,
};
use crate::service_names::Treatment;

/// How `gateway status` names this supervisor.
pub const SUPERVISOR_LABEL: &str = "LaunchAgent";
fn command(words: &[&str], accept: &[i32]) -> Step {
    Step::Command {
        program: launchctl::LAUNCHCTL.to_owned(),
        args: launchctl::args(words),
        accept_exit_codes: accept.to_vec(),
    }
}

/// launchctl exit codes meaning "not loaded" (3 no such process, 113 not found).
pub const NOT_LOADED_CODES: [i32; 2] = [EXIT_NO_SUCH_PROCESS, EXIT_NOT_FOUND];

/// The launchd backend.
pub struct LaunchdBackend {
    runner: Box<dyn CommandRunner>,
    sleeper: Box<dyn Sleeper>,
    identity: LaunchdIdentity,
    domain: Option<Domain>,
    warnings: Vec<String>,
}

impl LaunchdBackend {
    /// A backend running launchctl through `runner` as `identity`.
    pub fn new(
        runner: Box<dyn CommandRunner>,
        sleeper: Box<dyn Sleeper>,
        identity: LaunchdIdentity,
    ) -> Self {
        Self {
            runner,
            sleeper,
            identity,
            domain: None,
            warnings: Vec::new(),
        }
    }

    /// The domain plans show: the resolved one, else `gui/<uid>`.
    fn planned_domain(&self) -> Domain {
        self.domain.unwrap_or(Domain::Gui(self.identity.uid))
    }

    fn refuse_root(&self) -> Result<(), ServiceError> {
        if self.identity.uid != 0 {
            return Ok(());
        }
        let mut error = ServiceError::new(
            "launchd-root",
            "LaunchAgents belong to a logged-in user, but this runs as root: launchctl would target gui/0, which has no desktop session",
        );
        error = match &self.identity.sudo_user {
            Some(user) => error.hint(format!(
                "Run the command without sudo, as {user} (e.g. openclaw gateway install)"
            )),
            None => {
                error.hint("Run the command as the user who should run the gateway, without sudo")
            }
        };
        Err(error)
    }

    fn refuse_inside_job(&self, label: &str, verb: &str) -> Result<(), ServiceError> {
        if self.identity.job_label.as_deref() == Some(label) {
            return Err(ServiceError::new(
                "launchd-inside-job",
                format!("refusing to {verb} LaunchAgent {label} from inside its own job"),
            )
            .hint(format!("Run openclaw gateway {verb} from a terminal")));
        }
        Ok(())
    }

    /// The domain to act in: `gui/<uid>` when a desktop session exists, else `user/<uid>`.
    fn resolve_domain(&mut self) -> Result<Domain, ServiceError> {
        if let Some(domain) = self.domain {
            return Ok(domain);
        }
        self.refuse_root()?;
        let uid = self.identity.uid;
        let gui = Domain::Gui(uid);
        let exists =
            Launchctl::new(self.runner.as_mut(), self.sleeper.as_mut(), gui).domain_exists(gui)?;
        let domain = if exists {
            gui
        } else {
            self.warnings.push(format!(
                "No desktop session for uid {uid} (SSH only?): using the user/{uid} domain. The gateway runs until this user's last session ends; launchd loads the LaunchAgent into gui/{uid} at the next desktop login."
            ));
            Domain::User(uid)
        };
        self.domain = Some(domain);
        Ok(domain)
    }

    fn ctl(&mut self, domain: Domain) -> Launchctl<'_> {
        Launchctl::new(self.runner.as_mut(), self.sleeper.as_mut(), domain)
    }

    fn outcome(&mut self, result: ActionResult, messages: Vec<String>) -> ActionOutcome {
        ActionOutcome {
            result,
            messages,
            warnings: std::mem::take(&mut self.warnings),
        }
    }

    /// enable + bootstrap + check that `print` finds the job.
    fn activate(&mut self, domain: Domain, label: &str, plist: &Path) -> Result<(), ServiceError> {
        let mut ctl = self.ctl(domain);
        ctl.enable(label)?;
        ctl.bootstrap(plist, label)?;
        match ctl.print(label)? {
            JobPresence::Loaded(_) => Ok(()),
            JobPresence::NotLoaded => Err(ServiceError::new(
                "launchd-verification-failed",
                format!(
                    "Gateway install verification failed: launchctl bootstrap succeeded but launchctl print cannot find {}",
                    domain.target(label)
                ),
            )),
        }
    }

    /// The bootstrap repair (spec §3.3, §6.4) of a LaunchAgent whose plist is installed: `enable`,
    /// `bootstrap` when launchd has not loaded it (verified with `print`), then `kickstart` when
    /// the loaded job does not run. The plist itself is rewritten by doctor's definition repair
    /// when it drifted, not here.
    pub fn repair_bootstrap(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.clone();
        let domain = self.resolve_domain()?;
        if !paths.plist.exists() {
            return Err(Self::not_installed(spec, &paths, domain));
        }
        let target = domain.target(&label);
        let mut messages = Vec::new();
        match self.ctl(domain).print(&label)? {
            JobPresence::Loaded(_) => self.ctl(domain).enable(&label)?,
            JobPresence::NotLoaded => {
                self.activate(domain, &label, &paths.plist)?;
                messages.push(format!(
                    "Bootstrapped LaunchAgent: {target} ({})",
                    paths.plist.display()
                ));
            }
        }
        if let JobPresence::Loaded(info) = self.ctl(domain).print(&label)? {
            if !info.is_running() {
                self.ctl(domain).kickstart(&label, false)?;
                messages.push(format!("Kickstarted LaunchAgent: {target}"));
            }
        }
        if messages.is_empty() {
            messages.push(format!("LaunchAgent already loaded and running: {target}"));
        }
        Ok(self.outcome(ActionResult::Started, messages))
    }

    /// With no LaunchAgent of ours, the profile's gateway may be our Homebrew formula's job
    /// (`brew services start openclaw`): the status is that job's, named by its label and plist,
    /// as the packaged systemd unit is on Linux.
    fn homebrew_status(
        &mut self,
        spec: &ServiceSpec,
        paths: &LaunchdPaths,
        status: &mut SupervisorStatus,
    ) -> Result<(), ServiceError> {
        let Some(agent) = homebrew::conflicting_agents(&paths.launch_agents_dir, None, spec)
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        let domain = self.resolve_domain()?;
        status.name = agent.label.clone();
        status.definition_path = Some(agent.plist.clone());
        match self.ctl(domain).print(&agent.label)? {
            JobPresence::Loaded(info) => status_from_print(&info, status),
            JobPresence::NotLoaded => status.state = ServiceState::InstalledNotLoaded,
        }
        let note = format!(
            "packaged (Homebrew): managed with `{}` / `{}`",
            agent.info_command(),
            agent.stop_command()
        );
        status.detail = Some(match status.detail.take() {
            Some(d) => format!("{d}; {note}"),
            None => note,
        });
        Ok(())
    }

    fn not_installed(spec: &ServiceSpec, paths: &LaunchdPaths, domain: Domain) -> ServiceError {
        ServiceError::new(
            "not-installed",
            format!(
                "Gateway service not loaded: {} is not installed.",
                paths.plist.display()
            ),
        )
        .hint("openclaw gateway install")
        .hint(format!(
            "or, with a plist in place: launchctl bootstrap {domain} {}",
            paths.plist.display()
        ))
        .hint(format!("label: {}", spec.names.launchd_label))
    }
}

fn status_from_print(info: &PrintInfo, status: &mut SupervisorStatus) {
    status.state = if info.is_running() {
        ServiceState::Running
    } else if matches!(
        info.state.as_deref(),
        Some("spawn scheduled") | Some("xpcproxy")
    ) {
        ServiceState::Starting
    } else if info.last_exit_code.is_some_and(|c| c != 0) {
        ServiceState::Failed
    } else {
        ServiceState::Stopped
    };
    status.pid = info.pid;
    status.restarts = info.runs.map(|r| r.saturating_sub(1));
    if info.last_exit_code.is_some() || info.last_terminating_signal.is_some() {
        status.last_exit = Some(LastExit {
            status: info.last_exit_code,
            reason: info
                .last_terminating_signal
                .clone()
                .map(|s| format!("signal {s}"))
                .or_else(|| info.last_exit_detail.clone()),
        });
    }
    let mut detail = Vec::new();
    if let Some(state) = &info.state {
        detail.push(format!("state = {state}"));
    }
    if let Some(runs) = info.runs {
        detail.push(format!("runs = {runs}"));
    }
    if let Some(reason) = &info.immediate_reason {
        detail.push(format!("immediate reason = {reason}"));
    }
    status.detail = (!detail.is_empty()).then(|| detail.join(", "));
}

impl ServiceManager for LaunchdBackend {
    fn platform(&self) -> PlatformKind {
        PlatformKind::Macos
    }

    fn plan_install(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.as_str();
        let domain = self.planned_domain();
        let target = domain.target(label);
        let mut plan = Plan::new(PlatformKind::Macos, PlanAction::Install);
        plan.files.push(PlannedFile {
            path: paths.plist.clone(),
            mode: PUBLIC_FILE_MODE,
            contents: render_plist(&plist_values(spec, &paths)?)?,
            secret: false,
            purpose: format!("LaunchAgent {label}"),
        });
        let secrets = secret_files(spec, &paths)?;
        for (file_var, path, contents) in &secrets {
            plan.files.push(PlannedFile {
                path: path.clone(),
                mode: SECRET_FILE_MODE,
                contents: contents.clone().into_bytes(),
                secret: true,
                purpose: format!("secret read by the gateway through {file_var}"),
            });
        }
        for (legacy, path, treatment) in foreign_agents(&paths.launch_agents_dir) {
            if treatment == Treatment::LegacyToMigrate {
                plan.steps.push(command(
                    &["bootout", &domain.target(&legacy)],
                    &NOT_LOADED_CODES,
                ));
                plan.notes.push(format!(
                    "Legacy LaunchAgent {legacy} is booted out and its plist {} removed.",
                    path.display()
                ));
                plan.removals.push(path);
            } else {
                plan.notes.push(format!(
                    "{legacy} ({}) is the gateway of another OpenClaw release: left alone; two gateways on one machine compete for ports (see openclaw doctor).",
                    path.display()
                ));
            }
        }
        plan.steps
            .push(command(&["bootout", &target], &NOT_LOADED_CODES));
        plan.steps.push(command(&["enable", &target], &[]));
        plan.steps.push(command(
            &[
                "bootstrap",
                &domain.to_string(),
                &paths.plist.display().to_string(),
            ],
            &[launchctl::EXIT_ALREADY_IN_PROGRESS],
        ));
        plan.steps.push(command(&["print", &target], &[]));
        plan.notes.push(format!(
            "{target} is booted out first only when it is loaded; bootout is asynchronous, so launchctl print is polled until the job is gone. A bootstrap failing with 5: Input/output error is retried after another bootout; 37 (already in progress) counts as success once print finds the job."
        ));
        plan.notes.push(format!(
            "Directories created when missing: {} (0755), {} (0700).",
            paths.log_dir.display(),
            paths.tmp_dir.display()
        ));
        plan.notes.push(format!(
            "Without a desktop session (SSH only) the commands use user/{0} instead of gui/{0}.",
            self.identity.uid
        ));
        if secrets.is_empty() {
            plan.notes.push(format!(
                "No secret in the plist: the gateway reads gateway.auth.token from {} or its 0600 {}.",
                spec.config_path.display(),
                spec.state_dir.join("gateway.token").display()
            ));
        }
        if let Some(note) = homebrew_refusal(spec, &paths).map(|e| {
            format!(
                "Refused without --force: {} ({}). With --force the install proceeds and leaves Homebrew's plist alone.",
                e.message,
                e.hints.join("; ")
            )
        }) {
            plan.notes.push(note);
        }
        if self.identity.uid == 0 {
            plan.notes.push(
                "Running as root: the install would be refused (launchctl would target gui/0); run it as the desktop user, without sudo.".into(),
            );
        }
        Ok(plan)
    }

    fn plan_uninstall(&self, spec: &ServiceSpec) -> Result<Plan, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.as_str();
        let target = self.planned_domain().target(label);
        let mut plan = Plan::new(PlatformKind::Macos, PlanAction::Uninstall);
        plan.steps
            .push(command(&["bootout", &target], &NOT_LOADED_CODES));
        plan.removals.push(paths.plist.clone());
        for (_, _, suffix) in SECRET_FILE_VARS {
            let path = paths.secret_file(label, suffix);
            if path.exists() {
                plan.removals.push(path);
            }
        }
        plan.notes.push(
            "The job is booted out first (when loaded) and launchctl print is polled until it is gone; then the files are removed.".into(),
        );
        plan.notes.push(format!(
            "Kept: the config, the state dir (including {}) and the logs in {}.",
            spec.state_dir.join("gateway.token").display(),
            paths.log_dir.display()
        ));
        Ok(plan)
    }

    fn install(
        &mut self,
        spec: &ServiceSpec,
        plan: &Plan,
        force: bool,
    ) -> Result<ActionOutcome, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.clone();
        if let Some(refusal) = homebrew_refusal(spec, &paths) {
            if !force {
                return Err(refusal);
            }
            self.warnings.push(format!(
                "{} Installed anyway (--force); Homebrew's plist is left alone: stop it with `brew services stop {}` so only one gateway runs.",
                refusal.message,
                homebrew::FORMULA
            ));
        }
        let domain = self.resolve_domain()?;
        let loaded = matches!(self.ctl(domain).print(&label)?, JobPresence::Loaded(_));
        let changed = !plan.differing_files().is_empty();
        if loaded && !changed && !force {
            return Ok(self.outcome(
                ActionResult::AlreadyInstalled,
                vec![
                    "Gateway service already loaded.".into(),
                    "Reinstall with: openclaw gateway install --force".into(),
                ],
            ));
        }
        let mut messages = Vec::new();
        for path in &plan.removals {
            let Some(legacy) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".plist"))
            else {
                continue;
            };
            let was_loaded = self.ctl(domain).bootout(legacy)?;
            remove_if_present(path)?;
            messages.push(format!(
                "Removed legacy LaunchAgent {legacy}{}: {}",
                if was_loaded { " (booted out)" } else { "" },
                path.display()
            ));
        }
        for (dir, mode) in [
            (&paths.log_dir, 0o755),
            (&spec.state_dir, PRIVATE_DIR_MODE),
            (&paths.tmp_dir, PRIVATE_DIR_MODE),
        ] {
            create_dir_all_with_mode(dir, mode).map_err(|e| {
                ServiceError::new(
                    "write-failed",
                    format!("cannot create {}: {e}", dir.display()),
                )
            })?;
        }
        if changed || force {
            plan.write_files().map_err(|e| {
                ServiceError::new("write-failed", format!("Gateway install failed: {e}"))
            })?;
        }
        if loaded {
            self.ctl(domain).bootout(&label)?;
        }
        self.activate(domain, &label, &paths.plist)?;
        messages.push(format!("Installed LaunchAgent: {}", paths.plist.display()));
        messages.push(format!("Logs: {}", paths.log.display()));
        Ok(self.outcome(ActionResult::Installed, messages))
    }

    fn uninstall(
        &mut self,
        spec: &ServiceSpec,
        plan: &Plan,
    ) -> Result<ActionOutcome, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.clone();
        self.refuse_inside_job(&label, "uninstall")?;
        let domain = self.resolve_domain()?;
        let presence = self.ctl(domain).print(&label).map_err(|e| {
            ServiceError::new(
                "status-unknown",
                format!(
                    "Gateway uninstall aborted because service status is unknown; resolve the inspection error before retrying: {}",
                    e.message
                ),
            )
        })?;
        let mut messages = Vec::new();
        let was_loaded = match presence {
            JobPresence::Loaded(_) => self.ctl(domain).bootout(&label)?,
            JobPresence::NotLoaded => false,
        };
        if was_loaded {
            messages.push(format!("Booted out LaunchAgent: {}", domain.target(&label)));
        }
        let mut removed_plist = false;
        for path in &plan.removals {
            let removed = remove_if_present(path)?;
            if path == &paths.plist {
                removed_plist = removed;
                messages.push(if removed {
                    format!("Removed LaunchAgent: {}", path.display())
                } else {
                    format!("LaunchAgent not found at {}", path.display())
                });
            } else if removed {
                messages.push(format!("Removed service secret file: {}", path.display()));
            }
        }
        let result = if was_loaded || removed_plist {
            ActionResult::Uninstalled
        } else {
            ActionResult::NotInstalled
        };
        Ok(self.outcome(result, messages))
    }

    fn start(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.clone();
        let domain = self.resolve_domain()?;
        let target = domain.target(&label);
        match self.ctl(domain).print(&label)? {
            JobPresence::Loaded(info) if info.is_running() => {
                let pid = info.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
                Ok(self.outcome(
                    ActionResult::AlreadyRunning,
                    vec![format!("Gateway service already running{pid}.")],
                ))
            }
            JobPresence::Loaded(_) => {
                let mut ctl = self.ctl(domain);
                ctl.enable(&label)?;
                ctl.kickstart(&label, false)?;
                Ok(self.outcome(
                    ActionResult::Started,
                    vec![format!("Started LaunchAgent: {target}")],
                ))
            }
            JobPresence::NotLoaded => {
                if !paths.plist.exists() {
                    return Err(Self::not_installed(spec, &paths, domain));
                }
                self.activate(domain, &label, &paths.plist)?;
                Ok(self.outcome(
                    ActionResult::Started,
                    vec![format!(
                        "Started LaunchAgent: {target} (bootstrapped {})",
                        paths.plist.display()
                    )],
                ))
            }
        }
    }

    fn stop(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        let label = spec.names.launchd_label.clone();
        self.refuse_inside_job(&label, "stop")?;
        let domain = self.resolve_domain()?;
        if self.ctl(domain).bootout(&label)? {
            Ok(self.outcome(
                ActionResult::Stopped,
                vec![format!("Stopped LaunchAgent: {}", domain.target(&label))],
            ))
        } else {
            Ok(self.outcome(
                ActionResult::NotLoaded,
                vec!["Gateway service not loaded.".into()],
            ))
        }
    }

    fn restart(&mut self, spec: &ServiceSpec) -> Result<ActionOutcome, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.clone();
        self.refuse_inside_job(&label, "restart")?;
        let domain = self.resolve_domain()?;
        let target = domain.target(&label);
        match self.ctl(domain).print(&label)? {
            JobPresence::Loaded(_) => {
                let mut ctl = self.ctl(domain);
                ctl.enable(&label)?;
                ctl.kickstart(&label, true)?;
                Ok(self.outcome(
                    ActionResult::Restarted,
                    vec![format!("Restarted LaunchAgent: {target}")],
                ))
            }
            JobPresence::NotLoaded => {
                if !paths.plist.exists() {
                    return Err(Self::not_installed(spec, &paths, domain));
                }
                self.activate(domain, &label, &paths.plist)?;
                Ok(self.outcome(
                    ActionResult::Restarted,
                    vec![format!(
                        "LaunchAgent was not loaded; bootstrapped it: {target}"
                    )],
                ))
            }
        }
    }

    fn status(&mut self, spec: &ServiceSpec) -> Result<SupervisorStatus, ServiceError> {
        let paths = LaunchdPaths::for_spec(spec);
        let label = spec.names.launchd_label.clone();
        let mut status =
            SupervisorStatus::new(ServiceState::Unknown, SUPERVISOR_LABEL, label.clone());
        let plist_exists = paths.plist.exists();
        status.definition_path = plist_exists.then(|| paths.plist.clone());
        let presence = self
            .resolve_domain()
            .and_then(|domain| self.ctl(domain).print(&label));
        match presence {
            Ok(JobPresence::Loaded(info)) => status_from_print(&info, &mut status),
            Ok(JobPresence::NotLoaded) if plist_exists => {
                status.state = ServiceState::InstalledNotLoaded;
            }
            Ok(JobPresence::NotLoaded) => {
                status.state = ServiceState::NotInstalled;
                self.homebrew_status(spec, &paths, &mut status)?;
            }
            Err(e) if e.kind == "launchctl-unavailable" => return Err(e),
            Err(e) => status.detail = Some(e.message),
        }
        Ok(status)
    }
}

/// The refusal of an install beside our Homebrew formula's job when that job runs `spec`'s
/// profile or listens on its port (`~/Library/LaunchAgents/homebrew.mxcl.openclaw.plist`, or
/// `/Library/LaunchDaemons/…` from `sudo brew services`): two KeepAlive agents would fight over
/// the port. `brew services stop` removes the plist, so its presence is what counts.
fn homebrew_refusal(spec: &ServiceSpec, paths: &LaunchdPaths) -> Option<ServiceError> {
    let agent = homebrew::conflicting_agents(&paths.launch_agents_dir, Some(Path::new("/")), spec)
        .into_iter()
        .next()?;
    Some(
        ServiceError::new(
            "homebrew-service-exists",
            format!(
                "Gateway install blocked: {} already runs this gateway; a LaunchAgent {} beside it would run a second gateway on port {}.",
                agent.describe(),
                spec.names.launchd_label,
                agent.port
            ),
        )
        .hint(format!(
            "To switch to `openclaw gateway install`: {}, then run the install again",
            agent.stop_command()
        ))
        .hint(format!(
            "Or keep using brew services and do not install: {}",
            agent.info_command()
        ))
        .hint("--force installs anyway (Homebrew's plist is never touched; both agents then compete for the port until one is stopped)"),
    )
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
