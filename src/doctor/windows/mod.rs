//! Doctor on Task Scheduler: the audit of a scheduled task (`audit`), its repairs (`repair`),
//! and [`WindowsDoctor`], what doctor does on Windows.

pub mod audit;
pub mod repair;

use std::path::Path;

use crate::service::spec::ServiceSpec;
use crate::service::status::SupervisorStatus;
use crate::service::windows::schtasks::Schtasks;
use crate::service::windows::task_file;

use super::Target;
use super::audit::{DefinitionAudit, not_installed};
use super::file_audit::Item;
use super::findings::{Finding, RepairKind, Severity};
use super::platform::PlatformDoctor;
use super::repair::Action;
use super::runtime;
use super::supervisor::Supervisor;

/// Doctor on Task Scheduler (the user's scheduled task).
pub(crate) struct WindowsDoctor;

impl PlatformDoctor for WindowsDoctor {
    fn keep_installed(&self, spec: &mut ServiceSpec) {
        spec.secret_environment = repair::handed_over_secrets(spec);
    }

    /// Scheduled tasks name no profiles beyond the state dirs (listing every task is slow).
    fn installed_profiles(&self, _home: &Path) -> Vec<String> {
        Vec::new()
    }

    fn audit_definition(&self, input: &DefinitionAudit<'_>) -> Vec<Item> {
        let name = &input.spec.names.windows_task;
        let mut runner = input.ctx.sup.runner();
        let registered = match Schtasks::new(runner.as_mut()).query_xml(name) {
            Ok(r) => r,
            Err(e) => {
                let finding = Finding::new(
                    "service-status-unknown",
                    Severity::Warning,
                    format!("Cannot read scheduled task \"{name}\": {}", e.message),
                    "Run doctor again from the account that owns the task",
                    RepairKind::Manual,
                );
                return vec![(finding.profile(&input.target.label), None)];
            }
        };
        let record = std::fs::read(task_file(input.spec)).ok();
        let script_path = repair::task_script(input.spec);
        let script = std::fs::read_to_string(&script_path).ok();
        if registered.is_none() && record.is_none() && script.is_none() {
            let why = format!("scheduled task \"{name}\" is not registered");
            return not_installed(input.target, input.ctx, &why);
        }
        let script_mode = crate::atomic_write::file_mode(&script_path);
        let mut out = audit::audit_task(&audit::TaskAuditInput {
            profile: &input.target.label,
            spec: input.spec,
            plan: input.plan,
            registered: registered.as_ref(),
            record: record.as_deref(),
            script: script
                .as_deref()
                .map(|t| (script_path.as_path(), t, script_mode)),
            config_token: input.config_token,
        });
        let command_differs = registered
            .as_ref()
            .is_some_and(|r| audit::command_differs(r, input.plan));
        runtime::audit_running_state(
            &mut out,
            input.target,
            input.spec,
            input.ctx.sup,
            command_differs,
            runtime::RunningRewrite::Hold,
        );
        out
    }

    /// A disabled scheduled task is the definition audit's `windows-task-disabled`, which a
    /// reinstall repairs.
    fn not_loaded(&self, _: &Target, _: &ServiceSpec, _: &SupervisorStatus) -> Option<Vec<Item>> {
        Some(Vec::new())
    }

    fn reinstall(&self, target: &Target, sup: &Supervisor) -> Result<Vec<String>, String> {
        repair::reinstall(target, sup)
    }

    fn runtime_plan_lines(
        &self,
        action: &Action,
        spec: &ServiceSpec,
        _: &Supervisor,
    ) -> Vec<String> {
        let task = &spec.names.windows_task;
        if matches!(action, Action::RestartService { .. }) {
            vec![
                format!("schtasks /End /TN \"{task}\", then wait until it no longer runs"),
                format!("schtasks /Run /TN \"{task}\"    (as `openclaw gateway restart`)"),
            ]
        } else {
            vec![format!(
                "schtasks /Run /TN \"{task}\"    (as `openclaw gateway start`)"
            )]
        }
    }
}
