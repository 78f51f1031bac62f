//! Views (`sql.md` §2.6a): `CREATE [OR REPLACE] VIEW`, `DROP VIEW`, and
//! their expansion.
//!
//! A view is its query's text, kept in the catalog (`ViewRecord`). A
//! statement that names a view gets the view's query in its place, as a
//! derived table under the view's name ([`expand`]), before DataFusion
//! plans it; so a view is planned and evaluated as the caller: its USER
//! and STREAM tables yield the caller's rows, its SHARED tables follow
//! their access level, and a caller who may not read a table the view
//! names gets the error querying that table gives. Views of views expand
//! in turn, up to [`MAX_DEPTH`] (a view leading back to itself is refused
//! when created, and answers an error if one was made through
//! `OR REPLACE` of another). Views take no INSERT, UPDATE or DELETE
//! ([`refuse_write`]) and no live subscription (`live/plan.rs`).

use std::ops::ControlFlow;
use std::sync::Arc;

use kalamdb_sql::ObjectRef;
use kalamdb_store::{MetaKey, Space};
use kalamdb_types::{NamespaceId, TableId};
use sqlparser::ast::{
    Ident, ObjectNamePart, Query, Statement as SqlStatement, TableAlias, TableFactor, TableObject,
    VisitMut, VisitorMut,
};

use crate::access::{self, Action, Caller};
use crate::catalog::names::{fold, object_ref, table_id};
use crate::catalog::records::{ViewRecord, encode_json};
use crate::catalog::registry::Catalog;
use crate::error::{KalamError, Result};
use crate::read::query::parse_standard;
use crate::statements::output::StatementOutput;
use crate::write::shared::Shared;

/// Views nested in views expanded before the statement is refused.
pub const MAX_DEPTH: usize = 16;

fn not_a_view(id: &TableId) -> KalamError {
    KalamError::exec(format!("'{id}' is a table, not a view"))
}

/// The answer to a write into `id` when it names a view.
pub fn refuse_write(catalog: &Catalog, id: &TableId) -> Result<()> {
    match catalog.view(id) {
        Some(_) => Err(KalamError::exec(format!(
            "'{id}' is a view: INSERT, UPDATE and DELETE are not supported on views"
        ))),
        None => Ok(()),
    }
}

/// The target of an INSERT, UPDATE or DELETE, if the statement is one.
fn write_target(stmt: &SqlStatement) -> Option<&sqlparser::ast::ObjectName> {
    fn relation(t: &sqlparser::ast::TableWithJoins) -> Option<&sqlparser::ast::ObjectName> {
        match &t.relation {
            TableFactor::Table { name, .. } => Some(name),
            _ => None,
        }
    }
    match stmt {
        SqlStatement::Insert(i) => match &i.table {
            TableObject::TableName(name) => Some(name),
            _ => None,
        },
        SqlStatement::Update(u) => relation(&u.table),
        SqlStatement::Delete(d) => match &d.from {
            sqlparser::ast::FromTable::WithFromKeyword(t)
            | sqlparser::ast::FromTable::WithoutKeyword(t) => t.first().and_then(relation),
        },
        _ => None,
    }
}

/// Replaces every table reference to a view in `stmt` with the view's
/// query (see the module docs); a write into a view is refused.
pub fn expand(catalog: &Catalog, stmt: &mut SqlStatement, current: &NamespaceId) -> Result<()> {
    expand_as(catalog, stmt, current, Vec::new())
}

/// [`expand`] inside the definition of the views of `chain` (the outermost
/// first): naming one of them again is a cycle.
fn expand_as(
    catalog: &Catalog,
    stmt: &mut SqlStatement,
    current: &NamespaceId,
    chain: Vec<TableId>,
) -> Result<()> {
    if !catalog.has_views() {
        return Ok(());
    }
    if let Some(name) = write_target(stmt)
        && let Ok(r) = object_ref(name)
        && let Ok(id) = table_id(&r, current)
    {
        refuse_write(catalog, &id)?;
    }
    let mut expander = Expander {
        catalog,
        current,
        chain,
        error: None,
    };
    let _ = stmt.visit(&mut expander);
    match expander.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct Expander<'a> {
    catalog: &'a Catalog,
    current: &'a NamespaceId,
    /// The views whose definitions are being expanded, outermost first.
    chain: Vec<TableId>,
    error: Option<KalamError>,
}

impl Expander<'_> {
    fn view_of(&self, factor: &TableFactor) -> Option<(ViewRecord, Option<TableAlias>)> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return None;
        };
        let r = object_ref(name).ok()?;
        let id = table_id(&r, self.current).ok()?;
        let view = self.catalog.view(&id)?;
        Some((view, alias.clone()))
    }

    /// The view's query with the views it names expanded in turn: a view
    /// in its own chain is a cycle, a chain longer than [`MAX_DEPTH`] is
    /// refused (each level is a level of recursion).
    fn expanded_query(&self, view: &ViewRecord) -> Result<Box<Query>> {
        let path = || {
            let names: Vec<String> = self.chain.iter().map(ToString::to_string).collect();
            names.join(" → ")
        };
        if self.chain.contains(&view.id) {
            return Err(KalamError::exec(format!(
                "View '{}' refers to itself ({} → {})",
                view.id,
                path(),
                view.id
            )));
        }
        if self.chain.len() >= MAX_DEPTH {
            return Err(KalamError::exec(format!(
                "Views nest more than {MAX_DEPTH} deep ({} → {})",
                path(),
                view.id
            )));
        }
        let mut chain = self.chain.clone();
        chain.push(view.id.clone());
        // Names inside a view resolve in the view's own namespace.
        let mut query = SqlStatement::Query(view_query(view)?);
        expand_as(self.catalog, &mut query, &view.id.namespace, chain)?;
        match query {
            SqlStatement::Query(q) => Ok(q),
            _ => Err(KalamError::internal("a view's query changed kind")),
        }
    }
}

impl VisitorMut for Expander<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let Some((view, alias)) = self.view_of(factor) else {
            return ControlFlow::Continue(());
        };
        // Expanded whole here: the visit then descends into a query that
        // names no view.
        let subquery = match self.expanded_query(&view) {
            Ok(q) => q,
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        };
        let alias = alias.unwrap_or_else(|| TableAlias {
            explicit: true,
            name: Ident::new(view.id.table.as_str()),
            columns: Vec::new(),
            at: None,
        });
        *factor = TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(alias),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}

/// Qualifies every unqualified table name of `query` with `ns` (the
/// namespace current when the view is created), so the stored definition
/// names the same tables whatever namespace a later statement runs in.
/// Names of the query's own CTEs and table functions are left alone.
fn qualify_tables(query: &mut Query, ns: &NamespaceId) {
    struct Ctes(Vec<String>);
    impl sqlparser::ast::Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                self.0
                    .extend(with.cte_tables.iter().map(|c| fold(&c.alias.name)));
            }
            ControlFlow::Continue(())
        }
    }
    struct Qualify<'a> {
        ctes: Vec<String>,
        ns: &'a NamespaceId,
    }
    impl VisitorMut for Qualify<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name, args: None, ..
            } = factor
                && let [ObjectNamePart::Identifier(table)] = name.0.as_slice()
                && !self.ctes.contains(&fold(table))
            {
                name.0
                    .insert(0, ObjectNamePart::Identifier(Ident::new(self.ns.as_str())));
            }
            ControlFlow::Continue(())
        }
    }
    let mut ctes = Ctes(Vec::new());
    let _ = sqlparser::ast::Visit::visit(&*query, &mut ctes);
    let _ = query.visit(&mut Qualify { ctes: ctes.0, ns });
}

/// The view's stored query, parsed.
fn view_query(view: &ViewRecord) -> Result<Box<Query>> {
    match parse_standard(&view.sql)? {
        SqlStatement::Query(q) => Ok(q),
        _ => Err(KalamError::internal(format!(
            "the definition of view '{}' is not a query",
            view.id
        ))),
    }
}

/// `CREATE [OR REPLACE] VIEW`: the query is planned first as the creator
/// (a planning error is the answer, in DataFusion's words), then stored.
/// `check` plans the statement it is given.
pub async fn create_view<F, Fut>(
    shared: &Arc<Shared>,
    caller: &Caller,
    view: &ObjectRef,
    query: Query,
    (or_replace, if_not_exists): (bool, bool),
    current: &NamespaceId,
    check: F,
) -> Result<StatementOutput>
where
    F: FnOnce(SqlStatement) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    access::allow(caller.role, Action::ManageView("CREATE VIEW"))?;
    let id = table_id(view, current)?;
    if id.namespace.is_system() {
        access::allow(caller.role, Action::CreateTableInSystem)?;
    }
    if shared.catalog.namespace(&id.namespace).is_none() {
        return Err(KalamError::exec(format!(
            "Namespace '{}' not found",
            id.namespace
        )));
    }
    if shared.catalog.table(&id).is_some() {
        return Err(not_a_view(&id));
    }
    let existing = shared.catalog.view(&id);
    if existing.is_some() && !or_replace {
        if if_not_exists {
            return Ok(StatementOutput::Message(format!(
                "View {id} already exists (skipped)"
            )));
        }
        return Err(KalamError::exec(format!("View '{id}' already exists")));
    }
    let mut query = query;
    qualify_tables(&mut query, &id.namespace);
    let sql = query.to_string();
    // Planned over a derived table, as a statement naming the view will be:
    // `SELECT * FROM (<query>) AS v LIMIT 0`.
    let mut probe = parse_standard(&format!("SELECT * FROM ({sql}) AS v LIMIT 0"))?;
    // The new definition may not lead back to the view itself.
    expand_as(&shared.catalog, &mut probe, &id.namespace, vec![id.clone()])?;
    check(probe).await?;
    let now = kalamdb_types::now_micros();
    let record = ViewRecord {
        id: id.clone(),
        sql,
        created_at: existing.as_ref().map_or(now, |v| v.created_at),
        updated_at: now,
    };
    let bytes = encode_json(&record)?;
    let s = shared.clone();
    let replaced = existing.is_some();
    let id2 = id.clone();
    shared
        .committer
        .exclusive(move |ctx| {
            // Checked again where no other DDL can interleave.
            if s.catalog.table(&id2).is_some() {
                return Err(not_a_view(&id2));
            }
            if s.catalog.view(&id2).is_some() != replaced {
                return Err(KalamError::exec(format!(
                    "View '{id2}' changed while the statement ran; retry"
                )));
            }
            ctx.put(Space::Meta, MetaKey::View(id2.clone()).encode(), bytes);
            ctx.after_commit(move || s.catalog.put_view(record));
            Ok(())
        })
        .await?;
    let verb = if replaced { "replaced" } else { "created" };
    Ok(StatementOutput::Message(format!(
        "View {id} {verb} successfully"
    )))
}

/// `DROP VIEW [IF EXISTS]`.
pub async fn drop_view(
    shared: &Arc<Shared>,
    caller: &Caller,
    view: &ObjectRef,
    if_exists: bool,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::ManageView("DROP VIEW"))?;
    let id = table_id(view, current)?;
    if shared.catalog.table(&id).is_some() {
        return Err(not_a_view(&id));
    }
    let s = shared.clone();
    let id2 = id.clone();
    let dropped = shared
        .committer
        .exclusive(move |ctx| {
            if s.catalog.view(&id2).is_none() {
                return Ok(false);
            }
            ctx.delete(Space::Meta, MetaKey::View(id2.clone()).encode());
            ctx.after_commit(move || s.catalog.remove_view(&id2));
            Ok(true)
        })
        .await?;
    match (dropped, if_exists) {
        (true, _) => Ok(StatementOutput::Message(format!(
            "View {id} dropped successfully"
        ))),
        (false, true) => Ok(StatementOutput::Message(format!(
            "View {id} does not exist (skipped)"
        ))),
        (false, false) => Err(KalamError::exec(format!("View '{id}' not found"))),
    }
}
