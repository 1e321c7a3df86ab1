//! Protocol constants of the current generation (protocol v4).

/// The protocol version this gateway speaks.
pub const PROTOCOL_VERSION: u32 = 4;
/// Oldest protocol an operator client may speak.
pub const MIN_CLIENT_PROTOCOL_VERSION: u32 = 4;
/// Oldest protocol a node may speak (N-1 window).
pub const MIN_NODE_PROTOCOL_VERSION: u32 = 3;
/// Oldest protocol a probe client may speak (N-1 window).
pub const MIN_PROBE_PROTOCOL_VERSION: u32 = 3;
/// Largest WS message after authentication (`policy.maxPayload`).
pub const MAX_PAYLOAD_BYTES: usize = 26_214_400;
/// Per-socket send-buffer cap (`policy.maxBufferedBytes`).
pub const MAX_BUFFERED_BYTES: usize = 52_428_800;
/// Largest inbound data before `connect` succeeds.
pub const MAX_PREAUTH_PAYLOAD_BYTES: usize = 65_536;
/// Default `tick` cadence (`policy.tickIntervalMs`).
pub const TICK_INTERVAL_MS: u64 = 30_000;
/// Default pre-auth handshake timeout (`OPENCLAW_HANDSHAKE_TIMEOUT_MS`).
pub const HANDSHAKE_TIMEOUT_MS: u64 = 15_000;
/// Allowed clock skew of a device signature.
pub const DEVICE_SIGNATURE_SKEW_MS: u64 = 600_000;
/// Close reasons longer than this are truncated.
pub const CLOSE_REASON_MAX_BYTES: usize = 120;
/// Idempotency cache entry lifetime.
pub const DEDUPE_TTL_MS: u64 = 300_000;
/// Idempotency cache size cap.
pub const DEDUPE_MAX: usize = 1000;
/// Presence entry lifetime.
pub const PRESENCE_TTL_MS: u64 = 300_000;
/// Presence map size cap.
pub const PRESENCE_MAX_ENTRIES: usize = 200;
/// Pending pairing request lifetime.
pub const PAIRING_PENDING_TTL_MS: u64 = 300_000;

/// WebSocket close codes the gateway uses.
pub mod close_code {
    /// Normal closure (silent drops: non-JSON first frame, handshake timeout).
    pub const NORMAL: u16 = 1000;
    /// Protocol mismatch.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Policy violation: refused handshake, slow consumer.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// Message too big (pre-auth cap).
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// Gateway stop or restart.
    pub const SERVICE_RESTART: u16 = 1012;
    /// Superseded webchat instance.
    pub const SUPERSEDED: u16 = 4000;
}

/// Client ids the gateway accepts (lower-case; ids compare case-insensitively).
pub const KNOWN_CLIENT_IDS: &[&str] = &[
    "webchat-ui",
    "openclaw-control-ui",
    "openclaw-tui",
    "webchat",
    "cli",
    "gateway-client",
    "openclaw-macos",
    "openclaw-ios",
    "openclaw-watchos",
    "openclaw-android",
    "node-host",
    "openclaw-worker",
    "test",
    "fingerprint",
    "openclaw-probe",
    "clawdbot-control-ui",
    "clawdbot-macos",
    "clawdbot-ios",
    "clawdbot-android",
    "clawdbot-probe",
    "moltbot-control-ui",
    "moltbot-macos",
    "moltbot-ios",
    "moltbot-android",
    "moltbot-probe",
];

/// Client modes the gateway accepts.
pub const KNOWN_CLIENT_MODES: &[&str] = &[
    "webchat", "cli", "ui", "backend", "node", "worker", "probe", "test",
];

/// Operator scopes.
pub mod scope {
    /// Read methods.
    pub const READ: &str = "operator.read";
    /// Write methods (also allows read).
    pub const WRITE: &str = "operator.write";
    /// Everything.
    pub const ADMIN: &str = "operator.admin";
    /// Exec approvals.
    pub const APPROVALS: &str = "operator.approvals";
    /// Device and node pairing.
    pub const PAIRING: &str = "operator.pairing";
    /// Talk secrets.
    pub const TALK_SECRETS: &str = "operator.talk.secrets";
    /// Talk (newer builds).
    pub const TALK: &str = "operator.talk";
    /// Reading sessions (newer builds).
    pub const SESSIONS_READ: &str = "operator.sessions.read";
    /// Writing sessions (newer builds).
    pub const SESSIONS_WRITE: &str = "operator.sessions.write";
    /// Archiving sessions (newer builds).
    pub const SESSIONS_ARCHIVE: &str = "operator.sessions.archive";

    /// The prefix of every operator scope.
    const OPERATOR_PREFIX: &str = "operator.";

    /// Scopes `operator.write` implies besides itself.
    const IMPLIED_BY_WRITE: [&str; 5] =
        [READ, TALK, SESSIONS_READ, SESSIONS_WRITE, SESSIONS_ARCHIVE];

    /// The one rule of which operator scope covers which (spec `gateway-protocol.md` §4.1):
    /// a granted scope covers itself; `operator.admin` covers every operator scope;
    /// `operator.write` covers read, talk and the session scopes; `operator.read` and
    /// `operator.sessions.write` cover `operator.sessions.read`. Anything that is not an
    /// operator scope is covered only by itself. Every check of the gateway (method access,
    /// event delivery, pairing approval, token rotation, device tokens) goes through here.
    pub fn covers<S: AsRef<str>>(granted: &[S], wanted: &str) -> bool {
        let wanted = wanted.trim();
        let has = |scope: &str| granted.iter().any(|g| g.as_ref().trim() == scope);
        if has(wanted) {
            return true;
        }
        if !wanted.starts_with(OPERATOR_PREFIX) {
            return false;
        }
        has(ADMIN)
            || (IMPLIED_BY_WRITE.contains(&wanted) && has(WRITE))
            || (wanted == SESSIONS_READ && (has(READ) || has(SESSIONS_WRITE)))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Every cell of (granted × wanted) for the scopes the spec names.
        #[test]
        fn the_scope_table_follows_the_spec() {
            let wanted = [
                READ,
                WRITE,
                ADMIN,
                APPROVALS,
                PAIRING,
                TALK,
                TALK_SECRETS,
                SESSIONS_READ,
                SESSIONS_WRITE,
                SESSIONS_ARCHIVE,
            ];
            // (granted, the wanted scopes it covers)
            let table: [(&[&str], &[&str]); 8] = [
                (&[], &[]),
                (&[READ], &[READ, SESSIONS_READ]),
                (
                    &[WRITE],
                    &[
                        READ,
                        WRITE,
                        TALK,
                        SESSIONS_READ,
                        SESSIONS_WRITE,
                        SESSIONS_ARCHIVE,
                    ],
                ),
                (&[ADMIN], &wanted),
                (&[APPROVALS], &[APPROVALS]),
                (&[PAIRING], &[PAIRING]),
                (&[SESSIONS_WRITE], &[SESSIONS_WRITE, SESSIONS_READ]),
                (&[PAIRING, READ], &[PAIRING, READ, SESSIONS_READ]),
            ];
            for (granted, covered) in table {
                for w in wanted {
                    assert_eq!(
                        covers(granted, w),
                        covered.contains(&w),
                        "{granted:?} covers {w}?"
                    );
                }
            }
            assert!(
                !covers(&[ADMIN], "node.camera"),
                "admin is an operator scope only"
            );
            assert!(covers(&["node.camera"], "node.camera"));
            assert!(covers(&[" operator.read "], READ), "trimmed");
        }
    }
}
