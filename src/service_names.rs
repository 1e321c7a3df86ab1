//! Service names: the one place every supervisor backend gets its unit, label and task names.
//!
//! Names this project writes (per profile), the install metadata put into every service
//! environment, the description line, the env overrides of the spec, and the table of names other
//! OpenClaw releases used, each tagged with how doctor and `status --deep` must treat it.

use serde::Serialize;

use crate::platform::PlatformKind;

use crate::environment::Environment;
use crate::profile::Profile;

/// Value of `OPENCLAW_SERVICE_MARKER` in services we install.
pub const SERVICE_MARKER: &str = "openclaw";
/// Value of `OPENCLAW_SERVICE_KIND` in services we install.
pub const SERVICE_KIND: &str = "gateway";
/// Value of `OPENCLAW_SERVICE_VERSION`: this build's version.
pub const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The marker older releases (clawdbot) wrote.
pub const LEGACY_SERVICE_MARKER: &str = "clawdbot";

/// Base name of the systemd unit of the default profile.
pub const SYSTEMD_UNIT_BASE: &str = "openclaw-gateway";
/// launchd label of the default profile.
pub const LAUNCHD_LABEL_DEFAULT: &str = "bot.molt.gateway";
/// Prefix of launchd labels of named profiles.
pub const LAUNCHD_LABEL_PREFIX: &str = "bot.molt.";
/// Windows scheduled task of the default profile.
pub const WINDOWS_TASK_DEFAULT: &str = "OpenClaw Gateway";
/// Profile names whose launchd label would collide with a reserved one.
pub const RESERVED_LAUNCHD_PROFILES: [&str; 2] = ["gateway", "node"];
/// State dirs older releases used under the account home.
pub const LEGACY_STATE_DIR_NAMES: [&str; 3] = [".clawdbot", ".moltbot", ".moldbot"];

/// The service names of one profile on every platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceNames {
    /// systemd unit base name, without `.service` / `.socket`.
    pub systemd_unit: String,
    /// launchd label (the plist is `<label>.plist`).
    pub launchd_label: String,
    /// Windows scheduled task name.
    pub windows_task: String,
    /// True when an `OPENCLAW_SYSTEMD_UNIT` / `_LAUNCHD_LABEL` / `_WINDOWS_TASK_NAME` override applied.
    pub overridden: bool,
}

/// A service-name override that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// `OPENCLAW_LAUNCHD_LABEL` with characters launchd labels cannot hold.
    #[error("Invalid launchd label: {0} (use letters, digits, \".\", \"_\" and \"-\" only)")]
    InvalidLaunchdLabel(String),
    /// `OPENCLAW_SYSTEMD_UNIT` that is not a plain unit name.
    #[error(
        "Invalid systemd unit name: {0} (use letters, digits, \":\", \"-\", \"_\", \".\", \"\\\\\" and \"@\" only)"
    )]
    InvalidSystemdUnit(String),
    /// `OPENCLAW_WINDOWS_TASK_NAME` with characters Task Scheduler rejects.
    #[error(
        "Invalid Windows task name: {0} (it cannot contain \\ / : * ? \" < > | or control characters)"
    )]
    InvalidWindowsTask(String),
}

impl ServiceNames {
    /// The names this project writes for `profile`, without overrides.
    pub fn for_profile(profile: &Profile) -> Self {
        match profile {
            Profile::Default => Self {
                systemd_unit: SYSTEMD_UNIT_BASE.to_owned(),
                launchd_label: LAUNCHD_LABEL_DEFAULT.to_owned(),
                windows_task: WINDOWS_TASK_DEFAULT.to_owned(),
                overridden: false,
            },
            Profile::Named(p) => Self {
                systemd_unit: format!("{SYSTEMD_UNIT_BASE}-{p}"),
                launchd_label: format!("{LAUNCHD_LABEL_PREFIX}{p}"),
                windows_task: format!("{WINDOWS_TASK_DEFAULT} ({p})"),
                overridden: false,
            },
        }
    }

    /// The names for `profile` with the `OPENCLAW_SYSTEMD_UNIT`, `OPENCLAW_LAUNCHD_LABEL` and
    /// `OPENCLAW_WINDOWS_TASK_NAME` overrides applied (blank overrides are ignored).
    pub fn resolve(profile: &Profile, env: &Environment) -> Result<Self, NameError> {
        let mut names = Self::for_profile(profile);
        if let Some(unit) = env.get_nonempty("OPENCLAW_SYSTEMD_UNIT") {
            let unit = unit.strip_suffix(".service").unwrap_or(unit);
            let valid = !unit.is_empty()
                && unit
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c));
            if !valid {
                return Err(NameError::InvalidSystemdUnit(unit.to_owned()));
            }
            names.systemd_unit = unit.to_owned();
            names.overridden = true;
        }
        if let Some(label) = env.get_nonempty("OPENCLAW_LAUNCHD_LABEL") {
            let valid = label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !valid {
                return Err(NameError::InvalidLaunchdLabel(label.to_owned()));
            }
            names.launchd_label = label.to_owned();
            names.overridden = true;
        }
        if let Some(task) = env.get_nonempty("OPENCLAW_WINDOWS_TASK_NAME") {
            if task
                .chars()
                .any(|c| c.is_control() || "\\/:*?\"<>|".contains(c))
            {
                return Err(NameError::InvalidWindowsTask(task.to_owned()));
            }
            names.windows_task = task.to_owned();
            names.overridden = true;
        }
        Ok(names)
    }

    /// The service's name on `platform`'s supervisor: the unit file, the label or the task.
    pub fn on(&self, platform: PlatformKind) -> String {
        match platform {
            PlatformKind::Linux => self.systemd_service_file(),
            PlatformKind::Macos => self.launchd_label.clone(),
            PlatformKind::Windows => self.windows_task.clone(),
        }
    }

    /// `<unit>.service`.
    pub fn systemd_service_file(&self) -> String {
        format!("{}.service", self.systemd_unit)
    }

    /// `<unit>.socket`.
    pub fn systemd_socket_file(&self) -> String {
        format!("{}.socket", self.systemd_unit)
    }

    /// `<label>.plist`.
    pub fn plist_file_name(&self) -> String {
        format!("{}.plist", self.launchd_label)
    }
}

/// The human description of the service (`Description=`, plist `Comment`, task description):
/// `OpenClaw Gateway (v<version>)` or `OpenClaw Gateway (profile: <p>, v<version>)`.
pub fn service_description(profile: &Profile, version: &str) -> String {
    match profile {
        Profile::Default => format!("OpenClaw Gateway (v{version})"),
        Profile::Named(p) => format!("OpenClaw Gateway (profile: {p}, v{version})"),
    }
}

/// What a service description says, for any form OpenClaw releases wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionParts {
    /// The profile named in it, `None` for the default profile.
    pub profile: Option<String>,
    /// The version named in it, if any.
    pub version: Option<String>,
}

/// Parses `OpenClaw Gateway`, `OpenClaw Gateway (v<X>)`, `OpenClaw Gateway (profile: <p>)` and
/// `OpenClaw Gateway (profile: <p>, v<X>)`; anything else is `None`.
pub fn parse_service_description(text: &str) -> Option<DescriptionParts> {
    let rest = text.trim().strip_prefix(WINDOWS_TASK_DEFAULT)?.trim();
    if rest.is_empty() {
        return Some(DescriptionParts {
            profile: None,
            version: None,
        });
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = DescriptionParts {
        profile: None,
        version: None,
    };
    for piece in inner.split(',').map(str::trim) {
        if let Some(p) = piece.strip_prefix("profile:") {
            parts.profile = Some(p.trim().to_owned());
        } else if let Some(v) = piece.strip_prefix('v').filter(|v| !v.is_empty()) {
            parts.version = Some(v.to_owned());
        } else {
            return None;
        }
    }
    Some(parts)
}

/// The install metadata every service environment carries, in plan order.
pub fn install_metadata_env() -> [(&'static str, &'static str); 3] {
    [
        ("OPENCLAW_SERVICE_MARKER", SERVICE_MARKER),
        ("OPENCLAW_SERVICE_KIND", SERVICE_KIND),
        ("OPENCLAW_SERVICE_VERSION", SERVICE_VERSION),
    ]
}

/// Who wrote a service, judged by its `OPENCLAW_SERVICE_MARKER` / `OPENCLAW_SERVICE_KIND` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkerVerdict {
    /// Marker `openclaw`, kind empty or `gateway`: a gateway written by an OpenClaw release.
    OpenClawGateway,
    /// Marker `clawdbot`: a gateway written by an older release.
    LegacyGateway,
    /// Our marker with another kind (e.g. `node`): not a gateway.
    OtherKind,
    /// No marker we know.
    Unmarked,
}

/// Classifies a service environment's marker and kind.
pub fn classify_marker(marker: Option<&str>, kind: Option<&str>) -> MarkerVerdict {
    let kind = kind.map(str::trim).unwrap_or("");
    match marker.map(str::trim) {
        Some(SERVICE_MARKER) if kind.is_empty() || kind == SERVICE_KIND => {
            MarkerVerdict::OpenClawGateway
        }
        Some(SERVICE_MARKER) => MarkerVerdict::OtherKind,
        Some(LEGACY_SERVICE_MARKER) => MarkerVerdict::LegacyGateway,
        _ => MarkerVerdict::Unmarked,
    }
}

/// How doctor and `status --deep` treat a service found under a known name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Treatment {
    /// One of our profile services (the names this project, and every release, writes).
    RecognisedProfileService,
    /// A gateway of another current release (`ai.openclaw.*`): report, migrate after consent.
    OtherReleaseGateway,
    /// A name of an older release: clean up and replace with the current service.
    LegacyToMigrate,
    /// A companion service that is not a gateway (node host): leave alone.
    NotAGateway,
}

/// A name other OpenClaw releases (or this one) use, with its treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownServiceName {
    /// The supervisor.
    pub platform: PlatformKind,
    /// The name, or the pattern with `<p>` for a profile and `*` for anything.
    pub pattern: &'static str,
    /// Which releases used it.
    pub used_by: &'static str,
    /// What to do with it.
    pub treatment: Treatment,
}

const fn known(
    platform: PlatformKind,
    pattern: &'static str,
    used_by: &'static str,
    treatment: Treatment,
) -> KnownServiceName {
    KnownServiceName {
        platform,
        pattern,
        used_by,
        treatment,
    }
}

/// Every service name OpenClaw releases are known to write, most specific first.
pub const KNOWN_SERVICE_NAMES: &[KnownServiceName] = {
    use PlatformKind::*;
    use Treatment::*;
    &[
        known(
            Linux,
            "openclaw-node.service",
            "node-host companion",
            NotAGateway,
        ),
        known(
            Linux,
            "openclaw-gateway.service",
            "all releases (ours)",
            RecognisedProfileService,
        ),
        known(
            Linux,
            "openclaw-gateway-<p>.service",
            "all releases (ours)",
            RecognisedProfileService,
        ),
        known(
            Linux,
            "clawdbot-gateway.service",
            "older releases",
            LegacyToMigrate,
        ),
        known(
            Linux,
            "clawdbot-gateway.service.bak",
            "older releases (leftover backup)",
            LegacyToMigrate,
        ),
        known(
            Linux,
            "moltbot-gateway.service",
            "older releases",
            LegacyToMigrate,
        ),
        known(
            Linux,
            "clawdis-gateway.service",
            "older releases",
            LegacyToMigrate,
        ),
        known(
            Macos,
            "ai.openclaw.node",
            "node-host companion",
            NotAGateway,
        ),
        known(
            Macos,
            "bot.molt.gateway",
            "this project",
            RecognisedProfileService,
        ),
        known(
            Macos,
            "bot.molt.<p>",
            "this project",
            RecognisedProfileService,
        ),
        known(
            Macos,
            "ai.openclaw.gateway",
            "current upstream releases (2026.9.6)",
            OtherReleaseGateway,
        ),
        known(
            Macos,
            "ai.openclaw.<p>",
            "current upstream releases (2026.9.6)",
            OtherReleaseGateway,
        ),
        known(Macos, "com.openclaw.*", "older releases", LegacyToMigrate),
        known(
            Macos,
            "com.clawdbot.gateway",
            "older releases",
            LegacyToMigrate,
        ),
        known(
            Macos,
            "com.steipete.clawdbot.gateway",
            "older releases",
            LegacyToMigrate,
        ),
        known(
            Macos,
            "com.clawdis.gateway",
            "older releases",
            LegacyToMigrate,
        ),
        known(
            Macos,
            "com.steipete.clawdis.gateway",
            "older releases",
            LegacyToMigrate,
        ),
        known(Windows, "OpenClaw Node", "node-host companion", NotAGateway),
        known(
            Windows,
            "OpenClaw Gateway",
            "all releases (ours)",
            RecognisedProfileService,
        ),
        known(
            Windows,
            "OpenClaw Gateway (<p>)",
            "all releases (ours)",
            RecognisedProfileService,
        ),
        known(
            Windows,
            "Clawdbot Gateway",
            "older releases",
            LegacyToMigrate,
        ),
    ]
};

/// A name matched against [`KNOWN_SERVICE_NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownServiceMatch {
    /// The table entry that matched.
    pub entry: KnownServiceName,
    /// The profile the name encodes, for per-profile names (`None` for the default profile).
    pub profile: Option<String>,
}

fn match_pattern(pattern: &str, name: &str) -> Option<Option<String>> {
    if let Some((prefix, suffix)) = pattern.split_once("<p>") {
        let middle = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
        let profile = Profile::parse(middle).ok()?;
        // `<p>` stands for a named profile; the default profile has its own entry.
        return profile.name().map(|p| Some(p.to_owned()));
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return (name.starts_with(prefix) && name.len() > prefix.len()).then_some(None);
    }
    (pattern == name).then_some(None)
}

/// Looks a service name up in [`KNOWN_SERVICE_NAMES`]. systemd names are unit file names
/// (`x.service`); launchd names are labels (not plist paths); Windows names are task names.
pub fn classify_service_name(platform: PlatformKind, name: &str) -> Option<KnownServiceMatch> {
    let reserved_label = |p: &Option<String>| {
        platform == PlatformKind::Macos
            && p.as_deref()
                .is_some_and(|p| RESERVED_LAUNCHD_PROFILES.contains(&p))
    };
    KNOWN_SERVICE_NAMES
        .iter()
        .filter(|entry| entry.platform == platform)
        .find_map(|entry| {
            let profile = match_pattern(entry.pattern, name)?;
            (!reserved_label(&profile)).then_some(KnownServiceMatch {
                entry: *entry,
                profile,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(p: &str) -> Profile {
        Profile::Named(p.to_owned())
    }

    #[test]
    fn default_profile_names() {
        let n = ServiceNames::for_profile(&Profile::Default);
        assert_eq!(n.systemd_service_file(), "openclaw-gateway.service");
        assert_eq!(n.systemd_socket_file(), "openclaw-gateway.socket");
        assert_eq!(n.launchd_label, "bot.molt.gateway");
        assert_eq!(n.plist_file_name(), "bot.molt.gateway.plist");
        assert_eq!(n.windows_task, "OpenClaw Gateway");
    }

    #[test]
    fn rescue_and_dev_profile_names() {
        let n = ServiceNames::for_profile(&named("rescue"));
        assert_eq!(n.systemd_service_file(), "openclaw-gateway-rescue.service");
        assert_eq!(n.launchd_label, "bot.molt.rescue");
        assert_eq!(n.windows_task, "OpenClaw Gateway (rescue)");
        let n = ServiceNames::for_profile(&named("dev"));
        assert_eq!(n.systemd_service_file(), "openclaw-gateway-dev.service");
        assert_eq!(n.launchd_label, "bot.molt.dev");
        assert_eq!(n.windows_task, "OpenClaw Gateway (dev)");
    }

    #[test]
    fn env_overrides_win_and_are_validated() {
        let env = Environment::empty()
            .with("OPENCLAW_SYSTEMD_UNIT", "my-gw.service")
            .with("OPENCLAW_LAUNCHD_LABEL", " org.example.gw ")
            .with("OPENCLAW_WINDOWS_TASK_NAME", "My GW");
        let n = ServiceNames::resolve(&Profile::Default, &env).unwrap();
        assert_eq!(n.systemd_unit, "my-gw");
        assert_eq!(n.launchd_label, "org.example.gw");
        assert_eq!(n.windows_task, "My GW");
        assert!(n.overridden);
        let blank = Environment::empty().with("OPENCLAW_SYSTEMD_UNIT", " ");
        let n = ServiceNames::resolve(&named("rescue"), &blank).unwrap();
        assert_eq!(n.systemd_unit, "openclaw-gateway-rescue");
        assert!(!n.overridden);
        let bad = Environment::empty().with("OPENCLAW_LAUNCHD_LABEL", "a b");
        assert_eq!(
            ServiceNames::resolve(&Profile::Default, &bad)
                .unwrap_err()
                .to_string(),
            "Invalid launchd label: a b (use letters, digits, \".\", \"_\" and \"-\" only)"
        );
        let bad = Environment::empty().with("OPENCLAW_SYSTEMD_UNIT", "../x");
        assert!(ServiceNames::resolve(&Profile::Default, &bad).is_err());
    }

    #[test]
    fn descriptions_carry_profile_and_version_and_parse_back() {
        assert_eq!(
            service_description(&Profile::Default, "1.2.3"),
            "OpenClaw Gateway (v1.2.3)"
        );
        let d = service_description(&named("rescue"), "1.2.3");
        assert_eq!(d, "OpenClaw Gateway (profile: rescue, v1.2.3)");
        let parts = parse_service_description(&d).unwrap();
        assert_eq!(parts.profile.as_deref(), Some("rescue"));
        assert_eq!(parts.version.as_deref(), Some("1.2.3"));
        for (text, profile, version) in [
            ("OpenClaw Gateway", None, None),
            ("OpenClaw Gateway (v2026.1.5)", None, Some("2026.1.5")),
            ("OpenClaw Gateway (profile: work)", Some("work"), None),
        ] {
            let parts = parse_service_description(text).unwrap();
            assert_eq!(
                (parts.profile.as_deref(), parts.version.as_deref()),
                (profile, version),
                "{text}"
            );
        }
        assert_eq!(parse_service_description("OpenClaw Node Host"), None);
        assert_eq!(parse_service_description("OpenClaw Gateway (beta)"), None);
    }

    #[test]
    fn install_metadata_and_marker_classification() {
        let env = install_metadata_env();
        assert_eq!(env[0], ("OPENCLAW_SERVICE_MARKER", "openclaw"));
        assert_eq!(env[1], ("OPENCLAW_SERVICE_KIND", "gateway"));
        assert_eq!(
            env[2],
            ("OPENCLAW_SERVICE_VERSION", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            classify_marker(Some("openclaw"), None),
            MarkerVerdict::OpenClawGateway
        );
        assert_eq!(
            classify_marker(Some("openclaw"), Some("gateway")),
            MarkerVerdict::OpenClawGateway
        );
        assert_eq!(
            classify_marker(Some("openclaw"), Some("node")),
            MarkerVerdict::OtherKind
        );
        assert_eq!(
            classify_marker(Some("clawdbot"), None),
            MarkerVerdict::LegacyGateway
        );
        assert_eq!(
            classify_marker(None, Some("gateway")),
            MarkerVerdict::Unmarked
        );
    }

    #[test]
    fn known_names_are_classified_with_their_profile() {
        use PlatformKind::*;
        use Treatment::*;
        type Case<'a> = (PlatformKind, &'a str, Option<(Treatment, Option<&'a str>)>);
        let cases: &[Case] = &[
            (
                Linux,
                "openclaw-gateway.service",
                Some((RecognisedProfileService, None)),
            ),
            (
                Linux,
                "openclaw-gateway-rescue.service",
                Some((RecognisedProfileService, Some("rescue"))),
            ),
            (Linux, "openclaw-node.service", Some((NotAGateway, None))),
            (
                Linux,
                "clawdbot-gateway.service",
                Some((LegacyToMigrate, None)),
            ),
            (
                Linux,
                "clawdbot-gateway.service.bak",
                Some((LegacyToMigrate, None)),
            ),
            (
                Linux,
                "moltbot-gateway.service",
                Some((LegacyToMigrate, None)),
            ),
            (
                Linux,
                "clawdis-gateway.service",
                Some((LegacyToMigrate, None)),
            ),
            (Linux, "openclaw-gateway-bad name.service", None),
            (Linux, "nginx.service", None),
            (
                Macos,
                "bot.molt.gateway",
                Some((RecognisedProfileService, None)),
            ),
            (
                Macos,
                "bot.molt.rescue",
                Some((RecognisedProfileService, Some("rescue"))),
            ),
            (Macos, "bot.molt.node", None),
            (
                Macos,
                "ai.openclaw.gateway",
                Some((OtherReleaseGateway, None)),
            ),
            (
                Macos,
                "ai.openclaw.work",
                Some((OtherReleaseGateway, Some("work"))),
            ),
            (Macos, "ai.openclaw.node", Some((NotAGateway, None))),
            (Macos, "com.openclaw.gateway", Some((LegacyToMigrate, None))),
            (
                Macos,
                "com.openclaw.anything",
                Some((LegacyToMigrate, None)),
            ),
            (Macos, "com.openclaw.", None),
            (
                Macos,
                "com.steipete.clawdbot.gateway",
                Some((LegacyToMigrate, None)),
            ),
            (Macos, "com.clawdis.gateway", Some((LegacyToMigrate, None))),
            (
                Windows,
                "OpenClaw Gateway",
                Some((RecognisedProfileService, None)),
            ),
            (
                Windows,
                "OpenClaw Gateway (rescue)",
                Some((RecognisedProfileService, Some("rescue"))),
            ),
            (Windows, "Clawdbot Gateway", Some((LegacyToMigrate, None))),
            (Windows, "OpenClaw Node", Some((NotAGateway, None))),
        ];
        for (platform, name, want) in cases {
            let got =
                classify_service_name(*platform, name).map(|m| (m.entry.treatment, m.profile));
            let want = want.map(|(t, p)| (t, p.map(str::to_owned)));
            assert_eq!(got, want, "{platform:?} {name}");
        }
    }

    #[test]
    fn the_names_we_write_are_recognised_as_ours_for_every_profile() {
        for profile in [
            Profile::Default,
            named("rescue"),
            named("dev"),
            named("a_b-9"),
        ] {
            let n = ServiceNames::for_profile(&profile);
            for (platform, name) in [
                (PlatformKind::Linux, n.systemd_service_file()),
                (PlatformKind::Macos, n.launchd_label.clone()),
                (PlatformKind::Windows, n.windows_task.clone()),
            ] {
                let m = classify_service_name(platform, &name).expect(&name);
                assert_eq!(
                    m.entry.treatment,
                    Treatment::RecognisedProfileService,
                    "{name}"
                );
                assert_eq!(m.profile.as_deref(), profile.name(), "{name}");
            }
        }
    }
}
