//! Plain HTTP on the gateway port: liveness, readiness, and JSON 404s.
//!
//! `/health` and `/healthz` answer `{"ok":true,"status":"live"}` while the process runs;
//! `/ready` and `/readyz` answer 200 only while the gateway accepts work (503 while starting or
//! draining). Other methods on these paths get 405 with `Allow: GET, HEAD`.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::state::{GatewayState, Phase};

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value, head_only: bool) -> Response<Full<Bytes>> {
    let bytes = if head_only {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 405 with `Allow: GET, HEAD`.
pub fn method_not_allowed() -> Response<Full<Bytes>> {
    let body = json!({"ok": false, "error": {"type": "method_not_allowed", "message": "Method Not Allowed"}});
    let mut response = json_response(StatusCode::METHOD_NOT_ALLOWED, &body, false);
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// A JSON 404 (`head`: no body).
pub fn not_found(head: bool) -> Response<Full<Bytes>> {
    let body = json!({"ok": false, "error": {"type": "not_found", "message": "Not Found"}});
    json_response(StatusCode::NOT_FOUND, &body, head)
}

/// Answers a plain HTTP request.
pub fn route<B>(request: &Request<B>, state: &GatewayState) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let probe = matches!(path, "/health" | "/healthz" | "/ready" | "/readyz");
    if probe && !matches!(*request.method(), Method::GET | Method::HEAD) {
        return method_not_allowed();
    }
    let head = request.method() == Method::HEAD;
    match path {
        "/health" | "/healthz" => {
            json_response(StatusCode::OK, &json!({"ok": true, "status": "live"}), head)
        }
        "/ready" | "/readyz" => {
            let phase = state.phase();
            let failing: Vec<&str> = match phase {
                Phase::Ready => vec![],
                Phase::Starting => vec!["startup"],
                Phase::Draining => vec!["draining"],
            };
            let status = if failing.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            json_response(
                status,
                &json!({"ready": failing.is_empty(), "failing": failing, "uptimeMs": state.uptime_ms()}),
                head,
            )
        }
        _ => not_found(head),
    }
}
