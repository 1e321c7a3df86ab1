//! The pacing of a run's events against the real gateway and the fake upstream
//! (agent-runtime.md §3.2): `assistant` events at most every 50 ms and `chat` deltas at most
//! every 75 ms per run, the first piece at once, held-back text sent when its interval is over
//! even if the upstream goes quiet, and nothing lost at the end.

mod support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::*;

fn gateway(fake: &FakeOpenAi) -> TestGateway {
    let config = json!({
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    });
    TestGateway::start_with(GatewayOptions::default().config(&config.to_string()))
}

/// Runs one `agent` turn; every `agent`/`chat` event of it with its arrival time, and the
/// final response.
async fn turn(gw: &TestGateway, run_id: &str) -> (Vec<(Instant, Value)>, Value) {
    let (mut ws, _) = connected_cli(gw.port).await;
    ws.send(req(
        "a1",
        "agent",
        json!({"message": "go", "idempotencyKey": run_id}),
    ))
    .await
    .unwrap();
    let mut events = vec![];
    loop {
        let frame = recv_json_within(&mut ws, Duration::from_secs(15)).await;
        if frame["type"] == "event" && frame["payload"]["runId"] == run_id {
            events.push((Instant::now(), frame));
        } else if frame["type"] == "res"
            && frame["id"] == "a1"
            && frame["payload"]["status"] != "accepted"
        {
            return (events, frame);
        }
    }
}

fn assistant(events: &[(Instant, Value)]) -> Vec<(Instant, &Value)> {
    events
        .iter()
        .filter(|(_, e)| e["event"] == "agent" && e["payload"]["stream"] == "assistant")
        .map(|(t, e)| (*t, &e["payload"]["data"]))
        .collect()
}

fn chat_deltas(events: &[(Instant, Value)]) -> Vec<&Value> {
    events
        .iter()
        .filter(|(_, e)| e["event"] == "chat" && e["payload"]["state"] == "delta")
        .map(|(_, e)| &e["payload"])
        .collect()
}

fn joined<'a>(parts: impl Iterator<Item = &'a Value>, key: &str) -> String {
    parts.map(|p| p[key].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_stream_is_gathered_into_few_events_and_none_of_its_text_is_lost() {
    let fake = FakeOpenAi::start().await;
    let chunks: Vec<String> = (0..300).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    fake.script("fake-model", [Reply::text(&refs)]);
    let gw = gateway(&fake);
    let (events, fin) = turn(&gw, "fast-1").await;
    let full: String = chunks.concat();
    assert_eq!(
        fin["payload"]["result"]["payloads"][0]["text"],
        full.as_str()
    );

    let agent = assistant(&events);
    assert_eq!(
        agent[0].1["delta"], "w0 ",
        "the first piece goes out at once"
    );
    assert!(
        agent.len() < 30,
        "300 instant chunks became {} assistant events",
        agent.len()
    );
    assert_eq!(joined(agent.iter().map(|(_, d)| *d), "delta"), full);
    assert_eq!(agent.last().unwrap().1["text"], full.as_str());
    for pair in agent.windows(2) {
        let (a, b) = (
            pair[0].1["text"].as_str().unwrap(),
            pair[1].1["text"].as_str().unwrap(),
        );
        assert!(
            b.starts_with(a) && b.len() > a.len(),
            "cumulative text grows"
        );
    }

    let chat = chat_deltas(&events);
    assert!(chat.len() <= agent.len(), "chat deltas are paced at 75 ms");
    assert_eq!(joined(chat.iter().copied(), "deltaText"), full);
    let last = events.last().unwrap().1.clone();
    assert_eq!(
        (
            &last["payload"]["state"],
            &last["payload"]["message"]["content"][0]["text"]
        ),
        (&json!("final"), &json!(full))
    );
    // The last `assistant` event comes before `lifecycle` `end`.
    let end = events
        .iter()
        .position(|(_, e)| e["payload"]["data"]["phase"] == "end")
        .unwrap();
    let last_assistant = events
        .iter()
        .rposition(|(_, e)| e["payload"]["stream"] == "assistant")
        .unwrap();
    assert!(last_assistant < end);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pieces_further_apart_than_the_interval_each_get_their_own_event() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::slow(
            &["One", " two", " three", " four"],
            Duration::from_millis(150),
        )],
    );
    let gw = gateway(&fake);
    let (events, _) = turn(&gw, "slow-1").await;
    let deltas: Vec<&str> = assistant(&events)
        .iter()
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["One", " two", " three", " four"]);
    let chat: Vec<&str> = chat_deltas(&events)
        .iter()
        .map(|d| d["deltaText"].as_str().unwrap())
        .collect();
    assert_eq!(chat, ["One", " two", " three", " four"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_back_text_is_sent_when_its_interval_ends_even_if_the_upstream_goes_quiet() {
    let fake = FakeOpenAi::start().await;
    // "a" at once, "b" 5 ms behind it (held back), then 1.5 s of silence before "c".
    fake.script(
        "fake-model",
        [Reply::paced(&[
            ("a", Duration::ZERO),
            ("b", Duration::from_millis(5)),
            ("c", Duration::from_millis(1500)),
        ])],
    );
    let gw = gateway(&fake);
    let (events, _) = turn(&gw, "quiet-1").await;
    let agent = assistant(&events);
    let deltas: Vec<&str> = agent
        .iter()
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["a", "b", "c"]);
    let b_after_a = agent[1].0 - agent[0].0;
    let c_after_b = agent[2].0 - agent[1].0;
    assert!(
        b_after_a < Duration::from_millis(700) && c_after_b > Duration::from_millis(500),
        "\"b\" went out {b_after_a:?} after \"a\", not with \"c\" ({c_after_b:?} later)"
    );
    let chat: Vec<&str> = chat_deltas(&events)
        .iter()
        .map(|d| d["deltaText"].as_str().unwrap())
        .collect();
    assert_eq!(chat, ["a", "b", "c"]);
}
