//! `CREATE / ALTER / DROP STORAGE` (`sql.md` §4.2). A storage is a durable
//! `meta` record (`MetaKey::Storage`) mirrored in `catalog::Storages`;
//! a new or changed storage must pass a probe write before it is saved.

use std::sync::Arc;

use kalamdb_cold::{ColdStore, StorageDef, StorageType, validate_template};
use kalamdb_sql::CreateStorage;
use kalamdb_store::{MetaKey, Space};
use kalamdb_types::StorageId;

use crate::access::{self, Action, Caller};
use crate::catalog::records::encode_json;
use crate::catalog::storage_registry::storage_of;
use crate::error::{KalamError, Result};
use crate::statements::output::StatementOutput;
use crate::write::shared::Shared;

fn storage_id(id: &str) -> Result<StorageId> {
    StorageId::parse(id).map_err(|e| KalamError::exec(e.to_string()))
}

fn json_object(text: &str, what: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(KalamError::exec(format!("{what} is not valid JSON"))),
    }
}

/// Probes the storage (a write, a read and a delete) so that a storage that
/// cannot hold files is refused when it is defined, not at the first flush.
async fn probe(def: &StorageDef) -> Result<()> {
    // The probe's error already reads "Storage 'id' is not writable: …".
    ColdStore::open(def)?.probe().await?;
    Ok(())
}

async fn save(shared: &Arc<Shared>, def: StorageDef, must_be_new: bool) -> Result<()> {
    let s = shared.clone();
    let key = MetaKey::Storage(def.storage_id.clone()).encode();
    let value = encode_json(&def)?;
    shared
        .committer
        .exclusive(move |ctx| {
            if must_be_new && s.storages.get(&def.storage_id).is_some() {
                return Err(KalamError::exec(format!(
                    "Storage '{}' already exists",
                    def.storage_id
                )));
            }
            ctx.put(Space::Meta, key, value);
            ctx.after_commit(move || s.storages.put(def));
            Ok(())
        })
        .await
}

pub async fn create_storage(
    shared: &Arc<Shared>,
    caller: &Caller,
    cs: CreateStorage,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::Administer("CREATE STORAGE"))?;
    let id = storage_id(&cs.id)?;
    if shared.storages.get(&id).is_some() {
        return Err(KalamError::exec(format!("Storage '{id}' already exists")));
    }
    let storage_type = StorageType::parse(&cs.storage_type)?;
    let mut config = match &cs.config {
        Some(c) => json_object(c, "CONFIG")?,
        None => serde_json::Map::new(),
    };
    if let Some(c) = &cs.credentials {
        json_object(c, "CREDENTIALS")?;
    }
    if let Some(region) = &cs.region {
        config.insert("region".into(), region.clone().into());
    }
    let base_directory = match (storage_type, &cs.base_directory, &cs.path, &cs.bucket) {
        (_, Some(b), _, _) => b.clone(),
        (StorageType::Filesystem, None, Some(p), _) => {
            let path = std::path::Path::new(p);
            if path.is_absolute() {
                p.clone()
            } else {
                // Relative paths live beside the data directory's storage.
                let base = shared
                    .storages
                    .local_dir
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default();
                base.join(path).display().to_string()
            }
        }
        (StorageType::S3, None, _, Some(bucket)) => format!("s3://{bucket}"),
        _ => {
            return Err(KalamError::exec("PATH or BASE_DIRECTORY is required"));
        }
    };
    let now = kalamdb_types::now_micros();
    let def = StorageDef {
        storage_name: cs.name.clone().unwrap_or_else(|| id.to_string()),
        storage_id: id.clone(),
        description: cs.description.clone(),
        storage_type,
        base_directory,
        credentials: cs.credentials.clone(),
        config_json: (!config.is_empty()).then(|| serde_json::Value::Object(config).to_string()),
        shared_tables_template: cs
            .shared_tables_template
            .clone()
            .unwrap_or_else(|| kalamdb_cold::DEFAULT_SHARED_TEMPLATE.into()),
        user_tables_template: cs
            .user_tables_template
            .clone()
            .unwrap_or_else(|| kalamdb_cold::DEFAULT_USER_TEMPLATE.into()),
        created_at: now,
        updated_at: now,
    };
    def.validate()?;
    probe(&def).await?;
    save(shared, def, true).await?;
    Ok(StatementOutput::Message(format!(
        "Storage '{id}' created successfully"
    )))
}

pub async fn alter_storage(
    shared: &Arc<Shared>,
    caller: &Caller,
    id: &str,
    changes: Vec<(String, String)>,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::Administer("ALTER STORAGE"))?;
    let id = storage_id(id)?;
    let Some(mut def) = shared.storages.get(&id) else {
        return Err(KalamError::exec(format!("Storage '{id}' not found")));
    };
    for (item, value) in changes {
        match item.as_str() {
            "NAME" => def.storage_name = value,
            "DESCRIPTION" => def.description = Some(value),
            "CONFIG" => {
                json_object(&value, "CONFIG")?;
                def.config_json = Some(value);
            }
            "SHARED_TABLES_TEMPLATE" => {
                validate_template(&value, false)?;
                def.shared_tables_template = value;
            }
            "USER_TABLES_TEMPLATE" => {
                validate_template(&value, true)?;
                def.user_tables_template = value;
            }
            other => {
                return Err(KalamError::exec(format!(
                    "Unknown storage setting '{other}'"
                )));
            }
        }
    }
    def.updated_at = kalamdb_types::now_micros();
    def.validate()?;
    probe(&def).await?;
    save(shared, def, false).await?;
    Ok(StatementOutput::Message(format!(
        "Storage '{id}' altered successfully"
    )))
}

pub async fn drop_storage(
    shared: &Arc<Shared>,
    caller: &Caller,
    id: &str,
    if_exists: bool,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::Administer("DROP STORAGE"))?;
    let id = storage_id(id)?;
    if id == StorageId::local() {
        return Err(KalamError::exec("Storage 'local' cannot be dropped"));
    }
    let s = shared.clone();
    let key = MetaKey::Storage(id.clone()).encode();
    let target = id.clone();
    let dropped = shared
        .committer
        .exclusive(move |ctx| {
            if s.storages.get(&target).is_none() {
                return if if_exists {
                    Ok(false)
                } else {
                    Err(KalamError::exec(format!("Storage '{target}' not found")))
                };
            }
            // Checked inside the exclusive commit: no CREATE TABLE can
            // start using it between the check and the delete.
            let users = s
                .catalog
                .tables(None)
                .iter()
                .filter(|t| storage_of(&t.def) == target)
                .count();
            if users > 0 {
                return Err(KalamError::exec(format!(
                    "Storage '{target}' is used by {users} table(s)"
                )));
            }
            ctx.delete(Space::Meta, key);
            ctx.after_commit(move || s.storages.remove(&target));
            Ok(true)
        })
        .await?;
    Ok(StatementOutput::Message(if !dropped {
        format!("Storage '{id}' does not exist (skipped)")
    } else {
        format!("Storage '{id}' dropped successfully")
    }))
}
