//! The cold tier: Parquet segments on object storage.
//!
//! Owns: storage definitions (`system.storages` rows) and opening them as
//! `object_store` stores (local filesystem, S3 and S3-compatible
//! endpoints) with durable, atomic writes; path templates; the segment
//! format (encoding, statistics, reading, pruned point lookups); and the
//! manifest format.
//!
//! Must not: touch the hot store (RocksDB), know SQL or HTTP, decide when to
//! flush, or *persist* manifests. The engine keeps manifests in its meta
//! keyspace, atomically with deleting the flushed hot rows — which is why
//! the manifest encoding lives here but its storage does not
//! (docs/storage-format.md, "Cold tier").
//!
//! Modules, each importing only those listed before it: `error`;
//! `template`; `storage` (definitions); `checksum` (what a segment's bytes
//! are checked against); `cache` (footer and bloom filter caches);
//! `store` ([`ColdStore`]); `segment` (the format and its encoding);
//! `manifest`; `read` (reading segments back, split by concern under
//! `read/`).

mod cache;
mod checksum;
mod error;
mod manifest;
mod read;
mod segment;
mod storage;
mod store;
mod template;

pub use checksum::{
    BLOCK_CHECKSUMS_KEY, BlockChecksums, ChecksumAlgorithm, ChecksumMismatch, SegmentChecksums,
};
pub use error::ColdError;
pub use manifest::Manifest;
pub use read::{
    LookupStats, SegmentFileReader, SegmentRef, lookup_segment, lookup_segment_with_stats,
    read_segment,
};
pub use segment::{
    ColumnStats, DELETED_COLUMN, PkKey, ROW_GROUP_ROWS, SEQ_COLUMN, SegmentMeta, SegmentStats,
    compacted_segment_file_name, encode_segment, is_segment_file_name, segment_file_name,
};
pub use storage::{StorageDef, StorageType};
pub use store::ColdStore;
pub use template::{
    DEFAULT_SHARED_TEMPLATE, DEFAULT_USER_TEMPLATE, render_template, validate_template,
};
