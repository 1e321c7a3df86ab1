//! Windows repair: registering a profile's scheduled task as `openclaw gateway install` would,
//! after retiring the task script `<state>\gateway.cmd` (and its `gateway.vbs` launcher) of
//! another release: its gateway token/password go into the config (shared with the systemd
//! repair), the script is backed up 0600 under `<state>/service-backup/` without them and
//! removed. Our task runs the gateway without environment, so other `set` entries cannot be
//! carried over: the repair names them (they stay in the 0600 backup).

use std::path::PathBuf;

use crate::atomic_write::{
    PRIVATE_DIR_MODE, SECRET_FILE_MODE, create_dir_all_with_mode, write_atomic,
};
use crate::service::spec::ServiceSpec;
use crate::service::windows::{SECRET_FILE_FLAGS, secret_file};

use crate::doctor::Target;
use crate::doctor::supervisor::Supervisor;
use crate::doctor::unit_migration::{EnvClass, classify_env_key};
use crate::doctor::windows::audit::{script_environment, stripped_script};

/// `<state>\gateway.cmd`, the task script of other releases.
pub fn task_script(spec: &ServiceSpec) -> PathBuf {
    spec.state_dir.join("gateway.cmd")
}

/// The secrets our backend already handed to the gateway in 0600 files (kept by a reinstall).
pub fn handed_over_secrets(spec: &ServiceSpec) -> Vec<(String, String)> {
    SECRET_FILE_FLAGS
        .iter()
        .filter_map(|(key, _, suffix)| {
            let text = std::fs::read_to_string(secret_file(spec, suffix)).ok()?;
            Some(((*key).to_owned(), text.trim().to_owned()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// Re-registers `target`'s task (see the module doc).
pub fn reinstall(target: &Target, sup: &Supervisor) -> Result<Vec<String>, String> {
    let spec = target
        .spec
        .clone()
        .ok_or("the config is invalid; fix it first")?;
    let mut messages = Vec::new();
    let script = task_script(&spec);
    if let Ok(text) = std::fs::read_to_string(&script) {
        let env = script_environment(&text);
        let find = |class: EnvClass| {
            env.iter()
                .find(|(k, v)| classify_env_key(k) == class && !v.trim().is_empty())
                .map(|(_, v)| v.clone())
        };
        let (token, password) = (find(EnvClass::Token), find(EnvClass::Password));
        let dir = spec.state_dir.join("service-backup");
        create_dir_all_with_mode(&dir, PRIVATE_DIR_MODE)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let backup = dir.join("gateway.cmd.bak");
        let stripped = stripped_script(&text, &|k: &str| {
            matches!(classify_env_key(k), EnvClass::Token | EnvClass::Password)
        });
        write_atomic(&backup, stripped.as_bytes(), SECRET_FILE_MODE)
            .map_err(|e| format!("{}: {e}", backup.display()))?;
        messages.push(format!(
            "Task script backed up to: {} (mode 0600, without the gateway token)",
            backup.display()
        ));
        messages.extend(crate::doctor::systemd::repair::persist_inline_secrets(
            target,
            token.as_deref(),
            password.as_deref(),
        )?);
        let dropped: Vec<&str> = env
            .iter()
            .filter(|(k, _)| {
                matches!(
                    classify_env_key(k),
                    EnvClass::Operator | EnvClass::OperatorSecret
                )
            })
            .map(|(k, _)| k.as_str())
            .collect();
        if !dropped.is_empty() {
            messages.push(format!(
                "Not carried over (the task runs the gateway without environment): {}; kept in {}: put them into the gateway config",
                dropped.join(", "),
                backup.display()
            ));
        }
        for old in [script.clone(), spec.state_dir.join("gateway.vbs")] {
            match std::fs::remove_file(&old) {
                Ok(()) => messages.push(format!("Removed {}", old.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", old.display())),
            }
        }
    }
    messages.extend(crate::doctor::systemd::repair::install_forced(
        &mut sup.windows(),
        &spec,
    )?);
    Ok(messages)
}
