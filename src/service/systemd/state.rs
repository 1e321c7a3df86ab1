//! From unit properties to the supervisor view ([`SupervisorStatus`]), and failures explained.
//!
//! Pure functions over [`UnitProperties`], so every state is unit-tested without a manager:
//! not installed, installed but not loaded (reload pending or disabled), stopped, starting
//! (including `auto-restart` after a crash), running (PID, uptime, restarts), stopping, failed
//! (exit 78 = the gateway refused its configuration and is not restarted; watchdog; timeout;
//! signal) and the start-limit latch (spec §2.6: `failed` with `Result=start-limit-hit`, or
//! `ExecMainStatus` ≠ 78 with `NRestarts >= StartLimitBurst > 0`).

use std::path::Path;

use super::dbus::UnitProperties;
use crate::service::status::{LastExit, ServiceState, SupervisorStatus};

/// EX_CONFIG: the gateway refused its configuration.
pub const EXIT_CONFIG: i32 = 78;

/// The message of the start-limit latch (spec §2.6).
pub const START_LIMIT_MESSAGE: &str = "systemd stopped restarting the gateway after repeated crashes; run openclaw gateway restart or inspect logs.";

/// Everything [`supervisor_status`] looks at.
#[derive(Debug, Clone)]
pub struct StatusInputs<'a> {
    /// `systemd user` or `systemd system`.
    pub supervisor: &'a str,
    /// `<unit>.service`.
    pub service_name: &'a str,
    /// Where the service's unit file belongs.
    pub unit_path: &'a Path,
    /// Whether that file exists.
    pub unit_file_exists: bool,
    /// The service's properties.
    pub service: &'a UnitProperties,
    /// The socket's properties, when the service is socket-activated.
    pub socket: Option<&'a UnitProperties>,
    /// Now, µs since the epoch.
    pub now_usec: u64,
}

/// The supervisor view of the gateway service.
pub fn supervisor_status(i: &StatusInputs<'_>) -> SupervisorStatus {
    let svc = i.service;
    let mut st = SupervisorStatus::new(ServiceState::Unknown, i.supervisor, i.service_name);
    st.definition_path = if !svc.fragment_path.is_empty() {
        Some(svc.fragment_path.clone().into())
    } else if i.unit_file_exists {
        Some(i.unit_path.to_path_buf())
    } else {
        None
    };
    st.reload_pending = svc.need_daemon_reload || i.socket.is_some_and(|s| s.need_daemon_reload);
    if !svc.is_loaded() {
        st.detail = Some(format!("LoadState={}", svc.load_state));
        if matches!(svc.load_state.as_str(), "bad-setting" | "error") {
            st.state = ServiceState::Failed;
            st.reason = Some(format!(
                "systemd cannot load {} (LoadState={}): the unit file has errors; reinstall it with openclaw gateway install --force",
                i.service_name, svc.load_state
            ));
        } else if svc.load_state == "masked" {
            st.state = ServiceState::InstalledNotLoaded;
            st.reason = Some(format!("{} is masked", i.service_name));
        } else if i.unit_file_exists {
            st.state = ServiceState::InstalledNotLoaded;
            st.reload_pending = true;
            st.reason = Some(format!(
                "{} exists but systemd has not loaded it (daemon-reload pending)",
                i.unit_path.display()
            ));
        } else {
            st.state = ServiceState::NotInstalled;
        }
        return st;
    }
    st.enabled = Some(svc.is_enabled() || i.socket.is_some_and(UnitProperties::is_enabled));
    st.pid = (svc.main_pid > 0).then_some(svc.main_pid);
    st.restarts = Some(u64::from(svc.n_restarts));
    st.last_exit = last_exit(svc);
    st.status_text = Some(svc.status_text.clone()).filter(|t| !t.is_empty());
    let mut detail = format!("{}/{}", svc.active_state, svc.sub_state);
    if !svc.result.is_empty() && svc.result != "success" {
        detail.push_str(&format!(" (Result={})", svc.result));
    }
    st.detail = Some(detail);
    match svc.active_state.as_str() {
        "active" | "reloading" => {
            st.state = ServiceState::Running;
            if svc.active_enter_timestamp > 0 && i.now_usec >= svc.active_enter_timestamp {
                st.uptime_secs = Some((i.now_usec - svc.active_enter_timestamp) / 1_000_000);
            }
        }
        "activating" => {
            st.state = ServiceState::Starting;
            if svc.sub_state == "auto-restart" {
                st.reason = Some(format!(
                    "systemd is restarting the gateway: {}",
                    explain_end(svc)
                ));
            }
        }
        "deactivating" => st.state = ServiceState::Stopping,
        "failed" => {
            if start_limit_hit(svc) {
                st.state = ServiceState::StartLimitHit;
                st.reason = Some(START_LIMIT_MESSAGE.to_owned());
            } else {
                st.state = ServiceState::Failed;
                st.reason = Some(explain_end(svc));
            }
        }
        "inactive" => {
            let socket_listening = i
                .socket
                .is_some_and(|s| s.is_loaded() && s.active_state == "active");
            if socket_listening {
                st.state = ServiceState::Stopped;
                st.reason = Some(format!(
                    "not running; its socket {} is listening and starts it on the first connection",
                    i.socket.map(|s| s.id.as_str()).unwrap_or_default()
                ));
            } else if st.enabled == Some(false) {
                st.state = ServiceState::InstalledNotLoaded;
                st.reason = Some(format!("{} is disabled", i.service_name));
            } else {
                st.state = ServiceState::Stopped;
            }
        }
        _ => {}
    }
    st
}

/// The start-limit latch (spec §2.6).
pub fn start_limit_hit(svc: &UnitProperties) -> bool {
    svc.active_state == "failed"
        && (svc.result == "start-limit-hit"
            || (svc.exec_main_status != EXIT_CONFIG
                && svc.start_limit_burst > 0
                && svc.n_restarts >= svc.start_limit_burst))
}

fn last_exit(svc: &UnitProperties) -> Option<LastExit> {
    let reason = match svc.exec_main_code {
        1 => "exited",
        2 => "killed",
        3 => "dumped",
        _ => return None,
    };
    let reason = if svc.result == "watchdog" {
        "watchdog"
    } else {
        reason
    };
    Some(LastExit {
        status: Some(svc.exec_main_status),
        reason: Some(reason.to_owned()),
    })
}

/// A signal's name (`SIGKILL`) for the common ones.
pub fn signal_name(n: i32) -> String {
    let name = match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {n}"),
    };
    name.to_owned()
}

/// Why the last run ended, in words, with what to do when there is something to do.
pub fn explain_end(svc: &UnitProperties) -> String {
    let exited = svc.exec_main_code == 1;
    let status = svc.exec_main_status;
    if exited && status == EXIT_CONFIG {
        return "the gateway refused its configuration (exit 78, EX_CONFIG) and systemd does not restart it (RestartPreventExitStatus=78); fix the config, then run openclaw gateway start".into();
    }
    match svc.result.as_str() {
        "watchdog" => "the watchdog killed the gateway: it stopped sending WATCHDOG=1 within WatchdogSec (the process was wedged)".into(),
        "timeout" => "the gateway did not report READY=1 (or did not stop) within systemd's timeout".into(),
        "start-limit-hit" => START_LIMIT_MESSAGE.into(),
        "oom-kill" => "the kernel's OOM killer stopped the gateway".into(),
        "resources" => "systemd could not set up the service (missing executable, working directory or environment file?)".into(),
        "protocol" => "the gateway broke the notify protocol (exited before READY=1 or sent a bad MAINPID)".into(),
        "core-dump" | "signal" if svc.exec_main_code >= 2 => {
            format!("the gateway was killed by {}", signal_name(status))
        }
        "exit-code" => format!("the gateway exited with status {status}"),
        "success" | "" => match svc.exec_main_code {
            1 => format!("the gateway exited with status {status}"),
            2 | 3 => format!("the gateway was killed by {}", signal_name(status)),
            _ => "the gateway is not running".into(),
        },
        other => format!("the last run ended with Result={other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn props(active: &str, sub: &str) -> UnitProperties {
        UnitProperties {
            id: "openclaw-gateway.service".into(),
            load_state: "loaded".into(),
            active_state: active.into(),
            sub_state: sub.into(),
            result: "success".into(),
            unit_file_state: "enabled".into(),
            fragment_path: "/home/u/.config/systemd/user/openclaw-gateway.service".into(),
            start_limit_burst: 10,
            ..UnitProperties::default()
        }
    }

    fn status(
        svc: &UnitProperties,
        socket: Option<&UnitProperties>,
        exists: bool,
    ) -> SupervisorStatus {
        let path = PathBuf::from("/home/u/.config/systemd/user/openclaw-gateway.service");
        supervisor_status(&StatusInputs {
            supervisor: "systemd user",
            service_name: "openclaw-gateway.service",
            unit_path: &path,
            unit_file_exists: exists,
            service: svc,
            socket,
            now_usec: 100_000_000,
        })
    }

    #[test]
    fn a_running_service_reports_pid_uptime_restarts_and_status_text() {
        let mut svc = props("active", "running");
        svc.main_pid = 4242;
        svc.n_restarts = 2;
        svc.active_enter_timestamp = 40_000_000;
        svc.status_text = "serving on 127.0.0.1:18789".into();
        svc.exec_main_code = 2;
        svc.exec_main_status = 9;
        let st = status(&svc, None, true);
        assert_eq!(st.state, ServiceState::Running);
        assert_eq!(st.pid, Some(4242));
        assert_eq!(st.uptime_secs, Some(60));
        assert_eq!(st.restarts, Some(2));
        assert_eq!(st.enabled, Some(true));
        assert_eq!(
            st.status_text.as_deref(),
            Some("serving on 127.0.0.1:18789")
        );
        assert_eq!(st.detail.as_deref(), Some("active/running"));
        assert_eq!(
            st.last_exit,
            Some(LastExit {
                status: Some(9),
                reason: Some("killed".into())
            })
        );
        assert_eq!(st.reason, None);
    }

    #[test]
    fn not_installed_and_not_loaded_are_told_apart() {
        let mut svc = UnitProperties {
            load_state: "not-found".into(),
            active_state: "inactive".into(),
            ..UnitProperties::default()
        };
        assert_eq!(status(&svc, None, false).state, ServiceState::NotInstalled);
        let st = status(&svc, None, true);
        assert_eq!(st.state, ServiceState::InstalledNotLoaded);
        assert!(st.reload_pending);
        svc.load_state = "bad-setting".into();
        let st = status(&svc, None, true);
        assert_eq!(st.state, ServiceState::Failed);
        assert!(st.reason.unwrap().contains("bad-setting"));
    }

    #[test]
    fn exit_78_is_a_config_error_not_a_start_limit() {
        let mut svc = props("failed", "failed");
        svc.result = "exit-code".into();
        svc.exec_main_code = 1;
        svc.exec_main_status = 78;
        svc.n_restarts = 12;
        let st = status(&svc, None, true);
        assert_eq!(st.state, ServiceState::Failed);
        assert!(st.reason.as_deref().unwrap().contains("exit 78"), "{st:?}");
        assert_eq!(
            st.detail.as_deref(),
            Some("failed/failed (Result=exit-code)")
        );
        assert_eq!(
            st.last_exit,
            Some(LastExit {
                status: Some(78),
                reason: Some("exited".into())
            })
        );
    }

    #[test]
    fn the_start_limit_latch_is_recognised_both_ways() {
        let mut svc = props("failed", "failed");
        svc.result = "start-limit-hit".into();
        let st = status(&svc, None, true);
        assert_eq!(st.state, ServiceState::StartLimitHit);
        assert_eq!(st.reason.as_deref(), Some(START_LIMIT_MESSAGE));
        let mut svc = props("failed", "failed");
        svc.result = "exit-code".into();
        svc.exec_main_code = 1;
        svc.exec_main_status = 1;
        svc.n_restarts = 10;
        assert_eq!(status(&svc, None, true).state, ServiceState::StartLimitHit);
        svc.n_restarts = 9;
        assert_eq!(status(&svc, None, true).state, ServiceState::Failed);
    }

    #[test]
    fn watchdog_kills_and_auto_restarts_are_explained() {
        let mut svc = props("activating", "auto-restart");
        svc.result = "watchdog".into();
        svc.exec_main_code = 2;
        svc.exec_main_status = 6;
        let st = status(&svc, None, true);
        assert_eq!(st.state, ServiceState::Starting);
        assert!(st.reason.as_deref().unwrap().contains("watchdog"), "{st:?}");
        assert_eq!(st.last_exit.unwrap().reason.as_deref(), Some("watchdog"));
        let mut svc = props("failed", "failed");
        svc.result = "signal".into();
        svc.exec_main_code = 2;
        svc.exec_main_status = 9;
        assert_eq!(explain_end(&svc), "the gateway was killed by SIGKILL");
    }

    #[test]
    fn inactive_states_depend_on_the_socket_and_enablement() {
        let svc = props("inactive", "dead");
        let mut socket = props("active", "listening");
        socket.id = "openclaw-gateway.socket".into();
        let st = status(&svc, Some(&socket), true);
        assert_eq!(st.state, ServiceState::Stopped);
        assert!(
            st.reason
                .unwrap()
                .contains("openclaw-gateway.socket is listening")
        );
        let mut svc = props("inactive", "dead");
        svc.unit_file_state = "disabled".into();
        assert_eq!(
            status(&svc, None, true).state,
            ServiceState::InstalledNotLoaded
        );
        assert_eq!(
            status(&props("inactive", "dead"), None, true).state,
            ServiceState::Stopped
        );
        assert_eq!(
            status(&props("deactivating", "stop-sigterm"), None, true).state,
            ServiceState::Stopping
        );
    }
}
