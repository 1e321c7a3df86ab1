//! Authentication of a `connect` (spec `gateway-protocol.md` §2.5): the browser origin check,
//! then the shared secret (`gateway.auth.mode`), else a device token of a verified device.
//!
//! Order is binding: a connect that fails here is refused before any pairing step, whether or
//! not it carries a device, on loopback too. A wrong credential (a guess) is answered only after
//! the per-address pacing of [`FailurePacer`](super::preauth_limit::FailurePacer); a missing one
//! at once. Failures count towards the remote lockout of
//! [`AuthRateLimiter`](super::rate_limit::AuthRateLimiter).

use std::time::Instant;

use serde_json::json;

use super::Peer;
use crate::config::AuthMode;
use crate::gateway::device_identity::VerifiedDevice;
use crate::gateway::origin_check::{OriginRequest, origin_allowed};
use crate::gateway::pairing::TokenCheck;
use crate::gateway::rate_limit::CredentialKind;
use crate::gateway::registry::Role;
use crate::gateway::settings::AuthSettings;
use crate::gateway::state::{GatewayState, lock};
use crate::protocol::connect::ConnectParams;
use crate::protocol::errors::GatewayError;

/// Client ids of browser clients (the Control UI and webchat), which alone may be paired silently
/// from an allowed browser origin.
pub const BROWSER_CLIENT_IDS: &[&str] = &[
    "openclaw-control-ui",
    "webchat-ui",
    "webchat",
    "clawdbot-control-ui",
    "moltbot-control-ui",
];

/// The refusal of a connect from a browser origin that is not allowed.
pub fn origin_not_allowed() -> GatewayError {
    GatewayError::invalid_request(
        "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)",
    )
    .with_details(json!({"code": "CONTROL_UI_ORIGIN_NOT_ALLOWED"}))
}

/// Checks the `Origin` of a browser connect; connects without one pass.
pub fn check_origin(state: &GatewayState, peer: &Peer) -> Result<(), GatewayError> {
    let Some(origin) = peer.origin.as_deref() else {
        return Ok(());
    };
    let request = OriginRequest {
        origin,
        host: peer.host.as_deref(),
        peer_is_loopback: peer.is_loopback,
    };
    let allowed = state.settings.config.control_ui_allowed_origins();
    if origin_allowed(request, &allowed) {
        Ok(())
    } else {
        tracing::info!(ip = %peer.ip, origin, "websocket connect refused: origin not allowed");
        Err(origin_not_allowed())
    }
}

fn auth_hint(client_id: &str) -> &'static str {
    if client_id == "cli" {
        "use this gateway's gateway.auth.token or pair the device"
    } else {
        "provide gateway auth token"
    }
}

/// The `unauthorized: …` refusal for `reason` (an upstream `authReason`).
pub fn auth_failure(reason: &str, client_id: &str, device_present: bool) -> GatewayError {
    let (message, code, next) = match reason {
        "token_missing" => (
            format!(
                "unauthorized: gateway token missing ({})",
                auth_hint(client_id)
            ),
            "AUTH_TOKEN_MISSING",
            "update_auth_credentials",
        ),
        "token_mismatch" => (
            format!(
                "unauthorized: gateway token mismatch ({})",
                auth_hint(client_id)
            ),
            "AUTH_TOKEN_MISMATCH",
            "update_auth_credentials",
        ),
        "password_missing" => (
            "unauthorized: gateway password missing (provide gateway auth password)".to_owned(),
            "AUTH_PASSWORD_MISSING",
            "update_auth_credentials",
        ),
        "password_mismatch" => (
            "unauthorized: gateway password mismatch (provide gateway auth password)".to_owned(),
            "AUTH_PASSWORD_MISMATCH",
            "update_auth_credentials",
        ),
        "device_token_mismatch" => (
            "unauthorized: device token mismatch (pair the device again)".to_owned(),
            "AUTH_DEVICE_TOKEN_MISMATCH",
            "update_auth_credentials",
        ),
        "scope_mismatch" => (
            "unauthorized: device token scope mismatch (the device token does not carry every requested scope; ask for fewer scopes or have an admin rotate the token)".to_owned(),
            "AUTH_SCOPE_MISMATCH",
            "review_auth_configuration",
        ),
        _ => (
            "unauthorized".to_owned(),
            "AUTH_UNAUTHORIZED",
            "review_auth_configuration",
        ),
    };
    GatewayError::invalid_request(message).with_details(json!({
        "code": code,
        "authReason": reason,
        "canRetryWithDeviceToken": device_present && reason == "token_mismatch",
        "recommendedNextStep": next,
    }))
}

fn rate_limited(retry_after: std::time::Duration) -> GatewayError {
    let ms = retry_after.as_millis() as u64;
    GatewayError::invalid_request("unauthorized: too many failed authentication attempts (retry later)")
        .with_details(json!({"code": "AUTH_RATE_LIMITED", "authReason": "rate_limited", "canRetryWithDeviceToken": false, "recommendedNextStep": "wait_then_retry"}))
        .retry_after(ms)
}

/// The outcome of the shared-secret check.
enum SharedAuth {
    /// Passed, with the method name.
    Passed(&'static str),
    /// Failed with a reason; may still pass as a device token.
    Failed(&'static str),
}

fn check_shared_secret(auth: &AuthSettings, params: &ConnectParams) -> SharedAuth {
    let presented = params.auth.clone().unwrap_or_default();
    match auth.mode {
        AuthMode::None => SharedAuth::Passed("none"),
        AuthMode::Token => match (
            &auth.token,
            presented.token.as_deref().filter(|t| !t.trim().is_empty()),
        ) {
            (_, None) => SharedAuth::Failed("token_missing"),
            (Some(secret), Some(token)) if secret.matches(token) => SharedAuth::Passed("token"),
            _ => SharedAuth::Failed("token_mismatch"),
        },
        AuthMode::Password => match (
            &auth.password,
            presented.password.as_deref().filter(|p| !p.is_empty()),
        ) {
            (_, None) => SharedAuth::Failed("password_missing"),
            (Some(secret), Some(pw)) if secret.matches(pw) => SharedAuth::Passed("password"),
            _ => SharedAuth::Failed("password_mismatch"),
        },
        AuthMode::TrustedProxy => SharedAuth::Failed("unauthorized"),
    }
}

/// Who is connecting, as far as authentication needs to know.
pub struct Claimant<'a> {
    /// The peer.
    pub peer: &'a Peer,
    /// The connect params.
    pub params: &'a ConnectParams,
    /// The requested role.
    pub role: Role,
    /// `client.id`, lower-cased.
    pub client_id: &'a str,
    /// The verified device, if one was presented.
    pub device: Option<&'a VerifiedDevice>,
    /// The requested scopes.
    pub scopes: &'a [String],
}

/// Authenticates a connect: the auth method (`token`, `password`, `none`, `device-token`), or
/// the refusal. Refusals for a wrong credential are answered after the per-address pacing.
pub async fn authenticate(
    state: &GatewayState,
    claimant: &Claimant<'_>,
) -> Result<&'static str, GatewayError> {
    let now = Instant::now();
    match check(state, claimant, now) {
        Ok(method) => Ok(method),
        Err((error, guess)) => {
            if guess {
                let at = state.failure_pacer.answer_at(claimant.peer.ip, now);
                tokio::time::sleep_until(at.into()).await;
            }
            Err(error)
        }
    }
}

/// The credential check without pacing; an error says whether a credential was presented
/// (a guess) or missing.
fn check(
    state: &GatewayState,
    claimant: &Claimant<'_>,
    now: Instant,
) -> Result<&'static str, (GatewayError, bool)> {
    let ip = claimant.peer.ip;
    if let Err(retry) = lock(&state.rate_limiter).check(ip, CredentialKind::SharedSecret, now) {
        // Locked out: nothing is checked, so there is no guess to slow down.
        return Err((rate_limited(retry), false));
    }
    let reason = match check_shared_secret(&state.settings.auth, claimant.params) {
        SharedAuth::Passed(method) => {
            lock(&state.rate_limiter).record_success(ip, CredentialKind::SharedSecret);
            return Ok(method);
        }
        SharedAuth::Failed(reason) => reason,
    };
    let presented = claimant.params.auth.clone().unwrap_or_default();
    let device_token = presented
        .device_token
        .as_deref()
        .or(presented.token.as_deref())
        .filter(|t| !t.trim().is_empty());
    let (Some(device), Some(token)) = (claimant.device, device_token) else {
        let guess = !reason.ends_with("_missing");
        if guess {
            lock(&state.rate_limiter).record_failure(ip, CredentialKind::SharedSecret, now);
        }
        let error = auth_failure(reason, claimant.client_id, claimant.device.is_some());
        return Err((error, guess));
    };
    let check = lock(&state.pairing).verify_token(
        &device.device_id,
        claimant.role.as_str(),
        token,
        claimant.scopes,
    );
    let reason = match check {
        TokenCheck::Valid => return Ok("device-token"),
        TokenCheck::ScopeMismatch { .. } => "scope_mismatch",
        _ if presented.token.is_some() => reason,
        _ => "device_token_mismatch",
    };
    let mut limiter = lock(&state.rate_limiter);
    limiter.record_failure(ip, CredentialKind::DeviceToken, now);
    limiter.record_failure(ip, CredentialKind::SharedSecret, now);
    drop(limiter);
    Err((auth_failure(reason, claimant.client_id, true), true))
}
