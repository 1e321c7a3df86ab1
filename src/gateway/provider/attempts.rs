//! One answer from a list of models (the primary, then its fallbacks): each model gets one more
//! try after a transient failure (honouring a capped `Retry-After`), a failure that allows it
//! moves on to the next model, and a stream that broke after output is never retried (the user
//! saw text). Every attempt is logged with its model, reason, status and duration, and returned.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::openai_completions::{Interrupted, stream_chat};
use super::{ChatRequest, Completion, Endpoint, FailureReason, StreamEvent};

/// The pause before the retry of a transient failure that named no `Retry-After`.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// One call to one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// `provider/model`.
    pub model: String,
    /// Why it failed (none: it answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
    /// The upstream's HTTP status, when it answered with an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long it took.
    pub duration_ms: u64,
}

/// The answer (or the last failure, its message naming every model tried) and the attempts.
#[derive(Debug)]
pub struct Answer {
    /// The completion, or why there is none (with what arrived before).
    pub result: Result<Completion, Interrupted>,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
}

/// Asks `endpoints` in order (primary first) until one answers; see the module doc.
pub async fn answer(
    client: &reqwest::Client,
    endpoints: &[Endpoint],
    request: &ChatRequest,
    cancel: &CancellationToken,
    sink: &mut (dyn FnMut(&StreamEvent) + Send),
) -> Answer {
    let mut attempts = Vec::new();
    let mut last: Option<Interrupted> = None;
    'models: for endpoint in endpoints {
        for try_number in 1..=2 {
            let started = Instant::now();
            let result = stream_chat(client, endpoint, request, cancel, sink).await;
            let (reason, status) = match &result {
                Ok(_) => (None, None),
                Err(i) => (Some(i.failure.reason), i.failure.status),
            };
            let attempt = Attempt {
                model: endpoint.model.to_string(),
                reason,
                status,
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            };
            log_attempt(&attempt, result.as_ref().err());
            attempts.push(attempt);
            let interrupted = match result {
                Ok(completion) => {
                    return Answer {
                        result: Ok(completion),
                        attempts,
                    };
                }
                Err(i) => i,
            };
            let failure = &interrupted.failure;
            let final_here = interrupted.partial.has_output()
                || failure.reason == FailureReason::Aborted
                || !failure.reason.tries_fallbacks();
            let retry = try_number == 1 && failure.reason.retries_same_model() && !final_here;
            let pause = failure.retry_after.unwrap_or(RETRY_PAUSE);
            last = Some(interrupted);
            if final_here {
                break 'models;
            }
            if !retry {
                continue 'models;
            }
            tokio::select! {
                () = cancel.cancelled() => break 'models,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
    let mut interrupted = last.unwrap_or_else(|| Interrupted {
        failure: super::Failure::new(FailureReason::ModelNotFound, "no model is configured"),
        partial: Completion::default(),
    });
    if cancel.is_cancelled() && interrupted.failure.reason != FailureReason::Aborted {
        interrupted.failure = super::Failure::new(FailureReason::Aborted, "cancelled");
    }
    let tried: Vec<String> = attempts
        .iter()
        .map(|a| match a.reason {
            Some(r) => format!("{} ({})", a.model, r.as_str()),
            None => a.model.clone(),
        })
        .collect();
    if attempts.len() > 1 {
        interrupted.failure.message = format!(
            "{} (tried {})",
            interrupted.failure.message,
            tried.join(", ")
        );
    }
    Answer {
        result: Err(interrupted),
        attempts,
    }
}

fn log_attempt(attempt: &Attempt, failure: Option<&Interrupted>) {
    match failure {
        None => tracing::info!(
            model = %attempt.model,
            ms = attempt.duration_ms,
            "model call answered"
        ),
        Some(i) => tracing::warn!(
            model = %attempt.model,
            reason = i.failure.reason.as_str(),
            status = ?i.failure.status,
            ms = attempt.duration_ms,
            after_output = i.partial.has_output(),
            "model call failed: {}",
            i.failure.message
        ),
    }
}
