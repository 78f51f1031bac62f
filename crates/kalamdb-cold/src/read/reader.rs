//! Parquet's view of one segment object ([`SegmentReader`]): ranged
//! object reads, counted ([`IoCounter`]), and, when the manifest entry
//! has checksums, widened to whole checked regions and verified before
//! Parquet sees a byte (the regions are `checksum::Layout`'s).
//!
//! Also what names a segment to read ([`SegmentRef`]): the path and,
//! from the manifest entry, the size and checksums its bytes must have.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, MetadataFetch};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::damage::{Damage, classify, damaged};
use crate::cache::Footer;
use crate::checksum::{ChecksumMismatch, Layout, SegmentChecksums};
use crate::error::ColdError;
use crate::segment::SegmentMeta;
use crate::store::ColdStore;

/// Bytes fetched from the end of a segment in the first footer read: the
/// footer and page index of a typical segment fit, so loading them is one
/// request.
const FOOTER_HINT: usize = 64 * 1024;
/// Checked reads closer than this are fetched as one request.
const COALESCE_GAP: u64 = 64 * 1024;

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

/// Object store reads and bytes, for [`LookupStats`](crate::LookupStats).
#[derive(Default)]
pub(super) struct IoCounter {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl IoCounter {
    pub(super) fn record(&self, bytes: usize) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(super) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(super) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// Parquet's view of one segment object: ranged reads, counted, and
/// checked region by region when the manifest entry has checksums.
pub(super) struct SegmentReader {
    store: Arc<dyn ObjectStore>,
    location: Path,
    io: Arc<IoCounter>,
    layout: Option<Arc<Layout>>,
}

impl SegmentReader {
    /// A reader for the footer: of a checked segment, only the tail can
    /// be read.
    pub(super) fn new(
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
    pub(super) fn for_data(
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
}
