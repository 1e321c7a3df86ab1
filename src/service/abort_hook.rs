//! `OPENCLAW_DEBUG_ABORT_AFTER_PLAN_STEP=<k>` (debug builds only): the CLI kills itself with
//! `SIGKILL` right after the k-th action of the plan it carries out, so tests can check what a
//! `kill -9` in the middle of `gateway install` / `uninstall` leaves behind.
//!
//! Actions are counted in execution order: each planned file written or removed (every
//! backend) and each systemd step carried out (D-Bus call, readiness wait); the launchd and
//! Task Scheduler executors do not count their commands. Release builds ignore the variable.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::environment::Environment;

/// The debug environment variable.
pub const ENV_VAR: &str = "OPENCLAW_DEBUG_ABORT_AFTER_PLAN_STEP";

/// 0 = not armed; otherwise the action after which to die.
static ABORT_AFTER: AtomicUsize = AtomicUsize::new(0);
static DONE: AtomicUsize = AtomicUsize::new(0);

/// Arms the hook from the invocation's environment (debug builds only).
pub fn arm(env: &Environment) {
    #[cfg(debug_assertions)]
    if let Some(k) = env
        .get_nonempty(ENV_VAR)
        .and_then(|v| v.parse::<usize>().ok())
    {
        DONE.store(0, Ordering::SeqCst);
        ABORT_AFTER.store(k, Ordering::SeqCst);
    }
    #[cfg(not(debug_assertions))]
    let _ = env;
}

/// Records one finished plan action (`what` describes it for the log line, computed only when
/// armed); dies if it was the armed one.
pub fn action_done<D: std::fmt::Display>(what: impl FnOnce() -> D) {
    let armed = ABORT_AFTER.load(Ordering::SeqCst);
    if armed == 0 {
        return;
    }
    let done = DONE.fetch_add(1, Ordering::SeqCst) + 1;
    if done == armed {
        eprintln!("debug hook: SIGKILL after plan action {done} ({})", what());
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
