//! Presence: who is connected to this gateway, as clients see in `presence` events.
//!
//! One map keyed by a lower-cased, trimmed key: the gateway's own entry (key = hostname, seeded at
//! start, `ts` refreshed on every list), one entry per connected client (key = device id, else
//! instance id, else connection id; CLI-mode and probe connections are not tracked), and
//! `system-event` beacons. Disconnected entries stay (reason `disconnect`) until they expire.
//! Every list prunes entries older than 5 minutes, keeps at most 200 (oldest dropped) and sorts
//! newest first.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::protocol::constants::{PRESENCE_MAX_ENTRIES, PRESENCE_TTL_MS};

/// One presence entry (all fields but `ts` optional, as on the wire).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEntry {
    /// Host or display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Remote IP (never loopback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Client version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Device family.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// Hardware model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_identifier: Option<String>,
    /// Client mode (`gateway` for the self entry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Seconds since the user's last input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_input_seconds: Option<f64>,
    /// Why the entry was last updated (`self`, `connect`, `disconnect`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Human summary line (always set on stored entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Last update, ms since epoch.
    pub ts: u64,
    /// Device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Client instance id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

impl PresenceEntry {
    fn summary_text(&self) -> String {
        let mut parts = vec![match (&self.host, &self.ip) {
            (Some(h), Some(ip)) => format!("{h} ({ip})"),
            (Some(h), None) => h.clone(),
            (None, Some(ip)) => ip.clone(),
            (None, None) => "unknown".to_owned(),
        }];
        if let Some(v) = &self.version {
            parts.push(format!("app {v}"));
        }
        if let Some(s) = self.last_input_seconds {
            parts.push(format!("last input {}s ago", s.round()));
        }
        if let Some(m) = &self.mode {
            parts.push(format!("mode {m}"));
        }
        if let Some(r) = &self.reason {
            parts.push(format!("reason {r}"));
        }
        let label = if self.mode.as_deref() == Some("gateway") {
            "Gateway"
        } else {
            "Node"
        };
        format!("{label}: {}", parts.join(" · "))
    }
}

/// The presence map.
#[derive(Debug)]
pub struct PresenceStore {
    entries: HashMap<String, PresenceEntry>,
    self_key: String,
}

fn normalise_key(key: &str) -> String {
    key.trim().to_lowercase()
}

impl PresenceStore {
    /// A store seeded with the gateway's own entry.
    pub fn new(mut self_entry: PresenceEntry) -> Self {
        let self_key = normalise_key(self_entry.host.as_deref().unwrap_or("gateway"));
        self_entry.text = Some(self_entry.summary_text());
        let mut entries = HashMap::new();
        entries.insert(self_key.clone(), self_entry);
        Self { entries, self_key }
    }

    /// Inserts or replaces the entry under `key` (its text is recomputed when absent).
    pub fn upsert(&mut self, key: &str, mut entry: PresenceEntry) {
        if entry.text.is_none() {
            entry.text = Some(entry.summary_text());
        }
        self.entries.insert(normalise_key(key), entry);
    }

    /// Marks the entry under `key` as disconnected at `now_ms` (kept until it expires).
    pub fn mark_disconnected(&mut self, key: &str, now_ms: u64) -> bool {
        match self.entries.get_mut(&normalise_key(key)) {
            Some(entry) => {
                entry.reason = Some("disconnect".to_owned());
                entry.ts = now_ms;
                entry.text = Some(entry.summary_text());
                true
            }
            None => false,
        }
    }

    /// Refreshes the entry under `key` (`ts` = `now_ms`, `reason`); false when there is none.
    pub fn touch(&mut self, key: &str, now_ms: u64, reason: &str) -> bool {
        match self.entries.get_mut(&normalise_key(key)) {
            Some(entry) => {
                entry.reason = Some(reason.to_owned());
                entry.ts = now_ms;
                entry.text = Some(entry.summary_text());
                true
            }
            None => false,
        }
    }

    /// The unexpired entry under `key`.
    pub fn get(&self, key: &str, now_ms: u64) -> Option<PresenceEntry> {
        self.entries
            .get(&normalise_key(key))
            .filter(|e| now_ms.saturating_sub(e.ts) <= PRESENCE_TTL_MS)
            .cloned()
    }

    /// Merges a `system-event` beacon: the key is deviceId, instanceId, host, ip or the first 64
    /// characters of the text; roles and scopes are merged as unions.
    pub fn merge_beacon(&mut self, params: &Map<String, Value>, now_ms: u64) {
        let s = |k: &str| {
            params
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let list = |k: &str| {
            params.get(k).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
        };
        let text = s("text").unwrap_or_default();
        let key = s("deviceId")
            .or_else(|| s("instanceId"))
            .or_else(|| s("host"))
            .or_else(|| s("ip"))
            .unwrap_or_else(|| text.chars().take(64).collect());
        let previous = self
            .entries
            .get(&normalise_key(&key))
            .cloned()
            .unwrap_or_default();
        let union = |a: Option<Vec<String>>, b: Option<Vec<String>>| match (a, b) {
            (None, None) => None,
            (a, b) => {
                let mut all = a.unwrap_or_default();
                for item in b.unwrap_or_default() {
                    if !all.contains(&item) {
                        all.push(item);
                    }
                }
                Some(all)
            }
        };
        let entry = PresenceEntry {
            host: s("host").or(previous.host),
            ip: s("ip").or(previous.ip),
            version: s("version").or(previous.version),
            platform: s("platform").or(previous.platform),
            device_family: s("deviceFamily").or(previous.device_family),
            model_identifier: s("modelIdentifier").or(previous.model_identifier),
            mode: s("mode").or(previous.mode),
            last_input_seconds: params
                .get("lastInputSeconds")
                .and_then(Value::as_f64)
                .or(previous.last_input_seconds),
            reason: s("reason").or(previous.reason),
            tags: list("tags").or(previous.tags),
            text: Some(text),
            ts: now_ms,
            device_id: s("deviceId").or(previous.device_id),
            roles: union(previous.roles, list("roles")),
            scopes: union(previous.scopes, list("scopes")),
            instance_id: s("instanceId").or(previous.instance_id),
        };
        self.entries.insert(normalise_key(&key), entry);
    }

    /// Prunes and returns the entries, newest first (the self entry's `ts` is refreshed).
    pub fn list(&mut self, now_ms: u64) -> Vec<PresenceEntry> {
        if let Some(me) = self.entries.get_mut(&self.self_key) {
            me.ts = now_ms;
        }
        let self_key = self.self_key.clone();
        self.entries
            .retain(|key, e| *key == self_key || now_ms.saturating_sub(e.ts) <= PRESENCE_TTL_MS);
        if self.entries.len() > PRESENCE_MAX_ENTRIES {
            let mut by_age: Vec<(String, u64)> = self
                .entries
                .iter()
                .filter(|(k, _)| **k != self_key)
                .map(|(k, e)| (k.clone(), e.ts))
                .collect();
            by_age.sort_by_key(|(_, ts)| *ts);
            let excess = self.entries.len() - PRESENCE_MAX_ENTRIES;
            for (key, _) in by_age.into_iter().take(excess) {
                self.entries.remove(&key);
            }
        }
        let mut list: Vec<PresenceEntry> = self.entries.values().cloned().collect();
        list.sort_by_key(|e| std::cmp::Reverse(e.ts));
        list
    }

    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the store holds no entry (never after construction: the self entry stays).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> PresenceStore {
        PresenceStore::new(PresenceEntry {
            host: Some("Box".into()),
            ip: Some("192.0.2.1".into()),
            version: Some("1.0".into()),
            mode: Some("gateway".into()),
            reason: Some("self".into()),
            ts: 0,
            ..Default::default()
        })
    }

    #[test]
    fn the_self_entry_is_seeded_with_its_text_and_never_expires() {
        let mut s = store();
        let list = s.list(10 * PRESENCE_TTL_MS);
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0].text.as_deref(),
            Some("Gateway: Box (192.0.2.1) · app 1.0 · mode gateway · reason self")
        );
        assert_eq!(list[0].ts, 10 * PRESENCE_TTL_MS, "ts refreshed on list");
    }

    #[test]
    fn entries_expire_after_five_minutes_and_list_newest_first() {
        let mut s = store();
        s.upsert(
            "A",
            PresenceEntry {
                host: Some("a".into()),
                ts: 1_000,
                ..Default::default()
            },
        );
        s.upsert(
            "b",
            PresenceEntry {
                host: Some("b".into()),
                ts: 2_000,
                ..Default::default()
            },
        );
        let list = s.list(3_000);
        assert_eq!(
            list.iter()
                .map(|e| e.host.clone().unwrap())
                .collect::<Vec<_>>(),
            ["Box", "b", "a"]
        );
        let list = s.list(1_000 + PRESENCE_TTL_MS + 1);
        assert_eq!(
            list.iter()
                .map(|e| e.host.clone().unwrap())
                .collect::<Vec<_>>(),
            ["Box", "b"]
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_disconnect_keeps_the_entry() {
        let mut s = store();
        s.upsert(
            "Dev1",
            PresenceEntry {
                host: Some("a".into()),
                ts: 5,
                reason: Some("connect".into()),
                ..Default::default()
            },
        );
        assert!(s.mark_disconnected(" dev1 ", 6));
        let list = s.list(7);
        let e = list
            .iter()
            .find(|e| e.host.as_deref() == Some("a"))
            .unwrap();
        assert_eq!(e.reason.as_deref(), Some("disconnect"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn at_most_200_entries_are_kept_dropping_the_oldest() {
        let mut s = store();
        for i in 0..250u64 {
            s.upsert(
                &format!("k{i}"),
                PresenceEntry {
                    ts: 1_000 + i,
                    ..Default::default()
                },
            );
        }
        let list = s.list(2_000);
        assert_eq!(list.len(), PRESENCE_MAX_ENTRIES);
        assert!(list.iter().all(|e| e.ts == 2_000 || e.ts >= 1_051));
    }

    #[test]
    fn beacons_merge_by_device_id_with_role_and_scope_unions() {
        let mut s = store();
        let p1 = json!({"text": "hello", "deviceId": "D", "roles": ["operator"], "scopes": ["a"]});
        let p2 = json!({"text": "again", "deviceId": "d", "roles": ["node"], "scopes": ["a", "b"], "host": "mac"});
        s.merge_beacon(p1.as_object().unwrap(), 10);
        s.merge_beacon(p2.as_object().unwrap(), 20);
        let list = s.list(30);
        let e = list
            .iter()
            .find(|e| e.device_id.as_deref() == Some("d"))
            .unwrap();
        assert_eq!(
            e.roles.as_deref(),
            Some(&["operator".to_owned(), "node".to_owned()][..])
        );
        assert_eq!(
            e.scopes.as_deref(),
            Some(&["a".to_owned(), "b".to_owned()][..])
        );
        assert_eq!(e.host.as_deref(), Some("mac"));
        assert_eq!(e.ts, 20);
    }
}
