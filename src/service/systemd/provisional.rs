//! PROVISIONAL — delete after `systemd-units` is merged.
//!
//! A stand-in for `units.rs` / `plan.rs`, which another branch (`systemd-units`) owns: just
//! enough rendering for the D-Bus backend to be developed and tested against a real manager
//! (a `Type=notify` service with the restart policy, watchdog, exit-78 rule and env file, and a
//! `FileDescriptorName=gateway` socket). It follows the agreed contract: the plan's steps are only
//! `Step::Dbus` with `Reload`, `EnableUnitFiles`, `DisableUnitFiles`, `ResetFailedUnit`,
//! `StartUnit`, `RestartUnit`, `StopUnit`, plus `Step::WaitReady`. It is not the rendering that
//! ships: no hardening, no version gates, no golden tests.

use std::path::PathBuf;

use crate::service::plan::{Plan, PlanAction, PlannedFile, Step};
use crate::service::spec::{Scope, ServiceSpec};
use crate::service::{PlatformKind, ServiceError};

/// Where the units go: `<home>/.config/systemd/user` or `/etc/systemd/system`.
pub fn unit_dir(spec: &ServiceSpec) -> PathBuf {
    match spec.scope {
        Scope::User => spec.home.join(".config/systemd/user"),
        Scope::System { .. } => PathBuf::from("/etc/systemd/system"),
    }
}

fn quote(arg: &str) -> String {
    let escaped = arg.replace('%', "%%");
    if escaped
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\')
    {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

fn render_service(spec: &ServiceSpec, socket: Option<&str>, env_file: &str) -> String {
    let mut s = String::from("[Unit]\n");
    s.push_str(&format!("Description={}\n", spec.description));
    s.push_str("StartLimitBurst=10\nStartLimitIntervalSec=300\n");
    if let Some(socket) = socket {
        s.push_str(&format!("Requires={socket}\nAfter={socket}\n"));
    }
    s.push_str("\n[Service]\nType=notify\n");
    let argv: Vec<String> = spec.command_line().iter().map(|a| quote(a)).collect();
    s.push_str(&format!("ExecStart={}\n", argv.join(" ")));
    s.push_str("Restart=always\nRestartSec=5\nRestartPreventExitStatus=78\nTimeoutStartSec=30\nTimeoutStopSec=30\nKillMode=mixed\nWatchdogSec=30\n");
    if let Scope::System { user } = &spec.scope {
        s.push_str(&format!("User={user}\n"));
    }
    for (k, v) in &spec.environment {
        s.push_str(&format!("Environment={}\n", quote(&format!("{k}={v}"))));
    }
    s.push_str(&format!("EnvironmentFile=-{env_file}\n"));
    s.push_str(&format!("SyslogIdentifier={}\n", spec.names.systemd_unit));
    let target = match spec.scope {
        Scope::User => "default.target",
        Scope::System { .. } => "multi-user.target",
    };
    s.push_str(&format!("\n[Install]\nWantedBy={target}\n"));
    s
}

fn render_socket(spec: &ServiceSpec) -> String {
    let mut s = format!(
        "[Unit]\nDescription={} socket\n\n[Socket]\n",
        spec.description
    );
    for addr in &spec.listen_addresses {
        match addr {
            std::net::IpAddr::V4(a) => s.push_str(&format!("ListenStream={a}:{}\n", spec.port)),
            std::net::IpAddr::V6(a) => {
                s.push_str(&format!("ListenStream=[{a}]:{}\n", spec.port));
            }
        }
    }
    s.push_str("FileDescriptorName=gateway\nAccept=no\nNoDelay=true\n");
    s.push_str("\n[Install]\nWantedBy=sockets.target\n");
    s
}

fn dbus(method: &str, args: &[String], user: bool) -> Step {
    let verb = match method {
        "Reload" => "daemon-reload",
        "EnableUnitFiles" => "enable",
        "DisableUnitFiles" => "disable",
        "ResetFailedUnit" => "reset-failed",
        "StartUnit" => "start",
        "RestartUnit" => "restart",
        "StopUnit" => "stop",
        other => other,
    };
    let scope = if user {
        "systemctl --user"
    } else {
        "systemctl"
    };
    Step::Dbus {
        method: method.into(),
        args: args.to_vec(),
        equivalent: format!("{scope} {verb} {}", args.join(" "))
            .trim_end()
            .to_owned(),
    }
}

/// The install plan (provisional).
pub fn install_plan(spec: &ServiceSpec) -> Result<Plan, ServiceError> {
    let dir = unit_dir(spec);
    let user = spec.scope == Scope::User;
    let service = spec.names.systemd_service_file();
    let socket = spec.names.systemd_socket_file();
    let env_file = spec.state_dir.join("gateway.systemd.env");
    let mut plan = Plan::new(PlatformKind::Linux, PlanAction::Install);
    plan.files.push(PlannedFile {
        path: dir.join(&service),
        mode: 0o644,
        contents: render_service(
            spec,
            spec.socket_activation.then_some(socket.as_str()),
            &env_file.display().to_string(),
        )
        .into_bytes(),
        secret: false,
        purpose: "systemd service unit".into(),
    });
    if spec.socket_activation {
        plan.files.push(PlannedFile {
            path: dir.join(&socket),
            mode: 0o644,
            contents: render_socket(spec).into_bytes(),
            secret: false,
            purpose: "systemd socket unit".into(),
        });
    }
    let env: String = spec
        .secret_environment
        .iter()
        .map(|(k, v)| format!("{k}={}\n", quote(v)))
        .collect();
    plan.files.push(PlannedFile {
        path: env_file,
        mode: 0o600,
        contents: env.into_bytes(),
        secret: true,
        purpose: "environment file (secrets)".into(),
    });
    let mut units = vec![service.clone()];
    if spec.socket_activation {
        units.push(socket.clone());
    }
    plan.steps.push(dbus("Reload", &[], user));
    plan.steps.push(dbus("EnableUnitFiles", &units, user));
    plan.steps.push(dbus(
        "ResetFailedUnit",
        std::slice::from_ref(&service),
        user,
    ));
    if spec.socket_activation {
        plan.steps
            .push(dbus("RestartUnit", std::slice::from_ref(&socket), user));
    }
    plan.steps
        .push(dbus("RestartUnit", std::slice::from_ref(&service), user));
    plan.steps.push(Step::WaitReady {
        target: service,
        timeout_secs: 60,
    });
    Ok(plan)
}

/// The uninstall plan (provisional).
pub fn uninstall_plan(spec: &ServiceSpec) -> Plan {
    let dir = unit_dir(spec);
    let user = spec.scope == Scope::User;
    let service = spec.names.systemd_service_file();
    let socket = spec.names.systemd_socket_file();
    let mut plan = Plan::new(PlatformKind::Linux, PlanAction::Uninstall);
    plan.removals = vec![
        dir.join(&service),
        dir.join(&socket),
        spec.state_dir.join("gateway.systemd.env"),
    ];
    plan.steps
        .push(dbus("StopUnit", std::slice::from_ref(&socket), user));
    plan.steps
        .push(dbus("StopUnit", std::slice::from_ref(&service), user));
    plan.steps.push(dbus(
        "DisableUnitFiles",
        &[service.clone(), socket.clone()],
        user,
    ));
    plan.steps.push(dbus("Reload", &[], user));
    plan.steps.push(dbus("ResetFailedUnit", &[service], user));
    plan.notes.push(format!(
        "Config, state and logs in {} are kept.",
        spec.state_dir.display()
    ));
    plan
}
