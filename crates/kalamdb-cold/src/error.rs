//! The crate's one error type. Variants are split by what the caller has to
//! do about them: fix a definition (`InvalidStorage`), fix or replace the
//! storage (`NotWritable`), retry or report (`Io`), reload the manifest (`Missing`), treat the data as
//! damaged (`Corrupt`), or fix the calling code (`InvalidSegment`). Every message is complete and meant for users; none
//! is a `Debug` dump.

#[derive(Debug, Clone, thiserror::Error)]
pub enum ColdError {
    /// A storage definition or path template is wrong (the spec's messages,
    /// e.g. "USER_TABLES_TEMPLATE must contain {userId}").
    #[error("{0}")]
    InvalidStorage(String),
    /// The storage refused the probe: "Storage 'id' is not writable: …".
    #[error("{0}")]
    NotWritable(String),
    /// An object store or filesystem operation failed; names the storage and
    /// the path.
    #[error("{0}")]
    Io(String),
    /// A segment or object is not in the storage. For a segment a manifest
    /// lists, this is the normal sign that a compaction replaced it after
    /// the reader loaded that manifest: reload the manifest and read again.
    #[error("{0}")]
    Missing(String),
    /// A segment or manifest cannot be decoded (truncated, overwritten,
    /// not Parquet, not the expected columns).
    #[error("{0}")]
    Corrupt(String),
    /// The caller asked for something the segment format does not do:
    /// rows that do not fit it (no `_seq`, a batch whose columns differ from
    /// the schema, no rows), or a lookup by a column that cannot be a key.
    /// A bug in the caller, never caused by stored data.
    #[error("{0}")]
    InvalidSegment(String),
}
