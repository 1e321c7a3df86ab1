//! The three service managers this toolkit knows, as one enum used by the service backends,
//! the doctor, the status report and the table of known service names.

use std::fmt;

use serde::Serialize;

/// The supervisors we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    /// systemd (Linux, WSL2).
    Linux,
    /// launchd (macOS).
    Macos,
    /// Task Scheduler (Windows).
    Windows,
}

impl PlatformKind {
    /// The platform this binary runs on.
    pub fn host() -> Self {
        match std::env::consts::OS {
            "macos" => Self::Macos,
            "windows" => Self::Windows,
            _ => Self::Linux,
        }
    }

    /// The CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Macos => "macos",
            Self::Windows => "windows",
        }
    }

    /// The supervisor's name in messages (`systemd`, `launchd`, `Task Scheduler`).
    pub fn supervisor(self) -> &'static str {
        match self {
            Self::Linux => "systemd",
            Self::Macos => "launchd",
            Self::Windows => "Task Scheduler",
        }
    }
}

impl fmt::Display for PlatformKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
