//! The gateway's systemd units, rendered from the templates in `units/` (embedded at build time;
//! those files are the single source of truth) for one [`ServiceSpec`] and the host's
//! [`SystemdFeatures`].
//!
//! - `<unit>.service`: `Type=notify` gateway with restart policy, watchdog, install metadata in
//!   `Environment=`, secrets only via `EnvironmentFile=-<state>/gateway.systemd.env`, and a
//!   sandboxing set that works where it runs (seccomp-based always; namespace-based where user
//!   namespaces work or in the system manager).
//! - `<unit>.socket` (socket activation): one `ListenStream=` per listen address.
//! - The env file: `KEY=value` lines of [`ServiceSpec::secret_environment`] (0600; possibly
//!   empty, always written).
//!
//! Values are escaped here ([`escape`]); the templates only choose which keys appear. CR or LF in
//! any value is refused.

pub mod escape;
pub mod features;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value, context};

pub use self::features::{FLOOR_VERSION, SandboxLevel, SystemdFeatures, detect};
use crate::contract::SHUTDOWN_BUDGET;
use crate::contract::SOCKET_NAME;
use crate::profile::Profile;
use crate::service::ServiceError;
use crate::service::spec::{Scope, ServiceSpec};
use crate::service_names::SYSTEMD_UNIT_BASE;

/// The unit templates (`units/*.in`), embedded: a missing one fails the build.
const UNIT_TEMPLATES: [(&str, &str); 2] = [
    (
        SERVICE_TEMPLATE,
        include_str!("../../../units/openclaw-gateway.service.in"),
    ),
    (
        SOCKET_TEMPLATE,
        include_str!("../../../units/openclaw-gateway.socket.in"),
    ),
];

/// The template of the service unit (`units/openclaw-gateway.service.in`).
pub const SERVICE_TEMPLATE: &str = "openclaw-gateway.service";
/// The template of the socket unit (`units/openclaw-gateway.socket.in`).
pub const SOCKET_TEMPLATE: &str = "openclaw-gateway.socket";
/// The env file's name inside the state dir.
pub const ENV_FILE_NAME: &str = "gateway.systemd.env";
/// Where system units go.
pub const SYSTEM_UNIT_DIR: &str = "/etc/systemd/system";

/// `TimeoutStopSec=`: the gateway drains for at most [`SHUTDOWN_BUDGET`] (5 s) after SIGTERM and
/// then exits; 10 s more cover flushing logs and exiting on a loaded host before systemd sends
/// SIGKILL (the reference's 330 s exists for its 315 s drain, which we do not have).
pub fn timeout_stop_secs() -> u64 {
    SHUTDOWN_BUDGET.as_secs() + 10
}

/// What [`render`] produces: the unit files and the env file of one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedUnits {
    /// The directory the unit files go into ([`unit_dir`]).
    pub unit_dir: PathBuf,
    /// `<unit>.service`.
    pub service_name: String,
    /// The service unit's text.
    pub service: String,
    /// `<unit>.socket` (named even without socket activation, so uninstall can find it).
    pub socket_name: String,
    /// The socket unit's text, with socket activation.
    pub socket: Option<String>,
    /// `<state>/gateway.systemd.env`.
    pub env_file: PathBuf,
    /// The env file's text (empty without secrets).
    pub env_file_contents: String,
}

/// Where the units of `spec` go: `<home>/.config/systemd/user` for the user manager (always;
/// `XDG_CONFIG_HOME` is not consulted), `/etc/systemd/system` for the system manager.
pub fn unit_dir(spec: &ServiceSpec) -> PathBuf {
    match spec.scope {
        Scope::User => spec.home.join(".config/systemd/user"),
        Scope::System { .. } => PathBuf::from(SYSTEM_UNIT_DIR),
    }
}

/// The env file of `spec`: `<state>/gateway.systemd.env`.
pub fn env_file(spec: &ServiceSpec) -> PathBuf {
    spec.state_dir.join(ENV_FILE_NAME)
}

/// The env file's text: one `KEY=value` line each, escaped for `EnvironmentFile=`.
pub fn env_file_text(entries: &[(String, String)]) -> Result<String, ServiceError> {
    let mut text = String::new();
    for (key, value) in entries {
        text.push_str(&escape::env_file_line(key, value)?);
        text.push('\n');
    }
    Ok(text)
}

/// `SyslogIdentifier=`: `openclaw-gateway` or `openclaw-gateway-<profile>`.
pub fn syslog_identifier(profile: &Profile) -> String {
    match profile.name() {
        Some(p) => format!("{SYSTEMD_UNIT_BASE}-{p}"),
        None => SYSTEMD_UNIT_BASE.to_owned(),
    }
}

fn template_env() -> Result<Environment<'static>, ServiceError> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(internal)?;
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in UNIT_TEMPLATES {
        env.add_template(name, source).map_err(internal)?;
    }
    Ok(env)
}

fn internal(e: minijinja::Error) -> ServiceError {
    ServiceError::new("internal", format!("unit template: {e:#}"))
}

fn render_template(env: &Environment<'_>, name: &str, ctx: Value) -> Result<String, ServiceError> {
    let text = env
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(internal)?;
    Ok(text)
}

fn absolute<'a>(field: &str, path: &'a Path) -> Result<&'a str, ServiceError> {
    let text = path.to_str().ok_or_else(|| {
        ServiceError::new(
            escape::INVALID_VALUE,
            format!("{field} must be valid UTF-8: {}", path.display()),
        )
    })?;
    if !path.is_absolute() {
        return Err(ServiceError::new(
            escape::INVALID_VALUE,
            format!("{field} must be an absolute path, got {text}"),
        ));
    }
    Ok(text)
}

/// True when the home, state dir or config dir of `spec` lives under `/tmp` or `/var/tmp`,
/// where `PrivateTmp=` would hide it from the service.
pub fn uses_temp_dirs(spec: &ServiceSpec) -> bool {
    let config_dir = spec.config_path.parent().unwrap_or(&spec.config_path);
    [spec.home.as_path(), spec.state_dir.as_path(), config_dir]
        .iter()
        .any(|p| p.starts_with("/tmp") || p.starts_with("/var/tmp"))
}

/// Who the units are rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `openclaw gateway install`: every path absolute, for this host.
    Install,
    /// A distribution package (`/usr/lib/systemd/{user,system}`): a user unit names its paths
    /// relative to the account's home (`%h`), and its state dir need not exist before the first
    /// start (the gateway creates it); a system unit runs as a dynamic user with its state dir
    /// as `StateDirectory=` (the spec's state dir must be `/var/lib/<name>`).
    Package,
}

/// Renders the units and env file of `spec` for a host with `features`, at the strongest
/// sandbox level the host's manager can set up.
pub fn render(
    spec: &ServiceSpec,
    features: &SystemdFeatures,
) -> Result<RenderedUnits, ServiceError> {
    render_as(spec, features, Origin::Install)
}

/// Renders the units and env file of `spec` for a host with `features` at `level`.
pub fn render_at(
    spec: &ServiceSpec,
    features: &SystemdFeatures,
    level: SandboxLevel,
) -> Result<RenderedUnits, ServiceError> {
    render_with(spec, features, Origin::Install, level)
}

/// The strongest sandbox level of `spec`'s manager on a host with `features`.
pub fn best_level(spec: &ServiceSpec, features: &SystemdFeatures) -> SandboxLevel {
    SandboxLevel::best_for(features, matches!(spec.scope, Scope::System { .. }))
}

/// A path of `spec` as the unit names it: absolute, or `%h/<rest>` for a packaged user unit.
/// `escape` escapes the path text for its key.
fn unit_path(
    spec: &ServiceSpec,
    origin: Origin,
    field: &str,
    path: &Path,
    escape: impl Fn(&str) -> Result<String, ServiceError>,
) -> Result<String, ServiceError> {
    let text = absolute(field, path)?;
    if origin == Origin::Package && spec.scope == Scope::User {
        let rest = path
            .strip_prefix(&spec.home)
            .ok()
            .and_then(Path::to_str)
            .filter(|rest| !rest.is_empty())
            .ok_or_else(|| {
                ServiceError::new(
                    escape::INVALID_VALUE,
                    format!("{field} of a packaged user unit must be inside the home, got {text}"),
                )
            })?;
        let escaped = escape(rest)?;
        if escaped.starts_with('"') {
            return Err(ServiceError::new(
                escape::INVALID_VALUE,
                format!("{field} of a packaged user unit cannot need quoting, got {rest:?}"),
            ));
        }
        return Ok(format!("%h/{escaped}"));
    }
    escape(text)
}

/// The `StateDirectory=` name of a packaged system unit: the state dir's name under `/var/lib`.
fn state_directory(spec: &ServiceSpec, origin: Origin) -> Result<String, ServiceError> {
    if origin != Origin::Package || spec.scope == Scope::User {
        return Ok(String::new());
    }
    spec.state_dir
        .strip_prefix("/var/lib")
        .ok()
        .and_then(Path::to_str)
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .map(str::to_owned)
        .ok_or_else(|| {
            ServiceError::new(
                escape::INVALID_VALUE,
                format!(
                    "the state dir of a packaged system unit must be /var/lib/<name>, got {}",
                    spec.state_dir.display()
                ),
            )
        })
}

/// Renders the units and env file of `spec` for a host with `features`, as `origin` ships them
/// (at the strongest sandbox level).
pub fn render_as(
    spec: &ServiceSpec,
    features: &SystemdFeatures,
    origin: Origin,
) -> Result<RenderedUnits, ServiceError> {
    render_with(spec, features, origin, best_level(spec, features))
}

fn render_with(
    spec: &ServiceSpec,
    features: &SystemdFeatures,
    origin: Origin,
    level: SandboxLevel,
) -> Result<RenderedUnits, ServiceError> {
    let service_name = spec.names.systemd_service_file();
    let socket_name = spec.names.systemd_socket_file();
    escape::reject_line_breaks("Unit name", &service_name)?;

    let program = absolute("ExecStart", &spec.program)?;
    let mut argv = vec![program];
    argv.extend(spec.args.iter().map(String::as_str));
    let exec_start = escape::exec_start(&argv)?;

    let mut environment = Vec::new();
    for (key, value) in &spec.environment {
        environment.extend(escape::environment_assignment(key, value)?);
    }

    let packaged = origin == Origin::Package;
    let state_directory = state_directory(spec, origin)?;
    let mut working_directory =
        unit_path(spec, origin, "WorkingDirectory", &spec.state_dir, |p| {
            escape::line_path("WorkingDirectory", p)
        })?;
    if packaged && spec.scope == Scope::User {
        // `-`: before the gateway's first start the state dir does not exist yet.
        working_directory.insert(0, '-');
    }
    let env_file = env_file(spec);
    let env_file_value = unit_path(
        spec,
        origin,
        "EnvironmentFile",
        &env_file,
        escape::env_file_path,
    )?;

    let read_write_paths = read_write_paths(spec, origin, state_directory.is_empty())?;

    let private_tmp = !uses_temp_dirs(spec);

    let (system, user) = run_as(spec)?;
    let description = escape::line_text("Description", &spec.description)?;
    let env = template_env()?;

    let service = render_template(
        &env,
        SERVICE_TEMPLATE,
        context! {
            service_name => escape::escape_specifiers(&service_name),
            socket_name => escape::escape_specifiers(&socket_name),
            description => description.clone(),
            exec_start,
            environment => environment.iter().map(String::as_str).collect::<Value>(),
            env_file => env_file_value,
            working_directory,
            syslog_identifier => escape::line_text("SyslogIdentifier", &syslog_identifier(&spec.profile))?,
            timeout_stop_sec => timeout_stop_secs(),
            system,
            user,
            socket => spec.socket_activation,
            namespaces => level == SandboxLevel::Namespaces,
            user_namespaces => features.user_namespaces,
            seccomp => level >= SandboxLevel::Seccomp,
            sandbox_level => level.as_str(),
            read_write_paths => read_write_paths.iter().map(String::as_str).collect::<Value>(),
            private_tmp,
            systemd_version => features.version,
            packaged,
            state_directory,
        },
    )?;

    let socket = if spec.socket_activation {
        Some(render_socket(
            &env,
            spec,
            &socket_name,
            description,
            system,
            packaged,
        )?)
    } else {
        None
    };

    let env_file_contents = env_file_text(&spec.secret_environment)?;

    Ok(RenderedUnits {
        unit_dir: unit_dir(spec),
        service_name,
        service,
        socket_name,
        socket,
        env_file,
        env_file_contents,
    })
}

/// `ReadWritePaths=`: the state dir (unless `StateDirectory=` provides it) and a config dir
/// outside it (`-`: it may not exist yet, which must not fail the namespace setup).
fn read_write_paths(
    spec: &ServiceSpec,
    origin: Origin,
    state_dir_writable: bool,
) -> Result<Vec<String>, ServiceError> {
    let mut read_write_paths = Vec::new();
    if state_dir_writable {
        read_write_paths.push(unit_path(
            spec,
            origin,
            "ReadWritePaths",
            &spec.state_dir,
            |p| Ok(escape::unit_word(p)),
        )?);
    }
    let config_dir = spec
        .config_path
        .parent()
        .filter(|d| !d.starts_with(&spec.state_dir));
    if let Some(dir) = config_dir {
        let dir = unit_path(spec, origin, "ReadWritePaths", dir, |p| {
            escape::reject_line_breaks("ReadWritePaths", p)?;
            Ok(escape::unit_word(p))
        })?;
        read_write_paths.push(format!("-{dir}"));
    }

    Ok(read_write_paths)
}

/// `(system, User=)`: a system unit names its account (one word); a user unit none.
fn run_as(spec: &ServiceSpec) -> Result<(bool, String), ServiceError> {
    Ok(match &spec.scope {
        Scope::User => (false, String::new()),
        Scope::System { user } => {
            let user = escape::line_text("User", user)?;
            if user.is_empty() || user.contains(char::is_whitespace) {
                return Err(ServiceError::new(
                    escape::INVALID_VALUE,
                    "User must be a single account name.",
                ));
            }
            (true, user)
        }
    })
}

/// The `.socket` unit: one `ListenStream=` per listen address, the gateway's fd name.
fn render_socket(
    env: &Environment<'_>,
    spec: &ServiceSpec,
    socket_name: &str,
    description: String,
    system: bool,
    packaged: bool,
) -> Result<String, ServiceError> {
    if spec.listen_addresses.is_empty() {
        return Err(ServiceError::new(
            escape::INVALID_VALUE,
            "socket activation needs at least one listen address",
        ));
    }
    let listen_streams: Vec<String> = spec
        .listen_addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, spec.port).to_string())
        .collect();
    let free_bind = spec
        .listen_addresses
        .iter()
        .any(|ip| !ip.is_loopback() && !ip.is_unspecified());
    render_template(
        env,
        SOCKET_TEMPLATE,
        context! {
            socket_name => escape::escape_specifiers(socket_name),
            description,
            listen_streams => listen_streams.iter().map(String::as_str).collect::<Value>(),
            free_bind,
            fd_name => SOCKET_NAME,
            system,
            packaged,
        },
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::service_names::{ServiceNames, install_metadata_env, service_description};

    /// A spec with a fixed program and home, as `ServiceSpec::build` would make it.
    pub(crate) fn sample_spec(profile: Option<&str>, scope: Scope, socket: bool) -> ServiceSpec {
        let profile = match profile {
            Some(p) => Profile::parse(p).unwrap(),
            None => Profile::Default,
        };
        let names = ServiceNames::for_profile(&profile);
        let home = PathBuf::from("/home/alice");
        let state_dir = match profile.name() {
            Some(p) => home.join(format!(".openclaw-{p}")),
            None => home.join(".openclaw"),
        };
        let port = if profile.is_default() { 18789 } else { 23532 };
        let mut args = vec!["gateway".to_owned(), "--port".to_owned(), port.to_string()];
        let mut environment = Vec::new();
        if let Some(p) = profile.name() {
            args.extend(["--profile".to_owned(), p.to_owned()]);
            environment.push(("OPENCLAW_PROFILE".to_owned(), p.to_owned()));
        }
        environment.push((
            "OPENCLAW_SYSTEMD_UNIT".to_owned(),
            names.systemd_service_file(),
        ));
        for (k, v) in install_metadata_env() {
            environment.push((k.to_owned(), v.to_owned()));
        }
        ServiceSpec {
            description: service_description(&profile, "1.2.3"),
            profile,
            names,
            program: PathBuf::from("/opt/openclaw/bin/openclaw"),
            args,
            port,
            listen_addresses: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            environment,
            secret_environment: vec![],
            home,
            config_path: state_dir.join("openclaw.json"),
            state_dir,
            socket_activation: socket,
            scope,
            allow_unconfigured: false,
            version: "1.2.3".to_owned(),
        }
    }

    const V252: SystemdFeatures = SystemdFeatures {
        version: 252,
        user_namespaces: true,
    };

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    fn keys_of(text: &str) -> Vec<&str> {
        text.lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .collect()
    }

    #[test]
    fn the_user_service_has_the_issue_5_lines() {
        let r = render(&sample_spec(Some("rescue"), Scope::User, true), &V252).unwrap();
        let s = lines(&r.service);
        for want in [
            "Description=OpenClaw Gateway (profile: rescue, v1.2.3)",
            "Type=notify",
            "ExecStart=/opt/openclaw/bin/openclaw gateway --port 23532 --profile rescue",
            "Restart=always",
            "RestartSec=5",
            "RestartPreventExitStatus=78",
            "StartLimitBurst=10",
            "StartLimitIntervalSec=300",
            "TimeoutStopSec=15",
            "KillMode=mixed",
            "WatchdogSec=30",
            "Environment=OPENCLAW_PROFILE=rescue",
            "Environment=OPENCLAW_SERVICE_MARKER=openclaw",
            "Environment=OPENCLAW_SERVICE_KIND=gateway",
            "EnvironmentFile=-/home/alice/.openclaw-rescue/gateway.systemd.env",
            "WorkingDirectory=/home/alice/.openclaw-rescue",
            "SyslogIdentifier=openclaw-gateway-rescue",
            "Requires=openclaw-gateway-rescue.socket",
            "WantedBy=default.target",
        ] {
            assert!(s.contains(&want), "missing {want:?} in\n{}", r.service);
        }
        // Start limits belong to [Unit], the rest to [Service].
        let unit_end = r.service.find("[Service]").unwrap();
        assert!(r.service.find("StartLimitBurst=").unwrap() < unit_end);
        assert!(!r.service.contains("User="), "no User= in a user unit");
        assert!(r.service.ends_with("WantedBy=default.target\n"));
        assert_eq!(r.service_name, "openclaw-gateway-rescue.service");
        assert_eq!(
            r.unit_dir,
            PathBuf::from("/home/alice/.config/systemd/user")
        );
        assert_eq!(
            r.env_file,
            PathBuf::from("/home/alice/.openclaw-rescue/gateway.systemd.env")
        );
        assert_eq!(r.env_file_contents, "", "no secrets: empty env file");
        let keys = keys_of(&r.service);
        let env_keys: Vec<&str> = s
            .iter()
            .filter_map(|l| l.strip_prefix("Environment="))
            .map(|a| a.split('=').next().unwrap())
            .collect();
        assert_eq!(
            env_keys,
            [
                "OPENCLAW_PROFILE",
                "OPENCLAW_SYSTEMD_UNIT",
                "OPENCLAW_SERVICE_MARKER",
                "OPENCLAW_SERVICE_KIND",
                "OPENCLAW_SERVICE_VERSION",
                "OPENCLAW_SANDBOX"
            ],
            "spec order, then the sandbox level"
        );
        assert!(keys.contains(&"PrivateUsers"));
    }

    #[test]
    fn the_timeout_stop_covers_the_drain_budget() {
        assert!(timeout_stop_secs() > SHUTDOWN_BUDGET.as_secs());
        assert!(timeout_stop_secs() <= 30, "a lean gateway needs no 330 s");
    }

    #[test]
    fn the_socket_listens_on_every_address_with_ipv6_in_brackets() {
        let r = render(&sample_spec(None, Scope::User, true), &V252).unwrap();
        let socket = r.socket.unwrap();
        let s = lines(&socket);
        for want in [
            "ListenStream=127.0.0.1:18789",
            "ListenStream=[::1]:18789",
            "FileDescriptorName=gateway",
            "Accept=no",
            "NoDelay=true",
            "WantedBy=sockets.target",
        ] {
            assert!(s.contains(&want), "missing {want:?} in\n{socket}");
        }
        assert!(!socket.contains("FreeBind"), "loopback needs no FreeBind");
        assert_eq!(r.socket_name, "openclaw-gateway.socket");

        let mut spec = sample_spec(None, Scope::User, true);
        spec.listen_addresses = vec!["100.64.1.2".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        let socket = render(&spec, &V252).unwrap().socket.unwrap();
        assert!(socket.contains("ListenStream=100.64.1.2:18789\nListenStream=127.0.0.1:18789\n"));
        assert!(
            socket.contains("FreeBind=true"),
            "a tailnet address may come up late"
        );
    }

    #[test]
    fn without_socket_activation_there_is_no_socket_and_no_dependency_on_it() {
        let r = render(&sample_spec(None, Scope::User, false), &V252).unwrap();
        assert_eq!(r.socket, None);
        assert_eq!(r.socket_name, "openclaw-gateway.socket");
        assert!(!r.service.contains(".socket"), "{}", r.service);
    }

    #[test]
    fn namespace_sandboxing_follows_user_namespaces_in_the_user_manager() {
        let spec = sample_spec(None, Scope::User, true);
        let with = render(&spec, &V252).unwrap().service;
        let without = render(
            &spec,
            &SystemdFeatures {
                version: 252,
                user_namespaces: false,
            },
        )
        .unwrap()
        .service;
        for key in [
            "PrivateUsers=",
            "CapabilityBoundingSet=",
            "PrivateTmp=",
            "ProtectSystem=",
            "ProtectHome=",
            "ReadWritePaths=",
        ] {
            assert!(with.contains(key), "{key} with user namespaces");
            assert!(!without.contains(key), "{key} without user namespaces");
        }
        for key in [
            "NoNewPrivileges=yes",
            "SystemCallFilter=@system-service",
            "RestrictAddressFamilies=",
            "MemoryDenyWriteExecute=yes",
            "RestrictNamespaces=yes",
        ] {
            assert!(with.contains(key) && without.contains(key), "{key} always");
        }
        for system_only in [
            "ProtectProc=",
            "ProtectControlGroups=",
            "RemoveIPC=",
            // With PrivateUsers= it hides $XDG_RUNTIME_DIR/systemd/notify on systemd 252.
            "ProtectKernelTunables=",
        ] {
            assert!(!with.contains(system_only), "{system_only} is system-only");
        }
    }

    #[test]
    fn a_system_unit_runs_as_the_user_with_stronger_sandboxing() {
        let spec = sample_spec(
            None,
            Scope::System {
                user: "alice".into(),
            },
            true,
        );
        let r = render(
            &spec,
            &SystemdFeatures {
                version: 252,
                user_namespaces: false,
            },
        )
        .unwrap();
        let s = lines(&r.service);
        for want in [
            "User=alice",
            "WantedBy=multi-user.target",
            "ProtectSystem=strict",
            "ProtectHome=read-only",
            "ReadWritePaths=/home/alice/.openclaw",
            "PrivateTmp=yes",
            "PrivateDevices=yes",
            "ProtectKernelTunables=yes",
            "ProtectKernelModules=yes",
            "ProtectControlGroups=yes",
            "ProtectProc=invisible",
        ] {
            assert!(s.contains(&want), "missing {want:?} in\n{}", r.service);
        }
        assert!(
            !r.service.contains("PrivateUsers="),
            "needs user namespaces"
        );
        assert!(
            r.service
                .contains("systemctl edit openclaw-gateway.service")
        );
        assert_eq!(r.unit_dir, PathBuf::from("/etc/systemd/system"));
        assert!(r.socket.unwrap().contains("WantedBy=sockets.target"));
    }

    #[test]
    fn a_config_outside_the_state_dir_stays_writable() {
        let mut spec = sample_spec(None, Scope::User, true);
        spec.config_path = PathBuf::from("/srv/oc config/openclaw.json");
        let service = render(&spec, &V252).unwrap().service;
        assert!(
            service.contains(
                "ReadWritePaths=/home/alice/.openclaw\nReadWritePaths=-\"/srv/oc config\"\n"
            ),
            "{service}"
        );
    }

    #[test]
    fn newer_keys_appear_only_for_the_systemd_that_knows_them() {
        let spec = sample_spec(None, Scope::User, true);
        let at = |version| {
            render(
                &spec,
                &SystemdFeatures {
                    version,
                    user_namespaces: true,
                },
            )
            .unwrap()
            .service
        };
        let old = at(252);
        for key in [
            "notify-reload",
            "RestartSteps",
            "RestartMaxDelaySec",
            "OpenFile",
            "ReloadSignal",
        ] {
            assert!(!old.contains(key), "{key} is unknown to systemd 252");
        }
        assert!(at(253).contains("Type=notify-reload") && !at(253).contains("RestartSteps"));
        let new = at(256);
        let only_old: Vec<&str> = old
            .lines()
            .filter(|l| !new.lines().any(|n| n == *l))
            .collect();
        let only_new: Vec<&str> = new
            .lines()
            .filter(|l| !old.lines().any(|o| o == *l))
            .collect();
        assert_eq!(only_old, ["Type=notify"]);
        assert_eq!(
            only_new,
            [
                "Type=notify-reload",
                "ReloadSignal=SIGUSR1",
                "RestartSteps=5",
                "RestartMaxDelaySec=60"
            ]
        );
    }

    #[test]
    fn secrets_go_only_into_the_env_file() {
        let secret = "s3cr3t-t0ken with $pace";
        for scope in [
            Scope::User,
            Scope::System {
                user: "alice".into(),
            },
        ] {
            let mut spec = sample_spec(Some("rescue"), scope, true);
            spec.secret_environment = vec![
                ("OPENCLAW_GATEWAY_TOKEN".into(), secret.into()),
                ("PROVIDER_KEY".into(), "pk-123".into()),
            ];
            let r = render(&spec, &V252).unwrap();
            assert_eq!(
                r.env_file_contents,
                "OPENCLAW_GATEWAY_TOKEN=\"s3cr3t-t0ken with \\$pace\"\nPROVIDER_KEY=pk-123\n"
            );
            for unit in [r.service.as_str(), r.socket.as_deref().unwrap()] {
                assert!(
                    !unit.contains("s3cr3t") && !unit.contains("pk-123"),
                    "{unit}"
                );
                assert!(!unit.contains("OPENCLAW_GATEWAY_TOKEN"), "{unit}");
            }
        }
    }

    #[test]
    fn exec_start_arguments_are_quoted() {
        let mut spec = sample_spec(None, Scope::User, true);
        spec.program = PathBuf::from("/opt/Open Claw/bin/openclaw");
        spec.args.push("--label=50% \"off\"".into());
        let service = render(&spec, &V252).unwrap().service;
        assert!(
            service.contains(
                "ExecStart=\"/opt/Open Claw/bin/openclaw\" gateway --port 18789 \"--label=50%% \\\"off\\\"\"\n"
            ),
            "{service}"
        );
    }

    #[test]
    fn line_breaks_in_any_value_are_refused() {
        type Edit = fn(&mut ServiceSpec);
        let cases: [(Edit, &str); 6] = [
            (|s| s.program = PathBuf::from("/opt/x\ny"), "ExecStart"),
            (|s| s.args.push("a\rb".into()), "ExecStart"),
            (
                |s| s.environment.push(("K".into(), "a\nb".into())),
                "Environment",
            ),
            (
                |s| s.secret_environment.push(("K".into(), "a\nb".into())),
                "EnvironmentFile",
            ),
            (|s| s.description = "x\ny".into(), "Description"),
            (
                |s| s.state_dir = PathBuf::from("/home/a\nb"),
                "WorkingDirectory",
            ),
        ];
        for (edit, field) in cases {
            let mut spec = sample_spec(None, Scope::User, true);
            edit(&mut spec);
            let err = render(&spec, &V252).unwrap_err();
            assert_eq!(
                err.message,
                format!("{field} cannot contain CR or LF characters.")
            );
        }
        let mut spec = sample_spec(
            None,
            Scope::System {
                user: "al\nice".into(),
            },
            true,
        );
        assert_eq!(
            render(&spec, &V252).unwrap_err().message,
            "User cannot contain CR or LF characters."
        );
        spec.scope = Scope::User;
        spec.program = PathBuf::from("relative/openclaw");
        assert!(render(&spec, &V252).is_err(), "relative program");
    }

    #[test]
    fn a_state_dir_under_tmp_gets_no_private_tmp() {
        let mut spec = sample_spec(None, Scope::User, true);
        spec.home = PathBuf::from("/tmp/h");
        spec.state_dir = PathBuf::from("/tmp/h/.openclaw");
        spec.config_path = spec.state_dir.join("openclaw.json");
        let service = render(&spec, &V252).unwrap().service;
        assert!(!service.contains("PrivateTmp="), "{service}");
        assert!(service.contains("ProtectSystem=strict"));
        assert!(
            render(&sample_spec(None, Scope::User, true), &V252)
                .unwrap()
                .service
                .contains("PrivateTmp=yes")
        );
    }

    #[test]
    fn the_user_unit_dir_ignores_xdg_config_home() {
        let spec = sample_spec(None, Scope::User, true);
        assert_eq!(
            unit_dir(&spec),
            PathBuf::from("/home/alice/.config/systemd/user")
        );
    }
}
