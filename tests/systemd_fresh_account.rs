//! A fresh account with no config, against a real `systemd --user` manager (the harness, whose
//! runtime dir is `/run/user/<uid>` as on a real login): `gateway install` writes the minimal
//! config first (as `openclaw setup` does), so the service becomes active and ready instead of
//! exiting 78; a second install is a no-op; `stop` and `start` work from a non-terminal (the
//! harness's commands have stdin on /dev/null, as in CI or `ssh host openclaw gateway stop`);
//! uninstall leaves no unit file. Skips (printing `SKIPPED: …`) where the harness cannot run,
//! unless `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1`.
#![cfg(target_os = "linux")]

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use serde_json::{Value, json};
use support::service_fixture::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_fresh_account_installs_a_ready_service_that_scripts_can_stop_and_start() {
    let Some(f) = fixture() else { return };
    let state = f.state_dir(None);
    let config = state.join("openclaw.json");
    assert!(!config.exists(), "the harness home is fresh");
    let port = support::free_port();
    let port_arg = port.to_string();

    let out = f.oc(&["gateway", "install", "--port", &port_arg]);
    assert_eq!(
        out.code(),
        Some(0),
        "install failed: {out}\nmanager log:\n{}",
        f.h.manager_log()
    );
    let first_line = out.stdout.lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first_line,
        format!(
            "No config at {}: wrote a minimal one (gateway.mode = \"local\"); see openclaw setup",
            config.display()
        ),
        "{out}"
    );
    assert!(out.stdout.contains("is active and ready"), "{out}");
    // What setup wrote: the config (0600, the test user's), the token (0600), the workspace.
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(written, json!({"gateway": {"mode": "local"}}));
    assert_eq!(mode(&config), 0o600);
    assert_eq!(std::fs::metadata(&config).unwrap().uid(), f.h.uid());
    assert_eq!(mode(&state.join("gateway.token")), 0o600);
    assert!(state.join("workspace").is_dir());

    // Active (READY=1), socket listening, /readyz 200: not a service that exits 78.
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "active");
    assert_eq!(f.h.active_state("openclaw-gateway.socket"), "active");
    assert_eq!(http_status(port, "/readyz"), Ok(200));
    let (out, v) = f.oc_json(&["status"]);
    assert!(out.success(), "{out}");
    assert_eq!(v["service"]["runtime"]["state"], "running", "{v}");
    assert_eq!(v["rpc"]["ok"], true, "{v}");

    // Again: a no-op, and no setup step (the config exists now).
    let (out, v) = f.oc_json(&["gateway", "install", "--port", &port_arg]);
    assert!(out.success(), "{out}");
    assert_eq!(v["result"], "already-installed", "{v}");
    assert!(v.get("setup").is_none(), "{v}");

    // stop and start from a non-terminal, without --force.
    let (out, v) = f.oc_json(&["gateway", "stop"]);
    assert!(out.success(), "{out}");
    assert_eq!(v["result"], "stopped", "{v}");
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "inactive");
    assert_eq!(f.h.active_state("openclaw-gateway.socket"), "inactive");
    assert!(refused(port), "port {port} still accepts after stop");
    let out = f.oc(&["gateway", "start"]);
    assert!(out.success(), "{out}\nmanager log:\n{}", f.h.manager_log());
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "active");
    assert_eq!(http_status(port, "/readyz"), Ok(200));
    // (`health` dials the configured port, not the service's `--port`: name it.)
    let url = format!("ws://127.0.0.1:{port}");
    let out = f.oc(&["health", "--url", &url]);
    assert!(out.success(), "{out}");
    assert!(out.stdout.starts_with("Gateway Health\nOK ("), "{out}");

    // Uninstall: no unit file left; config and state kept.
    let (out, v) = f.oc_json(&["gateway", "uninstall"]);
    assert!(out.success(), "{out}");
    assert_eq!(v["result"], "uninstalled", "{v}");
    let unit_dir = f.h.unit_dir();
    let left: Vec<String> = std::fs::read_dir(&unit_dir)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("openclaw-gateway"))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", unit_dir.display());
    assert!(!state.join("gateway.systemd.env").exists());
    assert!(config.exists(), "config kept");
    assert!(refused(port));
}

#[test]
fn install_json_carries_what_setup_wrote_and_keeps_every_other_field() {
    let Some(f) = fixture() else { return };
    let state = f.state_dir(Some("fresh"));
    let port = support::free_port().to_string();
    let (out, v) = f.oc_json(&["--profile", "fresh", "gateway", "install", "--port", &port]);
    assert!(out.success(), "{out}\nmanager log:\n{}", f.h.manager_log());
    for key in ["action", "ok", "result", "messages", "service"] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
    assert_eq!(v["action"], "install");
    assert_eq!(v["result"], "installed", "{v}");
    assert!(messages(&v).contains("is active and ready"), "{v}");
    let setup = &v["setup"];
    assert_eq!(setup["config"]["action"], "written", "{v}");
    assert_eq!(
        setup["config"]["path"],
        state.join("openclaw.json").to_str().unwrap()
    );
    assert_eq!(setup["config"]["gatewayMode"], "local");
    assert_eq!(setup["token"]["action"], "generated");
    let token = std::fs::read_to_string(state.join("gateway.token")).unwrap();
    assert!(
        !out.stdout.contains(token.trim()),
        "the token is never printed"
    );
    assert_eq!(f.h.active_state("openclaw-gateway-fresh.service"), "active");
    assert_eq!(http_status(port.parse().unwrap(), "/readyz"), Ok(200));
    let (out, _) = f.oc_json(&["--profile", "fresh", "gateway", "uninstall"]);
    assert!(out.success(), "{out}");
}
