//! Install and uninstall plans for systemd: the files [`units::render`] produces, then the
//! manager calls in order, as `Step::Dbus` with the `systemctl` equivalent for humans.
//!
//! The executor implements exactly these methods: `Reload` (no args), `EnableUnitFiles` /
//! `DisableUnitFiles` (args: unit file names), `ResetFailedUnit`, `StartUnit`, `RestartUnit`,
//! `StopUnit` (args: the unit).
//!
//! Execution contract: an install plan's `files` are written before its first step; an
//! uninstall plan's `removals` are removed right before its `Reload` step (after the units are
//! stopped and disabled, before the manager forgets them).
//!
//! Install with socket activation: `Reload`, `EnableUnitFiles [socket, service]`,
//! `ResetFailedUnit` socket and service, `RestartUnit` socket, `RestartUnit` service,
//! `WaitReady` service.
//! - The socket is *restarted*, not started: starting an active socket is a no-op, so a
//!   reinstall with a new port or bind mode would keep listening on the old addresses (and hand
//!   them to the new service). On a first install, restart = start.
//! - The service is *restarted*, not started: a reinstall (new binary, port, version) must
//!   replace the running process, and starting an active unit does nothing. The service
//!   `Requires=` its socket, so restarting the socket already queued a restart of a running
//!   service; systemd merges the two restart jobs into one. On a first install (service
//!   inactive), restart = start, and the gateway gets the socket's fds.
//!
//! Uninstall (always covers the socket too, so a unit left by an earlier socket-activated install
//! goes): `StopUnit` service, `StopUnit` socket, `DisableUnitFiles [socket, service]`, remove the
//! unit files, a reference release's `<unit>.service.bak` and the env file, `Reload`. Config,
//! state and logs are kept (a note says so).

use crate::service::plan::{Plan, PlanAction, PlannedFile, Step};
use crate::service::spec::{Scope, ServiceSpec};
use crate::service::{PlatformKind, ServiceError};

use super::units::{self, SandboxLevel, SystemdFeatures};

/// How long the installer waits for the service to be active and ready (a failure is reported,
/// and the previous units restored, within this; systemd's own start timeout is 30 s).
pub const READY_TIMEOUT_SECS: u64 = 10;
/// Mode of unit files.
pub const UNIT_FILE_MODE: u32 = 0o644;
/// Mode of the env file.
pub const ENV_FILE_MODE: u32 = 0o600;

/// Builds `Step::Dbus` values with the `systemctl` command of the scope.
struct Manager {
    systemctl: &'static str,
}

impl Manager {
    fn of(spec: &ServiceSpec) -> Self {
        Self {
            systemctl: match spec.scope {
                Scope::User => "systemctl --user",
                Scope::System { .. } => "systemctl",
            },
        }
    }

    fn step(&self, method: &str, verb: &str, args: &[&str]) -> Step {
        let mut equivalent = format!("{} {verb}", self.systemctl);
        for arg in args {
            equivalent.push(' ');
            equivalent.push_str(arg);
        }
        Step::Dbus {
            method: method.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            equivalent,
        }
    }

    fn reload(&self) -> Step {
        self.step("Reload", "daemon-reload", &[])
    }

    fn unit(&self, method: &str, verb: &str, unit: &str) -> Step {
        self.step(method, verb, &[unit])
    }
}

/// The plan that installs (or rewrites) the gateway units of `spec` on a host with `features`,
/// at the strongest sandbox level its manager can set up.
pub fn install_plan(spec: &ServiceSpec, features: &SystemdFeatures) -> Result<Plan, ServiceError> {
    install_plan_at(spec, features, units::best_level(spec, features))
}

/// The sandbox level a plan's unit was rendered at (`None` for a plan that writes no unit).
pub fn plan_level(plan: &Plan) -> Option<SandboxLevel> {
    let unit = plan.files.iter().find(|f| !f.secret)?;
    let text = String::from_utf8_lossy(&unit.contents);
    text.lines()
        .find_map(|l| l.strip_prefix("Environment=OPENCLAW_SANDBOX="))
        .and_then(SandboxLevel::parse)
}

/// The plan that installs (or rewrites) the gateway units of `spec` at sandbox `level`.
pub fn install_plan_at(
    spec: &ServiceSpec,
    features: &SystemdFeatures,
    level: SandboxLevel,
) -> Result<Plan, ServiceError> {
    let rendered = units::render_at(spec, features, level)?;
    let mut plan = Plan::new(PlatformKind::Linux, PlanAction::Install);
    let service = rendered.service_name.as_str();
    let socket = rendered.socket_name.as_str();
    plan.files.push(PlannedFile {
        path: rendered.unit_dir.join(service),
        mode: UNIT_FILE_MODE,
        contents: rendered.service.clone().into_bytes(),
        secret: false,
        purpose: "systemd service unit".into(),
    });
    if let Some(text) = &rendered.socket {
        plan.files.push(PlannedFile {
            path: rendered.unit_dir.join(socket),
            mode: UNIT_FILE_MODE,
            contents: text.clone().into_bytes(),
            secret: false,
            purpose: "systemd socket unit (owns the port)".into(),
        });
    }
    plan.files.push(PlannedFile {
        path: rendered.env_file.clone(),
        mode: ENV_FILE_MODE,
        contents: rendered.env_file_contents.clone().into_bytes(),
        secret: true,
        purpose: "secret environment of the service (EnvironmentFile=)".into(),
    });

    let m = Manager::of(spec);
    plan.steps.push(m.reload());
    if rendered.socket.is_some() {
        plan.steps
            .push(m.step("EnableUnitFiles", "enable", &[socket, service]));
        plan.steps
            .push(m.unit("ResetFailedUnit", "reset-failed", socket));
        plan.steps
            .push(m.unit("ResetFailedUnit", "reset-failed", service));
        plan.steps.push(m.unit("RestartUnit", "restart", socket));
    } else {
        plan.steps
            .push(m.step("EnableUnitFiles", "enable", &[service]));
        plan.steps
            .push(m.unit("ResetFailedUnit", "reset-failed", service));
    }
    plan.steps.push(m.unit("RestartUnit", "restart", service));
    plan.steps.push(Step::WaitReady {
        target: service.to_owned(),
        timeout_secs: READY_TIMEOUT_SECS,
    });

    if rendered.socket.is_some() {
        let addresses: Vec<String> = spec
            .listen_addresses
            .iter()
            .map(|ip| std::net::SocketAddr::new(*ip, spec.port).to_string())
            .collect();
        plan.notes.push(format!(
            "Socket activation: {socket} owns {}; restarting the service refuses no connection.",
            addresses.join(", ")
        ));
    }
    plan.notes.push(sandbox_note(spec, features, level));
    Ok(plan)
}

/// The plan's line about the sandbox level: what it is and, below the best, why.
fn sandbox_note(spec: &ServiceSpec, features: &SystemdFeatures, level: SandboxLevel) -> String {
    let best = units::best_level(spec, features);
    let what = match level {
        SandboxLevel::Namespaces => "namespace- and seccomp-based directives",
        SandboxLevel::Seccomp => {
            "seccomp-based directives only (no PrivateTmp/ProtectSystem/ProtectHome, no capability bounding set)"
        }
        SandboxLevel::None => "no sandboxing directives (only NoNewPrivileges and UMask)",
    };
    let mut why = String::new();
    if spec.scope == Scope::User && !features.user_namespaces {
        why.push_str("; user namespaces are unavailable here (`--system` gets the full set)");
    }
    why.push_str(if level < best {
        "; a stronger level failed to start in this manager (re-probe with `gateway install --force`)"
    } else {
        "; install first starts it in the manager as a probe and steps down a level if it cannot start"
    });
    format!("Sandbox: {level} ({what}){why}.")
}

/// The plan that removes the gateway units of `spec` and its env file; config, state and logs
/// stay.
pub fn uninstall_plan(spec: &ServiceSpec) -> Plan {
    let mut plan = Plan::new(PlatformKind::Linux, PlanAction::Uninstall);
    let dir = units::unit_dir(spec);
    let service = spec.names.systemd_service_file();
    let socket = spec.names.systemd_socket_file();
    let m = Manager::of(spec);
    // The socket first: with the service stopped first, a connection in between would start it
    // again through the still-listening socket.
    plan.steps.push(m.unit("StopUnit", "stop", &socket));
    plan.steps.push(m.unit("StopUnit", "stop", &service));
    plan.steps
        .push(m.step("DisableUnitFiles", "disable", &[&socket, &service]));
    plan.removals.push(dir.join(&service));
    plan.removals.push(dir.join(&socket));
    plan.removals.push(dir.join(format!("{service}.bak")));
    plan.removals.push(units::env_file(spec));
    plan.steps.push(m.reload());
    plan.notes.push(format!(
        "Kept: config {}, state dir {} (logs in {}).",
        spec.config_path.display(),
        spec.state_dir.display(),
        spec.state_dir.join("logs").display()
    ));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::systemd::units::tests::sample_spec;

    const FEATURES: SystemdFeatures = SystemdFeatures {
        version: 252,
        user_namespaces: true,
    };

    fn calls(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| match s {
                Step::Dbus { method, args, .. } => format!("{method}({})", args.join(", ")),
                Step::WaitReady {
                    target,
                    timeout_secs,
                } => format!("WaitReady({target}, {timeout_secs})"),
                Step::Command { program, .. } => format!("command {program}"),
            })
            .collect()
    }

    #[test]
    fn a_socket_activated_install_writes_three_files_then_restarts_socket_and_service() {
        let plan = install_plan(&sample_spec(None, Scope::User, true), &FEATURES).unwrap();
        assert_eq!(plan.action, PlanAction::Install);
        let files: Vec<(String, u32, bool)> = plan
            .files
            .iter()
            .map(|f| (f.path.display().to_string(), f.mode, f.secret))
            .collect();
        assert_eq!(
            files,
            [
                (
                    "/home/alice/.config/systemd/user/openclaw-gateway.service".into(),
                    0o644,
                    false
                ),
                (
                    "/home/alice/.config/systemd/user/openclaw-gateway.socket".into(),
                    0o644,
                    false
                ),
                (
                    "/home/alice/.openclaw/gateway.systemd.env".into(),
                    0o600,
                    true
                ),
            ]
        );
        assert_eq!(
            calls(&plan),
            [
                "Reload()",
                "EnableUnitFiles(openclaw-gateway.socket, openclaw-gateway.service)",
                "ResetFailedUnit(openclaw-gateway.socket)",
                "ResetFailedUnit(openclaw-gateway.service)",
                "RestartUnit(openclaw-gateway.socket)",
                "RestartUnit(openclaw-gateway.service)",
                "WaitReady(openclaw-gateway.service, 10)",
            ]
        );
        let Step::Dbus { equivalent, .. } = &plan.steps[1] else {
            panic!("not a D-Bus step")
        };
        assert_eq!(
            equivalent,
            "systemctl --user enable openclaw-gateway.socket openclaw-gateway.service"
        );
        assert!(plan.removals.is_empty());
    }

    #[test]
    fn without_socket_activation_only_the_service_is_written_and_driven() {
        let plan =
            install_plan(&sample_spec(Some("rescue"), Scope::User, false), &FEATURES).unwrap();
        assert_eq!(plan.files.len(), 2);
        assert!(
            plan.files
                .iter()
                .all(|f| !f.path.to_string_lossy().ends_with(".socket"))
        );
        assert_eq!(
            calls(&plan),
            [
                "Reload()",
                "EnableUnitFiles(openclaw-gateway-rescue.service)",
                "ResetFailedUnit(openclaw-gateway-rescue.service)",
                "RestartUnit(openclaw-gateway-rescue.service)",
                "WaitReady(openclaw-gateway-rescue.service, 10)",
            ]
        );
    }

    #[test]
    fn system_scope_uses_plain_systemctl_and_etc() {
        let spec = sample_spec(
            None,
            Scope::System {
                user: "alice".into(),
            },
            true,
        );
        let plan = install_plan(&spec, &FEATURES).unwrap();
        assert_eq!(
            plan.files[0].path,
            std::path::PathBuf::from("/etc/systemd/system/openclaw-gateway.service")
        );
        for step in &plan.steps {
            if let Step::Dbus { equivalent, .. } = step {
                assert!(
                    equivalent.starts_with("systemctl ") && !equivalent.contains("--user"),
                    "{equivalent}"
                );
            }
        }
    }

    #[test]
    fn uninstall_stops_the_socket_first_disables_removes_then_reloads_and_keeps_state() {
        let plan = uninstall_plan(&sample_spec(None, Scope::User, false));
        assert_eq!(plan.action, PlanAction::Uninstall);
        assert!(plan.files.is_empty());
        assert_eq!(
            calls(&plan),
            [
                "StopUnit(openclaw-gateway.socket)",
                "StopUnit(openclaw-gateway.service)",
                "DisableUnitFiles(openclaw-gateway.socket, openclaw-gateway.service)",
                "Reload()",
            ]
        );
        let removals: Vec<String> = plan
            .removals
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            removals,
            [
                "/home/alice/.config/systemd/user/openclaw-gateway.service",
                "/home/alice/.config/systemd/user/openclaw-gateway.socket",
                "/home/alice/.config/systemd/user/openclaw-gateway.service.bak",
                "/home/alice/.openclaw/gateway.systemd.env",
            ]
        );
        assert!(
            plan.notes[0].starts_with("Kept: config /home/alice/.openclaw/openclaw.json"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn the_plan_of_a_host_without_user_namespaces_says_so() {
        let features = SystemdFeatures {
            version: 252,
            user_namespaces: false,
        };
        let plan = install_plan(&sample_spec(None, Scope::User, true), &features).unwrap();
        assert!(
            plan.notes.iter().any(|n| n.starts_with("Sandbox: seccomp")
                && n.contains("user namespaces are unavailable")),
            "{:?}",
            plan.notes
        );
        assert_eq!(plan_level(&plan), Some(SandboxLevel::Seccomp));
    }

    #[test]
    fn a_plan_at_a_weaker_level_drops_that_levels_directives_and_says_why() {
        let spec = sample_spec(None, Scope::User, true);
        let text = |level| {
            let plan = install_plan_at(&spec, &FEATURES, level).unwrap();
            assert_eq!(plan_level(&plan), Some(level));
            (
                String::from_utf8(plan.files[0].contents.clone()).unwrap(),
                plan.notes,
            )
        };
        let (full, notes) = text(SandboxLevel::Namespaces);
        assert!(full.contains("PrivateUsers=yes") && full.contains("SystemCallFilter="));
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("Sandbox: namespaces") && n.contains("probe"))
        );
        let (seccomp, notes) = text(SandboxLevel::Seccomp);
        assert!(!seccomp.contains("PrivateUsers=") && !seccomp.contains("ProtectSystem="));
        assert!(seccomp.contains("SystemCallFilter=@system-service"));
        assert!(
            notes.iter().any(|n| n.contains("a stronger level failed")),
            "{notes:?}"
        );
        let (none, _) = text(SandboxLevel::None);
        for gone in [
            "SystemCallFilter=",
            "RestrictAddressFamilies=",
            "MemoryDenyWriteExecute=",
            "PrivateUsers=",
        ] {
            assert!(!none.contains(gone), "{gone} at level none");
        }
        for kept in [
            "NoNewPrivileges=yes",
            "UMask=0077",
            "Environment=OPENCLAW_SANDBOX=none",
            "Type=notify",
        ] {
            assert!(none.contains(kept), "{kept} at level none");
        }
    }
}
