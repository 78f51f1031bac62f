//! Recognising a statement the fast path can run ([`prepare`]): a parsed
//! statement becomes a [`Prepared`] — table entry, column map, literals
//! already converted, defaults classified, `$n` slots — or `None`.
//!
//! Recognition is deliberately narrow and proves itself: after taking a
//! statement apart, the parts are written back as the one canonical text
//! of that shape and compared with the parser's own rendering of the whole
//! statement. Any clause the code below did not look at (a `LIMIT`, an
//! alias, a hint, `RETURNING`, `ON CONFLICT`, …) makes the texts differ,
//! and the statement goes to DataFusion.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::logical_expr::Expr as DfExpr;
use kalamdb_sql::KalamStatement;
use kalamdb_store::PkValue;
use kalamdb_types::{ColumnDefinition, KalamDataType, NamespaceId, TableType};
use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, Expr, FromTable, ObjectName, SelectItem, SetExpr,
    Statement as SqlStatement, TableFactor, TableObject, TableWithJoins,
};

use crate::catalog::names::{fold, object_ref, resolve_table};
use crate::catalog::registry::Catalog;
use crate::catalog::table::TableEntry;
use crate::row::key::pk_from_value;
use crate::row::value::Value;
use crate::statements::dml::is_system_column;
use crate::statements::fast::values::{Literal, Source, refused_null, source_of, to_value};
use kalamdb_sql::RowCell;

/// A recognised statement, ready to run for any caller.
#[derive(Debug)]
pub struct Prepared {
    /// The catalog generation it was recognised under.
    pub generation: u64,
    /// The statement's text as split from the request (what an error names).
    pub statement: String,
    /// `EXECUTE AS USER '<name>' (…)`.
    pub as_user: Option<String>,
    pub op: Op,
    /// The highest `$n` used: a request must bring exactly that many.
    pub params: usize,
}

#[derive(Debug)]
pub enum Op {
    Insert {
        entry: Arc<TableEntry>,
        /// Per row, one cell per table column in column order.
        rows: Vec<Vec<Cell>>,
    },
    Select {
        entry: Arc<TableEntry>,
        /// Indices into the table's read schema.
        projection: Vec<usize>,
        keys: Vec<Key>,
    },
    Update {
        entry: Arc<TableEntry>,
        keys: Vec<Key>,
        /// `(column index, new value)`.
        set: Vec<(usize, Cell)>,
    },
    Delete {
        entry: Arc<TableEntry>,
        keys: Vec<Key>,
    },
}

/// One value to write.
#[derive(Debug, Clone)]
pub enum Cell {
    Value(Value),
    /// `$n`, converted when the request brings it.
    Param(usize),
    Default(Generated),
}

/// A DEFAULT computed per statement or row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    /// `NOW()`: the statement's start, as DataFusion fixes it per query.
    Now,
    SnowflakeId,
    /// `UUID_V7()` into a UUID column (`text: false`) or a TEXT one.
    UuidV7 {
        text: bool,
    },
    Ulid,
    CurrentUser,
}

/// A primary-key value of a point read or write.
#[derive(Debug, Clone)]
pub enum Key {
    Value(PkValue),
    Param(usize),
}

/// The prepared form of `stmt`, if the fast path can run it. With
/// `scanned`, `stmt` is an INSERT parsed with its first row only and
/// `scanned` holds every row, read from the text by
/// `kalamdb_sql::scan_insert_rows` (the first must read alike both ways).
pub fn prepare(
    catalog: &Catalog,
    statement: &str,
    stmt: &mut KalamStatement,
    ns: &NamespaceId,
    generation: u64,
    scanned: Option<&[Vec<RowCell<'_>>]>,
) -> Option<Prepared> {
    let (as_user, inner) = match stmt {
        KalamStatement::ExecuteAsUser { user, inner, .. } => (Some(user.clone()), inner.as_mut()),
        other => (None, other),
    };
    let KalamStatement::Standard(sql) = inner else {
        return None;
    };
    let mut slots = Slots::default();
    let op = match sql.as_mut() {
        // Checks its own rendering (without its rows: a batch of a thousand
        // rows is not rendered again to prove it has no extra clause).
        SqlStatement::Insert(ins) => insert(catalog, ins, ns, &mut slots, scanned)?,
        _ if scanned.is_some() => return None,
        other => {
            let op = match &*other {
                SqlStatement::Query(q) => select(catalog, q, ns, &mut slots)?,
                SqlStatement::Update(u) => update(catalog, u, ns, &mut slots)?,
                SqlStatement::Delete(d) => delete(catalog, d, ns, &mut slots)?,
                _ => return None,
            };
            if other.to_string() != slots.canonical {
                return None;
            }
            op
        }
    };
    Some(Prepared {
        generation,
        statement: statement.to_string(),
        as_user,
        op,
        params: slots.max_param,
    })
}

/// What recognition gathers besides the operation.
#[derive(Default)]
struct Slots {
    max_param: usize,
    /// The statement as its shape renders it.
    canonical: String,
}

impl Slots {
    fn param(&mut self, n: usize) {
        self.max_param = self.max_param.max(n);
    }
}

fn table(catalog: &Catalog, name: &ObjectName, ns: &NamespaceId) -> Option<Arc<TableEntry>> {
    let r = object_ref(name).ok()?;
    if r.namespace.as_deref() == Some("system") {
        return None;
    }
    resolve_table(catalog, &r, ns).ok()
}

fn plain_table(t: &TableWithJoins) -> Option<&ObjectName> {
    if !t.joins.is_empty() {
        return None;
    }
    match &t.relation {
        TableFactor::Table {
            name,
            alias: None,
            args: None,
            ..
        } => Some(name),
        _ => None,
    }
}

fn insert(
    catalog: &Catalog,
    ins: &mut sqlparser::ast::Insert,
    ns: &NamespaceId,
    slots: &mut Slots,
    scanned: Option<&[Vec<RowCell<'_>>]>,
) -> Option<Op> {
    let TableObject::TableName(name) = &ins.table else {
        return None;
    };
    let entry = table(catalog, name, ns)?;
    // The statement without its rows must render as the shape does; the
    // rows themselves are checked cell by cell (`source_of` takes only
    // literals and `$n`, which hide no clause).
    let rows = match ins.source.as_mut().map(|q| q.body.as_mut()) {
        Some(SetExpr::Values(v)) if !v.explicit_row && !v.value_keyword => {
            std::mem::take(&mut v.rows)
        }
        _ => return None,
    };
    let cols = if ins.columns.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = ins.columns.iter().map(ToString::to_string).collect();
        format!("({}) ", names.join(", "))
    };
    let empty = sqlparser::ast::Values {
        explicit_row: false,
        value_keyword: false,
        rows: Vec::new(),
    };
    let same = ins.to_string() == format!("INSERT INTO {name} {cols}{empty}");
    if let Some(SetExpr::Values(v)) = ins.source.as_mut().map(|q| q.body.as_mut()) {
        v.rows = rows;
    }
    if !same {
        return None;
    }
    let ins = &*ins;
    let source = ins.source.as_ref()?;
    let SetExpr::Values(values) = source.body.as_ref() else {
        return None;
    };
    let def = &entry.def;
    // Listed columns as indices into the table's columns.
    let mut listed = Vec::with_capacity(ins.columns.len());
    for c in &ins.columns {
        let [part] = c.0.as_slice() else { return None };
        let name = fold(part.as_ident()?);
        if is_system_column(&name) {
            return None;
        }
        let (idx, _) = def.column(&name)?;
        if listed.contains(&idx) {
            return None;
        }
        listed.push(idx);
    }
    if listed.is_empty() {
        listed = (0..def.columns.len()).collect();
    }
    // Every cell a literal or `$n` (which hide no clause), as sources.
    let parsed: Vec<Vec<Option<Source>>> = values
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|e| source_of(e).map(Some))
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<_>>()?;
    let mut sources: Vec<Vec<Option<Source>>> = match scanned {
        None => parsed,
        Some(scanned) => {
            let all: Vec<Vec<Option<Source>>> = scanned
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|c| source_of(&c.to_expr()).map(Some))
                        .collect::<Option<Vec<_>>>()
                })
                .collect::<Option<_>>()?;
            // The parser read the first row: the scanner must agree.
            if parsed.len() != 1 || all.first() != parsed.first() {
                return None;
            }
            all
        }
    };
    if sources.iter().any(|r| r.len() != listed.len()) {
        return None;
    }
    let mut rows: Vec<Vec<Cell>> = vec![Vec::with_capacity(def.columns.len()); sources.len()];
    for (idx, col) in def.columns.iter().enumerate() {
        match listed.iter().position(|&i| i == idx) {
            Some(pos) => {
                let mut kind: Option<(bool, Option<u8>)> = None;
                for (row, out) in sources.iter_mut().zip(rows.iter_mut()) {
                    // Each listed column is taken once.
                    let src = row.get_mut(pos)?.take()?;
                    // One column is either all parameters or all literals
                    // of one kind (NULLs aside): DataFusion unifies a
                    // column's types across rows before casting.
                    let this = match &src {
                        Source::Param(_) => (true, None),
                        Source::Literal(l) => (false, l.kind()),
                    };
                    match &mut kind {
                        None => kind = Some(this),
                        Some((param, k)) => {
                            if *param != this.0 {
                                return None;
                            }
                            match (&k, this.1) {
                                (Some(a), Some(b)) if *a != b => return None,
                                (None, Some(b)) => *k = Some(b),
                                _ => {}
                            }
                        }
                    }
                    out.push(cell(col, src, slots)?);
                }
            }
            None => {
                let generated = default_of(&entry, col)?;
                for out in &mut rows {
                    out.push(generated.clone());
                }
            }
        }
    }
    Some(Op::Insert { entry, rows })
}

/// A literal converted now, or a parameter slot.
fn cell(col: &ColumnDefinition, src: Source, slots: &mut Slots) -> Option<Cell> {
    match src {
        Source::Param(n) => {
            slots.param(n);
            Some(Cell::Param(n))
        }
        Source::Literal(l) => {
            if !l.fits_kind(&col.data_type) {
                return None;
            }
            let v = to_value(col, &l.scalar())?;
            (!refused_null(col, &v)).then_some(Cell::Value(v))
        }
    }
}

/// What an INSERT writes into a column it does not list.
fn default_of(entry: &TableEntry, col: &ColumnDefinition) -> Option<Cell> {
    use KalamDataType as T;
    if entry.current_user_defaults.contains(&col.name) {
        return (col.data_type == T::Text).then_some(Cell::Default(Generated::CurrentUser));
    }
    let Some(expr) = entry.defaults.get(&col.name) else {
        return (!refused_null(col, &Value::Null)).then_some(Cell::Value(Value::Null));
    };
    match expr {
        DfExpr::Literal(v, _) => {
            let v = to_value(col, v)?;
            (!refused_null(col, &v)).then_some(Cell::Value(v))
        }
        DfExpr::ScalarFunction(f) if f.args.is_empty() => {
            let generated = match (f.func.name(), &col.data_type) {
                ("now", T::Timestamp | T::DateTime) => Generated::Now,
                ("snowflake_id", T::BigInt) => Generated::SnowflakeId,
                ("uuid_v7", T::Uuid) => Generated::UuidV7 { text: false },
                ("uuid_v7", T::Text) => Generated::UuidV7 { text: true },
                ("ulid", T::Text) => Generated::Ulid,
                _ => return None,
            };
            Some(Cell::Default(generated))
        }
        _ => None,
    }
}

fn select(
    catalog: &Catalog,
    q: &sqlparser::ast::Query,
    ns: &NamespaceId,
    slots: &mut Slots,
) -> Option<Op> {
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return None;
    };
    let [from] = sel.from.as_slice() else {
        return None;
    };
    let name = plain_table(from)?;
    let entry = table(catalog, name, ns)?;
    let schema = entry.schema.clone();
    let mut projection = Vec::with_capacity(sel.projection.len());
    for item in &sel.projection {
        match item {
            SelectItem::Wildcard(_) if sel.projection.len() == 1 => {
                projection.extend(0..schema.fields().len());
            }
            SelectItem::UnnamedExpr(Expr::Identifier(id)) => {
                let idx = schema.index_of(&fold(id)).ok()?;
                if projection.contains(&idx) {
                    return None;
                }
                projection.push(idx);
            }
            _ => return None,
        }
    }
    let selection = sel.selection.as_ref()?;
    let keys = key_filter(&entry, selection, true, slots)?;
    let items: Vec<String> = sel.projection.iter().map(ToString::to_string).collect();
    slots.canonical = format!("SELECT {} FROM {name} WHERE {selection}", items.join(", "));
    Some(Op::Select {
        entry,
        projection,
        keys,
    })
}

/// The keys of `pk = x`, `x = pk` or (when `list`) `pk IN (x, …)`.
fn key_filter(entry: &TableEntry, e: &Expr, list: bool, slots: &mut Slots) -> Option<Vec<Key>> {
    let (_, pk) = entry.def.primary_key()?;
    // UUID keys compare as text in DataFusion's filter (case matters there);
    // other types are not keys.
    if !matches!(
        pk.data_type,
        KalamDataType::SmallInt | KalamDataType::Int | KalamDataType::BigInt | KalamDataType::Text
    ) {
        return None;
    }
    let is_pk = |e: &Expr| matches!(e, Expr::Identifier(id) if fold(id) == pk.name);
    let sources = match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if is_pk(left) {
                vec![source_of(right)?]
            } else if is_pk(right) {
                vec![source_of(left)?]
            } else {
                return None;
            }
        }
        Expr::InList {
            expr,
            list: items,
            negated: false,
        } if list && is_pk(expr) && !items.is_empty() => {
            items.iter().map(source_of).collect::<Option<Vec<_>>>()?
        }
        _ => return None,
    };
    let mut keys = Vec::with_capacity(sources.len());
    for src in sources {
        keys.push(match src {
            Source::Param(n) => {
                slots.param(n);
                Key::Param(n)
            }
            // Only a literal of the key's own kind: DataFusion coerces
            // others in ways a point read would not.
            Source::Literal(l) => {
                let same_kind = match (&l, pk.data_type) {
                    (Literal::Int(_), KalamDataType::Text) => false,
                    (Literal::Int(_), _) => true,
                    (Literal::Text(_), KalamDataType::Text) => true,
                    _ => false,
                };
                if !same_kind {
                    return None;
                }
                Key::Value(pk_from_value(&to_value(pk, &l.scalar())?)?)
            }
        });
    }
    Some(keys)
}

fn assignments(
    entry: &TableEntry,
    list: &[sqlparser::ast::Assignment],
    slots: &mut Slots,
) -> Option<Vec<(usize, Cell)>> {
    let mut set: Vec<(usize, Cell)> = Vec::with_capacity(list.len());
    let mut seen = HashSet::new();
    for a in list {
        let AssignmentTarget::ColumnName(col) = &a.target else {
            return None;
        };
        let [part] = col.0.as_slice() else {
            return None;
        };
        let name = fold(part.as_ident()?);
        if is_system_column(&name) || !seen.insert(name.clone()) {
            return None;
        }
        let (idx, def) = entry.def.column(&name)?;
        if def.primary_key {
            return None;
        }
        set.push((idx, cell(def, source_of(&a.value)?, slots)?));
    }
    Some(set)
}

fn update(
    catalog: &Catalog,
    u: &sqlparser::ast::Update,
    ns: &NamespaceId,
    slots: &mut Slots,
) -> Option<Op> {
    let name = plain_table(&u.table)?;
    let entry = table(catalog, name, ns)?;
    if entry.def.table_type == TableType::Stream || u.assignments.is_empty() {
        return None;
    }
    let set = assignments(&entry, &u.assignments, slots)?;
    let selection = u.selection.as_ref()?;
    let keys = key_filter(&entry, selection, true, slots)?;
    let items: Vec<String> = u.assignments.iter().map(ToString::to_string).collect();
    slots.canonical = format!(
        "UPDATE {} SET {} WHERE {selection}",
        u.table,
        items.join(", ")
    );
    Some(Op::Update { entry, keys, set })
}

fn delete(
    catalog: &Catalog,
    d: &sqlparser::ast::Delete,
    ns: &NamespaceId,
    slots: &mut Slots,
) -> Option<Op> {
    let FromTable::WithFromKeyword(from) = &d.from else {
        return None;
    };
    let [t] = from.as_slice() else { return None };
    let name = plain_table(t)?;
    let entry = table(catalog, name, ns)?;
    if entry.def.table_type == TableType::Stream {
        return None;
    }
    let selection = d.selection.as_ref()?;
    let keys = key_filter(&entry, selection, true, slots)?;
    slots.canonical = format!("DELETE FROM {t} WHERE {selection}");
    Some(Op::Delete { entry, keys })
}
