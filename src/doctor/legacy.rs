//! Other gateway services, from [`crate::service::discovery`]: legacy services (older names or
//! the `clawdbot` marker) in the user scope are repaired (a systemd unit is stopped, disabled and
//! deleted; a LaunchAgent is booted out and moved to `~/.Trash`); other releases' gateways,
//! foreign gateway-like services and everything in the system scope are reported with the exact
//! removal commands (never touched); and gateways sharing a port are reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::service::PlatformKind;
use crate::service::discovery::{DiscoveredService, DiscoveryScope, ServiceClass};

use super::file_audit::Item;
use super::findings::{Finding, RepairKind, Severity};
use super::repair::Action;
use super::supervisor::Supervisor;
use crate::service_names::classify_service_name;

fn secret_note(s: &DiscoveredService) -> &'static str {
    if s.embeds_secret {
        " It embeds a gateway token or password inline."
    } else {
        ""
    }
}

fn severity(s: &DiscoveredService) -> Severity {
    if s.embeds_secret {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// Findings for the discovered services that are not this project's user-scope profile services.
/// When doctor drives launchd (`sup`), a user-scope `ai.openclaw.gateway` / `ai.openclaw.<p>`
/// LaunchAgent is migrated to ours ([`Action::MigrateLaunchAgent`]); elsewhere it is reported.
pub fn other_services(services: &[DiscoveredService], home: &Path, sup: &Supervisor) -> Vec<Item> {
    let uid = sup.launchd_identity.uid;
    let mut out = Vec::new();
    for s in services {
        if let Some(base) = s.label.strip_suffix(".bak") {
            if services
                .iter()
                .any(|o| o.label == base && o.scope == s.scope)
            {
                continue; // removed together with its unit
            }
        }
        let path = s.path.clone().unwrap_or_default();
        let removal = s.removal_command();
        match (&s.class, s.scope) {
            // Our Homebrew formula's job: the profile audit names it (`service-homebrew-agent`,
            // `service-homebrew-duplicate`); it is never foreign and never touched.
            (ServiceClass::NodeCompanion, _)
            | (ServiceClass::PackagedHomebrew { .. }, _)
            | (ServiceClass::ProfileService { .. }, DiscoveryScope::User) => {}
            (_, DiscoveryScope::System) => out.push((
                Finding::new(
                    "system-service-present",
                    severity(s),
                    format!(
                        "A system-scope gateway service {} exists ({}); doctor never modifies system units or LaunchDaemons.{}",
                        s.label,
                        s.detail,
                        secret_note(s)
                    ),
                    format!("If it is not wanted: {removal}"),
                    RepairKind::Manual,
                )
                .path(&path),
                None,
            )),
            (ServiceClass::Legacy, _) if s.is_legacy() || s.class.is_legacy() => {
                out.push(legacy_finding(s, &path, home, uid));
            }
            (ServiceClass::OtherRelease, DiscoveryScope::User)
                if sup.doctor().migrates_other_release(s) =>
            {
                out.push(other_release_agent(s, &path));
            }
            (ServiceClass::OtherRelease, _) => out.push(report_only(
                "other-release-service",
                format!(
                    "{} is the gateway of another OpenClaw release ({}); two gateways compete for ports.",
                    s.label, s.detail
                ),
                s,
            )),
            _ => out.push(report_only(
                "foreign-gateway-service",
                format!(
                    "{} looks like a gateway service not written by OpenClaw's installer ({}).",
                    s.label, s.detail
                ),
                s,
            )),
        }
    }
    out
}

/// A legacy gateway service (clawdbot/moltbot era): removed by `--fix` where the platform can.
fn legacy_finding(s: &DiscoveredService, path: &Path, home: &Path, uid: u32) -> Item {
    let scope = s.scope.as_str();
    let removal = s.removal_command();
    let action = match s.platform {
        PlatformKind::Linux => Some(Action::RemoveLegacyUnit {
            unit: s.label.strip_suffix(".bak").unwrap_or(&s.label).to_owned(),
            path: strip_bak(path),
        }),
        PlatformKind::Macos => Some(Action::TrashLaunchAgent {
            label: s.label.clone(),
            plist: path.to_owned(),
            domain: format!("gui/{uid}"),
            trash: home.join(".Trash").join(format!("{}.plist", s.label)),
        }),
        PlatformKind::Windows => None,
    };
    let (id, fix) = match s.platform {
        PlatformKind::Macos => (
            "legacy-launch-agent",
            "`openclaw doctor --fix` boots it out and moves the plist to ~/.Trash (macOS); then run `openclaw gateway install`".to_owned(),
        ),
        _ => (
            "legacy-service",
            "`openclaw doctor --fix` stops, disables and deletes it (and its .bak), then reloads; run `openclaw gateway install` afterwards if no current service exists".to_owned(),
        ),
    };
    let repair = if action.is_some() {
        RepairKind::Safe
    } else {
        RepairKind::Manual
    };
    (
        Finding::new(
            id,
            severity(s),
            format!(
                "Legacy gateway service {} ({scope}) is installed: {}.{}",
                s.label,
                s.detail,
                secret_note(s)
            ),
            if action.is_some() {
                fix
            } else {
                format!("Remove it: {removal}")
            },
            repair,
        )
        .path(path),
        action,
    )
}

/// Another release's LaunchAgent on macOS: migrated to this release's agent by `--fix`.
fn other_release_agent(s: &DiscoveredService, path: &Path) -> Item {
    let profile = classify_service_name(PlatformKind::Macos, &s.label)
        .and_then(|m| m.profile)
        .unwrap_or_else(|| "default".to_owned());
    (
        Finding::new(
            "other-release-launch-agent",
            severity(s),
            format!(
                "{} is the gateway LaunchAgent of another OpenClaw release ({}); two gateways compete for ports.{}",
                s.label,
                s.detail,
                secret_note(s)
            ),
            format!(
                "`openclaw doctor --fix` migrates it to this release's LaunchAgent of profile {profile}: operator environment kept, inline token moved into the config, old label booted out and its plist moved to ~/.Trash (0600, without the token)"
            ),
            RepairKind::Safe,
        )
        .profile(&profile)
        .path(path),
        Some(Action::MigrateLaunchAgent {
            profile,
            label: s.label.clone(),
            plist: path.to_owned(),
        }),
    )
}

/// A warning doctor does not repair, with the exact removal commands as the fix.
fn report_only(id: &'static str, message: String, s: &DiscoveredService) -> Item {
    (
        Finding::new(
            id,
            Severity::Warning,
            format!("{message}{}", secret_note(s)),
            format!("If it is no longer wanted: {}", s.removal_command()),
            RepairKind::Manual,
        )
        .path(s.path.clone().unwrap_or_default()),
        None,
    )
}

fn strip_bak(path: &Path) -> PathBuf {
    let text = path.display().to_string();
    PathBuf::from(text.strip_suffix(".bak").unwrap_or(&text))
}

/// Gateway services (any scope, not `.bak` leftovers, not node companions) sharing a port.
pub fn duplicate_ports(services: &[DiscoveredService]) -> Vec<Item> {
    let mut by_port: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for s in services {
        // The Homebrew job beside our agent has its own finding (`service-homebrew-duplicate`).
        if matches!(
            s.class,
            ServiceClass::NodeCompanion | ServiceClass::PackagedHomebrew { .. }
        ) || s.label.ends_with(".bak")
        {
            continue;
        }
        if let Some(port) = s.port {
            by_port
                .entry(port)
                .or_default()
                .push(format!("{} ({})", s.label, s.scope.as_str()));
        }
    }
    by_port
        .into_iter()
        .filter(|(_, labels)| labels.len() > 1)
        .map(|(port, labels)| {
            (
                Finding::new(
                    "duplicate-port",
                    Severity::Error,
                    format!(
                        "Several gateway services use port {port}: {}",
                        labels.join(", ")
                    ),
                    "Keep one: remove the legacy or extra one (see the other findings) or give each profile its own port",
                    RepairKind::Manual,
                ),
                None,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::discovery::DiscoveryRoots;
    use crate::service::launchd::discovery::discover_launchd;
    use crate::service::systemd::discovery::discover_systemd;

    fn linux(uid: u32) -> Supervisor {
        on(PlatformKind::Linux, uid)
    }

    fn on(platform: PlatformKind, uid: u32) -> Supervisor {
        use crate::service::launchd::LaunchdIdentity;
        use crate::service::windows::WindowsAccount;
        Supervisor::with_tools(
            platform,
            LaunchdIdentity::fixed(uid),
            WindowsAccount::fixed("u"),
            Box::new(|| unreachable!("no tool is run")),
        )
    }

    fn roots(home: &Path, root: &Path) -> DiscoveryRoots {
        DiscoveryRoots {
            home: home.to_owned(),
            root: root.to_owned(),
        }
    }

    #[test]
    fn a_legacy_user_unit_is_removed_and_a_system_unit_only_reported() {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let user = home.path().join(".config/systemd/user");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(
            user.join("clawdbot-gateway.service"),
            "[Service]\nExecStart=/usr/bin/clawdbot gateway --port 18789\nEnvironment=CLAWDBOT_GATEWAY_TOKEN=x\n",
        )
        .unwrap();
        std::fs::write(
            user.join("openclaw-gateway.service"),
            "[Service]\nExecStart=/usr/bin/openclaw gateway --port 18789\n",
        )
        .unwrap();
        let system = root.path().join("etc/systemd/system");
        std::fs::create_dir_all(&system).unwrap();
        std::fs::write(
            system.join("openclaw-gateway.service"),
            "[Service]\nExecStart=/usr/bin/openclaw gateway --port 19000\n",
        )
        .unwrap();
        let found = discover_systemd(&roots(home.path(), root.path()), true);
        let items = other_services(&found, home.path(), &linux(1000));
        let ids: Vec<&str> = items.iter().map(|(f, _)| f.id).collect();
        assert_eq!(
            ids,
            ["legacy-service", "system-service-present"],
            "{items:?}"
        );
        assert_eq!(items[0].0.severity, Severity::Error, "embeds a token");
        assert_eq!(
            items[0].1,
            Some(Action::RemoveLegacyUnit {
                unit: "clawdbot-gateway.service".into(),
                path: user.join("clawdbot-gateway.service"),
            })
        );
        assert_eq!(items[1].0.repair, RepairKind::Manual);
        assert!(
            items[1]
                .0
                .fix
                .contains("sudo systemctl disable --now openclaw-gateway.service")
        );
        let dup = duplicate_ports(&found);
        assert_eq!(dup.len(), 1);
        assert!(
            dup[0]
                .0
                .message
                .starts_with("Several gateway services use port 18789"),
            "{}",
            dup[0].0.message
        );
    }

    #[test]
    fn a_com_openclaw_agent_is_trashed_and_an_ai_openclaw_one_only_reported() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("Library/LaunchAgents");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("com.openclaw.gateway.plist"), "<plist/>").unwrap();
        std::fs::write(dir.join("ai.openclaw.gateway.plist"), "<plist/>").unwrap();
        let found = discover_launchd(&roots(home.path(), Path::new("/nonexistent")), false);
        let items = other_services(&found, home.path(), &linux(501));
        let mut ids: Vec<&str> = items.iter().map(|(f, _)| f.id).collect();
        ids.sort();
        assert_eq!(ids, ["legacy-launch-agent", "other-release-service"]);
        let legacy = items
            .iter()
            .find(|(f, _)| f.id == "legacy-launch-agent")
            .unwrap();
        assert_eq!(
            legacy.1,
            Some(Action::TrashLaunchAgent {
                label: "com.openclaw.gateway".into(),
                plist: dir.join("com.openclaw.gateway.plist"),
                domain: "gui/501".into(),
                trash: home.path().join(".Trash/com.openclaw.gateway.plist"),
            })
        );
    }

    #[test]
    fn on_macos_an_ai_openclaw_agent_is_migrated_but_a_launch_daemon_only_reported_with_sudo() {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let agents = home.path().join("Library/LaunchAgents");
        let daemons = root.path().join("Library/LaunchDaemons");
        std::fs::create_dir_all(&agents).unwrap();
        std::fs::create_dir_all(&daemons).unwrap();
        std::fs::write(agents.join("ai.openclaw.work.plist"), "<plist/>").unwrap();
        std::fs::write(daemons.join("ai.openclaw.gateway.plist"), "<plist/>").unwrap();
        let found = discover_launchd(&roots(home.path(), root.path()), true);
        let items = other_services(&found, home.path(), &on(PlatformKind::Macos, 501));
        let agent = items
            .iter()
            .find(|(f, _)| f.id == "other-release-launch-agent")
            .unwrap_or_else(|| panic!("{items:?}"));
        assert_eq!(agent.0.profile.as_deref(), Some("work"));
        assert_eq!(
            agent.1,
            Some(Action::MigrateLaunchAgent {
                profile: "work".into(),
                label: "ai.openclaw.work".into(),
                plist: agents.join("ai.openclaw.work.plist"),
            })
        );
        let daemon = items
            .iter()
            .find(|(f, _)| f.id == "system-service-present")
            .unwrap_or_else(|| panic!("{items:?}"));
        assert_eq!((daemon.0.repair, &daemon.1), (RepairKind::Manual, &None));
        assert!(daemon.0.fix.contains("sudo"), "{}", daemon.0.fix);
    }
}
