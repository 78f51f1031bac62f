//! Namespace and table DDL (`sql.md` §1–2).
//!
//! Every DDL change is an *exclusive* commit: its checks run inside the
//! commit closure (so two concurrent `CREATE TABLE x` cannot both pass), its
//! write is durable before the in-memory catalog changes, and it runs alone,
//! so no concurrent INSERT can slip rows into a table being dropped.

use std::sync::Arc;

use kalamdb_sql::{CreateTable, ObjectRef};
use kalamdb_store::{Direction, MetaKey, RowPrefix, Space};
use kalamdb_types::{
    ColumnDefinition, NamespaceId, StorageId, TableDefinition, TableId, TableName, TableType,
};

use crate::access;
use crate::catalog::{NamespaceRecord, TableEntry, encode_json};
use crate::commit::CommitReceipt;
use crate::engine::{Caller, Shared, StatementOutput};
use crate::error::{KalamError, Result};

fn name_err(e: kalamdb_types::NameError) -> KalamError {
    KalamError::exec(e.to_string())
}

pub(crate) async fn put_namespace(shared: &Arc<Shared>, name: NamespaceId) -> Result<()> {
    let record = NamespaceRecord {
        name: name.clone(),
        created_at: kalamdb_types::now_micros(),
        options: serde_json::json!({}),
    };
    let value = encode_json(&record)?;
    let s = shared.clone();
    shared
        .committer
        .commit(
            true,
            record.created_at,
            Box::new(move |ctx| {
                ctx.put(Space::Meta, MetaKey::Namespace(name).encode(), value);
                Ok(CommitReceipt {
                    affected: 0,
                    post_commit: Some(Box::new(move || s.catalog.put_namespace(record))),
                })
            }),
        )
        .await?;
    Ok(())
}

pub async fn create_namespace(
    shared: &Arc<Shared>,
    caller: &Caller,
    name: &str,
    if_not_exists: bool,
) -> Result<StatementOutput> {
    access::require_admin(caller.role, "CREATE NAMESPACE")?;
    let ns = NamespaceId::parse_user(name).map_err(name_err)?;
    let record = NamespaceRecord {
        name: ns.clone(),
        created_at: kalamdb_types::now_micros(),
        options: serde_json::json!({}),
    };
    let value = encode_json(&record)?;
    let s = shared.clone();
    let key_ns = ns.clone();
    let created = shared
        .committer
        .commit(
            true,
            record.created_at,
            Box::new(move |ctx| {
                if s.catalog.namespace(&key_ns).is_some() {
                    if if_not_exists {
                        return Ok(CommitReceipt::default());
                    }
                    return Err(KalamError::exec(format!(
                        "Namespace '{key_ns}' already exists"
                    )));
                }
                ctx.put(Space::Meta, MetaKey::Namespace(key_ns).encode(), value);
                Ok(CommitReceipt {
                    affected: 1,
                    post_commit: Some(Box::new(move || s.catalog.put_namespace(record))),
                })
            }),
        )
        .await?;
    Ok(StatementOutput::Message(if created == 1 {
        format!("Namespace '{ns}' created successfully")
    } else {
        format!("Namespace '{ns}' already exists")
    }))
}

pub async fn drop_namespace(
    shared: &Arc<Shared>,
    caller: &Caller,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<StatementOutput> {
    access::require_admin(caller.role, "DROP NAMESPACE")?;
    if NamespaceId::is_reserved(name) {
        return Err(KalamError::exec(format!(
            "Namespace '{name}' is reserved and cannot be used"
        )));
    }
    let ns = NamespaceId::parse(name).map_err(name_err)?;
    // The cold files of the tables CASCADE drops: deleted after the commit.
    let mut cold = Vec::new();
    if cascade {
        for entry in shared.catalog.tables(Some(&ns)) {
            let manifests = crate::cold::manifests_of(shared.store.as_ref(), &entry.id())?;
            if let Some(d) = crate::flush::Deletion::plan(shared, &entry, &manifests) {
                cold.push((entry.id(), d.encode()?, d));
            }
        }
    }
    let records: Vec<(TableId, Vec<u8>)> = cold
        .iter()
        .map(|(id, bytes, _)| (id.clone(), bytes.clone()))
        .collect();
    let s = shared.clone();
    let ns2 = ns.clone();
    let dropped = shared
        .committer
        .commit(
            true,
            kalamdb_types::now_micros(),
            Box::new(move |ctx| {
                if s.catalog.namespace(&ns2).is_none() {
                    if if_exists {
                        return Ok(CommitReceipt::default());
                    }
                    return Err(KalamError::exec(format!("Namespace '{ns2}' not found")));
                }
                let tables = s.catalog.tables(Some(&ns2));
                if !tables.is_empty() && !cascade {
                    return Err(KalamError::exec(format!(
                        "Namespace '{ns2}' contains {} table(s); use DROP NAMESPACE {ns2} CASCADE",
                        tables.len()
                    )));
                }
                let ids: Vec<TableId> = tables.iter().map(|t| t.id()).collect();
                for id in &ids {
                    ctx.delete_range(Space::Rows, RowPrefix::Table(id.clone()).range());
                    // A manifest outliving its table would resurface old rows
                    // in a later table of the same name.
                    ctx.delete_range(
                        Space::Meta,
                        kalamdb_store::MetaPrefix::ManifestsOf(id.clone()).range(),
                    );
                    ctx.delete(Space::Meta, MetaKey::Table(id.clone()).encode());
                }
                ctx.delete(Space::Meta, MetaKey::Namespace(ns2.clone()).encode());
                for (id, record) in records {
                    if ids.contains(&id) {
                        ctx.put(Space::Meta, MetaKey::DroppedFiles(id).encode(), record);
                    }
                }
                Ok(CommitReceipt {
                    affected: 1,
                    post_commit: Some(Box::new(move || {
                        for id in &ids {
                            s.catalog.remove_table(id);
                            s.live.table_gone(id, crate::live::LiveError::dropped(id));
                        }
                        s.catalog.remove_namespace(&ns2);
                    })),
                })
            }),
        )
        .await?;
    if dropped == 1 {
        for (id, _, deletion) in cold {
            deletion.run(shared, &id).await;
        }
    }
    Ok(StatementOutput::Message(if dropped == 1 {
        format!("Namespace '{ns}' dropped successfully")
    } else {
        format!("Namespace '{ns}' does not exist")
    }))
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

pub fn resolve_table(
    shared: &Shared,
    table: &ObjectRef,
    current: &NamespaceId,
) -> Result<Arc<TableEntry>> {
    let id = table_id(table, current)?;
    shared
        .catalog
        .table(&id)
        .ok_or_else(|| KalamError::TableNotFound(id.to_string()))
}

pub async fn create_table(
    shared: &Arc<Shared>,
    caller: &Caller,
    ct: CreateTable,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    access::check_create_table(caller.role, ct.table_type)?;
    let id = table_id(&ct.table, current)?;
    if id.namespace.is_system() {
        return Err(KalamError::PermissionDenied(
            "Tables cannot be created in namespace 'system'".into(),
        ));
    }
    if shared.catalog.namespace(&id.namespace).is_none() {
        let ns = &id.namespace;
        return Err(KalamError::exec(format!(
            "Namespace '{ns}' does not exist. Create it first with CREATE NAMESPACE {ns}"
        )));
    }
    let mut options = ct.options.clone();
    if let Some(storage) = &options.storage_id
        && shared.storages.get(storage).is_none()
    {
        return Err(KalamError::exec(format!(
            "Storage '{storage}' does not exist"
        )));
    }
    let cfg = &shared.config;
    match ct.table_type {
        TableType::User | TableType::Shared => {
            options.storage_id.get_or_insert_with(StorageId::local);
            options.flush_policy.get_or_insert(cfg.default_flush_policy);
            options
                .deleted_retention_hours
                .get_or_insert(cfg.default_deleted_retention_hours);
        }
        TableType::Stream => {
            options
                .ttl_seconds
                .get_or_insert(cfg.default_stream_ttl_seconds);
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
    };
    let entry = Arc::new(TableEntry::new(def, &shared.base_state)?);
    let value = encode_json(&entry.def)?;
    let s = shared.clone();
    let id2 = id.clone();
    let if_not_exists = ct.if_not_exists;
    let created = shared
        .committer
        .commit(
            true,
            now,
            Box::new(move |ctx| {
                if s.catalog.namespace(&id2.namespace).is_none() {
                    let ns = &id2.namespace;
                    return Err(KalamError::exec(format!(
                        "Namespace '{ns}' does not exist. Create it first with CREATE NAMESPACE {ns}"
                    )));
                }
                if s.catalog.table(&id2).is_some() {
                    if if_not_exists {
                        return Ok(CommitReceipt::default());
                    }
                    return Err(KalamError::exec(format!("Table {id2} already exists")));
                }
                // A crash could have left rows of an older table of this name
                // only if a DROP was torn, which the atomic batch rules out;
                // clearing the range anyway keeps the invariant local.
                ctx.delete_range(Space::Rows, RowPrefix::Table(id2.clone()).range());
                ctx.put(Space::Meta, MetaKey::Table(id2).encode(), value);
                Ok(CommitReceipt {
                    affected: 1,
                    post_commit: Some(Box::new(move || s.catalog.put_table(entry))),
                })
            }),
        )
        .await?;
    if created == 0 {
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
    shared: &Arc<Shared>,
    caller: &Caller,
    table: &ObjectRef,
    current: &NamespaceId,
    if_exists: bool,
    kind: Option<TableType>,
) -> Result<StatementOutput> {
    let id = table_id(table, current)?;
    if id.namespace.is_system() {
        return Err(KalamError::PermissionDenied(format!(
            "System table '{id}' is read-only"
        )));
    }
    access::require_admin(caller.role, "DROP TABLE")?;
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
    let bytes = {
        let s = shared.clone();
        let id = id.clone();
        tokio::task::spawn_blocking(move || hot_bytes(&s, &id))
            .await
            .map_err(KalamError::internal)??
    };
    // The table's flushes and compactions are cancelled, and the drop waits
    // for the one running to stop, so the manifests read here are the last
    // ones and no file is written after the drop deletes the directory.
    shared.jobs.cancel_keyed(&crate::jobs_sql::flush_key(&id));
    shared.jobs.cancel_keyed(&crate::jobs_sql::compact_key(&id));
    let _turn = shared.cold_locks.lock(&id).await;
    let manifests = crate::cold::manifests_of(shared.store.as_ref(), &id)?;
    let deletion = crate::flush::Deletion::plan(shared, &entry, &manifests);
    let record = deletion.as_ref().map(|d| d.encode()).transpose()?;
    let s = shared.clone();
    let id2 = id.clone();
    let dropped = shared
        .committer
        .commit(
            true,
            kalamdb_types::now_micros(),
            Box::new(move |ctx| {
                if s.catalog.table(&id2).is_none() {
                    return if if_exists {
                        Ok(CommitReceipt::default())
                    } else {
                        Err(KalamError::TableNotFound(id2.to_string()))
                    };
                }
                ctx.delete_range(Space::Rows, RowPrefix::Table(id2.clone()).range());
                ctx.delete_range(
                    Space::Meta,
                    kalamdb_store::MetaPrefix::ManifestsOf(id2.clone()).range(),
                );
                ctx.delete(Space::Meta, MetaKey::Table(id2.clone()).encode());
                if let Some(record) = record {
                    ctx.put(
                        Space::Meta,
                        MetaKey::DroppedFiles(id2.clone()).encode(),
                        record,
                    );
                }
                Ok(CommitReceipt {
                    affected: 1,
                    post_commit: Some(Box::new(move || {
                        s.catalog.remove_table(&id2);
                        s.live
                            .table_gone(&id2, crate::live::LiveError::dropped(&id2));
                    })),
                })
            }),
        )
        .await?;
    if dropped == 0 {
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
fn check_literal_default(c: &kalamdb_sql::ColumnSpec) -> Result<()> {
    let Some(text) = c.default.as_deref() else {
        return Ok(());
    };
    let def = ColumnDefinition {
        column_id: 0,
        name: c.name.clone(),
        data_type: c.data_type,
        nullable: true,
        primary_key: false,
        default: None,
        ordinal: 0,
        comment: None,
    };
    let quoted = text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'');
    let numeric = text.parse::<f64>().is_ok();
    let result = if quoted {
        let inner = text
            .get(1..text.len() - 1)
            .unwrap_or_default()
            .replace("''", "'");
        crate::dml::check_value_fits(&def, &inner, false)
    } else if numeric {
        crate::dml::check_value_fits(&def, text, true)
    } else {
        return Ok(());
    };
    result.map_err(|e| KalamError::exec(format!("Invalid DEFAULT for column '{}': {e}", c.name)))
}

/// Bytes of keys and values a table holds in the hot tier.
fn hot_bytes(shared: &Shared, id: &TableId) -> Result<u64> {
    let mut range = RowPrefix::Table(id.clone()).range();
    let mut total = 0u64;
    loop {
        let chunk = shared
            .store
            .scan(Space::Rows, &range, Direction::Forward, 4096)?;
        total += chunk
            .iter()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum::<u64>();
        match chunk.last() {
            Some((last, _)) if chunk.len() == 4096 => {
                range.start = std::ops::Bound::Excluded(last.clone());
            }
            _ => return Ok(total),
        }
    }
}
