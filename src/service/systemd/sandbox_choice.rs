//! Choosing the sandbox level of an install: the operator's override, the level the installed
//! unit proved, else the strongest level whose probe unit becomes ready in the manager.

use std::path::Path;

use super::dbus::ManagerConnection;
use super::units::SandboxLevel;
use crate::atomic_write::{PRIVATE_DIR_MODE, create_dir_all_with_mode};
use crate::service::ServiceError;
use crate::service::plan::Plan;
use crate::service::spec::{Scope, ServiceSpec};

use super::*;

impl SystemdBackend {
    /// `OPENCLAW_SYSTEMD_SANDBOX`: a level chosen by the operator instead of probing.
    pub(super) fn sandbox_override(&self) -> Result<Option<SandboxLevel>, ServiceError> {
        let Some(raw) = self.env.get_nonempty(sandbox_probe::OVERRIDE_ENV) else {
            return Ok(None);
        };
        SandboxLevel::parse(raw).map(Some).ok_or_else(|| {
            ServiceError::new(
                "invalid-value",
                format!(
                    "{}={raw:?} is not a sandbox level; use namespaces, seccomp or none (or unset it to probe)",
                    sandbox_probe::OVERRIDE_ENV
                ),
            )
        })
    }

    /// The install plan at sandbox `level` (with a debug build's fault directive, if asked).
    pub(super) fn plan_at(
        &self,
        spec: &ServiceSpec,
        features: &units::SystemdFeatures,
        level: SandboxLevel,
    ) -> Result<Plan, ServiceError> {
        let mut plan = plan::install_plan_at(spec, features, level)?;
        if let Some(unit) = plan.files.first_mut() {
            let text = String::from_utf8_lossy(&unit.contents).into_owned();
            unit.contents = sandbox_probe::with_fault(&self.env, &text, level).into_bytes();
        }
        packaged::note_packaged_unit(&mut plan, spec, Path::new("/"));
        Ok(plan)
    }

    /// Chooses the sandbox level for an install: the planned one when the override names it or
    /// the installed unit already runs at it (proven here before) and nothing is forced;
    /// otherwise the strongest level whose probe unit becomes ready in the manager, starting at
    /// the planned level (the host's best with `--force`). Returns the plan to carry out and
    /// what the probe found.
    pub(super) fn choose_sandbox(
        &self,
        mgr: &ManagerConnection,
        spec: &ServiceSpec,
        plan: &Plan,
        force: bool,
    ) -> Result<(Plan, Vec<String>), ServiceError> {
        let features = self.features();
        let best = units::best_level(spec, &features);
        let planned = plan::plan_level(plan).unwrap_or(best);
        if self.sandbox_override()?.is_some() {
            return Ok((
                plan.clone(),
                vec![format!(
                    "Sandbox: {planned} (set by {}; not probed).",
                    sandbox_probe::OVERRIDE_ENV
                )],
            ));
        }
        if !force && installed_level(spec) == Some(planned) {
            return Ok((plan.clone(), Vec::new()));
        }
        let user = matches!(spec.scope, Scope::User);
        let Some(dir) =
            sandbox_probe::runtime_unit_dir(user, self.facts().runtime_dir().as_deref())
        else {
            return Ok((
                plan.clone(),
                vec![format!(
                    "Sandbox: {planned} (not probed: no runtime dir for the manager's runtime units)."
                )],
            ));
        };
        // The probe runs in the state dir (WorkingDirectory=), which must exist.
        create_dir_all_with_mode(&spec.state_dir, PRIVATE_DIR_MODE).map_err(|e| {
            ServiceError::new(
                "write-failed",
                format!(
                    "Gateway install failed: cannot create the state dir {}: {e}",
                    spec.state_dir.display()
                ),
            )
        })?;
        let start = if force { best } else { planned };
        let probe_name = format!(
            "{}-sandbox-probe.service",
            spec.names
                .systemd_service_file()
                .trim_end_matches(".service")
        );
        let mut failures = Vec::new();
        for level in start.and_weaker() {
            let candidate = if level == planned {
                plan.clone()
            } else {
                self.plan_at(spec, &features, level)?
            };
            let unit = candidate
                .files
                .first()
                .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
                .unwrap_or_default();
            let text = sandbox_probe::probe_unit(&unit, &spec.program, level)?;
            match sandbox_probe::probe_level(mgr, &dir, &probe_name, &text) {
                Ok(()) => {
                    let mut notes = Vec::new();
                    let tried: Vec<String> = failures
                        .iter()
                        .map(|(l, why): &(SandboxLevel, String)| format!("{l} failed ({why})"))
                        .collect();
                    notes.push(if tried.is_empty() {
                        format!("Sandbox: {level} (probed in the manager: ready).")
                    } else {
                        format!(
                            "Sandbox: {level} (probed in the manager: ready; {}).",
                            tried.join("; ")
                        )
                    });
                    return Ok((candidate, notes));
                }
                Err(why) => failures.push((level, why)),
            }
        }
        // Every level failed the same way: the sandbox is not the cause (a full or read-only
        // state dir, say). Install at the planned level; the readiness check then reports what
        // the gateway itself says, and a failure is rolled back.
        if let Some((_, first)) = failures.first() {
            if failures.iter().all(|(_, why)| why == first) {
                return Ok((
                    plan.clone(),
                    vec![format!(
                        "Sandbox: {planned} (the probe failed the same way at every level, so the sandbox is not the cause: {first})."
                    )],
                ));
            }
        }
        let tried: Vec<String> = failures
            .iter()
            .map(|(l, why)| format!("{l}: {why}"))
            .collect();
        Err(ServiceError::new(
            "sandbox-failed",
            format!(
                "Gateway install failed: no sandbox level starts in this manager ({}); nothing was changed.",
                tried.join("; ")
            ),
        )
        .hint(format!("Run `{}` in a terminal to see whether the gateway itself starts.", cli_command(spec, "gateway run")))
        .hint(self_units_journal_hint(spec, &probe_name)))
    }
}
