//! `$include` in a real gateway's config: settings that only an included file holds are in
//! force, and an edit of an included file is hot-applied, restarts, or (when broken) is ignored,
//! like an edit of `openclaw.json` itself.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

const INCLUDED_TOKEN: &str = "included-token-9876543210";

/// Replaces `name` in the state dir the way editors do (write aside, rename over).
fn write_state_file(gw: &TestGateway, name: &str, text: &str) {
    let path = gw.state_dir().join(name);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

async fn wait_for_log(gw: &TestGateway, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stderr = gw.stderr();
        if stderr.contains(needle) {
            return stderr;
        }
        assert!(Instant::now() < deadline, "no {needle:?} in:\n{stderr}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_port_and_token_of_an_included_file_serve_and_its_edits_are_hot_applied() {
    let port = free_port();
    let gateway = |extra: &str| {
        format!("{{ port: {port}, auth: {{ mode: 'token', token: '{INCLUDED_TOKEN}' {extra} }} }}")
    };
    let mut options = GatewayOptions::default()
        .config("{ gateway: { mode: 'local', $include: './gateway.json5' } }")
        .file("gateway.json5", &gateway(""))
        .configured_port(port);
    options.no_token = true;
    let gw = TestGateway::start_with(options);

    // Only the included file names the port (no --port, no env) and the token.
    let (mut wrong, _) = open(port).await;
    let res = send_connect(&mut wrong, cli_params(Some(TOKEN))).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
        "{res}"
    );
    let (mut ws, _) = open(port).await;
    let res = send_connect(&mut ws, cli_params(Some(INCLUDED_TOKEN))).await;
    assert_eq!(res["ok"], true, "{res}");

    // config.get: the root file as written, the expanded config beside it, no secret anywhere.
    let res = call(&mut ws, "1", "config.get", json!({})).await;
    let snapshot = &res["payload"];
    assert_eq!(snapshot["parsed"]["gateway"]["$include"], "./gateway.json5");
    assert_eq!(snapshot["resolved"]["gateway"]["port"], port);
    assert_eq!(snapshot["config"]["gateway"]["port"], port);
    assert!(!res.to_string().contains(INCLUDED_TOKEN), "{res}");

    // A hot key edited in the included file is applied without a restart.
    write_state_file(
        &gw,
        "gateway.json5",
        &gateway(", rateLimit: { maxAttempts: 2, exemptLoopback: false }"),
    );
    wait_for_log(&gw, "config hot-applied: gateway.auth.rateLimit").await;
    for _ in 0..2 {
        let (mut bad, _) = open(port).await;
        assert_eq!(
            send_connect(&mut bad, cli_params(Some("wrong"))).await["error"]["details"]["code"],
            "AUTH_TOKEN_MISMATCH"
        );
    }
    let (mut locked, _) = open(port).await;
    assert_eq!(
        send_connect(&mut locked, cli_params(Some(INCLUDED_TOKEN))).await["error"]["details"]["code"],
        "AUTH_RATE_LIMITED",
        "the new limit is in force"
    );
    assert_eq!(
        call(&mut ws, "2", "health", json!({})).await["ok"],
        true,
        "no restart: the first client is still connected"
    );
}

#[tokio::test]
async fn an_edit_in_a_nested_include_restarts_and_a_broken_one_is_ignored_until_fixed() {
    let gw = TestGateway::start_with(
        GatewayOptions::default()
            .config("{ gateway: { mode: 'local', $include: './gateway/main.json5' } }")
            .file(
                "gateway/main.json5",
                "{ controlUi: { $include: './ui.json5' } }",
            )
            .file("gateway/ui.json5", "{ enabled: true }"),
    );
    let (mut ws, _) = connected_cli(gw.port).await;

    // A restart key, two includes deep.
    write_state_file(&gw, "gateway/ui.json5", "{ enabled: false }");
    let shutdown = next_event(&mut ws, "shutdown", Duration::from_secs(10)).await;
    assert_eq!(shutdown["payload"]["reason"], "gateway restarting");
    assert_eq!(recv_close(&mut ws).await.0, 1012);
    wait_for_log(
        &gw,
        "restarting in-process (config change: gateway.controlUi.enabled)",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut ws, _) = loop {
        if http_get(gw.port, "/readyz").is_some_and(|(code, _)| code == 200) {
            break connected_cli(gw.port).await;
        }
        assert!(Instant::now() < deadline, "{}", gw.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // A broken included file is reported at its own line and column, and ignored.
    write_state_file(&gw, "gateway/ui.json5", "{\n  enabled: true\n  oops\n");
    let ui = gw.state_dir().join("gateway/ui.json5");
    let stderr = wait_for_log(&gw, "config reload skipped (invalid config)").await;
    assert!(
        stderr.contains(&format!("{}:3:3: invalid JSON5 in config", ui.display())),
        "{stderr}"
    );
    assert_eq!(
        call(&mut ws, "1", "health", json!({})).await["ok"],
        true,
        "the old config keeps serving"
    );

    // Fixing it is seen: the change (enabled again) restarts.
    write_state_file(&gw, "gateway/ui.json5", "{ enabled: true }");
    let shutdown = next_event(&mut ws, "shutdown", Duration::from_secs(10)).await;
    assert_eq!(shutdown["payload"]["reason"], "gateway restarting");
}
