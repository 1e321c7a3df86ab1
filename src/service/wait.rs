//! Pauses between polls of a supervisor (`launchctl print` until a job is gone, `schtasks` state
//! until a task stopped), behind a trait so tests run the same loops without sleeping.

use std::time::Duration;

/// Something that can wait.
pub trait Sleeper {
    /// Waits for `duration`.
    fn sleep(&mut self, duration: Duration);
}

/// Real waiting (`std::thread::sleep`).
#[derive(Debug, Default, Clone, Copy)]
pub struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// How many polls `interval` apart fit in `timeout` (at least one).
pub fn poll_count(timeout: Duration, interval: Duration) -> u32 {
    let n = timeout.as_millis() / interval.as_millis().max(1);
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_counts() {
        assert_eq!(
            poll_count(Duration::from_secs(30), Duration::from_millis(100)),
            300
        );
        assert_eq!(poll_count(Duration::ZERO, Duration::from_millis(100)), 1);
    }
}
