//! Files that must stay private, and the config and state dir: unit backups holding secrets or
//! readable by others, drop-ins with inline secrets, the env file, token file and a config
//! holding secrets with group/other bits (the root file, and every `$include`d file that holds an
//! inline gateway token or password); an invalid config, legacy `gateway.bind` host aliases,
//! `gateway.reload.mode = off`; a state dir that is not writable or is writable by others.

use std::path::{Path, PathBuf};

use crate::atomic_write::file_mode;
use crate::config::{BindSetting, LoadedConfig, ReloadMode};
use crate::platform::PlatformKind;
use crate::service_names::{Treatment, classify_service_name};

use super::findings::{Finding, RepairKind, Severity};
use super::repair::Action;
use super::unit_migration::holds_secrets;

/// A finding and the action that repairs it.
pub type Item = (Finding, Option<Action>);

/// The message of `service-port-mismatch`, when the `--port` a service definition runs with
/// (`found`, as written) is not `want`: one rule for the unit, the LaunchAgent and the task.
pub fn port_mismatch(found: Option<&str>, want: u16) -> Option<String> {
    let same = found
        .and_then(|p| p.trim().parse::<u16>().ok())
        .is_some_and(|p| p == want);
    (!same).then(|| {
        format!(
            "Gateway service port does not match the current gateway config: {} -> {want}",
            found.unwrap_or("(none)")
        )
    })
}

/// The findings of one service definition's audit, each naming the definition's profile and
/// file (a `Vec<Item>` otherwise).
pub struct DefinitionFindings<'a> {
    profile: &'a str,
    path: &'a Path,
    items: Vec<Item>,
}

impl<'a> DefinitionFindings<'a> {
    /// No findings yet, for the definition at `path` of `profile`.
    pub fn new(profile: &'a str, path: &'a Path) -> Self {
        Self {
            profile,
            path,
            items: Vec::new(),
        }
    }

    /// Adds a finding about the definition, with the action that repairs it.
    pub fn add(
        &mut self,
        id: &'static str,
        severity: Severity,
        message: String,
        fix: &str,
        repair: RepairKind,
        action: Option<Action>,
    ) {
        self.items.push((
            Finding::new(id, severity, message, fix, repair)
                .profile(self.profile)
                .path(self.path),
            action,
        ));
    }

    /// The findings.
    pub fn into_items(self) -> Vec<Item> {
        self.items
    }
}

impl std::ops::Deref for DefinitionFindings<'_> {
    type Target = Vec<Item>;
    fn deref(&self) -> &Vec<Item> {
        &self.items
    }
}

fn readable_by_others(mode: u32) -> bool {
    mode & 0o077 != 0
}

/// Unit backups (`*.bak`) and drop-ins (`*.d/*.conf`) in `unit_dir`.
pub fn audit_unit_dir(unit_dir: &Path) -> Vec<Item> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(unit_dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let legacy_backup = name.strip_suffix(".bak").is_some_and(|base| {
            classify_service_name(PlatformKind::Linux, base)
                .is_some_and(|k| k.entry.treatment == Treatment::LegacyToMigrate)
        });
        if legacy_backup {
            continue; // deleted with its legacy unit (see `legacy`)
        }
        if name.ends_with(".bak") && path.is_file() {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let mode = file_mode(&path).unwrap_or(0);
            if holds_secrets(&text) {
                out.push((
                    Finding::new(
                        "systemd-unit-backup-unsafe",
                        Severity::Error,
                        format!(
                            "Systemd unit backup {} holds gateway credentials or other secrets (mode {mode:04o}).",
                            path.display()
                        ),
                        "`openclaw doctor --fix` rewrites it without the secrets, mode 0600",
                        RepairKind::Safe,
                    )
                    .path(&path),
                    Some(Action::StripBackup { path: path.clone() }),
                ));
            } else if readable_by_others(mode) {
                out.push((
                    Finding::new(
                        "systemd-unit-backup-mode",
                        Severity::Warning,
                        format!(
                            "Systemd unit backup {} is readable by others (mode {mode:04o}).",
                            path.display()
                        ),
                        "`openclaw doctor --fix` sets mode 0600",
                        RepairKind::Safe,
                    )
                    .path(&path),
                    Some(Action::Chmod {
                        path: path.clone(),
                        mode: 0o600,
                    }),
                ));
            }
        } else if name.ends_with(".d") && path.is_dir() {
            let Ok(dropins) = std::fs::read_dir(&path) else {
                continue;
            };
            for dropin in dropins.filter_map(|e| e.ok().map(|e| e.path())) {
                let text = std::fs::read_to_string(&dropin).unwrap_or_default();
                let mode = file_mode(&dropin).unwrap_or(0);
                if holds_secrets(&text) && readable_by_others(mode) {
                    out.push((
                        Finding::new(
                            "secret-in-dropin",
                            Severity::Error,
                            format!(
                                "Drop-in {} holds secrets inline and is readable by others (mode {mode:04o}).",
                                dropin.display()
                            ),
                            "Doctor never rewrites drop-ins: move the secret into an EnvironmentFile= with mode 0600, or chmod 0600 the drop-in",
                            RepairKind::Manual,
                        )
                        .path(&dropin),
                        None,
                    ));
                }
            }
        }
    }
    out
}

/// A file that holds secrets and must be 0600 (env file, token file, config with secrets).
pub fn audit_private_file(path: &Path, what: &str, profile: &str) -> Vec<Item> {
    match file_mode(path) {
        Some(mode) if readable_by_others(mode) => vec![(
            Finding::new(
                "secret-file-mode",
                Severity::Error,
                format!(
                    "The {what} {} holds secrets but has mode {mode:04o}.",
                    path.display()
                ),
                "`openclaw doctor --fix` sets mode 0600",
                RepairKind::Safe,
            )
            .profile(profile)
            .path(path),
            Some(Action::Chmod {
                path: path.to_owned(),
                mode: 0o600,
            }),
        )],
        _ => Vec::new(),
    }
}

/// The config of one profile.
pub fn audit_config(
    config: &Result<LoadedConfig, String>,
    path: &Path,
    profile: &str,
) -> Vec<Item> {
    let loaded = match config {
        Ok(c) => c,
        Err(e) => {
            return vec![(
                Finding::new(
                    "config-invalid",
                    Severity::Error,
                    format!("The config cannot be used: {e}"),
                    "Fix the file at the position shown (doctor never rewrites an invalid config)",
                    RepairKind::Manual,
                )
                .profile(profile)
                .path(path),
                None,
            )];
        }
    };
    let mut out = Vec::new();
    if let Some(BindSetting::LegacyHost(host)) = loaded.config.gateway_bind() {
        let mode = BindSetting::LegacyHost(host.clone()).mode();
        out.push((
            Finding::new(
                "config-legacy-bind",
                Severity::Warning,
                format!("gateway.bind is the legacy host alias \"{host}\"; it means \"{mode}\"."),
                format!("`openclaw doctor --fix` writes gateway.bind: \"{mode}\""),
                RepairKind::Safe,
            )
            .profile(profile)
            .path(path),
            Some(Action::ConfigBind {
                profile: profile.to_owned(),
                config: path.to_owned(),
                mode: mode.to_string(),
            }),
        ));
    }
    if loaded.config.reload_mode() == ReloadMode::Off {
        out.push((
            Finding::new(
                "config-reload-off",
                Severity::Info,
                "gateway.reload.mode is \"off\": config edits are logged but only applied at the next restart.",
                "Set gateway.reload.mode to \"hybrid\" (the default) to apply edits live",
                RepairKind::None,
            )
            .profile(profile)
            .path(path),
            None,
        ));
    }
    if loaded.exists && crate::config::holds_secrets(&loaded.raw) {
        out.extend(audit_private_file(path, "config", profile));
    }
    // `$include`d files can hold the gateway secret too: same finding, same repair.
    for file in &loaded.includes {
        if file != path && crate::config::include_holds_secrets(file, &loaded.expanded) {
            out.extend(audit_private_file(file, "included config file", profile));
        }
    }
    out
}

/// The state dir of one profile.
pub fn audit_state_dir(dir: &Path, profile: &str) -> Vec<Item> {
    let Some(mode) = file_mode(dir) else {
        return Vec::new();
    };
    let writable = nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok();
    let mut out = Vec::new();
    if !writable {
        out.push((
            Finding::new(
                "state-dir-unwritable",
                Severity::Error,
                format!(
                    "The state dir {} is not writable by this user: the gateway cannot keep tokens, pairings or logs.",
                    dir.display()
                ),
                format!(
                    "sudo chown -R \"$(id -un)\" {0} && chmod 0700 {0}",
                    dir.display()
                ),
                RepairKind::Manual,
            )
            .profile(profile)
            .path(dir),
            None,
        ));
    } else if mode & 0o022 != 0 {
        out.push((
            Finding::new(
                "state-dir-permissions",
                Severity::Warning,
                format!(
                    "The state dir {} is writable by group or others (mode {mode:04o}).",
                    dir.display()
                ),
                "`openclaw doctor --fix` sets mode 0700",
                RepairKind::Safe,
            )
            .profile(profile)
            .path(dir),
            Some(Action::Chmod {
                path: dir.to_owned(),
                mode: 0o700,
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::repair::chmod;
    use crate::environment::Environment;

    #[test]
    fn a_definitions_port_mismatches_unless_it_is_the_wanted_port() {
        assert_eq!(port_mismatch(Some("18789"), 18789), None);
        for found in [Some("18788"), Some("0"), Some("port"), Some(""), None] {
            let message = port_mismatch(found, 18789).expect("a mismatch");
            assert!(message.ends_with(&format!("{} -> 18789", found.unwrap_or("(none)"))));
        }
    }

    fn ids(items: &[Item]) -> Vec<&'static str> {
        items.iter().map(|(f, _)| f.id).collect()
    }

    #[test]
    fn a_readable_backup_with_a_token_is_unsafe_and_a_clean_one_only_needs_a_mode() {
        let dir = tempfile::tempdir().unwrap();
        let bak = dir.path().join("openclaw-gateway.service.bak");
        std::fs::write(&bak, "[Service]\nEnvironment=OPENCLAW_GATEWAY_TOKEN=x\n").unwrap();
        chmod(&bak, 0o644).unwrap();
        let found = audit_unit_dir(dir.path());
        assert_eq!(ids(&found), ["systemd-unit-backup-unsafe"]);
        assert_eq!(found[0].1, Some(Action::StripBackup { path: bak.clone() }));
        std::fs::write(&bak, "[Service]\n").unwrap();
        assert_eq!(
            ids(&audit_unit_dir(dir.path())),
            ["systemd-unit-backup-mode"]
        );
        chmod(&bak, 0o600).unwrap();
        assert!(audit_unit_dir(dir.path()).is_empty());
    }

    #[test]
    fn a_legacy_units_backup_is_left_to_the_legacy_removal() {
        let dir = tempfile::tempdir().unwrap();
        let bak = dir.path().join("clawdbot-gateway.service.bak");
        std::fs::write(&bak, "[Service]\nEnvironment=CLAWDBOT_GATEWAY_TOKEN=x\n").unwrap();
        chmod(&bak, 0o644).unwrap();
        assert!(audit_unit_dir(dir.path()).is_empty());
    }

    #[test]
    fn a_readable_dropin_with_a_secret_is_reported_but_never_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("openclaw-gateway.service.d");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(
            d.join("k.conf"),
            "[Service]\nEnvironment=OPENAI_API_KEY=sk\n",
        )
        .unwrap();
        chmod(&d.join("k.conf"), 0o644).unwrap();
        let found = audit_unit_dir(dir.path());
        assert_eq!(ids(&found), ["secret-in-dropin"]);
        assert_eq!(found[0].0.repair, RepairKind::Manual);
        assert_eq!(found[0].1, None);
    }

    #[test]
    fn private_files_must_be_0600() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("gateway.systemd.env");
        std::fs::write(&env, "A=1\n").unwrap();
        chmod(&env, 0o640).unwrap();
        assert_eq!(
            ids(&audit_private_file(&env, "env file", "default")),
            ["secret-file-mode"]
        );
        chmod(&env, 0o600).unwrap();
        assert!(audit_private_file(&env, "env file", "default").is_empty());
        assert!(audit_private_file(&dir.path().join("missing"), "x", "default").is_empty());
    }

    #[test]
    fn config_rules_cover_invalid_legacy_bind_reload_off_and_a_readable_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let invalid = audit_config(&Err("x:1:2: bad".into()), &path, "default");
        assert_eq!(ids(&invalid), ["config-invalid"]);
        std::fs::write(
            &path,
            r#"{ gateway: { bind: "0.0.0.0", reload: { mode: "off" }, auth: { token: "t" } } }"#,
        )
        .unwrap();
        chmod(&path, 0o644).unwrap();
        let loaded = LoadedConfig::load(&path, &Environment::empty()).map_err(|e| e.to_string());
        let found = audit_config(&loaded, &path, "default");
        assert_eq!(
            ids(&found),
            [
                "config-legacy-bind",
                "config-reload-off",
                "secret-file-mode"
            ]
        );
        assert!(matches!(&found[0].1, Some(Action::ConfigBind { mode, .. }) if mode == "lan"));
    }

    #[test]
    fn an_included_file_holding_the_gateway_secret_must_be_private_like_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("openclaw.json");
        // Included below gateway.auth (the file alone has no gateway key), at the top level,
        // and one without secrets; the root itself holds none.
        let auth = dir.path().join("auth.json5");
        let top = dir.path().join("remote.json5");
        let plain = dir.path().join("port.json5");
        std::fs::write(
            &root,
            r#"{ $include: ["./remote.json5", "./port.json5"], gateway: { auth: { $include: "./auth.json5" } } }"#,
        )
        .unwrap();
        std::fs::write(&auth, r#"{ mode: "token", token: "s3cret-token" }"#).unwrap();
        std::fs::write(&top, r#"{ gateway: { remote: { password: "pw" } } }"#).unwrap();
        std::fs::write(&plain, r#"{ gateway: { port: 18800 } }"#).unwrap();
        for f in [&root, &auth, &top, &plain] {
            chmod(f, 0o644).unwrap();
        }
        let load = || LoadedConfig::load(&root, &Environment::empty()).map_err(|e| e.to_string());
        let found = audit_config(&load(), &root, "default");
        let paths: Vec<_> = found
            .iter()
            .map(|(f, a)| (f.id, f.path.clone().unwrap(), a.clone()))
            .collect();
        assert_eq!(
            paths,
            [
                (
                    "secret-file-mode",
                    top.clone(),
                    Some(Action::Chmod {
                        path: top.clone(),
                        mode: 0o600
                    })
                ),
                (
                    "secret-file-mode",
                    auth.clone(),
                    Some(Action::Chmod {
                        path: auth.clone(),
                        mode: 0o600
                    })
                ),
            ]
        );
        assert!(
            found[1].0.message.contains("included config file"),
            "{:?}",
            found[1].0
        );
        chmod(&auth, 0o600).unwrap();
        chmod(&top, 0o600).unwrap();
        assert!(audit_config(&load(), &root, "default").is_empty());
        // A `${VAR}` reference is not a secret.
        std::fs::write(&auth, r#"{ mode: "token", token: "${GW_TOKEN}" }"#).unwrap();
        chmod(&auth, 0o644).unwrap();
        let env = Environment::empty().with("GW_TOKEN", "from-env");
        let loaded = LoadedConfig::load(&root, &env).map_err(|e| e.to_string());
        assert!(audit_config(&loaded, &root, "default").is_empty());
    }

    #[test]
    fn a_group_writable_state_dir_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o775).unwrap();
        assert_eq!(
            ids(&audit_state_dir(dir.path(), "default")),
            ["state-dir-permissions"]
        );
        chmod(dir.path(), 0o700).unwrap();
        assert!(audit_state_dir(dir.path(), "default").is_empty());
    }
}
