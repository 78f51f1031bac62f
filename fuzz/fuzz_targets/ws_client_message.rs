//! The WebSocket protocol's decoders (`kalamdb_ws_protocol`): client text frames
//! (`parse_client_message`) and gzip'd binary frames (`gunzip`).
//!
//! Properties, beyond "never panics":
//! - a parsed `subscribe` has a non-blank id and options that obey §6.5 (`batch_size` ≥ 1,
//!   `last_rows` ≤ `batch_size`); a refusal has one of the codes §6.9 gives for a bad
//!   message, closes the connection exactly when the code is `PROTOCOL`, and its `error`
//!   message is valid JSON;
//! - inflating is bounded: with a limit, the output never exceeds it and a larger output is
//!   `MESSAGE_TOO_LARGE`, and within the limit the result equals the unbounded default's
//!   (64 MiB, beyond what libFuzzer's inputs can inflate to);
//! - a server message sent as a gzip'd frame inflates back to exactly its JSON.

#![no_main]

use kalamdb_ws_protocol::{
    ClientMessage, OutFrame, ServerMessage, WsErrorCode, close, encode_frame, gunzip,
    gunzip_limited, parse_client_message,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Small, so that inputs the fuzzer can reach (a few KB of deflate) cross it.
const LIMIT: usize = 4096;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_text_frame(text);
    }
    check_binary_frame(data);
    check_frame_round_trip(&String::from_utf8_lossy(data));
});

fn check_text_frame(text: &str) {
    match parse_client_message(text) {
        Ok(ClientMessage::Subscribe(sub)) => {
            assert!(!sub.id.trim().is_empty());
            if let Some(options) = sub.options {
                assert_ne!(options.batch_size, Some(0));
                if let (Some(size), Some(last)) = (options.batch_size, options.last_rows) {
                    assert!(last <= size);
                }
            }
        }
        Ok(_) => {}
        Err(err) => {
            assert!(
                matches!(
                    err.code,
                    WsErrorCode::Protocol
                        | WsErrorCode::InvalidSubscriptionId
                        | WsErrorCode::Unsupported
                ),
                "unexpected code {} for {text:?}",
                err.code
            );
            let closes = err.close_code() == Some(close::PROTOCOL_ERROR);
            assert_eq!(closes, err.code == WsErrorCode::Protocol);
            let json: Value = serde_json::from_str(&err.to_message().to_json())
                .expect("an error message is JSON");
            assert_eq!(json["type"], "error");
        }
    }
}

fn check_binary_frame(data: &[u8]) {
    match gunzip_limited(data, LIMIT) {
        Ok(text) => {
            assert!(text.len() <= LIMIT);
            assert_eq!(gunzip(data).as_deref(), Ok(text.as_str()));
        }
        Err(err) if err.code == WsErrorCode::MessageTooLarge => {
            // Unbounded, the same stream is larger still, or turns out corrupt or not UTF-8
            // after the point where the bounded read stopped.
            if let Ok(text) = gunzip(data) {
                assert!(text.len() > LIMIT);
            }
        }
        Err(err) => assert_eq!(err.code, WsErrorCode::UnsupportedData, "{err}"),
    }
}

fn check_frame_round_trip(text: &str) {
    let msg = ServerMessage::error("sub-1", WsErrorCode::NotFound, text);
    let json = msg.to_json();
    serde_json::from_str::<Value>(&json).expect("a server message is JSON");
    match encode_frame(&msg, true) {
        OutFrame::Text(sent) => assert_eq!(sent, json),
        OutFrame::Binary(bytes) => {
            assert_eq!(gunzip(&bytes).expect("our own frame inflates"), json);
        }
    }
}
