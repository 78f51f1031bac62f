//! Transactions' isolation (`write/txn.rs`), interleaved step by step as no
//! pair of HTTP requests can be: first committer wins, a row committed by
//! another writer after BEGIN conflicts, a dropped transaction writes
//! nothing.

use std::sync::Arc;

use kalamdb_store::{MemoryStore, Partition, PkValue, RowKey, Space};
use kalamdb_types::{NamespaceId, TableId, TableName};

use crate::engine::{Engine, EngineConfig};
use crate::error::KalamError;
use crate::row::value::{StoredRow, Value};
use crate::write::keyed::Change;
use crate::write::txn::{DEFAULT_MAX_BUFFER_BYTES, Txn};

use super::basics::{exec, scalar_i64};

const CONFLICT: &str = "Transaction conflict on table 'app.t'; rolled back";

fn table() -> TableId {
    TableId::new(
        NamespaceId::parse("app").unwrap(),
        TableName::parse("t").unwrap(),
    )
}

async fn engine() -> Engine {
    let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
        .await
        .unwrap();
    exec(
        &engine,
        "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, n BIGINT); \
         INSERT INTO app.t VALUES (1, 0)",
    )
    .await
    .unwrap();
    engine
}

fn begin(engine: &Engine) -> Txn {
    Txn::begin(engine.seq().clone(), DEFAULT_MAX_BUFFER_BYTES)
}

/// The stored row 1, as an UPDATE's keyed read would hand it over.
fn read_row(engine: &Engine) -> StoredRow {
    let key = RowKey {
        table: table(),
        partition: Partition::Shared,
        pk: PkValue::Int(1),
    };
    let bytes = engine
        .shared()
        .store
        .get(Space::Rows, &key.encode())
        .unwrap()
        .unwrap();
    StoredRow::decode(&bytes).unwrap()
}

/// `UPDATE app.t SET n = <n> WHERE id = 1`, staged in `txn`.
fn stage_update(engine: &Engine, txn: &Txn, n: i64) {
    let entry = engine.shared().catalog.table(&table()).unwrap();
    let current = read_row(engine);
    let change = Change {
        pk: PkValue::Int(1),
        read_seq: current.seq,
        old_values: vec![Value::I64(1), current.value(2).clone()],
        new_values: Some(vec![Value::I64(1), Value::I64(n)]),
    };
    let written = txn
        .stage_changes(
            engine.shared(),
            &entry,
            &Partition::Shared,
            vec![change],
            0,
            false,
        )
        .unwrap();
    assert_eq!(written.count, 1);
}

fn is_conflict(e: &KalamError) -> bool {
    matches!(e, KalamError::WriteConflict(m) if m == CONFLICT)
}

#[tokio::test]
async fn of_two_transactions_writing_one_row_the_later_commit_fails() {
    let engine = engine().await;
    let first = begin(&engine);
    let second = begin(&engine);
    stage_update(&engine, &first, 10);
    stage_update(&engine, &second, 20);
    assert_eq!(second.commit(engine.shared()).await.unwrap(), 1);
    let err = first.commit(engine.shared()).await.unwrap_err();
    assert!(is_conflict(&err), "{err:?}");
    // Nothing of the failed transaction was written.
    assert_eq!(
        scalar_i64(&engine, "SELECT n FROM app.t WHERE id = 1").await,
        20
    );
}

#[tokio::test]
async fn a_row_committed_by_another_writer_after_begin_conflicts() {
    let engine = engine().await;
    let txn = begin(&engine);
    // Committed after BEGIN, before the transaction reads the row: under
    // snapshot isolation the transaction must not overwrite it.
    exec(&engine, "UPDATE app.t SET n = 5 WHERE id = 1")
        .await
        .unwrap();
    stage_update(&engine, &txn, 6);
    let err = txn.commit(engine.shared()).await.unwrap_err();
    assert!(is_conflict(&err), "{err:?}");
    assert_eq!(
        scalar_i64(&engine, "SELECT n FROM app.t WHERE id = 1").await,
        5
    );
}

#[tokio::test]
async fn inserts_of_one_new_key_by_two_transactions_conflict() {
    let engine = engine().await;
    let entry = engine.shared().catalog.table(&table()).unwrap();
    let first = begin(&engine);
    let second = begin(&engine);
    for (txn, n) in [(&first, 1), (&second, 2)] {
        txn.stage_inserts(
            engine.shared(),
            &entry,
            Partition::Shared,
            vec![vec![Value::I64(7), Value::I64(n)]],
        )
        .await
        .unwrap();
    }
    assert_eq!(first.commit(engine.shared()).await.unwrap(), 1);
    let err = second.commit(engine.shared()).await.unwrap_err();
    assert!(is_conflict(&err), "{err:?}");
    assert_eq!(
        scalar_i64(&engine, "SELECT n FROM app.t WHERE id = 7").await,
        1
    );
}

#[tokio::test]
async fn a_dropped_transaction_writes_nothing_and_commits_are_atomic() {
    let engine = engine().await;
    let entry = engine.shared().catalog.table(&table()).unwrap();
    {
        let txn = begin(&engine);
        stage_update(&engine, &txn, 99);
        // Dropped without COMMIT: a rollback.
    }
    assert_eq!(
        scalar_i64(&engine, "SELECT n FROM app.t WHERE id = 1").await,
        0
    );

    // One conflicting row fails the whole commit: the other rows of the
    // transaction are not written either.
    let txn = begin(&engine);
    txn.stage_inserts(
        engine.shared(),
        &entry,
        Partition::Shared,
        (100..110)
            .map(|i| vec![Value::I64(i), Value::I64(i)])
            .collect(),
    )
    .await
    .unwrap();
    stage_update(&engine, &txn, 1);
    exec(&engine, "UPDATE app.t SET n = 2 WHERE id = 1")
        .await
        .unwrap();
    let err = txn.commit(engine.shared()).await.unwrap_err();
    assert!(is_conflict(&err), "{err:?}");
    assert_eq!(
        scalar_i64(&engine, "SELECT count(*) FROM app.t WHERE id >= 100").await,
        0
    );
}

#[tokio::test]
async fn the_buffer_limit_refuses_a_statement_whole() {
    let engine = engine().await;
    let entry = engine.shared().catalog.table(&table()).unwrap();
    // What one staged row of this table costs (its encoded version and key).
    let one = StoredRow {
        seq: engine.seq().next_id().as_i64(),
        deleted: false,
        version: 1,
        values: vec![(1, Value::I64(100)), (2, Value::I64(100))],
    };
    let key = RowKey {
        table: table(),
        partition: Partition::Shared,
        pk: PkValue::Int(100),
    };
    let per_row = one.encode().unwrap().len() + key.encode().len();
    // Room for 15 rows: a statement of 10 fits, a second one does not.
    let txn = Txn::begin(engine.seq().clone(), 15 * per_row);
    let rows = |from: i64| {
        (from..from + 10)
            .map(|i| vec![Value::I64(i), Value::I64(i)])
            .collect()
    };
    txn.stage_inserts(engine.shared(), &entry, Partition::Shared, rows(100))
        .await
        .unwrap();
    let err = txn
        .stage_inserts(engine.shared(), &entry, Partition::Shared, rows(1_000))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KalamError::Execution(m) if m == "Transaction too large"),
        "{err:?}"
    );
    // The refused statement staged nothing; the earlier one commits.
    assert_eq!(txn.commit(engine.shared()).await.unwrap(), 10);
}
