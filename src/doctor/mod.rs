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
//! ([`systemd::audit`], [`systemd::repair`]), the LaunchAgent ([`launchd::audit`],
//! [`launchd::repair`], which also migrates `ai.openclaw.*` agents) or the scheduled task
//! ([`windows::audit`], [`windows::repair`]). [`run`] uses the host's; [`run_with`] takes one, which
//! is how the launchd and Windows paths are tested from Linux against the fakes.

mod audit;
pub mod consent;
pub mod file_audit;
pub mod findings;
pub mod hooks_audit;
pub mod launchd;
pub mod legacy;
pub mod linger;
mod platform;
#[cfg(test)]
mod platform_tests;
pub mod repair;
pub mod runtime;
pub mod supervisor;
pub mod systemd;
mod targets;
pub mod unit_migration;
pub mod windows;

use std::io::{self, IsTerminal, Write};

use serde_json::json;

use crate::invocation::{Invocation, InvocationError};

use self::consent::{Consent, Decision};
use self::file_audit::Item;
use self::findings::{Finding, RepairKind};
use self::repair::Action;
use self::supervisor::Supervisor;

use self::audit::audit_all;
pub use self::targets::Target;
use self::targets::{find_target, fresh_target, targets};

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

/// Writes report text; a closed output (`| head`) is not an error of the doctor's.
fn say(report: &mut dyn Write, text: &str) {
    let _ = report.write_all(text.as_bytes());
}

fn outcome_of(items: &[Item]) -> Outcome {
    if items.iter().any(|(f, _)| f.counts()) {
        Outcome::FindingsLeft
    } else {
        Outcome::Clean
    }
}

fn execute(action: &Action, targets: &[Target], sup: &Supervisor) -> Result<Vec<String>, String> {
    match action {
        Action::Reinstall { profile } => {
            let target = fresh_target(targets, profile, sup)?;
            sup.doctor().reinstall(&target, sup)
        }
        Action::MoveUnitSecrets { profile } => {
            let target = fresh_target(targets, profile, sup)?;
            sup.doctor().move_secrets_in_place(&target)
        }
        Action::MigrateLaunchAgent {
            profile,
            label,
            plist,
        } => launchd::repair::migrate(&fresh_target(targets, profile, sup)?, sup, label, plist),
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
            systemd::repair::remove_legacy_unit(t, unit, path)
        }
        Action::StartService { profile }
        | Action::RestartService { profile }
        | Action::InstallService { profile }
        | Action::BootstrapLaunchAgent { profile } => {
            runtime::execute(action, &fresh_target(targets, profile, sup)?, sup)
        }
        Action::EnableLinger { user } => sup.enable_linger(user),
        Action::TrashLaunchAgent { .. } => sup.doctor().trash_launch_agent(sup, action),
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
pub fn run(
    invocation: &Invocation,
    opts: &DoctorOptions,
    report: &mut dyn Write,
) -> Result<Outcome, DoctorError> {
    run_with(invocation, opts, &Supervisor::host(&invocation.env), report)
}

/// `openclaw doctor` on `sup` (tests: launchd or Task Scheduler through the fakes).
/// The report (text, or `--json`) goes to `report`; questions go to the terminal.
pub fn run_with(
    invocation: &Invocation,
    opts: &DoctorOptions,
    sup: &Supervisor,
    report: &mut dyn Write,
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
        say(
            report,
            &format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()),
        );
        return Ok(outcome_of(&items));
    }
    let findings: Vec<Finding> = items.iter().map(|(f, _)| f.clone()).collect();
    say(report, &findings::render_text(&findings));
    if !fix {
        if group(&items).iter().any(|_| true) {
            say(
                report,
                "Run `openclaw doctor --fix` to repair (add --dry-run to see the plan first).\n",
            );
        }
        return Ok(outcome_of(&items));
    }
    let groups = group(&items);
    if groups.is_empty() {
        return Ok(outcome_of(&items));
    }
    if opts.dry_run {
        print_repair_plan(report, &groups, &targets, sup);
        return Ok(outcome_of(&items));
    }
    let consent = Consent {
        yes: opts.yes,
        non_interactive,
        force: opts.force,
    };
    apply_repairs(report, &groups, &consent, &targets, sup);
    let targets = self::targets(invocation, sup)?;
    let after = audit_all(invocation, &targets, sup, running_rewrite);
    let left: Vec<Finding> = after.iter().map(|(f, _)| f.clone()).collect();
    say(report, "\nAfter repairs:\n");
    say(report, &findings::render_text(&left));
    Ok(outcome_of(&after))
}

/// `--fix --dry-run`: each repair with the findings it fixes and what it would do.
fn print_repair_plan(
    report: &mut dyn Write,
    groups: &[(Action, Vec<&Finding>)],
    targets: &[Target],
    sup: &Supervisor,
) {
    say(report, "\nRepair plan (nothing is changed):\n");
    for (i, (action, fs)) in groups.iter().enumerate() {
        let ids: Vec<&str> = fs.iter().map(|f| f.id).collect();
        say(
            report,
            &format!(
                "{}. {} [{}; fixes {}]\n",
                i + 1,
                action.summary(),
                action.kind(fs).as_str(),
                ids.join(", ")
            ),
        );
        let lines = match action {
            Action::Reinstall { profile } => find_target(targets, profile)
                .and_then(|t| t.plan(sup).map(|p| sup.doctor().describe_reinstall(t, &p)))
                .unwrap_or_default(),
            Action::MigrateLaunchAgent {
                profile,
                label,
                plist,
            } => find_target(targets, profile)
                .map(|t| launchd::repair::describe_migration(t, sup, label, plist))
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
            say(report, &format!("   {line}\n"));
        }
    }
}

/// `--fix`: one decision per repair ([`Consent`]), then the repair; each result on its line.
fn apply_repairs(
    report: &mut dyn Write,
    groups: &[(Action, Vec<&Finding>)],
    consent: &Consent,
    targets: &[Target],
    sup: &Supervisor,
) {
    say(report, "\nRepairs:\n");
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
                    say(report, &format!("- {summary}: done\n"));
                    for l in lines {
                        say(report, &format!("    {l}\n"));
                    }
                }
                Err(e) => say(
                    report,
                    &format!("- {summary}: FAILED: {}\n", e.replace('\n', "\n    ")),
                ),
            },
            Decision::Skip(why) => say(report, &format!("- {summary}: skipped ({why})\n")),
        }
    }
}
