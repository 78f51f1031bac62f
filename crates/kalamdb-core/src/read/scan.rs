//! The read of one partition of a table, or of some keys of it
//! ([`HotScan`]): DataFusion pulls batches; each pull fetches a chunk —
//! point keys with one `multi_get`, else the next chunk of the partition's
//! key range — then, once the hot tier is done, the cold tier, skipping the
//! keys the hot tier answered (their hot version is the newest). For a USER
//! table the partition is the caller's: no other user's keys are ever read.
//!
//! Point keys and a range's first [`FIRST_CHUNK`] rows are read on the
//! caller's thread: a few memtable or block-cache lookups cost less than
//! the hand-off to the blocking pool and back, which was most of a small
//! table's query. Later chunks (a large partition) go to the blocking pool.
//! The keys the hot tier answered are kept as stored (moved, not copied)
//! and decoded only when the partition has cold segments to filter.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use futures::StreamExt;
use kalamdb_cold::SegmentMeta;
use kalamdb_store::{HotRead, KeyRange, Partition, PkValue, RowKey, RowPrefix, Space};

use crate::catalog::lifetime::now_millis;
use crate::catalog::storage_registry::storage_of;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::row::arrow::{row_refs_to_batch, rows_to_batch};
use crate::row::value::{StoredRow, StoredRowRef};
use crate::tiers::cold_read::{lookup_cold, scan_cold, scan_segments};
use crate::tiers::hot::scan_chunk;
use crate::tiers::leases::FilesLease;
use crate::tiers::manifest::load_manifest;
use crate::write::shared::Shared;

/// Rows fetched from the store per blocking call.
const SCAN_CHUNK: usize = 2048;

/// Rows of a range's first chunk, read on the caller's thread (a small
/// table is then one chunk and no hand-off).
pub const FIRST_CHUNK: usize = 256;

/// The read of one partition (or of some keys of it).
pub struct HotScan {
    pub shared: Arc<Shared>,
    pub entry: Arc<TableEntry>,
    pub partition: Partition,
    pub points: Option<Vec<PkValue>>,
    /// Only rows with a greater `_seq` are wanted (older segments skipped).
    pub seq_after: Option<i64>,
    pub schema: SchemaRef,
    pub with_row_id: bool,
    /// Where the hot rows are read: the snapshot the scan was planned from
    /// (`range_scan.rs`), or, if `None`, the live store.
    pub snapshot: Option<Arc<dyn HotRead>>,
    /// What this stream reads of the cold tier once the hot rows are done.
    pub cold: ColdPart,
}

/// The cold tier's part in a [`HotScan`].
#[derive(Clone)]
pub enum ColdPart {
    /// Every segment of the partition under the manifest current when the
    /// hot rows are done, merged (point reads; scans of a transaction's
    /// tables).
    Current,
    /// These segments of the snapshot's manifest, merged with each other
    /// and beneath the hot rows (`range_scan.rs` gives the others to
    /// Parquet); the lease keeps their files until the run is dropped
    /// (held, never read).
    Segments(Arc<Vec<SegmentMeta>>, #[allow(dead_code)] Arc<FilesLease>),
}

impl ColdPart {
    /// Whether the keys the hot tier answered must be kept: only to hide
    /// older versions in the segments this stream merges.
    fn needs_hot_keys(&self) -> bool {
        match self {
            ColdPart::Current => true,
            ColdPart::Segments(segments, _) => !segments.is_empty(),
        }
    }
}

impl fmt::Debug for HotScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HotScan({}, points={:?})",
            self.entry.id(),
            self.points.as_ref().map(Vec::len)
        )
    }
}

enum Cursor {
    /// The next chunk of a range; `first`: nothing of it read yet.
    Range {
        range: KeyRange,
        first: bool,
    },
    Points(Vec<Vec<u8>>),
    /// The hot tier is done: read the cold tier for what it did not hold.
    Cold,
    Done,
}

/// A scan's progress: where it is, and which keys the hot tier answered
/// (their hot version is the newest; the cold tier must not repeat them).
struct ScanState {
    cursor: Cursor,
    /// The stored keys of the hot rows read (tombstones too), decoded only
    /// if the cold tier has segments to filter.
    hot_keys: Vec<Vec<u8>>,
    /// Whether `hot_keys` are wanted at all ([`ColdPart::needs_hot_keys`]).
    keep_keys: bool,
    /// A point read (only `missing` keys are looked up in the cold tier).
    points: bool,
    /// Point keys the hot tier did not hold.
    missing: Vec<PkValue>,
}

impl PartitionStream for HotScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let table = self.entry.id();
        let cursor = match &self.points {
            Some(keys) => Cursor::Points(point_keys(&self.entry, &self.partition, keys)),
            None => Cursor::Range {
                range: RowPrefix::Partition(table, self.partition.clone()).range(),
                first: true,
            },
        };
        let state = ScanState {
            points: matches!(cursor, Cursor::Points(_)),
            cursor,
            hot_keys: Vec::new(),
            keep_keys: self.cold.needs_hot_keys(),
            missing: Vec::new(),
        };
        let hot: Arc<dyn HotRead> = match &self.snapshot {
            Some(snap) => snap.clone(),
            None => self.shared.store.clone(),
        };
        let cold = self.cold.clone();
        let shared = self.shared.clone();
        let entry = self.entry.clone();
        let schema = self.schema.clone();
        let partition = self.partition.clone();
        let with_row_id = self.with_row_id;
        let seq_after = self.seq_after;
        // Once per scan, not per row: STREAM rows past their TTL are hidden
        // even before the eviction job deletes them.
        let expired_below = self.entry.expiry_cutoff(now_millis());
        let stream = futures::stream::unfold(state, move |mut state| {
            let shared = shared.clone();
            let entry = entry.clone();
            let schema = schema.clone();
            let partition = partition.clone();
            let hot = hot.clone();
            let cold = cold.clone();
            async move {
                let step = match std::mem::replace(&mut state.cursor, Cursor::Done) {
                    Cursor::Done => return None,
                    Cursor::Cold => {
                        let read = ColdRead {
                            part: &cold,
                            with_row_id,
                            seq_after,
                        };
                        read_cold(&shared, &entry, &schema, &partition, &state, read).await
                    }
                    cursor => {
                        let wanted = match &cursor {
                            Cursor::Points(keys) => Some(keys.clone()),
                            _ => None,
                        };
                        let fetched = match cursor {
                            inline @ (Cursor::Points(_) | Cursor::Range { first: true, .. }) => {
                                fetch_chunk(&shared, hot.as_ref(), inline)
                            }
                            later => {
                                shared
                                    .blocking(move |s| fetch_chunk(s, hot.as_ref(), later))
                                    .await
                            }
                        };
                        match fetched {
                            Ok((entries, next)) => {
                                state.cursor = next;
                                note_missing(&mut state, &entries, wanted).and_then(|()| {
                                    let keys = state.keep_keys.then_some(&mut state.hot_keys);
                                    decode_chunk(
                                        &entry,
                                        &schema,
                                        entries,
                                        with_row_id,
                                        expired_below,
                                        keys,
                                    )
                                })
                            }
                            Err(e) => Err(e),
                        }
                    }
                };
                Some((step.map_err(KalamError::into_datafusion), state))
            }
        })
        .filter(|b| futures::future::ready(!matches!(b, Ok(batch) if batch.num_rows() == 0)));
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

/// The stored keys of `keys` in `partition`, sorted, without duplicates.
fn point_keys(entry: &TableEntry, partition: &Partition, keys: &[PkValue]) -> Vec<Vec<u8>> {
    let table = entry.id();
    let mut encoded: Vec<Vec<u8>> = keys
        .iter()
        .map(|pk| {
            RowKey {
                table: table.clone(),
                partition: partition.clone(),
                pk: pk.clone(),
            }
            .encode()
        })
        .collect();
    encoded.sort();
    encoded.dedup();
    encoded
}

/// Whether the hot tier holds a version (a tombstone counts) of every key
/// of `keys` in `partition`: then no older cold version can matter.
pub fn hot_holds_all(
    shared: &Shared,
    entry: &TableEntry,
    partition: &Partition,
    keys: &[PkValue],
) -> Result<bool> {
    let wanted = point_keys(entry, partition, keys);
    Ok(shared
        .store
        .multi_get(Space::Rows, &wanted)?
        .iter()
        .all(Option::is_some))
}

/// The rows of `keys` as a [`HotScan`] with those points yields them (same
/// steps, same order: the hot tier's rows, then the cold tier's for the
/// keys it did not hold), with the hot lookup on the caller's thread: a
/// point read is a few memtable or block-cache lookups, cheaper than the
/// hand-off to the blocking pool and back (the statement fast path).
pub async fn read_points(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    keys: &[PkValue],
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>> {
    let wanted = point_keys(entry, partition, keys);
    let mut state = ScanState {
        cursor: Cursor::Done,
        hot_keys: Vec::new(),
        keep_keys: true,
        points: true,
        missing: Vec::new(),
    };
    let (entries, _) = fetch_chunk(
        shared,
        shared.store.as_ref(),
        Cursor::Points(wanted.clone()),
    )?;
    note_missing(&mut state, &entries, Some(wanted))?;
    let expired_below = entry.expiry_cutoff(now_millis());
    let hot = decode_chunk(
        entry,
        schema,
        entries,
        false,
        expired_below,
        Some(&mut state.hot_keys),
    )?;
    let read = ColdRead {
        part: &ColdPart::Current,
        with_row_id: false,
        seq_after: None,
    };
    let cold = read_cold(shared, entry, schema, partition, &state, read).await?;
    Ok([hot, cold]
        .into_iter()
        .filter(|b| b.num_rows() > 0)
        .collect())
}

/// For point reads, records which requested keys the hot tier did not
/// hold (only those are looked up in the cold tier).
fn note_missing(
    state: &mut ScanState,
    entries: &Entries,
    wanted: Option<Vec<Vec<u8>>>,
) -> Result<()> {
    if let Some(wanted) = wanted {
        let found: HashSet<&[u8]> = entries.iter().map(|(k, _)| k.as_slice()).collect();
        for k in wanted {
            if !found.contains(k.as_slice()) {
                state.missing.push(RowKey::decode(&k)?.pk);
            }
        }
    }
    Ok(())
}

/// What [`read_cold`] reads, and how.
struct ColdRead<'a> {
    part: &'a ColdPart,
    with_row_id: bool,
    seq_after: Option<i64>,
}

/// The cold part of a scan: for [`ColdPart::Current`], the partition's
/// segments as of now (read after the hot tier, so a row a concurrent flush
/// moved is found here); for [`ColdPart::Segments`], those segments.
async fn read_cold(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    schema: &SchemaRef,
    partition: &Partition,
    state: &ScanState,
    read: ColdRead<'_>,
) -> Result<RecordBatch> {
    if state.points && state.missing.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let skip = |state: &ScanState| {
        state
            .hot_keys
            .iter()
            .map(|k| RowKey::decode(k).map(|key| key.pk))
            .collect::<std::result::Result<HashSet<PkValue>, _>>()
    };
    let rows: Vec<(PkValue, StoredRow)> = match read.part {
        _ if state.points => lookup_cold(shared.cold(), entry, partition, &state.missing)
            .await?
            .1
            .into_iter()
            .collect(),
        ColdPart::Current => {
            // Most partitions have no segments: then the hot keys are never
            // decoded (`scan_cold` would find no segments either).
            let manifest = load_manifest(shared.store.as_ref(), &entry.id(), partition)?;
            if manifest.segments.is_empty() {
                return Ok(RecordBatch::new_empty(schema.clone()));
            }
            scan_cold(
                shared.cold(),
                entry,
                partition,
                &skip(state)?,
                read.seq_after,
            )
            .await?
            .1
        }
        ColdPart::Segments(segments, _) => {
            if segments.is_empty() {
                return Ok(RecordBatch::new_empty(schema.clone()));
            }
            // The lease keeps these files: no retry, no second copy of a row.
            let storage = shared.storages.open(&storage_of(&entry.def))?;
            scan_segments(&storage, entry, segments.iter(), &skip(state)?).await?
        }
    };
    shared
        .cold_rows_read
        .fetch_add(rows.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let mut live = Vec::with_capacity(rows.len());
    let mut row_ids = Vec::new();
    for (pk, row) in rows {
        if row.deleted {
            continue;
        }
        if read.with_row_id {
            row_ids.push(match pk {
                PkValue::RowId(id) => id,
                _ => 0,
            });
        }
        live.push(row);
    }
    rows_to_batch(
        &entry.lens,
        schema,
        &live,
        read.with_row_id.then_some(row_ids.as_slice()),
    )
}

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

fn fetch_chunk(shared: &Shared, hot: &dyn HotRead, cursor: Cursor) -> Result<(Entries, Cursor)> {
    let (entries, next) = fetch_entries(hot, cursor)?;
    shared
        .hot_rows_read
        .fetch_add(entries.len() as u64, std::sync::atomic::Ordering::Relaxed);
    Ok((entries, next))
}

fn fetch_entries(hot: &dyn HotRead, cursor: Cursor) -> Result<(Entries, Cursor)> {
    match cursor {
        Cursor::Done | Cursor::Cold => Ok((Vec::new(), Cursor::Done)),
        Cursor::Points(keys) => {
            let values = hot.multi_get(Space::Rows, &keys)?;
            let entries = keys
                .into_iter()
                .zip(values)
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect();
            Ok((entries, Cursor::Cold))
        }
        Cursor::Range { range, first } => {
            let limit = if first { FIRST_CHUNK } else { SCAN_CHUNK };
            let (entries, rest) = scan_chunk(hot, Space::Rows, &range, limit)?;
            Ok((
                entries,
                rest.map_or(Cursor::Cold, |range| Cursor::Range {
                    range,
                    first: false,
                }),
            ))
        }
    }
}

/// Decodes hot rows, dropping tombstones and rows with a `_seq` below
/// `expired_below` (STREAM rows past their TTL); every key read, tombstones
/// too (a hot tombstone hides older cold versions), goes to `hot_keys` if
/// they are wanted.
/// Rows are decoded in place (text and bytes borrowed from the values read)
/// when every row of the chunk is of the table's current schema version —
/// the usual case; a chunk with an older row is decoded into owned rows and
/// read through the lens.
fn decode_chunk(
    entry: &TableEntry,
    schema: &SchemaRef,
    entries: Entries,
    with_row_id: bool,
    expired_below: Option<i64>,
    hot_keys: Option<&mut Vec<Vec<u8>>>,
) -> Result<RecordBatch> {
    let live = |deleted: bool, seq: i64| !deleted && expired_below.is_none_or(|c| seq >= c);
    let row_id = |k: &[u8]| -> Result<i64> {
        Ok(match RowKey::decode(k)?.pk {
            PkValue::RowId(id) => id,
            // Keyed tables carry their key in a column; the row id column is unused.
            _ => 0,
        })
    };
    let (keys, values): (Vec<Vec<u8>>, Vec<Vec<u8>>) = entries.into_iter().unzip();
    let mut row_ids = Vec::new();
    let mut refs = Vec::with_capacity(values.len());
    let mut in_place = true;
    for (k, v) in keys.iter().zip(&values) {
        match StoredRowRef::decode(v)? {
            Some(row) if row.version == entry.lens.current() => {
                if live(row.deleted, row.seq) {
                    if with_row_id {
                        row_ids.push(row_id(k)?);
                    }
                    refs.push(row);
                }
            }
            _ => {
                in_place = false;
                break;
            }
        }
    }
    let batch = if in_place {
        row_refs_to_batch(
            &entry.lens,
            schema,
            &refs,
            with_row_id.then_some(row_ids.as_slice()),
        )?
    } else {
        row_ids.clear();
        let mut rows = Vec::with_capacity(values.len());
        for (k, v) in keys.iter().zip(&values) {
            let row = StoredRow::decode(v)?;
            if live(row.deleted, row.seq) {
                if with_row_id {
                    row_ids.push(row_id(k)?);
                }
                rows.push(row);
            }
        }
        rows_to_batch(
            &entry.lens,
            schema,
            &rows,
            with_row_id.then_some(row_ids.as_slice()),
        )?
    };
    drop(refs);
    if let Some(hot_keys) = hot_keys {
        hot_keys.extend(keys);
    }
    Ok(batch)
}
