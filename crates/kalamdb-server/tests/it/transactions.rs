//! Transactions over HTTP (sql.md §3.7): concurrent read-modify-write
//! transactions lose no update (the loser of a conflict gets the specified
//! error and writes nothing), live subscribers get a committed
//! transaction's changes together and nothing of a rolled-back one, and a
//! `kill -9` while large transactions commit leaves each wholly present or
//! wholly absent. The step-by-step interleavings are in kalamdb-core's
//! `engine/tests/transactions.rs`; the statement forms in
//! `tests/sql/dml/transactions.sql`.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::binary::Proc;
use crate::common::{ROOT_PASSWORD, TestServer};
use crate::live::{Ws, login};

const CONFLICT: &str = "Transaction conflict on table 'app.c'; rolled back";

fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_read_modify_write_transactions_lose_no_update() {
    const CLIENTS: usize = 8;
    const ATTEMPTS: usize = 20;
    let server = Arc::new(TestServer::start());
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE TABLE app.c (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
        .await;
    server
        .sql("CREATE TABLE app.log (id BIGINT PRIMARY KEY, client INT)")
        .await;
    server.sql("INSERT INTO app.c VALUES (1, 0)").await;
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let (mut committed, mut conflicts) = (0u64, 0u64);
            for attempt in 0..ATTEMPTS {
                let id = client * 1000 + attempt;
                let sql = format!(
                    "BEGIN; UPDATE app.c SET n = n + 1 WHERE id = 1; \
                     INSERT INTO app.log VALUES ({id}, {client}); COMMIT"
                );
                let (status, body) = server.sql_as("root", ROOT_PASSWORD, &sql).await;
                if status == 200 {
                    committed += 1;
                    continue;
                }
                // The COMMIT, or the UPDATE itself once its retries are
                // spent, loses the race: the specified error, nothing written.
                assert_eq!(status, 400, "{body}");
                assert_eq!(body["error"]["code"], "SQL_EXECUTION_ERROR", "{body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(
                    message == format!("Statement 4 failed: {CONFLICT}")
                        || message == format!("Statement 2 failed: {CONFLICT}"),
                    "{body}"
                );
                conflicts += 1;
            }
            (committed, conflicts)
        }));
    }
    let (mut committed, mut conflicts) = (0, 0);
    for t in tasks {
        let (c, f) = t.await.unwrap();
        committed += c;
        conflicts += f;
    }
    assert_eq!(committed + conflicts, (CLIENTS * ATTEMPTS) as u64);
    let n = int(&server.rows("SELECT n FROM app.c WHERE id = 1").await[0][0]);
    assert_eq!(n as u64, committed, "{conflicts} conflicts");
    let logged = int(&server.rows("SELECT count(*) FROM app.log").await[0][0]);
    assert_eq!(
        logged as u64, committed,
        "each committed transaction wrote both rows"
    );
    println!("{committed} committed, {conflicts} conflicts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_a_committed_transaction_together_and_a_rolled_back_one_never() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.m (id BIGINT PRIMARY KEY, body TEXT) WITH (ACCESS_LEVEL='PUBLIC')")
        .await;
    server.sql("INSERT INTO app.m VALUES (1, 'one')").await;
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut ws = Ws::open(&server, "", Some(&token), None).await.unwrap();
    assert_eq!(ws.next().await["type"], "auth_success");
    let (_, rows) = ws
        .subscribe_all("m", "SELECT * FROM app.m", json!({}))
        .await;
    assert_eq!(rows.len(), 1);

    server
        .sql("BEGIN; INSERT INTO app.m VALUES (2, 'never'); UPDATE app.m SET body = 'never' WHERE id = 1; ROLLBACK")
        .await;
    server
        .sql("BEGIN; INSERT INTO app.m VALUES (3, 'three'), (4, 'four'); UPDATE app.m SET body = 'ONE' WHERE id = 1; DELETE FROM app.m WHERE id = 4; COMMIT")
        .await;
    // Next, the committed transaction's changes, in its order. Row 4 is
    // inserted and deleted inside it: its one committed version is a
    // tombstone of a row nobody saw, so subscribers get nothing of it.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let m = ws.next().await;
        assert_eq!(m["type"], "change", "{m}");
        for row in m["rows"].as_array().unwrap() {
            assert_ne!(row["body"], "never", "a rolled-back change: {m}");
            seen.push((
                m["change_type"].as_str().unwrap().to_string(),
                row["id"].as_str().unwrap().to_string(),
                int(&row["_seq"]),
            ));
        }
    }
    let kinds: Vec<(&str, &str)> = seen
        .iter()
        .map(|(k, id, _)| (k.as_str(), id.as_str()))
        .collect();
    assert_eq!(kinds, [("insert", "3"), ("update", "1")]);
    assert!(seen[0].2 < seen[1].2, "{seen:?}");
    // Then nothing else of either transaction: the next change is a later
    // statement's.
    server.sql("INSERT INTO app.m VALUES (5, 'after')").await;
    let m = ws.next().await;
    assert_eq!(m["rows"][0]["id"], "5", "{m}");
    assert!(int(&m["rows"][0]["_seq"]) > seen[1].2);
}

/// `kill -9` while 4 writers commit transactions of 5 INSERT statements
/// (500 rows) each: after restart every transaction is wholly present or
/// wholly absent, and every acknowledged one is present.
#[tokio::test]
async fn kill_9_during_commits_leaves_each_transaction_whole_or_absent() {
    const WRITERS: usize = 4;
    const STATEMENTS: usize = 5;
    const ROWS: usize = 100;
    const KILL_AFTER_ACKS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let server = Arc::new(Proc::start(dir.path()));
    server.sql(&client, "CREATE NAMESPACE crash").await.unwrap();
    server
        .sql(
            &client,
            "CREATE TABLE crash.tx (id BIGINT PRIMARY KEY, txn BIGINT, body TEXT)",
        )
        .await
        .unwrap();
    let acks = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (server, client, acks, enough) =
            (server.clone(), client.clone(), acks.clone(), enough.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for t in 0..10_000i64 {
                let txn = (w as i64) * 100_000 + t;
                let mut sql = String::from("BEGIN;");
                for s in 0..STATEMENTS {
                    let values: Vec<String> = (0..ROWS)
                        .map(|r| {
                            let id = txn * 1_000 + (s * ROWS + r) as i64;
                            format!("({id}, {txn}, 'payload-{id}')")
                        })
                        .collect();
                    sql.push_str(&format!(
                        " INSERT INTO crash.tx VALUES {};",
                        values.join(", ")
                    ));
                }
                sql.push_str(" COMMIT");
                match server.sql(&client, &sql).await {
                    Ok(_) => {
                        acked.push(txn);
                        if acks.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER_ACKS {
                            enough.notify_one();
                        }
                    }
                    Err(_) => break, // the server is gone
                }
            }
            acked
        }));
    }
    enough.notified().await;
    let pid = server.child.id();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    drop(server);

    let server = Proc::start(dir.path());
    let body = server
        .sql(
            &client,
            "SELECT txn, count(*) AS c FROM crash.tx GROUP BY txn",
        )
        .await
        .unwrap();
    let per_txn: BTreeMap<i64, i64> = body["results"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (int(&r[0]), int(&r[1])))
        .collect();
    for (txn, count) in &per_txn {
        assert_eq!(
            *count,
            (STATEMENTS * ROWS) as i64,
            "transaction {txn} is torn"
        );
    }
    for txn in &acked {
        assert!(
            per_txn.contains_key(txn),
            "acknowledged transaction {txn} lost"
        );
    }
    assert!(acked.len() >= KILL_AFTER_ACKS);
    println!(
        "{} transactions acknowledged, {} present after restart",
        acked.len(),
        per_txn.len()
    );
}
