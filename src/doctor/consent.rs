//! Whether a repair may run: `--yes` assumes yes; `--non-interactive` (or no terminal) never
//! asks and applies only safe repairs; aggressive repairs need `--force`; otherwise doctor asks
//! once per repair on the terminal (default yes).

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
    /// Decides for a repair of `kind` described by `summary`; `ask` puts a yes/no question to
    /// the operator.
    pub fn decide(
        &self,
        kind: RepairKind,
        summary: &str,
        ask: &mut dyn FnMut(&str) -> bool,
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
            _ => {}
        }
        if self.yes || self.non_interactive {
            return Decision::Apply;
        }
        if ask(&format!("{summary}?")) {
            Decision::Apply
        } else {
            Decision::Skip("declined".into())
        }
    }
}

/// Asks `question [Y/n]` on stderr and reads stdin; empty means yes.
pub fn ask_terminal(question: &str) -> bool {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [Y/n] ");
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "" | "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(c: Consent, kind: RepairKind, answer: bool) -> (Decision, u32) {
        let mut asked = 0;
        let d = c.decide(kind, "Do it", &mut |q| {
            assert_eq!(q, "Do it?");
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
}
