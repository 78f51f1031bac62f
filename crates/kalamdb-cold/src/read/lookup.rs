//! Point lookups: the rows of a segment whose key is one of a few, found
//! by touching as little of the segment as possible (the pruning steps are
//! in the `read` module docs), and [`LookupStats`] saying what was touched.

use std::sync::Arc;

use arrow::array::{Array, RecordBatch};
use arrow::error::ArrowError;
use futures::TryStreamExt;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, RowFilter, RowSelection, RowSelector};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};
use parquet::bloom_filter::Sbbf;
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;

use super::damage::{classify, corrupt, guarded};
use super::footer::{reader_metadata, with_schema_metadata};
use super::keys::{Wanted, bloom_survivors, bounds, membership};
use super::reader::{IoCounter, SegmentReader, SegmentRef};
use super::scan::BATCH_ROWS;
use crate::error::ColdError;
use crate::segment::{KeyKind, PkKey, key_kind};
use crate::store::ColdStore;

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

impl LookupStats {
    /// With the reads `io` counted, once the lookup is done.
    fn with_io(mut self, io: &IoCounter) -> Self {
        self.requests = io.requests();
        self.bytes_read = io.bytes();
        self
    }
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

async fn lookup(
    store: &ColdStore,
    segment: SegmentRef<'_>,
    pk_column: &str,
    keys: &[PkKey],
) -> Result<(Vec<RecordBatch>, LookupStats), ColdError> {
    let path = segment.path;
    let unusable = |e: ParquetError| corrupt(store, path, format!("has unusable statistics: {e}"));
    let no_column = || corrupt(store, path, format!("has no column '{pk_column}'"));
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
        return Err(no_column());
    };
    let Some(kind) = key_kind(field.data_type()) else {
        return Err(ColdError::InvalidSegment(format!(
            "Column '{pk_column}' of segment '{path}' has type {}, which cannot be a lookup key",
            field.data_type()
        )));
    };
    let wanted = Wanted::new(kind, field.data_type(), keys);
    if wanted.is_empty() {
        return Ok((Vec::new(), stats.with_io(&io)));
    }
    let parquet_meta = meta.metadata().clone();
    let converter = StatisticsConverter::try_new(pk_column, &schema, meta.parquet_schema())
        .map_err(unusable)?;
    let Some(leaf) = converter.parquet_column_index() else {
        return Err(no_column());
    };
    let row_groups = parquet_meta.row_groups();
    let mins = bounds(
        &converter
            .row_group_mins(row_groups.iter())
            .map_err(unusable)?,
        kind,
    );
    let maxes = bounds(
        &converter
            .row_group_maxes(row_groups.iter())
            .map_err(unusable)?,
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
        return Ok((Vec::new(), stats.with_io(&io)));
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
    Ok((batches, stats.with_io(&io)))
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
