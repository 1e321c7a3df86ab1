//! Drift: how the installed unit files differ from what `install` would write now.
//!
//! Unit files are parsed (sections, continuation lines, comments) and compared by meaning
//! first: the binary, `--port`, `--profile` and the version (from `Description=` or
//! `OPENCLAW_SERVICE_VERSION`) of `ExecStart=`, and the socket's `ListenStream=` addresses;
//! any other changed key is listed by name with its old and new values. Secret files are only
//! said to differ, never shown.

use std::collections::BTreeMap;

use crate::service::plan::PlannedFile;
use crate::service_names::parse_service_description;

/// A parsed unit file: `(section, key) -> values` in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFile {
    entries: BTreeMap<(String, String), Vec<String>>,
}

impl UnitFile {
    /// Parses unit-file text: `[Section]` headers, `Key=Value`, `#`/`;` comments, `\` line
    /// continuations.
    pub fn parse(text: &str) -> Self {
        let mut entries: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut section = String::new();
        let mut pending = String::new();
        for raw in text.lines() {
            let line = raw.trim_end();
            if pending.is_empty() {
                let t = line.trim_start();
                if t.starts_with('#') || t.starts_with(';') {
                    continue;
                }
            }
            if let Some(head) = line.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            pending.push_str(line);
            let full = std::mem::take(&mut pending);
            let full = full.trim();
            if full.is_empty() {
                continue;
            }
            if full.starts_with('[') && full.ends_with(']') {
                section = full[1..full.len() - 1].to_owned();
                continue;
            }
            if let Some((k, v)) = full.split_once('=') {
                entries
                    .entry((section.clone(), k.trim().to_owned()))
                    .or_default()
                    .push(v.trim().to_owned());
            }
        }
        Self { entries }
    }

    /// All values of `key` in `section`.
    pub fn values(&self, section: &str, key: &str) -> &[String] {
        self.entries
            .get(&(section.to_owned(), key.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every `(section, key)` present, sorted.
    pub fn keys(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.entries.keys().cloned()
    }

    /// The last value of `key` in `section`.
    pub fn last(&self, section: &str, key: &str) -> Option<&str> {
        self.values(section, key).last().map(String::as_str)
    }

    /// The `ExecStart=` argv (systemd quoting; `-@:+!` prefixes dropped).
    pub fn exec_start(&self) -> Vec<String> {
        let Some(line) = self.last("Service", "ExecStart") else {
            return Vec::new();
        };
        let mut argv = split_words(line);
        if let Some(first) = argv.first_mut() {
            *first = first
                .trim_start_matches(['-', '@', ':', '+', '!'])
                .to_owned();
        }
        argv
    }

    /// The value of one `Environment=` variable (later assignments win).
    pub fn environment(&self, name: &str) -> Option<String> {
        let mut found = None;
        for line in self.values("Service", "Environment") {
            for word in split_words(line) {
                if let Some((k, v)) = word.split_once('=') {
                    if k == name {
                        found = Some(v.to_owned());
                    }
                }
            }
        }
        found
    }
}

/// Splits a systemd command line or `Environment=` value into words (double and single quotes,
/// backslash escapes).
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// The value of the last `--name V` / `--name=V` in `argv`.
pub fn flag_value(argv: &[String], name: &str) -> Option<String> {
    let eq = format!("{name}=");
    let mut value = None;
    for (i, a) in argv.iter().enumerate() {
        if a == name {
            value = argv.get(i + 1).cloned();
        } else if let Some(v) = a.strip_prefix(&eq) {
            value = Some(v.to_owned());
        }
    }
    value
}

/// What a gateway unit says about the things users care about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayFacts {
    /// The binary.
    pub program: Option<String>,
    /// `--port N`.
    pub port: Option<String>,
    /// `--profile P`.
    pub profile: Option<String>,
    /// The version in `Description=` or `OPENCLAW_SERVICE_VERSION`.
    pub version: Option<String>,
    /// The socket's `ListenStream=` values.
    pub listen: Vec<String>,
}

/// Reads [`GatewayFacts`] from a parsed unit.
pub fn gateway_facts(unit: &UnitFile) -> GatewayFacts {
    let argv = unit.exec_start();
    let flag = |name: &str| flag_value(&argv, name);
    let version = unit.environment("OPENCLAW_SERVICE_VERSION").or_else(|| {
        unit.last("Unit", "Description")
            .and_then(parse_service_description)
            .and_then(|d| d.version)
    });
    GatewayFacts {
        program: argv.first().cloned(),
        port: flag("--port"),
        profile: flag("--profile"),
        version,
        listen: unit.values("Socket", "ListenStream").to_vec(),
    }
}

/// Lines describing how `file` on disk (`on_disk`, `disk_mode`) differs from the plan.
pub fn describe(file: &PlannedFile, on_disk: Option<&[u8]>, disk_mode: Option<u32>) -> Vec<String> {
    let path = file.path.display();
    let Some(old) = on_disk else {
        return vec![format!("{path}: missing")];
    };
    let mut out = Vec::new();
    if old != file.contents.as_slice() {
        if file.secret {
            out.push(format!("{path}: contents differ (secret; not shown)"));
        } else {
            let old_unit = UnitFile::parse(&String::from_utf8_lossy(old));
            let new_unit = UnitFile::parse(&String::from_utf8_lossy(&file.contents));
            let (a, b) = (gateway_facts(&old_unit), gateway_facts(&new_unit));
            let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            let mut facts = Vec::new();
            for (what, x, y) in [
                ("binary", &a.program, &b.program),
                ("port", &a.port, &b.port),
                ("profile", &a.profile, &b.profile),
                ("version", &a.version, &b.version),
            ] {
                if x != y {
                    facts.push(format!("{what} {} -> {}", opt(x), opt(y)));
                }
            }
            if a.listen != b.listen {
                facts.push(format!(
                    "listen {} -> {}",
                    a.listen.join(" "),
                    b.listen.join(" ")
                ));
            }
            let mut keys: Vec<String> = Vec::new();
            let all: std::collections::BTreeSet<&(String, String)> = old_unit
                .entries
                .keys()
                .chain(new_unit.entries.keys())
                .collect();
            for key in all {
                let (x, y) = (old_unit.entries.get(key), new_unit.entries.get(key));
                if x != y
                    && !matches!(key.1.as_str(), "ExecStart" | "ListenStream" | "Description")
                    && !(key.1 == "Environment" && facts.iter().any(|f| f.starts_with("version")))
                {
                    keys.push(format!("[{}] {}", key.0, key.1));
                }
            }
            if !keys.is_empty() {
                facts.push(format!("changed {}", keys.join(", ")));
            }
            if facts.is_empty() {
                facts.push("contents differ (formatting only)".into());
            }
            out.push(format!("{path}: {}", facts.join("; ")));
        }
    }
    if let Some(mode) = disk_mode {
        if mode != file.mode {
            out.push(format!("{path}: mode {mode:04o} -> {:04o}", file.mode));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "[Unit]\nDescription=OpenClaw Gateway (v0.0.9)\n# comment\n[Service]\nExecStart=/old/openclaw gateway \\\n  --port 18789\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw \"OPENCLAW_SERVICE_VERSION=0.0.9\"\nRestart=on-failure\n[Install]\nWantedBy=default.target\n";
    const NEW: &str = "[Unit]\nDescription=OpenClaw Gateway (v0.1.0)\n[Service]\nExecStart=/usr/bin/openclaw gateway --port 18800\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw \"OPENCLAW_SERVICE_VERSION=0.1.0\"\nRestart=always\n[Install]\nWantedBy=default.target\n";

    fn planned(contents: &str, secret: bool) -> PlannedFile {
        PlannedFile {
            path: "/u/openclaw-gateway.service".into(),
            mode: 0o644,
            contents: contents.as_bytes().to_vec(),
            secret,
            purpose: "unit".into(),
        }
    }

    #[test]
    fn units_parse_with_continuations_comments_and_quotes() {
        let unit = UnitFile::parse(OLD);
        assert_eq!(
            unit.exec_start(),
            ["/old/openclaw", "gateway", "--port", "18789"]
        );
        assert_eq!(
            unit.environment("OPENCLAW_SERVICE_VERSION").as_deref(),
            Some("0.0.9")
        );
        assert_eq!(split_words(r#"-/a\ b "c d" 'e'"#), ["-/a b", "c d", "e"]);
        let facts = gateway_facts(&UnitFile::parse(
            "[Service]\nExecStart=/x gateway --port=1 --profile rescue\n[Socket]\nListenStream=127.0.0.1:1\nListenStream=[::1]:1\n",
        ));
        assert_eq!(facts.port.as_deref(), Some("1"));
        assert_eq!(facts.profile.as_deref(), Some("rescue"));
        assert_eq!(facts.listen, ["127.0.0.1:1", "[::1]:1"]);
    }

    #[test]
    fn drift_names_binary_port_version_and_other_keys() {
        let lines = describe(&planned(NEW, false), Some(OLD.as_bytes()), Some(0o644));
        assert_eq!(
            lines,
            [
                "/u/openclaw-gateway.service: binary /old/openclaw -> /usr/bin/openclaw; port 18789 -> 18800; version 0.0.9 -> 0.1.0; changed [Service] Restart"
            ]
        );
        assert!(describe(&planned(NEW, false), Some(NEW.as_bytes()), Some(0o644)).is_empty());
        assert_eq!(
            describe(&planned(NEW, false), Some(NEW.as_bytes()), Some(0o600)),
            ["/u/openclaw-gateway.service: mode 0600 -> 0644"]
        );
        assert_eq!(
            describe(&planned(NEW, false), None, None),
            ["/u/openclaw-gateway.service: missing"]
        );
    }

    #[test]
    fn secret_files_are_never_shown() {
        let lines = describe(
            &planned("TOKEN=new\n", true),
            Some(b"TOKEN=old\n"),
            Some(0o644),
        );
        assert_eq!(
            lines[0],
            "/u/openclaw-gateway.service: contents differ (secret; not shown)"
        );
        assert!(!lines.join("\n").contains("TOKEN"));
    }
}
