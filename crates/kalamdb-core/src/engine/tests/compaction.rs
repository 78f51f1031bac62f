//! Flush and compaction end to end: deleting a dropped table's files,
//! merging segments, tombstones past retention, `_seq` pruning of
//! segments, readers overtaken by a compaction, orphan sweeping.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use kalamdb_store::{MemoryStore, MetaKey, Partition, Space};
use kalamdb_types::{NamespaceId, Role, TableId, TableName, UserId};

use crate::access::Caller;
use crate::engine::{Engine, EngineConfig};
use crate::maintenance::deletion::Deletion;
use crate::maintenance::segments::CompactionConfig;
use crate::statements::output::{ExecuteRequest, StatementOutput};
use crate::tiers::cold_read::{read_current, scan_segments};
use crate::tiers::manifest::{load_manifest, manifests_of};

async fn engine(dir: &tempfile::TempDir, auto_min_files: usize) -> Engine {
    Engine::open(
        Arc::new(MemoryStore::new()),
        EngineConfig {
            storage_dir: dir.path().join("storage"),
            compaction: CompactionConfig {
                auto_min_files,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn exec(engine: &Engine, sql: &str) -> Vec<StatementOutput> {
    engine
        .execute(ExecuteRequest {
            sql: sql.into(),
            params: vec![],
            namespace: None,
            caller: Caller::new(UserId::root(), Role::System),
        })
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", e.error))
        .into_iter()
        .map(|r| r.output)
        .collect()
}

/// `id:v` of every row, by id.
async fn content(engine: &Engine) -> Vec<String> {
    let mut out = Vec::new();
    for o in exec(engine, "SELECT id, v FROM app.t ORDER BY id").await {
        if let StatementOutput::Rows { batches, .. } = o {
            for b in batches {
                let ids = b.column(0).as_primitive::<Int64Type>();
                let vs = b.column(1).as_string::<i32>();
                for i in 0..b.num_rows() {
                    out.push(format!("{}:{}", ids.value(i), vs.value(i)));
                }
            }
        }
    }
    out
}

fn table() -> TableId {
    TableId::new(
        NamespaceId::parse("app").unwrap(),
        TableName::parse("t").unwrap(),
    )
}

fn files(dir: &tempfile::TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("storage/app/t"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn manifest(engine: &Engine) -> kalamdb_cold::Manifest {
    load_manifest(engine.shared().store.as_ref(), &table(), &Partition::Shared).unwrap()
}

/// Three flushes with updates and deletes of flushed rows in between.
async fn three_segments(engine: &Engine) {
    exec(
        engine,
        "CREATE NAMESPACE app; \
         CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT) \
         WITH (DELETED_RETENTION_HOURS = 0)",
    )
    .await;
    for i in 1..=10 {
        exec(engine, &format!("INSERT INTO app.t VALUES ({i}, 'a{i}')")).await;
    }
    engine.flush_now(&table()).await.unwrap();
    exec(
        engine,
        "UPDATE app.t SET v = 'b' || CAST(id AS TEXT) WHERE id <= 3",
    )
    .await;
    exec(engine, "DELETE FROM app.t WHERE id IN (4, 5)").await;
    engine.flush_now(&table()).await.unwrap();
    exec(engine, "INSERT INTO app.t VALUES (11, 'a11'), (12, 'a12')").await;
    exec(engine, "DELETE FROM app.t WHERE id = 6").await;
    engine.flush_now(&table()).await.unwrap();
}

fn expected() -> Vec<String> {
    let mut e: Vec<String> = (1..=3).map(|i| format!("{i}:b{i}")).collect();
    e.extend([7, 8, 9, 10, 11, 12].iter().map(|i| format!("{i}:a{i}")));
    e
}

/// A DROP whose file deletion fails keeps its deletion record; the next
/// start (`resume_deletions`) finishes the deletion and clears it.
#[tokio::test]
async fn a_failed_deletion_is_finished_by_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let open = || {
        Engine::open(
            store.clone(),
            EngineConfig {
                storage_dir: dir.path().join("storage"),
                ..Default::default()
            },
        )
    };
    let engine = open().await.unwrap();
    three_segments(&engine).await;
    // A listed segment that cannot be deleted: a directory in its place.
    let blocked = dir.path().join("storage/app/t").join(&files(&dir)[0]);
    std::fs::remove_file(&blocked).unwrap();
    std::fs::create_dir(&blocked).unwrap();
    let record = MetaKey::DroppedFiles(table()).encode();
    exec(&engine, "DROP TABLE app.t").await;
    assert!(
        engine
            .shared()
            .store
            .get(Space::Meta, &record)
            .unwrap()
            .is_some(),
        "the record stays for a retry"
    );
    drop(engine);

    std::fs::remove_dir_all(&blocked).unwrap();
    let engine = open().await.unwrap();
    assert!(
        engine
            .shared()
            .store
            .get(Space::Meta, &record)
            .unwrap()
            .is_none()
    );
    // No file is left (a directory the failed run emptied may stay:
    // the local store removes directories as it deletes their files).
    assert!(files(&dir).is_empty());
}

/// A deletion record replayed after the table's name was reused (its
/// first run failed, and a table of the same name was created and
/// flushed meanwhile) deletes the old table's listed segments only:
/// the directory now belongs to the new table and is not swept.
#[tokio::test]
async fn a_stale_deletion_record_never_sweeps_a_recreated_table() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, 0).await;
    three_segments(&engine).await;
    let old_files = files(&dir);
    assert_eq!(old_files.len(), 3);
    let entry = engine.shared().catalog.table(&table()).unwrap();
    let manifests = manifests_of(engine.shared().store.as_ref(), &table()).unwrap();
    let stale = Deletion::plan(engine.shared(), &entry, &manifests).unwrap();
    // Keep the old files through the drop, as a failed first run would.
    let keep = dir.path().join("kept");
    std::fs::create_dir(&keep).unwrap();
    for f in &old_files {
        std::fs::copy(dir.path().join("storage/app/t").join(f), keep.join(f)).unwrap();
    }
    exec(&engine, "DROP TABLE app.t").await;
    assert!(files(&dir).is_empty());
    exec(
        &engine,
        "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT); \
         INSERT INTO app.t VALUES (1, 'new')",
    )
    .await;
    engine.flush_now(&table()).await.unwrap();
    let new_files = files(&dir);
    assert_eq!(new_files.len(), 1);
    for f in &old_files {
        std::fs::copy(keep.join(f), dir.path().join("storage/app/t").join(f)).unwrap();
    }
    assert_eq!(files(&dir).len(), 4);

    let (deleted, _) = stale.run(engine.shared(), &table()).await;
    assert_eq!(deleted, 3, "the old table's listed segments");
    assert_eq!(files(&dir), new_files, "the new table's segment stays");
    assert_eq!(content(&engine).await, vec!["1:new".to_string()]);
}

#[tokio::test]
async fn compaction_keeps_newest_versions_and_drops_expired_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, 0).await;
    three_segments(&engine).await;
    // Tombstones past retention were flushed (older versions of their
    // keys are cold), so the deleted rows stay deleted.
    assert_eq!(content(&engine).await, expected());
    assert_eq!(manifest(&engine).segments.len(), 3);
    assert_eq!(files(&dir).len(), 3);

    let outcome = engine.compact_now(&table()).await.unwrap();
    // 10 + (3 updates, 2 tombstones) + (2 inserts, 1 tombstone) in;
    // the 9 live rows out: old versions and tombstones are gone.
    assert_eq!(
        (
            outcome.files_in,
            outcome.files_out,
            outcome.rows_in,
            outcome.rows_out
        ),
        (3, 1, 18, 9),
        "{outcome:?}"
    );
    assert_eq!(content(&engine).await, expected());
    let m = manifest(&engine);
    assert_eq!(m.segments.len(), 1);
    assert_eq!(m.segments[0].rows, 9);
    assert_eq!(
        files(&dir),
        vec![m.segments[0].path.rsplit('/').next().unwrap()]
    );
    // Point reads of live, updated and deleted keys.
    for (sql, n) in [
        ("SELECT count(*) FROM app.t WHERE id = 2 AND v = 'b2'", 1),
        ("SELECT count(*) FROM app.t WHERE id = 4", 0),
        ("SELECT count(*) FROM app.t WHERE id = 12", 1),
    ] {
        let out = exec(&engine, sql).await;
        let StatementOutput::Rows { batches, .. } = &out[0] else {
            panic!()
        };
        assert_eq!(
            batches[0].column(0).as_primitive::<Int64Type>().value(0),
            n,
            "{sql}"
        );
    }
    // A second compaction has nothing to merge.
    let again = engine.compact_now(&table()).await.unwrap();
    assert_eq!((again.files_in, again.orphans), (0, 0));
}

/// `_seq > n` skips the segments holding nothing newer (resume queries
/// read only what they missed), with the same answer as a full read.
#[tokio::test]
async fn seq_predicates_skip_older_segments() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, 0).await;
    three_segments(&engine).await;
    let mut segs = manifest(&engine).segments;
    segs.sort_by_key(|s| s.max_seq);
    let after = segs[1].max_seq;
    let cold_read = || {
        engine
            .shared()
            .cold_rows_read
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    for sql in [
        format!("SELECT id FROM app.t WHERE _seq > {after} ORDER BY id"),
        // The literal on the left, and `>=`.
        format!(
            "SELECT id FROM app.t WHERE {} <= _seq ORDER BY id",
            after + 1
        ),
    ] {
        let before = cold_read();
        let out = exec(&engine, &sql).await;
        let StatementOutput::Rows { batches, .. } = &out[0] else {
            panic!()
        };
        let ids: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        // Round three: 11 and 12 inserted, 6 deleted.
        assert_eq!(ids, vec![11, 12], "{sql}");
        assert_eq!(
            cold_read() - before,
            segs[2].rows,
            "{sql}: read only the newest segment"
        );
    }
    // Without the bound every segment is read.
    let before = cold_read();
    exec(&engine, "SELECT id FROM app.t WHERE v <> ''").await;
    assert!(cold_read() - before > segs[2].rows);
}

#[tokio::test]
async fn a_flush_keeps_an_expired_tombstone_whose_key_is_cold() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, 0).await;
    exec(
        &engine,
        "CREATE NAMESPACE app; \
         CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT) \
         WITH (DELETED_RETENTION_HOURS = 0)",
    )
    .await;
    exec(&engine, "INSERT INTO app.t VALUES (1, 'x'), (2, 'y')").await;
    engine.flush_now(&table()).await.unwrap();
    exec(&engine, "DELETE FROM app.t WHERE id = 1").await;
    // A tombstone of a key never flushed is simply dropped.
    exec(&engine, "INSERT INTO app.t VALUES (3, 'z')").await;
    exec(&engine, "DELETE FROM app.t WHERE id = 3").await;
    let out = engine.flush_now(&table()).await.unwrap();
    assert_eq!(
        out.rows, 1,
        "only the tombstone of the cold key 1 is written"
    );
    assert_eq!(content(&engine).await, vec!["2:y".to_string()]);
}

#[tokio::test]
async fn readers_holding_a_replaced_manifest_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, 0).await;
    three_segments(&engine).await;
    let entry = engine.shared().catalog.table(&table()).unwrap();
    let attempts = AtomicUsize::new(0);
    let (version, rows) = read_current(
        engine.shared().cold(),
        &entry,
        &Partition::Shared,
        |storage, manifest| {
            let first = attempts.fetch_add(1, Ordering::SeqCst) == 0;
            let engine = &engine;
            let entry = &entry;
            Box::pin(async move {
                if first {
                    // The files of this manifest go away before it is read.
                    engine.compact_now(&table()).await.unwrap();
                }
                scan_segments(&storage, entry, manifest.segments.iter(), &HashSet::new()).await
            })
        },
    )
    .await
    .unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(version, manifest(&engine).version);
    assert_eq!(rows.iter().filter(|(_, r)| !r.deleted).count(), 9);
    // A file missing from the *current* manifest is an error, not a loop.
    let path = manifest(&engine).segments[0].path.clone();
    std::fs::remove_file(dir.path().join("storage").join(&path)).unwrap();
    let err = exec_err(&engine, "SELECT * FROM app.t").await;
    assert!(err.contains("not found"), "{err}");
}

async fn exec_err(engine: &Engine, sql: &str) -> String {
    engine
        .execute(ExecuteRequest {
            sql: sql.into(),
            params: vec![],
            namespace: None,
            caller: Caller::new(UserId::root(), Role::System),
        })
        .await
        .err()
        .map(|e| e.error.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn flushes_compact_a_scope_once_it_has_enough_small_files() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, 3).await;
    exec(
        &engine,
        "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
    )
    .await;
    for round in 0..2 {
        exec(&engine, &format!("INSERT INTO app.t VALUES ({round}, 'r')")).await;
        engine.flush_now(&table()).await.unwrap();
    }
    assert_eq!(manifest(&engine).segments.len(), 2);
    exec(&engine, "INSERT INTO app.t VALUES (2, 'r')").await;
    engine.flush_now(&table()).await.unwrap();
    assert_eq!(
        manifest(&engine).segments.len(),
        1,
        "the third flush compacted"
    );
    assert_eq!(files(&dir).len(), 1);
    assert_eq!(content(&engine).await, vec!["0:r", "1:r", "2:r"]);
}

#[tokio::test]
async fn compaction_sweeps_files_no_manifest_lists() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, 0).await;
    three_segments(&engine).await;
    let scope = dir.path().join("storage/app/t");
    // What crashes leave: an unlisted segment, a temporary file.
    std::fs::write(scope.join("seg-00000000000000000042.parquet"), b"x").unwrap();
    std::fs::write(scope.join(".seg-1.parquet.abc.kalamdb-tmp"), b"x").unwrap();
    // Not ours: left alone.
    std::fs::write(scope.join("notes.txt"), b"x").unwrap();
    let outcome = engine.compact_now(&table()).await.unwrap();
    assert_eq!(outcome.orphans, 2, "{outcome:?}");
    let left = files(&dir);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"notes.txt".to_string()));
    assert_eq!(content(&engine).await, expected());
}
