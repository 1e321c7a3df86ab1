//! Which session a `/v1/responses` answer ran in, so `previous_response_id` continues it
//! (agent-runtime.md §6.2: in memory, 30 minutes). Bounded: past the cap the oldest go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer can be continued.
pub const RESPONSE_ID_TTL: Duration = Duration::from_secs(30 * 60);
/// At most this many answers are remembered.
pub const MAX_RESPONSE_IDS: usize = 10_000;

/// The session of a remembered answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSession {
    /// The agent that answered.
    pub agent_id: String,
    /// The session it answered in.
    pub session_key: String,
}

#[derive(Debug, Default)]
struct Remembered {
    by_id: HashMap<String, (ResponseSession, Instant)>,
    order: VecDeque<(Instant, String)>,
}

/// Response id → session, for 30 minutes.
#[derive(Debug, Default)]
pub struct ResponseIds {
    inner: Mutex<Remembered>,
}

impl ResponseIds {
    fn locked(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers that `id` ran in `session` (at `now`).
    pub fn remember(&self, id: &str, session: ResponseSession, now: Instant) {
        let mut r = self.locked();
        expire(&mut r, now);
        while r.by_id.len() >= MAX_RESPONSE_IDS {
            let Some((_, oldest)) = r.order.pop_front() else {
                break;
            };
            r.by_id.remove(&oldest);
        }
        r.by_id.insert(id.to_owned(), (session, now));
        r.order.push_back((now, id.to_owned()));
    }

    /// The session `id` ran in, unless it is unknown or older than the TTL.
    pub fn session_of(&self, id: &str, now: Instant) -> Option<ResponseSession> {
        let mut r = self.locked();
        expire(&mut r, now);
        r.by_id.get(id).map(|(s, _)| s.clone())
    }
}

fn expire(r: &mut Remembered, now: Instant) {
    while let Some((at, _)) = r.order.front() {
        if now.duration_since(*at) < RESPONSE_ID_TTL {
            break;
        }
        let (at, id) = r.order.pop_front().expect("front exists");
        if r.by_id.get(&id).is_some_and(|(_, t)| *t == at) {
            r.by_id.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(key: &str) -> ResponseSession {
        ResponseSession {
            agent_id: "main".into(),
            session_key: key.into(),
        }
    }

    #[test]
    fn an_answer_is_continued_for_thirty_minutes_and_then_forgotten() {
        let ids = ResponseIds::default();
        let t0 = Instant::now();
        ids.remember("resp_1", session("agent:main:a"), t0);
        assert_eq!(
            ids.session_of("resp_1", t0 + Duration::from_secs(29 * 60)),
            Some(session("agent:main:a"))
        );
        assert_eq!(ids.session_of("resp_1", t0 + RESPONSE_ID_TTL), None);
        assert_eq!(ids.session_of("resp_unknown", t0), None);
    }

    #[test]
    fn past_the_cap_the_oldest_answers_go_first() {
        let ids = ResponseIds::default();
        let t0 = Instant::now();
        for i in 0..=MAX_RESPONSE_IDS {
            ids.remember(&format!("resp_{i}"), session("k"), t0);
        }
        assert_eq!(ids.session_of("resp_0", t0), None);
        assert!(ids.session_of("resp_1", t0).is_some());
        assert!(
            ids.session_of(&format!("resp_{MAX_RESPONSE_IDS}"), t0)
                .is_some()
        );
        assert_eq!(ids.locked().by_id.len(), MAX_RESPONSE_IDS);
    }
}
