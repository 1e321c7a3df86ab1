//! The method × scope table: every method in `hello-ok.features.methods`, called by a
//! connection holding each kind of grant (none, read, write, pairing, approvals, admin, and the
//! node role), against the real gateway. The expected cell comes from `gateway-protocol.md`
//! §4.1, transcribed below; a method the table does not classify fails the test, so a new
//! method cannot be added without deciding who may call it.

mod support;

use openclaw::gateway::device_identity::DeviceKeypair;
use serde_json::{Value, json};
use support::*;

/// §4.1 "read — health, status, system-presence, last-heartbeat, logs.tail, …, models.list,
/// agents.list, …, chat.history, node.list, node.describe".
const READ: &[&str] = &[
    "health",
    "status",
    "system-presence",
    "last-heartbeat",
    "logs.tail",
    "node.list",
    "node.describe",
    "chat.history",
    "models.list",
    "agents.list",
    "sessions.list",
];
/// §4.1 "write — send, …, agent.wait, chat.send, chat.abort"; `agent` and `node.invoke` are
/// "dynamic" there: both need write (and `node.invoke` admin for the commands that run code,
/// tested in tests/security.rs).
const WRITE: &[&str] = &[
    "send",
    "agent",
    "node.invoke",
    "agent.wait",
    "chat.send",
    "chat.abort",
];
/// §4.1 "admin — set-heartbeats, system-event, …, chat.inject"; `sessions.patch|reset|delete`
/// are not classified (admin by default; `sessions.list` is read, like `chat.history`);
/// `config.get` is listed under read there but
/// the same section says the `config.*` prefix always needs admin, and the config holds every
/// secret reference: admin. `node.pair.request` and `node.pair.verify` are not classified by
/// §4.1, and "unclassified methods default to admin".
const ADMIN: &[&str] = &[
    "sessions.patch",
    "sessions.reset",
    "sessions.delete",
    "chat.inject",
    "system-event",
    "set-heartbeats",
    "config.get",
    "node.pair.request",
    "node.pair.verify",
];
/// §4.1 "pairing — node.pair.list|approve|reject|remove, device.pair.*,
/// device.token.rotate|revoke, node.rename".
const PAIRING: &[&str] = &[
    "node.pair.list",
    "node.pair.approve",
    "node.pair.reject",
    "node.pair.remove",
    "device.pair.list",
    "device.pair.approve",
    "device.pair.reject",
    "device.pair.remove",
    "device.token.rotate",
    "device.token.revoke",
    "node.rename",
];
/// §4.1 "Node-only methods include node.invoke.result, node.event".
const NODE_ONLY: &[&str] = &["node.invoke.result", "node.event"];

/// Who holds the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    NoScope,
    Read,
    Write,
    Pairing,
    Approvals,
    Admin,
    Node,
}

const HOLDERS: [Holder; 7] = [
    Holder::NoScope,
    Holder::Read,
    Holder::Write,
    Holder::Pairing,
    Holder::Approvals,
    Holder::Admin,
    Holder::Node,
];

/// The cell of the table: may `holder` call a method of `class`?
fn may_call(class: &[&str], holder: Holder) -> bool {
    use Holder::*;
    let class = class.as_ptr();
    if class == NODE_ONLY.as_ptr() {
        return holder == Node;
    }
    match holder {
        Admin => true,
        Write => class == READ.as_ptr() || class == WRITE.as_ptr(),
        Read => class == READ.as_ptr(),
        Pairing => class == PAIRING.as_ptr(),
        NoScope | Approvals | Node => false,
    }
}

fn class_of(method: &str) -> &'static [&'static str] {
    [READ, WRITE, ADMIN, PAIRING, NODE_ONLY]
        .into_iter()
        .find(|class| class.contains(&method))
        .unwrap_or_else(|| panic!("{method} is advertised but not classified by the §4.1 table"))
}

async fn connect_as(port: u16, holder: Holder) -> (Ws, Value) {
    if holder == Holder::Node {
        let key = DeviceKeypair::generate().unwrap();
        let (mut ws, challenge) = open(port).await;
        let nonce = challenge["payload"]["nonce"].as_str().unwrap().to_owned();
        let mut params = json!({
            "minProtocol": 4, "maxProtocol": 4,
            "client": {"id": "node-host", "version": "1", "platform": "linux", "mode": "node"},
            "role": "node", "scopes": [], "auth": {"token": TOKEN},
        });
        params["device"] = signed_device(&key, &nonce, &params);
        let res = send_connect(&mut ws, params).await;
        assert_eq!(res["ok"], true, "{res}");
        return (ws, res["payload"].clone());
    }
    let scopes = match holder {
        Holder::NoScope => json!([]),
        Holder::Read => json!(["operator.read"]),
        Holder::Write => json!(["operator.write"]),
        Holder::Pairing => json!(["operator.pairing"]),
        Holder::Approvals => json!(["operator.approvals"]),
        _ => json!(["operator.admin"]),
    };
    let (mut ws, _) = open(port).await;
    let mut params = cli_params(Some(TOKEN));
    params["scopes"] = scopes.clone();
    let res = send_connect(&mut ws, params).await;
    assert_eq!(res["payload"]["auth"]["scopes"], scopes, "{res}");
    (ws, res["payload"].clone())
}

/// True when the answer refuses the caller for who it is (scope or role), not for its params.
fn refused_for_grant(res: &Value) -> bool {
    let message = res["error"]["message"].as_str().unwrap_or("");
    res["error"]["code"] == "FORBIDDEN"
        && (message.starts_with("missing scope: ") || message.starts_with("unauthorized role: "))
}

#[tokio::test]
async fn every_advertised_method_admits_exactly_the_grants_of_the_spec_table() {
    let gw = TestGateway::start();
    let mut mismatches = Vec::new();
    let mut advertised: Option<Vec<String>> = None;
    for holder in HOLDERS {
        let (mut ws, hello) = connect_as(gw.port, holder).await;
        let methods: Vec<String> = hello["features"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect();
        if let Some(first) = &advertised {
            assert_eq!(
                first, &methods,
                "every connection is offered the same methods"
            );
        }
        for (i, method) in methods.iter().enumerate() {
            let expected = may_call(class_of(method), holder);
            let res = call(&mut ws, &format!("m{i}"), method, json!({})).await;
            if refused_for_grant(&res) == expected {
                mismatches.push(format!(
                    "{method} by {holder:?}: expected {}, got {}",
                    if expected { "admitted" } else { "refused" },
                    res
                ));
            }
        }
        advertised = Some(methods);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(
        advertised.unwrap().len(),
        READ.len() + WRITE.len() + ADMIN.len() + PAIRING.len() + NODE_ONLY.len(),
        "the table classifies exactly the advertised methods"
    );
}

#[test]
fn the_table_itself_follows_the_scope_implications() {
    // admin satisfies every operator scope; write also allows read; nodes only call node methods.
    for class in [READ, WRITE, ADMIN, PAIRING] {
        assert!(may_call(class, Holder::Admin));
        assert!(!may_call(class, Holder::Node));
        assert!(!may_call(class, Holder::NoScope));
        assert!(!may_call(class, Holder::Approvals));
    }
    assert!(may_call(READ, Holder::Write) && !may_call(WRITE, Holder::Read));
    assert!(!may_call(NODE_ONLY, Holder::Admin) && may_call(NODE_ONLY, Holder::Node));
}
