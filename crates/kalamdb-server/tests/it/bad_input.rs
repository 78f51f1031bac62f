//! Bad input on `POST /v1/api/sql` (`wire-protocol.md` §3.1, §3.6, §4, §5):
//! every malformed body, statement, parameter list or credential gets its
//! 4xx code in the SQL error envelope, never a 5xx, and the server keeps
//! answering afterwards.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};
use crate::wire::{
    ADMIN_PASSWORD, Auth, assert_alive, assert_envelope, post_raw, sql_req, start_with_admin,
};

const ROOT: Auth<'static> = Auth::Basic("root", ROOT_PASSWORD);

/// Sends `sql` as root.
async fn root_sql(server: &TestServer, sql: &str) -> (u16, Value) {
    sql_req(server, ROOT, json!({ "sql": sql })).await
}

/// Sends a raw body as root.
async fn root_raw(server: &TestServer, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let (status, _, body) = post_raw(server, "/v1/api/sql", ROOT, body).await;
    (status, body)
}

#[tokio::test]
async fn malformed_bodies_are_invalid_input() {
    let server = TestServer::start();
    let cases: &[(&str, &[u8])] = &[
        ("truncated JSON", br#"{"sql": "SELECT 1""#),
        ("not JSON at all", b"SELECT 1"),
        ("empty body", b""),
        ("JSON array", br#"["SELECT 1"]"#),
        ("JSON string", br#""SELECT 1""#),
        ("JSON null", b"null"),
        ("sql is a number", br#"{"sql": 1}"#),
        ("sql is an array", br#"{"sql": ["SELECT 1"]}"#),
        ("sql is an object", br#"{"sql": {"q": "SELECT 1"}}"#),
        (
            "params is a string",
            br#"{"sql": "SELECT 1", "params": "x"}"#,
        ),
        (
            "params is an object",
            br#"{"sql": "SELECT 1", "params": {"1": 2}}"#,
        ),
        (
            "namespace_id is a number",
            br#"{"sql": "SELECT 1", "namespace_id": 5}"#,
        ),
        ("invalid UTF-8", b"{\"sql\": \"SELECT '\xff\xfe'\"}"),
    ];
    for (what, body) in cases {
        let (status, resp) = root_raw(&server, body.to_vec()).await;
        assert_eq!(status, 400, "{what}: {resp}");
        let msg = assert_envelope(status, &resp, 400, "INVALID_INPUT");
        assert!(msg.starts_with("Invalid JSON payload: "), "{what}: {msg}");
    }
    assert_alive(&server).await;
}

#[tokio::test]
async fn missing_blank_or_comment_only_sql_is_empty_sql() {
    let server = TestServer::start();
    let bodies = [
        json!({}),
        json!({"sql": null}),
        json!({"sql": ""}),
        json!({"sql": "   \n\t "}),
        json!({"sql": "-- just a comment"}),
        json!({"sql": "/* block */"}),
        json!({"sql": "  -- one\n /* two */ -- three\n"}),
        json!({"params": [1]}),
    ];
    for body in bodies {
        let (status, resp) = sql_req(&server, ROOT, body.clone()).await;
        assert_envelope(status, &resp, 400, "EMPTY_SQL");
    }
    assert_alive(&server).await;
}

#[tokio::test]
async fn unparsable_statements() {
    let server = TestServer::start();
    for sql in [
        "FROBNICATE the table",
        "SELEC 1",
        "SELECT * FROM (",
        "CREATE TABLE",
        "INSERT INTO",
        "DROP",
    ] {
        let (status, body) = root_sql(&server, sql).await;
        assert_envelope(status, &body, 400, "INVALID_SQL");
    }
    for sql in [
        "SELECT 'abc",
        "SELECT 1; SELECT 'x",
        "SELECT \"abc",
        "SELECT 1 /* never closed",
        "SELECT 1; /*",
    ] {
        let (status, body) = root_sql(&server, sql).await;
        assert_envelope(status, &body, 400, "BATCH_PARSE_ERROR");
    }
    assert_alive(&server).await;
}

#[tokio::test]
async fn bad_parameters() {
    let server = TestServer::start();
    let send = |body: Value| sql_req(&server, ROOT, body);

    let (status, body) = send(json!({"sql":"SELECT $1; SELECT 2","params":[1]})).await;
    assert_envelope(status, &body, 400, "PARAMS_WITH_BATCH");

    let (status, body) = send(json!({"sql":"SELECT $1","params":[{"a":1}]})).await;
    let msg = assert_envelope(status, &body, 400, "INVALID_PARAMETER");
    assert!(msg.starts_with("Parameter $1 invalid: "), "{msg}");
    let (status, body) = send(json!({"sql":"SELECT $1, $2","params":[1, [1, 2]]})).await;
    let msg = assert_envelope(status, &body, 400, "INVALID_PARAMETER");
    assert!(msg.starts_with("Parameter $2 invalid: "), "{msg}");

    let (status, body) = send(json!({"sql":"SELECT $1, $2","params":[1]})).await;
    let msg = assert_envelope(status, &body, 400, "INVALID_PARAMETER");
    assert_eq!(msg, "Parameter $2 not provided");
    let (status, body) = send(json!({"sql":"SELECT $1"})).await;
    let msg = assert_envelope(status, &body, 400, "INVALID_PARAMETER");
    assert_eq!(msg, "Parameter $1 not provided");

    // 50 params is the limit; 51 is refused.
    let list = |n: usize| {
        (1..=n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (status, body) = send(
        json!({"sql": format!("SELECT {}", list(50)), "params": (1..=50).collect::<Vec<_>>()}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"][0]["rows"][0].as_array().map(Vec::len),
        Some(50)
    );
    let (status, body) = send(
        json!({"sql": format!("SELECT {}", list(51)), "params": (1..=51).collect::<Vec<_>>()}),
    )
    .await;
    assert_envelope(status, &body, 400, "INVALID_PARAMETER");
    let (status, body) =
        send(json!({"sql": "SELECT $1", "params": (1..=51).collect::<Vec<_>>()})).await;
    assert_envelope(status, &body, 400, "INVALID_PARAMETER");

    // Each param is at most 512 KiB.
    let (status, body) =
        send(json!({"sql":"SELECT length($1) AS n","params":["x".repeat(512 * 1024)]})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        send(json!({"sql":"SELECT length($1) AS n","params":["x".repeat(512 * 1024 + 1)]})).await;
    let msg = assert_envelope(status, &body, 400, "INVALID_PARAMETER");
    assert!(msg.starts_with("Parameter $1 invalid: "), "{msg}");

    assert_alive(&server).await;
}

#[tokio::test]
async fn oversized_sql_is_invalid_sql() {
    let server = TestServer::start();
    let limit = 1024 * 1024;
    // Exactly 1 MiB is accepted.
    let prefix = "SELECT length('";
    let suffix = "') AS n";
    let fill = limit - prefix.len() - suffix.len();
    let sql = format!("{prefix}{}{suffix}", "a".repeat(fill));
    assert_eq!(sql.len(), limit);
    let (status, body) = root_sql(&server, &sql).await;
    assert_eq!(status, 200, "{}", body["error"]);
    assert_eq!(body["results"][0]["rows"], json!([[fill]]));
    let sql = format!("{prefix}{}{suffix}", "a".repeat(fill + 1));
    let (status, body) = root_sql(&server, &sql).await;
    assert_envelope(status, &body, 400, "INVALID_SQL");
    assert_alive(&server).await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.security.max_request_body_size = 1024);
    let small = json!({"sql": format!("SELECT '{}' AS s", "a".repeat(900))}).to_string();
    assert!(small.len() <= 1024);
    let (status, body) = root_raw(&server, small).await;
    assert_eq!(status, 200, "{body}");
    let big = json!({"sql": format!("SELECT '{}' AS s", "a".repeat(2000))}).to_string();
    let (status, body) = root_raw(&server, big).await;
    assert_envelope(status, &body, 413, "INVALID_INPUT");
    // A chunked body with no Content-Length is limited too.
    let (status, body) = chunked_sql(
        &server,
        &[r#"{"sql":"SELECT '"#, &"a".repeat(4096), r#"'"}"#],
    )
    .await;
    assert_envelope(status, &body, 413, "INVALID_INPUT");
    let (status, body) = chunked_sql(&server, &[r#"{"sql":"#, r#""SELECT 1 AS x"}"#]).await;
    assert_eq!(status, 200, "{body}");
    assert_alive(&server).await;
}

/// POST /v1/api/sql as root with a chunked body (no Content-Length), over a
/// raw connection; returns status and JSON body.
async fn chunked_sql(server: &TestServer, chunks: &[&str]) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut req = format!(
        "POST /v1/api/sql HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        server.addr,
        STANDARD.encode(format!("root:{ROOT_PASSWORD}"))
    );
    for c in chunks {
        req.push_str(&format!("{:x}\r\n{c}\r\n", c.len()));
    }
    req.push_str("0\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    // The server may answer 413 and close before reading everything.
    let _ = stream.write_all(req.as_bytes()).await;
    let mut resp = Vec::new();
    let _ = stream.read_to_end(&mut resp).await;
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "chunked response: {head}"
    );
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

#[tokio::test]
async fn authentication_failures() {
    let server = start_with_admin().await;
    let sql = json!({"sql":"SELECT 1"});

    let (status, body) = sql_req(&server, Auth::None, sql.clone()).await;
    let msg = assert_envelope(status, &body, 401, "MISSING_AUTHORIZATION");
    assert_eq!(msg, "Authentication required");
    // Missing auth wins over a bad body.
    let (status, _, body) = post_raw(&server, "/v1/api/sql", Auth::None, "not json").await;
    assert_envelope(status, &body, 401, "MISSING_AUTHORIZATION");

    // Wrong password (not root, so root is never locked out by this test).
    let (status, body) =
        sql_req(&server, Auth::Basic("admin", "wrong-password"), sql.clone()).await;
    assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
    let (status, body) = sql_req(
        &server,
        Auth::Basic("ghost", "Whatever-passw0rd"),
        sql.clone(),
    )
    .await;
    assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");

    let no_colon = format!("Basic {}", STANDARD.encode("admin"));
    let malformed = [
        "Basic !!!not-base64!!!",
        "Basic",
        "Basic ",
        no_colon.as_str(),
        "Bearer",
        "Bearer ",
        "Token abc",
        "Digest username=\"admin\"",
        "garbage",
        "Bearer abc.def.ghi",
        "Bearer not-a-jwt",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.",
    ];
    for header in malformed {
        let (status, body) = sql_req(&server, Auth::Raw(header), sql.clone()).await;
        assert_eq!(status, 401, "{header}: {body}");
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
    }
    // The user still logs in: malformed headers are not password failures.
    let (status, body) = sql_req(&server, Auth::Basic("admin", ADMIN_PASSWORD), sql.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_alive(&server).await;
}

#[tokio::test]
async fn statement_failures_have_their_codes() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE bi").await;
    server
        .sql("CREATE TABLE bi.t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)")
        .await;

    let (status, body) = root_sql(&server, "SELECT * FROM bi.nope").await;
    let msg = assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");
    assert_eq!(msg, "Table 'bi.nope' not found");
    assert_eq!(
        body["error"]["details"], "SELECT * FROM bi.nope",
        "details for root: {body}"
    );
    let (status, body) = root_sql(&server, "SELECT * FROM nope").await;
    let msg = assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");
    assert_eq!(msg, "Table 'default.nope' not found");
    let (status, body) = root_sql(&server, "INSERT INTO bi.nope VALUES (1)").await;
    assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");

    // Wrong types, NOT NULL and duplicate keys: the code first, then the
    // sql.md messages, all mismatches reported together.
    server.sql("INSERT INTO bi.t VALUES (1, 'a')").await;
    let mut wrong_messages = Vec::new();
    for (sql, want) in [
        (
            "INSERT INTO bi.t (id, v) VALUES ('abc', 'x')",
            "Cannot cast 'abc' to BIGINT for column 'id'",
        ),
        (
            "UPDATE bi.t SET id = 'abc' WHERE v = 'a'",
            "Cannot update primary key column 'id'",
        ),
        (
            "INSERT INTO bi.t (id, v) VALUES (2, NULL)",
            "Column 'v' cannot be NULL",
        ),
        (
            "INSERT INTO bi.t (id) VALUES (2)",
            "Column 'v' cannot be NULL",
        ),
        (
            "INSERT INTO bi.t VALUES (1, 'b')",
            "Duplicate primary key value '1' in table 'bi.t'",
        ),
        (
            "INSERT INTO bi.t (id, nope) VALUES (2, 'x')",
            "Column 'nope' not found in table 'bi.t'",
        ),
    ] {
        let (status, body) = root_sql(&server, sql).await;
        let msg = assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
        if msg != want {
            wrong_messages.push(format!("{sql}\n   want: {want}\n    got: {msg}"));
        }
    }

    // Non-finite floats cannot be carried by JSON: the statement fails, no 5xx.
    for sql in [
        "SELECT 'NaN'::double AS x",
        "SELECT CAST('Infinity' AS DOUBLE) AS x",
        "SELECT -CAST('inf' AS DOUBLE) AS x",
        "SELECT CAST('NaN' AS FLOAT) AS x",
        "SELECT sqrt(-1.0) AS x",
    ] {
        let (status, body) = root_sql(&server, sql).await;
        assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    }
    // Planning errors keep DataFusion's text and are not 5xx.
    let (status, body) = root_sql(&server, "SELECT nosuchcol FROM bi.t").await;
    assert_eq!(status, 400, "{body}");
    assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    // Division by zero is a statement failure.
    let (status, body) = root_sql(&server, "SELECT 1 / 0 AS x").await;
    assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    assert_eq!(
        server.rows("SELECT id, v FROM bi.t").await,
        vec![json!(["1", "a"])],
        "failed writes left rows"
    );
    assert_alive(&server).await;
    assert!(
        wrong_messages.is_empty(),
        "messages differ from sql.md §3.1:\n{}",
        wrong_messages.join("\n")
    );
}

#[tokio::test]
async fn failed_batch_keeps_earlier_statements() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE bb").await;
    server
        .sql("CREATE TABLE bb.t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;

    let (status, body) = root_sql(
        &server,
        "INSERT INTO bb.t VALUES (1, 'a'); INSERT INTO bb.t VALUES ('abc', 'b'); INSERT INTO bb.t VALUES (3, 'c')",
    )
    .await;
    let msg = assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    assert!(msg.starts_with("Statement 2 failed: "), "{msg}");
    assert!(!msg.starts_with("Statement 2 failed: Statement"), "{msg}");
    assert_eq!(
        body["error"]["details"].as_str().map(str::trim),
        Some("INSERT INTO bb.t VALUES ('abc', 'b')")
    );
    // Statement 1 stays applied, statement 3 never ran.
    assert_eq!(
        server.rows("SELECT id, v FROM bb.t ORDER BY id").await,
        vec![json!(["1", "a"])]
    );

    // Other codes are prefixed the same way.
    let (status, body) = root_sql(&server, "SELECT 1; SELECT * FROM bb.nope").await;
    let msg = assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");
    assert_eq!(msg, "Statement 2 failed: Table 'bb.nope' not found");
    let (status, body) = root_sql(&server, "SELECT * FROM bb.nope; SELECT 1").await;
    let msg = assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");
    assert_eq!(msg, "Statement 1 failed: Table 'bb.nope' not found");
    let (status, body) = root_sql(&server, "SELECT 1; SELEC 2").await;
    let msg = assert_envelope(status, &body, 400, "INVALID_SQL");
    assert!(msg.starts_with("Statement 2 failed: "), "{msg}");
    assert_alive(&server).await;
}

#[tokio::test]
async fn details_for_dba_and_system() {
    let server = start_with_admin().await;
    let sql = json!({"sql":"SELECT * FROM default.nope"});
    for (user, pw) in [("admin", ADMIN_PASSWORD), ("root", ROOT_PASSWORD)] {
        let (status, body) = sql_req(&server, Auth::Basic(user, pw), sql.clone()).await;
        assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");
        assert_eq!(
            body["error"]["details"], "SELECT * FROM default.nope",
            "{user}: {body}"
        );
    }
}

/// Needs `CREATE USER` (sql.md §5).
#[tokio::test]
async fn no_details_for_plain_users() {
    let server = TestServer::start();
    server
        .sql("CREATE USER frank WITH PASSWORD 'Frank-passw0rd-1' ROLE user")
        .await;
    let sql = json!({"sql":"SELECT * FROM default.nope"});
    let (status, body) = sql_req(
        &server,
        Auth::Basic("frank", "Frank-passw0rd-1"),
        sql.clone(),
    )
    .await;
    let msg = assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");
    assert_eq!(
        msg, "Table 'default.nope' not found",
        "messages are real for users too"
    );
    assert!(
        body["error"].get("details").is_none_or(Value::is_null),
        "no details for a user: {body}"
    );
    let (status, body) = sql_req(
        &server,
        Auth::Basic("frank", "Frank-passw0rd-1"),
        json!({"sql":"SELECT 1; SELEC 2"}),
    )
    .await;
    let msg = assert_envelope(status, &body, 400, "INVALID_SQL");
    assert!(msg.starts_with("Statement 2 failed: "), "{msg}");
    assert!(
        body["error"].get("details").is_none_or(Value::is_null),
        "no details for a user: {body}"
    );
}

#[tokio::test]
async fn hostile_inputs_never_5xx() {
    let server = TestServer::start();
    let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    let long_ident = format!("SELECT 1 AS {}", "a".repeat(100_000));
    let many_statements = "SELECT 1;".repeat(500);
    let cases: Vec<(&str, String)> = vec![
        ("deep nesting", deep),
        ("long identifier", long_ident),
        ("nul byte", "SELECT '\0' AS x".to_string()),
        ("lonely semicolons", ";;;".to_string()),
        ("unicode junk", "SELECT 'ß∂ƒ©' AS x; ∆∆∆".to_string()),
        ("many statements", many_statements),
        (
            "huge integer literal",
            format!("SELECT {} AS x", "9".repeat(400)),
        ),
        ("bad namespace_id", String::new()),
    ];
    for (what, sql) in cases {
        let body = if what == "bad namespace_id" {
            json!({"sql":"SELECT 1", "namespace_id":"no such namespace!"})
        } else {
            json!({ "sql": sql })
        };
        let (status, resp) = sql_req(&server, ROOT, body).await;
        assert!(status < 500, "{what}: {status} {resp}");
        assert!(
            resp["status"] == "success" || resp["status"] == "error",
            "{what}: {resp}"
        );
        if status >= 400 {
            assert_envelope(
                status,
                &resp,
                status,
                resp["error"]["code"].as_str().unwrap_or_default(),
            );
        }
    }
    // Huge numeric params.
    let (status, resp) = sql_req(
        &server,
        ROOT,
        json!({"sql":"SELECT $1 AS x","params":[18446744073709551615_u64]}),
    )
    .await;
    assert!(status < 500, "{resp}");
    let (status, resp) = root_raw(&server, r#"{"sql":"SELECT $1 AS x","params":[1e400]}"#).await;
    assert!(status < 500, "{resp}");
    assert_alive(&server).await;
}

/// A NaN stored in a table cannot be put on the wire: the SELECT fails with
/// SQL_EXECUTION_ERROR (not 5xx), and other queries on the table still work.
#[tokio::test]
async fn stored_non_finite_floats_fail_the_select() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE bn").await;
    server
        .sql("CREATE TABLE bn.t (id BIGINT PRIMARY KEY, d DOUBLE, f FLOAT)")
        .await;
    let (status, body) = root_sql(
        &server,
        "INSERT INTO bn.t VALUES (1, CAST('NaN' AS DOUBLE), 1.0)",
    )
    .await;
    assert!(status == 200 || status == 400, "{body}");
    if status == 200 {
        let (status, body) = root_sql(&server, "SELECT d FROM bn.t").await;
        assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
        assert_eq!(
            server.rows("SELECT id, f FROM bn.t").await,
            vec![json!(["1", 1.0])]
        );
    } else {
        assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    }
    assert_alive(&server).await;
}

/// Oversized or odd credentials are 401s, not 5xx or hangs.
#[tokio::test]
async fn odd_credentials() {
    let server = TestServer::start();
    let sql = json!({"sql":"SELECT 1"});
    let long_user = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:pw", "u".repeat(4000)))
    );
    let long_password = format!(
        "Basic {}",
        STANDARD.encode(format!("root:{}", "p".repeat(4000)))
    );
    let non_utf8 = format!("Basic {}", STANDARD.encode([0xff_u8, 0xfe, b':', 0xff]));
    let empty_user = format!("Basic {}", STANDARD.encode(":password"));
    for header in [long_user, long_password, non_utf8, empty_user] {
        let (status, body) = sql_req(&server, Auth::Raw(&header), sql.clone()).await;
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
    }
    // One of those was a root password failure; root still works.
    assert_alive(&server).await;
    // The login endpoint refuses over-long names and passwords without 5xx.
    for body in [
        json!({"user": "u".repeat(129), "password": "whatever-pw"}),
        json!({"user": "root", "password": "p".repeat(257)}),
        json!({"user": "", "password": ""}),
        json!({"user": 5, "password": "x"}),
        json!({"password": "x"}),
    ] {
        let (status, _, resp) =
            post_raw(&server, "/v1/api/auth/login", Auth::None, body.to_string()).await;
        assert!((400..500).contains(&status), "{body} -> {status} {resp}");
        assert!(
            resp["error"].is_string() && resp["message"].is_string(),
            "{resp}"
        );
    }
    let (status, _, resp) = post_raw(&server, "/v1/api/auth/login", Auth::None, "{not json").await;
    assert_eq!(status, 400, "{resp}");
    assert!(
        resp["error"].is_string() && resp["message"].is_string(),
        "{resp}"
    );
    assert_alive(&server).await;
}

/// §1: the body limit holds for every endpoint, not only `/v1/api/sql`
/// (login and setup must not buffer arbitrarily large bodies).
#[tokio::test]
async fn auth_endpoints_limit_body_size() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.security.max_request_body_size = 1024);
    let big_login = json!({"user":"root","password": "x".repeat(4096)}).to_string();
    let big_setup =
        json!({"user":"admin","password":"x".repeat(4096),"root_password":"y"}).to_string();
    let mut wrong = Vec::new();
    // Refresh and logout never read a body, so only these two are pinned.
    for (path, body) in [
        ("/v1/api/auth/login", big_login),
        ("/v1/api/auth/setup", big_setup),
    ] {
        let (status, _, resp) = post_raw(&server, path, Auth::None, body).await;
        if status != 413 {
            wrong.push(format!("{path}: {status} {resp}"));
        }
    }
    // A small login still works.
    let (status, _, resp) = post_raw(
        &server,
        "/v1/api/auth/login",
        Auth::None,
        json!({"user":"root","password":ROOT_PASSWORD}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{resp}");
    assert!(
        wrong.is_empty(),
        "bodies over the limit were not refused with 413:\n{}",
        wrong.join("\n")
    );
}
