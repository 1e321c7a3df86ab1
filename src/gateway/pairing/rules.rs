//! The ledger's rules: expiry, scope normalisation and coverage, when a request only refreshes.

use crate::protocol::constants::scope;
use std::collections::{BTreeMap, BTreeSet};

use super::*;

pub(super) fn is_expired(ts: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(ts) > PENDING_TTL_MS
}

pub(super) fn prune<T>(
    pending: &mut BTreeMap<String, T>,
    now_ms: u64,
    ts: impl Fn(&T) -> u64,
) -> usize {
    let before = pending.len();
    pending.retain(|_, r| !is_expired(ts(r), now_ms));
    before - pending.len()
}

pub(super) fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub(super) fn non_empty_vec(values: Vec<String>) -> Option<Vec<String>> {
    (!values.is_empty()).then_some(values)
}

pub(super) fn silent_flag(silent: bool) -> Option<bool> {
    silent.then_some(true)
}

/// Trimmed, non-empty, deduplicated, sorted.
pub(super) fn normalize_scopes(scopes: &[String]) -> Vec<String> {
    union([Some(scopes)])
}

/// The sorted union of string lists (trimmed, empty strings dropped).
pub(super) fn union<'a>(lists: impl IntoIterator<Item = Option<&'a [String]>>) -> Vec<String> {
    let set: BTreeSet<String> = lists
        .into_iter()
        .flatten()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    set.into_iter().collect()
}

/// Whether `granted` covers `requested` for `role`: exact grants, plus, for operators, the one
/// scope rule ([`scope::covers`]).
pub(super) fn scope_satisfied(role: &str, requested: &str, granted: &[String]) -> bool {
    let exact = granted.iter().any(|g| g.trim() == requested);
    exact || (role == OPERATOR_ROLE && scope::covers(granted, requested))
}

/// The first requested scope (trimmed, non-empty) that `granted` does not cover.
pub(super) fn first_missing_scope(
    role: &str,
    requested: &[String],
    granted: &[String],
) -> Option<String> {
    requested
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .find(|s| !scope_satisfied(role, s, granted))
        .map(str::to_owned)
}

/// Whether approving `pending` would grant everything the new request asks for.
pub(super) fn device_request_covers(
    pending: &DevicePendingRequest,
    public_key: &str,
    role: Option<&str>,
    scopes: &[String],
) -> bool {
    if pending.public_key != public_key {
        return false;
    }
    let roles = union([pending.roles.as_deref(), pending.role.as_slice().into()]);
    if let Some(role) = role {
        if !roles.iter().any(|r| r == role) {
            return false;
        }
    }
    let granted = pending.scopes.as_deref().unwrap_or_default();
    first_missing_scope(role.unwrap_or_default(), scopes, granted).is_none()
}

/// Whether a node declares the same commands, caps and permissions as its pending request.
pub(super) fn same_node_surface(pending: &NodePendingRequest, input: &NodePairingInput) -> bool {
    let set = |v: Option<&Vec<String>>| union([v.map(Vec::as_slice)]);
    let perms = |p: Option<&BTreeMap<String, bool>>| p.cloned().unwrap_or_default();
    set(pending.commands.as_ref()) == set(input.commands.as_ref())
        && set(pending.caps.as_ref()) == set(input.caps.as_ref())
        && perms(pending.permissions.as_ref()) == perms(input.permissions.as_ref())
}
