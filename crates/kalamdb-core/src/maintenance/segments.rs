//! What flush and compaction share ([`ColdWork`]): the turn a table's background work
//! takes ([`ColdLocks`]), where a partition's segments live ([`scope_dir`]),
//! writing stored rows as one durable segment ([`write_segment`]), and
//! removing a segment that never made it into a manifest ([`discard`]).

use std::sync::Arc;

use kalamdb_cold::{ColdStore, SegmentMeta, StorageDef};
use kalamdb_store::Partition;
use kalamdb_types::{TableId, TableType};

use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::maintenance::failpoint;
use crate::maintenance::jobs::CancelFlag;
use crate::row::arrow::rows_to_batch;
use crate::row::value::StoredRow;
use crate::write::shared::Shared;

/// Adds counters field by field (the outcomes of flushes and compactions,
/// summed over partitions).
macro_rules! add_fields {
    ($into:expr, $from:expr, $($field:ident),+) => {
        $( $into.$field += $from.$field; )+
    };
}
pub(crate) use add_fields;

/// Sizes of segments (`[storage]` settings).
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

/// What flushes and compactions work with: table data, the turns tables
/// take, and the segment sizes.
pub struct ColdWork {
    pub shared: Arc<Shared>,
    pub locks: ColdLocks,
    pub compaction: CompactionConfig,
}

impl ColdWork {
    /// The current entry of `table` and its turn, for the flush or
    /// compaction `what` (a statement name: STREAM tables have no cold
    /// tier). Holds at the failpoint `pause` when the crash tests arm it.
    pub async fn take_turn(
        &self,
        table: &TableId,
        what: &str,
        pause: &str,
        cancel: &CancelFlag,
    ) -> Result<(Arc<TableEntry>, tokio::sync::MutexGuard<'_, ()>)> {
        let current = || {
            self.shared
                .catalog
                .table(table)
                .ok_or_else(|| KalamError::TableNotFound(table.to_string()))
        };
        refuse_stream(current()?.as_ref(), what)?;
        let turn = self.locks.lock(table).await;
        failpoint::pause(pause, cancel).await;
        // Cancelled while waiting for the turn (a DROP TABLE meanwhile): stop
        // as cancelled, not run on and "complete" over rows the drop took.
        cancel.check()?;
        // The entry as of the turn: an ALTER TABLE takes the turn too, so
        // the schema version cannot change while this work runs, and rows
        // written under it are never read through an older one.
        Ok((current()?, turn))
    }
}

/// STREAM tables live in the hot tier only: `what` (a statement name)
/// does not apply to them.
pub fn refuse_stream(entry: &TableEntry, what: &str) -> Result<()> {
    if entry.def.table_type == TableType::Stream {
        return Err(KalamError::exec(format!(
            "{what} is not supported for STREAM tables"
        )));
    }
    Ok(())
}

/// Flushes and compactions of one table take turns: each reads a manifest,
/// writes files, then commits a successor computed from what it read, and
/// the flush's tombstone rule relies on no segment appearing meanwhile.
/// Striped, so the set does not grow with the number of tables; two tables
/// sharing a stripe only wait for each other's background work.
pub struct ColdLocks([tokio::sync::Mutex<()>; 64]);

impl Default for ColdLocks {
    fn default() -> Self {
        Self(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }
}

impl ColdLocks {
    fn stripe(&self, table: &TableId) -> usize {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        table.hash(&mut h);
        (h.finish() % self.0.len() as u64) as usize
    }

    pub async fn lock(&self, table: &TableId) -> tokio::sync::MutexGuard<'_, ()> {
        // The index is reduced modulo the length: always in range.
        let [first, ..] = &self.0;
        let lock = self.0.get(self.stripe(table)).unwrap_or(first);
        lock.lock().await
    }

    /// The turns of several tables at once: each stripe once (two tables
    /// may share one), in stripe order (two holders never wait on each
    /// other crosswise).
    pub async fn lock_all(&self, tables: &[TableId]) -> Vec<tokio::sync::MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = tables.iter().map(|t| self.stripe(t)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for i in stripes {
            if let Some(lock) = self.0.get(i) {
                guards.push(lock.lock().await);
            }
        }
        guards
    }
}

/// The directory (relative to the storage root) of one partition's segments.
pub fn scope_dir(def: &StorageDef, table: &TableId, partition: &Partition) -> String {
    let (template, user) = match partition {
        Partition::Shared => (&def.shared_tables_template, None),
        Partition::User(u) => (&def.user_tables_template, Some(u)),
    };
    kalamdb_cold::render_template(template, &table.namespace, &table.table, user)
}

/// Encodes `rows` (their row ids alongside, for tables keyed by row id) as
/// one segment and writes it under the partition's directory, atomically
/// and durably, named by `file_name(max_seq)`. Returns what a manifest
/// lists of it.
pub async fn write_segment(
    storage: &ColdStore,
    def: &StorageDef,
    entry: &TableEntry,
    partition: &Partition,
    rows: &[StoredRow],
    row_ids: &[i64],
    file_name: impl FnOnce(i64) -> String,
) -> Result<SegmentMeta> {
    let schema = entry.segment_schema();
    let with_row_id = entry.def.primary_key().is_none();
    let batch = rows_to_batch(&entry.lens, &schema, rows, with_row_id.then_some(row_ids))?;
    let (bytes, stats) = kalamdb_cold::encode_segment(&schema, &[batch], Some(entry.key_column()))?;
    let path = format!(
        "{}/{}",
        scope_dir(def, &entry.id(), partition),
        file_name(stats.max_seq)
    );
    let size = bytes.len() as u64;
    storage.put_durable(&path, bytes).await?;
    let mut meta = stats.into_meta(path, size, kalamdb_types::now_micros());
    // Rows of every version were read through the current one, so the
    // file holds the current version's columns.
    meta.schema_version = Some(entry.def.version);
    Ok(meta)
}

/// Best-effort removal of a segment that never made it into a manifest.
pub async fn discard(storage: &ColdStore, segment: Option<&SegmentMeta>) {
    if let Some(seg) = segment
        && let Err(e) = storage.delete(&seg.path).await
    {
        tracing::warn!(path = %seg.path, error = %e, "could not remove an uncommitted segment");
    }
}

/// After the commit that should have listed `segment` failed: removes it,
/// unless the write failed in the store — then the batch may be on disk all
/// the same (a failed fsync) and the manifest may list the file, so it
/// stays. An orphan is harmless; the next compaction sweeps it.
pub async fn discard_uncommitted(
    shared: &Shared,
    storage: &ColdStore,
    segment: Option<&SegmentMeta>,
) {
    if !shared.committer.storage_failed() {
        discard(storage, segment).await;
    }
}
