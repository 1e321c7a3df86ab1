//! Reading and writing `openclaw.json`.
//!
//! Reading: JSON5 text → raw document (as written, `$include` and `${VAR}` references intact) →
//! expanded document (`$include`s replaced by the files they name, see [`super::includes`]) →
//! env-substituted document → typed [`Config`]. A missing file means defaults; a broken one is an
//! error with the file, line and column, and the file is never touched. Writing: edits go to the
//! raw document of the root file, so includes, references, unknown keys and key order survive
//! (included content is never inlined, included files are never written); the file is replaced
//! atomically, the previous content is kept as `<file>.bak` (0600), and the mode stays 0600 when
//! the file holds secrets. A file that changed on disk since it was read is not overwritten.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::env_substitution::{MissingEnvVar, substitute_env};
use super::includes::{FsIncludeReader, INCLUDE_KEY, expand_includes, include_roots};
use super::locate::{LineColumn, Segment, line_column_at, locate_value};
use super::model::Config;
use crate::atomic_write::{SECRET_FILE_MODE, file_mode, write_atomic};
use crate::environment::Environment;

/// Why a config file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not valid JSON5.
    #[error(
        "{path}:{line}:{column}: invalid JSON5 in config: {message} (fix the file; it was not modified)"
    )]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The top level is not an object.
    #[error(
        "{path}:1:1: config must be a JSON5 object ({{ ... }}), found {found} (fix the file; it was not modified)"
    )]
    NotAnObject {
        /// The config file.
        path: PathBuf,
        /// The JSON type found.
        found: &'static str,
    },
    /// A `$include` that cannot be expanded. `chain` lists the included files leading to the
    /// file holding it (empty: the root file holds it); `message` names the include as written.
    #[error("{path}{}: $include at {}: {message} (fix the file; it was not modified)", chain_suffix(.chain), key_label(.key_path))]
    Include {
        /// The root config file.
        path: PathBuf,
        /// The included files from the root file down to the one holding the `$include`.
        chain: Vec<PathBuf>,
        /// The dotted config key where the `$include` stands (empty: the top level).
        key_path: String,
        /// The include path as written (`$include` when the value is not a path).
        include: String,
        /// What is wrong.
        message: String,
    },
    /// A `${VAR}` reference to an unset variable.
    #[error("{path}{}: {source}", at_suffix(.at))]
    MissingEnvVar {
        /// The config file.
        path: PathBuf,
        /// Where the reference stands.
        at: Option<LineColumn>,
        /// The variable and key.
        source: MissingEnvVar,
    },
    /// A known key holds a value of the wrong type or an unknown enumerated value.
    #[error("{path}{}: invalid config value at {key_path}: {message} (fix the file; it was not modified)", at_suffix(.at))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Where the value stands.
        at: Option<LineColumn>,
        /// The dotted key.
        key_path: String,
        /// What is wrong.
        message: String,
    },
    /// The file changed on disk between reading and writing.
    #[error(
        "config {path} changed on disk since it was read; nothing was written (run the command again)"
    )]
    ChangedOnDisk {
        /// The config file.
        path: PathBuf,
    },
    /// An edit addressed a key below a value that is not an object.
    #[error("cannot set config key {key_path}: {parent} is not an object")]
    NotAnObjectAt {
        /// The dotted key being set.
        key_path: String,
        /// The dotted key of the non-object value.
        parent: String,
    },
    /// Writing the new file failed (the old file is unchanged).
    #[error("cannot write config {path}: {source} (the previous file is unchanged)")]
    Write {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

fn at_suffix(at: &Option<LineColumn>) -> String {
    at.map(|lc| format!(":{}:{}", lc.line, lc.column))
        .unwrap_or_default()
}

fn chain_suffix(chain: &[PathBuf]) -> String {
    chain
        .iter()
        .map(|p| format!(" -> {}", p.display()))
        .collect()
}

fn key_label(key_path: &str) -> &str {
    if key_path.is_empty() {
        "the top level"
    } else {
        key_path
    }
}

/// A config file's text as read: the root document, the expanded one and the typed config.
#[derive(Debug, Clone)]
pub struct ParsedConfig {
    /// The root file's document as written (`$include` and `${VAR}` kept): what edits change.
    pub raw: Value,
    /// `raw` with every `$include` expanded, `${VAR}` references kept: what the config says.
    pub expanded: Value,
    /// The typed, expanded and env-substituted config.
    pub config: Config,
    /// The included files (absolute, normalised, in the order first read).
    pub includes: Vec<PathBuf>,
}

/// A config file as read: where it is, what it says (raw and typed), and the bytes read.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The config file path.
    pub path: PathBuf,
    /// False when the file does not exist (defaults apply).
    pub exists: bool,
    /// The root file's document as written (`$include` and `${VAR}` kept); an empty object
    /// for a missing file. [`LoadedConfig::set`] edits it and [`LoadedConfig::write`] writes it.
    pub raw: Value,
    /// `raw` as read with every `$include` expanded (`${VAR}` references kept): what the config
    /// says, e.g. whether a key is set at all. Not updated by `set` until `write`.
    pub expanded: Value,
    /// The included files (see [`ParsedConfig::includes`]).
    pub includes: Vec<PathBuf>,
    /// The typed, expanded and env-substituted config.
    pub config: Config,
    original: Option<Vec<u8>>,
}

impl LoadedConfig {
    /// Reads `path`; a missing file yields defaults.
    pub fn load(path: &Path, env: &Environment) -> Result<Self, ConfigError> {
        match fs::read(path) {
            Ok(bytes) => {
                let text = decode_utf8(path, &bytes)?;
                let parsed = parse_config_text(path, &text, env)?;
                Ok(Self {
                    path: path.to_owned(),
                    exists: true,
                    raw: parsed.raw,
                    expanded: parsed.expanded,
                    includes: parsed.includes,
                    config: parsed.config,
                    original: Some(bytes),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self {
                path: path.to_owned(),
                exists: false,
                raw: Value::Object(Map::new()),
                expanded: Value::Object(Map::new()),
                includes: Vec::new(),
                config: Config::default(),
                original: None,
            }),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Sets the dotted key `key_path` (e.g. `gateway.mode`) in the raw document, creating
    /// intermediate objects.
    pub fn set(&mut self, key_path: &str, value: Value) -> Result<(), ConfigError> {
        let mut node = &mut self.raw;
        let parts: Vec<&str> = key_path.split('.').collect();
        for (depth, part) in parts.iter().enumerate() {
            let Value::Object(map) = node else {
                return Err(ConfigError::NotAnObjectAt {
                    key_path: key_path.to_owned(),
                    parent: parts[..depth].join("."),
                });
            };
            if depth + 1 == parts.len() {
                map.insert((*part).to_owned(), value);
                return Ok(());
            }
            node = map
                .entry((*part).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        Ok(())
    }

    /// Writes the raw document back atomically (see the module doc; `$include`s stay as
    /// written, included files are left alone), then re-reads it so `expanded`, `includes` and
    /// `config` reflect what is on disk.
    pub fn write(&mut self, env: &Environment) -> Result<(), ConfigError> {
        let current = match fs::read(&self.path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if current != self.original {
            return Err(ConfigError::ChangedOnDisk {
                path: self.path.clone(),
            });
        }
        let write_err = |source| ConfigError::Write {
            path: self.path.clone(),
            source,
        };
        let mut text = serde_json::to_string_pretty(&self.raw)
            .map_err(io::Error::other)
            .map_err(write_err)?;
        text.push('\n');
        // Validate what we are about to write with the same reader the gateway uses (included
        // files are read too: a root file whose includes do not expand is not written).
        let parsed = parse_config_text(&self.path, &text, env)?;
        let existing_mode = file_mode(&self.path);
        let mode = if holds_secrets(&self.raw) {
            SECRET_FILE_MODE
        } else {
            existing_mode.unwrap_or(SECRET_FILE_MODE) & 0o666
        };
        if let Some(previous) = &current {
            let backup = backup_path(&self.path);
            write_atomic(&backup, previous, SECRET_FILE_MODE).map_err(write_err)?;
        }
        write_atomic(&self.path, text.as_bytes(), mode).map_err(write_err)?;
        self.exists = true;
        self.expanded = parsed.expanded;
        self.includes = parsed.includes;
        self.config = parsed.config;
        self.original = Some(text.into_bytes());
        Ok(())
    }
}

/// `<config>.bak`, where the previous content is kept by [`LoadedConfig::write`].
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

/// True when the document holds an inline gateway token or password (not a `${VAR}` reference).
pub fn holds_secrets(raw: &Value) -> bool {
    let auth = &raw["gateway"]["auth"];
    ["token", "password"].iter().any(|key| match &auth[*key] {
        Value::String(s) => !s.trim().is_empty() && !super::env_substitution::has_env_reference(s),
        Value::Object(_) => false,
        _ => false,
    }) || raw["hooks"]["token"]
        .as_str()
        .is_some_and(|s| !s.trim().is_empty() && !super::env_substitution::has_env_reference(s))
        || raw["gateway"]["remote"]["token"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
        || raw["gateway"]["remote"]["password"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
}

/// The inline gateway secrets of a document (`gateway.auth.token`/`password`,
/// `gateway.remote.token`/`password`, `hooks.token`: non-empty strings that are not `${VAR}` references).
pub fn inline_secrets(doc: &Value) -> Vec<&str> {
    [
        &doc["gateway"]["auth"]["token"],
        &doc["gateway"]["auth"]["password"],
        &doc["gateway"]["remote"]["token"],
        &doc["gateway"]["remote"]["password"],
        &doc["hooks"]["token"],
    ]
    .into_iter()
    .filter_map(Value::as_str)
    .filter(|s| !s.trim().is_empty() && !super::env_substitution::has_env_reference(s))
    .collect()
}

/// True when the included file `path` holds an inline gateway secret of the config whose
/// expanded document is `expanded`: the file, read on its own, sets one at its usual place (it
/// is included at the top level), or holds one of the expanded config's inline secrets as a
/// string anywhere (it is included below `gateway`, e.g. as `gateway.auth`). A file that cannot
/// be read or parsed holds none as far as this can tell.
pub fn include_holds_secrets(path: &Path, expanded: &Value) -> bool {
    let Ok(bytes) = fs::read(path) else {
        return false;
    };
    let Ok(doc) = decode_utf8(path, &bytes).and_then(|text| parse_json5(path, &text)) else {
        return false;
    };
    if holds_secrets(&doc) {
        return true;
    }
    let secrets = inline_secrets(expanded);
    fn any_string(v: &Value, hit: &dyn Fn(&str) -> bool) -> bool {
        match v {
            Value::String(s) => hit(s),
            Value::Array(a) => a.iter().any(|v| any_string(v, hit)),
            Value::Object(o) => o.values().any(|v| any_string(v, hit)),
            _ => false,
        }
    }
    !secrets.is_empty() && any_string(&doc, &|s| secrets.contains(&s))
}

/// Parses the root config file's text: JSON5 → raw document → includes expanded → substituted
/// → typed. `path` locates errors and the files `$include` names; `env` gives `${VAR}` values,
/// `OPENCLAW_INCLUDE_ROOTS` and the current directory (for a relative `path`).
pub fn parse_config_text(
    path: &Path,
    text: &str,
    env: &Environment,
) -> Result<ParsedConfig, ConfigError> {
    parse_config_text_noting_includes(path, text, env, &mut Vec::new())
}

/// [`parse_config_text`], also leaving in `includes` every file an `$include` named — also when
/// parsing fails, so a watcher can notice the edit (or the new file) that fixes it.
pub fn parse_config_text_noting_includes(
    path: &Path,
    text: &str,
    env: &Environment,
    includes: &mut Vec<PathBuf>,
) -> Result<ParsedConfig, ConfigError> {
    includes.clear();
    let raw = parse_json5(path, text)?;
    if !raw.is_object() {
        return Err(ConfigError::NotAnObject {
            path: path.to_owned(),
            found: json_type(&raw),
        });
    }
    let absolute = match env.cwd() {
        Some(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_owned(),
    };
    let expansion = expand_includes(
        &raw,
        &absolute,
        &include_roots(env),
        &FsIncludeReader::default(),
    );
    includes.clone_from(&expansion.files);
    let expanded = expansion.document?;
    if !expanded.is_object() {
        return Err(ConfigError::Include {
            path: path.to_owned(),
            chain: Vec::new(),
            key_path: String::new(),
            include: raw[INCLUDE_KEY].as_str().unwrap_or(INCLUDE_KEY).to_owned(),
            message: format!(
                "the config must be an object, but the top-level $include yields {}",
                json_type(&expanded)
            ),
        });
    }
    let locate = |segments: &[Segment]| locate_in_root(text, &raw, &expanded, segments);
    let substituted = substitute_env(&expanded, env).map_err(|source| {
        let segments: Vec<Segment> = source
            .key_path
            .split('.')
            .map(|k| Segment::Key(k.to_owned()))
            .collect();
        ConfigError::MissingEnvVar {
            path: path.to_owned(),
            at: locate(&segments),
            source,
        }
    })?;
    let config: Config = serde_path_to_error::deserialize(&substituted).map_err(|e| {
        let segments = path_segments(e.path());
        let key_path = segments
            .iter()
            .map(|s| match s {
                Segment::Key(k) => k.clone(),
                Segment::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".");
        ConfigError::Invalid {
            path: path.to_owned(),
            at: locate(&segments),
            key_path,
            message: e.inner().to_string(),
        }
    })?;
    Ok(ParsedConfig {
        raw,
        expanded,
        config,
        includes: includes.clone(),
    })
}

/// Parses one file's JSON5 text (the root file or an included one); blank text is `{}`.
pub(super) fn parse_json5(path: &Path, text: &str) -> Result<Value, ConfigError> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    json5::from_str(text).map_err(|e| {
        let (line, column) = e.position().map_or((1, 1), |p| (p.line + 1, p.column + 1));
        let message = e
            .code()
            .map_or_else(|| e.to_string(), |code| code.to_string());
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    })
}

/// A config file's bytes as text; invalid UTF-8 is a syntax error at the first bad byte.
pub(super) fn decode_utf8(path: &Path, bytes: &[u8]) -> Result<String, ConfigError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let at = line_column_at(
            &String::from_utf8_lossy(bytes),
            e.utf8_error().valid_up_to(),
        );
        ConfigError::Syntax {
            path: path.to_owned(),
            line: at.line,
            column: at.column,
            message: "file is not valid UTF-8".to_owned(),
        }
    })
}

/// Where the value at `segments` stands in the root file's `text`. When includes were
/// expanded, only for a value the root file itself holds (the same there as in the expanded
/// document): a value from an included file has no place in the root text, and pointing at the
/// `$include` or a neighbour (or at a shifted array item) would mislead.
fn locate_in_root(
    text: &str,
    raw: &Value,
    expanded: &Value,
    segments: &[Segment],
) -> Option<LineColumn> {
    if raw != expanded {
        let in_root = value_at(raw, segments);
        if in_root.is_none() || in_root != value_at(expanded, segments) {
            return None;
        }
    }
    locate_value(text, segments)
}

fn value_at<'v>(mut value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    for segment in segments {
        value = match (value, segment) {
            (Value::Object(map), Segment::Key(key)) => map.get(key)?,
            (Value::Array(items), Segment::Index(index)) => items.get(*index)?,
            (Value::Array(items), Segment::Key(key)) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

fn path_segments(path: &serde_path_to_error::Path) -> Vec<Segment> {
    use serde_path_to_error::Segment as S;
    path.iter()
        .filter_map(|s| match s {
            S::Map { key } => Some(Segment::Key(key.clone())),
            S::Seq { index } => Some(Segment::Index(*index)),
            S::Enum { .. } | S::Unknown => None,
        })
        .collect()
}

pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{BindMode, GatewayMode, LogLevel, ReloadMode, SecretInput};
    use serde_json::json;

    fn parse(text: &str) -> Result<(Value, Config), ConfigError> {
        parse_config_text(
            Path::new("/c/openclaw.json"),
            text,
            &Environment::empty().with("TOK", "from-env"),
        )
        .map(|parsed| (parsed.raw, parsed.config))
    }

    #[test]
    fn json5_features_parse_into_typed_keys() {
        let (_, c) = parse(
            "// comment\n{\n  gateway: { mode: 'local', port: 18790, bind: \"lan\", auth: { token: '${TOK}', },\n    reload: { mode: 'hot', debounceMs: 50 } },\n  logging: { level: 'debug', maxFileBytes: 1000 },\n  commands: { restart: true },\n  agents: { defaults: { workspace: '~/ws' } },\n  canvasHost: { enabled: false, port: 1234 },\n}\n",
        )
        .unwrap();
        assert_eq!(c.gateway_mode(), Some(GatewayMode::Local));
        assert_eq!(c.gateway_port(), Some(18790));
        assert_eq!(c.gateway_bind().map(|b| b.mode()), Some(BindMode::Lan));
        assert_eq!(
            c.auth().unwrap().token,
            Some(SecretInput::Plain("from-env".into()))
        );
        assert_eq!(c.reload_mode(), ReloadMode::Hot);
        assert_eq!(c.reload_debounce_ms(), 50);
        assert_eq!(c.log_level(), LogLevel::Debug);
        assert!(c.restart_command_enabled());
        assert_eq!(c.workspace(), Some("~/ws"));
        assert!(!c.canvas_host_enabled());
        assert_eq!(c.canvas_host_port(), Some(1234));
    }

    #[test]
    fn empty_config_applies_documented_defaults() {
        let (_, c) = parse("{}").unwrap();
        assert_eq!(c.reload_mode(), ReloadMode::Hybrid);
        assert_eq!(c.reload_debounce_ms(), 300);
        assert_eq!(c.log_level(), LogLevel::Info);
        assert!(!c.restart_command_enabled());
        assert!(c.canvas_host_enabled());
        let rl = c.rate_limit();
        assert_eq!(
            (
                rl.max_attempts,
                rl.window_ms,
                rl.lockout_ms,
                rl.exempt_loopback
            ),
            (10, 60_000, 300_000, true)
        );
        assert!(parse("  \n").is_ok(), "a blank file is an empty config");
    }

    #[test]
    fn unknown_keys_survive_a_typed_round_trip() {
        let text = r#"{"gateway": {"port": 1, "controlUi": {"enabled": true}}, "channels": {"x": [1, 2]}, "meta": "m"}"#;
        let (raw, c) = parse(text).unwrap();
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back, raw);
    }

    #[test]
    fn syntax_errors_report_file_line_and_column() {
        let err = parse("{\n  gateway: {\n    port: 18789\n    mode: 'local'\n  }\n}").unwrap_err();
        match &err {
            ConfigError::Syntax { line, column, .. } => assert_eq!((*line, *column), (4, 5)),
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("/c/openclaw.json:4:5: invalid JSON5 in config:"),
            "{err}"
        );
        let err = parse("{a: 1,,}").unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Syntax {
                    line: 1,
                    column: 7,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn wrong_types_and_unknown_enum_values_name_key_line_and_column() {
        let err = parse("{\n  gateway: {\n    port: 'abc',\n  },\n}").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("/c/openclaw.json:3:11: invalid config value at gateway.port:"),
            "{msg}"
        );
        let err = parse("{gateway: {bind: 'everywhere'}}").unwrap_err();
        assert!(
            err.to_string()
                .contains("gateway.bind: unknown bind mode \"everywhere\""),
            "{err}"
        );
        let err = parse("{gateway: {reload: {mode: 'sometimes'}}}").unwrap_err();
        assert!(err.to_string().contains("gateway.reload.mode"), "{err}");
        let err = parse("{gateway: {port: 70000}}").unwrap_err();
        assert!(err.to_string().contains("gateway.port"), "{err}");
    }

    #[test]
    fn legacy_bind_hosts_are_read_as_the_mode_they_meant() {
        let (_, c) = parse("{gateway: {bind: '0.0.0.0'}}").unwrap();
        assert_eq!(c.gateway_bind().unwrap().mode(), BindMode::Lan);
        assert!(matches!(
            c.gateway_bind(),
            Some(crate::config::BindSetting::LegacyHost(_))
        ));
        let (_, c) = parse("{gateway: {bind: 'localhost'}}").unwrap();
        assert_eq!(c.gateway_bind().unwrap().mode(), BindMode::Loopback);
    }

    #[test]
    fn top_level_must_be_an_object() {
        let err = parse("[1]").unwrap_err();
        assert!(matches!(
            err,
            ConfigError::NotAnObject {
                found: "an array",
                ..
            }
        ));
    }

    #[test]
    fn missing_env_reference_names_variable_key_and_position() {
        let err = parse("{\n gateway: {auth: {password: '${NOPE}'}}}").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/c/openclaw.json:2:29: missing env var NOPE referenced at config key gateway.auth.password"), "{msg}");
    }

    #[test]
    fn missing_file_means_defaults_and_broken_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let env = Environment::empty();
        let loaded = LoadedConfig::load(&path, &env).unwrap();
        assert!(!loaded.exists);
        assert_eq!(loaded.config, Config::default());
        fs::write(&path, "{ broken").unwrap();
        assert!(LoadedConfig::load(&path, &env).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ broken");
    }

    #[test]
    fn writes_keep_references_unknown_keys_and_order_with_a_private_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        fs::write(
            &path,
            "// mine\n{zeta: 1, gateway: {auth: {token: '${TOK}'}}, alpha: {x: true}}",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
        let env = Environment::empty().with("TOK", "secret-value");
        let mut loaded = LoadedConfig::load(&path, &env).unwrap();
        loaded.set("gateway.mode", json!("local")).unwrap();
        loaded.write(&env).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("secret-value"),
            "substituted values are never written"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["zeta", "gateway", "alpha"]);
        assert_eq!(v["gateway"]["auth"]["token"], "${TOK}");
        assert_eq!(v["gateway"]["mode"], "local");
        assert_eq!(loaded.config.gateway_mode(), Some(GatewayMode::Local));
        assert_eq!(file_mode(&path), Some(0o644), "no inline secret: mode kept");
        let backup = backup_path(&path);
        assert!(fs::read_to_string(&backup).unwrap().starts_with("// mine"));
        assert_eq!(file_mode(&backup), Some(0o600));
    }

    #[test]
    fn writes_keep_include_directives_and_never_inline_included_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let included = dir.path().join("gateway.json5");
        let included_text = "// split out\n{ port: 18790, auth: { token: 'secret-in-include' } }";
        fs::write(&included, included_text).unwrap();
        fs::write(&path, "{ gateway: { $include: './gateway.json5' } }").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
        let env = Environment::empty();
        let mut loaded = LoadedConfig::load(&path, &env).unwrap();
        assert_eq!(loaded.config.gateway_port(), Some(18790));
        assert_eq!(loaded.includes, std::slice::from_ref(&included));
        loaded.set("gateway.mode", json!("local")).unwrap();
        loaded.write(&env).unwrap();
        let written: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            written,
            json!({"gateway": {"$include": "./gateway.json5", "mode": "local"}})
        );
        assert_eq!(fs::read_to_string(&included).unwrap(), included_text);
        assert_eq!(
            file_mode(&path),
            Some(0o644),
            "the root file holds no secret of its own"
        );
        assert_eq!(loaded.config.gateway_mode(), Some(GatewayMode::Local));
        assert_eq!(loaded.config.gateway_port(), Some(18790));
        assert_eq!(
            loaded.expanded["gateway"]["auth"]["token"],
            "secret-in-include"
        );
        // A root file whose includes do not expand is not written.
        fs::remove_file(&included).unwrap();
        loaded.set("gateway.port", json!(1)).unwrap();
        assert!(matches!(
            loaded.write(&env),
            Err(ConfigError::Include { .. })
        ));
        assert_eq!(
            fs::read_to_string(&path).unwrap().matches("port").count(),
            0
        );
    }

    #[test]
    fn a_config_with_an_inline_secret_is_written_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let env = Environment::empty();
        let mut loaded = LoadedConfig::load(&path, &env).unwrap();
        loaded.set("gateway.auth.token", json!("abc123")).unwrap();
        loaded.write(&env).unwrap();
        assert_eq!(file_mode(&path), Some(0o600));
        assert!(
            !backup_path(&path).exists(),
            "nothing to back up for a new file"
        );
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        fs::write(&path, "{a: 1}").unwrap();
        let env = Environment::empty();
        let mut loaded = LoadedConfig::load(&path, &env).unwrap();
        fs::write(&path, "{a: 2}").unwrap();
        loaded.set("b", json!(1)).unwrap();
        assert!(matches!(
            loaded.write(&env),
            Err(ConfigError::ChangedOnDisk { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "{a: 2}");
    }

    #[test]
    fn setting_below_a_scalar_is_an_error() {
        let mut loaded = LoadedConfig {
            path: PathBuf::from("/x"),
            exists: false,
            raw: json!({"gateway": 5}),
            expanded: json!({"gateway": 5}),
            includes: Vec::new(),
            config: Config::default(),
            original: None,
        };
        let err = loaded.set("gateway.mode", json!("local")).unwrap_err();
        assert!(
            err.to_string().contains("gateway is not an object"),
            "{err}"
        );
    }
}
