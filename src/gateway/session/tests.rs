use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::gateway::provider::Usage;

fn open() -> (tempfile::TempDir, SessionStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::open(&dir.path().join("state").join(DATABASE_FILE), 1_000).unwrap();
    (dir, store)
}

fn ok(text: &str) -> RunEnd {
    RunEnd {
        status: RunStatus::Ok,
        text: text.into(),
        parts: None,
        model: Some("local/fake-model".into()),
        usage: Usage {
            input: 10,
            output: 3,
            total: 13,
            ..Usage::default()
        },
        error: None,
    }
}

#[test]
fn the_database_and_its_wal_are_private_to_the_user() {
    let (dir, store) = open();
    store
        .begin_run("agent:main:main", "main", "r1", "hi", 2_000)
        .unwrap();
    let state = dir.path().join("state");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join(DATABASE_FILE)), 0o600);
    assert_eq!(mode(&state.join("sessions.sqlite-wal")), 0o600);
}

#[test]
fn a_turn_commits_the_user_message_first_and_the_answer_with_usage_at_the_end() {
    let (_dir, store) = open();
    let s = store
        .begin_run("agent:main:main", "main", "r1", "hi", 2_000)
        .unwrap();
    assert_eq!(s.agent_id, "main");
    let before = store.transcript(&s.session_id, 10, 0).unwrap();
    assert_eq!(
        before.entries.len(),
        1,
        "the user message is there before the answer"
    );
    assert_eq!(store.run("r1").unwrap().unwrap().status, RunStatus::Running);
    assert!(store.finish_run("r1", &ok("Hello"), 3_000).unwrap());
    let page = store.transcript(&s.session_id, 10, 0).unwrap();
    let roles: Vec<_> = page
        .entries
        .iter()
        .map(|e| (e.role, e.text.as_str()))
        .collect();
    assert_eq!(roles, [(Role::User, "hi"), (Role::Assistant, "Hello")]);
    assert_eq!(page.entries[1].model.as_deref(), Some("local/fake-model"));
    let run = store.run("r1").unwrap().unwrap();
    assert_eq!((run.status, run.ended_at), (RunStatus::Ok, Some(3_000)));
    let session = store.session("agent:main:main").unwrap().unwrap();
    assert_eq!((session.input_tokens, session.total_tokens), (10, 13));
    assert!(
        !store.finish_run("r1", &ok("again"), 4_000).unwrap(),
        "ends once"
    );
}

#[test]
fn a_run_id_starts_one_run_only() {
    let (_dir, store) = open();
    store
        .begin_run("agent:main:main", "main", "r1", "hi", 2_000)
        .unwrap();
    let again = store.begin_run("agent:main:main", "main", "r1", "hi", 2_001);
    assert!(
        matches!(again, Err(StoreError::DuplicateRun(_))),
        "{again:?}"
    );
    let s = store.session("agent:main:main").unwrap().unwrap();
    assert_eq!(
        store
            .transcript(&s.session_id, 10, 0)
            .unwrap()
            .entries
            .len(),
        1
    );
}

#[test]
fn partial_answers_are_kept_and_marked_and_left_out_of_the_history() {
    let (_dir, store) = open();
    let key = "agent:main:main";
    let s = store.begin_run(key, "main", "r1", "one", 1).unwrap();
    store
        .finish_run(
            "r1",
            &RunEnd {
                status: RunStatus::Aborted,
                text: "Hel".into(),
                error: Some("aborted by chat.abort".into()),
                ..ok("")
            },
            2,
        )
        .unwrap();
    store.begin_run(key, "main", "r2", "two", 3).unwrap();
    store
        .finish_run(
            "r2",
            &RunEnd {
                status: RunStatus::Error,
                text: String::new(),
                error: Some("HTTP 500".into()),
                ..ok("")
            },
            4,
        )
        .unwrap();
    store.begin_run(key, "main", "r3", "three", 5).unwrap();
    store.finish_run("r3", &ok("answer"), 6).unwrap();
    let all = store.transcript(&s.session_id, 10, 0).unwrap().entries;
    let statuses: Vec<_> = all.iter().map(|e| (e.role, e.status)).collect();
    assert_eq!(
        statuses,
        [
            (Role::User, EntryStatus::Complete),
            (Role::Assistant, EntryStatus::Aborted),
            (Role::User, EntryStatus::Complete),
            (Role::User, EntryStatus::Complete),
            (Role::Assistant, EntryStatus::Complete),
        ],
        "a failure with no text writes no answer"
    );
    assert_eq!(all[1].detail.as_deref(), Some("aborted by chat.abort"));
    let history: Vec<_> = store
        .history(&s.session_id, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(history, ["one", "two", "three", "answer"]);
}

#[test]
fn a_run_left_running_by_a_dead_process_is_closed_as_aborted_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    {
        let store = SessionStore::open(&path, 1).unwrap();
        store
            .begin_run("agent:main:main", "main", "r1", "hi", 2)
            .unwrap();
        // Dropped without finish_run: as if the process died here.
    }
    let store = SessionStore::open(&path, 5).unwrap();
    let run = store.run("r1").unwrap().unwrap();
    assert_eq!((run.status, run.ended_at), (RunStatus::Aborted, Some(5)));
    assert!(run.error.unwrap().contains("interrupted"));
    let s = store.session("agent:main:main").unwrap().unwrap();
    assert_eq!(store.history(&s.session_id, 10).unwrap()[0].text, "hi");
}

#[test]
fn pages_of_a_transcript_go_back_from_the_newest() {
    let (_dir, store) = open();
    let key = "agent:main:main";
    let mut sid = String::new();
    for i in 0..5 {
        sid = store
            .begin_run(key, "main", &format!("r{i}"), &format!("m{i}"), i)
            .unwrap()
            .session_id;
        store
            .finish_run(&format!("r{i}"), &ok(&format!("a{i}")), i)
            .unwrap();
    }
    let newest = store.transcript(&sid, 3, 0).unwrap();
    let texts: Vec<_> = newest.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!((texts, newest.has_more), (vec!["a3", "m4", "a4"], true));
    let oldest = store.transcript(&sid, 3, 8).unwrap();
    let texts: Vec<_> = oldest.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!((texts, oldest.has_more), (vec!["m0", "a0"], false));
}

#[test]
fn sessions_list_filter_patch_reset_inject_and_delete() {
    let (_dir, store) = open();
    store
        .begin_run("agent:main:main", "main", "r1", "hi", 1)
        .unwrap();
    store
        .begin_run("agent:main:work", "main", "r2", "hi", 2)
        .unwrap();
    store
        .begin_run("agent:ops:main", "ops", "r3", "hi", 3)
        .unwrap();
    let (all, total) = store.list(None, None, 10, 0).unwrap();
    assert_eq!(total, 3);
    assert_eq!(all[0].key, "agent:ops:main", "latest change first");
    let (main, total) = store.list(Some("main"), None, 1, 0).unwrap();
    assert_eq!((main.len(), total), (1, 2));
    let patched = store
        .patch(
            "agent:main:work",
            &SessionPatch {
                label: Some(Some("Work".into())),
                ..SessionPatch::default()
            },
            4,
        )
        .unwrap();
    assert_eq!(patched.label.as_deref(), Some("Work"));
    assert_eq!(store.list(None, Some("wOrK"), 10, 0).unwrap().1, 1);
    assert_eq!(
        store.counts_by_agent().unwrap(),
        [("main".to_owned(), 2), ("ops".to_owned(), 1)]
    );

    let old = store
        .session("agent:main:main")
        .unwrap()
        .unwrap()
        .session_id;
    let reset = store.reset("agent:main:main", 5).unwrap();
    assert_ne!(reset.session_id, old);
    assert_eq!(
        store.transcript(&old, 10, 0).unwrap().entries.len(),
        1,
        "old kept"
    );
    let note = store
        .inject("agent:main:main", "remember this", Some("memo"), 6)
        .unwrap();
    assert_eq!((note.role, note.ordinal), (Role::Note, 1));

    assert!(store.delete("agent:main:main", true).unwrap());
    assert!(store.session("agent:main:main").unwrap().is_none());
    assert!(
        store
            .transcript(&reset.session_id, 10, 0)
            .unwrap()
            .entries
            .is_empty()
    );
    assert!(!store.delete("agent:main:main", true).unwrap());
    assert!(matches!(
        store.reset("agent:nope:main", 7),
        Err(StoreError::UnknownSession(_))
    ));
}

#[test]
fn a_store_written_by_a_newer_build_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    drop(SessionStore::open(&path, 1).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SessionStore::open(&path, 2).unwrap_err();
    assert!(err.to_string().contains("upgrade openclaw"), "{err}");
}

#[test]
fn a_queued_message_joins_the_transcript_only_when_its_turn_comes() {
    let (_dir, store) = open();
    let key = "agent:main:main";
    let s = store.begin_run(key, "main", "r1", "first", 1).unwrap();
    store.accept_run(key, "main", "r2", "second", 2).unwrap();
    assert_eq!(store.run("r2").unwrap().unwrap().status, RunStatus::Queued);
    let texts = |store: &SessionStore| -> Vec<String> {
        store
            .history(&s.session_id, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.text)
            .collect()
    };
    assert_eq!(
        texts(&store),
        ["first"],
        "r1's history does not see the queued message"
    );
    store.finish_run("r1", &ok("answer one"), 3).unwrap();
    assert_eq!(
        store.begin_turn("r2", 4).unwrap().as_deref(),
        Some(s.session_id.as_str())
    );
    assert_eq!(texts(&store), ["first", "answer one", "second"]);
    assert_eq!(
        store.begin_turn("r2", 5).unwrap(),
        None,
        "a turn begins once"
    );
}

#[test]
fn a_queued_run_left_by_a_dead_process_is_aborted_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    {
        let store = SessionStore::open(&path, 1).unwrap();
        store
            .accept_run("agent:main:main", "main", "q1", "waiting", 2)
            .unwrap();
    }
    let store = SessionStore::open(&path, 3).unwrap();
    assert_eq!(store.run("q1").unwrap().unwrap().status, RunStatus::Aborted);
    assert_eq!(store.begin_turn("q1", 4).unwrap(), None);
}
