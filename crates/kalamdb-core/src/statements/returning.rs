//! `RETURNING` of INSERT, UPDATE and DELETE (`sql.md` §3.1–3.3): the row
//! versions a statement wrote, projected through its RETURNING list.
//!
//! The list is planned against the table's read schema (user columns,
//! `_seq`, `_deleted`) before anything is written, so a bad item fails the
//! statement with nothing applied; after the commit the written versions
//! become one batch ([`rows_to_batch`]) and each item is evaluated over it
//! with DataFusion's physical expressions (any scalar expression, the JSON
//! operators included). What is returned is what was written: an INSERT's
//! rows with their defaults and `_seq`, an UPDATE's new versions (an UPDATE
//! that leaves a row as it was writes nothing and returns nothing, as it
//! counts nothing), a DELETE's tombstones (the deleted values, the
//! tombstone's `_seq`, `_deleted` true).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::common::{Column, DFSchema, TableReference};
use datafusion::execution::SessionState;
use datafusion::logical_expr::expr::Alias;
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::sql::sqlparser::ast::{ExprWithAlias, SelectItem};

use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::row::arrow::rows_to_batch;
use crate::row::value::StoredRow;

/// A RETURNING list, planned for one table.
pub struct Returning {
    entry: Arc<TableEntry>,
    schema: SchemaRef,
    exprs: Vec<Arc<dyn PhysicalExpr>>,
}

impl std::fmt::Debug for Returning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Returning({}, {:?})", self.entry.id(), self.schema)
    }
}

impl Returning {
    /// Plans `items` over `entry`'s rows, in `state` (the statement's
    /// session: its functions, its `CURRENT_USER()`).
    pub fn plan(
        state: &SessionState,
        entry: Arc<TableEntry>,
        items: &[SelectItem],
    ) -> Result<Self> {
        let id = entry.id();
        let qualifier = TableReference::partial(id.namespace.as_str(), id.table.as_str());
        let input = DFSchema::try_from_qualified_schema(qualifier.clone(), &entry.schema)?;
        let mut fields: Vec<FieldRef> = Vec::new();
        let mut exprs = Vec::new();
        let mut add = |expr: Expr| -> Result<()> {
            let (_, field) = expr.to_field(&input)?;
            exprs.push(state.create_physical_expr(expr, &input)?);
            fields.push(field);
            Ok(())
        };
        for item in items {
            match item {
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                    for field in entry.schema.fields() {
                        add(Expr::Column(Column::new(
                            Some(qualifier.clone()),
                            field.name(),
                        )))?;
                    }
                }
                SelectItem::UnnamedExpr(e) => add(state.create_logical_expr_from_sql_expr(
                    ExprWithAlias {
                        expr: e.clone(),
                        alias: None,
                    },
                    &input,
                )?)?,
                SelectItem::ExprWithAlias { expr, alias } => {
                    let planned = state.create_logical_expr_from_sql_expr(
                        ExprWithAlias {
                            expr: expr.clone(),
                            alias: None,
                        },
                        &input,
                    )?;
                    add(Expr::Alias(Alias::new(
                        planned,
                        None::<TableReference>,
                        crate::catalog::names::fold(alias),
                    )))?;
                }
                SelectItem::ExprWithAliases { .. } => {
                    return Err(KalamError::InvalidSql(
                        "RETURNING takes *, columns and expressions with one alias each".into(),
                    ));
                }
            }
        }
        Ok(Self {
            entry,
            schema: Arc::new(Schema::new(fields)),
            exprs,
        })
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The list evaluated over the versions the statement wrote.
    pub fn evaluate(&self, rows: &[StoredRow]) -> Result<Vec<RecordBatch>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let batch = rows_to_batch(&self.entry.lens, &self.entry.schema, rows, None)?;
        let columns = self
            .exprs
            .iter()
            .map(|e| e.evaluate(&batch)?.into_array(batch.num_rows()))
            .collect::<datafusion::error::Result<Vec<ArrayRef>>>()?;
        let out = RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
        )
        .map_err(KalamError::internal)?;
        Ok(vec![out])
    }
}
