//! Install never leaves a unit that cannot start, against a real `systemd --user` manager whose
//! runtime dir is `/run/user/<uid>` (the harness): the sandbox is probed in the manager and
//! stepped down level by level when a level cannot start there, and a service that still does
//! not become ready is rolled back to the previous units (or to none), with the reason — the
//! gateway's own last log line when it ran — within 10 s.
//!
//! The failing levels are real manager refusals: a debug build's `OPENCLAW_DEBUG_SANDBOX_FAIL`
//! adds, at the named levels only, a directive this manager cannot set up (a `ReadWritePaths=`
//! that does not exist → 226/NAMESPACE; a seccomp filter that denies `connect(2)`, so the
//! notify socket is out of reach and `READY=1` never arrives).
#![cfg(target_os = "linux")]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::service_fixture::*;

fn unit_text(f: &Fixture) -> String {
    std::fs::read_to_string(f.h.unit_dir().join("openclaw-gateway.service")).unwrap_or_default()
}

fn install_with_fault(
    f: &Fixture,
    port: u16,
    fault: &str,
    extra: &[&str],
) -> (support::systemd_harness::RunOutput, Value) {
    let port = port.to_string();
    let mut cmd = f.h.command(&f.bin);
    cmd.args(["gateway", "install", "--port", &port, "--json"])
        .args(extra)
        .env("OPENCLAW_DEBUG_SANDBOX_FAIL", fault);
    let out = support::systemd_harness::run_with_timeout(cmd, Duration::from_secs(120));
    let v: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"));
    (out, v)
}

#[test]
fn install_probes_the_sandbox_and_keeps_the_strongest_level_that_starts() {
    let Some(f) = fixture() else { return };
    f.write_config(None, CONFIG);
    let port = support::free_port();
    let v = f.install(None, port, &[]);
    let text = messages(&v);
    assert!(
        text.contains("Sandbox: namespaces (probed in the manager: ready)"),
        "{text}"
    );
    assert!(unit_text(&f).contains("Environment=OPENCLAW_SANDBOX=namespaces"));
    assert!(unit_text(&f).contains("PrivateUsers=yes"));
    assert_eq!(http_status(port, "/readyz"), Ok(200));
    // No probe unit is left behind in the runtime unit dir.
    let runtime_units = f.h.runtime_dir().join("systemd/user");
    let leftovers: Vec<_> = std::fs::read_dir(&runtime_units)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A second install is a no-op (the level is the installed one: no new probe).
    let (out, v) = f.oc_json(&["gateway", "install", "--port", &port.to_string()]);
    assert!(out.success(), "{out}");
    assert_eq!(v["result"], "already-installed", "{v}");
    // Status and doctor say the level.
    let (_, status) = f.oc_json(&["gateway", "status", "--no-probe"]);
    assert_eq!(
        status["service"]["runtime"]["sandbox"], "namespaces",
        "{status}"
    );
}

#[test]
fn a_manager_that_refuses_namespaces_gets_the_seccomp_level_and_a_ready_service() {
    let Some(f) = fixture() else { return };
    f.write_config(None, CONFIG);
    let port = support::free_port();
    let (out, v) = install_with_fault(&f, port, "namespaces", &[]);
    assert!(out.success(), "{out}\nmanager log:\n{}", f.h.manager_log());
    let text = messages(&v);
    assert!(
        text.contains(
            "Sandbox: seccomp (probed in the manager: ready; namespaces failed (226/NAMESPACE))"
        ),
        "{text}"
    );
    let unit = unit_text(&f);
    assert!(
        unit.contains("Environment=OPENCLAW_SANDBOX=seccomp"),
        "{unit}"
    );
    assert!(!unit.contains("PrivateUsers=") && unit.contains("SystemCallFilter=@system-service"));
    assert_eq!(http_status(port, "/readyz"), Ok(200));
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "active");
    let (_, status) = f.oc_json(&["gateway", "status", "--no-probe"]);
    assert_eq!(
        status["service"]["runtime"]["sandbox"], "seccomp",
        "{status}"
    );
    let text = f.oc(&["gateway", "status", "--no-probe"]);
    assert!(text.stdout.contains("Sandbox       seccomp"), "{text}");
    let doctor = f.oc(&["doctor", "--json"]);
    assert!(
        doctor.stdout.contains("service-sandbox-reduced"),
        "{doctor}"
    );
    // The fallback level is what install chose, not drift doctor would rewrite.
    for drift in [
        "service-custom-edits",
        "service-definition-drift",
        "service-hardening-missing",
    ] {
        assert!(!doctor.stdout.contains(drift), "{drift}: {doctor}");
    }
}

#[test]
fn a_manager_that_refuses_seccomp_too_gets_the_last_level() {
    let Some(f) = fixture() else { return };
    f.write_config(None, CONFIG);
    let port = support::free_port();
    let (out, v) = install_with_fault(&f, port, "namespaces,seccomp", &[]);
    assert!(out.success(), "{out}\nmanager log:\n{}", f.h.manager_log());
    let text = messages(&v);
    assert!(text.contains("Sandbox: none (probed in the manager: ready; namespaces failed (226/NAMESPACE); seccomp failed ("), "{text}");
    assert!(unit_text(&f).contains("Environment=OPENCLAW_SANDBOX=none"));
    assert_eq!(http_status(port, "/readyz"), Ok(200));
}

#[test]
fn a_reinstall_that_cannot_become_ready_restores_the_running_unit_within_10_seconds() {
    let Some(f) = fixture() else { return };
    f.write_config(None, CONFIG);
    let port = support::free_port();
    f.install(None, port, &["--no-socket-activation"]);
    let before = unit_text(&f);
    // The new port is taken by another process: the new gateway cannot listen there.
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = blocker.local_addr().unwrap().port();
    let started = Instant::now();
    let (out, v) = f.oc_json(&[
        "gateway",
        "install",
        "--force",
        "--no-socket-activation",
        "--port",
        &busy.to_string(),
    ]);
    let took = started.elapsed();
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(took < Duration::from_secs(20), "the failure took {took:?}");
    let hints = v["hints"].to_string();
    assert!(
        hints.contains("The gateway's last log line:") && hints.contains("in use"),
        "{v}"
    );
    assert!(hints.contains("Restored the previous unit files"), "{v}");
    assert!(
        hints.contains("The previous gateway service is running again"),
        "{v}"
    );
    assert_eq!(
        unit_text(&f),
        before,
        "the previous unit is back byte for byte"
    );
    wait_for(
        "the previous gateway answers",
        Duration::from_secs(10),
        || http_status(port, "/readyz") == Ok(200),
    );
    assert_ne!(f.main_pid(None), 0);
}

#[test]
fn a_first_install_that_cannot_become_ready_leaves_no_unit() {
    let Some(f) = fixture() else { return };
    f.write_config(None, CONFIG);
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = blocker.local_addr().unwrap().port();
    let (out, v) = f.oc_json(&[
        "gateway",
        "install",
        "--no-socket-activation",
        "--port",
        &busy.to_string(),
    ]);
    assert_eq!(out.code(), Some(1), "{out}");
    let hints = v["hints"].to_string();
    assert!(hints.contains("no gateway service is installed"), "{v}");
    assert!(!f.h.unit_dir().join("openclaw-gateway.service").exists());
    let (_, status) = f.oc_json(&["gateway", "status", "--no-probe"]);
    assert_eq!(
        status["service"]["runtime"]["state"], "not-installed",
        "{status}"
    );
}
