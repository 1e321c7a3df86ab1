//! A private, real `systemd --user` manager per test (see `SYSTEMD_HARNESS.md` next to this file).
//!
//! The manager runs as the unprivileged user `openclaw-test`, inside a private mount namespace
//! (a tmpfs on `/run/systemd` holding `/run/systemd/system`, so the manager believes the machine
//! was booted with systemd) and in a fresh delegated cgroup v2 directory. Each harness has its
//! own HOME and XDG_RUNTIME_DIR; the user bus is socket-activated by the manager
//! (`dbus-user-session`). Dropping the harness stops the manager, kills whatever is left in the
//! harness's cgroup, removes the cgroup and the directories.
//!
//! Cgroup layout (one per harness, under the cgroup2 mount):
//! `openclaw-harness-<test pid>-<n>/manager` (owned by the test user, the manager's root) and
//! `openclaw-harness-<test pid>-<n>/clients` (root-owned; every command started through
//! [`SystemdHarness::command`] is moved there, so teardown can kill stragglers too).

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Set to `1` (CI does) to turn "harness unavailable" skips into test failures.
pub const REQUIRE_ENV: &str = "OPENCLAW_REQUIRE_SYSTEMD_HARNESS";
/// The dedicated unprivileged user the managers run as.
pub const TEST_USER: &str = "openclaw-test";
/// How long to wait for `<rundir>/systemd/private` and `<rundir>/bus`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Default limit for one client command ([`SystemdHarness::run`]).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

const SEARCH_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const USER_LOCK: &str = "/run/lock/openclaw-test-user.lock";
const CGROUP_PREFIX: &str = "openclaw-harness-";

/// Runs as root in the new mount namespace, then execs the manager as the test user:
/// `$1` = the manager cgroup's `cgroup.procs`, the rest = the command.
const MANAGER_SCRIPT: &str = r#"set -e
mount -t tmpfs -o mode=0755 openclaw-harness /run/systemd
mkdir /run/systemd/system
mkdir -m 0700 /run/systemd/unit-root
uid=$(stat -c %u "$XDG_RUNTIME_DIR")
[ -d /run/user ] || mkdir -m 0755 /run/user
mount -t tmpfs -o mode=0755 openclaw-harness-user /run/user
mkdir -m 0700 "/run/user/$uid"
mount --bind "$XDG_RUNTIME_DIR" "/run/user/$uid"
# The manager runs with /run/user/<uid> as its runtime dir, exactly as logind sets it on a real
# login (systemd's sandboxing treats that path specially).
export XDG_RUNTIME_DIR="/run/user/$uid"
if [ -n "$OPENCLAW_HARNESS_NET" ]; then ip link set lo up; fi
printf '%s\n' "$OPENCLAW_HARNESS_OVERLAYS" | while read -r lower target; do
    [ -n "$lower" ] || continue
    mount -t overlay openclaw-harness-overlay -o "lowerdir=$lower:$target" "$target"
done
unset OPENCLAW_HARNESS_NET OPENCLAW_HARNESS_OVERLAYS
echo $$ > "$1"
shift
exec "$@""#;

/// Runs as root in the manager's mount namespace: `$1` = the clients cgroup's `cgroup.procs`.
const CLIENT_SCRIPT: &str = r#"echo $$ > "$1" || exit 125
shift
exec "$@""#;

/// Why a harness could not be provided.
#[derive(Debug, Clone)]
pub enum HarnessError {
    /// This machine cannot run it (not root, no systemd, no cgroup2, no namespaces, …):
    /// tests skip, unless `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1`.
    Unavailable(String),
    /// Everything needed is there but the manager did not come up: always a test failure.
    Failed(String),
}

impl std::fmt::Display for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HarnessError::Unavailable(r) => write!(f, "systemd harness unavailable: {r}"),
            HarnessError::Failed(r) => write!(f, "systemd harness failed: {r}"),
        }
    }
}

/// A file [`HarnessOptions::overlays`] adds to a host directory inside the manager's namespace.
#[derive(Debug, Clone)]
pub enum OverlayFile {
    /// A regular file with these bytes and mode.
    Contents(Vec<u8>, u32),
    /// A symlink to this path (e.g. the test binary under `target/`, without copying it).
    Symlink(PathBuf),
}

/// How [`SystemdHarness::start_with`] sets up the manager's namespace beyond the default.
#[derive(Debug, Clone, Default)]
pub struct HarnessOptions {
    /// Files added to host directories, as a distribution package would install them
    /// (`/usr/lib/systemd/user`, `/usr/bin`): a read-only overlayfs of a per-harness directory
    /// on top of the host directory, so the host's own files stay visible and the host is not
    /// touched. `(target dir, [(file name, file)])`.
    pub overlays: Vec<(PathBuf, Vec<(String, OverlayFile)>)>,
    /// A private network namespace with only `lo` (up), shared by the manager and every
    /// [`SystemdHarness::command`]: fixed ports (a packaged unit's 18789) cannot clash with the
    /// host's. Needs `ip` (iproute2). Connect from inside, e.g. with `h.run("python3", …)`.
    pub private_network: bool,
}

/// The test user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub shell: String,
}

/// What the host provides, probed once per test process.
#[derive(Debug)]
struct Host {
    systemd: PathBuf,
    unshare: PathBuf,
    nsenter: PathBuf,
    setpriv: PathBuf,
    cgroup2: PathBuf,
    user: TestUser,
}

/// Output of a client command.
#[derive(Debug)]
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    pub fn success(&self) -> bool {
        self.status.success()
    }
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

impl std::fmt::Display for RunOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// One private `systemd --user` manager. Dropping it tears everything down.
pub struct SystemdHarness {
    manager: Child,
    user: TestUser,
    nsenter: PathBuf,
    setpriv: PathBuf,
    home: PathBuf,
    runtime_dir: PathBuf,
    /// `/run/user/<uid>`: the runtime dir as the manager and clients see it.
    session_runtime_dir: PathBuf,
    log_path: PathBuf,
    cgroup: PathBuf,
    startup: Duration,
    private_network: bool,
    // Last: removed after `Drop::drop` has stopped everything.
    base: tempfile::TempDir,
}

/// `true` when `OPENCLAW_REQUIRE_SYSTEMD_HARNESS` asks for the harness to be mandatory.
pub fn harness_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

/// A started harness, or `None` after printing `SKIPPED: <reason>` when this machine cannot run
/// one. Panics instead of skipping when `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1`, and always panics
/// when the machine should be able to run it but the manager failed.
pub fn harness_or_skip() -> Option<SystemdHarness> {
    harness_with_or_skip(&HarnessOptions::default())
}

/// Like [`harness_or_skip`], with the namespace set up as `options` says.
pub fn harness_with_or_skip(options: &HarnessOptions) -> Option<SystemdHarness> {
    match SystemdHarness::start_with(options) {
        Ok(h) => Some(h),
        Err(HarnessError::Unavailable(reason)) => {
            if harness_required() {
                panic!("{REQUIRE_ENV} is set but the systemd harness is unavailable: {reason}");
            }
            // Straight to the stderr handle: not swallowed by the test harness's capture.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
            None
        }
        Err(e @ HarnessError::Failed(_)) => panic!("{e}"),
    }
}

/// `let h = require_systemd_harness!();` — a started harness, or return from the test after
/// printing `SKIPPED: <reason>` (a panic when `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1`).
#[macro_export]
macro_rules! require_systemd_harness {
    () => {
        match $crate::support::systemd_harness::harness_or_skip() {
            Some(harness) => harness,
            None => return,
        }
    };
}

impl SystemdHarness {
    /// Starts a private manager and waits until `<rundir>/systemd/private` and `<rundir>/bus`
    /// exist.
    pub fn start() -> Result<Self, HarnessError> {
        Self::start_with(&HarnessOptions::default())
    }

    /// Like [`Self::start`], with the namespace set up as `options` says.
    pub fn start_with(options: &HarnessOptions) -> Result<Self, HarnessError> {
        let host = host().map_err(|r| HarnessError::Unavailable(r.clone()))?;
        let user = host.user.clone();

        static SEQ: AtomicU32 = AtomicU32::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let cg_name = format!("{CGROUP_PREFIX}{}-{n}", std::process::id());
        let cgroup = host.cgroup2.join(&cg_name);

        // Directories: <base> (root, 0755) / home (user, 0700), run (user, 0700).
        let base = tempfile::Builder::new()
            .prefix(&cg_name)
            .tempdir_in("/tmp")
            .map_err(|e| HarnessError::Failed(format!("temp dir in /tmp: {e}")))?;
        let fail = |what: &str, e: std::io::Error| HarnessError::Failed(format!("{what}: {e}"));
        fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755))
            .map_err(|e| fail("chmod base", e))?;
        let home = base.path().join("home");
        let runtime_dir = base.path().join("run");
        for dir in [&home, &runtime_dir] {
            fs::create_dir(dir).map_err(|e| fail("mkdir", e))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| fail("chmod", e))?;
            std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
                .map_err(|e| fail("chown", e))?;
        }
        let mut overlay_lines = String::new();
        for (i, (target, files)) in options.overlays.iter().enumerate() {
            let lower = base.path().join(format!("overlay-{i}"));
            fs::create_dir(&lower).map_err(|e| fail("mkdir overlay", e))?;
            fs::set_permissions(&lower, fs::Permissions::from_mode(0o755))
                .map_err(|e| fail("chmod overlay", e))?;
            for (name, file) in files {
                let path = lower.join(name);
                match file {
                    OverlayFile::Contents(bytes, mode) => {
                        fs::write(&path, bytes).map_err(|e| fail("overlay file", e))?;
                        fs::set_permissions(&path, fs::Permissions::from_mode(*mode))
                            .map_err(|e| fail("chmod overlay file", e))?;
                    }
                    OverlayFile::Symlink(to) => std::os::unix::fs::symlink(to, &path)
                        .map_err(|e| fail("overlay symlink", e))?,
                }
            }
            overlay_lines.push_str(&format!("{} {}\n", lower.display(), target.display()));
        }
        if options.private_network && find_program("ip").is_none() {
            return Err(HarnessError::Unavailable(
                "a private network needs `ip` (Debian package iproute2)".into(),
            ));
        }
        let log_path = base.path().join("manager.log");
        let log = fs::File::create(&log_path).map_err(|e| fail("manager log", e))?;
        let log2 = log.try_clone().map_err(|e| fail("manager log", e))?;

        // The cgroup: <cg>/manager is delegated to the user, <cg>/clients stays root's.
        let manager_cg = cgroup.join("manager");
        let mk = || -> std::io::Result<()> {
            fs::create_dir(&cgroup)?;
            fs::create_dir(&manager_cg)?;
            fs::create_dir(cgroup.join("clients"))?;
            std::os::unix::fs::chown(&manager_cg, Some(user.uid), Some(user.gid))?;
            for entry in fs::read_dir(&manager_cg)? {
                std::os::unix::fs::chown(entry?.path(), Some(user.uid), Some(user.gid))?;
            }
            Ok(())
        };
        if let Err(e) = mk() {
            remove_cgroup_tree(&cgroup);
            return Err(HarnessError::Unavailable(format!(
                "cannot create a delegated cgroup at {}: {e}",
                cgroup.display()
            )));
        }

        let started = Instant::now();
        let mut unshare = Command::new(&host.unshare);
        unshare.arg("--mount");
        if options.private_network {
            unshare.arg("--net");
        }
        let spawned = unshare
            .args(["--propagation", "private", "/bin/sh", "-c"])
            .arg(MANAGER_SCRIPT)
            .arg("sh")
            .arg(manager_cg.join("cgroup.procs"))
            .arg(&host.setpriv)
            .args(setpriv_args(&user))
            .arg("--")
            .arg(&host.systemd)
            .arg("--user")
            .env_clear()
            .env("PATH", SEARCH_PATH)
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("USER", &user.name)
            .env("LOGNAME", &user.name)
            .env("SHELL", &user.shell)
            .env("LANG", "C.UTF-8")
            .env("OPENCLAW_HARNESS_OVERLAYS", &overlay_lines)
            .env(
                "OPENCLAW_HARNESS_NET",
                if options.private_network { "1" } else { "" },
            )
            .current_dir(&home)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn();
        let manager = match spawned {
            Ok(child) => child,
            Err(e) => {
                remove_cgroup_tree(&cgroup);
                return Err(HarnessError::Failed(format!("spawn unshare: {e}")));
            }
        };

        let session_runtime_dir = PathBuf::from(format!("/run/user/{}", user.uid));
        let mut harness = SystemdHarness {
            manager,
            user,
            nsenter: host.nsenter.clone(),
            setpriv: host.setpriv.clone(),
            home,
            session_runtime_dir,
            runtime_dir,
            log_path,
            cgroup,
            startup: Duration::ZERO,
            private_network: options.private_network,
            base,
        };
        // From here on, an early return drops `harness`, which tears down what was started.
        let private = harness.runtime_dir.join("systemd/private");
        let bus = harness.runtime_dir.join("bus");
        loop {
            if let Ok(Some(status)) = harness.manager.try_wait() {
                return Err(HarnessError::Failed(format!(
                    "the manager exited early with {status}; its log:\n{}",
                    harness.manager_log()
                )));
            }
            if private.exists() && bus.exists() {
                break;
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(HarnessError::Failed(format!(
                    "{} and {} did not appear within {READY_TIMEOUT:?}; manager log:\n{}",
                    private.display(),
                    bus.display(),
                    harness.manager_log()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        harness.startup = started.elapsed();
        Ok(harness)
    }

    /// The test user's name (`openclaw-test`).
    pub fn user_name(&self) -> &str {
        &self.user.name
    }
    pub fn uid(&self) -> u32 {
        self.user.uid
    }
    pub fn gid(&self) -> u32 {
        self.user.gid
    }
    /// This manager's HOME (fresh per harness, 0700, owned by the test user).
    pub fn home(&self) -> &Path {
        &self.home
    }
    /// This manager's runtime dir as the test process sees it (fresh per harness, 0700, owned
    /// by the test user); inside the manager's mount namespace it is mounted at
    /// [`Self::session_runtime_dir`].
    pub fn runtime_dir(&self) -> &Path {
        &self.runtime_dir
    }
    /// `/run/user/<uid>`: the manager's and the clients' `XDG_RUNTIME_DIR`, as on a real login.
    pub fn session_runtime_dir(&self) -> &Path {
        &self.session_runtime_dir
    }
    /// `~/.config/systemd/user` (may not exist yet; [`Self::write_unit`] creates it).
    pub fn unit_dir(&self) -> PathBuf {
        self.home.join(".config/systemd/user")
    }
    /// This harness's cgroup directory (the manager's own root is `<cgroup>/manager`).
    pub fn cgroup(&self) -> &Path {
        &self.cgroup
    }
    pub fn manager_pid(&self) -> u32 {
        self.manager.id()
    }
    /// Time from spawning the manager until both sockets existed.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }
    /// What the manager printed (it logs to stderr: there is no journal here).
    pub fn manager_log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The environment of a client running in the test process itself (outside the manager's
    /// mount namespace, where `/run/user/<uid>` is not this harness's): the host view of the
    /// runtime dir. Clients spawned with [`Self::command`] get [`Self::client_env`].
    pub fn host_client_env(&self) -> Vec<(String, String)> {
        let run = self.runtime_dir.display();
        vec![
            ("HOME".into(), self.home.display().to_string()),
            ("XDG_RUNTIME_DIR".into(), run.to_string()),
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                format!("unix:path={run}/bus"),
            ),
        ]
    }

    /// The environment a client of this manager needs (inside its mount namespace).
    pub fn client_env(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.home.display().to_string()),
            (
                "XDG_RUNTIME_DIR".into(),
                self.session_runtime_dir.display().to_string(),
            ),
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                format!("unix:path={}/bus", self.session_runtime_dir.display()),
            ),
        ]
    }

    /// A command that runs `program` as the test user with [`Self::client_env`] (plus `PATH`,
    /// `USER`, `LOGNAME`, `LANG=C.UTF-8`; nothing inherited), cwd HOME, stdin null, inside the
    /// manager's mount namespace (and network namespace, with [`HarnessOptions::private_network`]) (so it sees `/run/systemd/system` like on a booted machine),
    /// in this harness's cgroup (killed at teardown if still running). Add args and spawn it;
    /// exec'd all the way down, so the spawned PID is `program`'s.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(&self.nsenter);
        cmd.arg("--target")
            .arg(self.manager.id().to_string())
            .arg("--mount");
        if self.private_network {
            cmd.arg("--net");
        }
        cmd.args(["--", "/bin/sh"]);
        self.client(cmd, program)
    }

    /// Like [`Self::command`] but in the host's mount namespace (where `/run/systemd/system`
    /// does not exist: e.g. `systemctl --user is-system-running` prints `offline` there).
    pub fn host_command(&self, program: impl AsRef<OsStr>) -> Command {
        // /run/user/<uid> is the harness's only inside its mount namespace: the host view here.
        let mut cmd = self.client(Command::new("/bin/sh"), program);
        cmd.envs(self.host_client_env());
        cmd
    }

    /// `sh_cmd` is `/bin/sh` (possibly behind nsenter) run as root.
    fn client(&self, mut sh_cmd: Command, program: impl AsRef<OsStr>) -> Command {
        sh_cmd
            .arg("-c")
            .arg(CLIENT_SCRIPT)
            .arg("sh")
            .arg(self.cgroup.join("clients/cgroup.procs"))
            .arg(&self.setpriv)
            .args(setpriv_args(&self.user))
            .arg("--")
            .arg(program)
            .env_clear()
            .env("PATH", SEARCH_PATH)
            .env("USER", &self.user.name)
            .env("LOGNAME", &self.user.name)
            .env("LANG", "C.UTF-8")
            .envs(self.client_env())
            .current_dir(&self.home)
            .stdin(Stdio::null());
        sh_cmd
    }

    /// Runs `program args…` via [`Self::command`]; panics after [`COMMAND_TIMEOUT`].
    pub fn run<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> RunOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(program);
        cmd.args(args);
        run_with_timeout(cmd, COMMAND_TIMEOUT)
    }

    /// `systemctl --user <args>` as the test user.
    pub fn systemctl(&self, args: &[&str]) -> RunOutput {
        self.run(
            "systemctl",
            std::iter::once("--user").chain(args.iter().copied()),
        )
    }

    /// `systemctl --user <args>`, panicking (with the manager log) unless it exits 0; stdout.
    pub fn systemctl_ok(&self, args: &[&str]) -> String {
        let out = self.systemctl(args);
        assert!(
            out.success(),
            "systemctl --user {args:?} failed: {out}\nmanager log:\n{}",
            self.manager_log()
        );
        out.stdout
    }

    /// `busctl --user <args>` as the test user.
    pub fn busctl(&self, args: &[&str]) -> RunOutput {
        self.run(
            "busctl",
            std::iter::once("--user").chain(args.iter().copied()),
        )
    }

    /// `MainPID` of a service unit (0 when it runs no process).
    pub fn main_pid(&self, unit: &str) -> u32 {
        let raw = self.unit_property(unit, "org.freedesktop.systemd1.Service", "MainPID");
        raw.trim_start_matches("u ").trim().parse().unwrap()
    }

    /// A unit property read over D-Bus, in busctl's notation (e.g. `s "active"`).
    /// The unit is loaded by name first (`Manager.LoadUnit`), so this works for inactive units.
    pub fn unit_property(&self, unit: &str, interface: &str, property: &str) -> String {
        let out = self.busctl(&[
            "call",
            "org.freedesktop.systemd1",
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager",
            "LoadUnit",
            "s",
            unit,
        ]);
        assert!(out.success(), "LoadUnit {unit}: {out}");
        let path = unquote(out.stdout.trim().strip_prefix("o ").unwrap_or_default())
            .unwrap_or_else(|| panic!("LoadUnit {unit}: unexpected reply {:?}", out.stdout));
        let out = self.busctl(&[
            "get-property",
            "org.freedesktop.systemd1",
            &path,
            interface,
            property,
        ]);
        assert!(out.success(), "get-property {unit} {property}: {out}");
        out.stdout.trim().to_owned()
    }

    /// The unit's `ActiveState` read over D-Bus (`active`, `inactive`, …).
    pub fn active_state(&self, unit: &str) -> String {
        let raw = self.unit_property(unit, "org.freedesktop.systemd1.Unit", "ActiveState");
        unquote(raw.strip_prefix("s ").unwrap_or(&raw)).unwrap_or(raw)
    }

    /// Polls [`Self::active_state`] until it is `want`; panics after `within`.
    pub fn wait_active_state(&self, unit: &str, want: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let state = self.active_state(unit);
            if state == want {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{unit}: ActiveState {state:?}, wanted {want:?} within {within:?}\n{}\nmanager log:\n{}",
                    self.systemctl(&["status", "--no-pager", unit]),
                    self.manager_log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Writes `contents` to `~/<relative>` with `mode`, creating missing parent directories;
    /// everything created is owned by the test user. Returns the absolute path.
    pub fn write_file(&self, relative: impl AsRef<Path>, contents: &[u8], mode: u32) -> PathBuf {
        let relative = relative.as_ref();
        assert!(
            relative.is_relative(),
            "{} is not relative",
            relative.display()
        );
        let path = self.home.join(relative);
        let mut dir = self.home.clone();
        if let Some(parent) = relative.parent() {
            for part in parent.components() {
                dir.push(part);
                if !dir.exists() {
                    fs::create_dir(&dir).unwrap();
                    self.chown(&dir);
                }
            }
        }
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        self.chown(&path);
        path
    }

    /// Writes a unit file into `~/.config/systemd/user/<name>` (0644, owned by the user).
    /// Follow with `systemctl_ok(&["daemon-reload"])`.
    pub fn write_unit(&self, name: &str, contents: &str) -> PathBuf {
        self.write_file(
            Path::new(".config/systemd/user").join(name),
            contents.as_bytes(),
            0o644,
        )
    }

    /// Copies an executable (e.g. `env!("CARGO_BIN_EXE_openclaw")`) to `~/.local/bin/`, owned
    /// by the user, for when its build directory is not readable by the test user.
    pub fn copy_executable(&self, source: impl AsRef<Path>) -> PathBuf {
        let source = source.as_ref();
        let bytes = fs::read(source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let name = source.file_name().expect("file name");
        self.write_file(Path::new(".local/bin").join(name), &bytes, 0o755)
    }

    /// Gives `path` to the test user.
    pub fn chown(&self, path: &Path) {
        std::os::unix::fs::chown(path, Some(self.user.uid), Some(self.user.gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    }

    /// Stops everything; called by `Drop`. Never panics.
    fn teardown(&mut self) {
        let pid = self.manager.id();
        if matches!(self.manager.try_wait(), Ok(None)) {
            // The user manager starts exit.target on SIGTERM: units are stopped, then it exits.
            send_signal(pid, "TERM");
            if !wait_child(&mut self.manager, Duration::from_secs(15)) {
                eprintln!(
                    "systemd harness: manager {pid} ignored SIGTERM for 15 s; killing its cgroup"
                );
                kill_cgroup_tree(&self.cgroup);
                let _ = self.manager.kill();
                let _ = self.manager.wait();
            }
        }
        kill_cgroup_tree(&self.cgroup);
        if !wait_unpopulated(&self.cgroup, Duration::from_secs(10)) {
            eprintln!(
                "systemd harness: processes still in {} after SIGKILL",
                self.cgroup.display()
            );
        }
        remove_cgroup_tree(&self.cgroup);
    }
}

impl Drop for SystemdHarness {
    fn drop(&mut self) {
        self.teardown();
        // `base` (HOME, XDG_RUNTIME_DIR, the log) is removed when the fields drop, after this.
    }
}

fn setpriv_args(user: &TestUser) -> [String; 3] {
    [
        format!("--reuid={}", user.uid),
        format!("--regid={}", user.gid),
        "--init-groups".to_owned(),
    ]
}

/// `"x"` → `x` (busctl quoting; our values never contain escapes).
fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    s.strip_prefix('"')?.strip_suffix('"').map(str::to_owned)
}

/// Runs `cmd` (stdout and stderr captured), killing it and panicking after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> RunOutput {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let timed_out = std::sync::Arc::new(AtomicBool::new(false));
    let watchdog = {
        let timed_out = timed_out.clone();
        let pid = child.id();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(timeout) {
                timed_out.store(true, Ordering::SeqCst);
                send_signal(pid, "KILL");
            }
        })
    };
    let status = child.wait().expect("wait");
    drop(done_tx);
    let _ = watchdog.join();
    let output = RunOutput {
        status,
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
    };
    if timed_out.load(Ordering::SeqCst) {
        panic!("{cmd:?} did not finish within {timeout:?}: {output}");
    }
    output
}

fn send_signal(pid: u32, signal: &str) {
    let _ = Command::new("/bin/kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn wait_child(child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() > deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// All directories of a cgroup subtree, deepest first.
fn cgroup_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(entry.path());
                }
            }
        }
        dirs.push(dir);
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs
}

/// SIGKILLs every process in the subtree (`cgroup.kill`, or one by one on older kernels).
fn kill_cgroup_tree(root: &Path) {
    if !root.exists() {
        return;
    }
    if fs::write(root.join("cgroup.kill"), "1").is_ok() {
        return;
    }
    for _ in 0..50 {
        let mut any = false;
        for dir in cgroup_dirs(root) {
            let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.split_whitespace() {
                any = true;
                let _ = Command::new("/bin/kill").args(["-KILL", pid]).status();
            }
        }
        if !any {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn populated(root: &Path) -> bool {
    match fs::read_to_string(root.join("cgroup.events")) {
        Ok(events) => events.lines().any(|l| l.trim() == "populated 1"),
        Err(_) => cgroup_dirs(root).iter().any(|d| {
            fs::read_to_string(d.join("cgroup.procs")).is_ok_and(|p| !p.trim().is_empty())
        }),
    }
}

fn wait_unpopulated(root: &Path, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while root.exists() && populated(root) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// Removes a cgroup subtree (empty cgroups only), deepest first, retrying briefly.
fn remove_cgroup_tree(root: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while root.exists() {
        for dir in cgroup_dirs(root) {
            let _ = fs::remove_dir(&dir);
        }
        if !root.exists() {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("systemd harness: could not remove {}", root.display());
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    SEARCH_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The cgroup2 mount: `/sys/fs/cgroup/unified` on hybrid systems, `/sys/fs/cgroup` on
/// unified ones.
fn cgroup2_mount() -> Option<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut mounts: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split_whitespace().nth(4)?;
            (right.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(mount_point))
        })
        .collect();
    mounts.sort_by_key(|p| p != Path::new("/sys/fs/cgroup/unified"));
    mounts.into_iter().next()
}

fn host() -> Result<&'static Host, &'static String> {
    static HOST: OnceLock<Result<Host, String>> = OnceLock::new();
    HOST.get_or_init(probe_host).as_ref()
}

fn probe_host() -> Result<Host, String> {
    if !cfg!(target_os = "linux") {
        return Err("systemd --user needs Linux".into());
    }
    match effective_uid() {
        Some(0) => {}
        uid => {
            return Err(format!(
                "needs root (euid is {}) to create a mount namespace, a delegated cgroup and \
                 the {TEST_USER} user; run as root or in CI",
                uid.map_or("unknown".into(), |u| u.to_string())
            ));
        }
    }
    let systemd = ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or("no systemd binary (/lib/systemd/systemd); install the `systemd` package")?;
    let tool = |name: &str, package: &str| {
        find_program(name).ok_or(format!(
            "`{name}` not found; install the `{package}` package"
        ))
    };
    let unshare = tool("unshare", "util-linux")?;
    let nsenter = tool("nsenter", "util-linux")?;
    let setpriv = tool("setpriv", "util-linux")?;
    tool("flock", "util-linux")?;
    tool("mount", "mount")?;
    tool("useradd", "passwd")?;
    tool("systemctl", "systemd")?;
    tool("busctl", "systemd")?;
    if ![
        "/usr/lib/systemd/user/dbus.socket",
        "/lib/systemd/user/dbus.socket",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
    {
        return Err("no user-bus socket unit (dbus.socket); install `dbus-user-session`".into());
    }
    if find_program("dbus-daemon").is_none() && find_program("dbus-broker-launch").is_none() {
        return Err("no D-Bus daemon; install `dbus-user-session` (pulls in `dbus`)".into());
    }
    let cgroup2 = cgroup2_mount().ok_or("no cgroup2 (unified) hierarchy mounted")?;

    // /run/systemd is the mount point of the per-harness tmpfs.
    if !Path::new("/run/systemd").is_dir() {
        fs::create_dir_all("/run/systemd").map_err(|e| format!("mkdir /run/systemd: {e}"))?;
    }
    let probe = Command::new(&unshare)
        .args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
        .arg("mount -t tmpfs openclaw-harness /run/systemd && mkdir /run/systemd/system")
        .env_clear()
        .env("PATH", SEARCH_PATH)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("spawn unshare: {e}"))?;
    if !probe.status.success() {
        return Err(format!(
            "cannot create a private mount namespace with a tmpfs on /run/systemd: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }

    let user = ensure_user()?;
    clean_stale(&cgroup2);
    Ok(Host {
        systemd,
        unshare,
        nsenter,
        setpriv,
        cgroup2,
        user,
    })
}

/// Creates the test user if missing, under a lock file (parallel test processes).
fn ensure_user() -> Result<TestUser, String> {
    let script = format!(
        "getent passwd {TEST_USER} >/dev/null || \
         useradd --system --user-group --create-home --shell /usr/sbin/nologin {TEST_USER}"
    );
    let lock = if Path::new(USER_LOCK).parent().is_some_and(Path::is_dir) {
        USER_LOCK
    } else {
        "/tmp/openclaw-test-user.lock"
    };
    let out = Command::new("flock")
        .args([lock, "/bin/sh", "-c", &script])
        .env("PATH", SEARCH_PATH)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("spawn flock: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cannot create the {TEST_USER} user: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let out = Command::new("getent")
        .args(["passwd", TEST_USER])
        .env("PATH", SEARCH_PATH)
        .output()
        .map_err(|e| format!("getent: {e}"))?;
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let fields: Vec<&str> = line.split(':').collect();
    let parse = |i: usize| fields.get(i).and_then(|f| f.parse::<u32>().ok());
    match (parse(2), parse(3)) {
        (Some(uid), Some(gid)) if uid != 0 => Ok(TestUser {
            name: TEST_USER.into(),
            uid,
            gid,
            shell: fields.get(6).copied().unwrap_or("/bin/sh").to_owned(),
        }),
        _ => Err(format!("unexpected passwd entry for {TEST_USER}: {line:?}")),
    }
}

/// The test-process PID in `openclaw-harness-<pid>-…`, when that process is gone.
fn dead_owner(name: &str) -> Option<u32> {
    let pid = name
        .strip_prefix(CGROUP_PREFIX)?
        .split('-')
        .next()?
        .parse::<u32>()
        .ok()?;
    (pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()).then_some(pid)
}

/// Removes what test processes that died without running `Drop` (e.g. SIGKILL) left: their
/// cgroups (killing the managers and services still in them), then their temp dirs.
fn clean_stale(cgroup2: &Path) {
    for (root, is_cgroup) in [(cgroup2, true), (Path::new("/tmp"), false)] {
        let Ok(entries) = fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            if dead_owner(&entry.file_name().to_string_lossy()).is_none() {
                continue;
            }
            let path = entry.path();
            if is_cgroup {
                kill_cgroup_tree(&path);
                wait_unpopulated(&path, Duration::from_secs(5));
                remove_cgroup_tree(&path);
            } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
}
