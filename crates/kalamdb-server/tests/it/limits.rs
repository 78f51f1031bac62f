//! Per-address limits (`[rate_limit]`): password checks, WebSocket
//! connections and WebSocket messages, each answered with its 429 / error
//! code while the server keeps serving everyone else.

use std::sync::Arc;

use serde_json::json;

use crate::common::{ROOT_PASSWORD, TestServer};
use crate::live::{Ws, login};

fn limited(tweak: impl FnOnce(&mut kalamdb_server::ServerConfig)) -> TestServer {
    TestServer::start_with(Arc::new(tempfile::tempdir().unwrap()), tweak)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_checks_per_address_are_limited() {
    let server = limited(|c| c.rate_limit.auth_attempts_per_minute = 4);
    let attempt = |password: &'static str| {
        let server = &server;
        async move {
            let resp = server
                .client
                .post(server.url("/v1/api/auth/login"))
                .json(&json!({"user": "root", "password": password}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    // One good login and two bad ones are within the budget…
    let token = login(&server, "root", ROOT_PASSWORD).await;
    assert_eq!(attempt("wrong-1").await.0, 401);
    assert_eq!(attempt("wrong-2").await.0, 401);
    // …a Basic check is the fourth, then every path is refused.
    let (status, _) = server.sql_as("root", "wrong-3", "SELECT 1").await;
    assert_eq!(status, 401);
    let (status, body) = attempt(ROOT_PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "rate_limited");
    let (status, body) = server.sql_as("root", "wrong-4", "SELECT 1").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED");
    // Tokens need no password check: a Bearer client is not held back.
    let resp = server
        .client
        .post(server.url("/v1/api/sql"))
        .bearer_auth(&token)
        .json(&json!({"sql": "SELECT 1 AS one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_connections_and_messages_per_address_are_limited() {
    let server = limited(|c| {
        c.rate_limit.max_ws_connections_per_ip = 2;
        c.rate_limit.max_ws_messages_per_second = 5;
    });
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut a = Ws::open(&server, "", Some(&token), None).await.unwrap();
    assert_eq!(a.next().await["type"], "auth_success");
    let mut b = Ws::open(&server, "", Some(&token), None).await.unwrap();
    assert_eq!(b.next().await["type"], "auth_success");
    match Ws::open(&server, "", Some(&token), None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429)
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    // HTTP is not affected by the WebSocket limit.
    server.sql("CREATE NAMESPACE app").await;

    // A burst over 5 messages a second: the excess is refused with the
    // protocol id "rate_limit", the connection stays open and serves the
    // next allowed message.
    for i in 0..12 {
        a.send(json!({"type": "next_batch", "subscription_id": format!("x{i}")}))
            .await;
    }
    let mut not_found = 0;
    let mut limited = 0;
    for _ in 0..12 {
        let e = a.next().await;
        match e["code"].as_str().unwrap() {
            "NOT_FOUND" => not_found += 1,
            "RATE_LIMIT_EXCEEDED" => {
                assert_eq!(e["subscription_id"], "rate_limit");
                limited += 1;
            }
            other => panic!("unexpected {other}: {e}"),
        }
    }
    assert!(
        not_found >= 5 && limited >= 1,
        "{not_found} answered, {limited} limited"
    );
    // The other connection has its own budget.
    b.send(json!({"type": "next_batch", "subscription_id": "y"}))
        .await;
    assert_eq!(b.next().await["code"], "NOT_FOUND");
}
