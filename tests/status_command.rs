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

#[test]
fn port_probes_that_port_on_loopback_says_cli_and_makes_the_service_diagnostic_only() {
    let gw = TestGateway::start_with(GatewayOptions {
        no_token: true,
        ..Default::default()
    });
    // The env points elsewhere: --port wins.
    let port = gw.port.to_string();
    let (out, report) = status(gw.home(), free_port(), &["--json", "--port", &port]);
    assert_eq!(out.status.code(), Some(0));
    let report = report.unwrap();
    assert_valid(&report);
    assert_eq!(report["gateway"]["port"], gw.port, "{report:#}");
    assert_eq!(report["gateway"]["portSource"], "cli");
    assert_eq!(report["gateway"]["probeUrl"], gw.url());
    assert_eq!(report["rpc"]["urlSource"], "cli --port");
    assert_eq!(report["rpc"]["outcome"], "connected");
    assert_eq!(report["port"]["listeners"][0]["pid"], gw.child.id());
    assert_eq!(report["service"]["targetRole"], "diagnostic-only");
    let (out, _) = status(gw.home(), free_port(), &["--port", &port]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(diagnostic only, not the probe target)")
            && text.contains(&format!("port {} (cli)", gw.port))
            && text.contains(&format!("Probe target  {} (cli --port)", gw.url())),
        "{text}"
    );
}

#[test]
fn port_together_with_url_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let (out, _) = status(
        home.path(),
        free_port(),
        &["--port", "18789", "--url", "ws://127.0.0.1:18789"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the argument '--port <PORT>' cannot be used with '--url <URL>'"),
        "{stderr}"
    );
}

#[test]
fn dashboard_links_and_probe_note_follow_the_bind_mode() {
    for (bind, note) in [
        (
            "loopback",
            "Loopback-only gateway; only local clients can connect.".to_owned(),
        ),
        (
            "lan",
            "bind=lan listens on 0.0.0.0 (all interfaces); probing via 127.0.0.1.".to_owned(),
        ),
    ] {
        let gw = TestGateway::start_with(
            GatewayOptions::default().config(&format!(r#"{{"gateway": {{"bind": "{bind}"}}}}"#)),
        );
        let (out, report) = status(gw.home(), gw.port, &["--json", "--token", TOKEN]);
        assert_eq!(out.status.code(), Some(0));
        let report = report.unwrap();
        assert_valid(&report);
        let g = &report["gateway"];
        assert_eq!(g["bindMode"], bind, "{report:#}");
        assert_eq!(g["probeNote"], note.as_str());
        assert_eq!(report["rpc"]["outcome"], "connected", "{report:#}");
        let http = format!("http://127.0.0.1:{}/", gw.port);
        assert_eq!(g["controlUiLinks"]["httpUrl"], http.as_str());
        assert_eq!(g["controlUiLinks"]["wsUrl"], gw.url().as_str());
        assert_eq!(g["controlUiLinks"]["dashboardUrl"], http.as_str());
        // What the link reaches: the Control UI, beside the health endpoints.
        let (code, body) = http_get(gw.port, "/").unwrap();
        assert_eq!(
            (code, body.contains("OpenClaw Control")),
            (200, true),
            "{body}"
        );
        assert_eq!(http_get(gw.port, "/healthz").unwrap().0, 200);
        let (out, _) = status(gw.home(), gw.port, &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!(
                "Dashboard     {http} (run `openclaw dashboard` to open it signed in)"
            )) && text.contains(&format!("Probe note    {note}")),
            "{text}"
        );
    }
}

/// `gateway status --deep --json` for the gateway in `home` on `port` (no system folders scanned).
fn deep_status(home: &std::path::Path, port: u16, text: bool) -> Output {
    let root = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
    cmd.args(["gateway", "status", "--deep"]);
    if !text {
        cmd.arg("--json");
    }
    cmd.env_clear()
        .env("HOME", home)
        .env("OPENCLAW_GATEWAY_PORT", port.to_string())
        .env("OPENCLAW_DISCOVERY_ROOT", root.path())
        .output()
        .unwrap()
}

#[tokio::test]
async fn deep_lists_an_established_client_connection_with_its_process() {
    let gw = TestGateway::start();
    let (ws, _) = open(gw.port).await;
    let client_addr = match ws.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp.local_addr().unwrap(),
        _ => unreachable!("plain ws"),
    };
    let (home, port) = (gw.home().to_owned(), gw.port);
    let out = tokio::task::spawn_blocking(move || deep_status(&home, port, false))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&report);
    let c = &report["connections"];
    assert_eq!(c["port"], gw.port);
    assert_eq!(
        c["count"], 1,
        "the probe's own connection is gone: {report:#}"
    );
    let client = &c["clients"][0];
    assert_eq!(client["peer"], client_addr.to_string(), "{report:#}");
    assert_eq!(client["local"], format!("127.0.0.1:{}", gw.port));
    assert_eq!(
        client["pid"],
        std::process::id(),
        "this test process holds the client end"
    );
    let (home, port) = (gw.home().to_owned(), gw.port);
    let out = tokio::task::spawn_blocking(move || deep_status(&home, port, true))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Connections   1 established")
            && text.contains(&format!("- {client_addr} (pid {}, ", std::process::id())),
        "{text}"
    );
    drop(ws);
}

#[test]
fn deep_shows_the_last_shutdown_after_sigterm_and_null_before_any() {
    let mut gw = TestGateway::start();
    let out = deep_status(gw.home(), gw.port, false);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&report);
    assert_eq!(report["lastShutdown"], Value::Null, "{report:#}");
    let pid = gw.child.id();
    let (code, _) = gw.signal_and_wait("TERM", std::time::Duration::from_secs(10));
    assert_eq!(code, Some(0));
    let out = deep_status(gw.home(), gw.port, false);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&report);
    let s = &report["lastShutdown"];
    assert_eq!(s["signal"], "SIGTERM", "{report:#}");
    assert_eq!(s["outcome"], "clean");
    assert_eq!(s["pid"], pid);
    assert_eq!(s["source"], "log-file");
    assert!(s["durationMs"].as_u64().is_some() && s["time"].is_string());
    assert_eq!(report["connections"]["count"], 0);
    let (_, shallow) = status(gw.home(), gw.port, &["--json", "--no-probe"]);
    let shallow = shallow.unwrap();
    assert!(
        shallow.get("lastShutdown").is_none() && shallow.get("connections").is_none(),
        "--deep only: {shallow:#}"
    );
    let text = String::from_utf8_lossy(&deep_status(gw.home(), gw.port, true).stdout).into_owned();
    assert!(
        text.contains("Last shutdown SIGTERM at ")
            && text.contains(", completed cleanly in ")
            && text.contains(&format!("(pid {pid}, from the log file)")),
        "{text}"
    );
}

fn top_status(home: &std::path::Path, port: u16, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .arg("status")
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("OPENCLAW_GATEWAY_PORT", port.to_string())
        .output()
        .unwrap()
}

/// `openclaw status --json` is `gateway status --json`; its text is a short summary of it.
#[test]
fn top_level_status_prints_the_gateway_status_report_and_a_summary() {
    let gw = TestGateway::start_with(GatewayOptions {
        no_token: true,
        ..Default::default()
    });
    let out = top_status(gw.home(), gw.port, &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut top: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_valid(&top);
    let (_, nested) = status(gw.home(), gw.port, &["--json"]);
    let mut nested = nested.unwrap();
    for v in [&mut top, &mut nested] {
        // The one measured value.
        v["rpc"].as_object_mut().unwrap().remove("latencyMs");
    }
    assert_eq!(top, nested);
    assert_eq!(top["rpc"]["outcome"], "connected");

    let out = top_status(gw.home(), gw.port, &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Service  "), "{text}");
    assert!(
        text.contains(&format!("Gateway  ws://127.0.0.1:{} reachable (", gw.port)),
        "{text}"
    );
    assert!(
        text.contains(&format!("Port     {} (env), bind loopback", gw.port)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Version  openclaw {0} · gateway {0}",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert_eq!(lines.last(), Some(&"Details: openclaw gateway status"));
    assert!(lines.len() <= 9, "compact: {text}");

    // --require-rpc is honoured as by `gateway status`.
    let port = free_port();
    let home = tempfile::tempdir().unwrap();
    let out = top_status(home.path(), port, &["--require-rpc"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!("Gateway  ws://127.0.0.1:{port} unreachable")),
        "{text}"
    );
}

/// The seed's form: `openclaw --dev status` in a fresh home answers with the dev profile.
#[test]
fn dev_status_in_a_fresh_home_summarises_the_dev_profile() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["--dev", "status", "--no-probe"])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("Port     19001 (default)"), "{text}");
    assert!(
        text.contains(
            ".openclaw-dev/openclaw.json not found (set it up: openclaw --profile dev setup)"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("Details: openclaw --profile dev gateway status\n"),
        "{text}"
    );
}
