//! One run from its queue slot to its end: wait for the session's lane and a slot, build the
//! prompt, ask the models (primary, then fallbacks) within the turn's budget, stream the events,
//! and commit the answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::events::{EventSink, FLUSH_TICK, RunEndEvent, RunEvents, RunIdentity};
use super::lanes::LanePlace;
use super::prompt::{fit, system_prompt};
use super::runtime::{AgentRuntime, RunHandle, RunSummary, TurnRequest};
use crate::gateway::provider::attempts::answer;
use crate::gateway::provider::{ChatRequest, Completion, FailureReason, StreamEvent};
use crate::gateway::session::{RunEnd, RunStatus};
use crate::gateway::state::now_ms;

/// The most transcript entries read for a prompt (then fitted to the context window).
const HISTORY_LIMIT: usize = 400;

/// What the model call produced.
struct Produced {
    completion: Completion,
    failure: Option<(FailureReason, String)>,
    timed_out: bool,
}

pub(super) async fn execute(
    runtime: &Arc<AgentRuntime>,
    run: &Arc<RunHandle>,
    request: TurnRequest,
    mut place: LanePlace,
    sink: Arc<dyn EventSink>,
) -> RunSummary {
    let slots = runtime.slots();
    // Queued behind the session's earlier runs, then behind the concurrency cap; an abort
    // while queued ends the run without a model call. The lane is held until the answer is
    // committed, so the session's next run sees it in its history.
    let slot = tokio::select! {
        biased;
        () = run.cancel.cancelled() => None,
        slot = async {
            place.reached().await;
            slots.acquire_owned().await
        } => Some(slot),
    };
    let started_at = now_ms();
    let events = Arc::new(Mutex::new(RunEvents::new(
        sink,
        RunIdentity {
            run_id: run.run_id.clone(),
            session_key: run.session_key.clone(),
            session_id: run.session_id.clone(),
            agent_id: run.agent_id.clone(),
        },
    )));
    events
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .start(started_at);
    let produced = match slot {
        None => Produced {
            completion: Completion::default(),
            failure: Some((FailureReason::Aborted, "aborted before it started".into())),
            timed_out: false,
        },
        Some(_slot) => call_models(runtime, run, &request, &events).await,
    };
    let summary = finish(runtime, run, started_at, produced, &events);
    drop(place);
    summary
}

async fn call_models(
    runtime: &Arc<AgentRuntime>,
    run: &Arc<RunHandle>,
    request: &TurnRequest,
    events: &Arc<Mutex<RunEvents>>,
) -> Produced {
    let fail = |reason, message: String| Produced {
        completion: Completion::default(),
        failure: Some((reason, message)),
        timed_out: false,
    };
    let catalog = runtime.catalog();
    let Some(agent) = catalog.agent(&request.agent_id) else {
        return fail(
            FailureReason::ModelNotFound,
            format!("unknown agent {}", request.agent_id),
        );
    };
    let store = match runtime.store() {
        Ok(s) => s.clone(),
        Err(e) => return fail(FailureReason::ServerError, e),
    };
    // Its turn has come: the message joins the transcript now, after the earlier runs' answers.
    let session_id = match store.begin_turn(&run.run_id, now_ms()) {
        Ok(Some(id)) => id,
        Ok(None) => {
            return fail(
                FailureReason::Aborted,
                "the run was closed before its turn".into(),
            );
        }
        Err(e) => return fail(FailureReason::ServerError, e.to_string()),
    };
    let session = store.session(&run.session_key).ok().flatten();
    let model_override = request
        .model
        .clone()
        .or_else(|| session.as_ref().and_then(|s| s.model.clone()));
    let endpoints = match catalog.endpoints(agent, model_override.as_deref()) {
        Ok(e) => e,
        Err(message) => return fail(FailureReason::ModelNotFound, message),
    };
    let history = match store.history(&session_id, HISTORY_LIMIT) {
        Ok(h) => h,
        Err(e) => return fail(FailureReason::ServerError, e.to_string()),
    };
    let primary = &endpoints[0];
    let model_info = catalog.model(&primary.model.to_string());
    let notes = runtime.take_system_events(&run.session_key);
    let extra = match (
        request.extra_system_prompt.as_deref(),
        super::system_events::as_prompt(&notes),
    ) {
        (Some(asked), Some(notes)) => Some(format!("{asked}\n\n{notes}")),
        (asked, notes) => notes.or(asked.map(str::to_owned)),
    };
    let system = system_prompt(agent, &jiff::Zoned::now(), extra.as_deref());
    let messages = match fit(
        &system,
        &history,
        model_info.and_then(|m| m.context_window),
        primary.max_tokens,
    ) {
        Ok(m) => m,
        Err(overflow) => return fail(FailureReason::ContextOverflow, overflow.0),
    };
    let client = match runtime.client() {
        Ok(c) => c,
        Err(e) => return fail(FailureReason::ServerError, e),
    };
    events.lock().unwrap_or_else(|p| p.into_inner()).model(
        &primary.model.provider,
        &primary.model.model,
        now_ms(),
    );
    let chat = ChatRequest {
        messages,
        tools: request.tools.clone(),
        sampling: request.sampling.clone(),
    };
    let budget = request.timeout.unwrap_or(agent.turn_timeout);
    let sink_events = events.clone();
    let mut sink = move |e: &StreamEvent| {
        if let StreamEvent::Text(t) = e {
            sink_events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .text_delta(t, now_ms());
        }
    };
    let call = answer(&client, &endpoints, &chat, &run.cancel, &mut sink);
    tokio::pin!(call);
    let mut timed_out = false;
    // The whole-turn budget, and a tick that sends text held back by the events' pacing.
    // (No budget: the branch is off and its far-off sleep never polled.)
    let deadline = tokio::time::sleep(budget.unwrap_or(Duration::from_secs(365 * 86_400)));
    tokio::pin!(deadline);
    let mut flush = tokio::time::interval(FLUSH_TICK);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let result = loop {
        tokio::select! {
            a = &mut call => break a,
            () = &mut deadline, if budget.is_some() && !timed_out => {
                timed_out = true;
                run.cancel.cancel();
            }
            _ = flush.tick() => {
                events.lock().unwrap_or_else(|p| p.into_inner()).flush_due(now_ms());
            }
        }
    };
    match result.result {
        Ok(completion) => Produced {
            completion,
            failure: None,
            timed_out,
        },
        Err(i) => Produced {
            completion: i.partial,
            failure: Some((i.failure.reason, i.failure.message)),
            timed_out,
        },
    }
}

fn finish(
    runtime: &Arc<AgentRuntime>,
    run: &Arc<RunHandle>,
    started_at: u64,
    produced: Produced,
    events: &Arc<Mutex<RunEvents>>,
) -> RunSummary {
    let Produced {
        completion,
        failure,
        timed_out,
    } = produced;
    let status = match &failure {
        None => RunStatus::Ok,
        Some(_) if timed_out => RunStatus::Timeout,
        Some((FailureReason::Aborted, _)) => RunStatus::Aborted,
        Some(_) => RunStatus::Error,
    };
    let error = match (&failure, status) {
        (_, RunStatus::Timeout) => Some("the run timed out".to_owned()),
        (Some((_, message)), _) => Some(message.clone()),
        (None, _) => None,
    };
    let model = completion.model.clone();
    let end = RunEnd {
        status,
        text: completion.text.clone(),
        parts: (!completion.tool_calls.is_empty())
            .then(|| serde_json::to_value(&completion.tool_calls).ok())
            .flatten(),
        model: model.as_ref().map(ToString::to_string),
        usage: completion.usage,
        error: error.clone(),
    };
    let ended_at = now_ms();
    if let Ok(store) = runtime.store() {
        if let Err(e) = store.finish_run(&run.run_id, &end, ended_at) {
            tracing::error!(run = %run.run_id, "could not record the end of the run: {e}");
        }
    }
    let reason = failure.as_ref().map(|(r, _)| *r);
    let aborted = matches!(status, RunStatus::Aborted | RunStatus::Timeout);
    events.lock().unwrap_or_else(|p| p.into_inner()).end(
        &RunEndEvent {
            started_at,
            aborted,
            stop_reason: completion.finish_reason.as_deref(),
            error: error.as_deref(),
            error_kind: if status == RunStatus::Timeout {
                Some("timeout")
            } else {
                reason.map(FailureReason::error_kind)
            },
            usage: completion.usage,
        },
        ended_at,
    );
    tracing::info!(run = %run.run_id, session = %run.session_key, status = ?status, ms = ended_at.saturating_sub(started_at), "run ended");
    RunSummary {
        run_id: run.run_id.clone(),
        status,
        text: completion.text,
        session_id: run.session_id.clone(),
        started_at,
        ended_at,
        provider: model.as_ref().map(|m| m.provider.clone()),
        model: model.map(|m| m.model),
        usage: completion.usage,
        stop_reason: completion.finish_reason,
        tool_calls: completion.tool_calls,
        error,
        reason,
    }
}
