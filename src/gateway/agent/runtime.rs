//! [`AgentRuntime`]: the gateway's runs — started, queued per session (two runs of one session
//! never overlap), bounded across sessions, abortable, awaited — over the catalog, the session
//! store and one HTTP client (built on the first run, so an idle gateway never pays for it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::catalog::Catalog;
use super::events::EventSink;
use super::lanes::SessionLanes;
use crate::gateway::heap_release::HeapRelease;
use crate::gateway::provider::{FailureReason, Timeouts, Usage, http_client};
use crate::gateway::session::{RunStatus, SessionStore, StoreError};

/// Sessions whose runs may stream at the same time (the rest wait for a slot) when
/// `agents.defaults.maxConcurrent` is not set.
pub const DEFAULT_CONCURRENT_SESSIONS: usize = 32;

/// What starts a run.
#[derive(Debug, Clone)]
pub struct TurnRequest {
    /// The caller's idempotency key.
    pub run_id: String,
    /// The agent.
    pub agent_id: String,
    /// The session key (`agent:<agentId>:…`).
    pub session_key: String,
    /// The user's message.
    pub message: String,
    /// The turn's budget instead of the agent's (`Some(None)`: no limit).
    pub timeout: Option<Option<Duration>>,
    /// More system prompt for this turn.
    pub extra_system_prompt: Option<String>,
    /// Function tools offered to the model (OpenAI `tools` items, as a client sent them).
    pub tools: Vec<serde_json::Value>,
    /// `temperature`, `top_p`, `stop`, `seed`, `tool_choice`, … as a client set them.
    pub sampling: serde_json::Map<String, serde_json::Value>,
    /// `provider/model` for this turn instead of the session's or the agent's primary.
    pub model: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// The run.
    pub run_id: String,
    /// `ok`, `error`, `timeout` or `aborted`.
    pub status: RunStatus,
    /// The answer (partial unless `ok`).
    pub text: String,
    /// Its transcript.
    pub session_id: String,
    /// Started (ms).
    pub started_at: u64,
    /// Ended (ms).
    pub ended_at: u64,
    /// The provider that answered (or was asked last).
    pub provider: Option<String>,
    /// Its model.
    pub model: Option<String>,
    /// Token counts.
    pub usage: Usage,
    /// The model's finish reason.
    pub stop_reason: Option<String>,
    /// The tool calls the model asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<crate::gateway::provider::ToolCall>,
    /// Why it failed.
    pub error: Option<String>,
    /// The failure's class.
    pub reason: Option<FailureReason>,
}

/// A run in progress.
#[derive(Debug)]
pub struct RunHandle {
    /// The run.
    pub run_id: String,
    /// Its session key.
    pub session_key: String,
    /// Its agent.
    pub agent_id: String,
    /// Its transcript.
    pub session_id: String,
    /// When it was accepted (ms).
    pub accepted_at: u64,
    pub(super) cancel: CancellationToken,
    pub(super) done: watch::Sender<Option<Arc<RunSummary>>>,
}

impl RunHandle {
    /// Waits for the run's end (at most `limit`); `None` when it is still running.
    pub async fn finished(&self, limit: Option<Duration>) -> Option<Arc<RunSummary>> {
        let mut rx = self.done.subscribe();
        let wait = rx.wait_for(Option::is_some);
        let result = match limit {
            Some(d) => tokio::time::timeout(d, wait).await.ok()?,
            None => wait.await,
        };
        result.ok().and_then(|v| v.clone())
    }
}

/// Why a run could not start.
#[derive(Debug)]
pub enum StartError {
    /// A run with this id is in progress.
    InFlight(Arc<RunHandle>),
    /// A run with this id ran before (its record is in the store).
    Finished,
    /// The store failed.
    Store(String),
}

/// Opens the session store (at its first use).
type StoreOpener = Box<dyn FnOnce() -> Result<SessionStore, StoreError> + Send>;

/// The runs of the gateway (see the module doc).
pub struct AgentRuntime {
    catalog: RwLock<Arc<Catalog>>,
    store: OnceLock<Result<Arc<SessionStore>, String>>,
    /// Opens the store on first use ([`Self::deferred`]).
    opener: Mutex<Option<StoreOpener>>,
    client: OnceLock<Result<reqwest::Client, String>>,
    lanes: SessionLanes,
    slots: Arc<Semaphore>,
    /// How many slots there are (the semaphore's permits, free or held).
    capacity: Mutex<usize>,
    /// The slots when the config sets no `maxConcurrent`.
    default_concurrent: usize,
    runs: Mutex<HashMap<String, Arc<RunHandle>>>,
    /// Trims the heap when the last run of a burst has ended.
    heap: HeapRelease,
    /// Notes waiting for a session's next turn.
    system_events: super::system_events::SystemEvents,
}

impl std::fmt::Debug for AgentRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentRuntime").finish_non_exhaustive()
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AgentRuntime {
    /// A runtime over `catalog` and `store` (its open error, when it could not be opened: every
    /// run then fails with it).
    pub fn new(
        catalog: Catalog,
        store: Result<SessionStore, StoreError>,
        concurrent: usize,
    ) -> Self {
        let opened = OnceLock::new();
        let _ = opened.set(store.map(Arc::new).map_err(|e| e.to_string()));
        Self::with_store(catalog, opened, None, concurrent)
    }

    /// A runtime whose store `open` opens at its first use (the gateway opens it right after
    /// it is ready, off the start-up path; a request that needs it first waits for it).
    pub fn deferred(
        catalog: Catalog,
        open: impl FnOnce() -> Result<SessionStore, StoreError> + Send + 'static,
        concurrent: usize,
    ) -> Self {
        Self::with_store(catalog, OnceLock::new(), Some(Box::new(open)), concurrent)
    }

    fn with_store(
        catalog: Catalog,
        store: OnceLock<Result<Arc<SessionStore>, String>>,
        opener: Option<StoreOpener>,
        default_concurrent: usize,
    ) -> Self {
        let concurrent = catalog
            .max_concurrent()
            .unwrap_or(default_concurrent)
            .max(1);
        Self {
            catalog: RwLock::new(Arc::new(catalog)),
            store,
            opener: Mutex::new(opener),
            client: OnceLock::new(),
            lanes: SessionLanes::default(),
            slots: Arc::new(Semaphore::new(concurrent)),
            capacity: Mutex::new(concurrent),
            default_concurrent: default_concurrent.max(1),
            runs: Mutex::new(HashMap::new()),
            heap: HeapRelease::default(),
            system_events: Default::default(),
        }
    }

    /// Queues `text` for the next turn of `session_key` (given to the model as system prompt).
    pub fn queue_system_event(
        &self,
        session_key: &str,
        text: &str,
    ) -> Result<(), super::system_events::QueueFull> {
        self.system_events.queue(session_key, text)
    }

    /// Takes the notes waiting for the next turn of `session_key`.
    pub(super) fn take_system_events(&self, session_key: &str) -> Vec<String> {
        self.system_events.take(session_key)
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the catalog (config reload): runs started from now on use it, and the number of
    /// slots follows its `maxConcurrent` (fewer slots: runs streaming now finish, and new ones
    /// wait until the count is under the new cap).
    pub fn set_catalog(&self, catalog: Catalog) {
        self.resize_slots(catalog.max_concurrent().unwrap_or(self.default_concurrent));
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
    }

    /// How many sessions may stream at the same time.
    pub fn concurrent_sessions(&self) -> usize {
        *locked(&self.capacity)
    }

    fn resize_slots(&self, wanted: usize) {
        let mut capacity = locked(&self.capacity);
        if wanted > *capacity {
            self.slots.add_permits(wanted - *capacity);
        } else if wanted < *capacity {
            // Free slots go now; held ones as their runs end (the task ends with the last one).
            let left = (*capacity - wanted) - self.slots.forget_permits(*capacity - wanted);
            if left > 0 {
                let slots = self.slots.clone();
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        if let Ok(held) = slots.acquire_many_owned(left as u32).await {
                            held.forget();
                        }
                    });
                }
            }
        }
        *capacity = wanted;
    }

    /// The session store (opened now if it was not yet), or why it is unavailable.
    pub fn store(&self) -> Result<&Arc<SessionStore>, String> {
        self.store
            .get_or_init(|| {
                let open = locked(&self.opener).take();
                let opened = match open {
                    Some(open) => open().map(Arc::new).map_err(|e| e.to_string()),
                    None => Err("the session store was not configured".to_owned()),
                };
                if let Err(e) = &opened {
                    tracing::error!("agent runs are unavailable: {e}");
                }
                opened
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub(super) fn client(&self) -> Result<reqwest::Client, String> {
        self.client
            .get_or_init(|| http_client(Timeouts::default().connect))
            .clone()
    }

    pub(super) fn slots(&self) -> Arc<Semaphore> {
        self.slots.clone()
    }

    /// The run `run_id` while it is in progress.
    pub fn active(&self, run_id: &str) -> Option<Arc<RunHandle>> {
        locked(&self.runs).get(run_id).cloned()
    }

    /// Whether a run of `session_key` is in progress.
    pub fn session_busy(&self, session_key: &str) -> bool {
        locked(&self.runs)
            .values()
            .any(|r| r.session_key == session_key)
    }

    /// Commits the run as accepted (with the user's message) and starts it on `tasks`: it waits for its
    /// session's earlier runs, streams its events to `sink`, and ends on its own (`shutdown`
    /// aborts it).
    pub fn start(
        self: &Arc<Self>,
        request: TurnRequest,
        sink: Arc<dyn EventSink>,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
        now_ms: u64,
    ) -> Result<Arc<RunHandle>, StartError> {
        let mut runs = locked(&self.runs);
        if let Some(running) = runs.get(&request.run_id) {
            return Err(StartError::InFlight(running.clone()));
        }
        let store = self.store().map_err(StartError::Store)?;
        let session = match store.accept_run(
            &request.session_key,
            &request.agent_id,
            &request.run_id,
            &request.message,
            now_ms,
        ) {
            Ok(s) => s,
            Err(StoreError::DuplicateRun(_)) => return Err(StartError::Finished),
            Err(e) => return Err(StartError::Store(e.to_string())),
        };
        let handle = Arc::new(RunHandle {
            run_id: request.run_id.clone(),
            session_key: request.session_key.clone(),
            agent_id: request.agent_id.clone(),
            session_id: session.session_id,
            accepted_at: now_ms,
            cancel: shutdown.child_token(),
            done: watch::channel(None).0,
        });
        runs.insert(request.run_id.clone(), handle.clone());
        // In the lane before the next run can be accepted: runs go in the order accepted.
        let place = self.lanes.enter(&request.session_key);
        drop(runs);
        let runtime = self.clone();
        let run = handle.clone();
        let (tracker, stop) = (tasks.clone(), shutdown.clone());
        tasks.spawn(async move {
            let summary = super::turn::execute(&runtime, &run, request, place, sink).await;
            let idle = {
                let mut runs = locked(&runtime.runs);
                runs.remove(&run.run_id);
                runs.is_empty()
            };
            run.done.send_replace(Some(Arc::new(summary)));
            if idle {
                let quiet = Arc::downgrade(&runtime);
                runtime.heap.after_burst(&tracker, &stop, move || {
                    quiet
                        .upgrade()
                        .is_some_and(|rt| locked(&rt.runs).is_empty())
                });
            }
        });
        Ok(handle)
    }

    /// Aborts the runs in progress of `session_key` (only `run_id`, when given); their ids.
    pub fn abort(&self, session_key: &str, run_id: Option<&str>) -> Vec<String> {
        locked(&self.runs)
            .values()
            .filter(|r| r.session_key == session_key && run_id.is_none_or(|id| id == r.run_id))
            .map(|r| {
                r.cancel.cancel();
                r.run_id.clone()
            })
            .collect()
    }

    /// The agents and sessions part of the health summary: each agent with its session count
    /// and newest sessions, and the 5 newest sessions of all (from the store).
    pub fn health(&self, now_ms: u64) -> crate::gateway::health::AgentsHealth {
        use serde_json::json;
        // Only a store already open: the health summary never opens it.
        let (path, counts, recent) = match self.store.get().and_then(|s| s.as_ref().ok()) {
            Some(store) => (
                store.path().display().to_string(),
                store.counts_by_agent().unwrap_or_default(),
                store
                    .list(None, None, 5, 0)
                    .map(|(s, _)| s)
                    .unwrap_or_default(),
            ),
            None => (String::new(), Vec::new(), Vec::new()),
        };
        let view = |s: &crate::gateway::session::Session| json!({"key": s.key, "updatedAt": s.updated_at, "age": now_ms.saturating_sub(s.updated_at)});
        let catalog = self.catalog();
        let agents: Vec<serde_json::Value> = catalog
            .agents()
            .map(|a| {
                let count = counts.iter().find(|(id, _)| *id == a.id).map_or(0, |(_, n)| *n);
                let mine: Vec<_> = recent.iter().filter(|s| s.agent_id == a.id).map(view).collect();
                // Heartbeats are not run by this gateway: reported as disabled.
                let mut agent = json!({"agentId": a.id, "isDefault": a.id == super::catalog::DEFAULT_AGENT_ID,
                    "heartbeat": {"enabled": false, "every": "off", "everyMs": null, "prompt": "",
                        "target": "none", "ackMaxChars": 0},
                    "sessions": {"path": path, "count": count, "recent": mine}});
                if let Some(name) = &a.name {
                    agent["name"] = json!(name);
                }
                agent
            })
            .collect();
        let total: u64 = counts.iter().map(|(_, n)| n).sum();
        crate::gateway::health::AgentsHealth {
            agents: json!(agents),
            sessions: json!({"path": path, "count": total, "recent": recent.iter().map(view).collect::<Vec<_>>()}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(max_concurrent: Option<u64>) -> Catalog {
        let config: crate::config::Config = serde_json::from_value(
            serde_json::json!({"agents": {"defaults": {"maxConcurrent": max_concurrent}}}),
        )
        .unwrap();
        Catalog::build(
            &config,
            &crate::environment::Environment::empty(),
            std::path::Path::new("/"),
        )
    }

    fn runtime(max_concurrent: Option<u64>) -> AgentRuntime {
        AgentRuntime::new(
            catalog(max_concurrent),
            Err(StoreError::UnknownSession("no store needed here".into())),
            32,
        )
    }

    #[test]
    fn the_slots_come_from_max_concurrent_or_the_default() {
        assert_eq!(runtime(Some(3)).concurrent_sessions(), 3);
        assert_eq!(runtime(Some(3)).slots.available_permits(), 3);
        assert_eq!(runtime(None).concurrent_sessions(), 32);
    }

    #[tokio::test]
    async fn a_reload_grows_the_slots_at_once_and_shrinks_them_as_runs_end() {
        let rt = runtime(Some(4));
        rt.set_catalog(catalog(Some(10)));
        assert_eq!(rt.slots.available_permits(), 10);
        let held = rt.slots.clone().acquire_many_owned(3).await.unwrap();
        rt.set_catalog(catalog(Some(2)));
        assert_eq!(rt.concurrent_sessions(), 2);
        // Three runs stream; none may start until only one is left streaming.
        assert_eq!(rt.slots.available_permits(), 0);
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), async {
            while rt.slots.available_permits() != 2 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the held slots came back as the new cap");
        rt.set_catalog(catalog(None));
        assert_eq!(rt.concurrent_sessions(), 32);
        assert_eq!(rt.slots.available_permits(), 32);
    }
}
