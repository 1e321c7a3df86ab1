//! Repairs: what `doctor --fix` can do about findings, as [`Action`]s computed before anything is
//! touched. Several findings share one action (every service-definition finding of a profile is
//! repaired by one reinstall). `--fix --dry-run` prints each action's plan; the executors here
//! carry out the actions that need no service manager context (modes, backups, a legacy
//! LaunchAgent through `launchctl`); the reinstall and legacy-unit removal run in
//! [`super::systemd::repair`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::atomic_write::{SECRET_FILE_MODE, write_atomic};
use crate::service::launchd::NOT_LOADED_CODES;
use crate::service::runner::CommandRunner;

use super::findings::{Finding, RepairKind};
use super::unit_migration::strip_secrets;

/// One repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Rewrite the profile's service as `gateway install` would (a migration when the unit came
    /// from another release): back up the old unit 0600 without secrets, keep operator
    /// `Environment=`/`EnvironmentFile=` in a drop-in and operator secrets in the 0600 env file,
    /// persist an inline token/password into the config when it has none, then install.
    Reinstall {
        /// Profile label.
        profile: String,
    },
    /// Move the secret `Environment=` assignments of the installed systemd unit into its 0600
    /// env file (`EnvironmentFile=`), in place: the definition's command is untouched and
    /// nothing restarts (the running gateway keeps its environment; the next start reads the
    /// same values from the file).
    MoveUnitSecrets {
        /// Profile label.
        profile: String,
    },
    /// Set a file's mode.
    Chmod {
        /// The file.
        path: PathBuf,
        /// The new mode.
        mode: u32,
    },
    /// Rewrite a unit backup without its secrets, mode 0600.
    StripBackup {
        /// The `.bak` file.
        path: PathBuf,
    },
    /// Replace a legacy `gateway.bind` host alias with the mode it means.
    ConfigBind {
        /// Profile label.
        profile: String,
        /// The config file.
        config: PathBuf,
        /// The mode to write.
        mode: String,
    },
    /// Stop, disable and delete a legacy systemd user unit (and its `.bak`), then reload.
    RemoveLegacyUnit {
        /// `clawdbot-gateway.service`, …
        unit: String,
        /// Its file.
        path: PathBuf,
    },
    /// Replace another release's `ai.openclaw.*` LaunchAgent by ours (see
    /// [`super::launchd::repair::migrate`]).
    MigrateLaunchAgent {
        /// The profile whose LaunchAgent replaces it.
        profile: String,
        /// `ai.openclaw.gateway`, `ai.openclaw.<p>`.
        label: String,
        /// Its plist.
        plist: PathBuf,
    },
    /// Start the installed service that does not run, through the same backend call as
    /// `openclaw gateway start` (spec §6.4 "Start gateway service now?", default yes).
    StartService {
        /// Profile label.
        profile: String,
    },
    /// The bootstrap repair of a LaunchAgent whose plist is installed but not loaded: enable,
    /// bootstrap, kickstart (spec §3.3, §6.4).
    BootstrapLaunchAgent {
        /// Profile label.
        profile: String,
    },
    /// Restart the running service whose gateway does not answer, through the same backend call
    /// as `openclaw gateway restart` (spec §6.4: asked on a terminal only, default no).
    RestartService {
        /// Profile label.
        profile: String,
    },
    /// Install the missing service as `openclaw gateway install` would (spec §6.4: asked on a
    /// terminal only, default yes).
    InstallService {
        /// Profile label.
        profile: String,
    },
    /// Enable systemd lingering for the user (spec §2.8: asked on a terminal only, default
    /// yes; see [`super::linger`]).
    EnableLinger {
        /// The user name.
        user: String,
    },
    /// Boot a legacy LaunchAgent out and move its plist to `~/.Trash`.
    TrashLaunchAgent {
        /// The label.
        label: String,
        /// The plist.
        plist: PathBuf,
        /// `gui/<uid>`.
        domain: String,
        /// `~/.Trash/<label>.plist`.
        trash: PathBuf,
    },
}

impl Action {
    /// Reinstall `profile`'s service as `gateway install` would.
    pub fn reinstall(profile: &str) -> Self {
        Self::Reinstall {
            profile: profile.to_owned(),
        }
    }

    /// One line for prompts and plans.
    pub fn summary(&self) -> String {
        match self {
            Self::Reinstall { profile } => {
                format!(
                    "Rewrite the gateway service of profile {profile} with the current definition"
                )
            }
            Self::MoveUnitSecrets { profile } => format!(
                "Move the inline secrets of the gateway service of profile {profile} into its 0600 env file (no restart)"
            ),
            Self::Chmod { path, mode } => format!("chmod {mode:04o} {}", path.display()),
            Self::StripBackup { path } => {
                format!("Rewrite {} without secrets (mode 0600)", path.display())
            }
            Self::ConfigBind { config, mode, .. } => {
                format!("Set gateway.bind to \"{mode}\" in {}", config.display())
            }
            Self::RemoveLegacyUnit { unit, .. } => {
                format!("Remove the legacy systemd user unit {unit}")
            }
            Self::TrashLaunchAgent { label, .. } => {
                format!("Boot out the legacy LaunchAgent {label} and move it to the Trash")
            }
            Self::MigrateLaunchAgent { profile, label, .. } => format!(
                "Migrate the LaunchAgent {label} of another release to this release's LaunchAgent of profile {profile}"
            ),
            Self::StartService { profile } => {
                format!("Start the gateway service of profile {profile}")
            }
            Self::BootstrapLaunchAgent { profile } => format!(
                "Bootstrap the LaunchAgent of profile {profile} into launchd (enable, bootstrap, kickstart)"
            ),
            Self::RestartService { profile } => {
                format!("Restart the gateway service of profile {profile}")
            }
            Self::InstallService { profile } => {
                format!("Install the gateway service of profile {profile}")
            }
            Self::EnableLinger { user } => format!("Enable systemd lingering for {user}"),
        }
    }

    /// The question put to the operator on a terminal, and what an empty answer means. The
    /// runtime repairs ask the spec's questions (§6.4; the profile is named unless it is the
    /// default one); the others ask "<summary>?", default yes.
    pub fn question(&self) -> (String, bool) {
        let runtime = |text: &str, profile: &str, default_yes: bool| {
            let text = if profile == "default" {
                format!("{text}?")
            } else {
                format!("{text} (profile {profile})?")
            };
            (text, default_yes)
        };
        match self {
            Self::StartService { profile } => runtime("Start gateway service now", profile, true),
            Self::BootstrapLaunchAgent { profile } => {
                runtime("Repair gateway LaunchAgent bootstrap now", profile, true)
            }
            Self::RestartService { profile } => {
                runtime("Restart gateway service now", profile, false)
            }
            Self::InstallService { profile } => {
                runtime("Install gateway service now", profile, true)
            }
            Self::EnableLinger { user } => (super::linger::question(user), true),
            other => (format!("{}?", other.summary()), true),
        }
    }

    /// True for the repairs that change the profile's own service (its definition, whether it
    /// runs): the ones `OPENCLAW_SERVICE_REPAIR_POLICY=external` turns off.
    pub fn mutates_service(&self) -> bool {
        matches!(
            self,
            Self::Reinstall { .. }
                | Self::MoveUnitSecrets { .. }
                | Self::MigrateLaunchAgent { .. }
                | Self::StartService { .. }
                | Self::BootstrapLaunchAgent { .. }
                | Self::RestartService { .. }
                | Self::InstallService { .. }
        )
    }

    /// The plan lines of actions whose plan does not depend on a service manager.
    pub fn plan_lines(&self) -> Vec<String> {
        match self {
            Self::Chmod { path, mode } => vec![format!("chmod {mode:04o} {}", path.display())],
            Self::StripBackup { path } => vec![format!(
                "rewrite {} atomically with secret Environment= assignments removed, mode 0600",
                path.display()
            )],
            Self::ConfigBind { config, mode, .. } => vec![format!(
                "edit {}: gateway.bind = \"{mode}\" (previous file kept as {}.bak, 0600; ${{VAR}} references and unknown keys kept)",
                config.display(),
                config.display()
            )],
            Self::RemoveLegacyUnit { unit, path } => vec![
                format!("systemctl --user stop {unit}    (D-Bus StopUnit({unit}))"),
                format!("systemctl --user disable {unit}    (D-Bus DisableUnitFiles({unit}))"),
                format!("remove {} and {}.bak", path.display(), path.display()),
                "systemctl --user daemon-reload    (D-Bus Reload())".to_owned(),
            ],
            Self::EnableLinger { user } => vec![
                format!(
                    "D-Bus org.freedesktop.login1.Manager.SetUserLinger(<uid of {user}>, true, interactive) on the system bus, else `loginctl enable-linger {user}` (writes /var/lib/systemd/linger/{user})"
                ),
                "read linger again to confirm".to_owned(),
            ],
            Self::TrashLaunchAgent {
                label,
                plist,
                domain,
                trash,
            } => vec![
                format!("launchctl bootout {domain}/{label}"),
                format!("move {} to {}", plist.display(), trash.display()),
            ],
            Self::MoveUnitSecrets { .. } => vec![
                "rewrite the unit atomically without its secret Environment= assignments (a comment names each moved key), adding EnvironmentFile=-<state>/gateway.systemd.env".to_owned(),
                "add the secrets to <state>/gateway.systemd.env (mode 0600); the old unit text goes nowhere".to_owned(),
                "systemctl --user daemon-reload    (D-Bus Reload()); the running gateway is not restarted".to_owned(),
            ],
            Self::Reinstall { .. }
            | Self::MigrateLaunchAgent { .. }
            | Self::StartService { .. }
            | Self::BootstrapLaunchAgent { .. }
            | Self::RestartService { .. }
            | Self::InstallService { .. } => Vec::new(),
        }
    }

    /// The repair kind of this action for `findings`: interactive when any finding it repairs
    /// is, else aggressive when any is, else safe.
    pub fn kind(&self, findings: &[&Finding]) -> RepairKind {
        if findings.iter().any(|f| f.repair == RepairKind::Interactive) {
            RepairKind::Interactive
        } else if findings.iter().any(|f| f.repair == RepairKind::Aggressive) {
            RepairKind::Aggressive
        } else {
            RepairKind::Safe
        }
    }
}

/// Sets `path`'s mode.
pub fn chmod(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Rewrites a unit backup without secrets, 0600.
pub fn strip_backup(path: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    write_atomic(path, strip_secrets(&text).as_bytes(), SECRET_FILE_MODE)
}

/// Boots a LaunchAgent out (not loaded is fine) and moves its plist to the Trash (a numbered
/// name when the Trash already holds one).
pub fn trash_launch_agent(
    runner: &mut dyn CommandRunner,
    label: &str,
    plist: &Path,
    domain: &str,
    trash: &Path,
) -> Result<PathBuf, String> {
    let target = format!("{domain}/{label}");
    let out = runner
        .run(
            "launchctl",
            &["bootout".to_owned(), target.clone()],
            Duration::from_secs(30),
        )
        .map_err(|e| format!("launchctl bootout {target}: {e}"))?;
    if !out.success() && !out.code.is_some_and(|c| NOT_LOADED_CODES.contains(&c)) {
        return Err(format!(
            "launchctl bootout {target} failed: {}",
            out.detail()
        ));
    }
    if let Some(dir) = trash.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut dest = trash.to_path_buf();
    let mut n = 1;
    while dest.exists() {
        n += 1;
        dest = trash.with_file_name(format!("{label} {n}.plist"));
    }
    std::fs::rename(plist, &dest).map_err(|e| format!("move {}: {e}", plist.display()))?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::launchd::fake::FakeLaunchctl;

    #[test]
    fn a_legacy_launch_agent_is_booted_out_and_moved_to_the_trash_with_the_fake_launchctl() {
        let home = tempfile::tempdir().unwrap();
        let agents = home.path().join("Library/LaunchAgents");
        std::fs::create_dir_all(&agents).unwrap();
        let plist = agents.join("com.openclaw.gateway.plist");
        std::fs::write(&plist, "<plist/>").unwrap();
        let fake = FakeLaunchctl::new(501, true);
        let mut runner = fake.clone();
        let in_trash = home.path().join(".Trash/com.openclaw.gateway.plist");
        let trash = |runner: &mut FakeLaunchctl| {
            trash_launch_agent(runner, "com.openclaw.gateway", &plist, "gui/501", &in_trash)
        };
        let dest = trash(&mut runner).unwrap();
        assert_eq!(dest, in_trash);
        assert!(!plist.exists() && in_trash.exists());
        assert_eq!(
            fake.take_calls(),
            ["launchctl bootout gui/501/com.openclaw.gateway"]
        );
        // A second agent of the same label does not overwrite the first in the Trash.
        std::fs::write(&plist, "<plist/>").unwrap();
        let dest = trash(&mut runner).unwrap();
        assert_eq!(
            dest,
            home.path().join(".Trash/com.openclaw.gateway 2.plist")
        );
    }

    #[test]
    fn backups_lose_their_secrets_and_become_private() {
        let dir = tempfile::tempdir().unwrap();
        let bak = dir.path().join("x.service.bak");
        std::fs::write(
            &bak,
            "[Service]\nEnvironment=OPENCLAW_GATEWAY_TOKEN=t0k A=1\n",
        )
        .unwrap();
        chmod(&bak, 0o644).unwrap();
        strip_backup(&bak).unwrap();
        let text = std::fs::read_to_string(&bak).unwrap();
        assert!(
            !text.contains("t0k") && text.contains("Environment=A=1"),
            "{text}"
        );
        assert_eq!(crate::atomic_write::file_mode(&bak), Some(0o600));
    }

    #[test]
    fn plans_name_the_commands() {
        let a = Action::TrashLaunchAgent {
            label: "com.openclaw.gateway".into(),
            plist: "/h/Library/LaunchAgents/com.openclaw.gateway.plist".into(),
            domain: "gui/501".into(),
            trash: "/h/.Trash/com.openclaw.gateway.plist".into(),
        };
        assert_eq!(
            a.plan_lines(),
            [
                "launchctl bootout gui/501/com.openclaw.gateway",
                "move /h/Library/LaunchAgents/com.openclaw.gateway.plist to /h/.Trash/com.openclaw.gateway.plist"
            ]
        );
    }
}
