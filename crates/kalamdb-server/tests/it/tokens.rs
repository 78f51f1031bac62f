//! Verified access tokens are remembered (`kalamdb-api/src/token_cache.rs`)
//! but never past a change: a token used again and again is refused at the
//! very next request after its user is re-roled, locked out, dropped, or
//! logs the token out, and a changed role applies at once.

use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};

async fn login(server: &TestServer, user: &str, password: &str) -> String {
    let resp = server
        .client
        .post(server.url("/v1/api/auth/login"))
        .json(&json!({ "user": user, "password": password }))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    body["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

async fn sql_with(server: &TestServer, token: &str, sql: &str) -> (u16, Value) {
    let resp = server
        .client
        .post(server.url("/v1/api/sql"))
        .bearer_auth(token)
        .json(&json!({ "sql": sql }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The token works, twice in a row (the second time from the cache).
async fn works_twice(server: &TestServer, token: &str) {
    for _ in 0..2 {
        let (status, body) = sql_with(server, token, "SELECT 1 AS one").await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remembered_tokens_never_outlive_a_change_of_their_user() {
    let server = TestServer::start();
    server
        .sql("CREATE USER carol WITH PASSWORD 'carol-Passw0rd-1' ROLE dba")
        .await;
    server
        .sql("CREATE USER dave WITH PASSWORD 'dave-Passw0rd-1' ROLE user")
        .await;
    server
        .sql("CREATE USER erin WITH PASSWORD 'erin-Passw0rd-1' ROLE user")
        .await;

    // Re-roled: the old token's role claim no longer matches.
    let carol = login(&server, "carol", "carol-Passw0rd-1").await;
    works_twice(&server, &carol).await;
    let (status, body) = sql_with(&server, &carol, "CREATE NAMESPACE carols").await;
    assert_eq!(status, 200, "a dba creates namespaces: {body}");
    server.sql("ALTER USER carol SET ROLE user").await;
    let (status, body) = sql_with(&server, &carol, "SELECT 1 AS one").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_CREDENTIALS", "{body}");

    // Dropped.
    let dave = login(&server, "dave", "dave-Passw0rd-1").await;
    works_twice(&server, &dave).await;
    server.sql("DROP USER dave").await;
    let (status, body) = sql_with(&server, &dave, "SELECT 1 AS one").await;
    assert_eq!(status, 401, "{body}");

    // Logged out (revoked without any user write).
    let erin = login(&server, "erin", "erin-Passw0rd-1").await;
    works_twice(&server, &erin).await;
    let resp = server
        .client
        .post(server.url("/v1/api/auth/logout"))
        .bearer_auth(&erin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (status, body) = sql_with(&server, &erin, "SELECT 1 AS one").await;
    assert_eq!(status, 401, "{body}");

    // Locked out by failed logins while the token is remembered.
    let erin = login(&server, "erin", "erin-Passw0rd-1").await;
    works_twice(&server, &erin).await;
    for _ in 0..5 {
        let resp = server
            .client
            .post(server.url("/v1/api/auth/login"))
            .json(&json!({ "user": "erin", "password": "wrong" }))
            .send()
            .await
            .unwrap();
        assert_ne!(resp.status().as_u16(), 200);
    }
    let (status, body) = sql_with(&server, &erin, "SELECT 1 AS one").await;
    assert_eq!(body["error"]["code"], "ACCOUNT_LOCKED", "{status} {body}");

    // Root's own token keeps working throughout.
    let root = login(&server, "root", ROOT_PASSWORD).await;
    works_twice(&server, &root).await;
}
