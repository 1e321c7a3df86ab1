//! Profiles: which isolated gateway instance an invocation talks about.
//!
//! A profile is selected by `--profile <name>`, by `--dev` (profile `dev` with its own default
//! port), or by `OPENCLAW_PROFILE`. Names are trimmed; empty or `default` in any case means the
//! default profile; any other name must match `^[a-z0-9][a-z0-9_-]{0,63}$` (case-insensitive)
//! and keeps its case.

use std::fmt;

use crate::environment::Environment;

/// The message printed for a profile name that does not match the allowed pattern.
pub const INVALID_PROFILE_MESSAGE: &str =
    "Invalid --profile (use letters, numbers, \"_\", \"-\" only)";
/// The message printed when `--dev` and `--profile` are given together.
pub const DEV_WITH_PROFILE_MESSAGE: &str = "Cannot combine --dev with --profile";

/// A validated profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Profile {
    /// The default profile: state in `~/.openclaw`, port 18789, un-suffixed service names.
    Default,
    /// A named profile (validated, trimmed, case kept).
    Named(String),
}

impl Profile {
    /// Parses a profile name as given on the command line or in `OPENCLAW_PROFILE`.
    pub fn parse(raw: &str) -> Result<Self, ProfileError> {
        let name = raw.trim();
        if name.is_empty() || name.eq_ignore_ascii_case("default") {
            return Ok(Self::Default);
        }
        if is_valid_profile_name(name) {
            Ok(Self::Named(name.to_owned()))
        } else {
            Err(ProfileError::InvalidName(name.to_owned()))
        }
    }

    /// The profile name, `None` for the default profile.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Default => None,
            Self::Named(name) => Some(name),
        }
    }

    /// True for the default profile.
    pub fn is_default(&self) -> bool {
        matches!(self, Self::Default)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().unwrap_or("default"))
    }
}

fn is_valid_profile_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let first_ok = bytes.first().is_some_and(|b| b.is_ascii_alphanumeric());
    first_ok
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
}

/// Where the selected profile came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSource {
    /// `--profile <name>`.
    Flag,
    /// `--dev`.
    DevFlag,
    /// `OPENCLAW_PROFILE`.
    Env,
    /// Nothing selected a profile.
    Default,
}

impl ProfileSource {
    /// A short label for reports (`cli`, `cli --dev`, `env`, `default`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Flag => "cli",
            Self::DevFlag => "cli --dev",
            Self::Env => "env OPENCLAW_PROFILE",
            Self::Default => "default",
        }
    }
}

/// The profile an invocation runs under, with how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSelection {
    /// The profile.
    pub profile: Profile,
    /// True when chosen by the root `--dev` flag (which also changes the default port).
    pub dev: bool,
    /// Where the choice came from.
    pub source: ProfileSource,
}

impl ProfileSelection {
    /// Resolves the profile from `--profile`, `--dev` and `OPENCLAW_PROFILE` (flags win over env).
    pub fn resolve(flag: Option<&str>, dev: bool, env: &Environment) -> Result<Self, ProfileError> {
        match (flag, dev) {
            (Some(_), true) => Err(ProfileError::DevWithProfile),
            (None, true) => Ok(Self {
                profile: Profile::Named("dev".to_owned()),
                dev: true,
                source: ProfileSource::DevFlag,
            }),
            (Some(raw), false) => Ok(Self {
                profile: Profile::parse(raw)?,
                dev: false,
                source: ProfileSource::Flag,
            }),
            (None, false) => match env.get("OPENCLAW_PROFILE") {
                Some(raw) => Ok(Self {
                    profile: Profile::parse(raw)?,
                    dev: false,
                    source: ProfileSource::Env,
                }),
                None => Ok(Self::default_profile()),
            },
        }
    }

    /// The default profile, chosen by nothing.
    pub fn default_profile() -> Self {
        Self {
            profile: Profile::Default,
            dev: false,
            source: ProfileSource::Default,
        }
    }
}

/// Why a profile could not be selected. Each is a usage error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The name does not match `^[a-z0-9][a-z0-9_-]{0,63}$`.
    #[error("{INVALID_PROFILE_MESSAGE}: {0:?}")]
    InvalidName(String),
    /// `--dev` together with `--profile`.
    #[error("{DEV_WITH_PROFILE_MESSAGE}")]
    DevWithProfile,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: &str) -> Profile {
        Profile::Named(n.to_owned())
    }

    #[test]
    fn empty_blank_and_any_case_default_mean_the_default_profile() {
        for raw in ["", "   ", "default", "DEFAULT", " Default "] {
            assert_eq!(Profile::parse(raw), Ok(Profile::Default), "{raw:?}");
        }
    }

    #[test]
    fn names_are_trimmed_and_keep_their_case() {
        assert_eq!(Profile::parse(" rescue "), Ok(named("rescue")));
        assert_eq!(Profile::parse("Work_2-b"), Ok(named("Work_2-b")));
        assert_eq!(Profile::parse("0"), Ok(named("0")));
    }

    #[test]
    fn names_outside_the_pattern_are_rejected_with_the_documented_message() {
        let long = "a".repeat(65);
        for raw in ["-x", "_x", "a b", "a.b", "a/b", "ré", "a!", long.as_str()] {
            let err = Profile::parse(raw).unwrap_err();
            assert!(
                err.to_string().starts_with(INVALID_PROFILE_MESSAGE),
                "{raw:?}: {err}"
            );
        }
        assert_eq!(Profile::parse(&"a".repeat(64)), Ok(named(&"a".repeat(64))));
    }

    #[test]
    fn dev_flag_selects_the_dev_profile_and_conflicts_with_profile() {
        let env = Environment::empty();
        let sel = ProfileSelection::resolve(None, true, &env).unwrap();
        assert_eq!(sel.profile, named("dev"));
        assert!(sel.dev);
        assert_eq!(
            ProfileSelection::resolve(Some("x"), true, &env),
            Err(ProfileError::DevWithProfile)
        );
        assert_eq!(
            ProfileSelection::resolve(Some("default"), true, &env),
            Err(ProfileError::DevWithProfile)
        );
    }

    #[test]
    fn openclaw_profile_env_works_like_the_flag_and_the_flag_wins() {
        let env = Environment::empty().with("OPENCLAW_PROFILE", "work");
        let sel = ProfileSelection::resolve(None, false, &env).unwrap();
        assert_eq!(
            (sel.profile, sel.source),
            (named("work"), ProfileSource::Env)
        );
        let sel = ProfileSelection::resolve(Some("rescue"), false, &env).unwrap();
        assert_eq!(
            (sel.profile, sel.source),
            (named("rescue"), ProfileSource::Flag)
        );
        let sel = ProfileSelection::resolve(None, true, &env).unwrap();
        assert_eq!(sel.profile, named("dev"));
        let bad = Environment::empty().with("OPENCLAW_PROFILE", "no way");
        assert!(ProfileSelection::resolve(None, false, &bad).is_err());
        let dev_env = Environment::empty().with("OPENCLAW_PROFILE", "dev");
        let sel = ProfileSelection::resolve(None, false, &dev_env).unwrap();
        assert!(!sel.dev, "OPENCLAW_PROFILE=dev is a plain named profile");
    }
}
