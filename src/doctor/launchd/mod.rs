//! Doctor on launchd: the audit of an installed LaunchAgent (`audit`), its repairs (`repair`),
//! and [`LaunchdDoctor`], what doctor does on macOS.

pub mod audit;
pub mod repair;

use std::path::Path;

use crate::service::PlatformKind;
use crate::service::discovery::{DiscoveredService, DiscoveryRoots};
use crate::service::launchd::{LaunchdPaths, homebrew};
use crate::service::spec::ServiceSpec;
use crate::service::status::SupervisorStatus;
use crate::service::systemd::cli_command;
use crate::service_names::Treatment;

use super::Target;
use super::audit::{DefinitionAudit, not_installed};
use super::file_audit::Item;
use super::findings::{RepairKind, Severity};
use super::platform::{PlatformDoctor, profiles_named_in};
use super::repair::{Action, trash_launch_agent};
use super::runtime;
use super::supervisor::Supervisor;
use super::systemd::repair::outcome_lines;

/// Doctor on launchd (the user's LaunchAgents; LaunchDaemons are reported, never changed).
pub(crate) struct LaunchdDoctor;

impl PlatformDoctor for LaunchdDoctor {
    fn keep_installed(&self, spec: &mut ServiceSpec) {
        // Keep what a reinstall keeps: the operator's settings in the plist and the secrets the
        // backend handed over in 0600 files.
        let plist = LaunchdPaths::for_spec(spec).plist;
        for (k, v) in repair::carried_environment(&plist) {
            spec.environment.retain(|(key, _)| key != &k);
            spec.environment.push((k, v));
        }
        spec.secret_environment = repair::handed_over_secrets(spec);
    }

    fn installed_profiles(&self, home: &Path) -> Vec<String> {
        // Our LaunchAgents and other releases' `ai.openclaw.<p>` name profiles.
        let agents = home.join("Library/LaunchAgents");
        let named = [
            Treatment::RecognisedProfileService,
            Treatment::OtherReleaseGateway,
        ];
        profiles_named_in(&agents, PlatformKind::Macos, ".plist", &named)
    }

    fn audit_definition(&self, input: &DefinitionAudit<'_>) -> Vec<Item> {
        let paths = LaunchdPaths::for_spec(input.spec);
        let plist = paths.plist;
        // Our Homebrew formula's job (`brew services start openclaw`) for this profile or port.
        let home = &input.target.invocation.paths.home;
        let root = DiscoveryRoots::from_env(home, &input.target.invocation.env).root;
        let homebrew =
            homebrew::conflicting_agents(&paths.launch_agents_dir, Some(&root), input.spec);
        let Some((dict, _, env)) = repair::read_plist(&plist) else {
            if let Some(agent) = homebrew.first() {
                return vec![(
                    audit::homebrew_agent_in_use(&input.target.label, agent),
                    None,
                )];
            }
            return not_installed(
                input.target,
                input.ctx,
                &format!("{} is missing", plist.display()),
            );
        };
        let mut out = audit::audit_plist(&audit::LaunchdAuditInput {
            profile: &input.target.label,
            spec: input.spec,
            plan: input.plan,
            plist_path: &plist,
            installed: &dict,
            env_file: env.as_deref(),
            plist_mode: crate::atomic_write::file_mode(&plist),
            config_token: input.config_token,
        });
        runtime::audit_running_state(
            &mut out,
            input.target,
            input.spec,
            input.ctx.sup,
            audit::command_differs(&dict, input.plan),
            runtime::RunningRewrite::Hold,
        );
        let label = &input.spec.names.launchd_label;
        out.extend(homebrew.iter().map(|agent| {
            let finding = audit::homebrew_duplicate(&input.target.label, &plist, label, agent);
            (finding, None)
        }));
        out
    }

    fn not_loaded(
        &self,
        target: &Target,
        spec: &ServiceSpec,
        status: &SupervisorStatus,
    ) -> Option<Vec<Item>> {
        let mut f = runtime::finding(
            target,
            "service-not-loaded",
            Severity::Warning,
            "LaunchAgent is installed but not loaded in launchd.".to_owned(),
            format!(
                "`openclaw doctor --fix` repairs the bootstrap (launchctl enable, bootstrap, kickstart); or run `{}`",
                cli_command(spec, "gateway start")
            ),
            RepairKind::Safe,
        );
        if let Some(path) = &status.definition_path {
            f = f.path(path);
        }
        let profile = target.label.clone();
        Some(vec![(f, Some(Action::BootstrapLaunchAgent { profile }))])
    }

    fn reinstall(&self, target: &Target, sup: &Supervisor) -> Result<Vec<String>, String> {
        repair::reinstall(target, sup)
    }

    fn bootstrap(&self, spec: &ServiceSpec, sup: &Supervisor) -> Result<Vec<String>, String> {
        outcome_lines(sup.launchd().repair_bootstrap(spec))
    }

    fn trash_launch_agent(&self, sup: &Supervisor, action: &Action) -> Result<Vec<String>, String> {
        let Action::TrashLaunchAgent {
            label,
            plist,
            domain,
            trash,
        } = action
        else {
            return Err(format!("not a LaunchAgent removal: {}", action.summary()));
        };
        let mut runner = sup.runner();
        trash_launch_agent(runner.as_mut(), label, plist, domain, trash)
            .map(|dest| vec![format!("Moved LaunchAgent to Trash: {}", dest.display())])
    }

    fn migrates_other_release(&self, s: &DiscoveredService) -> bool {
        s.platform == PlatformKind::Macos
    }

    fn runtime_plan_lines(
        &self,
        action: &Action,
        spec: &ServiceSpec,
        sup: &Supervisor,
    ) -> Vec<String> {
        let domain = format!("gui/{}", sup.launchd_identity.uid);
        let label = &spec.names.launchd_label;
        match action {
            Action::BootstrapLaunchAgent { .. } => vec![
                format!("launchctl enable {domain}/{label}"),
                format!(
                    "launchctl bootstrap {domain} {}    (when launchd has not loaded it)",
                    LaunchdPaths::for_spec(spec).plist.display()
                ),
                format!(
                    "launchctl kickstart {domain}/{label}    (when the loaded job does not run)"
                ),
            ],
            Action::RestartService { .. } => vec![
                format!("launchctl enable {domain}/{label}"),
                format!(
                    "launchctl kickstart -k {domain}/{label}    (as `openclaw gateway restart`)"
                ),
            ],
            _ => vec![
                format!("launchctl enable {domain}/{label}"),
                format!(
                    "launchctl kickstart {domain}/{label}    (bootstrapped first when not loaded; as `openclaw gateway start`)"
                ),
            ],
        }
    }
}
