//! Running a [`Prepared`] statement for one caller: parameters bound
//! straight into the rows or keys, then the same steps the planner's path
//! ends in — `access::allow_table`, the caller's partition, `commit_inserts`
//! / `commit_changes` (key checks, STREAM cutoff, cold lookups, live
//! changes), and the point read of `read::scan::read_points` (hot then cold, tombstones
//! and expired STREAM rows hidden).
//!
//! Anything that would fail before the commit answers [`Ran::Fallback`]:
//! the planner's path then runs the statement and gives its own error, so
//! both paths fail alike. Errors of the commit and the read themselves are
//! returned: the planner's path ends in those same calls.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::common::ScalarValue;
use kalamdb_store::{Partition, PkValue};
use kalamdb_types::SnowflakeGenerator;

use crate::access::{self, Caller};
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::read::context::{ProviderMode, QueryContext};
use crate::read::functions::new_ulid;
use crate::read::scan::{hot_holds_all, read_points};
use crate::row::arrow::value_from_array;
use crate::row::key::pk_from_value;
use crate::row::value::Value;
use crate::statements::fast::shape::{Cell, Generated, Key, Op};
use crate::statements::fast::values::{refused_null, to_value};
use crate::statements::output::{DmlKind, StatementOutput};
use crate::tiers::manifest::load_manifest;
use crate::write::insert::{MAX_ATTEMPTS, commit_inserts};
use crate::write::keyed::{ByKeys, Change, commit_by_keys, commit_changes};
use crate::write::shared::Shared;

/// What running a prepared statement came to.
pub enum Ran {
    Done(StatementOutput),
    /// Only the planner's path can answer (see the module docs).
    Fallback,
}

/// What a run needs besides the statement.
pub struct RunContext<'a> {
    pub shared: &'a Arc<Shared>,
    pub seq: &'a SnowflakeGenerator,
    pub caller: &'a Caller,
    pub params: &'a [ScalarValue],
    pub max_result_rows: usize,
}

impl RunContext<'_> {
    /// The caller's partition, by the one rule (`QueryContext::partition_for`).
    fn partition(&self, entry: &TableEntry) -> Partition {
        QueryContext::new(self.caller, ProviderMode::Read).partition_for(entry.def.table_type)
    }

    fn param(&self, n: usize) -> Option<&ScalarValue> {
        n.checked_sub(1).and_then(|i| self.params.get(i))
    }

    fn key(&self, entry: &TableEntry, key: &Key) -> Option<PkValue> {
        match key {
            Key::Value(pk) => Some(pk.clone()),
            Key::Param(n) => {
                let (_, pk) = entry.def.primary_key()?;
                pk_from_value(&to_value(pk, self.param(*n)?)?)
            }
        }
    }

    fn keys(&self, entry: &TableEntry, keys: &[Key]) -> Option<Vec<PkValue>> {
        keys.iter().map(|k| self.key(entry, k)).collect()
    }
}

pub async fn run(op: &Op, cx: &RunContext<'_>) -> Result<Ran> {
    match op {
        Op::Insert { entry, rows } => insert(entry, rows, cx).await,
        Op::Select {
            entry,
            projection,
            keys,
        } => select(entry, projection, keys, cx).await,
        Op::Update { entry, keys, set } => keyed(entry, keys, Some(set), cx).await,
        Op::Delete { entry, keys } => keyed(entry, keys, None, cx).await,
    }
}

async fn insert(entry: &Arc<TableEntry>, cells: &[Vec<Cell>], cx: &RunContext<'_>) -> Result<Ran> {
    if access::allow_table(cx.caller, &entry.def, true).is_err() {
        return Ok(Ran::Fallback);
    }
    // `NOW()` is fixed once per statement, as DataFusion fixes it per query.
    let now = kalamdb_types::now_micros();
    let mut rows = Vec::with_capacity(cells.len());
    for row in cells {
        let mut values = Vec::with_capacity(row.len());
        for (col, cell) in entry.def.columns.iter().zip(row) {
            let v = match cell {
                Cell::Value(v) => v.clone(),
                Cell::Param(n) => {
                    let Some(v) = cx.param(*n).and_then(|p| to_value(col, p)) else {
                        return Ok(Ran::Fallback);
                    };
                    if refused_null(col, &v) {
                        return Ok(Ran::Fallback);
                    }
                    v
                }
                Cell::Default(g) => generate(*g, cx, now),
            };
            values.push(v);
        }
        rows.push(values);
    }
    let count = commit_inserts(cx.shared, entry, cx.partition(entry), rows)
        .await?
        .len() as u64;
    Ok(Ran::Done(StatementOutput::Dml {
        kind: DmlKind::Insert,
        count,
    }))
}

fn generate(g: Generated, cx: &RunContext<'_>, now: i64) -> Value {
    match g {
        Generated::Now => Value::Timestamp(now),
        Generated::SnowflakeId => Value::I64(cx.seq.next_id().as_i64()),
        Generated::UuidV7 { text: false } => Value::Uuid(*uuid::Uuid::now_v7().as_bytes()),
        Generated::UuidV7 { text: true } => Value::Text(uuid::Uuid::now_v7().to_string()),
        Generated::Ulid => Value::Text(new_ulid()),
        Generated::CurrentUser => Value::Text(cx.caller.user.as_str().to_string()),
    }
}

/// The rows of `keys` in the caller's partition, as the table provider's
/// point read returns them (all read-schema columns; `read_points`).
async fn point_read(
    entry: &Arc<TableEntry>,
    keys: Vec<PkValue>,
    cx: &RunContext<'_>,
) -> Result<Vec<RecordBatch>> {
    read_points(cx.shared, entry, &cx.partition(entry), &keys, &entry.schema).await
}

async fn select(
    entry: &Arc<TableEntry>,
    projection: &[usize],
    keys: &[Key],
    cx: &RunContext<'_>,
) -> Result<Ran> {
    if access::allow_table(cx.caller, &entry.def, false).is_err() || keys.len() > cx.max_result_rows
    {
        return Ok(Ran::Fallback);
    }
    let Some(keys) = cx.keys(entry, keys) else {
        return Ok(Ran::Fallback);
    };
    let schema = Arc::new(
        entry
            .schema
            .project(projection)
            .map_err(KalamError::internal)?,
    );
    let batches = point_read(entry, keys, cx)
        .await?
        .iter()
        .map(|b| b.project(projection))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(KalamError::internal)?;
    Ok(Ran::Done(StatementOutput::Rows { schema, batches }))
}

/// UPDATE (`set`) or DELETE by key: the read and the optimistic commit of
/// `statements/dml.rs::update_or_delete`, with the key read directly.
async fn keyed(
    entry: &Arc<TableEntry>,
    keys: &[Key],
    set: Option<&Vec<(usize, Cell)>>,
    cx: &RunContext<'_>,
) -> Result<Ran> {
    if access::allow_table(cx.caller, &entry.def, true).is_err() {
        return Ok(Ran::Fallback);
    }
    let Some(keys) = cx.keys(entry, keys) else {
        return Ok(Ran::Fallback);
    };
    let mut new_values = Vec::new();
    for (idx, cell) in set.into_iter().flatten() {
        let Some(col) = entry.def.columns.get(*idx) else {
            return Ok(Ran::Fallback);
        };
        let v = match cell {
            Cell::Value(v) => v.clone(),
            Cell::Param(n) => match cx.param(*n).and_then(|p| to_value(col, p)) {
                Some(v) if !refused_null(col, &v) => v,
                _ => return Ok(Ran::Fallback),
            },
            Cell::Default(_) => return Ok(Ran::Fallback),
        };
        new_values.push((*idx, v));
    }
    let kind = if set.is_some() {
        DmlKind::Update
    } else {
        DmlKind::Delete
    };
    let id = entry.id();
    let partition = cx.partition(entry);
    let Some((pk_idx, pk_def)) = entry.def.primary_key() else {
        return Ok(Ran::Fallback);
    };
    // Rows are read inside the commit when none can be cold: the partition
    // has no segments, or the hot tier holds every key now (a key flushed
    // meanwhile makes the commit answer `NeedsRead`). Otherwise the read
    // comes first, as on the planner's path, and no commit is tried in vain.
    let segments = !load_manifest(cx.shared.store.as_ref(), &id, &partition)?
        .segments
        .is_empty();
    if !segments || hot_holds_all(cx.shared, entry, &partition, &keys)? {
        let set_values = set.is_some().then(|| new_values.clone());
        match commit_by_keys(
            cx.shared,
            entry,
            partition.clone(),
            keys.clone(),
            set_values,
        )
        .await?
        {
            ByKeys::Done(count) => return Ok(Ran::Done(StatementOutput::Dml { kind, count })),
            ByKeys::NeedsRead => {}
        }
    }
    let n_user = entry.def.columns.len();
    for _ in 0..MAX_ATTEMPTS {
        // Read before the rows: a flush committing after this bumps it.
        let manifest_version = load_manifest(cx.shared.store.as_ref(), &id, &partition)?.version;
        let mut changes = Vec::new();
        for batch in point_read(entry, keys.clone(), cx).await? {
            let cols = batch.columns();
            let seqs = cols
                .get(n_user)
                .and_then(|c| c.as_primitive_opt::<Int64Type>())
                .ok_or_else(|| KalamError::internal("_seq is not Int64"))?;
            for row in 0..batch.num_rows() {
                let mut old_values = Vec::with_capacity(n_user);
                for (i, def) in entry.def.columns.iter().enumerate() {
                    let array = cols
                        .get(i)
                        .ok_or_else(|| KalamError::internal("point read lost a column"))?;
                    old_values.push(value_from_array(def, array.as_ref(), row)?);
                }
                let pk = old_values
                    .get(pk_idx)
                    .and_then(pk_from_value)
                    .ok_or_else(|| {
                        KalamError::internal(format!("row without key '{}'", pk_def.name))
                    })?;
                let new = set.map(|_| {
                    let mut values = old_values.clone();
                    for (idx, v) in &new_values {
                        if let Some(slot) = values.get_mut(*idx) {
                            *slot = v.clone();
                        }
                    }
                    values
                });
                changes.push(Change {
                    pk,
                    read_seq: seqs.value(row),
                    old_values,
                    new_values: new,
                });
            }
        }
        match commit_changes(
            cx.shared,
            entry,
            partition.clone(),
            changes,
            manifest_version,
            false,
        )
        .await
        {
            Ok(written) => {
                return Ok(Ran::Done(StatementOutput::Dml {
                    kind,
                    count: written.count,
                }));
            }
            Err(KalamError::WriteConflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(KalamError::WriteConflict(format!(
        "Transaction conflict on table '{id}'; rolled back"
    )))
}
