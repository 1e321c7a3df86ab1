//! `openclaw gateway status` against real gateways, with `--json` outputs validated against
//! `schemas/status.schema.json`.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::*;

fn status(home: &std::path::Path, port: u16, args: &[&str]) -> (Output, Option<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["gateway", "status"])
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("OPENCLAW_GATEWAY_PORT", port.to_string())
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).ok();
    (out, json)
}

fn assert_valid(report: &Value) {
    support::assert_matches_schema("status.schema.json", report);
}

#[test]
fn a_running_gateway_is_reported_connected_with_its_listener() {
    let gw = TestGateway::start_with(GatewayOptions {
        no_token: true,
        ..Default::default()
    });
    let (out, report) = status(gw.home(), gw.port, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report = report.unwrap();
    assert_valid(&report);
    assert_eq!(report["rpc"]["outcome"], "connected");
    assert_eq!(
        report["rpc"]["capability"], "connected_no_operator_scope",
        "a probe gets no operator scope"
    );
    assert_eq!(report["port"]["status"], "busy");
    assert_eq!(report["port"]["listeners"][0]["pid"], gw.child.id());
    assert_eq!(report["gateway"]["portSource"], "env");
    let (out, report) = status(gw.home(), gw.port, &["--json", "--require-rpc"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "read RPC through the generated token"
    );
    assert_eq!(report.unwrap()["rpc"]["capability"], "admin");
}

#[test]
fn nothing_running_is_unreachable_with_a_free_port_and_exit_0_unless_required() {
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let (out, report) = status(home.path(), port, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report = report.unwrap();
    assert_valid(&report);
    assert_eq!(report["rpc"]["outcome"], "unreachable");
    assert_eq!(report["port"]["status"], "free");
    let (out, _) = status(home.path(), port, &["--require-rpc"]);
    assert_eq!(out.status.code(), Some(1));
    let (out, report) = status(home.path(), port, &["--json", "--no-probe"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report.unwrap()["rpc"]["outcome"], "skipped");
}

#[test]
fn a_token_mismatch_is_its_own_state_with_the_fix() {
    let gw = TestGateway::start();
    let (out, report) = status(gw.home(), gw.port, &["--json", "--token", "wrong"]);
    assert_eq!(out.status.code(), Some(0));
    let report = report.unwrap();
    assert_valid(&report);
    assert_eq!(report["rpc"]["outcome"], "auth-failed");
    assert!(
        report["rpc"]["fix"]
            .as_str()
            .unwrap()
            .contains("gateway.token")
    );
    let (out, _) = status(gw.home(), gw.port, &["--token", "wrong"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("auth-failed") && text.contains("Fix"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn require_rpc_with_no_probe_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let (out, _) = status(home.path(), free_port(), &["--require-rpc", "--no-probe"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--require-rpc needs probing enabled"));
}

#[test]
fn a_broken_config_is_reported_not_fatal() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".openclaw")).unwrap();
    std::fs::write(home.path().join(".openclaw/openclaw.json"), "{ broken").unwrap();
    let (out, report) = status(home.path(), free_port(), &["--json", "--no-probe"]);
    assert_eq!(out.status.code(), Some(0));
    let report = report.unwrap();
    assert_valid(&report);
    assert_eq!(report["config"]["valid"], false);
    assert!(report["config"]["error"].as_str().unwrap().contains(":1:"));
}

/// `gateway status <args>` on a pseudo-terminal (util-linux `script`): what it printed.
fn status_on_a_terminal(home: &std::path::Path, args: &str, no_color_env: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args([
        "-qec",
        &format!(
            "'{}' gateway status --no-probe {args}",
            env!("CARGO_BIN_EXE_openclaw")
        ),
        "/dev/null",
    ])
    .env_clear()
    .env("HOME", home)
    .env("PATH", "/usr/bin:/bin")
    .env("TERM", "xterm")
    .env("OPENCLAW_GATEWAY_PORT", free_port().to_string());
    if no_color_env {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd
        .output()
        .expect("script (util-linux) runs the command on a pty");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colours_only_on_a_terminal_and_never_with_no_color_or_the_no_color_env() {
    let home = tempfile::tempdir().unwrap();
    let text = status_on_a_terminal(home.path(), "", false);
    assert!(
        text.contains("\u{1b}[1mService") || text.contains("\u{1b}[1mGateway"),
        "bold block titles on a terminal: {text:?}"
    );
    for (args, env) in [("--no-color", false), ("", true)] {
        let text = status_on_a_terminal(home.path(), args, env);
        assert!(text.contains("Gateway"), "{text:?}");
        assert!(
            !text.contains('\u{1b}'),
            "{args} / NO_COLOR={env}: {text:?}"
        );
    }
}

#[test]
fn deep_warns_about_a_gateway_on_our_port_that_no_supervisor_runs() {
    let gw = TestGateway::start_with(GatewayOptions {
        no_token: true,
        ..Default::default()
    });
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["gateway", "status", "--json", "--deep"])
        .env_clear()
        .env("HOME", gw.home())
        .env("OPENCLAW_GATEWAY_PORT", gw.port.to_string())
        .env("OPENCLAW_DISCOVERY_ROOT", root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&report);
    assert_eq!(report["deep"], true);
    assert_eq!(report["extraServices"], serde_json::json!([]));
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains(&format!(
            "port {} is held by pid {} (",
            gw.port,
            gw.child.id()
        )),
        "{report:#}"
    );
    let (_, shallow) = status(gw.home(), gw.port, &["--json"]);
    assert_eq!(
        shallow.unwrap()["warnings"],
        serde_json::json!([]),
        "port findings are a --deep scan"
    );
}
