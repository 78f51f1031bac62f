//! The commit of an UPDATE's or DELETE's rows ([`commit_changes`]): one new
//! version per row read by the statement's keyed read, written only if the
//! row is still the version read (optimistic concurrency: otherwise the
//! commit fails with `WriteConflict` and the statement is re-run, so
//! concurrent UPDATEs of one row leave one consistent newest version).

use std::sync::Arc;

use kalamdb_store::{Partition, PkValue, RowKey};

use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::row::value::{StoredRow, Value, stored_values};
use crate::write::shared::Shared;

/// One row to rewrite: its key, the `_seq` read, and (UPDATE) its new values.
pub struct Change {
    pub pk: PkValue,
    pub read_seq: i64,
    /// The row as read (a DELETE's tombstone keeps them; a row read from the
    /// cold tier has no hot version to take them from).
    pub old_values: Vec<Value>,
    /// `None`: delete the row.
    pub new_values: Option<Vec<Value>>,
}

/// What an UPDATE or DELETE commit wrote.
#[derive(Debug, Default)]
pub struct Written {
    /// Rows changed (an UPDATE leaving a row as it was does not count).
    pub count: u64,
    /// The versions written, in commit order, when asked for (RETURNING).
    pub rows: Vec<StoredRow>,
}

/// Commits `changes` read while the partition's manifest was at
/// `manifest_version`; `keep`: also return the versions written.
pub async fn commit_changes(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    changes: Vec<Change>,
    manifest_version: u64,
    keep: bool,
) -> Result<Written> {
    if changes.is_empty() {
        return Ok(Written::default());
    }
    let e = entry.clone();
    shared
        .write_table(entry, move |ctx| {
            let entry = e;
            let table = entry.id();
            let mut written = Written::default();
            // A key with no hot version was read from the cold tier; it is
            // still current unless a flush committed since the read.
            let manifest_now = ctx.manifest(&table, &partition)?.version;
            for change in changes {
                let key = RowKey {
                    table: table.clone(),
                    partition: partition.clone(),
                    pk: change.pk,
                };
                let current = match ctx.get_row(&key)? {
                    Some(row) => row,
                    None if manifest_now == manifest_version => StoredRow {
                        seq: change.read_seq,
                        deleted: false,
                        version: entry.def.version,
                        values: stored_values(&entry.def.columns, change.old_values),
                    },
                    None => {
                        return Err(KalamError::WriteConflict(format!(
                            "row of {table} moved to the cold tier"
                        )));
                    }
                };
                if current.seq != change.read_seq || current.deleted {
                    return Err(KalamError::WriteConflict(format!("row of {table} changed")));
                }
                let values = change
                    .new_values
                    .map(|values| stored_values(&entry.def.columns, values));
                let Some(row) = next_version(
                    || ctx.next_seq().as_i64(),
                    &current,
                    values,
                    entry.def.version,
                ) else {
                    continue;
                };
                if keep {
                    written.rows.push(row.clone());
                }
                ctx.put_row(&entry, key, Some(current), row)?;
                written.count += 1;
            }
            Ok(written)
        })
        .await
}

/// The version a change writes over `current`: for an UPDATE (`values`:
/// the new stored values) a new version, or none when the values are the
/// current ones (such an UPDATE writes nothing and does not count); for a
/// DELETE (`values: None`) a tombstone keeping the current values.
/// `next_seq` draws the new version's `_seq` (the commit's, or a
/// transaction's provisional one). `version` is the schema version the new
/// values were computed under; a tombstone keeps the current row's.
pub(crate) fn next_version(
    next_seq: impl FnOnce() -> i64,
    current: &StoredRow,
    values: Option<Vec<(u32, Value)>>,
    version: u32,
) -> Option<StoredRow> {
    match values {
        Some(values) if values == current.values && version == current.version => None,
        Some(values) => Some(StoredRow {
            seq: next_seq(),
            deleted: false,
            version,
            values,
        }),
        None => Some(StoredRow {
            seq: next_seq(),
            deleted: true,
            version: current.version,
            values: current.values.clone(),
        }),
    }
}

/// What [`commit_by_keys`] came to.
pub enum ByKeys {
    /// Rows changed (as [`commit_changes`] counts them).
    Done(u64),
    /// A key has no hot version while the partition has cold segments: its
    /// row must be read from the cold tier first ([`commit_changes`]).
    /// Nothing was written.
    NeedsRead,
}

/// UPDATE (`set`: column index → new value) or DELETE (`None`) of the rows
/// of `keys`, each read inside the commit from the hot tier: the same
/// versions and counts as reading them first and then [`commit_changes`],
/// without the read before the commit (the statement fast path). A key
/// without a hot version is a row that does not exist when the partition
/// has no cold segments; otherwise the answer is [`ByKeys::NeedsRead`].
pub async fn commit_by_keys(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    keys: Vec<PkValue>,
    set: Option<Vec<(usize, Value)>>,
) -> Result<ByKeys> {
    let e = entry.clone();
    shared
        .write_table(entry, move |ctx| {
            let entry = e;
            let table = entry.id();
            let columns = &entry.def.columns;
            // In key order, once each: as a read of those keys returns them.
            let mut keys: Vec<(Vec<u8>, RowKey)> = keys
                .into_iter()
                .map(|pk| {
                    let key = RowKey {
                        table: table.clone(),
                        partition: partition.clone(),
                        pk,
                    };
                    (key.encode(), key)
                })
                .collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            keys.dedup_by(|a, b| a.0 == b.0);
            let has_cold = !ctx.manifest(&table, &partition)?.segments.is_empty();
            let (encoded, keys): (Vec<Vec<u8>>, Vec<RowKey>) = keys.into_iter().unzip();
            let rows = ctx.get_rows(&encoded)?;
            let mut found = Vec::with_capacity(keys.len());
            for (key, row) in keys.into_iter().zip(rows) {
                match row {
                    Some(row) if !row.deleted => found.push((key, row)),
                    // A hot tombstone hides any older cold version.
                    Some(_) => {}
                    None if has_cold => return Ok(ByKeys::NeedsRead),
                    None => {}
                }
            }
            let mut affected = 0;
            for (key, current) in found {
                let values = set.as_ref().map(|set| {
                    let mut values: Vec<Value> = columns
                        .iter()
                        .map(|c| entry.lens.cell(&current, c).into_owned())
                        .collect();
                    for (idx, v) in set {
                        if let Some(slot) = values.get_mut(*idx) {
                            *slot = v.clone();
                        }
                    }
                    stored_values(columns, values)
                });
                let Some(row) = next_version(
                    || ctx.next_seq().as_i64(),
                    &current,
                    values,
                    entry.def.version,
                ) else {
                    continue;
                };
                ctx.put_row(&entry, key, Some(current), row)?;
                affected += 1;
            }
            Ok(ByKeys::Done(affected))
        })
        .await
}
