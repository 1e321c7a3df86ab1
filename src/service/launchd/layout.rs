//! Where a profile's LaunchAgent lives and what its plist says: the identity launchctl runs as,
//! the paths (plist, log, TMPDIR, secret files), the service environment and PATH, and the
//! LaunchAgents other OpenClaw releases left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::plist_render::PlistValues;
use crate::environment::Environment;
use crate::platform::PlatformKind;
use crate::service::ServiceError;
use crate::service::spec::ServiceSpec;
use crate::service_names::{Treatment, classify_service_name};

/// The directories after the program's own in the service `PATH` (LaunchAgents do not get the
/// login shell's PATH).
pub const MACOS_PATH_DIRS: [&str; 7] = [
    "/opt/homebrew/bin",
    "/opt/homebrew/sbin",
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
];
/// Secrets the gateway can read from a file, with the variable naming the file and the file suffix.
pub const SECRET_FILE_VARS: [(&str, &str, &str); 2] = [
    (
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_GATEWAY_TOKEN_FILE",
        "token",
    ),
    (
        "OPENCLAW_GATEWAY_PASSWORD",
        "OPENCLAW_GATEWAY_PASSWORD_FILE",
        "password",
    ),
];

/// Who runs launchctl: the numeric user id (its domain is `gui/<uid>`), and what tells us that
/// we run as root through sudo or inside a launchd job. Injectable, so tests use a fixed uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchdIdentity {
    /// The real user id.
    pub uid: u32,
    /// `SUDO_USER`, when set.
    pub sudo_user: Option<String>,
    /// The label of the launchd job this process runs in (`LAUNCH_JOB_LABEL`, `XPC_SERVICE_NAME`).
    pub job_label: Option<String>,
}

impl LaunchdIdentity {
    /// A fixed uid with no sudo and no job (tests, plans).
    pub fn fixed(uid: u32) -> Self {
        Self {
            uid,
            sudo_user: None,
            job_label: None,
        }
    }

    /// This process: `getuid()` (501, the first macOS account, where there is no uid), and the
    /// environment.
    pub fn current(env: &Environment) -> Self {
        #[cfg(unix)]
        let uid = nix::unistd::getuid().as_raw();
        #[cfg(not(unix))]
        let uid = 501;
        Self {
            uid,
            sudo_user: env.get_nonempty("SUDO_USER").map(str::to_owned),
            job_label: env
                .get_nonempty("LAUNCH_JOB_LABEL")
                .or_else(|| env.get_nonempty("XPC_SERVICE_NAME"))
                .map(str::to_owned),
        }
    }
}

/// The paths of one profile's LaunchAgent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchdPaths {
    /// `~/Library/LaunchAgents`.
    pub launch_agents_dir: PathBuf,
    /// `~/Library/LaunchAgents/<label>.plist`.
    pub plist: PathBuf,
    /// `~/Library/Logs/openclaw`.
    pub log_dir: PathBuf,
    /// `~/Library/Logs/openclaw/gateway[-<profile>].log` (stdout and stderr).
    pub log: PathBuf,
    /// `<state>/tmp`, the service `TMPDIR`.
    pub tmp_dir: PathBuf,
    /// `<state>/service-env`, where secrets handed over at install go (0700).
    pub service_env_dir: PathBuf,
}

impl LaunchdPaths {
    /// The paths of `spec`.
    pub fn for_spec(spec: &ServiceSpec) -> Self {
        let launch_agents_dir = spec.home.join("Library/LaunchAgents");
        let log_dir = spec.home.join("Library/Logs/openclaw");
        let log_name = match spec.profile.name() {
            Some(p) => format!("gateway-{p}.log"),
            None => "gateway.log".to_owned(),
        };
        Self {
            plist: launch_agents_dir.join(spec.names.plist_file_name()),
            launch_agents_dir,
            log: log_dir.join(log_name),
            log_dir,
            tmp_dir: spec.state_dir.join("tmp"),
            service_env_dir: spec.state_dir.join("service-env"),
        }
    }

    /// `<state>/service-env/<label>.<suffix>`: a secret file this backend owns.
    pub fn secret_file(&self, label: &str, suffix: &str) -> PathBuf {
        self.service_env_dir.join(format!("{label}.{suffix}"))
    }
}

/// The `PATH` of the service: the program's directory, then [`MACOS_PATH_DIRS`].
pub fn service_path(program: &Path) -> String {
    let mut dirs: Vec<String> = Vec::new();
    if let Some(dir) = program.parent().filter(|d| d.is_absolute()) {
        dirs.push(dir.display().to_string());
    }
    for dir in MACOS_PATH_DIRS {
        if !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.to_owned());
        }
    }
    dirs.join(":")
}

/// The secret files of `spec`: `(variable naming the file, path, content)`.
pub(super) fn secret_files(
    spec: &ServiceSpec,
    paths: &LaunchdPaths,
) -> Result<Vec<(&'static str, PathBuf, String)>, ServiceError> {
    let mut files = Vec::new();
    for (key, value) in &spec.secret_environment {
        let Some((_, file_var, suffix)) = SECRET_FILE_VARS.iter().find(|(k, _, _)| k == key) else {
            return Err(ServiceError::new(
                "unsupported-secret",
                format!(
                    "{key} cannot be handed to a LaunchAgent: the plist holds no secrets and the gateway reads only its token and password from files; put it in the gateway config instead"
                ),
            ));
        };
        files.push((
            *file_var,
            paths.secret_file(&spec.names.launchd_label, suffix),
            format!("{}\n", value.trim()),
        ));
    }
    Ok(files)
}

/// The plist values of `spec`.
pub fn plist_values(spec: &ServiceSpec, paths: &LaunchdPaths) -> Result<PlistValues, ServiceError> {
    let mut environment: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in &spec.environment {
        if SECRET_FILE_VARS.iter().any(|(k, _, _)| k == key) {
            return Err(ServiceError::new(
                "secret-in-environment",
                format!("{key} is a secret and cannot be written into the plist"),
            ));
        }
        environment.insert(key.clone(), value.clone());
    }
    environment.insert(
        "OPENCLAW_LAUNCHD_LABEL".into(),
        spec.names.launchd_label.clone(),
    );
    environment.insert("PATH".into(), service_path(&spec.program));
    environment.insert("TMPDIR".into(), paths.tmp_dir.display().to_string());
    for (file_var, path, _) in secret_files(spec, paths)? {
        environment.insert(file_var.to_owned(), path.display().to_string());
    }
    Ok(PlistValues {
        label: spec.names.launchd_label.clone(),
        comment: spec.description.clone(),
        program_arguments: spec.command_line(),
        working_directory: spec.state_dir.display().to_string(),
        environment,
        log_path: paths.log.display().to_string(),
    })
}

/// LaunchAgents in `dir` left by other OpenClaw releases: `(label, plist, treatment)`, sorted.
pub fn foreign_agents(dir: &Path) -> Vec<(String, PathBuf, Treatment)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(String, PathBuf, Treatment)> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let label = path
                .file_name()?
                .to_str()?
                .strip_suffix(".plist")?
                .to_owned();
            let known = classify_service_name(PlatformKind::Macos, &label)?;
            matches!(
                known.entry.treatment,
                Treatment::LegacyToMigrate | Treatment::OtherReleaseGateway
            )
            .then_some((label, path, known.entry.treatment))
        })
        .collect();
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}
