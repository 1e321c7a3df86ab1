//! Failed-auth rate limiting per client IP and credential kind.
//!
//! `maxAttempts` failures within `windowMs` lock the address out for `lockoutMs`; while locked,
//! attempts are answered `AUTH_RATE_LIMITED` with `retryAfterMs` without checking the secret.
//! Loopback clients are exempt unless `exemptLoopback` is false. A success clears the record.
//! The table is bounded: stale records are pruned, and past [`MAX_TRACKED`] the oldest go.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::RateLimit;

/// Most addresses tracked at once.
pub const MAX_TRACKED: usize = 10_000;

/// Which credential failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// Shared token or password.
    SharedSecret,
    /// A device token.
    DeviceToken,
}

#[derive(Debug, Clone)]
struct Record {
    window_start: Instant,
    failures: u32,
    locked_until: Option<Instant>,
    last_seen: Instant,
}

/// The limiter state.
#[derive(Debug)]
pub struct AuthRateLimiter {
    config: RateLimit,
    records: HashMap<(IpAddr, CredentialKind), Record>,
}

impl AuthRateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RateLimit) -> Self {
        Self {
            config,
            records: HashMap::new(),
        }
    }

    /// Replaces the limits (hot reload); existing records are kept.
    pub fn set_config(&mut self, config: RateLimit) {
        self.config = config;
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        self.config.exempt_loopback && ip.is_loopback()
    }

    /// `Err(retry_after)` when `ip` is locked out for `kind`.
    pub fn check(
        &mut self,
        ip: IpAddr,
        kind: CredentialKind,
        now: Instant,
    ) -> Result<(), Duration> {
        if self.exempt(ip) {
            return Ok(());
        }
        match self.records.get(&(ip, kind)).and_then(|r| r.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure; returns `Some(retry_after)` when this failure triggered a lockout.
    pub fn record_failure(
        &mut self,
        ip: IpAddr,
        kind: CredentialKind,
        now: Instant,
    ) -> Option<Duration> {
        if self.exempt(ip) {
            return None;
        }
        if self.records.len() >= MAX_TRACKED {
            self.prune(now);
        }
        let window = Duration::from_millis(self.config.window_ms);
        let lockout = Duration::from_millis(self.config.lockout_ms);
        let max = self.config.max_attempts.max(1);
        let record = self.records.entry((ip, kind)).or_insert(Record {
            window_start: now,
            failures: 0,
            locked_until: None,
            last_seen: now,
        });
        if record.locked_until.is_some_and(|until| until <= now) {
            record.locked_until = None;
            record.failures = 0;
            record.window_start = now;
        }
        if now.duration_since(record.window_start) > window {
            record.window_start = now;
            record.failures = 0;
        }
        record.failures += 1;
        record.last_seen = now;
        if record.failures >= max {
            record.locked_until = Some(now + lockout);
            return Some(lockout);
        }
        None
    }

    /// Clears the record of `ip` after a successful auth.
    pub fn record_success(&mut self, ip: IpAddr, kind: CredentialKind) {
        self.records.remove(&(ip, kind));
    }

    fn prune(&mut self, now: Instant) {
        let horizon = Duration::from_millis(self.config.window_ms.max(self.config.lockout_ms));
        self.records.retain(|_, r| {
            r.locked_until.is_some_and(|u| u > now) || now.duration_since(r.last_seen) <= horizon
        });
        while self.records.len() >= MAX_TRACKED {
            let Some(oldest) = self
                .records
                .iter()
                .min_by_key(|(_, r)| r.last_seen)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.records.remove(&oldest);
        }
    }

    /// Number of tracked records (for tests and status).
    pub fn tracked(&self) -> usize {
        self.records.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(exempt_loopback: bool) -> RateLimit {
        RateLimit {
            max_attempts: 3,
            window_ms: 60_000,
            lockout_ms: 300_000,
            exempt_loopback,
        }
    }

    const REMOTE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 8));
    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn max_attempts_failures_lock_the_address_out_for_the_lockout() {
        let mut rl = AuthRateLimiter::new(limits(true));
        let t0 = Instant::now();
        let k = CredentialKind::SharedSecret;
        assert_eq!(rl.record_failure(REMOTE, k, t0), None);
        assert_eq!(rl.record_failure(REMOTE, k, t0), None);
        assert_eq!(
            rl.record_failure(REMOTE, k, t0),
            Some(Duration::from_secs(300))
        );
        let retry = rl
            .check(REMOTE, k, t0 + Duration::from_secs(100))
            .unwrap_err();
        assert_eq!(retry, Duration::from_secs(200));
        assert!(rl.check(REMOTE, k, t0 + Duration::from_secs(301)).is_ok());
    }

    #[test]
    fn other_addresses_and_kinds_are_not_affected() {
        let mut rl = AuthRateLimiter::new(limits(true));
        let t0 = Instant::now();
        for _ in 0..3 {
            rl.record_failure(REMOTE, CredentialKind::SharedSecret, t0);
        }
        assert!(rl.check(OTHER, CredentialKind::SharedSecret, t0).is_ok());
        assert!(rl.check(REMOTE, CredentialKind::DeviceToken, t0).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let mut rl = AuthRateLimiter::new(limits(true));
        let t0 = Instant::now();
        let k = CredentialKind::SharedSecret;
        rl.record_failure(REMOTE, k, t0);
        rl.record_failure(REMOTE, k, t0);
        assert_eq!(
            rl.record_failure(REMOTE, k, t0 + Duration::from_secs(61)),
            None
        );
        assert!(rl.check(REMOTE, k, t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn loopback_is_exempt_unless_configured_otherwise() {
        let mut rl = AuthRateLimiter::new(limits(true));
        let t0 = Instant::now();
        for _ in 0..10 {
            assert_eq!(
                rl.record_failure(LOCAL, CredentialKind::SharedSecret, t0),
                None
            );
        }
        assert!(rl.check(LOCAL, CredentialKind::SharedSecret, t0).is_ok());
        let mut strict = AuthRateLimiter::new(limits(false));
        for _ in 0..3 {
            strict.record_failure(LOCAL, CredentialKind::SharedSecret, t0);
        }
        assert!(
            strict
                .check(LOCAL, CredentialKind::SharedSecret, t0)
                .is_err()
        );
    }

    #[test]
    fn success_clears_the_record() {
        let mut rl = AuthRateLimiter::new(limits(true));
        let t0 = Instant::now();
        rl.record_failure(REMOTE, CredentialKind::SharedSecret, t0);
        rl.record_failure(REMOTE, CredentialKind::SharedSecret, t0);
        rl.record_success(REMOTE, CredentialKind::SharedSecret);
        assert_eq!(
            rl.record_failure(REMOTE, CredentialKind::SharedSecret, t0),
            None
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut rl = AuthRateLimiter::new(limits(true));
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 50) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            rl.record_failure(ip, CredentialKind::SharedSecret, t0);
        }
        assert!(rl.tracked() <= MAX_TRACKED);
    }
}
