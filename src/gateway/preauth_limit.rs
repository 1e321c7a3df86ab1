//! Limits on clients that have not authenticated yet: how many WebSocket connections each
//! address (and everybody together) may hold open before `connect` succeeds, and the pacing of
//! failed credential checks.
//!
//! - [`PreauthGate`]: a slot per unauthenticated connection, taken at the HTTP upgrade and given
//!   back when `hello-ok` is sent or the socket ends. An address over its share (32 by default,
//!   `OPENCLAW_MAX_PREAUTH_CONNECTIONS_PER_IP`, as the reference gateway) or a gateway over its
//!   total (`OPENCLAW_MAX_PREAUTH_CONNECTIONS`) is answered 503 before the upgrade.
//! - [`FailurePacer`]: a wrong secret is answered [`FAILURE_PACE`] after the previous wrong
//!   answer to the same address (and never sooner than that after the attempt), so guesses
//!   from one address are answered one at a time, about four a second, however many sockets
//!   the guesser opens. A missing secret is not a guess and is answered at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Unauthenticated connections one address may hold by default (the reference's number).
pub const DEFAULT_PER_IP: usize = 32;
/// Unauthenticated connections the gateway holds at most by default.
pub const DEFAULT_TOTAL: usize = 1024;
/// The spacing of failed-credential answers to one address.
pub const FAILURE_PACE: Duration = Duration::from_millis(250);

/// How many unauthenticated connections are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreauthLimits {
    /// Per remote address.
    pub per_ip: usize,
    /// For the whole gateway.
    pub total: usize,
}

impl Default for PreauthLimits {
    fn default() -> Self {
        Self {
            per_ip: DEFAULT_PER_IP,
            total: DEFAULT_TOTAL,
        }
    }
}

/// Which limit refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreauthFull {
    /// The address holds its share already.
    PerAddress(usize),
    /// The gateway holds its total already.
    Total(usize),
}

impl PreauthFull {
    /// The refusal text for the 503 answer.
    pub fn message(self) -> String {
        match self {
            Self::PerAddress(n) => format!(
                "too many unauthenticated connections from this address (limit {n}); authenticate or close the pending ones"
            ),
            Self::Total(n) => {
                format!("too many unauthenticated connections (limit {n}); retry shortly")
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    by_ip: HashMap<IpAddr, usize>,
    total: usize,
}

/// Counts unauthenticated connections per address.
#[derive(Debug)]
pub struct PreauthGate {
    limits: PreauthLimits,
    counts: Mutex<Counts>,
}

impl PreauthGate {
    /// A gate with `limits`.
    pub fn new(limits: PreauthLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a slot for `ip`, or says which limit is reached.
    pub fn try_enter(self: &Arc<Self>, ip: IpAddr) -> Result<PreauthSlot, PreauthFull> {
        let mut counts = self.counts();
        if counts.total >= self.limits.total {
            return Err(PreauthFull::Total(self.limits.total));
        }
        let held = counts.by_ip.entry(ip).or_insert(0);
        if *held >= self.limits.per_ip {
            return Err(PreauthFull::PerAddress(self.limits.per_ip));
        }
        *held += 1;
        counts.total += 1;
        Ok(PreauthSlot {
            gate: Some(self.clone()),
            ip,
        })
    }

    /// Unauthenticated connections held by `ip` now.
    pub fn held_by(&self, ip: IpAddr) -> usize {
        self.counts().by_ip.get(&ip).copied().unwrap_or(0)
    }

    fn leave(&self, ip: IpAddr) {
        let mut counts = self.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(held) = counts.by_ip.get_mut(&ip) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                counts.by_ip.remove(&ip);
            }
        }
    }
}

/// One unauthenticated connection's place; given back on [`release`](Self::release) or drop.
#[derive(Debug)]
pub struct PreauthSlot {
    gate: Option<Arc<PreauthGate>>,
    ip: IpAddr,
}

impl PreauthSlot {
    /// Gives the place back (the connection authenticated).
    pub fn release(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.leave(self.ip);
        }
    }
}

impl Drop for PreauthSlot {
    fn drop(&mut self) {
        self.release();
    }
}

/// Most addresses the pacer remembers; past that, addresses whose turn has passed are dropped.
const PACER_ADDRESSES: usize = 4096;

/// Spaces the answers to failed credential checks per address.
#[derive(Debug, Default)]
pub struct FailurePacer {
    next: Mutex<HashMap<IpAddr, Instant>>,
}

impl FailurePacer {
    /// When the failure of an attempt made at `now` from `ip` may be answered: [`FAILURE_PACE`]
    /// after `now`, and after the previous failure answer to `ip`.
    pub fn answer_at(&self, ip: IpAddr, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        if next.len() >= PACER_ADDRESSES {
            next.retain(|_, at| *at > now);
        }
        let earliest = now + FAILURE_PACE;
        let at = match next.get(&ip) {
            Some(previous) if *previous + FAILURE_PACE > earliest => *previous + FAILURE_PACE,
            _ => earliest,
        };
        next.insert(ip, at);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn an_address_holds_at_most_its_share_and_slots_come_back_on_drop() {
        let gate = PreauthGate::new(PreauthLimits {
            per_ip: 2,
            total: 10,
        });
        let a = gate.try_enter(ip(1)).unwrap();
        let mut b = gate.try_enter(ip(1)).unwrap();
        assert_eq!(
            gate.try_enter(ip(1)).unwrap_err(),
            PreauthFull::PerAddress(2)
        );
        assert!(
            gate.try_enter(ip(2)).is_ok(),
            "another address has its own share"
        );
        b.release();
        b.release();
        assert_eq!(gate.held_by(ip(1)), 1, "a double release counts once");
        drop(a);
        assert_eq!(gate.held_by(ip(1)), 0);
        assert!(gate.try_enter(ip(1)).is_ok());
    }

    #[test]
    fn the_total_caps_every_address_together() {
        let gate = PreauthGate::new(PreauthLimits {
            per_ip: 5,
            total: 3,
        });
        let _held: Vec<_> = (1..=3).map(|i| gate.try_enter(ip(i)).unwrap()).collect();
        assert_eq!(gate.try_enter(ip(9)).unwrap_err(), PreauthFull::Total(3));
    }

    #[test]
    fn failures_from_one_address_are_answered_a_pace_apart() {
        let pacer = FailurePacer::default();
        let t0 = Instant::now();
        let answers: Vec<Duration> = (0..4).map(|_| pacer.answer_at(ip(1), t0) - t0).collect();
        assert_eq!(
            answers,
            [250, 500, 750, 1000].map(Duration::from_millis).to_vec()
        );
        assert_eq!(
            pacer.answer_at(ip(2), t0) - t0,
            FAILURE_PACE,
            "another address is not queued behind the first"
        );
        let later = t0 + Duration::from_secs(5);
        assert_eq!(pacer.answer_at(ip(1), later) - later, FAILURE_PACE);
    }
}
