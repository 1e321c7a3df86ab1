//! The rendered units, run for real in a private `systemd --user` manager (see
//! `tests/support/SYSTEMD_HARNESS.md`): the plan's steps (through their `systemctl`
//! equivalents, in plan order, files first and removals before the final reload) bring the
//! socket-activated gateway up sandboxed and ready, a reinstall on a new port moves the
//! socket, uninstall leaves no unit and keeps the state; and the service process is started with
//! exactly the argv and environment (inline and env file) we meant to write, odd characters
//! included. The D-Bus executor itself is tested elsewhere.
//! Skips (printing `SKIPPED: …`) without root/systemd unless
//! `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1`.
#![cfg(target_os = "linux")]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use openclaw::config::LoadedConfig;
use openclaw::environment::Environment;
use openclaw::invocation::{GlobalOptions, Invocation};
use openclaw::service::plan::{Plan, Step};
use openclaw::service::spec::{ServiceSpec, SpecOptions};
use openclaw::service::systemd::plan::{install_plan, uninstall_plan};
use openclaw::service::systemd::units::{self, SystemdFeatures};
use support::systemd_harness::SystemdHarness;
use support::{TOKEN, free_port, http_get};

fn spec_for(h: &SystemdHarness, program: &Path, port: u16) -> ServiceSpec {
    let env = Environment::empty().with("HOME", &h.home().display().to_string());
    let invocation = Invocation::resolve(&GlobalOptions::default(), env.clone(), false).unwrap();
    let config = LoadedConfig::load(&invocation.paths.config_path, &env).unwrap();
    let options = SpecOptions {
        port: Some(port),
        allow_unconfigured: true,
        program: Some(program.to_path_buf()),
        ..SpecOptions::default()
    };
    let mut spec = ServiceSpec::build(&invocation, &config, &options).unwrap();
    // The canvas host would take port + 4, which another test may hold.
    spec.environment
        .push(("OPENCLAW_SKIP_CANVAS_HOST".into(), "1".into()));
    spec.secret_environment
        .push(("OPENCLAW_GATEWAY_TOKEN".into(), TOKEN.into()));
    spec
}

/// Carries out `plan` the way the executor must: files first (owned by the test user), steps
/// in order through their `systemctl --user` equivalents, removals right before `Reload` of an
/// uninstall, `WaitReady` as "active and /readyz answers".
fn execute(h: &SystemdHarness, plan: &Plan, port: u16) {
    for file in &plan.files {
        let relative = file.path.strip_prefix(h.home()).unwrap();
        h.write_file(relative, &file.contents, file.mode);
    }
    for step in &plan.steps {
        match step {
            Step::Dbus {
                method, equivalent, ..
            } => {
                if method == "Reload" && !plan.removals.is_empty() {
                    for path in &plan.removals {
                        let _ = std::fs::remove_file(path);
                    }
                }
                let args: Vec<&str> = equivalent
                    .strip_prefix("systemctl --user ")
                    .unwrap_or_else(|| panic!("not a user-scope command: {equivalent}"))
                    .split(' ')
                    .collect();
                let out = h.systemctl(&args);
                assert!(
                    out.success(),
                    "{equivalent}: {out}\n{}\nmanager log:\n{}",
                    h.systemctl(&["status", "--no-pager", "--full", "openclaw-gateway.service"]),
                    h.manager_log()
                );
            }
            Step::WaitReady {
                target,
                timeout_secs,
            } => {
                h.wait_active_state(target, "active", Duration::from_secs(*timeout_secs));
                let deadline = Instant::now() + Duration::from_secs(*timeout_secs);
                while http_get(port, "/readyz").map(|(code, _)| code) != Some(200) {
                    assert!(
                        Instant::now() < deadline,
                        "/readyz on {port} never answered 200"
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Step::Command { program, .. } => panic!("unexpected command step {program}"),
        }
    }
}

fn proc_status(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{field}:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default()
}

fn install_run_reinstall_uninstall(features: SystemdFeatures) {
    let h = require_systemd_harness!();
    let program = h.copy_executable(env!("CARGO_BIN_EXE_openclaw"));
    let port = free_port();
    let spec = spec_for(&h, &program, port);
    let service = spec.names.systemd_service_file();
    let socket = spec.names.systemd_socket_file();

    execute(&h, &install_plan(&spec, &features).unwrap(), port);
    assert_eq!(h.active_state(&socket), "active");
    let pid = h.main_pid(&service);
    assert!(pid > 0);
    assert_eq!(proc_status(pid, "NoNewPrivs"), "1");
    assert_eq!(proc_status(pid, "Seccomp"), "2", "seccomp filter in place");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    assert!(
        environ.contains(&format!("OPENCLAW_GATEWAY_TOKEN={TOKEN}\0")),
        "the secret arrives through the env file"
    );
    assert!(environ.contains("OPENCLAW_SERVICE_MARKER=openclaw\0"));
    assert!(
        environ.contains("LISTEN_FDNAMES=gateway:gateway\0"),
        "the socket's two fds, named for the gateway: {environ:?}"
    );
    let own_ns = std::fs::read_link("/proc/self/ns/user").unwrap();
    let gw_ns = std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap();
    assert_eq!(
        own_ns != gw_ns,
        features.user_namespaces,
        "PrivateUsers= exactly when user namespaces are used"
    );

    // Reinstall on another port: the socket must move, the service follow.
    let port2 = free_port();
    let moved = spec_for(&h, &program, port2);
    execute(&h, &install_plan(&moved, &features).unwrap(), port2);
    assert_ne!(h.main_pid(&service), pid, "a new gateway process");
    assert!(
        http_get(port, "/readyz").is_none(),
        "the old port is closed after the socket restart"
    );

    execute(&h, &uninstall_plan(&moved), port2);
    for name in [&service, &socket] {
        assert!(!h.unit_dir().join(name).exists(), "{name} removed");
        let load = h.unit_property(name, "org.freedesktop.systemd1.Unit", "LoadState");
        assert_eq!(load, "s \"not-found\"", "{name} gone from the manager");
    }
    assert!(!units::env_file(&moved).exists(), "env file removed");
    assert!(moved.state_dir.join("logs").is_dir(), "state and logs kept");
    assert!(http_get(port2, "/readyz").is_none());
}

#[test]
fn the_planned_units_run_the_gateway_sandboxed_with_user_namespaces() {
    if !units::features::user_namespaces_work() {
        eprintln!("SKIPPED: user namespaces do not work on this host");
        return;
    }
    install_run_reinstall_uninstall(SystemdFeatures {
        version: 252,
        user_namespaces: true,
    });
}

#[test]
fn the_planned_units_run_the_gateway_with_seccomp_sandboxing_only() {
    install_run_reinstall_uninstall(SystemdFeatures {
        version: 252,
        user_namespaces: false,
    });
}

/// The NUL-separated words a process wrote to `path`.
fn nul_words(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut words: Vec<String> = bytes
        .split(|b| *b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    words.pop(); // after the last NUL
    words
}

#[test]
fn the_service_gets_exactly_the_argv_and_environment_we_meant() {
    let h = require_systemd_harness!();
    // A program under a path with a space and a `%`, printing its argv and environment.
    let program = h.write_file(
        "Open Claw/dump%args",
        b"#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%s\\0' \"$a\"; done > \"$HOME/argv\"\nenv -0 > \"$HOME/environ\"\n",
        0o755,
    );
    let mut spec = spec_for(&h, &program, free_port());
    spec.socket_activation = false;
    spec.args.extend(
        [
            "two words",
            "it's",
            "say \"hi\"",
            r"back\slash",
            "100%",
            "$HOME",
            "${HOME}",
            ";",
            "",
            "tab\there",
        ]
        .map(str::to_owned),
    );
    spec.environment.extend(
        [
            ("SPACED", "v w"),
            ("DOLLAR", "$HOME"),
            ("PERCENT", "50%"),
            ("QUOTE", "q\"uote it's"),
            ("BACKSLASH", r"a\b"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    spec.secret_environment
        .push(("SECRET_SPACED".into(), "s $e`c\"r\\et".into()));
    let features = SystemdFeatures {
        version: 252,
        user_namespaces: false,
    };
    let plan = install_plan(&spec, &features).unwrap();
    for file in &plan.files {
        h.write_file(
            file.path.strip_prefix(h.home()).unwrap(),
            &file.contents,
            file.mode,
        );
    }
    let service = spec.names.systemd_service_file();
    // The dump program is no notify daemon: run the same unit as a oneshot.
    h.write_unit(
        &format!("{service}.d/oneshot.conf"),
        "[Service]\nType=oneshot\nRestart=no\nWatchdogSec=0\n",
    );
    h.systemctl_ok(&["daemon-reload"]);
    h.systemctl_ok(&["start", &service]);

    let mut expected = spec.command_line();
    expected[0] = program.display().to_string();
    assert_eq!(nul_words(&h.home().join("argv")), expected);
    let environ = nul_words(&h.home().join("environ"));
    for (key, value) in spec.environment.iter().chain(&spec.secret_environment) {
        let want = format!("{key}={value}");
        assert!(environ.contains(&want), "{want:?} not in {environ:?}");
    }
}
