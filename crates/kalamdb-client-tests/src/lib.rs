//! Acceptance tests of our server against the reference KalamDB's published Rust SDK
//! (`kalam-client`, pinned in `Cargo.toml`). The SDK is the wire contract (`wire-protocol.md`
//! §8): if these tests fail, a real application using the SDK fails the same way.
//!
//! This crate owns only its tests (`tests/it/`); the library is intentionally empty. It must not
//! touch the server crates: it starts the real server through the shared `TestServer` harness of
//! `kalamdb-server/tests/it/common.rs` and talks to it exclusively through the SDK's public API.
