//! The registered subscriptions ([`Registry`]): the `system.live` rows, the
//! per-table watch flags commit closures read, and the counters of
//! `system.stats`. Shared by the hub (which registers and removes) and the
//! router thread (which removes the subscriptions of slow or gone
//! connections and of dropped tables).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use kalamdb_types::{TableId, UserId};
use parking_lot::{Mutex, RwLock};

use crate::live::connection::{LiveConnection, SubKey};
use crate::live::plan::LivePlan;

/// One registered subscription (a `system.live` row).
pub struct Sub {
    pub key: SubKey,
    pub live_id: String,
    pub subscription_id: String,
    pub sql: String,
    pub options: String,
    pub conn: Arc<LiveConnection>,
    pub plan: Arc<LivePlan>,
    pub created_at: i64,
    pub changes: AtomicU64,
    pub last_update: AtomicI64,
}

/// One `system.live` row.
pub struct LiveRow {
    pub live_id: String,
    pub connection_id: String,
    pub subscription_id: String,
    pub namespace_id: String,
    pub table_name: String,
    pub user_id: String,
    pub query: String,
    pub options: String,
    pub created_at: i64,
    pub last_update: i64,
    pub changes: u64,
    pub last_ping_at: i64,
}

pub struct Registry {
    subs: Mutex<HashMap<SubKey, Arc<Sub>>>,
    watched: RwLock<HashMap<TableId, usize>>,
    /// Change notifications handed to connections (`system.stats`).
    pub notifications: AtomicU64,
    /// Subscriptions a change was checked against (`system.stats`
    /// `live_candidates`): shows routing cost follows what a change
    /// concerns, not how many subscriptions exist.
    pub candidates: AtomicU64,
    count: tokio::sync::watch::Sender<usize>,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            subs: Mutex::new(HashMap::new()),
            watched: RwLock::new(HashMap::new()),
            notifications: AtomicU64::new(0),
            candidates: AtomicU64::new(0),
            count: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Registry {
    pub fn insert(&self, sub: Arc<Sub>) {
        let mut subs = self.subs.lock();
        subs.insert(sub.key, sub);
        self.count.send_replace(subs.len());
    }

    pub fn remove(&self, key: SubKey) -> Option<Arc<Sub>> {
        let mut subs = self.subs.lock();
        let removed = subs.remove(&key);
        self.count.send_replace(subs.len());
        removed
    }

    pub fn contains(&self, key: SubKey) -> bool {
        self.subs.lock().contains_key(&key)
    }

    pub fn len(&self) -> usize {
        self.subs.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The subscriptions of one connection.
    pub fn of_connection(&self, conn_id: &str) -> Vec<SubKey> {
        self.subs
            .lock()
            .values()
            .filter(|s| s.conn.id == conn_id)
            .map(|s| s.key)
            .collect()
    }

    /// How many subscriptions a connection and its user hold.
    pub fn counts(&self, conn_id: &str, user: &UserId) -> (usize, usize) {
        let subs = self.subs.lock();
        let of_conn = subs.values().filter(|s| s.conn.id == conn_id).count();
        let of_user = subs.values().filter(|s| &s.conn.user == user).count();
        (of_conn, of_user)
    }

    pub fn by_live_id(&self, live_id: &str) -> Option<Arc<Sub>> {
        self.subs
            .lock()
            .values()
            .find(|s| s.live_id == live_id)
            .cloned()
    }

    /// The number of registered subscriptions, as it changes.
    pub fn count_watch(&self) -> tokio::sync::watch::Receiver<usize> {
        self.count.subscribe()
    }

    /// Does any subscription watch `table`? Read by commit closures.
    pub fn watching(&self, table: &TableId) -> bool {
        self.watched.read().contains_key(table)
    }

    pub fn watch(&self, table: &TableId) {
        *self.watched.write().entry(table.clone()).or_insert(0) += 1;
    }

    pub fn unwatch(&self, table: &TableId) {
        let mut w = self.watched.write();
        if let Some(n) = w.get_mut(table) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                w.remove(table);
            }
        }
    }

    /// Rows of `system.live`.
    pub fn rows(&self) -> Vec<LiveRow> {
        let mut rows: Vec<LiveRow> = self
            .subs
            .lock()
            .values()
            .map(|s| LiveRow {
                live_id: s.live_id.clone(),
                connection_id: s.conn.id.clone(),
                subscription_id: s.subscription_id.clone(),
                namespace_id: s.plan.table.namespace.to_string(),
                table_name: s.plan.table.table.to_string(),
                user_id: s.conn.user.to_string(),
                query: s.sql.clone(),
                options: s.options.clone(),
                created_at: s.created_at,
                last_update: s.last_update.load(Ordering::Relaxed),
                changes: s.changes.load(Ordering::Relaxed),
                last_ping_at: s.conn.last_seen(),
            })
            .collect();
        rows.sort_by(|a, b| a.live_id.cmp(&b.live_id));
        rows
    }
}
