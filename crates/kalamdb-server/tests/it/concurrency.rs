//! Many writers at once (issue 8, point 5): nothing lost or doubled,
//! racing UPDATEs of one row settle on one version, and DROP TABLE under
//! writes and subscriptions answers clearly and leaves no files behind.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};
use crate::live::Ws;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_times_two_hundred_inserts_make_ten_thousand_rows() {
    let server = Arc::new(TestServer::start());
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.log (id BIGINT PRIMARY KEY, client INT, n INT)")
        .await;
    let writers: Vec<_> = (0..50)
        .map(|c| {
            let server = server.clone();
            tokio::spawn(async move {
                // Each client its own connection pool, as separate processes.
                let http = reqwest::Client::new();
                for n in 0..200 {
                    let resp = http
                        .post(server.url("/v1/api/sql"))
                        .basic_auth("root", Some(ROOT_PASSWORD))
                        .json(&json!({
                            "sql": "INSERT INTO app.log (id, client, n) VALUES ($1, $2, $3)",
                            "params": [c * 1000 + n, c, n]
                        }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let rows = server
        .rows("SELECT count(*), count(DISTINCT id), count(DISTINCT client), min(n), max(n) FROM app.log")
        .await;
    assert_eq!(rows[0], json!(["10000", "10000", "50", 0, 199]));
    // Group commit shared fsyncs among the writers.
    let stats = server
        .rows("SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('commit_groups', 'commit_requests') ORDER BY metric_name")
        .await;
    let groups: u64 = stats[0][1].as_str().unwrap().parse().unwrap();
    let requests: u64 = stats[1][1].as_str().unwrap().parse().unwrap();
    assert!(groups < requests, "{groups} groups for {requests} requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_updates_of_one_row_leave_one_consistent_version() {
    let server = Arc::new(TestServer::start());
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.counter (id INT PRIMARY KEY, hits BIGINT, last TEXT)")
        .await;
    server
        .sql("INSERT INTO app.counter (id, hits, last) VALUES (1, 0, 'none')")
        .await;
    // Read-modify-write in one statement: every acknowledged increment
    // must count (the engine re-runs a statement that lost a race).
    let tasks: Vec<_> = (0..20)
        .map(|c| {
            let server = server.clone();
            tokio::spawn(async move {
                let mut ok = 0;
                for i in 0..10 {
                    let (status, body) = server
                        .sql_as(
                            "root",
                            ROOT_PASSWORD,
                            &format!("UPDATE app.counter SET hits = hits + 1, last = 'c{c}-{i}' WHERE id = 1"),
                        )
                        .await;
                    match status {
                        200 => ok += 1,
                        // A conflict that outlasted the retries is a clear error, never a lost write.
                        _ => assert!(body.to_string().contains("conflict"), "{body}"),
                    }
                }
                ok
            })
        })
        .collect();
    let mut acknowledged = 0;
    for t in tasks {
        acknowledged += t.await.unwrap();
    }
    let rows = server
        .rows("SELECT hits, last, _seq FROM app.counter")
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], acknowledged.to_string());
    assert!(rows[0][1].as_str().unwrap().starts_with('c'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_table_under_writes_and_subscriptions_is_clean() {
    let server = Arc::new(TestServer::start());
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.busy (id BIGINT PRIMARY KEY, body TEXT)")
        .await;
    for i in 0..500 {
        server
            .sql(&format!(
                "INSERT INTO app.busy (id, body) VALUES ({i}, 'seed')"
            ))
            .await;
    }
    server.sql("STORAGE FLUSH TABLE app.busy").await;
    let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    ws.subscribe("s", "SELECT id FROM app.busy", json!({}))
        .await;
    // The drop must race a live subscription, not the subscribe itself:
    // a subscribe the server reads after the drop is refused as not found.
    let ack = ws.next().await;
    assert_eq!(ack["type"], "subscription_ack", "{ack}");
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let server = server.clone();
            tokio::spawn(async move {
                let mut errors: Vec<Value> = Vec::new();
                for i in 0..300 {
                    let (status, body) = server
                        .sql_as(
                            "root",
                            ROOT_PASSWORD,
                            &format!(
                                "INSERT INTO app.busy (id, body) VALUES ({}, 'w')",
                                10_000 + w * 1000 + i
                            ),
                        )
                        .await;
                    if status != 200 {
                        errors.push(body);
                    }
                }
                errors
            })
        })
        .collect();
    let dropped = server.sql("DROP TABLE app.busy").await;
    assert!(
        dropped["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("dropped"),
        "{dropped}"
    );
    for w in writers {
        for e in w.await.unwrap() {
            // Writes after the drop are refused with the table's name, and a
            // write that raced the drop's commit reports the change.
            let code = e["error"]["code"].as_str().unwrap_or_default().to_string();
            assert!(
                code == "TABLE_NOT_FOUND" || code == "SQL_EXECUTION_ERROR",
                "unexpected error under DROP: {e}"
            );
        }
    }
    // The subscriber learns the table is gone (after whatever it was sent).
    loop {
        let m = ws.next_pinging().await;
        if m["type"] == "error" {
            assert_eq!(m["code"], "NOT_FOUND");
            assert_eq!(m["message"], "Table 'app.busy' was dropped");
            break;
        }
    }
    // No Parquet file of the table is left, and the name is free again.
    let leftovers: Vec<_> = walk(&server.data_path().join("storage"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("busy"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    server
        .sql("CREATE SHARED TABLE app.busy (id BIGINT PRIMARY KEY, body TEXT)")
        .await;
    assert!(server.rows("SELECT * FROM app.busy").await.is_empty());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
