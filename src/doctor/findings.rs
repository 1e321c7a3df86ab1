//! What doctor found: one [`Finding`] per problem (id, severity, message, the fix, how it can be
//! repaired, which profile and file), and the human rendering of a list of them.
//!
//! The `--json` report built from these is described by `schemas/doctor.schema.json`.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

/// How bad a finding is. Errors and warnings make `doctor` exit 1 until fixed; infos do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Broken or unsafe (a secret readable by others, an invalid config).
    Error,
    /// Works, but not as recommended (drift, legacy service, linger off).
    Warning,
    /// Worth knowing; nothing to fix.
    Info,
}

impl Severity {
    /// The text label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// How a finding is repaired by `doctor --fix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepairKind {
    /// Applied by `--fix` (also with `--non-interactive`): nothing the operator wrote is lost.
    Safe,
    /// Overwrites custom edits: only with `--fix --force`.
    Aggressive,
    /// Changes what runs (installs or restarts the service) or the host (enables systemd
    /// lingering): only after an explicit yes on a terminal; `--yes`, `--non-interactive` or no terminal never apply it (spec §6.1, §6.4).
    Interactive,
    /// Doctor cannot do it; the fix text says what to run.
    Manual,
    /// Nothing to repair.
    None,
}

impl RepairKind {
    /// The text label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Aggressive => "aggressive",
            Self::Interactive => "interactive",
            Self::Manual => "manual",
            Self::None => "none",
        }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable id (`service-port-mismatch`, `secret-in-readable-file`, …).
    pub id: &'static str,
    /// Severity.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// What fixes it (the command, or what `--fix` does).
    pub fix: String,
    /// How `--fix` treats it.
    pub repair: RepairKind,
    /// The profile it concerns (`default` or the name), when it concerns one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The file it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

impl Finding {
    /// A finding with no profile or path.
    pub fn new(
        id: &'static str,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
        repair: RepairKind,
    ) -> Self {
        Self {
            id,
            severity,
            message: message.into(),
            fix: fix.into(),
            repair,
            profile: None,
            path: None,
        }
    }

    /// Sets the profile.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Sets the path.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// True when the finding keeps `doctor` from exiting 0 (errors and warnings).
    pub fn counts(&self) -> bool {
        self.severity != Severity::Info
    }
}

/// The human rendering: one block per finding, worst first, then a summary line.
pub fn render_text(findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity);
    let mut out = String::new();
    for f in &sorted {
        let scope = match (&f.profile, &f.path) {
            (Some(p), Some(path)) => format!(" [profile {p}; {}]", path.display()),
            (Some(p), None) => format!(" [profile {p}]"),
            (None, Some(path)) => format!(" [{}]", path.display()),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "{}: {} ({}){scope}",
            f.severity.as_str(),
            f.message,
            f.id
        );
        let _ = writeln!(out, "  fix ({}): {}", f.repair.as_str(), f.fix);
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    if findings.iter().any(Finding::counts) {
        let _ = writeln!(
            out,
            "{} error(s), {} warning(s), {} note(s).",
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info)
        );
    } else if findings.is_empty() {
        out.push_str("No problems found.\n");
    } else {
        let _ = writeln!(
            out,
            "No problems found ({} note(s)).",
            count(Severity::Info)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lists_errors_first_with_fix_and_summary() {
        let findings = vec![
            Finding::new(
                "linger-off",
                Severity::Warning,
                "Linger is off",
                "loginctl enable-linger u",
                RepairKind::Manual,
            ),
            Finding::new(
                "service-token-embedded",
                Severity::Error,
                "token inline",
                "doctor --fix",
                RepairKind::Safe,
            )
            .profile("default")
            .path("/u/x.service"),
        ];
        let text = render_text(&findings);
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "error: token inline (service-token-embedded) [profile default; /u/x.service]"
        );
        assert!(text.contains("  fix (manual): loginctl enable-linger u"));
        assert!(
            text.ends_with("1 error(s), 1 warning(s), 0 note(s).\n"),
            "{text}"
        );
    }

    #[test]
    fn only_infos_count_as_clean() {
        let info = Finding::new("x", Severity::Info, "m", "f", RepairKind::None);
        assert!(!info.counts());
        assert_eq!(
            render_text(std::slice::from_ref(&info)),
            "info: m (x)\n  fix (none): f\nNo problems found (1 note(s)).\n"
        );
        assert_eq!(render_text(&[]), "No problems found.\n");
    }

    #[test]
    fn json_uses_the_schema_names_and_omits_absent_scope() {
        let v = serde_json::to_value(Finding::new(
            "a",
            Severity::Warning,
            "m",
            "f",
            RepairKind::Aggressive,
        ))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id":"a","severity":"warning","message":"m","fix":"f","repair":"aggressive"})
        );
    }
}
