//! Putting back what an install replaced when the new units do not become ready: the unit files
//! and env file as they were (or none, on a first install), reloaded, and the previous gateway
//! started again if it was running — old or new, never a unit that cannot start. And the
//! gateway's own last log line, which the failure quotes.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::dbus::{JobMethod, ManagerConnection};
use crate::atomic_write::{file_mode, write_atomic};
use crate::service::plan::Plan;

/// A file's bytes and mode.
type Contents = (Vec<u8>, u32);

/// The files an install plan is about to write, as they are before it runs.
#[derive(Debug, Clone)]
pub struct Snapshot {
    files: Vec<(PathBuf, Option<Contents>)>,
}

impl Snapshot {
    /// Reads every file `plan` writes (absent files are remembered as absent).
    pub fn take(plan: &Plan) -> Self {
        let files = plan
            .files
            .iter()
            .map(|f| {
                let before = fs::read(&f.path)
                    .ok()
                    .map(|bytes| (bytes, file_mode(&f.path).unwrap_or(f.mode)));
                (f.path.clone(), before)
            })
            .collect();
        Self { files }
    }

    /// True when the service unit (the plan's first file) existed before.
    pub fn had_unit(&self) -> bool {
        self.files
            .first()
            .is_some_and(|(_, before)| before.is_some())
    }

    /// Writes every file back as it was (removing the ones that did not exist); returns what
    /// could not be restored.
    pub fn restore_files(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (path, before) in &self.files {
            let result = match before {
                Some((bytes, mode)) => write_atomic(path, bytes, *mode),
                None => match fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                },
            };
            if let Err(e) = result {
                problems.push(format!("{}: {e}", path.display()));
            }
        }
        problems
    }
}

/// What the rollback did, for the error the install reports.
#[derive(Debug, Default)]
pub struct Rollback {
    /// One line each.
    pub lines: Vec<String>,
}

/// The units a rollback acts on.
#[derive(Debug, Clone, Copy)]
pub struct UnitNames<'a> {
    /// The service unit.
    pub service: &'a str,
    /// The socket unit, when the old or the new install has one.
    pub socket: Option<&'a str>,
    /// The socket unit existed before the install.
    pub socket_before: bool,
}

/// Undoes a failed install: restores the files, reloads, and either starts the previous units
/// again (`restart_previous`, when they were running) or stops and disables the new ones.
pub fn roll_back(
    mgr: &ManagerConnection,
    snapshot: &Snapshot,
    names: UnitNames<'_>,
    restart_previous: bool,
) -> Rollback {
    let mut out = Rollback::default();
    let service = names.service;
    let units: Vec<&str> = names.socket.into_iter().chain([service]).collect();
    // Stop the new service first so nothing keeps running the definition being removed.
    let _ = mgr.run_job(JobMethod::Stop, service, Duration::from_secs(20));
    let problems = snapshot.restore_files();
    if !problems.is_empty() {
        out.lines.push(format!(
            "Could not restore every file: {}",
            problems.join("; ")
        ));
    }
    let _ = mgr.reload();
    for unit in &units {
        let _ = mgr.reset_failed(unit);
    }
    if snapshot.had_unit() {
        out.lines
            .push("Restored the previous unit files; the new ones were not kept.".into());
        if let Some(socket) = names.socket.filter(|_| !names.socket_before) {
            // The previous install had no socket unit: the new one goes away entirely.
            let _ = mgr.run_job(JobMethod::Stop, socket, Duration::from_secs(20));
            let _ = mgr.disable_unit_files(&[socket.to_owned()]);
            let _ = mgr.reload();
        }
        if restart_previous {
            let mut started = true;
            let previous = names
                .socket
                .filter(|_| names.socket_before)
                .into_iter()
                .chain([service]);
            for unit in previous {
                let job = mgr.run_job(JobMethod::Restart, unit, Duration::from_secs(60));
                started &= job.is_ok_and(|j| j.is_done());
            }
            out.lines.push(if started {
                "The previous gateway service is running again.".into()
            } else {
                "The previous gateway service did not start again either: check it with `gateway status`.".into()
            });
        }
    } else {
        for unit in &units {
            let _ = mgr.run_job(JobMethod::Stop, unit, Duration::from_secs(20));
        }
        let names: Vec<String> = units.iter().map(|u| (*u).to_owned()).collect();
        let _ = mgr.disable_unit_files(&names);
        let _ = mgr.reload();
        out.lines
            .push("Removed the new unit files: no gateway service is installed.".into());
    }
    out
}

/// The newest `gateway-*.jsonl` log file under `<state>/logs`, if any.
fn newest_log(state_dir: &Path) -> Option<PathBuf> {
    fs::read_dir(state_dir.join("logs"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| crate::logging::is_rolling_log_name(p))
        .max_by_key(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
}

/// The gateway's last log message (`time level message`), when its log file was written after
/// `since` (so an older run's line is never quoted for this one).
pub fn last_gateway_log_line(state_dir: &Path, since: SystemTime) -> Option<String> {
    let path = newest_log(state_dir)?;
    let modified = fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None;
    }
    let mut file = fs::File::open(&path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))
        .ok()?;
    let mut tail = String::new();
    file.read_to_string(&mut tail).ok()?;
    let records: Vec<serde_json::Value> = tail
        .lines()
        .rev()
        .take(200)
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let level = |r: &serde_json::Value| {
        r.get("level")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    // The newest error or warning says why; else the newest line says how far it got.
    let record = records
        .iter()
        .find(|r| matches!(level(r).as_str(), "error" | "fatal" | "warn"))
        .or_else(|| records.first())?;
    let field = |k: &str| {
        record
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    };
    let message = field("message");
    (!message.is_empty()).then(|| {
        format!("{} {} {message}", field("time"), field("level"))
            .trim()
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::PlatformKind;
    use crate::service::plan::{PlanAction, PlannedFile};

    fn plan_of(files: &[(&Path, &str)]) -> Plan {
        let mut plan = Plan::new(PlatformKind::Linux, PlanAction::Install);
        for (path, text) in files {
            plan.files.push(PlannedFile {
                path: path.to_path_buf(),
                mode: 0o644,
                contents: text.as_bytes().to_vec(),
                secret: false,
                purpose: "test".into(),
            });
        }
        plan
    }

    #[test]
    fn restoring_puts_old_files_back_with_their_mode_and_removes_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("a.service");
        let new = dir.path().join("a.socket");
        write_atomic(&old, b"old", 0o600).unwrap();
        let plan = plan_of(&[(&old, "new"), (&new, "new")]);
        let snapshot = Snapshot::take(&plan);
        assert!(snapshot.had_unit());
        plan.write_files().unwrap();
        assert!(snapshot.restore_files().is_empty());
        assert_eq!(fs::read(&old).unwrap(), b"old");
        assert_eq!(file_mode(&old), Some(0o600));
        assert!(!new.exists());
    }

    #[test]
    fn the_last_log_line_is_quoted_only_when_written_since_the_install_began() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        fs::create_dir(&logs).unwrap();
        let before = SystemTime::now() - Duration::from_secs(5);
        fs::write(
            logs.join("gateway-2026-12-07.jsonl"),
            "{\"time\":\"t1\",\"level\":\"info\",\"message\":\"starting\"}\n{\"time\":\"t2\",\"level\":\"error\",\"message\":\"failed to bind gateway socket 127.0.0.1:1: already in use\"}\n{\"time\":\"t3\",\"level\":\"info\",\"message\":\"shutting down\"}\n\n",
        )
        .unwrap();
        assert_eq!(
            last_gateway_log_line(dir.path(), before).as_deref(),
            Some("t2 error failed to bind gateway socket 127.0.0.1:1: already in use")
        );
        let later = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(last_gateway_log_line(dir.path(), later), None);
        assert_eq!(
            last_gateway_log_line(&dir.path().join("none"), before),
            None
        );
    }
}
