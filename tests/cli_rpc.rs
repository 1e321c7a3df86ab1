//! `openclaw gateway health`, `gateway call` and `logs` against a real gateway.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::*;

fn cli(gw: &TestGateway, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
    cmd.args(args)
        .env_clear()
        .env("HOME", gw.home())
        .env("OPENCLAW_GATEWAY_PORT", gw.port.to_string());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn health_reads_the_generated_token_file_and_reports_ok() {
    // No token anywhere: the gateway generates <state>/gateway.token and the CLI reads it.
    let gw = TestGateway::start_with(GatewayOptions {
        no_token: true,
        ..Default::default()
    });
    assert!(gw.state_dir().join("gateway.token").exists());
    let out = cli(&gw, &["gateway", "health"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("Gateway Health\nOK ("), "{stdout}");
    let out = cli(&gw, &["gateway", "health", "--json"], &[]);
    let payload: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(payload["ok"], true);
}

#[test]
fn call_prints_the_payload_and_errors_exit_1_with_the_reference_shape() {
    let gw = TestGateway::start();
    let out = cli(
        &gw,
        &[
            "gateway",
            "call",
            "system-presence",
            "--json",
            "--token",
            TOKEN,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["mode"], "gateway");

    let out = cli(
        &gw,
        &[
            "gateway",
            "call",
            "logs.tail",
            "--params",
            r#"{"limit": 2}"#,
            "--token",
            TOKEN,
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("Gateway call: logs.tail\n{"), "{stdout}");

    let out = cli(
        &gw,
        &[
            "gateway",
            "call",
            "no.such.method",
            "--json",
            "--token",
            TOKEN,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let failure: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failure["ok"], false);
    assert_eq!(failure["error"]["type"], "gateway_request_error");
    assert_eq!(
        failure["error"]["message"],
        "unknown method: no.such.method"
    );

    let out = cli(
        &gw,
        &["gateway", "call", "no.such.method", "--token", TOKEN],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "Gateway call failed: unknown method: no.such.method"
    );

    let out = cli(
        &gw,
        &[
            "gateway",
            "call",
            "health",
            "--params",
            "{not json",
            "--token",
            TOKEN,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "bad --params is a usage error");
}

#[test]
fn a_wrong_token_exits_1_and_an_unreachable_gateway_exits_3() {
    let gw = TestGateway::start();
    let out = cli(&gw, &["gateway", "call", "health", "--token", "wrong"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unauthorized: gateway token mismatch"),
        "{}",
        text(&out.stderr)
    );
    let port = free_port().to_string();
    let out = cli(
        &gw,
        &["gateway", "health", "--json"],
        &[("OPENCLAW_GATEWAY_PORT", &port)],
    );
    assert_eq!(out.status.code(), Some(3));
    let failure: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failure["error"]["type"], "gateway_transport_error");
    assert!(
        failure["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ECONNREFUSED")
    );
}

#[test]
fn local_secrets_are_never_sent_to_a_remote_url_without_explicit_credentials() {
    let gw = TestGateway::start();
    let out = cli(
        &gw,
        &["gateway", "health", "--url", "ws://192.0.2.1:9"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a loopback address"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn logs_prints_the_gateway_log_plain_and_as_json() {
    let gw = TestGateway::start();
    let out = cli(&gw, &["logs", "--limit", "50", "--token", TOKEN], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert!(lines.next().unwrap().starts_with("Log file: "), "{stdout}");
    let listening = stdout
        .lines()
        .find(|l| l.contains("listening on ws://"))
        .expect("listening line");
    assert!(
        listening.contains(" info gateway listening on"),
        "{listening}"
    );

    let out = cli(
        &gw,
        &["logs", "--limit", "1", "--json", "--token", TOKEN],
        &[],
    );
    let records: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["type"], "meta");
    assert_eq!(records[1]["type"], "log");
    assert!(records[1]["raw"].is_string() && records[1]["level"].is_string());
    assert_eq!(
        records.last().unwrap()["type"],
        "notice",
        "truncated by --limit 1"
    );
}

/// `openclaw health` is `gateway health`: the same flags, the same output, the same exit codes.
#[test]
fn top_level_health_prints_what_gateway_health_prints() {
    let gw = TestGateway::start_with(GatewayOptions {
        no_token: true,
        ..Default::default()
    });
    let top = cli(&gw, &["health"], &[]);
    let nested = cli(&gw, &["gateway", "health"], &[]);
    assert_eq!(top.status.code(), Some(0), "{}", text(&top.stderr));
    assert_eq!(top.status.code(), nested.status.code());
    // Only the measured latency differs: "Gateway Health\nOK (0.4ms)\n".
    let shape = |out: &Output| {
        let stdout = text(&out.stdout);
        let (head, _) = stdout.split_once('(').unwrap_or((stdout.as_str(), ""));
        head.to_owned()
    };
    assert_eq!(shape(&top), "Gateway Health\nOK ");
    assert_eq!(shape(&top), shape(&nested));

    let top = cli(&gw, &["health", "--json", "--timeout", "5000"], &[]);
    let nested = cli(
        &gw,
        &["gateway", "health", "--json", "--timeout", "5000"],
        &[],
    );
    let top: Value = serde_json::from_slice(&top.stdout).unwrap();
    let nested: Value = serde_json::from_slice(&nested.stdout).unwrap();
    assert_eq!(top["ok"], true);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&top), keys(&nested));

    // Unreachable: exit 3 and the same diagnosis, with --dev too (the seed's form).
    let port = free_port().to_string();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("OPENCLAW_GATEWAY_PORT", &port)
            .output()
            .unwrap()
    };
    let top = run(&["--dev", "health"]);
    let nested = run(&["--dev", "gateway", "health"]);
    assert_eq!(top.status.code(), Some(3), "{}", text(&top.stderr));
    assert_eq!(text(&top.stderr), text(&nested.stderr));
    assert_eq!(text(&top.stdout), text(&nested.stdout));
}
