//! INSERT commit, UPDATE and DELETE (`sql.md` §3).
//!
//! INSERT is planned by DataFusion (casts, defaults, `INSERT … SELECT`) and
//! lands in [`commit_inserts`] through the provider's sink. UPDATE and DELETE
//! are run as a keyed read — `SELECT key, _seq, <columns>, <new values> FROM t
//! WHERE p`, planned by DataFusion so any predicate works (subqueries too) —
//! followed by one commit that writes a new version per row. The commit
//! re-checks that each row's `_seq` is still the one read; if another writer
//! got there first the whole statement is re-run (optimistic concurrency), so
//! concurrent UPDATEs of one row leave one consistent newest version.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::common::ScalarValue;
use kalamdb_store::{Partition, PkValue, RowKey, Space};
use kalamdb_types::{NamespaceId, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, TableType};
use sqlparser::ast::{
    AssignmentTarget, FromTable, Ident, ObjectName, SetExpr, Statement as SqlStatement,
    TableFactor, TableObject,
};

use crate::access::{self, Access};
use crate::catalog::{ROW_ID_COLUMN, TableEntry};
use crate::commit::CommitReceipt;
use crate::ddl;
use crate::engine::{Caller, DmlKind, Engine, Shared, StatementOutput};
use crate::error::{KalamError, Result};
use crate::live::{ChangeSet, RowChange};
use crate::provider::{ProviderMode, pk_display, pk_from_value};
use crate::row::{StoredRow, Value, value_from_array};

/// How often a conflicting UPDATE/DELETE is re-run before giving up.
const MAX_ATTEMPTS: usize = 16;

fn fold(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// `[kalam.]ns.t` / `t` from an AST name.
pub(crate) fn object_ref(name: &ObjectName) -> Result<kalamdb_sql::ObjectRef> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(fold)
                .ok_or_else(|| KalamError::InvalidSql(format!("Invalid name {name}")))
        })
        .collect::<Result<_>>()?;
    match parts.as_slice() {
        [t] => Ok(kalamdb_sql::ObjectRef {
            namespace: None,
            name: t.clone(),
        }),
        [ns, t] => Ok(kalamdb_sql::ObjectRef {
            namespace: Some(ns.clone()),
            name: t.clone(),
        }),
        [c, ns, t] if c == "kalam" => Ok(kalamdb_sql::ObjectRef {
            namespace: Some(ns.clone()),
            name: t.clone(),
        }),
        _ => Err(KalamError::InvalidSql(format!("Invalid table name {name}"))),
    }
}

fn writable_table(shared: &Shared, name: &ObjectName, ns: &NamespaceId) -> Result<Arc<TableEntry>> {
    let r = object_ref(name)?;
    if r.namespace.as_deref() == Some("system") {
        return Err(KalamError::PermissionDenied(format!(
            "System table 'system.{}' is read-only",
            r.name
        )));
    }
    ddl::resolve_table(shared, &r, ns)
}

fn is_system_column(name: &str) -> bool {
    name == SYSTEM_COLUMN_SEQ || name == SYSTEM_COLUMN_DELETED || name.starts_with('_')
}

/// Checks an INSERT's shape with the spec's messages before DataFusion plans
/// it (DataFusion would answer the same mistakes in its own words).
pub fn validate_insert(
    shared: &Shared,
    insert: &sqlparser::ast::Insert,
    ns: &NamespaceId,
) -> Result<kalamdb_types::TableId> {
    let TableObject::TableName(name) = &insert.table else {
        return Err(KalamError::InvalidSql(
            "INSERT target must be a table".into(),
        ));
    };
    let entry = writable_table(shared, name, ns)?;
    if insert.returning.is_some() {
        return Err(KalamError::InvalidSql(
            "INSERT ... RETURNING is not supported yet".into(),
        ));
    }
    let id = entry.id();
    let mut columns = Vec::with_capacity(insert.columns.len());
    for c in &insert.columns {
        let name =
            c.0.last()
                .and_then(|p| p.as_ident())
                .map(fold)
                .unwrap_or_default();
        if is_system_column(&name) {
            return Err(KalamError::exec(format!(
                "System column '{name}' cannot be written"
            )));
        }
        if entry.def.column(&name).is_none() {
            return Err(KalamError::exec(format!(
                "Column '{name}' not found in table '{id}'"
            )));
        }
        columns.push(name);
    }
    let expected = if columns.is_empty() {
        entry.def.columns.len()
    } else {
        columns.len()
    };
    if let Some(source) = &insert.source
        && let SetExpr::Values(values) = source.body.as_ref()
    {
        for row in &values.rows {
            if row.len() != expected {
                return Err(KalamError::exec(format!(
                    "INSERT has {} values but {} columns",
                    row.len(),
                    expected
                )));
            }
            check_literals(&entry, &columns, row)?;
        }
    }
    Ok(id)
}

/// Casts VALUES literals to their column's type up front, so a bad value is
/// reported as the spec words it (naming value, type and column) and a
/// DECIMAL that would need rounding is refused instead of silently rounded.
fn check_literals(
    entry: &TableEntry,
    columns: &[String],
    row: &[sqlparser::ast::Expr],
) -> Result<()> {
    use sqlparser::ast::{Expr, UnaryOperator, Value as SqlValue};
    for (i, expr) in row.iter().enumerate() {
        let def = match columns.get(i) {
            Some(name) => entry.def.column(name).map(|(_, c)| c),
            None => entry.def.columns.get(i),
        };
        let Some(def) = def else { continue };
        let (text, negative) = match expr {
            Expr::Value(v) => (&v.value, false),
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => match expr.as_ref() {
                Expr::Value(v) => (&v.value, true),
                _ => continue,
            },
            _ => continue,
        };
        match text {
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => {
                check_value_fits(def, s, false)?
            }
            SqlValue::Number(n, _) => {
                let n = if negative { format!("-{n}") } else { n.clone() };
                check_value_fits(def, &n, true)?;
            }
            _ => continue,
        }
    }
    Ok(())
}

/// Whether a literal (`text`, numeric or quoted) converts to the column's type.
pub(crate) fn check_value_fits(
    def: &kalamdb_types::ColumnDefinition,
    text: &str,
    numeric: bool,
) -> Result<()> {
    use kalamdb_types::KalamDataType as T;
    let fail = || {
        KalamError::exec(format!(
            "Cannot cast '{text}' to {} for column '{}'",
            def.data_type.sql_name(),
            def.name
        ))
    };
    match def.data_type {
        // Text-like columns take any literal; JSON and UUID are validated later.
        T::Text | T::Json | T::Uuid | T::Bytes => Ok(()),
        T::Decimal { scale, .. } => {
            let decimals = text
                .split_once('.')
                .map(|(_, frac)| frac.trim_end_matches('0').len())
                .unwrap_or(0);
            if text.contains(['e', 'E']) || decimals > usize::try_from(scale.max(0)).unwrap_or(0) {
                if text.parse::<f64>().is_err() {
                    return Err(fail());
                }
                return Err(rounding_error(text, def, scale));
            }
            cast_literal(text, numeric, def).map_err(|_| fail())
        }
        _ => cast_literal(text, numeric, def).map_err(|_| fail()),
    }
}

fn rounding_error(text: &str, def: &kalamdb_types::ColumnDefinition, scale: i8) -> KalamError {
    KalamError::exec(format!(
        "Cannot cast '{text}' to {} for column '{}': rounding beyond scale {scale}",
        def.data_type.sql_name(),
        def.name
    ))
}

fn cast_literal(text: &str, numeric: bool, def: &kalamdb_types::ColumnDefinition) -> Result<()> {
    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    let target = crate::row::arrow_type(&def.data_type)?;
    let array: ArrayRef = match (numeric, text.parse::<i64>()) {
        (true, Ok(i)) => Arc::new(Int64Array::from(vec![i])),
        (true, Err(_)) => Arc::new(Float64Array::from(vec![
            text.parse::<f64>().map_err(KalamError::internal)?,
        ])),
        (false, _) => Arc::new(StringArray::from(vec![text])),
    };
    cast_with_options(
        array.as_ref(),
        &target,
        &CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .map(|_| ())
    .map_err(KalamError::internal)
}

/// Casts new values to a column's type; a failure names the first value
/// that does not fit, as INSERT does.
fn cast_new_values(
    array: &dyn datafusion::arrow::array::Array,
    def: &kalamdb_types::ColumnDefinition,
) -> Result<datafusion::arrow::array::ArrayRef> {
    let target = crate::row::arrow_type(&def.data_type)?;
    if let kalamdb_types::KalamDataType::Decimal { scale, .. } = def.data_type
        && !array.data_type().is_integer()
        && let Ok(fmt) =
            datafusion::arrow::util::display::ArrayFormatter::try_new(array, &Default::default())
    {
        for i in (0..array.len()).filter(|&i| !array.is_null(i)) {
            let text = fmt.value(i).to_string();
            check_value_fits(def, &text, true).map_err(|_| rounding_error(&text, def, scale))?;
        }
    }
    cast_with_options(
        array,
        &target,
        &CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .map_err(|e| {
        let lenient = cast_with_options(
            array,
            &target,
            &CastOptions {
                safe: true,
                ..Default::default()
            },
        );
        let formatter =
            datafusion::arrow::util::display::ArrayFormatter::try_new(array, &Default::default());
        let culprit = match (lenient, formatter) {
            (Ok(cast), Ok(fmt)) => (0..array.len())
                .find(|&i| !array.is_null(i) && cast.is_null(i))
                .map(|i| fmt.value(i).to_string()),
            _ => None,
        };
        match culprit {
            Some(v) => KalamError::exec(format!(
                "Cannot cast '{v}' to {} for column '{}'",
                def.data_type.sql_name(),
                def.name
            )),
            None => KalamError::exec(format!(
                "Cannot cast value to {} for column '{}': {e}",
                def.data_type.sql_name(),
                def.name
            )),
        }
    })
}

/// The hidden row key is the engine's, never the user's to name.
fn refuse_hidden_columns(entry: &TableEntry, expr: &sqlparser::ast::Expr) -> Result<()> {
    use sqlparser::ast::Expr;
    use std::ops::ControlFlow;
    let found = sqlparser::ast::visit_expressions(expr, |e| match e {
        Expr::Identifier(id) if fold(id) == ROW_ID_COLUMN => ControlFlow::Break(()),
        Expr::CompoundIdentifier(parts)
            if parts.last().map(fold).as_deref() == Some(ROW_ID_COLUMN) =>
        {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    if found.is_break() {
        // Worded as DataFusion answers any unknown column.
        let id = entry.id();
        let valid: Vec<String> = entry
            .schema
            .fields()
            .iter()
            .map(|f| format!("{id}.{}", f.name()))
            .collect();
        return Err(KalamError::exec(format!(
            "Schema error: No field named {ROW_ID_COLUMN}.\nValid fields are {}.",
            valid.join(", ")
        )));
    }
    Ok(())
}

fn stored_values(entry: &TableEntry, values: Vec<Value>) -> Vec<(u32, Value)> {
    entry
        .def
        .columns
        .iter()
        .zip(values)
        .filter(|(_, v)| *v != Value::Null)
        .map(|(c, v)| (c.column_id, v))
        .collect()
}

/// The `post_commit` hook handing a commit's rows to the live router.
fn live_hook(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    rows: Option<Vec<RowChange>>,
) -> Option<Box<dyn FnOnce() + Send>> {
    let rows = rows.filter(|r| !r.is_empty())?;
    let live = shared.live.clone();
    let set = ChangeSet {
        entry: entry.clone(),
        partition: partition.clone(),
        rows,
    };
    Some(Box::new(move || live.publish(set)))
}

/// Commits the rows of one INSERT: all or none; duplicate keys (against
/// both tiers and within the statement) fail the statement.
pub async fn commit_inserts(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    rows: Vec<Vec<Value>>,
) -> Result<u64> {
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
            crate::cold::lookup_cold(shared, entry, &partition, &keys).await?;
        let cold_live: std::collections::HashSet<PkValue> = cold
            .into_iter()
            .filter(|(_, row)| !row.deleted)
            .map(|(pk, _)| pk)
            .collect();
        match commit_inserts_once(
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

async fn commit_inserts_once(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    rows: Arc<Vec<Vec<Value>>>,
    cold_live: std::collections::HashSet<PkValue>,
    manifest_version: u64,
) -> Result<u64> {
    let s = shared.clone();
    let entry = entry.clone();
    let now = kalamdb_types::now_micros();
    shared
        .committer
        .commit(
            false,
            now,
            Box::new(move |ctx| {
                s.catalog.ensure_current(&entry)?;
                let table = entry.id();
                let pk_idx = entry.def.primary_key().map(|(i, _)| i);
                let n = rows.len() as u64;
                let mut live_rows = s.live.watching(&table).then(Vec::new);
                let expiry = crate::stream::table_cutoff(&s, &entry, crate::stream::now_millis());
                if !cold_live.is_empty() || manifest_version > 0 {
                    let now_version = crate::cold::decode_manifest(
                        ctx.get(Space::Meta, &crate::cold::manifest_key(&table, &partition))?,
                    )?
                    .version;
                    if now_version != manifest_version {
                        return Err(KalamError::WriteConflict(format!(
                            "{table} was flushed during the INSERT"
                        )));
                    }
                }
                for values in rows.iter().cloned() {
                    let seq = ctx.next_seq();
                    let pk = match pk_idx {
                        Some(i) => values
                            .get(i)
                            .and_then(pk_from_value)
                            .ok_or_else(|| KalamError::internal("primary key value missing"))?,
                        None => PkValue::RowId(seq.as_i64()),
                    };
                    let key = RowKey {
                        table: table.clone(),
                        partition: partition.clone(),
                        pk,
                    }
                    .encode();
                    let taken = match ctx.get(Space::Rows, &key)? {
                        // The hot version, if any, is the newest; a STREAM
                        // row past its TTL is gone even before eviction.
                        Some(existing) => {
                            let row = StoredRow::decode(&existing)?;
                            !row.deleted && expiry.is_none_or(|cutoff| row.seq >= cutoff)
                        }
                        None => {
                            let pk = RowKey::decode(&key)?.pk;
                            cold_live.contains(&pk)
                        }
                    };
                    if pk_idx.is_some() && taken {
                        let pk = RowKey::decode(&key)?.pk;
                        return Err(KalamError::exec(format!(
                            "Duplicate primary key value '{}' in table '{table}'",
                            pk_display(&pk)
                        )));
                    }
                    let row = StoredRow {
                        seq: seq.as_i64(),
                        deleted: false,
                        values: stored_values(&entry, values),
                    };
                    ctx.put(Space::Rows, key.clone(), row.encode()?);
                    if let Some(rows) = live_rows.as_mut() {
                        rows.push(RowChange {
                            pk: RowKey::decode(&key)?.pk,
                            old: None,
                            new: row,
                        });
                    }
                }
                Ok(CommitReceipt {
                    affected: n,
                    post_commit: live_hook(&s, &entry, &partition, live_rows),
                })
            }),
        )
        .await
}

struct Target {
    table: sqlparser::ast::TableWithJoins,
    name: ObjectName,
    selection: Option<sqlparser::ast::Expr>,
    assignments: Vec<(String, sqlparser::ast::Expr)>,
    kind: DmlKind,
}

fn target_of(stmt: SqlStatement) -> Result<Target> {
    match stmt {
        SqlStatement::Update(u) => {
            if u.from.is_some()
                || u.returning.is_some()
                || !u.table.joins.is_empty()
                || u.limit.is_some()
            {
                return Err(KalamError::InvalidSql(
                    "UPDATE supports one table, SET and WHERE (no FROM, JOIN, LIMIT or RETURNING)"
                        .into(),
                ));
            }
            let TableFactor::Table { name, .. } = &u.table.relation else {
                return Err(KalamError::InvalidSql(
                    "UPDATE target must be a table".into(),
                ));
            };
            let name = name.clone();
            let mut assignments = Vec::with_capacity(u.assignments.len());
            for a in u.assignments {
                let AssignmentTarget::ColumnName(col) = a.target else {
                    return Err(KalamError::InvalidSql(
                        "Tuple assignments are not supported".into(),
                    ));
                };
                let col = col
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(fold)
                    .unwrap_or_default();
                assignments.push((col, a.value));
            }
            Ok(Target {
                table: u.table,
                name,
                selection: u.selection,
                assignments,
                kind: DmlKind::Update,
            })
        }
        SqlStatement::Delete(d) => {
            let tables = match d.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            let mut tables = tables.into_iter();
            let (Some(table), None) = (tables.next(), tables.next()) else {
                return Err(KalamError::InvalidSql(
                    "DELETE supports exactly one table".into(),
                ));
            };
            if d.using.is_some()
                || d.returning.is_some()
                || !d.tables.is_empty()
                || d.limit.is_some()
                || !table.joins.is_empty()
            {
                return Err(KalamError::InvalidSql(
                    "DELETE supports one table and WHERE (no USING, LIMIT or RETURNING)".into(),
                ));
            }
            let TableFactor::Table { name, .. } = &table.relation else {
                return Err(KalamError::InvalidSql(
                    "DELETE target must be a table".into(),
                ));
            };
            let name = name.clone();
            Ok(Target {
                table,
                name,
                selection: d.selection,
                assignments: Vec::new(),
                kind: DmlKind::Delete,
            })
        }
        _ => Err(KalamError::internal("not an UPDATE or DELETE")),
    }
}

/// One row to rewrite: its key, the `_seq` read, and (UPDATE) its new values.
struct Change {
    pk: PkValue,
    read_seq: i64,
    /// The row as read (a DELETE's tombstone keeps them; a row read from the
    /// cold tier has no hot version to take them from).
    old_values: Vec<Value>,
    new_values: Option<Vec<Value>>,
}

pub async fn update_or_delete(
    engine: &Engine,
    stmt: SqlStatement,
    params: &[ScalarValue],
    ns: &NamespaceId,
    caller: &Caller,
) -> Result<StatementOutput> {
    let shared = engine.shared();
    let target = target_of(stmt)?;
    let entry = writable_table(shared, &target.name, ns)?;
    let id = entry.id();
    if entry.def.table_type == TableType::Stream {
        return Err(KalamError::exec("STREAM tables are append-only"));
    }
    let ctx = caller.context(ProviderMode::Read);
    access::check_table(&entry.def, &ctx, Access::Write)?;
    let mut assigned = Vec::with_capacity(target.assignments.len());
    for (col, _) in &target.assignments {
        if is_system_column(col) {
            return Err(KalamError::exec(format!(
                "System column '{col}' cannot be written"
            )));
        }
        let Some((idx, def)) = entry.def.column(col) else {
            return Err(KalamError::exec(format!(
                "Column '{col}' not found in table '{id}'"
            )));
        };
        if def.primary_key {
            return Err(KalamError::exec(format!(
                "Cannot update primary key column '{col}'"
            )));
        }
        assigned.push(idx);
    }
    for expr in target
        .assignments
        .iter()
        .map(|(_, e)| e)
        .chain(target.selection.iter())
    {
        refuse_hidden_columns(&entry, expr)?;
    }
    let key_col = entry
        .def
        .primary_key()
        .map(|(_, c)| c.name.clone())
        .unwrap_or_else(|| ROW_ID_COLUMN.into());
    // Aliased: for keyed tables the key column also appears among the columns.
    let mut select =
        format!("SELECT \"{key_col}\" AS \"__key\", \"{SYSTEM_COLUMN_SEQ}\" AS \"__seq\"");
    for c in &entry.def.columns {
        select.push_str(&format!(", \"{}\"", c.name));
    }
    for (i, (_, expr)) in target.assignments.iter().enumerate() {
        select.push_str(&format!(", ({expr}) AS \"__set_{i}\""));
    }
    select.push_str(&format!(" FROM {}", target.table.relation));
    if let Some(sel) = &target.selection {
        select.push_str(&format!(" WHERE {sel}"));
    }
    let query = crate::engine::parse_standard(&select)?;
    let partition = ctx.partition_for(entry.def.table_type);
    for _ in 0..MAX_ATTEMPTS {
        // Read before the rows: a flush committing after this bumps it.
        let manifest_version =
            crate::cold::load_manifest(shared.store.as_ref(), &id, &partition)?.version;
        let (_, batches) = engine
            .plan_and_collect(query.clone(), params, ns, caller, ProviderMode::KeyedRead)
            .await?;
        let mut changes = Vec::new();
        for batch in &batches {
            collect_changes(&entry, batch, &assigned, target.kind, &mut changes)?;
        }
        match commit_changes(
            shared,
            &entry,
            partition.clone(),
            changes,
            target.kind,
            manifest_version,
        )
        .await
        {
            Ok(count) => {
                return Ok(StatementOutput::Dml {
                    kind: target.kind,
                    count,
                });
            }
            Err(KalamError::WriteConflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(KalamError::WriteConflict(format!(
        "Transaction conflict on table '{id}'; rolled back"
    )))
}

fn collect_changes(
    entry: &TableEntry,
    batch: &RecordBatch,
    assigned: &[usize],
    kind: DmlKind,
    out: &mut Vec<Change>,
) -> Result<()> {
    let cols = batch.columns();
    let n_user = entry.def.columns.len();
    let col = |i: usize| {
        cols.get(i)
            .ok_or_else(|| KalamError::internal("keyed read lost a column"))
    };
    let key_array = col(0)?;
    let seq_array = col(1)?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| KalamError::internal("_seq is not Int64"))?
        .clone();
    let pk_def = entry.def.primary_key().map(|(_, c)| c.clone());
    // New values, cast to the columns' types (a failed cast is the user's error).
    let mut new_arrays = Vec::with_capacity(assigned.len());
    for (i, idx) in assigned.iter().enumerate() {
        let def = entry
            .def
            .columns
            .get(*idx)
            .ok_or_else(|| KalamError::internal("bad column index"))?;
        let cast = cast_new_values(col(2 + n_user + i)?.as_ref(), def)?;
        new_arrays.push((*idx, def, cast));
    }
    for row in 0..batch.num_rows() {
        let pk = match &pk_def {
            Some(def) => pk_from_value(&value_from_array(def, key_array.as_ref(), row)?)
                .ok_or_else(|| KalamError::internal("row without key"))?,
            None => PkValue::RowId(
                key_array
                    .as_primitive_opt::<Int64Type>()
                    .ok_or_else(|| KalamError::internal("_rowid is not Int64"))?
                    .value(row),
            ),
        };
        let mut old_values = Vec::with_capacity(n_user);
        for (i, def) in entry.def.columns.iter().enumerate() {
            old_values.push(value_from_array(def, col(2 + i)?.as_ref(), row)?);
        }
        let new_values = if kind == DmlKind::Update {
            let mut values = old_values.clone();
            for (idx, def, array) in &new_arrays {
                let v = value_from_array(def, array.as_ref(), row)?;
                if v == Value::Null && !def.nullable {
                    return Err(KalamError::exec(format!(
                        "Column '{}' cannot be NULL",
                        def.name
                    )));
                }
                if let Some(slot) = values.get_mut(*idx) {
                    *slot = v;
                }
            }
            Some(values)
        } else {
            None
        };
        out.push(Change {
            pk,
            read_seq: seq_array.value(row),
            old_values,
            new_values,
        });
    }
    Ok(())
}

async fn commit_changes(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    partition: Partition,
    changes: Vec<Change>,
    kind: DmlKind,
    manifest_version: u64,
) -> Result<u64> {
    if changes.is_empty() {
        return Ok(0);
    }
    let s = shared.clone();
    let entry = entry.clone();
    shared
        .committer
        .commit(
            false,
            kalamdb_types::now_micros(),
            Box::new(move |ctx| {
                s.catalog.ensure_current(&entry)?;
                let table = entry.id();
                let mut affected = 0;
                let mut live_rows = s.live.watching(&table).then(Vec::new);
                // A key with no hot version was read from the cold tier; it is
                // still current unless a flush committed since the read.
                let manifest_now = crate::cold::decode_manifest(
                    ctx.get(Space::Meta, &crate::cold::manifest_key(&table, &partition))?,
                )?
                .version;
                for change in changes {
                    let key = RowKey {
                        table: table.clone(),
                        partition: partition.clone(),
                        pk: change.pk.clone(),
                    }
                    .encode();
                    let current = match ctx.get(Space::Rows, &key)? {
                        Some(bytes) => StoredRow::decode(&bytes)?,
                        None if manifest_now == manifest_version => StoredRow {
                            seq: change.read_seq,
                            deleted: false,
                            values: stored_values(&entry, change.old_values),
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
                    let pk = change.pk;
                    let row = match change.new_values {
                        Some(values) => {
                            let values = stored_values(&entry, values);
                            if values == current.values {
                                continue;
                            }
                            StoredRow {
                                seq: ctx.next_seq().as_i64(),
                                deleted: false,
                                values,
                            }
                        }
                        None => StoredRow {
                            seq: ctx.next_seq().as_i64(),
                            deleted: true,
                            values: current.values.clone(),
                        },
                    };
                    ctx.put(Space::Rows, key, row.encode()?);
                    affected += 1;
                    if let Some(rows) = live_rows.as_mut() {
                        rows.push(RowChange {
                            pk,
                            old: Some(current),
                            new: row,
                        });
                    }
                }
                let _ = kind;
                Ok(CommitReceipt {
                    affected,
                    post_commit: live_hook(&s, &entry, &partition, live_rows),
                })
            }),
        )
        .await
}
