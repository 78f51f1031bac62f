//! The catalog: namespaces, table definitions and users, persisted in the
//! hot store's `meta` keyspace as JSON and mirrored in memory.
//!
//! Namespaces and tables are mirrored in memory: the mirror is the source
//! every request reads, changed only by a DDL commit's `post_commit` hook,
//! i.e. after the change is durable (see `commit.rs`). At start-up
//! [`Catalog::load`] rebuilds it from disk before the first request is served.
//!
//! Users are *not* mirrored: a server may hold millions of accounts, most of
//! them idle, so a user is a point read of its `meta` key (served from the
//! RocksDB block cache when hot) and only the count is kept in memory. Writes
//! go through the commit pipeline like everything else, so a read after an
//! acknowledged write sees it.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use kalamdb_store::{Direction, HotStore, KeyRange, MetaKey, MetaPrefix, Space};
use kalamdb_types::{
    FIELD_META_DATA_TYPE, FIELD_META_FLAGS, KalamDataType, NamespaceId, Role,
    SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, TableDefinition, TableId, UserId,
};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::error::{KalamError, Result};
use crate::row::arrow_type;

/// Hidden key column exposed only to the engine's own UPDATE/DELETE reads of
/// tables without a declared primary key.
pub const ROW_ID_COLUMN: &str = "_rowid";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceRecord {
    pub name: NamespaceId,
    pub created_at: i64,
    pub options: serde_json::Value,
}

/// A user as persisted (`system.users`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: UserId,
    /// Argon2id PHC string; `None` for users that cannot log in (and for a
    /// root that still awaits its first-run password).
    pub password_hash: Option<String>,
    pub role: Role,
    pub email: Option<String>,
    pub auth_type: String,
    pub auth_data: Option<String>,
    pub storage_mode: Option<String>,
    pub storage_id: Option<String>,
    pub failed_login_attempts: u32,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen: Option<i64>,
    pub deleted_at: Option<i64>,
}

impl UserRecord {
    pub fn new(
        user_id: UserId,
        role: Role,
        password_hash: Option<String>,
        email: Option<String>,
    ) -> Self {
        let now = kalamdb_types::now_micros();
        Self {
            user_id,
            password_hash,
            role,
            email,
            auth_type: "internal".into(),
            auth_data: None,
            storage_mode: None,
            storage_id: None,
            failed_login_attempts: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now,
            updated_at: now,
            last_seen: None,
            deleted_at: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }
}

/// A table as requests see it: the definition plus what is derived from it
/// once (Arrow schemas, parsed DEFAULT expressions).
#[derive(Debug)]
pub struct TableEntry {
    pub def: TableDefinition,
    /// User columns, `_seq`, `_deleted`.
    pub schema: SchemaRef,
    /// User columns only: the target of INSERT.
    pub insert_schema: SchemaRef,
    /// `schema` plus the hidden row key, for the engine's UPDATE/DELETE reads.
    pub keyed_schema: SchemaRef,
    /// DEFAULT expressions by column name (`CURRENT_USER()` excluded: it is
    /// bound per request).
    pub defaults: HashMap<String, Expr>,
    pub current_user_defaults: Vec<String>,
}

impl TableEntry {
    pub fn new(def: TableDefinition, state: &SessionState) -> Result<Self> {
        let mut read_fields = Vec::with_capacity(def.columns.len() + 3);
        let mut insert_fields = Vec::with_capacity(def.columns.len());
        for c in &def.columns {
            let mut flags = Vec::new();
            if c.primary_key {
                flags.extend(["pk", "nn", "uq"]);
            } else if !c.nullable {
                flags.push("nn");
            }
            let field = column_field(&c.name, arrow_type(&c.data_type)?, &c.data_type, &flags);
            // Reads state the real nullability (information_schema, flags);
            // the INSERT target stays nullable because NOT NULL is enforced
            // by the engine with the spec's message, not DataFusion's.
            insert_fields.push(field.clone());
            read_fields.push(field.with_nullable(flags.is_empty()));
        }
        let insert_schema = Arc::new(Schema::new(insert_fields));
        read_fields.push(system_field(
            SYSTEM_COLUMN_SEQ,
            DataType::Int64,
            KalamDataType::BigInt,
        ));
        read_fields.push(system_field(
            SYSTEM_COLUMN_DELETED,
            DataType::Boolean,
            KalamDataType::Boolean,
        ));
        let schema = Arc::new(Schema::new(read_fields.clone()));
        read_fields.push(Field::new(ROW_ID_COLUMN, DataType::Int64, false));
        let keyed_schema = Arc::new(Schema::new(read_fields));

        let df_schema = DFSchema::try_from(insert_schema.as_ref().clone())?;
        let mut defaults = HashMap::new();
        let mut current_user_defaults = Vec::new();
        for c in &def.columns {
            let Some(text) = &c.default else { continue };
            if text.eq_ignore_ascii_case("CURRENT_USER()") {
                current_user_defaults.push(c.name.clone());
                continue;
            }
            let expr = state.create_logical_expr(text, &df_schema).map_err(|e| {
                KalamError::exec(format!(
                    "Invalid DEFAULT for column '{}': {}",
                    c.name,
                    KalamError::from(e)
                ))
            })?;
            defaults.insert(c.name.clone(), expr);
        }
        Ok(Self {
            def,
            schema,
            insert_schema,
            keyed_schema,
            defaults,
            current_user_defaults,
        })
    }

    pub fn id(&self) -> TableId {
        self.def.id()
    }
}

fn column_field(name: &str, arrow: DataType, ty: &KalamDataType, flags: &[&str]) -> Field {
    let mut meta = HashMap::new();
    meta.insert(FIELD_META_DATA_TYPE.to_string(), ty.wire_json().to_string());
    if !flags.is_empty() {
        meta.insert(FIELD_META_FLAGS.to_string(), flags.join(","));
    }
    Field::new(name, arrow, true).with_metadata(meta)
}

fn system_field(name: &str, arrow: DataType, ty: KalamDataType) -> Field {
    let mut meta = HashMap::new();
    meta.insert(FIELD_META_DATA_TYPE.to_string(), ty.wire_json().to_string());
    meta.insert(FIELD_META_FLAGS.to_string(), "nn".to_string());
    Field::new(name, arrow, false).with_metadata(meta)
}

#[derive(Default)]
struct CatalogState {
    namespaces: BTreeMap<NamespaceId, NamespaceRecord>,
    tables: BTreeMap<TableId, Arc<TableEntry>>,
}

/// The persisted catalog: namespaces and tables mirrored in memory, users
/// read from the store.
pub struct Catalog {
    store: Arc<dyn HotStore>,
    state: RwLock<CatalogState>,
    /// Stored user records, deleted ones included.
    user_count: AtomicU64,
}

impl Catalog {
    /// Reads every namespace and table from the store, and counts the users.
    pub fn load(store: Arc<dyn HotStore>, session: &SessionState) -> Result<Self> {
        let mut st = CatalogState::default();
        for (_, v) in scan_all(store.as_ref(), MetaPrefix::Namespaces)? {
            let ns: NamespaceRecord = decode_json(&v)?;
            st.namespaces.insert(ns.name.clone(), ns);
        }
        for (_, v) in scan_all(store.as_ref(), MetaPrefix::Tables)? {
            let def: TableDefinition = decode_json(&v)?;
            let entry = TableEntry::new(def, session)?;
            st.tables.insert(entry.id(), Arc::new(entry));
        }
        let users = count_keys(store.as_ref(), MetaPrefix::Users)?;
        Ok(Catalog {
            store,
            state: RwLock::new(st),
            user_count: AtomicU64::new(users),
        })
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

    /// Checked inside a commit by work planned against `entry`: the table
    /// must still be that very definition. One dropped and created again
    /// under the same name must not receive rows, segments or manifests
    /// meant for the old one.
    pub fn ensure_current(&self, entry: &Arc<TableEntry>) -> Result<()> {
        match self.table(&entry.id()) {
            Some(cur) if Arc::ptr_eq(&cur, entry) => Ok(()),
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
        self.store
            .get(Space::Meta, &user_key(id))?
            .map(|v| decode_json(&v))
            .transpose()
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
    }

    pub fn remove_namespace(&self, ns: &NamespaceId) {
        self.state.write().namespaces.remove(ns);
    }

    pub fn put_table(&self, entry: Arc<TableEntry>) {
        self.state.write().tables.insert(entry.id(), entry);
    }

    pub fn remove_table(&self, id: &TableId) {
        self.state.write().tables.remove(id);
    }

    /// Called after a commit that created a user record.
    pub fn user_created(&self) {
        self.user_count.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn user_key(id: &UserId) -> Vec<u8> {
    MetaKey::User(id.clone()).encode()
}

pub fn encode_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(KalamError::internal)
}

pub fn decode_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| KalamError::internal(format!("corrupt catalog record: {e}")))
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
