//! Auditing one profile: its config and state files, its service definition (unit, LaunchAgent
//! or scheduled task) and the service at runtime, into findings with their repairs.

use crate::invocation::Invocation;
use crate::service::PlatformKind;
use crate::service::discovery::{DiscoveryRoots, DiscoveryScope, ServiceClass};
use crate::service::plan::Plan;
use crate::service::spec::ServiceSpec;

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
pub(crate) struct AuditContext<'a> {
    pub(super) sup: &'a Supervisor,
    /// What happens to a rewrite of a running service of another release.
    pub(super) running_rewrite: runtime::RunningRewrite,
    /// System-level OpenClaw gateway services (Linux), as `label (detail)`: doctor never installs
    /// a user unit next to one.
    pub(super) system_services: Vec<String>,
}

/// What the audit of one installed definition reads.
#[derive(Clone, Copy)]
pub(crate) struct DefinitionAudit<'a> {
    /// The profile.
    pub(crate) target: &'a Target,
    /// The service `gateway install` would write now.
    pub(crate) spec: &'a ServiceSpec,
    /// Its install plan.
    pub(crate) plan: &'a Plan,
    /// What the audit of every profile shares.
    pub(crate) ctx: &'a AuditContext<'a>,
    /// The config's plaintext token, if any (a definition must not repeat it inline).
    pub(crate) config_token: Option<&'a str>,
}

/// Audits one profile.
pub(super) fn audit_target(target: &Target, ctx: &AuditContext<'_>) -> Vec<Item> {
    let sup = ctx.sup;
    let paths = &target.invocation.paths;
    let mut out: Vec<Item> =
        file_audit::audit_config(&target.config, &paths.config_path, &target.label);
    out.extend(file_audit::audit_state_dir(&paths.state_dir, &target.label));
    out.extend(super::hooks_audit::audit_hooks(
        &target.config,
        &target.invocation.env,
        &paths.token_file(),
        &paths.config_path,
        &target.label,
    ));
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
    out.extend(sup.doctor().audit_definition(&DefinitionAudit {
        target,
        spec,
        plan: &plan,
        ctx,
        config_token: config_token.as_deref(),
    }));
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
pub(super) fn not_installed(target: &Target, ctx: &AuditContext<'_>, why: &str) -> Vec<Item> {
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

/// Everything doctor finds.
pub(crate) fn audit_all(
    invocation: &Invocation,
    targets: &[Target],
    sup: &Supervisor,
    running_rewrite: runtime::RunningRewrite,
) -> Vec<Item> {
    let roots = DiscoveryRoots::from_env(&invocation.paths.home, &invocation.env);
    let services = sup.doctor().discover(&roots);
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
