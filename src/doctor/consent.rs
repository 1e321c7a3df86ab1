//! Whether a repair may run: `--yes` assumes yes; `--non-interactive` (or no terminal) never
//! asks and applies only safe repairs; aggressive repairs need `--force`; interactive ones
//! (installing or restarting the service, spec §6.4; enabling linger, §2.8) run only after an explicit yes on a
//! terminal, never with `--yes` or `--non-interactive`; otherwise doctor asks once per repair on
//! the terminal (with the repair's default: yes, or no for a restart).

use std::io::{BufRead, Write};

use super::findings::RepairKind;

/// The flags that decide consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    /// `--yes`.
    pub yes: bool,
    /// `--non-interactive`, or stdin is not a terminal.
    pub non_interactive: bool,
    /// `--force`.
    pub force: bool,
}

/// The decision for one repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it.
    Apply,
    /// Do not; why.
    Skip(String),
}

impl Consent {
    /// Decides for a repair of `kind`; `ask` puts `question` to the operator with the answer an
    /// empty reply means (`default_yes`).
    pub fn decide(
        &self,
        kind: RepairKind,
        question: &str,
        default_yes: bool,
        ask: &mut dyn FnMut(&str, bool) -> bool,
    ) -> Decision {
        match kind {
            RepairKind::Manual | RepairKind::None => {
                return Decision::Skip("doctor cannot do this; see the fix".into());
            }
            RepairKind::Aggressive if !self.force => {
                return Decision::Skip(
                    "custom or unexpected service edits detected; rerun with --force to overwrite"
                        .into(),
                );
            }
            RepairKind::Aggressive if self.non_interactive && !self.yes => {
                return Decision::Skip(
                    "aggressive repairs are not applied with --non-interactive; add --yes".into(),
                );
            }
            RepairKind::Interactive if self.yes || self.non_interactive => {
                return Decision::Skip(
                    "needs an explicit yes on a terminal: run `openclaw doctor --fix` there, without --yes or --non-interactive".into(),
                );
            }
            RepairKind::Interactive => {
                return if ask(question, default_yes) {
                    Decision::Apply
                } else {
                    Decision::Skip("declined".into())
                };
            }
            _ => {}
        }
        if self.yes || self.non_interactive {
            return Decision::Apply;
        }
        if ask(question, default_yes) {
            Decision::Apply
        } else {
            Decision::Skip("declined".into())
        }
    }
}

/// Asks `question [Y/n]` (or `[y/N]` when the default is no) on stderr and reads a line from
/// stdin: an empty line means the default; end of input (Ctrl-D) or a read error means no.
pub fn ask_terminal(question: &str, default_yes: bool) -> bool {
    let mut err = std::io::stderr().lock();
    let hint = if default_yes { "[Y/n]" } else { "[y/N]" };
    let _ = write!(err, "{question} {hint} ");
    let _ = err.flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => {
            let _ = writeln!(err);
            false
        }
        Ok(_) => answer(&line, default_yes),
    }
}

/// The answer a reply line gives.
fn answer(line: &str, default_yes: bool) -> bool {
    match line.trim().to_ascii_lowercase().as_str() {
        "" => default_yes,
        "y" | "yes" => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(c: Consent, kind: RepairKind, answer: bool) -> (Decision, u32) {
        let mut asked = 0;
        let d = c.decide(kind, "Do it?", true, &mut |q, default_yes| {
            assert_eq!(q, "Do it?");
            assert!(default_yes);
            asked += 1;
            answer
        });
        (d, asked)
    }

    const TTY: Consent = Consent {
        yes: false,
        non_interactive: false,
        force: false,
    };

    #[test]
    fn a_terminal_is_asked_per_repair_and_a_no_skips() {
        assert_eq!(decide(TTY, RepairKind::Safe, true), (Decision::Apply, 1));
        assert_eq!(
            decide(TTY, RepairKind::Safe, false),
            (Decision::Skip("declined".into()), 1)
        );
    }

    #[test]
    fn yes_and_non_interactive_never_ask_and_non_interactive_only_applies_safe_repairs() {
        let yes = Consent { yes: true, ..TTY };
        assert_eq!(decide(yes, RepairKind::Safe, false), (Decision::Apply, 0));
        let ni = Consent {
            non_interactive: true,
            force: true,
            ..TTY
        };
        assert_eq!(decide(ni, RepairKind::Safe, false), (Decision::Apply, 0));
        assert!(matches!(
            decide(ni, RepairKind::Aggressive, true),
            (Decision::Skip(_), 0)
        ));
    }

    #[test]
    fn aggressive_repairs_need_force_and_manual_ones_never_run() {
        let yes = Consent { yes: true, ..TTY };
        assert!(
            matches!(decide(yes, RepairKind::Aggressive, true), (Decision::Skip(s), 0) if s.contains("--force"))
        );
        let forced = Consent { force: true, ..yes };
        assert_eq!(
            decide(forced, RepairKind::Aggressive, true),
            (Decision::Apply, 0)
        );
        assert!(matches!(
            decide(forced, RepairKind::Manual, true),
            (Decision::Skip(_), 0)
        ));
    }

    #[test]
    fn interactive_repairs_are_asked_on_a_terminal_only_with_their_default() {
        assert_eq!(
            decide(TTY, RepairKind::Interactive, true),
            (Decision::Apply, 1)
        );
        assert_eq!(
            decide(TTY, RepairKind::Interactive, false),
            (Decision::Skip("declined".into()), 1)
        );
        for c in [
            Consent { yes: true, ..TTY },
            Consent {
                non_interactive: true,
                ..TTY
            },
            Consent {
                yes: true,
                non_interactive: true,
                force: true,
            },
        ] {
            assert!(
                matches!(decide(c, RepairKind::Interactive, true), (Decision::Skip(s), 0) if s.contains("explicit yes on a terminal")),
                "{c:?}"
            );
        }
        let mut defaults = Vec::new();
        TTY.decide(
            RepairKind::Interactive,
            "Restart gateway service now?",
            false,
            &mut |q, d| {
                defaults.push((q.to_owned(), d));
                d
            },
        );
        assert_eq!(
            defaults,
            [("Restart gateway service now?".to_owned(), false)]
        );
    }

    #[test]
    fn an_empty_reply_takes_the_default_and_anything_but_yes_is_no() {
        assert!(answer("\n", true));
        assert!(!answer("\n", false));
        assert!(answer(" Y \n", false));
        assert!(answer("yes\n", false));
        assert!(!answer("n\n", true));
        assert!(!answer("maybe\n", true));
    }
}
