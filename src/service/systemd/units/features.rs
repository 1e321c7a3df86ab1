//! What the host's systemd can do, as an input of rendering: its version (which keys exist) and
//! whether unprivileged user namespaces work (which sandboxing a user manager can set up).

use std::path::Path;
use std::process::{Command, Stdio};

use serde::Serialize;

/// The oldest systemd we render for and test against (Debian 12, RHEL 9).
pub const FLOOR_VERSION: u32 = 252;

/// The host facts unit rendering depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemdFeatures {
    /// systemd's major version (`systemctl --version`), e.g. 252.
    pub version: u32,
    /// True when unprivileged user namespaces work, so a user manager can set up
    /// `PrivateUsers=` and the namespace-based sandboxing that depends on it.
    pub user_namespaces: bool,
}

impl SystemdFeatures {
    /// Probes the host: `systemctl --version` (falls back to [`FLOOR_VERSION`], with a logged
    /// note, when it cannot be run or read) and [`user_namespaces_work`].
    pub fn detect() -> Self {
        let version = Command::new("systemctl")
            .arg("--version")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| e.to_string())
            .and_then(|out| {
                parse_systemctl_version(&String::from_utf8_lossy(&out.stdout))
                    .ok_or_else(|| "unrecognised `systemctl --version` output".to_owned())
            });
        let version = match version {
            Ok(v) => v,
            Err(why) => {
                tracing::info!(
                    "cannot read the systemd version ({why}); rendering units for systemd {FLOOR_VERSION}"
                );
                FLOOR_VERSION
            }
        };
        let features = Self {
            version,
            user_namespaces: user_namespaces_work(),
        };
        tracing::debug!(?features, "systemd features");
        features
    }
}

/// How strongly the unit sandboxes the gateway, weakest first. Each level keeps what the one
/// below it has and adds more; install probes them strongest first in the real manager
/// (`sandbox_probe.rs`) and keeps the first that starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxLevel {
    /// No sandboxing directive beyond `NoNewPrivileges=` and `UMask=`: the last resort of a
    /// manager that refuses even seccomp filters.
    None,
    /// Seccomp-, prctl- and keyring-based directives, which need no namespace (a user manager
    /// without user namespaces).
    Seccomp,
    /// Everything: namespace-based directives too (`PrivateUsers=` in a user manager,
    /// `ProtectSystem=`, `ProtectHome=`, `PrivateTmp=`, …).
    Namespaces,
}

impl SandboxLevel {
    /// Every level, strongest first.
    pub const STRONGEST_FIRST: [Self; 3] = [Self::Namespaces, Self::Seccomp, Self::None];

    /// The name in units, plans and `--json` (`namespaces`, `seccomp`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Seccomp => "seccomp",
            Self::Namespaces => "namespaces",
        }
    }

    /// Parses [`Self::as_str`] (case-insensitive, trimmed).
    pub fn parse(text: &str) -> Option<Self> {
        Self::STRONGEST_FIRST
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The strongest level a manager of this scope can set up on a host with `features`: the
    /// system manager always can use namespaces, a user manager only with user namespaces.
    pub fn best_for(features: &SystemdFeatures, system: bool) -> Self {
        if system || features.user_namespaces {
            Self::Namespaces
        } else {
            Self::Seccomp
        }
    }

    /// This level and the weaker ones, strongest first.
    pub fn and_weaker(self) -> impl Iterator<Item = Self> {
        Self::STRONGEST_FIRST
            .into_iter()
            .filter(move |l| *l <= self)
    }
}

impl std::fmt::Display for SandboxLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Probes the host; see [`SystemdFeatures::detect`].
pub fn detect() -> SystemdFeatures {
    SystemdFeatures::detect()
}

/// The major version from `systemctl --version` (`systemd 252 (252.38-1~deb12u1)` → 252,
/// `systemd 256~rc3 (…)` → 256).
pub fn parse_systemctl_version(output: &str) -> Option<u32> {
    let first = output.lines().next()?;
    let mut words = first.split_whitespace();
    if words.next()? != "systemd" {
        return None;
    }
    let digits: String = words
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(Path::new(path))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// True when unprivileged user namespaces work here: no sysctl disables them
/// (`kernel.unprivileged_userns_clone=0` on older Debian kernels, `user.max_user_namespaces=0`,
/// Ubuntu's `kernel.apparmor_restrict_unprivileged_userns=1`, which leaves a new namespace
/// without the capabilities systemd needs to mount in it) and
/// `unshare --user --map-root-user --mount true` succeeds (containers and seccomp policies).
/// Run as root, the probe itself always succeeds; the sysctls still count.
pub fn user_namespaces_work() -> bool {
    userns_verdict(
        sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref(),
        sysctl("/proc/sys/user/max_user_namespaces").as_deref(),
        sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref(),
        || {
            Command::new("unshare")
                .args(["--user", "--map-root-user", "--mount", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        },
    )
}

fn userns_verdict(
    unprivileged_clone: Option<&str>,
    max_user_namespaces: Option<&str>,
    apparmor_restrict: Option<&str>,
    probe: impl FnOnce() -> bool,
) -> bool {
    if unprivileged_clone == Some("0")
        || max_user_namespaces == Some("0")
        || apparmor_restrict == Some("1")
    {
        return false;
    }
    probe()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_levels_order_parse_and_step_down() {
        assert!(SandboxLevel::None < SandboxLevel::Seccomp);
        assert!(SandboxLevel::Seccomp < SandboxLevel::Namespaces);
        assert_eq!(
            SandboxLevel::parse(" Seccomp "),
            Some(SandboxLevel::Seccomp)
        );
        assert_eq!(SandboxLevel::parse("strict"), None);
        let down: Vec<_> = SandboxLevel::Seccomp.and_weaker().collect();
        assert_eq!(down, [SandboxLevel::Seccomp, SandboxLevel::None]);
        let host = SystemdFeatures {
            version: 252,
            user_namespaces: false,
        };
        assert_eq!(SandboxLevel::best_for(&host, false), SandboxLevel::Seccomp);
        assert_eq!(
            SandboxLevel::best_for(&host, true),
            SandboxLevel::Namespaces
        );
    }

    #[test]
    fn versions_are_read_from_the_first_line() {
        assert_eq!(
            parse_systemctl_version("systemd 252 (252.38-1~deb12u1)\n+PAM +AUDIT\n"),
            Some(252)
        );
        assert_eq!(
            parse_systemctl_version("systemd 256~rc3 (256~rc3-1)\n"),
            Some(256)
        );
        assert_eq!(parse_systemctl_version("systemd 249\n"), Some(249));
        assert_eq!(parse_systemctl_version(""), None);
        assert_eq!(parse_systemctl_version("bash: systemctl: not found"), None);
        assert_eq!(parse_systemctl_version("systemd x"), None);
    }

    #[test]
    fn sysctls_that_disable_user_namespaces_win_over_the_probe() {
        assert!(userns_verdict(None, Some("63000"), None, || true));
        assert!(!userns_verdict(None, Some("63000"), None, || false));
        assert!(!userns_verdict(Some("0"), Some("63000"), None, || true));
        assert!(!userns_verdict(None, Some("0"), None, || true));
        assert!(!userns_verdict(None, None, Some("1"), || true));
        assert!(userns_verdict(Some("1"), None, Some("0"), || true));
    }

    #[test]
    fn detection_always_yields_a_usable_version() {
        assert!(detect().version >= 200);
    }
}
