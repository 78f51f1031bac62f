//! The body of `POST /v1/api/sql`, decoded exactly as the server does
//! (`kalamdb_types::SqlRequestBody::decode`).
//!
//! Properties: decoding never panics; a refusal carries one of the three codes the spec gives
//! for a bad body, with its message shape; a body that decodes has non-blank SQL, and
//! re-encoding it as JSON and decoding again gives the same value (no parameter changes type
//! or value on the way, so what a proxy re-serializes is what the engine would have run).

#![no_main]

use kalamdb_types::{ErrorCode, SqlRequestBody};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match SqlRequestBody::decode(data) {
        Ok(body) => {
            assert!(!body.sql.trim().is_empty());
            let bytes = serde_json::to_vec(&body).expect("a decoded body serializes");
            let again = SqlRequestBody::decode(&bytes)
                .unwrap_or_else(|err| panic!("re-encoded body {body:?} is refused: {err}"));
            assert_eq!(again, body);
        }
        Err(err) => match err.code {
            ErrorCode::InvalidInput => {
                assert!(err.message.starts_with("Invalid JSON payload: "), "{err}");
            }
            ErrorCode::EmptySql => assert_eq!(err.message, "SQL query cannot be empty"),
            ErrorCode::InvalidParameter => {
                assert!(err.message.starts_with("Parameter $"), "{err}");
            }
            other => panic!("unexpected code {other} for a bad body: {err}"),
        },
    }
});
