//! The OpenAI-style error answers of the HTTP APIs (agent-runtime.md §6, **wire**):
//! `{"error":{"message","type"}}` with the status that goes with the type.

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::gateway::provider::FailureReason;

/// One error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `error.type`.
    pub kind: &'static str,
    /// `error.message`.
    pub message: String,
    /// Seconds for `Retry-After` (429).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized: send the gateway token (or password) as `Authorization: Bearer <token>`",
        )
    }

    /// 429 `rate_limited` after too many failed attempts from this address.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many failed authentication attempts from this address; retry later",
            )
        }
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!("Payload too large: the body may be at most {limit} bytes"),
        )
    }

    /// 408: the body did not arrive in time.
    pub fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            "Request timeout: the body did not arrive in time",
        )
    }

    /// 503 while the gateway starts or stops, or when agent runs are unavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "api_error", message)
    }

    /// The answer to a run that failed for `reason` (spec §6.1's status table).
    pub fn from_failure(reason: Option<FailureReason>, message: &str) -> Self {
        use FailureReason as R;
        let (status, kind) = match reason {
            Some(R::Auth) => (StatusCode::UNAUTHORIZED, "authentication_error"),
            Some(R::AuthPermanent) => (StatusCode::FORBIDDEN, "authentication_error"),
            Some(R::Billing) => (StatusCode::PAYMENT_REQUIRED, "insufficient_quota"),
            Some(R::RateLimit) => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error"),
            Some(R::Overloaded) => (StatusCode::SERVICE_UNAVAILABLE, "api_error"),
            Some(R::ServerError) => (StatusCode::BAD_GATEWAY, "api_error"),
            Some(R::Timeout) => (StatusCode::GATEWAY_TIMEOUT, "api_error"),
            Some(R::ContextOverflow) => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error"),
            Some(R::ModelNotFound) => (StatusCode::NOT_FOUND, "invalid_request_error"),
            Some(R::Format) => (StatusCode::BAD_REQUEST, "invalid_request_error"),
            Some(R::Aborted) | None => {
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "api_error",
                    "internal error",
                );
            }
        };
        Self::new(status, kind, message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_failures_map_to_the_specs_statuses() {
        use FailureReason as R;
        let cases = [
            (R::Auth, 401, "authentication_error"),
            (R::AuthPermanent, 403, "authentication_error"),
            (R::Billing, 402, "insufficient_quota"),
            (R::RateLimit, 429, "rate_limit_error"),
            (R::Overloaded, 503, "api_error"),
            (R::ServerError, 502, "api_error"),
            (R::Timeout, 504, "api_error"),
            (R::ContextOverflow, 413, "invalid_request_error"),
            (R::ModelNotFound, 404, "invalid_request_error"),
        ];
        for (reason, status, kind) in cases {
            let e = ApiError::from_failure(Some(reason), "why");
            assert_eq!((e.status.as_u16(), e.kind), (status, kind), "{reason:?}");
            assert_eq!(e.body()["error"]["message"], "why");
        }
        let other = ApiError::from_failure(None, "secret detail");
        assert_eq!(other.status.as_u16(), 500);
        assert_eq!(
            other.body(),
            json!({"error": {"message": "internal error", "type": "api_error"}})
        );
    }
}
