//! Linger: whether systemd keeps the user's manager (and the gateway) running without a login
//! session, read from logind's state directory `/var/lib/systemd/linger/<user>` (no `loginctl`
//! call: it needs logind, which containers and test managers lack). `gateway install` does not
//! change it (spec §2.8); it warns with the exact command when it is off.

use std::path::{Path, PathBuf};

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
