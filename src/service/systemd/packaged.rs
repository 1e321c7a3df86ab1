//! The units a distribution package ships in `/usr/lib/systemd/{user,system}`, rendered from the
//! same templates as `openclaw gateway install`'s (via [`units::render_as`] with
//! [`Origin::Package`]) for the packaged binary `/usr/bin/openclaw`, and how `gateway install`
//! (and `doctor`) recognise them.
//!
//! - User unit: default profile, port 18789 on loopback, socket-activated, started with
//!   `--allow-unconfigured` (no config needed; the gateway generates its token into
//!   `~/.openclaw/gateway.token` on the first start); paths are `%h`-relative. Rendered for the
//!   systemd floor (252) without user namespaces, so it starts on every host the package
//!   supports (seccomp-based sandboxing only; `gateway install` renders for the host instead).
//! - System unit: the same gateway as a dynamic user `openclaw` (`DynamicUser=yes`, or a static
//!   account of that name if the admin made one) with its state in `/var/lib/openclaw`
//!   (`StateDirectory=`), so the package needs no account of its own and no maintainer script.
//! - Ours: a unit file whose `Environment=OPENCLAW_SERVICE_MARKER=openclaw` line is present.

use std::path::{Path, PathBuf};

use super::units::{self, FLOOR_VERSION, Origin, RenderedUnits, SystemdFeatures};
use crate::contract::bind::bind_plan;
use crate::ports::DEFAULT_GATEWAY_PORT;
use crate::profile::Profile;
use crate::service::ServiceError;
use crate::service::plan::Plan;
use crate::service::spec::{Scope, ServiceSpec};
use crate::service_names::{
    SERVICE_MARKER, ServiceNames, install_metadata_env, service_description,
};

/// The binary the packaged units run.
pub const PACKAGED_PROGRAM: &str = "/usr/bin/openclaw";
/// Where a package puts user units.
pub const PACKAGED_USER_UNIT_DIR: &str = "usr/lib/systemd/user";
/// Where a package puts system units.
pub const PACKAGED_SYSTEM_UNIT_DIR: &str = "usr/lib/systemd/system";
/// The packaged system unit's state dir (`StateDirectory=openclaw`).
pub const PACKAGED_SYSTEM_STATE_DIR: &str = "/var/lib/openclaw";
/// The account the packaged system unit runs as (dynamic unless it exists).
pub const PACKAGED_SYSTEM_USER: &str = "openclaw";
/// What the user unit's paths are relative to: stands for `%h`, never appears in a unit.
const HOME_PLACEHOLDER: &str = "/home/packaged-user";

/// The host features the packaged units are rendered for: the oldest supported systemd, no
/// user namespaces (a package cannot know the host).
pub const PACKAGED_FEATURES: SystemdFeatures = SystemdFeatures {
    version: FLOOR_VERSION,
    user_namespaces: false,
};

/// Which manager a packaged unit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackagedScope {
    /// `/usr/lib/systemd/user`.
    User,
    /// `/usr/lib/systemd/system`.
    System,
}

impl PackagedScope {
    /// Both scopes.
    pub const ALL: [Self; 2] = [Self::User, Self::System];

    /// The unit directory, relative to the root (`usr/lib/systemd/...`).
    pub fn unit_dir(self) -> &'static str {
        match self {
            Self::User => PACKAGED_USER_UNIT_DIR,
            Self::System => PACKAGED_SYSTEM_UNIT_DIR,
        }
    }

    fn of(scope: &Scope) -> Self {
        match scope {
            Scope::User => Self::User,
            Scope::System { .. } => Self::System,
        }
    }
}

/// The spec of the packaged gateway of `scope`.
pub fn packaged_spec(scope: PackagedScope) -> ServiceSpec {
    let profile = Profile::Default;
    let names = ServiceNames::for_profile(&profile);
    let port = DEFAULT_GATEWAY_PORT;
    let bind = bind_plan(crate::config::BindMode::Loopback, None)
        .expect("the loopback bind plan needs no host");
    let mut listen_addresses = bind.required.clone();
    listen_addresses.extend(bind.optional.iter().copied());
    let (home, state_dir, scope, mut environment) = match scope {
        PackagedScope::User => {
            let home = PathBuf::from(HOME_PLACEHOLDER);
            let state = home.join(".openclaw");
            (home, state, Scope::User, Vec::new())
        }
        PackagedScope::System => {
            let state = PathBuf::from(PACKAGED_SYSTEM_STATE_DIR);
            let env = vec![
                // A dynamic user's home is `/`: name the state dir and home explicitly.
                ("HOME".to_owned(), PACKAGED_SYSTEM_STATE_DIR.to_owned()),
                (
                    "OPENCLAW_STATE_DIR".to_owned(),
                    PACKAGED_SYSTEM_STATE_DIR.to_owned(),
                ),
                (
                    "OPENCLAW_CONFIG_PATH".to_owned(),
                    state
                        .join(crate::paths::CONFIG_FILE_NAME)
                        .display()
                        .to_string(),
                ),
            ];
            let scope = Scope::System {
                user: PACKAGED_SYSTEM_USER.to_owned(),
            };
            (state.clone(), state, scope, env)
        }
    };
    environment.push(("OPENCLAW_SYSTEMD_UNIT".into(), names.systemd_service_file()));
    for (key, value) in install_metadata_env() {
        environment.push((key.to_owned(), value.to_owned()));
    }
    let version = env!("CARGO_PKG_VERSION").to_owned();
    ServiceSpec {
        description: service_description(&profile, &version),
        profile,
        names,
        program: PathBuf::from(PACKAGED_PROGRAM),
        args: vec![
            "gateway".into(),
            "--port".into(),
            port.to_string(),
            "--allow-unconfigured".into(),
        ],
        port,
        listen_addresses,
        environment,
        secret_environment: Vec::new(),
        config_path: state_dir.join(crate::paths::CONFIG_FILE_NAME),
        home,
        state_dir,
        socket_activation: true,
        scope,
        allow_unconfigured: true,
        version,
    }
}

/// The packaged units of `scope`: `unit_dir` is `/usr/lib/systemd/{user,system}`; the env file
/// is not shipped (`EnvironmentFile=-` tolerates its absence).
pub fn render_packaged(scope: PackagedScope) -> Result<RenderedUnits, ServiceError> {
    let mut rendered =
        units::render_as(&packaged_spec(scope), &PACKAGED_FEATURES, Origin::Package)?;
    rendered.unit_dir = Path::new("/").join(scope.unit_dir());
    Ok(rendered)
}

/// True when `a` and `b` name the same existing file (through symlinks such as /lib → usr/lib).
pub fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// True when the unit file at `path` was written by OpenClaw (its marker line is present).
fn is_ours(path: &Path) -> bool {
    let marker = format!("Environment=OPENCLAW_SERVICE_MARKER={SERVICE_MARKER}");
    std::fs::read_to_string(path).is_ok_and(|text| text.lines().any(|l| l.trim() == marker))
}

/// The packaged unit `service_file` of `scope`'s manager under `root` (`/` on a real host), if a
/// package installed one of ours there (`/usr/lib/systemd/...`, or `/lib/systemd/...` on hosts
/// without merged /usr). For `gateway install` and `doctor`.
pub fn packaged_unit(root: &Path, scope: &Scope, service_file: &str) -> Option<PathBuf> {
    let dir = PackagedScope::of(scope).unit_dir();
    [dir.to_owned(), dir.trim_start_matches("usr/").to_owned()]
        .iter()
        .map(|d| root.join(d).join(service_file))
        .find(|p| is_ours(p))
}

/// True when the system unit `service_file` under `root` is enabled: a symlink to it (or its
/// socket) in a `.wants`/`.requires` dir of `/etc/systemd/system`.
fn system_unit_enabled(root: &Path, service_file: &str) -> bool {
    let socket_file = service_file
        .strip_suffix(".service")
        .map(|base| format!("{base}.socket"));
    let Ok(entries) = std::fs::read_dir(root.join("etc/systemd/system")) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        (name.ends_with(".wants") || name.ends_with(".requires"))
            && (entry.path().join(service_file).exists()
                || socket_file
                    .as_ref()
                    .is_some_and(|s| entry.path().join(s).exists()))
    })
}

/// True when the system unit at `path` must not get a user unit of the same name beside it: any
/// system unit except a packaged one of ours that is not enabled (a package ships it for
/// whoever wants a system-wide gateway; a user gateway does not duel with it until it is).
pub fn system_unit_blocks_user_install(root: &Path, path: &Path, service_file: &str) -> bool {
    let packaged = packaged_unit(
        root,
        &Scope::System {
            user: PACKAGED_SYSTEM_USER.into(),
        },
        service_file,
    );
    if packaged.is_some_and(|p| same_file(&p, path)) {
        return system_unit_enabled(root, service_file);
    }
    path.exists()
}

/// How the note of [`note_packaged_unit`] starts (install repeats it in its output).
pub const PACKAGED_NOTE_PREFIX: &str = "The openclaw package ships ";

/// Adds the note that says how an install relates to a packaged unit of the same name under
/// `root`: the installed unit (in `~/.config/systemd/user` or `/etc/systemd/system`) takes
/// precedence over it, and uninstalling falls back to it.
pub fn note_packaged_unit(plan: &mut Plan, spec: &ServiceSpec, root: &Path) {
    let service = spec.names.systemd_service_file();
    let socket = spec.names.systemd_socket_file();
    let Some(packaged) = packaged_unit(root, &spec.scope, &service) else {
        return;
    };
    let systemctl = match spec.scope {
        Scope::User => "systemctl --user",
        Scope::System { .. } => "systemctl",
    };
    let dir = units::unit_dir(spec);
    let mut note = format!(
        "{PACKAGED_NOTE_PREFIX}{} (and {socket}); this install writes {}, which systemd uses \
         instead of it (units in {} override packaged ones of the same name). After `openclaw \
         gateway uninstall` the packaged unit applies again: {systemctl} enable --now {socket}.",
        packaged.display(),
        dir.join(&service).display(),
        dir.display(),
    );
    if !spec.socket_activation {
        note.push_str(&format!(
            " Without socket activation the packaged {socket} must not start this service: \
             {systemctl} disable --now {socket}."
        ));
    }
    plan.notes.push(note);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::systemd::plan::install_plan;
    use crate::service::systemd::units::tests::sample_spec;

    fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_packaged_user_unit_runs_the_packaged_binary_with_home_relative_paths() {
        let r = render_packaged(PackagedScope::User).unwrap();
        let lines: Vec<&str> = r.service.lines().collect();
        for want in [
            "ExecStart=/usr/bin/openclaw gateway --port 18789 --allow-unconfigured",
            "WorkingDirectory=-%h/.openclaw",
            "EnvironmentFile=-%h/.openclaw/gateway.systemd.env",
            "Environment=OPENCLAW_SERVICE_MARKER=openclaw",
            "Requires=openclaw-gateway.socket",
            "Type=notify",
            "WantedBy=default.target",
        ] {
            assert!(lines.contains(&want), "missing {want:?} in\n{}", r.service);
        }
        assert!(r.service.contains("shipped by the openclaw package"));
        assert!(!r.service.contains("packaged-user"), "{}", r.service);
        for absent in ["PrivateUsers=", "ProtectHome=", "User=", "DynamicUser="] {
            assert!(!r.service.contains(absent), "{absent} in\n{}", r.service);
        }
        let socket = r.socket.unwrap();
        assert!(
            socket.contains("ListenStream=127.0.0.1:18789\n"),
            "{socket}"
        );
        assert!(socket.contains("FileDescriptorName=gateway\n"), "{socket}");
        assert_eq!(r.unit_dir, PathBuf::from("/usr/lib/systemd/user"));
    }

    #[test]
    fn the_packaged_system_unit_runs_as_a_dynamic_user_with_a_state_directory() {
        let r = render_packaged(PackagedScope::System).unwrap();
        let lines: Vec<&str> = r.service.lines().collect();
        for want in [
            "ExecStart=/usr/bin/openclaw gateway --port 18789 --allow-unconfigured",
            "User=openclaw",
            "DynamicUser=yes",
            "StateDirectory=openclaw",
            "WorkingDirectory=/var/lib/openclaw",
            "Environment=OPENCLAW_STATE_DIR=/var/lib/openclaw",
            "Environment=HOME=/var/lib/openclaw",
            "ProtectSystem=strict",
            "WantedBy=multi-user.target",
        ] {
            assert!(lines.contains(&want), "missing {want:?} in\n{}", r.service);
        }
        assert!(
            !r.service.contains("ReadWritePaths="),
            "StateDirectory= is writable"
        );
        assert_eq!(r.unit_dir, PathBuf::from("/usr/lib/systemd/system"));
    }

    #[test]
    fn an_install_keeps_its_own_header_and_no_dynamic_user() {
        let install = units::render(&sample_spec(None, Scope::User, true), &PACKAGED_FEATURES)
            .unwrap()
            .service;
        assert!(install.contains("written by `openclaw gateway install`"));
        assert!(!install.contains("shipped by the openclaw package"));
        assert!(!install.contains("DynamicUser="));
    }

    #[test]
    fn a_packaged_unit_refuses_paths_it_cannot_express() {
        let mut user = packaged_spec(PackagedScope::User);
        user.state_dir = PathBuf::from("/srv/openclaw");
        let err = units::render_as(&user, &PACKAGED_FEATURES, Origin::Package).unwrap_err();
        assert!(
            err.message.contains("must be inside the home"),
            "{}",
            err.message
        );

        let mut system = packaged_spec(PackagedScope::System);
        system.state_dir = PathBuf::from("/srv/openclaw");
        let err = units::render_as(&system, &PACKAGED_FEATURES, Origin::Package).unwrap_err();
        assert!(err.message.contains("/var/lib/<name>"), "{}", err.message);
    }

    #[test]
    fn a_packaged_unit_is_found_only_when_it_carries_our_marker() {
        let root = tempfile::tempdir().unwrap();
        let service = "openclaw-gateway.service";
        assert_eq!(packaged_unit(root.path(), &Scope::User, service), None);
        let r = render_packaged(PackagedScope::User).unwrap();
        let path = write(
            root.path(),
            "usr/lib/systemd/user/openclaw-gateway.service",
            &r.service,
        );
        assert_eq!(
            packaged_unit(root.path(), &Scope::User, service),
            Some(path)
        );
        let system = Scope::System { user: "x".into() };
        assert_eq!(packaged_unit(root.path(), &system, service), None);
        let foreign = write(
            root.path(),
            "lib/systemd/system/openclaw-gateway.service",
            "[Service]\nExecStart=/bin/true\n",
        );
        assert_eq!(packaged_unit(root.path(), &system, service), None);
        assert!(system_unit_blocks_user_install(
            root.path(),
            &foreign,
            service
        ));
    }

    #[test]
    fn a_packaged_system_unit_blocks_a_user_install_only_once_enabled() {
        let root = tempfile::tempdir().unwrap();
        let service = "openclaw-gateway.service";
        let r = render_packaged(PackagedScope::System).unwrap();
        let path = write(
            root.path(),
            "usr/lib/systemd/system/openclaw-gateway.service",
            &r.service,
        );
        assert!(!system_unit_blocks_user_install(
            root.path(),
            &path,
            service
        ));
        write(
            root.path(),
            "etc/systemd/system/sockets.target.wants/openclaw-gateway.socket",
            "",
        );
        assert!(system_unit_blocks_user_install(root.path(), &path, service));
    }

    #[test]
    fn an_install_over_a_packaged_unit_says_which_unit_systemd_uses() {
        let root = tempfile::tempdir().unwrap();
        let spec = sample_spec(None, Scope::User, true);
        let mut plan = install_plan(&spec, &PACKAGED_FEATURES).unwrap();
        let before = plan.notes.len();
        note_packaged_unit(&mut plan, &spec, root.path());
        assert_eq!(plan.notes.len(), before, "no packaged unit, no note");

        let r = render_packaged(PackagedScope::User).unwrap();
        write(
            root.path(),
            "usr/lib/systemd/user/openclaw-gateway.service",
            &r.service,
        );
        note_packaged_unit(&mut plan, &spec, root.path());
        let note = plan.notes.last().unwrap();
        assert!(
            note.contains("usr/lib/systemd/user/openclaw-gateway.service"),
            "{note}"
        );
        assert!(
            note.contains(
                "this install writes /home/alice/.config/systemd/user/openclaw-gateway.service"
            ),
            "{note}"
        );
        assert!(
            note.contains("systemctl --user enable --now openclaw-gateway.socket"),
            "{note}"
        );
        // The plan still writes the full unit (it overrides the packaged one).
        assert!(
            plan.files.iter().any(|f| f.path
                == Path::new("/home/alice/.config/systemd/user/openclaw-gateway.service"))
        );

        let named = sample_spec(Some("rescue"), Scope::User, false);
        let mut plan = install_plan(&named, &PACKAGED_FEATURES).unwrap();
        let before = plan.notes.len();
        note_packaged_unit(&mut plan, &named, root.path());
        assert_eq!(
            plan.notes.len(),
            before,
            "a named profile has its own unit name"
        );
    }
}
