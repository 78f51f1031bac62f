//! STREAM TTL end to end: eviction passes over partitions and chunks,
//! reads hiding expired rows before any pass, keys freed by expiry, and
//! passes planned against a replaced table.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use kalamdb_store::{
    Direction, MemoryStore, Partition, PkValue, RowKey, RowPrefix, Space, WriteBatch,
};
use kalamdb_types::{NamespaceId, Role, SNOWFLAKE_EPOCH_MS, TableId, TableName, UserId};

use crate::access::Caller;
use crate::catalog::lifetime::{expiry_cutoff, now_millis};
use crate::engine::{Engine, EngineConfig};
use crate::maintenance::stream_ttl::{EVICT_CHUNK, delete_expired, scan_expired};
use crate::row::value::StoredRow;
use crate::statements::output::{ExecuteRequest, StatementOutput, StatementResult};
use crate::write::shared::Shared;

fn caller(user: &str) -> Caller {
    match user {
        "root" => Caller::new(UserId::root(), Role::System),
        name => Caller::new(UserId::parse(name).unwrap(), Role::User),
    }
}

async fn exec(engine: &Engine, user: &str, sql: &str) -> Vec<StatementResult> {
    engine
        .execute(ExecuteRequest {
            sql: sql.into(),
            params: vec![],
            namespace: None,
            caller: caller(user),
        })
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", e.error))
}

async fn count(engine: &Engine, user: &str, table: &str) -> i64 {
    let results = exec(engine, user, &format!("SELECT count(*) FROM {table}")).await;
    match &results[0].output {
        StatementOutput::Rows { batches, .. } => {
            batches[0].column(0).as_primitive::<Int64Type>().value(0)
        }
        other => panic!("not rows: {other:?}"),
    }
}

fn app_table(name: &str) -> TableId {
    TableId::new(
        NamespaceId::parse("app").unwrap(),
        TableName::parse(name).unwrap(),
    )
}

fn user(name: &str) -> Partition {
    Partition::User(UserId::parse(name).unwrap())
}

/// Writes a row committed `age_ms` ago behind the engine's back (the
/// commit pipeline only issues current `_seq` values).
fn put_old_row(
    shared: &Shared,
    table: &TableId,
    partition: Partition,
    pk: Option<PkValue>,
    age_ms: i64,
    values: Vec<(u32, crate::row::value::Value)>,
) -> Vec<u8> {
    let seq = (now_millis() - age_ms - SNOWFLAKE_EPOCH_MS) << 22;
    let pk = pk.unwrap_or(PkValue::RowId(seq));
    let key = RowKey::new(table.clone(), partition, pk).encode();
    let row = StoredRow {
        seq,
        deleted: false,
        version: 1,
        values,
    };
    let mut batch = WriteBatch::new();
    batch.put(Space::Rows, key.clone(), row.encode().unwrap());
    shared.store.write(batch).unwrap();
    key
}

async fn engine() -> Engine {
    let engine = Engine::open(
        Arc::new(MemoryStore::new()),
        EngineConfig {
            // Passes run only when a test calls them.
            stream_eviction_interval: None,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    exec(&engine, "root", "CREATE NAMESPACE app").await;
    engine
}

#[tokio::test]
async fn a_pass_evicts_expired_rows_of_every_partition_and_only_those() {
    let engine = engine().await;
    let shared = engine.shared().clone();
    let ttl = &engine.maintenance().stream;
    exec(
        &engine,
        "root",
        "CREATE STREAM TABLE app.typing (room TEXT) TTL 10s; \
         CREATE TABLE app.presence (id BIGINT PRIMARY KEY, s TEXT) \
         WITH (TYPE = 'STREAM', TTL_SECONDS = 10); \
         CREATE STREAM TABLE app.audit (what TEXT) TTL 1h; \
         CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY)",
    )
    .await;
    let mut events = engine.stream_evictions();
    for user in ["alice", "bob"] {
        exec(
            &engine,
            user,
            "INSERT INTO app.typing VALUES ('a'), ('b'), ('c'); \
             INSERT INTO app.presence VALUES (1, 'x'), (2, 'y'); \
             INSERT INTO app.audit VALUES ('kept'); \
             INSERT INTO app.notes VALUES (1)",
        )
        .await;
    }
    // Nothing is old enough yet.
    assert_eq!(ttl.evict_expired(&shared).await.unwrap(), 0);
    assert!(events.try_recv().is_err());
    assert_eq!(count(&engine, "alice", "app.typing").await, 3);

    // Eleven seconds later: the 10 s tables empty out, the others stay.
    let later = now_millis() + 11_000;
    assert_eq!(ttl.evict_expired_at(&shared, later).await.unwrap(), 10);
    let mut by_table = std::collections::BTreeMap::new();
    while let Ok(e) = events.try_recv() {
        *by_table.entry(e.table.to_string()).or_insert(0) += e.rows;
    }
    assert_eq!(
        by_table.into_iter().collect::<Vec<_>>(),
        vec![
            ("app.presence".to_string(), 4),
            ("app.typing".to_string(), 6)
        ]
    );
    assert_eq!(ttl.evicted.load(Ordering::Relaxed), 10);
    for user in ["alice", "bob"] {
        assert_eq!(count(&engine, user, "app.typing").await, 0);
        assert_eq!(count(&engine, user, "app.presence").await, 0);
        assert_eq!(count(&engine, user, "app.audit").await, 1);
        assert_eq!(count(&engine, user, "app.notes").await, 1);
    }
    // The keys are gone from the store, not just hidden.
    let left = shared
        .store
        .scan(
            Space::Rows,
            &RowPrefix::Table(app_table("typing")).range(),
            Direction::Forward,
            usize::MAX,
        )
        .unwrap();
    assert!(left.is_empty());
    // A second pass has nothing to do and says nothing.
    assert_eq!(ttl.evict_expired_at(&shared, later).await.unwrap(), 0);
    assert!(events.try_recv().is_err());
    // A key freed by eviction can be inserted again.
    exec(
        &engine,
        "alice",
        "INSERT INTO app.presence VALUES (1, 'back')",
    )
    .await;
    assert_eq!(count(&engine, "alice", "app.presence").await, 1);
}

#[tokio::test]
async fn a_pass_over_many_chunks_and_partitions_evicts_everything() {
    let engine = engine().await;
    let shared = engine.shared().clone();
    let ttl = &engine.maintenance().stream;
    exec(&engine, "root", "CREATE STREAM TABLE app.t (n INT) TTL 5s").await;
    let values = (0..1500)
        .map(|i| format!("({i})"))
        .collect::<Vec<_>>()
        .join(", ");
    for user in ["u1", "u2", "u3"] {
        exec(&engine, user, &format!("INSERT INTO app.t VALUES {values}")).await;
    }
    let mut events = engine.stream_evictions();
    let later = now_millis() + 6_000;
    assert_eq!(ttl.evict_expired_at(&shared, later).await.unwrap(), 4500);
    let mut commits = 0;
    while let Ok(e) = events.try_recv() {
        assert!(e.rows <= EVICT_CHUNK as u64, "{e:?}");
        commits += 1;
    }
    assert!(commits >= 5, "{commits} commits for 4500 rows");
    assert_eq!(count(&engine, "u2", "app.t").await, 0);
}

#[tokio::test]
async fn reads_hide_expired_rows_before_any_eviction() {
    let engine = engine().await;
    let shared = engine.shared().clone();
    let ttl = &engine.maintenance().stream;
    exec(
        &engine,
        "root",
        "CREATE STREAM TABLE app.t (id INT PRIMARY KEY, v TEXT) TTL 60s",
    )
    .await;
    exec(&engine, "alice", "INSERT INTO app.t VALUES (1, 'fresh')").await;
    let stale = put_old_row(
        &shared,
        &app_table("t"),
        user("alice"),
        Some(PkValue::Int(2)),
        120_000,
        vec![
            (1, crate::row::value::Value::I32(2)),
            (2, crate::row::value::Value::Text("stale".into())),
        ],
    );

    assert_eq!(count(&engine, "alice", "app.t").await, 1);
    // Point reads are filtered too.
    let results = exec(&engine, "alice", "SELECT v FROM app.t WHERE id IN (1, 2)").await;
    let StatementOutput::Rows { batches, .. } = &results[0].output else {
        panic!("not rows");
    };
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 1);
    assert_eq!(batches[0].column(0).as_string::<i32>().value(0), "fresh");
    // Then a real pass removes it, and only it.
    assert_eq!(ttl.evict_expired(&shared).await.unwrap(), 1);
    assert!(shared.store.get(Space::Rows, &stale).unwrap().is_none());
    assert_eq!(count(&engine, "alice", "app.t").await, 1);
}

#[tokio::test]
async fn an_expired_key_can_be_inserted_again_before_eviction() {
    let engine = engine().await;
    let shared = engine.shared().clone();
    exec(
        &engine,
        "root",
        "CREATE STREAM TABLE app.p (id INT PRIMARY KEY, v TEXT) TTL 60s",
    )
    .await;
    put_old_row(
        &shared,
        &app_table("p"),
        user("alice"),
        Some(PkValue::Int(7)),
        120_000,
        vec![(1, crate::row::value::Value::I32(7))],
    );
    // The expired row does not hold its key; a live one does.
    exec(&engine, "alice", "INSERT INTO app.p VALUES (7, 'again')").await;
    assert_eq!(count(&engine, "alice", "app.p").await, 1);
    let dup = engine
        .execute(ExecuteRequest {
            sql: "INSERT INTO app.p VALUES (7, 'twice')".into(),
            params: vec![],
            namespace: None,
            caller: caller("alice"),
        })
        .await;
    assert!(dup.is_err_and(|e| e.error.to_string().contains("Duplicate primary key")));
}

#[tokio::test]
async fn a_live_row_ends_only_its_own_partition_of_a_keyless_table() {
    let engine = engine().await;
    let shared = engine.shared().clone();
    let ttl = &engine.maintenance().stream;
    exec(
        &engine,
        "root",
        "CREATE STREAM TABLE app.t (v TEXT) TTL 60s",
    )
    .await;
    let table = app_table("t");
    let text = |s: &str| vec![(1, crate::row::value::Value::Text(s.into()))];
    // alice: two expired rows, then live ones; bob (a later partition):
    // expired rows only, which the skip over alice's live rows must not
    // jump past.
    let mut old = Vec::new();
    for age in [300_000, 200_000] {
        old.push(put_old_row(
            &shared,
            &table,
            user("alice"),
            None,
            age,
            text("old"),
        ));
        old.push(put_old_row(
            &shared,
            &table,
            user("bob"),
            None,
            age,
            text("old"),
        ));
    }
    // More live rows than one scan chunk, so a chunk ends inside alice's
    // live rows and the scan seeks past them to bob.
    let values = (0..1500)
        .map(|i| format!("('new{i}')"))
        .collect::<Vec<_>>()
        .join(", ");
    exec(
        &engine,
        "alice",
        &format!("INSERT INTO app.t VALUES {values}"),
    )
    .await;
    assert_eq!(count(&engine, "alice", "app.t").await, 1500);
    assert_eq!(count(&engine, "bob", "app.t").await, 0);

    assert_eq!(ttl.evict_expired(&shared).await.unwrap(), 4);
    for key in &old {
        assert!(shared.store.get(Space::Rows, key).unwrap().is_none());
    }
    assert_eq!(count(&engine, "alice", "app.t").await, 1500);
}

#[tokio::test]
async fn a_replaced_table_is_skipped_and_a_rewritten_row_is_kept() {
    let engine = engine().await;
    let shared = engine.shared().clone();
    let ttl = &engine.maintenance().stream;
    exec(&engine, "root", "CREATE STREAM TABLE app.t (n INT) TTL 1s").await;
    exec(&engine, "alice", "INSERT INTO app.t VALUES (1), (2)").await;
    let id = app_table("t");
    let dropped = shared.catalog.table(&id).unwrap();
    let later = now_millis() + 2_000;
    exec(&engine, "root", "DROP TABLE app.t").await;
    assert_eq!(ttl.evict_table(&shared, &dropped, later).await.unwrap(), 0);

    // A pass planned against the dropped table finds the rows of a new
    // one of the same name: its commit refuses, and the pass skips it.
    exec(&engine, "root", "CREATE STREAM TABLE app.t (n INT) TTL 1s").await;
    exec(&engine, "alice", "INSERT INTO app.t VALUES (1)").await;
    let mut events = engine.stream_evictions();
    assert_eq!(ttl.evict_table(&shared, &dropped, later).await.unwrap(), 0);
    assert_eq!(count(&engine, "alice", "app.t").await, 1);
    assert_eq!(ttl.evicted.load(Ordering::Relaxed), 0);
    assert!(events.try_recv().is_err());

    // A key whose version changed after the scan is not deleted.
    let entry = shared.catalog.table(&id).unwrap();
    let range = RowPrefix::Table(id.clone()).range();
    let (mut expired, next) = scan_expired(&shared, range, expiry_cutoff(1, later)).unwrap();
    assert!(next.is_none());
    assert_eq!(expired.len(), 1);
    expired[0].1 -= 1;
    assert_eq!(
        delete_expired(&shared, &entry, expired).await.unwrap(),
        Some(0)
    );
    assert_eq!(count(&engine, "alice", "app.t").await, 1);
}
