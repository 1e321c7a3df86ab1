//! Why a model call failed, as one of the reasons of agent-runtime.md §2.2, and what that reason
//! allows: another try of the same model, the fallbacks, the `chat` event's `errorKind`.

use std::time::Duration;

use serde::Serialize;

/// The longest `Retry-After` honoured before the one retry (a caller learns the outcome within
/// seconds; a longer wait goes to the fallbacks instead).
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(10);

/// The class of an upstream failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// 401.
    Auth,
    /// 403.
    AuthPermanent,
    /// 402.
    Billing,
    /// 429.
    RateLimit,
    /// 503, 529.
    Overloaded,
    /// Other 5xx, a connection refused or reset, a stream cut short.
    ServerError,
    /// Connect timeout, no first byte or an idle gap past the idle timeout, the request's total.
    Timeout,
    /// 400 (and other 4xx): the request itself is wrong.
    Format,
    /// 404.
    ModelNotFound,
    /// A 400 about the context length, or our own context guard.
    ContextOverflow,
    /// The caller cancelled (abort, disconnect, shutdown, the turn's budget).
    Aborted,
}

impl FailureReason {
    /// The wire name (`rate_limit`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::AuthPermanent => "auth_permanent",
            Self::Billing => "billing",
            Self::RateLimit => "rate_limit",
            Self::Overloaded => "overloaded",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::Format => "format",
            Self::ModelNotFound => "model_not_found",
            Self::ContextOverflow => "context_overflow",
            Self::Aborted => "aborted",
        }
    }

    /// Whether the same model gets one more try (before any output was produced).
    pub fn retries_same_model(self) -> bool {
        matches!(self, Self::RateLimit | Self::Overloaded | Self::ServerError)
    }

    /// Whether the fallbacks are tried after it.
    pub fn tries_fallbacks(self) -> bool {
        !matches!(self, Self::Format | Self::ContextOverflow | Self::Aborted)
    }

    /// The `chat` event's `errorKind`.
    pub fn error_kind(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::RateLimit => "rate_limit",
            Self::ContextOverflow => "context_length",
            _ => "unknown",
        }
    }

    /// The reason of an HTTP error status (`body`: the start of the response body, which tells a
    /// context-length 400 from another).
    pub fn of_status(status: u16, body: &str) -> Self {
        match status {
            401 => Self::Auth,
            402 => Self::Billing,
            403 => Self::AuthPermanent,
            404 => Self::ModelNotFound,
            429 => Self::RateLimit,
            503 | 529 => Self::Overloaded,
            400 | 413 if mentions_context_length(body) => Self::ContextOverflow,
            500..=599 => Self::ServerError,
            _ => Self::Format,
        }
    }
}

fn mentions_context_length(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    [
        "context length",
        "context_length",
        "context window",
        "maximum context",
        "too many tokens",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// One failed model call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Its class.
    pub reason: FailureReason,
    /// The HTTP status, when the upstream answered one.
    pub status: Option<u16>,
    /// What went wrong, for logs and the caller (never a secret).
    pub message: String,
    /// The upstream's `Retry-After` (capped at [`RETRY_AFTER_CAP`]).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure of `reason` with no HTTP status.
    pub fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            status: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The failure an HTTP error answer stands for: its status, the `error.message` of a JSON
    /// body (else the body's start), its `Retry-After`.
    pub fn of_response(status: u16, body: &str, retry_after: Option<&str>) -> Self {
        let detail = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                let e = v.get("error")?;
                e.get("message")
                    .and_then(|m| m.as_str())
                    .or_else(|| e.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| body.trim().to_owned());
        let detail = clip(&detail, 300);
        Self {
            reason: FailureReason::of_status(status, body),
            status: Some(status),
            message: if detail.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {detail}")
            },
            retry_after: retry_after.and_then(parse_retry_after),
        }
    }
}

/// `Retry-After` as seconds (an HTTP date counts as the cap), capped at [`RETRY_AFTER_CAP`].
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let wait = match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s),
        Ok(_) => return None,
        Err(_) => RETRY_AFTER_CAP,
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

/// The first `max` characters of `text`, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_reasons_of_the_spec_table() {
        let cases = [
            (401, "", FailureReason::Auth),
            (402, "", FailureReason::Billing),
            (403, "", FailureReason::AuthPermanent),
            (404, "", FailureReason::ModelNotFound),
            (429, "", FailureReason::RateLimit),
            (503, "", FailureReason::Overloaded),
            (529, "", FailureReason::Overloaded),
            (500, "", FailureReason::ServerError),
            (502, "", FailureReason::ServerError),
            (400, "bad field", FailureReason::Format),
            (
                400,
                "This model's maximum context length is 4096 tokens",
                FailureReason::ContextOverflow,
            ),
            (422, "", FailureReason::Format),
        ];
        for (status, body, reason) in cases {
            assert_eq!(
                FailureReason::of_status(status, body),
                reason,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn only_transient_reasons_retry_and_request_errors_do_not_fall_back() {
        use FailureReason::*;
        for r in [RateLimit, Overloaded, ServerError] {
            assert!(r.retries_same_model() && r.tries_fallbacks(), "{r:?}");
        }
        for r in [Auth, AuthPermanent, Billing, Timeout, ModelNotFound] {
            assert!(!r.retries_same_model() && r.tries_fallbacks(), "{r:?}");
        }
        for r in [Format, ContextOverflow, Aborted] {
            assert!(!r.retries_same_model() && !r.tries_fallbacks(), "{r:?}");
        }
    }

    #[test]
    fn an_error_answer_carries_its_message_and_a_capped_retry_after() {
        let f = Failure::of_response(
            429,
            r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
            Some("120"),
        );
        assert_eq!(f.reason, FailureReason::RateLimit);
        assert_eq!(f.message, "HTTP 429: slow down");
        assert_eq!(f.retry_after, Some(RETRY_AFTER_CAP));
        let f = Failure::of_response(503, "", Some("0.5"));
        assert_eq!(f.message, "HTTP 503");
        assert_eq!(f.retry_after, Some(Duration::from_millis(500)));
        assert_eq!(Failure::of_response(500, "x", Some("-1")).retry_after, None);
    }
}
