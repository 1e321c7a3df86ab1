//! Services of older releases (minimal, self-contained detection, to be replaced by
//! `service::discovery` once it lands): systemd user units under legacy names
//! (`clawdbot-gateway.service`, `moltbot-gateway.service`, `clawdis-gateway.service`, their
//! `.bak` leftovers) and legacy or other-release LaunchAgents (`com.openclaw.*`,
//! `com.clawdbot.gateway`, …, `ai.openclaw.*`) in `~/Library/LaunchAgents`.

use std::path::Path;

use crate::service::launchd::layout::foreign_agents;
use crate::service_names::{Platform, Treatment, classify_service_name};

use super::file_audit::Item;
use super::findings::{Finding, RepairKind, Severity};
use super::repair::Action;
use super::unit_migration::holds_secrets;

/// Legacy systemd user units in `unit_dir`.
pub fn legacy_units(unit_dir: &Path) -> Vec<Item> {
    let Ok(entries) = std::fs::read_dir(unit_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let unit = name.strip_suffix(".bak").unwrap_or(&name).to_owned();
        let Some(known) = classify_service_name(Platform::Systemd, &unit) else {
            continue;
        };
        if known.entry.treatment != Treatment::LegacyToMigrate {
            continue;
        }
        if name.ends_with(".bak") && names_contains(unit_dir, &unit) {
            continue; // reported with its unit
        }
        let path = unit_dir.join(&name);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let secret = if holds_secrets(&text) {
            " It embeds a gateway token or other secret in a world-readable file."
        } else {
            ""
        };
        out.push((
            Finding::new(
                "legacy-service",
                if secret.is_empty() { Severity::Warning } else { Severity::Error },
                format!(
                    "Legacy gateway unit {name} ({}) is installed; it competes with the current gateway for the port.{secret}",
                    known.entry.used_by
                ),
                "`openclaw doctor --fix` stops, disables and deletes it (and its .bak), then reloads; run `openclaw gateway install` afterwards if no current service exists",
                RepairKind::Safe,
            )
            .path(&path),
            Some(Action::RemoveLegacyUnit {
                unit: unit.clone(),
                path: unit_dir.join(&unit),
            }),
        ));
    }
    out
}

fn names_contains(dir: &Path, name: &str) -> bool {
    dir.join(name).exists()
}

/// Legacy and other-release LaunchAgents under `home`.
pub fn launch_agents(home: &Path, uid: u32) -> Vec<Item> {
    let dir = home.join("Library/LaunchAgents");
    let mut out = Vec::new();
    for (label, plist, treatment) in foreign_agents(&dir) {
        let text = std::fs::read_to_string(&plist).unwrap_or_default();
        let secret =
            if text.contains("OPENCLAW_GATEWAY_TOKEN") || text.contains("CLAWDBOT_GATEWAY_TOKEN") {
                " Its plist embeds a gateway token."
            } else {
                ""
            };
        if treatment == Treatment::LegacyToMigrate {
            out.push((
                Finding::new(
                    "legacy-launch-agent",
                    if secret.is_empty() { Severity::Warning } else { Severity::Error },
                    format!("Legacy LaunchAgent {label} is installed.{secret}"),
                    "`openclaw doctor --fix` boots it out and moves the plist to ~/.Trash (macOS); then run `openclaw gateway install`",
                    RepairKind::Safe,
                )
                .path(&plist),
                Some(Action::TrashLaunchAgent {
                    label: label.clone(),
                    plist: plist.clone(),
                    domain: format!("gui/{uid}"),
                    trash: home.join(".Trash").join(format!("{label}.plist")),
                }),
            ));
        } else {
            out.push((
                Finding::new(
                    "other-release-launch-agent",
                    Severity::Warning,
                    format!("LaunchAgent {label} is the gateway of another OpenClaw release; two gateways compete for ports.{secret}"),
                    format!("If it is no longer wanted: launchctl bootout gui/{uid}/{label} && mv {} ~/.Trash/", plist.display()),
                    RepairKind::Manual,
                )
                .path(&plist),
                None,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_units_and_their_backups_are_found_and_ours_are_not() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "clawdbot-gateway.service",
            "clawdbot-gateway.service.bak",
            "moltbot-gateway.service.bak",
            "openclaw-gateway.service",
            "openclaw-node.service",
        ] {
            std::fs::write(
                dir.path().join(name),
                "[Service]\nEnvironment=CLAWDBOT_GATEWAY_TOKEN=x\n",
            )
            .unwrap();
        }
        let found = legacy_units(dir.path());
        let paths: Vec<String> = found
            .iter()
            .map(|(f, _)| {
                f.path
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            paths,
            ["clawdbot-gateway.service", "moltbot-gateway.service.bak"]
        );
        assert_eq!(found[0].0.severity, Severity::Error, "embeds a token");
        assert_eq!(
            found[1].1,
            Some(Action::RemoveLegacyUnit {
                unit: "moltbot-gateway.service".into(),
                path: dir.path().join("moltbot-gateway.service")
            })
        );
    }

    #[test]
    fn a_com_openclaw_agent_is_trashed_and_an_ai_openclaw_one_only_reported() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("Library/LaunchAgents");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("com.openclaw.gateway.plist"), "<plist/>").unwrap();
        std::fs::write(dir.join("ai.openclaw.gateway.plist"), "<plist/>").unwrap();
        std::fs::write(dir.join("bot.molt.gateway.plist"), "<plist/>").unwrap();
        let found = launch_agents(home.path(), 501);
        let ids: Vec<&str> = found.iter().map(|(f, _)| f.id).collect();
        assert_eq!(ids, ["other-release-launch-agent", "legacy-launch-agent"]);
        assert_eq!(
            found[1].1,
            Some(Action::TrashLaunchAgent {
                label: "com.openclaw.gateway".into(),
                plist: dir.join("com.openclaw.gateway.plist"),
                domain: "gui/501".into(),
                trash: home.path().join(".Trash/com.openclaw.gateway.plist"),
            })
        );
    }
}
