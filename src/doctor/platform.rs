//! What doctor does differently on each service manager, behind one trait: the audit and
//! repairs ask the supervisor's [`PlatformDoctor`] ([`super::supervisor::Supervisor::doctor`])
//! and never branch on the platform themselves. One implementation per backend folder:
//! [`super::systemd::SystemdDoctor`], [`super::launchd::LaunchdDoctor`],
//! [`super::windows::WindowsDoctor`].

use std::path::Path;

use crate::service::PlatformKind;
use crate::service::discovery::{DiscoveredService, DiscoveryRoots};
use crate::service::launchd::discovery::discover_launchd;
use crate::service::plan::Plan;
use crate::service::spec::ServiceSpec;
use crate::service::status::SupervisorStatus;
use crate::service_names::{Treatment, classify_service_name};

use super::Target;
use super::audit::DefinitionAudit;
use super::file_audit::Item;
use super::repair::Action;
use super::supervisor::Supervisor;

/// Doctor's view of one service manager.
pub(crate) trait PlatformDoctor: Sync {
    /// Keeps, in the spec a reinstall would write, what the installed definition carries that a
    /// reinstall keeps (operator settings, secrets handed over in 0600 files, a choice of no
    /// socket activation).
    fn keep_installed(&self, spec: &mut ServiceSpec);

    /// Profiles named by this supervisor's installed definitions under `home`.
    fn installed_profiles(&self, home: &Path) -> Vec<String>;

    /// The gateway-like services doctor reports on (legacy, other releases, system scope).
    /// LaunchAgents under the home are read on every platform: a legacy agent in a home carried
    /// over from a Mac (or a test home) is reported, and removed where `--fix` can.
    fn discover(&self, roots: &DiscoveryRoots) -> Vec<DiscoveredService> {
        discover_launchd(roots, true)
    }

    /// Audits a profile's installed definition against its plan, and its service at runtime.
    fn audit_definition(&self, input: &DefinitionAudit<'_>) -> Vec<Item>;

    /// The findings of a service that is installed but not loaded; `None`: the generic
    /// not-running finding with its start repair.
    fn not_loaded(
        &self,
        target: &Target,
        spec: &ServiceSpec,
        status: &SupervisorStatus,
    ) -> Option<Vec<Item>>;

    /// The reinstall repair.
    fn reinstall(&self, target: &Target, sup: &Supervisor) -> Result<Vec<String>, String>;

    /// The `--dry-run` lines of the reinstall repair, after its summary.
    fn describe_reinstall(&self, _target: &Target, plan: &Plan) -> Vec<String> {
        std::iter::once("back up the old definition 0600 under <state>/service-backup/ (token/password removed; they go into the config), then the install plan:".to_owned())
            .chain(plan.render_text().lines().map(|l| format!("    {l}")))
            .collect()
    }

    /// Moves inline secrets out of the installed definition without reinstalling it.
    fn move_secrets_in_place(&self, _target: &Target) -> Result<Vec<String>, String> {
        Err("moving inline secrets in place is done for systemd units only".into())
    }

    /// The LaunchAgent bootstrap repair.
    fn bootstrap(&self, _spec: &ServiceSpec, _sup: &Supervisor) -> Result<Vec<String>, String> {
        Err("the LaunchAgent bootstrap repair runs on macOS only".into())
    }

    /// Boots out a LaunchAgent and moves its plist to the Trash (legacy agents).
    fn trash_launch_agent(
        &self,
        _sup: &Supervisor,
        _action: &Action,
    ) -> Result<Vec<String>, String> {
        Err("launchd repairs run on macOS only (the plan is shown by --fix --dry-run)".into())
    }

    /// Whether `--fix` migrates `s`, another release's service, onto this release's.
    fn migrates_other_release(&self, _s: &DiscoveredService) -> bool {
        false
    }

    /// The `--dry-run` lines of a start, restart or bootstrap repair: what the backend does.
    fn runtime_plan_lines(
        &self,
        action: &Action,
        spec: &ServiceSpec,
        sup: &Supervisor,
    ) -> Vec<String>;
}

/// The doctor of `platform`'s service manager.
pub(crate) fn for_platform(platform: PlatformKind) -> &'static dyn PlatformDoctor {
    match platform {
        PlatformKind::Linux => &super::systemd::SystemdDoctor,
        PlatformKind::Macos => &super::launchd::LaunchdDoctor,
        PlatformKind::Windows => &super::windows::WindowsDoctor,
    }
}

/// Profiles named by the definitions in `dir`: file names (less `suffix`) that `platform`'s name
/// table recognises with one of `treatments`.
pub(super) fn profiles_named_in(
    dir: &Path,
    platform: PlatformKind,
    suffix: &str,
    treatments: &[Treatment],
) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let m = classify_service_name(platform, name.strip_suffix(suffix)?)?;
            treatments
                .contains(&m.entry.treatment)
                .then_some(m.profile)?
        })
        .collect()
}
