//! `openclaw doctor`: audit every profile's service, secrets, config and state dir, find legacy
//! services and duplicate ports, and (with `--fix`) repair what can be repaired safely.
//!
//! Flow: find the profiles (`--profile`/`OPENCLAW_PROFILE`, else every `~/.openclaw[-<p>]` state
//! dir, installed `openclaw-gateway[-<p>].service` and, on macOS, `bot.molt.<p>` /
//! `ai.openclaw.<p>` LaunchAgent) → audit each into findings, each with the
//! [`repair::Action`] that fixes it → print (text, or `--json` as `schemas/doctor.schema.json`)
//! → with `--fix`: one decision per action ([`consent`]), run it, audit again and print what is
//! left. `--fix --dry-run` prints the repair plan instead. Exit 0 when no error or warning is
//! left, 1 otherwise, 2 for usage errors. System units and LaunchDaemons are never touched.
//!
//! Besides the definition, doctor checks the service at runtime ([`runtime`], spec §6.4): the
//! supervisor's view (as `gateway status` computes it) and the same connectivity probe; a
//! service that is installed but not loaded, not running, running without answering, or not
//! installed gets its repair (bootstrap, start, restart, install; the last two only after a yes
//! on a terminal). A running service whose command would change is not rewritten (§6.3), and
//! `OPENCLAW_SERVICE_REPAIR_POLICY=external` turns every repair of the service into advice.
//!
//! The service audit and repair follow the [`supervisor::Supervisor`]: systemd units
//! ([`service_audit`], [`service_repair`]), the LaunchAgent ([`launchd_audit`],
//! [`launchd_repair`], which also migrates `ai.openclaw.*` agents) or the scheduled task
//! ([`windows_audit`], [`windows_repair`]). [`run`] uses the host's; [`run_with`] takes one, which
//! is how the launchd and Windows paths are tested from Linux against the fakes.

pub mod consent;
pub mod file_audit;
pub mod findings;
pub mod launchd_audit;
pub mod launchd_repair;
pub mod legacy;
pub mod linger;
#[cfg(test)]
mod platform_tests;
pub mod repair;
pub mod runtime;
pub mod service_audit;
pub mod service_repair;
pub mod supervisor;
pub mod unit_migration;
pub mod windows_audit;
pub mod windows_repair;

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use serde_json::json;

use crate::config::LoadedConfig;
use crate::invocation::{GlobalOptions, Invocation, InvocationError};
use crate::profile::{Profile, ProfileSource};
use crate::service::PlatformKind;
use crate::service::ServiceManager;
use crate::service::discovery::{
    DiscoveryRoots, DiscoveryScope, ServiceClass, discover_launchd, discover_systemd,
};
use crate::service::launchd::LaunchdPaths;
use crate::service::launchd::homebrew;
use crate::service::plan::Plan;
use crate::service::spec::{ServiceSpec, SpecOptions};
use crate::service::systemd::SystemdBackend;
use crate::service::systemd::packaged;
use crate::service::systemd::units;
use crate::service_names::{Platform, Treatment, classify_service_name};

use self::consent::{Consent, Decision};
use self::file_audit::Item;
use self::findings::{Finding, RepairKind, Severity};
use self::repair::Action;
use self::supervisor::Supervisor;

/// One profile to audit.
#[derive(Debug, Clone)]
pub struct Target {
    /// `default` or the profile name.
    pub label: String,
    /// The invocation of that profile.
    pub invocation: Invocation,
    /// Its config, or why it cannot be read.
    pub config: Result<LoadedConfig, String>,
    /// The service `gateway install` would write now (none when the config is unusable).
    pub spec: Option<ServiceSpec>,
}

impl Target {
    fn new(label: String, invocation: Invocation, sup: &Supervisor) -> Self {
        let config = LoadedConfig::load(&invocation.paths.config_path, &invocation.env)
            .map_err(|e| e.to_string());
        let spec = config.as_ref().ok().and_then(|c| {
            let mut spec = ServiceSpec::build(&invocation, c, &SpecOptions::default()).ok()?;
            match sup.platform {
                PlatformKind::Linux => {}
                PlatformKind::Macos => {
                    // Keep what a reinstall keeps: the operator's settings in the plist and the
                    // secrets the backend handed over in 0600 files.
                    let plist = LaunchdPaths::for_spec(&spec).plist;
                    for (k, v) in launchd_repair::carried_environment(&plist) {
                        spec.environment.retain(|(key, _)| key != &k);
                        spec.environment.push((k, v));
                    }
                    spec.secret_environment = launchd_repair::handed_over_secrets(&spec);
                    return Some(spec);
                }
                PlatformKind::Windows => {
                    spec.secret_environment = windows_repair::handed_over_secrets(&spec);
                    return Some(spec);
                }
            }
            let unit = units::unit_dir(&spec).join(spec.names.systemd_service_file());
            // Keep an operator's choice of no socket activation in a unit our installer wrote.
            if let Ok(text) = std::fs::read_to_string(&unit) {
                let socket = units::unit_dir(&spec).join(spec.names.systemd_socket_file());
                if service_audit::written_by_us(&text)
                    && !socket.exists()
                    && !text.contains(&format!("Requires={}", spec.names.systemd_socket_file()))
                {
                    spec.socket_activation = false;
                }
            }
            let env = std::fs::read_to_string(units::env_file(&spec)).ok();
            spec.secret_environment = service_repair::kept_env_file_entries(env.as_deref(), None);
            Some(spec)
        });
        Self {
            label,
            invocation,
            config,
            spec,
        }
    }

    fn plan(&self, sup: &Supervisor) -> Option<Plan> {
        let spec = self.spec.as_ref()?;
        match sup.platform {
            // The backend's plan: the installed unit's sandbox level (the one install's probe
            // chose), not the host's best, so a unit at a fallback level is not drift.
            PlatformKind::Linux => SystemdBackend::new(self.invocation.env.clone())
                .plan_install(spec)
                .ok(),
            PlatformKind::Macos => sup.launchd().plan_install(spec).ok(),
            PlatformKind::Windows => sup.windows().plan_install(spec).ok(),
        }
    }
}

/// The profiles to audit.
fn targets(invocation: &Invocation, sup: &Supervisor) -> Result<Vec<Target>, InvocationError> {
    let explicit = invocation.profile.source != ProfileSource::Default
        || !invocation.paths.is_canonical_state_dir();
    if explicit {
        return Ok(vec![Target::new(
            invocation.profile.profile.to_string(),
            invocation.clone(),
            sup,
        )]);
    }
    let home = &invocation.paths.home;
    let mut names: BTreeMap<String, Option<String>> = BTreeMap::new();
    names.insert("default".into(), None);
    if let Ok(entries) = std::fs::read_dir(home) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(p) = name.strip_prefix(".openclaw-") {
                if e.path().is_dir() {
                    if let Ok(Profile::Named(p)) = Profile::parse(p) {
                        names.insert(p.clone(), Some(p));
                    }
                }
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(home.join(".config/systemd/user")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(m) = classify_service_name(Platform::Systemd, &name) {
                if m.entry.treatment == Treatment::RecognisedProfileService {
                    if let Some(p) = m.profile {
                        names.insert(p.clone(), Some(p));
                    }
                }
            }
        }
    }
    if sup.platform == PlatformKind::Macos {
        // Our LaunchAgents and other releases' `ai.openclaw.<p>` name profiles too.
        if let Ok(entries) = std::fs::read_dir(home.join("Library/LaunchAgents")) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(label) = name.strip_suffix(".plist") else {
                    continue;
                };
                if let Some(m) = classify_service_name(Platform::Launchd, label) {
                    if matches!(
                        m.entry.treatment,
                        Treatment::RecognisedProfileService | Treatment::OtherReleaseGateway
                    ) {
                        if let Some(p) = m.profile {
                            names.insert(p.clone(), Some(p));
                        }
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (label, profile) in names {
        let options = GlobalOptions {
            profile,
            ..GlobalOptions::default()
        };
        let inv = Invocation::resolve(&options, invocation.env.clone(), false)?;
        out.push(Target::new(label, inv, sup));
    }
    Ok(out)
}

fn profile_finding(f: Finding, target: &Target) -> Finding {
    if f.profile.is_some() {
        f
    } else {
        f.profile(&target.label)
    }
}

/// What the audit of one profile needs besides the profile.
struct AuditContext<'a> {
    sup: &'a Supervisor,
    /// What happens to a rewrite of a running service of another release.
    running_rewrite: runtime::RunningRewrite,
    /// System-level OpenClaw gateway services (Linux), as `label (detail)`: doctor never installs
    /// a user unit next to one.
    system_services: Vec<String>,
}

/// Audits one profile.
fn audit_target(target: &Target, ctx: &AuditContext<'_>) -> Vec<Item> {
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
    out.extend(service_audit::audit_unit(&service_audit::UnitAuditInput {
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
    }));
    // Releasing the running-unit rule is for a definition of another release (an old install
    // with inline secrets); a unit of this release whose command merely differs stays held.
    let rewrite = if service_audit::written_by_us(&installed) {
        runtime::RunningRewrite::Hold
    } else {
        ctx.running_rewrite
    };
    runtime::audit_running_state(
        &mut out,
        target,
        spec,
        sup,
        service_audit::command_differs(&installed, &plan),
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
fn packaged_unit_in_use(
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

/// The launchd part of [`audit_target`].
fn audit_launch_agent(
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
    let Some((dict, _, env)) = launchd_repair::read_plist(&plist) else {
        if let Some(agent) = homebrew.first() {
            return vec![(
                launchd_audit::homebrew_agent_in_use(&target.label, agent),
                None,
            )];
        }
        if target.invocation.paths.state_dir.exists() {
            return vec![runtime::not_installed(
                target,
                sup,
                &format!("{} is missing", plist.display()),
                &ctx.system_services,
            )];
        }
        return Vec::new();
    };
    let mut out = launchd_audit::audit_plist(&launchd_audit::LaunchdAuditInput {
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
        launchd_audit::command_differs(&dict, plan),
        runtime::RunningRewrite::Hold,
    );
    out.extend(homebrew.iter().map(|agent| {
        (
            launchd_audit::homebrew_duplicate(
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
fn audit_scheduled_task(
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
    let script_path = windows_repair::task_script(spec);
    let script = std::fs::read_to_string(&script_path).ok();
    if registered.is_none() && record.is_none() && script.is_none() {
        if target.invocation.paths.state_dir.exists() {
            return vec![runtime::not_installed(
                target,
                sup,
                &format!("scheduled task \"{name}\" is not registered"),
                &ctx.system_services,
            )];
        }
        return Vec::new();
    }
    let mut out = windows_audit::audit_task(&windows_audit::TaskAuditInput {
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
            .is_some_and(|r| windows_audit::command_differs(r, plan)),
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

/// The distinct actions with the findings they repair, in first-seen order.
fn group(items: &[Item]) -> Vec<(Action, Vec<&Finding>)> {
    let mut out: Vec<(Action, Vec<&Finding>)> = Vec::new();
    for (f, a) in items {
        let Some(a) = a else { continue };
        if matches!(f.repair, RepairKind::Manual | RepairKind::None) {
            continue;
        }
        match out.iter_mut().find(|(x, _)| x == a) {
            Some((_, fs)) => fs.push(f),
            None => out.push((a.clone(), vec![f])),
        }
    }
    out
}

fn report_json(targets: &[Target], items: &[Item]) -> serde_json::Value {
    let findings: Vec<&Finding> = items.iter().map(|(f, _)| f).collect();
    let repairs: Vec<serde_json::Value> = group(items)
        .iter()
        .map(|(a, fs)| {
            json!({
                "summary": a.summary(),
                "kind": a.kind(fs).as_str(),
                "findings": fs.iter().map(|f| f.id).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "ok": !findings.iter().any(|f| f.counts()),
        "profiles": targets.iter().map(|t| t.label.clone()).collect::<Vec<_>>(),
        "findings": findings,
        "repairs": repairs,
    })
}

fn out(text: &str) {
    let _ = write!(io::stdout().lock(), "{text}");
}

fn outcome_of(items: &[Item]) -> Outcome {
    if items.iter().any(|(f, _)| f.counts()) {
        Outcome::FindingsLeft
    } else {
        Outcome::Clean
    }
}

fn find_target<'a>(targets: &'a [Target], label: &str) -> Option<&'a Target> {
    targets.iter().find(|t| t.label == label)
}

/// The target of `label` read again from disk: an earlier repair may have changed its config.
fn fresh_target(targets: &[Target], label: &str, sup: &Supervisor) -> Result<Target, String> {
    let t = find_target(targets, label).ok_or_else(|| format!("unknown profile {label}"))?;
    Ok(Target::new(t.label.clone(), t.invocation.clone(), sup))
}

fn execute(action: &Action, targets: &[Target], sup: &Supervisor) -> Result<Vec<String>, String> {
    match action {
        Action::Reinstall { profile } => {
            let target = fresh_target(targets, profile, sup)?;
            match sup.platform {
                PlatformKind::Linux => service_repair::reinstall(&target),
                PlatformKind::Macos => launchd_repair::reinstall(&target, sup),
                PlatformKind::Windows => windows_repair::reinstall(&target, sup),
            }
        }
        Action::MoveUnitSecrets { profile } => {
            let target = fresh_target(targets, profile, sup)?;
            match sup.platform {
                PlatformKind::Linux => service_repair::move_unit_secrets(&target),
                _ => Err("moving inline secrets in place is done for systemd units only".into()),
            }
        }
        Action::MigrateLaunchAgent {
            profile,
            label,
            plist,
        } => launchd_repair::migrate(&fresh_target(targets, profile, sup)?, sup, label, plist),
        Action::Chmod { path, mode } => repair::chmod(path, *mode)
            .map(|()| vec![format!("Set mode {mode:04o} on {}", path.display())])
            .map_err(|e| format!("{}: {e}", path.display())),
        Action::StripBackup { path } => repair::strip_backup(path)
            .map(|()| {
                vec![format!(
                    "Rewrote {} without secrets (mode 0600)",
                    path.display()
                )]
            })
            .map_err(|e| format!("{}: {e}", path.display())),
        Action::ConfigBind { profile, mode, .. } => {
            let t = fresh_target(targets, profile, sup)?;
            let mut config = t.config.clone()?;
            config
                .set("gateway.bind", serde_json::Value::String(mode.clone()))
                .map_err(|e| e.to_string())?;
            config.write(&t.invocation.env).map_err(|e| e.to_string())?;
            Ok(vec![format!(
                "Set gateway.bind to \"{mode}\" in {}",
                config.path.display()
            )])
        }
        Action::RemoveLegacyUnit { unit, path } => {
            let t = targets.first().ok_or("no profile")?;
            service_repair::remove_legacy_unit(t, unit, path)
        }
        Action::StartService { profile }
        | Action::RestartService { profile }
        | Action::InstallService { profile }
        | Action::BootstrapLaunchAgent { profile } => {
            runtime::execute(action, &fresh_target(targets, profile, sup)?, sup)
        }
        Action::EnableLinger { user } => sup.enable_linger(user),
        Action::TrashLaunchAgent {
            label,
            plist,
            domain,
            trash,
        } => {
            if sup.platform != PlatformKind::Macos {
                return Err(
                    "launchd repairs run on macOS only (the plan is shown by --fix --dry-run)"
                        .into(),
                );
            }
            let mut runner = sup.runner();
            repair::trash_launch_agent(runner.as_mut(), label, plist, domain, trash)
                .map(|dest| vec![format!("Moved LaunchAgent to Trash: {}", dest.display())])
        }
    }
}

/// What `openclaw doctor` was asked to do (the CLI's flags, as plain options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoctorOptions {
    /// Apply the repairs (`--fix`).
    pub fix: bool,
    /// Assume yes (`--yes`; implies `fix`).
    pub yes: bool,
    /// Never prompt (`--non-interactive`).
    pub non_interactive: bool,
    /// Also apply aggressive repairs (`--force`).
    pub force: bool,
    /// Print the repair plan, change nothing (`--dry-run`, with `fix`).
    pub dry_run: bool,
    /// Allow touching system units (`--system`; reported only today).
    pub system: bool,
    /// One JSON report (`--json`; read-only).
    pub json: bool,
}

/// How a doctor run ended; the CLI turns it into the exit code (0 / 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No error or warning is left.
    Clean,
    /// Some finding that counts (error or warning) is left.
    FindingsLeft,
}

/// Why doctor did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoctorError {
    /// The options contradict each other; the message says which to use.
    #[error("{0}")]
    Usage(&'static str),
    /// A profile's context could not be resolved.
    #[error(transparent)]
    Invocation(#[from] InvocationError),
}

/// `openclaw doctor`, on the host's service manager.
pub fn run(invocation: &Invocation, opts: &DoctorOptions) -> Result<Outcome, DoctorError> {
    run_with(invocation, opts, &Supervisor::host(&invocation.env))
}

/// `openclaw doctor` on `sup` (tests: launchd or Task Scheduler through the fakes).
pub fn run_with(
    invocation: &Invocation,
    opts: &DoctorOptions,
    sup: &Supervisor,
) -> Result<Outcome, DoctorError> {
    // `--yes` accepts the defaults and so enters repair (spec §6.1: shouldRepair = fix || yes).
    let fix = opts.fix || opts.yes;
    if opts.json && fix && !opts.dry_run {
        return Err(DoctorError::Usage(
            "--json is read-only advice: use it without --fix, or with --fix --dry-run",
        ));
    }
    if opts.dry_run && !fix {
        return Err(DoctorError::Usage(
            "--dry-run shows the repair plan: add --fix",
        ));
    }
    let targets = targets(invocation, sup)?;
    let non_interactive = opts.non_interactive || !io::stdin().is_terminal();
    let running_rewrite = if !fix || opts.non_interactive {
        runtime::RunningRewrite::Hold
    } else if opts.yes {
        runtime::RunningRewrite::Release
    } else if non_interactive {
        runtime::RunningRewrite::Hold
    } else {
        runtime::RunningRewrite::Ask
    };
    let items = audit_all(invocation, &targets, sup, running_rewrite);
    if opts.json {
        let mut v = report_json(&targets, &items);
        if opts.dry_run {
            v["dryRun"] = json!(true);
        }
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
        return Ok(outcome_of(&items));
    }
    let findings: Vec<Finding> = items.iter().map(|(f, _)| f.clone()).collect();
    out(&findings::render_text(&findings));
    if !fix {
        if group(&items).iter().any(|_| true) {
            out("Run `openclaw doctor --fix` to repair (add --dry-run to see the plan first).\n");
        }
        return Ok(outcome_of(&items));
    }
    let groups = group(&items);
    if groups.is_empty() {
        return Ok(outcome_of(&items));
    }
    if opts.dry_run {
        print_repair_plan(&groups, &targets, sup);
        return Ok(outcome_of(&items));
    }
    let consent = Consent {
        yes: opts.yes,
        non_interactive,
        force: opts.force,
    };
    apply_repairs(&groups, &consent, &targets, sup);
    let targets = self::targets(invocation, sup)?;
    let after = audit_all(invocation, &targets, sup, running_rewrite);
    let left: Vec<Finding> = after.iter().map(|(f, _)| f.clone()).collect();
    out("\nAfter repairs:\n");
    out(&findings::render_text(&left));
    Ok(outcome_of(&after))
}

/// `--fix --dry-run`: each repair with the findings it fixes and what it would do.
fn print_repair_plan(groups: &[(Action, Vec<&Finding>)], targets: &[Target], sup: &Supervisor) {
    out("\nRepair plan (nothing is changed):\n");
    for (i, (action, fs)) in groups.iter().enumerate() {
        let ids: Vec<&str> = fs.iter().map(|f| f.id).collect();
        out(&format!(
            "{}. {} [{}; fixes {}]\n",
            i + 1,
            action.summary(),
            action.kind(fs).as_str(),
            ids.join(", ")
        ));
        let lines = match action {
            Action::Reinstall { profile } => find_target(targets, profile)
                .and_then(|t| {
                    t.plan(sup).map(|p| match sup.platform {
                        PlatformKind::Linux => service_repair::describe_reinstall(t, &p),
                        _ => std::iter::once("back up the old definition 0600 under <state>/service-backup/ (token/password removed; they go into the config), then the install plan:".to_owned())
                            .chain(p.render_text().lines().map(|l| format!("    {l}")))
                            .collect(),
                    })
                })
                .unwrap_or_default(),
            Action::MigrateLaunchAgent {
                profile,
                label,
                plist,
            } => find_target(targets, profile)
                .map(|t| launchd_repair::describe_migration(t, sup, label, plist))
                .unwrap_or_else(|| vec![format!("profile {profile} has no usable config")]),
            Action::StartService { profile }
            | Action::RestartService { profile }
            | Action::InstallService { profile }
            | Action::BootstrapLaunchAgent { profile } => find_target(targets, profile)
                .map(|t| runtime::plan_lines(action, t, sup))
                .unwrap_or_else(|| vec![format!("profile {profile} has no usable config")]),
            other => other.plan_lines(),
        };
        for line in lines {
            out(&format!("   {line}\n"));
        }
    }
}

/// `--fix`: one decision per repair ([`Consent`]), then the repair; each result on its line.
fn apply_repairs(
    groups: &[(Action, Vec<&Finding>)],
    consent: &Consent,
    targets: &[Target],
    sup: &Supervisor,
) {
    out("\nRepairs:\n");
    for (action, fs) in groups {
        let summary = action.summary();
        let (question, default_yes) = action.question();
        match consent.decide(
            action.kind(fs),
            &question,
            default_yes,
            &mut consent::ask_terminal,
        ) {
            Decision::Apply => match execute(action, targets, sup) {
                Ok(lines) => {
                    out(&format!("- {summary}: done\n"));
                    for l in lines {
                        out(&format!("    {l}\n"));
                    }
                }
                Err(e) => out(&format!(
                    "- {summary}: FAILED: {}\n",
                    e.replace('\n', "\n    ")
                )),
            },
            Decision::Skip(why) => out(&format!("- {summary}: skipped ({why})\n")),
        }
    }
}
