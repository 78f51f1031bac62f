//! `CREATE TABLE` and `DROP TABLE` (`sql.md` §2).
//!
//! Every table change is an *exclusive* commit: its checks run inside the
//! commit closure (so two concurrent `CREATE TABLE x` cannot both pass), its
//! write is durable before the in-memory catalog changes, and it runs alone,
//! so no concurrent INSERT can slip rows into a table being dropped.

use std::sync::Arc;

use kalamdb_sql::{CreateTable, ObjectRef};
use kalamdb_store::{MetaKey, MetaPrefix, RowPrefix, Space};
use kalamdb_types::{
    ColumnDefinition, NamespaceId, StorageId, TableDefinition, TableId, TableType,
};

use crate::access::{self, Action, Caller};
use crate::catalog::names::table_id;
use crate::catalog::records::encode_json;
use crate::error::{KalamError, Result};
use crate::live::error::LiveError;
use crate::live::hub::LiveHub;
use crate::maintenance::deletion::Deletion;
use crate::maintenance::tasks::Maintenance;
use crate::read::session::Sessions;
use crate::row::fit::check_value_fits;
use crate::statements::output::StatementOutput;
use crate::tiers::hot::hot_bytes;
use crate::tiers::manifest::manifests_of;
use crate::write::context::CommitContext;
use crate::write::shared::Shared;

/// Stages what dropping a table removes, in its drop's exclusive commit:
/// its hot rows, its manifests (a manifest outliving its table would
/// resurface old rows in a later table of the same name), its definition
/// and schema history,
/// and records the deletion of its files (`record`), carried out after.
pub fn stage_table_drop(ctx: &mut CommitContext<'_>, id: &TableId, record: Option<Vec<u8>>) {
    ctx.delete_range(Space::Rows, RowPrefix::Table(id.clone()).range());
    ctx.delete_range(Space::Meta, MetaPrefix::ManifestsOf(id.clone()).range());
    ctx.delete_range(Space::Meta, MetaPrefix::SchemasOf(id.clone()).range());
    ctx.delete(Space::Meta, MetaKey::Table(id.clone()).encode());
    if let Some(record) = record {
        ctx.put(
            Space::Meta,
            MetaKey::DroppedFiles(id.clone()).encode(),
            record,
        );
    }
}

pub async fn create_table(
    shared: &Arc<Shared>,
    sessions: &Sessions,
    caller: &Caller,
    ct: CreateTable,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::CreateTable(ct.table_type))?;
    let id = table_id(&ct.table, current)?;
    if id.namespace.is_system() {
        access::allow(caller.role, Action::CreateTableInSystem)?;
    }
    if shared.catalog.namespace(&id.namespace).is_none() {
        let ns = &id.namespace;
        return Err(KalamError::exec(format!(
            "Namespace '{ns}' does not exist. Create it first with CREATE NAMESPACE {ns}"
        )));
    }
    if shared.catalog.view(&id).is_some() {
        return Err(KalamError::exec(format!("'{id}' is a view, not a table")));
    }
    let mut options = ct.options.clone();
    if let Some(storage) = &options.storage_id
        && shared.storages.get(storage).is_none()
    {
        return Err(KalamError::exec(format!(
            "Storage '{storage}' does not exist"
        )));
    }
    let dflt = shared.catalog.defaults();
    match ct.table_type {
        TableType::User | TableType::Shared => {
            options.storage_id.get_or_insert_with(StorageId::local);
            options.flush_policy.get_or_insert(dflt.flush_policy);
            options
                .deleted_retention_hours
                .get_or_insert(dflt.deleted_retention_hours);
        }
        TableType::Stream => {
            options.ttl_seconds.get_or_insert(dflt.stream_ttl_seconds);
        }
        TableType::System => {}
    }
    if ct.table_type == TableType::Shared {
        options.access_level.get_or_insert_with(Default::default);
    }
    let now = kalamdb_types::now_micros();
    let columns = ct
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| ColumnDefinition {
            column_id: i as u32 + 1,
            name: c.name.clone(),
            data_type: c.data_type,
            nullable: c.nullable && !c.primary_key,
            primary_key: c.primary_key,
            default: c.default.clone(),
            ordinal: i as u32 + 1,
            comment: None,
            since_version: 1,
            fill: None,
        })
        .collect();
    for c in &ct.columns {
        check_literal_default(c)?;
    }
    let def = TableDefinition {
        namespace: id.namespace.clone(),
        name: id.table.clone(),
        table_type: ct.table_type,
        columns,
        version: 1,
        options,
        comment: None,
        created_at: now,
        updated_at: now,
        next_column_id: ct.columns.len() as u32 + 1,
        writable_since: 0,
    };
    let entry = Arc::new(shared.catalog.entry(def, sessions.base_state())?);
    let value = encode_json(&entry.def)?;
    let s = shared.clone();
    let id2 = id.clone();
    let if_not_exists = ct.if_not_exists;
    let created = shared
        .committer
        .exclusive(move |ctx| {
            if s.catalog.namespace(&id2.namespace).is_none() {
                let ns = &id2.namespace;
                return Err(KalamError::exec(format!(
                    "Namespace '{ns}' does not exist. Create it first with CREATE NAMESPACE {ns}"
                )));
            }
            if s.catalog.table(&id2).is_some() {
                if if_not_exists {
                    return Ok(false);
                }
                return Err(KalamError::exec(format!("Table {id2} already exists")));
            }
            // A crash could have left rows of an older table of this name
            // only if a DROP was torn, which the atomic batch rules out;
            // clearing the range anyway keeps the invariant local.
            ctx.delete_range(Space::Rows, RowPrefix::Table(id2.clone()).range());
            ctx.delete_range(Space::Meta, MetaPrefix::SchemasOf(id2.clone()).range());
            ctx.put(
                Space::Meta,
                MetaKey::Schema(id2.clone(), 1).encode(),
                value.clone(),
            );
            ctx.put(Space::Meta, MetaKey::Table(id2).encode(), value);
            ctx.after_commit(move || s.catalog.put_table(entry));
            Ok(true)
        })
        .await?;
    if !created {
        return Ok(StatementOutput::Message(format!(
            "Table {id} already exists (IF NOT EXISTS)"
        )));
    }
    let kind = match ct.table_type {
        TableType::User => "User",
        TableType::Shared => "Shared",
        TableType::Stream => "Stream",
        TableType::System => "System",
    };
    let mut msg = format!("{kind} table {id} created successfully");
    if !ct.ignored.is_empty() {
        msg.push_str(&format!(" (ignored: {})", ct.ignored.join(", ")));
    }
    Ok(StatementOutput::Message(msg))
}

pub async fn drop_table(
    maintenance: &Maintenance,
    live: &Arc<LiveHub>,
    caller: &Caller,
    table: &ObjectRef,
    current: &NamespaceId,
    if_exists: bool,
    kind: Option<TableType>,
) -> Result<StatementOutput> {
    let shared = maintenance.shared();
    let id = table_id(table, current)?;
    if id.namespace.is_system() {
        access::allow(caller.role, Action::WriteSystemTable(&id.to_string()))?;
    }
    access::allow(caller.role, Action::Administer("DROP TABLE"))?;
    if shared.catalog.view(&id).is_some() {
        return Err(KalamError::exec(format!(
            "'{id}' is a view, not a table; use DROP VIEW"
        )));
    }
    let Some(entry) = shared.catalog.table(&id) else {
        if if_exists {
            return Ok(StatementOutput::Message(format!(
                "Table {id} does not exist (skipped)"
            )));
        }
        return Err(KalamError::TableNotFound(id.to_string()));
    };
    if let Some(kind) = kind
        && kind != entry.def.table_type
    {
        return Err(KalamError::exec(format!(
            "Table {id} is a {} table, not a {} table",
            entry.def.table_type.upper(),
            kind.upper()
        )));
    }
    let t = id.clone();
    let bytes = shared
        .blocking(move |s| hot_bytes(s.store.as_ref(), &t))
        .await?;
    // The table's flushes and compactions are cancelled, and the drop waits
    // for the one running to stop, so the manifests read here are the last
    // ones and no file is written after the drop deletes the directory.
    let _turn = maintenance.stop_table_work(&id).await;
    let manifests = manifests_of(shared.store.as_ref(), &id)?;
    let deletion = Deletion::plan(shared, &entry, &manifests);
    let record = deletion.as_ref().map(|d| d.encode()).transpose()?;
    let s = shared.clone();
    let live = live.clone();
    let id2 = id.clone();
    let dropped = shared
        .committer
        .exclusive(move |ctx| {
            if s.catalog.table(&id2).is_none() {
                return if if_exists {
                    Ok(false)
                } else {
                    Err(KalamError::TableNotFound(id2.to_string()))
                };
            }
            stage_table_drop(ctx, &id2, record);
            ctx.after_commit(move || {
                s.catalog.remove_table(&id2);
                live.table_gone(&id2, LiveError::dropped(&id2));
            });
            Ok(true)
        })
        .await?;
    if !dropped {
        return Ok(StatementOutput::Message(format!(
            "Table {id} does not exist (skipped)"
        )));
    }
    // The definition and manifests are gone (durably); now the files.
    let (files, file_bytes) = match &deletion {
        Some(d) => d.run(shared, &id).await,
        None => (0, 0),
    };
    Ok(StatementOutput::Message(format!(
        "Table {id} dropped successfully: files_deleted={files}, bytes_freed={}",
        bytes + file_bytes
    )))
}

/// A literal DEFAULT must fit its column, or every INSERT relying on it
/// would fail later; refuse it when the table is created.
pub(crate) fn check_literal_default(c: &kalamdb_sql::ColumnSpec) -> Result<()> {
    let Some(text) = c.default.as_deref() else {
        return Ok(());
    };
    let def = ColumnDefinition::new(0, c.name.clone(), c.data_type);
    let quoted = text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'');
    let numeric = text.parse::<f64>().is_ok();
    let result = if quoted {
        let inner = text
            .get(1..text.len() - 1)
            .unwrap_or_default()
            .replace("''", "'");
        check_value_fits(&def, &inner, false)
    } else if numeric {
        check_value_fits(&def, text, true)
    } else {
        return Ok(());
    };
    result.map_err(|e| KalamError::exec(format!("Invalid DEFAULT for column '{}': {e}", c.name)))
}
