//! Which service manager doctor audits and repairs, and how it reaches its tools.
//!
//! In production this is the host's ([`PlatformKind::host`]) with the real `launchctl` /
//! `schtasks` ([`SystemRunner`]). Tests build a [`Supervisor`] for macOS or Windows on Linux
//! with a test home and the stateful fakes of `src/service/launchd/fake.rs` and
//! `src/service/windows/fake.rs` (see [`Supervisor::with_tools`]) and pass it to
//! [`super::run_with`]: there is deliberately no environment knob that switches a release
//! binary to another platform's supervisor.

use crate::environment::Environment;
use crate::service::PlatformKind;
use crate::service::launchd::{LaunchdIdentity, LaunchdManager};
use crate::service::runner::{CommandRunner, SystemRunner};
use crate::service::wait::{Sleeper, ThreadSleeper};
use crate::service::windows::{WindowsAccount, WindowsManager};

/// A fresh pair of tool runner and sleeper (the fakes hand out clones of one shared model).
pub type ToolFactory = Box<dyn Fn() -> (Box<dyn CommandRunner>, Box<dyn Sleeper>)>;

/// The service manager doctor works with.
pub struct Supervisor {
    /// Which one.
    pub platform: PlatformKind,
    /// Who runs `launchctl` (its uid names the `gui/<uid>` domain).
    pub launchd_identity: LaunchdIdentity,
    /// The account the scheduled task is for.
    pub windows_account: WindowsAccount,
    tools: ToolFactory,
}

impl Supervisor {
    /// The host's supervisor with the real tools.
    pub fn host(env: &Environment) -> Self {
        Self {
            platform: PlatformKind::host(),
            launchd_identity: LaunchdIdentity::current(env),
            windows_account: WindowsAccount::current(env),
            tools: Box::new(|| (Box::new(SystemRunner), Box::new(ThreadSleeper))),
        }
    }

    /// `platform` driven through `tools` (tests: the launchctl / schtasks fakes).
    pub fn with_tools(
        platform: PlatformKind,
        launchd_identity: LaunchdIdentity,
        windows_account: WindowsAccount,
        tools: ToolFactory,
    ) -> Self {
        Self {
            platform,
            launchd_identity,
            windows_account,
            tools,
        }
    }

    /// A runner for one-off commands (`launchctl bootout`, `schtasks /Query`).
    pub fn runner(&self) -> Box<dyn CommandRunner> {
        (self.tools)().0
    }

    /// The launchd backend.
    pub fn launchd(&self) -> LaunchdManager {
        let (runner, sleeper) = (self.tools)();
        LaunchdManager::new(runner, sleeper, self.launchd_identity.clone())
    }

    /// The Task Scheduler backend.
    pub fn windows(&self) -> WindowsManager {
        let (runner, sleeper) = (self.tools)();
        WindowsManager::new(runner, sleeper, self.windows_account.clone())
    }
}
