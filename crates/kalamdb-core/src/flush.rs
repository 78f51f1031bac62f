//! Flush: moving a table's hot rows into Parquet segments (`sql.md` §4.1).
//!
//! Per partition (the shared one, or each user's), in this order:
//! 1. read the partition's hot rows (the newest version of every unflushed
//!    key; tombstones past `DELETED_RETENTION_HOURS` are dropped instead);
//! 2. encode them as one segment and write it to the table's storage under
//!    the path template — atomically and durably (`ColdStore::put_durable`);
//! 3. commit, in one fsync'd batch: the manifest with the new segment, and
//!    the deletion of every flushed hot key *whose version is still the one
//!    written* (a key updated meanwhile keeps its newer hot version).
//!
//! A crash before 3 leaves an unreferenced file and every row still hot; a
//! crash after 3 leaves both tiers consistent. Readers never miss a row: a
//! scan reads the hot partition completely before it reads the manifest, so
//! a row moved between the two is found in the segment (see `provider.rs`).
//! The crash analysis is in docs/storage-format.md.

use std::sync::Arc;

use kalamdb_store::{Direction, KeyRange, Partition, RowKey, RowPrefix, Space};
use kalamdb_types::TableId;

use crate::catalog::TableEntry;
use crate::cold::{self, manifest_key, segment_key_column, segment_schema, storage_of};
use crate::commit::CommitReceipt;
use crate::engine::Shared;
use crate::error::{KalamError, Result};
use crate::jobs::CancelFlag;
use crate::row::{StoredRow, rows_to_batch};

/// What one flush moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushOutcome {
    pub rows: u64,
    pub bytes: u64,
    pub files: u64,
}

impl FlushOutcome {
    fn add(&mut self, o: FlushOutcome) {
        self.rows += o.rows;
        self.bytes += o.bytes;
        self.files += o.files;
    }

    pub fn message(&self) -> String {
        format!(
            "Flushed {} rows, {} bytes, {} file(s)",
            self.rows, self.bytes, self.files
        )
    }
}

/// Rows read per blocking store call while collecting a partition.
const CHUNK: usize = 4096;

/// Flushes and compactions of one table take turns: each reads a manifest,
/// writes files, then commits a successor computed from what it read, and
/// the flush's tombstone rule (below) relies on no segment appearing
/// meanwhile. Striped, so the set does not grow with the number of tables;
/// two tables sharing a stripe only wait for each other's background work.
pub struct ColdLocks([tokio::sync::Mutex<()>; 64]);

impl Default for ColdLocks {
    fn default() -> Self {
        Self(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }
}

impl ColdLocks {
    pub async fn lock(&self, table: &TableId) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        table.hash(&mut h);
        let stripe = (h.finish() % self.0.len() as u64) as usize;
        // The index is reduced modulo the length: always in range.
        let [first, ..] = &self.0;
        let lock = self.0.get(stripe).unwrap_or(first);
        lock.lock().await
    }
}

/// Does the table have any hot row (in any partition)?
pub fn has_hot_rows(shared: &Shared, table: &TableId) -> Result<bool> {
    Ok(!shared
        .store
        .scan(
            Space::Rows,
            &RowPrefix::Table(table.clone()).range(),
            Direction::Forward,
            1,
        )?
        .is_empty())
}

/// The partitions of a table that hold hot rows: one seek per partition, so
/// idle users cost nothing.
fn hot_partitions(shared: &Shared, entry: &TableEntry) -> Result<Vec<Partition>> {
    let table = entry.id();
    if !entry.def.table_type.is_per_user() {
        return Ok(if has_hot_rows(shared, &table)? {
            vec![Partition::Shared]
        } else {
            vec![]
        });
    }
    let mut out = Vec::new();
    let mut range = RowPrefix::Table(table.clone()).range();
    loop {
        let first = shared
            .store
            .scan(Space::Rows, &range, Direction::Forward, 1)?;
        let Some((key, _)) = first.first() else {
            return Ok(out);
        };
        let partition = RowKey::decode(key)?.partition;
        let done = RowPrefix::Partition(table.clone(), partition.clone()).range();
        out.push(partition);
        match done.end {
            std::ops::Bound::Excluded(end) => {
                range = KeyRange::new(std::ops::Bound::Included(end), range.end.clone());
            }
            _ => return Ok(out),
        }
    }
}

fn read_partition(
    shared: &Shared,
    table: &TableId,
    partition: &Partition,
) -> Result<Vec<(Vec<u8>, StoredRow)>> {
    let mut range = RowPrefix::Partition(table.clone(), partition.clone()).range();
    let mut out = Vec::new();
    loop {
        let chunk = shared
            .store
            .scan(Space::Rows, &range, Direction::Forward, CHUNK)?;
        let full = chunk.len() == CHUNK;
        let last = chunk.last().map(|(k, _)| k.clone());
        for (k, v) in chunk {
            out.push((k, StoredRow::decode(&v)?));
        }
        match last {
            Some(last) if full => {
                range = KeyRange::new(std::ops::Bound::Excluded(last), range.end.clone());
            }
            _ => return Ok(out),
        }
    }
}

/// Flushes every partition of `table` that has hot rows.
pub async fn flush_table(
    shared: &Arc<Shared>,
    table: &TableId,
    cancel: &CancelFlag,
) -> Result<FlushOutcome> {
    let entry = shared
        .catalog
        .table(table)
        .ok_or_else(|| KalamError::TableNotFound(table.to_string()))?;
    if entry.def.table_type == kalamdb_types::TableType::Stream {
        return Err(KalamError::exec(
            "STORAGE FLUSH TABLE is not supported for STREAM tables",
        ));
    }
    let _turn = shared.cold_locks.lock(table).await;
    crate::failpoint::pause(crate::failpoint::FLUSH_PAUSE, cancel).await;
    let partitions = {
        let (s, e) = (shared.clone(), entry.clone());
        tokio::task::spawn_blocking(move || hot_partitions(&s, &e))
            .await
            .map_err(KalamError::internal)??
    };
    let mut total = FlushOutcome::default();
    for partition in partitions {
        cancel.check()?;
        total.add(flush_partition(shared, &entry, partition.clone(), cancel).await?);
        // Small segments pile up under frequent flushes: merge them while
        // this job holds the table's turn anyway.
        crate::compact::compact_if_due(shared, &entry, &partition, cancel).await?;
    }
    Ok(total)
}

async fn flush_partition(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    cancel: &CancelFlag,
) -> Result<FlushOutcome> {
    let table = entry.id();
    let hot = {
        let (s, t, p) = (shared.clone(), table.clone(), partition.clone());
        tokio::task::spawn_blocking(move || read_partition(&s, &t, &p))
            .await
            .map_err(KalamError::internal)??
    };
    if hot.is_empty() {
        return Ok(FlushOutcome::default());
    }
    let horizon_ms = retention_horizon_ms(shared, entry);
    // Under the table's turn: no segment appears until this commit.
    let manifest = cold::load_manifest(shared.store.as_ref(), &table, &partition)?;
    let key_column = segment_key_column(entry);
    // Keys leaving the hot tier, with the version flushed (or dropped).
    let mut moved: Vec<(Vec<u8>, i64)> = Vec::with_capacity(hot.len());
    let mut rows = Vec::with_capacity(hot.len());
    let mut row_ids = Vec::with_capacity(hot.len());
    for (key, row) in hot {
        moved.push((key.clone(), row.seq));
        let pk = RowKey::decode(&key)?.pk;
        // A tombstone past retention is dropped, unless a segment may hold
        // an older version of the key: dropping it would bring that back.
        if row.deleted
            && kalamdb_types::SeqId(row.seq).unix_millis() <= horizon_ms
            && !manifest
                .segments
                .iter()
                .any(|s| s.may_contain(&key_column, &cold::pk_key(&pk)))
        {
            continue;
        }
        row_ids.push(match pk {
            kalamdb_store::PkValue::RowId(id) => id,
            _ => 0,
        });
        rows.push(row);
    }
    let storage_id = storage_of(&entry.def);
    let storage = shared.storages.open(&storage_id)?;
    let def = shared
        .storages
        .get(&storage_id)
        .ok_or_else(|| KalamError::exec(format!("Storage '{storage_id}' not found")))?;
    let mut outcome = FlushOutcome::default();
    let mut segment = None;
    if !rows.is_empty() {
        let schema = segment_schema(entry);
        let with_row_id = entry.def.primary_key().is_none();
        let batch = rows_to_batch(
            &entry.def,
            &schema,
            &rows,
            with_row_id.then_some(row_ids.as_slice()),
        )?;
        let (bytes, stats) = kalamdb_cold::encode_segment(&schema, &[batch], Some(&key_column))?;
        let dir = scope_dir(&def, &table, &partition);
        let path = format!("{dir}/{}", kalamdb_cold::segment_file_name(stats.max_seq));
        let size = bytes.len() as u64;
        storage.put_durable(&path, bytes).await?;
        crate::failpoint::crash(crate::failpoint::FLUSH_AFTER_WRITE);
        outcome = FlushOutcome {
            rows: rows.len() as u64,
            bytes: size,
            files: 1,
        };
        segment = Some(stats.into_meta(path, size, kalamdb_types::now_micros()));
    }
    if let Err(e) = cancel.check() {
        discard(&storage, segment.as_ref()).await;
        return Err(e);
    }
    let s = shared.clone();
    let t = table.clone();
    let p = partition.clone();
    let seg = segment.clone();
    let flushed_entry = entry.clone();
    let committed = shared
        .committer
        .commit(
            false,
            kalamdb_types::now_micros(),
            Box::new(move |ctx| {
                s.catalog.ensure_current(&flushed_entry)?;
                let mkey = manifest_key(&t, &p);
                let manifest = cold::decode_manifest(ctx.get(Space::Meta, &mkey)?)?;
                let mut removed = 0u64;
                for (key, seq) in moved {
                    if let Some(v) = ctx.get(Space::Rows, &key)?
                        && StoredRow::decode(&v)?.seq == seq
                    {
                        ctx.delete(Space::Rows, key);
                        removed += 1;
                    }
                }
                if let Some(seg) = seg {
                    let now = ctx.now_micros;
                    ctx.put(Space::Meta, mkey, manifest.with_segment(seg, now).encode());
                }
                Ok(CommitReceipt {
                    affected: removed,
                    post_commit: None,
                })
            }),
        )
        .await;
    if let Err(e) = committed {
        // After a failed write the batch may be on disk all the same (a
        // failed fsync): the manifest may list the file, so it stays. An
        // orphan is harmless; the next compaction sweeps it.
        if !shared.committer.storage_failed() {
            discard(&storage, segment.as_ref()).await;
        }
        return Err(e);
    }
    crate::failpoint::crash(crate::failpoint::FLUSH_AFTER_COMMIT);
    Ok(outcome)
}

/// Rows whose `_seq` is this old or older (ms since the epoch) are past the
/// table's `DELETED_RETENTION_HOURS`: their tombstones may be dropped (with
/// retention 0, at once).
pub fn retention_horizon_ms(shared: &Shared, entry: &TableEntry) -> i64 {
    let retention_hours = entry
        .def
        .options
        .deleted_retention_hours
        .unwrap_or(shared.config.default_deleted_retention_hours);
    kalamdb_types::now_micros() / 1000
        - i64::try_from(retention_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX)
}

/// Best-effort removal of a segment that never made it into a manifest.
pub(crate) async fn discard(
    storage: &kalamdb_cold::ColdStore,
    segment: Option<&kalamdb_cold::SegmentMeta>,
) {
    if let Some(seg) = segment
        && let Err(e) = storage.delete(&seg.path).await
    {
        tracing::warn!(path = %seg.path, error = %e, "could not remove an uncommitted segment");
    }
}

/// What deleting a dropped table's files means: the segments its manifests
/// listed and the scope directories to sweep (for files a crashed flush
/// left). Planned before the DROP commits and stored in the same commit as
/// [`MetaKey::DroppedFiles`](kalamdb_store::MetaKey::DroppedFiles), so a
/// crash between the commit and the deletion cannot orphan the files: the
/// next start finishes the work ([`resume_deletions`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Deletion {
    storage: kalamdb_types::StorageId,
    /// (path, bytes) of every listed segment.
    files: Vec<(String, u64)>,
    dirs: Vec<String>,
}

impl Deletion {
    /// Plans the deletion of every segment of a table about to be dropped.
    pub fn plan(
        shared: &Arc<Shared>,
        entry: &TableEntry,
        manifests: &[(Partition, kalamdb_cold::Manifest)],
    ) -> Option<Deletion> {
        let storage = storage_of(&entry.def);
        let def = shared.storages.get(&storage)?;
        let table = entry.id();
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for (partition, manifest) in manifests {
            for seg in &manifest.segments {
                files.push((seg.path.clone(), seg.bytes));
            }
            dirs.push(scope_dir(&def, &table, partition));
        }
        if !entry.def.table_type.is_per_user() {
            dirs.push(scope_dir(&def, &table, &Partition::Shared));
        }
        dirs.sort();
        dirs.dedup();
        // Sweeping a directory is only safe when it belongs to this table
        // alone, i.e. its template names the table (templates are
        // user-defined).
        let own = |t: &str| t.contains("{namespace}") && t.contains("{tableName}");
        let template = if entry.def.table_type.is_per_user() {
            &def.user_tables_template
        } else {
            &def.shared_tables_template
        };
        if !own(template) {
            dirs.clear();
        }
        Some(Deletion {
            storage,
            files,
            dirs,
        })
    }

    pub fn encode(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(KalamError::internal)
    }

    /// Deletes the files, then the durable record of the plan. Returns the
    /// (files, bytes) actually deleted.
    ///
    /// Runs after the drop has committed, so it cannot fail the statement: a
    /// file it cannot delete is logged and left as an unreferenced orphan
    /// (no manifest lists it any more, so no reader ever sees it), and the
    /// record stays for the next start to retry.
    pub async fn run(&self, shared: &Arc<Shared>, table: &TableId) -> (u64, u64) {
        let Ok(storage) = shared.storages.open(&self.storage) else {
            return (0, 0);
        };
        let (mut files, mut bytes) = (0u64, 0u64);
        let mut failed = false;
        for (path, size) in &self.files {
            match storage.delete(path).await {
                Ok(()) => {
                    files += 1;
                    bytes += size;
                }
                Err(e) => {
                    failed = true;
                    tracing::warn!(%table, %path, error = %e, "could not delete a dropped table's segment")
                }
            }
        }
        // A table of the same name created since (after an earlier run of
        // this record failed) owns those directories now: its listed old
        // files go (segment names carry a `_seq`, unique across tables),
        // but nothing is swept.
        let recreated = shared.catalog.table(table).is_some();
        for dir in self.dirs.iter().filter(|_| !recreated) {
            match storage.delete_prefix(&format!("{dir}/")).await {
                Ok((f, b)) => {
                    files += f;
                    bytes += b;
                }
                Err(e) => {
                    failed = true;
                    tracing::warn!(%table, %dir, error = %e, "could not sweep a dropped table's directory")
                }
            }
        }
        if !failed {
            let key = kalamdb_store::MetaKey::DroppedFiles(table.clone()).encode();
            let done = shared
                .committer
                .commit(
                    false,
                    kalamdb_types::now_micros(),
                    Box::new(move |ctx| {
                        ctx.delete(Space::Meta, key);
                        Ok(CommitReceipt::default())
                    }),
                )
                .await;
            if let Err(e) = done {
                tracing::warn!(%table, error = %e, "could not clear a finished deletion");
            }
        }
        (files, bytes)
    }
}

/// Finishes the deletions of tables dropped just before a crash (or whose
/// files could not all be deleted then).
pub async fn resume_deletions(shared: &Arc<Shared>) -> Result<()> {
    let range = kalamdb_store::MetaPrefix::DroppedFiles.range();
    let pending = {
        let s = shared.clone();
        tokio::task::spawn_blocking(move || {
            s.store
                .scan(Space::Meta, &range, Direction::Forward, usize::MAX)
        })
        .await
        .map_err(KalamError::internal)??
    };
    for (key, value) in pending {
        let Ok(kalamdb_store::MetaKey::DroppedFiles(table)) = kalamdb_store::MetaKey::decode(&key)
        else {
            continue;
        };
        match serde_json::from_slice::<Deletion>(&value) {
            Ok(deletion) => {
                let (files, _) = deletion.run(shared, &table).await;
                tracing::info!(%table, files, "finished deleting a dropped table's files");
            }
            Err(e) => tracing::warn!(%table, error = %e, "unreadable deletion record"),
        }
    }
    Ok(())
}

/// The directory (relative to the storage root) of one partition's segments.
pub fn scope_dir(def: &kalamdb_cold::StorageDef, table: &TableId, partition: &Partition) -> String {
    let (template, user) = match partition {
        Partition::Shared => (&def.shared_tables_template, None),
        Partition::User(u) => (&def.user_tables_template, Some(u)),
    };
    kalamdb_cold::render_template(template, &table.namespace, &table.table, user)
}

/// Is `table` due for a flush under `policy`: at least `rows` hot rows, or
/// a hot row older than `interval_secs`? Scans at most `rows` hot rows: if
/// there are fewer, it has seen them all and so knows the oldest.
pub fn is_due(
    shared: &Shared,
    table: &TableId,
    policy: kalamdb_types::FlushPolicy,
) -> Result<bool> {
    let limit = policy.rows.unwrap_or(u64::MAX);
    let mut range = RowPrefix::Table(table.clone()).range();
    let mut count = 0u64;
    let mut oldest = i64::MAX;
    loop {
        let chunk = shared
            .store
            .scan(Space::Rows, &range, Direction::Forward, CHUNK)?;
        let full = chunk.len() == CHUNK;
        for (_, v) in &chunk {
            count += 1;
            oldest = oldest.min(StoredRow::decode(v)?.seq);
            if count >= limit {
                return Ok(true);
            }
        }
        match chunk.last() {
            Some((last, _)) if full => {
                range = KeyRange::new(std::ops::Bound::Excluded(last.clone()), range.end.clone());
            }
            _ => break,
        }
    }
    if count == 0 {
        return Ok(false);
    }
    Ok(match policy.interval_secs {
        Some(secs) => {
            let age_ms =
                kalamdb_types::now_micros() / 1000 - kalamdb_types::SeqId(oldest).unix_millis();
            age_ms >= i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
        }
        None => false,
    })
}
