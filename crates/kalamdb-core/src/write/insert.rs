//! The commit of an INSERT's rows ([`commit_inserts`]): all or none;
//! duplicate keys — against both tiers and within the statement — fail the
//! statement.
//!
//! A key whose newest version is in the cold tier is looked up before the
//! commit (segment reads do not belong on the committer thread); the commit
//! then checks that no flush changed the partition's manifest meanwhile,
//! and the statement starts over if one did.

use std::collections::HashSet;
use std::sync::Arc;

use kalamdb_store::{Partition, PkValue, RowKey, Space};

use crate::catalog::lifetime::now_millis;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::row::key::{pk_display, pk_from_value};
use crate::row::value::{StoredRow, Value, stored_values};
use crate::write::shared::Shared;

/// How often a statement racing with flushes is re-run before giving up.
pub const MAX_ATTEMPTS: usize = 16;

/// Commits the rows of one INSERT (values in column order); returns the
/// `_seq` each row was written with, in row order (RETURNING reads them).
pub async fn commit_inserts(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    rows: Vec<Vec<Value>>,
) -> Result<Vec<i64>> {
    let rows = Arc::new(rows);
    let pk_idx = entry.def.primary_key().map(|(i, _)| i);
    for _ in 0..MAX_ATTEMPTS {
        // Keys whose newest cold version is live: taken unless a newer hot
        // version (checked in the commit) says otherwise. The manifest
        // version pins the cold state this answer is valid for.
        let keys: Vec<PkValue> = match pk_idx {
            Some(i) => rows
                .iter()
                .filter_map(|r| r.get(i).and_then(pk_from_value))
                .collect(),
            None => Vec::new(),
        };
        let (manifest_version, cold) =
            crate::tiers::cold_read::lookup_cold(shared.cold(), entry, &partition, &keys).await?;
        let cold_live: HashSet<PkValue> = cold
            .into_iter()
            .filter(|(_, row)| !row.deleted)
            .map(|(pk, _)| pk)
            .collect();
        match commit_once(
            shared,
            entry,
            partition.clone(),
            rows.clone(),
            cold_live,
            manifest_version,
        )
        .await
        {
            Err(KalamError::WriteConflict(_)) => continue,
            other => return other,
        }
    }
    Err(KalamError::exec(format!(
        "INSERT into {} kept racing with flushes; retry",
        entry.id()
    )))
}

async fn commit_once(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    rows: Arc<Vec<Vec<Value>>>,
    cold_live: HashSet<PkValue>,
    manifest_version: u64,
) -> Result<Vec<i64>> {
    let e = entry.clone();
    shared
        .write_table(entry, move |ctx| {
            let entry = e;
            let table = entry.id();
            let pk_idx = entry.def.primary_key().map(|(i, _)| i);
            let mut seqs = Vec::with_capacity(rows.len());
            let expiry = entry.expiry_cutoff(now_millis());
            // Only when the cold tier was consulted is there something a
            // flush could have changed under the statement.
            if (!cold_live.is_empty() || manifest_version > 0)
                && ctx.manifest(&table, &partition)?.version != manifest_version
            {
                return Err(KalamError::WriteConflict(format!(
                    "{table} was flushed during the INSERT"
                )));
            }
            // Keyed rows: their current versions read with one lookup
            // before the first is staged (a key repeated within the rows is
            // found staged by this closure itself, below).
            let keys: Vec<RowKey> = match pk_idx {
                Some(i) => rows
                    .iter()
                    .map(|values| {
                        values
                            .get(i)
                            .and_then(pk_from_value)
                            .map(|pk| RowKey {
                                table: table.clone(),
                                partition: partition.clone(),
                                pk,
                            })
                            .ok_or_else(|| KalamError::internal("primary key value missing"))
                    })
                    .collect::<Result<_>>()?,
                None => Vec::new(),
            };
            let encoded: Vec<Vec<u8>> = keys.iter().map(RowKey::encode).collect();
            let mut current = ctx.get_rows(&encoded)?.into_iter();
            let mut keys = keys.into_iter().zip(encoded);
            for values in rows.iter().cloned() {
                let seq = ctx.next_seq();
                let (key, hot) = match keys.next() {
                    Some((key, encoded)) => {
                        let read = current.next().flatten();
                        let hot = match ctx.staged_here(Space::Rows, &encoded) {
                            Some(staged) => staged.map(|v| StoredRow::decode(&v)).transpose()?,
                            None => read,
                        };
                        (key, hot)
                    }
                    None => (
                        RowKey {
                            table: table.clone(),
                            partition: partition.clone(),
                            pk: PkValue::RowId(seq.as_i64()),
                        },
                        None,
                    ),
                };
                let taken = match hot {
                    // The hot version, if any, is the newest; a STREAM row
                    // past its TTL is gone even before eviction.
                    Some(row) => !row.deleted && expiry.is_none_or(|cutoff| row.seq >= cutoff),
                    None => cold_live.contains(&key.pk),
                };
                if pk_idx.is_some() && taken {
                    return Err(KalamError::exec(format!(
                        "Duplicate primary key value '{}' in table '{table}'",
                        pk_display(&key.pk)
                    )));
                }
                let row = StoredRow {
                    seq: seq.as_i64(),
                    deleted: false,
                    version: entry.def.version,
                    values: stored_values(&entry.def.columns, values),
                };
                seqs.push(row.seq);
                ctx.put_row(&entry, key, None, row)?;
            }
            Ok(seqs)
        })
        .await
}
