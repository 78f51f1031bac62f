//! Layer `tiers`: where a table's rows live and how both tiers are read.
//! The hot tier holds the newest version of each key in the store's `rows`
//! keyspace; flushed rows live in Parquet segments listed by per-partition
//! manifests. Reading merges them with one rule: the hot version of a key,
//! if any, is the newest; otherwise the one with the highest `_seq` among
//! the segments.
//!
//! Read-only: nothing here writes (writes go through `write`). May import:
//! `error`, `access`, `row`, `catalog`.

pub mod cold_read;
pub mod hot;
pub mod leases;
pub mod manifest;
