//! STREAM tables over HTTP (issue 6, item 7): both CREATE forms, per-user
//! rows, append-only, and TTL eviction by the background job. Eviction is
//! awaited through the engine's `stream_evictions()` events (taken before
//! the inserts, so none is missed), never by sleeping.

use std::collections::BTreeMap;
use std::time::Duration;

use kalamdb_core::StreamEviction;
use serde_json::{Value, json};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::common::TestServer;

const ALICE: (&str, &str) = ("alice", "alice-Passw0rd-1");
const BOB: (&str, &str) = ("bob", "bob-Passw0rd-1");

/// A fresh server whose eviction job runs every second.
async fn server() -> TestServer {
    let server = TestServer::start_with(
        std::sync::Arc::new(tempfile::tempdir().expect("tempdir")),
        |c| c.stream.eviction_interval_seconds = 1,
    );
    server.sql("CREATE NAMESPACE app").await;
    for (user, pw) in [ALICE, BOB] {
        server
            .sql(&format!(
                "CREATE USER {user} WITH PASSWORD '{pw}' ROLE user"
            ))
            .await;
    }
    server
}

fn message(body: &Value, i: usize) -> &str {
    body["results"][i]["message"].as_str().unwrap_or_default()
}

/// Runs `sql` as `who`, asserting success; returns the body.
async fn ok_as(server: &TestServer, who: (&str, &str), sql: &str) -> Value {
    let (status, body) = server.sql_as(who.0, who.1, sql).await;
    assert_eq!(status, 200, "{} {sql} -> {body}", who.0);
    assert_eq!(body["status"], "success", "{} {sql} -> {body}", who.0);
    body
}

/// The rows `who` reads with `sql`.
async fn rows_as(server: &TestServer, who: (&str, &str), sql: &str) -> Value {
    ok_as(server, who, sql).await["results"][0]["rows"].clone()
}

async fn metric(server: &TestServer, name: &str) -> u64 {
    let rows = server
        .rows(&format!(
            "SELECT metric_value FROM system.stats WHERE metric_name = '{name}'"
        ))
        .await;
    assert_eq!(rows.len(), 1, "metric {name}: {rows:?}");
    rows[0][0]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("metric {name}: {rows:?}"))
}

/// The stored options of `app.<table>` (`system.tables.options`).
async fn options(server: &TestServer, table: &str) -> Value {
    let rows = server
        .rows(&format!(
            "SELECT options FROM system.tables WHERE namespace_id = 'app' AND table_name = '{table}'"
        ))
        .await;
    match &rows[0][0] {
        Value::String(s) => serde_json::from_str(s).expect("options JSON"),
        other => other.clone(),
    }
}

/// Awaits eviction events until every table of `want` has lost at least its
/// row count (30 s at most); returns the rows evicted per table.
async fn await_evictions(
    events: &mut Receiver<StreamEviction>,
    want: &[(&str, u64)],
) -> BTreeMap<String, u64> {
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let done = |seen: &BTreeMap<String, u64>| {
        want.iter()
            .all(|(t, n)| seen.get(*t).copied().unwrap_or(0) >= *n)
    };
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while !done(&seen) {
            match events.recv().await {
                Ok(e) => *seen.entry(e.table.to_string()).or_default() += e.rows,
                Err(RecvError::Lagged(n)) => panic!("missed {n} eviction events"),
                Err(RecvError::Closed) => panic!("the engine is gone"),
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "evictions so far {seen:?}, want {want:?}");
    seen
}

#[tokio::test]
async fn stream_rows_are_per_user_append_only_and_evicted_after_their_ttl() {
    let server = server().await;
    let body = server
        .sql("CREATE STREAM TABLE app.typing (room TEXT, who TEXT DEFAULT CURRENT_USER()) TTL 1s")
        .await;
    assert_eq!(
        message(&body, 0),
        "Stream table app.typing created successfully"
    );
    let body = server
        .sql(
            "CREATE TABLE app.presence (id BIGINT PRIMARY KEY, state TEXT) \
             WITH (TYPE = 'STREAM', TTL_SECONDS = 1)",
        )
        .await;
    assert_eq!(
        message(&body, 0),
        "Stream table app.presence created successfully"
    );
    for table in ["typing", "presence"] {
        assert_eq!(options(&server, table).await["ttl_seconds"], 1, "{table}");
    }

    let mut events = server.engine().stream_evictions();
    // Each user writes and reads back in one request: the rows live one
    // second, so the check must not wait for another login.
    let body = ok_as(
        &server,
        ALICE,
        "INSERT INTO app.typing (room) VALUES ('lobby'), ('kitchen'), ('hall'); \
         INSERT INTO app.presence VALUES (1, 'online'); \
         SELECT room, who FROM app.typing ORDER BY room; \
         SELECT id, state FROM app.presence",
    )
    .await;
    // A batch lists its reads first, then its summed DML counts (§3.3).
    assert_eq!(
        body["results"][0]["rows"],
        json!([["hall", "alice"], ["kitchen", "alice"], ["lobby", "alice"]])
    );
    assert_eq!(body["results"][1]["rows"], json!([["1", "online"]]));
    assert_eq!(message(&body, 2), "Inserted 4 row(s)", "{body}");
    let body = ok_as(
        &server,
        BOB,
        "INSERT INTO app.typing (room) VALUES ('lobby'), ('attic'); \
         INSERT INTO app.presence VALUES (1, 'away'); \
         SELECT room, who FROM app.typing ORDER BY room; \
         SELECT id, state FROM app.presence",
    )
    .await;
    assert_eq!(
        body["results"][0]["rows"],
        json!([["attic", "bob"], ["lobby", "bob"]])
    );
    assert_eq!(body["results"][1]["rows"], json!([["1", "away"]]));
    assert_eq!(message(&body, 2), "Inserted 3 row(s)", "{body}");

    for sql in [
        "UPDATE app.typing SET room = 'x'",
        "DELETE FROM app.typing WHERE room = 'lobby'",
        "UPDATE app.presence SET state = 'x' WHERE id = 1",
        "DELETE FROM app.presence",
    ] {
        let (status, body) = server.sql_as(ALICE.0, ALICE.1, sql).await;
        assert_eq!(status, 400, "{sql} -> {body}");
        assert_eq!(body["error"]["code"], "SQL_EXECUTION_ERROR", "{body}");
        assert_eq!(
            body["error"]["message"], "STREAM tables are append-only",
            "{body}"
        );
    }

    let evicted = await_evictions(&mut events, &[("app.typing", 5), ("app.presence", 2)]).await;
    assert_eq!(
        evicted,
        BTreeMap::from([
            ("app.presence".to_string(), 2),
            ("app.typing".to_string(), 5)
        ])
    );
    for who in [ALICE, BOB] {
        for table in ["app.typing", "app.presence"] {
            let rows = rows_as(&server, who, &format!("SELECT * FROM {table}")).await;
            assert_eq!(rows, json!([]), "{} {table}", who.0);
        }
    }
    assert_eq!(metric(&server, "stream_rows_evicted").await, 7);
    // The table itself stays, and takes new rows.
    let body = ok_as(
        &server,
        ALICE,
        "INSERT INTO app.presence VALUES (1, 'back'); SELECT state FROM app.presence",
    )
    .await;
    assert_eq!(body["results"][0]["rows"], json!([["back"]]));
}

#[tokio::test]
async fn a_long_ttl_table_keeps_its_rows_through_an_eviction_pass() {
    let server = server().await;
    server
        .sql("CREATE STREAM TABLE app.short (v TEXT) TTL 1s")
        .await;
    server
        .sql("CREATE STREAM TABLE app.long (v TEXT) WITH (TTL_SECONDS = 3600)")
        .await;
    let mut events = server.engine().stream_evictions();
    for who in [ALICE, BOB] {
        ok_as(
            &server,
            who,
            "INSERT INTO app.short VALUES ('a'), ('b'); INSERT INTO app.long VALUES ('a'), ('b')",
        )
        .await;
    }
    let evicted = await_evictions(&mut events, &[("app.short", 4)]).await;
    assert_eq!(evicted.get("app.long"), None, "{evicted:?}");
    for who in [ALICE, BOB] {
        assert_eq!(
            rows_as(&server, who, "SELECT v FROM app.long ORDER BY v").await,
            json!([["a"], ["b"]]),
            "{}",
            who.0
        );
        assert_eq!(
            rows_as(&server, who, "SELECT v FROM app.short").await,
            json!([])
        );
    }
    assert_eq!(metric(&server, "stream_rows_evicted").await, 4);
}

#[tokio::test]
async fn a_stream_table_with_rows_can_be_dropped() {
    let server = server().await;
    server
        .sql("CREATE STREAM TABLE app.events (kind TEXT) TTL 1h")
        .await;
    for who in [ALICE, BOB] {
        ok_as(
            &server,
            who,
            "INSERT INTO app.events VALUES ('login'), ('click')",
        )
        .await;
    }
    let body = server.sql("DROP TABLE app.events").await;
    assert!(
        message(&body, 0).starts_with("Table app.events dropped successfully"),
        "{body}"
    );
    let (status, body) = server
        .sql_as(ALICE.0, ALICE.1, "SELECT * FROM app.events")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "TABLE_NOT_FOUND", "{body}");

    // A table of the same name starts empty: the rows went with the drop.
    server
        .sql("CREATE STREAM TABLE app.events (kind TEXT) TTL 1h")
        .await;
    assert_eq!(
        rows_as(&server, ALICE, "SELECT kind FROM app.events").await,
        json!([])
    );
    assert_eq!(metric(&server, "stream_rows_evicted").await, 0);
}
