//! `POST /v1/responses` against the real gateway, the fake upstream and the official OpenAI
//! Python SDK (agent-runtime.md §6.2): answers streamed or not, `previous_response_id`, tool
//! calls, the strict body, failed runs as `status:"failed"` response objects.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::http_client::{sdk, status};
use support::*;

fn gateway(fake: &FakeOpenAi) -> TestGateway {
    let config = json!({
        "gateway": {"http": {"endpoints": {"responses": {"enabled": true}}}},
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}, "entries": {"ops": {}}},
    });
    TestGateway::start_with(GatewayOptions::default().config(&config.to_string()))
}

fn texts(messages: &Value) -> String {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}: {}", m["role"], m["content"]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_gets_responses_streamed_or_not_and_continues_one_by_id() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake);

    let r = sdk(&gw, TOKEN, "responses", None).await;
    assert_eq!(r["text"], "Hello from the fake model.", "{r}");
    assert_eq!(
        (&r["status"], &r["model"], &r["object"], &r["instructions"]),
        (
            &json!("completed"),
            &json!("openclaw"),
            &json!("response"),
            &json!("Be terse.")
        )
    );
    assert!(r["id"].as_str().unwrap().starts_with("resp_"), "{r}");
    assert_eq!(
        (&r["usage"]["input_tokens"], &r["usage"]["output_tokens"]),
        (&json!(11), &json!(3))
    );
    let system = &fake.requests()[0].body["messages"][0];
    assert_eq!(system["role"], "system");
    assert!(
        system["content"].as_str().unwrap().contains("Be terse."),
        "instructions reach the model: {system}"
    );

    let r = sdk(&gw, TOKEN, "responses-stream", Some("openclaw/ops")).await;
    assert_eq!(
        r["deltas"],
        json!(["Hello", " from the", " fake model."]),
        "no batching: {r}"
    );
    assert_eq!(r["final_text"], "Hello from the fake model.");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["usage"]["total_tokens"], 14);
    let types: Vec<&str> = r["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .filter(|t| *t != "response.output_text.delta")
        .collect();
    assert_eq!(
        types,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(fake.requests()[1].body["model"], "fake-model");

    let r = sdk(&gw, TOKEN, "responses-followup", None).await;
    assert_eq!(r["previous"], r["first"], "{r}");
    assert_eq!(r["text"], "Hello from the fake model.");
    let sent = fake.requests();
    let second = texts(&sent[sent.len() - 1].body["messages"]);
    assert!(
        second.contains("first question") && second.contains("second question"),
        "the answer it continues is in the model's history: {second}"
    );
    // The first two requests ran in sessions of their own.
    let first = texts(&sent[0].body["messages"]);
    assert!(!first.contains("question"), "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_tools_reach_the_model_and_come_back_as_function_call_items() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::tool_call(
            "call_7",
            "get_weather",
            r#"{"city":"Oslo"}"#,
        )],
    );
    let gw = gateway(&fake);
    let r = sdk(&gw, TOKEN, "responses-tools", None).await;
    assert_eq!(
        r["calls"],
        json!([{"call_id": "call_7", "name": "get_weather", "arguments": {"city": "Oslo"}}]),
        "{r}"
    );
    assert_eq!(r["status"], "completed");
    let tool = &fake.requests()[0].body["tools"][0];
    assert_eq!(tool["type"], "function");
    assert_eq!(tool["function"]["name"], "get_weather", "chat form: {tool}");
    assert_eq!(tool["function"]["parameters"]["required"], json!(["city"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_refused_by_name_and_failed_runs_are_failed_response_objects() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake);
    let bearer = format!("Bearer {TOKEN}");
    let port = gw.port;
    for (body, says) in [
        (
            r#"{"model":"openclaw","input":"hi","foo_unknown":1}"#,
            "Unrecognized key: `foo_unknown`",
        ),
        (r#"{"model":"gpt-4","input":"hi"}"#, "Invalid `model`"),
        (r#"{"model":"openclaw"}"#, "Invalid `input`"),
        (
            r#"{"model":"openclaw","input":"hi","previous_response_id":"resp_nope"}"#,
            "resp_nope is unknown or expired",
        ),
        (
            r#"{"model":"openclaw","input":"hi","temperature":9}"#,
            "Invalid `temperature`",
        ),
    ] {
        let (code, _, answer) = status(port, "POST", "/v1/responses", Some(&bearer), body);
        assert_eq!(code, 400, "{body}: {answer}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["error"]["type"], "invalid_request_error");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    let (code, _, _) = status(
        port,
        "POST",
        "/v1/responses",
        None,
        r#"{"model":"openclaw","input":"hi"}"#,
    );
    assert_eq!(code, 401);
    assert!(
        fake.requests().is_empty(),
        "no refused request reached the model"
    );

    // The upstream fails: a response object with status "failed", under the status that goes
    // with the failure.
    fake.script(
        "fake-model",
        [Reply::status(500, "boom"), Reply::status(500, "boom")],
    );
    let (code, _, answer) = status(
        port,
        "POST",
        "/v1/responses",
        Some(&bearer),
        r#"{"model":"openclaw","input":"hi"}"#,
    );
    assert_eq!(code, 502, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        (&answer["object"], &answer["status"]),
        (&json!("response"), &json!("failed"))
    );
    assert_eq!(answer["error"]["code"], "api_error", "{answer}");

    // Streamed: `response.failed`, then `[DONE]`.
    fake.script(
        "fake-model",
        [Reply::status(500, "boom"), Reply::status(500, "boom")],
    );
    let (code, _, stream) = status(
        port,
        "POST",
        "/v1/responses",
        Some(&bearer),
        r#"{"model":"openclaw","input":"hi","stream":true}"#,
    );
    assert_eq!(code, 200);
    assert!(
        stream.contains("event: response.failed\ndata: "),
        "{stream}"
    );
    let failed = stream.find("event: response.failed").unwrap();
    assert!(stream[failed..].contains("data: [DONE]"), "{stream}");
    assert!(!stream.contains("response.completed"), "{stream}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_is_absent_until_enabled_and_switches_on_without_a_restart() {
    let fake = FakeOpenAi::start().await;
    let config = |on: bool| {
        json!({
            "gateway": {"http": {"endpoints": {"responses": {"enabled": on}}}},
            "models": {"providers": {"local": {"baseUrl": fake.base_url(),
                "models": [{"id": "fake-model"}]}}},
            "agents": {"defaults": {"model": "local/fake-model"}},
        })
        .to_string()
    };
    let gw = TestGateway::start_with(GatewayOptions::default().config(&config(false)));
    let bearer = format!("Bearer {TOKEN}");
    let body = r#"{"model":"openclaw","input":"hi"}"#;
    assert_eq!(
        status(gw.port, "POST", "/v1/responses", Some(&bearer), body).0,
        404
    );
    assert_eq!(
        status(gw.port, "GET", "/v1/models", Some(&bearer), "").0,
        404
    );
    std::fs::write(gw.state_dir().join("openclaw.json"), config(true)).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let code = status(gw.port, "POST", "/v1/responses", Some(&bearer), body).0;
        if code == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {code} after the config turned the endpoint on"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status(gw.port, "GET", "/v1/models", Some(&bearer), "").0,
        200,
        "/v1/models comes with either endpoint"
    );
}
