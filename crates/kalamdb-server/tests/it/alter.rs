//! ALTER TABLE against a running server (`sql.md` §2.6): live subscriptions
//! on an altered table, versions surviving a restart with rows in both tiers
//! and several users, ALTER under concurrent writes and flushes, and what
//! an ALTER costs on a large flushed table (it rewrites nothing).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::cold::flush;
use crate::common::{ROOT_PASSWORD, TestServer};
use crate::live::{Ws, login};

async fn ok(server: &TestServer, sql: &str) -> Value {
    let (status, body) = server.sql_as("root", ROOT_PASSWORD, sql).await;
    assert_eq!(status, 200, "{sql}: {body}");
    body
}

/// A new connection subscribed to `sql`, and the initial rows.
async fn subscribe(server: &TestServer, token: &str, id: &str, sql: &str) -> (Ws, Vec<Value>) {
    let mut ws = Ws::open(server, "", Some(token), None).await.unwrap();
    assert_eq!(ws.next().await["type"], "auth_success");
    let (_, rows) = ws.subscribe_all(id, sql, json!({})).await;
    (ws, rows)
}

/// [`subscribe`] to a table holding one row.
async fn subscriber(server: &TestServer, token: &str, id: &str, sql: &str) -> Ws {
    let (ws, rows) = subscribe(server, token, id, sql).await;
    assert_eq!(rows.len(), 1, "{id}: {rows:?}");
    ws
}

fn schema_changed(id: &str) -> Value {
    json!({"type": "error", "subscription_id": id, "code": "SUBSCRIPTION_FAILED",
           "message": "Table schema changed; re-subscribe"})
}

/// Subscriptions that use only unchanged columns keep receiving changes,
/// with the columns they were planned with (`SELECT *` does not grow);
/// those using a dropped, renamed or retyped column end with
/// SUBSCRIPTION_FAILED "Table schema changed; re-subscribe".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_on_an_altered_table_go_on_or_end_clearly() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(&server, "CREATE SHARED TABLE app.msgs (id BIGINT PRIMARY KEY, body TEXT, extra TEXT, n INT) WITH (ACCESS_LEVEL = 'PUBLIC')").await;
    ok(&server, "INSERT INTO app.msgs VALUES (1, 'one', 'e', 1)").await;
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut body = subscriber(
        &server,
        &token,
        "body",
        "SELECT id, body FROM app.msgs WHERE body <> 'skip'",
    )
    .await;
    let mut star = subscriber(&server, &token, "star", "SELECT * FROM app.msgs").await;
    let mut extra = subscriber(
        &server,
        &token,
        "extra",
        "SELECT id FROM app.msgs WHERE extra = 'e'",
    )
    .await;
    let mut n = subscriber(&server, &token, "n", "SELECT id, n FROM app.msgs").await;

    // ADD COLUMN breaks nobody: each still gets its own columns.
    ok(
        &server,
        "ALTER TABLE app.msgs ADD COLUMN note TEXT DEFAULT 'dflt'",
    )
    .await;
    ok(
        &server,
        "INSERT INTO app.msgs (id, body, extra, n) VALUES (2, 'two', 'e', 2)",
    )
    .await;
    let c = body.next().await;
    assert_eq!(c["change_type"], "insert", "{c}");
    assert_eq!(c["rows"][0]["id"], "2");
    assert_eq!(c["rows"][0]["body"], "two");
    assert!(c["rows"][0].get("note").is_none(), "{c}");
    let c = star.next().await;
    assert_eq!(c["rows"][0]["extra"], "e", "{c}");
    assert!(
        c["rows"][0].get("note").is_none(),
        "SELECT * keeps its columns: {c}"
    );
    assert_eq!(extra.next().await["rows"][0]["id"], "2");
    assert_eq!(n.next().await["rows"][0]["n"], 2);

    // MODIFY retypes n: its subscription ends, the others go on.
    ok(&server, "ALTER TABLE app.msgs MODIFY COLUMN n BIGINT").await;
    assert_eq!(n.next().await, schema_changed("n"));
    assert_eq!(star.next().await, schema_changed("star"));
    // DROP extra ends the subscription filtering on it.
    ok(&server, "ALTER TABLE app.msgs DROP COLUMN extra").await;
    assert_eq!(extra.next().await, schema_changed("extra"));
    // The body subscription still works, also for an UPDATE of a row
    // written before the ALTERs.
    ok(&server, "UPDATE app.msgs SET body = 'uno' WHERE id = 1").await;
    let c = body.next().await;
    assert_eq!(c["change_type"], "update", "{c}");
    assert_eq!(c["rows"][0]["body"], "uno", "{c}");
    assert_eq!(c["old_values"][0]["body"], "one", "{c}");
    // RENAME of the column it uses ends it too.
    ok(&server, "ALTER TABLE app.msgs RENAME COLUMN body TO text").await;
    assert_eq!(body.next().await, schema_changed("body"));
    // A new subscription sees the current columns, the ADD's fill included.
    let (_ws, mut rows) = subscribe(
        &server,
        &token,
        "again",
        "SELECT id, text, note FROM app.msgs",
    )
    .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    rows.sort_by_key(|r| r["id"].as_str().map(str::to_string));
    assert_eq!(rows[0]["text"], "uno");
    assert_eq!(rows[0]["note"], "dflt");
    assert_eq!(rows[1]["note"], "dflt");
}

/// A SHARED table made DBA-only ends the subscriptions of callers who may
/// no longer read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stricter_access_level_ends_subscriptions_it_forbids() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(
        &server,
        "CREATE USER svc WITH PASSWORD 'Svc-pass-12345' ROLE service",
    )
    .await;
    ok(&server, "CREATE SHARED TABLE app.rooms (id TEXT PRIMARY KEY, title TEXT) WITH (ACCESS_LEVEL = 'PRIVATE')").await;
    ok(&server, "INSERT INTO app.rooms VALUES ('r1', 'General')").await;
    let svc = login(&server, "svc", "Svc-pass-12345").await;
    let root = login(&server, "root", ROOT_PASSWORD).await;
    let mut svc_ws = subscriber(&server, &svc, "rooms", "SELECT * FROM app.rooms").await;
    let mut root_ws = subscriber(&server, &root, "rooms", "SELECT * FROM app.rooms").await;
    ok(&server, "ALTER TABLE app.rooms SET ACCESS LEVEL dba").await;
    assert_eq!(svc_ws.next().await, schema_changed("rooms"));
    ok(&server, "INSERT INTO app.rooms VALUES ('r2', 'Ops')").await;
    assert_eq!(root_ws.next().await["rows"][0]["id"], "r2");
}

/// Versions are durable: after a restart, rows flushed under old versions,
/// hot rows of several versions, several users, and the history all read
/// as before; compaction then rewrites the segments to the current version
/// without changing an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_survive_a_restart_and_compaction() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    for u in ["alice", "bob"] {
        ok(
            &server,
            &format!("CREATE USER {u} WITH PASSWORD 'Pass-{u}-12345' ROLE user"),
        )
        .await;
    }
    ok(
        &server,
        "CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT, n SMALLINT, old TEXT)",
    )
    .await;
    for (u, base) in [("alice", 0), ("bob", 100)] {
        as_user(
            &server,
            u,
            format!(
                "INSERT INTO app.notes VALUES ({}, 'v1', 1, 'o'), ({}, 'v1', 2, 'o')",
                base + 1,
                base + 2
            ),
        )
        .await;
    }
    flush(&server, "app.notes").await;
    ok(
        &server,
        "ALTER TABLE app.notes ADD COLUMN lang TEXT DEFAULT 'en'",
    )
    .await;
    ok(&server, "ALTER TABLE app.notes MODIFY COLUMN n BIGINT").await;
    for (u, base) in [("alice", 0), ("bob", 100)] {
        as_user(
            &server,
            u,
            format!(
                "INSERT INTO app.notes (id, body, n) VALUES ({}, 'v3', 5000000000)",
                base + 3
            ),
        )
        .await;
    }
    flush(&server, "app.notes").await;
    ok(&server, "ALTER TABLE app.notes DROP COLUMN old").await;
    ok(&server, "ALTER TABLE app.notes RENAME COLUMN body TO text").await;
    for (u, base) in [("alice", 0), ("bob", 100)] {
        as_user(
            &server,
            u,
            format!(
                "INSERT INTO app.notes (id, text, n, lang) VALUES ({}, 'v5', 4, 'de')",
                base + 4
            ),
        )
        .await;
        as_user(
            &server,
            u,
            format!(
                "UPDATE app.notes SET text = 'edited' WHERE id = {}",
                base + 1
            ),
        )
        .await;
    }
    let before = read(&server).await;
    let names: Vec<&str> = before[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "text", "n", "lang", "_seq", "_deleted"]);
    let rows: Vec<Vec<Value>> = before[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap()[..4].to_vec())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec![json!(1), json!("edited"), json!("1"), json!("en")],
            vec![json!(2), json!("v1"), json!("2"), json!("en")],
            vec![json!(3), json!("v3"), json!("5000000000"), json!("en")],
            vec![json!(4), json!("v5"), json!("4"), json!("de")],
        ]
    );
    assert_eq!(before[2].as_array().unwrap().len(), 4);

    let server = server.restart();
    assert_eq!(read(&server).await, before, "a restart changes no answer");
    let versions = server
        .rows("SELECT schema_version, is_latest FROM system.schemas WHERE table_id = 'app.notes' ORDER BY schema_version")
        .await;
    assert_eq!(versions.len(), 5, "{versions:?}");
    assert_eq!(versions[4], json!([5, true]));

    flush(&server, "app.notes").await;
    let table = app_table("notes");
    server.engine().compact_now(&table).await.unwrap();
    assert_eq!(read(&server).await, before, "compaction changes no answer");
}

async fn as_user(server: &TestServer, u: &str, sql: String) -> Value {
    let (status, body) = server.sql_as(u, &format!("Pass-{u}-12345"), &sql).await;
    assert_eq!(status, 200, "{sql}: {body}");
    body
}

/// Every row of app.notes as alice and as bob see it.
async fn read(server: &TestServer) -> Vec<Value> {
    let mut out = Vec::new();
    for u in ["alice", "bob"] {
        let body = as_user(server, u, "SELECT * FROM app.notes ORDER BY id".into()).await;
        out.push(body["results"][0]["rows"].clone());
        out.push(body["results"][0]["schema"].clone());
    }
    out
}

/// ALTERs while writers insert and the table is flushed: every
/// acknowledged row is there afterwards, readable under the last version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_under_concurrent_writes_and_flushes_loses_nothing() {
    let server = Arc::new(TestServer::start());
    ok(&server, "CREATE NAMESPACE app").await;
    ok(&server, "CREATE SHARED TABLE app.log (id BIGINT PRIMARY KEY, body TEXT, n INT, misc TEXT) WITH (ACCESS_LEVEL = 'PUBLIC')").await;
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(1));
    let mut writers = Vec::new();
    for _ in 0..3 {
        let (server, stop, next) = (server.clone(), stop.clone(), next.clone());
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let id = next.fetch_add(1, Ordering::Relaxed);
                let (status, body) = server
                    .sql_as(
                        "root",
                        ROOT_PASSWORD,
                        &format!("INSERT INTO app.log (id, body, n) VALUES ({id}, 'b{id}', {id})"),
                    )
                    .await;
                match status {
                    200 => acked.push(id),
                    _ => assert!(
                        body.to_string().contains("changed while the statement ran"),
                        "only a write racing a tightening ALTER may be refused: {body}"
                    ),
                }
            }
            acked
        }));
    }
    let flusher = {
        let (server, stop) = (server.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                flush_if_any(&server, "app.log").await;
            }
        })
    };
    let alters = [
        "ALTER TABLE app.log ADD COLUMN tag TEXT DEFAULT 't'",
        "ALTER TABLE app.log MODIFY COLUMN n BIGINT",
        "ALTER TABLE app.log RENAME COLUMN misc TO other",
        "ALTER TABLE app.log ADD COLUMN extra INT",
        "ALTER TABLE app.log DROP COLUMN extra",
        "ALTER TABLE app.log ALTER COLUMN n SET NOT NULL",
        "ALTER TABLE app.log DROP COLUMN other",
        "ALTER TABLE app.log ALTER COLUMN body SET DEFAULT 'd'",
    ];
    for sql in alters {
        // Let the writers get some rows in under each version.
        let target = next.load(Ordering::Relaxed) + 20;
        while next.load(Ordering::Relaxed) < target {
            tokio::task::yield_now().await;
        }
        ok(&server, sql).await;
    }
    stop.store(true, Ordering::Relaxed);
    flusher.await.unwrap();
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    acked.sort_unstable();
    let rows = server
        .rows("SELECT id, body, n, tag FROM app.log ORDER BY id")
        .await;
    let got: Vec<u64> = rows
        .iter()
        .map(|r| r[0].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(got, acked, "every acknowledged row, nothing else");
    for r in &rows {
        let id = r[0].as_str().unwrap();
        assert_eq!(r[1], format!("b{id}"), "{r}");
        assert_eq!(r[2], id, "{r}");
        assert_eq!(r[3], "t", "{r}");
    }
}

/// Table `app.<name>`, for the engine's own flush and compaction calls.
pub(crate) fn app_table(name: &str) -> kalamdb_types::TableId {
    kalamdb_types::TableId::new(
        kalamdb_types::NamespaceId::parse("app").unwrap(),
        kalamdb_types::TableName::parse(name).unwrap(),
    )
}

/// `STORAGE FLUSH TABLE t`, waiting for its job when there was anything
/// to flush.
pub(crate) async fn flush_if_any(server: &TestServer, table: &str) {
    let body = ok(server, &format!("STORAGE FLUSH TABLE {table}")).await;
    let msg = body["results"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some((_, job)) = msg.split_once("Job ID: ") {
        crate::cold::wait_job(server, job).await;
    } else {
        assert!(msg.starts_with("Storage flush skipped"), "{msg}");
    }
}

/// ALTER TABLE rewrites no segment (`sql.md` §2.6): a table flushed into
/// three files keeps exactly those files, byte for byte in size, through
/// ADD, RENAME, MODIFY, DROP and SET NOT NULL, and answers as before. What
/// it costs on 1M rows in 10 files is `kalamdb-bench`'s `alter_1m_10f`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_rewrites_no_segment() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(&server, "CREATE SHARED TABLE app.big (id BIGINT PRIMARY KEY, body TEXT, n INT) WITH (ACCESS_LEVEL = 'PUBLIC')").await;
    for seg in 0..3u64 {
        let values: Vec<String> = (seg * 1000..(seg + 1) * 1000)
            .map(|i| format!("({i}, 'body {i}', {})", i % 100))
            .collect();
        ok(
            &server,
            &format!("INSERT INTO app.big VALUES {}", values.join(",")),
        )
        .await;
        flush(&server, "app.big").await;
    }
    let files = || {
        let mut v: Vec<(String, u64)> = walk(server.data_path())
            .into_iter()
            .filter(|(p, _)| p.ends_with(".parquet"))
            .collect();
        v.sort();
        v
    };
    let before = files();
    assert_eq!(before.len(), 3, "{before:?}");
    let sum = "SELECT count(*), sum(n), count(DISTINCT body) FROM app.big";
    let expected = server.rows(sum).await;
    for sql in [
        "ALTER TABLE app.big ADD COLUMN lang TEXT DEFAULT 'en'",
        "ALTER TABLE app.big RENAME COLUMN body TO text",
        "ALTER TABLE app.big MODIFY COLUMN n BIGINT",
        "ALTER TABLE app.big DROP COLUMN lang",
        "ALTER TABLE app.big ALTER COLUMN n SET NOT NULL",
    ] {
        ok(&server, sql).await;
    }
    assert_eq!(files(), before, "no segment was written or rewritten");
    let after = server
        .rows("SELECT count(*), sum(n), count(DISTINCT text) FROM app.big")
        .await;
    assert_eq!(after[0][0], expected[0][0]);
    // n is BIGINT now: the sum is the same number, now a JSON string too.
    assert_eq!(after[0][1], expected[0][1]);
    assert_eq!(after[0][2], expected[0][2]);
}

fn walk(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if let Ok(m) = e.metadata() {
                out.push((p.display().to_string(), m.len()));
            }
        }
    }
    out
}
