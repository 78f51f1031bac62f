//! A segment as Parquet's [`AsyncFileReader`] for a scan that someone else
//! drives (the engine plans DataFusion's Parquet scan over a partition's
//! segments and hands it one of these per file): the footer comes from the
//! `ColdStore`'s cache, every byte read is checked against the manifest
//! entry's checksums, exactly as [`read_segment`](super::read_segment)
//! reads.
//!
//! Failures reach the scan as `ParquetError::External` holding the
//! classified [`ColdError`] (corrupt, missing, I/O, naming the segment), so
//! the engine reports them as it reports its own reads' failures.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;

use super::damage::classify;
use super::footer::reader_metadata;
use super::reader::{IoCounter, SegmentReader, SegmentRef};
use crate::checksum::SegmentChecksums;
use crate::error::ColdError;
use crate::segment::SegmentMeta;
use crate::store::ColdStore;

/// One segment, opened lazily: the footer is loaded (or taken from the
/// cache) on the first call, then data reads go through a checked reader.
pub struct SegmentFileReader {
    store: ColdStore,
    path: String,
    expected: Option<(u64, SegmentChecksums)>,
    io: Arc<IoCounter>,
    opened: Option<(SegmentReader, Arc<ParquetMetaData>)>,
}

impl SegmentFileReader {
    /// A reader of `segment` (its path, size and checksums as its manifest
    /// entry gives them) in `store`.
    pub fn new(store: &ColdStore, segment: &SegmentMeta) -> Self {
        Self {
            store: store.clone(),
            path: segment.path.clone(),
            expected: segment.checksums.clone().map(|c| (segment.bytes, c)),
            io: Arc::new(IoCounter::default()),
            opened: None,
        }
    }

    fn segment(&self) -> SegmentRef<'_> {
        SegmentRef {
            path: &self.path,
            expected: self.expected.as_ref().map(|(size, sums)| (*size, sums)),
        }
    }

    fn fail(&self, e: ParquetError) -> ParquetError {
        // Already ours (a nested call failed): keep it as it is.
        if let ParquetError::External(inner) = &e
            && inner.is::<ColdError>()
        {
            return e;
        }
        ParquetError::External(Box::new(classify(&self.store, &self.path, e)))
    }

    async fn open(&mut self) -> Result<(), ParquetError> {
        if self.opened.is_some() {
            return Ok(());
        }
        let segment = self.segment();
        let (footer, _) = reader_metadata(&self.store, segment, &self.io)
            .await
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        let reader = SegmentReader::for_data(&self.store, segment, self.io.clone(), &footer)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        self.opened = Some((reader, footer.meta.metadata().clone()));
        Ok(())
    }

    fn reader(&mut self) -> Result<&mut SegmentReader, ParquetError> {
        self.opened
            .as_mut()
            .map(|(r, _)| r)
            .ok_or_else(|| ParquetError::General("segment read before it was opened".into()))
    }
}

impl AsyncFileReader for SegmentFileReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.open().await?;
            match self.reader()?.get_bytes(range).await {
                Ok(b) => Ok(b),
                Err(e) => Err(self.fail(e)),
            }
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.open().await?;
            match self.reader()?.get_byte_ranges(ranges).await {
                Ok(b) => Ok(b),
                Err(e) => Err(self.fail(e)),
            }
        }
        .boxed()
    }

    /// The cached footer (loaded with the page index where the file has
    /// one, whatever `options` ask: it is the same for every reader).
    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            self.open().await?;
            self.opened
                .as_ref()
                .map(|(_, meta)| meta.clone())
                .ok_or_else(|| ParquetError::General("segment footer not loaded".into()))
        }
        .boxed()
    }
}
