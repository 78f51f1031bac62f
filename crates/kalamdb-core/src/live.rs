//! Live queries: planning a subscription, its initial snapshot, and routing
//! every committed change to the subscriptions it concerns.
//!
//! The path of a change: a DML commit closure (on the committer thread)
//! captures `(key, old, new)` for its rows only when some subscription
//! watches the table ([`LiveHub::watching`]); its `post_commit` hook — which
//! runs after the group is durable, in commit order — hands the set to the
//! router thread over a bounded channel (a router that falls behind slows
//! writers down rather than growing memory). The router looks the set up by
//! table and partition (a USER-table change only meets its owner's
//! subscriptions), then by the equality predicate a subscription was indexed
//! under (`room = 'a'` is found through a hash lookup on the row's `room`),
//! so the cost of a change does not grow with unrelated subscriptions. Only
//! the candidates evaluate their WHERE (a DataFusion physical expression,
//! `CURRENT_USER()` bound to the subscriber) on the old and new versions,
//! which decides insert / update / delete as that subscriber sees it.
//!
//! Each connection has one bounded queue. The router never waits on it: a
//! full queue asks the connection to close ("subscriber too slow") and
//! drops its subscriptions; the client resumes from its last `_seq`.
//!
//! No gap, no duplicate: a subscription is registered through the committer
//! (its watch flag is set by a commit closure and the router learns about it
//! in that commit's `post_commit`), so every change committed after it is
//! routed to it, and everything committed before it is visible to the
//! snapshot read that follows. Changes routed while the snapshot loads are
//! buffered by the connection and reconciled per key against the snapshot
//! ([`reconcile`]).
//!
//! This module must not know JSON or sockets: it hands Arrow batches to the
//! API layer, which encodes them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{Int64Type, SchemaRef};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::physical_expr::PhysicalExpr;
use kalamdb_store::Partition;
pub use kalamdb_store::PkValue;
use kalamdb_types::{
    NamespaceId, Role, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, TableId, TableName, TableType,
    UserId,
};
use parking_lot::{Mutex, RwLock};
use sqlparser::ast::{
    Expr as SqlExpr, GroupByExpr, SelectItem, SetExpr, Statement as SqlStatement, TableFactor,
};
use tokio::sync::{Notify, mpsc};

use crate::access::{self, Access};
use crate::catalog::{ROW_ID_COLUMN, TableEntry};
use crate::engine::{Caller, Engine, Shared};
use crate::error::KalamError;
use crate::provider::{ProviderMode, pk_from_value};
use crate::row::{StoredRow, Value, rows_to_batch, value_from_array};

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

/// Why a subscription was refused or ended (the API maps these to the
/// WebSocket error codes of `wire-protocol.md` §6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveErrorKind {
    InvalidSql,
    Unsupported,
    NotFound,
    Unauthorized,
    LimitExceeded,
    Failed,
    Conversion,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LiveError {
    pub kind: LiveErrorKind,
    pub message: String,
}

impl LiveError {
    pub fn new(kind: LiveErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn from_kalam(e: KalamError) -> Self {
        let kind = match &e {
            KalamError::InvalidSql(_) | KalamError::EmptySql(_) | KalamError::BatchParse(_) => {
                LiveErrorKind::InvalidSql
            }
            KalamError::TableNotFound(_) => LiveErrorKind::NotFound,
            KalamError::PermissionDenied(_) => LiveErrorKind::Unauthorized,
            _ => LiveErrorKind::Failed,
        };
        Self::new(kind, e.to_string())
    }

    /// What the subscribers of a dropped table receive (§6.7).
    pub(crate) fn dropped(table: &TableId) -> Self {
        Self::new(
            LiveErrorKind::NotFound,
            format!("Table '{table}' was dropped"),
        )
    }

    /// The HTTP face of a refusal (`SUBSCRIBE TO`, `sql.md` §6).
    pub fn into_kalam(self) -> KalamError {
        match self.kind {
            LiveErrorKind::InvalidSql | LiveErrorKind::Unsupported => {
                KalamError::InvalidSql(self.message)
            }
            LiveErrorKind::NotFound => match self
                .message
                .strip_prefix("Table '")
                .and_then(|m| m.strip_suffix("' not found"))
            {
                Some(table) => KalamError::TableNotFound(table.to_string()),
                // An unknown column, as a query would report it.
                None => KalamError::Execution(self.message),
            },
            LiveErrorKind::Unauthorized => KalamError::PermissionDenied(self.message),
            _ => KalamError::Execution(self.message),
        }
    }
}

fn unsupported(what: &str) -> LiveError {
    LiveError::new(
        LiveErrorKind::Unsupported,
        format!("{what} are not supported in live queries"),
    )
}

/// A subscription's query, planned once for its subscriber.
pub struct LivePlan {
    pub table: TableId,
    pub table_type: TableType,
    pub(crate) entry: Arc<TableEntry>,
    pub partition: Partition,
    /// The WHERE as written (re-rendered), for the snapshot query.
    where_sql: Option<String>,
    filter: Option<Arc<dyn PhysicalExpr>>,
    /// Indices into the table's read schema (user columns, `_seq`, `_deleted`).
    projection: Vec<usize>,
    /// What the subscriber receives: the projection (with the PK and `_seq`).
    pub schema: SchemaRef,
    /// `col = literal` conjunct the router indexes the subscription under.
    eq_index: Option<(usize, IndexKey)>,
    /// The primary key column's name, if the table has one.
    pub pk_column: Option<String>,
}

impl std::fmt::Debug for LivePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LivePlan({})", self.table)
    }
}

/// A hashable form of an indexable cell value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IndexKey {
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

fn index_key(v: &Value) -> Option<IndexKey> {
    Some(match v {
        Value::Bool(b) => IndexKey::Bool(*b),
        Value::I16(i) => IndexKey::Int(i64::from(*i)),
        Value::I32(i) => IndexKey::Int(i64::from(*i)),
        Value::I64(i) => IndexKey::Int(*i),
        Value::Text(s) => IndexKey::Text(s.clone()),
        Value::Uuid(u) => IndexKey::Bytes(u.to_vec()),
        _ => return None,
    })
}

/// Options of the initial snapshot (`wire-protocol.md` §6.5).
#[derive(Debug, Clone, Copy, Default)]
pub struct SnapshotOptions {
    pub from: Option<i64>,
    pub last_rows: Option<u64>,
}

/// The initial rows of a subscription, ascending `_seq`.
pub struct LiveSnapshot {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Key and `_seq` of every row, in row order (for [`reconcile`]).
    pub keys: Vec<(PkValue, i64)>,
    /// Rows deleted after `from` (resume): sent as deletes after the snapshot.
    pub deleted: Vec<LiveChange>,
}

impl LiveSnapshot {
    pub fn num_rows(&self) -> usize {
        self.keys.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Update,
    Delete,
}

/// Rows of one change, as one subscriber sees them, projected.
#[derive(Debug, Clone)]
pub struct LiveChange {
    pub kind: ChangeKind,
    /// Key and new `_seq` of each row (the delete's own `_seq` for deletes).
    pub keys: Vec<(PkValue, i64)>,
    /// Insert/update: the new versions. Delete: the deleted rows carrying
    /// the delete's `_seq`.
    pub rows: RecordBatch,
    /// Update: the previous versions (previous `_seq`).
    pub old: Option<RecordBatch>,
}

impl LiveChange {
    /// Keeps the rows whose flag is set (`None` when nothing is left).
    fn retain(self, keep: &[bool]) -> Option<Self> {
        if keep.iter().all(|k| *k) {
            return Some(self);
        }
        let idx: Vec<u32> = keep
            .iter()
            .enumerate()
            .filter(|(_, k)| **k)
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect();
        if idx.is_empty() {
            return None;
        }
        let take = UInt32Array::from(idx.clone());
        let rows = take_record_batch(&self.rows, &take).ok()?;
        let old = match &self.old {
            Some(o) => Some(take_record_batch(o, &take).ok()?),
            None => None,
        };
        let keys = idx
            .iter()
            .filter_map(|i| self.keys.get(*i as usize).cloned())
            .collect();
        Some(Self {
            kind: self.kind,
            keys,
            rows,
            old,
        })
    }
}

/// What a connection receives about one of its subscriptions.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    Change(LiveChange),
    /// The subscription is over (table dropped, killed, schema changed).
    Ended(LiveError),
}

/// Identifies one registered subscription (unique for the process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubKey(pub u64);

#[derive(Debug)]
pub struct ConnEvent {
    pub key: SubKey,
    pub event: LiveEvent,
}

/// Why the server wants a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    TooSlow,
    UserDropped,
    Shutdown,
}

/// The engine's side of one WebSocket connection.
pub struct LiveConnection {
    pub id: String,
    pub user: UserId,
    pub role: Role,
    tx: mpsc::Sender<ConnEvent>,
    close: Mutex<Option<CloseReason>>,
    close_notify: Notify,
    last_seen: AtomicI64,
}

impl LiveConnection {
    /// Records inbound traffic (`system.live.last_ping_at`).
    pub fn touch(&self) {
        self.last_seen
            .store(kalamdb_types::now_micros(), Ordering::Relaxed);
    }

    fn request_close(&self, reason: CloseReason) {
        let mut slot = self.close.lock();
        if slot.is_none() {
            *slot = Some(reason);
            self.close_notify.notify_one();
        }
    }

    /// Resolves once the server wants this connection closed.
    pub async fn close_requested(&self) -> CloseReason {
        loop {
            let notified = self.close_notify.notified();
            if let Some(r) = *self.close.lock() {
                return r;
            }
            notified.await;
        }
    }

    /// Sends directly (events not produced by the router).
    fn send(&self, ev: ConnEvent) -> bool {
        match self.tx.try_send(ev) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.request_close(CloseReason::TooSlow);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// One registered subscription (a `system.live` row).
struct Sub {
    key: SubKey,
    live_id: String,
    subscription_id: String,
    sql: String,
    options: String,
    conn: Arc<LiveConnection>,
    plan: Arc<LivePlan>,
    created_at: i64,
    changes: AtomicU64,
    last_update: AtomicI64,
}

/// Rows of one commit for one table partition.
pub(crate) struct ChangeSet {
    pub entry: Arc<TableEntry>,
    pub partition: Partition,
    pub rows: Vec<RowChange>,
}

pub(crate) struct RowChange {
    pub pk: PkValue,
    pub old: Option<StoredRow>,
    pub new: StoredRow,
}

enum RouterMsg {
    Register(Arc<Sub>),
    Unregister(SubKey),
    Changes(ChangeSet),
    TableGone(TableId, LiveError),
}

/// Live-query state of the engine: registered subscriptions, the watch
/// flags commit closures read, and the router's inbox.
pub struct LiveHub {
    config: LiveConfig,
    subs: Mutex<HashMap<SubKey, Arc<Sub>>>,
    connections: Mutex<HashMap<String, std::sync::Weak<LiveConnection>>>,
    watched: RwLock<HashMap<TableId, usize>>,
    router: std::sync::mpsc::SyncSender<RouterMsg>,
    next_key: AtomicU64,
    next_conn: AtomicU64,
    shutting_down: std::sync::atomic::AtomicBool,
    /// Change notifications handed to connections (`system.stats`).
    pub notifications: AtomicU64,
    /// Subscriptions a change was checked against (`system.stats`
    /// `live_candidates`): shows routing cost follows what a change
    /// concerns, not how many subscriptions exist.
    pub candidates: AtomicU64,
    count: tokio::sync::watch::Sender<usize>,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveHub")
    }
}

impl LiveHub {
    pub(crate) fn start(config: LiveConfig) -> crate::error::Result<Arc<Self>> {
        let (tx, rx) = std::sync::mpsc::sync_channel(config.router_queue.max(1));
        let hub = Arc::new(Self {
            config,
            subs: Mutex::new(HashMap::new()),
            connections: Mutex::new(HashMap::new()),
            watched: RwLock::new(HashMap::new()),
            router: tx,
            next_key: AtomicU64::new(1),
            next_conn: AtomicU64::new(1),
            shutting_down: std::sync::atomic::AtomicBool::new(false),
            notifications: AtomicU64::new(0),
            candidates: AtomicU64::new(0),
            count: tokio::sync::watch::Sender::new(0),
        });
        let weak = Arc::downgrade(&hub);
        std::thread::Builder::new()
            .name("kalamdb-live-router".into())
            .spawn(move || Router::new(weak).run(rx))
            .map_err(KalamError::internal)?;
        Ok(hub)
    }

    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    fn insert_sub(&self, sub: Arc<Sub>) {
        let mut subs = self.subs.lock();
        subs.insert(sub.key, sub);
        self.count.send_replace(subs.len());
    }

    fn remove_sub(&self, key: SubKey) -> Option<Arc<Sub>> {
        let mut subs = self.subs.lock();
        let removed = subs.remove(&key);
        self.count.send_replace(subs.len());
        removed
    }

    /// The number of registered subscriptions, as it changes: tests await
    /// it (e.g. a dropped connection's subscriptions being released)
    /// instead of polling `system.live`.
    pub fn subscription_count_watch(&self) -> tokio::sync::watch::Receiver<usize> {
        self.count.subscribe()
    }

    /// Does any subscription watch `table`? Read by commit closures.
    pub(crate) fn watching(&self, table: &TableId) -> bool {
        self.watched.read().contains_key(table)
    }

    fn watch(&self, table: &TableId) {
        *self.watched.write().entry(table.clone()).or_insert(0) += 1;
    }

    fn unwatch(&self, table: &TableId) {
        let mut w = self.watched.write();
        if let Some(n) = w.get_mut(table) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                w.remove(table);
            }
        }
    }

    /// Hands a commit's changes to the router (called in `post_commit`, so
    /// in commit order). Blocks when the router is far behind.
    pub(crate) fn publish(&self, set: ChangeSet) {
        let _ = self.router.send(RouterMsg::Changes(set));
    }

    /// Ends every subscription on a table (dropped or redefined).
    pub(crate) fn table_gone(&self, table: &TableId, error: LiveError) {
        let _ = self.router.send(RouterMsg::TableGone(table.clone(), error));
    }

    /// Closes the connections of a dropped user.
    pub(crate) fn user_dropped(&self, user: &UserId) {
        for conn in self.live_connections() {
            if &conn.user == user {
                conn.request_close(CloseReason::UserDropped);
            }
        }
    }

    fn live_connections(&self) -> Vec<Arc<LiveConnection>> {
        let mut conns = self.connections.lock();
        conns.retain(|_, c| c.strong_count() > 0);
        conns
            .values()
            .filter_map(std::sync::Weak::upgrade)
            .collect()
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
        let conn = Arc::new(LiveConnection {
            id: format!("conn{n}"),
            user,
            role,
            tx,
            close: Mutex::new(None),
            close_notify: Notify::new(),
            last_seen: AtomicI64::new(kalamdb_types::now_micros()),
        });
        self.connections
            .lock()
            .insert(conn.id.clone(), Arc::downgrade(&conn));
        Some((conn, rx))
    }

    /// Forgets a closed connection and its subscriptions.
    pub fn disconnect(&self, conn: &LiveConnection) {
        let keys: Vec<SubKey> = self
            .subs
            .lock()
            .values()
            .filter(|s| s.conn.id == conn.id)
            .map(|s| s.key)
            .collect();
        for key in keys {
            self.unregister(key);
        }
        self.connections.lock().remove(&conn.id);
    }

    /// Removes a subscription (`unsubscribe`, replaced id). Unknown keys
    /// are ignored.
    pub fn unregister(&self, key: SubKey) {
        if self.remove_sub(key).is_some() {
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
        self.subs.lock().len()
    }

    pub fn connection_count(&self) -> usize {
        self.live_connections().len()
    }

    /// `KILL LIVE QUERY`: ends one subscription with "Live query killed".
    pub(crate) fn kill(&self, live_id: &str) -> crate::error::Result<String> {
        let sub = self
            .subs
            .lock()
            .values()
            .find(|s| s.live_id == live_id)
            .cloned()
            .ok_or_else(|| KalamError::exec(format!("Live query '{live_id}' not found")))?;
        self.unregister(sub.key);
        sub.conn.send(ConnEvent {
            key: sub.key,
            event: LiveEvent::Ended(LiveError::new(LiveErrorKind::Failed, "Live query killed")),
        });
        Ok(format!("Live query killed: {live_id}"))
    }

    /// Rows of `system.live`.
    pub(crate) fn rows(&self) -> Vec<LiveRow> {
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
                last_ping_at: s.conn.last_seen.load(Ordering::Relaxed),
            })
            .collect();
        rows.sort_by(|a, b| a.live_id.cmp(&b.live_id));
        rows
    }
}

/// One `system.live` row.
pub(crate) struct LiveRow {
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

impl Engine {
    pub fn live(&self) -> &Arc<LiveHub> {
        &self.shared.live
    }

    /// Plans a subscription's SQL for `caller` (`wire-protocol.md` §6.8).
    pub async fn plan_live(&self, caller: &Caller, sql: &str) -> Result<LivePlan, LiveError> {
        plan(&self.shared, caller, sql).await
    }

    /// Registers a planned subscription on `conn`. From the moment this
    /// returns, every change committed afterwards reaches `conn`'s queue.
    pub async fn register_live(
        &self,
        conn: &Arc<LiveConnection>,
        subscription_id: &str,
        sql: &str,
        options: String,
        plan: Arc<LivePlan>,
    ) -> Result<SubKey, LiveError> {
        let hub = self.shared.live.clone();
        let key = SubKey(hub.next_key.fetch_add(1, Ordering::Relaxed));
        {
            let subs = hub.subs.lock();
            let of_conn = subs.values().filter(|s| s.conn.id == conn.id).count();
            if of_conn >= hub.config.max_subscriptions_per_connection {
                return Err(LiveError::new(
                    LiveErrorKind::LimitExceeded,
                    format!(
                        "Subscription limit reached: at most {} per connection",
                        hub.config.max_subscriptions_per_connection
                    ),
                ));
            }
            let of_user = subs.values().filter(|s| s.conn.user == conn.user).count();
            if of_user >= hub.config.max_subscriptions_per_user {
                return Err(LiveError::new(
                    LiveErrorKind::LimitExceeded,
                    format!(
                        "Subscription limit reached: at most {} per user",
                        hub.config.max_subscriptions_per_user
                    ),
                ));
            }
        }
        let now = kalamdb_types::now_micros();
        let sub = Arc::new(Sub {
            key,
            live_id: format!("{}-{}-{}", conn.user, conn.id, subscription_id),
            subscription_id: subscription_id.to_string(),
            sql: sql.to_string(),
            options,
            conn: conn.clone(),
            plan,
            created_at: now,
            changes: AtomicU64::new(0),
            last_update: AtomicI64::new(now),
        });
        hub.insert_sub(sub.clone());
        let table = sub.plan.table.clone();
        let entry = sub.plan.entry.clone();
        let s = self.shared.clone();
        let h = hub.clone();
        let registered = self
            .shared
            .committer
            .commit(
                false,
                now,
                Box::new(move |_ctx| {
                    // The plan must be of the table as it is now: a DROP or
                    // ALTER committed since planning would never be routed.
                    s.catalog.ensure_current(&entry)?;
                    h.watch(&table);
                    let h2 = h.clone();
                    Ok(crate::commit::CommitReceipt {
                        affected: 0,
                        post_commit: Some(Box::new(move || {
                            let _ = h2.router.send(RouterMsg::Register(sub));
                        })),
                    })
                }),
            )
            .await;
        if let Err(e) = registered {
            hub.remove_sub(key);
            return Err(LiveError::new(
                LiveErrorKind::Failed,
                format!("Subscription failed: {e}"),
            ));
        }
        Ok(key)
    }

    /// Reads the initial rows of a subscription as its subscriber sees them.
    pub async fn live_snapshot(
        &self,
        plan: &LivePlan,
        caller: &Caller,
        opts: SnapshotOptions,
    ) -> Result<LiveSnapshot, LiveError> {
        snapshot(self, plan, caller, opts)
            .await
            .map_err(LiveError::from_kalam)
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

/// `SUBSCRIBE TO …` over HTTP (`sql.md` §6): validates the subscription as
/// a WebSocket `subscribe` would and answers how to open it. No server
/// state is created.
pub(crate) async fn subscribe_to(
    engine: &Engine,
    caller: &Caller,
    mut query: sqlparser::ast::Query,
    options: kalamdb_sql::SubscribeToOptions,
    namespace: &NamespaceId,
) -> crate::error::Result<crate::engine::StatementOutput> {
    // An unqualified table resolves in the current namespace.
    if let SetExpr::Select(select) = query.body.as_mut()
        && let Some(from) = select.from.first_mut()
        && let TableFactor::Table { name, .. } = &mut from.relation
        && name.0.len() == 1
    {
        name.0.insert(
            0,
            sqlparser::ast::ObjectNamePart::Identifier(sqlparser::ast::Ident::new(
                namespace.as_str(),
            )),
        );
    }
    let sql = query.to_string();
    engine
        .plan_live(caller, &sql)
        .await
        .map_err(LiveError::into_kalam)?;
    let opts = options_json(options.batch_size, options.last_rows, options.from);
    let id = format!("sub-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    let subscription = serde_json::json!({"id": id, "sql": sql, "options": opts});
    let mut t = crate::system_tables::SysTable::new(&[
        ("status", kalamdb_types::KalamDataType::Text, ""),
        ("ws_url", kalamdb_types::KalamDataType::Text, ""),
        ("subscription", kalamdb_types::KalamDataType::Json, ""),
        ("message", kalamdb_types::KalamDataType::Text, ""),
    ]);
    t.push(vec![
        crate::system_tables::text("active"),
        crate::system_tables::text(engine.shared.live.config.ws_url.clone()),
        crate::system_tables::text(subscription.to_string()),
        crate::system_tables::text(
            "WebSocket subscription created. Connect to ws_url to receive updates.",
        ),
    ]);
    let schema = t.schema();
    Ok(crate::engine::StatementOutput::Rows {
        schema,
        batches: vec![t.into_batch()?],
    })
}

/// The key column a snapshot reads alongside the projection.
const KEY_ALIAS: &str = "__live_key";

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn plan(shared: &Arc<Shared>, caller: &Caller, sql: &str) -> Result<LivePlan, LiveError> {
    let invalid = |m: String| LiveError::new(LiveErrorKind::InvalidSql, m);
    let stmt = crate::engine::parse_standard(sql).map_err(|e| invalid(e.to_string()))?;
    let SqlStatement::Query(query) = stmt else {
        return Err(invalid("Live queries must be SELECT statements".into()));
    };
    if query.with.is_some() {
        return Err(unsupported("WITH clauses"));
    }
    if query.order_by.is_some() {
        return Err(unsupported("ORDER BY clauses"));
    }
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return Err(unsupported("LIMIT clauses"));
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(unsupported("Set operations and VALUES"));
    };
    if select.distinct.is_some() {
        return Err(unsupported("DISTINCT queries"));
    }
    if !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty())
        || select.having.is_some()
    {
        return Err(unsupported("GROUP BY queries"));
    }
    let [from] = select.from.as_slice() else {
        return Err(unsupported("Joins and multi-table queries"));
    };
    if !from.joins.is_empty() {
        return Err(unsupported("Joins"));
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return Err(unsupported("Subqueries and table functions"));
    };
    let r = crate::dml::object_ref(name).map_err(LiveError::from_kalam)?;
    let Some(ns) = r.namespace else {
        return Err(invalid("Query must use namespace.table format".into()));
    };
    if ns == "system" {
        return Err(unsupported("Subscriptions to system tables"));
    }
    let not_found = || {
        LiveError::new(
            LiveErrorKind::NotFound,
            format!("Table '{ns}.{}' not found", r.name),
        )
    };
    let ns_id = NamespaceId::parse(&ns).map_err(|_| not_found())?;
    let table_name = TableName::parse(&r.name).map_err(|_| not_found())?;
    let table = TableId::new(ns_id.clone(), table_name);
    let entry = shared.catalog.table(&table).ok_or_else(not_found)?;
    let ctx = caller.context(ProviderMode::Read);
    access::check_table(&entry.def, &ctx, Access::Read).map_err(|e| {
        LiveError::new(
            LiveErrorKind::Unauthorized,
            match e {
                KalamError::PermissionDenied(m) => m,
                other => other.to_string(),
            },
        )
    })?;

    // Projection: columns only, then the PK and `_seq` if missing.
    let schema = entry.schema.clone();
    let mut projection: Vec<usize> = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                for (i, f) in schema.fields().iter().enumerate() {
                    if f.name() != SYSTEM_COLUMN_DELETED && !projection.contains(&i) {
                        projection.push(i);
                    }
                }
            }
            SelectItem::UnnamedExpr(e) => {
                let ident = match e {
                    SqlExpr::Identifier(id) => id,
                    SqlExpr::CompoundIdentifier(ids) => ids.last().ok_or_else(|| {
                        LiveError::new(LiveErrorKind::InvalidSql, "Empty column name")
                    })?,
                    _ => return Err(unsupported("Computed columns")),
                };
                let col = if ident.quote_style.is_some() {
                    ident.value.clone()
                } else {
                    ident.value.to_lowercase()
                };
                let i = schema.index_of(&col).map_err(|_| {
                    LiveError::new(
                        LiveErrorKind::NotFound,
                        format!("Column '{col}' not found in table '{table}'"),
                    )
                })?;
                if !projection.contains(&i) {
                    projection.push(i);
                }
            }
            SelectItem::ExprWithAlias { .. } | SelectItem::ExprWithAliases { .. } => {
                return Err(unsupported("Column aliases"));
            }
        }
    }
    let pk_column = entry.def.primary_key().map(|(_, c)| c.name.clone());
    for name in pk_column
        .iter()
        .map(String::as_str)
        .chain([SYSTEM_COLUMN_SEQ])
    {
        if let Ok(i) = schema.index_of(name)
            && !projection.contains(&i)
        {
            projection.push(i);
        }
    }
    let projected = Arc::new(
        schema
            .project(&projection)
            .map_err(|e| LiveError::new(LiveErrorKind::Failed, e.to_string()))?,
    );

    // The WHERE, as a physical expression over the table's rows: planned
    // by DataFusion as the query's filter (so every predicate and function
    // a query accepts works, CURRENT_USER() bound to the subscriber).
    let (where_sql, filter, eq_index) = match &select.selection {
        None => (None, None, None),
        Some(selection) => {
            let mut has_subquery = false;
            let _ = sqlparser::ast::visit_expressions(selection, |e| {
                if matches!(
                    e,
                    SqlExpr::Subquery(_) | SqlExpr::Exists { .. } | SqlExpr::InSubquery { .. }
                ) {
                    has_subquery = true;
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
            if has_subquery {
                return Err(unsupported("Subqueries"));
            }
            // Unknown columns get NOT_FOUND naming the column (DataFusion's
            // own message lists every field).
            let mut unknown = None;
            let _ = sqlparser::ast::visit_expressions(selection, |e| {
                let ident = match e {
                    SqlExpr::Identifier(id) => Some(id),
                    SqlExpr::CompoundIdentifier(ids) => ids.last(),
                    _ => None,
                };
                if let Some(id) = ident {
                    let col = if id.quote_style.is_some() {
                        id.value.clone()
                    } else {
                        id.value.to_lowercase()
                    };
                    if schema.index_of(&col).is_err() && unknown.is_none() {
                        unknown = Some(col);
                    }
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
            if let Some(col) = unknown {
                return Err(LiveError::new(
                    LiveErrorKind::NotFound,
                    format!("Column '{col}' not found in table '{table}'"),
                ));
            }
            let session = crate::session::session(shared, Arc::new(ctx), &ns_id)
                .map_err(LiveError::from_kalam)?;
            let state = session.state();
            let text = format!("SELECT * FROM {name} WHERE {selection}");
            let stmt = crate::engine::parse_standard(&text).map_err(LiveError::from_kalam)?;
            let logical = state
                .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
                    stmt,
                )))
                .await
                .map_err(|e| where_error(&table, e))?;
            let (predicate, input_schema) = find_filter(&logical).ok_or_else(|| {
                LiveError::new(
                    LiveErrorKind::Failed,
                    "The WHERE clause could not be planned",
                )
            })?;
            let physical = state
                .create_physical_expr(predicate.clone(), &input_schema)
                .map_err(|e| where_error(&table, e))?;
            let eq = equality_index(&entry, &predicate);
            (Some(selection.to_string()), Some(physical), eq)
        }
    };
    Ok(LivePlan {
        table,
        table_type: entry.def.table_type,
        partition: ctx_partition(caller, entry.def.table_type),
        entry,
        where_sql,
        filter,
        projection,
        schema: projected,
        eq_index,
        pk_column,
    })
}

/// The filter of a planned `SELECT * FROM t WHERE p`, and the schema its
/// columns refer to (the table's full read schema).
fn find_filter(
    plan: &datafusion::logical_expr::LogicalPlan,
) -> Option<(Expr, datafusion::common::DFSchemaRef)> {
    use datafusion::logical_expr::LogicalPlan;
    match plan {
        LogicalPlan::Filter(f) => Some((f.predicate.clone(), f.input.schema().clone())),
        other => other.inputs().into_iter().find_map(find_filter),
    }
}

fn ctx_partition(caller: &Caller, kind: TableType) -> Partition {
    caller.context(ProviderMode::Read).partition_for(kind)
}

fn where_error(_table: &TableId, e: datafusion::error::DataFusionError) -> LiveError {
    LiveError::new(LiveErrorKind::InvalidSql, KalamError::from(e).to_string())
}

/// The first `column = literal` conjunct on an indexable column.
fn equality_index(entry: &TableEntry, expr: &Expr) -> Option<(usize, IndexKey)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => equality_index(entry, left).or_else(|| equality_index(entry, right)),
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (col, lit) = match (strip_cast(left), strip_cast(right)) {
                (Expr::Column(c), Expr::Literal(v, _)) => (c, v),
                (Expr::Literal(v, _), Expr::Column(c)) => (c, v),
                _ => return None,
            };
            let idx = entry.def.columns.iter().position(|c| c.name == col.name)?;
            let def = entry.def.columns.get(idx)?;
            let field = entry.schema.field(idx);
            let array = lit.cast_to(field.data_type()).ok()?.to_array().ok()?;
            let value = value_from_array(def, array.as_ref(), 0).ok()?;
            // A literal that changes when cast (1.5 = int column) must not
            // be indexed: the comparison happens in the wider type.
            let back = datafusion::common::ScalarValue::try_from_array(array.as_ref(), 0).ok()?;
            if back.cast_to(&lit.data_type()).ok()? != *lit {
                return None;
            }
            Some((idx, index_key(&value)?))
        }
        _ => None,
    }
}

fn strip_cast(e: &Expr) -> &Expr {
    match e {
        Expr::Cast(c) => strip_cast(&c.expr),
        Expr::TryCast(c) => strip_cast(&c.expr),
        other => other,
    }
}

async fn snapshot(
    engine: &Engine,
    plan: &LivePlan,
    caller: &Caller,
    opts: SnapshotOptions,
) -> crate::error::Result<LiveSnapshot> {
    let max = engine.shared.live.config.max_initial_rows;
    let key_col = plan
        .pk_column
        .clone()
        .unwrap_or_else(|| ROW_ID_COLUMN.to_string());
    let mut sql = String::from("SELECT ");
    for f in plan.schema.fields() {
        sql.push_str(&quote(f.name()));
        sql.push_str(", ");
    }
    sql.push_str(&format!(
        "{} AS {} FROM {}.{}.{}",
        quote(&key_col),
        quote(KEY_ALIAS),
        crate::session::CATALOG,
        quote(plan.table.namespace.as_str()),
        quote(plan.table.table.as_str())
    ));
    let mut conds = Vec::new();
    if let Some(w) = &plan.where_sql {
        conds.push(format!("({w})"));
    }
    if let Some(from) = opts.from {
        conds.push(format!("{} > {from}", quote(SYSTEM_COLUMN_SEQ)));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    let limit = match opts.last_rows {
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX).min(max);
            sql.push_str(&format!(
                " ORDER BY {} DESC LIMIT {n}",
                quote(SYSTEM_COLUMN_SEQ)
            ));
            n
        }
        None => {
            // One more than allowed tells "too large" from "exactly full".
            sql.push_str(&format!(
                " ORDER BY {} LIMIT {}",
                quote(SYSTEM_COLUMN_SEQ),
                max.saturating_add(1)
            ));
            max.saturating_add(1)
        }
    };
    let stmt = crate::engine::parse_standard(&sql)?;
    let (_, batches) = engine
        .plan_and_collect(
            stmt,
            &[],
            &plan.table.namespace,
            caller,
            ProviderMode::KeyedRead,
        )
        .await?;
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if opts.last_rows.is_none() && total > max {
        return Err(KalamError::exec(format!(
            "Initial snapshot exceeds {max} rows; use last_rows or batch_size"
        )));
    }
    let _ = limit;
    let key_def = plan
        .pk_column
        .as_ref()
        .and_then(|n| plan.entry.def.column(n))
        .map(|(_, d)| d.clone());
    let n_proj = plan.schema.fields().len();
    let seq_idx = plan
        .schema
        .index_of(SYSTEM_COLUMN_SEQ)
        .map_err(|e| KalamError::internal(e.to_string()))?;
    let mut out = Vec::with_capacity(batches.len());
    let mut keys = Vec::with_capacity(total);
    for batch in &batches {
        let key_array = batch
            .columns()
            .get(n_proj)
            .ok_or_else(|| KalamError::internal("snapshot lost its key column"))?;
        let seqs = batch
            .column(seq_idx)
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| KalamError::internal("_seq is not Int64"))?;
        for row in 0..batch.num_rows() {
            let pk = match &key_def {
                Some(def) => pk_from_value(&value_from_array(def, key_array.as_ref(), row)?),
                None => key_array
                    .as_primitive_opt::<Int64Type>()
                    .map(|a| PkValue::RowId(a.value(row))),
            }
            .ok_or_else(|| KalamError::internal("snapshot row without a key"))?;
            keys.push((pk, seqs.value(row)));
        }
        let projected = batch
            .project(&(0..n_proj).collect::<Vec<_>>())
            .map_err(|e| KalamError::internal(e.to_string()))?;
        let projected = RecordBatch::try_new(plan.schema.clone(), projected.columns().to_vec())
            .map_err(|e| KalamError::internal(e.to_string()))?;
        out.push(projected);
    }
    if opts.last_rows.is_some() {
        // Read newest first; delivered ascending.
        out.reverse();
        let mut reversed = Vec::with_capacity(out.len());
        for b in out {
            let n = b.num_rows();
            let idx =
                UInt32Array::from_iter_values((0..n).rev().filter_map(|i| u32::try_from(i).ok()));
            reversed.push(
                take_record_batch(&b, &idx).map_err(|e| KalamError::internal(e.to_string()))?,
            );
        }
        out = reversed;
        keys.reverse();
    }
    let deleted = match opts.from {
        Some(from) => deleted_since(&engine.shared, plan, from).await?,
        None => Vec::new(),
    };
    Ok(LiveSnapshot {
        schema: plan.schema.clone(),
        batches: out,
        keys,
        deleted,
    })
}

/// Resume (§6.10, ours): rows deleted after `from` whose deleted version
/// matched the subscription, as deletes carrying the delete's `_seq`, in
/// `_seq` order — from the hot tier and from flushed tombstones, while
/// `DELETED_RETENTION_HOURS` keeps them.
async fn deleted_since(
    shared: &Arc<Shared>,
    plan: &LivePlan,
    from: i64,
) -> crate::error::Result<Vec<LiveChange>> {
    use kalamdb_store::{Direction, KeyRange, RowKey, RowPrefix, Space};
    let range = RowPrefix::Partition(plan.table.clone(), plan.partition.clone()).range();
    let s = shared.clone();
    let (hot_keys, mut tombstones) = tokio::task::spawn_blocking(move || {
        let mut keys = HashSet::new();
        let mut gone: Vec<(PkValue, StoredRow)> = Vec::new();
        let mut range = range;
        loop {
            let chunk = s
                .store
                .scan(Space::Rows, &range, Direction::Forward, 4096)?;
            for (k, v) in &chunk {
                let pk = RowKey::decode(k)?.pk;
                let row = StoredRow::decode(v)?;
                if row.deleted && row.seq > from {
                    gone.push((pk.clone(), row));
                }
                keys.insert(pk);
            }
            match chunk.last() {
                Some((last, _)) if chunk.len() == 4096 => {
                    range = KeyRange {
                        start: std::ops::Bound::Excluded(last.clone()),
                        end: range.end,
                    };
                }
                _ => break,
            }
        }
        Ok::<_, KalamError>((keys, gone))
    })
    .await
    .map_err(KalamError::internal)??;
    let (_, cold) =
        crate::cold::scan_cold(shared, &plan.entry, &plan.partition, &hot_keys, Some(from)).await?;
    tombstones.extend(
        cold.into_iter()
            .filter(|(_, row)| row.deleted && row.seq > from),
    );
    if tombstones.is_empty() {
        return Ok(Vec::new());
    }
    tombstones.sort_by_key(|(_, row)| row.seq);
    let def = &plan.entry.def;
    let rows: Vec<StoredRow> = tombstones
        .iter()
        .map(|(_, r)| StoredRow {
            seq: r.seq,
            deleted: false,
            values: r.values.clone(),
        })
        .collect();
    let batch = rows_to_batch(def, &plan.entry.schema, &rows, None)?;
    let mask = evaluate(&plan.filter, &batch);
    let idx: Vec<u32> = (0..rows.len())
        .filter(|i| mask.as_ref().is_none_or(|m| m.is_valid(*i) && m.value(*i)))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    if idx.is_empty() {
        return Ok(Vec::new());
    }
    let keys = idx
        .iter()
        .filter_map(|i| tombstones.get(*i as usize))
        .map(|(pk, r)| (pk.clone(), r.seq))
        .collect();
    let taken = take_record_batch(&batch, &UInt32Array::from(idx))
        .and_then(|b| b.project(&plan.projection))
        .map_err(|e| KalamError::internal(e.to_string()))?;
    let rows = RecordBatch::try_new(plan.schema.clone(), taken.columns().to_vec())
        .map_err(|e| KalamError::internal(e.to_string()))?;
    Ok(vec![LiveChange {
        kind: ChangeKind::Delete,
        keys,
        rows,
        old: None,
    }])
}

/// Buffered changes of a subscription whose snapshot just finished, reduced
/// to those the snapshot does not already reflect. A key the snapshot holds
/// at `_seq` s keeps its changes newer than s (the hot store always holds a
/// key's newest version, so a change newer than what was read committed
/// after that read). A key the snapshot lacks was absent (or filtered out)
/// when read: its changes after its last delete are kept, which yields the
/// key's final state without replaying a row that came and went unseen.
/// On resume (`from`) the client may still hold an absent key from before,
/// so every change of an absent key is kept; `snapshot` then also lists the
/// resume deletes already sent.
pub fn reconcile(
    snapshot: &[(PkValue, i64)],
    buffered: Vec<LiveChange>,
    resume: bool,
) -> Vec<LiveChange> {
    let seen: HashMap<&PkValue, i64> = snapshot.iter().map(|(k, s)| (k, *s)).collect();
    // The position (event, row) of each absent key's last delete.
    let mut last_delete: HashMap<PkValue, (usize, usize)> = HashMap::new();
    for (e, ch) in buffered.iter().enumerate() {
        if ch.kind == ChangeKind::Delete {
            for (r, (k, _)) in ch.keys.iter().enumerate() {
                if !seen.contains_key(k) {
                    last_delete.insert(k.clone(), (e, r));
                }
            }
        }
    }
    buffered
        .into_iter()
        .enumerate()
        .filter_map(|(e, ch)| {
            let keep: Vec<bool> = ch
                .keys
                .iter()
                .enumerate()
                .map(|(r, (k, seq))| match seen.get(k) {
                    Some(s) => seq > s,
                    None => resume || last_delete.get(k).is_none_or(|pos| (e, r) > *pos),
                })
                .collect();
            ch.retain(&keep)
        })
        .collect()
}

/// The router thread's state: subscriptions indexed by table, partition
/// and equality predicate.
struct Router {
    hub: std::sync::Weak<LiveHub>,
    subs: HashMap<SubKey, Arc<Sub>>,
    tables: HashMap<TableId, HashMap<Partition, Bucket>>,
}

#[derive(Default)]
struct Bucket {
    unindexed: HashSet<SubKey>,
    eq: HashMap<usize, HashMap<IndexKey, HashSet<SubKey>>>,
}

impl Bucket {
    fn is_empty(&self) -> bool {
        self.unindexed.is_empty() && self.eq.is_empty()
    }
}

impl Router {
    fn new(hub: std::sync::Weak<LiveHub>) -> Self {
        Self {
            hub,
            subs: HashMap::new(),
            tables: HashMap::new(),
        }
    }

    fn run(mut self, rx: std::sync::mpsc::Receiver<RouterMsg>) {
        while let Ok(msg) = rx.recv() {
            match msg {
                RouterMsg::Register(sub) => self.add(sub),
                RouterMsg::Unregister(key) => self.remove(key),
                RouterMsg::Changes(set) => self.route(set),
                RouterMsg::TableGone(table, error) => {
                    let keys: Vec<SubKey> = self
                        .subs
                        .values()
                        .filter(|s| s.plan.table == table)
                        .map(|s| s.key)
                        .collect();
                    for key in keys {
                        if let Some(sub) = self.subs.get(&key).cloned() {
                            sub.conn.send(ConnEvent {
                                key,
                                event: LiveEvent::Ended(error.clone()),
                            });
                        }
                        self.remove(key);
                        if let Some(hub) = self.hub.upgrade() {
                            hub.remove_sub(key);
                        }
                    }
                }
            }
        }
    }

    fn add(&mut self, sub: Arc<Sub>) {
        // Unsubscribed before its registration reached us.
        let live = self
            .hub
            .upgrade()
            .is_some_and(|h| h.subs.lock().contains_key(&sub.key));
        if !live {
            if let Some(hub) = self.hub.upgrade() {
                hub.unwatch(&sub.plan.table);
            }
            return;
        }
        let bucket = self
            .tables
            .entry(sub.plan.table.clone())
            .or_default()
            .entry(sub.plan.partition.clone())
            .or_default();
        match &sub.plan.eq_index {
            Some((col, key)) => {
                bucket
                    .eq
                    .entry(*col)
                    .or_default()
                    .entry(key.clone())
                    .or_default()
                    .insert(sub.key);
            }
            None => {
                bucket.unindexed.insert(sub.key);
            }
        }
        self.subs.insert(sub.key, sub);
    }

    fn remove(&mut self, key: SubKey) {
        let Some(sub) = self.subs.remove(&key) else {
            return;
        };
        if let Some(hub) = self.hub.upgrade() {
            hub.unwatch(&sub.plan.table);
        }
        let table = &sub.plan.table;
        let Some(parts) = self.tables.get_mut(table) else {
            return;
        };
        if let Some(bucket) = parts.get_mut(&sub.plan.partition) {
            match &sub.plan.eq_index {
                Some((col, k)) => {
                    if let Some(by_value) = bucket.eq.get_mut(col) {
                        if let Some(set) = by_value.get_mut(k) {
                            set.remove(&key);
                            if set.is_empty() {
                                by_value.remove(k);
                            }
                        }
                        if by_value.is_empty() {
                            bucket.eq.remove(col);
                        }
                    }
                }
                None => {
                    bucket.unindexed.remove(&key);
                }
            }
            if bucket.is_empty() {
                parts.remove(&sub.plan.partition);
            }
        }
        if parts.is_empty() {
            self.tables.remove(table);
        }
    }

    fn route(&mut self, set: ChangeSet) {
        let table = set.entry.id();
        let Some(bucket) = self.tables.get(&table).and_then(|p| p.get(&set.partition)) else {
            return;
        };
        // Candidates per row: the unindexed subscriptions, and those indexed
        // under the old or new value of their column.
        let mut candidates: HashMap<SubKey, Vec<usize>> = HashMap::new();
        for (i, rc) in set.rows.iter().enumerate() {
            for key in &bucket.unindexed {
                candidates.entry(*key).or_default().push(i);
            }
            for (col, by_value) in &bucket.eq {
                let Some(def) = set.entry.def.columns.get(*col) else {
                    continue;
                };
                let versions = std::iter::once(&rc.new).chain(rc.old.as_ref());
                for row in versions {
                    let Some(k) = index_key(row.value(def.column_id)) else {
                        continue;
                    };
                    for key in by_value.get(&k).into_iter().flatten() {
                        let rows = candidates.entry(*key).or_default();
                        if rows.last() != Some(&i) {
                            rows.push(i);
                        }
                    }
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        let Some(batches) = VersionBatches::build(&set) else {
            return;
        };
        if let Some(hub) = self.hub.upgrade() {
            hub.candidates
                .fetch_add(candidates.len() as u64, Ordering::Relaxed);
        }
        let mut dead = Vec::new();
        let mut sent = 0u64;
        for (key, rows) in candidates {
            let Some(sub) = self.subs.get(&key) else {
                continue;
            };
            if !Arc::ptr_eq(&sub.plan.entry, &set.entry) {
                // Planned against another definition of the table; the
                // ALTER/DROP that replaced it ends the subscription.
                continue;
            }
            for change in changes_for(sub, &set, &batches, &rows) {
                if !sub.conn.send(ConnEvent {
                    key,
                    event: LiveEvent::Change(change),
                }) {
                    dead.push(sub.conn.clone());
                    break;
                }
                sent += 1;
                sub.changes.fetch_add(1, Ordering::Relaxed);
                sub.last_update
                    .store(kalamdb_types::now_micros(), Ordering::Relaxed);
            }
        }
        if let Some(hub) = self.hub.upgrade() {
            hub.notifications.fetch_add(sent, Ordering::Relaxed);
            for conn in dead {
                // Its queue is full or gone: it will close; stop routing to it.
                let keys: Vec<SubKey> = self
                    .subs
                    .values()
                    .filter(|s| s.conn.id == conn.id)
                    .map(|s| s.key)
                    .collect();
                for k in keys {
                    self.remove(k);
                    hub.remove_sub(k);
                }
            }
        }
    }
}

/// The rows of a change set as batches over the table's read schema, built
/// once and shared by every candidate subscription.
struct VersionBatches {
    /// New versions (tombstones for deletes).
    new: RecordBatch,
    /// Previous versions (the new row where there is none).
    old: RecordBatch,
    /// Previous values carrying the new `_seq`: what a delete, or an update
    /// leaving the subscription's filter, sends.
    gone: RecordBatch,
}

impl VersionBatches {
    fn build(set: &ChangeSet) -> Option<Self> {
        let def = &set.entry.def;
        let schema = &set.entry.schema;
        let new: Vec<StoredRow> = set.rows.iter().map(|r| r.new.clone()).collect();
        let old: Vec<StoredRow> = set
            .rows
            .iter()
            .map(|r| r.old.clone().unwrap_or_else(|| r.new.clone()))
            .collect();
        let gone: Vec<StoredRow> = set
            .rows
            .iter()
            .map(|r| StoredRow {
                seq: r.new.seq,
                deleted: false,
                values: r.old.as_ref().unwrap_or(&r.new).values.clone(),
            })
            .collect();
        Some(Self {
            new: rows_to_batch(def, schema, &new, None).ok()?,
            old: rows_to_batch(def, schema, &old, None).ok()?,
            gone: rows_to_batch(def, schema, &gone, None).ok()?,
        })
    }
}

fn evaluate(filter: &Option<Arc<dyn PhysicalExpr>>, batch: &RecordBatch) -> Option<BooleanArray> {
    let f = filter.as_ref()?;
    let value = f.evaluate(batch).ok()?;
    let array = value.into_array(batch.num_rows()).ok()?;
    array.as_boolean_opt().cloned()
}

/// What `sub` sees of rows `rows` of `set`: consecutive rows of the same
/// kind share one change.
fn changes_for(
    sub: &Sub,
    set: &ChangeSet,
    batches: &VersionBatches,
    rows: &[usize],
) -> Vec<LiveChange> {
    let plan = &sub.plan;
    let new_mask = evaluate(&plan.filter, &batches.new);
    let has_old = rows
        .iter()
        .any(|i| set.rows.get(*i).is_some_and(|r| r.old.is_some()));
    let old_mask = if has_old {
        evaluate(&plan.filter, &batches.old)
    } else {
        None
    };
    let filter_failed =
        plan.filter.is_some() && (new_mask.is_none() || (has_old && old_mask.is_none()));
    if filter_failed {
        return Vec::new();
    }
    let matches = |mask: &Option<BooleanArray>, i: usize| match mask {
        None => true,
        Some(m) => m.is_valid(i) && m.value(i),
    };
    let mut out: Vec<(ChangeKind, Vec<usize>)> = Vec::new();
    for &i in rows {
        let Some(rc) = set.rows.get(i) else { continue };
        let new_match = !rc.new.deleted && matches(&new_mask, i);
        let old_match = rc.old.as_ref().is_some_and(|o| !o.deleted) && matches(&old_mask, i);
        let kind = match (old_match, new_match) {
            (false, true) => ChangeKind::Insert,
            (true, true) => ChangeKind::Update,
            (true, false) => ChangeKind::Delete,
            (false, false) => continue,
        };
        match out.last_mut() {
            Some((k, idx)) if *k == kind => idx.push(i),
            _ => out.push((kind, vec![i])),
        }
    }
    out.into_iter()
        .filter_map(|(kind, idx)| {
            let take =
                UInt32Array::from_iter_values(idx.iter().filter_map(|i| u32::try_from(*i).ok()));
            let project = |b: &RecordBatch| {
                take_record_batch(b, &take)
                    .and_then(|b| b.project(&plan.projection))
                    .ok()
                    .and_then(|b| {
                        RecordBatch::try_new(plan.schema.clone(), b.columns().to_vec()).ok()
                    })
            };
            let (rows, old) = match kind {
                ChangeKind::Insert => (project(&batches.new)?, None),
                ChangeKind::Update => (project(&batches.new)?, Some(project(&batches.old)?)),
                ChangeKind::Delete => (project(&batches.gone)?, None),
            };
            let keys = idx
                .iter()
                .filter_map(|i| set.rows.get(*i).map(|r| (r.pk.clone(), r.new.seq)))
                .collect();
            Some(LiveChange {
                kind,
                keys,
                rows,
                old,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn change(kind: ChangeKind, keys: &[(i64, i64)]) -> LiveChange {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "_seq",
            DataType::Int64,
            false,
        )]));
        let rows = RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from_iter_values(
                keys.iter().map(|(_, s)| *s),
            ))],
        )
        .unwrap();
        LiveChange {
            kind,
            keys: keys.iter().map(|(k, s)| (PkValue::Int(*k), *s)).collect(),
            rows,
            old: None,
        }
    }

    fn kept(out: &[LiveChange]) -> Vec<(ChangeKind, i64, i64)> {
        out.iter()
            .flat_map(|c| {
                c.keys.iter().map(move |(k, s)| match k {
                    PkValue::Int(k) => (c.kind, *k, *s),
                    _ => unreachable!(),
                })
            })
            .collect()
    }

    #[test]
    fn changes_the_snapshot_already_holds_are_dropped() {
        // Key 1 was read at _seq 20: its change at 20 is in the snapshot,
        // the one at 30 came after the read.
        let snap = vec![(PkValue::Int(1), 20)];
        let out = reconcile(
            &snap,
            vec![
                change(ChangeKind::Update, &[(1, 20)]),
                change(ChangeKind::Update, &[(1, 30)]),
            ],
            false,
        );
        assert_eq!(kept(&out), vec![(ChangeKind::Update, 1, 30)]);
    }

    #[test]
    fn an_absent_key_keeps_what_follows_its_last_delete() {
        // Key 2 came and went before the read; key 3 was deleted before the
        // read and re-inserted after; key 4 is new.
        let held = || {
            vec![
                change(ChangeKind::Insert, &[(2, 10), (3, 11)]),
                change(ChangeKind::Delete, &[(2, 12), (3, 13)]),
                change(ChangeKind::Insert, &[(3, 14), (4, 15)]),
            ]
        };
        let out = reconcile(&[], held(), false);
        assert_eq!(
            kept(&out),
            vec![(ChangeKind::Insert, 3, 14), (ChangeKind::Insert, 4, 15)]
        );
        // On resume the client may hold key 2 from before: all is kept.
        assert_eq!(kept(&reconcile(&[], held(), true)).len(), 6);
    }

    #[test]
    fn a_present_key_deleted_after_the_read_is_deleted() {
        let snap = vec![(PkValue::Int(5), 7)];
        let out = reconcile(&snap, vec![change(ChangeKind::Delete, &[(5, 9)])], false);
        assert_eq!(kept(&out), vec![(ChangeKind::Delete, 5, 9)]);
    }
}
