//! Agent turns, both gateways against the same fake OpenAI-compatible upstream in this process.
//!
//! The upstream answers `POST …/chat/completions` with SSE chunks, one token each: as many as the
//! last user message asks with `tokens=N` (else 5), `gap_ms=N` apart (else at once). It records when each request was
//! complete and when its first byte left, on the same clock as the WebSocket clients, so the
//! gateway-added latency to the first token is exact: (request sent → upstream has the request)
//! + (upstream's first byte → first `assistant` event at the client).
//!
//! Per run: a warm-up turn (untimed; the reference creates its workspace on the first one), then
//! sequential `agent` turns in one session (added latency to the first token, turn time),
//! concurrent sessions streaming many tokens each (gateway CPU per token, RSS per session after
//! they went idle), a session of many turns (`chat.history` of 1,000 entries, and the added
//! latency of a turn with that history), and each gateway's own CLI running `agent`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Frame as BodyFrame, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    MetricDef, Opts, RunResult, Side, TOKEN, Target, Unit, Ws, handshake_with_scopes, ms,
    next_text, pct, sorted, time_cli, tree_cpu_s, tree_mem, tree_rss_mib,
};

/// The model both gateways are configured with.
pub const MODEL: &str = "bench-model";

/// The agent config both gateways get (`agents.defaults.maxConcurrent` high enough that the
/// concurrent sessions really stream at once on both; `/v1/chat/completions` on).
pub fn agent_config(base_url: &str, max_concurrent: usize) -> Value {
    json!({
        "models": {"providers": {"local": {
            "baseUrl": base_url, "api": "openai-completions", "apiKey": "bench-upstream-key",
            "models": [{"id": MODEL, "name": "Bench model", "contextWindow": 200000, "maxTokens": 4096}]
        }}},
        "agents": {"defaults": {"model": {"primary": format!("local/{MODEL}")},
            "maxConcurrent": max_concurrent}},
        "gateway": {"http": {"endpoints": {"chatCompletions": {"enabled": true}}}}
    })
}

// ---------------------------------------------------------------------------------------------
// The fake upstream

/// One chat request the upstream answered.
#[derive(Clone, Copy)]
struct Served {
    /// The whole request had arrived.
    arrived: Instant,
    /// The first byte of the answer was handed to the socket.
    first_byte: Instant,
    /// `req=N` of the message, when it had one.
    tag: Option<u64>,
}

/// The fake upstream (runs on the benchmark's runtime until the process ends).
pub struct Upstream {
    addr: SocketAddr,
    served: Arc<Mutex<VecDeque<Served>>>,
}

type Body = BoxBody<Bytes, Infallible>;

impl Upstream {
    /// Starts it on a free loopback port.
    pub fn start(rt: &tokio::runtime::Runtime) -> Upstream {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the fake upstream");
        let addr = listener.local_addr().unwrap();
        let served: Arc<Mutex<VecDeque<Served>>> = Arc::default();
        let record = served.clone();
        rt.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let record = record.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let record = record.clone();
                        async move { Ok::<_, Infallible>(answer(req, &record).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        Upstream { addr, served }
    }

    /// The providers' `baseUrl`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn clear(&self) {
        self.served.lock().unwrap().clear();
    }

    /// When the request tagged `req=<tag>` arrived, and when its first byte left.
    pub fn served_tagged(&self, tag: u64) -> Option<(Instant, Instant)> {
        self.served
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|s| s.tag == Some(tag))
            .map(|s| (s.arrived, s.first_byte))
    }

    /// The first request that arrived in `[from, to]`.
    fn served_between(&self, from: Instant, to: Instant) -> Option<Served> {
        self.served
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.arrived >= from && s.arrived <= to)
            .copied()
    }
}

fn full(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)).boxed())
        .unwrap()
}

/// The text of the newest user message that asks for tokens (`tokens=N`), else of the newest
/// user message: the reference may put notes of its own in user messages after the user's.
fn last_user_text(body: &Value) -> String {
    let text = |m: &Value| match &m["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    let users: Vec<String> = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "user")
        .map(text)
        .collect();
    users
        .iter()
        .rev()
        .find(|t| t.contains("tokens="))
        .or(users.last())
        .cloned()
        .unwrap_or_default()
}

/// `<key>=N` in `text`.
fn number_asked(text: &str, key: &str) -> Option<u64> {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

async fn answer(req: Request<Incoming>, served: &Mutex<VecDeque<Served>>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let arrived = Instant::now();
    if path.ends_with("/models") {
        return full(
            200,
            json!({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "bench"}]})
                .to_string(),
        );
    }
    if !path.ends_with("/chat/completions") {
        return full(404, json!({"error": {"message": "no route"}}).to_string());
    }
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let model = body["model"].as_str().unwrap_or(MODEL).to_owned();
    let asked = last_user_text(&body);
    let tokens = number_asked(&asked, "tokens").unwrap_or(5) as usize;
    let gap = Duration::from_millis(number_asked(&asked, "gap_ms").unwrap_or(0));
    let tag = number_asked(&asked, "req");
    let chunk = |delta: Value, finish: Value, usage: Option<Value>| {
        let mut c = json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk",
            "created": 1_796_600_000, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        if let Some(u) = usage {
            c["usage"] = u;
        }
        format!("data: {c}\n\n")
    };
    let usage =
        json!({"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens});
    if body["stream"] != true {
        let text = vec!["tok"; tokens].join(" ");
        record(served, arrived, tag);
        return full(
            200,
            json!({"id": "chatcmpl-bench", "object": "chat.completion", "created": 1_796_600_000,
                "model": model, "choices": [{"index": 0, "message": {"role": "assistant",
                "content": text}, "finish_reason": "stop"}], "usage": usage})
            .to_string(),
        );
    }
    let mut events = Vec::with_capacity(tokens + 3);
    events.push(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
        None,
    ));
    for i in 0..tokens {
        let piece = if i == 0 { "tok" } else { " tok" };
        events.push(chunk(json!({"content": piece}), Value::Null, None));
    }
    events.push(chunk(json!({}), json!("stop"), Some(usage)));
    events.push("data: [DONE]\n\n".to_owned());
    // The role chunk and the first token at once; `gap` before each token after it.
    let frames = futures_util::stream::unfold(
        (events.into_iter().enumerate(), gap),
        move |(mut events, gap)| async move {
            let (i, e) = events.next()?;
            if i >= 2 && i <= tokens && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            Some((
                Ok::<_, Infallible>(BodyFrame::data(Bytes::from(e))),
                (events, gap),
            ))
        },
    );
    record(served, arrived, tag);
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(BodyExt::boxed(StreamBody::new(frames)))
        .unwrap()
}

fn record(served: &Mutex<VecDeque<Served>>, arrived: Instant, tag: Option<u64>) {
    let mut all = served.lock().unwrap();
    if all.len() >= 10_000 {
        all.pop_front();
    }
    all.push_back(Served {
        arrived,
        first_byte: Instant::now(),
        tag,
    });
}

// ---------------------------------------------------------------------------------------------
// Turns over WebSocket

/// What one `agent` turn gave the client.
struct Turn {
    sent: Instant,
    first_token: Option<Instant>,
    ended: Instant,
    status: String,
    /// Tokens of the fake's answer (`tok`) in the final response's payloads.
    tokens: usize,
}

async fn admin_client(port: u16) -> Result<Ws, String> {
    Ok(handshake_with_scopes(port, &["operator.admin"]).await?.ws)
}

/// Sends `agent` for `session_key` and reads until its final response.
async fn turn(ws: &mut Ws, session_key: &str, message: &str) -> Result<Turn, String> {
    turns(ws, &[session_key.to_owned()], message)
        .await?
        .pop()
        .expect("one turn")
}

/// Sends one `agent` per session key on `ws`, all at once, and reads until every final
/// response arrived; the turns in the order of `session_keys`.
async fn turns(
    ws: &mut Ws,
    session_keys: &[String],
    message: &str,
) -> Result<Vec<Result<Turn, String>>, String> {
    struct Pending {
        run_id: String,
        id: String,
        sent: Instant,
        first_token: Option<Instant>,
        done: Option<Result<Turn, String>>,
    }
    let mut pending = Vec::with_capacity(session_keys.len());
    for key in session_keys {
        let run_id = uuid::Uuid::new_v4().to_string();
        let id = format!("agent-{run_id}");
        let req = json!({"type": "req", "id": id, "method": "agent", "params": {
            "message": message, "idempotencyKey": run_id, "agentId": "main", "sessionKey": key}});
        let sent = Instant::now();
        ws.send(Message::text(req.to_string()))
            .await
            .map_err(|e| format!("send agent: {e}"))?;
        pending.push(Pending {
            run_id,
            id,
            sent,
            first_token: None,
            done: None,
        });
    }
    let mut left = pending.len();
    while left > 0 {
        let bytes = next_text(ws).await?;
        let frame: Value = serde_json::from_slice(&bytes).map_err(|e| format!("bad frame: {e}"))?;
        if frame["event"] == "agent" && frame["payload"]["stream"] == "assistant" {
            let run = frame["payload"]["runId"].as_str().unwrap_or_default();
            if let Some(p) = pending.iter_mut().find(|p| p.run_id == run) {
                p.first_token.get_or_insert_with(Instant::now);
            }
            continue;
        }
        if frame["type"] != "res" {
            continue;
        }
        let id = frame["id"].as_str().unwrap_or_default();
        let Some(p) = pending.iter_mut().find(|p| p.id == id && p.done.is_none()) else {
            continue;
        };
        if frame["ok"] != true {
            p.done = Some(Err(format!("agent failed: {}", frame["error"])));
            left -= 1;
            continue;
        }
        let status = frame["payload"]["status"].as_str().unwrap_or("").to_owned();
        if status == "accepted" {
            continue;
        }
        // The reference may split one answer into several payloads.
        let tokens = frame["payload"]["result"]["payloads"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .flat_map(str::split_whitespace)
            .filter(|w| *w == "tok")
            .count();
        p.done = Some(Ok(Turn {
            sent: p.sent,
            first_token: p.first_token,
            ended: Instant::now(),
            status,
            tokens,
        }));
        left -= 1;
    }
    Ok(pending.into_iter().filter_map(|p| p.done).collect())
}

/// Gateway-added time to the first token of `t`: the part of request → first `assistant`
/// event that the upstream did not spend (ms).
fn added_ms(up: &Upstream, t: &Turn) -> Option<f64> {
    let first = t.first_token?;
    let s = up.served_between(t.sent, first)?;
    Some(ms(s.arrived - t.sent) + ms(first - s.first_byte))
}

/// `n` sequential turns in `session_key`: the added latencies (ms) and turn times (ms).
async fn sequential(
    up: &Upstream,
    ws: &mut Ws,
    session_key: &str,
    n: usize,
    r: &mut RunResult,
) -> (Vec<f64>, Vec<f64>) {
    let (mut added, mut whole) = (vec![], vec![]);
    for i in 0..n {
        match turn(ws, session_key, &format!("turn {i} tokens=5")).await {
            Ok(t) if t.status == "ok" => {
                if let Some(a) = added_ms(up, &t) {
                    added.push(a);
                }
                whole.push(ms(t.ended - t.sent));
            }
            Ok(t) => {
                r.note(format!("agent turn {i} ended {}", t.status));
                break;
            }
            Err(e) => {
                r.note(format!("agent turn {i}: {e}"));
                break;
            }
        }
    }
    (added, whole)
}

/// The agent scenarios of one run (see the module doc).
pub async fn bench_agent(
    up: &Upstream,
    side: Side,
    port: u16,
    pid: u32,
    o: &Opts,
    r: &mut RunResult,
) {
    if o.agent_turns == 0 {
        return;
    }
    up.clear();
    let mut ws = match admin_client(port).await {
        Ok(ws) => ws,
        Err(e) => return r.note(format!("agent: connect failed: {e}")),
    };
    // Warm-up (untimed): the first turn sets up the agent's workspace on the reference.
    if let Err(e) = turn(&mut ws, "agent:main:bench-warmup", "hello tokens=5").await {
        return r.note(format!("agent warm-up turn failed: {e}"));
    }

    let (added, whole) =
        sequential(up, &mut ws, "agent:main:bench-latency", o.agent_turns, r).await;
    let added = sorted(added);
    let whole = sorted(whole);
    r.set("agent_first_token_p50_ms", pct(&added, 50.0));
    r.set("agent_first_token_p99_ms", pct(&added, 99.0));
    r.set("agent_turn_p50_ms", pct(&whole, 50.0));
    r.set("agent_turn_p99_ms", pct(&whole, 99.0));
    r.set("agent_turns_n", added.len() as f64);

    concurrent_sessions(port, pid, o, r).await;

    if o.history_turns > 0 {
        match side {
            Side::Ours => long_session(up, &mut ws, o, r).await,
            Side::Reference => r.note(format!(
                "history of {} turns not built on the reference: at its ≈0.3 s per turn that \
                 alone takes {:.0} min per run",
                o.history_turns,
                o.history_turns as f64 * 0.3 / 60.0
            )),
        }
    }
    let _ = ws.close(None).await;
}

/// `o.agent_sessions` sessions each running one turn of `o.agent_tokens` tokens at the same
/// time, started over `o.agent_observers` connections (every run's events go to every one of
/// them): gateway CPU per streamed token; RSS per session once all are idle.
async fn concurrent_sessions(port: u16, pid: u32, o: &Opts, r: &mut RunResult) {
    let n = o.agent_sessions;
    if n == 0 {
        return;
    }
    let observers = o.agent_observers.clamp(1, n);
    let mut clients = Vec::with_capacity(observers);
    for _ in 0..observers {
        match admin_client(port).await {
            Ok(ws) => clients.push(ws),
            Err(e) => return r.note(format!("agent sessions: connect failed: {e}")),
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = tree_rss_mib(pid);
    let anon_before = tree_anon_kib(pid);
    let cpu_before = tree_cpu_s(pid);
    let started = Instant::now();
    let message = format!(
        "stream please tokens={} gap_ms={}",
        o.agent_tokens, o.agent_token_gap_ms
    );
    let mut set = JoinSet::new();
    for (c, mut ws) in clients.into_iter().enumerate() {
        let keys: Vec<String> = (c..n)
            .step_by(observers)
            .map(|i| format!("agent:main:bench-stream-{i}-{}", uuid::Uuid::new_v4()))
            .collect();
        let message = message.clone();
        set.spawn(async move {
            let t = turns(&mut ws, &keys, &message).await;
            let _ = ws.close(None).await;
            t
        });
    }
    let (mut ok, mut streamed_tokens) = (0usize, 0usize);
    let mut failures = vec![];
    while let Some(joined) = set.join_next().await {
        let all = match joined {
            Ok(Ok(all)) => all,
            Ok(Err(e)) => {
                failures.push(e);
                continue;
            }
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        for t in all {
            match t {
                Ok(t) if t.status == "ok" => {
                    ok += 1;
                    streamed_tokens += t.tokens;
                }
                Ok(t) => failures.push(format!("ended {}", t.status)),
                Err(e) => failures.push(e),
            }
        }
    }
    let wall = started.elapsed();
    let cpu = tree_cpu_s(pid) - cpu_before;
    let tokens = o.agent_tokens;
    if streamed_tokens < ok * tokens {
        r.note(format!(
            "agent sessions: {streamed_tokens} tokens arrived in the final answers of {ok} runs \
             of {tokens} tokens each"
        ));
    }
    if !failures.is_empty() {
        r.note(format!(
            "agent sessions: {} of {n} failed, e.g. {}",
            failures.len(),
            failures[0]
        ));
    }
    if ok > 0 && streamed_tokens > 0 {
        r.set("agent_stream_wall_s", wall.as_secs_f64());
        r.set("agent_stream_cpu_s", cpu);
        r.set("agent_cpu_per_token_us", cpu / streamed_tokens as f64 * 1e6);
        r.set("agent_streamed_tokens", streamed_tokens as f64);
    }
    // Idle: every session's run over and its client gone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let grown = (tree_rss_mib(pid) - rss_before).max(0.0);
    r.set("agent_rss_per_session_kib", grown * 1024.0 / n as f64);
    let anon = (tree_anon_kib(pid) - anon_before).max(0.0);
    r.set("agent_anon_per_session_kib", anon / n as f64);
}

/// Anonymous (heap, stacks) RSS of the tree, KiB.
fn tree_anon_kib(pid: u32) -> f64 {
    tree_mem(pid).iter().map(|m| m.anon_kib as f64).sum()
}

/// Builds a session of `o.history_turns` turns, then times `chat.history` of 1,000 entries and
/// the added latency of one more turn on top of that history.
async fn long_session(up: &Upstream, ws: &mut Ws, o: &Opts, r: &mut RunResult) {
    let key = format!("agent:main:bench-history-{}", uuid::Uuid::new_v4());
    let t0 = Instant::now();
    let (added, _) = sequential(up, ws, &key, o.history_turns, r).await;
    if added.len() < o.history_turns {
        return;
    }
    r.set("history_build_s", t0.elapsed().as_secs_f64());
    let mut loads = vec![];
    for i in 0..20 {
        let id = format!("history-{i}");
        let req = json!({"type": "req", "id": id, "method": "chat.history",
            "params": {"sessionKey": key, "limit": 1000}});
        let t = Instant::now();
        if ws.send(Message::text(req.to_string())).await.is_err() {
            break;
        }
        match crate::response(ws, &id).await {
            Ok(bytes) => {
                loads.push(ms(t.elapsed()));
                if i == 0 {
                    let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                    let n = v["payload"]["messages"].as_array().map_or(0, Vec::len);
                    r.set("history_entries", n as f64);
                }
            }
            Err(e) => {
                r.note(format!("chat.history: {e}"));
                break;
            }
        }
    }
    let loads = sorted(loads);
    r.set("history_load_p50_ms", pct(&loads, 50.0));
    r.set("history_load_p99_ms", pct(&loads, 99.0));
    let (added, _) = sequential(up, ws, &key, 5, r).await;
    r.set("history_turn_first_token_ms", pct(&sorted(added), 50.0));
}

// ---------------------------------------------------------------------------------------------
// CLI

/// Wall time of each gateway's own `openclaw agent` (one untimed, then `o.cli_reps` timed).
pub fn bench_cli_agent(target: &Target, port: u16, o: &Opts, r: &mut RunResult) {
    if o.cli_reps == 0 || o.agent_turns == 0 {
        return;
    }
    let url = format!("ws://127.0.0.1:{port}");
    let args: Vec<&str> = match target.side {
        Side::Ours => vec![
            "agent",
            "--message",
            "hi from the cli tokens=5",
            "--url",
            &url,
            "--token",
            TOKEN,
        ],
        // The reference's `agent` takes the local gateway (OPENCLAW_GATEWAY_PORT, config token).
        Side::Reference => vec![
            "agent",
            "--agent",
            "main",
            "--message",
            "hi from the cli tokens=5",
        ],
    };
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let port_env = [("OPENCLAW_GATEWAY_PORT", port.to_string().into())];
    let mut times = vec![];
    let mut failure = None;
    for round in 0..=o.cli_reps {
        let answered = |out: &Output| {
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("tok")
        };
        match time_cli(target, &args, &port_env, answered) {
            Ok(took) => {
                if round > 0 {
                    times.push(took);
                }
            }
            Err(why) => {
                failure.get_or_insert(why);
            }
        }
    }
    let v = sorted(times);
    r.set("cli_agent_ms", pct(&v, 50.0));
    r.set("cli_agent_max_ms", v.last().copied().unwrap_or(f64::NAN));
    if let Some(f) = failure {
        r.note(format!("CLI agent failed: {f}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Report

/// The report's table of agent figures.
pub fn metric_group(o: &Opts) -> (String, Vec<MetricDef>) {
    let m = |key: &str, label: String, unit| MetricDef {
        key: key.into(),
        label,
        unit,
    };
    let s = o.agent_sessions;
    let t = o.agent_tokens;
    let h = o.history_turns;
    let g = o.agent_token_gap_ms;
    let obs = o.agent_observers.clamp(1, s.max(1));
    (
        "Agent turns (same fake upstream, instant answers)".to_owned(),
        vec![
            m(
                "agent_first_token_p50_ms",
                "`agent` → first `assistant` event, minus the upstream's own time: p50".into(),
                Unit::Ms,
            ),
            m("agent_first_token_p99_ms", "the same, p99".into(), Unit::Ms),
            m(
                "agent_turn_p50_ms",
                "`agent` → final response (5 tokens), p50".into(),
                Unit::Ms,
            ),
            m("agent_turn_p99_ms", "the same, p99".into(), Unit::Ms),
            m(
                "agent_turns_n",
                "sequential turns measured per run".into(),
                Unit::Count,
            ),
            m(
                "cli_agent_ms",
                "`openclaw agent --message …` wall time (median of the run)".into(),
                Unit::Ms,
            ),
            m(
                "agent_stream_wall_s",
                format!(
                    "{s} sessions × {t} tokens at once ({g} ms between tokens, {obs} connection(s) watching every run): wall time"
                ),
                Unit::Secs,
            ),
            m(
                "agent_stream_cpu_s",
                format!("{s} sessions × {t} tokens: gateway CPU"),
                Unit::CpuS,
            ),
            m(
                "agent_cpu_per_token_us",
                "gateway CPU per streamed token".into(),
                Unit::Us,
            ),
            m(
                "agent_rss_per_session_kib",
                format!("RSS growth per session, {s} sessions idle after their turn"),
                Unit::Kib,
            ),
            m(
                "agent_anon_per_session_kib",
                "of which anonymous memory (heap, stacks; the rest is code and files mapped in)"
                    .into(),
                Unit::Kib,
            ),
            m(
                "history_build_s",
                format!("{h} sequential turns in one session: time to build"),
                Unit::Secs,
            ),
            m(
                "history_entries",
                "`chat.history` limit 1000: entries returned".into(),
                Unit::Count,
            ),
            m(
                "history_load_p50_ms",
                format!("`chat.history` of a {h}-turn session (1,000 entries): p50"),
                Unit::Ms,
            ),
            m("history_load_p99_ms", "the same, p99".into(), Unit::Ms),
            m(
                "history_turn_first_token_ms",
                format!("a turn on the {h}-turn session: added latency to the first token, p50"),
                Unit::Ms,
            ),
        ],
    )
}

/// The agent targets of the issue: (label, metric key, limit, unit).
pub fn targets() -> Vec<(String, String, f64, Unit)> {
    [
        (
            "gateway-added latency to the first token p50 < 1 ms",
            "agent_first_token_p50_ms",
            1.0,
            Unit::Ms,
        ),
        (
            "gateway-added latency to the first token p99 < 5 ms",
            "agent_first_token_p99_ms",
            5.0,
            Unit::Ms,
        ),
        (
            "gateway CPU per streamed token < 20 µs",
            "agent_cpu_per_token_us",
            20.0,
            Unit::Us,
        ),
        (
            "RSS per idle session < 64 KiB",
            "agent_rss_per_session_kib",
            64.0,
            Unit::Kib,
        ),
        (
            "history load of a 1,000-turn session < 5 ms (`chat.history` p99)",
            "history_load_p99_ms",
            5.0,
            Unit::Ms,
        ),
    ]
    .into_iter()
    .map(|(l, k, v, u)| (l.to_owned(), k.to_owned(), v, u))
    .collect()
}
