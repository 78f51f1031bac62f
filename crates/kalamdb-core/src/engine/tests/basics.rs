//! The engine end to end over a `MemoryStore`: failed writes, concurrent
//! updates, point reads, racing DDL, atomic INSERTs, the flush policy.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use kalamdb_store::{HotStore, MemoryStore, Space};
use kalamdb_types::{ErrorCode, Role, UserId};

use crate::access::Caller;
use crate::engine::{Engine, EngineConfig};
use crate::error::KalamError;
use crate::statements::output::{
    DmlKind, ExecuteRequest, StatementError, StatementOutput, StatementResult,
};

fn root() -> Caller {
    Caller::new(UserId::root(), Role::System)
}

pub(super) async fn exec(
    engine: &Engine,
    sql: &str,
) -> std::result::Result<Vec<StatementResult>, StatementError> {
    engine
        .execute(ExecuteRequest {
            sql: sql.into(),
            params: vec![],
            namespace: None,
            caller: root(),
        })
        .await
}

pub(super) async fn scalar_i64(engine: &Engine, sql: &str) -> i64 {
    let results = exec(engine, sql).await.unwrap();
    match &results[0].output {
        StatementOutput::Rows { batches, .. } => {
            batches[0].column(0).as_primitive::<Int64Type>().value(0)
        }
        other => panic!("not rows: {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_write_is_never_acknowledged_and_poisons_the_store() {
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::open(store.clone(), EngineConfig::default())
        .await
        .unwrap();
    exec(
        &engine,
        "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY)",
    )
    .await
    .unwrap();
    exec(&engine, "INSERT INTO app.t VALUES (1)").await.unwrap();

    store.fail_next_writes(1);
    let err = exec(&engine, "INSERT INTO app.t VALUES (2)")
        .await
        .unwrap_err();
    assert_eq!(err.error.code(), ErrorCode::InternalError, "{}", err.error);
    // Poisoned: nothing more is acknowledged, reads still work.
    let err = exec(&engine, "INSERT INTO app.t VALUES (3)")
        .await
        .unwrap_err();
    assert_eq!(err.error.code(), ErrorCode::InternalError, "{}", err.error);
    assert_eq!(scalar_i64(&engine, "SELECT count(*) FROM app.t").await, 1);
    // Even once the device works again: only a restart clears it.
    store.clear_poison();
    let err = exec(&engine, "CREATE TABLE app.u (id INT PRIMARY KEY)")
        .await
        .unwrap_err();
    assert!(
        err.error
            .to_string()
            .contains("writes are refused after a failed write"),
        "{}",
        err.error
    );
    assert!(engine.storage_failed());
    assert_eq!(
        engine.storage_failure(),
        Some("storage write failed: injected write failure")
    );
    let stats = exec(
        &engine,
        "SELECT metric_value FROM system.stats WHERE metric_name = 'storage_write_failed'",
    )
    .await
    .unwrap();
    let StatementOutput::Rows { batches, .. } = &stats[0].output else {
        panic!("not rows");
    };
    assert_eq!(
        batches[0].column(0).as_string::<i32>().value(0),
        "1",
        "operators see the failure"
    );

    // Login bookkeeping is skipped, so a correct password still logs
    // in; a statement changing a user is refused.
    let kept = engine
        .update_user(&UserId::root(), |u| {
            u.last_login_at = Some(42);
            Ok(())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.last_login_at, Some(42));
    let stored = engine.user(&UserId::root()).unwrap().unwrap();
    assert_eq!(stored.last_login_at, None, "not written");
    let refused = engine
        .update_user_durable(&UserId::root(), |u| {
            u.email = Some("x@y".into());
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InternalError);
    let own = engine
        .update_user(&UserId::root(), |_| Err(KalamError::exec("no")))
        .await
        .unwrap_err();
    assert_eq!(own.to_string(), "no");
}

#[tokio::test]
async fn concurrent_updates_of_one_row_lose_no_increment() {
    let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
        .await
        .unwrap();
    exec(
        &engine,
        "CREATE NAMESPACE app; CREATE TABLE app.c (id INT PRIMARY KEY, n BIGINT)",
    )
    .await
    .unwrap();
    exec(&engine, "INSERT INTO app.c VALUES (1, 0)")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(
                async move { exec(&engine, "UPDATE app.c SET n = n + 1 WHERE id = 1").await },
            )
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert!(matches!(
            r[0].output,
            StatementOutput::Dml {
                kind: DmlKind::Update,
                count: 1
            }
        ));
    }
    assert_eq!(
        scalar_i64(&engine, "SELECT n FROM app.c WHERE id = 1").await,
        12
    );
}

/// Counts how the engine reads, to prove key filters become point reads.
#[derive(Default)]
struct CountingStore {
    inner: MemoryStore,
    scans: std::sync::atomic::AtomicUsize,
    point_reads: std::sync::atomic::AtomicUsize,
    compactions: std::sync::atomic::AtomicUsize,
}

impl kalamdb_store::HotRead for CountingStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, kalamdb_store::StoreError> {
        self.inner.get(space, key)
    }
    fn multi_get(
        &self,
        space: Space,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, kalamdb_store::StoreError> {
        if space == Space::Rows {
            self.point_reads
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        self.inner.multi_get(space, keys)
    }
    fn scan(
        &self,
        space: Space,
        range: &kalamdb_store::KeyRange,
        direction: kalamdb_store::Direction,
        limit: usize,
    ) -> Result<Vec<kalamdb_store::KvPair>, kalamdb_store::StoreError> {
        if space == Space::Rows {
            self.scans.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        self.inner.scan(space, range, direction, limit)
    }
}

impl HotStore for CountingStore {
    fn write(&self, batch: kalamdb_store::WriteBatch) -> Result<(), kalamdb_store::StoreError> {
        self.inner.write(batch)
    }
    fn approximate_size(
        &self,
        space: Space,
        range: &kalamdb_store::KeyRange,
    ) -> Result<u64, kalamdb_store::StoreError> {
        self.inner.approximate_size(space, range)
    }
    fn is_durable(&self) -> bool {
        false
    }
    fn compact_range(
        &self,
        space: Space,
        range: &kalamdb_store::KeyRange,
    ) -> Result<(), kalamdb_store::StoreError> {
        if space == Space::Rows {
            self.compactions
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        self.inner.compact_range(space, range)
    }
    /// Reads go on being counted; no test of this store writes while
    /// it reads, so the live store serves as its own snapshot.
    fn snapshot(
        self: Arc<Self>,
    ) -> std::result::Result<Arc<dyn kalamdb_store::HotRead>, kalamdb_store::StoreError> {
        Ok(self)
    }
}

/// A large flush compacts the deletes it leaves in the hot store (every
/// later scan would step over them); a small one leaves that to the store.
#[tokio::test]
async fn a_large_flush_compacts_the_deletes_it_leaves() {
    use std::sync::atomic::Ordering::SeqCst;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(CountingStore::default());
    let config = EngineConfig {
        storage_dir: dir.path().join("storage"),
        ..Default::default()
    };
    let engine = Engine::open(store.clone(), config).await.unwrap();
    let table = |n| {
        format!(
            "CREATE TABLE app.t{n} (id BIGINT PRIMARY KEY, v TEXT); \
             INSERT INTO app.t{n} (id, v) SELECT value, 'x' FROM generate_series(1, {})",
            if n == 0 { 5 } else { 10_000 }
        )
    };
    exec(&engine, "CREATE NAMESPACE app").await.unwrap();
    for n in [0, 1] {
        exec(&engine, &table(n)).await.unwrap();
        let id = engine.table_id("app", &format!("t{n}")).unwrap();
        let before = store.compactions.load(SeqCst);
        engine.flush_now(&id).await.unwrap();
        assert_eq!(store.compactions.load(SeqCst) - before, n, "table t{n}");
        assert_eq!(
            scalar_i64(&engine, &format!("SELECT count(*) FROM app.t{n}")).await,
            if n == 0 { 5 } else { 10_000 }
        );
    }
}

#[tokio::test]
async fn primary_key_equality_is_a_point_read_not_a_scan() {
    use std::sync::atomic::Ordering::SeqCst;
    let store = Arc::new(CountingStore::default());
    let engine = Engine::open(store.clone(), EngineConfig::default())
        .await
        .unwrap();
    exec(
        &engine,
        "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
    )
    .await
    .unwrap();
    exec(
        &engine,
        "INSERT INTO app.t VALUES (1, 'a'), (5, 'e'), (9, 'i')",
    )
    .await
    .unwrap();

    let scans = store.scans.load(SeqCst);
    assert_eq!(
        scalar_i64(&engine, "SELECT id FROM app.t WHERE id = 5").await,
        5
    );
    assert_eq!(
        scalar_i64(&engine, "SELECT count(*) FROM app.t WHERE id IN (1, 9, 42)").await,
        2
    );
    assert_eq!(
        store.scans.load(SeqCst),
        scans,
        "a key lookup scanned the table"
    );
    assert!(store.point_reads.load(SeqCst) >= 2);

    assert_eq!(
        scalar_i64(&engine, "SELECT count(*) FROM app.t WHERE v = 'e'").await,
        1
    );
    assert!(
        store.scans.load(SeqCst) > scans,
        "a non-key filter must scan"
    );
}

#[tokio::test]
async fn concurrent_user_updates_serialize() {
    let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .update_user(&UserId::root(), |r| {
                        r.failed_login_attempts += 1;
                        Ok(())
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().unwrap().is_some());
    }
    let root = engine.user(&UserId::root()).unwrap().unwrap();
    assert_eq!(root.failed_login_attempts, 20, "an update was lost");
    let missing = UserId::parse("nobody").unwrap();
    assert!(
        engine
            .update_user(&missing, |_| Ok(()))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn racing_creates_of_one_table_let_exactly_one_win() {
    let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
        .await
        .unwrap();
    exec(&engine, "CREATE NAMESPACE app").await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let engine = engine.clone();
            let sql = format!("CREATE TABLE app.t (id INT PRIMARY KEY, v{i} TEXT)");
            tokio::spawn(async move { exec(&engine, &sql).await })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(e) => assert_eq!(e.error.to_string(), "Table app.t already exists"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(engine.shared().catalog.tables(None).len(), 1);
}

#[tokio::test]
async fn statements_of_one_insert_are_all_or_nothing() {
    let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
        .await
        .unwrap();
    exec(
        &engine,
        "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY)",
    )
    .await
    .unwrap();
    exec(&engine, "INSERT INTO app.t VALUES (2)").await.unwrap();
    let err = exec(&engine, "INSERT INTO app.t VALUES (1), (2), (3)")
        .await
        .unwrap_err();
    assert!(
        err.error
            .to_string()
            .contains("Duplicate primary key value '2'"),
        "{}",
        err.error
    );
    let err = exec(&engine, "INSERT INTO app.t VALUES (4), (4)")
        .await
        .unwrap_err();
    assert!(
        err.error
            .to_string()
            .contains("Duplicate primary key value '4'"),
        "{}",
        err.error
    );
    assert_eq!(scalar_i64(&engine, "SELECT count(*) FROM app.t").await, 1);
}

#[tokio::test]
async fn the_flush_policy_flushes_tables_past_their_row_limit() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        Arc::new(MemoryStore::new()),
        EngineConfig {
            storage_dir: dir.path().join("storage"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    exec(&engine, "CREATE NAMESPACE app").await.unwrap();
    exec(
        &engine,
        "CREATE TABLE app.a (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:3')",
    )
    .await
    .unwrap();
    exec(
        &engine,
        "CREATE TABLE app.b (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:100,interval:3600')",
    )
    .await
    .unwrap();
    exec(&engine, "INSERT INTO app.a VALUES (1), (2)")
        .await
        .unwrap();
    exec(&engine, "INSERT INTO app.b VALUES (1), (2), (3)")
        .await
        .unwrap();
    // Below both limits: nothing is due.
    assert!(engine.run_flush_policy().await.unwrap().is_empty());
    exec(&engine, "INSERT INTO app.a VALUES (3)").await.unwrap();
    let jobs = engine.run_flush_policy().await.unwrap();
    assert_eq!(jobs.len(), 1, "only app.a reached its limit");
    let job = engine
        .wait_job(&jobs[0], std::time::Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        job.status,
        crate::maintenance::jobs::JobStatus::Completed,
        "{job:?}"
    );
    assert!(job.message.unwrap().starts_with("Flushed 3 rows"));
    assert_eq!(scalar_i64(&engine, "SELECT count(*) FROM app.a").await, 3);
    // Flushed: no hot rows remain, so the policy has nothing to do.
    assert!(engine.run_flush_policy().await.unwrap().is_empty());
}
