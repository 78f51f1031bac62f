//! Transactions (`sql.md` §3.7, [`Txn`]): `BEGIN … COMMIT` within one
//! request.
//!
//! Between BEGIN and COMMIT nothing reaches the store: each INSERT, UPDATE
//! and DELETE *stages* the row versions it would write here, checked as
//! its commit would check them (duplicate keys against both tiers and the
//! transaction's own rows; the version an UPDATE read is still current).
//! The transaction's own statements see its staged rows — the scans of its
//! tables lay them over the stored ones (`read/overlay.rs`) — and nobody
//! else does. COMMIT submits every staged version as one commit request:
//! one atomic batch, one fsync, `_seq` values drawn in staging order, the
//! changes published to live subscribers together after the write is
//! durable. ROLLBACK, a failing statement or the end of the request drop
//! the staged rows; nothing was written, so nothing is undone.
//!
//! Isolation is first-committer-wins on rows: each staged version records
//! the hot version it was based on (`Base`), and COMMIT fails with
//! "Transaction conflict on table 'ns.t'; rolled back" if that row has
//! changed since, or if the version it was based on was committed by
//! someone else after BEGIN. Of two transactions writing one row, the later
//! COMMIT therefore fails. Reads see the committed state as of each
//! statement plus the transaction's own writes (a statement-level
//! snapshot: a row committed by another writer between two statements of
//! the transaction is visible to the second).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kalamdb_store::{Partition, PkValue, RowKey, Space};
use kalamdb_types::{SnowflakeGenerator, TableId};

use crate::catalog::lifetime::now_millis;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::row::key::{pk_display, pk_from_value};
use crate::row::value::{StoredRow, Value, stored_values};
use crate::write::keyed::{Change, Written, next_version};
use crate::write::shared::Shared;

/// Buffered writes a transaction may hold (`max_transaction_buffer_bytes`).
pub const DEFAULT_MAX_BUFFER_BYTES: usize = 100 * 1024 * 1024;

/// One open transaction; see the module docs.
pub struct Txn {
    /// A UUIDv7, as the messages cite it.
    pub id: String,
    /// A `_seq` drawn at BEGIN: every version committed before BEGIN is
    /// below it.
    begin_seq: i64,
    max_bytes: usize,
    seq: Arc<SnowflakeGenerator>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Txn({})", self.id)
    }
}

#[derive(Default)]
struct State {
    /// In staging order; a key staged again replaces its entry in place.
    pending: Vec<Pending>,
    /// Encoded row key → index into `pending`.
    index: HashMap<Vec<u8>, usize>,
    bytes: usize,
}

/// A row version staged by the transaction.
#[derive(Clone)]
pub struct Pending {
    pub entry: Arc<TableEntry>,
    pub key: RowKey,
    /// Its `_seq` is provisional (what the transaction's reads show); the
    /// commit draws the real one.
    pub row: StoredRow,
    base: Base,
}

/// What a staged version was based on: the key's hot version then (`None`:
/// none), and the partition's manifest version (a flush since may have
/// moved the key's version to the cold tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Base {
    hot_seq: Option<i64>,
    manifest_version: u64,
}

fn conflict(table: &TableId) -> KalamError {
    KalamError::WriteConflict(format!(
        "Transaction conflict on table '{table}'; rolled back"
    ))
}

impl Txn {
    pub fn begin(seq: Arc<SnowflakeGenerator>, max_bytes: usize) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            begin_seq: seq.next_id().as_i64(),
            max_bytes,
            seq,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The versions staged for one partition of a table, tombstones
    /// included (they hide stored rows).
    pub fn overlay(&self, table: &TableId, partition: &Partition) -> Vec<(PkValue, StoredRow)> {
        self.state()
            .pending
            .iter()
            .filter(|p| p.key.table == *table && p.key.partition == *partition)
            .map(|p| (p.key.pk.clone(), p.row.clone()))
            .collect()
    }

    fn pending(&self, key: &[u8]) -> Option<Pending> {
        let state = self.state();
        state
            .index
            .get(key)
            .and_then(|&i| state.pending.get(i))
            .cloned()
    }

    /// Adds one statement's versions, all or none.
    fn stage(&self, versions: Vec<Pending>) -> Result<()> {
        let mut sizes = Vec::with_capacity(versions.len());
        for p in &versions {
            sizes.push(p.row.encode()?.len() + p.key.encode().len());
        }
        let mut state = self.state();
        let added: usize = sizes.iter().sum();
        if state.bytes.saturating_add(added) > self.max_bytes {
            return Err(KalamError::exec("Transaction too large"));
        }
        state.bytes += added;
        for p in versions {
            let key = p.key.encode();
            match state.index.get(&key).copied() {
                Some(i) => {
                    if let Some(slot) = state.pending.get_mut(i) {
                        *slot = p;
                    }
                }
                None => {
                    let i = state.pending.len();
                    state.pending.push(p);
                    state.index.insert(key, i);
                }
            }
        }
        Ok(())
    }

    /// Stages an INSERT's rows (values in column order), with the checks of
    /// `insert::commit_inserts`; returns each row's provisional `_seq`.
    pub async fn stage_inserts(
        &self,
        shared: &Arc<Shared>,
        entry: &Arc<TableEntry>,
        partition: Partition,
        rows: Vec<Vec<Value>>,
    ) -> Result<Vec<i64>> {
        let table = entry.id();
        let pk_idx = entry.def.primary_key().map(|(i, _)| i);
        let keys: Vec<RowKey> = rows
            .iter()
            .map(|values| {
                let pk = match pk_idx {
                    Some(i) => values
                        .get(i)
                        .and_then(pk_from_value)
                        .ok_or_else(|| KalamError::internal("primary key value missing"))?,
                    None => PkValue::RowId(self.seq.next_id().as_i64()),
                };
                Ok(RowKey {
                    table: table.clone(),
                    partition: partition.clone(),
                    pk,
                })
            })
            .collect::<Result<_>>()?;
        let encoded: Vec<Vec<u8>> = keys.iter().map(RowKey::encode).collect();
        let hot: Vec<Option<StoredRow>> = shared
            .store
            .multi_get(Space::Rows, &encoded)?
            .into_iter()
            .map(|v| v.map(|v| StoredRow::decode(&v)).transpose())
            .collect::<Result<_>>()?;
        let pending: Vec<Option<Pending>> = encoded.iter().map(|k| self.pending(k)).collect();
        // Keys with neither a staged nor a hot version may live in Parquet.
        let unseen: Vec<PkValue> = keys
            .iter()
            .zip(hot.iter().zip(&pending))
            .filter(|(_, (h, p))| h.is_none() && p.is_none() && pk_idx.is_some())
            .map(|(k, _)| k.pk.clone())
            .collect();
        let (manifest_version, cold) =
            crate::tiers::cold_read::lookup_cold(shared.cold(), entry, &partition, &unseen).await?;
        let expiry = entry.expiry_cutoff(now_millis());
        let alive = |row: &StoredRow| !row.deleted && expiry.is_none_or(|cutoff| row.seq >= cutoff);
        let mut seen = HashSet::new();
        let mut versions = Vec::with_capacity(rows.len());
        let mut seqs = Vec::with_capacity(rows.len());
        for (((key, values), hot), pending) in keys.into_iter().zip(rows).zip(hot).zip(pending) {
            let taken = match (&pending, &hot) {
                (Some(p), _) => alive(&p.row),
                (None, Some(h)) => alive(h),
                (None, None) => cold.get(&key.pk).is_some_and(|row| !row.deleted),
            };
            if pk_idx.is_some() && (taken || !seen.insert(key.encode())) {
                return Err(KalamError::exec(format!(
                    "Duplicate primary key value '{}' in table '{table}'",
                    pk_display(&key.pk)
                )));
            }
            let base = match &pending {
                Some(p) => p.base,
                None => Base {
                    hot_seq: hot.as_ref().map(|h| h.seq),
                    manifest_version,
                },
            };
            let seq = self.seq.next_id().as_i64();
            seqs.push(seq);
            versions.push(Pending {
                entry: entry.clone(),
                key,
                row: StoredRow {
                    seq,
                    deleted: false,
                    version: entry.def.version,
                    values: stored_values(&entry.def.columns, values),
                },
                base,
            });
        }
        self.stage(versions)?;
        Ok(seqs)
    }

    /// Stages an UPDATE's or DELETE's changes, read while the partition's
    /// manifest was at `manifest_version`, with the checks of
    /// `keyed::commit_changes`; `keep`: return the staged versions.
    pub fn stage_changes(
        &self,
        shared: &Shared,
        entry: &Arc<TableEntry>,
        partition: &Partition,
        changes: Vec<Change>,
        manifest_version: u64,
        keep: bool,
    ) -> Result<Written> {
        let table = entry.id();
        let mut versions = Vec::with_capacity(changes.len());
        let mut written = Written::default();
        for change in changes {
            let key = RowKey {
                table: table.clone(),
                partition: partition.clone(),
                pk: change.pk,
            };
            let encoded = key.encode();
            let (current, base) = match self.pending(&encoded) {
                // The row the statement read is the transaction's own.
                Some(p) if p.row.deleted => continue,
                Some(p) => (p.row, p.base),
                None => {
                    let hot = shared
                        .store
                        .get(Space::Rows, &encoded)?
                        .map(|v| StoredRow::decode(&v))
                        .transpose()?;
                    match hot {
                        Some(h) if h.seq != change.read_seq || h.deleted => {
                            return Err(KalamError::WriteConflict(format!(
                                "row of {table} changed"
                            )));
                        }
                        Some(h) => {
                            let base = Base {
                                hot_seq: Some(h.seq),
                                manifest_version,
                            };
                            (h, base)
                        }
                        None => (
                            StoredRow {
                                seq: change.read_seq,
                                deleted: false,
                                version: entry.def.version,
                                values: stored_values(&entry.def.columns, change.old_values),
                            },
                            Base {
                                hot_seq: None,
                                manifest_version,
                            },
                        ),
                    }
                }
            };
            let values = change
                .new_values
                .map(|values| stored_values(&entry.def.columns, values));
            let Some(row) = next_version(
                || self.seq.next_id().as_i64(),
                &current,
                values,
                entry.def.version,
            ) else {
                continue;
            };
            if keep {
                written.rows.push(row.clone());
            }
            written.count += 1;
            versions.push(Pending {
                entry: entry.clone(),
                key,
                row,
                base,
            });
        }
        self.stage(versions)?;
        Ok(written)
    }

    /// COMMIT: every staged version in one commit request; returns how many
    /// were written. Nothing is written if any row conflicts.
    pub async fn commit(&self, shared: &Arc<Shared>) -> Result<u64> {
        let pending = std::mem::take(&mut self.state().pending);
        if pending.is_empty() {
            return Ok(0);
        }
        let begin_seq = self.begin_seq;
        let s = shared.clone();
        shared
            .committer
            .write(move |ctx| {
                let mut manifests: HashMap<(TableId, Partition), u64> = HashMap::new();
                for p in &pending {
                    // A table dropped or replaced since is no place for them.
                    s.catalog.ensure_current(&p.entry)?;
                }
                let n = pending.len() as u64;
                for p in pending {
                    let table = &p.key.table;
                    let current = ctx.get_row(&p.key)?;
                    // First committer wins: the version staged over must
                    // still be current, and not one another writer
                    // committed after BEGIN.
                    let before_begin = p.base.hot_seq.is_none_or(|seq| seq < begin_seq);
                    if current.as_ref().map(|r| r.seq) != p.base.hot_seq || !before_begin {
                        return Err(conflict(table));
                    }
                    if p.base.hot_seq.is_none() {
                        let scope = (table.clone(), p.key.partition.clone());
                        let version = match manifests.get(&scope) {
                            Some(v) => *v,
                            None => {
                                let v = ctx.manifest(table, &p.key.partition)?.version;
                                manifests.insert(scope, v);
                                v
                            }
                        };
                        if version != p.base.manifest_version {
                            return Err(conflict(table));
                        }
                    }
                    let row = StoredRow {
                        seq: ctx.next_seq().as_i64(),
                        ..p.row
                    };
                    let old = current.filter(|r| !r.deleted);
                    ctx.put_row(&p.entry, p.key, old, row)?;
                }
                Ok(n)
            })
            .await
    }
}
