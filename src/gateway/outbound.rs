//! Per-connection outbound queue with a byte budget, and the writer task that drains it.
//!
//! Producers (responses, broadcasts) never block: they enqueue and account the bytes. When a
//! connection's queued bytes exceed `maxBufferedBytes`, droppable events (tick, presence) are
//! skipped for it and anything else kills it as a slow consumer (close 1008 `slow consumer`)
//! without slowing anyone else. Event `seq` numbers are assigned by the writer, per connection,
//! only for frames actually sent, so scope-filtered streams stay gap-free.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{Sink, SinkExt};
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_util::sync::CancellationToken;

use crate::protocol::constants::{CLOSE_REASON_MAX_BYTES, close_code};
use crate::protocol::frames::{OutboundEvent, StateVersion};

/// Something to send on one connection.
#[derive(Debug)]
pub enum Outgoing {
    /// A pre-serialised frame (responses, the challenge): no `seq`.
    Text(String),
    /// An event; the writer assigns its `seq`.
    Event {
        /// Event name.
        name: Arc<str>,
        /// Payload serialised once for all recipients.
        payload: Option<Arc<RawValue>>,
        /// State versions, on presence/health events.
        state_version: Option<StateVersion>,
    },
    /// Close the socket with a code and reason after everything queued before it.
    Close {
        /// Close code.
        code: u16,
        /// Close reason (truncated to 120 bytes).
        reason: String,
    },
}

impl Outgoing {
    fn budget_bytes(&self) -> usize {
        match self {
            Self::Text(s) => s.len(),
            Self::Event { name, payload, .. } => {
                name.len() + payload.as_ref().map_or(0, |p| p.get().len()) + 96
            }
            Self::Close { .. } => 0,
        }
    }
}

/// What happened to an event offered to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Queued.
    Queued,
    /// Skipped: droppable and the connection is over its budget.
    Dropped,
    /// The connection was over its budget with a non-droppable frame and is being closed.
    Killed,
    /// The connection is gone.
    Closed,
}

#[derive(Debug)]
struct Shared {
    queued: AtomicUsize,
    max_buffered: usize,
    kill: CancellationToken,
    closing: CancellationToken,
}

/// The sending side of one connection; cheap to clone.
#[derive(Debug, Clone)]
pub struct ConnectionSender {
    // The channel's senders live only here: when the last `ConnectionSender` is dropped the
    // writer sees the channel close and ends (the shared part must never hold a sender).
    tx: mpsc::UnboundedSender<Outgoing>,
    shared: Arc<Shared>,
}

/// The receiving side, owned by the writer task.
#[derive(Debug)]
pub struct ConnectionQueue {
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Outgoing>,
}

/// A new queue with a `max_buffered` byte budget.
pub fn connection_queue(max_buffered: usize) -> (ConnectionSender, ConnectionQueue) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        queued: AtomicUsize::new(0),
        max_buffered,
        kill: CancellationToken::new(),
        closing: CancellationToken::new(),
    });
    (
        ConnectionSender {
            tx,
            shared: shared.clone(),
        },
        ConnectionQueue { shared, rx },
    )
}

impl ConnectionSender {
    /// Offers `item`; `droppable` items are skipped when the connection is over its budget.
    pub fn offer(&self, item: Outgoing, droppable: bool) -> SendOutcome {
        let shared = &self.shared;
        if shared.kill.is_cancelled() || self.tx.is_closed() {
            return SendOutcome::Closed;
        }
        let bytes = item.budget_bytes();
        let queued = shared.queued.load(Ordering::Relaxed);
        if queued + bytes > shared.max_buffered && !matches!(item, Outgoing::Close { .. }) {
            if droppable {
                return SendOutcome::Dropped;
            }
            shared.kill.cancel();
            return SendOutcome::Killed;
        }
        shared.queued.fetch_add(bytes, Ordering::Relaxed);
        match self.tx.send(item) {
            Ok(()) => SendOutcome::Queued,
            Err(_) => {
                shared.queued.fetch_sub(bytes, Ordering::Relaxed);
                SendOutcome::Closed
            }
        }
    }

    /// Queues a pre-serialised frame (never dropped).
    pub fn send_text(&self, text: String) -> SendOutcome {
        self.offer(Outgoing::Text(text), false)
    }

    /// Queues a close after what is already queued; the connection reads no further request.
    pub fn close(&self, code: u16, reason: &str) {
        let _ = self.tx.send(Outgoing::Close {
            code,
            reason: truncate_reason(reason),
        });
        self.shared.closing.cancel();
    }

    /// Resolves once a close was queued: the request loop stops reading, so nothing a client
    /// pipelines behind a revocation is served with the revoked credentials.
    pub async fn closing(&self) {
        self.shared.closing.cancelled().await;
    }

    /// Bytes queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// True once the connection was killed as a slow consumer.
    pub fn is_killed(&self) -> bool {
        self.shared.kill.is_cancelled()
    }

    /// Resolves when the connection is killed as a slow consumer.
    pub async fn killed(&self) {
        self.shared.kill.cancelled().await;
    }
}

/// Truncates a close reason to 120 bytes at a character boundary.
pub fn truncate_reason(reason: &str) -> String {
    if reason.len() <= CLOSE_REASON_MAX_BYTES {
        return reason.to_owned();
    }
    let mut end = CLOSE_REASON_MAX_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.into(),
        reason: reason.to_owned().into(),
    }))
}

/// How long a killed slow consumer's socket is kept so the 1008 close can still get through.
pub const SLOW_CONSUMER_CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Drains `queue` into `sink` until a close, a kill, or every sender is gone. `stop` (the
/// gateway's shutdown) cuts the slow-consumer grace period short.
pub async fn run_writer<S>(mut sink: S, mut queue: ConnectionQueue, stop: CancellationToken)
where
    S: Sink<Message> + Unpin,
{
    let kill = queue.shared.kill.clone();
    // One wait future for the whole loop: a fresh `cancelled()` per message would register and
    // unregister a waiter every time.
    let killed = kill.cancelled();
    tokio::pin!(killed);
    let mut seq: u64 = 0;
    loop {
        let item = tokio::select! {
            biased;
            () = &mut killed => break,
            item = queue.rx.recv() => item,
        };
        let Some(item) = item else {
            let _ = sink.close().await;
            return;
        };
        let bytes = item.budget_bytes();
        let (message, last) = match item {
            Outgoing::Text(text) => (Message::Text(text.into()), false),
            Outgoing::Event {
                name,
                payload,
                state_version,
            } => {
                seq += 1;
                let frame = OutboundEvent {
                    kind: "event",
                    event: &name,
                    payload: payload.as_deref(),
                    seq: Some(seq),
                    state_version,
                };
                match serde_json::to_string(&frame) {
                    Ok(text) => (Message::Text(text.into()), false),
                    Err(_) => continue,
                }
            }
            Outgoing::Close { code, reason } => (close_message(code, &reason), true),
        };
        // Frames queued behind this one go out in the same write: one flush (one syscall) for a
        // burst, as when many runs stream to every connection at once.
        let sent = tokio::select! {
            biased;
            () = &mut killed => break,
            sent = sink.feed(message) => sent.is_ok(),
        };
        queue.shared.queued.fetch_sub(bytes, Ordering::Relaxed);
        if !sent || last {
            let _ = tokio::time::timeout(Duration::from_secs(1), sink.flush()).await;
            return;
        }
        if queue.rx.is_empty() {
            let flushed = tokio::select! {
                biased;
                () = &mut killed => break,
                flushed = sink.flush() => flushed.is_ok(),
            };
            if !flushed {
                return;
            }
        }
    }
    // Killed as a slow consumer: free what it queued at once, then keep the socket a bounded
    // while so the close frame reaches a client that resumes reading.
    queue.rx.close();
    while let Ok(item) = queue.rx.try_recv() {
        queue
            .shared
            .queued
            .fetch_sub(item.budget_bytes(), Ordering::Relaxed);
    }
    let close = sink.send(close_message(close_code::POLICY_VIOLATION, "slow consumer"));
    tokio::select! {
        _ = tokio::time::timeout(SLOW_CONSUMER_CLOSE_GRACE, close) => {}
        () = stop.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn droppable_events_are_skipped_over_budget_and_others_kill() {
        let (tx, _queue) = connection_queue(250);
        let payload: Arc<RawValue> = Arc::from(RawValue::from_string("{\"ts\":1}".into()).unwrap());
        let ev = || Outgoing::Event {
            name: Arc::from("tick"),
            payload: Some(payload.clone()),
            state_version: None,
        };
        assert_eq!(tx.offer(ev(), true), SendOutcome::Queued);
        assert_eq!(tx.offer(ev(), true), SendOutcome::Queued);
        assert_eq!(
            tx.offer(ev(), true),
            SendOutcome::Dropped,
            "a third would pass 250 bytes"
        );
        assert!(!tx.is_killed());
        assert_eq!(tx.send_text("x".repeat(100)), SendOutcome::Killed);
        assert!(tx.is_killed());
        assert_eq!(tx.send_text("y".into()), SendOutcome::Closed);
    }

    #[tokio::test]
    async fn the_writer_ends_when_every_sender_is_gone() {
        let (tx, queue) = connection_queue(1 << 20);
        let (sink_tx, _sink_rx) = futures_channel::mpsc::unbounded::<Message>();
        let second = tx.clone();
        drop(tx);
        drop(second);
        let ended = tokio::time::timeout(
            Duration::from_secs(2),
            run_writer(sink_tx, queue, CancellationToken::new()),
        )
        .await;
        assert!(ended.is_ok(), "the writer must end once no sender is left");
    }

    #[test]
    fn close_reasons_are_truncated_to_120_bytes_on_a_char_boundary() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(100);
        let t = truncate_reason(&long);
        assert!(t.len() <= 120 && t.len() >= 118);
    }

    #[tokio::test]
    async fn the_writer_numbers_events_per_connection_and_stops_after_close() {
        let (tx, queue) = connection_queue(1 << 20);
        let (sink_tx, mut sink_rx) = futures_channel::mpsc::unbounded::<Message>();
        let payload: Arc<RawValue> = Arc::from(RawValue::from_string("{}".into()).unwrap());
        tx.send_text("{\"type\":\"res\"}".into());
        for _ in 0..2 {
            tx.offer(
                Outgoing::Event {
                    name: Arc::from("tick"),
                    payload: Some(payload.clone()),
                    state_version: None,
                },
                true,
            );
        }
        tx.close(1012, "service restart");
        tx.send_text("never".into());
        run_writer(sink_tx, queue, CancellationToken::new()).await;
        let mut got = vec![];
        while let Ok(m) = sink_rx.try_recv() {
            got.push(m);
        }
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[1].to_text().unwrap(),
            r#"{"type":"event","event":"tick","payload":{},"seq":1}"#
        );
        assert_eq!(
            got[2].to_text().unwrap(),
            r#"{"type":"event","event":"tick","payload":{},"seq":2}"#
        );
        assert!(
            matches!(&got[3], Message::Close(Some(f)) if u16::from(f.code) == 1012 && f.reason == "service restart")
        );
        assert_eq!(
            tx.queued_bytes(),
            "never".len(),
            "only the frame queued after the close is left"
        );
    }
}
