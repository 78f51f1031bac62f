//! STREAM tables' time to live (`sql.md` §2.5): a row disappears
//! `TTL_SECONDS` after its `_seq` time.
//!
//! Two halves keep that promise. Reads hide expired rows at once
//! (`read/scan.rs` asks `TableEntry::expiry_cutoff` once per scan), so a
//! row's lifetime does not depend on when the background job runs. Eviction
//! ([`StreamTtl::evict_expired`], run every `EngineConfig::stream_eviction_interval`)
//! then reclaims the space: STREAM rows live in the hot tier only, so
//! without it a chat's typing indicators would grow RocksDB forever.
//! Eviction is a plain hot-store delete (there is no cold version to hide)
//! and, unlike a DELETE, sends no change notification; tests observe it
//! through [`StreamEviction`] events instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kalamdb_store::{KeyRange, Partition, PkValue, RowKey, RowPrefix, Space};
use kalamdb_types::{TableId, TableType};
use tokio::sync::broadcast;

use crate::catalog::lifetime::now_millis;
use crate::catalog::table::TableEntry;
use crate::error::Result;
use crate::row::value::StoredRow;
use crate::tiers::hot::{after_partition, scan_chunk};
use crate::write::shared::Shared;

/// Row keys read per blocking scan, and the most keys deleted per commit: a
/// pass over a large backlog is many short commits, so it never holds up
/// the committer (and every writer behind it) for long.
pub const EVICT_CHUNK: usize = 1000;

/// Capacity of the eviction event channel; a receiver that falls further
/// behind sees `Lagged` and loses events, never the server's memory.
const EVENT_CAPACITY: usize = 1024;

/// One eviction commit that removed rows of a STREAM table (see
/// `Engine::stream_evictions`).
#[derive(Debug, Clone)]
pub struct StreamEviction {
    pub table: TableId,
    /// Rows removed by this commit (a pass over a large table sends several).
    pub rows: u64,
}

/// Eviction's state: rows evicted so far (`system.stats`
/// `stream_rows_evicted`) and the events tests await.
pub struct StreamTtl {
    pub evicted: AtomicU64,
    events: broadcast::Sender<StreamEviction>,
}

impl Default for StreamTtl {
    fn default() -> Self {
        Self {
            evicted: AtomicU64::new(0),
            events: broadcast::channel(EVENT_CAPACITY).0,
        }
    }
}

impl StreamTtl {
    /// Eviction events from now on (a receiver that falls more than
    /// [`EVENT_CAPACITY`] behind loses the oldest).
    pub fn events(&self) -> broadcast::Receiver<StreamEviction> {
        self.events.subscribe()
    }

    /// Deletes the expired rows of every STREAM table; returns how many.
    pub async fn evict_expired(&self, shared: &Arc<Shared>) -> Result<u64> {
        self.evict_expired_at(shared, now_millis()).await
    }

    /// [`Self::evict_expired`] as if the time were `now_ms` (tests move time
    /// forward this way instead of sleeping).
    pub async fn evict_expired_at(&self, shared: &Arc<Shared>, now_ms: i64) -> Result<u64> {
        let mut total = 0;
        for entry in shared.catalog.tables(None) {
            if entry.def.table_type == TableType::Stream {
                total += self.evict_table(shared, &entry, now_ms).await?;
            }
        }
        Ok(total)
    }

    /// One table's pass: scans its rows across all partitions in chunks and
    /// deletes the expired ones, one commit per chunk. A table dropped (or
    /// replaced) meanwhile is skipped without error.
    pub async fn evict_table(
        &self,
        shared: &Arc<Shared>,
        entry: &Arc<TableEntry>,
        now_ms: i64,
    ) -> Result<u64> {
        let Some(cutoff) = entry.expiry_cutoff(now_ms) else {
            return Ok(0);
        };
        let table = entry.id();
        let mut cursor = Some(RowPrefix::Table(table.clone()).range());
        let mut evicted = 0;
        while let Some(range) = cursor.take() {
            let (expired, next) = shared
                .blocking(move |s| scan_expired(s, range, cutoff))
                .await?;
            cursor = next;
            if expired.is_empty() {
                continue;
            }
            let Some(rows) = delete_expired(shared, entry, expired).await? else {
                return Ok(evicted);
            };
            evicted += rows;
            if rows > 0 {
                self.evicted.fetch_add(rows, Ordering::Relaxed);
                // Nobody listening is the normal case outside tests.
                let _ = self.events.send(StreamEviction {
                    table: table.clone(),
                    rows,
                });
            }
        }
        Ok(evicted)
    }
}

/// Expired row keys with the `_seq` they were seen with.
type Expired = Vec<(Vec<u8>, i64)>;

/// Reads up to [`EVICT_CHUNK`] rows from `range` and picks the expired ones;
/// also returns where the next chunk starts (`None`: the table is done).
///
/// Tables without a declared key are keyed by their row id, which is the
/// row's `_seq` (STREAM rows are never updated): a partition is in `_seq`
/// order there, so its first live row ends its expired prefix and the scan
/// jumps to the next partition. A pass then costs the expired rows plus one
/// row per partition rather than the whole table.
pub fn scan_expired(
    shared: &Shared,
    range: KeyRange,
    cutoff: i64,
) -> Result<(Expired, Option<KeyRange>)> {
    let (entries, rest) = scan_chunk(shared.store.as_ref(), Space::Rows, &range, EVICT_CHUNK)?;
    let mut expired = Vec::new();
    // A partition whose remaining rows are known to be live.
    let mut live_partition: Option<Partition> = None;
    let mut last: Option<(Vec<u8>, Partition)> = None;
    for (key, value) in entries {
        let decoded = RowKey::decode(&key)?;
        if live_partition.as_ref() == Some(&decoded.partition) {
            last = Some((key, decoded.partition));
            continue;
        }
        let seq = StoredRow::decode(&value)?.seq;
        if seq < cutoff {
            expired.push((key.clone(), seq));
        } else if matches!(decoded.pk, PkValue::RowId(_)) {
            live_partition = Some(decoded.partition.clone());
        }
        last = Some((key, decoded.partition));
    }
    let Some((last_key, last_partition)) = last else {
        return Ok((expired, None));
    };
    if live_partition.as_ref() != Some(&last_partition) {
        return Ok((expired, rest));
    }
    // Skip the rest of this partition: it is all newer.
    let table = RowKey::decode(&last_key)?.table;
    let Some(start) = after_partition(&table, &last_partition) else {
        return Ok((expired, None));
    };
    let next = KeyRange::new(start, range.end);
    Ok((expired, (!next.is_empty()).then_some(next)))
}

/// Deletes `expired` rows in one commit, each only if it still holds the
/// version the scan saw. `None` if the table was dropped or replaced.
pub async fn delete_expired(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    expired: Expired,
) -> Result<Option<u64>> {
    let result = shared
        .write_table(entry, move |ctx| {
            let mut deleted = 0;
            for (key, seq) in expired {
                let Some(bytes) = ctx.get(Space::Rows, &key)? else {
                    continue;
                };
                if StoredRow::decode(&bytes)?.seq != seq {
                    continue;
                }
                ctx.delete(Space::Rows, key);
                deleted += 1;
            }
            Ok(deleted)
        })
        .await;
    match result {
        Ok(n) => Ok(Some(n)),
        Err(_) if shared.catalog.ensure_current(entry).is_err() => Ok(None),
        Err(e) => Err(e),
    }
}
