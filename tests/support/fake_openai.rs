//! A scriptable OpenAI-compatible upstream (`POST /v1/chat/completions`, `GET /v1/models`) on a
//! loopback port, standing in for the model providers the tests cannot reach. Each model id gets
//! a queue of scripted [`Reply`]s (an empty queue answers [`Reply::default`]); every request is
//! recorded (headers, JSON body), and so is the moment a client closed a streaming answer early.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Bytes;
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// What the fake answers one request with.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A streamed answer: `chunks` as content deltas, `delays[i]` before the i-th (the last delay
    /// repeats; none: no delay), then a finish chunk
    /// (`finish`), a usage chunk and `[DONE]`; `cut_after` closes the connection abruptly after
    /// that many content chunks, `stall_after` stops sending (connection open) after that many.
    Stream {
        chunks: Vec<String>,
        delays: Vec<Duration>,
        finish: String,
        cut_after: Option<usize>,
        stall_after: Option<usize>,
    },
    /// A streamed answer asking for tool calls: `(id, name, arguments)` each, the arguments in
    /// two fragments, then `finish_reason: "tool_calls"`.
    Tools(Vec<(String, String, String)>),
    /// An error answer.
    Error {
        status: u16,
        body: String,
        retry_after: Option<String>,
    },
}

impl Default for Reply {
    fn default() -> Self {
        Self::text(&["Hello", " from the", " fake model."])
    }
}

impl Reply {
    /// A prompt stream of `chunks`.
    pub fn text(chunks: &[&str]) -> Self {
        Self::Stream {
            chunks: chunks.iter().map(|c| (*c).to_owned()).collect(),
            delays: vec![],
            finish: "stop".into(),
            cut_after: None,
            stall_after: None,
        }
    }

    /// `chunks`, each after `delay`.
    pub fn slow(chunks: &[&str], delay: Duration) -> Self {
        match Self::text(chunks) {
            Self::Stream { chunks, finish, .. } => Self::Stream {
                chunks,
                delays: vec![delay],
                finish,
                cut_after: None,
                stall_after: None,
            },
            other => other,
        }
    }

    /// Each chunk after its own delay.
    pub fn paced(chunks: &[(&str, Duration)]) -> Self {
        let text: Vec<&str> = chunks.iter().map(|(c, _)| *c).collect();
        match Self::text(&text) {
            Self::Stream {
                chunks: c, finish, ..
            } => Self::Stream {
                chunks: c,
                delays: chunks.iter().map(|(_, d)| *d).collect(),
                finish,
                cut_after: None,
                stall_after: None,
            },
            other => other,
        }
    }

    /// `chunks`, the connection cut after the first `n`.
    pub fn cut(chunks: &[&str], n: usize) -> Self {
        match Self::text(chunks) {
            Self::Stream { chunks, finish, .. } => Self::Stream {
                chunks,
                delays: vec![],
                finish,
                cut_after: Some(n),
                stall_after: None,
            },
            other => other,
        }
    }

    /// `chunks`, then silence (the connection open) after the first `n`.
    pub fn stall(chunks: &[&str], n: usize) -> Self {
        match Self::text(chunks) {
            Self::Stream { chunks, finish, .. } => Self::Stream {
                chunks,
                delays: vec![],
                finish,
                cut_after: None,
                stall_after: Some(n),
            },
            other => other,
        }
    }

    /// One tool call (`arguments` is JSON text).
    pub fn tool_call(id: &str, name: &str, arguments: &str) -> Self {
        Self::Tools(vec![(id.into(), name.into(), arguments.into())])
    }

    /// An error status with an OpenAI-shaped error body.
    pub fn status(status: u16, message: &str) -> Self {
        Self::Error {
            status,
            body: json!({"error": {"message": message, "type": "api_error"}}).to_string(),
            retry_after: None,
        }
    }

    /// A 429 with `Retry-After: <seconds>`.
    pub fn rate_limited(seconds: &str) -> Self {
        Self::Error {
            status: 429,
            body: json!({"error": {"message": "rate limited", "type": "rate_limit_error"}})
                .to_string(),
            retry_after: Some(seconds.to_owned()),
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// When it arrived.
    pub at: Instant,
    /// Its headers (lower-case names; repeated ones joined with ", ").
    pub headers: BTreeMap<String, String>,
    /// Its JSON body (null for a GET).
    pub body: Value,
}

#[derive(Default)]
struct State {
    scripts: BTreeMap<String, VecDeque<Reply>>,
    requests: Vec<Recorded>,
    /// When a client closed a streaming answer before its end.
    disconnects: Vec<Instant>,
}

/// The running fake; stops when dropped.
pub struct FakeOpenAi {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeOpenAi {
    /// Starts it on a free loopback port (inside a tokio runtime).
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:<port>/v1`, the provider's `baseUrl`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues `replies` for requests naming `model`.
    pub fn script(&self, model: &str, replies: impl IntoIterator<Item = Reply>) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .entry(model.to_owned())
            .or_default()
            .extend(replies);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The `model` of each chat request so far, in order.
    pub fn models_asked(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| {
                r.body
                    .get("model")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }

    /// When clients closed streaming answers early.
    pub fn disconnects(&self) -> Vec<Instant> {
        self.state.lock().unwrap().disconnects.clone()
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn full(status: u16, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed())
        .unwrap()
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    // A header sent twice is recorded as its values joined with ", " (so tests see duplicates).
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in req.headers() {
        let v = v.to_str().unwrap_or("");
        headers
            .entry(k.as_str().to_owned())
            .and_modify(|all| {
                all.push_str(", ");
                all.push_str(v);
            })
            .or_insert_with(|| v.to_owned());
    }
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let reply = {
        let mut s = state.lock().unwrap();
        s.requests.push(Recorded {
            at: Instant::now(),
            headers,
            body,
        });
        s.scripts
            .get_mut(&model)
            .and_then(VecDeque::pop_front)
            .unwrap_or_default()
    };
    if path.ends_with("/models") {
        return full(
            200,
            "application/json",
            json!({"object": "list", "data": []}).to_string(),
        );
    }
    if !path.ends_with("/chat/completions") {
        return full(
            404,
            "application/json",
            json!({"error": {"message": "no route"}}).to_string(),
        );
    }
    match reply {
        Reply::Error {
            status,
            body,
            retry_after,
        } => {
            let mut r = full(status, "application/json", body);
            if let Some(v) = retry_after {
                r.headers_mut().insert("retry-after", v.parse().unwrap());
            }
            r
        }
        Reply::Stream {
            chunks,
            delays,
            finish,
            cut_after,
            stall_after,
        } => stream_reply(state, model, chunks, delays, finish, cut_after, stall_after),
        Reply::Tools(calls) => tool_reply(&model, &calls),
    }
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let c = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {c}\n\n")
}

fn stream_reply(
    state: Arc<Mutex<State>>,
    model: String,
    chunks: Vec<String>,
    delays: Vec<Duration>,
    finish: String,
    cut_after: Option<usize>,
    stall_after: Option<usize>,
) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
    tokio::spawn(async move {
        let send = |text: String| {
            let tx = tx.clone();
            async move { tx.send(Ok(Frame::data(Bytes::from(text)))).await.is_ok() }
        };
        let gone =
            |state: &Arc<Mutex<State>>| state.lock().unwrap().disconnects.push(Instant::now());
        if !send(chunk(&model, json!({"role": "assistant"}), None)).await {
            return gone(&state);
        }
        for (i, text) in chunks.iter().enumerate() {
            if cut_after == Some(i) {
                // Let what was sent reach the client, then abort the connection.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(Err(std::io::Error::other("cut"))).await;
                return;
            }
            if stall_after == Some(i) {
                // Silence with the connection open; notice when the client gives up.
                tx.closed().await;
                return gone(&state);
            }
            let delay = delays.get(i).or(delays.last()).copied();
            tokio::time::sleep(delay.unwrap_or(Duration::ZERO)).await;
            if !send(chunk(&model, json!({"content": text}), None)).await {
                return gone(&state);
            }
        }
        let usage = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
            "model": model, "choices": [],
            "usage": {"prompt_tokens": 11, "completion_tokens": chunks.len(), "total_tokens": 11 + chunks.len()}});
        for text in [
            chunk(&model, json!({}), Some(&finish)),
            format!("data: {usage}\n\n"),
            "data: [DONE]\n\n".to_owned(),
        ] {
            if !send(text).await {
                return gone(&state);
            }
        }
    });
    let body = StreamBody::new(stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(BodyExt::boxed(body))
        .unwrap()
}

fn tool_reply(model: &str, calls: &[(String, String, String)]) -> Response<Body> {
    let mut text = chunk(model, json!({"role": "assistant"}), None);
    for (index, (id, name, arguments)) in calls.iter().enumerate() {
        let (a, b) = arguments.split_at(arguments.len() / 2);
        text.push_str(&chunk(
            model,
            json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                "function": {"name": name, "arguments": a}}]}),
            None,
        ));
        text.push_str(&chunk(
            model,
            json!({"tool_calls": [{"index": index, "function": {"arguments": b}}]}),
            None,
        ));
    }
    text.push_str(&chunk(model, json!({}), Some("tool_calls")));
    text.push_str("data: [DONE]\n\n");
    full(200, "text/event-stream", text)
}
