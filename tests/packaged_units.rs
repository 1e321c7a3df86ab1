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

use support::systemd_harness::{HarnessOptions, OverlayFile, harness_with_or_skip};

fn generated(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/generated")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// GET `http://127.0.0.1:18789/readyz` from inside the harness's network namespace: the status
/// code, or `None` when nothing answered.
fn readyz_inside(h: &support::systemd_harness::SystemdHarness) -> Option<u16> {
    let script = "import urllib.request, urllib.error\n\
                  try:\n    r = urllib.request.urlopen('http://127.0.0.1:18789/readyz', timeout=10)\n    print(r.status)\n\
                  except urllib.error.HTTPError as e:\n    print(e.code)\n";
    let out = h.run("/usr/bin/python3", ["-c", script]);
    out.stdout.trim().parse().ok()
}

#[test]
fn the_packaged_user_socket_starts_a_gateway_that_answers_readyz_without_config_or_install() {
    let service = generated("systemd/user/openclaw-gateway.service");
    let socket = generated("systemd/user/openclaw-gateway.socket");
    let options = HarnessOptions {
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
    };
    let Some(h) = harness_with_or_skip(&options) else {
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
    let fragment = h.unit_property(
        "openclaw-gateway.service",
        "org.freedesktop.systemd1.Unit",
        "FragmentPath",
    );
    assert!(
        fragment.contains("/usr/lib/systemd/user/openclaw-gateway.service"),
        "{fragment}"
    );

    // The first connection queues in the socket's backlog while the gateway starts.
    let started = Instant::now();
    let mut status = readyz_inside(&h);
    while status != Some(200) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
        status = readyz_inside(&h);
    }
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
    let out = h.run("/usr/bin/openclaw", ["--version"]);
    assert!(out.stdout.starts_with("openclaw "), "{out}");
}
