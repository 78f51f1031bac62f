//! Reading segments back: whole (optionally some columns) for scans, and by
//! key for point lookups.
//!
//! Reads go through Parquet's async reader with ranged object reads, so a
//! lookup on S3 fetches the footer (once: footers and bloom filters are
//! cached per `ColdStore`), then only what survives pruning: row groups
//! whose key min/max cannot hold any wanted key are skipped, then row
//! groups whose bloom filter rules every key out, then pages (by the page
//! index) inside the remaining row groups; only then is the key column
//! decoded, and the other columns only for matching rows. An absent key
//! therefore usually costs no I/O once the segment has been looked at.
//!
//! Segments are data from storage that anything may have damaged: every
//! failure to decode is a `ColdError::Corrupt` naming the segment, and a
//! panic inside the Parquet decoder on malformed input is caught and
//! reported the same way rather than taking the server down.

use std::collections::HashSet;
use std::future::Future;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use arrow::error::ArrowError;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions, RowFilter, RowSelection, RowSelector,
};
use parquet::arrow::async_reader::{AsyncFileReader, MetadataFetch};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};
use parquet::bloom_filter::Sbbf;
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};

use crate::checksum::{
    BLOCK_CHECKSUMS_KEY, BlockChecksums, ChecksumMismatch, Layout, SegmentChecksums,
};
use crate::error::ColdError;
use crate::segment::{KeyKind, PkKey, SegmentMeta, key_kind};
use crate::store::ColdStore;

/// Rows per decoded batch.
const BATCH_ROWS: usize = 8_192;
/// Bytes fetched from the end of a segment in the first footer read: the
/// footer and page index of a typical segment fit, so loading them is one
/// request.
const FOOTER_HINT: usize = 64 * 1024;
/// Checked reads closer than this are fetched as one request.
const COALESCE_GAP: u64 = 64 * 1024;

/// What a lookup touched: for tests, metrics and `EXPLAIN`-style answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupStats {
    /// The footer came from the cache (no footer read).
    pub footer_cached: bool,
    /// Row groups in the segment.
    pub row_groups: usize,
    /// Row groups skipped because no wanted key is within their min/max.
    pub pruned_by_stats: usize,
    /// Row groups skipped because their bloom filter rules out every key.
    pub pruned_by_bloom: usize,
    /// Bloom filters read from storage (the rest came from the cache).
    pub bloom_filters_read: usize,
    /// Row groups whose key column was decoded.
    pub row_groups_read: usize,
    /// Pages of the read row groups skipped by the page index.
    pub pages_skipped: usize,
    pub rows_matched: usize,
    /// Object store reads made (footer, bloom filters, pages).
    pub requests: u64,
    pub bytes_read: u64,
}

/// Which segment to read, and what its bytes must be.
#[derive(Debug, Clone, Copy)]
pub struct SegmentRef<'a> {
    /// Relative to the storage root.
    pub path: &'a str,
    /// The file's size and checksums, from its manifest entry: every byte
    /// read is checked. `None` reads unchecked (segments written before
    /// format 5 have no checksums).
    pub expected: Option<(u64, &'a SegmentChecksums)>,
}

impl<'a> SegmentRef<'a> {
    /// A segment read without checking its bytes.
    pub fn unchecked(path: &'a str) -> Self {
        Self {
            path,
            expected: None,
        }
    }
}

impl<'a> From<&'a SegmentMeta> for SegmentRef<'a> {
    fn from(seg: &'a SegmentMeta) -> Self {
        Self {
            path: &seg.path,
            expected: seg.checksums.as_ref().map(|c| (seg.bytes, c)),
        }
    }
}

/// Reads a whole segment, as batches in file order. With `columns`, only
/// those (in file order); names the segment lacks (columns added after it
/// was written) are skipped, so the caller fills them.
pub async fn read_segment(
    store: &ColdStore,
    segment: impl Into<SegmentRef<'_>>,
    columns: Option<&[&str]>,
) -> Result<Vec<RecordBatch>, ColdError> {
    let segment = segment.into();
    let path = segment.path;
    guarded(store, path, async {
        let io = Arc::new(IoCounter::default());
        let (footer, _) = reader_metadata(store, segment, &io).await?;
        let reader = SegmentReader::for_data(store, segment, io, &footer)?;
        let meta = footer.meta;
        let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, meta.clone())
            .with_batch_size(BATCH_ROWS);
        if let Some(cols) = columns {
            let roots = meta
                .schema()
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| cols.contains(&f.name().as_str()))
                .map(|(i, _)| i);
            builder = builder.with_projection(ProjectionMask::roots(meta.parquet_schema(), roots));
        }
        let stream = builder.build().map_err(|e| classify(store, path, e))?;
        let batches: Vec<RecordBatch> = stream
            .try_collect()
            .await
            .map_err(|e| classify(store, path, e))?;
        with_schema_metadata(batches, &meta)
    })
    .await
}

/// The rows whose `pk_column` equals one of `keys`, in file order. Keys of
/// the wrong kind for the column (text for an integer column, or outside
/// its range) never match.
pub async fn lookup_segment(
    store: &ColdStore,
    segment: impl Into<SegmentRef<'_>>,
    pk_column: &str,
    keys: &[PkKey],
) -> Result<Vec<RecordBatch>, ColdError> {
    Ok(lookup_segment_with_stats(store, segment, pk_column, keys)
        .await?
        .0)
}

/// [`lookup_segment`], also saying what the lookup touched.
pub async fn lookup_segment_with_stats(
    store: &ColdStore,
    segment: impl Into<SegmentRef<'_>>,
    pk_column: &str,
    keys: &[PkKey],
) -> Result<(Vec<RecordBatch>, LookupStats), ColdError> {
    if keys.is_empty() {
        return Ok((Vec::new(), LookupStats::default()));
    }
    let segment = segment.into();
    guarded(store, segment.path, lookup(store, segment, pk_column, keys)).await
}

/// The keys of one lookup, narrowed to the key column's kind.
#[derive(Clone)]
enum Wanted {
    Int(Vec<i64>),
    Text(Vec<String>),
}

impl Wanted {
    fn new(kind: KeyKind, column_type: &DataType, keys: &[PkKey]) -> Self {
        // Keys outside the column type's range cannot be stored in it.
        let (lo, hi) = match column_type {
            DataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
            DataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            DataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        };
        let mut w = match kind {
            KeyKind::Int => Wanted::Int(
                keys.iter()
                    .filter_map(|k| match k {
                        PkKey::Int(i) if (lo..=hi).contains(i) => Some(*i),
                        _ => None,
                    })
                    .collect(),
            ),
            KeyKind::Text => Wanted::Text(
                keys.iter()
                    .filter_map(|k| match k {
                        PkKey::Text(s) => Some(s.clone()),
                        PkKey::Int(_) => None,
                    })
                    .collect(),
            ),
        };
        match &mut w {
            Wanted::Int(v) => {
                v.sort_unstable();
                v.dedup();
            }
            Wanted::Text(v) => {
                v.sort_unstable();
                v.dedup();
            }
        }
        w
    }

    fn is_empty(&self) -> bool {
        match self {
            Wanted::Int(v) => v.is_empty(),
            Wanted::Text(v) => v.is_empty(),
        }
    }

    /// The keys within `[min, max]` (an unknown bound does not exclude).
    fn within(&self, min: &Option<PkKey>, max: &Option<PkKey>) -> Wanted {
        match self {
            Wanted::Int(v) => {
                let lo = match min {
                    Some(PkKey::Int(m)) => *m,
                    _ => i64::MIN,
                };
                let hi = match max {
                    Some(PkKey::Int(m)) => *m,
                    _ => i64::MAX,
                };
                Wanted::Int(v.iter().copied().filter(|k| lo <= *k && *k <= hi).collect())
            }
            Wanted::Text(v) => {
                let lo = match min {
                    Some(PkKey::Text(m)) => Some(m.as_str()),
                    _ => None,
                };
                let hi = match max {
                    Some(PkKey::Text(m)) => Some(m.as_str()),
                    _ => None,
                };
                Wanted::Text(
                    v.iter()
                        .filter(|k| {
                            lo.is_none_or(|l| l <= k.as_str()) && hi.is_none_or(|h| k.as_str() <= h)
                        })
                        .cloned()
                        .collect(),
                )
            }
        }
    }

    fn union(&mut self, other: &Wanted) {
        match (self, other) {
            (Wanted::Int(a), Wanted::Int(b)) => {
                a.extend(b);
                a.sort_unstable();
                a.dedup();
            }
            (Wanted::Text(a), Wanted::Text(b)) => {
                a.extend(b.iter().cloned());
                a.sort_unstable();
                a.dedup();
            }
            _ => {}
        }
    }
}

async fn lookup(
    store: &ColdStore,
    segment: SegmentRef<'_>,
    pk_column: &str,
    keys: &[PkKey],
) -> Result<(Vec<RecordBatch>, LookupStats), ColdError> {
    let path = segment.path;
    let corrupt = |m: String| {
        ColdError::Corrupt(format!(
            "Segment '{path}' in storage '{}' {m}",
            store.storage_id()
        ))
    };
    let io = Arc::new(IoCounter::default());
    let (footer, footer_cached) = reader_metadata(store, segment, &io).await?;
    let meta = footer.meta.clone();
    let mut stats = LookupStats {
        footer_cached,
        row_groups: meta.metadata().num_row_groups(),
        ..Default::default()
    };
    let schema = meta.schema().clone();
    let Ok(field) = schema.field_with_name(pk_column) else {
        return Err(corrupt(format!("has no column '{pk_column}'")));
    };
    let Some(kind) = key_kind(field.data_type()) else {
        return Err(ColdError::InvalidSegment(format!(
            "Column '{pk_column}' of segment '{path}' has type {}, which cannot be a lookup key",
            field.data_type()
        )));
    };
    let wanted = Wanted::new(kind, field.data_type(), keys);
    if wanted.is_empty() {
        stats.requests = io.requests();
        stats.bytes_read = io.bytes();
        return Ok((Vec::new(), stats));
    }
    let parquet_meta = meta.metadata().clone();
    let converter = StatisticsConverter::try_new(pk_column, &schema, meta.parquet_schema())
        .map_err(|e| corrupt(format!("has unusable statistics: {e}")))?;
    let Some(leaf) = converter.parquet_column_index() else {
        return Err(corrupt(format!("has no column '{pk_column}'")));
    };
    let row_groups = parquet_meta.row_groups();
    let mins = bounds(
        &converter
            .row_group_mins(row_groups.iter())
            .map_err(|e| corrupt(format!("has unusable statistics: {e}")))?,
        kind,
    );
    let maxes = bounds(
        &converter
            .row_group_maxes(row_groups.iter())
            .map_err(|e| corrupt(format!("has unusable statistics: {e}")))?,
        kind,
    );

    let reader = SegmentReader::for_data(store, segment, io.clone(), &footer)?;
    let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, meta.clone());
    // (row group, the keys it may hold)
    let mut selected: Vec<(usize, Wanted)> = Vec::new();
    for rg in 0..row_groups.len() {
        let min = mins.get(rg).cloned().flatten();
        let max = maxes.get(rg).cloned().flatten();
        let candidates = wanted.within(&min, &max);
        if candidates.is_empty() {
            stats.pruned_by_stats += 1;
            continue;
        }
        let candidates = match bloom_filter(store, &mut builder, path, rg, leaf, &mut stats).await?
        {
            None => candidates,
            Some(sbbf) => bloom_survivors(&sbbf, candidates, field.data_type()),
        };
        if candidates.is_empty() {
            stats.pruned_by_bloom += 1;
            continue;
        }
        selected.push((rg, candidates));
    }
    if selected.is_empty() {
        stats.requests = io.requests();
        stats.bytes_read = io.bytes();
        return Ok((Vec::new(), stats));
    }
    stats.row_groups_read = selected.len();

    let mut remaining = match kind {
        KeyKind::Int => Wanted::Int(Vec::new()),
        KeyKind::Text => Wanted::Text(Vec::new()),
    };
    for (_, c) in &selected {
        remaining.union(c);
    }
    if let Some((selection, skipped)) =
        page_selection(&converter, &parquet_meta, leaf, &selected, kind)
    {
        stats.pages_skipped = skipped;
        builder = builder.with_row_selection(selection);
    }
    let predicate = ArrowPredicateFn::new(
        ProjectionMask::leaves(meta.parquet_schema(), [leaf]),
        move |batch: RecordBatch| match batch.columns().first() {
            Some(col) => membership(col, &remaining),
            None => Err(ArrowError::SchemaError("key column missing".into())),
        },
    );
    let stream = builder
        .with_row_groups(selected.iter().map(|(rg, _)| *rg).collect())
        .with_row_filter(RowFilter::new(vec![Box::new(predicate)]))
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| classify(store, path, e))?;
    let batches: Vec<RecordBatch> = stream
        .try_filter(|b| futures::future::ready(b.num_rows() > 0))
        .try_collect()
        .await
        .map_err(|e| classify(store, path, e))?;
    let batches = with_schema_metadata(batches, &meta)?;
    stats.rows_matched = batches.iter().map(RecordBatch::num_rows).sum();
    stats.requests = io.requests();
    stats.bytes_read = io.bytes();
    Ok((batches, stats))
}

/// Row group `rg`'s bloom filter on the key column: cached, or read (and
/// cached). `None` when the segment has none.
async fn bloom_filter(
    store: &ColdStore,
    builder: &mut ParquetRecordBatchStreamBuilder<SegmentReader>,
    path: &str,
    rg: usize,
    leaf: usize,
    stats: &mut LookupStats,
) -> Result<Option<Arc<Sbbf>>, ColdError> {
    let key = format!("{}#{rg}", path.trim_matches('/'));
    if let Some(b) = store.blooms().get(&key) {
        return Ok(Some(b));
    }
    let generation = store.blooms().generation();
    let loaded = builder
        .get_row_group_column_bloom_filter(rg, leaf)
        .await
        .map_err(|e| classify(store, path, e))?
        .map(Arc::new);
    if let Some(b) = &loaded {
        stats.bloom_filters_read += 1;
        // 32-byte blocks.
        let size = b.num_blocks() * 32;
        store.blooms().insert(&key, b.clone(), size, generation);
    }
    Ok(loaded)
}

/// The candidates the bloom filter does not rule out. Values are hashed as
/// the writer stored them: INT64, INT32 for narrower integers, and the
/// UTF-8 bytes of text.
fn bloom_survivors(sbbf: &Sbbf, candidates: Wanted, column_type: &DataType) -> Wanted {
    match candidates {
        Wanted::Int(v) => Wanted::Int(
            v.into_iter()
                .filter(|k| match column_type {
                    DataType::Int64 => sbbf.check(k),
                    _ => i32::try_from(*k).is_ok_and(|k32| sbbf.check(&k32)),
                })
                .collect(),
        ),
        Wanted::Text(v) => Wanted::Text(v.into_iter().filter(|k| sbbf.check(k.as_str())).collect()),
    }
}

/// Batches decoded from Parquet carry the fields (with their metadata) but
/// not the schema-level metadata: put it back, so a segment reads back with
/// exactly the schema it was written with.
fn with_schema_metadata(
    batches: Vec<RecordBatch>,
    meta: &ArrowReaderMetadata,
) -> Result<Vec<RecordBatch>, ColdError> {
    let mut metadata = meta.schema().metadata().clone();
    // Ours, not the table's.
    metadata.remove(BLOCK_CHECKSUMS_KEY);
    if metadata.is_empty() {
        return Ok(batches);
    }
    let Some(first) = batches.first() else {
        return Ok(batches);
    };
    let schema = Arc::new(first.schema().as_ref().clone().with_metadata(metadata));
    batches
        .into_iter()
        .map(|b| {
            b.with_schema(schema.clone())
                .map_err(|e| ColdError::Corrupt(format!("Segment schema mismatch: {e}")))
        })
        .collect()
}

/// Statistics values as keys (`None`: unknown).
fn bounds(array: &ArrayRef, kind: KeyKind) -> Vec<Option<PkKey>> {
    let target = match kind {
        KeyKind::Int => DataType::Int64,
        KeyKind::Text => DataType::Utf8,
    };
    let Ok(cast) = arrow::compute::cast(array, &target) else {
        return vec![None; array.len()];
    };
    match kind {
        KeyKind::Int => cast
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(PkKey::Int))
            .collect(),
        KeyKind::Text => cast
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(|s| PkKey::Text(s.to_string())))
            .collect(),
    }
}

/// Which rows of the selected row groups to decode: the pages whose
/// min/max may hold one of that row group's candidate keys. `None` when
/// the page index is missing or inconsistent (then every row is decoded).
fn page_selection(
    converter: &StatisticsConverter<'_>,
    meta: &ParquetMetaData,
    leaf: usize,
    selected: &[(usize, Wanted)],
    kind: KeyKind,
) -> Option<(RowSelection, usize)> {
    let (column_index, offset_index) = (meta.column_index()?, meta.offset_index()?);
    let rgs: Vec<usize> = selected.iter().map(|(rg, _)| *rg).collect();
    let mut page_counts = Vec::with_capacity(rgs.len());
    for rg in &rgs {
        column_index.get(*rg)?.get(leaf)?;
        page_counts.push(offset_index.get(*rg)?.get(leaf)?.page_locations().len());
    }
    let mins = bounds(
        &converter
            .data_page_mins(column_index, offset_index, rgs.iter())
            .ok()?,
        kind,
    );
    let maxes = bounds(
        &converter
            .data_page_maxes(column_index, offset_index, rgs.iter())
            .ok()?,
        kind,
    );
    let rows = converter
        .data_page_row_counts(offset_index, meta.row_groups(), rgs.iter())
        .ok()??;
    let total_pages: usize = page_counts.iter().sum();
    if mins.len() != total_pages || maxes.len() != total_pages || rows.len() != total_pages {
        return None;
    }
    let mut selectors = Vec::new();
    let mut skipped = 0;
    let mut page = 0;
    for ((rg, candidates), pages) in selected.iter().zip(page_counts) {
        let mut rg_rows = 0u64;
        for _ in 0..pages {
            let n = rows.is_valid(page).then(|| rows.value(page))?;
            rg_rows += n;
            let n = usize::try_from(n).ok()?;
            let min = mins.get(page).cloned().flatten();
            let max = maxes.get(page).cloned().flatten();
            if candidates.within(&min, &max).is_empty() {
                skipped += 1;
                selectors.push(RowSelector::skip(n));
            } else {
                selectors.push(RowSelector::select(n));
            }
            page += 1;
        }
        let expected = u64::try_from(meta.row_groups().get(*rg)?.num_rows()).ok()?;
        if rg_rows != expected {
            return None;
        }
    }
    Some((RowSelection::from(selectors), skipped))
}

/// `true` where `column` holds one of `wanted`.
fn membership(column: &ArrayRef, wanted: &Wanted) -> Result<BooleanArray, ArrowError> {
    match wanted {
        Wanted::Int(keys) => {
            let set: HashSet<i64> = keys.iter().copied().collect();
            let cast = arrow::compute::cast(column, &DataType::Int64)?;
            Ok(cast
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| Some(v.is_some_and(|x| set.contains(&x))))
                .collect())
        }
        Wanted::Text(keys) => {
            let set: HashSet<&str> = keys.iter().map(String::as_str).collect();
            let cast = arrow::compute::cast(column, &DataType::Utf8)?;
            Ok(cast
                .as_string::<i32>()
                .iter()
                .map(|v| Some(v.is_some_and(|s| set.contains(s))))
                .collect())
        }
    }
}

/// Runs a read, turning a panic of the decoder on malformed data into a
/// `Corrupt` error.
async fn guarded<T>(
    store: &ColdStore,
    path: &str,
    fut: impl Future<Output = Result<T, ColdError>>,
) -> Result<T, ColdError> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(ColdError::Corrupt(format!(
            "Segment '{path}' in storage '{}' is unreadable: the Parquet decoder failed on its contents",
            store.storage_id()
        ))),
    }
}

/// A segment's footer as the cache keeps it: Parquet's metadata and, for
/// a checked segment, the data blocks' CRCs it holds (parsed once).
#[derive(Clone)]
pub(crate) struct Footer {
    meta: ArrowReaderMetadata,
    blocks: Option<Arc<BlockChecksums>>,
}

/// The segment's footer: cached, or read (and cached).
async fn reader_metadata(
    store: &ColdStore,
    segment: SegmentRef<'_>,
    io: &Arc<IoCounter>,
) -> Result<(Footer, bool), ColdError> {
    let path = segment.path;
    let key = path.trim_matches('/');
    if let Some(footer) = store.footers().get(key)
        && (footer.blocks.is_some() || segment.expected.is_none())
    {
        return Ok((footer, true));
    }
    let generation = store.footers().generation();
    let mut reader = SegmentReader::new(store, segment, io.clone())?;
    let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
    let meta = ArrowReaderMetadata::load_async(&mut reader, options)
        .await
        .map_err(|e| classify(store, path, e))?;
    let blocks = match segment.expected {
        Some(_) => {
            Some(Arc::new(block_checksums(&meta).map_err(|e| {
                classify(store, path, damaged(Damage::NoBlocks(e)))
            })?))
        }
        None => None,
    };
    let size = meta.metadata().memory_size() + blocks.as_ref().map_or(0, |b| b.blocks.len() * 4);
    let footer = Footer { meta, blocks };
    store
        .footers()
        .insert(key, footer.clone(), size, generation);
    Ok((footer, false))
}

/// The data blocks' CRCs a checked segment's footer holds.
fn block_checksums(meta: &ArrowReaderMetadata) -> Result<BlockChecksums, String> {
    let value = meta
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == BLOCK_CHECKSUMS_KEY))
        .and_then(|e| e.value.as_deref())
        .ok_or_else(|| "missing".to_string())?;
    serde_json::from_str(value).map_err(|e| e.to_string())
}

/// Parquet errors that wrap an object store error are I/O failures; the
/// rest mean the bytes are not a readable segment.
fn classify(store: &ColdStore, path: &str, e: ParquetError) -> ColdError {
    if let ParquetError::External(inner) = &e
        && let Some(damage) = inner.downcast_ref::<Damage>()
    {
        return ColdError::Corrupt(format!(
            "Segment '{path}' in storage '{}' is unreadable: {damage}",
            store.storage_id()
        ));
    }
    if let ParquetError::External(inner) = &e
        && let Some(os) = inner.downcast_ref::<object_store::Error>()
    {
        return match os {
            object_store::Error::NotFound { .. } => ColdError::Missing(format!(
                "Storage '{}': segment '{path}' not found",
                store.storage_id()
            )),
            other => ColdError::Io(format!(
                "Storage '{}': cannot read segment '{path}': {other}",
                store.storage_id()
            )),
        };
    }
    ColdError::Corrupt(format!(
        "Segment '{path}' in storage '{}' is unreadable: {e}",
        store.storage_id()
    ))
}

#[derive(Default)]
struct IoCounter {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl IoCounter {
    fn record(&self, bytes: usize) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// Why a segment's bytes are not the ones its manifest entry describes.
#[derive(Debug, thiserror::Error)]
enum Damage {
    #[error("it is {actual} bytes, its manifest entry says {expected}")]
    Size { actual: u64, expected: u64 },
    #[error(transparent)]
    Checksum(#[from] ChecksumMismatch),
    #[error("its footer points at bytes {}..{}, outside what its checksums cover", .0.start, .0.end)]
    Outside(Range<u64>),
    #[error("its footer has no usable block checksums ({0})")]
    NoBlocks(String),
}

fn damaged(d: impl Into<Damage>) -> ParquetError {
    ParquetError::External(Box::new(d.into()))
}

/// Parquet's view of one segment object: ranged reads, counted, and
/// checked region by region when the manifest entry has checksums.
struct SegmentReader {
    store: Arc<dyn ObjectStore>,
    location: Path,
    io: Arc<IoCounter>,
    layout: Option<Arc<Layout>>,
}

impl SegmentReader {
    /// A reader for the footer: of a checked segment, only the tail can
    /// be read.
    fn new(
        store: &ColdStore,
        segment: SegmentRef<'_>,
        io: Arc<IoCounter>,
    ) -> Result<Self, ColdError> {
        Ok(Self {
            store: store.object_store().clone(),
            location: store.location(segment.path)?,
            io,
            layout: segment
                .expected
                .map(|(size, sums)| Arc::new(Layout::new(size, sums))),
        })
    }

    /// A reader for row groups, once the footer is known: of a checked
    /// segment, the data blocks are checked against the CRCs the footer
    /// holds.
    fn for_data(
        store: &ColdStore,
        segment: SegmentRef<'_>,
        io: Arc<IoCounter>,
        footer: &Footer,
    ) -> Result<Self, ColdError> {
        let mut reader = Self::new(store, segment, io)?;
        if let Some(layout) = reader.layout.take() {
            let blocks = footer
                .blocks
                .clone()
                .ok_or_else(|| "missing".to_string())
                .and_then(|b| layout.as_ref().clone().with_blocks(b));
            match blocks {
                Ok(l) => reader.layout = Some(Arc::new(l)),
                Err(e) => return Err(classify(store, segment.path, damaged(Damage::NoBlocks(e)))),
            }
        }
        Ok(reader)
    }

    /// One counted read: (the object's size, where the bytes start, the
    /// bytes).
    async fn get(&self, range: GetRange) -> parquet::errors::Result<(u64, u64, Bytes)> {
        let get = GetOptions {
            range: Some(range),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&self.location, get)
            .await
            .map_err(external)?;
        let (size, start) = (result.meta.size, result.range.start);
        let bytes = result.bytes().await.map_err(external)?;
        self.io.record(bytes.len());
        Ok((size, start, bytes))
    }

    /// `ranges`, each widened to whole checked regions, the overlapping
    /// ones read once, every region checked; then cut back to what was
    /// asked.
    async fn read_checked(
        &self,
        layout: &Layout,
        ranges: &[Range<u64>],
    ) -> parquet::errors::Result<Vec<Bytes>> {
        let mut widened = Vec::with_capacity(ranges.len());
        // An empty range needs no bytes (and a store refuses it).
        for r in ranges.iter().filter(|r| r.start < r.end) {
            widened.push(
                layout
                    .widen(r)
                    .ok_or_else(|| damaged(Damage::Outside(r.clone())))?,
            );
        }
        widened.sort_by_key(|r| r.start);
        // Ranges close together are one request (the bytes between are
        // whole regions too, and checked); the rest go out concurrently.
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(widened.len());
        for r in widened {
            match merged.last_mut() {
                Some(last) if r.start <= last.end + COALESCE_GAP => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        let reads = futures::future::try_join_all(
            merged
                .iter()
                .map(|r| self.read_regions(layout, r.clone(), false)),
        )
        .await?;
        ranges
            .iter()
            .map(|r| {
                if r.start >= r.end {
                    return Ok(Bytes::new());
                }
                let (read, bytes) = merged
                    .iter()
                    .zip(&reads)
                    .find(|(m, _)| m.start <= r.start && r.end <= m.end)
                    .ok_or_else(|| damaged(Damage::Outside(r.clone())))?;
                let from = usize::try_from(r.start - read.start)
                    .map_err(|e| ParquetError::General(e.to_string()))?;
                let to = usize::try_from(r.end - read.start)
                    .map_err(|e| ParquetError::General(e.to_string()))?;
                Ok(bytes.slice(from..to))
            })
            .collect()
    }

    /// One read of whole regions, `range`, checked: the object must still
    /// have the size the manifest recorded, and every region its checksum.
    /// `suffix` asks for it as the object's last bytes, which a store
    /// answers whatever the object's size, so that a truncated segment is
    /// told apart from an unreachable one.
    async fn read_regions(
        &self,
        layout: &Layout,
        range: Range<u64>,
        suffix: bool,
    ) -> parquet::errors::Result<Bytes> {
        let (actual, got_start, bytes) = self
            .get(if suffix {
                GetRange::Suffix(range.end - range.start)
            } else {
                GetRange::Bounded(range.clone())
            })
            .await?;
        if actual != layout.size {
            return Err(damaged(Damage::Size {
                actual,
                expected: layout.size,
            }));
        }
        if got_start != range.start {
            return Err(damaged(ChecksumMismatch { range, short: true }));
        }
        layout
            .verify(range.start, range.end - range.start, &bytes)
            .map_err(damaged)?;
        Ok(bytes)
    }
}

fn external(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for SegmentReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            if let Some(layout) = self.layout.clone() {
                let mut parts = self.read_checked(&layout, &[range]).await?;
                return parts
                    .pop()
                    .ok_or_else(|| ParquetError::General("no bytes read".into()));
            }
            let b = self
                .store
                .get_range(&self.location, range)
                .await
                .map_err(external)?;
            self.io.record(b.len());
            Ok(b)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            if let Some(layout) = self.layout.clone() {
                return self.read_checked(&layout, &ranges).await;
            }
            let parts = self
                .store
                .get_ranges(&self.location, &ranges)
                .await
                .map_err(external)?;
            self.io.record(parts.iter().map(Bytes::len).sum());
            Ok(parts)
        }
        .boxed()
    }

    /// One suffix read fetches the tail of the object (and tells its
    /// size); footer and page index are served from it when they fit, and
    /// fetched by range otherwise. (Parquet's own suffix loader cannot
    /// place a page index outside its first read.) Of a checked segment,
    /// the first read is exactly its tail (page index and footer), checked
    /// against the manifest entry before anything is parsed.
    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let (size, tail_start, tail) = match self.layout.clone() {
                Some(layout) => {
                    let (start, size) = (layout.tail_start, layout.size);
                    let tail = self.read_regions(&layout, start..size, true).await?;
                    (size, start, tail)
                }
                None => self.get(GetRange::Suffix(FOOTER_HINT as u64)).await?,
            };
            let fetch = TailFetch {
                reader: self,
                tail_start,
                tail,
            };
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(fetch, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// Serves metadata reads from an already fetched tail of the object.
struct TailFetch<'a> {
    reader: &'a mut SegmentReader,
    tail_start: u64,
    tail: Bytes,
}

impl MetadataFetch for TailFetch<'_> {
    fn fetch(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        let tail_end = self.tail_start + self.tail.len() as u64;
        if range.start >= self.tail_start && range.end <= tail_end {
            let (from, to) = (range.start - self.tail_start, range.end - self.tail_start);
            if let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(to)) {
                let bytes = self.tail.slice(from..to);
                return async move { Ok(bytes) }.boxed();
            }
        }
        self.reader.get_bytes(range)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::storage::StorageDef;

    /// Before the footer is known only the tail can be read; empty ranges
    /// cost nothing; ranges are cut back exactly from widened reads.
    #[tokio::test]
    async fn checked_ranges_before_the_footer_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let store = ColdStore::open(&StorageDef::local(dir.path(), 0)).unwrap();
        let file: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        store
            .put_durable("f.bin", Bytes::from(file.clone()))
            .await
            .unwrap();
        let sums = SegmentChecksums {
            algorithm: crate::checksum::ChecksumAlgorithm::Crc32,
            tail_start: 40_000,
            tail_crc: crc32fast::hash(&file[40_000..]),
        };
        let io = Arc::new(IoCounter::default());
        let segment = SegmentRef {
            path: "f.bin",
            expected: Some((50_000, &sums)),
        };
        let mut reader = SegmentReader::new(&store, segment, io.clone()).unwrap();
        let parts = reader
            .get_byte_ranges(vec![45_000..45_010, 7..7, 49_990..50_000])
            .await
            .unwrap();
        assert_eq!(parts[0], &file[45_000..45_010]);
        assert!(parts[1].is_empty());
        assert_eq!(parts[2], &file[49_990..50_000]);
        // One request for the tail, read whole and checked once.
        assert_eq!((io.requests(), io.bytes()), (1, 10_000));
        let err = reader.get_bytes(100..200).await.unwrap_err();
        assert_eq!(
            classify(&store, "f.bin", err).to_string(),
            "Segment 'f.bin' in storage 'local' is unreadable: its footer points at bytes 100..200, outside what its checksums cover"
        );
    }

    #[tokio::test]
    async fn a_decoder_panic_becomes_a_corrupt_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = ColdStore::open(&StorageDef::local(dir.path(), 0)).unwrap();
        let result: Result<(), ColdError> = guarded(&store, "a/seg.parquet", async {
            panic!("decoder bug");
        })
        .await;
        let err = result.unwrap_err();
        assert!(matches!(err, ColdError::Corrupt(_)));
        assert_eq!(
            err.to_string(),
            "Segment 'a/seg.parquet' in storage 'local' is unreadable: the Parquet decoder failed on its contents"
        );
    }

    #[test]
    fn keys_are_narrowed_to_the_column() {
        let keys = [
            PkKey::Int(5),
            PkKey::Int(70_000),
            PkKey::Int(5),
            PkKey::Int(-1),
            PkKey::Text("x".into()),
        ];
        let Wanted::Int(v) = Wanted::new(KeyKind::Int, &DataType::Int16, &keys) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![-1, 5]);
        let Wanted::Int(v) = Wanted::new(KeyKind::Int, &DataType::Int64, &keys) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![-1, 5, 70_000]);
        let Wanted::Text(v) = Wanted::new(KeyKind::Text, &DataType::Utf8, &keys) else {
            panic!("text keys expected");
        };
        assert_eq!(v, vec!["x".to_string()]);

        let w = Wanted::Int(vec![1, 5, 9]);
        let Wanted::Int(v) = w.within(&Some(PkKey::Int(2)), &Some(PkKey::Int(9))) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![5, 9]);
        let Wanted::Int(v) = w.within(&None, &Some(PkKey::Int(4))) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![1], "an unknown minimum excludes nothing");
        let t = Wanted::Text(vec!["a".into(), "m".into(), "zz".into()]);
        let Wanted::Text(v) = t.within(&Some(PkKey::Text("b".into())), &None) else {
            panic!("text keys expected");
        };
        assert_eq!(v, vec!["m".to_string(), "zz".to_string()]);
    }
}
