//! The pairing store against real files in a temp dir.

use super::*;
use serde_json::Value;
use std::fs;

const T0: u64 = 1_800_000_000_000;
const KEY: &str = "pub-key-a";
const DEVICE: &str = "d1";

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

fn open(dir: &tempfile::TempDir) -> PairingStore {
    PairingStore::open(dir.path()).unwrap()
}

fn input(role: &str, scopes: &[&str]) -> DevicePairingInput {
    DevicePairingInput {
        device_id: DEVICE.to_owned(),
        public_key: KEY.to_owned(),
        display_name: Some("laptop".to_owned()),
        platform: Some("linux".to_owned()),
        client_id: Some("cli".to_owned()),
        client_mode: Some("cli".to_owned()),
        role: Some(role.to_owned()),
        scopes: s(scopes),
        remote_ip: Some("10.0.0.2".to_owned()),
        ..Default::default()
    }
}

/// Requests and approves `scopes` for the operator role.
fn pair(store: &mut PairingStore, scopes: &[&str], now: u64) -> PairedDevice {
    let (req, _) = store.request(input(OPERATOR_ROLE, scopes), now).unwrap();
    store.approve(&req.request_id, now).unwrap()
}

fn node_input(commands: &[&str]) -> NodePairingInput {
    NodePairingInput {
        node_id: "node-1".to_owned(),
        display_name: Some("phone".to_owned()),
        platform: Some("ios".to_owned()),
        commands: Some(s(commands)),
        caps: Some(s(&["camera"])),
        ..Default::default()
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn request_then_approve_issues_a_token_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let scopes = s(&["operator.read", "operator.write"]);
    assert_eq!(
        store.check(DEVICE, KEY, OPERATOR_ROLE, &scopes),
        PairingCheck::NotPaired
    );

    let (req, is_new) = store
        .request(
            input(OPERATOR_ROLE, &["operator.write", "operator.read"]),
            T0,
        )
        .unwrap();
    assert!(is_new);
    assert_eq!(req.request_id.len(), 36);
    assert_eq!(req.is_repair, Some(false));
    assert_eq!(req.scopes, Some(scopes.clone()));
    assert_eq!(store.list(T0).pending, vec![req.clone()]);

    let device = store.approve(&req.request_id, T0 + 10).unwrap();
    assert_eq!(device.roles, s(&[OPERATOR_ROLE]));
    assert_eq!(device.approved_scopes, scopes);
    assert_eq!(device.approved_at_ms, T0 + 10);
    assert_eq!(device.tokens.len(), 1);
    assert!(store.list(T0 + 10).pending.is_empty());
    assert_eq!(
        store.check(DEVICE, KEY, OPERATOR_ROLE, &scopes),
        PairingCheck::Paired
    );

    let token = store
        .ensure_token(DEVICE, OPERATOR_ROLE, &scopes, T0 + 20)
        .unwrap();
    assert_eq!(token.role, OPERATOR_ROLE);
    assert_eq!(token.scopes, scopes);
    assert_eq!(
        token.issued_at_ms,
        T0 + 10,
        "the approval's token is reused"
    );
    assert_eq!(token.token.expose_secret().len(), 43);
    assert!(
        token
            .token
            .expose_secret()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(
        store.verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &scopes),
        TokenCheck::Valid
    );
}

#[test]
fn ensure_token_reuses_a_covering_token_and_replaces_a_narrower_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (req, _) = store
        .request(input(OPERATOR_ROLE, &["operator.admin"]), T0)
        .unwrap();
    store.approve(&req.request_id, T0).unwrap();
    // Rotate down to read only, then ask for write: a new token with the asked scopes.
    let read = store
        .rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.read"])), T0 + 1)
        .unwrap();
    let again = store
        .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.read"]), T0 + 2)
        .unwrap();
    assert_eq!(again.token.expose_secret(), read.token.expose_secret());
    let write = store
        .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.write"]), T0 + 3)
        .unwrap();
    assert_ne!(write.token.expose_secret(), read.token.expose_secret());
    assert_eq!(write.scopes, s(&["operator.write"]));
    assert_eq!(write.issued_at_ms, T0 + 3);
    // write covers read: reused.
    let covered = store
        .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.read"]), T0 + 4)
        .unwrap();
    assert_eq!(covered.token.expose_secret(), write.token.expose_secret());
}

#[test]
fn ensure_token_refuses_unapproved_roles_and_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read"], T0);
    assert!(matches!(
        store.ensure_token(DEVICE, "node", &[], T0),
        Err(PairingStoreError::RoleNotApproved { role }) if role == "node"
    ));
    assert!(matches!(
        store.ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.admin"]), T0),
        Err(PairingStoreError::ScopeNotApproved { scope }) if scope == "operator.admin"
    ));
    assert!(matches!(
        store.ensure_token("nope", OPERATOR_ROLE, &[], T0),
        Err(PairingStoreError::UnknownDeviceId(_))
    ));
}

#[test]
fn repeating_a_pending_request_keeps_its_request_id_and_refreshes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (first, is_new) = store
        .request(input(OPERATOR_ROLE, &["operator.read"]), T0)
        .unwrap();
    assert!(is_new);
    let mut again = input(OPERATOR_ROLE, &["operator.read"]);
    again.display_name = Some("renamed laptop".to_owned());
    again.remote_ip = Some("10.0.0.9".to_owned());
    let (second, is_new) = store.request(again, T0 + 60_000).unwrap();
    assert!(!is_new);
    assert_eq!(second.request_id, first.request_id);
    assert_eq!(second.ts, T0 + 60_000);
    assert_eq!(second.display_name.as_deref(), Some("renamed laptop"));
    assert_eq!(second.remote_ip.as_deref(), Some("10.0.0.9"));
    assert_eq!(store.list(T0 + 60_000).pending, vec![second.clone()]);
    let on_disk = read_json(&store.paths().devices_pending);
    assert_eq!(on_disk.as_object().unwrap().len(), 1);
    assert_eq!(on_disk[&first.request_id]["ts"], T0 + 60_000);
    // A narrower request is covered by the pending one too.
    let (third, is_new) = store
        .request(input(OPERATOR_ROLE, &[]), T0 + 70_000)
        .unwrap();
    assert!(!is_new);
    assert_eq!(third.request_id, first.request_id);
    assert_eq!(third.scopes, Some(s(&["operator.read"])));
}

#[test]
fn a_request_asking_for_more_supersedes_the_pending_one_with_merged_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (first, _) = store
        .request(input(OPERATOR_ROLE, &["operator.read"]), T0)
        .unwrap();
    let (second, is_new) = store
        .request(input(OPERATOR_ROLE, &["operator.pairing"]), T0 + 1)
        .unwrap();
    assert!(is_new);
    assert_ne!(second.request_id, first.request_id);
    assert_eq!(
        second.scopes,
        Some(s(&["operator.pairing", "operator.read"]))
    );
    assert_eq!(store.list(T0 + 1).pending, vec![second.clone()]);
    assert!(matches!(
        store.approve(&first.request_id, T0 + 2),
        Err(PairingStoreError::UnknownRequestId(_))
    ));
    let device = store.approve(&second.request_id, T0 + 2).unwrap();
    assert_eq!(
        device.approved_scopes,
        s(&["operator.pairing", "operator.read"])
    );
}

#[test]
fn pending_requests_expire_five_minutes_after_their_ts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (req, _) = store.request(input(OPERATOR_ROLE, &[]), T0).unwrap();
    assert_eq!(store.list(T0 + PENDING_TTL_MS).pending.len(), 1);
    assert!(store.list(T0 + PENDING_TTL_MS + 1).pending.is_empty());
    assert!(matches!(
        store.approve(&req.request_id, T0 + PENDING_TTL_MS + 1),
        Err(PairingStoreError::UnknownRequestId(_))
    ));
    // Asking again after expiry is a new request.
    let (fresh, is_new) = store
        .request(input(OPERATOR_ROLE, &[]), T0 + PENDING_TTL_MS + 1)
        .unwrap();
    assert!(is_new);
    assert_ne!(fresh.request_id, req.request_id);

    let (node_req, _) = store.node_request(node_input(&[]), T0).unwrap();
    assert!(store.node_list(T0 + PENDING_TTL_MS + 1).pending.is_empty());
    assert_eq!(store.prune_expired(T0 + 2 * PENDING_TTL_MS + 2).unwrap(), 2);
    assert!(
        read_json(&store.paths().devices_pending)
            .as_object()
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.node_approve(&node_req.request_id, T0 + 1),
        Err(PairingStoreError::UnknownRequestId(_))
    ));
}

#[test]
fn approving_an_expired_request_fails_even_if_not_yet_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
    let err = store
        .node_approve(&req.request_id, T0 + PENDING_TTL_MS + 1)
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown requestId");
    assert!(!store.node_verify("node-1", ""));
}

#[test]
fn check_detects_role_and_scope_upgrades_with_operator_implications() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.write"], T0);
    let check = |store: &PairingStore, role: &str, scopes: &[&str]| {
        store.check(DEVICE, KEY, role, &s(scopes))
    };
    assert_eq!(check(&store, OPERATOR_ROLE, &[]), PairingCheck::Paired);
    assert_eq!(
        check(&store, OPERATOR_ROLE, &["operator.read"]),
        PairingCheck::Paired,
        "write implies read"
    );
    let upgrade = check(&store, OPERATOR_ROLE, &["operator.read", "operator.admin"]);
    assert_eq!(
        upgrade,
        PairingCheck::ScopeUpgrade {
            approved_scopes: s(&["operator.write"]),
            missing_scope: "operator.admin".to_owned(),
        }
    );
    assert_eq!(upgrade.reason(), Some("scope-upgrade"));
    let role = check(&store, "node", &[]);
    assert_eq!(
        role,
        PairingCheck::RoleUpgrade {
            approved_roles: s(&[OPERATOR_ROLE])
        }
    );
    assert_eq!(role.reason(), Some("role-upgrade"));
    assert_eq!(PairingCheck::NotPaired.reason(), Some("not-paired"));
    assert_eq!(PairingCheck::Paired.reason(), None);

    // admin covers every operator scope
    let (req, _) = store
        .request(input(OPERATOR_ROLE, &["operator.admin"]), T0 + 1)
        .unwrap();
    assert_eq!(req.is_repair, Some(true));
    store.approve(&req.request_id, T0 + 1).unwrap();
    assert_eq!(
        check(
            &store,
            OPERATOR_ROLE,
            &["operator.pairing", "operator.talk.secrets"]
        ),
        PairingCheck::Paired
    );
    assert!(matches!(
        check(&store, OPERATOR_ROLE, &["node.something"]),
        PairingCheck::ScopeUpgrade { .. }
    ));
}

#[test]
fn a_different_public_key_for_a_paired_id_needs_pairing_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read"], T0);
    let check = store.check(DEVICE, "other-key", OPERATOR_ROLE, &[]);
    assert_eq!(check, PairingCheck::PublicKeyMismatch);
    assert_eq!(check.reason(), Some("not-paired"));
    assert!(!check.is_paired());

    let mut repair = input(OPERATOR_ROLE, &["operator.read"]);
    repair.public_key = "other-key".to_owned();
    let (req, is_new) = store.request(repair, T0 + 1).unwrap();
    assert!(is_new);
    assert_eq!(req.is_repair, Some(true));
    let device = store.approve(&req.request_id, T0 + 2).unwrap();
    assert_eq!(device.public_key, "other-key");
    assert_eq!(device.created_at_ms, T0);
    assert_eq!(
        store.check(DEVICE, "other-key", OPERATOR_ROLE, &s(&["operator.read"])),
        PairingCheck::Paired
    );
    assert_eq!(
        store.check(DEVICE, KEY, OPERATOR_ROLE, &[]),
        PairingCheck::PublicKeyMismatch
    );
}

#[test]
fn approval_merges_roles_and_scopes_and_keeps_other_roles_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read"], T0);
    let operator = store
        .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.read"]), T0)
        .unwrap();
    store.rename_device(DEVICE, "Owner's name").unwrap();

    let (req, _) = store.request(input("node", &[]), T0 + 1).unwrap();
    assert_eq!(req.roles, Some(s(&["node"])));
    let device = store.approve(&req.request_id, T0 + 2).unwrap();
    assert_eq!(device.roles, s(&["node", OPERATOR_ROLE]));
    assert_eq!(device.approved_scopes, s(&["operator.read"]));
    assert_eq!(device.role.as_deref(), Some("node"));
    assert_eq!(device.display_name.as_deref(), Some("Owner's name"));
    assert_eq!(
        device
            .tokens
            .iter()
            .map(|t| t.role.as_str())
            .collect::<Vec<_>>(),
        vec!["node", OPERATOR_ROLE]
    );
    assert_eq!(
        store.verify_token(
            DEVICE,
            OPERATOR_ROLE,
            operator.token.expose_secret(),
            &s(&["operator.read"])
        ),
        TokenCheck::Valid
    );
    assert_eq!(store.check(DEVICE, KEY, "node", &[]), PairingCheck::Paired);
}

#[test]
fn reject_drops_the_request_and_unknown_ids_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (req, _) = store.request(input(OPERATOR_ROLE, &[]), T0).unwrap();
    let rejected = store.reject(&req.request_id).unwrap();
    assert_eq!(rejected, req);
    assert!(store.list(T0).pending.is_empty());
    assert!(store.list(T0).paired.is_empty());
    let err = store.reject(&req.request_id).unwrap_err();
    assert!(matches!(err, PairingStoreError::UnknownRequestId(ref id) if *id == req.request_id));
    assert_eq!(err.to_string(), "unknown requestId");
    assert_eq!(
        store.check(DEVICE, KEY, OPERATOR_ROLE, &[]),
        PairingCheck::NotPaired
    );
}

#[test]
fn remove_device_unpairs_it_and_drops_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read"], T0);
    let token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
    let removed = store.remove_device(DEVICE).unwrap();
    assert_eq!(removed.device_id, DEVICE);
    assert_eq!(
        store.verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &[]),
        TokenCheck::DeviceNotPaired
    );
    assert_eq!(
        store.check(DEVICE, KEY, OPERATOR_ROLE, &[]),
        PairingCheck::NotPaired
    );
    let err = store.remove_device(DEVICE).unwrap_err();
    assert_eq!(err.to_string(), "unknown deviceId");
    assert!(store.get_device(DEVICE).is_none());
}

#[test]
fn rename_device_trims_and_refuses_empty_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &[], T0);
    let device = store.rename_device(DEVICE, "  Work laptop ").unwrap();
    assert_eq!(device.display_name.as_deref(), Some("Work laptop"));
    assert!(matches!(
        store.rename_device(DEVICE, "   "),
        Err(PairingStoreError::DisplayNameRequired)
    ));
    assert!(matches!(
        store.rename_device("nope", "x"),
        Err(PairingStoreError::UnknownDeviceId(_))
    ));
    assert_eq!(
        store.get_device(DEVICE).unwrap().display_name.as_deref(),
        Some("Work laptop")
    );
}

#[test]
fn rotating_a_token_invalidates_the_old_one_and_never_widens_approval() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read", "operator.write"], T0);
    let old = store
        .ensure_token(DEVICE, OPERATOR_ROLE, &s(&["operator.write"]), T0)
        .unwrap();
    let new = store
        .rotate_token(DEVICE, OPERATOR_ROLE, None, T0 + 5)
        .unwrap();
    assert_ne!(new.token.expose_secret(), old.token.expose_secret());
    assert_eq!(
        new.scopes, old.scopes,
        "scopes kept without an explicit list"
    );
    assert_eq!(new.issued_at_ms, T0 + 5);
    assert_eq!(
        store.verify_token(DEVICE, OPERATOR_ROLE, old.token.expose_secret(), &[]),
        TokenCheck::TokenMismatch
    );
    assert_eq!(
        store.verify_token(DEVICE, OPERATOR_ROLE, new.token.expose_secret(), &[]),
        TokenCheck::Valid
    );
    let summary = &store.get_device(DEVICE).unwrap().tokens[0];
    assert_eq!(summary.created_at_ms, T0);
    assert_eq!(summary.rotated_at_ms, Some(T0 + 5));

    assert!(matches!(
        store.rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.admin"])), T0 + 6),
        Err(PairingStoreError::ScopeNotApproved { scope }) if scope == "operator.admin"
    ));
    let narrowed = store
        .rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.read"])), T0 + 7)
        .unwrap();
    assert_eq!(narrowed.scopes, s(&["operator.read"]));
    // Narrowing the token does not narrow what the device may ask for.
    assert_eq!(
        store.check(DEVICE, KEY, OPERATOR_ROLE, &s(&["operator.write"])),
        PairingCheck::Paired
    );
    assert!(matches!(
        store.rotate_token(DEVICE, "node", None, T0),
        Err(PairingStoreError::RoleNotApproved { .. })
    ));
}

#[test]
fn revoking_a_token_makes_it_fail_until_a_new_one_is_issued() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read"], T0);
    let token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
    let summary = store.revoke_token(DEVICE, OPERATOR_ROLE, T0 + 9).unwrap();
    assert_eq!(summary.revoked_at_ms, Some(T0 + 9));
    assert_eq!(
        store.verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &[]),
        TokenCheck::TokenRevoked
    );
    assert_eq!(TokenCheck::TokenRevoked.reason(), Some("token-revoked"));
    let fresh = store
        .ensure_token(DEVICE, OPERATOR_ROLE, &[], T0 + 10)
        .unwrap();
    assert_ne!(fresh.token.expose_secret(), token.token.expose_secret());
    assert!(
        store
            .verify_token(DEVICE, OPERATOR_ROLE, fresh.token.expose_secret(), &[])
            .is_valid()
    );
    assert!(
        store.get_device(DEVICE).unwrap().tokens[0]
            .revoked_at_ms
            .is_none()
    );
    assert!(matches!(
        store.revoke_token(DEVICE, "node", T0),
        Err(PairingStoreError::UnknownToken { role }) if role == "node"
    ));
    assert!(matches!(
        store.revoke_token("nope", OPERATOR_ROLE, T0),
        Err(PairingStoreError::UnknownDeviceId(_))
    ));
}

#[test]
fn verify_token_tells_a_wrong_token_from_a_scope_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read", "operator.admin"], T0);
    let token = store
        .rotate_token(DEVICE, OPERATOR_ROLE, Some(&s(&["operator.read"])), T0)
        .unwrap();
    let secret = token.token.expose_secret();
    let mut wrong = secret.to_owned();
    wrong.replace_range(0..1, if secret.starts_with('A') { "B" } else { "A" });
    assert_eq!(
        store.verify_token(DEVICE, OPERATOR_ROLE, &wrong, &[]),
        TokenCheck::TokenMismatch
    );
    assert_eq!(
        store.verify_token(DEVICE, OPERATOR_ROLE, "", &[]),
        TokenCheck::TokenMismatch
    );
    let scope = store.verify_token(DEVICE, OPERATOR_ROLE, secret, &s(&["operator.admin"]));
    assert_eq!(
        scope,
        TokenCheck::ScopeMismatch {
            missing_scope: "operator.admin".to_owned()
        }
    );
    assert_eq!(scope.reason(), Some("scope-mismatch"));
    assert_eq!(
        store.verify_token(DEVICE, "node", secret, &[]),
        TokenCheck::TokenMissing
    );
    assert_eq!(
        store.verify_token("nope", OPERATOR_ROLE, secret, &[]),
        TokenCheck::DeviceNotPaired
    );
}

#[test]
fn lists_views_and_debug_output_never_contain_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let approved = pair(&mut store, &["operator.read"], T0);
    let device_token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
    let (node_req, _) = store
        .node_request(node_input(&["camera.snap"]), T0)
        .unwrap();
    let node = store.node_approve(&node_req.request_id, T0).unwrap();
    store.request(input("node", &[]), T0 + 1).unwrap();

    let secrets = [
        device_token.token.expose_secret().to_owned(),
        node.token.expose_secret().to_owned(),
    ];
    let outputs = [
        serde_json::to_string(&store.list(T0 + 1)).unwrap(),
        serde_json::to_string(&store.node_list(T0 + 1)).unwrap(),
        serde_json::to_string(&approved).unwrap(),
        serde_json::to_string(&node.node).unwrap(),
        format!("{store:?}"),
        format!("{device_token:?}"),
        format!("{node:?}"),
    ];
    for output in &outputs {
        for secret in &secrets {
            assert!(
                !output.contains(secret.as_str()),
                "token leaked in {output}"
            );
        }
        assert!(!output.contains("\"token\""), "token field in {output}");
    }
    // The files do hold them.
    let paired = fs::read_to_string(&store.paths().devices_paired).unwrap();
    assert!(paired.contains(secrets[0].as_str()));
    let nodes = fs::read_to_string(&store.paths().nodes_paired).unwrap();
    assert!(nodes.contains(secrets[1].as_str()));
}

#[cfg(unix)]
#[test]
fn files_are_0600_and_directories_0700() {
    use crate::atomic_write::file_mode;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut store = PairingStore::open(&state).unwrap();
    assert!(!state.exists(), "opening creates nothing");
    pair(&mut store, &[], T0);
    let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
    store.node_approve(&req.request_id, T0).unwrap();
    let paths = store.paths().clone();
    for d in [&state, &paths.devices_dir, &paths.nodes_dir] {
        assert_eq!(file_mode(d), Some(0o700), "{}", d.display());
    }
    for f in [
        &paths.devices_pending,
        &paths.devices_paired,
        &paths.nodes_pending,
        &paths.nodes_paired,
    ] {
        assert_eq!(file_mode(f), Some(0o600), "{}", f.display());
    }
    // No temp files left behind.
    assert_eq!(fs::read_dir(&paths.devices_dir).unwrap().count(), 2);
}

#[test]
fn everything_survives_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &["operator.read"], T0);
    let token = store.ensure_token(DEVICE, OPERATOR_ROLE, &[], T0).unwrap();
    store.request(input("node", &[]), T0 + 1).unwrap();
    let (node_req, _) = store.node_request(node_input(&["x"]), T0).unwrap();
    let node = store.node_approve(&node_req.request_id, T0).unwrap();
    let mut other = node_input(&[]);
    other.node_id = "node-2".to_owned();
    store.node_request(other, T0 + 2).unwrap();

    let reloaded = open(&dir);
    assert_eq!(reloaded.list(T0 + 3), store.list(T0 + 3));
    assert_eq!(reloaded.node_list(T0 + 3), store.node_list(T0 + 3));
    assert_eq!(reloaded.list(T0 + 3).pending.len(), 1);
    assert_eq!(reloaded.node_list(T0 + 3).pending.len(), 1);
    assert!(
        reloaded
            .verify_token(DEVICE, OPERATOR_ROLE, token.token.expose_secret(), &[])
            .is_valid()
    );
    assert!(reloaded.node_verify("node-1", node.token.expose_secret()));
}

#[test]
fn a_corrupt_file_is_an_error_naming_it_and_is_left_untouched() {
    for (name, content) in [
        ("devices/paired.json", "{ not json"),
        ("devices/pending.json", "[]"),
        ("nodes/paired.json", "{\"n\": {\"nodeId\": \"n\"}}"),
        ("nodes/pending.json", ""),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        let err = PairingStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, PairingStoreError::Corrupt { .. }),
            "{name}: {err}"
        );
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("Move it aside"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), content);
    }
}

#[test]
fn a_failed_write_changes_nothing_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    pair(&mut store, &[], T0);
    // A non-empty directory where pending.json goes makes the rename fail.
    let blocker = store.paths().devices_pending.clone();
    fs::remove_file(&blocker).unwrap();
    fs::create_dir(&blocker).unwrap();
    fs::write(blocker.join("keep"), "x").unwrap();
    let err = store.request(input("node", &[]), T0).unwrap_err();
    assert!(matches!(err, PairingStoreError::Write { .. }), "{err}");
    assert!(err.to_string().contains("pending.json"));
    assert!(store.list(T0).pending.is_empty());
}

#[test]
fn upstream_files_load_and_unknown_fields_survive_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let devices = dir.path().join("devices");
    fs::create_dir_all(&devices).unwrap();
    let upstream = serde_json::json!({
        "d9": {
            "deviceId": "d9", "publicKey": "k9", "displayName": "mac",
            "platform": "darwin", "clientId": "openclaw-macos", "clientMode": "ui",
            "role": "operator", "roles": ["operator"],
            "scopes": ["operator.admin"], "approvedScopes": ["operator.admin"],
            "tokens": { "operator": {
                "token": "tok-9", "role": "operator", "scopes": ["operator.admin"],
                "createdAtMs": 5, "lastUsedAtMs": 7, "futureTokenField": 1 } },
            "createdAtMs": 5, "approvedAtMs": 6,
            "futureField": { "nested": true }
        }
    });
    fs::write(devices.join("paired.json"), upstream.to_string()).unwrap();
    let mut store = open(&dir);
    assert_eq!(
        store.check("d9", "k9", OPERATOR_ROLE, &s(&["operator.pairing"])),
        PairingCheck::Paired
    );
    assert!(
        store
            .verify_token("d9", OPERATOR_ROLE, "tok-9", &s(&["operator.read"]))
            .is_valid()
    );
    let token = store.ensure_token("d9", OPERATOR_ROLE, &[], 10).unwrap();
    assert_eq!(token.issued_at_ms, 5);

    store.rename_device("d9", "Mac mini").unwrap();
    let written = read_json(&store.paths().devices_paired);
    assert_eq!(written["d9"]["futureField"]["nested"], true);
    assert_eq!(written["d9"]["displayName"], "Mac mini");
    assert_eq!(written["d9"]["tokens"]["operator"]["futureTokenField"], 1);
    assert_eq!(written["d9"]["tokens"]["operator"]["lastUsedAtMs"], 7);
    assert_eq!(written["d9"]["tokens"]["operator"]["token"], "tok-9");
    assert_eq!(written["d9"]["approvedAtMs"], 6);
}

#[test]
fn request_inputs_need_ids_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut no_id = input(OPERATOR_ROLE, &[]);
    no_id.device_id = "  ".to_owned();
    assert!(matches!(
        store.request(no_id, T0),
        Err(PairingStoreError::DeviceIdRequired)
    ));
    let mut no_key = input(OPERATOR_ROLE, &[]);
    no_key.public_key = String::new();
    assert!(matches!(
        store.request(no_key, T0),
        Err(PairingStoreError::PublicKeyRequired)
    ));
    let mut no_node = node_input(&[]);
    no_node.node_id = String::new();
    assert!(matches!(
        store.node_request(no_node, T0),
        Err(PairingStoreError::NodeIdRequired)
    ));
    assert!(!dir.path().join("devices").exists());
}

#[test]
fn silent_requests_stay_interactive_once_an_owner_was_prompted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (first, _) = store.request(input(OPERATOR_ROLE, &[]), T0).unwrap();
    assert_eq!(first.silent, None);
    let mut silent = input(OPERATOR_ROLE, &[]);
    silent.silent = true;
    let (again, _) = store.request(silent, T0 + 1).unwrap();
    assert_eq!(again.request_id, first.request_id);
    assert_eq!(again.silent, None);
}

#[test]
fn node_pairing_flow_issues_a_token_that_only_it_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (req, is_new) = store
        .node_request(node_input(&["camera.snap", "canvas.present"]), T0)
        .unwrap();
    assert!(is_new);
    assert_eq!(req.is_repair, Some(false));
    let mut refresh = node_input(&["canvas.present", "camera.snap"]);
    refresh.version = Some("1.2.3".to_owned());
    let (same, is_new) = store.node_request(refresh, T0 + 1).unwrap();
    assert!(!is_new);
    assert_eq!(same.request_id, req.request_id);
    assert_eq!(same.version.as_deref(), Some("1.2.3"));
    assert_eq!(same.ts, T0 + 1);
    let listed = store.node_list(T0 + 1);
    assert_eq!(listed.pending, vec![same.clone()]);
    assert!(listed.paired.is_empty());

    let approval = store.node_approve(&req.request_id, T0 + 2).unwrap();
    assert_eq!(approval.node.node_id, "node-1");
    assert_eq!(approval.node.version.as_deref(), Some("1.2.3"));
    assert_eq!(approval.node.approved_at_ms, T0 + 2);
    let token = approval.token.expose_secret().to_owned();
    assert_eq!(token.len(), 43);
    assert!(store.node_verify("node-1", &token));
    assert!(!store.node_verify("node-1", "wrong"));
    assert!(!store.node_verify("node-1", ""));
    assert!(!store.node_verify("node-2", &token));
    assert!(store.node_list(T0 + 2).pending.is_empty());
    assert_eq!(store.node_list(T0 + 2).paired, vec![approval.node.clone()]);
    assert_eq!(store.get_node("node-1"), Some(approval.node.clone()));

    // Pairing again (repair) issues a new token; the old one stops working.
    let (repair, is_new) = store
        .node_request(node_input(&["camera.snap"]), T0 + 3)
        .unwrap();
    assert!(is_new);
    assert_eq!(repair.is_repair, Some(true));
    let second = store.node_approve(&repair.request_id, T0 + 4).unwrap();
    assert_eq!(second.node.created_at_ms, T0 + 2);
    assert!(!store.node_verify("node-1", &token));
    assert!(store.node_verify("node-1", second.token.expose_secret()));
}

#[test]
fn a_node_declaring_other_commands_supersedes_its_pending_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (first, _) = store
        .node_request(node_input(&["camera.snap"]), T0)
        .unwrap();
    let (second, is_new) = store
        .node_request(node_input(&["system.run"]), T0 + 1)
        .unwrap();
    assert!(is_new);
    assert_ne!(second.request_id, first.request_id);
    assert_eq!(store.node_list(T0 + 1).pending, vec![second]);
    assert!(matches!(
        store.node_reject(&first.request_id),
        Err(PairingStoreError::UnknownRequestId(_))
    ));
}

#[test]
fn node_reject_rename_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
    assert_eq!(store.node_reject(&req.request_id).unwrap(), req);
    assert!(store.node_list(T0).pending.is_empty());
    assert!(store.node_list(T0).paired.is_empty());

    let (req, _) = store.node_request(node_input(&[]), T0).unwrap();
    let approval = store.node_approve(&req.request_id, T0).unwrap();
    let renamed = store.node_rename("node-1", " Kitchen iPad ").unwrap();
    assert_eq!(renamed.display_name.as_deref(), Some("Kitchen iPad"));
    assert!(matches!(
        store.node_rename("node-1", ""),
        Err(PairingStoreError::DisplayNameRequired)
    ));
    let err = store.node_rename("nope", "x").unwrap_err();
    assert_eq!(err.to_string(), "unknown nodeId");
    // An owner's name survives a re-approval.
    let (again, _) = store.node_request(node_input(&["x"]), T0 + 1).unwrap();
    let reapproved = store.node_approve(&again.request_id, T0 + 1).unwrap();
    assert_eq!(
        reapproved.node.display_name.as_deref(),
        Some("Kitchen iPad")
    );

    let removed = store.node_remove("node-1").unwrap();
    assert_eq!(removed.node_id, "node-1");
    assert!(!store.node_verify("node-1", approval.token.expose_secret()));
    assert!(!store.node_verify("node-1", reapproved.token.expose_secret()));
    assert!(matches!(
        store.node_remove("node-1"),
        Err(PairingStoreError::UnknownNodeId(_))
    ));
    assert!(open(&dir).node_list(T0).paired.is_empty());
}
