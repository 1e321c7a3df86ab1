//! Sessions and transcripts (agent-runtime.md §4): one SQLite database in WAL mode under the
//! state dir (`<state>/sessions.sqlite`, 0600, with its `-wal` and `-shm` files of the same mode).
//!
//! - A session is a key (`agent:<agentId>:<rest>`) with its current `sessionId`; `reset` starts a
//!   new `sessionId` under the same key and keeps the old transcript.
//! - A run is one user message and its answer. [`SessionStore::accept_run`] commits the run
//!   (`queued`, with its message) when it is accepted; [`SessionStore::begin_turn`] appends the
//!   user entry and marks it `running` when its turn comes, before any upstream call (so a
//!   queued message never shows in an earlier run's history);
//!   [`SessionStore::finish_run`] commits the assistant entry (partial text as `incomplete`,
//!   `aborted` or `error`) and the run's end in another. Every change is one transaction, so a
//!   `kill -9` at any moment leaves a readable store with no half entry, and
//!   [`SessionStore::open`] closes a run it finds `queued` or `running` as `aborted`.
//! - Durability: `synchronous=NORMAL` in WAL mode — a committed turn survives a crash of the
//!   process; a power loss may lose the last commits but never corrupts the file (SQLite's WAL
//!   guarantee). It keeps an fsync off the path between a message and the model call.
//!
//! The connection sits behind the store's methods (one writer; every call is short: no network,
//! no fsync), so callers never see SQLite.

mod schema;
mod store;
#[cfg(test)]
mod tests;
mod transcript;

use serde::Serialize;

pub use self::store::{SessionPatch, SessionStore, StoreError};
pub use self::transcript::TranscriptPage;

/// `agent:<agentId>:<key>` for a bare key, a key with a `:` as given, `agent:<agentId>:main`
/// for an empty one.
pub fn scoped_key(key: &str, agent_id: &str) -> String {
    match key.trim() {
        "" => format!("agent:{agent_id}:main"),
        k if k.contains(':') => k.to_owned(),
        k => format!("agent:{agent_id}:{k}"),
    }
}

/// The database file under the state dir.
pub const DATABASE_FILE: &str = "sessions.sqlite";

/// One session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// `agent:<agentId>:<rest>`.
    pub key: String,
    /// The current transcript's id.
    pub session_id: String,
    /// The agent it belongs to.
    pub agent_id: String,
    /// Created (ms since the epoch).
    pub created_at: u64,
    /// Last change (ms).
    pub updated_at: u64,
    /// The owner's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A model override (`provider/model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A thinking level override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
    /// Prompt tokens of all its runs.
    pub input_tokens: u64,
    /// Completion tokens of all its runs.
    pub output_tokens: u64,
    /// All tokens of all its runs.
    pub total_tokens: u64,
}

/// Who wrote a transcript entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// The user's message.
    User,
    /// The model's answer.
    Assistant,
    /// A tool call of the model.
    ToolCall,
    /// A tool's result.
    ToolResult,
    /// A note appended without a run (`chat.inject`).
    Note,
}

/// How complete an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EntryStatus {
    /// Whole.
    Complete,
    /// Cut short by an upstream failure after some text.
    Incomplete,
    /// Cut short by an abort, a timeout or a shutdown.
    Aborted,
    /// The run failed; the entry holds what arrived (maybe nothing).
    Error,
}

/// One transcript entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The transcript it belongs to.
    pub session_id: String,
    /// Its position (from 1).
    pub ordinal: u64,
    /// Who wrote it.
    pub role: Role,
    /// Its text.
    pub text: String,
    /// Structured parts (tool calls), as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<serde_json::Value>,
    /// The run that wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// How complete it is.
    pub status: EntryStatus,
    /// The model that wrote it (`provider/model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The run's usage, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<serde_json::Value>,
    /// The note's label, or the failure that cut it short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Written (ms).
    pub created_at: u64,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    /// Accepted, waiting for its session's earlier runs (its message is not in the transcript
    /// yet, so the runs before it do not see it).
    Queued,
    /// In progress.
    Running,
    /// Answered.
    Ok,
    /// Failed.
    Error,
    /// Ran out of time.
    Timeout,
    /// Aborted (by a caller, a shutdown, or found `running` at start-up).
    Aborted,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The caller's idempotency key.
    pub run_id: String,
    /// Its session's key.
    pub session_key: String,
    /// The transcript it wrote to.
    pub session_id: String,
    /// Where it stands.
    pub status: RunStatus,
    /// Started (ms).
    pub started_at: u64,
    /// Ended (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a run ended, for [`SessionStore::finish_run`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd {
    /// Its final status (not `Running`).
    pub status: RunStatus,
    /// The answer text (partial when it did not end `Ok`).
    pub text: String,
    /// Structured parts (tool calls).
    pub parts: Option<serde_json::Value>,
    /// The model that answered.
    pub model: Option<String>,
    /// Token counts.
    pub usage: crate::gateway::provider::Usage,
    /// Why it failed.
    pub error: Option<String>,
}
