//! Typed gateway errors, rendered to the wire's `{code, message, details}` shape.

use serde_json::{Value, json};

use super::frames::{ErrorCode, ErrorShape};

/// An error a method or the handshake answers with.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayError {
    /// The wire code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
    /// Structured details (boxed to keep `Result<_, GatewayError>` small).
    pub details: Option<Box<Value>>,
    /// Whether retrying may succeed.
    pub retryable: Option<bool>,
    /// When to retry.
    pub retry_after_ms: Option<u64>,
    /// A payload sent alongside the error (the `ok:false` final answer of `agent` carries one).
    pub payload: Option<Box<Value>>,
}

impl GatewayError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retryable: None,
            retry_after_ms: None,
            payload: None,
        }
    }

    /// `INVALID_REQUEST`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// `UNAVAILABLE`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// `INVALID_REQUEST "unknown method: <m>"`.
    pub fn unknown_method(method: &str) -> Self {
        Self::invalid_request(format!("unknown method: {method}"))
    }

    /// `INVALID_REQUEST "invalid <method> params: <reason>"`.
    pub fn invalid_params(method: &str, reason: &str) -> Self {
        Self::invalid_request(format!("invalid {method} params: {reason}"))
    }

    /// `FORBIDDEN "missing scope: <scope>"` with the `MISSING_SCOPE` details.
    pub fn missing_scope(scope: &str, required: &[&str]) -> Self {
        Self::new(ErrorCode::Forbidden, format!("missing scope: {scope}")).with_details(json!({
            "code": "MISSING_SCOPE",
            "missingScope": scope,
            "requiredScopes": required,
        }))
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// Marks it retryable (no delay advised).
    pub fn retryable(mut self) -> Self {
        self.retryable = Some(true);
        self
    }

    /// Adds a payload to the error response.
    pub fn with_payload(mut self, payload: Value) -> Self {
        self.payload = Some(Box::new(payload));
        self
    }

    /// Marks it retryable after `ms`.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retryable = Some(true);
        self.retry_after_ms = Some(ms);
        self
    }

    /// The wire shape.
    pub fn to_shape(&self) -> ErrorShape {
        ErrorShape {
            code: self.code,
            message: self.message.clone(),
            details: self.details.as_deref().cloned(),
            retryable: self.retryable,
            retry_after_ms: self.retry_after_ms,
        }
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for GatewayError {}
