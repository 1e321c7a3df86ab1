//! The systemd units the distribution packages ship (`packaging/generated/systemd/`, the bytes
//! cargo-deb, the RPM spec, the PKGBUILD put into `/usr/lib/systemd/`) are what the renderer
//! produces, and the user unit works as shipped in a real `systemd --user`: installed where a
//! package puts it (`/usr/lib/systemd/user`, the binary at `/usr/bin/openclaw`), with no config
//! and without `gateway install`, `systemctl --user enable --now openclaw-gateway.socket` gives
//! a gateway that answers `/readyz`.
#![cfg(target_os = "linux")]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::systemd_harness::{HarnessOptions, OverlayFile, SystemdHarness, harness_with_or_skip};

fn generated(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/generated")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// GET `http://127.0.0.1:<port>/readyz` from inside the harness's network namespace: the status
/// code, or `None` when nothing answered.
fn readyz_inside(h: &SystemdHarness, port: u16) -> Option<u16> {
    let script = format!(
        "import urllib.request, urllib.error\n\
         try:\n    r = urllib.request.urlopen('http://127.0.0.1:{port}/readyz', timeout=10)\n    print(r.status)\n\
         except urllib.error.HTTPError as e:\n    print(e.code)\n"
    );
    let out = h.run("/usr/bin/python3", ["-c", script.as_str()]);
    out.stdout.trim().parse().ok()
}

/// Polls `/readyz` on `port` for up to 30 s; the last status.
fn wait_readyz(h: &SystemdHarness, port: u16) -> Option<u16> {
    let started = Instant::now();
    let mut status = readyz_inside(h, port);
    while status != Some(200) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
        status = readyz_inside(h, port);
    }
    status
}

/// The unit file systemd loaded `openclaw-gateway.service` from (busctl prints `s "<path>"`).
fn fragment_path(h: &SystemdHarness) -> String {
    let raw = h.unit_property(
        "openclaw-gateway.service",
        "org.freedesktop.systemd1.Unit",
        "FragmentPath",
    );
    raw.trim()
        .strip_prefix("s \"")
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or_else(|| panic!("FragmentPath: {raw}"))
        .to_owned()
}

/// The packaged user units in `/usr/lib/systemd/user`, the test binary at `/usr/bin/openclaw`,
/// a private network (port 18789 is the packaged unit's).
fn packaged_options() -> HarnessOptions {
    let service = generated("systemd/user/openclaw-gateway.service");
    let socket = generated("systemd/user/openclaw-gateway.socket");
    HarnessOptions {
        overlays: vec![
            (
                PathBuf::from("/usr/lib/systemd/user"),
                vec![
                    (
                        "openclaw-gateway.service".into(),
                        OverlayFile::Contents(service, 0o644),
                    ),
                    (
                        "openclaw-gateway.socket".into(),
                        OverlayFile::Contents(socket, 0o644),
                    ),
                ],
            ),
            (
                PathBuf::from("/usr/bin"),
                vec![(
                    "openclaw".into(),
                    OverlayFile::Symlink(PathBuf::from(env!("CARGO_BIN_EXE_openclaw"))),
                )],
            ),
        ],
        private_network: true,
    }
}

#[test]
fn the_packaged_user_socket_starts_a_gateway_that_answers_readyz_without_config_or_install() {
    let Some(h) = harness_with_or_skip(&packaged_options()) else {
        return;
    };
    assert!(
        !h.unit_dir().exists(),
        "nothing in ~/.config/systemd/user: no `gateway install` ran"
    );
    let state_dir = h.home().join(".openclaw");
    assert!(!state_dir.exists(), "no config, no state dir yet");

    h.systemctl_ok(&["enable", "--now", "openclaw-gateway.socket"]);
    assert_eq!(h.active_state("openclaw-gateway.socket"), "active");
    assert_eq!(
        h.active_state("openclaw-gateway.service"),
        "inactive",
        "socket activation: the gateway starts on the first connection"
    );
    assert_eq!(
        fragment_path(&h),
        "/usr/lib/systemd/user/openclaw-gateway.service"
    );

    // The first connection queues in the socket's backlog while the gateway starts.
    let status = wait_readyz(&h, 18789);
    assert_eq!(
        status,
        Some(200),
        "GET /readyz through the packaged socket; service state {}; manager log:\n{}",
        h.active_state("openclaw-gateway.service"),
        h.manager_log()
    );
    assert_eq!(h.active_state("openclaw-gateway.service"), "active");
    assert!(
        state_dir.join("gateway.token").is_file(),
        "the gateway generated its token on the first start"
    );
    // `gateway status` sees the packaged unit and reaches the gateway with the generated token.
    let status = h.run("/usr/bin/openclaw", ["gateway", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(status.stdout.trim())
        .unwrap_or_else(|e| panic!("status --json ({e}): {status}"));
    assert_eq!(
        v["service"]["runtime"]["definitionPath"], "/usr/lib/systemd/user/openclaw-gateway.service",
        "{status}"
    );
    assert_eq!(v["service"]["runtime"]["state"], "running", "{status}");
    assert_eq!(v["rpc"]["ok"], true, "{status}");
    let out = h.run("/usr/bin/openclaw", ["--version"]);
    assert!(out.stdout.starts_with("openclaw "), "{out}");
}

#[test]
fn gateway_install_over_the_packaged_unit_overrides_it_says_so_and_uninstall_falls_back_to_it() {
    let Some(h) = harness_with_or_skip(&packaged_options()) else {
        return;
    };
    h.systemctl_ok(&["enable", "--now", "openclaw-gateway.socket"]);
    assert_eq!(wait_readyz(&h, 18789), Some(200), "{}", h.manager_log());

    let out = h.run(
        "/usr/bin/openclaw",
        [
            "gateway",
            "install",
            "--port",
            "18790",
            "--allow-unconfigured",
            "--json",
        ],
    );
    assert!(
        out.success(),
        "install: {out}\nmanager log:\n{}",
        h.manager_log()
    );
    let home_unit = h.unit_dir().join("openclaw-gateway.service");
    assert!(
        out.stdout.contains(&format!(
            "The openclaw package ships /usr/lib/systemd/user/openclaw-gateway.service (and openclaw-gateway.socket); this install writes {}",
            home_unit.display()
        )),
        "install says the packaged unit is overridden: {out}"
    );
    assert_eq!(fragment_path(&h), home_unit.display().to_string());
    assert_eq!(
        readyz_inside(&h, 18790),
        Some(200),
        "the installed unit's port"
    );
    assert_eq!(
        readyz_inside(&h, 18789),
        None,
        "one gateway: the packaged socket's port is closed"
    );

    let out = h.run("/usr/bin/openclaw", ["gateway", "uninstall", "--json"]);
    assert!(out.success(), "uninstall: {out}");
    assert!(!home_unit.exists());
    h.systemctl_ok(&["enable", "--now", "openclaw-gateway.socket"]);
    assert_eq!(
        fragment_path(&h),
        "/usr/lib/systemd/user/openclaw-gateway.service",
        "the packaged unit applies again"
    );
    assert_eq!(wait_readyz(&h, 18789), Some(200), "{}", h.manager_log());
}
