//! The serde types of the protocol and the JSON Schemas in `schemas/` describe the same shapes:
//! samples of every frame kind, serialised by the types, validate against the schemas, and
//! schema-valid samples deserialise into the types.

use openclaw::protocol::connect::ConnectParams;
use openclaw::protocol::frames::Frame;
use serde_json::{Value, json};

fn validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!(
        "{}/schemas/protocol/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    jsonschema::draft202012::new(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()
}

#[test]
fn every_frame_kind_round_trips_through_the_types_and_validates() {
    let frame_schema = validator("frame.schema.json");
    let samples = [
        json!({"type": "req", "id": "1", "method": "health"}),
        json!({"type": "req", "id": "2", "method": "logs.tail", "params": {"limit": 5}}),
        json!({"type": "res", "id": "1", "ok": true, "payload": {"ok": true}}),
        json!({"type": "res", "id": "1", "ok": false, "error": {"code": "INVALID_REQUEST", "message": "unknown method: x"}}),
        json!({"type": "res", "id": "1", "ok": false, "error": {"code": "UNAVAILABLE", "message": "busy", "retryable": true, "retryAfterMs": 100, "details": {"reason": "x"}}}),
        json!({"type": "event", "event": "connect.challenge", "payload": {"nonce": "n", "ts": 1}}),
        json!({"type": "event", "event": "tick", "payload": {"ts": 1}, "seq": 1}),
        json!({"type": "event", "event": "presence", "payload": {"presence": []}, "seq": 2, "stateVersion": {"presence": 3, "health": 1}}),
    ];
    for sample in samples {
        assert!(frame_schema.is_valid(&sample), "schema rejects {sample}");
        let frame: Frame = serde_json::from_value(sample.clone())
            .unwrap_or_else(|e| panic!("types reject {sample}: {e}"));
        let back = serde_json::to_value(&frame).unwrap();
        assert_eq!(back, sample);
        assert!(frame_schema.is_valid(&back));
    }
}

#[test]
fn frames_the_schema_rejects_the_types_reject_too() {
    let frame_schema = validator("frame.schema.json");
    for bad in [
        json!({"type": "req", "id": "1"}),
        json!({"type": "req", "id": "1", "method": "x", "extra": true}),
        json!({"type": "res", "id": "1"}),
        json!({"type": "event", "event": "x", "seq": -1}),
        json!({"type": "res", "id": "1", "ok": false, "error": {"code": "NOPE", "message": "m"}}),
        json!({"type": "nope"}),
    ] {
        assert!(!frame_schema.is_valid(&bad), "schema accepts {bad}");
        assert!(
            serde_json::from_value::<Frame>(bad.clone()).is_err(),
            "types accept {bad}"
        );
    }
}

#[test]
fn connect_params_of_real_clients_validate_and_parse() {
    let schema = validator("connect-params.schema.json");
    let samples = [
        // The reference CLI (tests/compat/transcripts/call-health.jsonl).
        json!({"minProtocol": 4, "maxProtocol": 4, "client": {"id": "cli", "version": "2026.9.6", "platform": "linux", "deviceFamily": "Linux", "mode": "cli", "instanceId": "i"}, "caps": [], "role": "operator", "scopes": ["operator.read"], "auth": {"token": "t"}}),
        // gateway status probe, protocol 3-4.
        json!({"minProtocol": 3, "maxProtocol": 4, "client": {"id": "cli", "version": "dev", "platform": "linux", "mode": "probe"}, "role": "operator", "scopes": ["operator.read"]}),
        // A signed node with a v3-era device (no nonce) and unknown future keys.
        json!({"minProtocol": 3, "maxProtocol": 3, "client": {"id": "node-host", "version": "1", "platform": "linux", "mode": "node"}, "role": "node", "commands": ["system.run"], "permissions": {"camera": true}, "device": {"id": "d", "publicKey": "k", "signature": "s", "signedAt": 5}, "future": 1}),
    ];
    for sample in samples {
        assert!(schema.is_valid(&sample), "schema rejects {sample}");
        serde_json::from_value::<ConnectParams>(sample.clone())
            .unwrap_or_else(|e| panic!("types reject {sample}: {e}"));
    }
}

#[test]
fn gateway_presence_and_health_payloads_match_their_schemas() {
    let presence_schema = validator("presence-entry.schema.json");
    let entry = openclaw::gateway::presence::PresenceEntry {
        host: Some("box".into()),
        mode: Some("gateway".into()),
        reason: Some("self".into()),
        text: Some("Gateway: box".into()),
        ts: 1,
        roles: Some(vec!["operator".into()]),
        ..Default::default()
    };
    assert!(presence_schema.is_valid(&serde_json::to_value(&entry).unwrap()));
    let health_schema = validator("health-summary.schema.json");
    // The health of a runtime with one agent and one session, as the gateway builds it.
    let dir = tempfile::tempdir().unwrap();
    let store = openclaw::gateway::session::SessionStore::open(&dir.path().join("s.sqlite"), 1);
    store
        .as_ref()
        .unwrap()
        .begin_run("agent:main:main", "main", "r1", "hi", 1)
        .unwrap();
    let catalog = openclaw::gateway::agent::catalog::Catalog::build(
        &Default::default(),
        &openclaw::environment::Environment::empty(),
        dir.path(),
    );
    let runtime = openclaw::gateway::agent::AgentRuntime::new(catalog, store, 1);
    let agents = runtime.health(5);
    assert_eq!(agents.sessions["count"], 1);
    assert_eq!(
        agents.agents[0]["sessions"]["recent"][0]["key"],
        "agent:main:main"
    );
    let health = openclaw::gateway::health::health_summary(5, &agents, true);
    let errors: Vec<String> = health_schema
        .iter_errors(&health)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
