//! The `error` messages of the live-query protocol (`wire-protocol.md` §6.9): the error
//! codes clients branch on, and [`ProtocolError`], a refusal as data (code, id, message)
//! that the server turns into an `error` message and, for `PROTOCOL`, a close.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::close::{self, CloseCode};
use crate::ids;

/// The `code` of an `error` message (§6.9). Clients branch on these spellings, so they are
/// spelled once, in [`WsErrorCode::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WsErrorCode {
    AuthRequired,
    InvalidSubscriptionId,
    SubscriptionLimitExceeded,
    Unauthorized,
    NotFound,
    InvalidSql,
    Unsupported,
    SubscriptionFailed,
    ConversionError,
    BatchFetchFailed,
    MessageTooLarge,
    RateLimitExceeded,
    UnsupportedData,
    Protocol,
}

impl WsErrorCode {
    pub const ALL: [WsErrorCode; 14] = [
        WsErrorCode::AuthRequired,
        WsErrorCode::InvalidSubscriptionId,
        WsErrorCode::SubscriptionLimitExceeded,
        WsErrorCode::Unauthorized,
        WsErrorCode::NotFound,
        WsErrorCode::InvalidSql,
        WsErrorCode::Unsupported,
        WsErrorCode::SubscriptionFailed,
        WsErrorCode::ConversionError,
        WsErrorCode::BatchFetchFailed,
        WsErrorCode::MessageTooLarge,
        WsErrorCode::RateLimitExceeded,
        WsErrorCode::UnsupportedData,
        WsErrorCode::Protocol,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WsErrorCode::AuthRequired => "AUTH_REQUIRED",
            WsErrorCode::InvalidSubscriptionId => "INVALID_SUBSCRIPTION_ID",
            WsErrorCode::SubscriptionLimitExceeded => "SUBSCRIPTION_LIMIT_EXCEEDED",
            WsErrorCode::Unauthorized => "UNAUTHORIZED",
            WsErrorCode::NotFound => "NOT_FOUND",
            WsErrorCode::InvalidSql => "INVALID_SQL",
            WsErrorCode::Unsupported => "UNSUPPORTED",
            WsErrorCode::SubscriptionFailed => "SUBSCRIPTION_FAILED",
            WsErrorCode::ConversionError => "CONVERSION_ERROR",
            WsErrorCode::BatchFetchFailed => "BATCH_FETCH_FAILED",
            WsErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            WsErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            WsErrorCode::UnsupportedData => "UNSUPPORTED_DATA",
            WsErrorCode::Protocol => "PROTOCOL",
        }
    }

    /// The close that must follow an error with this code; `None` keeps the connection open.
    pub fn close_code(self) -> Option<CloseCode> {
        match self {
            WsErrorCode::Protocol => Some(close::PROTOCOL_ERROR),
            _ => None,
        }
    }
}

impl fmt::Display for WsErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WsErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A client message the server must answer with an `error` (§6.9): what to send, as data.
/// `subscription_id` is the subscription's own id when the message named a valid one, else a
/// protocol-level id from [`ids`]. [`ProtocolError::to_message`] is the `error` message to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProtocolError {
    pub code: WsErrorCode,
    pub subscription_id: String,
    pub message: String,
}

impl ProtocolError {
    pub fn new(
        code: WsErrorCode,
        subscription_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ProtocolError {
            code,
            subscription_id: subscription_id.into(),
            message: message.into(),
        }
    }

    /// `subscribe` before authentication (§6.2).
    pub fn auth_required() -> Self {
        Self::new(
            WsErrorCode::AuthRequired,
            ids::SUBSCRIBE,
            "Authentication required before subscribing",
        )
    }

    /// An inbound message over `security.max_ws_message_size`.
    pub fn message_too_large(limit_bytes: usize) -> Self {
        Self::new(
            WsErrorCode::MessageTooLarge,
            ids::PROTOCOL,
            format!("Message exceeds the maximum size of {limit_bytes} bytes"),
        )
    }

    /// Inbound messages over the configured rate.
    pub fn rate_limit_exceeded() -> Self {
        Self::new(
            WsErrorCode::RateLimitExceeded,
            ids::RATE_LIMIT,
            "Message rate limit exceeded",
        )
    }

    /// A binary frame from the client: clients send JSON text only (§6.1).
    pub fn unsupported_data() -> Self {
        Self::new(
            WsErrorCode::UnsupportedData,
            ids::PROTOCOL,
            "Binary frames are not supported; send JSON text frames",
        )
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::new(WsErrorCode::Protocol, ids::PROTOCOL, message)
    }

    pub(crate) fn unsupported(subscription_id: &str, message: impl Into<String>) -> Self {
        Self::new(WsErrorCode::Unsupported, subscription_id, message)
    }

    /// The close that must follow the `error` (only for `PROTOCOL`).
    pub fn close_code(&self) -> Option<CloseCode> {
        self.code.close_code()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn error_codes_have_the_spec_spellings() {
        let spelled: Vec<&str> = WsErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spelled,
            [
                "AUTH_REQUIRED",
                "INVALID_SUBSCRIPTION_ID",
                "SUBSCRIPTION_LIMIT_EXCEEDED",
                "UNAUTHORIZED",
                "NOT_FOUND",
                "INVALID_SQL",
                "UNSUPPORTED",
                "SUBSCRIPTION_FAILED",
                "CONVERSION_ERROR",
                "BATCH_FETCH_FAILED",
                "MESSAGE_TOO_LARGE",
                "RATE_LIMIT_EXCEEDED",
                "UNSUPPORTED_DATA",
                "PROTOCOL",
            ]
        );
        for code in WsErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            assert_eq!(code.to_string(), code.as_str());
            assert_eq!(
                code.close_code().is_some(),
                code == WsErrorCode::Protocol,
                "{code}"
            );
        }
    }
}
