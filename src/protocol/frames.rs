//! The three frame envelopes (`req`, `res`, `event`) and the error shape.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// Any frame, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Frame {
    /// A request.
    #[serde(rename = "req")]
    Request(RequestFrame),
    /// A response.
    #[serde(rename = "res")]
    Response(ResponseFrame),
    /// An event.
    #[serde(rename = "event")]
    Event(EventFrame),
}

/// `{type:"req", id, method, params?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFrame {
    /// Request id, echoed by the response.
    pub id: String,
    /// Method name.
    pub method: String,
    /// Params (absent = `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

/// `{type:"res", id, ok, payload?, error?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseFrame {
    /// The request id.
    pub id: String,
    /// Success flag.
    pub ok: bool,
    /// Result payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Error, when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorShape>,
}

/// `{type:"event", event, payload?, seq?, stateVersion?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventFrame {
    /// Event name.
    pub event: String,
    /// Payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Per-connection sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Presence/health versions, on presence and health events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_version: Option<StateVersion>,
}

/// `{presence, health}` version counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateVersion {
    /// Bumped on every presence change.
    pub presence: u64,
    /// Bumped on every health refresh.
    pub health: u64,
}

/// The closed set of response error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No channel is linked.
    NotLinked,
    /// Device not paired.
    NotPaired,
    /// The agent did not answer in time.
    AgentTimeout,
    /// Bad request.
    InvalidRequest,
    /// Missing scope or role.
    Forbidden,
    /// Unknown approval.
    ApprovalNotFound,
    /// Temporarily unavailable.
    Unavailable,
}

/// `{code, message, details?, retryable?, retryAfterMs?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ErrorShape {
    /// The code.
    pub code: ErrorCode,
    /// Human message.
    pub message: String,
    /// Structured details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// Whether retrying may succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// When to retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// An outbound event whose payload was serialised once and is shared by every recipient.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundEvent<'a> {
    /// Always `"event"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Event name.
    pub event: &'a str,
    /// Pre-serialised payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<&'a RawValue>,
    /// Per-connection sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Presence/health versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_version: Option<StateVersion>,
}

#[derive(Serialize)]
struct OutboundResponse<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ErrorShape>,
}

/// Serialises `frame` into a buffer sized for it up front (`size_hint` plus the envelope), so
/// large payloads are copied once instead of through repeated regrowth.
fn to_frame_text(frame: &impl Serialize, size_hint: usize) -> String {
    let mut buffer = Vec::with_capacity(size_hint + 48);
    if serde_json::to_writer(&mut buffer, frame).is_err() {
        return String::new();
    }
    // serde_json writes UTF-8 only; the check is a formality on the way to a `String`.
    String::from_utf8(buffer).unwrap_or_default()
}

/// Serialises a response frame around an already serialised payload.
pub fn response_ok(id: &str, payload: &RawValue) -> String {
    let frame = OutboundResponse {
        kind: "res",
        id,
        ok: true,
        payload: Some(payload),
        error: None,
    };
    to_frame_text(&frame, payload.get().len() + id.len())
}

/// Serialises an error response frame.
pub fn response_error(id: &str, error: &ErrorShape) -> String {
    response_error_with_payload(id, None, error)
}

/// Serialises an error response frame that also carries a payload.
pub fn response_error_with_payload(
    id: &str,
    payload: Option<&RawValue>,
    error: &ErrorShape,
) -> String {
    let frame = OutboundResponse {
        kind: "res",
        id,
        ok: false,
        payload,
        error: Some(error),
    };
    to_frame_text(
        &frame,
        payload.map_or(0, |p| p.get().len()) + id.len() + 128,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_round_trip_through_json() {
        for v in [
            json!({"type": "req", "id": "1", "method": "health"}),
            json!({"type": "req", "id": "1", "method": "logs.tail", "params": {"limit": 5}}),
            json!({"type": "res", "id": "1", "ok": true, "payload": {"ok": true}}),
            json!({"type": "res", "id": "1", "ok": false, "error": {"code": "FORBIDDEN", "message": "missing scope: operator.read", "details": {"code": "MISSING_SCOPE"}}}),
            json!({"type": "event", "event": "tick", "payload": {"ts": 1}, "seq": 3}),
            json!({"type": "event", "event": "presence", "payload": {"presence": []}, "seq": 1, "stateVersion": {"presence": 2, "health": 1}}),
        ] {
            let frame: Frame = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(serde_json::to_value(&frame).unwrap(), v);
        }
    }

    #[test]
    fn envelopes_are_closed_objects() {
        let extra = json!({"type": "req", "id": "1", "method": "health", "extra": 1});
        assert!(serde_json::from_value::<Frame>(extra).is_err());
        let unknown = json!({"type": "hello", "id": "1"});
        assert!(serde_json::from_value::<Frame>(unknown).is_err());
    }

    #[test]
    fn outbound_events_embed_the_shared_payload() {
        let payload = RawValue::from_string("{\"ts\":5}".to_owned()).unwrap();
        let ev = OutboundEvent {
            kind: "event",
            event: "tick",
            payload: Some(&payload),
            seq: Some(1),
            state_version: None,
        };
        assert_eq!(
            serde_json::to_string(&ev).unwrap(),
            r#"{"type":"event","event":"tick","payload":{"ts":5},"seq":1}"#
        );
    }
}
