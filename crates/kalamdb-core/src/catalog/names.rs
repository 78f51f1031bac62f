//! Names in statements: folding identifiers as SQL does, turning an AST
//! name into a `[ns.]t` reference, and resolving a reference to a table of
//! the catalog against the current namespace.

use std::sync::Arc;

use kalamdb_sql::ObjectRef;
use kalamdb_types::{NamespaceId, TableId, TableName};
use sqlparser::ast::{Ident, ObjectName};

use crate::catalog::registry::Catalog;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};

/// An unquoted identifier is case-insensitive (folded to lower case); a
/// quoted one is taken as written.
pub fn fold(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// A name that failed validation, as a statement error.
pub fn name_err(e: kalamdb_types::NameError) -> KalamError {
    KalamError::exec(e.to_string())
}

/// `[kalam.]ns.t` / `t` from an AST name.
pub fn object_ref(name: &ObjectName) -> Result<ObjectRef> {
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
        [t] => Ok(ObjectRef {
            namespace: None,
            name: t.clone(),
        }),
        [ns, t] => Ok(ObjectRef {
            namespace: Some(ns.clone()),
            name: t.clone(),
        }),
        [c, ns, t] if c == "kalam" => Ok(ObjectRef {
            namespace: Some(ns.clone()),
            name: t.clone(),
        }),
        _ => Err(KalamError::InvalidSql(format!("Invalid table name {name}"))),
    }
}

/// Resolves `[ns.]t` against the current namespace.
pub fn table_id(table: &ObjectRef, current: &NamespaceId) -> Result<TableId> {
    let ns = match &table.namespace {
        Some(ns) => NamespaceId::parse(ns).map_err(name_err)?,
        None => current.clone(),
    };
    let name = TableName::parse(&table.name).map_err(name_err)?;
    Ok(TableId::new(ns, name))
}

/// The catalog entry of `[ns.]t`, or `TABLE_NOT_FOUND`.
pub fn resolve_table(
    catalog: &Catalog,
    table: &ObjectRef,
    current: &NamespaceId,
) -> Result<Arc<TableEntry>> {
    let id = table_id(table, current)?;
    catalog
        .table(&id)
        .ok_or_else(|| KalamError::TableNotFound(id.to_string()))
}
