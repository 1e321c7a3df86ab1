//! The install-time sandbox probe: before install commits, the service unit's exact sandbox is
//! started in the real manager as a throwaway unit running `openclaw __sandbox-probe`, which
//! checks from inside what the gateway needs (its state dir is writable, a loopback socket can
//! be bound) and then sends `READY=1`. A level whose probe does not become ready (226/NAMESPACE,
//! 218/CAPABILITIES, a seccomp filter that kills it, a notify socket it cannot reach) is
//! stepped down from: namespaces → seccomp → none. The levels tried and why each failed go into
//! the install output; the chosen one into the unit (`OPENCLAW_SANDBOX=`), where `gateway
//! status` and `doctor` read it.
//!
//! The probe unit goes into the manager's runtime unit dir (`$XDG_RUNTIME_DIR/systemd/user`, or
//! `/run/systemd/system`), which a reboot or logout clears, and is removed right after.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::dbus::{JobMethod, ManagerConnection};
use super::units::{SandboxLevel, escape};
use crate::atomic_write::{PRIVATE_DIR_MODE, create_dir_all_with_mode, write_atomic};
use crate::environment::Environment;
use crate::service::ServiceError;

/// The hidden subcommand the probe unit runs.
pub const PROBE_COMMAND: &str = "__sandbox-probe";
/// How long a probe may take to report `READY=1` (`TimeoutStartSec=` of the probe unit).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Debug builds only: sandbox levels (comma-separated) at which a directive the manager cannot
/// set up is added to the unit, so tests see a real manager refuse that level.
pub const FAULT_ENV: &str = "OPENCLAW_DEBUG_SANDBOX_FAIL";
/// Forces a level instead of probing (`namespaces`, `seccomp` or `none`).
pub const OVERRIDE_ENV: &str = "OPENCLAW_SYSTEMD_SANDBOX";

/// Keys of the gateway unit the probe unit leaves out: ordering on the socket, restart policy,
/// the watchdog, start limits, and the reload protocol.
const DROPPED_KEYS: [&str; 13] = [
    "Description",
    "Requires",
    "After",
    "StartLimitBurst",
    "StartLimitIntervalSec",
    "Type",
    "ReloadSignal",
    "ExecStart",
    "Restart",
    "RestartSec",
    "RestartSteps",
    "RestartMaxDelaySec",
    "WatchdogSec",
];

/// The probe unit for a rendered gateway service unit: the same `[Service]` sandbox,
/// environment and working directory, running `program __sandbox-probe`, no `[Install]`.
pub fn probe_unit(
    service_unit: &str,
    program: &Path,
    level: SandboxLevel,
) -> Result<String, ServiceError> {
    let program = program.to_str().ok_or_else(|| {
        ServiceError::new(
            escape::INVALID_VALUE,
            "the program path must be valid UTF-8",
        )
    })?;
    let exec = escape::exec_start(&[program, PROBE_COMMAND])?;
    let mut out = String::new();
    let mut section = "";
    for line in service_unit.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed;
            if section == "[Install]" {
                continue;
            }
            out.push_str(line);
            out.push('\n');
            match section {
                "[Unit]" => out.push_str(&format!(
                    "Description=OpenClaw gateway sandbox probe ({level})\n"
                )),
                "[Service]" => {
                    out.push_str(&format!("Type=notify\nExecStart={exec}\nRestart=no\n"))
                }
                _ => {}
            }
            continue;
        }
        if section == "[Install]" || trimmed.starts_with('#') {
            continue;
        }
        let key = trimmed.split('=').next().unwrap_or_default();
        let replaced = matches!(key, "TimeoutStartSec" | "TimeoutStopSec");
        if DROPPED_KEYS.contains(&key) || replaced {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out = out.replacen(
        "[Service]\n",
        &format!(
            "[Service]\nTimeoutStartSec={}\nTimeoutStopSec=5\n",
            PROBE_TIMEOUT.as_secs()
        ),
        1,
    );
    Ok(out)
}

/// Debug builds only: the directive that makes the manager refuse `level` when [`FAULT_ENV`]
/// names it (namespaces: a `ReadWritePaths=` that does not exist, 226/NAMESPACE; seccomp: a
/// filter that denies `connect(2)`, so the notify socket cannot be reached and `READY=1` never arrives; none: a working directory
/// that does not exist).
pub fn fault_directive(env: &Environment, level: SandboxLevel) -> Option<&'static str> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let listed = env.get_nonempty(FAULT_ENV)?;
    if !listed
        .split(',')
        .any(|l| SandboxLevel::parse(l) == Some(level))
    {
        return None;
    }
    Some(match level {
        SandboxLevel::Namespaces => "ReadWritePaths=/nonexistent/openclaw-sandbox-fault",
        SandboxLevel::Seccomp => "SystemCallFilter=~connect",
        SandboxLevel::None => "WorkingDirectory=/nonexistent/openclaw-sandbox-fault",
    })
}

/// Adds [`fault_directive`] (if any) to a rendered service unit, as the last line of its
/// `[Service]` section (after the unit's own filters, which it must not be merged into).
pub fn with_fault(env: &Environment, unit: &str, level: SandboxLevel) -> String {
    let Some(fault) = fault_directive(env, level) else {
        return unit.to_owned();
    };
    match unit.find("\n[Install]") {
        Some(at) => {
            let (service, install) = unit.split_at(at);
            format!("{}\n{fault}\n{install}", service.trim_end_matches('\n'))
        }
        None => format!("{unit}{fault}\n"),
    }
}

/// The name of a systemd exit status of the service-setup range (`226` → `226/NAMESPACE`).
pub fn exit_status_name(status: i32) -> String {
    let name = match status {
        200 => "CHDIR",
        203 => "EXEC",
        209 => "STDOUT",
        216 => "GROUP",
        217 => "USER",
        218 => "CAPABILITIES",
        219 => "CGROUP",
        226 => "NAMESPACE",
        227 => "NO_NEW_PRIVILEGES",
        228 => "SECCOMP",
        237 => "KEYRING",
        243 => "CREDENTIALS",
        _ => return status.to_string(),
    };
    format!("{status}/{name}")
}

/// Where the manager of this scope reads runtime units from.
pub fn runtime_unit_dir(user: bool, runtime_dir: Option<&Path>) -> Option<PathBuf> {
    if user {
        runtime_dir.map(|d| d.join("systemd/user"))
    } else {
        Some(PathBuf::from("/run/systemd/system"))
    }
}

/// One level's probe: `Ok` when the probe unit became ready, else why not.
pub fn probe_level(
    mgr: &ManagerConnection,
    dir: &Path,
    unit_name: &str,
    unit_text: &str,
) -> Result<(), String> {
    create_dir_all_with_mode(dir, PRIVATE_DIR_MODE)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(unit_name);
    write_atomic(&path, unit_text.as_bytes(), 0o644)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let outcome = run(mgr, unit_name);
    // Clean up whatever happened: stop, forget the failure, remove, reload.
    let _ = mgr.run_job(JobMethod::Stop, unit_name, Duration::from_secs(10));
    let _ = mgr.reset_failed(unit_name);
    let _ = std::fs::remove_file(&path);
    let _ = mgr.reload();
    outcome
}

fn run(mgr: &ManagerConnection, unit_name: &str) -> Result<(), String> {
    mgr.reload().map_err(|e| format!("daemon-reload: {e}"))?;
    let job = mgr
        .run_job(
            JobMethod::Start,
            unit_name,
            PROBE_TIMEOUT + Duration::from_secs(5),
        )
        .map_err(|e| e.to_string())?;
    if job.is_done() {
        return Ok(());
    }
    let props = mgr.unit_properties(unit_name).unwrap_or_default();
    let mut why = match (props.exec_main_code, props.result.as_str()) {
        (1, _) if props.exec_main_status >= 200 => exit_status_name(props.exec_main_status),
        (1, _) => format!("the probe exited with status {}", props.exec_main_status),
        (_, "timeout") => "no READY=1 within the probe's timeout".to_owned(),
        (_, "protocol") => "the probe could not report READY=1".to_owned(),
        (_, result) => format!("job {}, Result={result}", job.result),
    };
    if !props.status_text.is_empty() {
        why.push_str(&format!(": {}", props.status_text));
    }
    Err(why)
}

/// What runs inside the probe unit: checks the working directory (the state dir) is writable
/// and a loopback port can be bound, then sends `READY=1` and waits to be stopped. A failed
/// check is sent as `STATUS=` and the exit status is 1.
pub fn probe_process() -> i32 {
    use sd_notify::NotifyState;
    let checks = || -> Result<(), String> {
        let probe = std::env::current_dir()
            .map_err(|e| format!("no working directory: {e}"))?
            .join(format!(".sandbox-probe-{}", std::process::id()));
        std::fs::write(&probe, b"probe").map_err(|e| format!("state dir not writable: {e}"))?;
        let _ = std::fs::remove_file(&probe);
        std::net::TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| format!("cannot bind a loopback port: {e}"))?;
        Ok(())
    };
    match checks() {
        Ok(()) => {
            if let Err(e) = sd_notify::notify(&[
                NotifyState::Ready,
                NotifyState::Status("sandbox probe ready"),
            ]) {
                eprintln!("sandbox probe: READY=1 failed: {e}");
                return 1;
            }
            // Stay until the installer stops the unit (a process that exits right after READY=1
            // can race its own notification); give up after the probe timeout.
            std::thread::sleep(PROBE_TIMEOUT);
            0
        }
        Err(why) => {
            eprintln!("sandbox probe: {why}");
            let status = format!("sandbox probe failed: {why}");
            let _ = sd_notify::notify(&[NotifyState::Status(&status)]);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: &str = "# comment\n[Unit]\nDescription=OpenClaw Gateway\nRequires=openclaw-gateway.socket\nAfter=openclaw-gateway.socket\nStartLimitBurst=10\n\n[Service]\nType=notify\nExecStart=/usr/bin/openclaw gateway --port 18789\nRestart=always\nRestartSec=5\nTimeoutStartSec=30\nTimeoutStopSec=15\nWatchdogSec=30\nEnvironment=OPENCLAW_SANDBOX=namespaces\nWorkingDirectory=/home/a/.openclaw\nPrivateUsers=yes\nProtectSystem=strict\n\n[Install]\nWantedBy=default.target\n";

    #[test]
    fn the_probe_unit_keeps_the_sandbox_and_runs_the_probe() {
        let probe = probe_unit(
            UNIT,
            Path::new("/usr/bin/openclaw"),
            SandboxLevel::Namespaces,
        )
        .unwrap();
        for kept in [
            "PrivateUsers=yes",
            "ProtectSystem=strict",
            "WorkingDirectory=/home/a/.openclaw",
            "Environment=OPENCLAW_SANDBOX=namespaces",
            "ExecStart=/usr/bin/openclaw __sandbox-probe",
            "Type=notify",
            "Restart=no",
            "TimeoutStartSec=10",
        ] {
            assert!(probe.lines().any(|l| l == kept), "{kept} in\n{probe}");
        }
        for gone in [
            "Requires=",
            "After=",
            "WatchdogSec=",
            "WantedBy=",
            "[Install]",
            "Restart=always",
            "TimeoutStartSec=30",
            "gateway --port",
        ] {
            assert!(!probe.contains(gone), "{gone} in\n{probe}");
        }
    }

    #[test]
    fn faults_are_added_only_in_debug_builds_and_only_at_the_named_levels() {
        let env = Environment::empty().with(FAULT_ENV, "namespaces");
        let faulty = with_fault(&env, UNIT, SandboxLevel::Namespaces);
        assert_eq!(
            faulty.contains("ReadWritePaths=/nonexistent/openclaw-sandbox-fault"),
            cfg!(debug_assertions)
        );
        assert_eq!(with_fault(&env, UNIT, SandboxLevel::Seccomp), UNIT);
        assert_eq!(
            with_fault(&Environment::empty(), UNIT, SandboxLevel::Namespaces),
            UNIT
        );
    }

    #[test]
    fn setup_exit_statuses_are_named() {
        assert_eq!(exit_status_name(226), "226/NAMESPACE");
        assert_eq!(exit_status_name(218), "218/CAPABILITIES");
        assert_eq!(exit_status_name(1), "1");
    }
}
