//! KalamDB's WebSocket live-query protocol (`wire-protocol.md` §6), as messages only: the
//! crate is the protocol, the live-query engine (subscriptions, snapshots, the change
//! router) is in `kalamdb-core`.
//!
//! Owns the wire shapes of live queries: parsing what clients send
//! ([`parse_client_message`] into a [`ClientMessage`], with the error codes of §6.9 when a
//! message is malformed), encoding what the server sends ([`ServerMessage`], whose JSON is
//! exactly the shapes the published `kalam-client` 0.5 decodes), the close codes of §6.10,
//! and the gzip framing of §6.1 ([`encode_frame`]).
//!
//! It must not touch storage, SQL execution or sockets: deciding what to subscribe, which
//! rows to send and when, and moving frames over a connection belong to the server. Row
//! values arrive here already encoded as JSON (§3.5) by the caller.

mod client_message;
pub mod close;
mod error;
mod frame;
pub mod ids;
mod options;
mod server_message;

pub use client_message::{
    ClientMessage, SubscribeOptions, SubscriptionRequest, parse_client_message,
};
pub use close::CloseCode;
pub use error::{ProtocolError, WsErrorCode};
pub use frame::{GUNZIP_MAX_BYTES, GZIP_MIN_BYTES, OutFrame, encode_frame, gunzip, gunzip_limited};
pub use options::{Compression, ProtocolOptions, Serialization};
pub use server_message::{
    AUTH_INVALID_CREDENTIALS, AUTH_TOKEN_EXPIRED, BatchControl, BatchStatus, ChangeType, FieldFlag,
    Row, SchemaField, ServerMessage, auth_timeout_message,
};
