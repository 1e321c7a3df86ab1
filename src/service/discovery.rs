//! Discovery: gateway-like service definitions on this host, for any platform, read from files
//! under configurable roots (and, on Windows, from `schtasks /Query /XML ONE` output).
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

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::launchd::homebrew;
use super::plan::shell_quote;
use super::runner::CommandRunner;
use super::systemd::drift::{UnitFile, flag_value, split_words};
use super::windows::schtasks::Schtasks;
use super::windows::task_xml::{TaskDefinition, normalise_query_output, parse_task_xml};
use super::{PlatformKind, ServiceError};
use crate::environment::Environment;
use crate::service_names::{
    KnownServiceMatch, LEGACY_SERVICE_MARKER, MarkerVerdict, Treatment, classify_marker,
    classify_service_name, parse_service_description,
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

    fn system_dir(&self, rel: &str) -> PathBuf {
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
struct Facts<'a> {
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

fn mentions_release(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("openclaw") || lower.contains(LEGACY_SERVICE_MARKER)
}

/// The detection rules of §1.2 plus the names table; `None` = not gateway-like, not reported.
fn classify(facts: &Facts<'_>, label_rule: bool) -> Option<ServiceClass> {
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
struct Inspected {
    class: ServiceClass,
    marker: Option<String>,
    port: Option<u16>,
    embeds_secret: bool,
    argv: Vec<String>,
}

/// Classifies a definition from its name, command line, description and environment (`env`
/// answers non-empty values only). `label_rule`: a label containing `clawdbot` is gateway-like
/// (launchd).
fn inspect(
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

fn argv_embeds_secret(argv: &[String]) -> bool {
    argv.iter().any(|a| {
        a == "--token"
            || a == "--password"
            || a.starts_with("--token=")
            || a.starts_with("--password=")
    })
}

fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
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

fn summary(path: &Path, argv: &[String], port: Option<u16>) -> String {
    let mut detail = path.display().to_string();
    if !argv.is_empty() {
        detail.push_str(&format!(", runs {}", argv.join(" ")));
    }
    if let Some(p) = port.filter(|p| !argv.iter().any(|a| a.ends_with(&p.to_string()))) {
        detail.push_str(&format!(", port {p}"));
    }
    detail
}

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
    Some(DiscoveredService {
        platform: PlatformKind::Linux,
        scope,
        class: found.class,
        label: name,
        path: Some(path.to_owned()),
        marker: found.marker,
        port: found.port,
        embeds_secret: found.embeds_secret,
        detail: summary(path, &found.argv, found.port),
        removal,
    })
}

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
    Some(DiscoveredService {
        platform: PlatformKind::Macos,
        scope,
        class: found.class,
        label,
        path: Some(path.to_owned()),
        marker: found.marker,
        port: found.port,
        embeds_secret: found.embeds_secret,
        detail: summary(path, &found.argv, found.port),
        removal,
    })
}

/// The `schtasks` arguments whose output [`discover_windows_tasks`] reads: every registered
/// task as XML in one `<Tasks>` document, each preceded by a `<!-- \Path\Name -->` comment.
pub fn windows_task_query_args() -> Vec<String> {
    ["/Query", "/XML", "ONE"].map(str::to_owned).to_vec()
}

/// Gateway-like scheduled tasks in `schtasks /Query /XML ONE` output (see
/// [`windows_task_query_args`]). Tasks whose XML cannot be parsed are skipped. Only run with
/// `--deep`: listing every task is slow.
pub fn discover_windows_tasks(query_output: &str) -> Vec<DiscoveredService> {
    let text = normalise_query_output(query_output);
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<!--") {
        rest = &rest[start + 4..];
        let Some(end) = rest.find("-->") else { break };
        let name = rest[..end].trim().trim_start_matches('\\').to_owned();
        rest = &rest[end + 3..];
        let Some(task_start) = rest.find("<Task") else {
            continue;
        };
        let Some(task_end) = rest.find("</Task>") else {
            continue;
        };
        if task_end < task_start {
            continue;
        }
        let xml = &rest[task_start..task_end + "</Task>".len()];
        rest = &rest[task_end..];
        if let Ok(def) = parse_task_xml(xml) {
            found.extend(windows_task(&name, &def));
        }
    }
    found
}

/// Runs `schtasks /Query /XML ONE` through `runner` and reads the gateway-like tasks from it.
pub fn query_windows_tasks(
    runner: &mut dyn CommandRunner,
) -> Result<Vec<DiscoveredService>, ServiceError> {
    let out = Schtasks::new(runner).run(&windows_task_query_args())?;
    if !out.success() {
        return Err(ServiceError::new(
            "task-query-failed",
            format!("schtasks /Query /XML ONE failed: {}", out.detail()),
        ));
    }
    Ok(discover_windows_tasks(&out.stdout))
}

fn windows_task(name: &str, def: &TaskDefinition) -> Option<DiscoveredService> {
    let command = def.command().unwrap_or_default();
    let arguments = def.arguments().unwrap_or_default();
    let mut argv = vec![command.to_owned()];
    argv.extend(split_words(arguments));
    argv.retain(|w| !w.is_empty());
    // Tasks carry no environment we can read here: the name table, the description and the
    // command line decide.
    let found = inspect(
        name,
        classify_service_name(PlatformKind::Windows, name),
        argv,
        def.get("RegistrationInfo/Description").map(str::to_owned),
        &|_| None,
        false,
    )?;
    Some(DiscoveredService {
        platform: PlatformKind::Windows,
        scope: DiscoveryScope::User,
        class: found.class,
        label: name.to_owned(),
        path: None,
        marker: None,
        port: found.port,
        embeds_secret: found.embeds_secret,
        detail: format!("task runs {}", found.argv.join(" ")),
        removal: vec![format!("schtasks /Delete /F /TN \"{name}\"")],
    })
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
mod tests {
    use super::*;

    /// The unit the reference release writes (service-management.md §9), placeholders filled.
    const REFERENCE_UNIT: &str = "[Unit]
Description=OpenClaw Gateway
After=network-online.target
Wants=network-online.target
StartLimitBurst=10
StartLimitIntervalSec=300

[Service]
ExecStart=/usr/bin/node --max-old-space-size=8192 /usr/lib/node_modules/openclaw/dist/index.js gateway --port 18789
Restart=always
RestartSec=5
RestartPreventExitStatus=78
TimeoutStopSec=330
KillMode=mixed
Environment=HOME=/home/u
Environment=PATH=/usr/local/bin:/usr/bin:/bin
Environment=NODE_OPTIONS=
Environment=OPENCLAW_GATEWAY_PORT=18789
Environment=OPENCLAW_SYSTEMD_UNIT=openclaw-gateway.service
Environment=\"OPENCLAW_WINDOWS_TASK_NAME=OpenClaw Gateway\"
Environment=OPENCLAW_WINDOWS_TASK_HIDDEN_LAUNCHER=1
Environment=OPENCLAW_SERVICE_MARKER=openclaw
Environment=OPENCLAW_SERVICE_KIND=gateway

[Install]
WantedBy=default.target
";

    struct Host {
        dir: tempfile::TempDir,
    }

    impl Host {
        fn new() -> Self {
            Self {
                dir: tempfile::tempdir().unwrap(),
            }
        }
        fn roots(&self) -> DiscoveryRoots {
            DiscoveryRoots {
                home: self.dir.path().join("home"),
                root: self.dir.path().join("root"),
            }
        }
        fn put(&self, rel: &str, text: &str) -> PathBuf {
            let path = self.dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }
        fn user_unit(&self, name: &str, text: &str) -> PathBuf {
            self.put(&format!("home/.config/systemd/user/{name}"), text)
        }
        fn system_unit(&self, dir: &str, name: &str, text: &str) -> PathBuf {
            self.put(&format!("root/{dir}/{name}"), text)
        }
    }

    fn by_label<'a>(found: &'a [DiscoveredService], label: &str) -> &'a DiscoveredService {
        found
            .iter()
            .find(|s| s.label == label)
            .unwrap_or_else(|| panic!("{label} not found in {found:#?}"))
    }

    fn profile(p: &str) -> ServiceClass {
        ServiceClass::ProfileService {
            profile: p.to_owned(),
        }
    }

    #[test]
    fn the_reference_release_unit_is_a_profile_service_with_its_port() {
        let host = Host::new();
        let path = host.user_unit("openclaw-gateway.service", REFERENCE_UNIT);
        let found = discover_systemd(&host.roots(), false);
        assert_eq!(found.len(), 1, "{found:#?}");
        let s = &found[0];
        assert_eq!(s.class, profile("default"));
        assert_eq!(s.scope, DiscoveryScope::User);
        assert_eq!(s.marker.as_deref(), Some("openclaw"));
        assert_eq!(s.port, Some(18789));
        assert!(!s.embeds_secret);
        assert!(!is_extra(s));
        assert_eq!(
            s.removal,
            [
                "systemctl --user disable --now openclaw-gateway.service".to_owned(),
                format!("rm {}", path.display()),
                "systemctl --user daemon-reload".to_owned(),
            ]
        );
    }

    #[test]
    fn the_same_unit_in_a_system_folder_is_reported_as_extra_with_sudo_removal() {
        let host = Host::new();
        let path = host.system_unit(
            "etc/systemd/system",
            "openclaw-gateway.service",
            REFERENCE_UNIT,
        );
        assert!(
            discover_systemd(&host.roots(), false).is_empty(),
            "system folders only with include_system"
        );
        let found = discover_systemd(&host.roots(), true);
        let s = by_label(&found, "openclaw-gateway.service");
        assert_eq!(s.scope, DiscoveryScope::System);
        assert!(is_extra(s));
        assert_eq!(
            s.removal_command(),
            format!(
                "sudo systemctl disable --now openclaw-gateway.service && sudo rm {} && sudo systemctl daemon-reload",
                path.display()
            )
        );
    }

    #[test]
    fn legacy_names_markers_and_bak_leftovers_are_legacy() {
        let host = Host::new();
        host.user_unit(
            "clawdbot-gateway.service",
            "[Service]\nExecStart=/usr/bin/clawdbot gateway --port 18789\n",
        );
        host.user_unit(
            "clawdbot-gateway.service.bak",
            "[Service]\nExecStart=/usr/bin/clawdbot gateway\n",
        );
        host.user_unit(
            "moltbot-gateway.service",
            "[Service]\nExecStart=/usr/bin/moltbot gateway\n",
        );
        host.user_unit(
            "my-bot.service",
            "[Service]\nExecStart=/opt/bot/run\nEnvironment=OPENCLAW_SERVICE_MARKER=clawdbot CLAWDBOT_GATEWAY_PORT=127.0.0.1:19999\n",
        );
        let found = discover_systemd(&host.roots(), false);
        assert_eq!(found.len(), 4, "{found:#?}");
        for s in &found {
            assert_eq!(s.class, ServiceClass::Legacy, "{}", s.label);
            assert!(s.is_legacy() && is_extra(s));
        }
        let bak = by_label(&found, "clawdbot-gateway.service.bak");
        assert_eq!(bak.removal.len(), 1, "a backup is only deleted");
        assert!(bak.removal[0].starts_with("rm "));
        assert_eq!(by_label(&found, "my-bot.service").port, Some(19999));
        assert_eq!(
            by_label(&found, "clawdbot-gateway.service").port,
            Some(18789)
        );
    }

    #[test]
    fn our_own_backups_and_unrelated_units_are_not_reported() {
        let host = Host::new();
        host.user_unit("openclaw-gateway.service.bak", REFERENCE_UNIT);
        host.user_unit("openclaw-gateway.socket", "[Socket]\nListenStream=18789\n");
        host.user_unit(
            "nginx.service",
            "[Service]\nExecStart=/usr/sbin/nginx -g 'daemon off;'\n",
        );
        host.user_unit(
            "api-gateway.service",
            "[Service]\nExecStart=/usr/bin/kong gateway start\n",
        );
        host.user_unit("notes.service.bak", "[Service]\nExecStart=/bin/true\n");
        assert_eq!(discover_systemd(&host.roots(), false), []);
    }

    #[test]
    fn node_companions_are_found_but_never_extra() {
        let host = Host::new();
        host.user_unit(
            "openclaw-node.service",
            "[Unit]\nDescription=OpenClaw Node Host\n[Service]\nExecStart=/usr/bin/openclaw node run\n",
        );
        host.user_unit(
            "custom-node.service",
            "[Service]\nExecStart=/usr/bin/openclaw node run\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw OPENCLAW_SERVICE_KIND=node\n",
        );
        let found = discover_systemd(&host.roots(), false);
        assert_eq!(found.len(), 2, "{found:#?}");
        for s in &found {
            assert_eq!(s.class, ServiceClass::NodeCompanion);
            assert!(!is_extra(s));
        }
    }

    #[test]
    fn a_foreign_gateway_like_unit_and_marked_custom_units_are_classified() {
        let host = Host::new();
        host.system_unit(
            "usr/lib/systemd/system",
            "my-claw.service",
            "[Service]\nExecStart=/opt/openclaw/bin/openclaw gateway run --port 18789\nEnvironment=OPENCLAW_GATEWAY_TOKEN=s3cret\n",
        );
        host.user_unit(
            "gw-work.service",
            "[Service]\nExecStart=/usr/bin/openclaw gateway run --profile work --port 41984\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw\n",
        );
        host.user_unit(
            "openclaw-gateway-rescue.service",
            "[Service]\nExecStart=/usr/bin/openclaw gateway run --profile rescue\n",
        );
        let found = discover_systemd(&host.roots(), true);
        let foreign = by_label(&found, "my-claw.service");
        assert_eq!(foreign.class, ServiceClass::Foreign);
        assert_eq!(foreign.scope, DiscoveryScope::System);
        assert!(foreign.embeds_secret);
        assert_eq!(foreign.port, Some(18789));
        assert!(
            foreign
                .detail
                .contains("runs /opt/openclaw/bin/openclaw gateway run")
        );
        assert!(!foreign.detail.contains("s3cret"));
        assert_eq!(by_label(&found, "gw-work.service").class, profile("work"));
        assert_eq!(
            by_label(&found, "openclaw-gateway-rescue.service").class,
            profile("rescue")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_unit_reached_through_a_symlinked_lib_folder_counts_once() {
        let host = Host::new();
        host.system_unit(
            "usr/lib/systemd/system",
            "clawdis-gateway.service",
            "[Service]\nExecStart=/usr/bin/clawdis gateway\n",
        );
        std::os::unix::fs::symlink("usr/lib", host.dir.path().join("root/lib")).unwrap();
        let found = discover_systemd(&host.roots(), true);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].class, ServiceClass::Legacy);
    }

    fn plist(label: &str, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut dict = plist::Dictionary::new();
        dict.insert("Label".into(), label.into());
        dict.insert(
            "ProgramArguments".into(),
            plist::Value::Array(args.iter().map(|a| (*a).into()).collect()),
        );
        if !env.is_empty() {
            let mut e = plist::Dictionary::new();
            for (k, v) in env {
                e.insert((*k).into(), (*v).into());
            }
            dict.insert("EnvironmentVariables".into(), e.into());
        }
        let mut out = Vec::new();
        plist::Value::Dictionary(dict)
            .to_writer_xml(&mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn launch_agents_and_daemons_are_classified_by_label_marker_and_arguments() {
        let host = Host::new();
        let agents = "home/Library/LaunchAgents";
        host.put(
            &format!("{agents}/bot.molt.rescue.plist"),
            &plist(
                "bot.molt.rescue",
                &["/usr/local/bin/openclaw", "gateway", "run"],
                &[],
            ),
        );
        host.put(
            &format!("{agents}/ai.openclaw.gateway.plist"),
            &plist(
                "ai.openclaw.gateway",
                &[
                    "/bin/sh",
                    "wrapper.sh",
                    "node",
                    "entry.js",
                    "gateway",
                    "--port",
                    "18789",
                ],
                &[],
            ),
        );
        host.put(
            &format!("{agents}/com.steipete.clawdbot.gateway.plist"),
            &plist("com.steipete.clawdbot.gateway", &["/usr/bin/true"], &[]),
        );
        host.put(
            &format!("{agents}/ai.openclaw.node.plist"),
            &plist("ai.openclaw.node", &["openclaw", "node", "run"], &[]),
        );
        host.put(
            &format!("{agents}/com.example.watch.plist"),
            &plist(
                "com.example.watch",
                &["/bin/sh", "-c", "openclaw gateway restart"],
                &[("OPENCLAW_GATEWAY_TOKEN", "t")],
            ),
        );
        host.put(
            &format!("{agents}/com.apple.unrelated.plist"),
            &plist("com.apple.unrelated", &["/usr/bin/gateway"], &[]),
        );
        host.put(
            "root/Library/LaunchDaemons/org.lab.claw.plist",
            &plist(
                "org.lab.claw",
                &["/opt/openclaw", "gateway"],
                &[("OPENCLAW_SERVICE_MARKER", "openclaw")],
            ),
        );
        let user_only = discover_launchd(&host.roots(), false);
        assert_eq!(user_only.len(), 5, "{user_only:#?}");
        let found = discover_launchd(&host.roots(), true);
        assert_eq!(found.len(), 6, "{found:#?}");
        assert_eq!(by_label(&found, "bot.molt.rescue").class, profile("rescue"));
        let other = by_label(&found, "ai.openclaw.gateway");
        assert_eq!(other.class, ServiceClass::OtherRelease);
        assert_eq!(other.port, Some(18789));
        assert_eq!(
            other.removal[0],
            "launchctl bootout gui/$(id -u)/ai.openclaw.gateway"
        );
        assert!(other.removal[1].ends_with("home/.Trash/ai.openclaw.gateway.plist"));
        assert_eq!(
            by_label(&found, "com.steipete.clawdbot.gateway").class,
            ServiceClass::Legacy
        );
        assert_eq!(
            by_label(&found, "ai.openclaw.node").class,
            ServiceClass::NodeCompanion
        );
        let watch = by_label(&found, "com.example.watch");
        assert_eq!(watch.class, ServiceClass::Foreign);
        assert!(watch.embeds_secret);
        let daemon = by_label(&found, "org.lab.claw");
        assert_eq!(daemon.scope, DiscoveryScope::System);
        assert_eq!(daemon.class, profile("default"));
        assert!(is_extra(daemon));
        assert_eq!(
            daemon.removal[0],
            "sudo launchctl bootout system/org.lab.claw"
        );
    }

    #[test]
    fn scheduled_tasks_are_read_from_the_query_xml() {
        let task = |desc: &str, cmd: &str, args: &str| {
            format!(
                "<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><RegistrationInfo><Description>{desc}</Description></RegistrationInfo><Actions Context=\"Author\"><Exec><Command>{cmd}</Command><Arguments>{args}</Arguments></Exec></Actions></Task>"
            )
        };
        let out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Tasks>\r\n<!-- \\Microsoft\\Windows\\Defrag\\ScheduledDefrag -->\r\n{}\r\n<!-- \\OpenClaw Gateway (rescue) -->\r\n{}\r\n<!-- \\Clawdbot Gateway -->\r\n{}\r\n<!-- \\My Claw -->\r\n{}\r\n<!-- \\OpenClaw Node -->\r\n{}\r\n</Tasks>\r\n",
            task("defrag", "%windir%\\system32\\defrag.exe", "-c"),
            task(
                "OpenClaw Gateway (profile: rescue)",
                "C:\\Users\\u\\openclaw.exe",
                "gateway run --profile rescue --port 23532"
            ),
            task("", "C:\\clawdbot\\gateway.cmd", ""),
            task(
                "",
                "C:\\tools\\openclaw.exe",
                "gateway run --port 18789 --token abc"
            ),
            task("OpenClaw Node Host", "C:\\openclaw.exe", "node run"),
        );
        let found = discover_windows_tasks(&out);
        assert_eq!(found.len(), 4, "{found:#?}");
        let ours = by_label(&found, "OpenClaw Gateway (rescue)");
        assert_eq!(ours.class, profile("rescue"));
        assert_eq!(ours.port, Some(23532));
        assert_eq!(
            by_label(&found, "Clawdbot Gateway").class,
            ServiceClass::Legacy
        );
        let foreign = by_label(&found, "My Claw");
        assert_eq!(foreign.class, ServiceClass::Foreign);
        assert!(foreign.embeds_secret);
        assert_eq!(foreign.removal, ["schtasks /Delete /F /TN \"My Claw\""]);
        assert_eq!(
            by_label(&found, "OpenClaw Node").class,
            ServiceClass::NodeCompanion
        );
        assert_eq!(windows_task_query_args(), ["/Query", "/XML", "ONE"]);
    }

    #[test]
    fn the_task_query_runs_through_the_runner_and_finds_a_foreign_task() {
        use crate::service::windows::fake::{FakeSchtasks, FakeTask};
        let mut fake = FakeSchtasks::new();
        let task = |args: &str| FakeTask {
            xml: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><Actions><Exec><Command>C:\\oc\\openclaw.exe</Command><Arguments>{args}</Arguments></Exec></Actions></Task>"
            ),
            running: false,
            stopping: None,
            last_result: 0,
            runs: 0,
        };
        fake.0
            .borrow_mut()
            .tasks
            .insert("Claw Rescue".into(), task("gateway run --port 18800"));
        fake.0
            .borrow_mut()
            .tasks
            .insert("Backup".into(), task("backup now"));
        let found = query_windows_tasks(&mut fake).unwrap();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].label, "Claw Rescue");
        assert_eq!(found[0].class, ServiceClass::Foreign);
        assert_eq!(found[0].port, Some(18800));
        assert_eq!(fake.0.borrow().calls, ["schtasks /Query /XML ONE"]);
    }

    #[test]
    fn the_test_root_knob_moves_only_the_system_folders() {
        let env = Environment::empty().with(DISCOVERY_ROOT_ENV, "/tmp/x");
        let roots = DiscoveryRoots::from_env("/home/u", &env);
        assert_eq!(roots.root, PathBuf::from("/tmp/x"));
        assert_eq!(roots.home, PathBuf::from("/home/u"));
        let roots = DiscoveryRoots::from_env("/home/u", &Environment::empty());
        assert_eq!(roots.root, PathBuf::from("/"));
    }

    #[test]
    fn our_homebrew_formula_job_is_the_packaged_homebrew_class_with_brew_services_commands() {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let plist = super::homebrew::plant_formula_agent(home.path());
        // A versioned formula as a LaunchDaemon (`sudo brew services start openclaw@2`).
        let daemons = root.path().join("Library/LaunchDaemons");
        std::fs::create_dir_all(&daemons).unwrap();
        std::fs::write(
            daemons.join("homebrew.mxcl.openclaw@2.plist"),
            super::homebrew::formula_plist("/usr/local", "/var/root")
                .replace("homebrew.mxcl.openclaw<", "homebrew.mxcl.openclaw@2<")
                .replace("/opt/openclaw/", "/opt/openclaw@2/"),
        )
        .unwrap();
        // Another formula's job running something else is not ours.
        std::fs::write(
            home.path()
                .join("Library/LaunchAgents/homebrew.mxcl.redis.plist"),
            super::homebrew::formula_plist("/opt/homebrew", "/Users/u")
                .replace("homebrew.mxcl.openclaw", "homebrew.mxcl.redis")
                .replace("/opt/openclaw/bin/openclaw", "/opt/redis/bin/redis-server")
                .replace("OPENCLAW_SERVICE", "REDIS")
                .replace("gateway", "server")
                .replace("openclaw", "redis"),
        )
        .unwrap();
        let roots = DiscoveryRoots {
            home: home.path().to_owned(),
            root: root.path().to_owned(),
        };
        let found = discover_launchd(&roots, true);
        let brew: Vec<_> = found
            .iter()
            .filter(|s| matches!(s.class, ServiceClass::PackagedHomebrew { .. }))
            .collect();
        assert_eq!(brew.len(), 2, "{found:#?}");
        let user = brew[0];
        assert_eq!(user.label, "homebrew.mxcl.openclaw");
        assert_eq!(user.scope, DiscoveryScope::User);
        assert_eq!(user.path.as_deref(), Some(plist.as_path()));
        assert_eq!(
            user.class,
            ServiceClass::PackagedHomebrew {
                formula: "openclaw".into()
            }
        );
        assert_eq!(user.port, Some(18789));
        assert_eq!(user.marker.as_deref(), Some("openclaw"));
        assert_eq!(user.removal, vec!["brew services stop openclaw".to_owned()]);
        assert!(
            user.detail.contains("packaged (Homebrew)"),
            "{}",
            user.detail
        );
        assert!(
            user.detail.contains("brew services info openclaw"),
            "{}",
            user.detail
        );
        assert!(is_extra(user));
        let daemon = brew[1];
        assert_eq!(daemon.label, "homebrew.mxcl.openclaw@2");
        assert_eq!(daemon.scope, DiscoveryScope::System);
        assert_eq!(
            daemon.removal,
            vec!["sudo brew services stop openclaw@2".to_owned()]
        );
        assert!(
            found.iter().all(|s| !s.label.contains("redis")),
            "{found:#?}"
        );
        let json = serde_json::to_value(user).unwrap();
        assert_eq!(json["class"]["kind"], "packaged-homebrew");
        assert_eq!(json["class"]["formula"], "openclaw");
    }
}
