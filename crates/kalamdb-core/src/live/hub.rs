//! [`LiveHub`]: the live-query engine's handle — connections and their
//! queues, registration of planned subscriptions through the committer,
//! `KILL LIVE QUERY`, and the receiving end of committed changes
//! ([`ChangeSink`]), which it hands to the router thread.
//!
//! No gap, no duplicate — the registration's half (the writer's half is in
//! `write/context.rs`): [`LiveHub::register`] sets the table's watch flag
//! inside a commit closure and hands the subscription to the router in that
//! commit's after-commit hook, so every change committed after it is routed
//! to it, and everything committed before it is visible to the snapshot
//! read that follows; `snapshot.rs` reconciles the two.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use kalamdb_types::{Role, TableId, UserId};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::live::connection::{CloseReason, ConnEvent, LiveConnection, LiveEvent, SubKey};
use crate::live::error::{LiveError, LiveErrorKind};
use crate::live::plan::LivePlan;
use crate::live::registry::{LiveRow, Registry, Sub};
use crate::live::router::{Router, RouterMsg};
use crate::write::changes::{ChangeSet, ChangeSink};
use crate::write::shared::Shared;

/// Limits of live queries (the server maps its config here).
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub max_subscriptions_per_user: usize,
    pub max_subscriptions_per_connection: usize,
    /// A snapshot larger than this is refused rather than cut.
    pub max_initial_rows: usize,
    /// Change sets waiting for the router before writers wait.
    pub router_queue: usize,
    /// Where clients connect, as `SUBSCRIBE TO` reports it.
    pub ws_url: String,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            max_subscriptions_per_user: 100,
            max_subscriptions_per_connection: 100,
            max_initial_rows: 100_000,
            router_queue: 4096,
            ws_url: "ws://127.0.0.1:8080/v1/ws".into(),
        }
    }
}

/// A subscription as its client asked for it, as `system.live` shows it.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The client's id for it (`subscription.id`).
    pub id: String,
    pub sql: String,
    /// The options given, as JSON ([`options_json`]).
    pub options: String,
}

/// Live-query state of the engine: connections, registered subscriptions,
/// and the router's inbox.
pub struct LiveHub {
    config: LiveConfig,
    registry: Arc<Registry>,
    connections: Mutex<HashMap<String, Weak<LiveConnection>>>,
    router: std::sync::mpsc::SyncSender<RouterMsg>,
    next_key: AtomicU64,
    next_conn: AtomicU64,
    shutting_down: AtomicBool,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveHub")
    }
}

impl ChangeSink for LiveHub {
    fn watching(&self, table: &TableId) -> bool {
        self.registry.watching(table)
    }

    /// Hands a commit's changes to the router (after the commit is durable,
    /// in commit order). Blocks when the router is far behind: a router
    /// that falls behind slows writers rather than growing memory.
    fn publish(&self, set: ChangeSet) {
        let _ = self.router.send(RouterMsg::Changes(set));
    }
}

impl LiveHub {
    /// Starts the router thread; it ends when the hub is dropped.
    pub fn start(config: LiveConfig) -> Result<Arc<Self>> {
        let (tx, rx) = std::sync::mpsc::sync_channel(config.router_queue.max(1));
        let registry = Arc::new(Registry::default());
        let router = Router::new(registry.clone());
        std::thread::Builder::new()
            .name("kalamdb-live-router".into())
            .spawn(move || router.run(rx))
            .map_err(KalamError::internal)?;
        Ok(Arc::new(Self {
            config,
            registry,
            connections: Mutex::new(HashMap::new()),
            router: tx,
            next_key: AtomicU64::new(1),
            next_conn: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
        }))
    }

    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// The number of registered subscriptions, as it changes: tests await
    /// it (e.g. a dropped connection's subscriptions being released)
    /// instead of polling `system.live`.
    pub fn subscription_count_watch(&self) -> tokio::sync::watch::Receiver<usize> {
        self.registry.count_watch()
    }

    /// Registers a planned subscription on `conn`. From the moment this
    /// returns, every change committed afterwards reaches `conn`'s queue.
    pub async fn register(
        &self,
        shared: &Arc<Shared>,
        conn: &Arc<LiveConnection>,
        request: NewSubscription,
        plan: Arc<LivePlan>,
    ) -> std::result::Result<SubKey, LiveError> {
        let limits = &self.config;
        let (of_conn, of_user) = self.registry.counts(&conn.id, &conn.user);
        for (held, limit, per) in [
            (
                of_conn,
                limits.max_subscriptions_per_connection,
                "connection",
            ),
            (of_user, limits.max_subscriptions_per_user, "user"),
        ] {
            if held >= limit {
                return Err(LiveError::new(
                    LiveErrorKind::LimitExceeded,
                    format!("Subscription limit reached: at most {limit} per {per}"),
                ));
            }
        }
        let key = SubKey(self.next_key.fetch_add(1, Ordering::Relaxed));
        let now = kalamdb_types::now_micros();
        let sub = Arc::new(Sub {
            key,
            live_id: format!("{}-{}-{}", conn.user, conn.id, request.id),
            subscription_id: request.id,
            sql: request.sql,
            options: request.options,
            conn: conn.clone(),
            plan,
            created_at: now,
            changes: AtomicU64::new(0),
            last_update: AtomicI64::new(now),
        });
        self.registry.insert(sub.clone());
        let table = sub.plan.table.clone();
        let entry = sub.plan.entry.clone();
        let registry = self.registry.clone();
        let router = self.router.clone();
        // The plan must be of the table as it is now: a DROP or ALTER
        // committed since planning would never be routed.
        let registered = shared
            .write_table(&entry, move |ctx| {
                registry.watch(&table);
                ctx.after_commit(move || {
                    let _ = router.send(RouterMsg::Register(sub));
                });
                Ok(())
            })
            .await;
        if let Err(e) = registered {
            self.registry.remove(key);
            return Err(LiveError::new(
                LiveErrorKind::Failed,
                format!("Subscription failed: {e}"),
            ));
        }
        Ok(key)
    }

    /// Ends every subscription on a table (dropped or redefined).
    pub fn table_gone(&self, table: &TableId, error: LiveError) {
        let _ = self.router.send(RouterMsg::TableGone(table.clone(), error));
    }

    /// A table's definition changed (ALTER TABLE, `entry` the new one): the
    /// subscriptions it breaks end (see `router.rs`), the others go on.
    pub fn schema_changed(&self, entry: Arc<TableEntry>) {
        let _ = self.router.send(RouterMsg::SchemaChanged(entry));
    }

    /// Closes the connections of a dropped user.
    pub fn user_dropped(&self, user: &UserId) {
        for conn in self.live_connections() {
            if &conn.user == user {
                conn.request_close(CloseReason::UserDropped);
            }
        }
    }

    fn live_connections(&self) -> Vec<Arc<LiveConnection>> {
        let mut conns = self.connections.lock();
        conns.retain(|_, c| c.strong_count() > 0);
        conns.values().filter_map(Weak::upgrade).collect()
    }

    /// A new connection with an outbound queue of `capacity` events.
    /// `None` while the server shuts down.
    pub fn connect(
        &self,
        user: UserId,
        role: Role,
        capacity: usize,
    ) -> Option<(Arc<LiveConnection>, mpsc::Receiver<ConnEvent>)> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return None;
        }
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let n = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(LiveConnection::new(format!("conn{n}"), user, role, tx));
        self.connections
            .lock()
            .insert(conn.id.clone(), Arc::downgrade(&conn));
        Some((conn, rx))
    }

    /// Forgets a closed connection and its subscriptions.
    pub fn disconnect(&self, conn: &LiveConnection) {
        for key in self.registry.of_connection(&conn.id) {
            self.unregister(key);
        }
        self.connections.lock().remove(&conn.id);
    }

    /// Removes a subscription (`unsubscribe`, replaced id). Unknown keys
    /// are ignored.
    pub fn unregister(&self, key: SubKey) {
        if self.registry.remove(key).is_some() {
            let _ = self.router.send(RouterMsg::Unregister(key));
        }
    }

    /// Asks every connection to close (server shutdown) and refuses new ones.
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        for conn in self.live_connections() {
            conn.request_close(CloseReason::Shutdown);
        }
    }

    /// Closes every open connection as a shutdown would (1001) but keeps
    /// accepting new ones: clients reconnect and resume. Operators use it
    /// to shed load; tests use it to exercise resume.
    pub fn drop_connections(&self) {
        for conn in self.live_connections() {
            conn.request_close(CloseReason::Shutdown);
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub fn subscription_count(&self) -> usize {
        self.registry.len()
    }

    pub fn connection_count(&self) -> usize {
        self.live_connections().len()
    }

    /// Change notifications handed to connections so far.
    pub fn notifications(&self) -> u64 {
        self.registry.notifications.load(Ordering::Relaxed)
    }

    /// Subscriptions changes were checked against so far.
    pub fn candidates(&self) -> u64 {
        self.registry.candidates.load(Ordering::Relaxed)
    }

    /// `KILL LIVE QUERY`: ends one subscription with "Live query killed".
    pub fn kill(&self, live_id: &str) -> Result<String> {
        let sub = self
            .registry
            .by_live_id(live_id)
            .ok_or_else(|| KalamError::exec(format!("Live query '{live_id}' not found")))?;
        self.unregister(sub.key);
        sub.conn.send(ConnEvent {
            key: sub.key,
            event: LiveEvent::Ended(LiveError::new(LiveErrorKind::Failed, "Live query killed")),
        });
        Ok(format!("Live query killed: {live_id}"))
    }

    /// Rows of `system.live`.
    pub fn rows(&self) -> Vec<LiveRow> {
        self.registry.rows()
    }
}

/// A subscription's options as `system.live` and `SUBSCRIBE TO` show them
/// (only those given).
pub fn options_json(
    batch_size: Option<u64>,
    last_rows: Option<u64>,
    from: Option<i64>,
) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if let Some(n) = batch_size {
        m.insert("batch_size".into(), n.into());
    }
    if let Some(n) = last_rows {
        m.insert("last_rows".into(), n.into());
    }
    if let Some(n) = from {
        m.insert("from".into(), n.into());
    }
    serde_json::Value::Object(m)
}
