//! The persisted catalog ([`Catalog`]): namespaces, table definitions and views,
//! persisted in the hot store's `meta` keyspace as JSON and mirrored in
//! memory, and users, read from the store.
//!
//! Namespaces and tables are mirrored in memory: the mirror is the source
//! every request reads, changed only by a DDL commit's after-commit hook,
//! i.e. after the change is durable (see `write/committer.rs`). At start-up
//! [`Catalog::load`] rebuilds it from disk before the first request is served.
//!
//! Users are *not* mirrored: a server may hold millions of accounts, most of
//! them idle, so a user is a point read of its `meta` key (served from the
//! RocksDB block cache when hot) and only the count is kept in memory. Writes
//! go through the commit pipeline like everything else, so a read after an
//! acknowledged write sees it. The records read recently are remembered
//! (a bounded map, [`RECENT_USERS_HALF`]) under the users generation they
//! were read in: any change to any user record bumps it after the change is
//! durable, so a remembered record is never older than the store's.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::execution::SessionState;
use kalamdb_store::{Direction, HotStore, KeyRange, MetaPrefix, Space};
use kalamdb_types::{NamespaceId, TableDefinition, TableId, UserId};
use parking_lot::RwLock;

use crate::catalog::bounded::BoundedMap;
use crate::catalog::records::{NamespaceRecord, UserRecord, ViewRecord, decode_json, user_key};
use crate::catalog::table::{TableDefaults, TableEntry};
use crate::error::{KalamError, Result};

/// User records remembered per half of the map (`EXECUTE AS USER` of many
/// users reads one each).
pub const RECENT_USERS_HALF: usize = 4096;

#[derive(Default)]
struct CatalogState {
    namespaces: BTreeMap<NamespaceId, NamespaceRecord>,
    tables: BTreeMap<TableId, Arc<TableEntry>>,
    views: BTreeMap<TableId, ViewRecord>,
}

/// The persisted catalog: namespaces and tables mirrored in memory, users
/// read from the store.
pub struct Catalog {
    store: Arc<dyn HotStore>,
    state: RwLock<CatalogState>,
    /// Stored user records, deleted ones included.
    user_count: AtomicU64,
    defaults: TableDefaults,
    /// Bumped after every durable change of a user record: what was derived
    /// from one (a verified token's user) is stale.
    users_generation: AtomicU64,
    /// Bumped by every change of a namespace or table: what was derived
    /// from the catalog under an older generation (a prepared statement's
    /// table entry) is stale.
    generation: AtomicU64,
    /// Records read recently, with the users generation they were read in
    /// (`None`: no such user).
    recent_users: BoundedMap<UserId, (u64, Option<UserRecord>)>,
}

impl Catalog {
    /// Reads every namespace and table from the store, and counts the users.
    pub fn load(
        store: Arc<dyn HotStore>,
        session: &SessionState,
        defaults: TableDefaults,
    ) -> Result<Self> {
        let mut st = CatalogState::default();
        for (_, v) in scan_all(store.as_ref(), MetaPrefix::Namespaces)? {
            let ns: NamespaceRecord = decode_json(&v)?;
            st.namespaces.insert(ns.name.clone(), ns);
        }
        let mut histories: BTreeMap<TableId, Vec<Arc<TableDefinition>>> = BTreeMap::new();
        for (_, v) in scan_all(store.as_ref(), MetaPrefix::Schemas)? {
            let def: TableDefinition = decode_json(&v)?;
            histories.entry(def.id()).or_default().push(Arc::new(def));
        }
        for (_, v) in scan_all(store.as_ref(), MetaPrefix::Tables)? {
            let def: TableDefinition = decode_json(&v)?;
            // Keys sort versions in order; the current one is `def` itself.
            let history = histories
                .remove(&def.id())
                .unwrap_or_default()
                .into_iter()
                .filter(|h| h.version < def.version && h.created_at == def.created_at)
                .collect();
            let entry = TableEntry::new(def, history, session, &defaults)?;
            st.tables.insert(entry.id(), Arc::new(entry));
        }
        for (_, v) in scan_all(store.as_ref(), MetaPrefix::Views)? {
            let view: ViewRecord = decode_json(&v)?;
            st.views.insert(view.id.clone(), view);
        }
        let users = count_keys(store.as_ref(), MetaPrefix::Users)?;
        Ok(Catalog {
            store,
            state: RwLock::new(st),
            user_count: AtomicU64::new(users),
            defaults,
            generation: AtomicU64::new(0),
            users_generation: AtomicU64::new(0),
            recent_users: BoundedMap::new(RECENT_USERS_HALF),
        })
    }

    /// What tables get when their definition does not say.
    pub fn defaults(&self) -> &TableDefaults {
        &self.defaults
    }

    /// The entry of a new definition, with this server's defaults.
    pub fn entry(&self, def: TableDefinition, session: &SessionState) -> Result<TableEntry> {
        TableEntry::new(def, Vec::new(), session, &self.defaults)
    }

    /// The entry of `def`, the version after `previous`'s (ALTER TABLE).
    pub fn next_entry(
        &self,
        previous: &TableEntry,
        def: TableDefinition,
        session: &SessionState,
    ) -> Result<TableEntry> {
        let mut history = previous.history.clone();
        history.push(Arc::new(previous.def.clone()));
        TableEntry::new(def, history, session, &self.defaults)
    }

    /// The current generation (see the field).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn namespace(&self, ns: &NamespaceId) -> Option<NamespaceRecord> {
        self.state.read().namespaces.get(ns).cloned()
    }

    pub fn namespaces(&self) -> Vec<NamespaceRecord> {
        self.state.read().namespaces.values().cloned().collect()
    }

    pub fn table(&self, id: &TableId) -> Option<Arc<TableEntry>> {
        self.state.read().tables.get(id).cloned()
    }

    pub fn view(&self, id: &TableId) -> Option<ViewRecord> {
        self.state.read().views.get(id).cloned()
    }

    /// Whether any view exists: every planned statement asks, to skip
    /// looking for views in it.
    pub fn has_views(&self) -> bool {
        !self.state.read().views.is_empty()
    }

    /// Views in `ns`, or every view.
    pub fn views(&self, ns: Option<&NamespaceId>) -> Vec<ViewRecord> {
        self.state
            .read()
            .views
            .values()
            .filter(|v| ns.is_none_or(|n| &v.id.namespace == n))
            .cloned()
            .collect()
    }

    /// Checked inside a commit by work planned against `entry`: the table
    /// must still be that table. One dropped and created again under the
    /// same name must not receive rows, segments or manifests meant for the
    /// old one. An ALTER since is fine (rows name the version they were
    /// written under), unless it tightened a constraint the work was not
    /// checked against (`writable_since`).
    pub fn ensure_current(&self, entry: &Arc<TableEntry>) -> Result<()> {
        match self.table(&entry.id()) {
            Some(cur) if Arc::ptr_eq(&cur, entry) => Ok(()),
            Some(cur)
                if cur.def.created_at == entry.def.created_at
                    && entry.def.version <= cur.def.version
                    && entry.def.version >= cur.def.writable_since =>
            {
                Ok(())
            }
            Some(_) => Err(KalamError::exec(format!(
                "Table {} changed while the statement ran; retry",
                entry.id()
            ))),
            None => Err(KalamError::TableNotFound(entry.id().to_string())),
        }
    }

    /// Tables in `ns`, or every table.
    pub fn tables(&self, ns: Option<&NamespaceId>) -> Vec<Arc<TableEntry>> {
        self.state
            .read()
            .tables
            .values()
            .filter(|t| ns.is_none_or(|n| &t.def.namespace == n))
            .cloned()
            .collect()
    }

    /// The stored user (deleted ones included: check [`UserRecord::is_active`]).
    pub fn user(&self, id: &UserId) -> Result<Option<UserRecord>> {
        // Read before the record: a change committed after this read bumps
        // it, and the record kept under the older generation is not used.
        let generation = self.users_generation();
        if let Some((seen, record)) = self.recent_users.get(id)
            && seen == generation
        {
            return Ok(record);
        }
        let record: Option<UserRecord> = self
            .store
            .get(Space::Meta, &user_key(id))?
            .map(|v| decode_json(&v))
            .transpose()?;
        self.recent_users
            .put(id.clone(), (generation, record.clone()));
        Ok(record)
    }

    /// Every stored user, in id order (for `system.users`).
    pub fn users(&self) -> Result<Vec<UserRecord>> {
        scan_all(self.store.as_ref(), MetaPrefix::Users)?
            .iter()
            .map(|(_, v)| decode_json(v))
            .collect()
    }

    /// Stored user records, deleted ones included.
    pub fn user_count(&self) -> u64 {
        self.user_count.load(Ordering::Relaxed)
    }

    // Mutators: called only from post-commit hooks, after the change is durable.

    pub fn put_namespace(&self, ns: NamespaceRecord) {
        self.state.write().namespaces.insert(ns.name.clone(), ns);
        self.changed();
    }

    pub fn remove_namespace(&self, ns: &NamespaceId) {
        self.state.write().namespaces.remove(ns);
        self.changed();
    }

    pub fn put_table(&self, entry: Arc<TableEntry>) {
        self.state.write().tables.insert(entry.id(), entry);
        self.changed();
    }

    pub fn put_view(&self, view: ViewRecord) {
        self.state.write().views.insert(view.id.clone(), view);
        self.changed();
    }

    pub fn remove_view(&self, id: &TableId) {
        self.state.write().views.remove(id);
        self.changed();
    }

    pub fn remove_table(&self, id: &TableId) {
        self.state.write().tables.remove(id);
        self.changed();
    }

    /// Called after a commit that created a user record.
    pub fn user_created(&self) {
        self.user_count.fetch_add(1, Ordering::Relaxed);
        self.user_changed();
    }

    /// Called after a commit that removed a user record (the cleanup of a
    /// dropped user).
    pub fn user_removed(&self) {
        let _ = self
            .user_count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        self.user_changed();
    }

    /// Called after a commit that changed a user record.
    pub fn user_changed(&self) {
        self.users_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The generation of user records (see the field).
    pub fn users_generation(&self) -> u64 {
        self.users_generation.load(Ordering::Acquire)
    }
}

fn scan_all(store: &dyn HotStore, prefix: MetaPrefix) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    Ok(store.scan(Space::Meta, &prefix.range(), Direction::Forward, usize::MAX)?)
}

/// Counts the keys under `prefix` in bounded chunks (the user keyspace may
/// be large; it is never held in memory at once).
fn count_keys(store: &dyn HotStore, prefix: MetaPrefix) -> Result<u64> {
    const CHUNK: usize = 4096;
    let mut range = prefix.range();
    let mut count = 0u64;
    loop {
        let chunk = store.scan(Space::Meta, &range, Direction::Forward, CHUNK)?;
        count += chunk.len() as u64;
        match chunk.last() {
            Some((last, _)) if chunk.len() == CHUNK => {
                range = KeyRange::new(Bound::Excluded(last.clone()), range.end.clone());
            }
            _ => return Ok(count),
        }
    }
}
