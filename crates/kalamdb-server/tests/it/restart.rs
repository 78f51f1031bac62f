//! The catalog and rows survive a graceful restart; `_seq` keeps increasing.

use crate::common::TestServer;

#[tokio::test]
async fn catalog_and_rows_survive_a_restart() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT) WITH (TYPE='SHARED', FLUSH_POLICY='rows:5')")
        .await;
    server
        .sql("CREATE SHARED TABLE app.gone (id INT PRIMARY KEY) FLUSH ROWS 10")
        .await;
    server
        .sql("INSERT INTO app.items VALUES (1, 'one'), (2, 'two'), (3, 'three')")
        .await;
    server
        .sql("UPDATE app.items SET title = 'TWO' WHERE id = 2")
        .await;
    server.sql("DELETE FROM app.items WHERE id = 3").await;
    server.sql("DROP TABLE app.gone").await;
    let before = server
        .rows("SELECT id, title, _seq FROM app.items ORDER BY id")
        .await;
    let max_seq_before: i64 = before
        .iter()
        .map(|r| r[2].as_str().unwrap().parse::<i64>().unwrap())
        .max()
        .unwrap();

    let server = server.restart();

    let after = server
        .rows("SELECT id, title, _seq FROM app.items ORDER BY id")
        .await;
    assert_eq!(
        before, after,
        "rows and their versions are unchanged by a restart"
    );
    let tables = server
        .rows("SELECT table_name FROM system.tables WHERE namespace_id = 'app'")
        .await;
    assert_eq!(tables, vec![serde_json::json!(["items"])]);
    let body = server.sql("DESCRIBE TABLE app.items").await;
    assert_eq!(body["results"][0]["row_count"], 4);
    let opts = server
        .rows("SELECT options FROM system.tables WHERE table_name = 'items'")
        .await;
    assert!(opts[0][0].as_str().unwrap().contains("rows:5"), "{opts:?}");

    // Writes continue, with `_seq` above everything issued before the restart.
    server
        .sql("INSERT INTO app.items VALUES (3, 'three again')")
        .await;
    let row = server.rows("SELECT _seq FROM app.items WHERE id = 3").await;
    let new_seq: i64 = row[0][0].as_str().unwrap().parse().unwrap();
    assert!(new_seq > max_seq_before, "{new_seq} <= {max_seq_before}");
    // The dropped table's name is free and empty.
    server
        .sql("CREATE SHARED TABLE app.gone (id INT PRIMARY KEY)")
        .await;
    assert!(server.rows("SELECT * FROM app.gone").await.is_empty());
}

/// Views are catalog state: they survive a restart, and one dropped before
/// it stays dropped.
#[tokio::test]
async fn views_survive_a_restart() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT)")
        .await;
    server
        .sql("INSERT INTO app.items VALUES (1, 'one'), (2, 'two')")
        .await;
    server
        .sql("CREATE VIEW app.firsts AS SELECT id, upper(title) AS t FROM app.items WHERE id < 2")
        .await;
    server.sql("CREATE VIEW app.gone AS SELECT 1 AS x").await;
    server.sql("DROP VIEW app.gone").await;
    let server = server.restart();
    let rows = server.rows("SELECT id, t FROM app.firsts").await;
    assert_eq!(rows, vec![serde_json::json!(["1", "ONE"])]);
    let views = server
        .rows("SELECT table_name FROM system.tables WHERE table_type = 'view'")
        .await;
    assert_eq!(views, vec![serde_json::json!(["firsts"])]);
}
