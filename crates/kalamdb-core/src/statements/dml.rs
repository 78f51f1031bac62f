//! UPDATE and DELETE (`sql.md` §3), and the checks of an INSERT's shape.
//!
//! UPDATE and DELETE are run as a keyed read — `SELECT key, _seq, <columns>,
//! <new values> FROM t WHERE p`, planned by DataFusion so any predicate
//! works (subqueries too) — followed by one commit that writes a new
//! version per row (`write/keyed.rs`). The commit re-checks that each row's
//! `_seq` is still the one read; if another writer got there first the
//! whole statement is re-run (optimistic concurrency), so concurrent
//! UPDATEs of one row leave one consistent newest version.
//!
//! INSERT is planned by DataFusion (casts, defaults, `INSERT … SELECT`) and
//! lands in `write/insert.rs` through the provider's sink; its shape is
//! checked here first, with the spec's messages.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::common::ScalarValue;
use kalamdb_store::PkValue;
use kalamdb_types::{NamespaceId, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, TableType};
use sqlparser::ast::{
    AssignmentTarget, FromTable, ObjectName, SelectItem, SetExpr, Statement as SqlStatement,
    TableFactor, TableObject,
};

use crate::access::{self, Action, Caller};
use crate::catalog::names::{fold, object_ref, resolve_table};
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::read::context::{ProviderMode, QueryContext, RequestScope};
use crate::read::query::{collect_in, parse_standard};
use crate::read::session::Sessions;
use crate::row::arrow::{ROW_ID_COLUMN, value_from_array};
use crate::row::fit::{cast_new_values, check_value_fits};
use crate::row::key::pk_from_value;
use crate::row::value::Value;
use crate::statements::output::{DmlKind, StatementOutput};
use crate::statements::returning::Returning;
use crate::tiers::manifest::load_manifest;
use crate::write::insert::MAX_ATTEMPTS;
use crate::write::keyed::{Change, commit_changes};
use crate::write::shared::Shared;

fn writable_table(
    shared: &Shared,
    caller: &Caller,
    name: &ObjectName,
    ns: &NamespaceId,
) -> Result<Arc<TableEntry>> {
    let r = object_ref(name)?;
    if r.namespace.as_deref() == Some("system") {
        access::allow(
            caller.role,
            Action::WriteSystemTable(&format!("system.{}", r.name)),
        )?;
    }
    resolve_table(&shared.catalog, &r, ns)
}

/// `_seq`, `_deleted` and every other `_`-name: the engine's, never written
/// by a statement.
pub fn is_system_column(name: &str) -> bool {
    name == SYSTEM_COLUMN_SEQ || name == SYSTEM_COLUMN_DELETED || name.starts_with('_')
}

/// Checks an INSERT's shape with the spec's messages before DataFusion plans
/// it (DataFusion would answer the same mistakes in its own words); returns
/// the target table.
pub fn validate_insert(
    shared: &Shared,
    caller: &Caller,
    insert: &sqlparser::ast::Insert,
    ns: &NamespaceId,
) -> Result<Arc<TableEntry>> {
    let TableObject::TableName(name) = &insert.table else {
        return Err(KalamError::InvalidSql(
            "INSERT target must be a table".into(),
        ));
    };
    let entry = writable_table(shared, caller, name, ns)?;
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
    Ok(entry)
}

/// Gives an `INSERT … SELECT`'s source columns names of their own where
/// DataFusion would see two columns of one name (`SELECT 1, NULL, NULL`:
/// both NULLs are named `NULL`) and refuse the projection. An INSERT's
/// source columns are matched by position, as in PostgreSQL, so their
/// names never matter: every expression that is not a plain column gets a
/// positional alias, and so does a column or alias repeating an earlier
/// name. Plain columns and first aliases keep their names, so an
/// `ORDER BY` naming them still resolves.
pub fn name_source_columns(insert: &mut sqlparser::ast::Insert) {
    if let Some(source) = insert.source.as_mut() {
        name_set_expr(source.body.as_mut());
    }
}

fn name_set_expr(body: &mut SetExpr) {
    use sqlparser::ast::{Expr, Ident, SelectItem};
    match body {
        SetExpr::Select(select) => {
            let mut seen = std::collections::HashSet::new();
            for (i, item) in select.projection.iter_mut().enumerate() {
                let alias = Ident::new(format!("__kalamdb_source_{}", i + 1));
                let replaced =
                    match std::mem::replace(item, SelectItem::Wildcard(Default::default())) {
                        SelectItem::UnnamedExpr(
                            e @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_)),
                        ) => {
                            let name = match &e {
                                Expr::Identifier(id) => fold(id),
                                Expr::CompoundIdentifier(ids) => {
                                    ids.last().map(fold).unwrap_or_default()
                                }
                                _ => String::new(),
                            };
                            if seen.insert(name) {
                                SelectItem::UnnamedExpr(e)
                            } else {
                                SelectItem::ExprWithAlias { expr: e, alias }
                            }
                        }
                        SelectItem::UnnamedExpr(expr) => SelectItem::ExprWithAlias { expr, alias },
                        SelectItem::ExprWithAlias { expr, alias: given } => {
                            if seen.insert(fold(&given)) {
                                SelectItem::ExprWithAlias { expr, alias: given }
                            } else {
                                SelectItem::ExprWithAlias { expr, alias }
                            }
                        }
                        other => other,
                    };
                *item = replaced;
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_set_expr(left);
            name_set_expr(right);
        }
        SetExpr::Query(q) => name_set_expr(q.body.as_mut()),
        _ => {}
    }
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

struct Target {
    table: sqlparser::ast::TableWithJoins,
    name: ObjectName,
    selection: Option<sqlparser::ast::Expr>,
    assignments: Vec<(String, sqlparser::ast::Expr)>,
    kind: DmlKind,
    returning: Option<Vec<SelectItem>>,
}

fn target_of(stmt: SqlStatement) -> Result<Target> {
    match stmt {
        SqlStatement::Update(u) => {
            if u.from.is_some() || !u.table.joins.is_empty() || u.limit.is_some() {
                return Err(KalamError::InvalidSql(
                    "UPDATE supports one table, SET, WHERE and RETURNING (no FROM, JOIN or LIMIT)"
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
                returning: u.returning,
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
                || !d.tables.is_empty()
                || d.limit.is_some()
                || !table.joins.is_empty()
            {
                return Err(KalamError::InvalidSql(
                    "DELETE supports one table, WHERE and RETURNING (no USING or LIMIT)".into(),
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
                returning: d.returning,
            })
        }
        _ => Err(KalamError::internal("not an UPDATE or DELETE")),
    }
}

pub async fn update_or_delete(
    shared: &Arc<Shared>,
    sessions: &Sessions,
    stmt: SqlStatement,
    params: &[ScalarValue],
    ns: &NamespaceId,
    caller: &Caller,
    scope: &RequestScope,
) -> Result<StatementOutput> {
    let target = target_of(stmt)?;
    let entry = writable_table(shared, caller, &target.name, ns)?;
    let id = entry.id();
    if entry.def.table_type == TableType::Stream {
        return Err(KalamError::exec("STREAM tables are append-only"));
    }
    access::allow_table(caller, &entry.def, true)?;
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
    let key_col = entry.key_column();
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
    let query = parse_standard(&select)?;
    let ctx = QueryContext::new(caller, ProviderMode::Read).in_scope(scope);
    let partition = ctx.partition_for(entry.def.table_type);
    // Planned before anything is written: a bad item fails the statement.
    let returning = match &target.returning {
        Some(items) => Some(Returning::plan(
            &sessions.state(Arc::new(ctx.clone()), ns)?,
            entry.clone(),
            items,
        )?),
        None => None,
    };
    for _ in 0..MAX_ATTEMPTS {
        // Read before the rows: a flush committing after this bumps it.
        let manifest_version = load_manifest(shared.store.as_ref(), &id, &partition)?.version;
        let keyed = QueryContext {
            mode: ProviderMode::KeyedRead,
            ..ctx.clone()
        };
        let (_, batches) = collect_in(sessions, query.clone(), params, ns, keyed, None).await?;
        let mut changes = Vec::new();
        for batch in &batches {
            collect_changes(&entry, batch, &assigned, target.kind, &mut changes)?;
        }
        let keep = returning.is_some();
        let committed = match &scope.txn {
            Some(txn) => {
                txn.stage_changes(shared, &entry, &partition, changes, manifest_version, keep)
            }
            None => {
                commit_changes(
                    shared,
                    &entry,
                    partition.clone(),
                    changes,
                    manifest_version,
                    keep,
                )
                .await
            }
        };
        match committed {
            Ok(written) => {
                return Ok(match &returning {
                    Some(r) => StatementOutput::Returning {
                        kind: target.kind,
                        schema: r.schema(),
                        batches: r.evaluate(&written.rows)?,
                    },
                    None => StatementOutput::Dml {
                        kind: target.kind,
                        count: written.count,
                    },
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
