//! `openclaw gateway install|uninstall|start|stop|restart`: build the service spec, ask the
//! platform backend for a plan or an action, and report it the way scripts expect.
//!
//! `--dry-run` prints the plan (text or `--json`) and changes nothing; `--platform` renders the
//! plan for another platform (dry runs only). With `--json` exactly one JSON object is printed:
//! `{"action","ok":true,"result","messages","warnings"?,"service","setup"?}` or
//! `{"action","ok":false,"error","hints","hintItems"}`. Exit 0 on success, 1 on failure.

use serde_json::{Value, json};

use crate::cli::exit_status::{CliError, ExitStatus};
use crate::cli::output::out;
use crate::cli::{InstallArgs, PlatformArg, ServiceActionArgs, StopArgs, UninstallArgs};
use crate::invocation::Invocation;
use crate::service::spec::{ServiceSpec, SpecOptions};
use crate::service::{ActionOutcome, PlatformKind, ServiceError, backend_for};

fn platform_of(arg: Option<PlatformArg>) -> PlatformKind {
    match arg {
        Some(PlatformArg::Linux) => PlatformKind::Linux,
        Some(PlatformArg::Macos) => PlatformKind::Macos,
        Some(PlatformArg::Windows) => PlatformKind::Windows,
        None => PlatformKind::host(),
    }
}

fn spec_for(invocation: &Invocation, options: &SpecOptions) -> Result<ServiceSpec, CliError> {
    let config = invocation.load_config()?;
    ServiceSpec::build(invocation, &config, options).map_err(|e| failure(e, false, "install"))
}

fn failure(error: ServiceError, json_output: bool, action: &str) -> CliError {
    if error.kind == "not-implemented" {
        return CliError::not_implemented(&format!("gateway {action} ({})", error.message));
    }
    if json_output {
        let hint_items: Vec<Value> = error
            .hints
            .iter()
            .map(|h| json!({"kind": error.kind, "text": h}))
            .collect();
        out(&json!({"action": action, "ok": false, "error": error.message, "hints": error.hints, "hintItems": hint_items}).to_string());
        // The JSON already said it; the exit status carries the failure.
        return CliError::new(ExitStatus::Failure, String::new());
    }
    let mut cli = CliError::failure(error.message);
    for hint in error.hints {
        cli = cli.with_hint(hint);
    }
    cli
}

fn report(
    action: &str,
    outcome: &ActionOutcome,
    spec: &ServiceSpec,
    platform: PlatformKind,
    json_output: bool,
) -> ExitStatus {
    report_with(action, outcome, spec, platform, json_output, None)
}

/// [`report`], with the `setup` field (what `openclaw setup` wrote first) in the JSON.
fn report_with(
    action: &str,
    outcome: &ActionOutcome,
    spec: &ServiceSpec,
    platform: PlatformKind,
    json_output: bool,
    setup: Option<Value>,
) -> ExitStatus {
    if json_output {
        let mut v = json!({
            "action": action,
            "ok": true,
            "result": outcome.result,
            "messages": outcome.messages,
            "service": {"label": platform.supervisor(), "name": spec.names.on(platform)},
        });
        if !outcome.warnings.is_empty() {
            v["warnings"] = json!(outcome.warnings);
        }
        if let Some(setup) = setup {
            v["setup"] = setup;
        }
        out(&v.to_string());
    } else {
        for line in &outcome.messages {
            out(line);
        }
        for warning in &outcome.warnings {
            eprintln!("warning: {warning}");
        }
    }
    ExitStatus::Ok
}

fn require_host(platform: PlatformKind, dry_run: bool) -> Result<(), CliError> {
    if !dry_run && platform != PlatformKind::host() {
        return Err(CliError::usage(format!(
            "--platform {platform} renders plans only: add --dry-run (this machine runs {})",
            PlatformKind::host()
        )));
    }
    Ok(())
}

/// Prints a plan for `--dry-run`: text, or the plan as JSON.
fn print_plan(plan: &crate::service::plan::Plan, json_output: bool) {
    out(&if json_output {
        serde_json::to_string_pretty(plan).unwrap_or_default()
    } else {
        plan.render_text()
    });
}

/// The plan note of `install --dry-run` when install would first run `openclaw setup`.
pub fn setup_note(config_path: &std::path::Path) -> String {
    format!(
        "No config at {}: install will first write a minimal one (openclaw setup)",
        config_path.display()
    )
}

/// `openclaw gateway install`.
///
/// With no config file (and neither `--allow-unconfigured` nor `--system`) it first runs
/// [`crate::setup::run`], so the service does not exit 78 for want of `gateway.mode`; says so
/// on stdout (`--json`: the `setup` field); when the install then fails, what setup created is
/// removed again. `--dry-run` only notes it in the plan.
pub fn install(invocation: &Invocation, args: &InstallArgs) -> Result<ExitStatus, CliError> {
    let platform = platform_of(args.platform);
    require_host(platform, args.dry_run)?;
    let options = SpecOptions {
        port: args.port,
        no_socket_activation: args.no_socket_activation,
        system: args.system,
        system_user: args.user.clone(),
        allow_unconfigured: args.allow_unconfigured,
        program: None,
    };
    let config = invocation.load_config()?;
    // A system unit runs as another account, which could not read files written here as root.
    let needs_setup = !config.exists && !args.allow_unconfigured && !args.system;
    let spec = ServiceSpec::build(invocation, &config, &options)
        .map_err(|e| failure(e, false, "install"))?;
    let mut backend =
        backend_for(platform, invocation).map_err(|e| failure(e, args.json, "install"))?;
    let mut plan = backend
        .plan_install(&spec)
        .map_err(|e| failure(e, args.json, "install"))?;
    if args.dry_run {
        if needs_setup {
            plan.notes.push(setup_note(&config.path));
        }
        print_plan(&plan, args.json);
        return Ok(ExitStatus::Ok);
    }
    let setup = if needs_setup {
        let report = crate::setup::run(&invocation.paths, &invocation.env).map_err(|e| {
            let mut error = ServiceError::new("setup-failed", e.message);
            for hint in e.hints {
                error = error.hint(hint);
            }
            failure(error, args.json, "install")
        })?;
        if !args.json {
            out(&format!(
                "No config at {}: wrote a minimal one (gateway.mode = \"local\"); see openclaw setup",
                config.path.display()
            ));
        }
        Some(report)
    } else {
        None
    };
    crate::service::abort_hook::arm(&invocation.env);
    let outcome = match backend.install(&spec, &plan, args.force) {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Some(report) = &setup {
                report.undo();
                if !args.json {
                    eprintln!(
                        "note: the install failed, so the minimal config it had written was removed again (openclaw setup writes it on its own)"
                    );
                }
            }
            return Err(failure(e, args.json, "install"));
        }
    };
    Ok(report_with(
        "install",
        &outcome,
        &spec,
        platform,
        args.json,
        setup.map(|r| r.to_json()),
    ))
}

/// `openclaw gateway uninstall`.
pub fn uninstall(invocation: &Invocation, args: &UninstallArgs) -> Result<ExitStatus, CliError> {
    let platform = platform_of(args.platform);
    require_host(platform, args.dry_run)?;
    let options = SpecOptions {
        system: args.system,
        ..SpecOptions::default()
    };
    let spec = spec_for(invocation, &options)?;
    let mut backend =
        backend_for(platform, invocation).map_err(|e| failure(e, args.json, "uninstall"))?;
    let plan = backend
        .plan_uninstall(&spec)
        .map_err(|e| failure(e, args.json, "uninstall"))?;
    if args.dry_run {
        print_plan(&plan, args.json);
        return Ok(ExitStatus::Ok);
    }
    crate::service::abort_hook::arm(&invocation.env);
    let outcome = backend
        .uninstall(&spec, &plan)
        .map_err(|e| failure(e, args.json, "uninstall"))?;
    Ok(report("uninstall", &outcome, &spec, platform, args.json))
}

/// The lifecycle verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// `start`.
    Start,
    /// `stop`.
    Stop,
    /// `restart`.
    Restart,
}

/// `openclaw gateway start|stop|restart`.
pub fn lifecycle(
    invocation: &Invocation,
    verb: Lifecycle,
    system: bool,
    json_output: bool,
) -> Result<ExitStatus, CliError> {
    let action = match verb {
        Lifecycle::Start => "start",
        Lifecycle::Stop => "stop",
        Lifecycle::Restart => "restart",
    };
    let platform = PlatformKind::host();
    let options = SpecOptions {
        system,
        ..SpecOptions::default()
    };
    let spec = spec_for(invocation, &options)?;
    let mut backend =
        backend_for(platform, invocation).map_err(|e| failure(e, json_output, action))?;
    let outcome = match verb {
        Lifecycle::Start => backend.start(&spec),
        Lifecycle::Stop => backend.stop(&spec),
        Lifecycle::Restart => backend.restart(&spec),
    }
    .map_err(|e| failure(e, json_output, action))?;
    Ok(report(action, &outcome, &spec, platform, json_output))
}

/// `openclaw gateway start|restart` arguments.
pub fn start_or_restart(
    invocation: &Invocation,
    verb: Lifecycle,
    args: &ServiceActionArgs,
) -> Result<ExitStatus, CliError> {
    lifecycle(invocation, verb, args.system, args.json)
}

/// `openclaw gateway stop`. Scripts, CI and `ssh host openclaw gateway stop` stop the service
/// like a terminal does; only a stop run from inside the gateway's own process tree (the
/// service's environment, which its children inherit, has `OPENCLAW_SERVICE_KIND=gateway`) is
/// refused without `--force`, because it would stop the gateway that runs it.
pub fn stop(invocation: &Invocation, args: &StopArgs) -> Result<ExitStatus, CliError> {
    if !args.force && invocation.env.get_nonempty("OPENCLAW_SERVICE_KIND") == Some("gateway") {
        return Err(CliError::failure(
            "Refusing to stop the gateway service from inside its own process tree (OPENCLAW_SERVICE_KIND=gateway is set): this would stop the gateway that runs this command. Use an isolated dev gateway (openclaw gateway run --dev, or --profile <name> with a free port) for testing, or re-run with --force if you really mean it.",
        ));
    }
    lifecycle(invocation, Lifecycle::Stop, args.system, args.json)
}
