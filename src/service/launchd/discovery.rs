//! launchd's part of [discovery](crate::service::discovery): gateway-like LaunchAgents of the
//! user and, with `include_daemons`, the system's LaunchAgents and LaunchDaemons.

use std::path::Path;

use crate::service::PlatformKind;
use crate::service::discovery::{
    DiscoveredService, DiscoveryRoots, DiscoveryScope, ServiceClass, files_in, inspect, summary,
};
use crate::service::launchd::homebrew;
use crate::service::plan::shell_quote;
use crate::service_names::*;

/// A launchd job definition read with the `plist` crate (XML or binary).
#[derive(Debug, Clone, Default)]
pub struct PlistJob {
    /// The top-level dictionary.
    pub dict: plist::Dictionary,
    /// `ProgramArguments`, else `[Program]`.
    pub argv: Vec<String>,
}

impl PlistJob {
    /// Reads `path`; `None` when it is not a plist dictionary.
    pub fn read(path: &Path) -> Option<Self> {
        Some(Self::from_dict(
            plist::Value::from_file(path).ok()?.into_dictionary()?,
        ))
    }

    /// The job of a parsed plist dictionary.
    pub fn from_dict(dict: plist::Dictionary) -> Self {
        let mut argv: Vec<String> = dict
            .get("ProgramArguments")
            .and_then(plist::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(plist::Value::as_string)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if argv.is_empty() {
            argv.extend(
                dict.get("Program")
                    .and_then(plist::Value::as_string)
                    .map(str::to_owned),
            );
        }
        Self { dict, argv }
    }

    /// A top-level string value.
    pub fn string(&self, key: &str) -> Option<String> {
        self.dict
            .get(key)
            .and_then(plist::Value::as_string)
            .map(str::to_owned)
    }

    /// A non-empty `EnvironmentVariables` value.
    pub fn env(&self, key: &str) -> Option<String> {
        self.dict
            .get("EnvironmentVariables")
            .and_then(plist::Value::as_dictionary)
            .and_then(|d| d.get(key))
            .and_then(plist::Value::as_string)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// LaunchAgents (and with `include_daemons`, `/Library/LaunchAgents` and
/// `/Library/LaunchDaemons` under the root) of gateway-like jobs. Plists are read with the
/// `plist` crate (XML or binary); unreadable ones are classified by their file name only.
pub fn discover_launchd(roots: &DiscoveryRoots, include_daemons: bool) -> Vec<DiscoveredService> {
    let mut dirs = vec![(
        DiscoveryScope::User,
        false,
        roots.home.join("Library/LaunchAgents"),
    )];
    if include_daemons {
        dirs.push((
            DiscoveryScope::System,
            false,
            roots.system_dir("Library/LaunchAgents"),
        ));
        dirs.push((
            DiscoveryScope::System,
            true,
            roots.system_dir("Library/LaunchDaemons"),
        ));
    }
    let mut found = Vec::new();
    for (scope, daemon, dir) in dirs {
        for path in files_in(&dir, |n| n.ends_with(".plist")) {
            if let Some(service) = launchd_job(roots, scope, daemon, &path) {
                found.push(service);
            }
        }
    }
    found
}

fn launchd_job(
    roots: &DiscoveryRoots,
    scope: DiscoveryScope,
    daemon: bool,
    path: &Path,
) -> Option<DiscoveredService> {
    let stem = path
        .file_name()?
        .to_str()?
        .strip_suffix(".plist")?
        .to_owned();
    let job = PlistJob::read(path).unwrap_or_default();
    let label = job.string("Label").unwrap_or(stem);
    let env = |k: &str| job.env(k);
    let argv = job.argv.clone();
    let found = inspect(
        &label,
        classify_service_name(PlatformKind::Macos, &label),
        argv,
        job.string("Comment"),
        &env,
        true,
    )?;
    if let (Some(formula), false) = (
        homebrew::formula_of_label(&label).filter(|_| homebrew::runs_openclaw(&job.argv)),
        found.class == ServiceClass::NodeCompanion,
    ) {
        let formula = formula.to_owned();
        let info = homebrew::brew_services("info", &formula, daemon);
        return Some(DiscoveredService {
            platform: PlatformKind::Macos,
            scope,
            label,
            path: Some(path.to_owned()),
            marker: found.marker,
            port: found.port,
            embeds_secret: found.embeds_secret,
            detail: format!(
                "{}, packaged (Homebrew): managed with brew services ({info})",
                summary(path, &found.argv, found.port)
            ),
            removal: vec![homebrew::brew_services("stop", &formula, daemon)],
            class: ServiceClass::PackagedHomebrew { formula },
        });
    }
    let quoted = shell_quote(&path.display().to_string());
    let q_label = shell_quote(&label);
    let removal = if daemon {
        vec![
            format!("sudo launchctl bootout system/{q_label}"),
            format!("sudo rm {quoted}"),
        ]
    } else {
        let trash = roots.home.join(".Trash").join(format!("{label}.plist"));
        let mv = format!("mv {quoted} {}", shell_quote(&trash.display().to_string()));
        vec![
            format!("launchctl bootout gui/$(id -u)/{q_label}"),
            if scope == DiscoveryScope::System {
                format!("sudo {mv}")
            } else {
                mv
            },
        ]
    };
    Some(found.found_in(path, PlatformKind::Macos, scope, label, removal))
}
