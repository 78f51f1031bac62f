//! What one `ALTER TABLE` change makes of a definition (`sql.md` §2.6),
//! without touching data: the next version's definition (or none, for a
//! change that changes nothing), the text messages cite, and the check the
//! stored rows must pass first. Pure: the caller evaluates DEFAULTs and
//! runs the checks.

use kalamdb_sql::{AlterTableChange, ColumnSpec, TableProperties};
use kalamdb_types::{ColumnDefinition, TableDefinition, TableType};

use crate::error::{KalamError, Result};
use crate::row::versions::widens;

/// What the stored rows must satisfy before the change commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCheck {
    None,
    /// No live row may read NULL in this column (`SET NOT NULL`, `MODIFY
    /// … NOT NULL`).
    NoNulls {
        column_id: u32,
        name: String,
    },
    /// The table must have no live row (ADD of a NOT NULL column that
    /// older rows would read as NULL).
    Empty {
        name: String,
        why: &'static str,
    },
}

/// The outcome of applying a change to the current definition.
#[derive(Debug)]
pub struct Planned {
    /// `None`: nothing changes (`… unchanged: … - no changes needed`).
    pub def: Option<TableDefinition>,
    /// The change as messages cite it: `ADD COLUMN note TEXT`.
    pub text: String,
    pub check: RowCheck,
}

/// How `ADD COLUMN … DEFAULT` fills rows written before it: the DEFAULT's
/// value (its text), computed by the caller at the ALTER; `None` when the
/// DEFAULT is a per-row generator (`SNOWFLAKE_ID()`, `UUID_V7()`, `ULID()`,
/// `CURRENT_USER()`): those rows read NULL.
pub type Fill = Option<String>;

/// Applies `change` to `cur`. `fill` is asked for an added column's
/// DEFAULT; `default_fits` checks a DEFAULT's text against a column (for
/// `MODIFY`, which keeps the DEFAULT).
pub fn plan_change(
    cur: &TableDefinition,
    change: &AlterTableChange,
    set_default: Option<String>,
    fill: impl FnOnce(&ColumnSpec) -> Result<Fill>,
    default_fits: impl Fn(&ColumnDefinition, &str) -> Result<()>,
) -> Result<Planned> {
    let next_version = cur.version + 1;
    let mut def = cur.clone();
    def.version = next_version;
    def.updated_at = kalamdb_types::now_micros();
    def.next_column_id = cur.fresh_column_id();
    let id = cur.id();
    let not_found = |c: &str| KalamError::exec(format!("Column '{c}' not found in table '{id}'"));
    let find = |c: &str| cur.column(c).map(|(i, col)| (i, col.clone()));
    let pk_refused = |c: &str| {
        KalamError::exec(format!(
            "Cannot drop, rename or change the PRIMARY KEY column '{c}'"
        ))
    };
    let unchanged = |text: String| Planned {
        def: None,
        text,
        check: RowCheck::None,
    };
    let mut check = RowCheck::None;
    let text = match change {
        AlterTableChange::AddColumn(spec) => {
            if cur.column(&spec.name).is_some() {
                return Err(KalamError::exec(format!(
                    "Column '{}' already exists",
                    spec.name
                )));
            }
            let fill = match &spec.default {
                Some(_) => fill(spec)?,
                None => None,
            };
            if !spec.nullable && fill.is_none() {
                check = RowCheck::Empty {
                    name: spec.name.clone(),
                    why: if spec.default.is_some() {
                        "with a per-row DEFAULT"
                    } else {
                        "without DEFAULT"
                    },
                };
            }
            let column_id = def.next_column_id;
            def.next_column_id += 1;
            def.columns.push(ColumnDefinition {
                column_id,
                name: spec.name.clone(),
                data_type: spec.data_type,
                nullable: spec.nullable,
                primary_key: false,
                default: spec.default.clone(),
                ordinal: def.columns.len() as u32 + 1,
                comment: None,
                since_version: next_version,
                fill,
            });
            let mut text = format!("ADD COLUMN {} {}", spec.name, spec.data_type.sql_name());
            if !spec.nullable {
                text.push_str(" NOT NULL");
            }
            if let Some(d) = &spec.default {
                text.push_str(&format!(" DEFAULT {d}"));
            }
            text
        }
        AlterTableChange::DropColumn { column } => {
            let (i, col) = find(column).ok_or_else(|| not_found(column))?;
            if col.primary_key {
                return Err(pk_refused(column));
            }
            if cur.columns.len() == 1 {
                return Err(KalamError::exec(format!(
                    "Cannot drop column '{column}': it is the only column of table '{id}'"
                )));
            }
            def.columns.remove(i);
            renumber(&mut def.columns);
            format!("DROP COLUMN {column}")
        }
        AlterTableChange::RenameColumn { from, to } => {
            let (i, col) = find(from).ok_or_else(|| not_found(from))?;
            let text = format!("RENAME COLUMN {from} TO {to}");
            if from == to {
                return Ok(unchanged(text));
            }
            if col.primary_key {
                return Err(pk_refused(from));
            }
            if cur.column(to).is_some() {
                return Err(KalamError::exec(format!("Column '{to}' already exists")));
            }
            if let Some(c) = def.columns.get_mut(i) {
                c.name = to.clone();
            }
            text
        }
        AlterTableChange::ModifyColumn {
            column,
            data_type,
            not_null,
        } => {
            let (i, col) = find(column).ok_or_else(|| not_found(column))?;
            let mut text = format!("MODIFY COLUMN {column} {}", data_type.sql_name());
            if *not_null {
                text.push_str(" NOT NULL");
            }
            if col.primary_key {
                return Err(pk_refused(column));
            }
            if !widens(&col.data_type, data_type) {
                return Err(KalamError::exec(format!(
                    "Cannot change column '{column}' from {} to {}",
                    col.data_type.sql_name(),
                    data_type.sql_name()
                )));
            }
            if col.data_type == *data_type && col.nullable != *not_null {
                return Ok(unchanged(text));
            }
            let Some(c) = def.columns.get_mut(i) else {
                return Err(not_found(column));
            };
            c.data_type = *data_type;
            c.nullable = !*not_null;
            if let Some(d) = &c.default {
                default_fits(c, d).map_err(|e| {
                    KalamError::exec(format!(
                        "Cannot change column '{column}' to {}: its DEFAULT {d} does not fit ({e}); \
                         DROP DEFAULT first",
                        data_type.sql_name()
                    ))
                })?;
            }
            if *not_null && col.nullable {
                check = RowCheck::NoNulls {
                    column_id: col.column_id,
                    name: column.clone(),
                };
                def.writable_since = next_version;
            }
            text
        }
        AlterTableChange::SetNotNull { column } => {
            let (i, col) = find(column).ok_or_else(|| not_found(column))?;
            let text = format!("ALTER COLUMN {column} SET NOT NULL");
            if !col.nullable || col.primary_key {
                return Ok(unchanged(text));
            }
            if let Some(c) = def.columns.get_mut(i) {
                c.nullable = false;
            }
            check = RowCheck::NoNulls {
                column_id: col.column_id,
                name: column.clone(),
            };
            def.writable_since = next_version;
            text
        }
        AlterTableChange::DropNotNull { column } => {
            let (i, col) = find(column).ok_or_else(|| not_found(column))?;
            let text = format!("ALTER COLUMN {column} DROP NOT NULL");
            if col.primary_key {
                return Err(KalamError::exec(format!(
                    "Column '{column}' is a PRIMARY KEY and cannot be nullable"
                )));
            }
            if col.nullable {
                return Ok(unchanged(text));
            }
            if let Some(c) = def.columns.get_mut(i) {
                c.nullable = true;
            }
            text
        }
        AlterTableChange::SetDefault { column, .. } => {
            let (i, col) = find(column).ok_or_else(|| not_found(column))?;
            let value = set_default.ok_or_else(|| KalamError::internal("DEFAULT not checked"))?;
            let text = format!("ALTER COLUMN {column} SET DEFAULT {value}");
            if col.default.as_deref() == Some(value.as_str()) {
                return Ok(unchanged(text));
            }
            if let Some(c) = def.columns.get_mut(i) {
                c.default = Some(value);
            }
            text
        }
        AlterTableChange::DropDefault { column } => {
            let (i, col) = find(column).ok_or_else(|| not_found(column))?;
            let text = format!("ALTER COLUMN {column} DROP DEFAULT");
            if col.default.is_none() {
                return Ok(unchanged(text));
            }
            if let Some(c) = def.columns.get_mut(i) {
                c.default = None;
            }
            text
        }
        AlterTableChange::SetAccessLevel(level) => {
            if cur.table_type != TableType::Shared {
                return Err(KalamError::exec(
                    "SET ACCESS LEVEL is only valid for SHARED tables",
                ));
            }
            let text = format!("SET ACCESS LEVEL {}", level.as_str());
            if cur.options.access_level == Some(*level) {
                return Ok(unchanged(text));
            }
            def.options.access_level = Some(*level);
            text
        }
        AlterTableChange::SetProperties(props) => {
            let text = format!("SET TBLPROPERTIES ({})", properties_text(props));
            apply_properties(&mut def, props)?;
            if def.options == cur.options {
                return Ok(unchanged(text));
            }
            text
        }
    };
    Ok(Planned {
        def: Some(def),
        text,
        check,
    })
}

/// Ordinals follow the column order, 1-based.
fn renumber(columns: &mut [ColumnDefinition]) {
    for (i, c) in columns.iter_mut().enumerate() {
        c.ordinal = i as u32 + 1;
    }
}

fn properties_text(p: &TableProperties) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &p.flush_policy {
        parts.push(format!("FLUSH_POLICY = '{}'", f.to_option_string()));
    }
    if let Some(t) = p.ttl_seconds {
        parts.push(format!("TTL_SECONDS = {t}"));
    }
    if let Some(h) = p.deleted_retention_hours {
        parts.push(format!("DELETED_RETENTION_HOURS = {h}"));
    }
    parts.join(", ")
}

/// The options of `props` on `def`, each refused where `CREATE TABLE`
/// refuses it for the table's kind.
fn apply_properties(def: &mut TableDefinition, props: &TableProperties) -> Result<()> {
    let stream = def.table_type == TableType::Stream;
    let only = |what: &str, kinds: &str| {
        KalamError::exec(format!("{what} is only valid for {kinds} tables"))
    };
    if let Some(f) = props.flush_policy {
        if stream {
            return Err(only("FLUSH_POLICY", "USER and SHARED"));
        }
        def.options.flush_policy = Some(f);
    }
    if let Some(h) = props.deleted_retention_hours {
        if stream {
            return Err(only("DELETED_RETENTION_HOURS", "USER and SHARED"));
        }
        def.options.deleted_retention_hours = Some(h);
    }
    if let Some(t) = props.ttl_seconds {
        if !stream {
            return Err(only("TTL_SECONDS", "STREAM"));
        }
        def.options.ttl_seconds = Some(t);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
