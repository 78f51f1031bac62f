//! How a failed segment read is reported: a [`Damage`] found while
//! checking bytes travels through Parquet as an external error, and
//! [`classify`] turns whatever Parquet returns into the `ColdError` the
//! caller acts on (`Corrupt`, `Missing` or `Io`), naming the segment;
//! [`guarded`] does the same for a panic of the decoder.
//!
//! One place for these messages, because users see them verbatim
//! (docs/storage-format.md quotes them).

use std::fmt::Display;
use std::future::Future;
use std::ops::Range;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use parquet::errors::ParquetError;

use crate::checksum::ChecksumMismatch;
use crate::error::ColdError;
use crate::store::ColdStore;

/// Why a segment's bytes are not the ones its manifest entry describes.
#[derive(Debug, thiserror::Error)]
pub(super) enum Damage {
    #[error("it is {actual} bytes, its manifest entry says {expected}")]
    Size { actual: u64, expected: u64 },
    #[error(transparent)]
    Checksum(#[from] ChecksumMismatch),
    #[error("its footer points at bytes {}..{}, outside what its checksums cover", .0.start, .0.end)]
    Outside(Range<u64>),
    #[error("its footer has no usable block checksums ({0})")]
    NoBlocks(String),
}

pub(super) fn damaged(d: impl Into<Damage>) -> ParquetError {
    ParquetError::External(Box::new(d.into()))
}

/// Parquet errors that wrap an object store error are I/O failures; the
/// rest mean the bytes are not a readable segment.
pub(super) fn classify(store: &ColdStore, path: &str, e: ParquetError) -> ColdError {
    if let ParquetError::External(inner) = &e
        && let Some(damage) = inner.downcast_ref::<Damage>()
    {
        return corrupt(store, path, format!("is unreadable: {damage}"));
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
    corrupt(store, path, format!("is unreadable: {e}"))
}

/// Runs a read, turning a panic of the decoder on malformed data into a
/// `Corrupt` error.
pub(super) async fn guarded<T>(
    store: &ColdStore,
    path: &str,
    fut: impl Future<Output = Result<T, ColdError>>,
) -> Result<T, ColdError> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(corrupt(
            store,
            path,
            "is unreadable: the Parquet decoder failed on its contents",
        )),
    }
}

/// A `Corrupt` error about segment `path`; `what` ends the sentence ("is
/// unreadable: …", "has no column …").
pub(super) fn corrupt(store: &ColdStore, path: &str, what: impl Display) -> ColdError {
    ColdError::Corrupt(format!(
        "Segment '{path}' in storage '{}' {what}",
        store.storage_id()
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::storage::StorageDef;

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
}
