//! Config hot reload: watch the active config file and the files it `$include`s, and when one
//! of them changes (and they have stopped changing for `gateway.reload.debounceMs`), read and
//! validate the config, diff its expanded document against the one in force and act on the
//! reload plan. An invalid new config (in the root file or an included one) is logged and
//! ignored: the old one keeps serving. The set of included files is re-learnt at every read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::mpsc;

use super::agent::loading::build_catalog;
use super::reload_plan::{changed_paths, plan};
use super::state::{GatewayState, lock};
use super::supervision::Notifier;
use crate::config::{Config, parse_config_text_noting_includes};
use crate::environment::Environment;

/// How often the file is looked at.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// What the process loop is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// SIGTERM/SIGINT: stop gracefully.
    Stop(&'static str),
    /// SIGUSR1: restart in-process if authorised.
    RestartSignal,
    /// A config change that needs an in-process restart.
    ConfigRestart(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: u64,
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        len: meta.len(),
        modified: meta.modified().ok(),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(&meta),
    })
}

/// The config file (first) and its included files, with their fingerprints as last read.
#[derive(Debug)]
struct WatchedFiles {
    files: Vec<PathBuf>,
    seen: Vec<Option<Fingerprint>>,
}

impl WatchedFiles {
    fn new(config: &Path, includes: &[PathBuf]) -> Self {
        let mut watched = Self {
            files: vec![config.to_owned()],
            seen: vec![fingerprint(config)],
        };
        watched.add(includes);
        watched
    }

    fn now(&self) -> Vec<Option<Fingerprint>> {
        self.files.iter().map(|f| fingerprint(f)).collect()
    }

    /// Watches `includes` too; a file not watched yet is fingerprinted now.
    fn add(&mut self, includes: &[PathBuf]) {
        for file in includes {
            if !self.files.contains(file) {
                self.seen.push(fingerprint(file));
                self.files.push(file.clone());
            }
        }
    }

    /// Watches exactly the config file and `includes`, keeping what was seen of files already
    /// watched.
    fn replace(&mut self, includes: &[PathBuf]) {
        let keep = |file: &PathBuf| file == &self.files[0] || includes.contains(file);
        let (files, seen) = self
            .files
            .iter()
            .zip(&self.seen)
            .filter(|(file, _)| keep(file))
            .map(|(file, seen)| (file.clone(), seen.clone()))
            .unzip();
        self.files = files;
        self.seen = seen;
        self.add(includes);
    }
}

/// Spawns the watcher for `state`; it ends with the state's shutdown or after asking for a
/// restart.
pub fn spawn(
    state: Arc<GatewayState>,
    env: Environment,
    notifier: Notifier,
    events: mpsc::Sender<LifecycleEvent>,
) {
    let path = state.settings.config_path.clone();
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        let mut current: Value = state.settings.config_expanded.clone();
        let mut watched = WatchedFiles::new(&path, &state.settings.config_includes);
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            let now = watched.now();
            if now == watched.seen {
                continue;
            }
            // Wait until the writer is done: unchanged for the debounce period.
            let debounce = Duration::from_millis(state.settings.config.reload_debounce_ms().max(50));
            tokio::time::sleep(debounce).await;
            let settled = watched.now();
            if settled != now {
                continue;
            }
            watched.seen = settled;
            let Some(text) = std::fs::read_to_string(&path).ok() else {
                tracing::warn!("config file {} disappeared; keeping the config in force", path.display());
                continue;
            };
            let mut includes = Vec::new();
            let parsed = parse_config_text_noting_includes(&path, &text, &env, &mut includes);
            let parsed = match parsed {
                Ok(parsed) => {
                    watched.replace(&parsed.includes);
                    parsed
                }
                Err(e) => {
                    // Keep watching what the broken config names, to see the fix.
                    watched.add(&includes);
                    tracing::warn!("config reload skipped (invalid config): {e}");
                    continue;
                }
            };
            let config = parsed.config;
            let paths = changed_paths(&current, &parsed.expanded);
            if paths.is_empty() {
                continue;
            }
            let reload = plan(&paths, config.reload_mode());
            tracing::info!("config changed: {}", paths.join(", "));
            let agents_changed = paths.iter().any(|p| {
                ["models", "agents"]
                    .iter()
                    .any(|k| p == k || p.starts_with(&format!("{k}.")))
            });
            if agents_changed {
                reload_agents(&state, &config, &path, &env);
            }
            if reload.apply_hot && !reload.hot.is_empty() {
                notifier.reloading("applying config changes");
                lock(&state.rate_limiter).set_config(config.rate_limit());
                state.http_api.apply(&config, &env, &state.settings.auth);
                state.control_ui.apply(&config);
                tracing::info!("config hot-applied: {}", reload.hot.join(", "));
                notifier.ready("serving (config reloaded)");
            }
            if reload.restart {
                let reason = format!("config change: {}", reload.restart_required.join(", "));
                let _ = events.send(LifecycleEvent::ConfigRestart(reason)).await;
                return;
            }
            if !reload.restart_required.is_empty() {
                tracing::warn!(
                    "config change needs a restart and was not applied (gateway.reload.mode={:?}): {}",
                    config.reload_mode(),
                    reload.restart_required.join(", ")
                );
            }
            current = parsed.expanded;
        }
    });
}

/// Applies changed agent and model keys to the next runs; a change that brings new problems
/// (logged at their lines) is not applied and the previous agents and models stay in force.
fn reload_agents(state: &GatewayState, config: &Config, path: &Path, env: &Environment) {
    let catalog = build_catalog(config, path, env);
    let old = state.agents.catalog();
    let new_problems = catalog
        .problems()
        .iter()
        .filter(|p| !old.problems().contains(p))
        .count();
    if new_problems > 0 {
        tracing::error!(
            "agent and model changes not applied: {new_problems} new problem(s) above; the previous agents and models stay in force"
        );
    } else {
        state.agents.set_catalog(catalog);
        tracing::info!("agents and models reloaded (applies to the next runs)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn included_files_are_watched_and_the_set_follows_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("openclaw.json");
        let [a, b] = ["a.json5", "b.json5"].map(|n| dir.path().join(n));
        std::fs::write(&config, "{}").unwrap();
        std::fs::write(&a, "{}").unwrap();
        let mut watched = WatchedFiles::new(&config, std::slice::from_ref(&a));
        assert_eq!(watched.now(), watched.seen);
        std::fs::write(&a, "{ x: 1 }").unwrap();
        assert_ne!(
            watched.now(),
            watched.seen,
            "an edit of an included file is seen"
        );
        watched.seen = watched.now();
        // A broken config naming a missing file: it is watched, and its creation is seen.
        watched.add(std::slice::from_ref(&b));
        assert_eq!(watched.files, [config.clone(), a.clone(), b.clone()]);
        assert_eq!(watched.seen[2], None);
        std::fs::write(&b, "{}").unwrap();
        assert_ne!(watched.now(), watched.seen);
        watched.seen = watched.now();
        // The next good read includes only `b`: `a` is dropped, what was seen of `b` is kept.
        watched.replace(std::slice::from_ref(&b));
        assert_eq!(watched.files, [config, b]);
        assert_eq!(watched.now(), watched.seen);
    }
}
