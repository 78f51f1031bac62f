//! Layer `engine` (top): the [`Engine`] handle the API layer calls — it
//! opens and wires every layer below over a hot store, owns the background
//! work (jobs, STREAM eviction, the flush policy), the live-query hub and
//! the token revocations, and exposes what a server needs: running SQL,
//! users and tokens, live subscriptions, and the events tests await.
//!
//! Nothing imports it but `lib.rs`.

mod config;

use std::sync::Arc;

use kalamdb_store::HotStore;
use kalamdb_types::{NamespaceId, Role, SnowflakeGenerator, TableId, TableName, UserId};

use crate::access::Caller;
use crate::accounts::revocation::{Revocations, TokenDigest};
use crate::accounts::users::{self, SetupOutcome, hash_password};
use crate::catalog::records::{NamespaceRecord, UserRecord};
use crate::catalog::registry::Catalog;
use crate::catalog::storage_registry::Storages;
use crate::error::{KalamError, Result};
use crate::live::connection::{LiveConnection, SubKey};
use crate::live::error::LiveError;
use crate::live::hub::{LiveHub, NewSubscription};
use crate::live::plan::{LivePlan, plan};
use crate::live::snapshot::{LiveSnapshot, SnapshotOptions, snapshot};
use crate::maintenance::compact::CompactOutcome;
use crate::maintenance::deletion::resume_deletions;
use crate::maintenance::flush::FlushOutcome;
use crate::maintenance::jobs::{JobManager, JobRecord};
use crate::maintenance::segments::{ColdLocks, ColdWork};
use crate::maintenance::stream_ttl::{StreamEviction, StreamTtl};
use crate::maintenance::tasks::Maintenance;
use crate::read::session::{Sessions, base_state};
use crate::statements::executor::Executor;
use crate::statements::fast::FastPath;
use crate::statements::namespace::put_namespace;
use crate::statements::output::{ExecuteRequest, StatementError, StatementResult};
use crate::statements::system_tables::SystemTables;
use crate::write::committer::{CommitStats, Committer, load_high_water};
use crate::write::shared::Shared;

pub use config::EngineConfig;

/// The engine handle (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    executor: Executor,
    revoked: Revocations,
    root_password: Option<String>,
}

impl Engine {
    /// Opens the engine over a store: loads the catalog, creates namespace
    /// `default` and user `root` on first start.
    pub async fn open(store: Arc<dyn HotStore>, config: EngineConfig) -> Result<Self> {
        let seq = Arc::new(SnowflakeGenerator::new(0));
        let base = base_state(seq.clone())?;
        let defaults = config.table_defaults();
        let (catalog, base) = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || {
                let catalog = Catalog::load(store, &base, defaults)?;
                Ok::<_, KalamError>((catalog, base))
            })
            .await
            .map_err(KalamError::internal)??
        };
        // A clock set back across a restart must not reuse `_seq` values.
        seq.observe(load_high_water(store.as_ref())?);
        let live = LiveHub::start(config.live.clone())?;
        let committer = Committer::start(store.clone(), seq.clone(), live.clone())?;
        let storages = Storages::load(store.as_ref(), config.storage_dir.clone())?;
        let jobs = JobManager::new(store.clone(), committer.clone(), config.jobs.clone());
        jobs.recover().await?;
        let (revoked, expired_revocations) = Revocations::load(store.as_ref())?;
        let shared = Arc::new(Shared::new(store, catalog, committer, storages));
        let maintenance = Arc::new(Maintenance {
            work: Arc::new(ColdWork {
                shared: shared.clone(),
                locks: ColdLocks::default(),
                compaction: config.compaction.clone(),
            }),
            jobs,
            stream: StreamTtl::default(),
            user_grace: config.user_deletion_grace,
        });
        let fast = Arc::new(FastPath::new(config.fast_path, seq.clone()));
        let plan_hits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let system = Arc::new(SystemTables {
            shared: shared.clone(),
            maintenance: maintenance.clone(),
            live: live.clone(),
            fast: fast.clone(),
            plan_hits: plan_hits.clone(),
            started_at: kalamdb_types::now_micros(),
        });
        let sessions = Arc::new(Sessions::new(
            shared.clone(),
            base,
            system,
            config.fast_path,
            plan_hits,
        ));
        let engine = Engine {
            inner: Arc::new(Inner {
                executor: Executor {
                    shared,
                    sessions,
                    maintenance,
                    live,
                    limits: config.statement_limits(),
                    fast,
                    seq,
                },
                revoked,
                root_password: config.root_password.clone(),
            }),
        };
        engine.bootstrap().await?;
        Revocations::persist(&engine.shared().committer, Vec::new(), expired_revocations).await?;
        // Before serving: a table dropped just before a crash gets its files
        // deleted now, so a new table of the same name starts empty.
        resume_deletions(engine.shared()).await?;
        let maintenance = &engine.inner.executor.maintenance;
        if let Some(every) = config.flush_check_interval {
            spawn_periodic(maintenance, every, "flush policy check", |m| async move {
                m.run_policy_once().await
            });
        }
        if let Some(every) = config.stream_eviction_interval {
            spawn_periodic(maintenance, every, "STREAM TTL eviction", |m| async move {
                m.evict_expired().await
            });
        }
        if let Some(every) = config.user_cleanup_interval {
            // Once now (users whose grace ended while the server was down),
            // then every interval.
            if let Err(e) = maintenance.cleanup_due_users(maintenance.user_grace).await {
                tracing::warn!(error = %e, "dropped-user cleanup pass failed");
            }
            spawn_periodic(maintenance, every, "dropped-user cleanup", |m| async move {
                m.cleanup_due_users(m.user_grace).await
            });
        }
        Ok(engine)
    }

    async fn bootstrap(&self) -> Result<()> {
        let shared = self.shared();
        let default_ns = NamespaceId::default_namespace();
        if shared.catalog.namespace(&default_ns).is_none() {
            put_namespace(shared, default_ns).await?;
        }
        if shared.catalog.user(&UserId::root())?.is_none() {
            let hash = match &self.inner.root_password {
                Some(p) if !p.is_empty() => Some(hash_password(p.clone()).await?),
                _ => None,
            };
            let mut root = UserRecord::new(UserId::root(), Role::System, hash, None);
            root.email = Some("root@localhost".into());
            self.create_user(root).await?;
        }
        Ok(())
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.executor.shared
    }

    #[cfg(test)]
    fn seq(&self) -> &Arc<SnowflakeGenerator> {
        &self.inner.executor.seq
    }

    fn maintenance(&self) -> &Maintenance {
        &self.inner.executor.maintenance
    }

    /// Runs every statement of a request in order.
    pub async fn execute(
        &self,
        req: ExecuteRequest,
    ) -> std::result::Result<Vec<StatementResult>, StatementError> {
        self.inner.executor.execute(req).await
    }

    /// The stored user (deleted ones included: check [`UserRecord::is_active`]).
    pub fn user(&self, id: &UserId) -> Result<Option<UserRecord>> {
        self.shared().catalog.user(id)
    }

    /// Stores a new user (durably). Fails with `"User 'x' already exists"`
    /// if the id is taken, by a dropped user too.
    pub async fn create_user(&self, user: UserRecord) -> Result<()> {
        users::create_user(self.shared(), user).await
    }

    /// Login bookkeeping on an active user; saved unless storage refuses
    /// writes (see [`users::update_user`]).
    pub async fn update_user(
        &self,
        id: &UserId,
        change: impl FnOnce(&mut UserRecord) -> Result<()> + Send + 'static,
    ) -> Result<Option<UserRecord>> {
        users::update_user(self.shared(), id, change).await
    }

    /// Changes an active user durably (see [`users::update_user_durable`]).
    pub async fn update_user_durable(
        &self,
        id: &UserId,
        change: impl FnOnce(&mut UserRecord) -> Result<()> + Send + 'static,
    ) -> Result<Option<UserRecord>> {
        users::update_user_durable(self.shared(), id, change).await
    }

    /// The first-run setup (`wire-protocol.md` §5.5) as one commit.
    pub async fn complete_setup(
        &self,
        admin: UserRecord,
        root_hash: String,
    ) -> Result<SetupOutcome> {
        users::complete_setup(self.shared(), admin, root_hash).await
    }

    /// Revokes tokens until their `exp` (Unix seconds), also across restarts.
    pub async fn revoke_tokens(&self, tokens: Vec<(TokenDigest, i64)>) -> Result<()> {
        self.inner
            .revoked
            .revoke(&self.shared().committer, tokens)
            .await
    }

    /// Bumped after every change of any user record: a verified token's
    /// user remembered under an older generation must be read again.
    pub fn users_generation(&self) -> u64 {
        self.shared().catalog.users_generation()
    }

    /// Was this token revoked (and is its revocation still relevant)?
    pub fn is_token_revoked(&self, digest: &TokenDigest) -> bool {
        self.inner.revoked.contains(digest)
    }

    /// How many revocations are remembered.
    pub fn revoked_token_count(&self) -> usize {
        self.inner.revoked.len()
    }

    /// True once a write has failed: the engine refuses writes until the
    /// server restarts (see `write/committer.rs`); reads keep working.
    pub fn storage_failed(&self) -> bool {
        self.shared().committer.storage_failed()
    }

    /// The error of the write that made the engine refuse writes, if any.
    pub fn storage_failure(&self) -> Option<&str> {
        self.shared().committer.storage_failure()
    }

    /// Statements the fast path answered, and recognised statements it
    /// handed to DataFusion at run time (`statements/fast.rs`).
    pub fn fast_path_counts(&self) -> (u64, u64) {
        let stats = &self.inner.executor.fast.stats;
        (
            stats.statements.load(std::sync::atomic::Ordering::Relaxed),
            stats.fallbacks.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Queries answered with a physical plan kept from an earlier request.
    pub fn plan_cache_hits(&self) -> u64 {
        self.inner
            .executor
            .sessions
            .plans
            .hits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn commit_stats(&self) -> &CommitStats {
        self.shared().committer.stats()
    }

    /// The live-query hub: connections and their subscriptions.
    pub fn live(&self) -> &Arc<LiveHub> {
        &self.inner.executor.live
    }

    /// Plans a subscription's SQL for `caller` (`wire-protocol.md` §6.8).
    pub async fn plan_live(
        &self,
        caller: &Caller,
        sql: &str,
    ) -> std::result::Result<LivePlan, LiveError> {
        plan(&self.inner.executor.sessions, caller, sql).await
    }

    /// Registers a planned subscription on `conn`. From the moment this
    /// returns, every change committed afterwards reaches `conn`'s queue.
    pub async fn register_live(
        &self,
        conn: &Arc<LiveConnection>,
        request: NewSubscription,
        plan: Arc<LivePlan>,
    ) -> std::result::Result<SubKey, LiveError> {
        let shared = self.shared();
        self.live().register(shared, conn, request, plan).await
    }

    /// Reads the initial rows of a subscription as its subscriber sees them.
    pub async fn live_snapshot(
        &self,
        plan: &LivePlan,
        caller: &Caller,
        opts: SnapshotOptions,
    ) -> std::result::Result<LiveSnapshot, LiveError> {
        let max = self.live().config().max_initial_rows;
        snapshot(&self.inner.executor.sessions, max, plan, caller, opts)
            .await
            .map_err(LiveError::from_kalam)
    }

    /// Runs the flush policy once now (what the periodic check does).
    pub async fn run_flush_policy(&self) -> Result<Vec<String>> {
        self.maintenance().run_policy_once().await
    }

    /// Waits for a job to finish (or `timeout`); `None` if there is no such job.
    pub async fn wait_job(
        &self,
        id: &str,
        timeout: std::time::Duration,
    ) -> Result<Option<JobRecord>> {
        self.maintenance().jobs.wait(id, timeout).await
    }

    /// Flushes a table synchronously, outside the job system (tests run the
    /// golden suite with flushes after every statement this way).
    pub async fn flush_now(&self, table: &TableId) -> Result<FlushOutcome> {
        self.maintenance().flush_now(table).await
    }

    /// Compacts a table synchronously, outside the job system.
    pub async fn compact_now(&self, table: &TableId) -> Result<CompactOutcome> {
        self.maintenance().compact_now(table).await
    }

    /// Events of STREAM TTL eviction, from now on: one per commit that
    /// deleted expired rows (tests await these instead of sleeping). A
    /// receiver that falls more than a thousand events behind loses the
    /// oldest (`RecvError::Lagged`).
    pub fn stream_evictions(&self) -> tokio::sync::broadcast::Receiver<StreamEviction> {
        self.maintenance().stream.events()
    }

    /// Resolves a table reference (for the API's and tests' convenience).
    pub fn table_id(&self, ns: &str, table: &str) -> Option<TableId> {
        let id = TableId::new(NamespaceId::parse(ns).ok()?, TableName::parse(table).ok()?);
        self.shared().catalog.table(&id).map(|_| id)
    }

    /// The namespace record, if any (used by tests).
    pub fn namespace(&self, ns: &NamespaceId) -> Option<NamespaceRecord> {
        self.shared().catalog.namespace(ns)
    }

    /// The hot store under the engine, for tests that corrupt or inspect
    /// stored records behind the engine's back (feature `test-util`).
    #[cfg(any(test, feature = "test-util"))]
    pub fn hot_store(&self) -> Arc<dyn HotStore> {
        self.shared().store.clone()
    }
}

/// Runs `pass` every `every` while the engine lives (the first run one
/// period after start). The task holds the engine only during a pass, so
/// shutdown is never kept waiting; a failed pass is logged and the next
/// tick tries again.
fn spawn_periodic<F, Fut, T>(
    maintenance: &Arc<Maintenance>,
    every: std::time::Duration,
    what: &'static str,
    pass: F,
) where
    F: Fn(Arc<Maintenance>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T>> + Send,
{
    let maintenance = Arc::downgrade(maintenance);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(m) = maintenance.upgrade() else {
                return;
            };
            if let Err(e) = pass(m).await {
                tracing::warn!(error = %e, "{what} failed");
            }
        }
    });
}

#[cfg(test)]
mod tests;
