//! The HTTP APIs on the gateway port (agent-runtime.md §6, **wire**): the OpenAI-compatible
//! `POST /v1/chat/completions` and `GET /v1/models[/<id>]`, each off until
//! `gateway.http.endpoints.<name>.enabled` (hot-applied; a disabled endpoint answers 404 as if
//! absent), and `POST /tools/invoke`.
//!
//! Shared rules live here: `Authorization: Bearer <gateway token or password>` (device tokens
//! are not accepted; a wrong one counts against the per-address limiter of WebSocket auth),
//! a browser page of a foreign `Origin` refused with 403 as for WebSockets (it could otherwise
//! start runs with a `text/plain` form post on a gateway without auth),
//! `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` on every answer, bodies
//! read as they stream in with a size cap (413) and a deadline (408), 405 with `Allow`.

pub mod chat_completions;
pub mod chat_request;
pub mod errors;
pub mod hooks;
pub mod models;
pub mod response_ids;
pub mod responses;
pub mod responses_request;
pub mod run;
pub mod tools_invoke;

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderValue, ORIGIN, RETRY_AFTER,
};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use self::errors::ApiError;
use super::origin_check::{OriginRequest, origin_allowed};
use super::rate_limit::CredentialKind;
use super::settings::AuthSettings;
use super::state::{GatewayState, lock};
use crate::config::AuthMode;
use crate::config::Config;
use crate::environment::Environment;

/// The body of every HTTP answer of the gateway.
pub type HttpBody = UnsyncBoxBody<Bytes, Infallible>;

/// Largest request body of these APIs.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What these APIs keep while the gateway runs: which endpoints are on, and the sessions of
/// recent `/v1/responses` answers.
#[derive(Debug, Default)]
pub struct HttpApi {
    /// `gateway.http.endpoints.*.enabled`.
    pub endpoints: EndpointSwitches,
    /// `previous_response_id` → session.
    pub response_ids: response_ids::ResponseIds,
    /// The webhooks.
    pub hooks: hooks::Hooks,
}

impl HttpApi {
    /// The state for `config` (`env` and `auth` resolve and check the hook token).
    pub fn from_config(config: &Config, env: &Environment, auth: &AuthSettings) -> Self {
        let api = Self::default();
        api.apply(config, env, auth);
        api
    }

    /// Takes the settings of `config` (start and reload).
    pub fn apply(&self, config: &Config, env: &Environment, auth: &AuthSettings) {
        self.endpoints.apply(config);
        self.hooks.apply(config, env, auth);
    }

    /// Whether `path` is one of these APIs' (the hooks' only while they are on).
    pub fn owns(&self, path: &str) -> bool {
        path == "/v1"
            || path.starts_with("/v1/")
            || path == "/tools/invoke"
            || self.hooks.owns(path)
    }

    /// Answers a request for a path [`Self::owns`].
    pub async fn serve(
        request: Request<Incoming>,
        ip: IpAddr,
        state: std::sync::Arc<GatewayState>,
    ) -> Response<HttpBody> {
        if state.http_api.hooks.owns(request.uri().path()) {
            return hooks::serve(request, ip, state).await;
        }
        serve(request, ip, state).await
    }
}

/// Which endpoints are on (`gateway.http.endpoints.*.enabled`), switched on reload.
#[derive(Debug, Default)]
pub struct EndpointSwitches {
    chat_completions: AtomicBool,
    responses: AtomicBool,
}

impl EndpointSwitches {
    /// The switches of `config`.
    pub fn from_config(config: &Config) -> Self {
        let switches = Self::default();
        switches.apply(config);
        switches
    }

    /// Takes the switches of `config` (a reload).
    pub fn apply(&self, config: &Config) {
        let raw = serde_json::to_value(config).unwrap_or(Value::Null);
        let on = |name: &str| {
            raw.pointer(&format!("/gateway/http/endpoints/{name}/enabled"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        self.chat_completions
            .store(on("chatCompletions"), Ordering::Relaxed);
        self.responses.store(on("responses"), Ordering::Relaxed);
    }

    /// `POST /v1/chat/completions` is on.
    pub fn chat_completions(&self) -> bool {
        self.chat_completions.load(Ordering::Relaxed)
    }

    /// `POST /v1/responses` is on.
    pub fn responses(&self) -> bool {
        self.responses.load(Ordering::Relaxed)
    }

    /// `/v1/models` is on (with either endpoint).
    pub fn models(&self) -> bool {
        self.chat_completions() || self.responses()
    }
}

/// Adds the headers every answer carries.
pub fn secure(mut response: Response<HttpBody>) -> Response<HttpBody> {
    let headers = response.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// A JSON answer.
pub fn json(status: StatusCode, body: &Value) -> Response<HttpBody> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).boxed_unsync());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure(response)
}

/// The answer for `error`.
pub fn error(e: &ApiError) -> Response<HttpBody> {
    let mut response = json(e.status, &e.body());
    if let Some(secs) = e.retry_after_secs
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(RETRY_AFTER, v);
    }
    response
}

/// 405 (plain text) naming the methods `path` takes.
fn method_not_allowed(allow: &'static str) -> Response<HttpBody> {
    let mut response =
        Response::new(Full::new(Bytes::from_static(b"Method Not Allowed")).boxed_unsync());
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    let headers = response.headers_mut();
    headers.insert(ALLOW, HeaderValue::from_static(allow));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(response)
}

fn not_found() -> Response<HttpBody> {
    json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({"error": {"message": "Not Found", "type": "not_found"}}),
    )
}

/// Checks `Authorization: Bearer …` against the gateway's shared secret, with the per-address
/// limiter of WebSocket auth. The error says whether a credential was presented (a guess).
fn authorize<B>(
    request: &Request<B>,
    state: &GatewayState,
    ip: IpAddr,
) -> Result<(), (ApiError, bool)> {
    let auth = &state.settings.auth;
    if auth.mode == AuthMode::None {
        return Ok(());
    }
    let now = Instant::now();
    if let Err(retry) = lock(&state.rate_limiter).check(ip, CredentialKind::SharedSecret, now) {
        return Err((
            ApiError::rate_limited(retry.as_secs_f64().ceil() as u64),
            false,
        ));
    }
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim())
                .filter(|t| !t.is_empty())
        });
    let Some(presented) = presented else {
        return Err((ApiError::unauthorized(), false));
    };
    let secret = match auth.mode {
        AuthMode::Token => auth.token.as_ref(),
        AuthMode::Password => auth.password.as_ref(),
        _ => None,
    };
    if secret.is_some_and(|s| s.matches(presented)) {
        lock(&state.rate_limiter).record_success(ip, CredentialKind::SharedSecret);
        return Ok(());
    }
    let locked = lock(&state.rate_limiter).record_failure(ip, CredentialKind::SharedSecret, now);
    match locked {
        Some(retry) => Err((
            ApiError::rate_limited(retry.as_secs_f64().ceil() as u64),
            true,
        )),
        None => Err((ApiError::unauthorized(), true)),
    }
}

/// How long a request body may take to arrive.
pub fn body_deadline(state: &GatewayState) -> Duration {
    state.settings.http_body_timeout
}

/// Reads a JSON body as it arrives: at most `limit` bytes (413), within `deadline` (408),
/// valid JSON (400).
pub async fn read_json(
    body: Incoming,
    limit: usize,
    deadline: Duration,
) -> Result<Value, ApiError> {
    let read = async {
        let mut body = body;
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(ApiError::invalid("The request body could not be read."));
            };
            if let Some(data) = frame.data_ref() {
                if bytes.len() + data.len() > limit {
                    return Err(ApiError::too_large(limit));
                }
                bytes.extend_from_slice(data);
            }
        }
        Ok(bytes)
    };
    let bytes = tokio::time::timeout(deadline, read)
        .await
        .map_err(|_| ApiError::body_timeout())??;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid(format!(
            "The body is not valid JSON ({e}); send a JSON object with Content-Type: application/json."
        ))
    })
}

/// The checks every authenticated HTTP route makes before its work: a browser `Origin` must be
/// allowed (as for WebSocket connects), and `Authorization: Bearer` must hold the gateway's
/// shared secret (a wrong one is answered as late as a failed WebSocket connect). The refusal
/// to send otherwise.
pub async fn gate<B>(
    request: &Request<B>,
    state: &GatewayState,
    ip: IpAddr,
) -> Result<(), Response<HttpBody>> {
    if let Some(origin) = request.headers().get(ORIGIN) {
        let allowed = state.settings.config.control_ui_allowed_origins();
        let host = request.headers().get(HOST).and_then(|h| h.to_str().ok());
        let check = OriginRequest {
            origin: origin.to_str().unwrap_or_default(),
            host,
            peer_is_loopback: ip.is_loopback(),
        };
        if !origin_allowed(check, &allowed) {
            let mut e = ApiError::invalid(
                "Origin not allowed: add it to gateway.controlUi.allowedOrigins to call this API from that page.",
            );
            e.status = StatusCode::FORBIDDEN;
            e.kind = "forbidden";
            return Err(error(&e));
        }
    }
    if let Err((e, guess)) = authorize(request, state, ip) {
        if guess {
            // Spaced like a failed WebSocket connect, so guessing costs the same here.
            let at = state.failure_pacer.answer_at(ip, Instant::now());
            tokio::time::sleep_until(at.into()).await;
        }
        return Err(error(&e));
    }
    Ok(())
}

/// Answers a request for `/v1/*` or `/tools/invoke`.
async fn serve(
    request: Request<Incoming>,
    ip: IpAddr,
    state: std::sync::Arc<GatewayState>,
) -> Response<HttpBody> {
    let path = request.uri().path().to_owned();
    let switches = &state.http_api.endpoints;
    let route = match path.as_str() {
        "/v1/chat/completions" if switches.chat_completions() => Route::ChatCompletions,
        "/v1/responses" if switches.responses() => Route::Responses,
        "/tools/invoke" => Route::ToolsInvoke,
        "/v1/models" if switches.models() => Route::Models,
        p if switches.models() && p.starts_with("/v1/models/") => Route::Model,
        _ => return not_found(),
    };
    let allowed = match route {
        Route::ChatCompletions | Route::Responses | Route::ToolsInvoke => {
            ("POST", request.method() == Method::POST)
        }
        Route::Models | Route::Model => (
            "GET, HEAD",
            matches!(*request.method(), Method::GET | Method::HEAD),
        ),
    };
    if !allowed.1 {
        return method_not_allowed(allowed.0);
    }
    if let Err(refused) = gate(&request, &state, ip).await {
        return refused;
    }
    match route {
        Route::ChatCompletions => chat_completions::create(request, state).await,
        Route::Responses => responses::create(request, state).await,
        Route::Models => models::list(&state),
        Route::Model => models::get(&state, path.trim_start_matches("/v1/models/")),
        Route::ToolsInvoke => tools_invoke::invoke(request, &state).await,
    }
}

enum Route {
    ChatCompletions,
    Responses,
    ToolsInvoke,
    Models,
    Model,
}
