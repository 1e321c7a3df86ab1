//! The idempotency (dedupe) cache of side-effecting methods (spec §6).
//!
//! Entries are keyed `"<kind>:<key>"` (`send:`, `agent:`, `node.invoke:`, …). A key is either in
//! flight (the first request is still working: retries wait for its answer instead of starting a
//! second run) or done (its answer is replayed for [`DEDUPE_TTL_MS`] after it was stored). Above
//! [`DEDUPE_MAX`] entries the oldest (by `ts`) are dropped; [`run_sweeper`] drops expired entries
//! every [`SWEEP_INTERVAL`] until the gateway stops. Lookups also honour the TTL, so correctness
//! never depends on the sweep.
//!
//! Time is passed in by the caller (ms since the Unix epoch); the cache reads no clock.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::state::lock;
use crate::protocol::errors::GatewayError;

/// How long a stored answer is replayed: 5 minutes.
pub const DEDUPE_TTL_MS: u64 = 300_000;
/// Most entries kept.
pub const DEDUPE_MAX: usize = 1000;
/// Sweep cadence.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// A method's answer: a payload, or an error.
pub type Outcome = Result<Value, GatewayError>;

#[derive(Debug)]
enum Slot {
    /// The first request is still working; waiters watch for its outcome.
    InFlight(watch::Receiver<Option<Outcome>>),
    /// The stored answer.
    Done(Outcome),
}

#[derive(Debug)]
struct Entry {
    /// When the entry was claimed or (for done entries) stored.
    ts: u64,
    /// Distinguishes a re-claimed key from the claim a guard holds.
    generation: u64,
    slot: Slot,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    next_generation: u64,
}

impl Inner {
    /// Drops the oldest entries until at most `max` remain.
    fn enforce_cap(&mut self, max: usize) -> usize {
        let excess = self.entries.len().saturating_sub(max);
        if excess == 0 {
            return 0;
        }
        let mut by_age: Vec<(u64, String)> = self
            .entries
            .iter()
            .map(|(k, e)| (e.ts, k.clone()))
            .collect();
        by_age.sort();
        for (_, key) in by_age.into_iter().take(excess) {
            self.entries.remove(&key);
        }
        excess
    }
}

/// The cache; cheap to clone (clones share the entries).
#[derive(Debug, Clone)]
pub struct IdempotencyCache {
    inner: Arc<Mutex<Inner>>,
    ttl_ms: u64,
    max: usize,
}

impl Default for IdempotencyCache {
    fn default() -> Self {
        Self::new(DEDUPE_TTL_MS, DEDUPE_MAX)
    }
}

/// What [`IdempotencyCache::claim`] found.
#[derive(Debug)]
pub enum Claim {
    /// Nobody has this key: the caller does the work and completes the guard.
    Fresh(InFlightGuard),
    /// Another request with this key is in flight: wait for its outcome.
    Pending(watch::Receiver<Option<Outcome>>),
    /// A stored answer.
    Done(Outcome),
}

/// The claim of the request doing the work. Dropping it without [`complete`](Self::complete)
/// (the request was cancelled) releases the key, and waiters claim it again.
#[derive(Debug)]
pub struct InFlightGuard {
    inner: Arc<Mutex<Inner>>,
    key: String,
    generation: u64,
    max: usize,
    tx: Option<watch::Sender<Option<Outcome>>>,
}

impl InFlightGuard {
    /// Publishes `outcome` to waiters; with `store` it is replayed to later requests with this
    /// key (stamped `now_ms`), otherwise the key is released.
    pub fn complete(mut self, outcome: &Outcome, store: bool, now_ms: u64) {
        {
            let mut inner = lock(&self.inner);
            let ours = inner
                .entries
                .get(&self.key)
                .is_some_and(|e| e.generation == self.generation);
            if ours {
                if store {
                    if let Some(entry) = inner.entries.get_mut(&self.key) {
                        entry.ts = now_ms;
                        entry.slot = Slot::Done(outcome.clone());
                    }
                    inner.enforce_cap(self.max);
                } else {
                    inner.entries.remove(&self.key);
                }
            }
        }
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Some(outcome.clone()));
        }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.tx.is_none() {
            return;
        }
        let mut inner = lock(&self.inner);
        if inner
            .entries
            .get(&self.key)
            .is_some_and(|e| e.generation == self.generation)
        {
            inner.entries.remove(&self.key);
        }
    }
}

impl IdempotencyCache {
    /// A cache replaying answers for `ttl_ms` and holding at most `max` entries.
    pub fn new(ttl_ms: u64, max: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner::default())),
            ttl_ms,
            max: max.max(1),
        }
    }

    fn expired(&self, entry: &Entry, now_ms: u64) -> bool {
        matches!(entry.slot, Slot::Done(_)) && now_ms.saturating_sub(entry.ts) > self.ttl_ms
    }

    /// Looks `key` up and, when nobody holds it, claims it for the caller.
    pub fn claim(&self, key: &str, now_ms: u64) -> Claim {
        let mut inner = lock(&self.inner);
        match inner.entries.get(key) {
            Some(entry) if !self.expired(entry, now_ms) => {
                return match &entry.slot {
                    Slot::Done(outcome) => Claim::Done(outcome.clone()),
                    Slot::InFlight(rx) => Claim::Pending(rx.clone()),
                };
            }
            _ => {}
        }
        let (tx, rx) = watch::channel(None);
        inner.next_generation += 1;
        let generation = inner.next_generation;
        inner.entries.insert(
            key.to_owned(),
            Entry {
                ts: now_ms,
                generation,
                slot: Slot::InFlight(rx),
            },
        );
        inner.enforce_cap(self.max);
        Claim::Fresh(InFlightGuard {
            inner: self.inner.clone(),
            key: key.to_owned(),
            generation,
            max: self.max,
            tx: Some(tx),
        })
    }

    /// Runs `work` once per key: a request with a stored or in-flight key gets that answer
    /// instead. `work` returns the outcome and whether to store it for replay (answers that a
    /// retry could improve, such as timeouts, are not stored). `now` is the clock.
    pub async fn run<F, Fut>(&self, key: &str, now: impl Fn() -> u64, work: F) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (Outcome, bool)>,
    {
        let mut work = Some(work);
        loop {
            match self.claim(key, now()) {
                Claim::Done(outcome) => return outcome,
                Claim::Pending(mut rx) => {
                    if let Ok(outcome) = rx.wait_for(Option::is_some).await {
                        if let Some(outcome) = outcome.clone() {
                            return outcome;
                        }
                    }
                    // The request doing the work was cancelled: claim the key again.
                }
                Claim::Fresh(guard) => {
                    let Some(work) = work.take() else {
                        return Err(GatewayError::unavailable(
                            "idempotent request lost its work",
                        ));
                    };
                    let (outcome, store) = work().await;
                    guard.complete(&outcome, store, now());
                    return outcome;
                }
            }
        }
    }

    /// [`run`](Self::run) in two steps, the first on the caller's task: for a fresh key
    /// `accept` runs now (so requests on one connection are accepted in the order they arrived)
    /// and `finish` goes on in the returned future. `accept` may end the work at once with
    /// `Err((outcome, store))`. A stored answer is returned as it is; a key in flight waits in
    /// the future and, when that request was cancelled, does both steps there.
    pub fn run_accepting<A, Acc, Fin, Fut>(
        &self,
        key: &str,
        now: fn() -> u64,
        accept: Acc,
        finish: Fin,
    ) -> Pin<Box<dyn Future<Output = Outcome> + Send>>
    where
        A: Send + 'static,
        Acc: FnOnce() -> Result<A, (Outcome, bool)> + Send + 'static,
        Fin: FnOnce(A) -> Fut + Send + 'static,
        Fut: Future<Output = (Outcome, bool)> + Send + 'static,
    {
        match self.claim(key, now()) {
            Claim::Done(outcome) => Box::pin(std::future::ready(outcome)),
            Claim::Fresh(guard) => match accept() {
                Err((outcome, store)) => {
                    guard.complete(&outcome, store, now());
                    Box::pin(std::future::ready(outcome))
                }
                Ok(accepted) => Box::pin(async move {
                    let (outcome, store) = finish(accepted).await;
                    guard.complete(&outcome, store, now());
                    outcome
                }),
            },
            Claim::Pending(_) => {
                let (cache, key) = (self.clone(), key.to_owned());
                Box::pin(async move {
                    cache
                        .run(&key, now, || async move {
                            match accept() {
                                Ok(accepted) => finish(accepted).await,
                                Err(ended) => ended,
                            }
                        })
                        .await
                })
            }
        }
    }

    /// Drops expired answers, then the oldest entries above the cap; returns how many went.
    pub fn sweep(&self, now_ms: u64) -> usize {
        let mut inner = lock(&self.inner);
        let before = inner.entries.len();
        let ttl = self.ttl_ms;
        inner
            .entries
            .retain(|_, e| !(matches!(e.slot, Slot::Done(_)) && now_ms.saturating_sub(e.ts) > ttl));
        let expired = before - inner.entries.len();
        expired + inner.enforce_cap(self.max)
    }

    /// Number of entries (in flight and done).
    pub fn len(&self) -> usize {
        lock(&self.inner).entries.len()
    }

    /// True when the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sweeps `cache` every `every` until `stop` is cancelled (the gateway's shutdown).
pub async fn run_sweeper(
    cache: IdempotencyCache,
    every: Duration,
    stop: CancellationToken,
    now: impl Fn() -> u64,
) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticker.tick() => {
                let dropped = cache.sweep(now());
                if dropped > 0 {
                    tracing::debug!(dropped, "idempotency cache swept");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn done(cache: &IdempotencyCache, key: &str, value: Value, now: u64) {
        match cache.claim(key, now) {
            Claim::Fresh(guard) => guard.complete(&Ok(value), true, now),
            other => panic!("expected a fresh claim, got {other:?}"),
        }
    }

    #[test]
    fn a_stored_answer_is_replayed_within_the_ttl_and_not_after() {
        let cache = IdempotencyCache::new(1000, 10);
        done(&cache, "send:a", json!(1), 100);
        assert!(matches!(cache.claim("send:a", 1100), Claim::Done(Ok(v)) if v == json!(1)));
        assert!(
            matches!(cache.claim("send:a", 1101), Claim::Fresh(_)),
            "expired at ttl + 1 ms"
        );
        assert!(
            cache.is_empty(),
            "the dropped fresh claim released the key again"
        );
    }

    #[test]
    fn errors_are_stored_too_and_unstored_outcomes_release_the_key() {
        let cache = IdempotencyCache::new(1000, 10);
        let Claim::Fresh(guard) = cache.claim("agent:x", 0) else {
            panic!("fresh")
        };
        guard.complete(&Err(GatewayError::unavailable("no")), true, 0);
        assert!(matches!(cache.claim("agent:x", 5), Claim::Done(Err(e)) if e.message == "no"));
        let Claim::Fresh(guard) = cache.claim("node.invoke:t", 0) else {
            panic!("fresh")
        };
        guard.complete(&Err(GatewayError::unavailable("timeout")), false, 0);
        assert!(matches!(cache.claim("node.invoke:t", 1), Claim::Fresh(_)));
    }

    #[test]
    fn the_cap_drops_the_oldest_entries() {
        let cache = IdempotencyCache::new(1_000_000, 3);
        for (i, key) in ["a", "b", "c", "d"].iter().enumerate() {
            done(&cache, key, json!(i), i as u64);
        }
        assert_eq!(cache.len(), 3);
        assert!(
            matches!(cache.claim("a", 10), Claim::Fresh(_)),
            "oldest dropped"
        );
        assert!(matches!(cache.claim("d", 10), Claim::Done(Ok(v)) if v == json!(3)));
    }

    #[test]
    fn sweep_drops_expired_answers_but_keeps_in_flight_claims() {
        let cache = IdempotencyCache::new(100, 10);
        done(&cache, "old", json!(1), 0);
        done(&cache, "new", json!(2), 150);
        let Claim::Fresh(_working) = cache.claim("busy", 0) else {
            panic!("fresh")
        };
        assert_eq!(cache.sweep(200), 1);
        assert_eq!(cache.len(), 2);
        assert!(matches!(cache.claim("busy", 10_000), Claim::Pending(_)));
        assert!(matches!(cache.claim("new", 200), Claim::Done(_)));
    }

    #[tokio::test]
    async fn concurrent_requests_with_one_key_run_the_work_once() {
        let cache = IdempotencyCache::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        // Runs `node.invoke:k` on its own task: counts the run, waits for `gate`, answers `answer`.
        let spawn_run = |gate: Option<tokio::sync::oneshot::Receiver<()>>, answer: &'static str| {
            let cache = cache.clone();
            let runs = runs.clone();
            tokio::spawn(async move {
                let work = || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    if let Some(gate) = gate {
                        let _ = gate.await;
                    }
                    (Ok(json!(answer)), true)
                };
                cache.run("node.invoke:k", || 0, work).await
            })
        };
        let first = spawn_run(Some(release_rx), "once");
        tokio::task::yield_now().await;
        while cache.is_empty() {
            tokio::task::yield_now().await;
        }
        let second = spawn_run(None, "twice");
        tokio::task::yield_now().await;
        let _ = release_tx.send(());
        assert_eq!(first.await.unwrap().unwrap(), json!("once"));
        assert_eq!(second.await.unwrap().unwrap(), json!("once"));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_cancelled_first_request_lets_the_waiter_do_the_work() {
        let cache = IdempotencyCache::default();
        let first = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .run(
                        "k",
                        || 0,
                        || async { std::future::pending::<(Outcome, bool)>().await },
                    )
                    .await
            })
        };
        while cache.is_empty() {
            tokio::task::yield_now().await;
        }
        let second = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .run("k", || 0, || async { (Ok(json!("second")), true) })
                    .await
            })
        };
        tokio::task::yield_now().await;
        first.abort();
        assert_eq!(second.await.unwrap().unwrap(), json!("second"));
    }

    #[tokio::test]
    async fn the_sweeper_runs_on_its_interval_and_stops_when_cancelled() {
        let cache = IdempotencyCache::new(10, 100);
        done(&cache, "a", json!(1), 0);
        let stop = CancellationToken::new();
        let task = tokio::spawn(run_sweeper(
            cache.clone(),
            Duration::from_millis(300),
            stop.clone(),
            || 1000,
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(cache.len(), 1, "not swept before the interval");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !cache.is_empty() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(cache.is_empty(), "swept once the interval passed");
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("sweeper stops on cancel")
            .unwrap();
    }
}
