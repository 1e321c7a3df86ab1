//! Linger (spec §2.8): with an installed systemd user unit, doctor reads whether systemd keeps
//! the user's manager running without a login session. Off: the `linger-off` warning explains
//! that without lingering systemd stops the user's manager at logout and kills the gateway, and
//! that enabling it writes `/var/lib/systemd/linger`; `doctor --fix` on a terminal asks
//! `Enable systemd lingering for <user>?` (default yes) and enables it ([`enable`]), then reads
//! linger again to confirm. Unreadable: the `linger-unknown` note.
//!
//! Consent: the repair is [`RepairKind::Interactive`], like installing or restarting the service:
//! only after an explicit yes on a terminal, never with `--non-interactive` (spec: "skipped with
//! `--non-interactive`") and not with `--yes` either. `--yes` is meant for scripts, and enabling
//! linger is a host-wide, privileged change (logind may ask polkit for a password) outside the
//! profile's own files; a script can run `sudo loginctl enable-linger <user>` itself.
//!
//! The reader and the enabler are injected ([`super::supervisor::LingerHooks`]) so the decision
//! logic is tested without logind.

use crate::service::systemd::linger::Linger;

use super::file_audit::Item;
use super::findings::{Finding, RepairKind, Severity};
use super::repair::Action;

/// Shown when linger cannot be read (spec §2.8).
pub const UNREADABLE: &str =
    "Unable to read loginctl linger status. Ensure systemd + loginctl are available.";

/// The question put on a terminal.
pub fn question(user: &str) -> String {
    format!("Enable systemd lingering for {user}?")
}

/// The command to run by hand.
pub fn manual_command(user: &str) -> String {
    format!("sudo loginctl enable-linger {user}")
}

/// The finding for `user`'s linger `state` (none when it is on), with its repair.
pub fn audit(user: &str, state: &Linger) -> Option<Item> {
    match state {
        Linger::On => None,
        Linger::Off => Some((
            Finding::new(
                "linger-off",
                Severity::Warning,
                format!(
                    "Systemd lingering is off for {user}: without lingering systemd stops the \
                     user's manager at logout and kills the gateway (enabling writes \
                     /var/lib/systemd/linger)."
                ),
                format!(
                    "`openclaw doctor --fix` on a terminal asks \"{}\" (default yes), or run `{}`",
                    question(user),
                    manual_command(user)
                ),
                RepairKind::Interactive,
            ),
            Some(Action::EnableLinger {
                user: user.to_owned(),
            }),
        )),
        Linger::Unknown(why) => Some((
            Finding::new(
                "linger-unknown",
                Severity::Info,
                format!("{UNREADABLE} ({why})"),
                format!(
                    "If lingering is off, systemd stops the user's manager at logout and kills the gateway: run `{}`",
                    manual_command(user)
                ),
                RepairKind::Manual,
            ),
            None,
        )),
    }
}

/// Enables linger for `user` with `enabler` (the reason on failure), then reads it again with
/// `read`: the lines to print on success, else the failure text (with the manual command).
pub fn enable(
    user: &str,
    enabler: &dyn Fn(&str) -> Result<(), String>,
    read: &dyn Fn() -> Linger,
) -> Result<Vec<String>, String> {
    let failed = |why: &str| {
        format!(
            "Failed to enable lingering: {why}\nRun manually: {}",
            manual_command(user)
        )
    };
    enabler(user).map_err(|e| failed(e.trim()))?;
    match read() {
        Linger::On => Ok(vec![format!("Enabled systemd lingering for {user}.")]),
        Linger::Off => Err(failed(
            "the request succeeded but linger still reads off afterwards",
        )),
        Linger::Unknown(why) => Err(failed(&format!(
            "the request succeeded but linger cannot be read afterwards ({why})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::doctor::consent::{Consent, Decision};

    #[test]
    fn linger_on_needs_nothing_off_is_an_interactive_repair_and_unknown_a_note() {
        assert_eq!(audit("alice", &Linger::On), None);
        let (f, a) = audit("alice", &Linger::Off).unwrap();
        assert_eq!(
            (f.id, f.severity, f.repair),
            ("linger-off", Severity::Warning, RepairKind::Interactive)
        );
        assert!(
            f.message
                .contains("stops the user's manager at logout and kills the gateway")
                && f.message.contains("/var/lib/systemd/linger"),
            "{}",
            f.message
        );
        assert!(
            f.fix.contains("Enable systemd lingering for alice?")
                && f.fix.contains("sudo loginctl enable-linger alice"),
            "{}",
            f.fix
        );
        let a = a.unwrap();
        assert_eq!(
            a,
            Action::EnableLinger {
                user: "alice".into()
            }
        );
        assert_eq!(
            a.question(),
            ("Enable systemd lingering for alice?".to_owned(), true)
        );
        assert!(!a.mutates_service());

        let (f, a) = audit("alice", &Linger::Unknown("no logind".into())).unwrap();
        assert_eq!(
            (f.id, f.severity, f.repair),
            ("linger-unknown", Severity::Info, RepairKind::Manual)
        );
        assert_eq!(
            f.message,
            "Unable to read loginctl linger status. Ensure systemd + loginctl are available. (no logind)"
        );
        assert_eq!(a, None);
    }

    #[test]
    fn the_repair_is_offered_on_a_terminal_only_never_with_yes_or_non_interactive() {
        let (f, a) = audit("alice", &Linger::Off).unwrap();
        let a = a.unwrap();
        let kind = a.kind(&[&f]);
        let (q, default_yes) = a.question();
        let tty = Consent {
            yes: false,
            non_interactive: false,
            force: false,
        };
        let mut asked = Vec::new();
        assert_eq!(
            tty.decide(kind, &q, default_yes, &mut |q, d| {
                asked.push((q.to_owned(), d));
                true
            }),
            Decision::Apply
        );
        assert_eq!(
            asked,
            [("Enable systemd lingering for alice?".to_owned(), true)]
        );
        for c in [
            Consent { yes: true, ..tty },
            Consent {
                non_interactive: true,
                ..tty
            },
        ] {
            assert!(
                matches!(
                    c.decide(kind, &q, default_yes, &mut |_, _| panic!("asked")),
                    Decision::Skip(_)
                ),
                "{c:?}"
            );
        }
    }

    #[test]
    fn enabling_reports_success_after_reading_linger_again() {
        let calls = RefCell::new(Vec::new());
        let on = Cell::new(false);
        let enabler = |u: &str| {
            calls.borrow_mut().push(u.to_owned());
            on.set(true);
            Ok(())
        };
        let read = || if on.get() { Linger::On } else { Linger::Off };
        assert_eq!(
            enable("alice", &enabler, &read),
            Ok(vec!["Enabled systemd lingering for alice.".to_owned()])
        );
        assert_eq!(*calls.borrow(), ["alice"]);
    }

    #[test]
    fn a_failure_carries_the_reason_and_the_manual_command() {
        let e = enable(
            "alice",
            &|_| Err("Could not enable linger: Access denied\n".into()),
            &|| panic!("not read after a failure"),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "Failed to enable lingering: Could not enable linger: Access denied\nRun manually: sudo loginctl enable-linger alice"
        );
        // The call "succeeded" but linger is still off: not reported as enabled.
        let e = enable("alice", &|_| Ok(()), &|| Linger::Off).unwrap_err();
        assert!(
            e.starts_with(
                "Failed to enable lingering: the request succeeded but linger still reads off"
            ) && e.ends_with("\nRun manually: sudo loginctl enable-linger alice"),
            "{e}"
        );
        let e = enable("alice", &|_| Ok(()), &|| Linger::Unknown("gone".into())).unwrap_err();
        assert!(e.contains("cannot be read afterwards (gone)"), "{e}");
    }
}
