//! Linger: whether systemd keeps the user's manager (and the gateway) running without a login
//! session, read from logind's state directory `/var/lib/systemd/linger/<user>` (no `loginctl`
//! call: it needs logind, which containers and test managers lack). `gateway install` does not
//! change it (spec §2.8); it warns with the exact command when it is off. Interactive
//! `doctor --fix` enables it ([`enable`]): logind's `SetUserLinger` over the system bus, else
//! `loginctl enable-linger <user>`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::service::runner::CommandRunner;

/// Where logind records lingering users.
pub const DEFAULT_LINGER_DIR: &str = "/var/lib/systemd/linger";
/// Overrides [`DEFAULT_LINGER_DIR`] (tests, unusual layouts).
pub const LINGER_DIR_ENV: &str = "OPENCLAW_SYSTEMD_LINGER_DIR";

/// Linger for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linger {
    /// `<dir>/<user>` exists.
    On,
    /// `<dir>` exists but `<dir>/<user>` does not.
    Off,
    /// The directory is missing or unreadable (no logind here): unknown.
    Unknown(String),
}

/// Reads linger for `user` from `dir`.
pub fn linger(dir: &Path, user: &str) -> Linger {
    if user.is_empty() || user.contains('/') {
        return Linger::Unknown(format!("invalid user name {user:?}"));
    }
    match std::fs::symlink_metadata(dir.join(user)) {
        Ok(_) => Linger::On,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if dir.is_dir() {
                Linger::Off
            } else {
                Linger::Unknown(format!("{} does not exist", dir.display()))
            }
        }
        Err(e) => Linger::Unknown(format!("{}: {e}", dir.join(user).display())),
    }
}

/// The linger directory: `$OPENCLAW_SYSTEMD_LINGER_DIR`, else `/var/lib/systemd/linger`.
pub fn linger_dir(env: &crate::environment::Environment) -> PathBuf {
    env.get_nonempty(LINGER_DIR_ENV)
        .map_or_else(|| PathBuf::from(DEFAULT_LINGER_DIR), PathBuf::from)
}

/// The warning for linger off (or unknown): what it means and the exact command.
pub fn warning(user: &str, state: &Linger) -> Option<String> {
    let consequence = "without it systemd stops your user manager, and the gateway with it, when your last login session ends, and does not start it at boot";
    match state {
        Linger::On => None,
        Linger::Off => Some(format!(
            "Linger is off for {user}: {consequence}. Enable it with: loginctl enable-linger {user} (or sudo loginctl enable-linger {user})"
        )),
        Linger::Unknown(why) => Some(format!(
            "Could not read linger for {user} ({why}); if it is off, {consequence}. Enable it with: loginctl enable-linger {user}"
        )),
    }
}

/// logind's bus name, object and manager interface.
const LOGIND: (&str, &str, &str) = (
    "org.freedesktop.login1",
    "/org/freedesktop/login1",
    "org.freedesktop.login1.Manager",
);
/// How long the D-Bus call (connect included) and `loginctl` may take.
pub const ENABLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The system bus address: `DBUS_SYSTEM_BUS_ADDRESS`, else the well-known socket.
fn system_bus_address(env: &crate::environment::Environment) -> String {
    env.get_nonempty("DBUS_SYSTEM_BUS_ADDRESS").map_or_else(
        || "unix:path=/run/dbus/system_bus_socket".to_owned(),
        str::to_owned,
    )
}

/// `org.freedesktop.login1.Manager.SetUserLinger(uid, true, interactive=true)` over the system
/// bus at `address` (interactive lets polkit ask an agent, when one runs).
pub fn set_user_linger_dbus(address: &str, uid: u32) -> Result<(), String> {
    if let Some(path) = address.strip_prefix("unix:path=") {
        if !Path::new(path).exists() {
            return Err(format!("no system bus ({path} does not exist)"));
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start an async runtime: {e}"))?;
    runtime.block_on(async {
        tokio::time::timeout(ENABLE_TIMEOUT, async {
            let connection = zbus::connection::Builder::address(address)
                .map_err(|e| super::dbus::DbusError::from(e).to_string())?
                .build()
                .await
                .map_err(|e| super::dbus::DbusError::from(e).to_string())?;
            connection
                .call_method(
                    Some(LOGIND.0),
                    LOGIND.1,
                    Some(LOGIND.2),
                    "SetUserLinger",
                    &(uid, true, true),
                )
                .await
                .map(|_| ())
                .map_err(|e| super::dbus::DbusError::from(e).to_string())
        })
        .await
        .map_err(|_| format!("no answer within {}s", ENABLE_TIMEOUT.as_secs()))?
    })
}

/// `loginctl enable-linger <user>` through `runner`; the reason (stderr, else stdout, else the
/// exit code) when it fails.
pub fn enable_with_loginctl(runner: &mut dyn CommandRunner, user: &str) -> Result<(), String> {
    let out = runner
        .run(
            "loginctl",
            &["enable-linger".to_owned(), user.to_owned()],
            ENABLE_TIMEOUT,
        )
        .map_err(|e| format!("loginctl: {e}"))?;
    if out.success() {
        return Ok(());
    }
    let detail = out.detail();
    Err(if detail.is_empty() {
        format!("loginctl exited with {:?}", out.code)
    } else {
        detail
    })
}

/// Enables linger for `user` (`uid`): logind's `SetUserLinger` over the system bus, else
/// `loginctl enable-linger <user>`. On failure the reason of each attempt, joined.
pub fn enable(
    env: &crate::environment::Environment,
    runner: &mut dyn CommandRunner,
    user: &str,
    uid: u32,
) -> Result<(), String> {
    let dbus = match set_user_linger_dbus(&system_bus_address(env), uid) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    enable_with_loginctl(runner, user).map_err(|e| {
        format!("SetUserLinger over the system bus: {dbus}; loginctl enable-linger {user}: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linger_is_read_from_the_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(linger(dir.path(), "alice"), Linger::Off);
        std::fs::write(dir.path().join("alice"), "").unwrap();
        assert_eq!(linger(dir.path(), "alice"), Linger::On);
        assert!(matches!(
            linger(&dir.path().join("missing"), "alice"),
            Linger::Unknown(_)
        ));
        assert!(matches!(linger(dir.path(), "../x"), Linger::Unknown(_)));
    }

    #[test]
    fn the_warning_names_the_exact_command() {
        assert_eq!(warning("alice", &Linger::On), None);
        let w = warning("alice", &Linger::Off).unwrap();
        assert!(w.starts_with("Linger is off for alice: "), "{w}");
        assert!(
            w.contains("Enable it with: loginctl enable-linger alice"),
            "{w}"
        );
        let w = warning("bob", &Linger::Unknown("x".into())).unwrap();
        assert!(w.contains("loginctl enable-linger bob"), "{w}");
    }

    struct Loginctl(crate::service::runner::CommandOutput, Vec<String>);
    impl CommandRunner for Loginctl {
        fn run(
            &mut self,
            program: &str,
            args: &[String],
            _timeout: Duration,
        ) -> std::io::Result<crate::service::runner::CommandOutput> {
            self.1.push(format!("{program} {}", args.join(" ")));
            Ok(self.0.clone())
        }
    }

    #[test]
    fn enabling_falls_back_to_loginctl_and_a_failure_carries_both_reasons() {
        let env = crate::environment::Environment::empty()
            .with("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        let mut ok = Loginctl(
            crate::service::runner::CommandOutput {
                code: Some(0),
                stdout: String::new(),
                stderr: String::new(),
            },
            Vec::new(),
        );
        assert_eq!(enable(&env, &mut ok, "alice", 1000), Ok(()));
        assert_eq!(ok.1, ["loginctl enable-linger alice"]);
        let mut denied = Loginctl(
            crate::service::runner::CommandOutput {
                code: Some(1),
                stdout: String::new(),
                stderr: "Could not enable linger: Access denied\n".into(),
            },
            Vec::new(),
        );
        let e = enable(&env, &mut denied, "alice", 1000).unwrap_err();
        assert_eq!(
            e,
            "SetUserLinger over the system bus: no system bus (/nonexistent/bus does not exist); \
             loginctl enable-linger alice: Could not enable linger: Access denied"
        );
    }

    #[test]
    fn the_dir_can_be_overridden() {
        let env = crate::environment::Environment::empty().with(LINGER_DIR_ENV, "/tmp/l");
        assert_eq!(linger_dir(&env), PathBuf::from("/tmp/l"));
        assert_eq!(
            linger_dir(&crate::environment::Environment::empty()),
            PathBuf::from(DEFAULT_LINGER_DIR)
        );
    }
}
