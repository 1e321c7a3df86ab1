//! The pure part of the handshake: the first frame read as a `connect` request, the role,
//! protocol and client checks, and the device proof (no state, no I/O — the gateway and the
//! `connect_params` fuzz target both call these).

use serde_json::{Value, json};

use super::{Refusal, Refused, policy_refusal};
use crate::gateway::device_identity::{
    DeviceAuthError, DeviceProof, SignedFields, VerifiedDevice, VerifyContext, verify_device,
};
use crate::gateway::registry::Role;
use crate::protocol::connect::ConnectParams;
use crate::protocol::constants::*;
use crate::protocol::errors::GatewayError;
use crate::protocol::frames::{Frame, RequestFrame};
use crate::protocol::schema_validation::Validators;

/// Reads a handshake's first frame (already within the pre-auth size cap): the `connect`
/// request id and its schema-checked params, or how the handshake is refused.
///
/// Pure: no state, no I/O — the gateway's handshake and the `connect_params` fuzz target both
/// call it.
pub fn parse_connect_frame(bytes: &[u8]) -> Result<(String, ConnectParams), Refusal> {
    let silent = || Refusal::Close {
        code: close_code::NORMAL,
        reason: String::new(),
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|_| silent())?;
    let invalid_frame = || Refusal::Close {
        code: close_code::POLICY_VIOLATION,
        reason: "invalid request frame".into(),
    };
    let frame: Frame = match Validators::get().check_frame(&value) {
        Ok(()) => serde_json::from_value(value).map_err(|_| invalid_frame())?,
        Err(_) => {
            // A request-shaped frame with a bad method still gets the handshake answer.
            return Err(
                match (
                    value.get("type").and_then(Value::as_str),
                    value.get("id").and_then(Value::as_str),
                ) {
                    (Some("req"), Some(id))
                        if value.get("method").and_then(Value::as_str) != Some("connect") =>
                    {
                        Refusal::error(
                            id,
                            GatewayError::invalid_request(
                                "invalid handshake: first request must be connect",
                            ),
                        )
                    }
                    _ => invalid_frame(),
                },
            );
        }
    };
    let Frame::Request(RequestFrame { id, method, params }) = frame else {
        return Err(invalid_frame());
    };
    if method != "connect" {
        return Err(Refusal::error(
            &id,
            GatewayError::invalid_request("invalid handshake: first request must be connect"),
        ));
    }
    let params = params.unwrap_or_else(|| json!({}));
    let bad_params =
        |reason: &str| Refusal::error(&id, GatewayError::invalid_params("connect", reason));
    Validators::get()
        .check_connect(&params)
        .map_err(|reason| bad_params(&reason))?;
    let params: ConnectParams =
        serde_json::from_value(params).map_err(|e| bad_params(&e.to_string()))?;
    Ok((id, params))
}

/// What `connect` negotiated before any credential is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The role the client asked for.
    pub role: Role,
    /// The client is a probe (accepts older protocol versions).
    pub probe: bool,
    /// The protocol version both sides speak.
    pub protocol: u32,
    /// `client.id`, lower-cased and known.
    pub client_id: String,
    /// `client.mode`, lower-cased and known.
    pub client_mode: String,
}

/// Role, protocol version and client id/mode checks of `connect` (pure; no state).
pub fn negotiate(params: &ConnectParams) -> Result<Negotiated, Refused> {
    let role = match params.role.as_deref().unwrap_or("operator") {
        "operator" => Role::Operator,
        "node" => Role::Node,
        _ => {
            return Err(policy_refusal(GatewayError::invalid_request(
                "invalid role",
            )));
        }
    };
    let probe = client_is_probe(params);
    let minimum = if role == Role::Node || probe {
        MIN_NODE_PROTOCOL_VERSION.min(MIN_PROBE_PROTOCOL_VERSION)
    } else {
        MIN_CLIENT_PROTOCOL_VERSION
    };
    let protocol =
        if params.min_protocol <= PROTOCOL_VERSION && PROTOCOL_VERSION <= params.max_protocol {
            PROTOCOL_VERSION
        } else if params.min_protocol <= minimum
            && minimum <= params.max_protocol
            && params.max_protocol < PROTOCOL_VERSION
        {
            params.max_protocol
        } else {
            return Err(Box::new((
                GatewayError::invalid_request("protocol mismatch").with_details(json!({
                    "code": "PROTOCOL_MISMATCH",
                    "clientMinProtocol": params.min_protocol,
                    "clientMaxProtocol": params.max_protocol,
                    "expectedProtocol": PROTOCOL_VERSION,
                    "minimumProbeProtocol": MIN_PROBE_PROTOCOL_VERSION,
                })),
                close_code::PROTOCOL_ERROR,
            )));
        };
    let client_id = params.client.id.to_ascii_lowercase();
    if !KNOWN_CLIENT_IDS.contains(&client_id.as_str()) {
        return Err(policy_refusal(GatewayError::invalid_params(
            "connect",
            &format!("unknown client id {:?}", params.client.id),
        )));
    }
    let client_mode = params.client.mode.to_ascii_lowercase();
    if !KNOWN_CLIENT_MODES.contains(&client_mode.as_str()) {
        return Err(policy_refusal(GatewayError::invalid_params(
            "connect",
            &format!("unknown client mode {:?}", params.client.mode),
        )));
    }

    Ok(Negotiated {
        role,
        probe,
        protocol,
        client_id,
        client_mode,
    })
}

/// Checks `connect.params.device` against the fields its signature covers (pure; `None`
/// without a device): the token signed is `auth.token`, else `auth.deviceToken`.
pub fn check_device(
    params: &ConnectParams,
    role: Role,
    ctx: &VerifyContext<'_>,
) -> Option<Result<VerifiedDevice, DeviceAuthError>> {
    let device = params.device.as_ref()?;
    let auth = params.auth.as_ref();
    let fields = SignedFields {
        client_id: &params.client.id,
        client_mode: &params.client.mode,
        role: role.as_str(),
        scopes: params.scopes.as_deref().unwrap_or_default(),
        token: auth.and_then(|a| a.token.as_deref().or(a.device_token.as_deref())),
        platform: Some(&params.client.platform),
        device_family: params.client.device_family.as_deref(),
        instance_id: params.client.instance_id.as_deref(),
    };
    let proof = DeviceProof {
        id: &device.id,
        public_key: &device.public_key,
        signature: &device.signature,
        signed_at_ms: device.signed_at,
        nonce: device.nonce.as_deref(),
    };
    Some(verify_device(&proof, &fields, ctx))
}

fn client_is_probe(params: &ConnectParams) -> bool {
    params.client.mode.eq_ignore_ascii_case("probe")
        || params.client.id.to_ascii_lowercase().ends_with("-probe")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close_of(bytes: &[u8]) -> (u16, String) {
        match parse_connect_frame(bytes) {
            Err(Refusal::Close { code, reason }) => (code, reason),
            Err(Refusal::Error { error, code, .. }) => (code, error.message),
            Ok((id, _)) => panic!("accepted as connect {id}"),
        }
    }

    #[test]
    fn first_frames_are_refused_as_the_spec_table_says() {
        assert_eq!(close_of(b"this is not json {"), (1000, String::new()));
        assert_eq!(close_of(&[0, 1, 2]), (1000, String::new()));
        assert_eq!(
            close_of(br#"{"hello":"world"}"#),
            (1008, "invalid request frame".into())
        );
        assert_eq!(
            close_of(br#"{"type":"req","id":"1","method":"health"}"#),
            (
                1008,
                "invalid handshake: first request must be connect".into()
            )
        );
        assert_eq!(
            close_of(br#"{"type":"req","id":"1","method":"connect","params":{"minProtocol":4}}"#),
            (
                1008,
                "invalid connect params: must have required property 'maxProtocol'".into()
            )
        );
    }

    fn params(min: u32, max: u32, role: &str, client: &str, mode: &str) -> ConnectParams {
        serde_json::from_value(json!({
            "minProtocol": min, "maxProtocol": max, "role": role,
            "client": {"id": client, "version": "1", "platform": "linux", "mode": mode},
        }))
        .unwrap()
    }

    #[test]
    fn negotiation_picks_the_protocol_and_refuses_mismatches_with_1002() {
        let ok = negotiate(&params(3, 5, "operator", "CLI", "cli")).unwrap();
        assert_eq!((ok.role, ok.protocol), (Role::Operator, PROTOCOL_VERSION));
        assert_eq!((ok.client_id.as_str(), ok.probe), ("cli", false));
        let refused = negotiate(&params(99, 99, "operator", "cli", "cli")).unwrap_err();
        assert_eq!(
            (refused.1, refused.0.message.as_str()),
            (1002, "protocol mismatch")
        );
        let refused = negotiate(&params(1, 3, "operator", "cli", "cli")).unwrap_err();
        assert_eq!(refused.1, 1002);
        let refused = negotiate(&params(4, 4, "admin", "cli", "cli")).unwrap_err();
        assert_eq!(
            (refused.1, refused.0.message.as_str()),
            (1008, "invalid role")
        );
        let refused = negotiate(&params(4, 4, "operator", "nope", "cli")).unwrap_err();
        assert_eq!(refused.1, 1008);
    }
}
