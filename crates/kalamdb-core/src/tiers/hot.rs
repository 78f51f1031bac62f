//! The hot tier's rows as background work and key checks see them: chunked
//! reads of a table's or partition's key range (never the whole range in
//! memory at once), and the questions flushes and DROP ask of it.
//!
//! The per-query read of the hot tier (point keys, chunked range scans,
//! then the cold tier) is `read/scan.rs`; it pages with [`scan_chunk`] too.

use std::ops::Bound;

use kalamdb_store::{Direction, HotRead, KeyRange, KvPair, Partition, RowKey, RowPrefix, Space};
use kalamdb_types::TableId;

use crate::catalog::table::TableEntry;
use crate::error::Result;
use crate::row::value::StoredRow;

/// Rows read per blocking store call by background work.
pub const CHUNK: usize = 4096;

/// Reads up to `limit` entries of `range`; returns them and the rest of the
/// range (`None` once the range is exhausted).
pub fn scan_chunk(
    store: &dyn HotRead,
    space: Space,
    range: &KeyRange,
    limit: usize,
) -> Result<(Vec<KvPair>, Option<KeyRange>)> {
    let entries = store.scan(space, range, Direction::Forward, limit)?;
    let rest = match entries.last() {
        Some((last, _)) if entries.len() == limit => Some(KeyRange::new(
            Bound::Excluded(last.clone()),
            range.end.clone(),
        )),
        _ => None,
    };
    Ok((entries, rest))
}

/// Calls `f` with each chunk of rows in `range`, in key order, until the
/// range is done or `f` answers `false`.
pub fn for_each_chunk(
    store: &dyn HotRead,
    range: KeyRange,
    mut f: impl FnMut(Vec<KvPair>) -> Result<bool>,
) -> Result<()> {
    let mut next = Some(range);
    while let Some(range) = next.take() {
        let (chunk, rest) = scan_chunk(store, Space::Rows, &range, CHUNK)?;
        if !f(chunk)? {
            break;
        }
        next = rest;
    }
    Ok(())
}

/// Does the table have any hot row (in any partition)?
pub fn has_hot_rows(store: &dyn HotRead, table: &TableId) -> Result<bool> {
    Ok(!store
        .scan(
            Space::Rows,
            &RowPrefix::Table(table.clone()).range(),
            Direction::Forward,
            1,
        )?
        .is_empty())
}

/// Where the keys after `partition` of `table` start (`None`: it is the
/// last possible partition).
pub fn after_partition(table: &TableId, partition: &Partition) -> Option<Bound<Vec<u8>>> {
    match RowPrefix::Partition(table.clone(), partition.clone())
        .range()
        .end
    {
        Bound::Excluded(end) => Some(Bound::Included(end)),
        Bound::Included(end) => Some(Bound::Excluded(end)),
        Bound::Unbounded => None,
    }
}

/// The partitions of a table that hold hot rows: one seek per partition, so
/// idle users cost nothing.
pub fn hot_partitions(store: &dyn HotRead, entry: &TableEntry) -> Result<Vec<Partition>> {
    let table = entry.id();
    if !entry.def.table_type.is_per_user() {
        return Ok(if has_hot_rows(store, &table)? {
            vec![Partition::Shared]
        } else {
            vec![]
        });
    }
    let mut out = Vec::new();
    let mut range = RowPrefix::Table(table.clone()).range();
    loop {
        let first = store.scan(Space::Rows, &range, Direction::Forward, 1)?;
        let Some((key, _)) = first.first() else {
            return Ok(out);
        };
        let partition = RowKey::decode(key)?.partition;
        let next = after_partition(&table, &partition);
        out.push(partition);
        match next {
            Some(start) => range = KeyRange::new(start, range.end.clone()),
            None => return Ok(out),
        }
    }
}

/// Every hot row of one partition, decoded, with its key.
pub fn read_partition(
    store: &dyn HotRead,
    table: &TableId,
    partition: &Partition,
) -> Result<Vec<(Vec<u8>, StoredRow)>> {
    let mut out = Vec::new();
    let range = RowPrefix::Partition(table.clone(), partition.clone()).range();
    for_each_chunk(store, range, |chunk| {
        for (k, v) in chunk {
            out.push((k, StoredRow::decode(&v)?));
        }
        Ok(true)
    })?;
    Ok(out)
}

/// Bytes of keys and values a table holds in the hot tier.
pub fn hot_bytes(store: &dyn HotRead, table: &TableId) -> Result<u64> {
    let mut total = 0u64;
    for_each_chunk(store, RowPrefix::Table(table.clone()).range(), |chunk| {
        total += chunk
            .iter()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum::<u64>();
        Ok(true)
    })?;
    Ok(total)
}
