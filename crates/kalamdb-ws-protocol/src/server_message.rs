//! What the server sends (`wire-protocol.md` §6.2, §6.4): the typed [`ServerMessage`]s and
//! the texts of `auth_error`.
//!
//! The published Rust client drops any server message that does not decode into its own
//! types, silently losing it. So every shape the server sends is a typed value here whose
//! serialization is pinned by tests against the spec's examples and against the shapes the
//! client decodes.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ProtocolError, WsErrorCode};
use crate::ids;
use crate::options::ProtocolOptions;

/// `auth_error` message for a rejected or malformed token (§6.2).
pub const AUTH_INVALID_CREDENTIALS: &str = "Invalid credentials";
/// `auth_error` message for an expired token (§6.2).
pub const AUTH_TOKEN_EXPIRED: &str = "Token expired";

/// The `auth_error` message when no `authenticate` arrived in time (§6.2); the spec's text
/// with the configured `websocket.auth_timeout_secs`.
pub fn auth_timeout_message(timeout_secs: u64) -> String {
    format!("Authentication timeout - no auth message received within {timeout_secs} seconds")
}

/// A row: column name → value already encoded per §3.5 by the caller (`_seq` and BIGINT as
/// strings).
pub type Row = Map<String, Value>;

/// A message from the server (§6.2, §6.4), tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// `user` is the user id, `role` its lowercase spelling; `protocol` is what the server
    /// will do (see [`ProtocolOptions::negotiate`]).
    AuthSuccess {
        user: String,
        role: String,
        protocol: ProtocolOptions,
    },
    AuthError {
        message: String,
    },
    SubscriptionAck {
        subscription_id: String,
        total_rows: u32,
        batch_control: BatchControl,
        /// Projection order, `_seq` included.
        schema: Vec<SchemaField>,
    },
    InitialDataBatch {
        subscription_id: String,
        rows: Vec<Row>,
        batch_control: BatchControl,
    },
    /// Build with [`ServerMessage::insert`], [`ServerMessage::update`] or
    /// [`ServerMessage::delete`], which place the rows as §6.6 requires.
    Change {
        subscription_id: String,
        change_type: ChangeType,
        #[serde(skip_serializing_if = "Option::is_none")]
        rows: Option<Vec<Row>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_values: Option<Vec<Row>>,
    },
    Error {
        subscription_id: String,
        code: WsErrorCode,
        message: String,
    },
}

impl ServerMessage {
    /// New rows, full projection.
    pub fn insert(subscription_id: impl Into<String>, rows: Vec<Row>) -> Self {
        ServerMessage::Change {
            subscription_id: subscription_id.into(),
            change_type: ChangeType::Insert,
            rows: Some(rows),
            old_values: None,
        }
    }

    /// New versions in `rows`, previous versions (changed columns) in `old_values`.
    pub fn update(
        subscription_id: impl Into<String>,
        rows: Vec<Row>,
        old_values: Vec<Row>,
    ) -> Self {
        ServerMessage::Change {
            subscription_id: subscription_id.into(),
            change_type: ChangeType::Update,
            rows: Some(rows),
            old_values: Some(old_values),
        }
    }

    /// Deleted rows, full projection, each carrying the delete's own (new) `_seq`: the Rust
    /// client discards a delete whose `_seq` it has already seen.
    pub fn delete(subscription_id: impl Into<String>, old_values: Vec<Row>) -> Self {
        ServerMessage::Change {
            subscription_id: subscription_id.into(),
            change_type: ChangeType::Delete,
            rows: None,
            old_values: Some(old_values),
        }
    }

    pub fn error(
        subscription_id: impl Into<String>,
        code: WsErrorCode,
        message: impl Into<String>,
    ) -> Self {
        ServerMessage::Error {
            subscription_id: subscription_id.into(),
            code,
            message: message.into(),
        }
    }

    /// `auth_success` and `auth_error` must always go as text frames (§6.1).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ServerMessage::AuthSuccess { .. } | ServerMessage::AuthError { .. }
        )
    }

    /// The subscription the message is about, if any.
    pub fn subscription_id(&self) -> Option<&str> {
        match self {
            ServerMessage::AuthSuccess { .. } | ServerMessage::AuthError { .. } => None,
            ServerMessage::SubscriptionAck {
                subscription_id, ..
            }
            | ServerMessage::InitialDataBatch {
                subscription_id, ..
            }
            | ServerMessage::Change {
                subscription_id, ..
            }
            | ServerMessage::Error {
                subscription_id, ..
            } => Some(subscription_id),
        }
    }

    /// The JSON text of the message.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string and no field has a
        // fallible `Serialize`. Should that ever change, the client still gets a well-formed
        // error instead of a panic or an empty frame.
        serde_json::to_string(self).unwrap_or_else(|err| {
            serde_json::json!({
                "type": "error",
                "subscription_id": self.subscription_id().unwrap_or(ids::PROTOCOL),
                "code": WsErrorCode::ConversionError.as_str(),
                "message": format!("Message could not be encoded: {err}"),
            })
            .to_string()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeType {
    Insert,
    Update,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Batch 0, more to come.
    Loading,
    /// A later batch, more to come.
    LoadingBatch,
    /// The last batch: live changes follow.
    Ready,
}

/// Paging state of a subscription's initial data (§6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct BatchControl {
    /// 0-based, +1 per `next_batch`.
    pub batch_num: u32,
    pub has_more: bool,
    pub status: BatchStatus,
    /// The largest `_seq` delivered so far, as a JSON number (unlike `_seq` in rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq_id: Option<i64>,
}

impl BatchControl {
    /// The ack's `batch_control` for a subscription without initial data.
    pub fn without_initial_data() -> Self {
        BatchControl {
            batch_num: 0,
            has_more: false,
            status: BatchStatus::Ready,
            last_seq_id: None,
        }
    }

    /// The `batch_control` of initial batch `batch_num`, with the status the spec derives
    /// from its position.
    pub fn for_batch(batch_num: u32, has_more: bool, last_seq_id: Option<i64>) -> Self {
        let status = match (has_more, batch_num) {
            (false, _) => BatchStatus::Ready,
            (true, 0) => BatchStatus::Loading,
            (true, _) => BatchStatus::LoadingBatch,
        };
        BatchControl {
            batch_num,
            has_more,
            status,
            last_seq_id,
        }
    }
}

/// One column of a `subscription_ack` schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaField {
    pub name: String,
    /// The §3.4 spelling, which is a string (`"BigInt"`) or an object
    /// (`{"Decimal":{"precision":10,"scale":2}}`); callers pass `KalamDataType::wire_json()`.
    pub data_type: Value,
    pub index: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<FieldFlag>,
}

impl SchemaField {
    pub fn new(name: impl Into<String>, data_type: impl Into<Value>, index: usize) -> Self {
        SchemaField {
            name: name.into(),
            data_type: data_type.into(),
            index,
            flags: Vec::new(),
        }
    }

    pub fn with_flags(mut self, flags: Vec<FieldFlag>) -> Self {
        self.flags = flags;
        self
    }
}

/// A column flag of the schema. A closed set: the Rust client rejects the whole ack for any
/// other spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FieldFlag {
    #[serde(rename = "pk")]
    PrimaryKey,
    #[serde(rename = "nn")]
    NotNull,
    #[serde(rename = "uq")]
    Unique,
}

impl ProtocolError {
    /// The `error` message to send.
    pub fn to_message(&self) -> ServerMessage {
        self.clone().into()
    }
}

impl From<ProtocolError> for ServerMessage {
    fn from(err: ProtocolError) -> Self {
        ServerMessage::error(err.subscription_id, err.code, err.message)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests;
