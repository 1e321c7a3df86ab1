//! The `connect` handshake's pure part: first frame → `connect` params → role / protocol /
//! client negotiation → device proof verification.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openclaw::gateway::connection::{Refusal, negotiate, parse_connect_frame};
use openclaw::gateway::device_identity::{DeviceProof, SignedFields, VerifyContext, verify_device};
use openclaw::protocol::constants::close_code;

fuzz_target!(|data: &[u8]| {
    let (_id, params) = match parse_connect_frame(data) {
        Ok(parsed) => parsed,
        Err(Refusal::Close { code, .. }) => {
            assert!(code == close_code::NORMAL || code == close_code::POLICY_VIOLATION);
            return;
        }
        Err(Refusal::Error { id, code, .. }) => {
            assert!(!id.is_empty() || code == close_code::POLICY_VIOLATION);
            return;
        }
    };
    let negotiated = match negotiate(&params) {
        Ok(n) => n,
        Err(refused) => {
            let (_, code) = *refused;
            assert!(code == close_code::POLICY_VIOLATION || code == close_code::PROTOCOL_ERROR);
            return;
        }
    };
    let Some(device) = &params.device else {
        return;
    };
    let scopes = params.scopes.clone().unwrap_or_default();
    let auth = params.auth.clone().unwrap_or_default();
    let fields = SignedFields {
        client_id: &params.client.id,
        client_mode: &params.client.mode,
        role: negotiated.role.as_str(),
        scopes: &scopes,
        token: auth.token.as_deref().or(auth.device_token.as_deref()),
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
    for is_loopback in [true, false] {
        let ctx = VerifyContext {
            challenge_nonce: "fuzz-nonce",
            now_ms: device.signed_at,
            is_loopback,
            nonce_required: !is_loopback,
        };
        let _ = verify_device(&proof, &fields, &ctx);
    }
});
