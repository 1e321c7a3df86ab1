//! systemd's part of [discovery](crate::service::discovery): gateway-like unit files in the
//! user folder and, with `include_system`, the system folders.

use std::collections::HashSet;
use std::path::Path;

use crate::service::PlatformKind;
use crate::service::discovery::SYSTEMD_SYSTEM_DIRS;
use crate::service::discovery::{
    DiscoveredService, DiscoveryRoots, DiscoveryScope, files_in, inspect,
};
use crate::service::plan::shell_quote;
use crate::service::systemd::drift::UnitFile;
use crate::service_names::*;

/// systemd unit files (`.service`, legacy `.service.bak`) of gateway-like services: the user
/// folder always, the system folders with `include_system`.
pub fn discover_systemd(roots: &DiscoveryRoots, include_system: bool) -> Vec<DiscoveredService> {
    let mut dirs = vec![(
        DiscoveryScope::User,
        roots.home.join(".config/systemd/user"),
    )];
    if include_system {
        dirs.extend(
            SYSTEMD_SYSTEM_DIRS
                .iter()
                .map(|rel| (DiscoveryScope::System, roots.system_dir(rel))),
        );
    }
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for (scope, dir) in dirs {
        for path in files_in(&dir, |n| {
            n.ends_with(".service") || n.ends_with(".service.bak")
        }) {
            let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if !seen.insert(canonical) {
                continue;
            }
            if let Some(service) = systemd_unit(scope, &path) {
                found.push(service);
            }
        }
    }
    found
}

fn systemd_unit(scope: DiscoveryScope, path: &Path) -> Option<DiscoveredService> {
    let name = path.file_name()?.to_str()?.to_owned();
    let known = classify_service_name(PlatformKind::Linux, &name);
    if let Some(base) = name.strip_suffix(".bak") {
        // A backup is not loaded by systemd: only a legacy leftover is worth reporting. Our own
        // `<unit>.service.bak` belongs to install (doctor audits its mode and contents).
        let base_known = classify_service_name(PlatformKind::Linux, base);
        let legacy = |k: &Option<KnownServiceMatch>| {
            k.as_ref()
                .is_some_and(|k| k.entry.treatment == Treatment::LegacyToMigrate)
        };
        if !legacy(&known) && !legacy(&base_known) {
            return None;
        }
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let unit = UnitFile::parse(&text);
    let env = |k: &str| unit.environment(k).filter(|v| !v.is_empty());
    let found = inspect(
        &name,
        known,
        unit.exec_start(),
        unit.last("Unit", "Description").map(str::to_owned),
        &env,
        false,
    )?;
    let quoted = shell_quote(&path.display().to_string());
    let removal = if name.ends_with(".bak") {
        match scope {
            DiscoveryScope::User => vec![format!("rm {quoted}")],
            DiscoveryScope::System => vec![format!("sudo rm {quoted}")],
        }
    } else {
        let unit_name = shell_quote(&name);
        match scope {
            DiscoveryScope::User => vec![
                format!("systemctl --user disable --now {unit_name}"),
                format!("rm {quoted}"),
                "systemctl --user daemon-reload".to_owned(),
            ],
            DiscoveryScope::System => vec![
                format!("sudo systemctl disable --now {unit_name}"),
                format!("sudo rm {quoted}"),
                "sudo systemctl daemon-reload".to_owned(),
            ],
        }
    };
    Some(found.found_in(path, PlatformKind::Linux, scope, name, removal))
}
