//! The messages of the live-query protocol (`wire-protocol.md` §6.2–§6.4, §6.9, §6.10).
//!
//! The server's only contract with clients is the JSON on the socket, and the published Rust
//! client drops any server message that does not decode into its own types, silently losing
//! it. So every shape the server sends is a typed value here whose serialization is pinned by
//! tests against the spec's examples, and everything a client sends goes through one parser
//! that maps each way a message can be wrong to the error code and protocol-level id of §6.9.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// The protocol-level `subscription_id`s of errors that concern no subscription (§6.9). The
/// Rust client ignores errors whose id names none of its subscriptions, so these never fail
/// a subscribe call by accident.
pub mod ids {
    /// Malformed messages, oversized messages and binary frames.
    pub const PROTOCOL: &str = "protocol";
    /// Inbound message rate exceeded.
    pub const RATE_LIMIT: &str = "rate_limit";
    /// `subscribe` before authentication.
    pub const SUBSCRIBE: &str = "subscribe";
    /// A `subscribe` whose `subscription.id` is blank (there is no id to echo).
    pub const INVALID_SUBSCRIPTION: &str = "invalid_subscription";
}

/// A WebSocket close code with the reason sent alongside it (§6.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode {
    pub code: u16,
    pub reason: &'static str,
}

/// The close codes the server uses (§6.10). The reasons of 1000 and 1013 are the spec's
/// exact strings; the spec names only the situation for the others, so their reasons are
/// ours (clients branch on the code, never on these).
pub mod close {
    use super::CloseCode;

    /// No inbound frame within `websocket.client_timeout_secs`.
    pub const HEARTBEAT_TIMEOUT: CloseCode = CloseCode {
        code: 1000,
        reason: "Heartbeat timeout",
    };
    pub const SERVER_SHUTDOWN: CloseCode = CloseCode {
        code: 1001,
        reason: "Server shutting down",
    };
    pub const AUTH_FAILED: CloseCode = CloseCode {
        code: 1008,
        reason: "Authentication failed",
    };
    pub const AUTH_TIMEOUT: CloseCode = CloseCode {
        code: 1008,
        reason: "Authentication timeout",
    };
    /// The authenticated user was dropped while connected.
    pub const USER_DROPPED: CloseCode = CloseCode {
        code: 1008,
        reason: "User dropped",
    };
    /// Sent after an `error` with code `PROTOCOL`.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode {
        code: 1011,
        reason: "Protocol error",
    };
    /// The outbound queue exceeded `websocket.max_pending_messages` (§6.7).
    pub const SUBSCRIBER_TOO_SLOW: CloseCode = CloseCode {
        code: 1013,
        reason: "Subscriber too slow",
    };
}

/// `auth_error` message for a rejected or malformed token (§6.2).
pub const AUTH_INVALID_CREDENTIALS: &str = "Invalid credentials";
/// `auth_error` message for an expired token (§6.2).
pub const AUTH_TOKEN_EXPIRED: &str = "Token expired";

/// The `auth_error` message when no `authenticate` arrived in time (§6.2); the spec's text
/// with the configured `websocket.auth_timeout_secs`.
pub fn auth_timeout_message(timeout_secs: u64) -> String {
    format!("Authentication timeout - no auth message received within {timeout_secs} seconds")
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

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
/// protocol-level id from [`ids`].
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

    fn protocol(message: impl Into<String>) -> Self {
        Self::new(WsErrorCode::Protocol, ids::PROTOCOL, message)
    }

    fn unsupported(subscription_id: &str, message: impl Into<String>) -> Self {
        Self::new(WsErrorCode::Unsupported, subscription_id, message)
    }

    /// The `error` message to send.
    pub fn to_message(&self) -> ServerMessage {
        ServerMessage::Error {
            subscription_id: self.subscription_id.clone(),
            code: self.code,
            message: self.message.clone(),
        }
    }

    /// The close that must follow the `error` (only for `PROTOCOL`).
    pub fn close_code(&self) -> Option<CloseCode> {
        self.code.close_code()
    }
}

impl From<ProtocolError> for ServerMessage {
    fn from(err: ProtocolError) -> Self {
        ServerMessage::Error {
            subscription_id: err.subscription_id,
            code: err.code,
            message: err.message,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Connection protocol options
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Serialization {
    #[default]
    Json,
    Msgpack,
}

impl Serialization {
    pub fn as_str(self) -> &'static str {
        match self {
            Serialization::Json => "json",
            Serialization::Msgpack => "msgpack",
        }
    }

    /// Parses the `serialization=` query parameter of header authentication.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Serialization::Json),
            "msgpack" => Some(Serialization::Msgpack),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    #[default]
    Gzip,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }

    /// Parses the `compression=` query parameter of header authentication.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            _ => None,
        }
    }
}

/// The `protocol` object of `authenticate` and `auth_success` (§6.2). The default is what
/// the Rust client assumes when it adds no query string: JSON, gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ProtocolOptions {
    pub serialization: Serialization,
    pub compression: Compression,
}

impl ProtocolOptions {
    /// What the server will actually do for a client asking `self` (the `protocol` of
    /// `auth_success`): always JSON, since a client asking MessagePack falls back to JSON
    /// when told so; gzip only when asked and the URL lacks `compress=false`.
    pub fn negotiate(self, compress_allowed: bool) -> ProtocolOptions {
        let gzip = compress_allowed && self.compression == Compression::Gzip;
        ProtocolOptions {
            serialization: Serialization::Json,
            compression: if gzip {
                Compression::Gzip
            } else {
                Compression::None
            },
        }
    }

    /// Whether large messages may go as gzip'd binary frames.
    pub fn gzip(self) -> bool {
        self.compression == Compression::Gzip
    }
}

// ---------------------------------------------------------------------------------------
// Client → server
// ---------------------------------------------------------------------------------------

/// A message from the client (§6.2, §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// In-band authentication. `method` is passed through unchecked (the spec's only one is
    /// `"jwt"`): an unknown method is an authentication failure, answered with `auth_error`,
    /// not a protocol error.
    Authenticate {
        method: String,
        token: String,
        protocol: ProtocolOptions,
    },
    Subscribe(SubscriptionRequest),
    /// `last_seq_id` is advisory: the server continues from its own cursor.
    NextBatch {
        subscription_id: String,
        last_seq_id: Option<i64>,
    },
    Unsubscribe {
        subscription_id: String,
    },
    Ping,
}

/// The `subscription` object of a `subscribe` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    /// Client-chosen, never blank; echoed exactly (no trimming).
    pub id: String,
    pub sql: String,
    /// `None` when `options` was absent or `null`: no initial data (§6.5).
    pub options: Option<SubscribeOptions>,
}

impl SubscriptionRequest {
    /// Whether at least one `initial_data_batch` must follow the ack (§6.5).
    pub fn wants_initial_data(&self) -> bool {
        self.options.is_some()
    }

    /// Checks `batch_size` against `websocket.max_initial_rows`, the one option rule that
    /// depends on configuration (the parser checks the others).
    pub fn check_batch_size(&self, max_initial_rows: u32) -> Result<(), ProtocolError> {
        match self.options.as_ref().and_then(|o| o.batch_size) {
            Some(size) if size > max_initial_rows => Err(ProtocolError::unsupported(
                &self.id,
                format!("batch_size must be between 1 and {max_initial_rows}, got {size}"),
            )),
            _ => Ok(()),
        }
    }
}

/// The `options` of a `subscribe`; present (even empty) means initial data is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubscribeOptions {
    /// Rows per initial batch; ≥ 1 when present.
    pub batch_size: Option<u32>,
    /// Only the newest N rows; ≤ `batch_size` when both are present.
    pub last_rows: Option<u32>,
    /// Resume point: only rows with `_seq > from` (sent as `from` or `from_seq_id`).
    pub from: Option<i64>,
}

/// The raw shape of client messages; values whose errors get a code other than `PROTOCOL`
/// stay as JSON here and are checked by hand after the structure is known.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RawClientMessage {
    Authenticate {
        method: String,
        token: String,
        protocol: ProtocolOptions,
    },
    Subscribe {
        subscription: RawSubscription,
    },
    NextBatch {
        subscription_id: String,
        #[serde(default)]
        last_seq_id: Option<Value>,
    },
    Unsubscribe {
        subscription_id: String,
    },
    // A struct variant so that extra fields are ignored like everywhere else.
    Ping {},
}

#[derive(Deserialize)]
#[serde(expecting = "a subscription object with \"id\" and \"sql\"")]
struct RawSubscription {
    id: String,
    sql: String,
    // `Option<Value>` turns both an absent and a `null` `options` into `None` (§6.5).
    #[serde(default)]
    options: Option<Value>,
}

/// Parses one text frame from a client.
///
/// Errors: not JSON, an unknown `type`, or a missing or mistyped field → `PROTOCOL` (id
/// `"protocol"`; the connection must then close 1011); a blank `subscription.id` →
/// `INVALID_SUBSCRIPTION_ID` (id `"invalid_subscription"`); an invalid option value, or a
/// `last_seq_id` that is not a `_seq` → `UNSUPPORTED` with the subscription's id.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, ProtocolError> {
    // Through a `Value` so that errors name fields rather than positions, and so a
    // non-object gets a plain answer instead of serde's tagged-enum wording.
    let value: Value = serde_json::from_str(text)
        .map_err(|err| ProtocolError::protocol(format!("Message is not valid JSON: {err}")))?;
    if !value.is_object() {
        return Err(ProtocolError::protocol(
            "Message must be a JSON object with a \"type\" field",
        ));
    }
    let raw = RawClientMessage::deserialize(value)
        .map_err(|err| ProtocolError::protocol(format!("Invalid message: {err}")))?;
    match raw {
        RawClientMessage::Authenticate {
            method,
            token,
            protocol,
        } => Ok(ClientMessage::Authenticate {
            method,
            token,
            protocol,
        }),
        RawClientMessage::Subscribe { subscription } => {
            let RawSubscription { id, sql, options } = subscription;
            if id.trim().is_empty() {
                return Err(ProtocolError::new(
                    WsErrorCode::InvalidSubscriptionId,
                    ids::INVALID_SUBSCRIPTION,
                    "Subscription id must not be blank",
                ));
            }
            let options = parse_options(&id, options)?;
            Ok(ClientMessage::Subscribe(SubscriptionRequest {
                id,
                sql,
                options,
            }))
        }
        RawClientMessage::NextBatch {
            subscription_id,
            last_seq_id,
        } => {
            let last_seq_id = match last_seq_id {
                None | Some(Value::Null) => None,
                Some(value) => Some(seq_from_json(&value).ok_or_else(|| {
                    ProtocolError::unsupported(
                        &subscription_id,
                        format!(
                            "last_seq_id must be a _seq as a JSON number or decimal string, got {value}"
                        ),
                    )
                })?),
            };
            Ok(ClientMessage::NextBatch {
                subscription_id,
                last_seq_id,
            })
        }
        RawClientMessage::Unsubscribe { subscription_id } => {
            Ok(ClientMessage::Unsubscribe { subscription_id })
        }
        RawClientMessage::Ping {} => Ok(ClientMessage::Ping),
    }
}

fn parse_options(
    id: &str,
    options: Option<Value>,
) -> Result<Option<SubscribeOptions>, ProtocolError> {
    let Some(options) = options else {
        return Ok(None);
    };
    let Value::Object(map) = options else {
        return Err(ProtocolError::unsupported(
            id,
            format!("Subscription options must be a JSON object, got {options}"),
        ));
    };
    let batch_size = count_option(id, &map, "batch_size")?;
    let last_rows = count_option(id, &map, "last_rows")?;
    // `from` is the spelling the Rust client sends; `from_seq_id` is the reference's alias.
    let from = match present(&map, "from").or_else(|| present(&map, "from_seq_id")) {
        None => None,
        Some(value) => Some(seq_from_json(value).ok_or_else(|| {
            ProtocolError::unsupported(
                id,
                format!("from must be a _seq as a JSON number or decimal string, got {value}"),
            )
        })?),
    };
    if batch_size == Some(0) {
        return Err(ProtocolError::unsupported(
            id,
            "batch_size must be at least 1",
        ));
    }
    if let (Some(size), Some(last)) = (batch_size, last_rows)
        && last > size
    {
        return Err(ProtocolError::unsupported(
            id,
            format!("last_rows ({last}) must not exceed batch_size ({size})"),
        ));
    }
    Ok(Some(SubscribeOptions {
        batch_size,
        last_rows,
        from,
    }))
}

/// A field's value unless it is absent or `null`.
fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|value| !value.is_null())
}

/// A non-negative row count that fits the protocol's `u32` counts.
fn count_option(
    id: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<u32>, ProtocolError> {
    let Some(value) = present(map, key) else {
        return Ok(None);
    };
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| {
            ProtocolError::unsupported(
                id,
                format!(
                    "{key} must be a whole number between 0 and {}, got {value}",
                    u32::MAX
                ),
            )
        })
}

/// A `_seq` sent by a client: a JSON integer or, since 64-bit integers lose precision in
/// JavaScript, the same integer as a decimal string.
fn seq_from_json(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Server → client
// ---------------------------------------------------------------------------------------

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    fn parse_ok(text: &str) -> ClientMessage {
        match parse_client_message(text) {
            Ok(msg) => msg,
            Err(err) => panic!("{text} should parse, got {err:?}"),
        }
    }

    fn parse_err(text: &str) -> ProtocolError {
        match parse_client_message(text) {
            Ok(msg) => panic!("{text} should fail, got {msg:?}"),
            Err(err) => err,
        }
    }

    fn subscribe_options(text: &str) -> Option<SubscribeOptions> {
        match parse_ok(text) {
            ClientMessage::Subscribe(req) => req.options,
            other => panic!("expected subscribe, got {other:?}"),
        }
    }

    fn row(value: Value) -> Row {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn to_value(msg: &ServerMessage) -> Value {
        serde_json::from_str(&msg.to_json()).unwrap()
    }

    fn spec_schema() -> Vec<SchemaField> {
        vec![
            SchemaField::new("id", "BigInt", 0).with_flags(vec![
                FieldFlag::PrimaryKey,
                FieldFlag::NotNull,
                FieldFlag::Unique,
            ]),
            SchemaField::new("body", "Text", 1),
            SchemaField::new("_seq", "BigInt", 2).with_flags(vec![FieldFlag::NotNull]),
        ]
    }

    const SEQ: i64 = 269_880_183_715_823_617;

    // ---- client → server: the §6.2 / §6.3 examples ----

    #[test]
    fn parses_spec_subscribe_example() {
        let msg = parse_ok(
            r#"{"type":"subscribe","subscription":{"id":"sub-1a2b3c","sql":"SELECT * FROM app.messages WHERE room = 'a'",
 "options":{"batch_size":500,"last_rows":50,"from":269880183715823617}}}"#,
        );
        assert_eq!(
            msg,
            ClientMessage::Subscribe(SubscriptionRequest {
                id: "sub-1a2b3c".into(),
                sql: "SELECT * FROM app.messages WHERE room = 'a'".into(),
                options: Some(SubscribeOptions {
                    batch_size: Some(500),
                    last_rows: Some(50),
                    from: Some(SEQ),
                }),
            })
        );
    }

    #[test]
    fn parses_spec_next_batch_unsubscribe_and_ping_examples() {
        assert_eq!(
            parse_ok(
                r#"{"type":"next_batch","subscription_id":"sub-1a2b3c","last_seq_id":269880183715823617}"#
            ),
            ClientMessage::NextBatch {
                subscription_id: "sub-1a2b3c".into(),
                last_seq_id: Some(SEQ),
            }
        );
        assert_eq!(
            parse_ok(r#"{"type":"unsubscribe","subscription_id":"sub-1a2b3c"}"#),
            ClientMessage::Unsubscribe {
                subscription_id: "sub-1a2b3c".into()
            }
        );
        assert_eq!(parse_ok(r#"{"type":"ping"}"#), ClientMessage::Ping);
        assert_eq!(parse_ok(r#"{"type":"ping","ts":123}"#), ClientMessage::Ping);
    }

    #[test]
    fn parses_spec_authenticate_example() {
        assert_eq!(
            parse_ok(
                r#"{"type":"authenticate","method":"jwt","token":"<access JWT>","protocol":{"serialization":"json","compression":"gzip"}}"#
            ),
            ClientMessage::Authenticate {
                method: "jwt".into(),
                token: "<access JWT>".into(),
                protocol: ProtocolOptions {
                    serialization: Serialization::Json,
                    compression: Compression::Gzip,
                },
            }
        );
        assert_eq!(
            parse_ok(
                r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"msgpack","compression":"none"}}"#
            ),
            ClientMessage::Authenticate {
                method: "jwt".into(),
                token: "t".into(),
                protocol: ProtocolOptions {
                    serialization: Serialization::Msgpack,
                    compression: Compression::None,
                },
            }
        );
    }

    #[test]
    fn authenticate_requires_a_valid_protocol() {
        for text in [
            r#"{"type":"authenticate","method":"jwt","token":"t"}"#,
            r#"{"type":"authenticate","method":"jwt","token":"t","protocol":null}"#,
            r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"json"}}"#,
            r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"xml","compression":"gzip"}}"#,
            r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"json","compression":"br"}}"#,
            r#"{"type":"authenticate","method":"jwt","protocol":{"serialization":"json","compression":"gzip"}}"#,
        ] {
            let err = parse_err(text);
            assert_eq!(err.code, WsErrorCode::Protocol, "{text}");
            assert_eq!(err.subscription_id, "protocol", "{text}");
        }
    }

    // ---- options: absent / null / {} ----

    #[test]
    fn options_absent_or_null_mean_no_initial_data() {
        let base = r#"{"type":"subscribe","subscription":{"id":"s","sql":"SELECT * FROM a.b""#;
        assert_eq!(subscribe_options(&format!("{base}}}}}")), None);
        assert_eq!(
            subscribe_options(&format!(r#"{base},"options":null}}}}"#)),
            None
        );
        let empty = subscribe_options(&format!(r#"{base},"options":{{}}}}}}"#));
        assert_eq!(empty, Some(SubscribeOptions::default()));
        let ClientMessage::Subscribe(req) = parse_ok(&format!(r#"{base},"options":{{}}}}}}"#))
        else {
            panic!("expected subscribe")
        };
        assert!(req.wants_initial_data());
    }

    #[test]
    fn from_accepts_string_and_the_from_seq_id_alias() {
        let with = |options: &str| {
            subscribe_options(&format!(
                r#"{{"type":"subscribe","subscription":{{"id":"s","sql":"q","options":{options}}}}}"#
            ))
            .unwrap()
            .from
        };
        assert_eq!(with(r#"{"from":269880183715823617}"#), Some(SEQ));
        assert_eq!(with(r#"{"from":"269880183715823617"}"#), Some(SEQ));
        assert_eq!(with(r#"{"from_seq_id":269880183715823617}"#), Some(SEQ));
        assert_eq!(with(r#"{"from_seq_id":"269880183715823617"}"#), Some(SEQ));
        assert_eq!(with(r#"{"from":null}"#), None);
        // `from` wins when a client sends both spellings.
        assert_eq!(with(r#"{"from":"5","from_seq_id":7}"#), Some(5));
        assert_eq!(with(r#"{"from":null,"from_seq_id":7}"#), Some(7));
    }

    #[test]
    fn unknown_option_fields_are_ignored() {
        let options = subscribe_options(
            r#"{"type":"subscribe","subscription":{"id":"s","sql":"q","options":{"batch_size":10,"include_old":true,"x":{"y":[1]}}}}"#,
        );
        assert_eq!(
            options,
            Some(SubscribeOptions {
                batch_size: Some(10),
                last_rows: None,
                from: None,
            })
        );
    }

    #[test]
    fn invalid_option_values_are_unsupported_for_that_subscription() {
        for options in [
            r#"{"batch_size":0}"#,
            r#"{"batch_size":-1}"#,
            r#"{"batch_size":"10"}"#,
            r#"{"batch_size":1.5}"#,
            r#"{"batch_size":4294967296}"#,
            r#"{"last_rows":-3}"#,
            r#"{"last_rows":60,"batch_size":50}"#,
            r#"{"from":"abc"}"#,
            r#"{"from":1.5}"#,
            r#"{"from":true}"#,
            r#"{"from":9223372036854775808}"#,
            r#"{"from_seq_id":"12x"}"#,
            r#"[1]"#,
            r#""fast""#,
        ] {
            let text = format!(
                r#"{{"type":"subscribe","subscription":{{"id":"sub-9","sql":"q","options":{options}}}}}"#
            );
            let err = parse_err(&text);
            assert_eq!(err.code, WsErrorCode::Unsupported, "{options}");
            assert_eq!(err.subscription_id, "sub-9", "{options}");
            assert_eq!(err.close_code(), None);
        }
        // Equal is allowed.
        assert_eq!(
            subscribe_options(
                r#"{"type":"subscribe","subscription":{"id":"s","sql":"q","options":{"last_rows":50,"batch_size":50}}}"#
            )
            .unwrap()
            .last_rows,
            Some(50)
        );
    }

    #[test]
    fn batch_size_is_checked_against_the_configured_maximum() {
        let ClientMessage::Subscribe(req) = parse_ok(
            r#"{"type":"subscribe","subscription":{"id":"s1","sql":"q","options":{"batch_size":1001}}}"#,
        ) else {
            panic!("expected subscribe")
        };
        assert!(req.check_batch_size(1001).is_ok());
        let err = req.check_batch_size(1000).unwrap_err();
        assert_eq!(err.code, WsErrorCode::Unsupported);
        assert_eq!(err.subscription_id, "s1");
        let ClientMessage::Subscribe(no_options) =
            parse_ok(r#"{"type":"subscribe","subscription":{"id":"s1","sql":"q"}}"#)
        else {
            panic!("expected subscribe")
        };
        assert!(no_options.check_batch_size(1).is_ok());
    }

    // ---- next_batch last_seq_id ----

    #[test]
    fn next_batch_last_seq_id_number_string_null_or_absent() {
        let last = |text: &str| match parse_ok(text) {
            ClientMessage::NextBatch { last_seq_id, .. } => last_seq_id,
            other => panic!("expected next_batch, got {other:?}"),
        };
        assert_eq!(
            last(r#"{"type":"next_batch","subscription_id":"s","last_seq_id":42}"#),
            Some(42)
        );
        assert_eq!(
            last(
                r#"{"type":"next_batch","subscription_id":"s","last_seq_id":"269880183715823617"}"#
            ),
            Some(SEQ)
        );
        assert_eq!(
            last(r#"{"type":"next_batch","subscription_id":"s","last_seq_id":null}"#),
            None
        );
        assert_eq!(last(r#"{"type":"next_batch","subscription_id":"s"}"#), None);

        let err = parse_err(r#"{"type":"next_batch","subscription_id":"s","last_seq_id":"x"}"#);
        assert_eq!(err.code, WsErrorCode::Unsupported);
        assert_eq!(err.subscription_id, "s");
    }

    // ---- error cases ----

    #[test]
    fn blank_subscription_id_is_its_own_error() {
        for id in ["", " ", "\t \n"] {
            let text = serde_json::to_string(&json!({
                "type": "subscribe",
                "subscription": {"id": id, "sql": "SELECT * FROM a.b", "options": {}}
            }))
            .unwrap();
            let err = parse_err(&text);
            assert_eq!(err.code, WsErrorCode::InvalidSubscriptionId);
            assert_eq!(err.subscription_id, "invalid_subscription");
            assert_eq!(err.close_code(), None);
        }
        // Ids are echoed exactly, surrounding spaces included.
        let ClientMessage::Subscribe(req) =
            parse_ok(r#"{"type":"subscribe","subscription":{"id":" a ","sql":"q"}}"#)
        else {
            panic!("expected subscribe")
        };
        assert_eq!(req.id, " a ");
    }

    #[test]
    fn blank_id_is_reported_before_bad_options() {
        let err = parse_err(
            r#"{"type":"subscribe","subscription":{"id":"","sql":"q","options":{"batch_size":0}}}"#,
        );
        assert_eq!(err.code, WsErrorCode::InvalidSubscriptionId);
    }

    #[test]
    fn malformed_messages_are_protocol_errors() {
        for text in [
            "",
            "not json",
            r#"{"type":"ping""#,
            "[1,2]",
            "42",
            "null",
            r#"{}"#,
            r#"{"type":"shout"}"#,
            r#"{"type":7}"#,
            r#"{"type":"subscribe"}"#,
            r#"{"type":"subscribe","subscription":null}"#,
            r#"{"type":"subscribe","subscription":{"sql":"q"}}"#,
            r#"{"type":"subscribe","subscription":{"id":"s"}}"#,
            r#"{"type":"subscribe","subscription":{"id":5,"sql":"q"}}"#,
            r#"{"type":"next_batch"}"#,
            r#"{"type":"unsubscribe"}"#,
            r#"{"type":"unsubscribe","subscription_id":null}"#,
        ] {
            let err = parse_err(text);
            assert_eq!(err.code, WsErrorCode::Protocol, "{text}");
            assert_eq!(err.subscription_id, "protocol", "{text}");
            assert_eq!(err.close_code(), Some(close::PROTOCOL_ERROR), "{text}");
            assert!(!err.message.is_empty());
        }
        assert!(
            parse_err("not json")
                .message
                .starts_with("Message is not valid JSON")
        );
        let unknown = parse_err(r#"{"type":"shout"}"#).message;
        assert!(unknown.contains("shout"), "{unknown}");
        let missing = parse_err(r#"{"type":"subscribe","subscription":{"id":"s"}}"#).message;
        assert!(missing.contains("sql"), "{missing}");
        // Internal type names never reach the client.
        assert!(!parse_err("[1,2]").message.contains("Raw"));
    }

    #[test]
    fn protocol_error_becomes_the_spec_error_message() {
        let err = parse_err("{");
        let json = to_value(&err.clone().into());
        assert_eq!(json["type"], "error");
        assert_eq!(json["subscription_id"], "protocol");
        assert_eq!(json["code"], "PROTOCOL");
        assert_eq!(json["message"], err.message.as_str());
        assert_eq!(to_value(&err.to_message()), json);

        assert_eq!(
            to_value(&ProtocolError::auth_required().to_message()),
            json!({"type":"error","subscription_id":"subscribe","code":"AUTH_REQUIRED",
                   "message":"Authentication required before subscribing"})
        );
        assert_eq!(
            ProtocolError::rate_limit_exceeded().subscription_id,
            "rate_limit"
        );
        assert_eq!(
            ProtocolError::message_too_large(1 << 20).code,
            WsErrorCode::MessageTooLarge
        );
        assert_eq!(
            ProtocolError::unsupported_data().code.as_str(),
            "UNSUPPORTED_DATA"
        );
    }

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

    #[test]
    fn close_codes_and_auth_messages() {
        let codes: Vec<u16> = [
            close::HEARTBEAT_TIMEOUT,
            close::SERVER_SHUTDOWN,
            close::AUTH_FAILED,
            close::AUTH_TIMEOUT,
            close::USER_DROPPED,
            close::PROTOCOL_ERROR,
            close::SUBSCRIBER_TOO_SLOW,
        ]
        .iter()
        .map(|c| c.code)
        .collect();
        assert_eq!(codes, [1000, 1001, 1008, 1008, 1008, 1011, 1013]);
        assert_eq!(close::HEARTBEAT_TIMEOUT.reason, "Heartbeat timeout");
        assert_eq!(close::SUBSCRIBER_TOO_SLOW.reason, "Subscriber too slow");
        assert_eq!(
            auth_timeout_message(3),
            "Authentication timeout - no auth message received within 3 seconds"
        );
    }

    #[test]
    fn protocol_negotiation_always_answers_json() {
        let asked = ProtocolOptions {
            serialization: Serialization::Msgpack,
            compression: Compression::Gzip,
        };
        assert_eq!(
            asked.negotiate(true),
            ProtocolOptions {
                serialization: Serialization::Json,
                compression: Compression::Gzip,
            }
        );
        assert_eq!(asked.negotiate(false).compression, Compression::None);
        let no_gzip = ProtocolOptions {
            serialization: Serialization::Json,
            compression: Compression::None,
        };
        assert!(!no_gzip.negotiate(true).gzip());
        assert_eq!(ProtocolOptions::default(), asked.negotiate(true));
        assert_eq!(
            Serialization::parse("msgpack"),
            Some(Serialization::Msgpack)
        );
        assert_eq!(Serialization::parse("xml"), None);
        assert_eq!(Compression::parse("none"), Some(Compression::None));
        assert_eq!(Compression::parse("GZIP"), None);
        assert_eq!(Serialization::Msgpack.as_str(), "msgpack");
        assert_eq!(Compression::Gzip.as_str(), "gzip");
    }

    // ---- server → client: the §6.2 / §6.4 examples ----

    #[test]
    fn auth_messages_match_spec() {
        let ok = ServerMessage::AuthSuccess {
            user: "alice".into(),
            role: "user".into(),
            protocol: ProtocolOptions::default(),
        };
        assert_eq!(
            to_value(&ok),
            json!({"type":"auth_success","user":"alice","role":"user",
                   "protocol":{"serialization":"json","compression":"gzip"}})
        );
        assert!(ok.is_auth());
        let err = ServerMessage::AuthError {
            message: AUTH_INVALID_CREDENTIALS.into(),
        };
        assert_eq!(
            to_value(&err),
            json!({"type":"auth_error","message":"Invalid credentials"})
        );
        assert!(err.is_auth());
        assert_eq!(err.subscription_id(), None);
    }

    #[test]
    fn subscription_ack_matches_spec() {
        let ack = ServerMessage::SubscriptionAck {
            subscription_id: "sub-1a2b3c".into(),
            total_rows: 1,
            batch_control: BatchControl::for_batch(0, false, Some(SEQ)),
            schema: spec_schema(),
        };
        let expected: Value = serde_json::from_str(
            r#"{"type":"subscription_ack","subscription_id":"sub-1a2b3c","total_rows":1,
 "batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":269880183715823617},
 "schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]},
           {"name":"body","data_type":"Text","index":1},{"name":"_seq","data_type":"BigInt","index":2,"flags":["nn"]}]}"#,
        )
        .unwrap();
        assert_eq!(to_value(&ack), expected);
        assert_eq!(ack.subscription_id(), Some("sub-1a2b3c"));
        assert!(!ack.is_auth());
    }

    #[test]
    fn initial_data_batch_matches_spec() {
        let batch = ServerMessage::InitialDataBatch {
            subscription_id: "sub-1a2b3c".into(),
            rows: vec![row(
                json!({"id":"269880183715823616","body":"hi","_seq":"269880183715823617"}),
            )],
            batch_control: BatchControl::for_batch(0, false, Some(SEQ)),
        };
        let expected: Value = serde_json::from_str(
            r#"{"type":"initial_data_batch","subscription_id":"sub-1a2b3c",
 "rows":[{"id":"269880183715823616","body":"hi","_seq":"269880183715823617"}],
 "batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":269880183715823617}}"#,
        )
        .unwrap();
        assert_eq!(to_value(&batch), expected);
    }

    #[test]
    fn changes_match_spec() {
        let new = json!({"id":"1","body":"b","_seq":"20"});
        let old = json!({"id":"1","body":"a","_seq":"10"});
        assert_eq!(
            to_value(&ServerMessage::insert("sub-1a2b3c", vec![row(new.clone())])),
            json!({"type":"change","subscription_id":"sub-1a2b3c","change_type":"insert","rows":[new]})
        );
        assert_eq!(
            to_value(&ServerMessage::update(
                "sub-1a2b3c",
                vec![row(new.clone())],
                vec![row(old.clone())]
            )),
            json!({"type":"change","subscription_id":"sub-1a2b3c","change_type":"update",
                   "rows":[new],"old_values":[old]})
        );
        let deleted = json!({"id":"1","body":"b","_seq":"30"});
        assert_eq!(
            to_value(&ServerMessage::delete(
                "sub-1a2b3c",
                vec![row(deleted.clone())]
            )),
            json!({"type":"change","subscription_id":"sub-1a2b3c","change_type":"delete",
                   "old_values":[deleted]})
        );
    }

    #[test]
    fn error_matches_spec() {
        assert_eq!(
            to_value(&ServerMessage::error(
                "sub-1a2b3c",
                WsErrorCode::NotFound,
                "Table 'app.x' not found"
            )),
            json!({"type":"error","subscription_id":"sub-1a2b3c","code":"NOT_FOUND",
                   "message":"Table 'app.x' not found"})
        );
    }

    #[test]
    fn batch_control_status_follows_position() {
        assert_eq!(
            serde_json::to_value(BatchControl::without_initial_data()).unwrap(),
            json!({"batch_num":0,"has_more":false,"status":"ready"})
        );
        assert_eq!(
            BatchControl::for_batch(0, true, Some(5)).status,
            BatchStatus::Loading
        );
        assert_eq!(
            BatchControl::for_batch(3, true, Some(5)).status,
            BatchStatus::LoadingBatch
        );
        assert_eq!(
            BatchControl::for_batch(3, false, Some(5)).status,
            BatchStatus::Ready
        );
        assert_eq!(
            serde_json::to_value(BatchControl::for_batch(1, true, None)).unwrap(),
            json!({"batch_num":1,"has_more":true,"status":"loading_batch"})
        );
    }

    #[test]
    fn object_data_types_are_kept_as_objects() {
        let field = SchemaField::new("price", json!({"Decimal":{"precision":10,"scale":2}}), 3);
        assert_eq!(
            serde_json::to_value(&field).unwrap(),
            json!({"name":"price","data_type":{"Decimal":{"precision":10,"scale":2}},"index":3})
        );
    }

    // ---- decoding our output with the shapes the Rust client requires (§6.4) ----
    //
    // These mirror what `kalam-client` 0.5 demands: required fields, `total_rows` as u32,
    // `batch_control.last_seq_id` absent or a number, `data_type` one of the §3.4 spellings,
    // flags one of pk/nn/uq, lowercase `change_type`, and unknown fields tolerated.

    #[derive(Deserialize, Debug)]
    #[serde(tag = "type", rename_all = "snake_case")]
    #[allow(dead_code)]
    enum ClientView {
        AuthSuccess {
            user: String,
            role: RoleView,
            protocol: ProtocolOptions,
        },
        AuthError {
            message: String,
        },
        SubscriptionAck {
            subscription_id: String,
            total_rows: u32,
            batch_control: BatchControlView,
            schema: Vec<SchemaFieldView>,
        },
        InitialDataBatch {
            subscription_id: String,
            rows: Vec<HashMapRow>,
            batch_control: BatchControlView,
        },
        Change {
            subscription_id: String,
            change_type: ChangeTypeView,
            #[serde(default)]
            rows: Option<Vec<HashMapRow>>,
            #[serde(default)]
            old_values: Option<Vec<HashMapRow>>,
        },
        Error {
            subscription_id: String,
            code: String,
            message: String,
        },
    }

    type HashMapRow = std::collections::HashMap<String, Value>;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum RoleView {
        User,
        Service,
        Dba,
        System,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum ChangeTypeView {
        Insert,
        Update,
        Delete,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum StatusView {
        Loading,
        LoadingBatch,
        Ready,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct BatchControlView {
        batch_num: u32,
        has_more: bool,
        status: StatusView,
        // A plain i64: a string here would fail to decode.
        #[serde(default)]
        last_seq_id: Option<i64>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[allow(dead_code)]
    enum DataTypeView {
        Boolean,
        SmallInt,
        Int,
        BigInt,
        Float,
        Double,
        Text,
        Bytes,
        Json,
        Uuid,
        Date,
        Time,
        Timestamp,
        DateTime,
        File,
        Decimal { precision: u8, scale: i8 },
        Embedding(u32),
    }

    #[derive(Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum FlagView {
        #[serde(rename = "pk")]
        Pk,
        #[serde(rename = "nn")]
        Nn,
        #[serde(rename = "uq")]
        Uq,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct SchemaFieldView {
        name: String,
        data_type: DataTypeView,
        index: usize,
        #[serde(default)]
        flags: Option<BTreeSet<FlagView>>,
    }

    fn decode(msg: &ServerMessage) -> ClientView {
        serde_json::from_str(&msg.to_json())
            .unwrap_or_else(|err| panic!("client cannot decode {}: {err}", msg.to_json()))
    }

    #[test]
    fn rust_client_shapes_decode_everything_we_send() {
        let ack = decode(&ServerMessage::SubscriptionAck {
            subscription_id: "s".into(),
            total_rows: 0,
            batch_control: BatchControl::without_initial_data(),
            schema: vec![
                SchemaField::new("id", "BigInt", 0).with_flags(vec![FieldFlag::PrimaryKey]),
                SchemaField::new("d", json!({"Decimal":{"precision":10,"scale":2}}), 1),
                SchemaField::new("e", json!({"Embedding":384}), 2),
                SchemaField::new("_seq", "BigInt", 3).with_flags(vec![FieldFlag::NotNull]),
            ],
        });
        let ClientView::SubscriptionAck {
            batch_control,
            schema,
            ..
        } = ack
        else {
            panic!("expected ack, got {ack:?}")
        };
        assert_eq!(batch_control.last_seq_id, None);
        assert_eq!(batch_control.status, StatusView::Ready);
        assert_eq!(
            schema[1].data_type,
            DataTypeView::Decimal {
                precision: 10,
                scale: 2
            }
        );
        assert_eq!(schema[2].data_type, DataTypeView::Embedding(384));
        assert_eq!(schema[1].flags, None);
        assert_eq!(schema[3].flags, Some(BTreeSet::from([FlagView::Nn])));

        let batch = decode(&ServerMessage::InitialDataBatch {
            subscription_id: "s".into(),
            rows: vec![row(json!({"id":"1","_seq":"269880183715823617"}))],
            batch_control: BatchControl::for_batch(0, true, Some(SEQ)),
        });
        let ClientView::InitialDataBatch {
            rows,
            batch_control,
            ..
        } = batch
        else {
            panic!("expected batch, got {batch:?}")
        };
        assert_eq!(batch_control.last_seq_id, Some(SEQ));
        assert_eq!(batch_control.status, StatusView::Loading);
        assert!(batch_control.has_more);
        // `_seq` in rows stays whatever the caller encoded (a string per §3.5).
        assert_eq!(rows[0]["_seq"], json!("269880183715823617"));

        let empty = decode(&ServerMessage::InitialDataBatch {
            subscription_id: "s".into(),
            rows: vec![],
            batch_control: BatchControl::for_batch(2, false, None),
        });
        assert!(matches!(
            empty,
            ClientView::InitialDataBatch { ref rows, .. } if rows.is_empty()
        ));

        let delete = decode(&ServerMessage::delete(
            "s",
            vec![row(json!({"id":"1","_seq":"9"}))],
        ));
        assert!(matches!(
            delete,
            ClientView::Change { change_type: ChangeTypeView::Delete, rows: None, old_values: Some(ref old), .. }
                if old.len() == 1
        ));

        let auth = decode(&ServerMessage::AuthSuccess {
            user: "u1".into(),
            role: "dba".into(),
            protocol: ProtocolOptions::default().negotiate(false),
        });
        assert!(matches!(
            auth,
            ClientView::AuthSuccess { role: RoleView::Dba, protocol, .. }
                if protocol.compression == Compression::None
        ));

        let error = decode(&ProtocolError::unsupported_data().to_message());
        assert!(matches!(
            error,
            ClientView::Error { ref code, .. } if code == "UNSUPPORTED_DATA"
        ));
    }
}
