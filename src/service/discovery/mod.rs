//! Discovery: gateway-like service definitions on this host, read from files under configurable
//! roots (and, on Windows, from `schtasks /Query /XML ONE` output). This module holds what every
//! platform shares (the classification rules, [`DiscoveredService`], [`discover`] for a
//! platform); each backend folder reads its own definitions (`systemd/discovery.rs`,
//! `launchd/discovery.rs`, `windows/discovery.rs`).
//!
//! Used by `gateway status --deep` and `doctor`. Each definition found is classified
//! ([`ServiceClass`]) by the names table of [`crate::service_names`] first, then by the spec's
//! upstream detection rules (service-management.md §1.2): a unit or plist is gateway-like when
//! its environment carries the marker `openclaw` or `clawdbot`, or its command line has the word
//! `gateway` and mentions `openclaw` or `clawdbot` (a plist also when its label contains
//! `clawdbot`). Our Homebrew formula's job (`homebrew.mxcl.openclaw`, see
//! [`super::launchd::homebrew`]) is classed as our package's service before those rules. Anything
//! else is not reported. Every result carries the exact commands that
//! would remove it; nothing here changes the system.
//!
//! Folders scanned, relative to [`DiscoveryRoots`]:
//! - systemd: `<home>/.config/systemd/user/*.service` (and legacy `*.service.bak` leftovers);
//!   with `include_system`, `<root>/etc/systemd/system`, `<root>/usr/lib/systemd/system`,
//!   `<root>/lib/systemd/system` (a file reached twice through a symlinked `/lib` counts once);
//! - launchd: `<home>/Library/LaunchAgents/*.plist`; with `include_daemons`,
//!   `<root>/Library/LaunchAgents` and `<root>/Library/LaunchDaemons`;
//! - Windows: every registered task in the XML that `schtasks /Query /XML ONE` prints.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::launchd::discovery::discover_launchd;
use super::runner::CommandRunner;
use super::systemd::discovery::discover_systemd;
use super::systemd::drift::flag_value;
use super::windows::discovery::query_windows_tasks;
use super::{PlatformKind, ServiceError};
use crate::environment::Environment;
use crate::service_names::{
    KnownServiceMatch, LEGACY_SERVICE_MARKER, MarkerVerdict, Treatment, classify_marker,
    parse_service_description,
};

/// Test knob: when set (non-empty), the system folders are looked up under this directory
/// instead of `/` (`<root>/etc/systemd/system`, …), so tests can plant "system" units in a temp
/// dir. Not meant for users; it changes nothing but where discovery reads.
pub const DISCOVERY_ROOT_ENV: &str = "OPENCLAW_DISCOVERY_ROOT";

/// systemd system unit folders, relative to [`DiscoveryRoots::root`], in lookup order.
pub const SYSTEMD_SYSTEM_DIRS: [&str; 3] = [
    "etc/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
];

/// Where discovery reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryRoots {
    /// The account home (user units, LaunchAgents, `~/.Trash`).
    pub home: PathBuf,
    /// The file-system root of system folders: `/` normally.
    pub root: PathBuf,
}

impl DiscoveryRoots {
    /// `home` with the system folders under `/`, or under [`DISCOVERY_ROOT_ENV`] when set.
    pub fn from_env(home: impl Into<PathBuf>, env: &Environment) -> Self {
        Self {
            home: home.into(),
            root: env
                .get_nonempty(DISCOVERY_ROOT_ENV)
                .map_or_else(|| PathBuf::from("/"), PathBuf::from),
        }
    }

    pub(crate) fn system_dir(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// Whose supervisor holds the definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscoveryScope {
    /// The account's own manager (user units, `~/Library/LaunchAgents`, logon tasks).
    User,
    /// The machine (system units, `/Library/LaunchDaemons` and `/Library/LaunchAgents`).
    System,
}

impl DiscoveryScope {
    /// `user` / `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::System => "system",
        }
    }
}

/// What a found definition is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ServiceClass {
    /// One of the profile services this project (and every release) writes, by name
    /// (`openclaw-gateway[-p].service`, `bot.molt.*`, `OpenClaw Gateway (p)`) or by our marker
    /// with kind `gateway`. `profile` is `default` for the default profile.
    ProfileService {
        /// The profile the name, arguments or environment name.
        profile: String,
    },
    /// A gateway of another current release (`ai.openclaw.gateway`, `ai.openclaw.<p>`).
    OtherRelease,
    /// A name or marker of an older release (`com.openclaw.*`, clawdbot/moltbot/clawdis names,
    /// marker `clawdbot`, a `clawdbot-gateway.service.bak` leftover).
    Legacy,
    /// Gateway-like by the detection rules, but no name or marker we know.
    Foreign,
    /// The node-host companion service: not a gateway, leave alone.
    NodeCompanion,
    /// Our own package's service: the launchd job `brew services start openclaw` writes
    /// (label `homebrew.mxcl.<formula>`, program an `openclaw` binary). Managed with
    /// `brew services`, never edited or removed by OpenClaw.
    PackagedHomebrew {
        /// The formula (`openclaw`, or a versioned `openclaw@2`).
        formula: String,
    },
}

impl ServiceClass {
    /// True for [`ServiceClass::Legacy`].
    pub fn is_legacy(&self) -> bool {
        matches!(self, Self::Legacy)
    }
}

/// One service definition found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredService {
    /// The supervisor.
    pub platform: PlatformKind,
    /// User or system.
    pub scope: DiscoveryScope,
    /// What it is.
    pub class: ServiceClass,
    /// Unit file name, launchd label or task name.
    pub label: String,
    /// The definition file (none for scheduled tasks).
    pub path: Option<PathBuf>,
    /// `OPENCLAW_SERVICE_MARKER` of its environment.
    pub marker: Option<String>,
    /// The port it serves (`--port` or `OPENCLAW_GATEWAY_PORT` / `CLAWDBOT_GATEWAY_PORT`).
    pub port: Option<u16>,
    /// True when a token or password is written inline in the definition.
    pub embeds_secret: bool,
    /// Where it is and what it runs, one line.
    pub detail: String,
    /// The exact commands that remove it, in order (each a complete shell command).
    pub removal: Vec<String>,
}

impl DiscoveredService {
    /// True for legacy definitions (legacy class or `clawdbot` marker).
    pub fn is_legacy(&self) -> bool {
        self.class.is_legacy() || self.marker.as_deref() == Some(LEGACY_SERVICE_MARKER)
    }

    /// The removal commands as one line (`a && b && c`).
    pub fn removal_command(&self) -> String {
        self.removal.join(" && ")
    }
}

/// What a definition says, platform-independent, before classification.
pub(crate) struct Facts<'a> {
    label: &'a str,
    known: Option<KnownServiceMatch>,
    marker: Option<String>,
    kind: Option<String>,
    /// The command line words.
    argv: Vec<String>,
    /// `OPENCLAW_PROFILE`, `--profile` or the description's profile.
    profile: Option<String>,
    description: Option<String>,
}

pub(crate) fn mentions_release(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("openclaw") || lower.contains(LEGACY_SERVICE_MARKER)
}

/// The detection rules of §1.2 plus the names table; `None` = not gateway-like, not reported.
pub(crate) fn classify(facts: &Facts<'_>, label_rule: bool) -> Option<ServiceClass> {
    let profile_of = |named: Option<String>| {
        named
            .or_else(|| facts.profile.clone())
            .unwrap_or_else(|| "default".to_owned())
    };
    if let Some(known) = &facts.known {
        return Some(match known.entry.treatment {
            Treatment::RecognisedProfileService => ServiceClass::ProfileService {
                profile: profile_of(known.profile.clone()),
            },
            Treatment::OtherReleaseGateway => ServiceClass::OtherRelease,
            Treatment::LegacyToMigrate => ServiceClass::Legacy,
            Treatment::NotAGateway => ServiceClass::NodeCompanion,
        });
    }
    match classify_marker(facts.marker.as_deref(), facts.kind.as_deref()) {
        MarkerVerdict::OpenClawGateway => {
            return Some(ServiceClass::ProfileService {
                profile: profile_of(None),
            });
        }
        MarkerVerdict::LegacyGateway => return Some(ServiceClass::Legacy),
        MarkerVerdict::OtherKind => return Some(ServiceClass::NodeCompanion),
        MarkerVerdict::Unmarked => {}
    }
    if facts
        .description
        .as_deref()
        .is_some_and(|d| d.trim() == "OpenClaw Node Host")
    {
        return Some(ServiceClass::NodeCompanion);
    }
    if let Some(parts) = facts
        .description
        .as_deref()
        .and_then(parse_service_description)
    {
        // `OpenClaw Gateway (profile: p)`: the description every release writes.
        return Some(ServiceClass::ProfileService {
            profile: profile_of(parts.profile),
        });
    }
    let line = facts.argv.join(" ");
    // Word-wise, so `sh -c "openclaw gateway restart"` (a restart-storm job, §3.5) counts.
    let by_command = line.split_whitespace().any(|w| w == "gateway") && mentions_release(&line);
    let by_label = label_rule
        && facts
            .label
            .to_ascii_lowercase()
            .contains(LEGACY_SERVICE_MARKER);
    if !(by_command || by_label) {
        return None;
    }
    let lower = format!("{} {line}", facts.label).to_ascii_lowercase();
    Some(if lower.contains(LEGACY_SERVICE_MARKER) {
        ServiceClass::Legacy
    } else {
        ServiceClass::Foreign
    })
}

/// What the detection rules concluded about one definition.
pub(crate) struct Inspected {
    pub(crate) class: ServiceClass,
    pub(crate) marker: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) embeds_secret: bool,
    pub(crate) argv: Vec<String>,
}

impl Inspected {
    /// The service found in the definition file `path` (its detail: the file and what it runs).
    pub(crate) fn found_in(
        self,
        path: &Path,
        platform: PlatformKind,
        scope: DiscoveryScope,
        label: String,
        removal: Vec<String>,
    ) -> DiscoveredService {
        DiscoveredService {
            platform,
            scope,
            label,
            path: Some(path.to_owned()),
            detail: summary(path, &self.argv, self.port),
            class: self.class,
            marker: self.marker,
            port: self.port,
            embeds_secret: self.embeds_secret,
            removal,
        }
    }
}

/// Classifies a definition from its name, command line, description and environment (`env`
/// answers non-empty values only). `label_rule`: a label containing `clawdbot` is gateway-like
/// (launchd).
pub(crate) fn inspect(
    label: &str,
    known: Option<KnownServiceMatch>,
    argv: Vec<String>,
    description: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
    label_rule: bool,
) -> Option<Inspected> {
    let facts = Facts {
        label,
        known,
        marker: env("OPENCLAW_SERVICE_MARKER"),
        kind: env("OPENCLAW_SERVICE_KIND"),
        profile: env("OPENCLAW_PROFILE")
            .or_else(|| flag_value(&argv, "--profile"))
            .or_else(|| {
                description
                    .as_deref()
                    .and_then(parse_service_description)
                    .and_then(|d| d.profile)
            }),
        description,
        argv,
    };
    let class = classify(&facts, label_rule)?;
    let port = port_of(
        flag_value(&facts.argv, "--port").as_deref(),
        &[env("OPENCLAW_GATEWAY_PORT"), env("CLAWDBOT_GATEWAY_PORT")],
    );
    let embeds_secret =
        SECRET_VARS.iter().any(|k| env(k).is_some()) || argv_embeds_secret(&facts.argv);
    Some(Inspected {
        class,
        marker: facts.marker,
        port,
        embeds_secret,
        argv: facts.argv,
    })
}

/// `--port N` / `--port=N`, else a `[host:]port` environment value.
pub(crate) fn port_of(flag: Option<&str>, env_values: &[Option<String>]) -> Option<u16> {
    let parse = |v: &str| v.trim().rsplit(':').next()?.parse::<u16>().ok();
    flag.and_then(parse)
        .or_else(|| env_values.iter().flatten().find_map(|v| parse(v)))
        .filter(|p| *p > 0)
}

const SECRET_VARS: [&str; 4] = [
    "OPENCLAW_GATEWAY_TOKEN",
    "OPENCLAW_GATEWAY_PASSWORD",
    "CLAWDBOT_GATEWAY_TOKEN",
    "CLAWDBOT_GATEWAY_PASSWORD",
];

pub(crate) fn argv_embeds_secret(argv: &[String]) -> bool {
    argv.iter().any(|a| {
        a == "--token"
            || a == "--password"
            || a.starts_with("--token=")
            || a.starts_with("--password=")
    })
}

pub(crate) fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    files.sort();
    files
}

pub(crate) fn summary(path: &Path, argv: &[String], port: Option<u16>) -> String {
    let mut detail = path.display().to_string();
    if !argv.is_empty() {
        detail.push_str(&format!(", runs {}", argv.join(" ")));
    }
    if let Some(p) = port.filter(|p| !argv.iter().any(|a| a.ends_with(&p.to_string()))) {
        detail.push_str(&format!(", port {p}"));
    }
    detail
}

/// The gateway-like services of `platform`'s supervisor: its user definitions always; with
/// `deep`, its system folders, LaunchDaemons, and the scheduled tasks (listing every task is slow,
/// so none without `deep`; `runner` runs `schtasks`).
pub fn discover(
    platform: PlatformKind,
    roots: &DiscoveryRoots,
    deep: bool,
    runner: &mut dyn CommandRunner,
) -> Result<Vec<DiscoveredService>, ServiceError> {
    match platform {
        PlatformKind::Linux => Ok(discover_systemd(roots, deep)),
        PlatformKind::Macos => Ok(discover_launchd(roots, deep)),
        PlatformKind::Windows if deep => query_windows_tasks(runner),
        PlatformKind::Windows => Ok(Vec::new()),
    }
}

/// True when `s` is one of the gateway services of this project's profiles in the user scope:
/// never an "extra" service. Everything else gateway-like (system scope, other releases, legacy,
/// foreign) is worth a warning; node companions are left alone.
pub fn is_extra(s: &DiscoveredService) -> bool {
    !matches!(
        (&s.class, s.scope),
        (ServiceClass::NodeCompanion, _)
            | (ServiceClass::ProfileService { .. }, DiscoveryScope::User)
    )
}

#[cfg(test)]
mod tests;
