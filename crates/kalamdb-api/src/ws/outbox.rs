//! Sending on a connection's socket, and why a connection stops.
//!
//! Every send after login races the engine's request to close the
//! connection, so a write stuck behind a client that stopped reading cannot
//! outlive a "too slow" verdict.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use kalamdb_core::live::{CloseReason, LiveConnection};
use kalamdb_ws_protocol::{CloseCode, OutFrame, ServerMessage, WsErrorCode, close, encode_frame};

/// Why a connection ends.
pub(super) enum Stop {
    /// Send this close frame, then end.
    Close(CloseCode),
    /// The peer is gone or closed; nothing more to send.
    Gone,
}

/// The sending half of a logged-in connection.
pub(super) struct Outbox {
    pub(super) socket: WebSocket,
    pub(super) conn: Arc<LiveConnection>,
    /// Negotiated at login: large messages go out as gzip'd binary frames.
    pub(super) gzip: bool,
}

impl Outbox {
    /// Sends one message, giving up when the server wants the connection
    /// closed (a stuck write must not outlive a "too slow" verdict).
    pub(super) async fn send(&mut self, msg: &ServerMessage) -> Result<(), Stop> {
        let frame = match encode_frame(msg, self.gzip) {
            OutFrame::Text(t) => Message::Text(Utf8Bytes::from(t)),
            OutFrame::Binary(b) => Message::Binary(b.into()),
        };
        let conn = self.conn.clone();
        tokio::select! {
            r = self.socket.send(frame) => r.map_err(|_| Stop::Gone),
            reason = conn.close_requested() => Err(Stop::Close(close_code(reason))),
        }
    }

    /// Sends a subscription's `error` message.
    pub(super) async fn error(
        &mut self,
        id: &str,
        code: WsErrorCode,
        message: String,
    ) -> Result<(), Stop> {
        self.send(&ServerMessage::error(id, code, message)).await
    }
}

pub(super) fn close_code(reason: CloseReason) -> CloseCode {
    match reason {
        CloseReason::TooSlow => close::SUBSCRIBER_TOO_SLOW,
        CloseReason::UserDropped => close::USER_DROPPED,
        CloseReason::Shutdown => close::SERVER_SHUTDOWN,
    }
}

/// Login-phase messages (`auth_success`, `auth_error`, `AUTH_REQUIRED`)
/// always go out as text: the client reads them before it knows what was
/// negotiated.
pub(super) async fn send_text(
    socket: &mut WebSocket,
    msg: &ServerMessage,
) -> Result<(), axum::Error> {
    socket
        .send(Message::Text(Utf8Bytes::from(msg.to_json())))
        .await
}

pub(super) async fn close_with(socket: &mut WebSocket, code: CloseCode) -> Result<(), axum::Error> {
    socket
        .send(Message::Close(Some(CloseFrame {
            code: code.code,
            reason: Utf8Bytes::from_static(code.reason),
        })))
        .await
}
