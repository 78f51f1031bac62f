//! Choosing the WebSocket frame for a server message (`wire-protocol.md` §6.1).
//!
//! Large snapshots dominate live-query traffic and JSON compresses well, so the server may
//! send a message as a binary frame of gzip'd JSON. The Rust client treats any binary frame
//! as gzip and drops one that is not, and waits for `auth_success` as text, so the rules for
//! when a binary frame is allowed live here, in one function, instead of at each send site.

use std::io::{Read, Write};

use flate2::{read::GzDecoder, write::GzEncoder};

use crate::error::{ProtocolError, WsErrorCode};
use crate::ids;
use crate::server_message::ServerMessage;

/// Messages whose JSON is shorter than this always go as text: below it gzip's header and
/// the client's inflate cost more than the bytes saved.
pub const GZIP_MIN_BYTES: usize = 512;

/// The two gzip magic bytes every compressed frame starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A frame ready for the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutFrame {
    Text(String),
    /// Always gzip'd UTF-8 JSON; never anything else.
    Binary(Vec<u8>),
}

/// Encodes `msg` as the frame to send. `gzip` is whether the connection negotiated gzip
/// (see `ProtocolOptions::negotiate`). The result is a binary frame of gzip'd JSON only when
/// `gzip` is on, the JSON is at least [`GZIP_MIN_BYTES`] long and the message is not
/// `auth_success`/`auth_error`; otherwise a text frame.
pub fn encode_frame(msg: &ServerMessage, gzip: bool) -> OutFrame {
    let json = msg.to_json();
    if !gzip || msg.is_auth() || json.len() < GZIP_MIN_BYTES {
        return OutFrame::Text(json);
    }
    match compress(json.as_bytes()) {
        Ok(bytes) => OutFrame::Binary(bytes),
        // Writing into a Vec does not fail in practice; should it, text is always valid.
        Err(_) => OutFrame::Text(json),
    }
}

fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // Level 1: every large message is compressed on the send path, and on JSON the fastest
    // level already gets most of the reduction.
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 32),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// The most a binary frame may inflate to: 64 MiB, tungstenite's default limit for one
/// WebSocket message, so a compressed message is never allowed to be larger than the same
/// message sent as text would be. Without a bound a few kilobytes of gzip (a "gzip bomb")
/// would make the receiver allocate gigabytes.
pub const GUNZIP_MAX_BYTES: usize = 64 << 20;

/// Decodes a binary frame the way clients do: gzip'd UTF-8 JSON text, at most
/// [`GUNZIP_MAX_BYTES`] once inflated. See [`gunzip_limited`] for the errors.
pub fn gunzip(bytes: &[u8]) -> Result<String, ProtocolError> {
    gunzip_limited(bytes, GUNZIP_MAX_BYTES)
}

/// [`gunzip`] with an explicit bound on the inflated size. Inflating stops one byte past
/// `max_bytes`, so memory use is bounded whatever the input claims.
///
/// Errors: output over `max_bytes` → `MESSAGE_TOO_LARGE`; anything that is not gzip'd UTF-8
/// → `UNSUPPORTED_DATA`, the code for a binary frame the receiver cannot use.
pub fn gunzip_limited(bytes: &[u8], max_bytes: usize) -> Result<String, ProtocolError> {
    let invalid = |why: String| {
        ProtocolError::new(
            WsErrorCode::UnsupportedData,
            ids::PROTOCOL,
            format!("Binary frame is not gzip'd UTF-8 JSON: {why}"),
        )
    };
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Err(invalid("missing the gzip magic bytes 1f 8b".into()));
    }
    let cap = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|err| invalid(err.to_string()))?;
    if out.len() > max_bytes {
        return Err(ProtocolError::message_too_large(max_bytes));
    }
    String::from_utf8(out).map_err(|err| invalid(err.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::options::ProtocolOptions;
    use crate::server_message::{BatchControl, Row};

    fn error_with_message(message: String) -> ServerMessage {
        ServerMessage::error("sub-1", WsErrorCode::NotFound, message)
    }

    /// An `error` message whose JSON is exactly `len` bytes.
    fn error_of_len(len: usize) -> ServerMessage {
        let base = error_with_message(String::new()).to_json().len();
        let msg = error_with_message("x".repeat(len - base));
        assert_eq!(msg.to_json().len(), len);
        msg
    }

    fn big_batch() -> ServerMessage {
        let rows: Vec<Row> = (0..50)
            .map(|i| {
                let Value::Object(map) =
                    json!({"id": i.to_string(), "body": "hello world", "_seq": (1000 + i).to_string()})
                else {
                    unreachable!()
                };
                map
            })
            .collect();
        ServerMessage::InitialDataBatch {
            subscription_id: "sub-1".into(),
            rows,
            batch_control: BatchControl::for_batch(0, false, Some(1049)),
        }
    }

    #[test]
    fn short_messages_are_text() {
        let msg = error_with_message("short".into());
        assert_eq!(encode_frame(&msg, true), OutFrame::Text(msg.to_json()));
    }

    #[test]
    fn long_messages_are_gzip_binary_that_round_trips() {
        let msg = big_batch();
        let json = msg.to_json();
        assert!(json.len() >= GZIP_MIN_BYTES);
        let OutFrame::Binary(bytes) = encode_frame(&msg, true) else {
            panic!("expected a binary frame")
        };
        assert_eq!(bytes[..2], [0x1f, 0x8b]);
        assert!(bytes.len() < json.len());
        let text = gunzip(&bytes).unwrap();
        assert_eq!(text, json);
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["type"],
            "initial_data_batch"
        );
    }

    #[test]
    fn threshold_is_inclusive_at_512_bytes() {
        assert!(matches!(
            encode_frame(&error_of_len(GZIP_MIN_BYTES - 1), true),
            OutFrame::Text(_)
        ));
        let at = error_of_len(GZIP_MIN_BYTES);
        let OutFrame::Binary(bytes) = encode_frame(&at, true) else {
            panic!("expected a binary frame at the threshold")
        };
        assert_eq!(gunzip(&bytes).unwrap(), at.to_json());
    }

    #[test]
    fn no_gzip_means_text_whatever_the_size() {
        let msg = big_batch();
        assert_eq!(encode_frame(&msg, false), OutFrame::Text(msg.to_json()));
    }

    #[test]
    fn auth_messages_are_always_text() {
        let long = "u".repeat(2 * GZIP_MIN_BYTES);
        let ok = ServerMessage::AuthSuccess {
            user: long.clone(),
            role: "user".into(),
            protocol: ProtocolOptions::default(),
        };
        assert_eq!(encode_frame(&ok, true), OutFrame::Text(ok.to_json()));
        let err = ServerMessage::AuthError { message: long };
        assert_eq!(encode_frame(&err, true), OutFrame::Text(err.to_json()));
    }

    #[test]
    fn gunzip_rejects_what_is_not_gzip() {
        let err = gunzip(b"{\"type\":\"ping\"}").unwrap_err();
        assert_eq!(err.code, WsErrorCode::UnsupportedData);
        assert_eq!(err.subscription_id, "protocol");
        // Right magic, corrupt body.
        let err = gunzip(&[0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad]).unwrap_err();
        assert_eq!(err.code, WsErrorCode::UnsupportedData);
        // Valid gzip of bytes that are not UTF-8.
        let bad_utf8 = compress(&[0xff, 0xfe, 0xfd]).unwrap();
        assert!(gunzip(&bad_utf8).is_err());
        assert!(gunzip(&[]).is_err());
    }

    #[test]
    fn gunzip_of_a_gzip_bomb_is_an_error_not_an_allocation() {
        // 80 MiB of spaces deflate to about 80 KB: inflated unbounded, one frame would
        // allocate past the 64 MiB a text frame may carry.
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..80 {
            encoder.write_all(&chunk).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let err = gunzip(&bomb).unwrap_err();
        assert_eq!(err.code, WsErrorCode::MessageTooLarge);
        assert_eq!(
            err.message,
            format!("Message exceeds the maximum size of {GUNZIP_MAX_BYTES} bytes")
        );
    }

    #[test]
    fn gunzip_limit_is_inclusive() {
        let json = compress(b"[1,2,3]").unwrap();
        assert_eq!(gunzip_limited(&json, 7).unwrap(), "[1,2,3]");
        assert_eq!(
            gunzip_limited(&json, 6).unwrap_err().code,
            WsErrorCode::MessageTooLarge
        );
        assert_eq!(gunzip_limited(&compress(b"").unwrap(), 0).unwrap(), "");
    }
}
