//! Which service manager doctor audits and repairs, and how it reaches its tools.
//!
//! In production this is the host's ([`PlatformKind::host`]) with the real `launchctl` /
//! `schtasks` ([`SystemRunner`]). Tests build a [`Supervisor`] for macOS or Windows on Linux
//! with a test home and the stateful fakes of `src/service/launchd/fake.rs` and
//! `src/service/windows/fake.rs` (see [`Supervisor::with_tools`]) and pass it to
//! [`super::run_with`]: there is deliberately no environment knob that switches a release
//! binary to another platform's supervisor.
//!
//! It also holds the health probe of the runtime check ([`super::runtime`]): in production the
//! connectivity probe of `openclaw gateway status`
//! ([`crate::client::probe::probe_gateway`]); tests replace it ([`Supervisor::with_probe`]),
//! since nothing listens behind the fakes.
//!
//! And how linger is read and enabled ([`LingerHooks`]): in production from
//! `/var/lib/systemd/linger` (or `OPENCLAW_SYSTEMD_LINGER_DIR`) and through logind
//! ([`crate::service::systemd::linger::enable`]); tests replace both ([`Supervisor::with_linger`]).

use super::platform::PlatformDoctor;
use crate::config::LoadedConfig;
use crate::environment::Environment;
use crate::invocation::Invocation;
use crate::service::launchd::{LaunchdBackend, LaunchdIdentity};
use crate::service::runner::{CommandRunner, SystemRunner};
use crate::service::status::SupervisorStatus;
use crate::service::systemd::SystemdBackend;
use crate::service::systemd::linger::{self, Linger};
use crate::service::wait::{Sleeper, ThreadSleeper};
use crate::service::windows::{WindowsAccount, WindowsBackend};
use crate::service::{PlatformKind, ServiceManager};

/// A fresh pair of tool runner and sleeper (the fakes hand out clones of one shared model).
pub type ToolFactory = Box<dyn Fn() -> (Box<dyn CommandRunner>, Box<dyn Sleeper>)>;

/// Whether a profile's gateway answered the health probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// A gateway answered (see [`crate::client::probe::RpcView::gateway_answered`]).
    pub answered: bool,
    /// The URL probed.
    pub url: String,
    /// Why it did not answer (or how it answered).
    pub detail: String,
}

/// The health probe: the profile's invocation and config, and the supervisor's view of its
/// service (the probe goes to the port the installed definition runs with).
pub type HealthProbe = Box<dyn Fn(&Invocation, &LoadedConfig, Option<&SupervisorStatus>) -> Health>;

/// Reads the invoking user's linger: (user name, state).
pub type LingerReader = Box<dyn Fn() -> (String, Linger)>;
/// Enables linger for a user; the reason when it fails.
pub type LingerEnabler = Box<dyn Fn(&str) -> Result<(), String>>;

/// How doctor reads and enables linger (spec §2.8).
pub struct LingerHooks {
    /// The reader.
    pub read: LingerReader,
    /// The enabler.
    pub enable: LingerEnabler,
}

impl LingerHooks {
    /// The host's: the user of the effective uid (else `USER`), linger read from the linger dir
    /// of `env`, enabled through logind (D-Bus, else `loginctl`).
    pub fn host(env: &Environment) -> Self {
        let uid = nix::unistd::geteuid();
        let user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| env.get_nonempty("USER").map(str::to_owned))
            .unwrap_or_default();
        let dir = linger::linger_dir(env);
        let enable_env = env.clone();
        Self {
            read: Box::new(move || (user.clone(), linger::linger(&dir, &user))),
            enable: Box::new(move |user| {
                linger::enable(&enable_env, &mut SystemRunner, user, uid.as_raw())
            }),
        }
    }
}

/// The service manager doctor works with.
pub struct Supervisor {
    /// Which one.
    pub platform: PlatformKind,
    /// Who runs `launchctl` (its uid names the `gui/<uid>` domain).
    pub launchd_identity: LaunchdIdentity,
    /// The account the scheduled task is for.
    pub windows_account: WindowsAccount,
    tools: ToolFactory,
    probe: HealthProbe,
    linger: LingerHooks,
}

/// The probe `openclaw gateway status` runs.
fn status_probe() -> HealthProbe {
    Box::new(|invocation, config, runtime| {
        let view = crate::client::probe::probe_gateway(invocation, config, runtime);
        Health {
            answered: view.gateway_answered(),
            detail: view.error.clone().unwrap_or_else(|| view.outcome.clone()),
            url: view.url,
        }
    })
}

impl Supervisor {
    /// The host's supervisor with the real tools.
    pub fn host(env: &Environment) -> Self {
        Self {
            platform: PlatformKind::host(),
            launchd_identity: LaunchdIdentity::current(env),
            windows_account: WindowsAccount::current(env),
            tools: Box::new(|| (Box::new(SystemRunner), Box::new(ThreadSleeper))),
            probe: status_probe(),
            linger: LingerHooks::host(env),
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
            probe: status_probe(),
            linger: LingerHooks {
                read: Box::new(|| (String::new(), Linger::Unknown("not a systemd host".into()))),
                enable: Box::new(|_| Err("not a systemd host".into())),
            },
        }
    }

    /// The same supervisor with `linger` as the linger reader and enabler (tests: no logind).
    pub fn with_linger(mut self, linger: LingerHooks) -> Self {
        self.linger = linger;
        self
    }

    /// The invoking user's linger: (user name, state).
    pub fn read_linger(&self) -> (String, Linger) {
        (self.linger.read)()
    }

    /// Enables linger for `user` and reads it again (see [`super::linger::enable`]).
    pub fn enable_linger(&self, user: &str) -> Result<Vec<String>, String> {
        super::linger::enable(user, &*self.linger.enable, &|| self.read_linger().1)
    }

    /// The same supervisor with `probe` as the health probe (tests: a gateway behind the fakes).
    pub fn with_probe(mut self, probe: HealthProbe) -> Self {
        self.probe = probe;
        self
    }

    /// Probes the gateway of a profile.
    pub fn probe(
        &self,
        invocation: &Invocation,
        config: &LoadedConfig,
        runtime: Option<&SupervisorStatus>,
    ) -> Health {
        (self.probe)(invocation, config, runtime)
    }

    /// The backend `openclaw gateway start|restart|status|install` use on this supervisor (the
    /// systemd one acts with `env`, the invocation's environment).
    pub fn backend(&self, env: &Environment) -> Box<dyn ServiceManager> {
        match self.platform {
            PlatformKind::Linux => Box::new(SystemdBackend::new(env.clone())),
            PlatformKind::Macos => Box::new(self.launchd()),
            PlatformKind::Windows => Box::new(self.windows()),
        }
    }

    /// What doctor does on this supervisor.
    pub(crate) fn doctor(&self) -> &'static dyn PlatformDoctor {
        super::platform::for_platform(self.platform)
    }

    /// A runner for one-off commands (`launchctl bootout`, `schtasks /Query`).
    pub fn runner(&self) -> Box<dyn CommandRunner> {
        (self.tools)().0
    }

    /// The launchd backend.
    pub fn launchd(&self) -> LaunchdBackend {
        let (runner, sleeper) = (self.tools)();
        LaunchdBackend::new(runner, sleeper, self.launchd_identity.clone())
    }

    /// The Task Scheduler backend.
    pub fn windows(&self) -> WindowsBackend {
        let (runner, sleeper) = (self.tools)();
        WindowsBackend::new(runner, sleeper, self.windows_account.clone())
    }
}
