//! Acceptance tests: the reference's Rust SDK (`kalam-client`) against a real server on port 0.
//! One test binary; every test starts its own fresh `TestServer`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

// The server's own integration harness, reused as is; this binary does not use all of it.
#[allow(dead_code)]
#[path = "../../../kalamdb-server/tests/it/common.rs"]
mod common;

mod auth;
mod health;
mod live;
mod query;
mod user_tables;

use std::time::Duration;

use kalam_client::client::KalamLinkClientBuilder;
use kalam_client::{AuthProvider, KalamLinkClient};

use crate::common::{ROOT_PASSWORD, TestServer};

/// An SDK builder pointed at `server`, configured the way an application would: the base URL
/// without a trailing slash and a request timeout, so a hung server fails the test instead of
/// stalling it.
fn builder(server: &TestServer) -> KalamLinkClientBuilder {
    KalamLinkClient::builder()
        .base_url(format!("http://{}", server.addr))
        .timeout(Duration::from_secs(30))
}

/// A client that logs in as root by itself (user/password → `/v1/api/auth/login` → Bearer).
fn root_client(server: &TestServer) -> KalamLinkClient {
    builder(server)
        .auth(AuthProvider::basic_auth(
            "root".into(),
            ROOT_PASSWORD.into(),
        ))
        .build()
        .expect("build client")
}
