//! The steps of `gateway install` on systemd around the plan's execution: refuse a user unit
//! beside a system unit of the same name, leave a matching running install alone (or refuse
//! drift without `--force`), roll back a failed start, verify what was enabled, report.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::atomic_write::file_mode;
use crate::service::plan::{Plan, PlannedFile, Step};
use crate::service::spec::ServiceSpec;
use crate::service::{ActionOutcome, ActionResult, ServiceError};

use super::dbus::{ManagerConnection, UnitProperties};
use super::executor::systemd_error;
use super::{SYSTEM_UNIT_DIRS, Units, cli_command, drift, packaged, rollback};

/// True when the socket unit on disk listens exactly as `planned` would: the same
/// `ListenStream=` addresses and the same keys that decide how the fds are handed over.
pub(super) fn same_listening(planned: &PlannedFile) -> bool {
    let Ok(old) = std::fs::read_to_string(&planned.path) else {
        return false;
    };
    let old = drift::UnitFile::parse(&old);
    let new = drift::UnitFile::parse(&String::from_utf8_lossy(&planned.contents));
    [
        "ListenStream",
        "FileDescriptorName",
        "FreeBind",
        "BindIPv6Only",
        "Accept",
    ]
    .iter()
    .all(|key| old.values("Socket", key) == new.values("Socket", key))
}

pub(super) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Enabled and active, as install's "already installed" needs it.
pub(super) fn installed_and_running(
    mgr: &ManagerConnection,
    plan: &Plan,
    units: &Units,
) -> Result<Option<UnitProperties>, ServiceError> {
    let mut enabled_units: Vec<String> = Vec::new();
    for step in &plan.steps {
        if let Step::Dbus { method, args, .. } = step {
            if method == "EnableUnitFiles" {
                enabled_units.extend(args.iter().cloned());
            }
        }
    }
    let mut service_props = None;
    let mut all = enabled_units.clone();
    if !all.contains(&units.service) {
        all.push(units.service.clone());
    }
    for unit in &all {
        let props = mgr
            .unit_properties(unit)
            .map_err(|e| systemd_error(&format!("reading {unit}"), &e))?;
        let enabled_ok = !enabled_units.contains(unit) || props.is_enabled();
        if !props.is_loaded() || props.need_daemon_reload || !enabled_ok {
            return Ok(None);
        }
        if props.active_state != "active" {
            return Ok(None);
        }
        if *unit == units.service {
            service_props = Some(props);
        }
    }
    Ok(service_props)
}

/// A user unit must not shadow a system unit of the same name (two gateways on one port).
pub(super) fn refuse_beside_system_unit(
    spec: &ServiceSpec,
    units: &Units,
) -> Result<(), ServiceError> {
    for dir in SYSTEM_UNIT_DIRS {
        let path = Path::new(dir).join(&units.service);
        if packaged::system_unit_blocks_user_install(Path::new("/"), &path, &units.service) {
            return Err(ServiceError::new(
                "system-unit-exists",
                format!(
                    "Gateway install blocked: {} is already a system unit ({}); a user unit of the same name would run a second gateway beside it.",
                    units.service,
                    path.display()
                ),
            )
            .hint(format!(
                "Manage the system unit with `sudo systemctl status {}`, or remove it first: sudo {}",
                units.service,
                cli_command(spec, "gateway uninstall --system")
            )));
        }
    }
    Ok(())
}

/// Without `--force`: an install whose files equal the plan and that runs is done already
/// (`Some`); one that is merely not running is started (a note in `messages`); files on disk
/// that differ are drift, refused with each difference.
pub(super) fn check_existing(
    mgr: &ManagerConnection,
    spec: &ServiceSpec,
    plan: &Plan,
    units: &Units,
    differing: &[&PlannedFile],
    units_on_disk: bool,
    messages: &mut Vec<String>,
) -> Result<Option<ActionOutcome>, ServiceError> {
    if differing.is_empty() {
        if let Some(props) = installed_and_running(mgr, plan, units)? {
            let mut outcome = ActionOutcome::new(
                ActionResult::AlreadyInstalled,
                "Gateway service already enabled.",
            );
            outcome.messages.push(format!(
                "{} is active (pid {}); its files equal the plan.",
                units.service, props.main_pid
            ));
            outcome.messages.push(format!(
                "Reinstall with: {}",
                cli_command(spec, "gateway install --force")
            ));
            return Ok(Some(outcome));
        }
        messages.push(format!(
            "{} is installed but not enabled and active: enabling and starting it.",
            units.service
        ));
    } else if units_on_disk && differing.iter().any(|f| f.path.exists()) {
        // Only files on disk that differ are drift; missing ones (an install killed
        // between two files) are written below, so a rerun converges.
        let mut error = ServiceError::new(
            "drift",
            format!(
                "Gateway service already installed, but {} differs from what this install would write (drift); nothing was changed.",
                units.service
            ),
        );
        for file in differing {
            for line in drift::describe(
                file,
                std::fs::read(&file.path).ok().as_deref(),
                file_mode(&file.path),
            ) {
                error = error.hint(format!("Drift: {line}"));
            }
        }
        return Err(error.hint(format!(
            "Apply the new definition with: {}",
            cli_command(spec, "gateway install --force")
        )));
    }
    Ok(None)
}

/// What a failed install must undo.
pub(super) struct Undo<'a> {
    /// The plan's files were written (else nothing changed on disk).
    pub files_written: bool,
    /// The files as they were before.
    pub snapshot: &'a rollback::Snapshot,
    /// A socket unit was installed before.
    pub socket_before: bool,
    /// The plan has a socket unit.
    pub plan_has_socket: bool,
    /// The service ran before.
    pub was_running: bool,
    /// When the install began (the gateway's log lines since then are this install's).
    pub began: SystemTime,
}

/// The error of a failed install, with the gateway's last log line, after restoring the
/// previous units (or none).
pub(super) fn failed(
    e: ServiceError,
    mgr: &ManagerConnection,
    spec: &ServiceSpec,
    units: &Units,
    undo: Undo<'_>,
) -> ServiceError {
    let mut e = ServiceError {
        message: if e.message.starts_with("Gateway install") {
            e.message.clone()
        } else {
            format!("Gateway install failed: {}", e.message)
        },
        ..e
    };
    if let Some(line) = rollback::last_gateway_log_line(&spec.state_dir, undo.began) {
        e = e.hint(format!("The gateway's last log line: {line}"));
    }
    if undo.files_written {
        let socket = (undo.socket_before || undo.plan_has_socket).then_some(units.socket.as_str());
        let undone = rollback::roll_back(
            mgr,
            undo.snapshot,
            rollback::UnitNames {
                service: &units.service,
                socket,
                socket_before: undo.socket_before,
            },
            undo.was_running,
        );
        for line in undone.lines {
            e = e.hint(line);
        }
    }
    e
}

/// Every unit the plan enables is enabled.
pub(super) fn verify_enabled(mgr: &ManagerConnection, plan: &Plan) -> Result<(), ServiceError> {
    for step in &plan.steps {
        if let Step::Dbus { method, args, .. } = step {
            if method == "EnableUnitFiles" {
                for unit in args {
                    let state = mgr.unit_file_state(unit).unwrap_or_default();
                    if !matches!(state.as_str(), "enabled" | "enabled-runtime" | "linked") {
                        return Err(ServiceError::new(
                            "verify-failed",
                            format!(
                                "Gateway install verification failed: {unit} is not enabled (UnitFileState={state})."
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// "Installed/Rewrote systemd service: …", the socket, and the 0600 files written.
pub(super) fn report_written(
    messages: &mut Vec<String>,
    plan: &Plan,
    units: &Units,
    written: &[PathBuf],
    rewrote: bool,
) {
    let verb = if rewrote { "Rewrote" } else { "Installed" };
    messages.push(format!(
        "{verb} systemd service: {}",
        units.service_path().display()
    ));
    if units.socket_installed() && plan.files.iter().any(|f| f.path == units.socket_path()) {
        messages.push(format!(
            "{verb} systemd socket: {}",
            units.socket_path().display()
        ));
    }
    for path in written {
        if *path != units.service_path() && *path != units.socket_path() {
            messages.push(format!("Wrote {} (mode 0600)", path.display()));
        }
    }
}
