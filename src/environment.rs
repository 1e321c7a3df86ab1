//! A snapshot of the process environment, taken once at start-up and passed explicitly.
//!
//! Every resolver (profile, paths, ports, names) reads variables through this type instead of
//! `std::env`, so tests can describe any combination of variables without touching the real
//! process environment, and no code depends on global mutable state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variables, the current directory and the account home, as seen by one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
}

impl Environment {
    /// Captures the real process environment (variables that are not valid UTF-8 are skipped).
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self {
            vars,
            cwd: std::env::current_dir().ok(),
        }
    }

    /// An empty environment (tests build on it with [`Environment::with`]).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Returns a copy with `key` set to `value`.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.vars.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Returns a copy whose current directory is `cwd`.
    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// The raw value of `key`, if set (possibly empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// The trimmed value of `key` when it is set and not blank.
    pub fn get_nonempty(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// True when `key` is set to a truthy value (`1`, `true`, `yes`, `on`, any case).
    pub fn flag(&self, key: &str) -> bool {
        self.get_nonempty(key)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
    }

    /// All variables, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The account home: `HOME`, else `USERPROFILE`; `None` when neither is set.
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.get_nonempty("HOME")
            .or_else(|| self.get_nonempty("USERPROFILE"))
            .map(PathBuf::from)
    }

    /// The current directory captured with the snapshot, if it could be read.
    pub fn cwd(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// Expands a leading `~` (see [`expand_tilde`]) with `home`, and makes a relative path
    /// absolute against the captured current directory.
    pub fn resolve_user_path(&self, raw: &str, home: &Path) -> PathBuf {
        let expanded = expand_tilde(raw, home);
        if expanded.is_absolute() {
            expanded
        } else if let Some(cwd) = &self.cwd {
            cwd.join(expanded)
        } else {
            expanded
        }
    }
}

/// `raw` with a leading `~` replaced by `home`: `~` alone, `~/…`, and on Windows also `~\\…`.
/// Anything else (`~user`, relative or absolute paths) is returned as written.
pub fn expand_tilde(raw: &str, home: &Path) -> PathBuf {
    if raw == "~" {
        return home.to_path_buf();
    }
    match raw
        .strip_prefix("~/")
        .or_else(|| raw.strip_prefix("~\\").filter(|_| cfg!(windows)))
    {
        Some(rest) => home.join(rest),
        None => PathBuf::from(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_falls_back_to_userprofile_and_ignores_blank_home() {
        let env = Environment::empty()
            .with("HOME", "  ")
            .with("USERPROFILE", "C:/Users/a");
        assert_eq!(env.home_dir(), Some(PathBuf::from("C:/Users/a")));
        assert_eq!(Environment::empty().home_dir(), None);
    }

    #[test]
    fn user_paths_expand_tilde_and_resolve_relative_to_cwd() {
        let env = Environment::empty().with_cwd("/work");
        let home = Path::new("/home/u");
        assert_eq!(env.resolve_user_path("~", home), PathBuf::from("/home/u"));
        assert_eq!(
            env.resolve_user_path("~/x/y", home),
            PathBuf::from("/home/u/x/y")
        );
        assert_eq!(
            env.resolve_user_path("rel", home),
            PathBuf::from("/work/rel")
        );
        assert_eq!(env.resolve_user_path("/abs", home), PathBuf::from("/abs"));
        assert_eq!(
            env.resolve_user_path("~other", home),
            PathBuf::from("/work/~other")
        );
    }

    #[test]
    fn flags_accept_common_truthy_spellings_only() {
        let env = Environment::empty()
            .with("A", "1")
            .with("B", "TRUE")
            .with("C", "0")
            .with("D", "");
        assert!(env.flag("A"));
        assert!(env.flag("B"));
        assert!(!env.flag("C"));
        assert!(!env.flag("D"));
        assert!(!env.flag("E"));
    }
}
