//! The login phase of a connection: a Bearer `Authorization` header on the
//! upgrade (`header_login`) or, for browsers that cannot set one, an
//! `authenticate` message within `websocket.auth_timeout_secs`
//! (`in_band_login`). Both check the token with
//! `AppState::user_for_token`, so a socket accepts exactly the tokens
//! `/v1/api/sql` accepts.

use axum::extract::ws::{Message, WebSocket};
use kalamdb_auth::{Credentials, TokenType};
use kalamdb_core::UserRecord;
use kalamdb_ws_protocol::{
    AUTH_INVALID_CREDENTIALS, AUTH_TOKEN_EXPIRED, ClientMessage, CloseCode, ProtocolError,
    ProtocolOptions, close, parse_client_message,
};

use super::outbox::send_text;
use crate::authenticate::AuthFailure;
use crate::state::SharedState;

/// Why the login phase ended without a user.
pub(super) enum LoginEnd {
    /// Send `auth_error` with this message, then close with this code.
    Refused(String, CloseCode),
    Gone,
}

fn refused(message: impl Into<String>) -> LoginEnd {
    LoginEnd::Refused(message.into(), close::AUTH_FAILED)
}

/// Checks an access token; on success the protocol options the client
/// asked for are narrowed to what this connection allows.
fn token_login(
    app: &SharedState,
    token: &str,
    requested: ProtocolOptions,
    compress_allowed: bool,
) -> Result<(UserRecord, ProtocolOptions), LoginEnd> {
    match app.user_for_token(token, TokenType::Access) {
        Ok(user) => Ok((user, requested.negotiate(compress_allowed))),
        Err(AuthFailure::Expired) => Err(refused(AUTH_TOKEN_EXPIRED)),
        Err(_) => Err(refused(AUTH_INVALID_CREDENTIALS)),
    }
}

pub(super) fn header_login(
    app: &SharedState,
    value: &str,
    requested: ProtocolOptions,
    compress_allowed: bool,
) -> Result<(UserRecord, ProtocolOptions), LoginEnd> {
    match kalamdb_auth::parse_authorization(value) {
        Ok(Credentials::Bearer(token)) => token_login(app, &token, requested, compress_allowed),
        _ => Err(refused(AUTH_INVALID_CREDENTIALS)),
    }
}

/// Waits for `authenticate` (browser clients). `subscribe` before it gets
/// `AUTH_REQUIRED`; other early messages are ignored.
pub(super) async fn in_band_login(
    app: &SharedState,
    socket: &mut WebSocket,
    compress_allowed: bool,
) -> Result<(UserRecord, ProtocolOptions), LoginEnd> {
    let timeout = app.config.ws.auth_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = match tokio::time::timeout_at(deadline, socket.recv()).await {
            Err(_) => {
                return Err(LoginEnd::Refused(
                    kalamdb_ws_protocol::auth_timeout_message(timeout.as_secs()),
                    close::AUTH_TIMEOUT,
                ));
            }
            Ok(None) | Ok(Some(Err(_))) => return Err(LoginEnd::Gone),
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return Err(LoginEnd::Gone),
            _ => continue,
        };
        match parse_client_message(text.as_str()) {
            Ok(ClientMessage::Authenticate {
                method,
                token,
                protocol,
            }) => {
                if method != "jwt" {
                    return Err(refused(AUTH_INVALID_CREDENTIALS));
                }
                return token_login(app, &token, protocol, compress_allowed);
            }
            Ok(ClientMessage::Subscribe(_)) => {
                let msg = ProtocolError::auth_required().to_message();
                if send_text(socket, &msg).await.is_err() {
                    return Err(LoginEnd::Gone);
                }
            }
            _ => {}
        }
    }
}
