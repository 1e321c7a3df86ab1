//! Config hot reload: watch the active config file, and when it changes (and has stopped
//! changing for `gateway.reload.debounceMs`), read and validate it, diff it against the config in
//! force and act on the reload plan. An invalid new config is logged and ignored: the old one
//! keeps serving.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::mpsc;

use super::reload_plan::{changed_paths, plan};
use super::state::{GatewayState, lock};
use super::supervision::Notifier;
use crate::config::parse_config_text;
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

fn fingerprint(path: &PathBuf) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        len: meta.len(),
        modified: meta.modified().ok(),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(&meta),
    })
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
        let mut last = fingerprint(&path);
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            let now = fingerprint(&path);
            if now == last {
                continue;
            }
            // Wait until the writer is done: unchanged for the debounce period.
            let debounce = Duration::from_millis(state.settings.config.reload_debounce_ms().max(50));
            tokio::time::sleep(debounce).await;
            let settled = fingerprint(&path);
            if settled != now {
                continue;
            }
            last = settled;
            let Some(text) = std::fs::read_to_string(&path).ok() else {
                tracing::warn!("config file {} disappeared; keeping the config in force", path.display());
                continue;
            };
            let (expanded, config) = match parse_config_text(&path, &text, &env) {
                Ok(parsed) => (parsed.expanded, parsed.config),
                Err(e) => {
                    tracing::warn!("config reload skipped (invalid config): {e}");
                    continue;
                }
            };
            let paths = changed_paths(&current, &expanded);
            if paths.is_empty() {
                continue;
            }
            let reload = plan(&paths, config.reload_mode());
            tracing::info!("config changed: {}", paths.join(", "));
            if reload.apply_hot && !reload.hot.is_empty() {
                notifier.reloading("applying config changes");
                lock(&state.rate_limiter).set_config(config.rate_limit());
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
            current = expanded;
        }
    });
}
