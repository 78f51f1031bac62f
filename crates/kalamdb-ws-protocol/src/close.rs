//! The WebSocket close codes the server uses (`wire-protocol.md` §6.10), each with the
//! reason sent alongside it. The reasons of 1000 and 1013 are the spec's exact strings; the
//! spec names only the situation for the others, so their reasons are ours (clients branch
//! on the code, never on these).

/// A WebSocket close code with the reason sent alongside it (§6.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode {
    pub code: u16,
    pub reason: &'static str,
}

impl CloseCode {
    // Private: clients know only the codes below, so the server sends no others.
    const fn new(code: u16, reason: &'static str) -> Self {
        CloseCode { code, reason }
    }
}

/// No inbound frame within `websocket.client_timeout_secs`.
pub const HEARTBEAT_TIMEOUT: CloseCode = CloseCode::new(1000, "Heartbeat timeout");
pub const SERVER_SHUTDOWN: CloseCode = CloseCode::new(1001, "Server shutting down");
pub const AUTH_FAILED: CloseCode = CloseCode::new(1008, "Authentication failed");
pub const AUTH_TIMEOUT: CloseCode = CloseCode::new(1008, "Authentication timeout");
/// The authenticated user was dropped while connected.
pub const USER_DROPPED: CloseCode = CloseCode::new(1008, "User dropped");
/// Sent after an `error` with code `PROTOCOL`.
pub const PROTOCOL_ERROR: CloseCode = CloseCode::new(1011, "Protocol error");
/// The outbound queue exceeded `websocket.max_pending_messages` (§6.7).
pub const SUBSCRIBER_TOO_SLOW: CloseCode = CloseCode::new(1013, "Subscriber too slow");
