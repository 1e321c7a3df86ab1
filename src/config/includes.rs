//! `$include` in `openclaw.json`: one config split over several files.
//!
//! Any object of the document — the top level, a nested object, an object inside an array — may
//! hold a `$include` key naming one file (`"./gateway.json5"`) or several (`["./a.json5",
//! "./b.json5"]`, deep-merged left to right, starting from `{}`). The object's other keys (its
//! "siblings") are expanded too and deep-merged over the included content, so the including
//! file has the last word; without siblings the object *is* the included value, whatever its
//! type. Deep merge: objects merge key by key, arrays concatenate, anything else is replaced by
//! the overriding value.
//!
//! A path is relative to the file holding the `$include` (absolute paths are allowed) and must
//! stay, once normalised and again with symlinks resolved, inside the root config file's
//! directory or one of the directories listed in `OPENCLAW_INCLUDE_ROOTS` (`:`-separated, `;`
//! on Windows; entries trimmed, `~` expanded, relative entries ignored). An included file is a
//! regular file of at most 2 MiB, parsed as JSON5 like the root file (a syntax error names the
//! included file, line and column), and may include further files, relative to itself, up to
//! 10 levels deep; a cycle is an error.
//!
//! [`expand_includes`] is a pure function of the parsed root document, the root file's path,
//! the allowed roots and an [`IncludeReader`] (the file-system seam). It runs before `${VAR}`
//! substitution, never writes, and reports every file it looked at (also when it failed), so
//! the gateway's hot reload can watch them.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::file::{ConfigError, decode_utf8, json_type, parse_json5};
use crate::environment::{Environment, expand_tilde};

/// The directive key.
pub const INCLUDE_KEY: &str = "$include";

/// How many files deep includes may nest (the root file's includes are level 1).
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// The largest included file read.
pub const MAX_INCLUDE_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// How many included files one expansion may read in all (a file included from several places
/// counts each time). Nesting is capped by [`MAX_INCLUDE_DEPTH`], but fan-out is not: ten
/// levels of files each including the next one four times would read a million files and
/// build an exponentially large document. The reference has no such cap; no real config comes
/// near it.
pub const MAX_INCLUDE_LOADS: usize = 1000;

/// Include paths (as written, and resolved) must be shorter than this.
const MAX_INCLUDE_PATH_LENGTH: usize = 4096;

/// Why an included file could not be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// A directory, device, FIFO, socket...
    NotARegularFile,
    /// Larger than the limit (bytes).
    TooLarge(u64),
    /// Opening or reading failed (a missing file, permissions...).
    Io(io::Error),
}

/// Reads included files: the seam between expansion and the file system.
pub trait IncludeReader {
    /// The bytes of the file at `path` (absolute, normalised, already checked to be inside an
    /// allowed root).
    fn read(&self, path: &Path) -> Result<Vec<u8>, ReadFailure>;
}

/// The file system: regular files of at most `max_bytes`.
#[derive(Debug, Clone, Copy)]
pub struct FsIncludeReader {
    /// The size limit.
    pub max_bytes: u64,
}

impl Default for FsIncludeReader {
    fn default() -> Self {
        Self {
            max_bytes: MAX_INCLUDE_FILE_BYTES,
        }
    }
}

impl IncludeReader for FsIncludeReader {
    fn read(&self, path: &Path) -> Result<Vec<u8>, ReadFailure> {
        // Checked before opening: opening a FIFO would block.
        let check = |meta: fs::Metadata| {
            if !meta.is_file() {
                Err(ReadFailure::NotARegularFile)
            } else if meta.len() > self.max_bytes {
                Err(ReadFailure::TooLarge(self.max_bytes))
            } else {
                Ok(())
            }
        };
        check(fs::metadata(path).map_err(ReadFailure::Io)?)?;
        let file = fs::File::open(path).map_err(ReadFailure::Io)?;
        check(file.metadata().map_err(ReadFailure::Io)?)?;
        let mut bytes = Vec::new();
        file.take(self.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(ReadFailure::Io)?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(ReadFailure::TooLarge(self.max_bytes));
        }
        Ok(bytes)
    }
}

/// The directories `OPENCLAW_INCLUDE_ROOTS` allows besides the config file's own: split on `:`
/// (`;` on Windows), trimmed, `~` expanded with the account home, normalised; relative entries
/// (and `~` entries without a home) are dropped, duplicates kept once.
pub fn include_roots(env: &Environment) -> Vec<PathBuf> {
    let Some(raw) = env.get_nonempty("OPENCLAW_INCLUDE_ROOTS") else {
        return Vec::new();
    };
    let delimiter = if cfg!(windows) { ';' } else { ':' };
    let home = env.home_dir();
    let mut roots = Vec::new();
    for entry in raw
        .split(delimiter)
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let path = match &home {
            Some(home) => expand_tilde(entry, home),
            None if entry.starts_with('~') => continue,
            None => PathBuf::from(entry),
        };
        if !path.is_absolute() {
            continue;
        }
        let path = normalize(&path);
        if !roots.contains(&path) {
            roots.push(path);
        }
    }
    roots
}

/// What [`expand_includes`] did.
#[derive(Debug)]
pub struct Expansion {
    /// The document with every `$include` expanded, or the first error.
    pub document: Result<Value, ConfigError>,
    /// Every file an `$include` named that lies inside an allowed root (absolute, normalised,
    /// each once, in the order first met) — read, or attempted when the expansion failed on
    /// it (a missing file is listed, so a watcher sees it appear).
    pub files: Vec<PathBuf>,
}

/// Expands every `$include` of `document`, the parsed content of the root config file at
/// `config_path` (absolute), allowing files inside its directory and `allowed_roots`
/// (absolute; others are ignored), reading them through `reader`.
pub fn expand_includes(
    document: &Value,
    config_path: &Path,
    allowed_roots: &[PathBuf],
    reader: &dyn IncludeReader,
) -> Expansion {
    if !has_include(document) {
        return Expansion {
            document: Ok(document.clone()),
            files: Vec::new(),
        };
    }
    let config_path = normalize(config_path);
    let config_dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut roots = vec![Root::new(config_dir)];
    roots.extend(
        allowed_roots
            .iter()
            .filter(|r| r.is_absolute())
            .map(|r| Root::new(normalize(r))),
    );
    let mut expander = Expander {
        roots,
        reader,
        files: Vec::new(),
        loads: 0,
    };
    let document = expander.process(document, &[config_path], &mut Vec::new());
    Expansion {
        document,
        files: expander.files,
    }
}

/// True when some object of `value` holds a `$include` key.
pub fn has_include(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key(INCLUDE_KEY) || map.values().any(has_include),
        Value::Array(items) => items.iter().any(has_include),
        _ => false,
    }
}

/// Merges `over` into `base`: objects key by key (recursively, `base`'s key order first),
/// arrays concatenated, anything else replaced by `over`.
pub fn deep_merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Array(mut base), Value::Array(over)) => {
            base.extend(over);
            Value::Array(base)
        }
        (Value::Object(mut base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => *slot = deep_merge(std::mem::take(slot), value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
            Value::Object(base)
        }
        (_, over) => over,
    }
}

/// An allowed directory, as written and with symlinks resolved.
struct Root {
    dir: PathBuf,
    real: PathBuf,
}

impl Root {
    fn new(dir: PathBuf) -> Self {
        let real = fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        Self { dir, real }
    }
}

struct Expander<'a> {
    /// The config file's directory first.
    roots: Vec<Root>,
    reader: &'a dyn IncludeReader,
    files: Vec<PathBuf>,
    /// Included files read so far (see [`MAX_INCLUDE_LOADS`]).
    loads: usize,
}

impl Expander<'_> {
    /// Expands `value`, found in the last file of `chain` (the root config file first) at the
    /// config key `key_path`.
    fn process(
        &mut self,
        value: &Value,
        chain: &[PathBuf],
        key_path: &mut Vec<String>,
    ) -> Result<Value, ConfigError> {
        match value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    key_path.push(index.to_string());
                    let expanded = self.process(item, chain, key_path);
                    key_path.pop();
                    out.push(expanded?);
                }
                Ok(Value::Array(out))
            }
            Value::Object(map) => {
                let included = match map.get(INCLUDE_KEY) {
                    Some(include) => Some(self.resolve(include, chain, key_path)?),
                    None => None,
                };
                if let Some(included) = &included {
                    if map.len() == 1 {
                        return Ok(included.clone());
                    }
                    if !included.is_object() {
                        return Err(error(
                            chain,
                            key_path,
                            map[INCLUDE_KEY].as_str().unwrap_or(INCLUDE_KEY),
                            format!(
                                "Sibling keys require included content to be an object (it is {})",
                                json_type(included)
                            ),
                        ));
                    }
                }
                let mut rest = Map::new();
                for (key, item) in map.iter().filter(|(k, _)| *k != INCLUDE_KEY) {
                    key_path.push(key.clone());
                    let expanded = self.process(item, chain, key_path);
                    key_path.pop();
                    rest.insert(key.clone(), expanded?);
                }
                Ok(match included {
                    Some(included) => deep_merge(included, Value::Object(rest)),
                    None => Value::Object(rest),
                })
            }
            other => Ok(other.clone()),
        }
    }

    /// The content a `$include` value stands for.
    fn resolve(
        &mut self,
        include: &Value,
        chain: &[PathBuf],
        key_path: &mut Vec<String>,
    ) -> Result<Value, ConfigError> {
        match include {
            Value::String(file) => self.load(file, chain, key_path),
            Value::Array(items) => {
                let mut merged = Value::Object(Map::new());
                for item in items {
                    let Value::String(file) = item else {
                        return Err(error(
                            chain,
                            key_path,
                            INCLUDE_KEY,
                            format!(
                                "Invalid $include array item: expected string, got {}",
                                json_type(item)
                            ),
                        ));
                    };
                    merged = deep_merge(merged, self.load(file, chain, key_path)?);
                }
                Ok(merged)
            }
            other => Err(error(
                chain,
                key_path,
                INCLUDE_KEY,
                format!(
                    "Invalid $include value: expected string or array of strings, got {}",
                    json_type(other)
                ),
            )),
        }
    }

    /// Reads, parses and expands the file `include` names.
    fn load(
        &mut self,
        include: &str,
        chain: &[PathBuf],
        key_path: &mut Vec<String>,
    ) -> Result<Value, ConfigError> {
        let fail = |message: String| error(chain, key_path, include, message);
        let resolved = self.resolve_path(include, chain).map_err(fail)?;
        if chain.contains(&resolved) {
            let cycle: Vec<String> = chain
                .iter()
                .chain([&resolved])
                .map(|p| p.display().to_string())
                .collect();
            return Err(fail(format!(
                "Circular include detected: {}",
                cycle.join(" -> ")
            )));
        }
        if chain.len() > MAX_INCLUDE_DEPTH {
            return Err(fail(format!(
                "Maximum include depth ({MAX_INCLUDE_DEPTH}) exceeded at: {include}"
            )));
        }
        self.loads += 1;
        if self.loads > MAX_INCLUDE_LOADS {
            return Err(fail(format!(
                "More than {MAX_INCLUDE_LOADS} included files read while expanding the config \
                 (a file included from several places counts each time) at: {include}"
            )));
        }
        let where_ = format!("{include} (resolved: {})", resolved.display());
        let bytes = self.reader.read(&resolved).map_err(|failure| {
            fail(match failure {
                ReadFailure::NotARegularFile => {
                    format!("Include file is not a regular file: {where_}")
                }
                ReadFailure::TooLarge(limit) => {
                    format!("Include file is larger than {limit} bytes: {where_}")
                }
                ReadFailure::Io(e) => format!("Failed to read include file: {where_}: {e}"),
            })
        })?;
        let text = decode_utf8(&resolved, &bytes)?;
        let parsed = parse_json5(&resolved, &text)?;
        let mut chain = chain.to_vec();
        chain.push(resolved);
        self.process(&parsed, &chain, key_path)
    }

    /// The absolute, normalised path `include` names from the last file of `chain`, once it is
    /// known to lie inside an allowed root (then it is recorded in `files`).
    fn resolve_path(&mut self, include: &str, chain: &[PathBuf]) -> Result<PathBuf, String> {
        if include.contains('\0') {
            return Err("Include path must not contain null bytes".to_owned());
        }
        if include.encode_utf16().count() >= MAX_INCLUDE_PATH_LENGTH {
            return Err(format!(
                "Include path exceeds maximum length ({MAX_INCLUDE_PATH_LENGTH} characters)"
            ));
        }
        let including = chain.last().expect("the chain starts with the root file");
        let base = including.parent().unwrap_or(Path::new(""));
        let resolved = normalize(&base.join(include));
        if resolved.as_os_str().len() >= MAX_INCLUDE_PATH_LENGTH {
            return Err(format!(
                "Resolved include path exceeds maximum length ({MAX_INCLUDE_PATH_LENGTH} characters)"
            ));
        }
        let config_dir = self.roots[0].dir.display();
        if !self.roots.iter().any(|r| resolved.starts_with(&r.dir)) {
            return Err(format!(
                "Include path escapes config directory: {include} (root: {config_dir})"
            ));
        }
        if !self.files.contains(&resolved) {
            self.files.push(resolved.clone());
        }
        match fs::canonicalize(&resolved) {
            Ok(real) if self.roots.iter().any(|r| real.starts_with(&r.real)) => {}
            Ok(_) => {
                return Err(format!(
                    "Include path resolves outside config directory (symlink): {include} (root: {config_dir})"
                ));
            }
            // The read reports it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(format!(
                    "Failed to resolve include file realpath: {include} (resolved: {}): {e}",
                    resolved.display()
                ));
            }
        }
        Ok(resolved)
    }
}

/// An include error of the `$include` at `key_path` in the last file of `chain`.
fn error(chain: &[PathBuf], key_path: &[String], include: &str, message: String) -> ConfigError {
    ConfigError::Include {
        path: chain[0].clone(),
        chain: chain[1..].to_vec(),
        key_path: key_path.join("."),
        include: include.to_owned(),
        message,
    }
}

/// `path` with `.` dropped and `..` applied lexically (never above the root), like Node's
/// `path.normalize`; symlinks are not looked at.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config_text;
    use serde_json::json;

    /// A config dir holding `files` (parent dirs created).
    fn config_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    fn expand_in(dir: &Path, document: Value, roots: &[PathBuf]) -> Expansion {
        expand_includes(
            &document,
            &dir.join("openclaw.json"),
            roots,
            &FsIncludeReader::default(),
        )
    }

    fn expand(dir: &Path, document: Value) -> Result<Value, ConfigError> {
        expand_in(dir, document, &[]).document
    }

    /// The message of an include error (panics on anything else).
    fn include_error(result: Result<Value, ConfigError>) -> String {
        match result {
            Err(ConfigError::Include { message, .. }) => message,
            other => panic!("expected an include error, got {other:?}"),
        }
    }

    #[test]
    fn a_single_include_is_the_object_it_stands_in() {
        let dir = config_dir(&[("base.json5", "// base\n{ gateway: { port: 1234 }, }")]);
        let out = expand_in(dir.path(), json!({"$include": "./base.json5"}), &[]);
        assert_eq!(out.document.unwrap(), json!({"gateway": {"port": 1234}}));
        assert_eq!(out.files, [dir.path().join("base.json5")]);
    }

    #[test]
    fn an_include_may_hold_any_value_where_it_has_no_siblings() {
        let dir = config_dir(&[("list.json5", "['a', 'b']"), ("n.json", "5")]);
        let out = expand(
            dir.path(),
            json!({"xs": {"$include": "list.json5"}, "n": {"$include": "n.json"}}),
        );
        assert_eq!(out.unwrap(), json!({"xs": ["a", "b"], "n": 5}));
    }

    #[test]
    fn an_array_include_merges_its_files_left_to_right() {
        let dir = config_dir(&[
            ("a.json5", "{ x: 1, keep: 'a', list: [1], obj: { a: 1 } }"),
            ("b.json5", "{ x: 2, list: [2], obj: { b: 2 } }"),
        ]);
        let out = expand(dir.path(), json!({"$include": ["./a.json5", "./b.json5"]}));
        assert_eq!(
            out.unwrap(),
            json!({"x": 2, "keep": "a", "list": [1, 2], "obj": {"a": 1, "b": 2}})
        );
        let out = expand(dir.path(), json!({"$include": []}));
        assert_eq!(out.unwrap(), json!({}), "no files: an empty object");
    }

    #[test]
    fn siblings_override_included_primitives_merge_objects_and_concat_arrays() {
        let dir = config_dir(&[(
            "base.json5",
            "{ mode: 'remote', port: 1, auth: { token: 't', mode: 'token' }, list: ['inc'], only: true }",
        )]);
        let out = expand(
            dir.path(),
            json!({"gateway": {
                "mode": "local",
                "$include": "./base.json5",
                "auth": {"mode": "password"},
                "list": ["root"],
            }}),
        );
        assert_eq!(
            out.unwrap(),
            json!({"gateway": {
                "mode": "local",
                "port": 1,
                "auth": {"token": "t", "mode": "password"},
                "list": ["inc", "root"],
                "only": true,
            }})
        );
    }

    #[test]
    fn nested_includes_resolve_relative_to_the_including_file() {
        let dir = config_dir(&[
            (
                "conf/gateway.json5",
                "{ port: 1, auth: { $include: './auth/token.json5' } }",
            ),
            ("conf/auth/token.json5", "{ token: 'from-deep' }"),
        ]);
        let out = expand_in(
            dir.path(),
            json!({"gateway": {"$include": "conf/gateway.json5"}}),
            &[],
        );
        assert_eq!(
            out.document.unwrap(),
            json!({"gateway": {"port": 1, "auth": {"token": "from-deep"}}})
        );
        assert_eq!(
            out.files,
            [
                dir.path().join("conf/gateway.json5"),
                dir.path().join("conf/auth/token.json5")
            ]
        );
    }

    #[test]
    fn includes_inside_nested_objects_and_arrays_are_expanded() {
        let dir = config_dir(&[
            ("gateway.json5", "{ mode: 'local', port: 18790 }"),
            ("agent.json5", "{ id: 'a1' }"),
        ]);
        let out = expand(
            dir.path(),
            json!({
                "gateway": {"$include": "./gateway.json5"},
                "agents": {"list": [{"$include": "./agent.json5", "name": "x"}, {"id": "a2"}]},
                "keep": "${VAR}",
            }),
        );
        assert_eq!(
            out.unwrap(),
            json!({
                "gateway": {"mode": "local", "port": 18790},
                "agents": {"list": [{"id": "a1", "name": "x"}, {"id": "a2"}]},
                "keep": "${VAR}",
            })
        );
    }

    #[test]
    fn an_absolute_path_inside_the_config_dir_is_allowed() {
        let dir = config_dir(&[("a.json5", "{ a: 1 }")]);
        let absolute = dir.path().join("sub/../a.json5");
        let out = expand(dir.path(), json!({"$include": absolute.to_str().unwrap()}));
        assert_eq!(out.unwrap(), json!({"a": 1}));
    }

    #[test]
    fn a_path_outside_the_config_dir_is_refused() {
        let outer = config_dir(&[("secret.json5", "{ a: 1 }"), ("conf/x", "")]);
        let dir = outer.path().join("conf");
        let message = include_error(expand(&dir, json!({"$include": "../secret.json5"})));
        assert_eq!(
            message,
            format!(
                "Include path escapes config directory: ../secret.json5 (root: {})",
                dir.display()
            )
        );
        let absolute = outer.path().join("secret.json5");
        let message = include_error(expand(
            &dir,
            json!({"$include": absolute.to_str().unwrap()}),
        ));
        assert!(
            message.starts_with("Include path escapes config directory: /"),
            "{message}"
        );
        // A sibling directory sharing the prefix is outside too.
        let message = include_error(expand(&dir, json!({"$include": "../conf2/x.json5"})));
        assert!(
            message.starts_with("Include path escapes config directory"),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_leading_outside_the_config_dir_is_refused() {
        let outer = config_dir(&[
            ("secret.json5", "{ a: 1 }"),
            ("conf/inside.json5", "{ b: 2 }"),
        ]);
        let dir = outer.path().join("conf");
        std::os::unix::fs::symlink(outer.path().join("secret.json5"), dir.join("link.json5"))
            .unwrap();
        std::os::unix::fs::symlink(dir.join("inside.json5"), dir.join("ok.json5")).unwrap();
        let message = include_error(expand(&dir, json!({"$include": "./link.json5"})));
        assert_eq!(
            message,
            format!(
                "Include path resolves outside config directory (symlink): ./link.json5 (root: {})",
                dir.display()
            )
        );
        let out = expand(&dir, json!({"$include": "./ok.json5"}));
        assert_eq!(
            out.unwrap(),
            json!({"b": 2}),
            "a symlink staying inside is fine"
        );
    }

    #[test]
    fn openclaw_include_roots_allows_more_directories() {
        let home = config_dir(&[("shared/common.json5", "{ shared: true }")]);
        let dir = config_dir(&[]);
        let env = Environment::empty()
            .with("HOME", home.path().to_str().unwrap())
            .with(
                "OPENCLAW_INCLUDE_ROOTS",
                " relative/ignored : ~/shared/ :/nowhere/../elsewhere: ~/shared",
            );
        let roots = include_roots(&env);
        assert_eq!(
            roots,
            [home.path().join("shared"), PathBuf::from("/elsewhere")]
        );
        let common = home.path().join("shared/common.json5");
        let document = json!({"$include": common.to_str().unwrap()});
        assert_eq!(
            expand_in(dir.path(), document.clone(), &roots)
                .document
                .unwrap(),
            json!({"shared": true})
        );
        let message = include_error(expand_in(dir.path(), document, &[]).document);
        assert!(
            message.starts_with("Include path escapes config directory"),
            "{message}"
        );
        // The config reader takes the roots from its environment.
        let text = format!("{{ $include: '{}' }}", common.display());
        let path = dir.path().join("openclaw.json");
        let parsed = parse_config_text(&path, &text, &env).unwrap();
        assert_eq!(parsed.expanded, json!({"shared": true}));
        assert!(parse_config_text(&path, &text, &Environment::empty()).is_err());
        assert!(include_roots(&Environment::empty()).is_empty());
        let no_home = Environment::empty().with("OPENCLAW_INCLUDE_ROOTS", "~/x");
        assert!(
            include_roots(&no_home).is_empty(),
            "~ without a home is dropped"
        );
    }

    #[test]
    fn a_missing_file_names_the_include_and_the_resolved_path_and_is_still_listed() {
        let dir = config_dir(&[]);
        let out = expand_in(
            dir.path(),
            json!({"gateway": {"$include": "./gw.json5"}}),
            &[],
        );
        let missing = dir.path().join("gw.json5");
        let err = out.document.unwrap_err();
        let message = match &err {
            ConfigError::Include {
                key_path,
                include,
                message,
                ..
            } => {
                assert_eq!(
                    (key_path.as_str(), include.as_str()),
                    ("gateway", "./gw.json5")
                );
                message.clone()
            }
            other => panic!("{other:?}"),
        };
        assert!(
            message.starts_with(&format!(
                "Failed to read include file: ./gw.json5 (resolved: {})",
                missing.display()
            )),
            "{message}"
        );
        assert_eq!(out.files, [missing], "a watcher sees the file appear");
        let root = dir.path().join("openclaw.json");
        assert!(
            err.to_string().starts_with(&format!(
                "{}: $include at gateway: Failed to read include file",
                root.display()
            )),
            "{err}"
        );
        assert!(
            err.to_string()
                .ends_with("(fix the file; it was not modified)")
        );
    }

    #[test]
    fn files_over_2_mib_and_non_regular_files_are_refused() {
        let dir = config_dir(&[("sub/x.json5", "{}")]);
        let mut big = String::from("{ a: '");
        big.push_str(&"x".repeat(2 * 1024 * 1024));
        big.push_str("' }");
        fs::write(dir.path().join("big.json5"), big).unwrap();
        let message = include_error(expand(dir.path(), json!({"$include": "big.json5"})));
        assert!(
            message.starts_with("Include file is larger than 2097152 bytes: big.json5 (resolved: "),
            "{message}"
        );
        let message = include_error(expand(dir.path(), json!({"$include": "sub"})));
        assert!(
            message.starts_with("Include file is not a regular file: sub (resolved: "),
            "{message}"
        );
        let small = FsIncludeReader { max_bytes: 2 };
        assert!(matches!(
            small.read(&dir.path().join("sub/x.json5")),
            Ok(bytes) if bytes == b"{}"
        ));
    }

    #[test]
    fn a_cycle_is_an_error_naming_the_files() {
        let dir = config_dir(&[
            ("a.json5", "{ $include: './b.json5' }"),
            ("b.json5", "{ x: { $include: './a.json5' } }"),
            ("self.json5", "{ $include: './openclaw.json' }"),
        ]);
        let [root, a, b] = ["openclaw.json", "a.json5", "b.json5"].map(|n| dir.path().join(n));
        let err = expand(dir.path(), json!({"$include": "a.json5"})).unwrap_err();
        let ConfigError::Include {
            chain,
            key_path,
            message,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            message,
            &format!(
                "Circular include detected: {} -> {} -> {} -> {}",
                root.display(),
                a.display(),
                b.display(),
                a.display()
            )
        );
        assert_eq!(chain, &[a.clone(), b.clone()], "the $include stands in b");
        assert_eq!(key_path, "x");
        assert!(
            err.to_string().starts_with(&format!(
                "{} -> {} -> {}: $include at x: Circular include detected",
                root.display(),
                a.display(),
                b.display()
            )),
            "{err}"
        );
        let message = include_error(expand(dir.path(), json!({"$include": "self.json5"})));
        assert!(
            message.starts_with("Circular include detected"),
            "{message}"
        );
        // The same file twice side by side is no cycle.
        let dir = config_dir(&[("n.json5", "{ n: 1 }")]);
        let out = expand(
            dir.path(),
            json!({"a": {"$include": "n.json5"}, "b": {"$include": "n.json5"}}),
        );
        assert_eq!(out.unwrap(), json!({"a": {"n": 1}, "b": {"n": 1}}));
    }

    #[test]
    fn includes_nest_ten_levels_deep_and_no_deeper() {
        let chain_of = |levels: usize| {
            let dir = config_dir(&[]);
            for level in 1..=levels {
                let text = if level == levels {
                    format!("{{ level: {level} }}")
                } else {
                    format!("{{ $include: './f{}.json5' }}", level + 1)
                };
                fs::write(dir.path().join(format!("f{level}.json5")), text).unwrap();
            }
            dir
        };
        let dir = chain_of(MAX_INCLUDE_DEPTH);
        let out = expand(dir.path(), json!({"$include": "./f1.json5"}));
        assert_eq!(out.unwrap(), json!({"level": 10}));
        let dir = chain_of(MAX_INCLUDE_DEPTH + 1);
        let message = include_error(expand(dir.path(), json!({"$include": "./f1.json5"})));
        assert_eq!(
            message,
            "Maximum include depth (10) exceeded at: ./f11.json5"
        );
    }

    #[test]
    fn fan_out_is_capped_at_a_thousand_file_reads() {
        // f1 includes f2 four times, f2 includes f3 four times, ... (4^k reads at level k).
        let mut files = vec![];
        for level in 1..=6 {
            let next = format!("./f{}.json5", level + 1);
            files.push((
                format!("f{level}.json5"),
                format!(r#"{{ a: {{ $include: ["{next}", "{next}", "{next}", "{next}"] }} }}"#),
            ));
        }
        files.push(("f7.json5".to_owned(), "{ x: [1] }".to_owned()));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let dir = config_dir(&refs);
        let message = include_error(expand(dir.path(), json!({"$include": "./f1.json5"})));
        assert!(
            message.contains("More than 1000 included files read while expanding the config"),
            "{message}"
        );
        // With f5 a leaf: 1 + 4 + 16 + 64 + 256 = 341 reads, fine.
        std::fs::write(dir.path().join("f5.json5"), "{ x: [1] }").unwrap();
        assert!(expand(dir.path(), json!({"$include": "./f1.json5"})).is_ok());
    }

    #[test]
    fn include_values_must_be_a_path_or_a_list_of_paths() {
        let dir = config_dir(&[("a.json5", "{}")]);
        for (value, got) in [
            (json!(5), "a number"),
            (json!(null), "null"),
            (json!({"a": 1}), "an object"),
            (json!(true), "a boolean"),
        ] {
            let message = include_error(expand(dir.path(), json!({"$include": value})));
            assert_eq!(
                message,
                format!("Invalid $include value: expected string or array of strings, got {got}")
            );
        }
        let message = include_error(expand(dir.path(), json!({"$include": ["a.json5", 7]})));
        assert_eq!(
            message,
            "Invalid $include array item: expected string, got a number"
        );
        let message = include_error(expand(dir.path(), json!({"$include": "a\u{0}.json5"})));
        assert_eq!(message, "Include path must not contain null bytes");
        let long = "a/".repeat(2048);
        let message = include_error(expand(dir.path(), json!({"$include": long})));
        assert_eq!(
            message,
            "Include path exceeds maximum length (4096 characters)"
        );
    }

    #[test]
    fn siblings_need_included_content_that_is_an_object() {
        let dir = config_dir(&[("list.json5", "[1, 2]")]);
        let err = expand(
            dir.path(),
            json!({"xs": {"$include": "list.json5", "extra": 1}}),
        )
        .unwrap_err();
        match err {
            ConfigError::Include {
                include, message, ..
            } => {
                assert_eq!(include, "list.json5");
                assert_eq!(
                    message,
                    "Sibling keys require included content to be an object (it is an array)"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_syntax_error_in_an_included_file_names_that_file_line_and_column() {
        let dir = config_dir(&[("gw.json5", "{\n  port: 1\n  mode: 'local'\n}")]);
        let err = expand(dir.path(), json!({"gateway": {"$include": "gw.json5"}})).unwrap_err();
        let included = dir.path().join("gw.json5");
        match &err {
            ConfigError::Syntax {
                path, line, column, ..
            } => assert_eq!((path, *line, *column), (&included, 3, 3)),
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string().starts_with(&format!(
                "{}:3:3: invalid JSON5 in config:",
                included.display()
            )),
            "{err}"
        );
        fs::write(&included, b"{ a: '\xff' }").unwrap();
        let err = expand(dir.path(), json!({"$include": "gw.json5"})).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Syntax { path, message, .. } if path == &included && message.contains("UTF-8")),
            "{err:?}"
        );
    }

    #[test]
    fn a_document_without_includes_touches_no_file() {
        let out = expand_in(
            Path::new("/nonexistent"),
            json!({"a": [{"b": "$include"}], "c": 1}),
            &[],
        );
        assert_eq!(
            out.document.unwrap(),
            json!({"a": [{"b": "$include"}], "c": 1})
        );
        assert!(out.files.is_empty());
    }

    #[test]
    fn deep_merge_concatenates_arrays_and_keeps_the_base_key_order() {
        let merged = deep_merge(
            json!({"a": 1, "o": {"x": [1], "y": 1}, "z": "base"}),
            json!({"z": {"now": "object"}, "o": {"x": [2], "w": 0}, "b": 2}),
        );
        assert_eq!(
            serde_json::to_string(&merged).unwrap(),
            r#"{"a":1,"o":{"x":[1,2],"y":1,"w":0},"z":{"now":"object"},"b":2}"#
        );
        assert_eq!(deep_merge(json!([1]), json!({"a": 1})), json!({"a": 1}));
    }

    /// The whole read: includes expanded before `${VAR}` substitution and typing; the raw
    /// document stays the root file as written.
    #[test]
    fn the_config_reader_expands_includes_before_substituting_env() {
        let dir = config_dir(&[(
            "gateway.json5",
            "{ port: 18790, auth: { token: '${TOK}' } }",
        )]);
        let path = dir.path().join("openclaw.json");
        let text = "{ gateway: { mode: 'local', $include: './gateway.json5' } }";
        let env = Environment::empty().with("TOK", "from-env");
        let parsed = parse_config_text(&path, text, &env).unwrap();
        assert_eq!(parsed.config.gateway_port(), Some(18790));
        assert_eq!(
            parsed.config.auth().unwrap().token,
            Some(crate::config::SecretInput::Plain("from-env".into()))
        );
        assert_eq!(
            parsed.raw,
            json!({"gateway": {"mode": "local", "$include": "./gateway.json5"}})
        );
        assert_eq!(parsed.expanded["gateway"]["auth"]["token"], "${TOK}");
        assert_eq!(parsed.includes, [dir.path().join("gateway.json5")]);
        let err = parse_config_text(&path, text, &Environment::empty()).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "{}: missing env var TOK referenced at config key gateway.auth.token",
                path.display()
            )),
            "no position in the root file for a value from an included one: {err}"
        );
    }

    #[test]
    fn invalid_values_point_into_the_root_file_only_where_it_holds_them() {
        let dir = config_dir(&[("gw.json5", "{ port: 'abc', list: ['bad'] }")]);
        let path = dir.path().join("openclaw.json");
        let env = Environment::empty();
        let err =
            parse_config_text(&path, "{\n gateway: { $include: 'gw.json5' } }", &env).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { at: None, key_path, .. } if key_path == "gateway.port"),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with(&format!(
                "{}: invalid config value at gateway.port:",
                path.display()
            )),
            "{err}"
        );
        // The root file's own value, next to an include, keeps its position.
        let err = parse_config_text(
            &path,
            "{\n gateway: { $include: 'gw.json5',\n   port: 'xyz' } }",
            &env,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { at: Some(at), .. } if (at.line, at.column) == (3, 10)),
            "{err:?}"
        );
    }

    #[test]
    fn a_top_level_include_must_yield_an_object() {
        let dir = config_dir(&[("list.json5", "[1]")]);
        let err = parse_config_text(
            &dir.path().join("openclaw.json"),
            "{ $include: './list.json5' }",
            &Environment::empty(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(
                "$include at the top level: the config must be an object, but the top-level $include yields an array"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_relative_config_path_resolves_against_the_captured_cwd() {
        let dir = config_dir(&[("conf/a.json5", "{ gateway: { port: 7 } }")]);
        let env = Environment::empty().with_cwd(dir.path());
        let parsed = parse_config_text(
            Path::new("conf/openclaw.json"),
            "{ $include: 'a.json5' }",
            &env,
        )
        .unwrap();
        assert_eq!(parsed.config.gateway_port(), Some(7));
    }

    #[test]
    fn normalize_applies_dot_dot_lexically() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
    }
}
