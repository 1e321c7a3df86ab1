//! One agent run started by an HTTP request: which agent and model the request names (body,
//! `x-openclaw-agent-id`, `x-openclaw-model`), the run started with a sink that also hands the
//! raw text to the answer, the guard that aborts the run when the client goes away, the error
//! answer of a failed run, and the SSE answer fed by a task.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::{Bytes, Frame};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::mpsc;

use super::errors::ApiError;
use super::{HttpBody, secure};
use crate::gateway::agent::catalog::DEFAULT_AGENT_ID;
use crate::gateway::agent::events::EventSink;
use crate::gateway::agent::runtime::{RunHandle, RunSummary, StartError, TurnRequest};
use crate::gateway::provider::FailureReason;
use crate::gateway::session::RunStatus;
use crate::gateway::state::{GatewayState, now_ms};

/// A request header as text.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The agent a request runs: `x-openclaw-agent-id`, else the one its `model` names, else the
/// default; 400 when the gateway has no such agent.
pub fn agent_of(
    state: &GatewayState,
    headers: &HeaderMap,
    from_model: Option<&str>,
) -> Result<String, ApiError> {
    let agent_id = header(headers, "x-openclaw-agent-id")
        .map(|a| a.to_ascii_lowercase())
        .or_else(|| from_model.map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_AGENT_ID.to_owned());
    if state.agents.catalog().agent(&agent_id).is_none() {
        return Err(ApiError::invalid(format!(
            "Unknown agent `{agent_id}`: GET /v1/models lists the agents (openclaw/<agentId>)."
        )));
    }
    Ok(agent_id)
}

/// The backend model of `x-openclaw-model` (`provider/model`), which must be configured.
pub fn model_of(state: &GatewayState, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(model) = header(headers, "x-openclaw-model") else {
        return Ok(None);
    };
    if state.agents.catalog().model(&model).is_none() {
        return Err(ApiError::invalid(format!(
            "Invalid `x-openclaw-model`: {model} is not a configured model; use provider/model \
             of an entry in models.providers.<provider>.models, or leave the header out to use \
             the agent's model."
        )));
    }
    Ok(Some(model))
}

/// Run events go to the gateway's connections as for any run; the raw text also to this
/// request's answer.
struct HttpRunSink {
    gateway: Arc<GatewayState>,
    text: mpsc::UnboundedSender<String>,
}

impl EventSink for HttpRunSink {
    fn emit(&self, event: &str, payload: &Value) {
        self.gateway.emit(event, payload);
    }

    fn text(&self, delta: &str) {
        let _ = self.text.send(delta.to_owned());
    }
}

/// A run of this request. Dropped before [`HttpRun::finished`] (the client went away, the
/// answer's task ended early), it aborts the run.
pub struct HttpRun {
    state: Arc<GatewayState>,
    run: Arc<RunHandle>,
    armed: bool,
    /// The run's text as the model produces it; ends with the run.
    pub text: mpsc::UnboundedReceiver<String>,
}

impl HttpRun {
    /// Starts `turn`.
    pub fn start(state: &Arc<GatewayState>, turn: TurnRequest) -> Result<Self, ApiError> {
        let (text_tx, text) = mpsc::unbounded_channel();
        let sink = Arc::new(HttpRunSink {
            gateway: state.clone(),
            text: text_tx,
        });
        let started = state
            .agents
            .start(turn, sink, &state.tasks, &state.shutdown, now_ms());
        let run = match started {
            Ok(run) => run,
            Err(StartError::Store(e)) => {
                return Err(ApiError::unavailable(format!(
                    "agent runs are unavailable: {e}"
                )));
            }
            Err(StartError::InFlight(_) | StartError::Finished) => {
                return Err(ApiError::unavailable("the run id is taken; retry"));
            }
        };
        Ok(Self {
            state: state.clone(),
            run,
            armed: true,
            text,
        })
    }

    /// The gateway.
    pub fn state(&self) -> &Arc<GatewayState> {
        &self.state
    }

    /// The session the run is in.
    pub fn session_key(&self) -> &str {
        &self.run.session_key
    }

    /// Waits for the end of the run (`None`: it vanished, as at shutdown); from now on dropping
    /// this no longer aborts it.
    pub async fn finished(&mut self) -> Option<Arc<RunSummary>> {
        let summary = self.run.finished(None).await;
        self.armed = false;
        summary
    }
}

impl Drop for HttpRun {
    fn drop(&mut self) {
        if self.armed {
            self.state
                .agents
                .abort(&self.run.session_key, Some(&self.run.run_id));
        }
    }
}

/// The error answer of a run that did not end `ok` (spec §6.1's status table).
pub fn run_error(summary: &RunSummary) -> ApiError {
    let message = summary.error.as_deref().unwrap_or("the run failed");
    match summary.status {
        RunStatus::Timeout => ApiError::from_failure(Some(FailureReason::Timeout), message),
        RunStatus::Aborted => ApiError::unavailable(format!("the run was aborted: {message}")),
        _ => ApiError::from_failure(summary.reason, message),
    }
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    now_ms() / 1000
}

/// Sends the SSE frames of one answer; `false` once the client is gone.
#[derive(Clone)]
pub struct SseSender(mpsc::Sender<Bytes>);

impl SseSender {
    /// Sends `bytes` as they are.
    pub async fn raw(&self, bytes: Bytes) -> bool {
        self.0.send(bytes).await.is_ok()
    }

    /// `data: <json>`.
    pub async fn data(&self, data: &Value) -> bool {
        self.raw(Bytes::from(format!("data: {data}\n\n"))).await
    }

    /// `event: <name>` + `data: <json>`.
    pub async fn event(&self, name: &str, data: &Value) -> bool {
        self.raw(Bytes::from(format!("event: {name}\ndata: {data}\n\n")))
            .await
    }

    /// `data: [DONE]`.
    pub async fn done(&self) -> bool {
        self.raw(Bytes::from_static(b"data: [DONE]\n\n")).await
    }

    /// Resolves when the client is gone.
    pub async fn closed(&self) {
        self.0.closed().await;
    }
}

/// A `text/event-stream` answer whose frames `feed` sends; it runs as a gateway task, so
/// dropping the answer (the client went away) ends it at its next send.
pub fn sse_response<F, Fut>(state: &GatewayState, feed: F) -> Response<HttpBody>
where
    F: FnOnce(SseSender) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    state.tasks.spawn(feed(SseSender(tx)));
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    let mut response = Response::new(StreamBody::new(frames).boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(response)
}
