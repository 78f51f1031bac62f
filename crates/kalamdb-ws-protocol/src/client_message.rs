//! What clients send (`wire-protocol.md` §6.2, §6.3): the typed [`ClientMessage`]s and the
//! one parser every text frame goes through, which maps each way a message can be wrong to
//! the error code and protocol-level id of §6.9.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ProtocolError, WsErrorCode};
use crate::ids;
use crate::options::ProtocolOptions;

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
