//! Plain HTTP on the gateway port, and the startup guards of `gateway run`.

mod support;

use std::process::Command;

use serde_json::Value;
use support::*;

#[test]
fn health_and_readiness_endpoints_answer_json() {
    let gw = TestGateway::start();
    for path in ["/health", "/healthz"] {
        let (code, body) = http_get(gw.port, path).unwrap();
        assert_eq!(
            (code, body.as_str()),
            (200, r#"{"ok":true,"status":"live"}"#),
            "{path}"
        );
    }
    for path in ["/ready", "/readyz"] {
        let (code, body) = http_get(gw.port, path).unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(code, 200);
        assert_eq!(v["ready"], true);
        assert_eq!(v["failing"], serde_json::json!([]));
        assert!(v["uptimeMs"].is_u64());
    }
    let (code, body) = http_request(gw.port, "HEAD", "/healthz").unwrap();
    assert_eq!((code, body.as_str()), (200, ""));
    let raw = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
        write!(
            s,
            "POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        r
    };
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");
    assert!(
        raw.to_ascii_lowercase().contains("allow: get, head"),
        "{raw}"
    );
    let (code, body) = http_get(gw.port, "/nope").unwrap();
    assert_eq!(code, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["type"],
        "not_found"
    );
}

fn run_gateway(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    let port = free_port().to_string();
    Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["gateway", "run", "--port", &port])
        .args(args)
        .env_clear()
        .env("HOME", home)
        .output()
        .unwrap()
}

#[test]
fn without_config_the_gateway_refuses_to_start_with_exit_78_and_a_fix() {
    let home = tempfile::tempdir().unwrap();
    let out = run_gateway(home.path(), &[]);
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Gateway start blocked") && stderr.contains("--allow-unconfigured"),
        "{stderr}"
    );
}

#[test]
fn a_broken_config_exits_78_with_file_line_and_column_and_is_left_untouched() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let config = state.join("openclaw.json");
    let text = "{\n  gateway: {\n    mode: 'local'\n    port: 1\n  }\n}\n";
    std::fs::write(&config, text).unwrap();
    let out = run_gateway(home.path(), &[]);
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:4:5", config.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
}

#[test]
fn a_lan_bind_without_auth_is_refused_with_exit_78() {
    let home = tempfile::tempdir().unwrap();
    let out = run_gateway(
        home.path(),
        &["--allow-unconfigured", "--bind", "lan", "--auth", "none"],
    );
    assert_eq!(out.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Refusing to bind gateway to lan without auth.")
    );
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let gw = TestGateway::start();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args([
            "gateway",
            "run",
            "--allow-unconfigured",
            "--port",
            &gw.port.to_string(),
        ])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("port {} is already in use", gw.port)),
        "{stderr}"
    );
}

fn raw_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    r
}

#[test]
fn the_canvas_host_serves_workspace_files_on_its_port_and_refuses_traversal() {
    let canvas_port = free_port();
    let home = tempfile::tempdir().unwrap();
    let options =
        GatewayOptions::default().env("OPENCLAW_CANVAS_HOST_PORT", &canvas_port.to_string());
    let gw = TestGateway::start_with(options);
    let canvas = gw.home().join(".openclaw/workspace/canvas");
    std::fs::create_dir_all(&canvas).unwrap();
    std::fs::write(canvas.join("index.html"), "<h1>canvas</h1>").unwrap();
    std::fs::write(canvas.join("app.js"), "console.log(1)").unwrap();
    drop(home);
    let index = raw_get(canvas_port, "/__openclaw__/canvas/");
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(
        index
            .to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{index}"
    );
    assert!(index.ends_with("<h1>canvas</h1>"));
    let js = raw_get(canvas_port, "/__openclaw__/canvas/app.js");
    assert!(
        js.to_ascii_lowercase()
            .contains("content-type: text/javascript"),
        "{js}"
    );
    for attack in [
        "/__openclaw__/canvas/../../openclaw.json",
        "/__openclaw__/canvas/..%2f..%2fgateway.token",
        "/__openclaw__/canvas/%2e%2e/%2e%2e/gateway.token",
    ] {
        let r = raw_get(canvas_port, attack);
        assert!(
            r.starts_with("HTTP/1.1 403")
                || r.starts_with("HTTP/1.1 400")
                || r.starts_with("HTTP/1.1 404"),
            "{attack}: {r}"
        );
        assert!(!r.contains(TOKEN));
    }
    let r = raw_get(canvas_port, "/__openclaw__/canvas/..%2f..%2fgateway.token");
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(
        raw_get(canvas_port, "/healthz").starts_with("HTTP/1.1 404"),
        "the canvas port serves only canvas paths"
    );
    assert!(
        raw_get(gw.port, "/__openclaw__/canvas/app.js").starts_with("HTTP/1.1 200"),
        "also on the gateway port"
    );
}

#[test]
fn the_canvas_host_can_be_switched_off() {
    let gw = TestGateway::start();
    assert!(raw_get(gw.port, "/__openclaw__/canvas/").starts_with("HTTP/1.1 404"));
}
