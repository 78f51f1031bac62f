//! The life of a user account over HTTP (`sql.md` §5, `wire-protocol.md`
//! §5): every credential of a dropped or re-roled user stops working at
//! once, password changes beat the Basic cache, lockout is lifted by a
//! reset, racing creators and setups have exactly one winner, and thousands
//! of users with rows in one USER table cost a query nothing but its own key
//! prefix.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};
use crate::wire::{ADMIN_PASSWORD, Auth, assert_envelope, post_raw, sql_req, start_with_admin};

/// POST /v1/api/auth/login.
async fn login(server: &TestServer, user: &str, password: &str) -> (u16, Value) {
    let body = json!({"user": user, "password": password}).to_string();
    let (status, _, body) = post_raw(server, "/v1/api/auth/login", Auth::None, body).await;
    (status, body)
}

/// Logs in and returns (access, refresh).
async fn tokens(server: &TestServer, user: &str, password: &str) -> (String, String) {
    let (status, body) = login(server, user, password).await;
    assert_eq!(status, 200, "login {user}: {body}");
    (
        body["access_token"].as_str().expect("access").to_string(),
        body["refresh_token"].as_str().expect("refresh").to_string(),
    )
}

/// POST /v1/api/auth/refresh with the refresh JWT as Bearer (what the Rust client sends).
async fn refresh(server: &TestServer, token: &str) -> (u16, Value) {
    let (status, _, body) = post_raw(server, "/v1/api/auth/refresh", Auth::Bearer(token), "").await;
    (status, body)
}

/// GET /v1/api/auth/me with a Bearer access token.
async fn me(server: &TestServer, token: &str) -> (u16, Value) {
    let resp = server
        .client
        .get(server.url("/v1/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("me");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Asserts the `{"error":"<kind>","message":…}` body of the auth endpoints
/// with exactly those two keys; returns the message.
fn assert_auth_error(status: u16, body: &Value, want_status: u16, kind: &str) -> String {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], kind, "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
    body["message"]
        .as_str()
        .expect("message string")
        .to_string()
}

/// One SQL text over HTTP with the given credentials.
async fn run(server: &TestServer, auth: Auth<'_>, sql: &str) -> (u16, Value) {
    sql_req(server, auth, json!({ "sql": sql })).await
}

/// Runs `sql` and asserts a 200 success; returns the body.
async fn ok(server: &TestServer, auth: Auth<'_>, sql: &str) -> Value {
    let (status, body) = run(server, auth, sql).await;
    assert_eq!(status, 200, "{sql} -> {body}");
    assert_eq!(body["status"], "success", "{sql} -> {body}");
    body
}

/// The claims of a JWT (no verification).
fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("claims JSON")
}

/// A `system.stats` metric as a number (metric values are TEXT).
async fn metric(server: &TestServer, name: &str) -> u64 {
    let rows = server
        .rows(&format!(
            "SELECT metric_value FROM system.stats WHERE metric_name = '{name}'"
        ))
        .await;
    assert_eq!(rows.len(), 1, "metric {name}: {rows:?}");
    rows[0][0]
        .as_str()
        .unwrap_or_else(|| panic!("metric {name} is not TEXT: {rows:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("metric {name} is not a count ({e}): {rows:?}"))
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros() as i64
}

// ---------------------------------------------------------------- DROP USER

#[tokio::test]
async fn dropped_user_loses_every_credential_at_once() {
    let server = TestServer::start();
    let pw = "Dora-passw0rd-1";
    server
        .sql(&format!("CREATE USER dora WITH PASSWORD '{pw}' ROLE user"))
        .await;
    let (access, refresh_token) = tokens(&server, "dora", pw).await;
    // Every credential works before the drop, and Basic's success is now cached.
    let body = ok(&server, Auth::Basic("dora", pw), "SELECT 1 AS x").await;
    assert_eq!(body["results"][0]["as_user"], "dora");
    let body = ok(&server, Auth::Bearer(&access), "SELECT 1 AS x").await;
    assert_eq!(body["results"][0]["as_user"], "dora");
    let (status, body) = me(&server, &access).await;
    assert_eq!(status, 200, "{body}");

    let dropped_before = now_micros();
    let body = server.sql("DROP USER dora").await;
    assert_eq!(
        body["results"],
        json!([{"row_count":0,"message":"User 'dora' dropped (soft delete)","as_user":"root"}])
    );

    // /v1/api/sql: Basic (cached a moment ago) and Bearer both refused.
    let (status, body) = run(&server, Auth::Basic("dora", pw), "SELECT 1").await;
    assert_eq!(
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS"),
        "Invalid credentials"
    );
    let (status, body) = run(&server, Auth::Bearer(&access), "SELECT 1").await;
    assert_eq!(
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS"),
        "Invalid credentials"
    );
    // Auth endpoints: their own error shape.
    let (status, body) = refresh(&server, &refresh_token).await;
    assert_auth_error(status, &body, 401, "unauthorized");
    let (status, body) = me(&server, &access).await;
    assert_auth_error(status, &body, 401, "unauthorized");
    let (status, body) = login(&server, "dora", pw).await;
    assert_eq!(
        assert_auth_error(status, &body, 401, "unauthorized"),
        "Invalid credentials"
    );

    // The name stays taken (soft delete), and the account is gone for every statement.
    let (status, body) = run(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        &format!("CREATE USER dora WITH PASSWORD '{pw}' ROLE user"),
    )
    .await;
    assert_eq!(
        assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR"),
        "User 'dora' already exists"
    );
    let (status, body) = run(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        "CREATE USER dora WITH INTERNAL ROLE user",
    )
    .await;
    assert_eq!(
        assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR"),
        "User 'dora' already exists"
    );
    for sql in [
        "DROP USER dora",
        "ALTER USER dora SET PASSWORD 'Dora-passw0rd-2'",
        "EXECUTE AS USER 'dora' (SELECT 1)",
    ] {
        let (status, body) = run(&server, Auth::Basic("root", ROOT_PASSWORD), sql).await;
        assert_eq!(
            assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR"),
            "User 'dora' not found",
            "{sql}"
        );
    }
    let body = server.sql("DROP USER IF EXISTS dora").await;
    assert_eq!(
        body["results"][0]["message"],
        "User 'dora' does not exist (skipped)"
    );

    let rows = server
        .rows("SELECT user_id, role, deleted_at FROM system.users WHERE user_id = 'dora'")
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], "dora");
    assert_eq!(rows[0][1], "user");
    let deleted_at = rows[0][2]
        .as_i64()
        .unwrap_or_else(|| panic!("deleted_at not set: {rows:?}"));
    assert!(
        deleted_at >= dropped_before - 1_000_000 && deleted_at <= now_micros() + 1_000_000,
        "deleted_at is the drop time: {deleted_at}"
    );
    // Active users have none.
    assert_eq!(
        server
            .rows("SELECT deleted_at FROM system.users WHERE user_id = 'root'")
            .await,
        vec![json!([null])]
    );
}

// ---------------------------------------------------------------- ALTER USER SET ROLE

#[tokio::test]
async fn role_change_revokes_old_tokens_and_changes_permissions() {
    let server = TestServer::start();
    let pw = "Sam-passw0rd-1";
    server.sql("CREATE NAMESPACE rc").await;
    // SHARED, default ACCESS_LEVEL private: service may read it, user may not.
    server
        .sql("CREATE TABLE rc.prices (id BIGINT PRIMARY KEY, v INT)")
        .await;
    server.sql("INSERT INTO rc.prices VALUES (1, 10)").await;
    server
        .sql("CREATE USER TABLE rc.notes (id BIGINT PRIMARY KEY, body TEXT)")
        .await;
    server
        .sql(&format!("CREATE USER sam WITH PASSWORD '{pw}' ROLE user"))
        .await;
    server
        .sql("CREATE USER target1 WITH INTERNAL ROLE user")
        .await;
    server
        .sql("EXECUTE AS USER 'target1' (INSERT INTO rc.notes VALUES (7, 'from target1'))")
        .await;

    let (old_access, old_refresh) = tokens(&server, "sam", pw).await;
    assert_eq!(jwt_claims(&old_access)["role"], "user");
    let (status, body) = run(
        &server,
        Auth::Bearer(&old_access),
        "SELECT v FROM rc.prices",
    )
    .await;
    assert_eq!(
        assert_envelope(status, &body, 403, "PERMISSION_DENIED"),
        "Insufficient privileges to read table 'rc.prices'"
    );
    let (status, body) = run(
        &server,
        Auth::Bearer(&old_access),
        "EXECUTE AS USER 'target1' (SELECT body FROM rc.notes)",
    )
    .await;
    assert_eq!(
        assert_envelope(status, &body, 403, "PERMISSION_DENIED"),
        "Role 'user' cannot execute as user 'target1'"
    );

    let body = server.sql("ALTER USER sam SET ROLE service").await;
    assert_eq!(
        body["results"],
        json!([{"row_count":0,"message":"User 'sam' updated","as_user":"root"}])
    );
    assert_eq!(
        server
            .rows("SELECT role FROM system.users WHERE user_id = 'sam'")
            .await,
        vec![json!(["service"])]
    );

    // The tokens carrying `role: user` are refused at once, wherever they are shown.
    let (status, body) = run(&server, Auth::Bearer(&old_access), "SELECT 1").await;
    assert_eq!(
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS"),
        "Invalid credentials"
    );
    let (status, body) = me(&server, &old_access).await;
    assert_auth_error(status, &body, 401, "unauthorized");
    let (status, body) = refresh(&server, &old_refresh).await;
    assert_auth_error(status, &body, 401, "unauthorized");

    // A new login carries the new role, and the new role's permissions apply.
    let (status, body) = login(&server, "sam", pw).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "service");
    assert_eq!(body["admin_ui_access"], false);
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(jwt_claims(&access)["role"], "service");
    let (status, body) = me(&server, &access).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "service");

    let body = ok(
        &server,
        Auth::Bearer(&access),
        "SELECT id, v FROM rc.prices",
    )
    .await;
    assert_eq!(body["results"][0]["rows"], json!([["1", 10]]));
    assert_eq!(body["results"][0]["as_user"], "sam");
    let body = ok(
        &server,
        Auth::Bearer(&access),
        "EXECUTE AS USER 'target1' (SELECT id, body FROM rc.notes)",
    )
    .await;
    assert_eq!(body["results"][0]["rows"], json!([["7", "from target1"]]));
    assert_eq!(body["results"][0]["as_user"], "target1");
    let body = ok(
        &server,
        Auth::Bearer(&access),
        "INSERT INTO rc.prices VALUES (2, 20)",
    )
    .await;
    assert_eq!(body["results"][0]["message"], "Inserted 1 row(s)");
    // Still no admin: system.users and user DDL stay closed.
    let (status, body) = run(&server, Auth::Bearer(&access), "SELECT * FROM system.users").await;
    assert_envelope(status, &body, 403, "PERMISSION_DENIED");
    let (status, body) = run(
        &server,
        Auth::Bearer(&access),
        "CREATE USER other WITH INTERNAL ROLE user",
    )
    .await;
    assert_envelope(status, &body, 403, "PERMISSION_DENIED");
    // Basic sees the new role too.
    let body = ok(
        &server,
        Auth::Basic("sam", pw),
        "SELECT v FROM rc.prices WHERE id = 1",
    )
    .await;
    assert_eq!(body["results"][0]["rows"], json!([[10]]));

    // And back: the service token dies, a user login is refused the table again.
    server.sql("ALTER USER sam SET ROLE user").await;
    let (status, body) = run(&server, Auth::Bearer(&access), "SELECT 1").await;
    assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
    let (status, body) = run(&server, Auth::Basic("sam", pw), "SELECT v FROM rc.prices").await;
    assert_envelope(status, &body, 403, "PERMISSION_DENIED");

    // Role aliases (wire-protocol §5.6) store the canonical role; a login reports it.
    for (alias, role) in [
        ("developer", "service"),
        ("analyst", "service"),
        ("admin", "dba"),
        ("viewer", "user"),
        ("readonly", "user"),
    ] {
        server
            .sql(&format!("ALTER USER sam SET ROLE {alias}"))
            .await;
        assert_eq!(
            server
                .rows("SELECT role FROM system.users WHERE user_id = 'sam'")
                .await,
            vec![json!([role])],
            "{alias}"
        );
        let (status, body) = login(&server, "sam", pw).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["role"], role, "{alias}");
        assert_eq!(body["admin_ui_access"], role == "dba", "{alias}");
    }
    let (status, body) = run(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        "ALTER USER sam SET ROLE boss",
    )
    .await;
    assert_eq!(
        assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR"),
        "Invalid role 'boss'. Valid roles: user, service, dba, system"
    );
}

// ---------------------------------------------------------------- ALTER USER SET PASSWORD

#[tokio::test]
async fn password_change_beats_the_basic_cache() {
    let server = TestServer::start();
    let (old, new) = ("Pat-passw0rd-old1", "Pat-passw0rd-new1");
    server
        .sql(&format!("CREATE USER pat WITH PASSWORD '{old}' ROLE user"))
        .await;
    // Twice, so the second success may come from the Basic cache.
    for _ in 0..2 {
        let body = ok(&server, Auth::Basic("pat", old), "SELECT 1 AS x").await;
        assert_eq!(body["results"][0]["as_user"], "pat");
    }

    let body = server
        .sql(&format!("ALTER USER pat SET PASSWORD '{new}'"))
        .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":0,"message":"User 'pat' updated","as_user":"root"}])
    );

    let (status, body) = run(&server, Auth::Basic("pat", old), "SELECT 1").await;
    assert_eq!(
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS"),
        "Invalid credentials"
    );
    let body = ok(&server, Auth::Basic("pat", new), "SELECT 1 AS x").await;
    assert_eq!(body["results"][0]["as_user"], "pat");
    let (status, body) = login(&server, "pat", old).await;
    assert_auth_error(status, &body, 401, "unauthorized");
    let (status, body) = login(&server, "pat", new).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn users_change_own_password_and_email_but_not_role() {
    let server = TestServer::start();
    let (first, second) = ("Pia-passw0rd-1", "Pia-passw0rd-2");
    server
        .sql(&format!(
            "CREATE USER pia WITH PASSWORD '{first}' ROLE user"
        ))
        .await;
    server
        .sql("CREATE USER quinn WITH PASSWORD 'Quinn-passw0rd-1' ROLE user")
        .await;

    let body = ok(
        &server,
        Auth::Basic("pia", first),
        &format!("ALTER USER pia SET PASSWORD '{second}'"),
    )
    .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":0,"message":"User 'pia' updated","as_user":"pia"}])
    );
    let (status, body) = run(&server, Auth::Basic("pia", first), "SELECT 1").await;
    assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
    let body = ok(
        &server,
        Auth::Basic("pia", second),
        "ALTER USER pia SET EMAIL 'pia@example.com'",
    )
    .await;
    assert_eq!(body["results"][0]["message"], "User 'pia' updated");
    let (status, body) = login(&server, "pia", second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["email"], "pia@example.com");
    assert_eq!(body["user"]["role"], "user");

    // Its own role, or anything of someone else's: refused, and nothing changes.
    for sql in [
        "ALTER USER pia SET ROLE dba",
        "ALTER USER pia SET ROLE user",
        "ALTER USER quinn SET PASSWORD 'Quinn-passw0rd-2'",
        "ALTER USER quinn SET EMAIL 'q@example.com'",
        "ALTER USER root SET PASSWORD 'Root-passw0rd-9'",
    ] {
        let (status, body) = run(&server, Auth::Basic("pia", second), sql).await;
        let msg = assert_envelope(status, &body, 403, "PERMISSION_DENIED");
        assert!(msg.contains("ALTER USER"), "{sql}: {msg}");
    }
    assert_eq!(
        server
            .rows("SELECT user_id, role, email FROM system.users WHERE user_id IN ('pia', 'quinn') ORDER BY user_id")
            .await,
        vec![
            json!(["pia", "user", "pia@example.com"]),
            json!(["quinn", "user", null])
        ]
    );
    let (status, _) = login(&server, "quinn", "Quinn-passw0rd-1").await;
    assert_eq!(status, 200);
    // A weak new password is refused for oneself too.
    let (status, body) = run(
        &server,
        Auth::Basic("pia", second),
        "ALTER USER pia SET PASSWORD 'short'",
    )
    .await;
    let msg = assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    assert!(msg.starts_with("Password too weak: "), "{msg}");
}

#[tokio::test]
async fn admin_password_reset_unlocks_a_locked_account() {
    let server = TestServer::start();
    let pw = "Lee-passw0rd-1";
    server
        .sql(&format!("CREATE USER lee WITH PASSWORD '{pw}' ROLE user"))
        .await;
    let (access, _) = tokens(&server, "lee", pw).await;
    for i in 0..5 {
        let (status, body) = login(&server, "lee", &format!("wrong-password-{i}")).await;
        assert_auth_error(status, &body, 401, "unauthorized");
    }
    let (status, body) = login(&server, "lee", pw).await;
    assert_auth_error(status, &body, 401, "account_locked");
    let (status, body) = run(&server, Auth::Basic("lee", pw), "SELECT 1").await;
    assert_envelope(status, &body, 401, "ACCOUNT_LOCKED");
    let (status, body) = run(&server, Auth::Bearer(&access), "SELECT 1").await;
    assert_envelope(status, &body, 401, "ACCOUNT_LOCKED");
    let rows = server
        .rows("SELECT locked_until FROM system.users WHERE user_id = 'lee'")
        .await;
    assert!(rows[0][0].is_i64(), "locked_until set: {rows:?}");

    let reset = "Lee-passw0rd-reset";
    let body = server
        .sql(&format!("ALTER USER lee SET PASSWORD '{reset}'"))
        .await;
    assert_eq!(body["results"][0]["message"], "User 'lee' updated");
    assert_eq!(
        server
            .rows(
                "SELECT failed_login_attempts, locked_until FROM system.users WHERE user_id = 'lee'"
            )
            .await,
        vec![json!(["0", null])]
    );
    let (status, body) = login(&server, "lee", reset).await;
    assert_eq!(status, 200, "{body}");
    let body = ok(&server, Auth::Basic("lee", reset), "SELECT 1 AS x").await;
    assert_eq!(body["results"][0]["as_user"], "lee");
    // The token from before the lockout is good again (tokens are stateless; the
    // lock was the only thing refusing it).
    let body = ok(&server, Auth::Bearer(&access), "SELECT 1 AS x").await;
    assert_eq!(body["results"][0]["as_user"], "lee");
    // The old password stays wrong.
    let (status, body) = login(&server, "lee", pw).await;
    assert_auth_error(status, &body, 401, "unauthorized");
}

// ---------------------------------------------------------------- races

#[tokio::test]
async fn concurrent_create_user_of_one_name_has_one_winner() {
    let server = TestServer::start();
    // Bearer, so the requests reach the engine together instead of queueing behind Argon2.
    let (access, _) = tokens(&server, "root", ROOT_PASSWORD).await;
    let requests = (0..8).map(|i| {
        let access = access.clone();
        let server = &server;
        async move {
            run(
                server,
                Auth::Bearer(&access),
                &format!("CREATE USER same_name WITH PASSWORD 'Same-passw0rd-{i}' ROLE user"),
            )
            .await
        }
    });
    let mut winners = Vec::new();
    let mut losers = 0;
    for (i, (status, body)) in futures::future::join_all(requests)
        .await
        .into_iter()
        .enumerate()
    {
        if status == 200 {
            assert_eq!(
                body["results"],
                json!([{"row_count":0,"message":"User 'same_name' created","as_user":"root"}])
            );
            winners.push(i);
        } else {
            assert_eq!(
                assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR"),
                "User 'same_name' already exists"
            );
            losers += 1;
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(losers, 7);
    assert_eq!(
        server
            .rows("SELECT COUNT(*) FROM system.users WHERE user_id = 'same_name'")
            .await,
        vec![json!(["1"])]
    );
    assert_eq!(metric(&server, "total_users").await, 2);
    // Without a password to hash the racers reach the commit closer together.
    let requests = (0..8).map(|_| {
        let access = access.clone();
        let server = &server;
        async move {
            run(
                server,
                Auth::Bearer(&access),
                "CREATE USER same_internal WITH INTERNAL ROLE user",
            )
            .await
        }
    });
    let statuses: Vec<u16> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|(status, body)| {
            if status != 200 {
                assert_eq!(
                    assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR"),
                    "User 'same_internal' already exists"
                );
            }
            status
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(metric(&server, "total_users").await, 3);
    // The stored password is the winner's.
    let (status, body) = login(
        &server,
        "same_name",
        &format!("Same-passw0rd-{}", winners[0]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn concurrent_first_run_setups_have_one_winner() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.auth.root_password = None);
    let setups = (0..4).map(|i| {
        let body = json!({"user": format!("admin{i}"), "password": format!("Admin-passw0rd-{i}"),
                          "root_password": format!("Root-passw0rd-{i}")});
        let server = &server;
        async move {
            let (status, _, body) =
                post_raw(server, "/v1/api/auth/setup", Auth::None, body.to_string()).await;
            (status, body)
        }
    });
    let mut winner = None;
    for (i, (status, body)) in futures::future::join_all(setups)
        .await
        .into_iter()
        .enumerate()
    {
        if status == 200 {
            assert_eq!(body["user"]["id"], format!("admin{i}"), "{body}");
            assert!(winner.replace(i).is_none(), "two setups succeeded");
        } else {
            assert_auth_error(status, &body, 409, "already_configured");
        }
    }
    let winner = winner.expect("one setup succeeded");

    // Only the winner's root password and dba exist.
    for i in 0..4 {
        let (status, body) = login(&server, "root", &format!("Root-passw0rd-{i}")).await;
        let (admin_status, admin_body) = login(
            &server,
            &format!("admin{i}"),
            &format!("Admin-passw0rd-{i}"),
        )
        .await;
        if i == winner {
            assert_eq!(status, 200, "{body}");
            assert_eq!(admin_status, 200, "{admin_body}");
            assert_eq!(admin_body["user"]["role"], "dba");
        } else {
            assert_auth_error(status, &body, 401, "unauthorized");
            assert_auth_error(admin_status, &admin_body, 401, "unauthorized");
        }
    }
    let resp = server
        .client
        .get(server.url("/v1/api/auth/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"needs_setup":false,"message":"Server is configured and ready."})
    );
}

// ---------------------------------------------------------------- many users

/// Users in the scale test; their rows all live in one USER table.
const MANY_USERS: usize = 2000;
/// Statements per request when creating users and rows.
const PER_REQUEST: usize = 200;
/// The user the scale test queries as.
const PROBE_USER: &str = "u0777";

fn user_name(i: usize) -> String {
    format!("u{i:04}")
}

/// A row of `user` in `many.notes`, as returned by `SELECT id, body`.
fn note_rows(user: &str) -> Value {
    json!([
        ["1", format!("{user}-1")],
        ["2", format!("{user}-2")],
        ["3", format!("{user}-3")]
    ])
}

/// A query as `PROBE_USER`, its answer, and how many hot-store row versions it read.
/// Also prints the round trip of the query alone.
async fn probe(server: &TestServer, token: &str, inner: &str) -> (Value, u64) {
    let before = metric(server, "hot_rows_read").await;
    let started = Instant::now();
    let body = ok(
        server,
        Auth::Bearer(token),
        &format!("EXECUTE AS USER '{PROBE_USER}' ({inner})"),
    )
    .await;
    let took = started.elapsed();
    let after = metric(server, "hot_rows_read").await;
    println!("many users: as {PROBE_USER}: {inner} in {took:?}");
    assert_eq!(body["results"][0]["as_user"], PROBE_USER, "{body}");
    (body["results"][0]["rows"].clone(), after - before)
}

/// "A million users cost nothing while idle": thousands of users with rows
/// in one USER table add no table object, and one user's query reads only
/// that user's keys, before and after a restart.
#[tokio::test]
async fn many_users_share_one_table_and_queries_read_only_their_prefix() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.storage.sync_writes = false);
    let (token, _) = tokens(&server, "root", ROOT_PASSWORD).await;
    server.sql("CREATE NAMESPACE many").await;
    let count_tables = || async {
        let rows = server.rows("SELECT COUNT(*) FROM system.tables").await;
        rows[0][0]
            .as_str()
            .expect("count")
            .parse::<u64>()
            .expect("count")
    };
    let tables_before = count_tables().await;

    let started = Instant::now();
    let names: Vec<String> = (1..=MANY_USERS).map(user_name).collect();
    for chunk in names.chunks(PER_REQUEST) {
        let sql: Vec<String> = chunk
            .iter()
            .map(|u| format!("CREATE USER {u} WITH INTERNAL ROLE user"))
            .collect();
        let body = ok(&server, Auth::Bearer(&token), &sql.join("; ")).await;
        let results = body["results"].as_array().expect("results");
        assert_eq!(results.len(), chunk.len());
        assert_eq!(
            results[0]["message"],
            format!("User '{}' created", chunk[0])
        );
    }
    let create_users = started.elapsed();

    server
        .sql("CREATE USER TABLE many.notes (id BIGINT PRIMARY KEY, body TEXT)")
        .await;

    let started = Instant::now();
    for chunk in names.chunks(PER_REQUEST) {
        let sql: Vec<String> = chunk
            .iter()
            .map(|u| {
                format!(
                    "EXECUTE AS USER '{u}' (INSERT INTO many.notes (id, body) VALUES \
                     (1, '{u}-1'), (2, '{u}-2'), (3, '{u}-3'))"
                )
            })
            .collect();
        let body = ok(&server, Auth::Bearer(&token), &sql.join("; ")).await;
        // The batch rule sums the inserts into one entry.
        let results = body["results"].as_array().expect("results");
        assert_eq!(results.len(), 1, "{body}");
        assert_eq!(
            results[0]["message"],
            format!("Inserted {} row(s)", 3 * chunk.len())
        );
    }
    let insert_rows = started.elapsed();
    println!(
        "many users: {MANY_USERS} CREATE USER in {create_users:?}, {} rows via EXECUTE AS in {insert_rows:?}",
        3 * MANY_USERS
    );

    // One table object, whatever the number of users with rows in it.
    assert_eq!(
        server
            .rows("SELECT namespace_id, table_name, table_type FROM system.tables WHERE namespace_id = 'many'")
            .await,
        vec![json!(["many", "notes", "user"])]
    );
    assert_eq!(count_tables().await, tables_before + 1);
    assert_eq!(metric(&server, "total_users").await, MANY_USERS as u64 + 1);

    // One user's queries read exactly that user's rows.
    let (rows, read) = probe(
        &server,
        &token,
        "SELECT id, body FROM many.notes ORDER BY id",
    )
    .await;
    assert_eq!(rows, note_rows(PROBE_USER));
    assert_eq!(read, 3, "full scan of one user's rows");
    let (rows, read) = probe(&server, &token, "SELECT body FROM many.notes WHERE id = 2").await;
    assert_eq!(rows, json!([[format!("{PROBE_USER}-2")]]));
    assert_eq!(read, 1, "PK lookup");
    let (rows, read) = probe(&server, &token, "SELECT COUNT(*) FROM many.notes").await;
    assert_eq!(rows, json!([["3"]]));
    assert_eq!(read, 3);
    // Root owns no rows in the table: its scan reads nothing.
    let before = metric(&server, "hot_rows_read").await;
    assert_eq!(
        server.rows("SELECT COUNT(*) FROM many.notes").await,
        vec![json!(["0"])]
    );
    assert_eq!(metric(&server, "hot_rows_read").await - before, 0);
    // Internal users have no password: they are EXECUTE AS targets only.
    let (status, body) = login(&server, PROBE_USER, "Any-passw0rd-1").await;
    assert_auth_error(status, &body, 401, "unauthorized");

    let started = Instant::now();
    let server = server.restart();
    println!("many users: restart in {:?}", started.elapsed());
    let (token, _) = tokens(&server, "root", ROOT_PASSWORD).await;
    assert_eq!(metric(&server, "total_users").await, MANY_USERS as u64 + 1);
    for i in [1, 2, 777, 1000, 1999, MANY_USERS] {
        let u = user_name(i);
        let body = ok(
            &server,
            Auth::Bearer(&token),
            &format!("EXECUTE AS USER '{u}' (SELECT id, body FROM many.notes ORDER BY id)"),
        )
        .await;
        assert_eq!(body["results"][0]["rows"], note_rows(&u), "{u}");
        assert_eq!(body["results"][0]["as_user"], u);
    }
    let (rows, read) = probe(
        &server,
        &token,
        "SELECT id, body FROM many.notes ORDER BY id",
    )
    .await;
    assert_eq!(rows, note_rows(PROBE_USER));
    assert_eq!(read, 3, "after restart");
    assert_eq!(
        server
            .rows(
                "SELECT COUNT(*) FROM system.users WHERE user_id LIKE 'u%' AND deleted_at IS NULL"
            )
            .await,
        vec![json!([MANY_USERS.to_string()])]
    );
}

// ---------------------------------------------------------------- as_user

#[tokio::test]
async fn as_user_is_the_target_or_the_caller() {
    let server = start_with_admin().await;
    let alice_pw = "Alice-passw0rd-1";
    server.sql("CREATE NAMESPACE au").await;
    server
        .sql("CREATE USER TABLE au.notes (id BIGINT PRIMARY KEY, body TEXT)")
        .await;
    server
        .sql(&format!(
            "CREATE USER alice WITH PASSWORD '{alice_pw}' ROLE user"
        ))
        .await;
    server.sql("CREATE USER bob WITH INTERNAL ROLE user").await;
    let root = || Auth::Basic("root", ROOT_PASSWORD);
    let alice = || Auth::Basic("alice", alice_pw);
    let admin = || Auth::Basic("admin", ADMIN_PASSWORD);

    // Plain statements: the caller.
    let body = ok(&server, root(), "SELECT 1 AS x").await;
    assert_eq!(body["results"][0]["as_user"], "root");
    let body = ok(&server, alice(), "INSERT INTO au.notes VALUES (1, 'a1')").await;
    assert_eq!(
        body["results"],
        json!([{"row_count":1,"message":"Inserted 1 row(s)","as_user":"alice"}])
    );
    let body = ok(
        &server,
        alice(),
        "SELECT id, body, CURRENT_USER() AS me FROM au.notes",
    )
    .await;
    assert_eq!(body["results"][0]["rows"], json!([["1", "a1", "alice"]]));
    assert_eq!(body["results"][0]["as_user"], "alice");
    let body = ok(&server, admin(), "SELECT COUNT(*) AS n FROM au.notes").await;
    assert_eq!(body["results"][0]["rows"], json!([["0"]]));
    assert_eq!(body["results"][0]["as_user"], "admin");

    // EXECUTE AS USER: the target, for every statement kind and every allowed caller.
    let body = ok(
        &server,
        root(),
        "EXECUTE AS USER 'bob' (INSERT INTO au.notes VALUES (1, 'b1'), (2, 'b2'))",
    )
    .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":2,"message":"Inserted 2 row(s)","as_user":"bob"}])
    );
    let body = ok(
        &server,
        admin(),
        "EXECUTE AS USER 'bob' (UPDATE au.notes SET body = 'b2!' WHERE id = 2)",
    )
    .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":1,"message":"Updated 1 row(s)","as_user":"bob"}])
    );
    let body = ok(
        &server,
        root(),
        "EXECUTE AS USER 'bob' (DELETE FROM au.notes WHERE id = 1)",
    )
    .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":1,"message":"Deleted 1 row(s)","as_user":"bob"}])
    );
    let body = ok(
        &server,
        admin(),
        "EXECUTE AS USER 'bob' (SELECT id, body, CURRENT_USER() AS me FROM au.notes)",
    )
    .await;
    let r = &body["results"][0];
    assert_eq!(r["rows"], json!([["2", "b2!", "bob"]]));
    assert_eq!(r["row_count"], 1);
    assert_eq!(r["as_user"], "bob");
    // Self is always allowed, and reports itself.
    let body = ok(
        &server,
        alice(),
        "EXECUTE AS USER 'alice' (SELECT id FROM au.notes)",
    )
    .await;
    assert_eq!(body["results"][0]["rows"], json!([["1"]]));
    assert_eq!(body["results"][0]["as_user"], "alice");
    // The keyword case and a bare name do not matter.
    let body = ok(
        &server,
        root(),
        "execute as user bob (SELECT id FROM au.notes)",
    )
    .await;
    assert_eq!(body["results"][0]["as_user"], "bob");

    // In a batch every entry has its own effective user.
    let body = ok(
        &server,
        admin(),
        "SELECT 1 AS x; EXECUTE AS USER 'alice' (SELECT id FROM au.notes); \
         EXECUTE AS USER 'bob' (SELECT id FROM au.notes); SELECT 2 AS y",
    )
    .await;
    let users: Vec<&Value> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| &r["as_user"])
        .collect();
    assert_eq!(
        users,
        [
            &json!("admin"),
            &json!("alice"),
            &json!("bob"),
            &json!("admin")
        ]
    );
    assert_eq!(body["results"][1]["rows"], json!([["1"]]));
    assert_eq!(body["results"][2]["rows"], json!([["2"]]));
    // DML as one target in a batch is summed under that target (the spec does
    // not say whether EXECUTE AS DML counts as "plain"; pinned as served).
    let body = ok(
        &server,
        root(),
        "EXECUTE AS USER 'bob' (INSERT INTO au.notes VALUES (3, 'b3')); \
         EXECUTE AS USER 'bob' (INSERT INTO au.notes VALUES (4, 'b4'))",
    )
    .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":2,"message":"Inserted 2 row(s)","as_user":"bob"}])
    );
    // Mixed effective users in one sum: still at most one entry per kind
    // (§3.3), credited to the caller rather than to any one target (ours; the
    // spec's batch rule does not foresee EXECUTE AS).
    let body = ok(
        &server,
        root(),
        "DELETE FROM au.notes WHERE id = 99; \
         EXECUTE AS USER 'bob' (INSERT INTO au.notes VALUES (5, 'b5')); \
         EXECUTE AS USER 'alice' (INSERT INTO au.notes VALUES (5, 'a5'), (6, 'a6')); \
         EXECUTE AS USER 'bob' (UPDATE au.notes SET body = 'x' WHERE id = 5); \
         EXECUTE AS USER 'bob' (INSERT INTO au.notes VALUES (6, 'b6'))",
    )
    .await;
    assert_eq!(
        body["results"],
        json!([
            {"row_count":4,"message":"Inserted 4 row(s)","as_user":"root"},
            {"row_count":1,"message":"Updated 1 row(s)","as_user":"bob"},
            {"row_count":0,"message":"Deleted 0 row(s)","as_user":"root"}
        ])
    );

    // A refused EXECUTE AS is an error envelope: no as_user to report.
    let (status, body) = run(
        &server,
        alice(),
        "EXECUTE AS USER 'bob' (SELECT id FROM au.notes)",
    )
    .await;
    assert_eq!(
        assert_envelope(status, &body, 403, "PERMISSION_DENIED"),
        "Role 'user' cannot execute as user 'bob'"
    );
}

/// `DROP USER` with no grace period (sql.md §5): the cleanup job (`UC-`,
/// `user_cleanup`) removes the user's rows from every USER and STREAM table,
/// hot and cold (its segment files too), and then the user, so the name can
/// be taken again; another user's rows are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_user_is_removed_with_its_rows_after_the_grace_period() {
    let data = Arc::new(tempfile::tempdir().unwrap());
    let server = TestServer::start_with(data, |c| {
        c.user_management.deletion_grace_period_days = 0;
    });
    for sql in [
        "CREATE NAMESPACE app",
        "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)",
        "CREATE STREAM TABLE app.ticks (id BIGINT PRIMARY KEY, v INT) WITH (TTL_SECONDS = 3600)",
        "CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user",
        "CREATE USER bob WITH PASSWORD 'Bob-pass-12345' ROLE user",
    ] {
        server.sql(sql).await;
    }
    let as_user = |user: &str, sql: &str| format!("EXECUTE AS USER '{user}' ({sql})");
    for user in ["alice", "bob"] {
        server
            .sql(&as_user(
                user,
                "INSERT INTO app.notes VALUES (1, 'cold'), (2, 'cold')",
            ))
            .await;
    }
    crate::cold::flush(&server, "app.notes").await;
    for user in ["alice", "bob"] {
        server
            .sql(&as_user(user, "INSERT INTO app.notes VALUES (3, 'hot')"))
            .await;
        server
            .sql(&as_user(user, "INSERT INTO app.ticks VALUES (1, 1)"))
            .await;
    }
    let alice_dir = server.data_path().join("storage/app/notes/alice");
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).map_or(0, |d| d.count());
    assert!(files(&alice_dir) > 0, "alice's partition was flushed");

    let body = server.sql("DROP USER alice").await;
    assert_eq!(
        body["results"][0]["message"],
        "User 'alice' dropped (soft delete)"
    );
    let jobs = server
        .rows("SELECT job_id, parameters FROM system.jobs WHERE job_type = 'user_cleanup'")
        .await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = jobs[0][0].as_str().unwrap().to_string();
    assert!(job.starts_with("UC-") && job.len() == 15, "{job}");
    assert!(jobs[0][1].as_str().unwrap().contains("alice"), "{jobs:?}");
    let done = crate::cold::wait_job(&server, &job).await;
    assert!(
        done["message"]
            .as_str()
            .unwrap()
            .starts_with("Removed user 'alice'"),
        "{done}"
    );

    assert_eq!(files(&alice_dir), 0, "alice's segment files are gone");
    // The name is free; the new alice starts with nothing, hot or cold.
    server
        .sql("CREATE USER alice WITH PASSWORD 'Alice-pass-456' ROLE user")
        .await;
    for table in ["app.notes", "app.ticks"] {
        let rows = server
            .rows(&as_user("alice", &format!("SELECT count(*) FROM {table}")))
            .await;
        assert_eq!(rows[0][0], "0", "{table}");
    }
    let bob = server
        .rows(&as_user(
            "bob",
            "SELECT id, body FROM app.notes ORDER BY id",
        ))
        .await;
    assert_eq!(
        bob,
        vec![
            json!(["1", "cold"]),
            json!(["2", "cold"]),
            json!(["3", "hot"])
        ]
    );
    let bob_ticks = server
        .rows(&as_user("bob", "SELECT count(*) FROM app.ticks"))
        .await;
    assert_eq!(bob_ticks[0][0], "1");
}

/// With the default grace period a dropped user is kept: its name is not
/// free again, and no cleanup job starts.
#[tokio::test]
async fn a_dropped_user_is_kept_during_the_grace_period() {
    let server = TestServer::start();
    server
        .sql("CREATE USER carol WITH PASSWORD 'Carol-pass-123' ROLE user")
        .await;
    server.sql("DROP USER carol").await;
    let (status, body) = server
        .sql_as(
            "root",
            ROOT_PASSWORD,
            "CREATE USER carol WITH PASSWORD 'Carol-pass-456' ROLE user",
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"], "User 'carol' already exists",
        "{body}"
    );
    let jobs = server
        .rows("SELECT count(*) FROM system.jobs WHERE job_type = 'user_cleanup'")
        .await;
    assert_eq!(jobs[0][0], "0");
}

/// The pass at start-up: a user dropped under a long grace period is
/// removed once a restart finds its grace over (here: the grace shortened
/// to 0 in the configuration).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_up_pass_removes_users_whose_grace_is_over() {
    let data = Arc::new(tempfile::tempdir().unwrap());
    let mut server = TestServer::start_with(data.clone(), |_| {});
    server
        .sql("CREATE USER dave WITH PASSWORD 'Dave-pass-123' ROLE user")
        .await;
    server.sql("DROP USER dave").await;
    server.stop();
    drop(server);
    let server = TestServer::start_with(data, |c| {
        c.user_management.deletion_grace_period_days = 0;
    });
    // Submitted before the server answered its first request.
    let jobs = server
        .rows("SELECT job_id FROM system.jobs WHERE job_type = 'user_cleanup'")
        .await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    crate::cold::wait_job(&server, jobs[0][0].as_str().unwrap()).await;
    server
        .sql("CREATE USER dave WITH PASSWORD 'Dave-pass-456' ROLE user")
        .await;
}
