//! The profiles doctor audits: the one named by `--profile`/`OPENCLAW_PROFILE`, else every
//! state dir, installed unit, LaunchAgent or scheduled task of a profile on this host.

use std::collections::BTreeMap;

use crate::config::LoadedConfig;
use crate::invocation::{GlobalOptions, Invocation, InvocationError};
use crate::profile::{Profile, ProfileSource};
use crate::service::PlatformKind;
use crate::service::ServiceManager;
use crate::service::launchd::LaunchdPaths;
use crate::service::plan::Plan;
use crate::service::spec::{ServiceSpec, SpecOptions};
use crate::service::systemd::SystemdBackend;
use crate::service::systemd::units;
use crate::service_names::{Treatment, classify_service_name};

use super::supervisor::Supervisor;

use super::*;

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
    pub(super) fn new(label: String, invocation: Invocation, sup: &Supervisor) -> Self {
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
                    for (k, v) in launchd::repair::carried_environment(&plist) {
                        spec.environment.retain(|(key, _)| key != &k);
                        spec.environment.push((k, v));
                    }
                    spec.secret_environment = launchd::repair::handed_over_secrets(&spec);
                    return Some(spec);
                }
                PlatformKind::Windows => {
                    spec.secret_environment = windows::repair::handed_over_secrets(&spec);
                    return Some(spec);
                }
            }
            let unit = units::unit_dir(&spec).join(spec.names.systemd_service_file());
            // Keep an operator's choice of no socket activation in a unit our installer wrote.
            if let Ok(text) = std::fs::read_to_string(&unit) {
                let socket = units::unit_dir(&spec).join(spec.names.systemd_socket_file());
                if systemd::audit::written_by_us(&text)
                    && !socket.exists()
                    && !text.contains(&format!("Requires={}", spec.names.systemd_socket_file()))
                {
                    spec.socket_activation = false;
                }
            }
            let env = std::fs::read_to_string(units::env_file(&spec)).ok();
            spec.secret_environment = systemd::repair::kept_env_file_entries(env.as_deref(), None);
            Some(spec)
        });
        Self {
            label,
            invocation,
            config,
            spec,
        }
    }

    pub(super) fn plan(&self, sup: &Supervisor) -> Option<Plan> {
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
pub(super) fn targets(
    invocation: &Invocation,
    sup: &Supervisor,
) -> Result<Vec<Target>, InvocationError> {
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
            if let Some(m) = classify_service_name(PlatformKind::Linux, &name) {
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
                if let Some(m) = classify_service_name(PlatformKind::Macos, label) {
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

pub(super) fn find_target<'a>(targets: &'a [Target], label: &str) -> Option<&'a Target> {
    targets.iter().find(|t| t.label == label)
}

/// The target of `label` read again from disk: an earlier repair may have changed its config.
pub(super) fn fresh_target(
    targets: &[Target],
    label: &str,
    sup: &Supervisor,
) -> Result<Target, String> {
    let t = find_target(targets, label).ok_or_else(|| format!("unknown profile {label}"))?;
    Ok(Target::new(t.label.clone(), t.invocation.clone(), sup))
}
