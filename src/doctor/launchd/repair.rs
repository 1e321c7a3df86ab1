//! launchd repairs: rewriting a profile's own LaunchAgent through the backend's install, and
//! migrating another release's `ai.openclaw.gateway` / `ai.openclaw.<p>` LaunchAgent (plist plus
//! env-file wrapper, spec §3.2 and §9) to ours (`bot.molt.*`).
//!
//! Both take the old definition apart the same way ([`analyse_plist`]): the gateway token and
//! password go into the config (shared with the systemd repair,
//! [`crate::doctor::systemd::repair::persist_inline_secrets`]); operator settings that are not secret are
//! carried into our plist's `EnvironmentVariables`; operator secrets cannot be (our plist holds
//! no secret and the gateway reads only its token and password from files), so they stay in the
//! 0600 backup and the repair says which. Backups are 0600, token and password removed.

use std::path::{Path, PathBuf};

use plist::{Dictionary, Value};

use crate::atomic_write::{
    PRIVATE_DIR_MODE, SECRET_FILE_MODE, create_dir_all_with_mode, write_atomic,
};
use crate::service::ServiceManager;
use crate::service::launchd::{LaunchdPaths, SECRET_FILE_VARS};
use crate::service::spec::ServiceSpec;

use crate::doctor::Target;
use crate::doctor::launchd::audit::{plist_environment, program_arguments, unwrap_env_wrapper};
use crate::doctor::repair::trash_launch_agent;
use crate::doctor::supervisor::Supervisor;
use crate::doctor::systemd::repair::{
    describe_inline_secrets, install_forced, persist_inline_secrets,
};
use crate::doctor::unit_migration::{EnvClass, classify_env_key};

/// A LaunchAgent taken apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlistMigration {
    /// The inline gateway token.
    pub token: Option<String>,
    /// The inline gateway password.
    pub password: Option<String>,
    /// Operator settings: carried into our plist.
    pub operator_env: Vec<(String, String)>,
    /// Operator secrets: only in the 0600 backup.
    pub operator_secrets: Vec<(String, String)>,
}

/// Takes the environment of a plist (and of its wrapper env file) apart.
pub fn analyse_plist(dict: &Dictionary, env_file: Option<&str>) -> PlistMigration {
    let mut m = PlistMigration::default();
    for (key, value) in plist_environment(dict, env_file) {
        let present = !value.trim().is_empty();
        match classify_env_key(&key) {
            EnvClass::Managed => {}
            EnvClass::Token => m.token = present.then_some(value),
            EnvClass::Password => m.password = present.then_some(value),
            EnvClass::OperatorSecret => m.operator_secrets.push((key, value)),
            EnvClass::Operator => m.operator_env.push((key, value)),
        }
    }
    m
}

fn is_gateway_credential(key: &str) -> bool {
    matches!(classify_env_key(key), EnvClass::Token | EnvClass::Password)
}

/// The plist as XML with the gateway token and password removed from `EnvironmentVariables`.
pub fn stripped_plist(dict: &Dictionary) -> Vec<u8> {
    let mut dict = dict.clone();
    if let Some(env) = dict
        .get_mut("EnvironmentVariables")
        .and_then(Value::as_dictionary_mut)
    {
        let keys: Vec<String> = env
            .keys()
            .filter(|k| is_gateway_credential(k))
            .cloned()
            .collect();
        for k in keys {
            env.remove(&k);
        }
    }
    let mut out = Vec::new();
    let _ = Value::Dictionary(dict).to_writer_xml(&mut out);
    out.push(b'\n');
    out
}

/// A wrapper env file with the gateway token and password lines replaced by a comment.
pub fn stripped_env_file(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let body = line.trim().strip_prefix("export ").unwrap_or(line.trim());
        if let Some((key, _)) = body.split_once('=') {
            if is_gateway_credential(key) {
                out.push_str(&format!(
                    "# {key}= removed by openclaw doctor (moved to the config)\n"
                ));
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The installed plist and the text of the wrapper env file it names.
pub fn read_plist(path: &Path) -> Option<(Dictionary, Option<PathBuf>, Option<String>)> {
    let dict = Value::from_file(path).ok()?.into_dictionary()?;
    let env_path = unwrap_env_wrapper(&program_arguments(&dict)).map(|(_, env, _)| env);
    let env_text = env_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    Some((dict, env_path, env_text))
}

/// Operator settings of an installed plist a reinstall carries over.
pub fn carried_environment(path: &Path) -> Vec<(String, String)> {
    read_plist(path)
        .map(|(dict, _, env)| analyse_plist(&dict, env.as_deref()).operator_env)
        .unwrap_or_default()
}

/// The secrets our backend already handed to the gateway in 0600 files (kept by a reinstall).
pub fn handed_over_secrets(spec: &ServiceSpec) -> Vec<(String, String)> {
    let paths = LaunchdPaths::for_spec(spec);
    SECRET_FILE_VARS
        .iter()
        .filter_map(|(key, _, suffix)| {
            let text =
                std::fs::read_to_string(paths.secret_file(&spec.names.launchd_label, suffix))
                    .ok()?;
            Some(((*key).to_owned(), text.trim().to_owned()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

fn secret_note(m: &PlistMigration, backup: &Path) -> Option<String> {
    let keys: Vec<&str> = m.operator_secrets.iter().map(|(k, _)| k.as_str()).collect();
    (!keys.is_empty()).then(|| {
        format!(
            "Not carried over (a LaunchAgent gets no secret but the gateway token/password): {}; kept only in the 0600 backup {}: put them into the gateway config",
            keys.join(", "),
            backup.display()
        )
    })
}

fn backup_dir(spec: &ServiceSpec) -> PathBuf {
    spec.state_dir.join("service-backup")
}

fn install(spec: &ServiceSpec, sup: &Supervisor) -> Result<Vec<String>, String> {
    install_forced(&mut sup.launchd(), spec)
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        create_dir_all_with_mode(dir, PRIVATE_DIR_MODE)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    write_atomic(path, contents, SECRET_FILE_MODE).map_err(|e| format!("{}: {e}", path.display()))
}

/// Rewrites `target`'s own LaunchAgent as install would: the old plist backed up 0600 under
/// `<state>/service-backup/`, token/password into the config, operator settings kept.
pub fn reinstall(target: &Target, sup: &Supervisor) -> Result<Vec<String>, String> {
    let spec = target
        .spec
        .clone()
        .ok_or("the config is invalid; fix it first")?;
    let paths = LaunchdPaths::for_spec(&spec);
    let mut messages = Vec::new();
    if let Some((dict, _, env)) = read_plist(&paths.plist) {
        let m = analyse_plist(&dict, env.as_deref());
        let backup = backup_dir(&spec).join(format!("{}.plist.bak", spec.names.launchd_label));
        write_private(&backup, &stripped_plist(&dict))?;
        messages.push(format!(
            "Previous plist backed up to: {} (mode 0600, without the gateway token)",
            backup.display()
        ));
        messages.extend(secret_note(&m, &backup));
        messages.extend(persist_inline_secrets(
            target,
            m.token.as_deref(),
            m.password.as_deref(),
        )?);
    }
    messages.extend(install(&spec, sup)?);
    Ok(messages)
}

fn free_path(dir: &Path, name: &str) -> PathBuf {
    let mut dest = dir.join(name);
    let mut n = 1;
    while dest.exists() {
        n += 1;
        dest = dir.join(format!("{name} {n}"));
    }
    dest
}

/// Replaces another release's LaunchAgent `label` (`plist`) by ours for `target`: token and
/// password into the config, bootout, plist (and env file, token removed, 0600) moved to
/// `~/.Trash`, wrapper moved there too, then our install with the operator's settings.
pub fn migrate(
    target: &Target,
    sup: &Supervisor,
    label: &str,
    plist: &Path,
) -> Result<Vec<String>, String> {
    let mut spec = target
        .spec
        .clone()
        .ok_or("the config is invalid; fix it first")?;
    let (dict, env_path, env_text) =
        read_plist(plist).ok_or_else(|| format!("{}: not a readable plist", plist.display()))?;
    let wrapper = unwrap_env_wrapper(&program_arguments(&dict)).map(|(w, _, _)| w);
    let m = analyse_plist(&dict, env_text.as_deref());
    let mut messages = persist_inline_secrets(target, m.token.as_deref(), m.password.as_deref())?;
    let trash_dir = target.invocation.paths.home.join(".Trash");
    let domain = format!("gui/{}", sup.launchd_identity.uid);
    let mut runner = sup.runner();
    let dest = trash_launch_agent(
        runner.as_mut(),
        label,
        plist,
        &domain,
        &trash_dir.join(format!("{label}.plist")),
    )?;
    write_private(&dest, &stripped_plist(&dict))?;
    messages.push(format!(
        "Booted out {domain}/{label}; its plist moved to the Trash: {} (mode 0600, without the gateway token)",
        dest.display()
    ));
    if let (Some(path), Some(text)) = (&env_path, &env_text) {
        let name = path.file_name().map_or_else(
            || format!("{label}.env"),
            |n| n.to_string_lossy().into_owned(),
        );
        let backup = free_path(&trash_dir, &name);
        write_private(&backup, stripped_env_file(text).as_bytes())?;
        std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
        messages.push(format!(
            "Its env file moved to the Trash: {} (mode 0600, without the gateway token)",
            backup.display()
        ));
        messages.extend(secret_note(&m, &backup));
    }
    if let Some(w) = wrapper.filter(|w| w.is_file()) {
        let name = w.file_name().map_or_else(
            || "env-wrapper.sh".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let dest = free_path(&trash_dir, &name);
        std::fs::rename(&w, &dest).map_err(|e| format!("move {}: {e}", w.display()))?;
    }
    for (k, v) in &m.operator_env {
        spec.environment.retain(|(key, _)| key != k);
        spec.environment.push((k.clone(), v.clone()));
    }
    if !m.operator_env.is_empty() {
        let keys: Vec<&str> = m.operator_env.iter().map(|(k, _)| k.as_str()).collect();
        messages.push(format!(
            "Operator settings kept in {}: {}",
            spec.names.plist_file_name(),
            keys.join(", ")
        ));
    }
    messages.extend(install(&spec, sup)?);
    Ok(messages)
}

/// The `--dry-run` lines of [`migrate`].
pub fn describe_migration(
    target: &Target,
    sup: &Supervisor,
    label: &str,
    plist: &Path,
) -> Vec<String> {
    let Some((dict, env_path, env_text)) = read_plist(plist) else {
        return vec![format!("{}: not a readable plist", plist.display())];
    };
    let m = analyse_plist(&dict, env_text.as_deref());
    let mut lines = describe_inline_secrets(target, m.token.is_some(), m.password.is_some());
    let uid = sup.launchd_identity.uid;
    lines.push(format!("launchctl bootout gui/{uid}/{label}"));
    lines.push(format!(
        "move {} to ~/.Trash/{label}.plist (rewritten 0600 without the gateway token)",
        plist.display()
    ));
    if let Some(p) = env_path {
        lines.push(format!(
            "move {} to ~/.Trash (rewritten 0600 without the gateway token)",
            p.display()
        ));
    }
    if !m.operator_env.is_empty() {
        let keys: Vec<&str> = m.operator_env.iter().map(|(k, _)| k.as_str()).collect();
        lines.push(format!("keep operator settings: {}", keys.join(", ")));
    }
    if !m.operator_secrets.is_empty() {
        let keys: Vec<&str> = m.operator_secrets.iter().map(|(k, _)| k.as_str()).collect();
        lines.push(format!(
            "NOT carried (no secret in our plist; kept in the 0600 Trash copy): {}",
            keys.join(", ")
        ));
    }
    if let Some(spec) = &target.spec {
        let mut spec = spec.clone();
        spec.environment.extend(m.operator_env.iter().cloned());
        if let Ok(plan) = sup.launchd().plan_install(&spec) {
            lines.push("then the install plan:".to_owned());
            lines.extend(plan.render_text().lines().map(|l| format!("    {l}")));
        }
    }
    lines
}
