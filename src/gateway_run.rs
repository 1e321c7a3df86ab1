//! `openclaw gateway run`: the foreground gateway process.
//!
//! Order: read the config (a broken one exits 78 with file:line:col), resolve settings (startup
//! guards exit 78), set up logging, bind every listener, open the pairing store and the gateway
//! identity, then serve until SIGTERM/SIGINT: broadcast `shutdown`, close every client with 1012,
//! and exit 0 within 5 s.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::cli::RunArgs;
use crate::exit_status::{CliError, ExitStatus};
use crate::gateway::device_identity::GatewayIdentity;
use crate::gateway::idempotency;
use crate::gateway::pairing_store::PairingStore;
use crate::gateway::presence::PresenceEntry;
use crate::gateway::server;
use crate::gateway::settings::{self, GatewaySettings};
use crate::gateway::state::{GatewayState, Phase, now_ms};
use crate::invocation::Invocation;
use crate::logging::{self, FileTarget, LogSettings};
use crate::protocol::constants::close_code;

/// How long a graceful stop may take before the process exits anyway.
pub const SHUTDOWN_BUDGET: Duration = Duration::from_secs(5);
/// Health refresh cadence.
pub const HEALTH_REFRESH: Duration = Duration::from_secs(60);

/// Runs the gateway until it is told to stop.
pub fn run(invocation: &Invocation, args: &RunArgs) -> Result<ExitStatus, CliError> {
    let config = invocation.load_config()?;
    let settings =
        settings::resolve(invocation, args, &config).map_err(|e| CliError::config(e.message))?;
    let cfg = &settings.config;
    let logging_cfg = cfg.logging.clone().unwrap_or_default();
    let file = match logging_cfg
        .file
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        Some(path) => FileTarget::Fixed(
            invocation
                .env
                .resolve_user_path(path, &invocation.paths.home),
        ),
        None => FileTarget::Rolling {
            dir: invocation.paths.logs_dir(),
        },
    };
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("openclaw-gateway")
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(settings, log_file))
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

async fn serve(
    settings: GatewaySettings,
    log_file: Option<std::path::PathBuf>,
) -> Result<ExitStatus, CliError> {
    let port = settings.ports.port;
    let listeners =
        server::bind(&settings.bind, port).map_err(|e| CliError::failure(e.to_string()))?;
    let bound: Vec<String> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.to_string())
        .collect();
    let pairing =
        PairingStore::open(&settings.state_dir).map_err(|e| CliError::config(e.to_string()))?;
    let identity = GatewayIdentity::load_or_create(&settings.state_dir, now_ms())
        .map_err(|e| CliError::config(e.to_string()))?;
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
    let state = Arc::new(GatewayState::new(
        settings,
        pairing,
        identity,
        log_file.clone(),
        presence,
    ));
    server::serve(listeners, &state);
    spawn_ticker(&state);
    spawn_health_refresh(&state);
    spawn_idempotency_sweep(&state);
    state.set_phase(Phase::Ready);
    let probe_host = state.settings.bind.probe_host();
    tracing::info!(
        port,
        pid = std::process::id(),
        "listening on ws://{}:{port} ({}); ready",
        fmt_host(probe_host),
        bound.join(", ")
    );
    if let Some(file) = &log_file {
        tracing::info!("log file: {}", file.display());
    }

    wait_for_stop_signal().await;
    tracing::info!("shutting down");
    shutdown(&state, "gateway stopping", None).await;
    Ok(ExitStatus::Ok)
}

fn fmt_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        tokio::select! {
            _ = async { match term.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => tracing::info!("received SIGTERM"),
            _ = async { match int.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => tracing::info!("received SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Tells every client, closes every connection with 1012 and waits (at most
/// [`SHUTDOWN_BUDGET`]) for all tasks to finish.
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
        tracing::warn!("shutdown timed out; exiting without full cleanup");
    } else {
        tracing::info!("completed cleanly in {}ms", started.elapsed().as_millis());
    }
}

fn spawn_ticker(state: &Arc<GatewayState>) {
    let state = state.clone();
    let interval = state.settings.tick_interval;
    state.tasks.clone().spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                _ = ticker.tick() => {
                    state.registry.broadcast("tick", &json!({"ts": now_ms()}), None, true, |_| true);
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
