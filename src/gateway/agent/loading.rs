//! Building the runtime at start-up and its catalog at each config reload, with every catalog
//! problem logged at its file and line.

use std::path::Path;

use super::catalog::{Catalog, Problem};
use super::runtime::{AgentRuntime, DEFAULT_CONCURRENT_SESSIONS};
use crate::config::{Config, Segment, locate_value};
use crate::environment::Environment;
use crate::gateway::session::{DATABASE_FILE, SessionStore};

/// The runtime of a gateway with `config` (read from `config_path`) and `state_dir`: the
/// catalog (its problems logged) and the session store, opened at its first use (a store that
/// cannot be opened is logged then; every run fails with the reason).
pub fn open_runtime(
    config: &Config,
    config_path: &Path,
    state_dir: &Path,
    env: &Environment,
) -> AgentRuntime {
    let catalog = build_catalog(config, config_path, env);
    let path = state_dir.join(DATABASE_FILE);
    AgentRuntime::deferred(
        catalog,
        move || SessionStore::open(&path, crate::gateway::state::now_ms()),
        DEFAULT_CONCURRENT_SESSIONS,
    )
}

/// The catalog of `config`, its problems logged as `<file>:<line>:<column>: <key>: <message>`.
pub fn build_catalog(config: &Config, config_path: &Path, env: &Environment) -> Catalog {
    let home = env.home_dir().unwrap_or_default();
    let catalog = Catalog::build(config, env, &home);
    if !catalog.problems().is_empty() {
        let text = std::fs::read_to_string(config_path).unwrap_or_default();
        for problem in catalog.problems() {
            tracing::error!("{}", located(problem, config_path, &text));
        }
    }
    catalog
}

/// `problem` with the file and, when the root file holds the key, its line and column.
pub fn located(problem: &Problem, config_path: &Path, text: &str) -> String {
    let segments: Vec<Segment> = problem
        .key_path
        .split('.')
        .map(|k| match k.parse::<usize>() {
            Ok(i) => Segment::Index(i),
            Err(_) => Segment::Key(k.to_owned()),
        })
        .collect();
    let at = locate_value(text, &segments)
        .map(|lc| format!(":{}:{}", lc.line, lc.column))
        .unwrap_or_default();
    format!(
        "{}{at}: {}: {}",
        config_path.display(),
        problem.key_path,
        problem.message
    )
}
