//! `POST /v1/chat/completions`, both gateways against the same fake upstream (the one of
//! `agent_turns.rs`), with `reqwest` as the client.
//!
//! Every request's message carries `req=N`, which the upstream records with the time the
//! request had arrived and the time its first byte left, on the client's clock. The
//! gateway-added time to the first content is then exact per request, even with 50 at once:
//! (request sent → upstream has it) + (upstream's first byte → first `"content"` delta at the
//! client). The role chunk a gateway may send before asking the upstream does not count.
//!
//! Per run: sequential streamed requests (added time to first content, total), sequential
//! non-streamed ones (total), then 50 clients at once, streamed and not (requests per second,
//! added time to first content, total).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;

use crate::agent_turns::Upstream;
use crate::{MetricDef, Opts, RunResult, TOKEN, Unit, ms, pct, sorted};

/// Concurrent clients of the load scenario.
pub const CLIENTS: usize = 50;

/// Tags requests across runs and gateways (the upstream matches them by tag).
static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

/// What one request gave the client.
struct Timed {
    /// Gateway-added time to the first content (ms), when the upstream saw the request.
    added: Option<f64>,
    /// Request sent → last byte (ms).
    total: f64,
}

fn has_content(body: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"\"content\":\"";
    body.windows(NEEDLE.len() + 1)
        .any(|w| w.starts_with(NEEDLE) && w[NEEDLE.len()] != b'"')
}

/// One request; `Err` names what went wrong.
async fn one(
    client: &reqwest::Client,
    up: &Upstream,
    port: u16,
    stream: bool,
    tokens: usize,
) -> Result<Timed, String> {
    let tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
    let body = json!({"model": "openclaw", "stream": stream,
        "messages": [{"role": "user", "content": format!("req={tag} tokens={tokens}")}]});
    let sent = Instant::now();
    let mut response = client
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = response.status();
    let mut bytes = Vec::new();
    let mut first = None;
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("read: {e}"))? {
        bytes.extend_from_slice(&chunk);
        if first.is_none() && has_content(&bytes) {
            first = Some(Instant::now());
        }
    }
    let ended = Instant::now();
    if !status.is_success() {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    let complete = if stream {
        text.contains("[DONE]")
    } else {
        text.matches("tok").count() >= tokens
    };
    if !complete {
        return Err(format!(
            "incomplete answer: {}",
            &text[..text.len().min(300)]
        ));
    }
    let added = match (first, up.served_tagged(tag)) {
        (Some(first), Some((arrived, first_byte))) if stream => {
            Some(ms(arrived - sent) + ms(first.saturating_duration_since(first_byte)))
        }
        _ => None,
    };
    Ok(Timed {
        added,
        total: ms(ended - sent),
    })
}

/// `n` requests, `clients` at a time: their timings and the wall time.
async fn batch(
    up: &Arc<Upstream>,
    port: u16,
    stream: bool,
    tokens: usize,
    n: usize,
    clients: usize,
    r: &mut RunResult,
) -> (Vec<Timed>, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("reqwest client");
    let left = Arc::new(AtomicUsize::new(n));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..clients {
        let (client, up, left) = (client.clone(), up.clone(), left.clone());
        workers.spawn(async move {
            let mut out = Vec::new();
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
                .is_ok()
            {
                out.push(one(&client, &up, port, stream, tokens).await);
            }
            out
        });
    }
    let mut timed = Vec::with_capacity(n);
    let mut failures = Vec::new();
    while let Some(done) = workers.join_next().await {
        for result in done.unwrap_or_default() {
            match result {
                Ok(t) => timed.push(t),
                Err(e) => failures.push(e),
            }
        }
    }
    let wall = started.elapsed();
    if let Some(first) = failures.first() {
        r.note(format!(
            "HTTP ({} stream={stream}): {} of {n} requests failed, e.g. {first}",
            clients,
            failures.len()
        ));
    }
    (timed, wall)
}

fn record(r: &mut RunResult, prefix: &str, timed: &[Timed], wall: Duration, stream: bool) {
    let added = sorted(timed.iter().filter_map(|t| t.added).collect());
    let total = sorted(timed.iter().map(|t| t.total).collect());
    if stream {
        r.set(&format!("{prefix}_ttfb_added_p50_ms"), pct(&added, 50.0));
        r.set(&format!("{prefix}_ttfb_added_p99_ms"), pct(&added, 99.0));
    }
    r.set(&format!("{prefix}_total_p50_ms"), pct(&total, 50.0));
    r.set(&format!("{prefix}_total_p99_ms"), pct(&total, 99.0));
    if !timed.is_empty() {
        r.set(
            &format!("{prefix}_rps"),
            timed.len() as f64 / wall.as_secs_f64(),
        );
    }
}

/// The HTTP scenarios of one run (see the module doc).
pub async fn bench_http(up: &Arc<Upstream>, port: u16, o: &Opts, r: &mut RunResult) {
    let tokens = o.http_tokens;
    // Warm-up (untimed): the first request of a gateway opens what it opens lazily.
    let _ = batch(up, port, true, tokens, 2, 1, r).await;
    if o.http_sequential > 0 {
        let (timed, wall) = batch(up, port, true, tokens, o.http_sequential, 1, r).await;
        record(r, "http_stream", &timed, wall, true);
        let (timed, wall) = batch(up, port, false, tokens, o.http_sequential, 1, r).await;
        record(r, "http_plain", &timed, wall, false);
    }
    if o.http_concurrent > 0 {
        let n = o.http_concurrent;
        let (timed, wall) = batch(up, port, true, tokens, n, CLIENTS, r).await;
        record(r, "http_stream_50", &timed, wall, true);
        let (timed, wall) = batch(up, port, false, tokens, n, CLIENTS, r).await;
        record(r, "http_plain_50", &timed, wall, false);
    }
}

/// The report's table of HTTP figures.
pub fn metric_group(o: &Opts) -> (String, Vec<MetricDef>) {
    let m = |key: &str, label: String, unit| MetricDef {
        key: key.into(),
        label,
        unit,
    };
    let t = o.http_tokens;
    let n = o.http_sequential;
    let c = o.http_concurrent;
    let mut v = Vec::new();
    for (prefix, who) in [
        (
            "http_stream",
            format!("1 client, {n} sequential streamed requests of {t} tokens"),
        ),
        (
            "http_stream_50",
            format!("{CLIENTS} clients, {c} streamed requests of {t} tokens"),
        ),
    ] {
        v.push(m(
            &format!("{prefix}_ttfb_added_p50_ms"),
            format!("{who}: gateway-added time to the first content delta, p50"),
            Unit::Ms,
        ));
        v.push(m(
            &format!("{prefix}_ttfb_added_p99_ms"),
            "the same, p99".into(),
            Unit::Ms,
        ));
        v.push(m(
            &format!("{prefix}_total_p50_ms"),
            "request → `[DONE]`, p50".into(),
            Unit::Ms,
        ));
        v.push(m(
            &format!("{prefix}_total_p99_ms"),
            "the same, p99".into(),
            Unit::Ms,
        ));
        v.push(m(
            &format!("{prefix}_rps"),
            "requests per second".into(),
            Unit::PerSec,
        ));
    }
    for (prefix, who) in [
        (
            "http_plain",
            format!("1 client, {n} sequential non-streamed requests of {t} tokens"),
        ),
        (
            "http_plain_50",
            format!("{CLIENTS} clients, {c} non-streamed requests of {t} tokens"),
        ),
    ] {
        v.push(m(
            &format!("{prefix}_total_p50_ms"),
            format!("{who}: request → whole answer, p50"),
            Unit::Ms,
        ));
        v.push(m(
            &format!("{prefix}_total_p99_ms"),
            "the same, p99".into(),
            Unit::Ms,
        ));
        v.push(m(
            &format!("{prefix}_rps"),
            "requests per second".into(),
            Unit::PerSec,
        ));
    }
    (
        "OpenAI-compatible HTTP API (`/v1/chat/completions`, same fake upstream, instant answers)"
            .to_owned(),
        v,
    )
}

/// The HTTP targets of the issue: (label, metric key, limit, unit).
pub fn targets() -> Vec<(String, String, f64, Unit)> {
    vec![(
        "`/v1/chat/completions` stream: gateway-added time to the first content p50 < 1 ms"
            .to_owned(),
        "http_stream_ttfb_added_p50_ms".to_owned(),
        1.0,
        Unit::Ms,
    )]
}

/// The throughput targets: (label, metric key, at least this many times the reference's).
pub fn ratio_targets() -> Vec<(String, String, f64)> {
    [
        (
            "`/v1/chat/completions` streamed, 50 clients: requests/s ≥ 20× the reference's",
            "http_stream_50_rps",
        ),
        (
            "`/v1/chat/completions` non-streamed, 50 clients: requests/s ≥ 20× the reference's",
            "http_plain_50_rps",
        ),
        (
            "`/v1/chat/completions` streamed, 1 client: requests/s ≥ 20× the reference's",
            "http_stream_rps",
        ),
    ]
    .into_iter()
    .map(|(l, k)| (l.to_owned(), k.to_owned(), 20.0))
    .collect()
}
