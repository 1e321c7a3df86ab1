//! The plan model: what an install or uninstall will do, computed before anything is touched.
//!
//! A plan is files (path, mode, full content; secret files flagged) to write atomically, files to
//! remove, then supervisor steps in order. `--dry-run` prints it for humans or as JSON; tests
//! assert on plans for every platform; the executor writes the files and the backend runs the
//! steps. Comparing a plan's files with the disk tells "already installed" from "drift".

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::PlatformKind;
use crate::atomic_write::{PRIVATE_DIR_MODE, create_dir_all_with_mode, file_mode, write_atomic};

/// Install or uninstall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanAction {
    /// Install.
    Install,
    /// Uninstall.
    Uninstall,
}

/// A file the plan writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Permission bits.
    pub mode: u32,
    /// Full content (binary files, e.g. UTF-16 task XML, are base64 in JSON output).
    pub contents: Vec<u8>,
    /// True for files holding secrets (their content is never printed: `null` in JSON).
    pub secret: bool,
    /// What the file is, for humans.
    pub purpose: String,
}

impl Serialize for PlannedFile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let contents = if self.secret {
            None
        } else {
            Some(match std::str::from_utf8(&self.contents) {
                Ok(text) => text.to_owned(),
                Err(_) => {
                    use base64::Engine;
                    format!(
                        "base64:{}",
                        base64::engine::general_purpose::STANDARD.encode(&self.contents)
                    )
                }
            })
        };
        let mut st = s.serialize_struct("PlannedFile", 5)?;
        st.serialize_field("path", &self.path)?;
        st.serialize_field("mode", &self.mode)?;
        st.serialize_field("contents", &contents)?;
        st.serialize_field("secret", &self.secret)?;
        st.serialize_field("purpose", &self.purpose)?;
        st.end()
    }
}

/// One supervisor step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Step {
    /// A D-Bus call on the systemd manager (`method` with its arguments, for display).
    Dbus {
        /// e.g. `Reload`, `EnableUnitFiles`, `StartUnit`.
        method: String,
        /// Arguments, as displayed.
        args: Vec<String>,
        /// The equivalent `systemctl` command, for humans.
        equivalent: String,
    },
    /// An external command (`launchctl`, `schtasks`).
    Command {
        /// Program.
        program: String,
        /// Arguments.
        args: Vec<String>,
        /// Exit codes that count as success besides 0 (e.g. launchctl 37 "already loaded").
        accept_exit_codes: Vec<i32>,
    },
    /// Wait until the service is active and ready.
    WaitReady {
        /// What is waited for.
        target: String,
        /// Timeout in seconds.
        timeout_secs: u64,
    },
}

impl Step {
    /// One line for humans, quoted for a POSIX shell.
    pub fn describe(&self) -> String {
        self.describe_on(PlatformKind::Linux)
    }

    /// One line for humans, quoted for `platform`'s shell (cmd.exe rules on Windows).
    pub fn describe_on(&self, platform: PlatformKind) -> String {
        match self {
            Self::Dbus {
                method,
                args,
                equivalent,
            } => format!("{equivalent}    (D-Bus {method}({}))", args.join(", ")),
            Self::Command { program, args, .. } => {
                let quote = |a: &String| match platform {
                    PlatformKind::Windows => super::windows::task_xml::quote_windows_arg(a),
                    _ => shell_quote(a),
                };
                let quoted: Vec<String> = std::iter::once(program.clone())
                    .chain(args.iter().map(quote))
                    .collect();
                quoted.join(" ")
            }
            Self::WaitReady {
                target,
                timeout_secs,
            } => format!("wait until {target} is active and ready (up to {timeout_secs}s)"),
        }
    }
}

/// Quotes `arg` for a POSIX shell when it holds anything but plain path characters.
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// What an install or uninstall will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The platform it is for.
    pub platform: PlatformKind,
    /// Install or uninstall.
    pub action: PlanAction,
    /// Files to write, in order.
    pub files: Vec<PlannedFile>,
    /// Files to remove, in order (missing ones are fine).
    pub removals: Vec<PathBuf>,
    /// Supervisor steps, in order.
    pub steps: Vec<Step>,
    /// Facts worth saying (kept state, linger advice, …).
    pub notes: Vec<String>,
}

impl Plan {
    /// An empty plan.
    pub fn new(platform: PlatformKind, action: PlanAction) -> Self {
        Self {
            platform,
            action,
            files: vec![],
            removals: vec![],
            steps: vec![],
            notes: vec![],
        }
    }

    /// The human rendering of `--dry-run`.
    pub fn render_text(&self) -> String {
        let action = match self.action {
            PlanAction::Install => "install",
            PlanAction::Uninstall => "uninstall",
        };
        let mut out = format!(
            "Plan: {action} on {} ({})\n",
            self.platform,
            self.platform.supervisor()
        );
        if !self.files.is_empty() {
            out.push_str("\nFiles to write:\n");
            for file in &self.files {
                out.push_str(&format!(
                    "  {} (mode {:04o}, {} bytes) — {}\n",
                    file.path.display(),
                    file.mode,
                    file.contents.len(),
                    file.purpose
                ));
                if file.secret {
                    out.push_str("      (secret content not shown)\n");
                } else if let Some(text) = readable_text(&file.contents) {
                    for line in text.lines() {
                        out.push_str(&format!("      | {line}\n"));
                    }
                } else {
                    out.push_str("      (binary content; use --json to see it)\n");
                }
            }
        }
        if !self.removals.is_empty() {
            out.push_str("\nFiles to remove:\n");
            for path in &self.removals {
                out.push_str(&format!("  {}\n", path.display()));
            }
        }
        if !self.steps.is_empty() {
            out.push_str("\nSteps:\n");
            for (i, step) in self.steps.iter().enumerate() {
                out.push_str(&format!(
                    "  {}. {}\n",
                    i + 1,
                    step.describe_on(self.platform)
                ));
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nNotes:\n");
            for note in &self.notes {
                out.push_str(&format!("  - {note}\n"));
            }
        }
        out
    }

    /// Planned files whose on-disk content or mode differs from the plan (missing counts).
    pub fn differing_files(&self) -> Vec<&PlannedFile> {
        self.files
            .iter()
            .filter(|f| {
                fs::read(&f.path).ok().as_deref() != Some(f.contents.as_slice())
                    || file_mode(&f.path).is_some_and(|m| m != f.mode)
            })
            .collect()
    }

    /// Writes every planned file atomically with its mode (parent dirs created 0700 when
    /// missing, except that existing dirs are left as they are).
    pub fn write_files(&self) -> io::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for file in &self.files {
            if let Some(dir) = file.path.parent() {
                if !dir.exists() {
                    create_dir_all_with_mode(
                        dir,
                        if file.secret { PRIVATE_DIR_MODE } else { 0o755 },
                    )?;
                }
            }
            write_atomic(&file.path, &file.contents, file.mode)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.path.display())))?;
            written.push(file.path.clone());
            super::abort_hook::action_done(|| file.path.display());
        }
        Ok(written)
    }

    /// Removes the planned removals; missing files are fine.
    pub fn remove_files(&self) -> io::Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for path in &self.removals {
            match fs::remove_file(path) {
                Ok(()) => removed.push(path.clone()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
            }
            super::abort_hook::action_done(|| path.display());
        }
        Ok(removed)
    }
}

/// The contents as text: UTF-8, or UTF-16 LE behind its byte-order mark (Windows task XML).
fn readable_text(contents: &[u8]) -> Option<String> {
    if let Some(body) = contents.strip_prefix(&[0xFF, 0xFE]) {
        if body.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).ok();
    }
    std::str::from_utf8(contents).ok().map(str::to_owned)
}

/// True when `path` is inside `dir`.
pub fn is_within(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> Plan {
        let mut plan = Plan::new(PlatformKind::Linux, PlanAction::Install);
        plan.files.push(PlannedFile {
            path: dir.join("a.service"),
            mode: 0o644,
            contents: b"[Unit]\n".to_vec(),
            secret: false,
            purpose: "unit".into(),
        });
        plan.files.push(PlannedFile {
            path: dir.join("sub/env"),
            mode: 0o600,
            contents: b"TOKEN=s3cret\n".to_vec(),
            secret: true,
            purpose: "env".into(),
        });
        plan.steps.push(Step::Dbus {
            method: "Reload".into(),
            args: vec![],
            equivalent: "systemctl --user daemon-reload".into(),
        });
        plan.steps.push(Step::Command {
            program: "launchctl".into(),
            args: vec!["print".into(), "gui/501/bot molt".into()],
            accept_exit_codes: vec![],
        });
        plan
    }

    #[test]
    fn the_text_rendering_shows_files_steps_and_hides_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let text = sample(dir.path()).render_text();
        assert!(
            text.starts_with("Plan: install on linux (systemd)"),
            "{text}"
        );
        assert!(text.contains("(mode 0644, 7 bytes)") && text.contains("      | [Unit]"));
        assert!(!text.contains("s3cret") && text.contains("(secret content not shown)"));
        assert!(text.contains("  1. systemctl --user daemon-reload    (D-Bus Reload())"));
        assert!(text.contains("  2. launchctl print 'gui/501/bot molt'"));
    }

    #[test]
    fn json_never_shows_the_content_of_secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::to_string(&sample(dir.path())).unwrap();
        assert!(!json.contains("s3cret"), "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["files"][1]["contents"], serde_json::Value::Null);
        assert_eq!(v["files"][1]["secret"], true);
        assert_eq!(v["files"][0]["contents"], "[Unit]\n");
    }

    #[test]
    fn files_are_written_atomically_with_modes_and_then_equal_the_plan() {
        let dir = tempfile::tempdir().unwrap();
        let plan = sample(dir.path());
        assert_eq!(plan.differing_files().len(), 2);
        plan.write_files().unwrap();
        assert!(plan.differing_files().is_empty());
        assert_eq!(file_mode(&dir.path().join("sub/env")), Some(0o600));
        assert_eq!(file_mode(&dir.path().join("a.service")), Some(0o644));
        fs::write(dir.path().join("a.service"), "changed").unwrap();
        assert_eq!(plan.differing_files().len(), 1, "drift detected");
    }

    #[test]
    fn json_shows_text_contents_and_base64_for_binary() {
        let mut plan = Plan::new(PlatformKind::Windows, PlanAction::Install);
        plan.files.push(PlannedFile {
            path: "/t.xml".into(),
            mode: 0o644,
            contents: vec![0xff, 0xfe, 0x3c, 0x00],
            secret: false,
            purpose: "task".into(),
        });
        assert!(
            plan.render_text().contains("      | <\n"),
            "UTF-16 shown decoded"
        );
        let v = serde_json::to_value(&plan).unwrap();
        assert_eq!(v["files"][0]["contents"], "base64://48AA==");
        assert_eq!(v["files"][0]["path"], "/t.xml");
        assert_eq!(v["files"][0]["mode"], 0o644);
        assert_eq!(v["files"][0]["secret"], false);
        assert_eq!(v["files"][0]["purpose"], "task");
        assert_eq!(v["platform"], "windows");
    }

    #[test]
    fn json_never_shows_secret_contents() {
        let dir = tempfile::tempdir().unwrap();
        let v = serde_json::to_value(sample(dir.path())).unwrap();
        assert_eq!(v["files"][0]["contents"], "[Unit]\n");
        assert_eq!(v["files"][1]["contents"], serde_json::Value::Null);
        assert_eq!(v["files"][1]["secret"], true);
        assert!(!v.to_string().contains("s3cret"));
    }
}
