//! A socket wrapper that caps how many bytes a client may send before `connect` succeeds.
//!
//! tokio-tungstenite fixes its message limits at upgrade time, but before authentication a
//! client may send only its `connect` request (64 KiB at most). This wrapper counts bytes read
//! and fails the read with `QuotaExceeded` past the budget, so an unauthenticated client can
//! never make the gateway buffer more than that; the budget is lifted after `hello-ok`.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::connection::PreauthBudget;
use super::preauth_limit::PreauthSlot;

const UNLIMITED: u64 = u64::MAX;

/// The shared budget: bytes still allowed, or unlimited.
#[derive(Debug, Clone)]
pub struct Budget(Arc<AtomicU64>);

impl Budget {
    /// A budget of `bytes`.
    pub fn new(bytes: u64) -> Self {
        Self(Arc::new(AtomicU64::new(bytes)))
    }
}

impl PreauthBudget for Budget {
    fn lift(&self) {
        self.0.store(UNLIMITED, Ordering::Release);
    }
}

/// What an unauthenticated connection holds: its byte budget and its place under the
/// per-address cap. Both end when `connect` succeeds (the place also when the socket ends).
#[derive(Debug)]
pub struct PreauthHold {
    budget: Budget,
    slot: Mutex<PreauthSlot>,
}

impl PreauthHold {
    /// Holds `budget` and `slot` together.
    pub fn new(budget: Budget, slot: PreauthSlot) -> Self {
        Self {
            budget,
            slot: Mutex::new(slot),
        }
    }
}

impl PreauthBudget for PreauthHold {
    fn lift(&self) {
        self.budget.lift();
        self.slot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .release();
    }
}

/// An I/O object whose reads draw on a [`Budget`].
#[derive(Debug)]
pub struct Budgeted<S> {
    inner: S,
    budget: Budget,
}

impl<S> Budgeted<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, budget: Budget) -> Self {
        Self { inner, budget }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Budgeted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let remaining = self.budget.0.load(Ordering::Acquire);
        if remaining == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::QuotaExceeded,
                "pre-auth payload limit exceeded",
            )));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            let read = (buf.filled().len() - before) as u64;
            if remaining != UNLIMITED {
                let _ = self
                    .budget
                    .0
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                        (left != UNLIMITED).then(|| left.saturating_sub(read))
                    });
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Budgeted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_past_the_budget_fail_until_it_is_lifted() {
        let (mut client, server) = tokio::io::duplex(1024);
        let budget = Budget::new(4);
        let mut wrapped = Budgeted::new(server, budget.clone());
        client.write_all(b"abcdefgh").await.unwrap();
        let mut buf = [0u8; 8];
        let n = wrapped.read(&mut buf).await.unwrap();
        assert_eq!(n, 8, "the read that crosses the budget completes");
        client.write_all(b"x").await.unwrap();
        let err = wrapped.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::QuotaExceeded);
        budget.lift();
        assert_eq!(wrapped.read(&mut buf).await.unwrap(), 1);
    }
}
