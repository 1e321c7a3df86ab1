//! The context window against the real gateway and the fake upstream (agent-runtime.md §4):
//! history fitted to the model's `contextWindow` (oldest turns dropped first, the new message
//! always sent) and the context guard (a turn that cannot fit is refused at once, naming the
//! window, with no upstream call).

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::*;

/// A gateway whose model has an 8,000-token window and a 1,000-token reply budget.
fn gateway(fake: &FakeOpenAi) -> TestGateway {
    let config = json!({
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "contextWindow": 8000, "maxTokens": 1000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    });
    TestGateway::start_with(GatewayOptions::default().config(&config.to_string()))
}

async fn turn(ws: &mut Ws, id: &str, message: &str) -> Value {
    ws.send(req(
        id,
        "agent",
        json!({"message": message, "idempotencyKey": id, "sessionKey": "agent:main:ctx"}),
    ))
    .await
    .unwrap();
    loop {
        let frame = recv_json_within(ws, Duration::from_secs(15)).await;
        if frame["type"] == "res" && frame["id"] == id && frame["payload"]["status"] != "accepted" {
            return frame;
        }
    }
}

/// The non-system messages of the n-th request upstream.
fn sent(fake: &FakeOpenAi, n: usize) -> Vec<String> {
    fake.requests()[n].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "system")
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_turns_are_dropped_to_fit_the_window_and_the_new_message_is_always_sent() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        (0..4).map(|i| Reply::text(&[&format!("answer {i}")])),
    );
    let gw = gateway(&fake);
    let (mut ws, _) = connected_cli(gw.port).await;
    // Three turns of ≈2,500 tokens each: together more than the 8,000 - 1,000 - system prompt.
    let big: Vec<String> = (0..3)
        .map(|i| format!("turn{i} {}", "x".repeat(10_000)))
        .collect();
    for (i, text) in big.iter().enumerate() {
        let fin = turn(&mut ws, &format!("t{i}"), text).await;
        assert_eq!(fin["payload"]["status"], "ok", "{fin}");
    }
    let fin = turn(&mut ws, "t3", "and now a short one").await;
    assert_eq!(fin["payload"]["status"], "ok", "{fin}");

    let last = sent(&fake, 3);
    assert_eq!(last.last().unwrap(), "and now a short one");
    assert!(
        !last.iter().any(|m| m.starts_with("turn0 ")),
        "the oldest turn was dropped"
    );
    assert!(
        last.iter().any(|m| m.starts_with("turn2 ")) && last.contains(&"answer 2".to_owned()),
        "the newest turn and its answer were kept"
    );
    let chars: usize = last.iter().map(String::len).sum();
    assert!(
        chars / 4 < 7_000,
        "{chars} characters sent to an 8,000-token window"
    );
    // The transcript keeps everything.
    let history = call(
        &mut ws,
        "h",
        "chat.history",
        json!({"sessionKey": "agent:main:ctx"}),
    )
    .await;
    assert_eq!(history["payload"]["messages"].as_array().unwrap().len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_fit_the_window_is_refused_at_once_without_an_upstream_call() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake);
    let (mut ws, _) = connected_cli(gw.port).await;
    // ≈7,500 tokens: with the reply budget, less than 10 % of the window (4,000 floor: 2,000
    // for a window this small) would be left.
    let fin = turn(&mut ws, "huge", &"y".repeat(30_000)).await;
    let p = &fin["payload"];
    assert_eq!(p["status"], "error", "{fin}");
    assert_eq!(p["error"]["reason"], "context_overflow", "{fin}");
    let message = p["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("contextWindow 8000"),
        "the error names the window: {fin}"
    );
    assert!(fake.requests().is_empty(), "no upstream call was made");
}
