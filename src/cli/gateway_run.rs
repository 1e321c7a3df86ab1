//! `openclaw gateway run`: the foreground gateway process.
//!
//! Order: read the config (a broken one exits 78 with file:line:col), resolve settings (startup
//! guards exit 78), set up logging, take the sockets the service manager passed (socket
//! activation) or bind every listener, then serve. The listening sockets belong to the process:
//! an in-process restart (SIGUSR1 when `commands.restart` is true, or a config change that needs
//! one) stops the gateway state, tells clients `gateway restarting`, re-reads the config and
//! starts a fresh state on the same sockets, so connections queue in the backlog and none is
//! refused. SIGTERM/SIGINT: `STOPPING=1`, `shutdown` to every client, close 1012, exit 0 within 5 s.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::atomic_write::restrict_dir_to_owner;
use crate::cli::RunArgs;
use crate::cli::exit_status::{CliError, ExitStatus};
use crate::contract::SHUTDOWN_BUDGET;
use crate::gateway::agent::loading::open_runtime;
use crate::gateway::config_watch::{self, LifecycleEvent};
use crate::gateway::device_identity::{GatewayIdentity, IdentityError};
use crate::gateway::idempotency;
use crate::gateway::pairing::PairingStore;
use crate::gateway::port_owner;
use crate::gateway::presence::PresenceEntry;
use crate::gateway::server;
use crate::gateway::settings::{self, GatewaySettings, StartOptions};
use crate::gateway::state::{GatewayState, Phase, now_ms};
use crate::gateway::supervision::{self, Notifier};
use crate::invocation::Invocation;
use crate::logging::{self, LogSettings};
use crate::protocol::constants::close_code;

/// Health refresh cadence.
pub const HEALTH_REFRESH: Duration = Duration::from_secs(60);
/// What clients are told to expect after `gateway restarting`.
pub const RESTART_EXPECTED_MS: u64 = 1500;

/// Runs the gateway until it is told to stop.
pub fn run(invocation: &Invocation, args: &RunArgs) -> Result<ExitStatus, CliError> {
    let config = invocation.load_config()?;
    let settings = settings::resolve(invocation, &args.start_options(), &config)
        .map_err(|e| CliError::config(e.message))?;
    let cfg = &settings.config;
    let logging_cfg = cfg.logging.clone().unwrap_or_default();
    let file = invocation.log_target(cfg);
    let log_file = logging::init(&LogSettings {
        file_level: cfg.log_level(),
        file: Some(file),
        max_file_bytes: logging_cfg.max_file_bytes,
        max_age_days: logging_cfg
            .max_age_days
            .unwrap_or(logging::DEFAULT_MAX_AGE_DAYS),
        verbose: invocation.verbose,
        color: invocation.color,
        journald: logging::stderr_is_journal(&invocation.env),
    });
    // Before any thread starts: taking the sockets clears LISTEN_* from the environment.
    let activated = supervision::take_activated_listeners(&invocation.env)
        .map_err(|e| CliError::config(format!("socket activation: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads(&invocation.env)?)
        .enable_all()
        .thread_name("openclaw-gateway")
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))?;
    let process = Process {
        invocation: invocation.clone(),
        options: args.start_options(),
        force: args.force,
        log_file,
        notifier: Notifier::from_env(&invocation.env),
    };
    let result = runtime.block_on(process.run(settings, activated));
    if let Err(e) = &result {
        // Into the file log, where `gateway status` finds the last gateway error.
        tracing::error!(target: logging::FATAL_TARGET, "gateway stopped: {}", e.message);
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Async worker threads: `OPENCLAW_WORKER_THREADS`, else half the CPUs (at least 1). The gateway
/// is I/O-bound (about 10 µs of CPU per request) and shares its machine with its clients; one
/// worker per CPU made the runtime compete with them for time slices (p99 of `health` at 100
/// local clients on 2 CPUs: 4.7 ms with 2 workers, 2.1 ms with 1; see bench/NOTES.md §1b).
fn worker_threads(env: &crate::environment::Environment) -> Result<usize, CliError> {
    if let Some(raw) = env.get_nonempty("OPENCLAW_WORKER_THREADS") {
        return raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1024).contains(n))
            .ok_or_else(|| {
                CliError::config(format!(
                    "invalid OPENCLAW_WORKER_THREADS: {raw:?} (use a number from 1 to 1024)"
                ))
            });
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok((cpus / 2).max(1))
}

struct Process {
    invocation: Invocation,
    options: StartOptions,
    /// `--force`: stop whatever listens on the port first.
    force: bool,
    log_file: Option<std::path::PathBuf>,
    notifier: Notifier,
}

enum Next {
    Stop(&'static str),
    Restart(String),
}

impl Process {
    async fn run(
        self,
        mut settings: GatewaySettings,
        activated: Option<Vec<std::net::TcpListener>>,
    ) -> Result<ExitStatus, CliError> {
        let process_stop = CancellationToken::new();
        if let Some(interval) = supervision::watchdog_interval() {
            tracing::info!("watchdog: pinging every {}ms", (interval / 2).as_millis());
            supervision::spawn_watchdog(interval, process_stop.clone());
        }
        debug_hooks::maybe_stall_runtime(&self.invocation);
        let socket_activated = activated.is_some();
        let mut listeners = match activated {
            Some(sockets) => {
                let listeners = sockets
                    .into_iter()
                    .map(|s| TcpListener::from_std(s).map(Arc::new))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| CliError::failure(format!("socket activation: {e}")))?;
                tracing::info!(
                    "using {} listening socket(s) passed by the service manager",
                    listeners.len()
                );
                listeners
            }
            None => {
                if self.force {
                    let port = settings.ports.port;
                    let stopped = tokio::task::spawn_blocking(move || {
                        port_owner::take_over(port, Duration::from_secs(10))
                    })
                    .await
                    .map_err(|e| CliError::failure(e.to_string()))?
                    .map_err(|e| CliError::failure(e.to_string()))?;
                    if !stopped.is_empty() {
                        tracing::info!("--force: port {port} freed");
                    }
                }
                bind(&settings)?
            }
        };
        let canvas_listeners = bind_canvas(&settings);
        let (events_tx, mut events_rx) = mpsc::channel(8);
        spawn_signal_listener(events_tx.clone(), process_stop.clone());

        loop {
            let state = self.start_state(settings.clone(), &listeners, &events_tx)?;
            server::serve(&canvas_listeners, &state, server::ListenerRole::Canvas);
            let next = loop {
                match events_rx.recv().await {
                    None => break Next::Stop("event channel closed"),
                    Some(LifecycleEvent::Stop(signal)) => break Next::Stop(signal),
                    Some(LifecycleEvent::RestartSignal) if !state.settings.restart_command => {
                        tracing::warn!(
                            "SIGUSR1 restart ignored (not authorized; enable commands.restart or use gateway tool)."
                        );
                    }
                    Some(LifecycleEvent::RestartSignal) => break Next::Restart("SIGUSR1".into()),
                    Some(LifecycleEvent::ConfigRestart(reason)) => break Next::Restart(reason),
                }
            };
            match next {
                Next::Stop(signal) => {
                    // port and pid let `gateway status --deep` tell this gateway's shutdown
                    // from another one logging to the same file.
                    tracing::info!(
                        port = state.settings.ports.port,
                        pid = std::process::id(),
                        "received {signal}; shutting down"
                    );
                    self.notifier.stopping("stopping");
                    shutdown(&state, "gateway stopping", None).await;
                    break;
                }
                Next::Restart(reason) => {
                    tracing::info!("restarting in-process ({reason})");
                    self.notifier.reloading(&format!("restarting ({reason})"));
                    shutdown(&state, "gateway restarting", Some(RESTART_EXPECTED_MS)).await;
                    drop(state);
                    match self.reload_settings() {
                        Ok(mut new) => {
                            let moved =
                                new.ports.port != settings.ports.port || new.bind != settings.bind;
                            if moved && socket_activated {
                                tracing::warn!(
                                    "port/bind changes are ignored under socket activation; edit the .socket unit instead"
                                );
                                new.ports = settings.ports.clone();
                                new.bind = settings.bind.clone();
                            } else if moved {
                                drop(listeners);
                                listeners = match bind(&new) {
                                    Ok(l) => l,
                                    Err(e) => {
                                        tracing::error!("{}; keeping the previous port", e.message);
                                        new.ports = settings.ports.clone();
                                        new.bind = settings.bind.clone();
                                        bind(&settings)?
                                    }
                                };
                            }
                            settings = new;
                        }
                        Err(e) => tracing::warn!("restart keeps the previous config: {e}"),
                    }
                }
            }
        }
        process_stop.cancel();
        Ok(ExitStatus::Ok)
    }

    fn reload_settings(&self) -> Result<GatewaySettings, String> {
        let config = self.invocation.load_config().map_err(|e| e.to_string())?;
        settings::resolve(&self.invocation, &self.options, &config).map_err(|e| e.message)
    }

    fn start_state(
        &self,
        settings: GatewaySettings,
        listeners: &[Arc<TcpListener>],
        events: &mpsc::Sender<LifecycleEvent>,
    ) -> Result<Arc<GatewayState>, CliError> {
        match restrict_dir_to_owner(&settings.state_dir) {
            Ok(Some(mode)) => tracing::warn!(
                "state directory {} was mode {mode:04o} (readable by other users); tightened it to 0700",
                settings.state_dir.display()
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(
                "cannot restrict the state directory {} to its owner: {e}; run chmod 700 on it",
                settings.state_dir.display()
            ),
        }
        let pairing =
            PairingStore::open(&settings.state_dir).map_err(|e| CliError::config(e.to_string()))?;
        let identity = GatewayIdentity::load_or_create(&settings.state_dir, now_ms())
            .map_err(|e| identity_failure(&e, &settings.state_dir, self.notifier))?;
        if settings.auth.generated {
            tracing::info!(
                "generated a gateway token in {} (clients on this host read it from there)",
                settings.auth.source
            );
        }
        tracing::info!(
            "auth: {} (secret from {})",
            settings.auth.mode.as_str(),
            settings.auth.source
        );
        let presence = self_presence(&settings.version);
        let agents = open_runtime(
            &settings.config,
            &settings.config_path,
            &settings.state_dir,
            &self.invocation.env,
        );
        let state = Arc::new(GatewayState::new(
            settings,
            pairing,
            identity,
            self.log_file.clone(),
            presence,
            agents,
            &self.invocation.env,
        ));
        server::serve(listeners, &state, server::ListenerRole::Gateway);
        spawn_ticker(&state, self.notifier);
        spawn_health_refresh(&state);
        spawn_idempotency_sweep(&state);
        config_watch::spawn(
            state.clone(),
            self.invocation.env.clone(),
            self.notifier,
            events.clone(),
        );
        state.set_phase(Phase::Ready);
        // The session store opens off the start-up path (closing the runs a previous process
        // left open); a request that needs it meanwhile waits for it.
        let opening = state.clone();
        tokio::task::spawn_blocking(move || {
            let _ = opening.agents.store();
            opening.refresh_health();
        });
        let port = state.settings.ports.port;
        let url = format!("ws://{}:{port}", fmt_host(state.settings.bind.probe_host()));
        let bound: Vec<String> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| a.to_string())
            .collect();
        tracing::info!(
            port,
            pid = std::process::id(),
            "listening on {url} ({}); ready",
            bound.join(", ")
        );
        if let Some(file) = &self.log_file {
            tracing::info!("log file: {}", file.display());
        }
        self.notifier.ready(&format!("serving on {url}"));
        Ok(state)
    }
}

fn bind(settings: &GatewaySettings) -> Result<Vec<Arc<TcpListener>>, CliError> {
    let port = settings.ports.port;
    server::bind(&settings.bind, port)
        .map(|ls| ls.into_iter().map(Arc::new).collect())
        .map_err(|e| {
            let mut error = CliError::failure(e.to_string());
            if let server::BindError::InUse { .. } = e {
                match port_owner::find_listeners(port) {
                    Ok(owners) if !owners.is_empty() => {
                        let who = owners
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ");
                        error = error.with_hint(format!("port {port} is held by {who}"));
                    }
                    Ok(_) => {}
                    Err(scan) => error = error.with_hint(scan.to_string()),
                }
            }
            error
        })
}

/// Binds the canvas port (kept for the process). A failure only disables the dedicated port:
/// canvas files stay reachable on the gateway port.
fn bind_canvas(settings: &GatewaySettings) -> Vec<Arc<TcpListener>> {
    let Some(canvas) = &settings.canvas else {
        return vec![];
    };
    let Some(port) = canvas.port else {
        tracing::warn!(
            "canvas host: no port (gateway port + 4 exceeds 65535); canvas files are served on the gateway port only"
        );
        return vec![];
    };
    match server::bind(&settings.bind, port) {
        Ok(listeners) => {
            let host = fmt_host(settings.bind.probe_host());
            tracing::info!(
                "canvas host: http://{host}:{port}/__openclaw__/canvas/ from {}",
                canvas.root.display()
            );
            listeners.into_iter().map(Arc::new).collect()
        }
        Err(e) => {
            tracing::warn!("canvas host: {e}; canvas files are served on the gateway port only");
            vec![]
        }
    }
}

fn spawn_signal_listener(events: mpsc::Sender<LifecycleEvent>, stop: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int), Ok(mut usr1)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
                signal(SignalKind::user_defined1()),
            ) else {
                tracing::error!("cannot install signal handlers");
                return;
            };
            loop {
                let event = tokio::select! {
                    () = stop.cancelled() => return,
                    _ = term.recv() => LifecycleEvent::Stop("SIGTERM"),
                    _ = int.recv() => LifecycleEvent::Stop("SIGINT"),
                    _ = usr1.recv() => LifecycleEvent::RestartSignal,
                };
                if events.send(event).await.is_err() {
                    return;
                }
            }
        }
        #[cfg(not(unix))]
        {
            tokio::select! {
                () = stop.cancelled() => {}
                _ = tokio::signal::ctrl_c() => { let _ = events.send(LifecycleEvent::Stop("Ctrl-C")).await; }
            }
        }
    });
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn primary_ipv4() -> Option<IpAddr> {
    let addrs = if_addrs::get_if_addrs().ok()?;
    let candidates: Vec<_> = addrs
        .iter()
        .filter(|i| !i.is_loopback() && i.ip().is_ipv4())
        .collect();
    candidates
        .iter()
        .find(|i| i.name == "eth0" || i.name == "en0")
        .or_else(|| candidates.first())
        .map(|i| i.ip())
}

fn self_presence(version: &str) -> PresenceEntry {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|r| r.trim().to_owned())
        .unwrap_or_default();
    let (platform, family) = match std::env::consts::OS {
        "macos" => ("macos", "Mac"),
        "windows" => ("windows", "Windows"),
        _ => ("linux", "Linux"),
    };
    PresenceEntry {
        host: Some(hostname()),
        ip: primary_ipv4().map(|ip| ip.to_string()),
        version: Some(version.to_owned()),
        platform: Some(if release.is_empty() {
            platform.to_owned()
        } else {
            format!("{platform} {release}")
        }),
        device_family: Some(family.to_owned()),
        mode: Some("gateway".to_owned()),
        reason: Some("self".to_owned()),
        instance_id: Some(uuid::Uuid::new_v4().to_string()),
        ts: now_ms(),
        ..Default::default()
    }
}

fn fmt_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// Tells every client, closes every connection with 1012 and waits (at most
/// [`SHUTDOWN_BUDGET`]) for the state's tasks to finish.
pub async fn shutdown(state: &Arc<GatewayState>, reason: &str, restart_expected_ms: Option<u64>) {
    let started = std::time::Instant::now();
    state.set_phase(Phase::Draining);
    state.registry.broadcast(
        "shutdown",
        &json!({"reason": reason, "restartExpectedMs": restart_expected_ms}),
        None,
        false,
        |_| true,
    );
    state
        .registry
        .close_all(close_code::SERVICE_RESTART, "service restart");
    state.shutdown.cancel();
    state.tasks.close();
    if tokio::time::timeout(SHUTDOWN_BUDGET, state.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            port = state.settings.ports.port,
            "shutdown timed out; exiting without full cleanup"
        );
    } else {
        tracing::info!(
            port = state.settings.ports.port,
            "completed cleanly in {}ms",
            started.elapsed().as_millis()
        );
    }
}

/// How a gateway identity failure ends the process. A bad identity file is refused like bad
/// config (78: restarting cannot help); a state dir that cannot be written (disk full,
/// read-only, permissions) exits 1, so the supervisor retries once it is fixed. Either way the
/// reason also goes to the supervisor as `STATUS=`, where `gateway install` / `status` show it.
fn identity_failure(error: &IdentityError, state_dir: &Path, notifier: Notifier) -> CliError {
    let message = error.to_string();
    notifier.status(&message);
    match error {
        IdentityError::Create { .. } => CliError::failure(message).with_hint(format!(
            "Free space in, or make writable, the state directory {}; the gateway writes its identity there on first start.",
            state_dir.display()
        )),
        _ => CliError::config(message),
    }
}

fn spawn_ticker(state: &Arc<GatewayState>, notifier: Notifier) {
    let state = state.clone();
    let interval = state.settings.tick_interval;
    state.tasks.clone().spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_count = usize::MAX;
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                _ = ticker.tick() => {
                    state.registry.broadcast("tick", &json!({"ts": now_ms()}), None, true, |_| true);
                    let count = state.registry.len();
                    if count != last_count {
                        last_count = count;
                        notifier.status(&format!("serving {count} client(s) on port {}", state.settings.ports.port));
                    }
                }
            }
        }
    });
}

fn spawn_health_refresh(state: &Arc<GatewayState>) {
    let state = state.clone();
    state.tasks.clone().spawn(async move {
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + HEALTH_REFRESH, HEALTH_REFRESH);
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                _ = ticker.tick() => state.refresh_health(),
            }
        }
    });
}

fn spawn_idempotency_sweep(state: &Arc<GatewayState>) {
    state.tasks.spawn(idempotency::run_sweeper(
        state.idempotency.clone(),
        idempotency::SWEEP_INTERVAL,
        state.shutdown.clone(),
        now_ms,
    ));
}

/// Hooks that exist only in debug (test) builds.
mod debug_hooks {
    use crate::invocation::Invocation;

    /// `OPENCLAW_DEBUG_STALL_RUNTIME_AFTER_MS=<ms>` (debug builds only): after `<ms>`, block every
    /// runtime worker, simulating a wedged gateway so tests can check that the watchdog stops.
    pub fn maybe_stall_runtime(invocation: &Invocation) {
        #[cfg(debug_assertions)]
        if let Some(ms) = invocation
            .env
            .get_nonempty("OPENCLAW_DEBUG_STALL_RUNTIME_AFTER_MS")
            .and_then(|v| v.parse::<u64>().ok())
        {
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                tracing::warn!("debug hook: stalling the runtime");
                let workers = tokio::runtime::Handle::current().metrics().num_workers();
                for _ in 0..workers {
                    tokio::spawn(async {
                        std::thread::sleep(std::time::Duration::from_secs(3600))
                    });
                }
                std::thread::sleep(std::time::Duration::from_secs(3600));
            });
        }
        #[cfg(not(debug_assertions))]
        let _ = invocation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;

    #[test]
    fn worker_threads_default_to_half_the_cpus_and_can_be_set() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(
            worker_threads(&Environment::empty()).unwrap(),
            (cpus / 2).max(1)
        );
        let env = Environment::empty().with("OPENCLAW_WORKER_THREADS", "3");
        assert_eq!(worker_threads(&env).unwrap(), 3);
        for bad in ["0", "x", "5000"] {
            let env = Environment::empty().with("OPENCLAW_WORKER_THREADS", bad);
            let err = worker_threads(&env).unwrap_err();
            assert!(err.message.contains("OPENCLAW_WORKER_THREADS"), "{bad}");
        }
    }
}
