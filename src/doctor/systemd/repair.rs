//! The repairs that drive the service manager: rewriting (migrating) a profile's unit through
//! the install plan, and removing a legacy unit.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::atomic_write::{SECRET_FILE_MODE, create_dir_all_with_mode, write_atomic};
use crate::service::ServiceManager;
use crate::service::plan::Plan;
use crate::service::systemd::SystemdBackend;
use crate::service::systemd::dbus::JobMethod;
use crate::service::systemd::units;

use crate::doctor::Target;
use crate::doctor::unit_migration::{
    EnvClass, UnitMigration, analyse, classify_env_key, parse_env_file, preserved_dropin,
    preserved_dropin_path, strip_secrets,
};

/// The env file entries a reinstall keeps: operator entries already in the file (keys we manage
/// dropped), then the operator secrets of the old unit.
pub fn kept_env_file_entries(
    existing: Option<&str>,
    migration: Option<&UnitMigration>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = existing
        .map(parse_env_file)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| classify_env_key(k) != EnvClass::Managed)
        .collect();
    if let Some(m) = migration {
        for (k, v) in &m.operator_secrets {
            out.retain(|(key, _)| key != k);
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

/// What the reinstall of `target` will do besides the install plan, for `--dry-run`.
pub fn describe_reinstall(target: &Target, plan: &Plan) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(spec) = &target.spec else {
        return lines;
    };
    let unit_dir = units::unit_dir(spec);
    let service = spec.names.systemd_service_file();
    let unit_path = unit_dir.join(&service);
    if let Ok(old) = std::fs::read_to_string(&unit_path) {
        let m = analyse(&old, &units::env_file(spec));
        lines.push(format!(
            "back up {} to {}.bak (mode 0600, secret assignments removed)",
            unit_path.display(),
            unit_path.display()
        ));
        let dropin = preserved_dropin_path(&unit_dir, &service);
        let existing = std::fs::read_to_string(&dropin).ok();
        if let Ok(Some(text)) = preserved_dropin(&m, existing.as_deref()) {
            if Some(&text) != existing.as_ref() {
                lines.push(format!(
                    "write drop-in {} (mode 0644) keeping the operator's settings:",
                    dropin.display()
                ));
                lines.extend(text.lines().map(|l| format!("    | {l}")));
            }
        }
        lines.extend(describe_inline_secrets(
            target,
            m.token.is_some(),
            m.password.is_some(),
        ));
        let keys: Vec<&str> = m.operator_secrets.iter().map(|(k, _)| k.as_str()).collect();
        if !keys.is_empty() {
            lines.push(format!(
                "move {} into the 0600 env file {}",
                keys.join(", "),
                units::env_file(spec).display()
            ));
        }
    }
    lines.push("then the install plan:".to_owned());
    lines.extend(plan.render_text().lines().map(|l| format!("    {l}")));
    lines
}

/// True when the config sets `key`, in the root file or in a file it includes.
fn config_has(target: &Target, key: &str) -> bool {
    let Ok(config) = &target.config else {
        return false;
    };
    let mut node = &config.expanded;
    for part in key.split('.') {
        node = &node[part];
    }
    !node.is_null() && node.as_str().is_none_or(|s| !s.trim().is_empty())
}

/// The `--dry-run` lines of [`persist_inline_secrets`].
pub fn describe_inline_secrets(target: &Target, token: bool, password: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for (what, present, key) in [
        ("token", token, "gateway.auth.token"),
        ("password", password, "gateway.auth.password"),
    ] {
        if present {
            if config_has(target, key) {
                lines.push(format!(
                    "drop the inline gateway {what}: {key} in the config is the source of truth"
                ));
            } else {
                lines.push(format!(
                    "persist the inline gateway {what} as {key} in {} (0600; previous file kept as .bak 0600)",
                    target.invocation.paths.config_path.display()
                ));
            }
        }
    }
    lines
}

/// Moves a gateway token/password found inline in an old service definition into
/// `gateway.auth.token` / `gateway.auth.password` of the config, unless the config has one
/// (then the config wins and the inline one is dropped).
pub fn persist_inline_secrets(
    target: &Target,
    token: Option<&str>,
    password: Option<&str>,
) -> Result<Vec<String>, String> {
    let mut messages = Vec::new();
    let mut config = target.config.clone().map_err(|e| format!("config: {e}"))?;
    let mut changed = false;
    for (value, key) in [
        (token, "gateway.auth.token"),
        (password, "gateway.auth.password"),
    ] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            if !config_has(target, key) {
                config
                    .set(key, Value::String(v.trim().to_owned()))
                    .map_err(|e| e.to_string())?;
                messages.push(format!(
                    "Moved the inline secret into {key} of {}",
                    config.path.display()
                ));
                changed = true;
            }
        }
    }
    if changed {
        config
            .write(&target.invocation.env)
            .map_err(|e| e.to_string())?;
    }
    Ok(messages)
}

/// Moves the secret `Environment=` assignments of `target`'s installed unit into the unit's
/// 0600 env file, in place (see [`crate::doctor::repair::Action::MoveUnitSecrets`]): the env file
/// first (so no secret is ever only in memory), then the unit without them, then a reload. The
/// running gateway is not restarted.
pub fn move_unit_secrets(target: &Target) -> Result<Vec<String>, String> {
    let spec = target
        .spec
        .clone()
        .ok_or("the config is invalid; fix it first")?;
    let unit_dir = units::unit_dir(&spec);
    let unit_path = unit_dir.join(spec.names.systemd_service_file());
    let env_file = units::env_file(&spec);
    let text =
        std::fs::read_to_string(&unit_path).map_err(|e| format!("{}: {e}", unit_path.display()))?;
    let unit = crate::service::systemd::drift::UnitFile::parse(&text);
    let secrets: Vec<(String, String)> = crate::doctor::unit_migration::inline_secret_keys(&unit)
        .into_iter()
        .map(|(key, _)| {
            let value = unit.environment(&key).unwrap_or_default();
            (key, value)
        })
        .collect();
    if secrets.is_empty() {
        return Ok(vec![format!(
            "{} holds no inline secret (any earlier one was moved already)",
            unit_path.display()
        )]);
    }
    writable_check(&unit_dir, &unit_path)?;
    let mut entries = std::fs::read_to_string(&env_file)
        .map(|t| parse_env_file(&t))
        .unwrap_or_default();
    for (key, value) in &secrets {
        entries.retain(|(k, _)| k != key);
        entries.push((key.clone(), value.clone()));
    }
    let env_text = units::env_file_text(&entries).map_err(|e| e.message)?;
    if let Some(dir) = env_file.parent() {
        create_dir_all_with_mode(dir, 0o700).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    write_atomic(&env_file, env_text.as_bytes(), SECRET_FILE_MODE)
        .map_err(|e| format!("{}: {e}", env_file.display()))?;
    let mut new_text = strip_secrets(&text);
    let reads_env_file = unit
        .values("Service", "EnvironmentFile")
        .iter()
        .any(|v| Path::new(v.trim_start_matches('-')) == env_file);
    if !reads_env_file {
        let line = format!(
            "EnvironmentFile=-{}\n",
            units::escape::env_file_path(&env_file.display().to_string()).map_err(|e| e.message)?
        );
        new_text = new_text.replacen("[Service]\n", &format!("[Service]\n{line}"), 1);
    }
    let mode = crate::atomic_write::file_mode(&unit_path).unwrap_or(0o644) & 0o644;
    write_atomic(&unit_path, new_text.as_bytes(), mode)
        .map_err(|e| format!("{}: {e}", unit_path.display()))?;
    let backend = SystemdBackend::new(target.invocation.env.clone());
    backend
        .connect(&spec)
        .and_then(|mgr| {
            mgr.reload().map_err(|e| {
                crate::service::ServiceError::new(
                    "systemd-failed",
                    format!("daemon-reload failed: {e}"),
                )
            })
        })
        .map_err(|e| e.message)?;
    let keys: Vec<&str> = secrets.iter().map(|(k, _)| k.as_str()).collect();
    Ok(vec![
        format!(
            "Moved {} from {} into {} (mode 0600)",
            keys.join(", "),
            unit_path.display(),
            env_file.display()
        ),
        "Reloaded the manager; the running gateway was not restarted (its next start reads the same values from the env file)".to_owned(),
    ])
}

/// Rewrites `target`'s unit: backup, drop-in, config secrets, env file, install (see
/// [`crate::doctor::repair::Action::Reinstall`]).
pub fn reinstall(target: &Target) -> Result<Vec<String>, String> {
    let spec = target
        .spec
        .clone()
        .ok_or("the config is invalid; fix it first")?;
    let unit_dir = units::unit_dir(&spec);
    let service = spec.names.systemd_service_file();
    let unit_path = unit_dir.join(&service);
    let env_file = units::env_file(&spec);
    writable_check(&unit_dir, &unit_path)?;
    let mut messages = Vec::new();
    let old = std::fs::read_to_string(&unit_path).ok();
    let migration = old.as_deref().map(|t| analyse(t, &env_file));

    if let Some(m) = &migration {
        let backup = unit_dir.join(format!("{service}.bak"));
        write_atomic(&backup, m.backup_text.as_bytes(), SECRET_FILE_MODE)
            .map_err(|e| format!("{}: {e}", backup.display()))?;
        messages.push(format!(
            "Previous unit backed up to: {} (mode 0600, without secrets)",
            backup.display()
        ));
        let dropin = preserved_dropin_path(&unit_dir, &service);
        let existing = std::fs::read_to_string(&dropin).ok();
        if let Some(text) = preserved_dropin(m, existing.as_deref()).map_err(|e| e.message)? {
            if Some(&text) != existing.as_ref() {
                if let Some(dir) = dropin.parent() {
                    create_dir_all_with_mode(dir, 0o755)
                        .map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                write_atomic(&dropin, text.as_bytes(), 0o644)
                    .map_err(|e| format!("{}: {e}", dropin.display()))?;
                messages.push(format!(
                    "Operator settings kept in drop-in: {}",
                    dropin.display()
                ));
            }
        }
        messages.extend(persist_inline_secrets(
            target,
            m.token.as_deref(),
            m.password.as_deref(),
        )?);
    }

    let mut spec = spec;
    let existing_env = std::fs::read_to_string(&env_file).ok();
    spec.secret_environment = kept_env_file_entries(existing_env.as_deref(), migration.as_ref());
    let mut backend = SystemdBackend::new(target.invocation.env.clone());
    messages.extend(install_forced(&mut backend, &spec)?);
    Ok(messages)
}

/// Plans and runs `gateway install --force` of `spec` on `backend`: its messages and warnings,
/// or the error with its hints.
pub fn install_forced(
    backend: &mut dyn ServiceManager,
    spec: &crate::service::spec::ServiceSpec,
) -> Result<Vec<String>, String> {
    install_with(backend, spec, true)
}

/// Plans and runs `gateway install` (`--force` when `force`) of `spec` on `backend`, as
/// [`outcome_lines`].
pub fn install_with(
    backend: &mut dyn ServiceManager,
    spec: &crate::service::spec::ServiceSpec,
    force: bool,
) -> Result<Vec<String>, String> {
    let plan = backend.plan_install(spec).map_err(|e| e.message)?;
    outcome_lines(backend.install(spec, &plan, force))
}

/// A backend action's messages and warnings, or its error with the hints (one per line).
pub fn outcome_lines(
    result: Result<crate::service::ActionOutcome, crate::service::ServiceError>,
) -> Result<Vec<String>, String> {
    let outcome = result.map_err(|e| {
        std::iter::once(e.message)
            .chain(e.hints)
            .collect::<Vec<_>>()
            .join("\n  ")
    })?;
    Ok(outcome
        .messages
        .into_iter()
        .chain(outcome.warnings)
        .collect())
}

/// Refuses to rewrite a unit through a symlink, or in a unit dir that others can write or that
/// belongs to another account (spec §6.3 "Gateway service repair blocked").
pub fn writable_check(unit_dir: &Path, unit_path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let blocked = |why: String| Err(format!("Gateway service repair blocked: {why}"));
    if std::fs::symlink_metadata(unit_path).is_ok_and(|m| m.file_type().is_symlink()) {
        return blocked(format!(
            "{} is a symlink; replace it with a regular file or run `openclaw gateway install --force` after checking where it points",
            unit_path.display()
        ));
    }
    if let Ok(meta) = std::fs::metadata(unit_dir) {
        if meta.mode() & 0o022 != 0 {
            return blocked(format!(
                "{} is writable by group or others (mode {:04o}); run chmod go-w on it",
                unit_dir.display(),
                meta.mode() & 0o7777
            ));
        }
        let uid = nix::unistd::geteuid().as_raw();
        if meta.uid() != uid {
            return blocked(format!(
                "{} belongs to uid {}, not to this account (uid {uid})",
                unit_dir.display(),
                meta.uid()
            ));
        }
    }
    Ok(())
}

/// Stops, disables and deletes a legacy user unit (and its `.bak`), then reloads.
pub fn remove_legacy_unit(target: &Target, unit: &str, path: &Path) -> Result<Vec<String>, String> {
    let spec = target
        .spec
        .as_ref()
        .ok_or("the config is invalid; fix it first")?;
    let backend = SystemdBackend::new(target.invocation.env.clone());
    let mut messages = Vec::new();
    match backend.connect(spec) {
        Ok(mgr) => {
            let _ = mgr.run_job(JobMethod::Stop, unit, Duration::from_secs(30));
            let _ = mgr.disable_unit_files(&[unit.to_owned()]);
            remove_with_backup(path, &mut messages)?;
            mgr.reload().map_err(|e| format!("daemon-reload: {e}"))?;
        }
        Err(e) => {
            remove_with_backup(path, &mut messages)?;
            messages.push(format!(
                "The user manager is unreachable ({}): only the files were deleted.",
                e.message
            ));
        }
    }
    Ok(messages)
}

fn remove_with_backup(path: &Path, messages: &mut Vec<String>) -> Result<(), String> {
    let mut bak = path.as_os_str().to_owned();
    bak.push(".bak");
    for p in [path.to_path_buf(), bak.into()] {
        match std::fs::remove_file(&p) {
            Ok(()) => messages.push(format!("Removed {}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", p.display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_set_in_an_included_file_wins_over_an_inline_one() {
        use crate::environment::Environment;
        use crate::invocation::{GlobalOptions, Invocation};
        let home = tempfile::tempdir().unwrap();
        let state = home.path().join(".openclaw");
        std::fs::create_dir_all(&state).unwrap();
        let root = "{ gateway: { mode: 'local', $include: './gateway.json5' } }";
        std::fs::write(state.join("openclaw.json"), root).unwrap();
        std::fs::write(
            state.join("gateway.json5"),
            "{ auth: { token: 'from-include' } }",
        )
        .unwrap();
        let env = Environment::empty().with("HOME", home.path().to_str().unwrap());
        let invocation = Invocation::resolve(&GlobalOptions::default(), env, false).unwrap();
        let target = Target {
            label: "default".into(),
            config: invocation.load_config().map_err(|e| e.to_string()),
            invocation,
            spec: None,
        };
        assert_eq!(
            describe_inline_secrets(&target, true, false),
            [
                "drop the inline gateway token: gateway.auth.token in the config is the source of truth"
            ]
        );
        assert!(
            persist_inline_secrets(&target, Some("inline"), None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            std::fs::read_to_string(state.join("openclaw.json")).unwrap(),
            root,
            "the root file is left alone"
        );
    }

    #[test]
    fn repairs_are_blocked_through_symlinks_and_in_dirs_others_can_write() {
        use crate::doctor::repair::chmod;
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("openclaw-gateway.service");
        std::fs::write(dir.path().join("elsewhere"), "").unwrap();
        chmod(dir.path(), 0o755).unwrap();
        assert_eq!(writable_check(dir.path(), &unit), Ok(()));
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &unit).unwrap();
        let err = writable_check(dir.path(), &unit).unwrap_err();
        assert!(
            err.starts_with("Gateway service repair blocked:") && err.contains("symlink"),
            "{err}"
        );
        std::fs::remove_file(&unit).unwrap();
        chmod(dir.path(), 0o777).unwrap();
        let err = writable_check(dir.path(), &unit).unwrap_err();
        assert!(err.contains("writable by group or others"), "{err}");
    }

    #[test]
    fn a_reinstall_keeps_operator_env_file_entries_and_adds_the_old_units_secrets() {
        let m = analyse(
            crate::doctor::unit_migration::tests::REFERENCE_UNIT,
            Path::new("/x"),
        );
        let kept = kept_env_file_entries(
            Some("OPENCLAW_SERVICE_MARKER=openclaw\nMINE=1\nPROVIDER_API_KEY=old\n"),
            Some(&m),
        );
        assert_eq!(
            kept,
            [
                ("MINE".to_owned(), "1".to_owned()),
                ("PROVIDER_API_KEY".to_owned(), "sk live".to_owned())
            ]
        );
        assert!(kept_env_file_entries(None, None).is_empty());
    }
}
