//! The gateway's shared state: one value, owned by an `Arc`, handed to every task.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::agent::AgentRuntime;
use super::agent::catalog::DEFAULT_AGENT_ID;
use super::agent::events::EventSink;
use super::device_identity::GatewayIdentity;
use super::health::health_summary;
use super::idempotency::IdempotencyCache;
use super::methods::node_invoke::PendingInvokes;
use super::pairing::PairingStore;
use super::preauth_limit::{FailurePacer, PreauthGate};
use super::presence::{PresenceEntry, PresenceStore};
use super::rate_limit::AuthRateLimiter;
use super::registry::ConnectionRegistry;
use super::settings::GatewaySettings;
use crate::contract::secret::{Secret, generate_token};
use crate::protocol::connect::SessionDefaults;
use crate::protocol::frames::StateVersion;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether the gateway accepts work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Listeners are being bound.
    Starting = 0,
    /// Serving.
    Ready = 1,
    /// Stopping or restarting: `/readyz` answers 503.
    Draining = 2,
}

/// Most queued system events kept for `status`.
const SYSTEM_EVENTS_KEPT: usize = 20;

/// Everything the gateway's tasks share.
#[derive(Debug)]
pub struct GatewayState {
    /// Resolved settings.
    pub settings: GatewaySettings,
    /// Process start.
    pub started: Instant,
    /// Boot id (UUID) of this process.
    pub boot_id: String,
    /// Authenticated connections.
    pub registry: ConnectionRegistry,
    /// Failed-auth limiter.
    pub rate_limiter: Mutex<AuthRateLimiter>,
    /// Device and node pairing.
    pub pairing: Mutex<PairingStore>,
    /// The gateway's own device identity.
    pub identity: GatewayIdentity,
    /// The file log (for `logs.tail`), if any.
    pub log_file: Option<PathBuf>,
    /// Cancelled when the gateway stops.
    pub shutdown: CancellationToken,
    /// Every spawned connection/background task.
    pub tasks: TaskTracker,
    /// Answers of idempotent methods (`send`, `agent`, `node.invoke`), replayed for 5 min.
    pub idempotency: IdempotencyCache,
    /// `node.invoke` requests waiting for their node.
    pub invokes: PendingInvokes,
    /// Agent runs, sessions and models.
    pub agents: Arc<AgentRuntime>,
    /// The HTTP APIs and webhooks: which are on (hot-applied), what they remember.
    pub http_api: super::http_api::HttpApi,
    /// The Control UI served on the gateway port.
    pub control_ui: super::control_ui::ControlUi,
    /// Slots of connections that have not authenticated yet.
    pub preauth: Arc<PreauthGate>,
    /// Spacing of failed-credential answers.
    pub failure_pacer: FailurePacer,
    /// The canvas capability of this process: canvas documents reach non-loopback peers only
    /// under `/__openclaw__/cap/<capability>/`, a URL given to authenticated connections.
    pub canvas_capability: Secret,
    presence: Mutex<PresenceStore>,
    presence_version: AtomicU64,
    health_version: AtomicU64,
    health_cache: Mutex<Arc<RawValue>>,
    heartbeats_enabled: AtomicBool,
    system_events: Mutex<VecDeque<Value>>,
    phase: AtomicU8,
}

impl GatewayState {
    /// Builds the state.
    pub fn new(
        settings: GatewaySettings,
        pairing: PairingStore,
        identity: GatewayIdentity,
        log_file: Option<PathBuf>,
        self_presence: PresenceEntry,
        agents: AgentRuntime,
        env: &crate::environment::Environment,
    ) -> Self {
        let agents = Arc::new(agents);
        let health_cache = Mutex::new(Self::build_health(true, &agents));
        let rate_limit = settings.auth.rate_limit;
        let preauth = PreauthGate::new(settings.preauth);
        let http_api = super::http_api::HttpApi::from_config(&settings.config, env, &settings.auth);
        let control_ui = super::control_ui::ControlUi::from_config(&settings.config);
        Self {
            settings,
            started: Instant::now(),
            boot_id: uuid::Uuid::new_v4().to_string(),
            registry: ConnectionRegistry::default(),
            rate_limiter: Mutex::new(AuthRateLimiter::new(rate_limit)),
            pairing: Mutex::new(pairing),
            identity,
            log_file,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            idempotency: IdempotencyCache::default(),
            invokes: PendingInvokes::default(),
            agents,
            http_api,
            control_ui,
            preauth,
            failure_pacer: FailurePacer::default(),
            canvas_capability: Secret::new(
                &generate_token().unwrap_or_else(|_| uuid::Uuid::new_v4().simple().to_string()),
            ),
            presence: Mutex::new(PresenceStore::new(self_presence)),
            presence_version: AtomicU64::new(1),
            health_version: AtomicU64::new(1),
            health_cache,
            heartbeats_enabled: AtomicBool::new(true),
            system_events: Mutex::new(VecDeque::new()),
            phase: AtomicU8::new(Phase::Starting as u8),
        }
    }

    /// Uptime in ms.
    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Ready,
            _ => Phase::Draining,
        }
    }

    /// Moves to `phase`.
    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// The version counters.
    pub fn state_version(&self) -> StateVersion {
        StateVersion {
            presence: self.presence_version.load(Ordering::Acquire),
            health: self.health_version.load(Ordering::Acquire),
        }
    }

    /// The presence list (pruned, newest first).
    pub fn presence_list(&self) -> Vec<PresenceEntry> {
        lock(&self.presence).list(now_ms())
    }

    /// The unexpired presence entry under `key`.
    pub fn presence_entry(&self, key: &str) -> Option<PresenceEntry> {
        lock(&self.presence).get(key, now_ms())
    }

    /// Applies `change` to presence, bumps its version and broadcasts `presence`.
    pub fn update_presence(&self, change: impl FnOnce(&mut PresenceStore)) {
        let list = {
            let mut store = lock(&self.presence);
            change(&mut store);
            store.list(now_ms())
        };
        self.presence_version.fetch_add(1, Ordering::AcqRel);
        let payload = json!({ "presence": list });
        self.registry.broadcast(
            "presence",
            &payload,
            Some(self.state_version()),
            true,
            |_| true,
        );
    }

    fn build_health(heartbeats_enabled: bool, agents: &AgentRuntime) -> Arc<RawValue> {
        let now = now_ms();
        let summary = health_summary(now, &agents.health(now), heartbeats_enabled);
        serde_json::value::to_raw_value(&summary)
            .map(Arc::from)
            .unwrap_or_else(|_| {
                Arc::from(RawValue::from_string("{}".to_owned()).unwrap_or_default())
            })
    }

    /// The cached health summary, serialised (rebuilt by [`GatewayState::refresh_health`]).
    pub fn health_payload(&self) -> Arc<RawValue> {
        lock(&self.health_cache).clone()
    }

    /// `hello-ok.snapshot.sessionDefaults`.
    pub fn session_defaults(&self) -> SessionDefaults {
        let catalog = self.agents.catalog();
        SessionDefaults {
            default_agent_id: DEFAULT_AGENT_ID.to_owned(),
            main_key: "main".to_owned(),
            main_session_key: format!("agent:{DEFAULT_AGENT_ID}:main"),
            scope: "per-sender".to_owned(),
            model_configured: catalog
                .agent(DEFAULT_AGENT_ID)
                .is_some_and(|a| catalog.endpoints(a, None).is_ok()),
        }
    }

    /// The cached health summary as a value (for the `hello-ok` snapshot).
    pub fn health(&self) -> Value {
        serde_json::from_str(self.health_payload().get()).unwrap_or(Value::Null)
    }

    /// Refreshes health: rebuilds the cached summary, bumps its version and broadcasts `health`.
    pub fn refresh_health(&self) {
        let fresh = Self::build_health(self.heartbeats_enabled(), &self.agents);
        *lock(&self.health_cache) = fresh;
        self.health_version.fetch_add(1, Ordering::AcqRel);
        let payload = self.health();
        self.registry
            .broadcast("health", &payload, Some(self.state_version()), true, |_| {
                true
            });
    }

    /// Whether heartbeats are enabled (`set-heartbeats`).
    pub fn heartbeats_enabled(&self) -> bool {
        self.heartbeats_enabled.load(Ordering::Acquire)
    }

    /// Sets the heartbeat switch (health changes with it).
    pub fn set_heartbeats_enabled(&self, enabled: bool) {
        if self.heartbeats_enabled.swap(enabled, Ordering::AcqRel) != enabled {
            self.refresh_health();
        }
    }

    /// Queues a system event (the newest [`SYSTEM_EVENTS_KEPT`] are kept).
    pub fn push_system_event(&self, event: Value) {
        let mut events = lock(&self.system_events);
        events.push_back(event);
        while events.len() > SYSTEM_EVENTS_KEPT {
            events.pop_front();
        }
    }

    /// The queued system events, oldest first.
    pub fn system_events(&self) -> Vec<Value> {
        lock(&self.system_events).iter().cloned().collect()
    }
}

impl EventSink for GatewayState {
    /// Run events go to every connection allowed to see them (`operator.read`).
    fn emit(&self, event: &str, payload: &Value) {
        self.registry
            .broadcast(event, payload, None, false, |_| true);
    }
}
