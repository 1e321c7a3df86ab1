//! What a config change means: which dotted keys changed, and whether each can be applied hot,
//! needs nothing, or needs an in-process restart (longest matching prefix wins; an unknown key
//! needs a restart). The reload mode then decides: `off` logs only, `hot` applies hot changes and
//! ignores restart-required ones with a warning, `restart` restarts on any change, `hybrid`
//! applies hot changes and restarts when required.

use serde_json::Value;

use crate::config::ReloadMode;

/// How one key's change can be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadKind {
    /// Nothing in the running gateway depends on it.
    None,
    /// Applied without a restart.
    Hot,
    /// Needs an in-process restart.
    Restart,
}

/// Prefix rules (v3-era upstream rules, plus the newer hot auth rate limit).
const RULES: &[(&str, ReloadKind)] = &[
    ("gateway.remote", ReloadKind::None),
    ("gateway.reload", ReloadKind::None),
    ("gateway.auth.rateLimit", ReloadKind::Hot),
    ("gateway.http.endpoints", ReloadKind::Hot),
    ("hooks.gmail", ReloadKind::Hot),
    ("hooks", ReloadKind::Hot),
    ("agents.defaults.heartbeat", ReloadKind::Hot),
    ("agent.heartbeat", ReloadKind::Hot),
    ("cron", ReloadKind::Hot),
    ("browser", ReloadKind::Hot),
    ("identity", ReloadKind::None),
    ("wizard", ReloadKind::None),
    ("logging", ReloadKind::None),
    ("models", ReloadKind::None),
    ("agents", ReloadKind::None),
    ("tools", ReloadKind::None),
    ("bindings", ReloadKind::None),
    ("audio", ReloadKind::None),
    ("agent", ReloadKind::None),
    ("routing", ReloadKind::None),
    ("messages", ReloadKind::None),
    ("session", ReloadKind::None),
    ("talk", ReloadKind::None),
    ("skills", ReloadKind::None),
    ("ui", ReloadKind::None),
    ("meta", ReloadKind::None),
    ("plugins", ReloadKind::Restart),
    ("gateway", ReloadKind::Restart),
    ("discovery", ReloadKind::Restart),
    ("canvasHost", ReloadKind::Restart),
];

fn matches_prefix(path: &str, prefix: &str) -> bool {
    path == prefix || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// The kind of change of one dotted key.
pub fn classify(path: &str) -> ReloadKind {
    RULES
        .iter()
        .filter(|(prefix, _)| matches_prefix(path, prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or(ReloadKind::Restart, |(_, kind)| *kind)
}

/// Dotted keys whose values differ between `old` and `new` (objects recurse; other values,
/// arrays included, compare whole).
pub fn changed_paths(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff(old, new, &mut String::new(), &mut out);
    out
}

fn diff(old: &Value, new: &Value, path: &mut String, out: &mut Vec<String>) {
    // An object added or removed as a whole is reported by its leaf keys.
    let empty = Value::Object(serde_json::Map::new());
    let (old, new) = match (old, new) {
        (Value::Null, Value::Object(_)) => (&empty, new),
        (Value::Object(_), Value::Null) => (old, &empty),
        pair => pair,
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a
                .keys()
                .chain(b.keys().filter(|k| !a.contains_key(*k)))
                .collect();
            keys.sort();
            for key in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                diff(
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    path,
                    out,
                );
                path.truncate(len);
            }
        }
        (a, b) if a == b => {}
        _ => out.push(if path.is_empty() {
            "<root>".to_owned()
        } else {
            path.clone()
        }),
    }
}

/// What to do about a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadPlan {
    /// Keys applied without a restart.
    pub hot: Vec<String>,
    /// Keys that need a restart.
    pub restart_required: Vec<String>,
    /// Keys nothing depends on.
    pub ignored: Vec<String>,
    /// Whether to apply the hot keys now.
    pub apply_hot: bool,
    /// Whether to restart in-process.
    pub restart: bool,
}

/// Plans a reload of `paths` under `mode`.
pub fn plan(paths: &[String], mode: ReloadMode) -> ReloadPlan {
    let mut plan = ReloadPlan {
        hot: vec![],
        restart_required: vec![],
        ignored: vec![],
        apply_hot: false,
        restart: false,
    };
    for path in paths {
        match classify(path) {
            ReloadKind::Hot => plan.hot.push(path.clone()),
            ReloadKind::Restart => plan.restart_required.push(path.clone()),
            ReloadKind::None => plan.ignored.push(path.clone()),
        }
    }
    match mode {
        ReloadMode::Off => {}
        ReloadMode::Hot => plan.apply_hot = true,
        ReloadMode::Restart => plan.restart = !paths.is_empty(),
        ReloadMode::Hybrid => {
            plan.apply_hot = true;
            plan.restart = !plan.restart_required.is_empty();
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_longest_matching_prefix_wins_and_unknown_keys_restart() {
        assert_eq!(classify("gateway.port"), ReloadKind::Restart);
        assert_eq!(classify("gateway.reload.mode"), ReloadKind::None);
        assert_eq!(
            classify("gateway.auth.rateLimit.maxAttempts"),
            ReloadKind::Hot
        );
        assert_eq!(classify("gateway.auth.token"), ReloadKind::Restart);
        assert_eq!(classify("hooks.gmail.x"), ReloadKind::Hot);
        assert_eq!(classify("agents.defaults.heartbeat.every"), ReloadKind::Hot);
        assert_eq!(classify("agents.defaults.workspace"), ReloadKind::None);
        assert_eq!(classify("logging.level"), ReloadKind::None);
        assert_eq!(classify("canvasHost.port"), ReloadKind::Restart);
        assert_eq!(classify("somethingNew"), ReloadKind::Restart);
        assert_eq!(
            classify("gatewayish"),
            ReloadKind::Restart,
            "prefixes match whole segments"
        );
        assert_eq!(classify("agentsX"), ReloadKind::Restart);
    }

    #[test]
    fn changed_paths_descend_objects_and_compare_arrays_whole() {
        let old = json!({"gateway": {"port": 1, "auth": {"token": "a"}}, "list": [1, 2], "same": {"x": 1}});
        let new = json!({"gateway": {"port": 2, "auth": {"token": "a"}, "bind": "lan"}, "list": [1, 3], "same": {"x": 1}});
        assert_eq!(
            changed_paths(&old, &new),
            ["gateway.bind", "gateway.port", "list"]
        );
        assert!(changed_paths(&old, &old).is_empty());
        assert_eq!(changed_paths(&json!({"a": 1}), &json!({})), ["a"]);
        let added = json!({"gateway": {"auth": {"rateLimit": {"maxAttempts": 2}}}});
        assert_eq!(
            changed_paths(&json!({"gateway": {}}), &added),
            ["gateway.auth.rateLimit.maxAttempts"]
        );
        assert_eq!(
            changed_paths(&added, &json!({})),
            ["gateway.auth.rateLimit.maxAttempts"]
        );
        assert_eq!(
            changed_paths(&json!({"a": {}}), &json!({"a": 5})),
            ["a"],
            "a type change is the key itself"
        );
    }

    #[test]
    fn modes_decide_between_hot_apply_restart_and_nothing() {
        let hot = vec!["gateway.auth.rateLimit.maxAttempts".to_owned()];
        let restart = vec![
            "gateway.port".to_owned(),
            "gateway.auth.rateLimit.windowMs".to_owned(),
        ];
        let p = plan(&hot, ReloadMode::Hybrid);
        assert!(p.apply_hot && !p.restart);
        let p = plan(&restart, ReloadMode::Hybrid);
        assert!(p.apply_hot && p.restart);
        assert_eq!(p.restart_required, ["gateway.port"]);
        let p = plan(&restart, ReloadMode::Hot);
        assert!(
            p.apply_hot && !p.restart,
            "hot mode ignores restart-required keys"
        );
        let p = plan(&hot, ReloadMode::Restart);
        assert!(p.restart);
        let p = plan(&restart, ReloadMode::Off);
        assert!(!p.apply_hot && !p.restart);
        let p = plan(&["logging.level".to_owned()], ReloadMode::Hybrid);
        assert!(!p.restart && p.ignored == ["logging.level"]);
    }
}
