//! The profiles doctor audits: the one named by `--profile`/`OPENCLAW_PROFILE`, else every
//! state dir, installed unit, LaunchAgent or scheduled task of a profile on this host.

use std::collections::BTreeMap;

use crate::config::LoadedConfig;
use crate::invocation::{GlobalOptions, Invocation, InvocationError};
use crate::profile::{Profile, ProfileSource};
use crate::service::plan::Plan;
use crate::service::spec::{ServiceSpec, SpecOptions};

use super::supervisor::Supervisor;

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
            sup.doctor().keep_installed(&mut spec);
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
        // The backend's plan: on systemd the installed unit's sandbox level (the one install's
        // probe chose), not the host's best, so a unit at a fallback level is not drift.
        sup.backend(&self.invocation.env).plan_install(spec).ok()
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
    // Installed definitions name profiles too (on macOS also other releases' `ai.openclaw.<p>`).
    for p in sup.doctor().installed_profiles(home) {
        names.insert(p.clone(), Some(p));
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
