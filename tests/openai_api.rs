//! The OpenAI-compatible HTTP API against the real gateway, the fake upstream, and real
//! clients: the official OpenAI Python SDK (installed by `tests/setup.sh`) and `curl -N`
//! (agent-runtime.md §6.1).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::http_client::{request, sdk, status};
use support::*;

/// The hooks' own token in these tests.
const HOOK_TOKEN: &str = "hook-secret-for-tests-0123456789";

fn gateway(fake: &FakeOpenAi, enabled: bool) -> TestGateway {
    let config = json!({
        "gateway": {"http": {"endpoints": {"chatCompletions": {"enabled": enabled}}}},
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "contextWindow": 32000},
                {"id": "other-model", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"},
            "entries": {"slow": {"timeoutSeconds": 1}}},
    });
    TestGateway::start_with(GatewayOptions::default().config(&config.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_gets_answers_streamed_or_not_and_lists_the_agents_as_models() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, true);

    let r = sdk(&gw, TOKEN, "non-stream", None).await;
    assert_eq!(r["text"], "Hello from the fake model.", "{r}");
    assert_eq!(
        (&r["finish"], &r["model"], &r["object"]),
        (
            &json!("stop"),
            &json!("openclaw"),
            &json!("chat.completion")
        )
    );
    assert!(r["id"].as_str().unwrap().starts_with("chatcmpl_"), "{r}");
    assert_eq!(r["usage"]["prompt_tokens"], 11);
    assert_eq!(r["usage"]["total_tokens"], 14);

    let r = sdk(&gw, TOKEN, "stream", None).await;
    assert_eq!(r["text"], "Hello from the fake model.", "{r}");
    assert_eq!(
        r["pieces"],
        json!(["Hello", " from the", " fake model."]),
        "no batching"
    );
    assert_eq!(r["roles"], json!(["assistant"]));
    assert_eq!(r["finish"], "stop");
    assert_eq!(r["usage"]["completion_tokens"], 3);

    let r = sdk(&gw, TOKEN, "models", None).await;
    assert_eq!(
        r["ids"],
        json!([
            "openclaw",
            "openclaw/default",
            "openclaw/main",
            "openclaw/slow"
        ])
    );

    // Each request without `user` ran in a session of its own; the system prompt went first.
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body["messages"][0]["role"], "system");
    assert_eq!(sent[1].body["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_function_tools_reach_the_model_and_its_calls_come_back_as_tool_calls() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::tool_call(
            "call_1",
            "get_weather",
            r#"{"city": "Oslo"}"#,
        )],
    );
    let gw = gateway(&fake, true);
    let r = sdk(&gw, TOKEN, "tools", None).await;
    assert_eq!(r["finish"], "tool_calls", "{r}");
    assert_eq!(
        r["calls"],
        json!([{"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}])
    );
    let body = &fake.requests()[0].body;
    assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(body["tool_choice"], "auto");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_raises_its_own_exceptions_for_auth_request_and_upstream_failures() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, true);

    let r = sdk(&gw, "wrong-key", "plain", None).await;
    assert_eq!(
        (&r["error"]["exception"], &r["error"]["status"]),
        (&json!("AuthenticationError"), &json!(401)),
        "{r}"
    );
    assert!(!r.to_string().contains(TOKEN));
    let r = sdk(&gw, TOKEN, "bad-model", None).await;
    assert_eq!(
        (&r["error"]["exception"], &r["error"]["status"]),
        (&json!("BadRequestError"), &json!(400)),
        "{r}"
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid `model`")
    );

    fake.script(
        "fake-model",
        [Reply::rate_limited("0"), Reply::rate_limited("0")],
    );
    let r = sdk(&gw, TOKEN, "plain", None).await;
    assert_eq!(
        (&r["error"]["exception"], &r["error"]["status"]),
        (&json!("RateLimitError"), &json!(429)),
        "{r}"
    );
    fake.script(
        "fake-model",
        [Reply::status(500, "boom"), Reply::status(500, "boom")],
    );
    let r = sdk(&gw, TOKEN, "plain", None).await;
    assert_eq!(
        (&r["error"]["exception"], &r["error"]["status"]),
        (&json!("InternalServerError"), &json!(502)),
        "{r}"
    );
    // The agent `slow` has a 1 s turn budget.
    fake.script(
        "fake-model",
        [Reply::slow(&["a", "b", "c"], Duration::from_millis(800))],
    );
    let r = sdk(&gw, TOKEN, "plain", Some("openclaw/slow")).await;
    assert_eq!(
        (&r["error"]["exception"], &r["error"]["status"]),
        (&json!("InternalServerError"), &json!(504)),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_gets_the_first_content_before_the_upstream_has_finished() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::slow(
            &["one", " two", " three", " four"],
            Duration::from_millis(400),
        )],
    );
    let gw = gateway(&fake, true);
    let port = gw.port;
    let (first, total, body) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut curl = Command::new("curl")
            .args(["-sS", "-N", "--max-time", "20", "-H", &format!("Authorization: Bearer {TOKEN}"),
                "-H", "Content-Type: application/json",
                "-d", r#"{"model":"openclaw","stream":true,"messages":[{"role":"user","content":"count"}]}"#,
                &format!("http://127.0.0.1:{port}/v1/chat/completions")])
            .stdout(Stdio::piped())
            .spawn()
            .expect("curl");
        let mut first = None;
        let mut body = String::new();
        for line in BufReader::new(curl.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if first.is_none() && line.contains("\"content\":\"one\"") {
                first = Some(started.elapsed());
            }
            body.push_str(&line);
            body.push('\n');
        }
        curl.wait().unwrap();
        (first, started.elapsed(), body)
    })
    .await
    .unwrap();
    let first = first.unwrap_or_else(|| panic!("no first piece: {body}"));
    assert!(
        first < Duration::from_millis(1200) && total >= Duration::from_millis(1500),
        "first piece at {first:?}, the whole answer at {total:?}"
    );
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_is_absent_until_enabled_and_answers_wrong_requests_with_their_status() {
    let fake = FakeOpenAi::start().await;
    let off = gateway(&fake, false);
    let bearer = format!("Bearer {TOKEN}");
    let chat = r#"{"messages":[{"role":"user","content":"hi"}]}"#;
    assert_eq!(
        status(
            off.port,
            "POST",
            "/v1/chat/completions",
            Some(&bearer),
            chat
        )
        .0,
        404
    );
    assert_eq!(
        status(off.port, "GET", "/v1/models", Some(&bearer), "").0,
        404
    );

    let gw = gateway(&fake, true);
    let port = gw.port;
    let (code, head, _) = status(port, "GET", "/v1/chat/completions", Some(&bearer), "");
    assert_eq!(code, 405);
    assert!(head.contains("allow: post"), "{head}");
    let (code, head, body) = status(port, "POST", "/v1/chat/completions", None, chat);
    assert_eq!(code, 401, "{body}");
    assert!(
        head.contains("x-content-type-options: nosniff")
            && head.contains("referrer-policy: no-referrer")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["type"],
        "unauthorized"
    );
    assert_eq!(
        status(
            port,
            "POST",
            "/v1/chat/completions",
            Some(&format!("bearer {TOKEN}")),
            "{"
        )
        .0,
        400
    );
    let big = format!(
        r#"{{"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    assert_eq!(
        status(port, "POST", "/v1/chat/completions", Some(&bearer), &big).0,
        413
    );
    let (code, _, body) = status(
        port,
        "POST",
        "/v1/chat/completions",
        Some(&bearer),
        r#"{"messages":[{"role":"user","content":"hi"}],"temperature":3}"#,
    );
    assert_eq!(code, 400);
    assert!(body.contains("`temperature`"), "{body}");
    assert_eq!(
        status(
            port,
            "POST",
            "/v1/chat/completions",
            Some(&bearer),
            r#"{"model":"openclaw/nobody","messages":[{"role":"user","content":"hi"}]}"#
        )
        .0,
        400
    );
    assert!(fake.requests().is_empty(), "no bad request started a run");
    let (code, _, body) = status(port, "GET", "/v1/models/openclaw%2Fmain", Some(&bearer), "");
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        status(
            port,
            "GET",
            "/v1/models/openclaw%2Fnobody",
            Some(&bearer),
            ""
        )
        .0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_of_another_origin_cannot_start_a_run_even_without_auth() {
    let fake = FakeOpenAi::start().await;
    let config = json!({
        "gateway": {"auth": {"mode": "none"},
            "http": {"endpoints": {"chatCompletions": {"enabled": true}}}},
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model"}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    });
    let mut options = GatewayOptions::default().config(&config.to_string());
    options.no_token = true;
    let gw = TestGateway::start_with(options);
    // What a page's `fetch(…, {method: "POST", mode: "no-cors", body})` sends: no preflight.
    let form = r#"{"messages":[{"role":"user","content":"run something"}]}"#;
    let (code, _, body) = request(
        gw.port,
        "POST",
        "/v1/chat/completions",
        "Origin: https://evil.example\r\n".into(),
        form,
    );
    assert_eq!(code, 403, "{body}");
    assert!(fake.requests().is_empty(), "no run started");
    // Same machine, no Origin (curl, SDKs): served.
    let (code, _, body) = request(gw.port, "POST", "/v1/chat/completions", String::new(), form);
    assert_eq!(code, 200, "{body}");
}

/// `n` valid non-stream requests one after another; their latencies (ms), ascending.
fn good_client(port: u16, n: usize) -> Vec<f64> {
    let bearer = format!("Bearer {TOKEN}");
    let body = r#"{"model":"openclaw","user":"good","messages":[{"role":"user","content":"hi"}]}"#;
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let (code, _, answer) =
                status(port, "POST", "/v1/chat/completions", Some(&bearer), body);
            assert_eq!(code, 200, "{answer}");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

fn p99(sorted: &[f64]) -> f64 {
    sorted[((sorted.len() as f64) * 0.99).ceil() as usize - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_hostile_requests_get_their_statuses_start_no_run_and_spare_a_good_client() {
    let fake = FakeOpenAi::start().await;
    let config = json!({
        "gateway": {"http": {"endpoints": {"chatCompletions": {"enabled": true},
            "responses": {"enabled": true}}}},
        "hooks": {"enabled": true, "token": HOOK_TOKEN},
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    });
    let gw = TestGateway::start_with(
        GatewayOptions::default()
            .config(&config.to_string())
            .env("OPENCLAW_HTTP_BODY_TIMEOUT_MS", "4000"),
    );
    let port = gw.port;
    let (baseline, during, codes, slow_codes) = tokio::task::spawn_blocking(move || {
        let baseline = good_client(port, 60);
        // Slow bodies: a declared body that never comes holds only its own connection, and
        // gets a 408 when the body deadline passes.
        let started = Instant::now();
        let slow: Vec<std::net::TcpStream> = (0..20)
            .map(|_| {
                use std::io::Write;
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                write!(s, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 100\r\n\r\n{{\"mess").unwrap();
                s
            })
            .collect();
        let bearer = format!("Bearer {TOKEN}");
        let kinds: Vec<(String, Option<String>, u16)> = vec![
            ("{not json".into(), Some(bearer.clone()), 400),
            (r#"{"messages":"hi"}"#.into(), Some(bearer.clone()), 400),
            (r#"{"messages":[{"role":"user","content":42}]}"#.into(), Some(bearer.clone()), 400),
            (r#"{"messages":[{"role":"user","content":"x"}],"top_p":7}"#.into(), Some(bearer.clone()), 400),
            (r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}"#.into(), Some(bearer.clone()), 400),
            (r#"{"messages":[]}"#.into(), Some(bearer.clone()), 400),
            ("[1,2,3]".into(), Some(bearer.clone()), 400),
            (r#"{"messages":[{"role":"user","content":"x"}]}"#.into(), None, 401),
        ];
        let responses_kinds = [
            (r#"{"model":"openclaw","input":"x","foo_unknown":1}"#, 400),
            (r#"{"model":"openclaw"}"#, 400),
            (r#"{"model":"openclaw","input":"x","previous_response_id":"resp_forged"}"#, 400),
            (r#"{"model":"openclaw","input":[{"type":"message","role":"user","content":7}]}"#, 400),
        ];
        let attack = std::thread::spawn(move || {
            let mut codes = std::collections::BTreeMap::<(usize, u16), usize>::new();
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..4)
                    .map(|t| {
                        let kinds = kinds.clone();
                        scope.spawn(move || {
                            let mut seen = vec![];
                            for i in (t..1000).step_by(4) {
                                let (code, kind) = if i % 100 == 0 {
                                    let big = "x".repeat(2 * 1024 * 1024 + 1);
                                    (status(port, "POST", "/v1/chat/completions", Some(&format!("Bearer {TOKEN}")), &big).0, 413)
                                } else if i % 10 == 3 {
                                    // The right hook token, but also one in the URL: refused.
                                    let hook = format!("X-OpenClaw-Token: {HOOK_TOKEN}\r\n");
                                    (request(port, "POST", "/hooks/agent?token=x", hook, r#"{"message":"x"}"#).0, 400)
                                } else if i % 10 == 7 {
                                    let (body, want) = responses_kinds[i % responses_kinds.len()];
                                    (status(port, "POST", "/v1/responses", Some(&format!("Bearer {TOKEN}")), body).0, want)
                                } else if i % 50 == 1 {
                                    // A wrong bearer (paced like a failed connect: few of them).
                                    (status(port, "POST", "/v1/chat/completions", Some("Bearer nope"), "{}").0, 401)
                                } else {
                                    let (body, auth, want) = &kinds[i % kinds.len()];
                                    (status(port, "POST", "/v1/chat/completions", auth.as_deref(), body).0, *want)
                                };
                                seen.push((kind, code));
                            }
                            seen
                        })
                    })
                    .collect();
                for h in handles {
                    for (want, got) in h.join().unwrap() {
                        *codes.entry((want as usize, got)).or_default() += 1;
                    }
                }
            });
            codes
        });
        let during = good_client(port, 60);
        let codes = attack.join().unwrap();
        let slow_codes: Vec<(u16, Duration)> = slow
            .into_iter()
            .map(|mut s| {
                use std::io::Read;
                s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
                let mut out = String::new();
                let mut buf = [0u8; 1024];
                while !out.contains("\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(n) if n > 0 => out.push_str(&String::from_utf8_lossy(&buf[..n])),
                        _ => break,
                    }
                }
                let code = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
                (code, started.elapsed())
            })
            .collect();
        (baseline, during, codes, slow_codes)
    })
    .await
    .unwrap();
    for ((want, got), n) in &codes {
        assert_eq!(
            *want as u16, *got,
            "{n} request(s) wanted {want}, got {got}: {codes:?}"
        );
    }
    assert_eq!(codes.values().sum::<usize>(), 1000);
    for (code, at) in &slow_codes {
        assert_eq!(*code, 408, "a slow body's answer: {slow_codes:?}");
        assert!(
            *at >= Duration::from_secs(4),
            "408 before the deadline: {at:?}"
        );
    }
    assert_eq!(
        fake.requests().len(),
        120,
        "only the good client's requests ran"
    );
    let (before, under) = (p99(&baseline), p99(&during));
    assert!(
        under <= 2.0 * before.max(5.0),
        "a good client's p99 went from {before:.2} ms to {under:.2} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_mid_stream_aborts_its_run_and_the_upstream_call() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::slow(
            &["one", " two", " three", " four", " five"],
            Duration::from_millis(300),
        )],
    );
    let gw = gateway(&fake, true);
    let port = gw.port;
    let left_at = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let body = r#"{"stream":true,"user":"leaver","messages":[{"role":"user","content":"count"}]}"#;
        write!(
            s,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        while !seen.contains("\"content\":\"one\"") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "closed before the first piece: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        drop(s);
        Instant::now()
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while fake.disconnects().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let closed = *fake
        .disconnects()
        .first()
        .expect("the upstream call was cut");
    assert!(
        closed.duration_since(left_at) < Duration::from_millis(1000),
        "upstream closed {:?} after the client left",
        closed.duration_since(left_at)
    );
    // The run ended as aborted with what had arrived.
    let (mut ws, _) = connected_cli(gw.port).await;
    let history = call(
        &mut ws,
        "h",
        "chat.history",
        json!({"sessionKey": "agent:main:openai-user:leaver"}),
    )
    .await;
    let messages = history["payload"]["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 2, "{history}");
    assert_eq!(messages[0]["content"], "count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_invoke_needs_the_token_and_says_no_tool_is_available() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, false);
    let bearer = format!("Bearer {TOKEN}");
    let (code, _, body) = status(gw.port, "POST", "/tools/invoke", None, r#"{"tool":"exec"}"#);
    assert_eq!(code, 401, "{body}");
    let (code, _, body) = status(
        gw.port,
        "POST",
        "/tools/invoke",
        Some(&bearer),
        r#"{"tool":"exec","args":{}}"#,
    );
    assert_eq!(code, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"ok": false, "error": {"type": "not_found",
            "message": "Tool not available: exec (this gateway has no built-in tools)"}})
    );
    let (code, _, body) = status(
        gw.port,
        "POST",
        "/tools/invoke",
        Some(&bearer),
        r#"{"args":{}}"#,
    );
    assert_eq!(code, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["type"],
        "invalid_request"
    );
    assert_eq!(
        status(gw.port, "GET", "/tools/invoke", Some(&bearer), "").0,
        405
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_x_openclaw_model_header_picks_a_configured_backend_model_for_one_request() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, true);
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    let chat = r#"{"model":"openclaw","user":"m","messages":[{"role":"user","content":"hi"}]}"#;
    let path = "/v1/chat/completions";
    let with = |model: &str| format!("{bearer}x-openclaw-model: {model}\r\n");
    let (code, _, body) = request(gw.port, "POST", path, with("local/other-model"), chat);
    assert_eq!(code, 200, "{body}");
    let (code, _, body) = request(gw.port, "POST", path, with("local/ghost"), chat);
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("x-openclaw-model") && body.contains("local/ghost"),
        "the error names the header and the model: {body}"
    );
    let (code, _, body) = request(gw.port, "POST", path, bearer.clone(), chat);
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        fake.models_asked(),
        vec!["other-model", "fake-model"],
        "the header chose the model of its request only; the refused one asked none"
    );
}
