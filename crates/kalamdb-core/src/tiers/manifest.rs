//! Manifests: which segments hold a partition's flushed rows. Kept in the
//! `meta` keyspace (`MetaKey::Manifest`, one per table partition) rather
//! than next to the files, so a flush commits the new manifest *and*
//! deletes the flushed hot rows in one atomic, fsync'd batch: no reader or
//! crash can see a row in neither tier or counted in both
//! (docs/storage-format.md, "Flush").

use kalamdb_cold::Manifest;
use kalamdb_store::{Direction, HotRead, MetaKey, MetaPrefix, Partition, Space};
use kalamdb_types::TableId;

use crate::error::Result;

pub fn manifest_key(table: &TableId, partition: &Partition) -> Vec<u8> {
    MetaKey::Manifest(table.clone(), partition.clone()).encode()
}

pub fn decode_manifest(bytes: Option<Vec<u8>>) -> Result<Manifest> {
    match bytes {
        Some(b) => Ok(Manifest::decode(&b)?),
        None => Ok(Manifest::default()),
    }
}

/// The partition's manifest as committed now (empty if never flushed).
pub fn load_manifest(
    store: &dyn HotRead,
    table: &TableId,
    partition: &Partition,
) -> Result<Manifest> {
    decode_manifest(store.get(Space::Meta, &manifest_key(table, partition))?)
}

/// Every manifest of a table, by partition.
pub fn manifests_of(store: &dyn HotRead, table: &TableId) -> Result<Vec<(Partition, Manifest)>> {
    let mut out = Vec::new();
    for (k, v) in store.scan(
        Space::Meta,
        &MetaPrefix::ManifestsOf(table.clone()).range(),
        Direction::Forward,
        usize::MAX,
    )? {
        if let MetaKey::Manifest(_, partition) = MetaKey::decode(&k)? {
            out.push((partition, Manifest::decode(&v)?));
        }
    }
    Ok(out)
}
