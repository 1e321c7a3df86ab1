//! `kill -9` of the real gateway in the middle of streaming turns, 20 times at varying points:
//! after each restart the store opens, the interrupted run is `aborted`, every earlier turn is
//! intact, and SQLite's integrity check passes (agent-runtime.md §4, issue 17 acceptance).

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use support::fake_openai::{FakeOpenAi, Reply};
use support::*;

const KILLS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_leaves_a_readable_store_with_the_run_aborted_and_earlier_turns_intact() {
    let fake = FakeOpenAi::start().await;
    let chunks: Vec<String> = (0..12).map(|i| format!("w{i} ")).collect();
    let chunk_refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let whole: String = chunks.concat();
    // Every even turn is killed mid-stream; every odd one completes (12 chunks × 20 ms).
    fake.script(
        "fake-model",
        (0..2 * KILLS).map(|_| Reply::slow(&chunk_refs, Duration::from_millis(20))),
    );
    let config = json!({
        "models": {"providers": {"local": {"baseUrl": fake.base_url(), "models": [{"id": "fake-model"}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    });
    let mut gw = TestGateway::start_with(GatewayOptions::default().config(&config.to_string()));
    for i in 0..KILLS {
        let (mut ws, _) = connected_cli(gw.port).await;
        if i > 0 {
            // The run killed last time was closed as aborted at this start.
            let prev = format!("killed-{}", i - 1);
            let waited = call(
                &mut ws,
                "w",
                "agent.wait",
                json!({"runId": prev, "timeoutMs": 100}),
            )
            .await;
            assert_eq!(waited["payload"]["status"], "timeout", "{waited}");
            assert!(
                waited["payload"]["error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("interrupted"),
                "{waited}"
            );
        }
        // One complete turn, then one killed at a point that moves through the stream.
        let done = call(
            &mut ws,
            "c",
            "agent",
            json!({"message": format!("complete {i}"), "idempotencyKey": format!("done-{i}")}),
        )
        .await;
        assert_eq!(done["payload"]["status"], "accepted");
        let fin = loop {
            let f = recv_json_within(&mut ws, Duration::from_secs(10)).await;
            if f["type"] == "res" && f["id"] == "c" {
                break f;
            }
        };
        assert_eq!(fin["payload"]["status"], "ok", "{fin}");
        ws.send(req(
            "k",
            "agent",
            json!({"message": format!("killed {i}"), "idempotencyKey": format!("killed-{i}")}),
        ))
        .await
        .unwrap();
        let ack = recv_response(&mut ws, "k").await;
        assert_eq!(ack["payload"]["status"], "accepted");
        let point = Duration::from_millis(((i * 37) % 200) as u64);
        tokio::time::sleep(point).await;
        let gw_ref = &mut gw;
        tokio::task::block_in_place(|| gw_ref.kill_9_and_restart());
    }
    let (mut ws, _) = connected_cli(gw.port).await;
    let history = call(
        &mut ws,
        "h",
        "chat.history",
        json!({"sessionKey": "agent:main:main", "limit": 1000}),
    )
    .await;
    let messages = history["payload"]["messages"].as_array().unwrap().clone();
    for i in 0..KILLS {
        let user = messages
            .iter()
            .position(|m| m["content"] == format!("complete {i}"))
            .unwrap_or_else(|| panic!("turn {i} kept: {messages:?}"));
        let answer = &messages[user + 1];
        assert_eq!(answer["role"], "assistant");
        assert_eq!(
            answer["content"][0]["text"],
            whole.as_str(),
            "turn {i} answer intact"
        );
        assert!(answer.get("incomplete").is_none());
        // The killed turn's message is stored; its answer never half-written.
        let killed = messages
            .iter()
            .position(|m| m["content"] == format!("killed {i}"));
        if let Some(k) = killed {
            if let Some(next) = messages.get(k + 1).filter(|m| m["role"] == "assistant") {
                assert_eq!(
                    next["content"][0]["text"],
                    whole.as_str(),
                    "only a finished answer is stored"
                );
            }
        }
    }
    drop(ws);
    let db = gw.state_dir().join("sessions.sqlite");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let open_runs: i64 = conn
        .query_row(
            "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        open_runs, 0,
        "every interrupted run was closed at a restart"
    );
}
