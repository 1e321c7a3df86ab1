//! [`SessionStore`]: opening the database, sessions, and runs (their start and end).

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::schema::{self, SCHEMA_VERSION};
use super::{EntryStatus, Role, Run, RunEnd, RunStatus, Session};
use crate::atomic_write::{PRIVATE_DIR_MODE, SECRET_FILE_MODE, create_dir_all_with_mode};

/// What can go wrong with the session store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be created, opened or set up.
    #[error(
        "cannot open the session store {path}: {source}. Check that the state dir is writable by this user; a damaged file can be moved aside and the gateway starts a new one"
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A newer build wrote it.
    #[error(
        "the session store {path} was written by a newer openclaw (schema {found}; this build reads {SCHEMA_VERSION}): upgrade openclaw"
    )]
    Newer {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
    },
    /// A statement failed.
    #[error("session store: {0}")]
    Sql(#[from] rusqlite::Error),
    /// No session has this key.
    #[error("unknown session {0:?}")]
    UnknownSession(String),
    /// A run with this id exists already.
    #[error("run {0:?} exists already")]
    DuplicateRun(String),
}

/// The session database (see the module doc of [`super`]).
#[derive(Debug)]
pub struct SessionStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// What [`SessionStore::patch`] changes: `Some(None)` clears a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPatch {
    /// The label.
    pub label: Option<Option<String>>,
    /// The model override.
    pub model: Option<Option<String>>,
    /// The thinking level.
    pub thinking_level: Option<Option<String>>,
}

const SESSION_COLUMNS: &str = "key, session_id, agent_id, created_at, updated_at, label, model, \
     thinking_level, input_tokens, output_tokens, total_tokens";

fn session_of(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        key: r.get(0)?,
        session_id: r.get(1)?,
        agent_id: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        label: r.get(5)?,
        model: r.get(6)?,
        thinking_level: r.get(7)?,
        input_tokens: r.get(8)?,
        output_tokens: r.get(9)?,
        total_tokens: r.get(10)?,
    })
}

fn run_of(r: &Row<'_>) -> rusqlite::Result<Run> {
    let status: String = r.get(3)?;
    Ok(Run {
        run_id: r.get(0)?,
        session_key: r.get(1)?,
        session_id: r.get(2)?,
        status: run_status(&status),
        started_at: r.get(4)?,
        ended_at: r.get(5)?,
        error: r.get(6)?,
    })
}

fn run_status(text: &str) -> RunStatus {
    match text {
        "queued" => RunStatus::Queued,
        "running" => RunStatus::Running,
        "ok" => RunStatus::Ok,
        "timeout" => RunStatus::Timeout,
        "aborted" => RunStatus::Aborted,
        _ => RunStatus::Error,
    }
}

pub(super) fn run_status_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "queued",
        RunStatus::Running => "running",
        RunStatus::Ok => "ok",
        RunStatus::Error => "error",
        RunStatus::Timeout => "timeout",
        RunStatus::Aborted => "aborted",
    }
}

fn new_session_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `sql` run with `params` through the connection's statement cache (the hot paths run the same
/// few statements for every turn; preparing them each time was most of a transaction's cost).
pub(super) fn exec(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// The one row of `sql` with `params`, through the statement cache.
pub(super) fn row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

impl SessionStore {
    /// Opens (creating, 0600 in a 0700 dir) the database at `path`, and closes the runs a
    /// previous process left `running` as `aborted` (at `now_ms`).
    pub fn open(path: &Path, now_ms: u64) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            create_dir_all_with_mode(dir, PRIVATE_DIR_MODE).map_err(open_error)?;
        }
        // Create it 0600 ourselves: SQLite gives the -wal and -shm files the database's mode.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(SECRET_FILE_MODE)
            .open(path)
            .map_err(open_error)?;
        let conn = Connection::open(path).map_err(|e| open_error(std::io::Error::other(e)))?;
        conn.set_prepared_statement_cache_capacity(64);
        match schema::prepare(&conn).map_err(|e| open_error(std::io::Error::other(e)))? {
            Ok(()) => {}
            Err(found) => {
                return Err(StoreError::Newer {
                    path: path.to_owned(),
                    found,
                });
            }
        }
        let store = Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        };
        let closed = store.close_interrupted_runs(now_ms)?;
        if closed > 0 {
            tracing::warn!(
                runs = closed,
                "runs interrupted by the last shutdown closed as aborted"
            );
        }
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks every `queued` or `running` run `aborted` (a process died during it); how many.
    pub fn close_interrupted_runs(&self, now_ms: u64) -> Result<usize, StoreError> {
        Ok(exec(
            &self.conn(),
            "UPDATE runs SET status = 'aborted', ended_at = ?1, \
             error = 'interrupted: the gateway stopped during the run' \
             WHERE status IN ('queued', 'running')",
            [now_ms],
        )?)
    }

    /// The session of `key`.
    pub fn session(&self, key: &str) -> Result<Option<Session>, StoreError> {
        Ok(row(
            &self.conn(),
            &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE key = ?1"),
            [key],
            session_of,
        )
        .optional()?)
    }

    /// Sessions, latest change first, of `agent_id` (all agents: `None`) whose key or label
    /// contains `search`; the page `offset..offset+limit` and how many there are in all.
    pub fn list(
        &self,
        agent_id: Option<&str>,
        search: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Session>, usize), StoreError> {
        let conn = self.conn();
        let filter = "(?1 IS NULL OR agent_id = ?1) AND (?2 IS NULL OR instr(lower(key), lower(?2)) > 0 \
             OR instr(lower(coalesce(label, '')), lower(?2)) > 0)";
        let total: usize = row(
            &conn,
            &format!("SELECT count(*) FROM sessions WHERE {filter}"),
            params![agent_id, search],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE {filter} \
             ORDER BY updated_at DESC, key LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt
            .query_map(
                params![agent_id, search, limit as i64, offset as i64],
                session_of,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
    }

    /// How many sessions each agent has.
    pub fn counts_by_agent(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT agent_id, count(*) FROM sessions GROUP BY agent_id ORDER BY agent_id",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Changes a session's label, model override or thinking level.
    pub fn patch(
        &self,
        key: &str,
        patch: &SessionPatch,
        now_ms: u64,
    ) -> Result<Session, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (column, value) in [
            ("label", &patch.label),
            ("model", &patch.model),
            ("thinking_level", &patch.thinking_level),
        ] {
            if let Some(value) = value {
                exec(
                    &tx,
                    &format!("UPDATE sessions SET {column} = ?1, updated_at = ?2 WHERE key = ?3"),
                    params![value, now_ms, key],
                )?;
            }
        }
        let session = row(
            &tx,
            &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE key = ?1"),
            [key],
            session_of,
        )
        .optional()?
        .ok_or_else(|| StoreError::UnknownSession(key.to_owned()))?;
        tx.commit()?;
        Ok(session)
    }

    /// Starts a new transcript (`sessionId`) under `key`; the old one is kept.
    pub fn reset(&self, key: &str, now_ms: u64) -> Result<Session, StoreError> {
        let changed = exec(
            &self.conn(),
            "UPDATE sessions SET session_id = ?1, updated_at = ?2, input_tokens = 0, \
             output_tokens = 0, total_tokens = 0 WHERE key = ?3",
            params![new_session_id(), now_ms, key],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownSession(key.to_owned()));
        }
        self.session(key)?
            .ok_or_else(|| StoreError::UnknownSession(key.to_owned()))
    }

    /// Deletes the session of `key` (with its current transcript when `delete_transcript`);
    /// whether there was one.
    pub fn delete(&self, key: &str, delete_transcript: bool) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let session_id: Option<String> = row(
            &tx,
            "SELECT session_id FROM sessions WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?;
        let Some(session_id) = session_id else {
            return Ok(false);
        };
        if delete_transcript {
            exec(
                &tx,
                "DELETE FROM entries WHERE session_id = ?1",
                [&session_id],
            )?;
        }
        exec(&tx, "DELETE FROM sessions WHERE key = ?1", [key])?;
        tx.commit()?;
        Ok(true)
    }

    /// Commits run `run_id` as accepted (`queued`, with `message`) in the session `key` of
    /// `agent_id`, created when new; returns the session.
    pub fn accept_run(
        &self,
        key: &str,
        agent_id: &str,
        run_id: &str,
        message: &str,
        now_ms: u64,
    ) -> Result<Session, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        exec(
            &tx,
            "INSERT INTO sessions (key, session_id, agent_id, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (key) DO UPDATE SET updated_at = ?4",
            params![key, new_session_id(), agent_id, now_ms],
        )?;
        let session = row(
            &tx,
            &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE key = ?1"),
            [key],
            session_of,
        )?;
        let inserted = exec(
            &tx,
            "INSERT INTO runs (run_id, session_key, session_id, status, started_at, message) \
             VALUES (?1, ?2, ?3, 'queued', ?4, ?5) ON CONFLICT (run_id) DO NOTHING",
            params![run_id, key, session.session_id, now_ms, message],
        )?;
        if inserted == 0 {
            return Err(StoreError::DuplicateRun(run_id.to_owned()));
        }
        tx.commit()?;
        Ok(session)
    }

    /// Starts a `queued` run's turn: appends its message to the session's current transcript
    /// and marks it `running`, in one transaction; the transcript's id (`None`: the run was not
    /// queued, e.g. aborted meanwhile).
    pub fn begin_turn(&self, run_id: &str, now_ms: u64) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let queued: Option<(String, String)> = row(
            &tx,
            "SELECT session_key, message FROM runs WHERE run_id = ?1 AND status = 'queued'",
            [run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
        let Some((key, message)) = queued else {
            return Ok(None);
        };
        let session_id: String = row(
            &tx,
            "SELECT session_id FROM sessions WHERE key = ?1",
            [&key],
            |r| r.get(0),
        )?;
        super::transcript::append(
            &tx,
            &session_id,
            &super::transcript::NewEntry {
                role: Role::User,
                text: &message,
                run_id: Some(run_id),
                status: EntryStatus::Complete,
                ..Default::default()
            },
            now_ms,
        )?;
        exec(
            &tx,
            "UPDATE runs SET status = 'running', session_id = ?1 WHERE run_id = ?2",
            params![session_id, run_id],
        )?;
        exec(
            &tx,
            "UPDATE sessions SET updated_at = ?1 WHERE key = ?2",
            params![now_ms, key],
        )?;
        tx.commit()?;
        Ok(Some(session_id))
    }

    /// [`Self::accept_run`] and [`Self::begin_turn`] at once (a run that does not wait).
    pub fn begin_run(
        &self,
        key: &str,
        agent_id: &str,
        run_id: &str,
        message: &str,
        now_ms: u64,
    ) -> Result<Session, StoreError> {
        self.accept_run(key, agent_id, run_id, message, now_ms)?;
        self.begin_turn(run_id, now_ms)?;
        self.session(key)?
            .ok_or_else(|| StoreError::UnknownSession(key.to_owned()))
    }

    /// Commits the end of a `queued` or `running` run: the answer (partial text as `incomplete` or
    /// `aborted`; nothing when a failed run produced no text), the run's status, and the
    /// session's token counts, in one transaction. `false` when the run was not running.
    pub fn finish_run(&self, run_id: &str, end: &RunEnd, now_ms: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let run = row(
            &tx,
            "SELECT run_id, session_key, session_id, status, started_at, ended_at, error \
                 FROM runs WHERE run_id = ?1",
            [run_id],
            run_of,
        )
        .optional()?;
        let Some(run) = run.filter(|r| matches!(r.status, RunStatus::Queued | RunStatus::Running))
        else {
            return Ok(false);
        };
        let status = match end.status {
            RunStatus::Ok | RunStatus::Running | RunStatus::Queued => EntryStatus::Complete,
            RunStatus::Error if end.text.is_empty() => EntryStatus::Error,
            RunStatus::Error => EntryStatus::Incomplete,
            RunStatus::Timeout | RunStatus::Aborted => EntryStatus::Aborted,
        };
        if !end.text.is_empty() || end.parts.is_some() || end.status == RunStatus::Ok {
            let usage = serde_json::to_value(end.usage).ok();
            super::transcript::append(
                &tx,
                &run.session_id,
                &super::transcript::NewEntry {
                    role: Role::Assistant,
                    text: &end.text,
                    parts: end.parts.as_ref(),
                    run_id: Some(run_id),
                    status,
                    model: end.model.as_deref(),
                    usage: usage.as_ref(),
                    detail: end.error.as_deref(),
                },
                now_ms,
            )?;
        }
        exec(
            &tx,
            "UPDATE runs SET status = ?1, ended_at = ?2, error = ?3 WHERE run_id = ?4",
            params![run_status_text(end.status), now_ms, end.error, run_id],
        )?;
        exec(
            &tx,
            "UPDATE sessions SET updated_at = ?1, input_tokens = input_tokens + ?2, \
             output_tokens = output_tokens + ?3, total_tokens = total_tokens + ?4 \
             WHERE session_id = ?5",
            params![
                now_ms,
                end.usage.input,
                end.usage.output,
                end.usage.total,
                run.session_id
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The run `run_id`.
    pub fn run(&self, run_id: &str) -> Result<Option<Run>, StoreError> {
        Ok(row(
            &self.conn(),
            "SELECT run_id, session_key, session_id, status, started_at, ended_at, error \
                 FROM runs WHERE run_id = ?1",
            [run_id],
            run_of,
        )
        .optional()?)
    }
}
