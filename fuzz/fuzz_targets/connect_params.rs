//! The `connect` handshake's pure part, as the gateway runs it: first frame → `connect` params
//! → role / protocol / client negotiation → device proof verification.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openclaw::gateway::connection::{Refusal, check_device, negotiate, parse_connect_frame};
use openclaw::gateway::device_identity::VerifyContext;
use openclaw::protocol::constants::close_code;

fuzz_target!(|data: &[u8]| {
    let (_id, params) = match parse_connect_frame(data) {
        Ok(parsed) => parsed,
        Err(Refusal::Close { code, .. }) => {
            assert!(code == close_code::NORMAL || code == close_code::POLICY_VIOLATION);
            return;
        }
        Err(Refusal::Error { code, .. }) => {
            assert_eq!(code, close_code::POLICY_VIOLATION);
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
    let signed_at = params.device.as_ref().map_or(0, |d| d.signed_at);
    for is_loopback in [true, false] {
        let ctx = VerifyContext {
            challenge_nonce: "fuzz-nonce",
            now_ms: signed_at,
            is_loopback,
            nonce_required: !is_loopback,
        };
        let _ = check_device(&params, negotiated.role, &ctx);
    }
});
