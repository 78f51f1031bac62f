//! The plain part of a range scan's cold tier ([`plain_exec`]): segments
//! that hold the only version of each of their keys (`range_scan.rs`
//! decides which), read by DataFusion's own Parquet scan — only the columns
//! the query needs, row groups, pages and bloom filters pruned by the
//! query's filters, files spread over the target partitions so they decode
//! on every core — through our checked reader
//! ([`kalamdb_cold::SegmentFileReader`]: cached footers, every byte checked
//! against the manifest entry) by way of Parquet's reader-factory hook.
//!
//! Rows never become [`StoredRow`](crate::row::value::StoredRow)s here and
//! no key set is built: a plain segment's row is the newest version of its
//! key by construction, so the only merge step left is dropping tombstones
//! ([`PlainPlan::live`]).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::{filter_record_batch, not};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileGroupPartitioner, FileScanConfigBuilder, ParquetFileReaderFactory, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result as DfResult;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use kalamdb_cold::{ColdStore, SegmentFileReader, SegmentMeta};
use kalamdb_types::SYSTEM_COLUMN_DELETED;

use crate::catalog::table::TableEntry;
use crate::error::KalamError;
use crate::tiers::leases::FilesLease;

/// Opens a segment for DataFusion's Parquet scan: the `SegmentMeta` rides
/// on each file as an extension. Holds the scan's lease, so the files stay
/// while any stream of the plan may open one.
struct SegmentReaderFactory {
    storage: ColdStore,
    _lease: Arc<FilesLease>,
}

impl fmt::Debug for SegmentReaderFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SegmentReaderFactory({})", self.storage.storage_id())
    }
}

impl ParquetFileReaderFactory for SegmentReaderFactory {
    fn create_reader(
        &self,
        _partition_index: usize,
        file: PartitionedFile,
        _metadata_size_hint: Option<usize>,
        _metrics: &ExecutionPlanMetricsSet,
    ) -> DfResult<Box<dyn AsyncFileReader + Send>> {
        let segment = file.extension::<SegmentMeta>().ok_or_else(|| {
            KalamError::internal(format!(
                "segment file '{}' planned without its manifest entry",
                file.object_meta.location
            ))
            .into_datafusion()
        })?;
        Ok(Box::new(SegmentFileReader::new(&self.storage, segment)))
    }
}

/// Segments for [`plain_exec`], and the lease that keeps their files.
pub struct PlainSegments {
    pub storage: ColdStore,
    pub segments: Vec<SegmentMeta>,
    pub lease: Arc<FilesLease>,
}

/// The Parquet scan of some plain segments, and how its batches become the
/// scan's: tombstones dropped, the wanted columns in the wanted order.
pub struct PlainPlan {
    /// DataFusion's Parquet scan, one partition per file group.
    pub exec: Arc<dyn ExecutionPlan>,
    /// Where `_deleted` is in `exec`'s batches.
    deleted: usize,
    /// Where each column of `out` is in `exec`'s batches.
    columns: Vec<usize>,
    out: SchemaRef,
}

impl PlainPlan {
    /// `batch` of `exec` as rows of `out`: its live rows, the wanted
    /// columns, under `out`'s schema (the table's fields and metadata,
    /// which the segment schema's need not match).
    pub fn live(&self, batch: &RecordBatch) -> DfResult<RecordBatch> {
        let deleted = batch
            .column(self.deleted)
            .as_boolean_opt()
            .ok_or_else(|| KalamError::internal("_deleted is not BOOLEAN").into_datafusion())?;
        let live = match deleted.true_count() {
            0 => batch.clone(),
            _ => filter_record_batch(batch, &not(deleted)?)?,
        };
        let columns = self
            .columns
            .iter()
            .map(|&i| live.column(i).clone())
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(live.num_rows()));
        Ok(RecordBatch::try_new_with_options(
            self.out.clone(),
            columns,
            &options,
        )?)
    }
}

/// The Parquet scan reading `plain` in `groups` partitions (at most), for
/// rows of `out` (the scan's projected schema, whose columns the segments
/// hold under the same names: they are of the table's current schema
/// version). `predicate` (over the segment schema, [`pruning_predicate`])
/// prunes row groups, pages and bloom filters; it is no filter: DataFusion
/// applies the query's filters above the scan.
pub fn plain_exec(
    entry: &TableEntry,
    plain: PlainSegments,
    out: &SchemaRef,
    predicate: Option<Arc<dyn PhysicalExpr>>,
    groups: usize,
) -> DfResult<PlainPlan> {
    let file_schema = entry.segment_schema();
    let index = |name: &str| {
        file_schema.index_of(name).map_err(|_| {
            KalamError::internal(format!(
                "column '{name}' of {} is not in its segment schema",
                entry.id()
            ))
            .into_datafusion()
        })
    };
    let wanted_out = out
        .fields()
        .iter()
        .map(|f| index(f.name()))
        .collect::<DfResult<Vec<usize>>>()?;
    let deleted_at = index(SYSTEM_COLUMN_DELETED)?;
    let mut read: Vec<usize> = wanted_out.clone();
    read.push(deleted_at);
    read.sort_unstable();
    read.dedup();
    let position = |i: usize| read.iter().position(|&r| r == i).unwrap_or(usize::MAX);

    let factory = SegmentReaderFactory {
        storage: plain.storage,
        _lease: plain.lease,
    };
    // Without the schema's metadata (the schema version): the scan's
    // batches are re-labelled with the table's schema anyway.
    let table_schema = Arc::new(
        file_schema
            .as_ref()
            .clone()
            .with_metadata(Default::default()),
    );
    let mut source =
        ParquetSource::new(table_schema).with_parquet_file_reader_factory(Arc::new(factory));
    if let Some(predicate) = predicate {
        source = source.with_predicate(predicate);
    }
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
        .with_file_groups(file_groups(plain.segments, groups))
        .with_projection_indices(Some(read.clone()))?
        .build();
    Ok(PlainPlan {
        exec: DataSourceExec::from_data_source(config),
        deleted: position(deleted_at),
        columns: wanted_out.into_iter().map(position).collect(),
        out: out.clone(),
    })
}

/// The query's filters as one predicate over `entry`'s segment schema,
/// for pruning; `None` if there are none or one cannot be expressed there
/// (pruning is an optimisation: the filters are applied above the scan).
pub fn pruning_predicate(
    session: &dyn Session,
    entry: &TableEntry,
    filters: &[Expr],
) -> Option<Arc<dyn PhysicalExpr>> {
    let file_schema = entry.segment_schema();
    // Columns come qualified with the table's name; the segment schema's
    // are not.
    let unqualified = filters
        .iter()
        .map(|f| {
            f.clone()
                .transform(|e| {
                    Ok(match e {
                        Expr::Column(c) => {
                            Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))
                        }
                        other => Transformed::no(other),
                    })
                })
                .map(|t| t.data)
        })
        .collect::<DfResult<Vec<Expr>>>()
        .ok()?;
    let expr = conjunction(unqualified)?;
    let schema = DFSchema::try_from(file_schema.as_ref().clone()).ok()?;
    session.create_physical_expr(expr, &schema).ok()
}

/// Plain segments of at least this many bytes in all are split by byte
/// ranges (Parquet reads the row groups whose middle falls in its range),
/// so that one large segment still decodes on every core.
const SPLIT_MIN_BYTES: usize = 1 << 20;

/// `segments` spread over at most `target` groups of about equal bytes,
/// one stream each: cut into byte ranges when they are large enough
/// (DataFusion's `FileGroupPartitioner`), else whole files, largest first,
/// each to the lightest group.
fn file_groups(segments: Vec<SegmentMeta>, target: usize) -> Vec<FileGroup> {
    let whole = whole_file_groups(segments, target);
    if whole.len() == target || whole.is_empty() {
        return whole;
    }
    let all = FileGroup::new(whole.into_iter().flat_map(FileGroup::into_inner).collect());
    FileGroupPartitioner::new()
        .with_target_partitions(target)
        .with_repartition_file_min_size(SPLIT_MIN_BYTES)
        .repartition_file_groups(std::slice::from_ref(&all))
        .unwrap_or_else(|| vec![all])
}

fn whole_file_groups(mut segments: Vec<SegmentMeta>, target: usize) -> Vec<FileGroup> {
    segments.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    let n = target.clamp(1, segments.len().max(1));
    let mut groups: Vec<(u64, Vec<PartitionedFile>)> = (0..n).map(|_| (0, Vec::new())).collect();
    for seg in segments {
        let file = PartitionedFile::new(seg.path.clone(), seg.bytes).with_extension(seg);
        if let Some(lightest) = groups.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            lightest.0 += file.object_meta.size;
            lightest.1.push(file);
        }
    }
    groups
        .into_iter()
        .filter(|(_, files)| !files.is_empty())
        .map(|(_, files)| FileGroup::new(files))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn seg(path: &str, bytes: u64) -> SegmentMeta {
        SegmentMeta {
            path: path.into(),
            rows: 1,
            bytes,
            min_seq: 1,
            max_seq: 1,
            created_at: 0,
            columns: Default::default(),
            checksums: None,
            schema_version: None,
        }
    }

    #[test]
    fn files_spread_over_groups_of_about_equal_bytes() {
        let segs = vec![seg("a", 10), seg("b", 70), seg("c", 30), seg("d", 40)];
        let groups = whole_file_groups(segs, 2);
        let sizes: Vec<u64> = groups
            .iter()
            .map(|g| g.files().iter().map(|f| f.object_meta.size).sum())
            .collect();
        assert_eq!(sizes, vec![80, 70]);
        assert_eq!(file_groups(vec![seg("a", 1)], 8).len(), 1);
        // One large file: two byte ranges of it.
        let big = file_groups(vec![seg("big", 8 << 20)], 2);
        let ranges: Vec<_> = big
            .iter()
            .map(|g| {
                let f = &g.files()[0];
                assert_eq!(f.extension::<SegmentMeta>().unwrap().path, "big");
                f.range.clone().map(|r| (r.start, r.end))
            })
            .collect();
        assert_eq!(ranges, vec![Some((0, 4 << 20)), Some((4 << 20, 8 << 20))]);
        assert!(file_groups(Vec::new(), 2).is_empty());
        let one = file_groups(vec![seg("x", 5)], 2);
        let file = &one[0].files()[0];
        assert_eq!(file.extension::<SegmentMeta>().unwrap().path, "x");
    }
}
