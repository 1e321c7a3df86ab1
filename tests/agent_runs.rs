//! Agent turns over WebSocket against the real gateway and the scriptable fake upstream
//! (agent-runtime.md §3): the exact ack / final / event shapes, history in the next request,
//! chat.send + chat events + chat.history, abort mid-stream, timeouts, fallbacks, serial
//! sessions, idempotent retries, and an unknown model.

mod support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::*;

fn config(fake: &FakeOpenAi, model: &str, extra_agents: Value) -> String {
    let mut agents =
        json!({"defaults": {"model": {"primary": model, "fallbacks": ["local/backup"]}}});
    if let (Some(a), Some(e)) = (agents.as_object_mut(), extra_agents.as_object()) {
        a.extend(e.clone());
    }
    json!({
        "models": {"providers": {"local": {"baseUrl": fake.base_url(), "apiKey": "sk-upstream",
            "models": [{"id": "fake-model", "contextWindow": 32000, "maxTokens": 1024},
                {"id": "backup"}]}}},
        "agents": agents,
    })
    .to_string()
}

fn gateway(fake: &FakeOpenAi, model: &str) -> TestGateway {
    TestGateway::start_with(GatewayOptions::default().config(&config(fake, model, json!({}))))
}

/// Every frame up to the response `id` whose payload is not an ack (events included).
async fn until_final(ws: &mut Ws, id: &str) -> (Vec<Value>, Value) {
    let mut seen = Vec::new();
    loop {
        let frame = recv_json_within(ws, Duration::from_secs(15)).await;
        if frame["type"] == "res" && frame["id"] == id && frame["payload"]["status"] != "accepted" {
            return (seen, frame);
        }
        seen.push(frame);
    }
}

fn events<'a>(frames: &'a [Value], name: &str) -> Vec<&'a Value> {
    frames
        .iter()
        .filter(|f| f["type"] == "event" && f["event"] == name)
        .map(|f| &f["payload"])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_answers_ack_then_final_with_events_and_the_next_turn_carries_the_history() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, hello) = connected_cli(gw.port).await;
    assert_eq!(
        hello["snapshot"]["sessionDefaults"],
        json!({"defaultAgentId": "main", "mainKey": "main", "mainSessionKey": "agent:main:main",
            "scope": "per-sender", "modelConfigured": true})
    );
    let methods = hello["features"]["methods"].as_array().unwrap();
    for m in [
        "agent",
        "agent.wait",
        "chat.send",
        "chat.history",
        "chat.abort",
        "models.list",
        "agents.list",
    ] {
        assert!(methods.contains(&json!(m)), "{m} advertised");
    }
    ws.send(req(
        "a1",
        "agent",
        json!({"message": "hello from ws", "idempotencyKey": "run-1", "agentId": "main"}),
    ))
    .await
    .unwrap();
    let ack = recv_response(&mut ws, "a1").await;
    assert_eq!(ack["ok"], true, "{ack}");
    let p = &ack["payload"];
    assert_eq!(
        (&p["runId"], &p["sessionKey"], &p["agentId"], &p["status"]),
        (
            &json!("run-1"),
            &json!("agent:main:main"),
            &json!("main"),
            &json!("accepted")
        )
    );
    assert!(p["acceptedAt"].as_u64().unwrap() > 0);
    let (frames, fin) = until_final(&mut ws, "a1").await;
    assert_eq!(fin["ok"], true, "{fin}");
    let f = &fin["payload"];
    assert_eq!(
        (&f["runId"], &f["status"], &f["summary"]),
        (&json!("run-1"), &json!("ok"), &json!("completed"))
    );
    assert_eq!(
        f["result"]["payloads"],
        json!([{"text": "Hello from the fake model.", "mediaUrl": null}])
    );
    let meta = &f["result"]["meta"];
    assert_eq!(meta["agentMeta"]["provider"], "local");
    assert_eq!(meta["agentMeta"]["model"], "fake-model");
    assert_eq!(meta["agentMeta"]["usage"]["input"], 11);
    assert_eq!(meta["stopReason"], "stop");
    assert!(meta["durationMs"].is_u64());

    let agent_events = events(&frames, "agent");
    let seqs: Vec<u64> = agent_events
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "per-run seq rises: {seqs:?}"
    );
    assert_eq!(agent_events[0]["stream"], "lifecycle");
    assert_eq!(agent_events[0]["data"]["phase"], "start");
    let assistant: Vec<_> = agent_events
        .iter()
        .filter(|e| e["stream"] == "assistant")
        .collect();
    // The first piece at once; the ones right behind it gathered (tests/agent_events.rs).
    assert_eq!(assistant[0]["data"]["delta"], "Hello");
    assert_eq!(assistant[0]["data"]["text"], "Hello");
    let deltas: String = assistant
        .iter()
        .map(|e| e["data"]["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "Hello from the fake model.");
    let last_assistant = assistant.last().unwrap();
    assert_eq!(last_assistant["data"]["text"], "Hello from the fake model.");
    let last = agent_events.last().unwrap();
    assert_eq!(
        (&last["stream"], &last["data"]["phase"]),
        (&json!("lifecycle"), &json!("end"))
    );
    let chat = events(&frames, "chat");
    let final_chat = chat.last().unwrap();
    assert_eq!(final_chat["state"], "final");
    assert_eq!(
        final_chat["message"]["content"][0]["text"],
        "Hello from the fake model."
    );
    let deltas: String = chat
        .iter()
        .filter(|c| c["state"] == "delta")
        .map(|c| c["deltaText"].as_str().unwrap())
        .collect();
    assert_eq!(
        deltas, "Hello from the fake model.",
        "paced deltas add up to the answer"
    );

    // The second turn sends the first as history, after our system prompt.
    let second = call(
        &mut ws,
        "a2",
        "agent",
        json!({"message": "and again", "idempotencyKey": "run-2"}),
    )
    .await;
    assert_eq!(second["payload"]["status"], "accepted");
    let (_, fin) = until_final(&mut ws, "a2").await;
    assert_eq!(fin["payload"]["status"], "ok");
    let sent = &fake.requests()[1].body["messages"];
    let roles: Vec<&str> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(sent[1]["content"], "hello from ws");
    assert_eq!(sent[2]["content"], "Hello from the fake model.");
    assert_eq!(sent[3]["content"], "and again");
    assert!(
        sent[0]["content"].as_str().unwrap().len() < 4000,
        "a short system prompt"
    );
    assert_eq!(
        fake.requests()[1].headers["authorization"],
        "Bearer sk-upstream"
    );

    // A repeat of a finished key replays its final answer without a new run.
    let again = call(
        &mut ws,
        "a3",
        "agent",
        json!({"message": "and again", "idempotencyKey": "run-2"}),
    )
    .await;
    assert_eq!(again["payload"]["runId"], "run-2");
    assert_eq!(again["payload"]["status"], "ok");
    assert_eq!(fake.requests().len(), 2);

    let waited = call(
        &mut ws,
        "w1",
        "agent.wait",
        json!({"runId": "run-1", "timeoutMs": 1000}),
    )
    .await;
    assert_eq!(waited["payload"]["status"], "ok", "{waited}");
    let unknown = call(
        &mut ws,
        "w2",
        "agent.wait",
        json!({"runId": "nope", "timeoutMs": 200}),
    )
    .await;
    assert_eq!(
        unknown["payload"],
        json!({"runId": "nope", "status": "timeout"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_send_streams_chat_events_and_chat_history_shows_the_turn() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, _) = connected_cli(gw.port).await;
    let ack = call(&mut ws, "c1", "chat.send",
        json!({"sessionKey": "agent:main:main", "message": "hello via chat.send", "idempotencyKey": "chat-1"})).await;
    assert_eq!(
        ack["payload"],
        json!({"runId": "chat-1", "status": "started"})
    );
    let fin = loop {
        let e = next_event(&mut ws, "chat", Duration::from_secs(10)).await;
        if e["payload"]["state"] == "final" {
            break e;
        }
    };
    assert_eq!(fin["payload"]["runId"], "chat-1");
    let history = call(
        &mut ws,
        "h1",
        "chat.history",
        json!({"sessionKey": "agent:main:main"}),
    )
    .await;
    let p = &history["payload"];
    assert_eq!(p["sessionKey"], "agent:main:main");
    assert!(p["sessionId"].is_string());
    let m = p["messages"].as_array().unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(
        (&m[0]["role"], &m[0]["content"]),
        (&json!("user"), &json!("hello via chat.send"))
    );
    assert_eq!(m[1]["role"], "assistant");
    assert_eq!(
        m[1]["content"],
        json!([{"type": "text", "text": "Hello from the fake model."}])
    );
    assert_eq!(
        (&m[1]["provider"], &m[1]["model"]),
        (&json!("local"), &json!("fake-model"))
    );
    let models = call(&mut ws, "m1", "models.list", json!({})).await;
    let ids: Vec<&str> = models["payload"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["local/backup", "local/fake-model"]);
    let agents = call(&mut ws, "g1", "agents.list", json!({})).await;
    assert_eq!(agents["payload"]["defaultId"], "main");
    assert_eq!(agents["payload"]["agents"][0]["model"], "local/fake-model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_abort_mid_stream_closes_the_upstream_at_once_and_keeps_the_partial_text() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::slow(
            &["Once", " upon", " a", " time"],
            Duration::from_millis(400),
        )],
    );
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, _) = connected_cli(gw.port).await;
    ws.send(req(
        "a1",
        "agent",
        json!({"message": "tell me a slow story", "idempotencyKey": "slow-1"}),
    ))
    .await
    .unwrap();
    loop {
        let e = next_event(&mut ws, "agent", Duration::from_secs(10)).await;
        if e["payload"]["stream"] == "assistant" {
            break;
        }
    }
    let aborted_at = Instant::now();
    let res = call(
        &mut ws,
        "x1",
        "chat.abort",
        json!({"sessionKey": "agent:main:main", "runId": "slow-1"}),
    )
    .await;
    assert_eq!(
        res["payload"],
        json!({"ok": true, "aborted": true, "runIds": ["slow-1"]})
    );
    let (_, fin) = until_final(&mut ws, "a1").await;
    assert_eq!(
        (&fin["payload"]["status"], &fin["payload"]["summary"]),
        (&json!("timeout"), &json!("aborted"))
    );
    assert_eq!(fin["payload"]["result"]["payloads"][0]["text"], "Once");
    // The fake sees the closed connection at its next write (≤ 400 ms); it must be closed by then.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let gone = fake.disconnects();
    assert_eq!(gone.len(), 1, "the upstream request was cancelled");
    assert!(gone[0] - aborted_at < Duration::from_millis(500));
    let history = call(
        &mut ws,
        "h1",
        "chat.history",
        json!({"sessionKey": "agent:main:main"}),
    )
    .await;
    let m = &history["payload"]["messages"][1];
    assert_eq!(m["content"][0]["text"], "Once");
    assert_eq!(
        (&m["incomplete"], &m["stopReason"]),
        (&json!(true), &json!("aborted"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_one_session_are_serial_while_two_sessions_run_together() {
    let fake = FakeOpenAi::start().await;
    let slow = || Reply::slow(&["a", "b"], Duration::from_millis(300));
    fake.script("fake-model", [slow(), slow(), slow()]);
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, _) = connected_cli(gw.port).await;
    for (id, key, session) in [
        ("s1", "k1", "one"),
        ("s2", "k2", "one"),
        ("s3", "k3", "two"),
    ] {
        ws.send(req(
            id,
            "agent",
            json!({"message": id, "idempotencyKey": key, "sessionKey": session}),
        ))
        .await
        .unwrap();
    }
    let mut done = 0;
    while done < 3 {
        let f = recv_json_within(&mut ws, Duration::from_secs(15)).await;
        if f["type"] == "res" && f["payload"]["status"] == "ok" {
            done += 1;
        }
    }
    let r = fake.requests();
    let at = |text: &str| {
        r.iter()
            .find(|q| q.body["messages"].as_array().unwrap().last().unwrap()["content"] == text)
            .unwrap()
            .at
    };
    assert!(
        at("s2") - at("s1") >= Duration::from_millis(550),
        "s2 waited for s1 in session one"
    );
    assert!(
        at("s3").max(at("s1")) - at("s3").min(at("s1")) < Duration::from_millis(300),
        "session two ran alongside"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_sent_together_on_one_session_reach_the_model_and_the_history_in_the_order_sent() {
    let fake = FakeOpenAi::start().await;
    let sent: Vec<String> = (0..8).map(|i| format!("m{i}")).collect();
    fake.script(
        "fake-model",
        sent.iter().map(|m| Reply::text(&[&format!("re {m}")])),
    );
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, _) = connected_cli(gw.port).await;
    // Alternating methods: `agent` and `chat.send` share the session's queue.
    for (i, m) in sent.iter().enumerate() {
        let (method, params) = if i % 2 == 0 {
            (
                "agent",
                json!({"message": m, "idempotencyKey": m, "sessionKey": "order"}),
            )
        } else {
            (
                "chat.send",
                json!({"message": m, "idempotencyKey": m, "sessionKey": "order"}),
            )
        };
        ws.send(req(m, method, params)).await.unwrap();
    }
    let mut finals = 0;
    while finals < sent.len() / 2 {
        let f = recv_json_within(&mut ws, Duration::from_secs(15)).await;
        if f["type"] == "res" && f["payload"]["status"] == "ok" {
            finals += 1;
        }
    }
    // The last chat.send run may still be committing: wait until the fake saw every turn.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.requests().len() < sent.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked: Vec<Value> = fake
        .requests()
        .iter()
        .map(|q| q.body["messages"].as_array().unwrap().last().unwrap()["content"].clone())
        .collect();
    assert_eq!(asked, sent, "the model was asked in the order sent");
    let history = call(&mut ws, "h", "chat.history", json!({"sessionKey": "order"})).await;
    let users: Vec<&Value> = history["payload"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| &m["content"])
        .collect();
    assert_eq!(users, sent.iter().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_turn_timeout_ends_the_run_as_timeout() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::slow(
            &["a", "b", "c", "d"],
            Duration::from_millis(700),
        )],
    );
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, _) = connected_cli(gw.port).await;
    let started = Instant::now();
    ws.send(req(
        "a1",
        "agent",
        json!({"message": "slow", "idempotencyKey": "t-1", "timeout": 1}),
    ))
    .await
    .unwrap();
    let (frames, fin) = until_final(&mut ws, "a1").await;
    assert_eq!(
        (&fin["payload"]["status"], &fin["payload"]["summary"]),
        (&json!("timeout"), &json!("aborted"))
    );
    assert!(started.elapsed() < Duration::from_millis(2500));
    let chat = events(&frames, "chat");
    assert_eq!(chat.last().unwrap()["state"], "aborted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_500_is_retried_once_then_the_fallback_model_answers() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::status(500, "boom"), Reply::status(500, "boom")],
    );
    fake.script("backup", [Reply::text(&["from backup"])]);
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, _) = connected_cli(gw.port).await;
    ws.send(req(
        "a1",
        "agent",
        json!({"message": "hi", "idempotencyKey": "f-1"}),
    ))
    .await
    .unwrap();
    let (_, fin) = until_final(&mut ws, "a1").await;
    assert_eq!(fin["payload"]["status"], "ok", "{fin}");
    assert_eq!(
        fin["payload"]["result"]["payloads"][0]["text"],
        "from backup"
    );
    assert_eq!(
        fin["payload"]["result"]["meta"]["agentMeta"]["model"],
        "backup"
    );
    assert_eq!(fake.models_asked(), ["fake-model", "fake-model", "backup"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_model_is_an_immediate_error_naming_it() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, "local/nope");
    let (mut ws, hello) = connected_cli(gw.port).await;
    assert_eq!(
        hello["snapshot"]["sessionDefaults"]["modelConfigured"],
        false
    );
    let started = Instant::now();
    let res = call(
        &mut ws,
        "a1",
        "agent",
        json!({"message": "hi", "idempotencyKey": "u-1"}),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(res["ok"], false);
    let message = res["error"]["message"].as_str().unwrap();
    assert!(message.contains("unknown model local/nope"), "{message}");
    assert!(
        message.contains("configured models: local/backup, local/fake-model"),
        "{message}"
    );
    assert!(fake.requests().is_empty());
    let log = std::fs::read_to_string(&gw.stderr_path).unwrap();
    assert!(
        log.contains("openclaw.json:"),
        "the load logs the file and line: {log}"
    );
    assert!(log.contains("agents.defaults.model.primary"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_secrets_never_reach_config_get_events_or_the_log() {
    let fake = FakeOpenAi::start().await;
    let mut config: Value =
        serde_json::from_str(&config(&fake, "local/fake-model", json!({}))).unwrap();
    config["models"]["providers"]["local"]["headers"] =
        json!({"Authorization": "Bearer sk-header-secret", "X-Api-Key": "sk-other-secret"});
    let gw = TestGateway::start_with(GatewayOptions::default().config(&config.to_string()));
    let (mut ws, _) = connected_cli(gw.port).await;
    ws.send(req(
        "a1",
        "agent",
        json!({"message": "hi", "idempotencyKey": "sec-1"}),
    ))
    .await
    .unwrap();
    let (frames, fin) = until_final(&mut ws, "a1").await;
    let got = call(&mut ws, "g1", "config.get", json!({})).await;
    let seen = format!(
        "{frames:?}{fin}{got}{}",
        std::fs::read_to_string(&gw.stderr_path).unwrap()
    );
    for secret in ["sk-upstream", "sk-header-secret", "sk-other-secret"] {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
    // The upstream did get them (they are the provider's credentials).
    let h = &fake.requests()[0].headers;
    assert_eq!(
        h["authorization"], "Bearer sk-header-secret",
        "configured headers win"
    );
    assert_eq!(h["x-api-key"], "sk-other-secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_patched_reset_injected_and_deleted_and_health_counts_them() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, "local/fake-model");
    let (mut ws, _) = connected_cli(gw.port).await;
    ws.send(req(
        "a1",
        "agent",
        json!({"message": "hi", "idempotencyKey": "s-1", "sessionKey": "work"}),
    ))
    .await
    .unwrap();
    until_final(&mut ws, "a1").await;
    let list = call(&mut ws, "l1", "sessions.list", json!({})).await;
    let p = &list["payload"];
    assert_eq!(
        (&p["count"], &p["totalCount"], &p["hasMore"]),
        (&json!(1), &json!(1), &json!(false))
    );
    let s = &p["sessions"][0];
    assert_eq!(
        (&s["key"], &s["agentId"], &s["hasActiveRun"]),
        (&json!("agent:main:work"), &json!("main"), &json!(false))
    );
    assert_eq!(s["totalTokens"], 14);

    let bad = call(
        &mut ws,
        "p0",
        "sessions.patch",
        json!({"key": "agent:main:work", "model": "local/nope"}),
    )
    .await;
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown model local/nope"),
        "{bad}"
    );
    let patched = call(
        &mut ws,
        "p1",
        "sessions.patch",
        json!({"key": "agent:main:work", "label": "Work", "model": "local/backup"}),
    )
    .await;
    assert_eq!(patched["payload"]["session"]["label"], "Work");
    // The session's model override is the one asked next.
    ws.send(req(
        "a2",
        "agent",
        json!({"message": "again", "idempotencyKey": "s-2", "sessionKey": "work"}),
    ))
    .await
    .unwrap();
    let (_, fin) = until_final(&mut ws, "a2").await;
    assert_eq!(
        fin["payload"]["result"]["meta"]["agentMeta"]["model"],
        "backup"
    );

    let injected = call(
        &mut ws,
        "i1",
        "chat.inject",
        json!({"sessionKey": "agent:main:work", "message": "a note", "label": "memo"}),
    )
    .await;
    assert_eq!(injected["payload"]["ok"], true, "{injected}");
    let history = call(
        &mut ws,
        "h1",
        "chat.history",
        json!({"sessionKey": "agent:main:work"}),
    )
    .await;
    let last = history["payload"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (&last["role"], &last["label"]),
        (&json!("assistant"), &json!("memo"))
    );

    let old = history["payload"]["sessionId"].clone();
    let reset = call(
        &mut ws,
        "r1",
        "sessions.reset",
        json!({"key": "agent:main:work"}),
    )
    .await;
    assert_ne!(reset["payload"]["sessionId"], old);
    let fresh = call(
        &mut ws,
        "h2",
        "chat.history",
        json!({"sessionKey": "agent:main:work"}),
    )
    .await;
    assert_eq!(fresh["payload"]["messages"], json!([]));

    let health = call(&mut ws, "hz", "health", json!({})).await;
    // The cached summary is refreshed periodically; the agent is listed either way.
    assert_eq!(health["payload"]["agents"][0]["agentId"], "main");
    let deleted = call(
        &mut ws,
        "d1",
        "sessions.delete",
        json!({"key": "agent:main:work", "deleteTranscript": true}),
    )
    .await;
    assert_eq!(deleted["payload"]["deleted"], true);
    let list = call(&mut ws, "l2", "sessions.list", json!({})).await;
    assert_eq!(list["payload"]["totalCount"], 0);
}
