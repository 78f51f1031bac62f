//! The cold storages of this server ([`Storages`]): their definitions
//! (`CREATE STORAGE`, `sql.md` §4.2), mirrored from `meta` records, and one
//! opened handle per storage, shared by every reader and writer.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use kalamdb_cold::{ColdStore, StorageDef};
use kalamdb_store::{HotStore, MetaPrefix, Space};
use kalamdb_types::{StorageId, TableDefinition};
use parking_lot::{Mutex, RwLock};

use crate::catalog::records::decode_json;
use crate::error::{KalamError, Result};

/// The storages of this server, and an opened handle per storage.
pub struct Storages {
    defs: RwLock<BTreeMap<StorageId, StorageDef>>,
    opened: Mutex<HashMap<StorageId, ColdStore>>,
    /// Where the built-in `local` storage keeps its files.
    pub local_dir: PathBuf,
}

impl std::fmt::Debug for Storages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Storages")
    }
}

impl Storages {
    /// Loads the storage definitions; `local` is always present.
    pub fn load(store: &dyn HotStore, local_dir: PathBuf) -> Result<Self> {
        let mut defs = BTreeMap::new();
        for (_, v) in store.scan(
            Space::Meta,
            &MetaPrefix::Storages.range(),
            kalamdb_store::Direction::Forward,
            usize::MAX,
        )? {
            let def: StorageDef = decode_json(&v)?;
            defs.insert(def.storage_id.clone(), def);
        }
        // `local` always exists and follows the data directory it was
        // started with; its other settings (ALTER STORAGE local) are kept.
        let mut local = defs
            .remove(&StorageId::local())
            .unwrap_or_else(|| StorageDef::local(&local_dir, kalamdb_types::now_micros()));
        local.base_directory = local_dir.display().to_string();
        defs.insert(local.storage_id.clone(), local);
        Ok(Self {
            defs: RwLock::new(defs),
            opened: Mutex::new(HashMap::new()),
            local_dir,
        })
    }

    pub fn get(&self, id: &StorageId) -> Option<StorageDef> {
        self.defs.read().get(id).cloned()
    }

    pub fn all(&self) -> Vec<StorageDef> {
        self.defs.read().values().cloned().collect()
    }

    /// Called after the commit that stored `def`.
    pub fn put(&self, def: StorageDef) {
        self.opened.lock().remove(&def.storage_id);
        self.defs.write().insert(def.storage_id.clone(), def);
    }

    /// Called after the commit that removed the storage.
    pub fn remove(&self, id: &StorageId) {
        self.opened.lock().remove(id);
        self.defs.write().remove(id);
    }

    /// The storage a table writes to: its handle and its definition (the
    /// path templates).
    pub fn for_table(&self, table: &TableDefinition) -> Result<(ColdStore, StorageDef)> {
        let id = storage_of(table);
        let store = self.open(&id)?;
        let def = self
            .get(&id)
            .ok_or_else(|| KalamError::exec(format!("Storage '{id}' not found")))?;
        Ok((store, def))
    }

    /// The opened storage `id` (opened once, then shared).
    pub fn open(&self, id: &StorageId) -> Result<ColdStore> {
        if let Some(s) = self.opened.lock().get(id) {
            return Ok(s.clone());
        }
        let def = self
            .get(id)
            .ok_or_else(|| KalamError::exec(format!("Storage '{id}' not found")))?;
        let opened = ColdStore::open(&def)?;
        self.opened.lock().insert(id.clone(), opened.clone());
        Ok(opened)
    }
}

/// The storage a table writes to.
pub fn storage_of(def: &TableDefinition) -> StorageId {
    def.options
        .storage_id
        .clone()
        .unwrap_or_else(StorageId::local)
}
