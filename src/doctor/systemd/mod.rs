//! Doctor on systemd: the audit of an installed unit (`audit`), its repairs (`repair`), and
//! [`SystemdDoctor`], what doctor does on a systemd host.

pub mod audit;
pub mod repair;

use std::path::{Path, PathBuf};

use crate::service::PlatformKind;
use crate::service::discovery::{DiscoveredService, DiscoveryRoots};
use crate::service::launchd::discovery::discover_launchd;
use crate::service::plan::Plan;
use crate::service::spec::ServiceSpec;
use crate::service::status::SupervisorStatus;
use crate::service::systemd::discovery::discover_systemd;
use crate::service::systemd::{packaged, units};
use crate::service_names::Treatment;

use super::Target;
use super::audit::{DefinitionAudit, not_installed, packaged_unit_in_use};
use super::file_audit::Item;
use super::linger;
use super::platform::{PlatformDoctor, profiles_named_in};
use super::repair::Action;
use super::runtime;
use super::supervisor::Supervisor;

/// Doctor on systemd (user units; system units are reported, never changed).
pub(crate) struct SystemdDoctor;

impl PlatformDoctor for SystemdDoctor {
    fn keep_installed(&self, spec: &mut ServiceSpec) {
        let unit = units::unit_dir(spec).join(spec.names.systemd_service_file());
        // Keep an operator's choice of no socket activation in a unit our installer wrote.
        if let Ok(text) = std::fs::read_to_string(&unit) {
            let socket = units::unit_dir(spec).join(spec.names.systemd_socket_file());
            if audit::written_by_us(&text)
                && !socket.exists()
                && !text.contains(&format!("Requires={}", spec.names.systemd_socket_file()))
            {
                spec.socket_activation = false;
            }
        }
        let env = std::fs::read_to_string(units::env_file(spec)).ok();
        spec.secret_environment = repair::kept_env_file_entries(env.as_deref(), None);
    }

    fn installed_profiles(&self, home: &Path) -> Vec<String> {
        let units = home.join(".config/systemd/user");
        let ours = [Treatment::RecognisedProfileService];
        profiles_named_in(&units, PlatformKind::Linux, "", &ours)
    }

    fn discover(&self, roots: &DiscoveryRoots) -> Vec<DiscoveredService> {
        let mut found = discover_systemd(roots, true);
        found.extend(discover_launchd(roots, true));
        found
    }

    fn audit_definition(&self, input: &DefinitionAudit<'_>) -> Vec<Item> {
        let sup = input.ctx.sup;
        let unit_dir = units::unit_dir(input.spec);
        let service = input.spec.names.systemd_service_file();
        let unit_path = unit_dir.join(&service);
        let Ok(installed) = std::fs::read_to_string(&unit_path) else {
            // A distribution package's unit of ours (/usr/lib/systemd/...) is the service then:
            // doctor names it and leaves package files alone.
            let paths = &input.target.invocation.paths;
            let root = DiscoveryRoots::from_env(&paths.home, &input.target.invocation.env).root;
            if let Some(packaged) = packaged::packaged_unit(&root, &input.spec.scope, &service) {
                return vec![(
                    packaged_unit_in_use(input.target, input.spec, &packaged),
                    None,
                )];
            }
            return not_installed(
                input.target,
                input.ctx,
                &format!("{} is missing", unit_path.display()),
            );
        };
        let socket =
            std::fs::read_to_string(unit_dir.join(input.spec.names.systemd_socket_file())).ok();
        let mut out = audit::audit_unit(&audit::UnitAuditInput {
            profile: &input.target.label,
            spec: input.spec,
            plan: input.plan,
            installed: &installed,
            socket: socket.as_deref(),
            dropins: &dropins(&unit_dir.join(format!("{service}.d"))),
            config_token: input.config_token,
            best_sandbox: units::best_level(input.spec, &units::SystemdFeatures::detect()),
        });
        // Releasing the running-unit rule is for a definition of another release (an old install
        // with inline secrets); a unit of this release whose command merely differs stays held.
        let rewrite = if audit::written_by_us(&installed) {
            runtime::RunningRewrite::Hold
        } else {
            input.ctx.running_rewrite
        };
        runtime::audit_running_state(
            &mut out,
            input.target,
            input.spec,
            sup,
            audit::command_differs(&installed, input.plan),
            rewrite,
        );
        // Linger matters once a user unit is installed (input.spec §2.8); one finding for all profiles
        // (see `audit_all`).
        let (user, state) = sup.read_linger();
        out.extend(linger::audit(&user, &state));
        out
    }

    fn not_loaded(&self, _: &Target, _: &ServiceSpec, _: &SupervisorStatus) -> Option<Vec<Item>> {
        None
    }

    fn reinstall(&self, target: &Target, _sup: &Supervisor) -> Result<Vec<String>, String> {
        repair::reinstall(target)
    }

    fn describe_reinstall(&self, target: &Target, plan: &Plan) -> Vec<String> {
        repair::describe_reinstall(target, plan)
    }

    fn move_secrets_in_place(&self, target: &Target) -> Result<Vec<String>, String> {
        repair::move_unit_secrets(target)
    }

    fn runtime_plan_lines(
        &self,
        action: &Action,
        spec: &ServiceSpec,
        _: &Supervisor,
    ) -> Vec<String> {
        let service = spec.names.systemd_service_file();
        let socket = spec.names.systemd_socket_file();
        let (verb, method, how) = if matches!(action, Action::RestartService { .. }) {
            ("restart", "RestartUnit", "`openclaw gateway restart`")
        } else {
            ("start", "StartUnit", "`openclaw gateway start`")
        };
        vec![
            format!("systemctl --user reset-failed {service}    (D-Bus ResetFailedUnit)"),
            format!(
                "systemctl --user start {socket}    (D-Bus StartUnit, when the socket is installed)"
            ),
            format!(
                "systemctl --user {verb} {service}    (D-Bus {method}), then wait for READY=1; as {how}"
            ),
        ]
    }
}

/// The `*.conf` drop-ins of a unit (path and text), sorted.
fn dropins(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}
