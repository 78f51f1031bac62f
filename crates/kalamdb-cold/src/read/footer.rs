//! A segment's footer: loaded once through the `ColdStore`'s footer cache
//! (with, for a checked segment, the data blocks' CRCs it holds), and the
//! schema it records put back on decoded batches.

use std::sync::Arc;

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::PageIndexPolicy;

use super::damage::{Damage, classify, damaged};
use super::reader::{IoCounter, SegmentReader, SegmentRef};
use crate::cache::Footer;
use crate::checksum::{BLOCK_CHECKSUMS_KEY, BlockChecksums};
use crate::error::ColdError;
use crate::store::ColdStore;

/// The segment's footer: cached, or read (and cached).
pub(super) async fn reader_metadata(
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

/// Batches decoded from Parquet carry the fields (with their metadata) but
/// not the schema-level metadata: put it back, so a segment reads back with
/// exactly the schema it was written with.
pub(super) fn with_schema_metadata(
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
