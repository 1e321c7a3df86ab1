//! The provider client (`api: "openai-completions"`) against the scriptable fake upstream:
//! streaming, the failure classes of agent-runtime.md §2.2, retries, fallbacks, timeouts and
//! cancellation that closes the upstream connection.

mod support;

use std::time::{Duration, Instant};

use openclaw::contract::secret::Secret;
use openclaw::gateway::provider::attempts::answer;
use openclaw::gateway::provider::openai_completions::stream_chat;
use openclaw::gateway::provider::{
    ChatMessage, ChatRequest, Endpoint, FailureReason, ModelRef, StreamEvent, Timeouts, http_client,
};
use support::fake_openai::{FakeOpenAi, Reply};
use tokio_util::sync::CancellationToken;

fn endpoint(fake: &FakeOpenAi, model: &str) -> Endpoint {
    Endpoint {
        model: ModelRef::parse(&format!("local/{model}")).unwrap(),
        base_url: fake.base_url(),
        api_key: Some(Secret::new("sk-test-key")),
        headers: [("X-Extra".to_owned(), "v".to_owned())].into(),
        max_tokens: Some(256),
        max_tokens_field: "max_completion_tokens".into(),
        usage_in_streaming: true,
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            idle: Duration::from_millis(400),
            total: Duration::from_secs(10),
        },
    }
}

fn hello() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::new("system", "You are a test."),
            ChatMessage::new("user", "hi"),
        ],
        ..ChatRequest::default()
    }
}

#[tokio::test]
async fn a_streamed_answer_arrives_piece_by_piece_with_usage_and_the_request_is_what_the_spec_says()
{
    let fake = FakeOpenAi::start().await;
    let client = http_client(Duration::from_secs(2)).unwrap();
    let mut pieces = Vec::new();
    let completion = stream_chat(
        &client,
        &endpoint(&fake, "fake-model"),
        &hello(),
        &CancellationToken::new(),
        &mut |e| pieces.push(e.clone()),
    )
    .await
    .unwrap();
    assert_eq!(completion.text, "Hello from the fake model.");
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
    assert_eq!((completion.usage.input, completion.usage.output), (11, 3));
    assert_eq!(pieces.len(), 3);
    assert_eq!(pieces[0], StreamEvent::Text("Hello".into()));
    let sent = &fake.requests()[0];
    assert_eq!(sent.headers["authorization"], "Bearer sk-test-key");
    assert_eq!(sent.headers["x-extra"], "v");
    assert_eq!(sent.body["model"], "fake-model");
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
    assert_eq!(sent.body["max_completion_tokens"], 256);
    assert_eq!(sent.body["messages"][0]["role"], "system");
    assert!(
        sent.body.get("tools").is_none(),
        "never an empty tools array"
    );
}

#[tokio::test]
async fn a_server_error_is_retried_once_then_the_fallback_answers() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "primary",
        [Reply::status(500, "boom"), Reply::status(500, "boom again")],
    );
    let client = http_client(Duration::from_secs(2)).unwrap();
    let endpoints = [endpoint(&fake, "primary"), endpoint(&fake, "backup")];
    let a = answer(
        &client,
        &endpoints,
        &hello(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    let completion = a.result.unwrap();
    assert_eq!(completion.model.unwrap().to_string(), "local/backup");
    assert_eq!(fake.models_asked(), ["primary", "primary", "backup"]);
    let reasons: Vec<_> = a.attempts.iter().map(|x| x.reason).collect();
    assert_eq!(
        reasons,
        [
            Some(FailureReason::ServerError),
            Some(FailureReason::ServerError),
            None
        ]
    );
    assert_eq!(a.attempts[0].status, Some(500));
}

#[tokio::test]
async fn an_auth_failure_is_not_retried_but_falls_back() {
    let fake = FakeOpenAi::start().await;
    fake.script("primary", [Reply::status(401, "bad key")]);
    let client = http_client(Duration::from_secs(2)).unwrap();
    let endpoints = [endpoint(&fake, "primary"), endpoint(&fake, "backup")];
    let a = answer(
        &client,
        &endpoints,
        &hello(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    assert!(a.result.is_ok());
    assert_eq!(fake.models_asked(), ["primary", "backup"]);
    assert_eq!(a.attempts[0].reason, Some(FailureReason::Auth));
}

#[tokio::test]
async fn a_rate_limit_waits_for_retry_after_then_retries_the_same_model() {
    let fake = FakeOpenAi::start().await;
    fake.script("primary", [Reply::rate_limited("1")]);
    let client = http_client(Duration::from_secs(2)).unwrap();
    let started = Instant::now();
    let a = answer(
        &client,
        &[endpoint(&fake, "primary")],
        &hello(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    assert!(a.result.is_ok());
    assert_eq!(fake.models_asked(), ["primary", "primary"]);
    let requests = fake.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_bad_request_is_final_and_a_context_length_400_is_context_overflow() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "primary",
        [Reply::status(
            400,
            "This model's maximum context length is 4096 tokens",
        )],
    );
    let client = http_client(Duration::from_secs(2)).unwrap();
    let endpoints = [endpoint(&fake, "primary"), endpoint(&fake, "backup")];
    let a = answer(
        &client,
        &endpoints,
        &hello(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    let failure = a.result.unwrap_err().failure;
    assert_eq!(failure.reason, FailureReason::ContextOverflow);
    assert!(
        failure.message.contains("maximum context length"),
        "{}",
        failure.message
    );
    assert_eq!(fake.models_asked(), ["primary"], "no retry, no fallback");
}

#[tokio::test]
async fn a_stall_past_the_idle_timeout_is_a_timeout_and_the_fallback_is_tried() {
    let fake = FakeOpenAi::start().await;
    fake.script("primary", [Reply::stall(&["a", "b"], 0)]);
    let client = http_client(Duration::from_secs(2)).unwrap();
    let endpoints = [endpoint(&fake, "primary"), endpoint(&fake, "backup")];
    let started = Instant::now();
    let a = answer(
        &client,
        &endpoints,
        &hello(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    assert!(a.result.is_ok());
    assert_eq!(a.attempts[0].reason, Some(FailureReason::Timeout));
    assert_eq!(
        fake.models_asked(),
        ["primary", "backup"],
        "a timeout is not retried"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_connection_cut_after_tokens_keeps_the_partial_text_and_is_not_retried() {
    let fake = FakeOpenAi::start().await;
    fake.script("primary", [Reply::cut(&["Hel", "lo", " there"], 2)]);
    let client = http_client(Duration::from_secs(2)).unwrap();
    let endpoints = [endpoint(&fake, "primary"), endpoint(&fake, "backup")];
    let a = answer(
        &client,
        &endpoints,
        &hello(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    let interrupted = a.result.unwrap_err();
    assert_eq!(interrupted.failure.reason, FailureReason::ServerError);
    assert_eq!(interrupted.partial.text, "Hello");
    assert_eq!(
        fake.models_asked(),
        ["primary"],
        "the user saw text: no retry, no fallback"
    );
}

#[tokio::test]
async fn cancelling_mid_stream_returns_at_once_and_closes_the_upstream_connection() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "primary",
        [Reply::slow(
            &["one", " two", " three", " four"],
            Duration::from_millis(300),
        )],
    );
    let client = http_client(Duration::from_secs(2)).unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let mut seen = 0;
    let mut cancelled_at = None;
    let result = stream_chat(
        &client,
        &endpoint(&fake, "primary"),
        &hello(),
        &cancel,
        &mut |_| {
            seen += 1;
            if seen == 1 {
                trigger.cancel();
                cancelled_at = Some(Instant::now());
            }
        },
    )
    .await;
    let cancelled_at = cancelled_at.expect("one piece arrived");
    assert!(cancelled_at.elapsed() < Duration::from_millis(100));
    let interrupted = result.unwrap_err();
    assert_eq!(interrupted.failure.reason, FailureReason::Aborted);
    assert_eq!(interrupted.partial.text, "one");
    // The fake notices the closed connection at its next write (≤ 300 ms later); what matters
    // is that it was closed, which the next write proves.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let gone = fake.disconnects();
    assert_eq!(gone.len(), 1, "the upstream connection was closed");
}

#[tokio::test]
async fn an_unreachable_provider_is_a_server_error_naming_no_secret() {
    let fake = FakeOpenAi::start().await;
    let mut e = endpoint(&fake, "primary");
    e.base_url = "http://127.0.0.1:9/v1".into();
    let client = http_client(Duration::from_secs(2)).unwrap();
    let a = answer(
        &client,
        &[e],
        &hello(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    let failure = a.result.unwrap_err().failure;
    assert_eq!(failure.reason, FailureReason::ServerError);
    assert!(
        !failure.message.contains("sk-test-key"),
        "{}",
        failure.message
    );
    assert_eq!(a.attempts.len(), 2, "retried once");
}
