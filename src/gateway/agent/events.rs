//! The events of one run (agent-runtime.md §3.2, **wire**): `agent` events (`lifecycle`,
//! `assistant` at most every [`AGENT_DELTA_INTERVAL`]) and `chat` events (`delta` at most every
//! [`CHAT_DELTA_INTERVAL`], then `final`, `error` or `aborted`), numbered by one per-run `seq`
//! shared by both kinds.
//!
//! Both kinds carry the whole text so far, so one event per upstream token would send a long
//! answer's text quadratically often to every connection: the first piece goes out at once, the
//! ones after it are gathered for the interval ([`RunEvents::flush_due`], called by the turn on a
//! [`FLUSH_TICK`], sends what waited; the end sends the rest).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::gateway::provider::Usage;

/// The shortest gap between two `chat` deltas of one run.
pub const CHAT_DELTA_INTERVAL: Duration = Duration::from_millis(75);
/// The shortest gap between two `assistant` events of one run.
pub const AGENT_DELTA_INTERVAL: Duration = Duration::from_millis(50);
/// How often a streaming turn sends the text that waited out its interval.
pub const FLUSH_TICK: Duration = Duration::from_millis(25);

/// Where a run's events go (the gateway's connections; a recorder in tests).
pub trait EventSink: Send + Sync {
    /// Sends `event` with `payload` to every connection allowed to see it.
    fn emit(&self, event: &str, payload: &Value);

    /// A piece of answer text exactly as the model produced it, before the events' pacing
    /// (the HTTP API streams these; connections get the paced events).
    fn text(&self, _delta: &str) {}
}

/// Who a run is, for its events.
#[derive(Debug, Clone)]
pub struct RunIdentity {
    /// The run.
    pub run_id: String,
    /// Its session key.
    pub session_key: String,
    /// Its transcript.
    pub session_id: String,
    /// Its agent.
    pub agent_id: String,
}

/// The event stream of one run.
pub struct RunEvents {
    sink: Arc<dyn EventSink>,
    who: RunIdentity,
    seq: u64,
    item_id: String,
    text: String,
    /// Text not yet in an `assistant` event.
    unsent_agent: String,
    last_agent: Option<Instant>,
    /// Text not yet in a `chat` delta.
    unsent_delta: String,
    last_chat: Option<Instant>,
}

fn message(text: &str, ts: u64) -> Value {
    json!({"role": "assistant", "content": [{"type": "text", "text": text}], "timestamp": ts})
}

impl RunEvents {
    /// The stream of the run `who`.
    pub fn new(sink: Arc<dyn EventSink>, who: RunIdentity) -> Self {
        let item_id = format!("{}:1", uuid::Uuid::new_v4());
        Self {
            sink,
            who,
            seq: 0,
            item_id,
            text: String::new(),
            unsent_agent: String::new(),
            last_agent: None,
            unsent_delta: String::new(),
            last_chat: None,
        }
    }

    /// The answer text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn agent(&mut self, stream: &str, data: Value, now_ms: u64) {
        self.seq += 1;
        let w = &self.who;
        let payload = json!({"runId": w.run_id, "sessionKey": w.session_key, "sessionId": w.session_id,
            "agentId": w.agent_id, "stream": stream, "data": data, "seq": self.seq, "ts": now_ms});
        self.sink.emit("agent", &payload);
    }

    fn chat(&mut self, state: &str, extra: Value) {
        let w = &self.who;
        let mut payload = json!({"runId": w.run_id, "sessionKey": w.session_key,
            "agentId": w.agent_id, "seq": self.seq, "state": state});
        if let (Value::Object(p), Value::Object(e)) = (&mut payload, extra) {
            p.extend(e);
        }
        self.sink.emit("chat", &payload);
    }

    /// `lifecycle` `start`.
    pub fn start(&mut self, now_ms: u64) {
        self.agent(
            "lifecycle",
            json!({"phase": "start", "startedAt": now_ms}),
            now_ms,
        );
    }

    /// `lifecycle` `model`: which model is asked now.
    pub fn model(&mut self, provider: &str, model: &str, now_ms: u64) {
        let data = json!({"phase": "model", "provider": provider, "model": model});
        self.agent("lifecycle", data, now_ms);
    }

    /// A piece of answer text: sent now in an `assistant` event and a `chat` delta when the
    /// last of each kind is old enough, else when [`Self::flush_due`] or the end finds it.
    pub fn text_delta(&mut self, delta: &str, now_ms: u64) {
        if delta.is_empty() {
            return;
        }
        self.sink.text(delta);
        self.text.push_str(delta);
        self.unsent_agent.push_str(delta);
        self.unsent_delta.push_str(delta);
        self.flush_due(now_ms);
    }

    /// Sends the text whose interval has passed.
    pub fn flush_due(&mut self, now_ms: u64) {
        if self
            .last_agent
            .is_none_or(|t| t.elapsed() >= AGENT_DELTA_INTERVAL)
        {
            self.flush_agent_delta(now_ms);
        }
        if self
            .last_chat
            .is_none_or(|t| t.elapsed() >= CHAT_DELTA_INTERVAL)
        {
            self.flush_chat_delta(now_ms);
        }
    }

    fn flush_agent_delta(&mut self, now_ms: u64) {
        if self.unsent_agent.is_empty() {
            return;
        }
        let delta = std::mem::take(&mut self.unsent_agent);
        self.last_agent = Some(Instant::now());
        let data = json!({"text": self.text, "delta": delta, "itemId": self.item_id});
        self.agent("assistant", data, now_ms);
    }

    fn flush_chat_delta(&mut self, now_ms: u64) {
        if self.unsent_delta.is_empty() {
            return;
        }
        let delta = std::mem::take(&mut self.unsent_delta);
        self.last_chat = Some(Instant::now());
        let extra = json!({"deltaText": delta, "message": message(&self.text, now_ms)});
        self.chat("delta", extra);
    }

    /// The run's end: `lifecycle` `end` (or `error`), the last `chat` delta, then `chat`
    /// `final`, `aborted` or `error`.
    pub fn end(&mut self, end: &RunEndEvent<'_>, now_ms: u64) {
        self.flush_agent_delta(now_ms);
        let mut data = json!({"phase": if end.error.is_some() && !end.aborted { "error" } else { "end" },
            "startedAt": end.started_at, "endedAt": now_ms, "aborted": end.aborted});
        if let Some(reason) = end.stop_reason {
            data["stopReason"] = json!(reason);
        }
        if let Some(error) = end.error {
            data["error"] = json!(error);
        }
        self.agent("lifecycle", data, now_ms);
        self.flush_chat_delta(now_ms);
        let text = self.text.clone();
        if end.aborted {
            let mut extra = json!({"message": message(&text, now_ms)});
            if let Some(error) = end.error {
                extra["errorMessage"] = json!(error);
            }
            self.chat("aborted", extra);
        } else if let Some(error) = end.error {
            self.chat(
                "error",
                json!({"errorMessage": error, "errorKind": end.error_kind.unwrap_or("unknown")}),
            );
        } else {
            self.chat(
                "final",
                json!({"stopReason": end.stop_reason.unwrap_or("stop"),
                    "message": message(&text, now_ms), "usage": end.usage}),
            );
        }
    }
}

/// How a run ended, for [`RunEvents::end`].
#[derive(Debug, Clone, Copy)]
pub struct RunEndEvent<'a> {
    /// When it started (ms).
    pub started_at: u64,
    /// Aborted or timed out.
    pub aborted: bool,
    /// The model's finish reason.
    pub stop_reason: Option<&'a str>,
    /// Why it failed.
    pub error: Option<&'a str>,
    /// The `chat` `errorKind`.
    pub error_kind: Option<&'a str>,
    /// Token counts.
    pub usage: Usage,
}
