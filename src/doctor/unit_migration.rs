//! Taking an installed systemd unit apart before it is replaced: which `Environment=` entries are
//! ours (managed keys the new unit writes again), which are the gateway token or password (moved
//! into the config), which are operator settings (kept in a drop-in) and which are operator
//! secrets (kept in the 0600 env file); which `EnvironmentFile=` lines the operator added; and the
//! backup of the old unit with every secret stripped.

use std::path::{Path, PathBuf};

use crate::service::ServiceError;
use crate::service::systemd::drift::{UnitFile, split_words};
use crate::service::systemd::units::escape;

/// The drop-in file doctor writes for operator settings carried over from a replaced unit.
pub const PRESERVED_DROPIN: &str = "openclaw-preserved.conf";

/// What an `Environment=` key is, for a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvClass {
    /// Written by the installer (HOME, PATH, `OPENCLAW_*`, legacy `CLAWDBOT_*`, …).
    Managed,
    /// `OPENCLAW_GATEWAY_TOKEN` (or the legacy `CLAWDBOT_GATEWAY_TOKEN`).
    Token,
    /// `OPENCLAW_GATEWAY_PASSWORD` (or the legacy `CLAWDBOT_GATEWAY_PASSWORD`).
    Password,
    /// An operator setting whose name says it is secret (token, password, key, …) or a proxy
    /// URL (which may carry credentials).
    OperatorSecret,
    /// Any other operator setting.
    Operator,
}

/// Classifies an environment variable name.
pub fn classify_env_key(key: &str) -> EnvClass {
    let upper = key.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "OPENCLAW_GATEWAY_TOKEN" | "CLAWDBOT_GATEWAY_TOKEN"
    ) {
        return EnvClass::Token;
    }
    if matches!(
        upper.as_str(),
        "OPENCLAW_GATEWAY_PASSWORD" | "CLAWDBOT_GATEWAY_PASSWORD"
    ) {
        return EnvClass::Password;
    }
    if upper.starts_with("OPENCLAW_")
        || upper.starts_with("CLAWDBOT_")
        || matches!(
            upper.as_str(),
            "HOME"
                | "TMPDIR"
                | "PATH"
                | "NODE_OPTIONS"
                | "NODE_EXTRA_CA_CERTS"
                | "NODE_USE_SYSTEM_CA"
                | "HOMEBREW_PREFIX"
        )
    {
        return EnvClass::Managed;
    }
    if is_secret_name(&upper)
        || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY")
    {
        return EnvClass::OperatorSecret;
    }
    EnvClass::Operator
}

/// True when an upper-case variable name says it holds a secret.
pub fn is_secret_name(upper: &str) -> bool {
    [
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "API_KEY",
        "APIKEY",
        "CREDENTIAL",
        "PRIVATE_KEY",
        "ACCESS_KEY",
    ]
    .iter()
    .any(|w| upper.contains(w))
        || upper.ends_with("_KEY")
}

/// True for keys whose values must never sit in a file others can read.
pub fn is_secret_class(class: EnvClass) -> bool {
    matches!(
        class,
        EnvClass::Token | EnvClass::Password | EnvClass::OperatorSecret
    )
}

/// Every `Environment=` assignment of `[Service]`, in file order (later ones win when read).
pub fn environment_entries(unit: &UnitFile) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in unit.values("Service", "Environment") {
        for word in split_words(line) {
            if let Some((k, v)) = word.split_once('=') {
                out.retain(|(key, _)| key != k);
                out.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    out
}

/// The non-empty inline secrets of `unit` (`(key, class)`), values not returned.
pub fn inline_secret_keys(unit: &UnitFile) -> Vec<(String, EnvClass)> {
    environment_entries(unit)
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, _)| {
            let class = classify_env_key(&k);
            (k, class)
        })
        .filter(|(_, c)| is_secret_class(*c))
        .collect()
}

/// The taken-apart old unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMigration {
    /// The inline gateway token.
    pub token: Option<String>,
    /// The inline gateway password.
    pub password: Option<String>,
    /// Operator settings (not secret): kept in the preserved drop-in.
    pub operator_env: Vec<(String, String)>,
    /// Operator secrets: kept in the 0600 env file.
    pub operator_secrets: Vec<(String, String)>,
    /// `EnvironmentFile=` values other than our env file, as written.
    pub operator_env_files: Vec<String>,
    /// The old unit with every secret assignment removed.
    pub backup_text: String,
}

/// Takes `old_text` apart; `our_env_file` is the env file the new unit reads.
pub fn analyse(old_text: &str, our_env_file: &Path) -> UnitMigration {
    let unit = UnitFile::parse(old_text);
    let mut m = UnitMigration {
        token: None,
        password: None,
        operator_env: Vec::new(),
        operator_secrets: Vec::new(),
        operator_env_files: Vec::new(),
        backup_text: strip_secrets(old_text),
    };
    for (key, value) in environment_entries(&unit) {
        match classify_env_key(&key) {
            EnvClass::Managed => {}
            EnvClass::Token => m.token = Some(value).filter(|v| !v.trim().is_empty()),
            EnvClass::Password => m.password = Some(value).filter(|v| !v.trim().is_empty()),
            EnvClass::OperatorSecret => m.operator_secrets.push((key, value)),
            EnvClass::Operator => m.operator_env.push((key, value)),
        }
    }
    for value in unit.values("Service", "EnvironmentFile") {
        let path = value.trim_start_matches('-');
        if Path::new(path) != our_env_file && !m.operator_env_files.contains(value) {
            m.operator_env_files.push(value.clone());
        }
    }
    m
}

/// `old_text` with every secret `Environment=` assignment removed (a comment says which key went
/// where), for the 0600 backup.
pub fn strip_secrets(old_text: &str) -> String {
    let mut out = String::new();
    for line in old_text.lines() {
        let trimmed = line.trim_start();
        if let Some(value) = trimmed.strip_prefix("Environment=") {
            let words = split_words(value);
            let (secret, kept): (Vec<String>, Vec<String>) = words.into_iter().partition(|w| {
                w.split_once('=')
                    .is_some_and(|(k, _)| is_secret_class(classify_env_key(k)))
            });
            if !secret.is_empty() {
                for word in &secret {
                    let key = word.split_once('=').map_or("", |(k, _)| k);
                    out.push_str(&format!(
                        "# {key}= removed by openclaw doctor (secret; moved to the config or the 0600 env file)\n"
                    ));
                }
                if !kept.is_empty() {
                    let words: Vec<String> = kept.iter().map(|w| escape::unit_word(w)).collect();
                    out.push_str(&format!("Environment={}\n", words.join(" ")));
                }
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// True when a unit file's text holds a non-empty secret assignment.
pub fn holds_secrets(text: &str) -> bool {
    !inline_secret_keys(&UnitFile::parse(text)).is_empty()
}

/// `<unit dir>/<service>.d/openclaw-preserved.conf`.
pub fn preserved_dropin_path(unit_dir: &Path, service: &str) -> PathBuf {
    unit_dir.join(format!("{service}.d")).join(PRESERVED_DROPIN)
}

/// The preserved drop-in's text: `existing` (a drop-in doctor wrote before) with the settings of
/// `m` added; `None` when there is nothing to keep.
pub fn preserved_dropin(
    m: &UnitMigration,
    existing: Option<&str>,
) -> Result<Option<String>, ServiceError> {
    let mut lines: Vec<String> = Vec::new();
    for (key, value) in &m.operator_env {
        if let Some(assignment) = escape::environment_assignment(key, value)? {
            lines.push(format!("Environment={assignment}"));
        }
    }
    for value in &m.operator_env_files {
        escape::reject_line_breaks("EnvironmentFile", value)?;
        lines.push(format!("EnvironmentFile={value}"));
    }
    let mut text = match existing {
        Some(t) if !t.trim().is_empty() => {
            let mut t = t.to_owned();
            if !t.ends_with('\n') {
                t.push('\n');
            }
            t
        }
        _ => "# Operator settings carried over by `openclaw doctor --fix` from the unit it replaced.\n# Edit freely: doctor and `gateway install` never rewrite drop-ins.\n[Service]\n".to_owned(),
    };
    let before: Vec<&str> = text.lines().map(str::trim).collect();
    let missing: Vec<String> = lines
        .into_iter()
        .filter(|l| !before.contains(&l.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(existing.map(str::to_owned));
    }
    for line in missing {
        text.push_str(&line);
        text.push('\n');
    }
    Ok(Some(text))
}

/// Reads an env file's `KEY=value` lines (blank, `#` and `;` lines skipped, double quotes and
/// their escapes undone).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) => {
                let mut v = String::new();
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        if let Some(n) = chars.next() {
                            v.push(n);
                        }
                    } else {
                        v.push(c);
                    }
                }
                v
            }
            None => raw.to_owned(),
        };
        let key = key.trim().to_owned();
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The reference release's unit (spec §9) with an inline token and operator additions.
    pub(crate) const REFERENCE_UNIT: &str = "[Unit]\nDescription=OpenClaw Gateway\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nExecStart=/usr/bin/node --max-old-space-size=8192 /usr/lib/openclaw/dist/index.js gateway --port 18789\nRestart=always\nKillMode=mixed\nEnvironment=HOME=/home/alice\nEnvironment=NODE_OPTIONS=\nEnvironment=OPENCLAW_GATEWAY_PORT=18789\nEnvironment=\"OPENCLAW_WINDOWS_TASK_NAME=OpenClaw Gateway\"\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw\nEnvironment=OPENCLAW_GATEWAY_TOKEN=tok-123\nEnvironment=MY_SETTING=keep-me \"PROVIDER_API_KEY=sk live\"\nEnvironmentFile=-/etc/openclaw/extra.env\n\n[Install]\nWantedBy=default.target\n";

    #[test]
    fn keys_are_classified_as_managed_secret_or_operator() {
        assert_eq!(classify_env_key("PATH"), EnvClass::Managed);
        assert_eq!(
            classify_env_key("OPENCLAW_SERVICE_MARKER"),
            EnvClass::Managed
        );
        assert_eq!(classify_env_key("OPENCLAW_GATEWAY_TOKEN"), EnvClass::Token);
        assert_eq!(
            classify_env_key("CLAWDBOT_GATEWAY_PASSWORD"),
            EnvClass::Password
        );
        assert_eq!(
            classify_env_key("ANTHROPIC_API_KEY"),
            EnvClass::OperatorSecret
        );
        assert_eq!(classify_env_key("https_proxy"), EnvClass::OperatorSecret);
        assert_eq!(classify_env_key("GH_TOKEN"), EnvClass::OperatorSecret);
        assert_eq!(classify_env_key("MY_SETTING"), EnvClass::Operator);
        assert_eq!(classify_env_key("KEYBOARD"), EnvClass::Operator);
    }

    #[test]
    fn a_reference_unit_splits_into_token_operator_settings_and_operator_secrets() {
        let m = analyse(
            REFERENCE_UNIT,
            Path::new("/home/alice/.openclaw/gateway.systemd.env"),
        );
        assert_eq!(m.token.as_deref(), Some("tok-123"));
        assert_eq!(m.password, None);
        assert_eq!(m.operator_env, [("MY_SETTING".into(), "keep-me".into())]);
        assert_eq!(
            m.operator_secrets,
            [("PROVIDER_API_KEY".into(), "sk live".into())]
        );
        assert_eq!(m.operator_env_files, ["-/etc/openclaw/extra.env"]);
        assert!(!m.backup_text.contains("tok-123"), "{}", m.backup_text);
        assert!(!m.backup_text.contains("sk live"));
        assert!(m.backup_text.contains("Environment=MY_SETTING=keep-me\n"));
        assert!(
            m.backup_text
                .contains("# OPENCLAW_GATEWAY_TOKEN= removed by openclaw doctor")
        );
        assert!(!holds_secrets(&m.backup_text));
        assert!(holds_secrets(REFERENCE_UNIT));
    }

    #[test]
    fn our_own_env_file_is_not_an_operator_env_file() {
        let text = "[Service]\nEnvironmentFile=-/s/gateway.systemd.env\n";
        assert!(
            analyse(text, Path::new("/s/gateway.systemd.env"))
                .operator_env_files
                .is_empty()
        );
    }

    #[test]
    fn the_preserved_dropin_keeps_settings_and_merges_with_an_earlier_one() {
        let m = analyse(REFERENCE_UNIT, Path::new("/x"));
        let text = preserved_dropin(&m, None).unwrap().unwrap();
        assert!(text.contains("[Service]\nEnvironment=MY_SETTING=keep-me\nEnvironmentFile=-/etc/openclaw/extra.env\n"), "{text}");
        assert!(!text.contains("sk live") && !text.contains("tok-123"));
        assert_eq!(
            preserved_dropin(&m, Some(&text)).unwrap().as_deref(),
            Some(text.as_str())
        );
        let none = analyse("[Service]\nEnvironment=HOME=/h\n", Path::new("/x"));
        assert_eq!(preserved_dropin(&none, None).unwrap(), None);
    }

    #[test]
    fn env_files_parse_with_quotes_and_comments() {
        let parsed = parse_env_file("# c\n\nA=1\nB=\"x \\\"y\\\" \\$z\"\nA=2\n");
        assert_eq!(
            parsed,
            [("B".into(), "x \"y\" $z".into()), ("A".into(), "2".into())]
        );
    }
}
