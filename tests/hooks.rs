//! Webhooks against the real gateway and the fake upstream (agent-runtime.md §6.4): their own
//! token (never the gateway's, never in the URL), the per-address lockout that spares no one,
//! `/hooks/agent` runs with `waitForCompletion` and idempotency, `/hooks/wake` notes.

mod support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::http_client::request;
use support::*;

const HOOK_TOKEN: &str = "hook-secret-0123456789abcdef";

fn config(fake: &FakeOpenAi, hooks: Value) -> String {
    json!({
        "hooks": hooks,
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    })
    .to_string()
}

fn gateway(fake: &FakeOpenAi) -> TestGateway {
    let hooks = json!({"enabled": true, "token": HOOK_TOKEN});
    TestGateway::start_with(GatewayOptions::default().config(&config(fake, hooks)))
}

/// POST `path` with `headers` (each `Name: value`) and `body`: (status, head, JSON or text).
fn post(port: u16, path: &str, headers: &[&str], body: &str) -> (u16, String, Value) {
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let (code, head, body) = request(port, "POST", path, extra, body);
    let parsed = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (code, head, parsed)
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

fn system_prompt(fake: &FakeOpenAi, i: usize) -> String {
    fake.requests()[i].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_are_absent_until_enabled_and_refuse_to_start_with_the_gateway_token() {
    let fake = FakeOpenAi::start().await;
    let off = TestGateway::start_with(
        GatewayOptions::default().config(&config(&fake, json!({"token": HOOK_TOKEN}))),
    );
    let wake = r#"{"text":"hi"}"#;
    let (code, _, _) = post(off.port, "/hooks/wake", &[&bearer(HOOK_TOKEN)], wake);
    assert_eq!(code, 404, "off by default");

    let same = json!({"enabled": true, "token": TOKEN});
    let gw = TestGateway::start_with(GatewayOptions::default().config(&config(&fake, same)));
    for token in [TOKEN, HOOK_TOKEN] {
        let (code, _, _) = post(gw.port, "/hooks/wake", &[&bearer(token)], wake);
        assert_eq!(code, 404, "refused hooks are not served");
    }
    let log = gw.stderr();
    assert!(
        log.contains("webhooks not started: hooks.token is the gateway's token"),
        "{log}"
    );
    assert!(!log.contains(TOKEN), "the secret stays out of the log");
    assert!(fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_runs_the_agent_once_per_idempotency_key_and_can_wait_for_the_answer() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake);
    let port = gw.port;

    let (code, _, answer) = post(
        port,
        "/hooks/agent",
        &[&bearer(HOOK_TOKEN)],
        r#"{"message":"the nightly build failed","name":"CI","waitForCompletion":true}"#,
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["completion"]["status"], "ok", "{answer}");
    assert_eq!(answer["completion"]["text"], "Hello from the fake model.");
    let sent = &fake.requests()[0].body["messages"];
    assert!(
        sent.to_string().contains("the nightly build failed"),
        "{sent}"
    );
    assert!(
        system_prompt(&fake, 0).contains("came from a webhook (CI)"),
        "the model is told the text is external input"
    );

    // `X-OpenClaw-Token` works too; the same idempotency key twice is one run.
    let hook = format!("X-OpenClaw-Token: {HOOK_TOKEN}");
    let body = r#"{"message":"deploy done","idempotencyKey":"deploy-42"}"#;
    let (code, _, first) = post(port, "/hooks/agent", &[&hook], body);
    assert_eq!(code, 200, "{first}");
    assert_eq!(first["runId"], "hook:deploy-42");
    assert!(first.get("completion").is_none());
    let (code, _, again) = post(port, "/hooks/agent", &[&hook], body);
    assert_eq!((code, &again["runId"]), (200, &json!("hook:deploy-42")));
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.requests().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the hook's run never reached the model"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests().len(), 2, "one run per idempotency key");

    // What a hook may not do, each with its status and a message naming the fix.
    let big = format!(r#"{{"message":"{}"}}"#, "x".repeat(256 * 1024));
    let cases: Vec<(&str, Vec<String>, String, u16, &str)> = vec![
        (
            "/hooks/agent",
            vec![bearer(TOKEN)],
            r#"{"message":"x"}"#.into(),
            401,
            "hooks.token",
        ),
        (
            "/hooks/agent",
            vec![],
            r#"{"message":"x"}"#.into(),
            401,
            "hooks.token",
        ),
        (
            "/hooks/agent?token=x",
            vec![bearer(HOOK_TOKEN)],
            r#"{"message":"x"}"#.into(),
            400,
            "query parameters are not allowed",
        ),
        (
            "/hooks/agent",
            vec![bearer(HOOK_TOKEN)],
            r#"{"message":"x","sessionKey":"agent:main:main"}"#.into(),
            400,
            "hooks.allowRequestSessionKey",
        ),
        (
            "/hooks/agent",
            vec![bearer(HOOK_TOKEN)],
            r#"{"name":"x"}"#.into(),
            400,
            "message required",
        ),
        (
            "/hooks/agent",
            vec![bearer(HOOK_TOKEN)],
            r#"{"message":"x","agentId":"ghost"}"#.into(),
            400,
            "unknown agentId",
        ),
        (
            "/hooks/agent",
            vec![bearer(HOOK_TOKEN)],
            r#"{"message":"x","waitForCompletion":"yes"}"#.into(),
            400,
            "waitForCompletion must be boolean",
        ),
        (
            "/hooks/agent",
            vec![bearer(HOOK_TOKEN)],
            "{nope".into(),
            400,
            "not valid JSON",
        ),
        (
            "/hooks/agent",
            vec![bearer(HOOK_TOKEN)],
            big,
            413,
            "too large",
        ),
        (
            "/hooks/wake",
            vec![bearer(HOOK_TOKEN)],
            r#"{"mode":"now"}"#.into(),
            400,
            "text required",
        ),
        (
            "/hooks/wake",
            vec![bearer(HOOK_TOKEN)],
            r#"{"text":"x","mode":"later"}"#.into(),
            400,
            "mode must be",
        ),
        (
            "/hooks/gmail",
            vec![bearer(HOOK_TOKEN)],
            "{}".into(),
            404,
            "/hooks/agent",
        ),
    ];
    for (path, headers, body, want, says) in cases {
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let (code, head, answer) = post(port, path, &headers, &body);
        assert_eq!(code, want, "{path} {headers:?}: {answer}");
        assert!(answer.to_string().contains(says), "{path}: {answer}");
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    }
    let (code, head, _) = request(port, "GET", "/hooks/agent", bearer(HOOK_TOKEN) + "\r\n", "");
    assert_eq!(code, 405);
    assert!(head.contains("allow: post"), "{head}");
    assert_eq!(fake.requests().len(), 2, "no refused hook started a run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_leaves_notes_for_the_main_session_and_now_runs_it() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake);
    let port = gw.port;
    let auth = bearer(HOOK_TOKEN);
    let (code, _, answer) = post(
        port,
        "/hooks/wake",
        &[&auth],
        r#"{"text":"disk almost full","mode":"next-heartbeat"}"#,
    );
    assert_eq!(
        (code, &answer),
        (200, &json!({"ok": true, "mode": "next-heartbeat"}))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        fake.requests().is_empty(),
        "next-heartbeat runs nothing now"
    );

    let (code, _, answer) = post(port, "/hooks/wake", &[&auth], r#"{"text":"backup failed"}"#);
    assert_eq!((code, &answer), (200, &json!({"ok": true, "mode": "now"})));
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.requests().is_empty() {
        assert!(Instant::now() < deadline, "wake now ran nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let system = system_prompt(&fake, 0);
    assert!(
        system.contains("- disk almost full\n- backup failed"),
        "both notes, oldest first: {system}"
    );

    // The run was the main session's; its notes were taken once.
    let (mut ws, _) = connected_cli(port).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = call(
            &mut ws,
            "h",
            "chat.history",
            json!({"sessionKey": "agent:main:main"}),
        )
        .await;
        let messages = page["payload"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if messages.len() >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no turn in the main session: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, _, _) = post(port, "/hooks/wake", &[&auth], r#"{"text":"all good"}"#);
    assert_eq!(code, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.requests().len() < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let system = system_prompt(&fake, 1);
    assert!(system.contains("- all good"), "{system}");
    assert!(
        !system.contains("disk almost full"),
        "notes are given once: {system}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_wrong_hook_tokens_lock_the_address_out_loopback_included() {
    let fake = FakeOpenAi::start().await;
    fake.script("fake-model", [Reply::text(&["ok"])]);
    let gw = gateway(&fake);
    let port = gw.port;
    let body = r#"{"text":"x","mode":"next-heartbeat"}"#;
    for i in 0..20 {
        let (code, _, answer) = post(port, "/hooks/wake", &[&bearer(&format!("guess-{i}"))], body);
        assert_eq!(code, 401, "guess {i}: {answer}");
    }
    // Locked out: even the right token waits.
    let (code, head, answer) = post(port, "/hooks/wake", &[&bearer(HOOK_TOKEN)], body);
    assert_eq!(code, 429, "{answer}");
    let retry: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {head}"));
    assert!((1..=60).contains(&retry), "{retry}");
    // The gateway token's own limiter is another: the WebSocket still connects.
    let (_ws, hello) = connected_cli(port).await;
    assert_eq!(hello["type"], "hello-ok", "{hello}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_cannot_name_and_read_another_clients_run_by_its_idempotency_key() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [
            Reply::text(&["private answer"]),
            Reply::text(&["hook answer"]),
        ],
    );
    let gw = gateway(&fake);
    let (mut ws, _) = connected_cli(gw.port).await;
    ws.send(req(
        "w1",
        "agent",
        json!({"message": "my secret plans", "idempotencyKey": "shared-1",
            "sessionKey": "agent:main:private"}),
    ))
    .await
    .unwrap();
    loop {
        let frame = recv_json_within(&mut ws, Duration::from_secs(15)).await;
        if frame["type"] == "res" && frame["id"] == "w1" && frame["payload"]["status"] != "accepted"
        {
            assert_eq!(frame["payload"]["status"], "ok", "{frame}");
            break;
        }
    }
    let (code, _, answer) = post(
        gw.port,
        "/hooks/agent",
        &[&bearer(HOOK_TOKEN)],
        r#"{"message":"hello","idempotencyKey":"shared-1","waitForCompletion":true}"#,
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["runId"], "hook:shared-1");
    assert_eq!(answer["completion"]["text"], "hook answer", "{answer}");
    assert!(!answer.to_string().contains("private"), "{answer}");
    assert_eq!(fake.requests().len(), 2, "the hook ran a turn of its own");
}
