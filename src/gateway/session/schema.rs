//! The database's tables, and how a connection is set up (WAL, foreign keys, busy timeout).

use rusqlite::Connection;

/// The schema version this build writes (`meta.schema_version`).
pub const SCHEMA_VERSION: i64 = 1;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
    key            TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL UNIQUE,
    agent_id       TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    label          TEXT,
    model          TEXT,
    thinking_level TEXT,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    total_tokens   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_by_agent ON sessions (agent_id, updated_at);
CREATE TABLE IF NOT EXISTS entries (
    session_id TEXT NOT NULL,
    ordinal    INTEGER NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'toolCall', 'toolResult', 'note')),
    text       TEXT NOT NULL,
    parts      TEXT,
    run_id     TEXT,
    status     TEXT NOT NULL CHECK (status IN ('complete', 'incomplete', 'aborted', 'error')),
    model      TEXT,
    usage      TEXT,
    detail     TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, ordinal)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    session_key TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ok', 'error', 'timeout', 'aborted')),
    message     TEXT NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    error       TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS runs_open ON runs (status) WHERE status IN ('queued', 'running');
";

/// Sets `conn` up (WAL, `synchronous=NORMAL`, a busy timeout) and creates the tables; an
/// error when the file was written by a newer build.
pub fn prepare(conn: &Connection) -> rusqlite::Result<Result<(), i64>> {
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "normal")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(TABLES)?;
    let found: Option<i64> = conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .ok();
    match found {
        Some(v) if v > SCHEMA_VERSION => Ok(Err(v)),
        Some(_) => Ok(Ok(())),
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                [SCHEMA_VERSION.to_string()],
            )?;
            Ok(Ok(()))
        }
    }
}
