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
}
