//! The service at runtime: the runtime check and repairs (spec §6.4), the running-unit rule
//! (§6.3) and the external repair policy (§1.5, §6.1).
//!
//! - Runtime check: for a profile whose service is installed, the supervisor's view comes from
//!   the backend `openclaw gateway status` uses ([`crate::service::ServiceManager::status`]) and
//!   health from the same connectivity probe ([`super::supervisor::Supervisor::probe`]). A
//!   gateway that answers needs nothing. Otherwise: a LaunchAgent whose plist is installed but
//!   not loaded gets the bootstrap repair (`service-not-loaded`); an installed service that does
//!   not run is started as `openclaw gateway start` starts it (`service-not-running`, asked
//!   "Start gateway service now?", default yes); a running one whose gateway does not answer is
//!   restarted as `openclaw gateway restart` does, only after an explicit yes on a terminal
//!   (`service-unhealthy`, "Restart gateway service now?", default no); a state the supervisor
//!   cannot tell is reported (`service-status-unknown`). A missing service
//!   (`service-not-installed`, a note) is offered for installation on a terminal only ("Install
//!   gateway service now?", default yes) when nothing answers, and never next to a system-level
//!   OpenClaw unit on Linux.
//! - Running-unit rule: when the service runs and its installed command (`ExecStart=`,
//!   `ProgramArguments`, the task's command) differs from the one install would write, the
//!   definition rewrite is held back (it would replace the running launcher and restart it, even
//!   with `--force`): its findings stay, as manual, and `service-running-rewrite-skipped` says
//!   why and what to run. Repairs that do not rewrite the definition (file modes, backups,
//!   config) still apply.
//! - `OPENCLAW_SERVICE_REPAIR_POLICY=external` (or `OPENCLAW_SUPERVISOR_MODE=external`): doctor
//!   never mutates the profile's service; the findings stay, as manual, with the note.

use crate::environment::Environment;
use crate::service::spec::ServiceSpec;
use crate::service::status::{ServiceState, SupervisorStatus};
use crate::service::systemd::cli_command;

use super::Target;
use super::file_audit::Item;
use super::findings::{Finding, RepairKind, Severity};
use super::repair::Action;
use super::supervisor::Supervisor;
use super::systemd::repair::{install_with, outcome_lines};

/// The id of the note that the running-unit rule held a rewrite back.
pub const REWRITE_SKIPPED: &str = "service-running-rewrite-skipped";

/// What happens to a rewrite of a running service's definition (spec §6.3 and its consent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunningRewrite {
    /// Held back, findings manual (`--non-interactive`, no terminal, a report, or a definition
    /// of this release whose command merely differs).
    Hold,
    /// Offered as an interactive repair: an explicit yes on a terminal replaces it.
    Ask,
    /// Applied (`--fix --yes`): the gateway restarts through its socket.
    Release,
}

/// The runtime half of the audit of an installed service, after its definition audit in
/// `items`: asks the supervisor once, holds back command rewrites of a running service
/// ([`hold_back_rewrites`]) and adds the runtime findings ([`audit_installed`]).
pub fn audit_running_state(
    items: &mut Vec<Item>,
    target: &Target,
    spec: &ServiceSpec,
    sup: &Supervisor,
    command_differs: bool,
    rewrite: RunningRewrite,
) {
    let status = service_status(target, spec, sup);
    hold_back_rewrites(items, target, spec, sup, &status, command_differs, rewrite);
    items.extend(audit_installed(target, spec, sup, &status));
}

/// The supervisor's view of `spec`'s service, from the backend `gateway status` uses.
fn service_status(
    target: &Target,
    spec: &ServiceSpec,
    sup: &Supervisor,
) -> Result<SupervisorStatus, String> {
    sup.backend(&target.invocation.env)
        .status(spec)
        .map_err(|e| e.message)
}

pub(super) fn finding(
    target: &Target,
    id: &'static str,
    severity: Severity,
    message: String,
    fix: String,
    repair: RepairKind,
) -> Finding {
    Finding::new(id, severity, message, fix, repair).profile(&target.label)
}

/// The runtime findings of a profile whose service definition is installed (see the module
/// doc): none when its gateway answers.
fn audit_installed(
    target: &Target,
    spec: &ServiceSpec,
    sup: &Supervisor,
    status: &Result<SupervisorStatus, String>,
) -> Vec<Item> {
    let Ok(config) = &target.config else {
        return Vec::new();
    };
    let health = sup.probe(&target.invocation, config, status.as_ref().ok());
    if health.answered {
        return Vec::new();
    }
    let profile = target.label.clone();
    let name = spec.names.on(sup.platform);
    let st = match status {
        Ok(st) => st,
        Err(detail) => return vec![(unknown(target, detail), None)],
    };
    let why = st
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    if st.state == ServiceState::InstalledNotLoaded {
        if let Some(items) = sup.doctor().not_loaded(target, spec, st) {
            return items;
        }
    }
    match st.state {
        ServiceState::NotInstalled => Vec::new(),
        ServiceState::Unknown => {
            let detail = st
                .reason
                .clone()
                .or_else(|| st.detail.clone())
                .unwrap_or_else(|| "the supervisor did not say".to_owned());
            vec![(unknown(target, &detail), None)]
        }
        ServiceState::Running => {
            let pid = st.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            vec![(
                finding(
                    target,
                    "service-unhealthy",
                    Severity::Warning,
                    format!(
                        "Gateway service {name} is running{pid} but the gateway does not answer at {}: {}",
                        health.url, health.detail
                    ),
                    format!(
                        "Check `{}` and the logs; `openclaw doctor --fix` on a terminal asks \"Restart gateway service now?\" (default no), or run `{}`",
                        cli_command(spec, "gateway status"),
                        cli_command(spec, "gateway restart")
                    ),
                    RepairKind::Interactive,
                ),
                Some(Action::RestartService { profile }),
            )]
        }
        state => {
            let mut f = finding(
                target,
                "service-not-running",
                Severity::Warning,
                format!(
                    "Gateway service {name} is installed but not running ({}{why}).",
                    state.label()
                ),
                format!(
                    "`openclaw doctor --fix` starts it as `{}` does (asks \"Start gateway service now?\" on a terminal)",
                    cli_command(spec, "gateway start")
                ),
                RepairKind::Safe,
            );
            if let Some(path) = &st.definition_path {
                f = f.path(path);
            }
            vec![(f, Some(Action::StartService { profile }))]
        }
    }
}

fn unknown(target: &Target, detail: &str) -> Finding {
    let deep = match target.invocation.profile.profile.name() {
        Some(p) => format!("openclaw --profile {p} gateway status --deep"),
        None => "openclaw gateway status --deep".to_owned(),
    };
    finding(
        target,
        "service-status-unknown",
        Severity::Warning,
        format!("Gateway service status could not be determined: {detail}"),
        format!("Run `{deep}` and retry doctor."),
        RepairKind::Manual,
    )
}

/// The note for a profile (with a state dir) whose service is not installed (`what`: which
/// definition is missing). When no gateway answers it carries the install offer, asked on a
/// terminal only, unless `system_services` (system-level OpenClaw gateway units on Linux) exist:
/// doctor never installs a second, user-level unit next to one.
pub fn not_installed(
    target: &Target,
    sup: &Supervisor,
    what: &str,
    system_services: &[String],
) -> Item {
    let profile = target.label.clone();
    let message = format!("Gateway service not installed ({what}).");
    let install = match target.invocation.profile.profile.name() {
        Some(p) => format!("openclaw --profile {p} gateway install"),
        None => "openclaw gateway install".to_owned(),
    };
    let note = |fix: String| {
        Finding::new(
            "service-not-installed",
            Severity::Info,
            message.clone(),
            fix,
            RepairKind::Manual,
        )
        .profile(&target.label)
    };
    if !system_services.is_empty() {
        return (
            note(format!(
                "A system-level OpenClaw gateway service exists ({}): doctor will not install a second, user-level one. Run `openclaw gateway status --deep` to inspect duplicate services, or set OPENCLAW_SERVICE_REPAIR_POLICY=external if a system supervisor owns the gateway lifecycle.",
                system_services.join(", ")
            )),
            None,
        );
    }
    if let Ok(config) = &target.config {
        let health = sup.probe(&target.invocation, config, None);
        if health.answered {
            return (
                note(format!(
                    "A gateway answers at {} without this service; `{install}` runs it under {} instead.",
                    health.url,
                    sup.platform.supervisor()
                )),
                None,
            );
        }
    }
    let mut f = note(format!(
        "`openclaw doctor --fix` on a terminal asks \"Install gateway service now?\" (never with --yes or --non-interactive); or run `{install}`"
    ));
    f.repair = RepairKind::Interactive;
    (f, Some(Action::InstallService { profile }))
}

/// Carries out a runtime repair of `target` through the backend `openclaw gateway
/// start|restart|install` use (the LaunchAgent bootstrap repair through the launchd backend).
pub fn execute(action: &Action, target: &Target, sup: &Supervisor) -> Result<Vec<String>, String> {
    let spec = target
        .spec
        .as_ref()
        .ok_or("the config is invalid; fix it first")?;
    let mut backend = sup.backend(&target.invocation.env);
    match action {
        Action::StartService { .. } => outcome_lines(backend.start(spec)),
        Action::RestartService { .. } => outcome_lines(backend.restart(spec)),
        Action::InstallService { .. } => install_with(backend.as_mut(), spec, false),
        Action::BootstrapLaunchAgent { .. } => sup.doctor().bootstrap(spec, sup),
        other => Err(format!("not a runtime repair: {}", other.summary())),
    }
}

/// The `--dry-run` lines of a runtime repair: what the backend call does on this supervisor.
pub fn plan_lines(action: &Action, target: &Target, sup: &Supervisor) -> Vec<String> {
    let Some(spec) = &target.spec else {
        return vec!["the config is invalid; fix it first".to_owned()];
    };
    if let Action::InstallService { .. } = action {
        let mut lines = vec!["the install plan of `openclaw gateway install`:".to_owned()];
        if let Some(plan) = target.plan(sup) {
            lines.extend(plan.render_text().lines().map(|l| format!("    {l}")));
        }
        return lines;
    }
    sup.doctor().runtime_plan_lines(action, spec, sup)
}

/// The running-unit rule (spec §6.3): when `status` says the service runs and `command_differs`
/// (its installed command is not the one install would write), the rewrite of `target`'s
/// service is held back. Its findings stay, as manual with what to run, and a note says so.
fn hold_back_rewrites(
    items: &mut Vec<Item>,
    target: &Target,
    spec: &ServiceSpec,
    sup: &Supervisor,
    status: &Result<SupervisorStatus, String>,
    command_differs: bool,
    rewrite: RunningRewrite,
) {
    let running = status
        .as_ref()
        .is_ok_and(|s| s.state == ServiceState::Running);
    if !running || !command_differs || rewrite == RunningRewrite::Release {
        return;
    }
    let reinstall = Action::reinstall(&target.label);
    if rewrite == RunningRewrite::Ask {
        let ask = "The service runs: `openclaw doctor --fix` on a terminal asks before replacing its definition (the gateway restarts through its socket); `--fix --yes` replaces it without asking";
        for (f, a) in items.iter_mut() {
            if a.as_ref() == Some(&reinstall) && f.repair != RepairKind::Aggressive {
                f.repair = RepairKind::Interactive;
                f.fix = ask.to_owned();
            }
        }
        return;
    }
    let stop = cli_command(spec, "gateway stop");
    let force = cli_command(spec, "gateway install --force");
    let fix = format!(
        "The service runs: stop it first (`{stop}`), then run `openclaw doctor --fix`; or replace the running launcher with `{force}`"
    );
    let mut held: Vec<&'static str> = Vec::new();
    for (f, a) in items.iter_mut() {
        if a.as_ref() == Some(&reinstall) {
            *a = None;
            f.repair = RepairKind::Manual;
            f.fix.clone_from(&fix);
            held.push(f.id);
        }
    }
    if held.is_empty() {
        return;
    }
    let name = spec.names.on(sup.platform);
    let pid = status
        .as_ref()
        .ok()
        .and_then(|s| s.pid)
        .map(|p| format!(" (pid {p})"))
        .unwrap_or_default();
    items.push((
        Finding::new(
            REWRITE_SKIPPED,
            Severity::Info,
            format!(
                "Gateway service {name} is running{pid}; skipped command/entrypoint rewrites and left the service definition unchanged (held back: {}).",
                held.join(", ")
            ),
            format!(
                "Stop the service first (`{stop}`) and rerun `openclaw doctor --fix`, or use `{force}` when you want to replace the running launcher."
            ),
            RepairKind::None,
        )
        .profile(&target.label),
        None,
    ));
}

/// Why doctor must not mutate the service: `OPENCLAW_SERVICE_REPAIR_POLICY=external` or
/// `OPENCLAW_SUPERVISOR_MODE=external` (trimmed, any case).
pub fn external_policy(env: &Environment) -> Option<&'static str> {
    let external = |key: &str| {
        env.get(key)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("external"))
    };
    if external("OPENCLAW_SERVICE_REPAIR_POLICY") {
        Some("OPENCLAW_SERVICE_REPAIR_POLICY=external")
    } else if external("OPENCLAW_SUPERVISOR_MODE") {
        Some("OPENCLAW_SUPERVISOR_MODE=external")
    } else {
        None
    }
}

/// Turns every repair of a profile's service in `items` into advice (see [`external_policy`]).
pub fn apply_external_policy(items: &mut [Item], why: &str) {
    for (f, a) in items.iter_mut() {
        if a.as_ref().is_some_and(Action::mutates_service) {
            *a = None;
            f.repair = RepairKind::Manual;
            f.fix = format!(
                "Gateway service is managed externally ({why}); skipped service install/start repair. Start or repair the gateway through your supervisor."
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_external_policy_is_read_trimmed_in_any_case() {
        let env = |k: &str, v: &str| Environment::empty().with(k, v);
        assert_eq!(
            external_policy(&env("OPENCLAW_SERVICE_REPAIR_POLICY", " External ")),
            Some("OPENCLAW_SERVICE_REPAIR_POLICY=external")
        );
        assert_eq!(
            external_policy(&env("OPENCLAW_SUPERVISOR_MODE", "external")),
            Some("OPENCLAW_SUPERVISOR_MODE=external")
        );
        assert_eq!(
            external_policy(&env("OPENCLAW_SERVICE_REPAIR_POLICY", "auto")),
            None
        );
        assert_eq!(external_policy(&Environment::empty()), None);
    }

    #[test]
    fn the_external_policy_turns_service_repairs_into_advice_and_keeps_the_others() {
        let item = |id: &'static str, action: Action| {
            (
                Finding::new(id, Severity::Warning, "m", "f", RepairKind::Safe),
                Some(action),
            )
        };
        let mut items = vec![
            item(
                "service-port-mismatch",
                Action::Reinstall {
                    profile: "default".into(),
                },
            ),
            item(
                "service-not-running",
                Action::StartService {
                    profile: "default".into(),
                },
            ),
            item(
                "secret-file-mode",
                Action::Chmod {
                    path: "/x".into(),
                    mode: 0o600,
                },
            ),
        ];
        apply_external_policy(&mut items, "OPENCLAW_SERVICE_REPAIR_POLICY=external");
        for (f, a) in &items[..2] {
            assert_eq!((a, f.repair), (&None, RepairKind::Manual));
            assert!(f.fix.starts_with("Gateway service is managed externally (OPENCLAW_SERVICE_REPAIR_POLICY=external); skipped service install/start repair."), "{}", f.fix);
        }
        assert!(items[2].1.is_some() && items[2].0.repair == RepairKind::Safe);
    }
}
