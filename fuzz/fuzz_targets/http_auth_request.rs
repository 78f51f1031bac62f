//! The bodies of `POST /v1/api/auth/login` and `/v1/api/auth/setup`
//! (`kalamdb_types::LoginRequest`, `SetupRequest`), deserialized as the server does.
//!
//! Properties: deserializing never panics; an accepted body re-encodes to JSON that
//! deserializes to the same request; a login body given as a JSON object names no field but
//! `user`/`username` and `password` (the login body is strict, so a misspelt field is an
//! error rather than silently ignored).

#![no_main]

use kalamdb_types::{LoginRequest, SetupRequest};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(login) = serde_json::from_slice::<LoginRequest>(data) {
        let bytes = serde_json::to_vec(&login).expect("a login body serializes");
        let again: LoginRequest = serde_json::from_slice(&bytes).expect("re-encoded login parses");
        assert_eq!(again, login);
        let value: Value = serde_json::from_slice(data).expect("an accepted body is JSON");
        if let Value::Object(fields) = value {
            for key in fields.keys() {
                assert!(
                    matches!(key.as_str(), "user" | "username" | "password"),
                    "login accepted unknown field {key:?}"
                );
            }
        }
    }
    if let Ok(setup) = serde_json::from_slice::<SetupRequest>(data) {
        let bytes = serde_json::to_vec(&setup).expect("a setup body serializes");
        let again: SetupRequest = serde_json::from_slice(&bytes).expect("re-encoded setup parses");
        assert_eq!(again, setup);
    }
});
