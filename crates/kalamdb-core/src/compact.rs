//! Compaction (`STORAGE COMPACT TABLE`): merging a scope's small segments
//! into fewer, keeping only the newest version of each key and dropping
//! tombstones past `DELETED_RETENTION_HOURS`.
//!
//! Per scope (table partition), under the table's turn (`flush::ColdLocks`),
//! per group of small segments:
//! 1. read the group and keep the newest `_seq` of every key; drop a
//!    tombstone past retention unless a segment outside the group may hold
//!    an older version of its key (dropping it would bring that back);
//! 2. write the result as one new segment, under a name no listed file can
//!    have (`compacted_segment_file_name`), atomically and durably;
//! 3. commit the manifest with the group replaced by the new segment;
//! 4. delete the group's files.
//!
//! Readers that loaded the manifest before step 3 may find a file of the
//! group gone: they reload the manifest and read again (`cold.rs`,
//! `read_current`). A crash before 3 leaves an unlisted file, after 3
//! unlisted inputs; the next compaction of the scope deletes both (step 0,
//! `sweep_orphans`), which is safe because nothing else writes the scope's
//! directory while the table's turn is held. The crash analysis is in
//! docs/storage-format.md.

use std::collections::HashSet;
use std::sync::Arc;

use kalamdb_cold::SegmentMeta;
use kalamdb_store::{Partition, PkValue, Space};
use kalamdb_types::{TableId, TableType};

use crate::catalog::TableEntry;
use crate::cold::{self, manifest_key, pk_key, segment_key_column, segment_schema, storage_of};
use crate::commit::CommitReceipt;
use crate::engine::Shared;
use crate::error::{KalamError, Result};
use crate::flush::{retention_horizon_ms, scope_dir};
use crate::jobs::CancelFlag;
use crate::row::rows_to_batch;

#[derive(Debug, Clone)]
pub struct CompactionConfig {
    /// A segment smaller than this is "small"; a group of merged segments
    /// stays under it.
    pub target_bytes: u64,
    /// A flush compacts its scope once it has this many small segments
    /// (0: only `STORAGE COMPACT` compacts).
    pub auto_min_files: usize,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        Self {
            target_bytes: 64 * 1024 * 1024,
            auto_min_files: 16,
        }
    }
}

/// What one compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactOutcome {
    pub files_in: u64,
    pub files_out: u64,
    pub rows_in: u64,
    pub rows_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Files no manifest listed (left by a crash), deleted.
    pub orphans: u64,
}

impl CompactOutcome {
    fn add(&mut self, o: CompactOutcome) {
        self.files_in += o.files_in;
        self.files_out += o.files_out;
        self.rows_in += o.rows_in;
        self.rows_out += o.rows_out;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
        self.orphans += o.orphans;
    }

    pub fn message(&self) -> String {
        let mut m = format!(
            "Compacted {} file(s) into {}: {} rows read, {} kept, {} bytes into {}",
            self.files_in,
            self.files_out,
            self.rows_in,
            self.rows_out,
            self.bytes_in,
            self.bytes_out
        );
        if self.orphans > 0 {
            m.push_str(&format!("; {} orphaned file(s) removed", self.orphans));
        }
        m
    }
}

/// Compacts every scope of `table`.
pub async fn compact_table(
    shared: &Arc<Shared>,
    table: &TableId,
    cancel: &CancelFlag,
) -> Result<CompactOutcome> {
    let entry = shared
        .catalog
        .table(table)
        .ok_or_else(|| KalamError::TableNotFound(table.to_string()))?;
    if entry.def.table_type == TableType::Stream {
        return Err(KalamError::exec(
            "STORAGE COMPACT TABLE is not supported for STREAM tables",
        ));
    }
    let _turn = shared.cold_locks.lock(table).await;
    crate::failpoint::pause(crate::failpoint::COMPACT_PAUSE, cancel).await;
    let manifests = {
        let (s, t) = (shared.clone(), table.clone());
        tokio::task::spawn_blocking(move || cold::manifests_of(s.store.as_ref(), &t))
            .await
            .map_err(KalamError::internal)??
    };
    let mut total = CompactOutcome::default();
    for (partition, _) in manifests {
        cancel.check()?;
        total.add(compact_partition(shared, &entry, &partition, cancel).await?);
    }
    Ok(total)
}

/// After a flush of `partition` (under the table's turn): compacts it if
/// it has gathered `auto_min_files` small segments.
pub(crate) async fn compact_if_due(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    cancel: &CancelFlag,
) -> Result<()> {
    let config = &shared.config.compaction;
    if config.auto_min_files == 0 {
        return Ok(());
    }
    let manifest = cold::load_manifest(shared.store.as_ref(), &entry.id(), partition)?;
    let small = manifest
        .segments
        .iter()
        .filter(|s| s.bytes < config.target_bytes)
        .count();
    if small >= config.auto_min_files {
        compact_partition(shared, entry, partition, cancel).await?;
    }
    Ok(())
}

/// Groups of small segments to merge, oldest first: small segments in
/// `max_seq` order, cut so a group's inputs stay under `target_bytes`;
/// a group of one is left alone.
pub fn plan_groups(segments: &[SegmentMeta], target_bytes: u64) -> Vec<Vec<SegmentMeta>> {
    let mut small: Vec<&SegmentMeta> = segments.iter().filter(|s| s.bytes < target_bytes).collect();
    small.sort_by(|a, b| a.max_seq.cmp(&b.max_seq).then(a.min_seq.cmp(&b.min_seq)));
    let mut groups = Vec::new();
    let mut current: Vec<SegmentMeta> = Vec::new();
    let mut bytes = 0u64;
    for seg in small {
        if !current.is_empty() && bytes + seg.bytes > target_bytes {
            groups.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += seg.bytes;
        current.push(seg.clone());
    }
    groups.push(current);
    groups.retain(|g| g.len() >= 2);
    groups
}

async fn compact_partition(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    cancel: &CancelFlag,
) -> Result<CompactOutcome> {
    let table = entry.id();
    let storage_id = storage_of(&entry.def);
    let storage = shared.storages.open(&storage_id)?;
    let def = shared
        .storages
        .get(&storage_id)
        .ok_or_else(|| KalamError::exec(format!("Storage '{storage_id}' not found")))?;
    let mut outcome = CompactOutcome::default();
    let manifest = cold::load_manifest(shared.store.as_ref(), &table, partition)?;
    outcome.orphans = sweep_orphans(entry, partition, &storage, &def, &manifest).await;
    for group in plan_groups(&manifest.segments, shared.config.compaction.target_bytes) {
        cancel.check()?;
        outcome.add(merge_group(shared, entry, partition, &storage, &def, group).await?);
    }
    Ok(outcome)
}

async fn merge_group(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    storage: &kalamdb_cold::ColdStore,
    def: &kalamdb_cold::StorageDef,
    group: Vec<SegmentMeta>,
) -> Result<CompactOutcome> {
    let table = entry.id();
    // The manifest as of now (the table's turn is held: it cannot change
    // until this group's commit).
    let manifest = cold::load_manifest(shared.store.as_ref(), &table, partition)?;
    let in_group: HashSet<&str> = group.iter().map(|s| s.path.as_str()).collect();
    let others: Vec<&SegmentMeta> = manifest
        .segments
        .iter()
        .filter(|s| !in_group.contains(s.path.as_str()))
        .collect();
    let rows = cold::scan_segments(
        storage,
        entry,
        group.iter(),
        &std::collections::HashSet::new(),
    )
    .await?;
    let rows_in: u64 = group.iter().map(|s| s.rows).sum();
    let horizon_ms = retention_horizon_ms(shared, entry);
    let key_column = segment_key_column(entry);
    let mut kept: Vec<(PkValue, crate::row::StoredRow)> = rows
        .into_iter()
        .filter(|(pk, row)| {
            let expired = row.deleted && kalamdb_types::SeqId(row.seq).unix_millis() <= horizon_ms;
            !expired
                || others
                    .iter()
                    .any(|s| s.min_seq < row.seq && s.may_contain(&key_column, &pk_key(pk)))
        })
        .collect();
    // Key order, as a flush writes: tight min/max per row group.
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = CompactOutcome {
        files_in: group.len() as u64,
        rows_in,
        rows_out: kept.len() as u64,
        bytes_in: group.iter().map(|s| s.bytes).sum(),
        ..CompactOutcome::default()
    };
    let mut segment = None;
    if !kept.is_empty() {
        let schema = segment_schema(entry);
        let with_row_id = entry.def.primary_key().is_none();
        let row_ids: Vec<i64> = kept
            .iter()
            .map(|(pk, _)| match pk {
                PkValue::RowId(id) => *id,
                _ => 0,
            })
            .collect();
        let rows: Vec<crate::row::StoredRow> = kept.into_iter().map(|(_, r)| r).collect();
        let batch = rows_to_batch(
            &entry.def,
            &schema,
            &rows,
            with_row_id.then_some(row_ids.as_slice()),
        )?;
        let (bytes, stats) = kalamdb_cold::encode_segment(&schema, &[batch], Some(&key_column))?;
        let name = kalamdb_cold::compacted_segment_file_name(stats.max_seq, rand::random());
        let path = format!("{}/{name}", scope_dir(def, &table, partition));
        let size = bytes.len() as u64;
        storage.put_durable(&path, bytes).await?;
        crate::failpoint::crash(crate::failpoint::COMPACT_AFTER_WRITE);
        out.files_out = 1;
        out.bytes_out = size;
        segment = Some(stats.into_meta(path, size, kalamdb_types::now_micros()));
    }
    let removed: Vec<String> = group.iter().map(|s| s.path.clone()).collect();
    let (s, t, p) = (shared.clone(), table.clone(), partition.clone());
    let (seg, gone) = (segment.clone(), removed.clone());
    let compacted_entry = entry.clone();
    let committed = shared
        .committer
        .commit(
            false,
            kalamdb_types::now_micros(),
            Box::new(move |ctx| {
                s.catalog.ensure_current(&compacted_entry)?;
                let mkey = manifest_key(&t, &p);
                let manifest = cold::decode_manifest(ctx.get(Space::Meta, &mkey)?)?;
                if gone
                    .iter()
                    .any(|g| !manifest.segments.iter().any(|s| &s.path == g))
                {
                    return Err(KalamError::internal(format!(
                        "the manifest of {t} changed during its compaction"
                    )));
                }
                let next = manifest.replace(&gone, seg.into_iter().collect(), ctx.now_micros);
                ctx.put(Space::Meta, mkey, next.encode());
                Ok(CommitReceipt::default())
            }),
        )
        .await;
    if let Err(e) = committed {
        // The manifest may list the output after a failed write (see flush).
        if !shared.committer.storage_failed() {
            crate::flush::discard(storage, segment.as_ref()).await;
        }
        return Err(e);
    }
    crate::failpoint::crash(crate::failpoint::COMPACT_AFTER_COMMIT);
    for path in removed {
        if let Err(e) = storage.delete(&path).await {
            // Unlisted now: the next compaction's sweep retries.
            tracing::warn!(%table, %path, error = %e, "could not delete a compacted segment");
        }
    }
    Ok(out)
}

/// Deletes the files in the scope's directory that its manifest does not
/// list: outputs of a flush or compaction that crashed before its commit,
/// inputs of one that crashed after it, temporary files of an interrupted
/// write. Only direct children with segment (or temporary) names, and only
/// when the template gives the scope a directory of its own. Best effort:
/// returns how many files it deleted.
async fn sweep_orphans(
    entry: &TableEntry,
    partition: &Partition,
    storage: &kalamdb_cold::ColdStore,
    def: &kalamdb_cold::StorageDef,
    manifest: &kalamdb_cold::Manifest,
) -> u64 {
    let template = match partition {
        Partition::Shared => &def.shared_tables_template,
        Partition::User(_) => &def.user_tables_template,
    };
    let own = template.contains("{namespace}")
        && template.contains("{tableName}")
        && (matches!(partition, Partition::Shared) || template.contains("{userId}"));
    if !own {
        return 0;
    }
    let dir = scope_dir(def, &entry.id(), partition);
    let listed: HashSet<&str> = manifest.segments.iter().map(|s| s.path.as_str()).collect();
    let files = match storage.list_all(&format!("{dir}/")).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(table = %entry.id(), %dir, error = %e, "could not list a scope for orphans");
            return 0;
        }
    };
    let mut deleted = 0;
    for (path, _) in files {
        let Some(name) = path
            .strip_prefix(dir.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let ours = kalamdb_cold::is_segment_file_name(name)
            || (name.starts_with(".seg-") && !name.contains('/'));
        if !ours || listed.contains(path.as_str()) {
            continue;
        }
        match storage.delete(&path).await {
            Ok(()) => deleted += 1,
            Err(e) => tracing::warn!(%path, error = %e, "could not delete an orphaned segment"),
        }
    }
    deleted
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;
    use kalamdb_store::{MemoryStore, MetaKey};
    use kalamdb_types::{NamespaceId, Role, TableName, UserId};

    use super::*;
    use crate::engine::{Caller, Engine, EngineConfig, ExecuteRequest, StatementOutput};

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
        cold::load_manifest(engine.shared.store.as_ref(), &table(), &Partition::Shared).unwrap()
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
                .shared
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
                .shared
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
        let entry = engine.shared.catalog.table(&table()).unwrap();
        let manifests = cold::manifests_of(engine.shared.store.as_ref(), &table()).unwrap();
        let stale = crate::flush::Deletion::plan(&engine.shared, &entry, &manifests).unwrap();
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

        let (deleted, _) = stale.run(&engine.shared, &table()).await;
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
                .shared
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
        let entry = engine.shared.catalog.table(&table()).unwrap();
        let attempts = AtomicUsize::new(0);
        let (version, rows) = cold::read_current(
            &engine.shared,
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
                    cold::scan_segments(&storage, entry, manifest.segments.iter(), &HashSet::new())
                        .await
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

    fn seg(name: &str, min: i64, max: i64, bytes: u64) -> SegmentMeta {
        SegmentMeta {
            path: name.into(),
            rows: 1,
            bytes,
            min_seq: min,
            max_seq: max,
            created_at: 0,
            columns: Default::default(),
            checksums: None,
        }
    }

    fn names(groups: &[Vec<SegmentMeta>]) -> Vec<Vec<&str>> {
        groups
            .iter()
            .map(|g| g.iter().map(|s| s.path.as_str()).collect())
            .collect()
    }

    #[test]
    fn groups_take_small_segments_oldest_first_under_the_target() {
        let segs = vec![
            seg("c", 5, 6, 40),
            seg("big", 3, 4, 1000),
            seg("a", 1, 2, 40),
            seg("d", 7, 8, 40),
            seg("e", 9, 10, 40),
        ];
        // 100 bytes: two 40-byte files fit, a third does not.
        assert_eq!(
            names(&plan_groups(&segs, 100)),
            vec![vec!["a", "c"], vec!["d", "e"]]
        );
        // A lone small file is not rewritten.
        assert!(plan_groups(&segs[..2], 100).is_empty());
        assert!(plan_groups(&[], 100).is_empty());
        assert_eq!(
            names(&plan_groups(&segs, 1 << 20)),
            vec![vec!["a", "big", "c", "d", "e"]]
        );
    }
}
