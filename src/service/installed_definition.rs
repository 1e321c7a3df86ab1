//! What an installed service definition (a systemd unit or a launchd plist) says about the
//! gateway it runs: the path-related variables of its environment (never secrets), its command
//! line and working directory. Read by `gateway status` and by the status probe `doctor` uses.

use std::path::Path;

use crate::service::launchd::discovery::PlistJob;
use crate::service::systemd::drift::{UnitFile, flag_value};

/// What a service definition (unit file or plist) says about its environment and arguments.
pub struct InstalledDefinition {
    /// Path-related variables of its environment (never secrets).
    pub vars: Vec<(&'static str, String)>,
    /// Its command line.
    pub argv: Vec<String>,
    /// Its working directory.
    pub working_directory: Option<String>,
}

impl InstalledDefinition {
    const KEYS: [&'static str; 9] = [
        "OPENCLAW_STATE_DIR",
        "CLAWDBOT_STATE_DIR",
        "OPENCLAW_CONFIG_PATH",
        "CLAWDBOT_CONFIG_PATH",
        "OPENCLAW_PROFILE",
        "HOME",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_CONFIG_READONLY",
        "OPENCLAW_NIX_MODE",
    ];

    /// Reads a `.service` or `.plist` file; `None` for anything else or an unreadable file.
    pub fn read(path: &Path) -> Option<Self> {
        let mut vars = Vec::new();
        let (argv, working_directory) = match path.extension().and_then(|e| e.to_str()) {
            Some("service") => {
                let unit = UnitFile::parse(&std::fs::read_to_string(path).ok()?);
                for key in Self::KEYS {
                    if let Some(v) = unit.environment(key).filter(|v| !v.is_empty()) {
                        vars.push((key, v));
                    }
                }
                let dir = unit
                    .last("Service", "WorkingDirectory")
                    .map(|d| d.trim_start_matches('-').to_owned())
                    .filter(|d| !d.is_empty());
                (unit.exec_start(), dir)
            }
            Some("plist") => {
                let job = PlistJob::read(path)?;
                for key in Self::KEYS {
                    if let Some(v) = job.env(key) {
                        vars.push((key, v));
                    }
                }
                let dir = job
                    .dict
                    .get("WorkingDirectory")
                    .and_then(plist::Value::as_string)
                    .map(str::to_owned);
                (job.argv, dir)
            }
            _ => return None,
        };
        Some(Self {
            vars,
            argv,
            working_directory,
        })
    }

    /// The last `--name V` / `--name=V` of the command line.
    pub fn flag(&self, name: &str) -> Option<String> {
        flag_value(&self.argv, name)
    }

    /// `--port N` of the command line (invalid values count as absent).
    pub fn port(&self) -> Option<u16> {
        self.flag("--port")
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|p| *p > 0)
    }
}
