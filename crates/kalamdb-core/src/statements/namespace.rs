//! `CREATE NAMESPACE`, `DROP NAMESPACE [CASCADE]` (`sql.md` §1) and the
//! namespace a `USE`, `SHOW TABLES IN` or `… ALL IN` names.
//!
//! Every namespace change is an *exclusive* commit: its checks run inside
//! the commit closure (so two concurrent `CREATE NAMESPACE x` cannot both
//! pass), its write is durable before the in-memory catalog changes, and it
//! runs alone, so no concurrent INSERT can slip rows into a table being
//! dropped.

use std::sync::Arc;

use kalamdb_store::{MetaKey, Space};
use kalamdb_types::{NamespaceId, TableId};

use crate::access::{self, Action, Caller};
use crate::catalog::names::name_err;
use crate::catalog::records::{NamespaceRecord, encode_json};
use crate::error::{KalamError, Result};
use crate::live::error::LiveError;
use crate::live::hub::LiveHub;
use crate::maintenance::deletion::Deletion;
use crate::statements::output::StatementOutput;
use crate::statements::table_ddl::stage_table_drop;
use crate::tiers::manifest::manifests_of;
use crate::write::shared::Shared;

/// A namespace the statement names, which must exist.
pub fn existing(shared: &Shared, name: &str) -> Result<NamespaceId> {
    let ns = NamespaceId::parse(name).map_err(name_err)?;
    if shared.catalog.namespace(&ns).is_none() {
        return Err(KalamError::exec(format!("Namespace '{ns}' not found")));
    }
    Ok(ns)
}

fn record(name: NamespaceId) -> NamespaceRecord {
    NamespaceRecord {
        name,
        created_at: kalamdb_types::now_micros(),
        options: serde_json::json!({}),
    }
}

/// Stores a namespace unconditionally (`default`, on first start).
pub async fn put_namespace(shared: &Arc<Shared>, name: NamespaceId) -> Result<()> {
    let record = record(name.clone());
    let value = encode_json(&record)?;
    let s = shared.clone();
    shared
        .committer
        .exclusive(move |ctx| {
            ctx.put(Space::Meta, MetaKey::Namespace(name).encode(), value);
            ctx.after_commit(move || s.catalog.put_namespace(record));
            Ok(())
        })
        .await
}

pub async fn create_namespace(
    shared: &Arc<Shared>,
    caller: &Caller,
    name: &str,
    if_not_exists: bool,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::Administer("CREATE NAMESPACE"))?;
    let ns = NamespaceId::parse_user(name).map_err(name_err)?;
    let record = record(ns.clone());
    let value = encode_json(&record)?;
    let s = shared.clone();
    let key_ns = ns.clone();
    let created = shared
        .committer
        .exclusive(move |ctx| {
            if s.catalog.namespace(&key_ns).is_some() {
                if if_not_exists {
                    return Ok(false);
                }
                return Err(KalamError::exec(format!(
                    "Namespace '{key_ns}' already exists"
                )));
            }
            ctx.put(Space::Meta, MetaKey::Namespace(key_ns).encode(), value);
            ctx.after_commit(move || s.catalog.put_namespace(record));
            Ok(true)
        })
        .await?;
    Ok(StatementOutput::Message(if created {
        format!("Namespace '{ns}' created successfully")
    } else {
        format!("Namespace '{ns}' already exists")
    }))
}

pub async fn drop_namespace(
    shared: &Arc<Shared>,
    live: &Arc<LiveHub>,
    caller: &Caller,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::Administer("DROP NAMESPACE"))?;
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
            let manifests = manifests_of(shared.store.as_ref(), &entry.id())?;
            if let Some(d) = Deletion::plan(shared, &entry, &manifests) {
                cold.push((entry.id(), d.encode()?, d));
            }
        }
    }
    let mut records: Vec<(TableId, Vec<u8>)> = cold
        .iter()
        .map(|(id, bytes, _)| (id.clone(), bytes.clone()))
        .collect();
    let s = shared.clone();
    let live = live.clone();
    let ns2 = ns.clone();
    let dropped = shared
        .committer
        .exclusive(move |ctx| {
            if s.catalog.namespace(&ns2).is_none() {
                if if_exists {
                    return Ok(false);
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
                let record = records
                    .iter()
                    .position(|(r, _)| r == id)
                    .map(|i| records.swap_remove(i).1);
                stage_table_drop(ctx, id, record);
            }
            // Its views hold no data: they go with it.
            let views: Vec<TableId> = s
                .catalog
                .views(Some(&ns2))
                .into_iter()
                .map(|v| v.id)
                .collect();
            for id in &views {
                ctx.delete(Space::Meta, MetaKey::View(id.clone()).encode());
            }
            ctx.delete(Space::Meta, MetaKey::Namespace(ns2.clone()).encode());
            ctx.after_commit(move || {
                for id in &views {
                    s.catalog.remove_view(id);
                }
                for id in &ids {
                    s.catalog.remove_table(id);
                    live.table_gone(id, LiveError::dropped(id));
                }
                s.catalog.remove_namespace(&ns2);
            });
            Ok(true)
        })
        .await?;
    if dropped {
        for (id, _, deletion) in cold {
            deletion.run(shared, &id).await;
        }
    }
    Ok(StatementOutput::Message(if dropped {
        format!("Namespace '{ns}' dropped successfully")
    } else {
        format!("Namespace '{ns}' does not exist")
    }))
}
