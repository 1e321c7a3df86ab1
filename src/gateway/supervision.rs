//! Telling the service manager the truth, and taking sockets from it.
//!
//! - sd_notify: `READY=1` (with `STATUS=`) only once every listener is bound and the gateway
//!   serves; `RELOADING=1` + `MONOTONIC_USEC` around reloads and in-process restarts; `STOPPING=1`
//!   when a graceful stop starts; `STATUS=` updates while serving. Without `NOTIFY_SOCKET` these
//!   are no-ops.
//! - Watchdog: when the manager asks for one (`WATCHDOG_USEC`, `WATCHDOG_PID`), `WATCHDOG=1` is
//!   sent at half the interval from a task on the async runtime, so a stalled runtime stops the
//!   pings and the manager restarts the process.
//! - Socket activation: listening sockets passed in `LISTEN_FDS` (with `LISTEN_PID` = us) are used
//!   instead of binding; when `LISTEN_FDNAMES` is set only those named `gateway` are taken.

use std::io;
use std::net::TcpListener;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use crate::contract::SOCKET_NAME;
use crate::environment::Environment;

/// Sends state changes to the service manager (no-op when not supervised by one).
#[derive(Debug, Clone, Copy)]
pub struct Notifier {
    enabled: bool,
}

impl Notifier {
    /// A notifier that talks to `NOTIFY_SOCKET` when it is set.
    pub fn from_env(env: &Environment) -> Self {
        Self {
            enabled: env.get_nonempty("NOTIFY_SOCKET").is_some(),
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if self.enabled {
            if let Err(e) = sd_notify::notify(states) {
                tracing::warn!("sd_notify failed: {e}");
            }
        }
    }

    /// `READY=1` + `STATUS=<status>`.
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// `STATUS=<status>`.
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// `RELOADING=1` + `MONOTONIC_USEC=<now>` + `STATUS=<status>`.
    pub fn reloading(&self, status: &str) {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[NotifyState::Reloading, now, NotifyState::Status(status)]),
            Err(_) => self.send(&[NotifyState::Reloading, NotifyState::Status(status)]),
        }
    }

    /// `STOPPING=1` + `STATUS=<status>`.
    pub fn stopping(&self, status: &str) {
        self.send(&[NotifyState::Stopping, NotifyState::Status(status)]);
    }
}

/// The watchdog interval the manager asked for, if any (already checked against `WATCHDOG_PID`).
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}

/// Spawns the watchdog pinger on the current runtime: `WATCHDOG=1` every `interval / 2` until
/// `stop` is cancelled.
pub fn spawn_watchdog(interval: Duration, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    let period = (interval / 2).max(Duration::from_millis(10));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {
                    if let Err(e) = sd_notify::notify(&[NotifyState::Watchdog]) {
                        tracing::warn!("watchdog ping failed: {e}");
                    }
                }
            }
        }
    })
}

/// Indices of the passed fds to take: all of them, or those named [`SOCKET_NAME`] when the
/// manager names its fds.
pub fn gateway_fd_indices(count: usize, names: Option<&str>) -> Vec<usize> {
    match names {
        None => (0..count).collect(),
        Some(names) => names
            .split(':')
            .enumerate()
            .take(count)
            .filter(|(_, name)| *name == SOCKET_NAME)
            .map(|(i, _)| i)
            .collect(),
    }
}

/// Takes the listening sockets the service manager passed, if any. Must run before any other
/// thread starts: it clears `LISTEN_PID`/`LISTEN_FDS` from the process environment.
pub fn take_activated_listeners(env: &Environment) -> io::Result<Option<Vec<TcpListener>>> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Ok(None);
    }
    let indices = gateway_fd_indices(fds.len(), env.get("LISTEN_FDNAMES"));
    let mut listeners = Vec::new();
    for index in indices {
        if let Some(listener) = fds.take_tcp_listener(index)? {
            listener.set_nonblocking(true)?;
            listeners.push(listener);
        }
    }
    if listeners.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "the service manager passed {} socket(s) but none named \"{SOCKET_NAME}\" (set FileDescriptorName={SOCKET_NAME} in the .socket unit)",
                fds.len()
            ),
        ));
    }
    Ok(Some(listeners))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fds_named_gateway_are_taken_when_names_are_given() {
        assert_eq!(gateway_fd_indices(2, None), vec![0, 1]);
        assert_eq!(
            gateway_fd_indices(3, Some("other:gateway:gateway")),
            vec![1, 2]
        );
        assert_eq!(gateway_fd_indices(1, Some("http")), Vec::<usize>::new());
        assert_eq!(
            gateway_fd_indices(1, Some("gateway:gateway")),
            vec![0],
            "names beyond LISTEN_FDS are ignored"
        );
    }
}
