//! `POST /tools/invoke` (agent-runtime.md §6.3, **wire**): `{tool|name, action?, args?,
//! sessionKey?, agentId?}` → `{ok:true, result}` or `{ok:false, error:{type, message}}`.
//!
//! This gateway has no built-in tools yet, so every named tool is a 404 `not_found` that says so —
//! the honest answer, which clients already handle for tools a gateway does not offer.

use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use super::{HttpBody, body_deadline, json as json_response, read_json};
use crate::gateway::state::GatewayState;

/// The largest `/tools/invoke` body.
pub const MAX_TOOL_BODY_BYTES: usize = 256 * 1024;

fn failure(status: StatusCode, kind: &str, message: String) -> Response<HttpBody> {
    json_response(
        status,
        &json!({"ok": false, "error": {"type": kind, "message": message}}),
    )
}

/// Answers one (authorized) request.
pub async fn invoke(request: Request<Incoming>, state: &GatewayState) -> Response<HttpBody> {
    let body = match read_json(
        request.into_body(),
        MAX_TOOL_BODY_BYTES,
        body_deadline(state),
    )
    .await
    {
        Ok(b) => b,
        Err(e) => return failure(e.status, "invalid_request", e.message),
    };
    let name = ["tool", "name"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let Some(name) = name else {
        return failure(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing tool name: send {\"tool\": \"<name>\", \"args\": {…}}.".to_owned(),
        );
    };
    failure(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Tool not available: {name} (this gateway has no built-in tools)"),
    )
}
