//! `ALTER TABLE` (`sql.md` §2.6): every change makes a new schema version;
//! no stored row or segment is rewritten.
//!
//! The way of one ALTER:
//! 1. resolve the table, check the role (`Action::AlterTable`);
//! 2. take the table's turn (`ColdLocks`): no flush or compaction runs
//!    until the ALTER is done, so segments do not change under the checks
//!    and no segment is written under a version that is no longer current;
//! 3. plan the next definition (`change.rs`, pure): the changed column,
//!    the ADD COLUMN fill evaluated once (`NOW()` gives the ALTER's time);
//! 4. when the change needs it, check the stored rows: the cold tier
//!    first (newest version of each key not superseded by a hot one), then
//!    the hot tier inside the commit, which is exclusive, so no write
//!    slips between the check and the change;
//! 5. one exclusive commit: the current definition and the new version's
//!    history record (and the old version's, for a table created before
//!    history was kept); after it is durable the catalog takes the new
//!    entry and the live router ends the subscriptions it breaks.
//!
//! Writes planned under the previous version and committed after the ALTER
//! are kept (their rows name that version), unless the ALTER tightened a
//! constraint (`TableDefinition::writable_since`): those are refused with
//! "changed while the statement ran; retry".

mod change;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::Expr;
use kalamdb_sql::{AlterTableChange, ColumnSpec, ObjectRef};
use kalamdb_store::{MetaKey, PkValue, RowKey, RowPrefix, Space};
use kalamdb_types::{ColumnDefinition, NamespaceId};

use crate::access::{self, Action, Caller};
use crate::catalog::names::table_id;
use crate::catalog::records::encode_json;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::live::hub::LiveHub;
use crate::maintenance::tasks::Maintenance;
use crate::read::session::Sessions;
use crate::row::arrow::arrow_type;
use crate::row::value::{StoredRow, Value};
use crate::statements::output::StatementOutput;
use crate::statements::table_ddl::check_literal_default;
use crate::tiers::cold_read::scan_cold;
use crate::tiers::hot::for_each_chunk;
use crate::tiers::manifest::manifests_of;
use crate::write::shared::Shared;
use change::{RowCheck, plan_change};

pub async fn alter_table(
    maintenance: &Maintenance,
    live: &Arc<LiveHub>,
    sessions: &Sessions,
    caller: &Caller,
    table: &ObjectRef,
    change: AlterTableChange,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    let shared = maintenance.shared();
    let id = table_id(table, current)?;
    if id.namespace.is_system() {
        access::allow(caller.role, Action::WriteSystemTable(&id.to_string()))?;
    }
    if shared.catalog.view(&id).is_some() {
        return Err(KalamError::exec(format!("'{id}' is a view, not a table")));
    }
    let kind = shared
        .catalog
        .table(&id)
        .ok_or_else(|| KalamError::TableNotFound(id.to_string()))?
        .def
        .table_type;
    access::allow(caller.role, Action::AlterTable(kind))?;

    let _turn = maintenance.table_turn(&id).await;
    let entry = shared
        .catalog
        .table(&id)
        .ok_or_else(|| KalamError::TableNotFound(id.to_string()))?;
    let state = sessions.base_state();
    let set_default = match &change {
        AlterTableChange::SetDefault { column, default } => {
            let (_, col) = entry.def.column(column).ok_or_else(|| {
                KalamError::exec(format!("Column '{column}' not found in table '{id}'"))
            })?;
            let text = kalamdb_sql::check_default(column, col.data_type, default)
                .map_err(|e| KalamError::exec(e.message))?;
            default_fits(col, &text)?;
            Some(text)
        }
        _ => None,
    };
    let planned = plan_change(
        &entry.def,
        &change,
        set_default,
        |spec| {
            check_literal_default(spec)?;
            fill_of(spec, state)
        },
        default_fits,
    )?;
    let Some(def) = planned.def else {
        return Ok(StatementOutput::Message(format!(
            "Table {id} unchanged: {} (version {} - no changes needed)",
            planned.text, entry.def.version
        )));
    };
    let next = Arc::new(shared.catalog.next_entry(&entry, def, state)?);
    if planned.check != RowCheck::None {
        check_cold(shared, &entry, &planned.check).await?;
    }

    let version = next.def.version;
    let current_def = encode_json(&next.def)?;
    let previous = encode_json(&entry.def)?;
    let s = shared.clone();
    let name = id.to_string();
    let live = live.clone();
    let check = planned.check.clone();
    shared
        .committer
        .exclusive(move |ctx| {
            match s.catalog.table(&id) {
                Some(cur) if Arc::ptr_eq(&cur, &entry) => {}
                Some(_) => {
                    return Err(KalamError::exec(format!(
                        "Table {id} changed while the statement ran; retry"
                    )));
                }
                None => return Err(KalamError::TableNotFound(id.to_string())),
            }
            if check != RowCheck::None {
                // Exclusive: nothing is staged by others, and no write can
                // commit between this check and the change.
                check_hot(ctx.exclusive_store(), &entry, &check, ctx.now_micros)?;
            }
            let key = |v| MetaKey::Schema(id.clone(), v).encode();
            ctx.put(Space::Meta, key(entry.def.version), previous);
            ctx.put(Space::Meta, key(version), current_def.clone());
            ctx.put(
                Space::Meta,
                MetaKey::Table(id.clone()).encode(),
                current_def,
            );
            let table = id.clone();
            ctx.after_commit(move || {
                s.catalog.put_table(next.clone());
                live.schema_changed(next);
                tracing::info!(table = %table, version, "table altered");
            });
            Ok(())
        })
        .await?;
    Ok(StatementOutput::Message(format!(
        "Table {} altered successfully: {} (version {version})",
        name, planned.text
    )))
}

/// A DEFAULT's text must suit the column: the function's types (checked
/// by the parser for ADD; again here for SET DEFAULT and MODIFY) and a
/// literal's value.
fn default_fits(col: &ColumnDefinition, text: &str) -> Result<()> {
    let spec = ColumnSpec {
        name: col.name.clone(),
        data_type: col.data_type,
        nullable: col.nullable,
        primary_key: col.primary_key,
        default: Some(text.to_string()),
        auto_increment: false,
    };
    if let Ok(expr) = kalamdb_sql::sqlparser::parser::Parser::new(
        &kalamdb_sql::sqlparser::dialect::GenericDialect {},
    )
    .try_with_sql(text)
    .and_then(|mut p| p.parse_expr())
    {
        kalamdb_sql::check_default(&col.name, col.data_type, &expr)
            .map_err(|e| KalamError::exec(e.message))?;
    }
    check_literal_default(&spec)
}

/// What rows older than an added column read: a literal DEFAULT's value or
/// `NOW()` at the ALTER, as text of the column's type; nothing (NULL) for
/// the per-row generators.
fn fill_of(
    spec: &ColumnSpec,
    state: &datafusion::execution::SessionState,
) -> Result<Option<String>> {
    let Some(text) = spec.default.as_deref() else {
        return Ok(None);
    };
    let scalar = if text.eq_ignore_ascii_case("NOW()") {
        ScalarValue::TimestampMicrosecond(Some(kalamdb_types::now_micros()), None)
    } else {
        match state.create_logical_expr(text, &DFSchema::empty())? {
            Expr::Literal(v, _) => v,
            // SNOWFLAKE_ID(), UUID_V7(), ULID(), CURRENT_USER(): one value
            // per row, which rows written before cannot have.
            _ => return Ok(None),
        }
    };
    if scalar.is_null() {
        return Ok(None);
    }
    let target = arrow_type(&spec.data_type)?;
    let cast = datafusion::arrow::compute::cast(&scalar.to_array()?, &target)
        .and_then(|a| datafusion::arrow::compute::cast(&a, &DataType::Utf8))
        .map_err(|e| {
            KalamError::exec(format!("Invalid DEFAULT for column '{}': {e}", spec.name))
        })?;
    Ok(cast.as_string_opt::<i32>().map(|a| a.value(0).to_string()))
}

/// The violation `row` (a live row, read under `entry`'s version) shows.
fn violates(entry: &TableEntry, check: &RowCheck, row: &StoredRow) -> Option<KalamError> {
    match check {
        RowCheck::None => None,
        RowCheck::NoNulls { column_id, name } => {
            let col = entry
                .def
                .columns
                .iter()
                .find(|c| c.column_id == *column_id)?;
            (*entry.lens.cell(row, col) == Value::Null)
                .then(|| KalamError::exec(format!("Column '{name}' contains NULL values")))
        }
        RowCheck::Empty { name, why } => Some(KalamError::exec(format!(
            "Cannot add NOT NULL column '{name}' {why} to a non-empty table"
        ))),
    }
}

/// The cold half of the check: in every partition, the newest cold version
/// of each key that has no hot version (those are checked in the commit;
/// a key that is hot now stays hot, since no flush runs during the turn).
async fn check_cold(shared: &Arc<Shared>, entry: &Arc<TableEntry>, check: &RowCheck) -> Result<()> {
    let table = entry.id();
    let manifests = manifests_of(shared.store.as_ref(), &table)?;
    if manifests.iter().all(|(_, m)| m.segments.is_empty()) {
        return Ok(());
    }
    let t = table.clone();
    let hot: HashMap<kalamdb_store::Partition, HashSet<PkValue>> = shared
        .blocking(move |s| {
            let mut keys: HashMap<_, HashSet<PkValue>> = HashMap::new();
            for_each_chunk(s.store.as_ref(), RowPrefix::Table(t).range(), |chunk| {
                for (k, _) in chunk {
                    let key = RowKey::decode(&k)?;
                    keys.entry(key.partition).or_default().insert(key.pk);
                }
                Ok(true)
            })?;
            Ok(keys)
        })
        .await?;
    let none = HashSet::new();
    for (partition, manifest) in &manifests {
        if manifest.segments.is_empty() {
            continue;
        }
        let skip = hot.get(partition).unwrap_or(&none);
        let (_, rows) = scan_cold(shared.cold(), entry, partition, skip, None).await?;
        for (_, row) in rows.iter().filter(|(_, r)| !r.deleted) {
            if let Some(e) = violates(entry, check, row) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The hot half of the check, inside the exclusive commit.
fn check_hot(
    store: &dyn kalamdb_store::HotStore,
    entry: &TableEntry,
    check: &RowCheck,
    now_micros: i64,
) -> Result<()> {
    let cutoff = entry.expiry_cutoff(now_micros / 1000);
    let mut found = None;
    for_each_chunk(store, RowPrefix::Table(entry.id()).range(), |chunk| {
        for (_, v) in chunk {
            let row = StoredRow::decode(&v)?;
            if row.deleted || cutoff.is_some_and(|c| row.seq < c) {
                continue;
            }
            if let Some(e) = violates(entry, check, &row) {
                found = Some(e);
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    found.map_or(Ok(()), Err)
}
