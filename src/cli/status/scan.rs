//! What `--deep` adds and who holds the port: other gateway-like services, the established
//! client connections (sock_diag), the listeners on the gateway's port.

use crate::gateway::port_owner::{PortListener, established_clients, find_listeners};
use crate::invocation::Invocation;
use crate::service::PlatformKind;
use crate::service::discovery::{self, DiscoveryRoots, DiscoveryScope, ServiceClass};
use crate::service::runner::SystemRunner;

use super::report::*;

#[derive(Default)]
pub(crate) struct Scan {
    /// The other gateway-like services.
    pub(crate) extras: Vec<ExtraServiceView>,
    /// Port findings.
    pub(crate) warnings: Vec<String>,
}

/// Other gateway-like services (user definitions always; system folders, LaunchDaemons and
/// scheduled tasks with `--deep`), and with `--deep` the port findings: a user and a system
/// unit serving the same port, and listeners on our port that are not our service.
pub(crate) fn scan_services(
    invocation: &Invocation,
    service: &ServiceView,
    port: &PortView,
    deep: bool,
) -> Scan {
    let mut scan = Scan::default();
    let roots = DiscoveryRoots::from_env(invocation.paths.home.clone(), &invocation.env);
    let found = discovery::discover(PlatformKind::host(), &roots, deep, &mut SystemRunner)
        .unwrap_or_else(|e| {
            scan.warnings
                .push(format!("scheduled tasks could not be listed: {e}"));
            Vec::new()
        });
    let runtime = service.runtime.as_ref();
    let ours = runtime.and_then(|r| r.definition_path.as_ref());
    scan.extras = found
        .iter()
        .filter(|s| discovery::is_extra(s) && s.path.as_ref() != ours)
        .map(|s| ExtraServiceView {
            platform: s.platform.to_string(),
            label: s.label.clone(),
            detail: s.detail.clone(),
            scope: s.scope.as_str().to_owned(),
            marker: s.marker.clone(),
            legacy: s.is_legacy(),
            class: match &s.class {
                ServiceClass::ProfileService { .. } => "profile-service",
                ServiceClass::OtherRelease => "other-release",
                ServiceClass::Legacy => "legacy",
                ServiceClass::Foreign => "foreign",
                ServiceClass::NodeCompanion => "node-companion",
                ServiceClass::PackagedHomebrew { .. } => "packaged-homebrew",
            }
            .to_owned(),
            path: s.path.as_ref().map(|p| p.display().to_string()),
            port: s.port,
            embeds_secret: s.embeds_secret,
            removal: s.removal.clone(),
        })
        .collect();
    if !deep {
        return scan;
    }
    let gateways = || {
        found
            .iter()
            .filter(|s| !matches!(s.class, ServiceClass::NodeCompanion))
    };
    for system in gateways().filter(|s| s.scope == DiscoveryScope::System) {
        for user in gateways().filter(|s| s.scope == DiscoveryScope::User) {
            if let (Some(p), Some(q)) = (system.port, user.port) {
                if p == q {
                    scan.warnings.push(format!(
                        "user unit {} and system unit {} both serve port {p}: only one can listen. Keep one; to remove the system unit: {}",
                        user.label,
                        system.label,
                        system.removal_command()
                    ));
                }
            }
        }
    }
    let main_pid = runtime.and_then(|r| r.pid);
    for l in &port.listeners {
        // With socket activation the service manager holds the listening socket too.
        if Some(l.pid) == main_pid || l.command == "systemd" {
            continue;
        }
        let who = l.command_line.as_deref().unwrap_or(&l.command);
        scan.warnings.push(match (runtime, main_pid) {
            (Some(r), Some(pid)) => format!(
                "port {} is also held by pid {} ({who}), not by {} (pid {pid})",
                port.port, l.pid, r.name
            ),
            (Some(r), None) => format!(
                "port {} is held by pid {} ({who}), not by the {} service ({})",
                port.port,
                l.pid,
                r.name,
                r.state.label()
            ),
            _ => format!(
                "port {} is held by pid {} ({who}), which no supervisor runs for this profile",
                port.port, l.pid
            ),
        });
    }
    scan
}

/// `connections` (`--deep`): the established connections to the gateway port, without this
/// command's own.
pub(crate) fn connections_view(port: u16) -> ConnectionsView {
    match established_clients(port) {
        Ok(found) => {
            let me = std::process::id();
            let found: Vec<_> = found
                .into_iter()
                .filter(|c| c.client.as_ref().is_none_or(|p| p.pid != me))
                .collect();
            ConnectionsView {
                port,
                count: Some(found.len()),
                clients: found
                    .into_iter()
                    .take(MAX_LISTED_CONNECTIONS)
                    .map(|c| ClientView {
                        peer: c.peer.to_string(),
                        local: c.local.to_string(),
                        pid: c.client.as_ref().map(|p| p.pid),
                        command: c.client.as_ref().map(|p| p.command.clone()),
                        command_line: c.client.and_then(|p| p.command_line),
                    })
                    .collect(),
                detail: None,
            }
        }
        Err(e) => ConnectionsView {
            port,
            count: None,
            clients: vec![],
            detail: Some(format!("cannot list connections: {e}")),
        },
    }
}

pub(crate) fn port_view(port: u16) -> PortView {
    match find_listeners(port) {
        Ok(listeners) => PortView {
            port,
            status: if listeners.is_empty() { "free" } else { "busy" }.to_owned(),
            listeners: listeners
                .into_iter()
                .map(
                    |PortListener {
                         pid,
                         command,
                         command_line,
                     }| ListenerView {
                        pid,
                        command,
                        command_line,
                    },
                )
                .collect(),
            detail: None,
        },
        Err(e) => PortView {
            port,
            status: "unknown".into(),
            listeners: vec![],
            detail: Some(e.to_string()),
        },
    }
}
