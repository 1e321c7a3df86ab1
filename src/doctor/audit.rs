//! Auditing one profile: its config and state files, its service definition (unit, LaunchAgent
//! or scheduled task) and the service at runtime, into findings with their repairs.

use std::path::PathBuf;

use crate::invocation::Invocation;
use crate::service::PlatformKind;
use crate::service::discovery::{
    DiscoveryRoots, DiscoveryScope, ServiceClass, discover_launchd, discover_systemd,
};
use crate::service::launchd::LaunchdPaths;
use crate::service::launchd::homebrew;
use crate::service::plan::Plan;
use crate::service::spec::ServiceSpec;
use crate::service::systemd::packaged;
use crate::service::systemd::units;

use super::file_audit::Item;
use super::findings::{Finding, RepairKind, Severity};
use super::supervisor::Supervisor;

use super::*;

pub(super) fn profile_finding(f: Finding, target: &Target) -> Finding {
    if f.profile.is_some() {
        f
    } else {
        f.profile(&target.label)
    }
}

/// What the audit of one profile needs besides the profile.
pub(super) struct AuditContext<'a> {
    pub(super) sup: &'a Supervisor,
    /// What happens to a rewrite of a running service of another release.
    pub(super) running_rewrite: runtime::RunningRewrite,
    /// System-level OpenClaw gateway services (Linux), as `label (detail)`: doctor never installs
    /// a user unit next to one.
    pub(super) system_services: Vec<String>,
}

/// Audits one profile.
pub(super) fn audit_target(target: &Target, ctx: &AuditContext<'_>) -> Vec<Item> {
    let sup = ctx.sup;
    let paths = &target.invocation.paths;
    let mut out: Vec<Item> =
        file_audit::audit_config(&target.config, &paths.config_path, &target.label);
    out.extend(file_audit::audit_state_dir(&paths.state_dir, &target.label));
    out.extend(file_audit::audit_private_file(
        &paths.systemd_env_file(),
        "systemd env file",
        &target.label,
    ));
    out.extend(file_audit::audit_private_file(
        &paths.token_file(),
        "token file",
        &target.label,
    ));
    let (Some(spec), Some(plan)) = (&target.spec, target.plan(sup)) else {
        return out;
    };
    let config_token = target.config.as_ref().ok().and_then(|c| {
        c.config
            .auth()
            .and_then(|a| a.token.as_ref())
            .and_then(|t| t.plain().map(str::to_owned))
    });
    match sup.platform {
        PlatformKind::Linux => {}
        PlatformKind::Macos => {
            out.extend(audit_launch_agent(
                target,
                spec,
                &plan,
                ctx,
                config_token.as_deref(),
            ));
            return out;
        }
        PlatformKind::Windows => {
            out.extend(audit_scheduled_task(
                target,
                spec,
                &plan,
                ctx,
                config_token.as_deref(),
            ));
            return out;
        }
    }
    let unit_dir = units::unit_dir(spec);
    let service = spec.names.systemd_service_file();
    let unit_path = unit_dir.join(&service);
    let Ok(installed) = std::fs::read_to_string(&unit_path) else {
        // A distribution package's unit of ours (/usr/lib/systemd/...) is the service then:
        // doctor names it and leaves package files alone.
        let root = DiscoveryRoots::from_env(&paths.home, &target.invocation.env).root;
        if let Some(packaged) = packaged::packaged_unit(&root, &spec.scope, &service) {
            out.push((packaged_unit_in_use(target, spec, &packaged), None));
            return out;
        }
        if paths.state_dir.exists() {
            out.push(runtime::not_installed(
                target,
                sup,
                &format!("{} is missing", unit_path.display()),
                &ctx.system_services,
            ));
        }
        return out;
    };
    let socket = std::fs::read_to_string(unit_dir.join(spec.names.systemd_socket_file())).ok();
    let mut dropins: Vec<(PathBuf, String)> =
        std::fs::read_dir(unit_dir.join(format!("{service}.d")))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                    .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
                    .collect()
            })
            .unwrap_or_default();
    dropins.sort();
    out.extend(systemd::audit::audit_unit(
        &systemd::audit::UnitAuditInput {
            profile: &target.label,
            spec,
            plan: &plan,
            installed: &installed,
            socket: socket.as_deref(),
            dropins: &dropins,
            config_token: config_token.as_deref(),
            best_sandbox: crate::service::systemd::units::best_level(
                spec,
                &crate::service::systemd::units::SystemdFeatures::detect(),
            ),
        },
    ));
    // Releasing the running-unit rule is for a definition of another release (an old install
    // with inline secrets); a unit of this release whose command merely differs stays held.
    let rewrite = if systemd::audit::written_by_us(&installed) {
        runtime::RunningRewrite::Hold
    } else {
        ctx.running_rewrite
    };
    runtime::audit_running_state(
        &mut out,
        target,
        spec,
        sup,
        systemd::audit::command_differs(&installed, &plan),
        rewrite,
    );
    // Linger matters once a user unit is installed (spec §2.8); one finding for all profiles
    // (see `audit_all`).
    let (user, state) = sup.read_linger();
    out.extend(linger::audit(&user, &state));
    out.into_iter()
        .map(|(f, a)| (profile_finding(f, target), a))
        .collect()
}

/// The note for a profile served by a distribution package's unit (no unit of its own).
pub(super) fn packaged_unit_in_use(
    target: &Target,
    spec: &ServiceSpec,
    packaged: &std::path::Path,
) -> Finding {
    let socket = spec.names.systemd_socket_file();
    Finding::new(
        "service-packaged-unit",
        Severity::Info,
        format!(
            "The gateway service is the packaged unit {} (installed by a package; doctor does not \
             change package files).",
            packaged.display()
        ),
        format!(
            "systemctl --user enable --now {socket} to run it; `openclaw gateway install` writes a \
             per-user unit that overrides it"
        ),
        RepairKind::None,
    )
    .profile(&target.label)
    .path(packaged)
}

/// A profile whose service definition is missing (`why`): the not-installed finding when the
/// profile has a state dir (it was set up), nothing otherwise.
fn not_installed(target: &Target, ctx: &AuditContext<'_>, why: &str) -> Vec<Item> {
    if target.invocation.paths.state_dir.exists() {
        vec![runtime::not_installed(
            target,
            ctx.sup,
            why,
            &ctx.system_services,
        )]
    } else {
        Vec::new()
    }
}

/// The launchd part of [`audit_target`].
pub(super) fn audit_launch_agent(
    target: &Target,
    spec: &ServiceSpec,
    plan: &Plan,
    ctx: &AuditContext<'_>,
    config_token: Option<&str>,
) -> Vec<Item> {
    let sup = ctx.sup;
    let paths = LaunchdPaths::for_spec(spec);
    let plist = paths.plist;
    // Our Homebrew formula's job (`brew services start openclaw`) for this profile or port.
    let root = DiscoveryRoots::from_env(&target.invocation.paths.home, &target.invocation.env).root;
    let homebrew = homebrew::conflicting_agents(&paths.launch_agents_dir, Some(&root), spec);
    let Some((dict, _, env)) = launchd::repair::read_plist(&plist) else {
        if let Some(agent) = homebrew.first() {
            return vec![(
                launchd::audit::homebrew_agent_in_use(&target.label, agent),
                None,
            )];
        }
        return not_installed(target, ctx, &format!("{} is missing", plist.display()));
    };
    let mut out = launchd::audit::audit_plist(&launchd::audit::LaunchdAuditInput {
        profile: &target.label,
        spec,
        plan,
        plist_path: &plist,
        installed: &dict,
        env_file: env.as_deref(),
        plist_mode: crate::atomic_write::file_mode(&plist),
        config_token,
    });
    runtime::audit_running_state(
        &mut out,
        target,
        spec,
        sup,
        launchd::audit::command_differs(&dict, plan),
        runtime::RunningRewrite::Hold,
    );
    out.extend(homebrew.iter().map(|agent| {
        (
            launchd::audit::homebrew_duplicate(
                &target.label,
                &plist,
                &spec.names.launchd_label,
                agent,
            ),
            None,
        )
    }));
    out
}

/// The Task Scheduler part of [`audit_target`].
pub(super) fn audit_scheduled_task(
    target: &Target,
    spec: &ServiceSpec,
    plan: &Plan,
    ctx: &AuditContext<'_>,
    config_token: Option<&str>,
) -> Vec<Item> {
    let sup = ctx.sup;
    let name = &spec.names.windows_task;
    let mut runner = sup.runner();
    let registered =
        match crate::service::windows::schtasks::Schtasks::new(runner.as_mut()).query_xml(name) {
            Ok(r) => r,
            Err(e) => {
                return vec![(
                    Finding::new(
                        "service-status-unknown",
                        Severity::Warning,
                        format!("Cannot read scheduled task \"{name}\": {}", e.message),
                        "Run doctor again from the account that owns the task",
                        RepairKind::Manual,
                    )
                    .profile(&target.label),
                    None,
                )];
            }
        };
    let record_path = crate::service::windows::task_file(spec);
    let record = std::fs::read(&record_path).ok();
    let script_path = windows::repair::task_script(spec);
    let script = std::fs::read_to_string(&script_path).ok();
    if registered.is_none() && record.is_none() && script.is_none() {
        return not_installed(
            target,
            ctx,
            &format!("scheduled task \"{name}\" is not registered"),
        );
    }
    let mut out = windows::audit::audit_task(&windows::audit::TaskAuditInput {
        profile: &target.label,
        spec,
        plan,
        registered: registered.as_ref(),
        record: record.as_deref(),
        script: script.as_deref().map(|t| {
            (
                script_path.as_path(),
                t,
                crate::atomic_write::file_mode(&script_path),
            )
        }),
        config_token,
    });
    runtime::audit_running_state(
        &mut out,
        target,
        spec,
        sup,
        registered
            .as_ref()
            .is_some_and(|r| windows::audit::command_differs(r, plan)),
        runtime::RunningRewrite::Hold,
    );
    out
}

/// Everything doctor finds.
pub(crate) fn audit_all(
    invocation: &Invocation,
    targets: &[Target],
    sup: &Supervisor,
    running_rewrite: runtime::RunningRewrite,
) -> Vec<Item> {
    let roots = DiscoveryRoots::from_env(&invocation.paths.home, &invocation.env);
    let mut services = if sup.platform == PlatformKind::Linux {
        discover_systemd(&roots, true)
    } else {
        Vec::new()
    };
    services.extend(discover_launchd(&roots, true));
    let ctx = AuditContext {
        sup,
        running_rewrite,
        system_services: services
            .iter()
            .filter(|s| {
                s.platform == PlatformKind::Linux
                    && s.scope == DiscoveryScope::System
                    && !matches!(s.class, ServiceClass::NodeCompanion)
            })
            .map(|s| format!("{} ({})", s.label, s.detail))
            .collect(),
    };
    let mut out: Vec<Item> = Vec::new();
    let mut linger_seen = false;
    for t in targets {
        for (f, a) in audit_target(t, &ctx) {
            if f.id.starts_with("linger-") {
                if linger_seen {
                    continue;
                }
                linger_seen = true;
            }
            out.push((f, a));
        }
    }
    let unit_dir = invocation.paths.home.join(".config/systemd/user");
    out.extend(file_audit::audit_unit_dir(&unit_dir));
    out.extend(legacy::other_services(
        &services,
        &invocation.paths.home,
        sup,
    ));
    out.extend(legacy::duplicate_ports(&services));
    if let Some(why) = runtime::external_policy(&invocation.env) {
        runtime::apply_external_policy(&mut out, why);
    }
    out
}
