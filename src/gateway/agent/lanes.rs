//! Session lanes: a session's runs stream one at a time, in the order they were accepted.
//!
//! A run takes its place in the lane when it is accepted ([`SessionLanes::enter`], on the
//! accepting task), not when its own task first runs, so two runs accepted one after the other
//! cannot swap places. A lane exists while some run holds or waits for it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::sync::OwnedMutexGuard;

type Lane = Arc<tokio::sync::Mutex<()>>;
type Lanes = Arc<Mutex<HashMap<String, Lane>>>;
type Waiting = Pin<Box<dyn Future<Output = OwnedMutexGuard<()>> + Send>>;

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The lanes of the sessions that have runs.
#[derive(Default)]
pub struct SessionLanes {
    lanes: Lanes,
}

impl SessionLanes {
    /// Queues a run of `session_key` behind the runs queued before it.
    pub fn enter(&self, session_key: &str) -> LanePlace {
        let lane = locked(&self.lanes)
            .entry(session_key.to_owned())
            .or_default()
            .clone();
        let mut waiting: Waiting = Box::pin(lane.clone().lock_owned());
        // The first poll takes the place in the lane's FIFO queue (the task that awaits the
        // place later registers its own waker; tokio's mutex replaces this one then).
        let held = match waiting
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(guard) => Some(guard),
            Poll::Pending => None,
        };
        LanePlace {
            key: session_key.to_owned(),
            lanes: self.lanes.clone(),
            lane,
            waiting: held.is_none().then_some(waiting),
            held,
        }
    }

    /// How many sessions have a run holding or waiting for their lane.
    #[cfg(test)]
    fn len(&self) -> usize {
        locked(&self.lanes).len()
    }

    /// Whether no session has a run.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A run's place in its session's lane; dropping it lets the next run go (or leaves the queue).
pub struct LanePlace {
    key: String,
    lanes: Lanes,
    lane: Lane,
    waiting: Option<Waiting>,
    held: Option<OwnedMutexGuard<()>>,
}

impl LanePlace {
    /// Waits until the session's earlier runs have ended; the lane is this run's until the
    /// place is dropped.
    pub async fn reached(&mut self) {
        if let Some(waiting) = self.waiting.take() {
            self.held = Some(waiting.await);
        }
    }
}

impl Drop for LanePlace {
    fn drop(&mut self) {
        self.held.take();
        self.waiting.take();
        let mut lanes = locked(&self.lanes);
        // Only the map and this place still hold the lane: no run waits for it.
        if Arc::strong_count(&self.lane) == 2 {
            lanes.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn places_are_served_in_the_order_they_were_taken_not_the_order_they_are_awaited() {
        let lanes = SessionLanes::default();
        let mut first = lanes.enter("s");
        let second = lanes.enter("s");
        let third = lanes.enter("s");
        first.reached().await;
        let order = Arc::new(Mutex::new(Vec::new()));
        // The third place is awaited before the second: it still goes after it.
        let mut tasks = Vec::new();
        for (name, mut place) in [("third", third), ("second", second)] {
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                place.reached().await;
                locked(&order).push(name);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }));
            tokio::task::yield_now().await;
        }
        drop(first);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*locked(&order), ["second", "third"]);
    }

    #[tokio::test]
    async fn a_place_left_while_queued_keeps_the_next_run_behind_the_running_one() {
        let lanes = SessionLanes::default();
        let mut running = lanes.enter("s");
        running.reached().await;
        let leaving = lanes.enter("s");
        let mut next = lanes.enter("s");
        drop(leaving);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), next.reached())
                .await
                .is_err(),
            "the next run went while the first still ran"
        );
        drop(running);
        tokio::time::timeout(Duration::from_secs(1), next.reached())
            .await
            .expect("the next run goes when the first ends");
    }

    #[tokio::test]
    async fn a_lane_is_forgotten_when_its_last_run_ends_and_other_sessions_do_not_wait() {
        let lanes = SessionLanes::default();
        let mut a = lanes.enter("a");
        let mut b = lanes.enter("b");
        a.reached().await;
        tokio::time::timeout(Duration::from_millis(100), b.reached())
            .await
            .expect("another session's run does not wait");
        assert_eq!(lanes.len(), 2);
        let queued = lanes.enter("a");
        drop(a);
        assert_eq!(lanes.len(), 2, "a run still waits for session a");
        drop(queued);
        drop(b);
        assert!(lanes.is_empty());
    }
}
