//! Reading a whole segment (or some of its columns) for scans.

use std::sync::Arc;

use arrow::array::RecordBatch;
use futures::TryStreamExt;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use super::damage::{classify, guarded};
use super::footer::{reader_metadata, with_schema_metadata};
use super::reader::{IoCounter, SegmentReader, SegmentRef};
use crate::error::ColdError;
use crate::store::ColdStore;

/// Rows per decoded batch.
pub(super) const BATCH_ROWS: usize = 8_192;

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
