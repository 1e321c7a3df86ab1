//! The systemd harness works: a real `systemd --user` manager answers over D-Bus, loads user
//! units, socket-activates a `Type=notify` service, runs side by side with another instance,
//! and leaves nothing behind. Skips (printing `SKIPPED: …`) where it cannot run, unless
//! `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1`.
#![cfg(target_os = "linux")]

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// `252.38-1~deb12u1` from `systemd 252 (252.38-1~deb12u1)`.
fn host_systemd_version() -> String {
    let out = Command::new("systemctl").arg("--version").output().unwrap();
    let first = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    match first.split_once('(') {
        Some((_, rest)) => rest.trim_end_matches(')').to_owned(),
        None => first
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned(),
    }
}

/// The `0::` line of /proc/<pid>/cgroup.
fn cgroup_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or_default()
        .to_owned()
}

/// A process that exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.to_owned()))
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn manager_answers_over_dbus_as_the_test_user() {
    let h = require_systemd_harness!();
    eprintln!("manager {} up in {:?}", h.manager_pid(), h.startup_time());

    let version = h.busctl(&[
        "get-property",
        "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        "Version",
    ]);
    assert!(version.success(), "{version}");
    let expected = host_systemd_version();
    assert!(!expected.is_empty());
    assert!(
        version
            .stdout
            .trim()
            .starts_with(&format!("s \"{expected}")),
        "{version} (systemd --version says {expected})"
    );

    // Who and where the clients run.
    assert_eq!(h.user_name(), "openclaw-test");
    let id = h.run("id", ["-u"]);
    assert_eq!(id.stdout.trim(), h.uid().to_string(), "{id}");
    for dir in [h.home(), h.runtime_dir()] {
        let meta = std::fs::metadata(dir).unwrap();
        assert_eq!(meta.uid(), h.uid(), "{}", dir.display());
        assert_eq!(meta.mode() & 0o777, 0o700, "{}", dir.display());
    }
    let env = h.run("env", std::iter::empty::<&str>()).stdout;
    for (k, v) in h.client_env() {
        assert!(
            env.lines().any(|l| l == format!("{k}={v}")),
            "{k}={v} in\n{env}"
        );
    }
    let ours = h.run(env!("CARGO_BIN_EXE_openclaw"), ["--version"]);
    assert!(ours.success(), "our binary as the test user: {ours}");
    assert!(h.runtime_dir().join("systemd/private").exists());
    assert!(h.runtime_dir().join("bus").exists());
    // As on a real login: the manager's and the clients' runtime dir is /run/user/<uid>.
    let session_dir = format!("/run/user/{}", h.uid());
    assert_eq!(h.session_runtime_dir(), Path::new(&session_dir));
    let environ = std::fs::read(format!("/proc/{}/environ", h.manager_pid())).unwrap();
    assert!(
        environ
            .split(|b| *b == 0)
            .any(|kv| kv == format!("XDG_RUNTIME_DIR={session_dir}").as_bytes()),
        "the manager's environment: {}",
        String::from_utf8_lossy(&environ)
    );
    let listed = h.run("ls", [format!("{session_dir}/systemd")]);
    assert!(
        listed.stdout.contains("notify") || listed.stdout.contains("private"),
        "{listed}"
    );

    // The manager is this user's, lives in this harness's cgroup, and clients see a booted
    // machine (inside the manager's mount namespace).
    let cg = cgroup_of(h.manager_pid());
    let name = h
        .cgroup()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(cg.contains(&format!("/{name}/manager/")), "{cg}");
    let state = h.systemctl(&["is-system-running"]).stdout;
    assert!(
        ["initializing", "starting", "running", "degraded"].contains(&state.trim()),
        "is-system-running: {state:?}"
    );
}

const SERVE_PY: &str = r#"import os, socket

fds = os.environ.get("LISTEN_FDS")
names = os.environ.get("LISTEN_FDNAMES")
pid_ok = os.environ.get("LISTEN_PID") == str(os.getpid())
server = socket.socket(fileno=3)


def sd_notify(state):
    addr = os.environ["NOTIFY_SOCKET"]
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(addr)
        s.sendall(state.encode())


sd_notify(f"READY=1\nSTATUS=serving {names} on fd 3")
while True:
    conn, _ = server.accept()
    with conn:
        conn.sendall(f"LISTEN_FDS={fds} LISTEN_FDNAMES={names} LISTEN_PID_OK={pid_ok}\n".encode())
"#;

#[test]
fn socket_activation_starts_a_notify_service() {
    let h = require_systemd_harness!();
    let port = support::free_port();
    h.write_file("smoke/serve.py", SERVE_PY.as_bytes(), 0o755);
    h.write_unit(
        "openclaw-smoke.socket",
        &format!(
            "[Unit]\nDescription=OpenClaw harness smoke socket\n\n\
             [Socket]\nListenStream=127.0.0.1:{port}\nFileDescriptorName=gateway\n"
        ),
    );
    h.write_unit(
        "openclaw-smoke.service",
        "[Unit]\nDescription=OpenClaw harness smoke service\n\
         Requires=openclaw-smoke.socket\nAfter=openclaw-smoke.socket\n\n\
         [Service]\nType=notify\nExecStart=/usr/bin/python3 %h/smoke/serve.py\n\
         TimeoutStartSec=30\n",
    );
    let unit_dir = h.unit_dir();
    assert_eq!(
        std::fs::metadata(&unit_dir).unwrap().uid(),
        h.uid(),
        "{}",
        unit_dir.display()
    );
    h.systemctl_ok(&["daemon-reload"]);
    h.systemctl_ok(&["start", "openclaw-smoke.socket"]);
    assert_eq!(h.active_state("openclaw-smoke.socket"), "active");
    assert_eq!(h.active_state("openclaw-smoke.service"), "inactive");

    // The first connection starts the service, which serves it on the inherited fd.
    let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(5))
        .expect("connect to the socket unit");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        "LISTEN_FDS=1 LISTEN_FDNAMES=gateway LISTEN_PID_OK=True",
        "{}",
        h.manager_log()
    );

    h.wait_active_state("openclaw-smoke.service", "active", Duration::from_secs(10));
    assert_eq!(
        h.unit_property(
            "openclaw-smoke.service",
            "org.freedesktop.systemd1.Unit",
            "ActiveState"
        ),
        "s \"active\""
    );
    assert_eq!(
        h.unit_property(
            "openclaw-smoke.service",
            "org.freedesktop.systemd1.Service",
            "StatusText"
        ),
        "s \"serving gateway on fd 3\""
    );
    let status = h.systemctl(&["status", "--no-pager", "openclaw-smoke.service"]);
    assert!(
        status
            .stdout
            .contains("Status: \"serving gateway on fd 3\""),
        "{status}"
    );
    let pid = h.main_pid("openclaw-smoke.service");
    assert!(alive(pid));

    h.systemctl_ok(&["stop", "openclaw-smoke.socket", "openclaw-smoke.service"]);
    assert_eq!(h.active_state("openclaw-smoke.service"), "inactive");
    assert_eq!(h.active_state("openclaw-smoke.socket"), "inactive");
    wait_until("service process gone", Duration::from_secs(5), || {
        !alive(pid)
    });
    assert!(
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).is_err(),
        "port {port} still listening after stop"
    );
}

#[test]
fn two_harnesses_run_side_by_side_without_interfering() {
    // Start both at the same time.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(support::systemd_harness::harness_or_skip);
        let b = s.spawn(support::systemd_harness::harness_or_skip);
        (a.join().unwrap(), b.join().unwrap())
    });
    let (Some(a), Some(b)) = (a, b) else {
        return;
    };
    assert_ne!(a.manager_pid(), b.manager_pid());
    assert_ne!(a.runtime_dir(), b.runtime_dir());
    assert_ne!(a.home(), b.home());
    assert_ne!(a.cgroup(), b.cgroup());

    // The same unit name in both, with different contents.
    for (h, who) in [(&a, "a"), (&b, "b")] {
        h.write_unit(
            "probe.service",
            &format!("[Service]\nEnvironment=WHO={who}\nExecStart=/bin/sleep infinity\n"),
        );
        h.systemctl_ok(&["daemon-reload"]);
        h.systemctl_ok(&["start", "probe.service"]);
    }
    let pid_a = a.main_pid("probe.service");
    let pid_b = b.main_pid("probe.service");
    assert_ne!(pid_a, pid_b);
    for (h, pid, who) in [(&a, pid_a, "a"), (&b, pid_b, "b")] {
        let name = h
            .cgroup()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let cg = cgroup_of(pid);
        assert!(cg.contains(&format!("/{name}/manager/")), "{cg}");
        assert!(cg.ends_with("/probe.service"), "{cg}");
        let env = h.systemctl_ok(&["show", "--property=Environment", "--value", "probe.service"]);
        assert_eq!(env.trim(), format!("WHO={who}"));
    }

    // Stopping in one leaves the other alone.
    a.systemctl_ok(&["stop", "probe.service"]);
    assert_eq!(a.active_state("probe.service"), "inactive");
    assert_eq!(b.active_state("probe.service"), "active");
    assert!(alive(pid_b));

    // Tearing one down leaves the other alone.
    let a_cgroup = a.cgroup().to_path_buf();
    let a_home = a.home().to_path_buf();
    let a_startup = a.startup_time();
    let dropping = Instant::now();
    drop(a);
    eprintln!(
        "managers up in {:?} and {:?} (started together); teardown took {:?}",
        a_startup,
        b.startup_time(),
        dropping.elapsed()
    );
    assert!(!a_cgroup.exists());
    assert!(!a_home.exists());
    assert_eq!(b.active_state("probe.service"), "active");
    assert!(alive(pid_b));
    b.systemctl_ok(&["daemon-reload"]);
    assert_eq!(b.main_pid("probe.service"), pid_b);
}

#[test]
fn teardown_leaves_nothing_behind_even_after_a_panic() {
    let mut seen = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let h = require_systemd_harness!();
        // A transient service, a socket-activated bus, and a stray client command.
        let run = h.run(
            "systemd-run",
            ["--user", "--unit=straggler", "/bin/sleep", "infinity"],
        );
        assert!(run.success(), "{run}");
        let service = h.main_pid("straggler.service");
        let client = h.command("/bin/sleep").arg("1000").spawn().unwrap();
        let clients_cg = format!(
            "/{}/clients",
            h.cgroup().file_name().unwrap().to_string_lossy()
        );
        wait_until(
            "client in the harness cgroup",
            Duration::from_secs(5),
            || {
                cgroup_of(client.id()).ends_with(&clients_cg)
                    && std::fs::read_to_string(format!("/proc/{}/comm", client.id()))
                        .is_ok_and(|c| c.trim() == "sleep")
            },
        );
        seen = Some((
            h.manager_pid(),
            service,
            client,
            h.cgroup().to_path_buf(),
            h.runtime_dir().to_path_buf(),
        ));
        panic!("deliberate panic with a live harness");
    }));
    let Some((manager, service, mut client, cgroup, runtime_dir)) = seen else {
        return; // skipped
    };
    assert!(result.is_err());
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "stray client survived teardown");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!alive(manager), "manager {manager} survived");
    wait_until("service process gone", Duration::from_secs(5), || {
        !alive(service)
    });
    assert!(!cgroup.exists(), "{}", cgroup.display());
    assert!(!runtime_dir.exists(), "{}", runtime_dir.display());
    assert!(!Path::new(&runtime_dir).parent().unwrap().exists());
}
