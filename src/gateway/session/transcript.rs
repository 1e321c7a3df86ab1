//! Transcript entries: appending one (inside a caller's transaction), reading a page of a
//! session's transcript, the history a prompt is built from, and notes (`chat.inject`).

use rusqlite::{Connection, Row, params};

use super::store::{SessionStore, StoreError, exec, row};
use super::{Entry, EntryStatus, Role};

/// An entry to append.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewEntry<'a> {
    pub role: Role,
    pub text: &'a str,
    pub parts: Option<&'a serde_json::Value>,
    pub run_id: Option<&'a str>,
    pub status: EntryStatus,
    pub model: Option<&'a str>,
    pub usage: Option<&'a serde_json::Value>,
    pub detail: Option<&'a str>,
}

impl Default for NewEntry<'_> {
    fn default() -> Self {
        Self {
            role: Role::Note,
            text: "",
            parts: None,
            run_id: None,
            status: EntryStatus::Complete,
            model: None,
            usage: None,
            detail: None,
        }
    }
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::ToolCall => "toolCall",
        Role::ToolResult => "toolResult",
        Role::Note => "note",
    }
}

fn role_of(text: &str) -> Role {
    match text {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "toolCall" => Role::ToolCall,
        "toolResult" => Role::ToolResult,
        _ => Role::Note,
    }
}

fn status_text(status: EntryStatus) -> &'static str {
    match status {
        EntryStatus::Complete => "complete",
        EntryStatus::Incomplete => "incomplete",
        EntryStatus::Aborted => "aborted",
        EntryStatus::Error => "error",
    }
}

fn status_of(text: &str) -> EntryStatus {
    match text {
        "complete" => EntryStatus::Complete,
        "incomplete" => EntryStatus::Incomplete,
        "aborted" => EntryStatus::Aborted,
        _ => EntryStatus::Error,
    }
}

const ENTRY_COLUMNS: &str =
    "session_id, ordinal, role, text, parts, run_id, status, model, usage, detail, created_at";

fn json_of(text: Option<String>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn entry_of(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let role: String = r.get(2)?;
    let status: String = r.get(6)?;
    Ok(Entry {
        session_id: r.get(0)?,
        ordinal: r.get(1)?,
        role: role_of(&role),
        text: r.get(3)?,
        parts: json_of(r.get(4)?),
        run_id: r.get(5)?,
        status: status_of(&status),
        model: r.get(7)?,
        usage: json_of(r.get(8)?),
        detail: r.get(9)?,
        created_at: r.get(10)?,
    })
}

/// Appends `entry` to `session_id`'s transcript (inside the caller's transaction); its ordinal.
pub(super) fn append(
    conn: &Connection,
    session_id: &str,
    entry: &NewEntry<'_>,
    now_ms: u64,
) -> rusqlite::Result<u64> {
    let ordinal: u64 = row(
        conn,
        "SELECT coalesce(max(ordinal), 0) + 1 FROM entries WHERE session_id = ?1",
        [session_id],
        |r| r.get(0),
    )?;
    exec(
        conn,
        &format!(
            "INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            session_id,
            ordinal,
            role_text(entry.role),
            entry.text,
            entry.parts.map(serde_json::Value::to_string),
            entry.run_id,
            status_text(entry.status),
            entry.model,
            entry.usage.map(serde_json::Value::to_string),
            entry.detail,
            now_ms
        ],
    )?;
    Ok(ordinal)
}

/// A page of a transcript, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptPage {
    /// The entries.
    pub entries: Vec<Entry>,
    /// Whether older entries exist before the page.
    pub has_more: bool,
}

impl SessionStore {
    /// The newest `limit` entries of `session_id` after skipping the newest `offset`, oldest
    /// first, and whether older ones exist.
    pub fn transcript(
        &self,
        session_id: &str,
        limit: usize,
        offset: usize,
    ) -> Result<TranscriptPage, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE session_id = ?1 \
             ORDER BY ordinal DESC LIMIT ?2 OFFSET ?3"
        ))?;
        let mut entries = stmt
            .query_map(
                params![session_id, limit as i64 + 1, offset as i64],
                entry_of,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = entries.len() > limit;
        entries.truncate(limit);
        entries.reverse();
        Ok(TranscriptPage { entries, has_more })
    }

    /// The entries a prompt is built from: the user messages, the answers that were not cut
    /// short and the notes of `session_id`, the newest `limit`, oldest first.
    pub fn history(&self, session_id: &str, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE session_id = ?1 \
             AND role IN ('user', 'assistant', 'note') AND status = 'complete' \
             ORDER BY ordinal DESC LIMIT ?2"
        ))?;
        let mut entries = stmt
            .query_map(params![session_id, limit as i64], entry_of)?
            .collect::<Result<Vec<_>, _>>()?;
        entries.reverse();
        Ok(entries)
    }

    /// Appends a note (`chat.inject`) to the session of `key` without a run.
    pub fn inject(
        &self,
        key: &str,
        text: &str,
        label: Option<&str>,
        now_ms: u64,
    ) -> Result<Entry, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let session_id: String = row(
            &tx,
            "SELECT session_id FROM sessions WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::UnknownSession(key.to_owned()),
            other => other.into(),
        })?;
        let ordinal = append(
            &tx,
            &session_id,
            &NewEntry {
                role: Role::Note,
                text,
                detail: label,
                ..NewEntry::default()
            },
            now_ms,
        )?;
        exec(
            &tx,
            "UPDATE sessions SET updated_at = ?1 WHERE key = ?2",
            params![now_ms, key],
        )?;
        let entry = row(
            &tx,
            &format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE session_id = ?1 AND ordinal = ?2"),
            params![session_id, ordinal],
            entry_of,
        )?;
        tx.commit()?;
        Ok(entry)
    }
}
