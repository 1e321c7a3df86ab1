//! Giving freed heap back to the OS once a burst of work is over.
//!
//! glibc's allocator keeps what a burst freed (each worker thread's arena, the top of the heap
//! above a live block) for reuse, so after 100 streaming runs or 10,000 closed connections the
//! process stays at its peak RSS for as long as it runs. [`HeapRelease`] waits until the work
//! has been over for [`QUIET_FOR`], then asks the allocator to return the free pages
//! (`malloc_trim`, on a blocking thread). Other platforms' allocators need no help: there it
//! does nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long the work must have been over before the heap is trimmed.
pub const QUIET_FOR: Duration = Duration::from_secs(1);

/// Schedules trims; one at a time.
#[derive(Debug, Default)]
pub struct HeapRelease {
    scheduled: Arc<AtomicBool>,
}

impl HeapRelease {
    /// A burst ended: trim after [`QUIET_FOR`] unless `still_quiet` then says work came back
    /// (a trim already waiting covers this call). The wait ends early at `shutdown`.
    pub fn after_burst(
        &self,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
        still_quiet: impl FnOnce() -> bool + Send + 'static,
    ) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let scheduled = self.scheduled.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(QUIET_FOR) => {}
                () = shutdown.cancelled() => {
                    scheduled.store(false, Ordering::Release);
                    return;
                }
            }
            scheduled.store(false, Ordering::Release);
            if still_quiet() {
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        });
    }
}

/// Returns the allocator's free pages to the OS (glibc); a no-op elsewhere.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no preconditions.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_schedules_one_trim_and_work_coming_back_skips_it() {
        let release = HeapRelease::default();
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..3 {
            let asked = asked.clone();
            release.after_burst(&tasks, &shutdown, move || {
                asked.fetch_add(1, Ordering::SeqCst);
                false
            });
        }
        tokio::time::sleep(QUIET_FOR * 2).await;
        tasks.close();
        tasks.wait().await;
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "three ends of work, one check"
        );
        // After it ran, the next burst schedules again.
        let tasks = TaskTracker::new();
        let again = Arc::new(AtomicBool::new(false));
        let seen = again.clone();
        release.after_burst(&tasks, &shutdown, move || {
            seen.store(true, Ordering::SeqCst);
            false
        });
        tokio::time::sleep(QUIET_FOR * 2).await;
        assert!(again.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn shutdown_ends_the_wait_without_trimming() {
        let release = HeapRelease::default();
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let asked = Arc::new(AtomicBool::new(false));
        let seen = asked.clone();
        release.after_burst(&tasks, &shutdown, move || {
            seen.store(true, Ordering::SeqCst);
            true
        });
        shutdown.cancel();
        tasks.close();
        tasks.wait().await;
        assert!(!asked.load(Ordering::SeqCst));
    }
}
