//! Planning a subscription ([`plan`]): the SQL must be one `SELECT cols|*
//! FROM ns.t [WHERE p]`; the WHERE is planned by DataFusion in the
//! subscriber's session (so every predicate and function a query accepts
//! works, `CURRENT_USER()` bound to the subscriber) and turned into a
//! physical expression over the table's read schema. The projection gains
//! the PK and `_seq`. A `col = literal` conjunct becomes the subscription's
//! index key, which the router looks changes up by.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::physical_expr::PhysicalExpr;
use kalamdb_store::Partition;
use kalamdb_types::{
    NamespaceId, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, TableId, TableName, TableType,
};
use sqlparser::ast::{
    Expr as SqlExpr, GroupByExpr, SelectItem, SetExpr, Statement as SqlStatement, TableFactor,
};

use crate::access::{self, Caller};
use crate::catalog::names::{fold, object_ref};
use crate::catalog::table::TableEntry;
use crate::error::KalamError;
use crate::live::error::{LiveError, LiveErrorKind, unsupported};
use crate::read::context::{ProviderMode, QueryContext};
use crate::read::query::parse_standard;
use crate::read::session::Sessions;
use crate::row::arrow::value_from_array;
use crate::row::value::Value;

/// A subscription's query, planned once for its subscriber.
pub struct LivePlan {
    pub table: TableId,
    pub table_type: TableType,
    pub entry: Arc<TableEntry>,
    pub partition: Partition,
    /// The WHERE as written (re-rendered), for the snapshot query.
    pub where_sql: Option<String>,
    pub filter: Option<Arc<dyn PhysicalExpr>>,
    /// Indices into the table's read schema (user columns, `_seq`, `_deleted`).
    pub projection: Vec<usize>,
    /// What the subscriber receives: the projection (with the PK and `_seq`).
    pub schema: SchemaRef,
    /// `col = literal` conjunct the router indexes the subscription under.
    pub eq_index: Option<(usize, IndexKey)>,
    /// The primary key column's name, if the table has one.
    pub pk_column: Option<String>,
}

impl std::fmt::Debug for LivePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LivePlan({})", self.table)
    }
}

/// A hashable form of an indexable cell value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexKey {
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

pub fn index_key(v: &Value) -> Option<IndexKey> {
    Some(match v {
        Value::Bool(b) => IndexKey::Bool(*b),
        Value::I16(i) => IndexKey::Int(i64::from(*i)),
        Value::I32(i) => IndexKey::Int(i64::from(*i)),
        Value::I64(i) => IndexKey::Int(*i),
        Value::Text(s) => IndexKey::Text(s.clone()),
        Value::Uuid(u) => IndexKey::Bytes(u.to_vec()),
        _ => return None,
    })
}

/// Plans a subscription's SQL for `caller` (`wire-protocol.md` §6.8).
pub async fn plan(sessions: &Sessions, caller: &Caller, sql: &str) -> Result<LivePlan, LiveError> {
    let shared = sessions.shared();
    let invalid = |m: String| LiveError::new(LiveErrorKind::InvalidSql, m);
    let stmt = parse_standard(sql).map_err(|e| invalid(e.to_string()))?;
    let SqlStatement::Query(query) = stmt else {
        return Err(invalid("Live queries must be SELECT statements".into()));
    };
    if query.with.is_some() {
        return Err(unsupported("WITH clauses"));
    }
    if query.order_by.is_some() {
        return Err(unsupported("ORDER BY clauses"));
    }
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return Err(unsupported("LIMIT clauses"));
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(unsupported("Set operations and VALUES"));
    };
    if select.distinct.is_some() {
        return Err(unsupported("DISTINCT queries"));
    }
    if !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty())
        || select.having.is_some()
    {
        return Err(unsupported("GROUP BY queries"));
    }
    let [from] = select.from.as_slice() else {
        return Err(unsupported("Joins and multi-table queries"));
    };
    if !from.joins.is_empty() {
        return Err(unsupported("Joins"));
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return Err(unsupported("Subqueries and table functions"));
    };
    let r = object_ref(name).map_err(LiveError::from_kalam)?;
    let Some(ns) = r.namespace else {
        return Err(invalid("Query must use namespace.table format".into()));
    };
    if ns == "system" {
        return Err(unsupported("Subscriptions to system tables"));
    }
    let not_found = || {
        LiveError::new(
            LiveErrorKind::NotFound,
            format!("Table '{ns}.{}' not found", r.name),
        )
    };
    let ns_id = NamespaceId::parse(&ns).map_err(|_| not_found())?;
    let table_name = TableName::parse(&r.name).map_err(|_| not_found())?;
    let table = TableId::new(ns_id.clone(), table_name);
    if shared.catalog.view(&table).is_some() {
        return Err(unsupported("Subscriptions to views"));
    }
    let entry = shared.catalog.table(&table).ok_or_else(not_found)?;
    access::allow_table(caller, &entry.def, false).map_err(|e| {
        LiveError::new(
            LiveErrorKind::Unauthorized,
            match e {
                KalamError::PermissionDenied(m) => m,
                other => other.to_string(),
            },
        )
    })?;

    // Projection: columns only, then the PK and `_seq` if missing.
    let schema = entry.schema.clone();
    let mut projection: Vec<usize> = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                for (i, f) in schema.fields().iter().enumerate() {
                    if f.name() != SYSTEM_COLUMN_DELETED && !projection.contains(&i) {
                        projection.push(i);
                    }
                }
            }
            SelectItem::UnnamedExpr(e) => {
                let ident = match e {
                    SqlExpr::Identifier(id) => id,
                    SqlExpr::CompoundIdentifier(ids) => ids.last().ok_or_else(|| {
                        LiveError::new(LiveErrorKind::InvalidSql, "Empty column name")
                    })?,
                    _ => return Err(unsupported("Computed columns")),
                };
                let col = fold(ident);
                let i = schema.index_of(&col).map_err(|_| {
                    LiveError::new(
                        LiveErrorKind::NotFound,
                        format!("Column '{col}' not found in table '{table}'"),
                    )
                })?;
                if !projection.contains(&i) {
                    projection.push(i);
                }
            }
            SelectItem::ExprWithAlias { .. } | SelectItem::ExprWithAliases { .. } => {
                return Err(unsupported("Column aliases"));
            }
        }
    }
    let pk_column = entry.def.primary_key().map(|(_, c)| c.name.clone());
    for name in pk_column
        .iter()
        .map(String::as_str)
        .chain([SYSTEM_COLUMN_SEQ])
    {
        if let Ok(i) = schema.index_of(name)
            && !projection.contains(&i)
        {
            projection.push(i);
        }
    }
    let projected = Arc::new(
        schema
            .project(&projection)
            .map_err(|e| LiveError::new(LiveErrorKind::Failed, e.to_string()))?,
    );

    // The WHERE, as a physical expression over the table's rows: planned
    // by DataFusion as the query's filter (so every predicate and function
    // a query accepts works, CURRENT_USER() bound to the subscriber).
    let (where_sql, filter, eq_index) = match &select.selection {
        None => (None, None, None),
        Some(selection) => {
            let mut has_subquery = false;
            let _ = sqlparser::ast::visit_expressions(selection, |e| {
                if matches!(
                    e,
                    SqlExpr::Subquery(_) | SqlExpr::Exists { .. } | SqlExpr::InSubquery { .. }
                ) {
                    has_subquery = true;
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
            if has_subquery {
                return Err(unsupported("Subqueries"));
            }
            // Unknown columns get NOT_FOUND naming the column (DataFusion's
            // own message lists every field).
            let mut unknown = None;
            let _ = sqlparser::ast::visit_expressions(selection, |e| {
                let ident = match e {
                    SqlExpr::Identifier(id) => Some(id),
                    SqlExpr::CompoundIdentifier(ids) => ids.last(),
                    _ => None,
                };
                if let Some(id) = ident {
                    let col = fold(id);
                    if schema.index_of(&col).is_err() && unknown.is_none() {
                        unknown = Some(col);
                    }
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
            if let Some(col) = unknown {
                return Err(LiveError::new(
                    LiveErrorKind::NotFound,
                    format!("Column '{col}' not found in table '{table}'"),
                ));
            }
            let ctx = QueryContext::new(caller, ProviderMode::Read);
            let state = sessions
                .state(Arc::new(ctx), &ns_id)
                .map_err(LiveError::from_kalam)?;
            let text = format!("SELECT * FROM {name} WHERE {selection}");
            let stmt = parse_standard(&text).map_err(LiveError::from_kalam)?;
            let logical = state
                .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
                    stmt,
                )))
                .await
                .map_err(|e| where_error(&table, e))?;
            let (predicate, input_schema) = find_filter(&logical).ok_or_else(|| {
                LiveError::new(
                    LiveErrorKind::Failed,
                    "The WHERE clause could not be planned",
                )
            })?;
            let physical = state
                .create_physical_expr(predicate.clone(), &input_schema)
                .map_err(|e| where_error(&table, e))?;
            let eq = equality_index(&entry, &predicate);
            (Some(selection.to_string()), Some(physical), eq)
        }
    };
    Ok(LivePlan {
        table,
        table_type: entry.def.table_type,
        partition: ctx_partition(caller, entry.def.table_type),
        entry,
        where_sql,
        filter,
        projection,
        schema: projected,
        eq_index,
        pk_column,
    })
}

/// The filter of a planned `SELECT * FROM t WHERE p`, and the schema its
/// columns refer to (the table's full read schema).
fn find_filter(
    plan: &datafusion::logical_expr::LogicalPlan,
) -> Option<(Expr, datafusion::common::DFSchemaRef)> {
    use datafusion::logical_expr::LogicalPlan;
    match plan {
        LogicalPlan::Filter(f) => Some((f.predicate.clone(), f.input.schema().clone())),
        other => other.inputs().into_iter().find_map(find_filter),
    }
}

fn ctx_partition(caller: &Caller, kind: TableType) -> Partition {
    QueryContext::new(caller, ProviderMode::Read).partition_for(kind)
}

fn where_error(_table: &TableId, e: datafusion::error::DataFusionError) -> LiveError {
    LiveError::new(LiveErrorKind::InvalidSql, KalamError::from(e).to_string())
}

/// The first `column = literal` conjunct on an indexable column.
fn equality_index(entry: &TableEntry, expr: &Expr) -> Option<(usize, IndexKey)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => equality_index(entry, left).or_else(|| equality_index(entry, right)),
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (col, lit) = match (strip_cast(left), strip_cast(right)) {
                (Expr::Column(c), Expr::Literal(v, _)) => (c, v),
                (Expr::Literal(v, _), Expr::Column(c)) => (c, v),
                _ => return None,
            };
            let idx = entry.def.columns.iter().position(|c| c.name == col.name)?;
            let def = entry.def.columns.get(idx)?;
            let field = entry.schema.field(idx);
            let array = lit.cast_to(field.data_type()).ok()?.to_array().ok()?;
            let value = value_from_array(def, array.as_ref(), 0).ok()?;
            // A literal that changes when cast (1.5 = int column) must not
            // be indexed: the comparison happens in the wider type.
            let back = datafusion::common::ScalarValue::try_from_array(array.as_ref(), 0).ok()?;
            if back.cast_to(&lit.data_type()).ok()? != *lit {
                return None;
            }
            Some((idx, index_key(&value)?))
        }
        _ => None,
    }
}

fn strip_cast(e: &Expr) -> &Expr {
    match e {
        Expr::Cast(c) => strip_cast(&c.expr),
        Expr::TryCast(c) => strip_cast(&c.expr),
        other => other,
    }
}

/// The filter's verdict per row of `batch` (`None`: no filter, or it
/// could not be evaluated).
pub fn evaluate(
    filter: &Option<Arc<dyn PhysicalExpr>>,
    batch: &RecordBatch,
) -> Option<BooleanArray> {
    let f = filter.as_ref()?;
    let value = f.evaluate(batch).ok()?;
    let array = value.into_array(batch.num_rows()).ok()?;
    array.as_boolean_opt().cloned()
}
