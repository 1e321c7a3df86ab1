//! Carrying out a plan's steps on one manager: D-Bus calls, jobs waited for within the unit's
//! own timeouts, readiness (`READY=1` and `/readyz`), and a log of what was done.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::dbus::{DbusError, JobMethod, JobOutcome, ManagerConnection, UnitProperties};
use super::state::{EXIT_CONFIG, explain_end, start_limit_hit};
use crate::service::ServiceError;
use crate::service::plan::{Plan, Step};
use crate::service::spec::ServiceSpec;

use super::*;

pub(super) fn now_usec() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

pub(super) fn usec(d: u64) -> Option<Duration> {
    (d > 0 && d != u64::MAX).then(|| Duration::from_micros(d))
}

/// How long to wait for a job on a unit with these properties.
pub(super) fn job_timeout(props: Option<&UnitProperties>, method: JobMethod) -> Duration {
    let default = Duration::from_secs(90);
    let (start, stop) = match props {
        Some(p) => (
            usec(p.timeout_start_usec).unwrap_or(default),
            usec(p.timeout_stop_usec).unwrap_or(default),
        ),
        None => (default, default),
    };
    let base = match method {
        JobMethod::Start => start,
        JobMethod::Stop => stop,
        JobMethod::Restart => start + stop,
    };
    (base + JOB_MARGIN).min(JOB_CAP)
}

/// Carries out plan steps on one manager, remembering what it did.
pub(super) struct Executor<'a> {
    pub(super) mgr: &'a ManagerConnection,
    pub(super) spec: &'a ServiceSpec,
    pub(super) units: Units,
    /// Where `/readyz` is probed.
    pub(super) probe: SocketAddr,
    /// File names (`x.service`, `x.socket`) whose content this run changed.
    pub(super) changed: HashSet<String>,
    pub(super) log: Vec<String>,
    /// Install: how long the service may take to become ready once started (its start jobs
    /// are not waited for longer than this plus the stop time).
    pub(super) ready_budget: Option<Duration>,
}

pub(super) fn systemd_error(what: &str, e: &DbusError) -> ServiceError {
    ServiceError::new("systemd-failed", format!("{what} failed: {e}"))
}

impl Executor<'_> {
    pub(super) fn props(&self, unit: &str) -> Result<UnitProperties, ServiceError> {
        self.mgr
            .unit_properties(unit)
            .map_err(|e| systemd_error(&format!("reading {unit}"), &e))
    }

    /// Runs the plan's steps; `file_ops` runs right before the first `Reload` (or first, when
    /// `files_first`, or last otherwise, when the plan has no `Reload`).
    pub(super) fn run_plan(
        &mut self,
        plan: &Plan,
        files_first: bool,
        file_ops: &mut dyn FnMut() -> Result<(), ServiceError>,
    ) -> Result<(), ServiceError> {
        let reload_at = plan
            .steps
            .iter()
            .position(|s| matches!(s, Step::Dbus { method, .. } if method == "Reload"));
        let at = reload_at.unwrap_or(if files_first { 0 } else { plan.steps.len() });
        for (i, step) in plan.steps.iter().enumerate() {
            if i == at {
                file_ops()?;
            }
            self.step(step)?;
            crate::service::abort_hook::action_done(|| step.describe());
        }
        if at >= plan.steps.len() {
            file_ops()?;
        }
        Ok(())
    }

    pub(super) fn step(&mut self, step: &Step) -> Result<(), ServiceError> {
        match step {
            Step::Dbus { method, args, .. } => match method.as_str() {
                "Reload" => self.reload(),
                "EnableUnitFiles" => self.enable(args),
                "DisableUnitFiles" => self.disable(args),
                "ResetFailedUnit" => {
                    for unit in args {
                        // Not failed / not loaded is fine.
                        let _ = self.mgr.reset_failed(unit);
                    }
                    Ok(())
                }
                "StartUnit" => self.each(args, JobMethod::Start),
                "StopUnit" => self.each(args, JobMethod::Stop),
                "RestartUnit" => self.each(args, JobMethod::Restart),
                other => Err(ServiceError::new(
                    "unsupported-step",
                    format!("the systemd backend does not know the D-Bus step {other}"),
                )),
            },
            Step::WaitReady {
                target,
                timeout_secs,
            } => {
                let unit = if target.ends_with(".service") {
                    target.clone()
                } else {
                    self.units.service.clone()
                };
                let pid = self.wait_ready(&unit, Duration::from_secs(*timeout_secs))?;
                self.log.push(format!(
                    "{unit} is active and ready (pid {pid}, /readyz on {})",
                    self.probe
                ));
                Ok(())
            }
            Step::Command { program, .. } => Err(ServiceError::new(
                "unsupported-step",
                format!("the systemd backend does not run external commands ({program})"),
            )),
        }
    }

    pub(super) fn reload(&mut self) -> Result<(), ServiceError> {
        self.mgr
            .reload()
            .map_err(|e| systemd_error("systemd daemon-reload", &e))
    }

    pub(super) fn enable(&mut self, files: &[String]) -> Result<(), ServiceError> {
        let result = match self.mgr.enable_unit_files(files) {
            Err(e) if e.is_not_found() => {
                // The manager may not have seen the new files yet: reload once and retry.
                self.reload()?;
                self.mgr.enable_unit_files(files)
            }
            other => other,
        };
        result.map_err(|e| {
            systemd_error(
                &format!("{} enable {}", self.units.systemctl(), files.join(" ")),
                &e,
            )
        })?;
        Ok(())
    }

    pub(super) fn disable(&mut self, files: &[String]) -> Result<(), ServiceError> {
        match self.mgr.disable_unit_files(files) {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => {
                // One of them is gone already: disable the others one by one.
                for file in files {
                    match self.mgr.disable_unit_files(std::slice::from_ref(file)) {
                        Ok(_) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => {
                            return Err(systemd_error(
                                &format!("{} disable {file}", self.units.systemctl()),
                                &e,
                            ));
                        }
                    }
                }
                Ok(())
            }
            Err(e) => Err(systemd_error(
                &format!("{} disable {}", self.units.systemctl(), files.join(" ")),
                &e,
            )),
        }
    }

    pub(super) fn each(&mut self, units: &[String], method: JobMethod) -> Result<(), ServiceError> {
        for unit in units {
            self.job(unit, method)?;
        }
        Ok(())
    }

    /// Runs one job and checks its result.
    pub(super) fn job(&mut self, unit: &str, method: JobMethod) -> Result<(), ServiceError> {
        let mut method = method;
        if method == JobMethod::Restart && unit.ends_with(".socket") {
            if self.changed.contains(unit) {
                // systemd refuses to restart a socket while its service runs.
                let service = self.units.service.clone();
                if self.props(&service)?.active_state != "inactive" {
                    self.job(&service, JobMethod::Stop)?;
                }
            } else {
                // Unchanged: keep it listening (a restart would refuse connections).
                method = JobMethod::Start;
            }
        }
        let before = self.props(unit).ok();
        if method == JobMethod::Stop && before.as_ref().is_some_and(|p| !p.is_loaded()) {
            return Ok(());
        }
        let mut within = job_timeout(before.as_ref(), method);
        if let (Some(budget), true) = (self.ready_budget, unit.ends_with(".service")) {
            let stop = before
                .as_ref()
                .and_then(|p| usec(p.timeout_stop_usec))
                .unwrap_or(Duration::from_secs(20));
            within = match method {
                JobMethod::Start => budget,
                JobMethod::Restart => stop + budget,
                JobMethod::Stop => within,
            };
        }
        let outcome = match self.mgr.run_job(method, unit, within) {
            Ok(o) => o,
            Err(e) if method == JobMethod::Stop && e.is_not_found() => return Ok(()),
            Err(e) if e.name.is_none() && e.message.contains("still running") => {
                let props = self.props(unit).unwrap_or_default();
                let message = match self.ready_budget {
                    Some(budget) if method != JobMethod::Stop => format!(
                        "{unit} did not report READY=1 within {}s of starting [{}/{}]",
                        budget.as_secs(),
                        props.active_state,
                        props.sub_state
                    ),
                    _ => format!("{} {unit}: {}", method.verb(), e.message),
                };
                let mut error = ServiceError::new("still-starting", message);
                if !props.status_text.is_empty() {
                    error = error.hint(format!("Last status: {}", props.status_text));
                }
                return Err(error.hint(self.units.journal_hint(unit)));
            }
            Err(e) => {
                return Err(systemd_error(
                    &format!("{} {} {unit}", self.units.systemctl(), method.verb()),
                    &e,
                ));
            }
        };
        if !outcome.is_done() {
            return Err(self.failure(unit, method, Some(&outcome)));
        }
        Ok(())
    }

    /// Explains why `unit` did not do what `method` asked.
    pub(super) fn failure(
        &self,
        unit: &str,
        method: JobMethod,
        job: Option<&JobOutcome>,
    ) -> ServiceError {
        let props = self.props(unit).unwrap_or_default();
        let mut message = format!("{unit} failed to {}", method.verb());
        if let Some(job) = job {
            message.push_str(&format!(" (job result: {})", job.result));
        }
        let kind;
        if unit.ends_with(".socket") {
            kind = "socket-failed";
            message.push_str(&format!(
                ": the socket could not listen (Result={}); is port {} already in use?",
                props.result,
                self.probe.port()
            ));
        } else {
            kind = if props.exec_main_code == 1 && props.exec_main_status == EXIT_CONFIG {
                "config-error"
            } else if start_limit_hit(&props) {
                "start-limit-hit"
            } else {
                "start-failed"
            };
            message.push_str(&format!(
                ": {} [{}/{}, Result={}, ExecMainStatus={}]",
                explain_end(&props),
                props.active_state,
                props.sub_state,
                props.result,
                props.exec_main_status
            ));
        }
        let mut error = ServiceError::new(kind, message);
        if !props.status_text.is_empty() {
            error = error.hint(format!("Last status: {}", props.status_text));
        }
        let tail = journal::tail(unit, self.units.user);
        if !tail.is_empty() {
            error = error.hint(format!("Last log lines:\n  {}", tail.join("\n  ")));
        }
        if kind == "config-error" {
            error = error.hint(format!(
                "Check the config at {} (run `{}` in a terminal to see the exact error), then `{}`.",
                self.spec.config_path.display(),
                cli_command(self.spec, "gateway run"),
                cli_command(self.spec, "gateway start")
            ));
        }
        error.hint(self.units.journal_hint(unit))
    }

    /// Waits until `unit` is active and `/readyz` answers 200; returns its main PID.
    pub(super) fn wait_ready(&self, unit: &str, within: Duration) -> Result<u32, ServiceError> {
        let deadline = Instant::now() + within;
        let addr = self.probe;
        let mut last_probe = String::from("not probed");
        loop {
            let props = self.props(unit)?;
            match props.active_state.as_str() {
                "failed" => return Err(self.failure(unit, JobMethod::Start, None)),
                // Crashed and waiting to be restarted: it will not become ready by waiting.
                _ if props.sub_state == "auto-restart" => {
                    return Err(self.failure(unit, JobMethod::Start, None));
                }
                "inactive" if !props.result.is_empty() && props.result != "success" => {
                    return Err(self.failure(unit, JobMethod::Start, None));
                }
                "active" | "reloading" => match probe_readyz(addr, Duration::from_secs(2)) {
                    Ok(200) => return Ok(props.main_pid),
                    Ok(code) => last_probe = format!("/readyz answered {code}"),
                    Err(e) => last_probe = format!("/readyz: {e}"),
                },
                _ => {}
            }
            if Instant::now() >= deadline {
                let mut e = ServiceError::new(
                    "still-starting",
                    format!(
                        "{unit} is not ready after {}s: state {}/{}, {last_probe} on {addr}",
                        within.as_secs(),
                        props.active_state,
                        props.sub_state
                    ),
                );
                if !props.status_text.is_empty() {
                    e = e.hint(format!("Last status: {}", props.status_text));
                }
                return Err(e.hint(self.units.journal_hint(unit)));
            }
            std::thread::sleep(POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_timeouts_follow_the_unit_and_are_bounded() {
        let props = UnitProperties {
            timeout_start_usec: 30_000_000,
            timeout_stop_usec: 330_000_000,
            ..UnitProperties::default()
        };
        assert_eq!(
            job_timeout(Some(&props), JobMethod::Start),
            Duration::from_secs(45)
        );
        assert_eq!(
            job_timeout(Some(&props), JobMethod::Restart),
            Duration::from_secs(375)
        );
        let infinite = UnitProperties {
            timeout_stop_usec: u64::MAX,
            ..UnitProperties::default()
        };
        assert_eq!(
            job_timeout(Some(&infinite), JobMethod::Stop),
            Duration::from_secs(105)
        );
        let huge = UnitProperties {
            timeout_stop_usec: 86_400_000_000,
            ..UnitProperties::default()
        };
        assert_eq!(job_timeout(Some(&huge), JobMethod::Stop), JOB_CAP);
    }
}
