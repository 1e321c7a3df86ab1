//! Why the systemd manager could not be reached, and what to do about it.
//!
//! [`HostFacts::probe`] gathers what matters (the user's runtime dir, the bus socket and the
//! manager's private socket, whether the machine was booted with systemd, WSL, containers,
//! SSH sessions); [`diagnose`] turns those facts and the failed connection attempts into one
//! [`ServiceError`] that names what is missing and lists the fixes (spec §2.7): the WSL
//! `/etc/wsl.conf` `[boot] systemd=true` hint, linger for headless/SSH logins, running in the
//! foreground in containers, and the `--system` alternative. Pure apart from `probe`, so every
//! combination is unit-tested.

use std::path::{Path, PathBuf};

use super::dbus::{Attempt, ConnectFailure, ManagerScope, Transport};
use crate::environment::Environment;
use crate::service::ServiceError;

/// What the host looks like, as far as reaching systemd is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// The account name.
    pub user: String,
    /// The numeric uid.
    pub uid: u32,
    /// `XDG_RUNTIME_DIR`, when set.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `DBUS_SESSION_BUS_ADDRESS`, when set.
    pub session_bus_address: Option<String>,
    /// Whether `/run/user/<uid>` exists (the default runtime dir).
    pub default_runtime_dir_exists: bool,
    /// Whether `/run/systemd/system` exists (booted with systemd).
    pub booted_with_systemd: bool,
    /// WSL: `/proc/version` mentions Microsoft/WSL, or `WSL_DISTRO_NAME` / `WSL_INTEROP` is set.
    pub wsl: bool,
    /// A container: `/.dockerenv`, `/run/.containerenv`, `container=` or
    /// `OPENCLAW_CONTAINER_HINT` / `OPENCLAW_CONTAINER`.
    pub container: bool,
    /// An SSH session (`SSH_CONNECTION` / `SSH_TTY`).
    pub ssh: bool,
    /// Linger is on for the user (`None`: unknown).
    pub linger: Option<bool>,
}

impl HostFacts {
    /// Reads the facts of this host for `env` (the invocation's environment).
    pub fn probe(env: &Environment, user: &str, uid: u32, linger: Option<bool>) -> Self {
        let proc_version = std::fs::read_to_string("/proc/version").unwrap_or_default();
        Self {
            user: user.to_owned(),
            uid,
            xdg_runtime_dir: env.get_nonempty("XDG_RUNTIME_DIR").map(PathBuf::from),
            session_bus_address: env
                .get_nonempty("DBUS_SESSION_BUS_ADDRESS")
                .map(str::to_owned),
            default_runtime_dir_exists: Path::new(&format!("/run/user/{uid}")).is_dir(),
            booted_with_systemd: Path::new("/run/systemd/system").is_dir(),
            wsl: is_wsl(&proc_version, env),
            container: Path::new("/.dockerenv").exists()
                || Path::new("/run/.containerenv").exists()
                || env.get_nonempty("container").is_some()
                || env.get_nonempty("OPENCLAW_CONTAINER_HINT").is_some()
                || env.get_nonempty("OPENCLAW_CONTAINER").is_some(),
            ssh: env.get_nonempty("SSH_CONNECTION").is_some()
                || env.get_nonempty("SSH_TTY").is_some(),
            linger,
        }
    }

    /// The runtime dir to look in: `XDG_RUNTIME_DIR`, else `/run/user/<uid>` when it exists.
    pub fn runtime_dir(&self) -> Option<PathBuf> {
        self.xdg_runtime_dir.clone().or_else(|| {
            self.default_runtime_dir_exists
                .then(|| PathBuf::from(format!("/run/user/{}", self.uid)))
        })
    }
}

/// WSL: `/proc/version` says Microsoft or WSL, or the WSL variables are set.
pub fn is_wsl(proc_version: &str, env: &Environment) -> bool {
    let v = proc_version.to_ascii_lowercase();
    v.contains("microsoft")
        || v.contains("wsl")
        || env.get_nonempty("WSL_DISTRO_NAME").is_some()
        || env.get_nonempty("WSL_INTEROP").is_some()
}

/// The hint for WSL2 without systemd.
pub const WSL_HINT: &str = "WSL2: enable systemd by adding `[boot]` with `systemd=true` to /etc/wsl.conf, run `wsl --shutdown` from Windows, reopen the distribution and check `systemctl --user status`.";

/// The error for an unreachable manager, naming what is missing and how to fix it.
pub fn diagnose(scope: ManagerScope, failure: &ConnectFailure, facts: &HostFacts) -> ServiceError {
    if scope == ManagerScope::System {
        let mut e = ServiceError::new(
            "systemd-unavailable",
            format!(
                "the systemd system manager is unreachable: {}",
                attempts_text(&failure.attempts)
            ),
        );
        if !facts.booted_with_systemd {
            e = e.hint(
                "This machine was not booted with systemd (/run/systemd/system is missing), so system units cannot run here.",
            );
        }
        if facts.wsl {
            e = e.hint(WSL_HINT);
        }
        if facts.container {
            e = e.hint(
                "In a container, run the gateway in the foreground instead (`openclaw gateway run`) and let the container runtime restart it.",
            );
        }
        return e;
    }

    let mut missing: Vec<String> = Vec::new();
    let runtime_dir = facts.runtime_dir();
    match (&facts.xdg_runtime_dir, &runtime_dir) {
        (None, None) => missing.push(format!(
            "XDG_RUNTIME_DIR is not set and /run/user/{} does not exist",
            facts.uid
        )),
        (None, Some(dir)) => missing.push(format!(
            "XDG_RUNTIME_DIR is not set (looked in {} instead)",
            dir.display()
        )),
        (Some(dir), _) if !dir.is_dir() => {
            missing.push(format!("XDG_RUNTIME_DIR={} does not exist", dir.display()))
        }
        _ => {}
    }
    for attempt in &failure.attempts {
        let what = match &attempt.transport {
            Transport::Bus(address) => format!("the user bus {address}"),
            Transport::Private(path) => {
                format!("the manager's private socket {}", path.display())
            }
        };
        if attempt.error == "the socket does not exist" {
            missing.push(format!("{what} is missing"));
        } else {
            missing.push(format!("{what} did not answer: {}", attempt.error));
        }
    }
    if missing.is_empty() {
        missing.push("no transport to try".into());
    }
    let mut e = ServiceError::new(
        "systemd-unavailable",
        format!("systemd user manager unavailable: {}", missing.join("; ")),
    );

    let bus_missing = failure.attempts.iter().any(|a| {
        matches!(&a.transport, Transport::Bus(_)) && a.error == "the socket does not exist"
    });
    let private_present = failure.attempts.iter().any(|a| {
        matches!(&a.transport, Transport::Private(_)) && a.error != "the socket does not exist"
    });
    if facts.wsl {
        e = e.hint(WSL_HINT);
    } else if !facts.booted_with_systemd {
        e = e.hint(
            "This machine was not booted with systemd (/run/systemd/system is missing): enable systemd, or run the gateway under another supervisor (`openclaw gateway run` in the foreground).",
        );
    }
    if facts.xdg_runtime_dir.is_none() {
        e = e.hint(format!(
            "Log in through a real session (not `su`/`sudo -u`), or point the CLI at your runtime dir: `export XDG_RUNTIME_DIR=/run/user/{}`.",
            facts.uid
        ));
    }
    if runtime_dir.is_none() || facts.ssh || facts.linger == Some(false) {
        e = e.hint(format!(
            "On a headless server or over SSH your user manager runs only while you are logged in: `sudo loginctl enable-linger {}` keeps it running (then log in again).",
            facts.user
        ));
    }
    if bus_missing && private_present {
        e = e.hint(
            "The user bus is missing: install `dbus-user-session` (Debian/Ubuntu) or run `systemctl --user start dbus.socket`.",
        );
    }
    if facts.container {
        e = e.hint(
            "In a container without systemd, run the gateway in the foreground (`openclaw gateway run`) and let the container runtime restart it.",
        );
    }
    e.hint(
        "Or install a system unit instead, which needs no user manager: `sudo openclaw gateway install --system`.",
    )
}

fn attempts_text(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "no transport to try".into();
    }
    attempts
        .iter()
        .map(|a| format!("{}: {}", a.transport, a.error))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(transport: Transport) -> Attempt {
        Attempt {
            transport,
            error: "the socket does not exist".into(),
        }
    }

    fn facts() -> HostFacts {
        HostFacts {
            user: "alice".into(),
            uid: 1000,
            booted_with_systemd: true,
            ..HostFacts::default()
        }
    }

    #[test]
    fn no_runtime_dir_names_xdg_runtime_dir_linger_and_the_system_alternative() {
        let e = diagnose(
            ManagerScope::User,
            &ConnectFailure { attempts: vec![] },
            &facts(),
        );
        assert_eq!(e.kind, "systemd-unavailable");
        assert_eq!(
            e.message,
            "systemd user manager unavailable: XDG_RUNTIME_DIR is not set and /run/user/1000 does not exist"
        );
        let hints = e.hints.join("\n");
        assert!(
            hints.contains("export XDG_RUNTIME_DIR=/run/user/1000"),
            "{hints}"
        );
        assert!(
            hints.contains("sudo loginctl enable-linger alice"),
            "{hints}"
        );
        assert!(
            hints.contains("sudo openclaw gateway install --system"),
            "{hints}"
        );
        assert!(!hints.contains("wsl.conf"), "{hints}");
    }

    #[test]
    fn missing_sockets_are_named_and_a_missing_bus_suggests_dbus_user_session() {
        let dir = tempfile::tempdir().unwrap();
        let failure = ConnectFailure {
            attempts: vec![
                missing(Transport::Bus(format!(
                    "unix:path={}/bus",
                    dir.path().display()
                ))),
                Attempt {
                    transport: Transport::Private(dir.path().join("systemd/private")),
                    error: "Connection refused".into(),
                },
            ],
        };
        let f = HostFacts {
            xdg_runtime_dir: Some(dir.path().to_path_buf()),
            ..facts()
        };
        let e = diagnose(ManagerScope::User, &failure, &f);
        assert!(e.message.contains("/bus is missing"), "{}", e.message);
        assert!(
            e.message.contains("private socket did not answer")
                || e.message.contains("did not answer: Connection refused"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("XDG_RUNTIME_DIR"), "{}", e.message);
        let hints = e.hints.join("\n");
        assert!(hints.contains("dbus-user-session"), "{hints}");
        assert!(!hints.contains("export XDG_RUNTIME_DIR"), "{hints}");
    }

    #[test]
    fn wsl_gets_the_wsl_conf_hint_and_containers_the_foreground_hint() {
        let env = Environment::empty().with("WSL_DISTRO_NAME", "Ubuntu");
        assert!(is_wsl("Linux version 5.15", &env));
        assert!(is_wsl(
            "Linux version 5.15.153.1-microsoft-standard-WSL2",
            &Environment::empty()
        ));
        assert!(!is_wsl(
            "Linux version 6.1.0-18-amd64",
            &Environment::empty()
        ));
        let f = HostFacts {
            wsl: true,
            booted_with_systemd: false,
            ..facts()
        };
        let e = diagnose(ManagerScope::User, &ConnectFailure { attempts: vec![] }, &f);
        let hints = e.hints.join("\n");
        assert!(hints.contains("/etc/wsl.conf") && hints.contains("systemd=true"));
        assert!(hints.contains("wsl --shutdown"));
        let f = HostFacts {
            container: true,
            booted_with_systemd: false,
            ..facts()
        };
        let e = diagnose(ManagerScope::User, &ConnectFailure { attempts: vec![] }, &f);
        let hints = e.hints.join("\n");
        assert!(hints.contains("openclaw gateway run"), "{hints}");
        assert!(hints.contains("not booted with systemd"), "{hints}");
    }

    #[test]
    fn ssh_sessions_get_the_linger_hint_even_with_a_runtime_dir() {
        let dir = tempfile::tempdir().unwrap();
        let f = HostFacts {
            xdg_runtime_dir: Some(dir.path().to_path_buf()),
            ssh: true,
            ..facts()
        };
        let e = diagnose(ManagerScope::User, &ConnectFailure { attempts: vec![] }, &f);
        assert!(e.hints.iter().any(|h| h.contains("enable-linger alice")));
    }

    #[test]
    fn the_system_scope_reports_its_attempts() {
        let failure = ConnectFailure {
            attempts: vec![missing(Transport::Bus(
                "unix:path=/run/dbus/system_bus_socket".into(),
            ))],
        };
        let f = HostFacts {
            booted_with_systemd: false,
            ..facts()
        };
        let e = diagnose(ManagerScope::System, &failure, &f);
        assert!(
            e.message
                .starts_with("the systemd system manager is unreachable: bus unix:path=/run/dbus/system_bus_socket: the socket does not exist"),
            "{}",
            e.message
        );
        assert!(e.hints[0].contains("not booted with systemd"));
    }
}
