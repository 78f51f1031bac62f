//! A subscription's initial rows ([`snapshot`]) and the reconciliation of
//! the changes held while they were read ([`reconcile`]).
//!
//! The snapshot is an ordinary DataFusion query over both tiers, `SELECT
//! <projection>, <key> FROM ns.t WHERE (p) [AND _seq > from] ORDER BY _seq
//! [DESC LIMIT last_rows]`, refused above `websocket.max_initial_rows`. With
//! `from`, the tombstones newer than it (hot and flushed) become deletes
//! ([`deleted_since`]). The scan is not a point-in-time read; `reconcile`
//! makes the snapshot plus the held changes exactly the table's history,
//! with no gap and no duplicate.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{Int64Type, SchemaRef};
use kalamdb_store::{PkValue, RowKey, RowPrefix};
use kalamdb_types::SYSTEM_COLUMN_SEQ;

use crate::access::Caller;
use crate::error::KalamError;
use crate::live::change::{ChangeKind, LiveChange};
use crate::live::plan::{LivePlan, evaluate};
use crate::read::context::ProviderMode;
use crate::read::query::{collect, parse_standard};
use crate::read::session::{CATALOG, Sessions};
use crate::row::arrow::{rows_to_batch, value_from_array};
use crate::row::key::pk_from_value;
use crate::row::value::StoredRow;
use crate::tiers::cold_read::scan_cold;
use crate::tiers::hot::for_each_chunk;
use crate::write::shared::Shared;

/// Options of the initial snapshot (`wire-protocol.md` §6.5).
#[derive(Debug, Clone, Copy, Default)]
pub struct SnapshotOptions {
    pub from: Option<i64>,
    pub last_rows: Option<u64>,
}

/// The initial rows of a subscription, ascending `_seq`.
pub struct LiveSnapshot {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Key and `_seq` of every row, in row order (for [`reconcile`]).
    pub keys: Vec<(PkValue, i64)>,
    /// Rows deleted after `from` (resume): sent as deletes after the snapshot.
    pub deleted: Vec<LiveChange>,
}

impl LiveSnapshot {
    pub fn num_rows(&self) -> usize {
        self.keys.len()
    }
}

/// The key column a snapshot reads alongside the projection.
const KEY_ALIAS: &str = "__live_key";

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the initial rows of a subscription as its subscriber sees them.
pub async fn snapshot(
    sessions: &Sessions,
    max: usize,
    plan: &LivePlan,
    caller: &Caller,
    opts: SnapshotOptions,
) -> crate::error::Result<LiveSnapshot> {
    let key_col = plan.entry.key_column();
    let mut sql = String::from("SELECT ");
    for f in plan.schema.fields() {
        sql.push_str(&quote(f.name()));
        sql.push_str(", ");
    }
    sql.push_str(&format!(
        "{} AS {} FROM {}.{}.{}",
        quote(key_col),
        quote(KEY_ALIAS),
        CATALOG,
        quote(plan.table.namespace.as_str()),
        quote(plan.table.table.as_str())
    ));
    let mut conds = Vec::new();
    if let Some(w) = &plan.where_sql {
        conds.push(format!("({w})"));
    }
    if let Some(from) = opts.from {
        conds.push(format!("{} > {from}", quote(SYSTEM_COLUMN_SEQ)));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    let limit = match opts.last_rows {
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX).min(max);
            sql.push_str(&format!(
                " ORDER BY {} DESC LIMIT {n}",
                quote(SYSTEM_COLUMN_SEQ)
            ));
            n
        }
        None => {
            // One more than allowed tells "too large" from "exactly full".
            sql.push_str(&format!(
                " ORDER BY {} LIMIT {}",
                quote(SYSTEM_COLUMN_SEQ),
                max.saturating_add(1)
            ));
            max.saturating_add(1)
        }
    };
    let stmt = parse_standard(&sql)?;
    let (_, batches) = collect(
        sessions,
        stmt,
        None,
        &[],
        &plan.table.namespace,
        caller,
        ProviderMode::KeyedRead,
        None,
    )
    .await?;
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if opts.last_rows.is_none() && total > max {
        return Err(KalamError::exec(format!(
            "Initial snapshot exceeds {max} rows; use last_rows or batch_size"
        )));
    }
    let _ = limit;
    let key_def = plan
        .pk_column
        .as_ref()
        .and_then(|n| plan.entry.def.column(n))
        .map(|(_, d)| d.clone());
    let n_proj = plan.schema.fields().len();
    let seq_idx = plan
        .schema
        .index_of(SYSTEM_COLUMN_SEQ)
        .map_err(|e| KalamError::internal(e.to_string()))?;
    let mut out = Vec::with_capacity(batches.len());
    let mut keys = Vec::with_capacity(total);
    for batch in &batches {
        let key_array = batch
            .columns()
            .get(n_proj)
            .ok_or_else(|| KalamError::internal("snapshot lost its key column"))?;
        let seqs = batch
            .column(seq_idx)
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| KalamError::internal("_seq is not Int64"))?;
        for row in 0..batch.num_rows() {
            let pk = match &key_def {
                Some(def) => pk_from_value(&value_from_array(def, key_array.as_ref(), row)?),
                None => key_array
                    .as_primitive_opt::<Int64Type>()
                    .map(|a| PkValue::RowId(a.value(row))),
            }
            .ok_or_else(|| KalamError::internal("snapshot row without a key"))?;
            keys.push((pk, seqs.value(row)));
        }
        let projected = batch
            .project(&(0..n_proj).collect::<Vec<_>>())
            .map_err(|e| KalamError::internal(e.to_string()))?;
        let projected = RecordBatch::try_new(plan.schema.clone(), projected.columns().to_vec())
            .map_err(|e| KalamError::internal(e.to_string()))?;
        out.push(projected);
    }
    if opts.last_rows.is_some() {
        // Read newest first; delivered ascending.
        out.reverse();
        let mut reversed = Vec::with_capacity(out.len());
        for b in out {
            let n = b.num_rows();
            let idx =
                UInt32Array::from_iter_values((0..n).rev().filter_map(|i| u32::try_from(i).ok()));
            reversed.push(
                take_record_batch(&b, &idx).map_err(|e| KalamError::internal(e.to_string()))?,
            );
        }
        out = reversed;
        keys.reverse();
    }
    let deleted = match opts.from {
        Some(from) => deleted_since(sessions.shared(), plan, from).await?,
        None => Vec::new(),
    };
    Ok(LiveSnapshot {
        schema: plan.schema.clone(),
        batches: out,
        keys,
        deleted,
    })
}

/// Resume (§6.10, ours): rows deleted after `from` whose deleted version
/// matched the subscription, as deletes carrying the delete's `_seq`, in
/// `_seq` order — from the hot tier and from flushed tombstones, while
/// `DELETED_RETENTION_HOURS` keeps them.
async fn deleted_since(
    shared: &Arc<Shared>,
    plan: &LivePlan,
    from: i64,
) -> crate::error::Result<Vec<LiveChange>> {
    let range = RowPrefix::Partition(plan.table.clone(), plan.partition.clone()).range();
    let (hot_keys, mut tombstones) = shared
        .blocking(move |s| {
            let mut keys = HashSet::new();
            let mut gone: Vec<(PkValue, StoredRow)> = Vec::new();
            for_each_chunk(s.store.as_ref(), range, |chunk| {
                for (k, v) in &chunk {
                    let pk = RowKey::decode(k)?.pk;
                    let row = StoredRow::decode(v)?;
                    if row.deleted && row.seq > from {
                        gone.push((pk.clone(), row));
                    }
                    keys.insert(pk);
                }
                Ok(true)
            })?;
            Ok((keys, gone))
        })
        .await?;
    let (_, cold) = scan_cold(
        shared.cold(),
        &plan.entry,
        &plan.partition,
        &hot_keys,
        Some(from),
    )
    .await?;
    tombstones.extend(
        cold.into_iter()
            .filter(|(_, row)| row.deleted && row.seq > from),
    );
    if tombstones.is_empty() {
        return Ok(Vec::new());
    }
    tombstones.sort_by_key(|(_, row)| row.seq);
    let rows: Vec<StoredRow> = tombstones
        .iter()
        .map(|(_, r)| StoredRow {
            deleted: false,
            ..r.clone()
        })
        .collect();
    let batch = rows_to_batch(&plan.entry.lens, &plan.entry.schema, &rows, None)?;
    let mask = evaluate(&plan.filter, &batch);
    let idx: Vec<u32> = (0..rows.len())
        .filter(|i| mask.as_ref().is_none_or(|m| m.is_valid(*i) && m.value(*i)))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    if idx.is_empty() {
        return Ok(Vec::new());
    }
    let keys = idx
        .iter()
        .filter_map(|i| tombstones.get(*i as usize))
        .map(|(pk, r)| (pk.clone(), r.seq))
        .collect();
    let taken = take_record_batch(&batch, &UInt32Array::from(idx))
        .and_then(|b| b.project(&plan.projection))
        .map_err(|e| KalamError::internal(e.to_string()))?;
    let rows = RecordBatch::try_new(plan.schema.clone(), taken.columns().to_vec())
        .map_err(|e| KalamError::internal(e.to_string()))?;
    Ok(vec![LiveChange {
        kind: ChangeKind::Delete,
        keys,
        rows,
        old: None,
    }])
}

/// Buffered changes of a subscription whose snapshot just finished, reduced
/// to those the snapshot does not already reflect. A key the snapshot holds
/// at `_seq` s keeps its changes newer than s (the hot store always holds a
/// key's newest version, so a change newer than what was read committed
/// after that read). A key the snapshot lacks was absent (or filtered out)
/// when read: its changes after its last delete are kept, which yields the
/// key's final state without replaying a row that came and went unseen.
/// On resume (`from`) the client may still hold an absent key from before,
/// so every change of an absent key is kept; `snapshot` then also lists the
/// resume deletes already sent.
pub fn reconcile(
    snapshot: &[(PkValue, i64)],
    buffered: Vec<LiveChange>,
    resume: bool,
) -> Vec<LiveChange> {
    let seen: HashMap<&PkValue, i64> = snapshot.iter().map(|(k, s)| (k, *s)).collect();
    // The position (event, row) of each absent key's last delete.
    let mut last_delete: HashMap<PkValue, (usize, usize)> = HashMap::new();
    for (e, ch) in buffered.iter().enumerate() {
        if ch.kind == ChangeKind::Delete {
            for (r, (k, _)) in ch.keys.iter().enumerate() {
                if !seen.contains_key(k) {
                    last_delete.insert(k.clone(), (e, r));
                }
            }
        }
    }
    buffered
        .into_iter()
        .enumerate()
        .filter_map(|(e, ch)| {
            let keep: Vec<bool> = ch
                .keys
                .iter()
                .enumerate()
                .map(|(r, (k, seq))| match seen.get(k) {
                    Some(s) => seq > s,
                    None => resume || last_delete.get(k).is_none_or(|pos| (e, r) > *pos),
                })
                .collect();
            ch.retain(&keep)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn change(kind: ChangeKind, keys: &[(i64, i64)]) -> LiveChange {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "_seq",
            DataType::Int64,
            false,
        )]));
        let rows = RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from_iter_values(
                keys.iter().map(|(_, s)| *s),
            ))],
        )
        .unwrap();
        LiveChange {
            kind,
            keys: keys.iter().map(|(k, s)| (PkValue::Int(*k), *s)).collect(),
            rows,
            old: None,
        }
    }

    fn kept(out: &[LiveChange]) -> Vec<(ChangeKind, i64, i64)> {
        out.iter()
            .flat_map(|c| {
                c.keys.iter().map(move |(k, s)| match k {
                    PkValue::Int(k) => (c.kind, *k, *s),
                    _ => unreachable!(),
                })
            })
            .collect()
    }

    #[test]
    fn changes_the_snapshot_already_holds_are_dropped() {
        // Key 1 was read at _seq 20: its change at 20 is in the snapshot,
        // the one at 30 came after the read.
        let snap = vec![(PkValue::Int(1), 20)];
        let out = reconcile(
            &snap,
            vec![
                change(ChangeKind::Update, &[(1, 20)]),
                change(ChangeKind::Update, &[(1, 30)]),
            ],
            false,
        );
        assert_eq!(kept(&out), vec![(ChangeKind::Update, 1, 30)]);
    }

    #[test]
    fn an_absent_key_keeps_what_follows_its_last_delete() {
        // Key 2 came and went before the read; key 3 was deleted before the
        // read and re-inserted after; key 4 is new.
        let held = || {
            vec![
                change(ChangeKind::Insert, &[(2, 10), (3, 11)]),
                change(ChangeKind::Delete, &[(2, 12), (3, 13)]),
                change(ChangeKind::Insert, &[(3, 14), (4, 15)]),
            ]
        };
        let out = reconcile(&[], held(), false);
        assert_eq!(
            kept(&out),
            vec![(ChangeKind::Insert, 3, 14), (ChangeKind::Insert, 4, 15)]
        );
        // On resume the client may hold key 2 from before: all is kept.
        assert_eq!(kept(&reconcile(&[], held(), true)).len(), 6);
    }

    #[test]
    fn a_present_key_deleted_after_the_read_is_deleted() {
        let snap = vec![(PkValue::Int(5), 7)];
        let out = reconcile(&snap, vec![change(ChangeKind::Delete, &[(5, 9)])], false);
        assert_eq!(kept(&out), vec![(ChangeKind::Delete, 5, 9)]);
    }
}
