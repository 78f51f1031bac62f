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
//! a row moved between the two is found in the segment (see `read/scan.rs`).
//! The crash analysis is in docs/storage-format.md.

use std::sync::Arc;

use kalamdb_store::{Partition, RowKey, RowPrefix, Space};
use kalamdb_types::{FlushPolicy, SeqId, TableId};

use crate::catalog::lifetime::now_millis;
use crate::catalog::table::TableEntry;
use crate::error::Result;
use crate::maintenance::compact::compact_if_due;
use crate::maintenance::failpoint;
use crate::maintenance::jobs::CancelFlag;
use crate::maintenance::segments::{
    ColdWork, add_fields, discard, discard_uncommitted, write_segment,
};
use crate::row::key::pk_key;
use crate::row::value::StoredRow;
use crate::tiers::hot::{for_each_chunk, hot_partitions, read_partition};
use crate::tiers::manifest::{load_manifest, manifest_key};

/// A flush of at least this many rows compacts the deletes it leaves in
/// the hot store. Fewer cost a later scan well under a millisecond to step
/// over, and a manual compaction writes the memtable out first: not worth
/// it for the small, frequent flushes of an interval policy.
const COMPACT_AFTER_ROWS: u64 = 10_000;

/// What one flush moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushOutcome {
    pub rows: u64,
    pub bytes: u64,
    pub files: u64,
}

impl FlushOutcome {
    fn add(&mut self, o: FlushOutcome) {
        add_fields!(self, o, rows, bytes, files);
    }

    pub fn message(&self) -> String {
        format!(
            "Flushed {} rows, {} bytes, {} file(s)",
            self.rows, self.bytes, self.files
        )
    }
}

/// Flushes every partition of `table` that has hot rows.
pub async fn flush_table(
    work: &ColdWork,
    table: &TableId,
    cancel: &CancelFlag,
) -> Result<FlushOutcome> {
    let (entry, _turn) = work
        .take_turn(table, "STORAGE FLUSH TABLE", failpoint::FLUSH_PAUSE, cancel)
        .await?;
    let e = entry.clone();
    let partitions = work
        .shared
        .blocking(move |s| hot_partitions(s.store.as_ref(), &e))
        .await?;
    let mut total = FlushOutcome::default();
    for partition in partitions {
        cancel.check()?;
        total.add(flush_partition(work, &entry, partition.clone(), cancel).await?);
        // Small segments pile up under frequent flushes: merge them while
        // this job holds the table's turn anyway.
        compact_if_due(work, &entry, &partition, cancel).await?;
    }
    if total.rows >= COMPACT_AFTER_ROWS {
        // The flushed keys' deletes would otherwise be stepped over by every
        // scan of the table's hot rows until RocksDB compacts them on its
        // own: a million of them cost a scan of the emptied table ~0.2 s.
        let range = RowPrefix::Table(table.clone()).range();
        let compacted = work
            .shared
            .blocking(move |s| Ok(s.store.compact_range(Space::Rows, &range)?))
            .await;
        if let Err(e) = compacted {
            tracing::warn!(%table, error = %e, "could not compact the flushed rows' deletes");
        }
    }
    Ok(total)
}

async fn flush_partition(
    work: &ColdWork,
    entry: &Arc<TableEntry>,
    partition: Partition,
    cancel: &CancelFlag,
) -> Result<FlushOutcome> {
    let shared = &work.shared;
    let table = entry.id();
    let (t, p) = (table.clone(), partition.clone());
    let hot = shared
        .blocking(move |s| read_partition(s.store.as_ref(), &t, &p))
        .await?;
    if hot.is_empty() {
        return Ok(FlushOutcome::default());
    }
    let horizon_ms = entry.retention_horizon_ms(now_millis());
    // Under the table's turn: no segment appears until this commit.
    let manifest = load_manifest(shared.store.as_ref(), &table, &partition)?;
    let key_column = entry.key_column();
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
            && SeqId(row.seq).unix_millis() <= horizon_ms
            && !manifest
                .segments
                .iter()
                .any(|s| s.may_contain(key_column, &pk_key(&pk)))
        {
            continue;
        }
        row_ids.push(match pk {
            kalamdb_store::PkValue::RowId(id) => id,
            _ => 0,
        });
        rows.push(row);
    }
    let (storage, def) = shared.storages.for_table(&entry.def)?;
    let mut outcome = FlushOutcome::default();
    let mut segment = None;
    if !rows.is_empty() {
        let seg = write_segment(
            &storage,
            &def,
            entry,
            &partition,
            &rows,
            &row_ids,
            kalamdb_cold::segment_file_name,
        )
        .await?;
        failpoint::crash(failpoint::FLUSH_AFTER_WRITE);
        outcome = FlushOutcome {
            rows: rows.len() as u64,
            bytes: seg.bytes,
            files: 1,
        };
        segment = Some(seg);
    }
    if let Err(e) = cancel.check() {
        discard(&storage, segment.as_ref()).await;
        return Err(e);
    }
    let (t, p, seg) = (table.clone(), partition.clone(), segment.clone());
    let committed = shared
        .write_table(entry, move |ctx| {
            let manifest = ctx.manifest(&t, &p)?;
            for (key, seq) in moved {
                if let Some(v) = ctx.get(Space::Rows, &key)?
                    && StoredRow::decode(&v)?.seq == seq
                {
                    ctx.delete(Space::Rows, key);
                }
            }
            if let Some(seg) = seg {
                let now = ctx.now_micros;
                let mkey = manifest_key(&t, &p);
                ctx.put(Space::Meta, mkey, manifest.with_segment(seg, now).encode());
            }
            Ok(())
        })
        .await;
    if let Err(e) = committed {
        discard_uncommitted(shared, &storage, segment.as_ref()).await;
        return Err(e);
    }
    failpoint::crash(failpoint::FLUSH_AFTER_COMMIT);
    Ok(outcome)
}

/// Is `table` due for a flush under `policy`: at least `rows` hot rows, or
/// a hot row older than `interval_secs`? Scans at most `rows` hot rows: if
/// there are fewer, it has seen them all and so knows the oldest.
pub fn is_due(
    store: &dyn kalamdb_store::HotStore,
    table: &TableId,
    policy: FlushPolicy,
) -> Result<bool> {
    let limit = policy.rows.unwrap_or(u64::MAX);
    let mut count = 0u64;
    let mut oldest = i64::MAX;
    let mut reached = false;
    for_each_chunk(store, RowPrefix::Table(table.clone()).range(), |chunk| {
        for (_, v) in &chunk {
            count += 1;
            oldest = oldest.min(StoredRow::decode(v)?.seq);
            if count >= limit {
                reached = true;
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    if reached {
        return Ok(true);
    }
    if count == 0 {
        return Ok(false);
    }
    Ok(match policy.interval_secs {
        Some(secs) => {
            let age_ms = now_millis() - SeqId(oldest).unix_millis();
            age_ms >= i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
        }
        None => false,
    })
}
