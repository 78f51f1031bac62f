//! The engine: what the API layer calls to run SQL and look up users.
//!
//! [`Engine::execute`] is the life of a request: split the text into
//! statements (`kalamdb-sql`), parse each, run them in order — KalamDB
//! statements here and in `ddl.rs`, ordinary SQL through DataFusion
//! (`run_standard`), UPDATE/DELETE through `dml.rs` — and return one result
//! per statement. The first failing statement stops the request; earlier
//! statements stay committed (each commits on its own).

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DfStatement;
use kalamdb_sql::KalamStatement;
use kalamdb_store::{HotStore, Space};
use kalamdb_types::{NamespaceId, Role, SnowflakeGenerator, TableId, TableName, UserId};
use sqlparser::ast::Statement as SqlStatement;

use crate::access;
use crate::catalog::{Catalog, NamespaceRecord, UserRecord, decode_json, encode_json, user_key};
use crate::commit::{CommitReceipt, Committer};
use crate::error::{KalamError, Result};
use crate::provider::{ProviderMode, QueryContext};
use crate::session;

/// Limits and defaults of the engine (the server maps its config here).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Password for `root` on first start; `None` leaves root without one
    /// (first-run setup, loopback only).
    pub root_password: Option<String>,
    pub max_sql_bytes: usize,
    pub max_params: usize,
    pub max_param_bytes: usize,
    /// Rows one query may return; more fail the statement instead of
    /// building an answer that exhausts memory (`query.max_result_rows`).
    pub max_result_rows: usize,
    pub default_flush_policy: kalamdb_types::FlushPolicy,
    pub default_deleted_retention_hours: u64,
    pub default_stream_ttl_seconds: u64,
    /// Directory of the built-in `local` storage (`<data_dir>/storage`).
    pub storage_dir: std::path::PathBuf,
    pub jobs: crate::jobs::JobsConfig,
    /// How often the flush policy runs; `None` disables it.
    pub flush_check_interval: Option<std::time::Duration>,
    pub compaction: crate::compact::CompactionConfig,
    /// How often expired STREAM rows are deleted; `None` disables it (reads
    /// still hide them).
    pub stream_eviction_interval: Option<std::time::Duration>,
    pub live: crate::live::LiveConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            root_password: None,
            max_sql_bytes: 1024 * 1024,
            max_params: 50,
            max_param_bytes: 512 * 1024,
            max_result_rows: 1_000_000,
            default_flush_policy: kalamdb_types::FlushPolicy::default(),
            default_deleted_retention_hours: 168,
            default_stream_ttl_seconds: 10,
            storage_dir: std::path::PathBuf::from("data/storage"),
            jobs: crate::jobs::JobsConfig::default(),
            flush_check_interval: None,
            compaction: crate::compact::CompactionConfig::default(),
            stream_eviction_interval: Some(std::time::Duration::from_secs(1)),
            live: crate::live::LiveConfig::default(),
        }
    }
}

/// State shared by the engine, its providers and commit closures.
pub struct Shared {
    pub store: Arc<dyn HotStore>,
    pub catalog: Catalog,
    pub committer: Committer,
    pub seq: Arc<SnowflakeGenerator>,
    pub base_state: SessionState,
    pub config: EngineConfig,
    pub started_at: i64,
    /// Row versions read from the hot store by queries (`system.stats`
    /// `hot_rows_read`): what a query cost in storage reads, which is how
    /// tests show a USER-table query touches only the caller's rows.
    pub hot_rows_read: std::sync::atomic::AtomicU64,
    /// Row versions read from Parquet segments by queries (`cold_rows_read`).
    pub cold_rows_read: std::sync::atomic::AtomicU64,
    pub storages: crate::cold::Storages,
    pub jobs: Arc<crate::jobs::JobManager>,
    /// Flushes and compactions of one table take turns (`flush.rs`).
    pub cold_locks: crate::flush::ColdLocks,
    /// Live subscriptions and the change router (`live.rs`).
    pub live: Arc<crate::live::LiveHub>,
    /// STREAM rows deleted by TTL eviction (`system.stats`
    /// `stream_rows_evicted`).
    pub stream_rows_evicted: std::sync::atomic::AtomicU64,
    /// One event per eviction commit that removed rows (`stream.rs`).
    pub stream_evictions: tokio::sync::broadcast::Sender<crate::stream::StreamEviction>,
    /// Tokens revoked at logout (`revocation.rs`).
    pub revoked: crate::revocation::Revocations,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

/// Who sends a request, as the API layer authenticated it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserId,
    pub role: Role,
    /// Set for the inner statement of `EXECUTE AS USER` (then `user` is the
    /// target and `role` is `user`).
    pub execute_as: bool,
}

impl Caller {
    pub fn new(user: UserId, role: Role) -> Self {
        Self {
            user,
            role,
            execute_as: false,
        }
    }

    /// How this caller's table references resolve: the partition, role and
    /// restrictions every provider of the statement carries.
    pub fn context(&self, mode: ProviderMode) -> QueryContext {
        QueryContext {
            user: self.user.clone(),
            role: self.role,
            mode,
            execute_as: self.execute_as,
        }
    }
}

/// A `$n` parameter as decoded from JSON (`wire-protocol.md` §3.6); decoded by
/// `kalamdb-types` so the body decoding can be tested without the engine.
pub use kalamdb_types::ParamValue;

#[derive(Debug, Clone)]
pub struct ExecuteRequest {
    pub sql: String,
    pub params: Vec<ParamValue>,
    pub namespace: Option<String>,
    pub caller: Caller,
}

/// How [`Engine::complete_setup`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupOutcome {
    Done,
    AlreadyConfigured,
    UserExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmlKind {
    Insert,
    Update,
    Delete,
}

#[derive(Debug)]
pub enum StatementOutput {
    Rows {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    Dml {
        kind: DmlKind,
        count: u64,
    },
    Message(String),
    /// Succeeded with nothing to report (`SET`).
    Done,
}

#[derive(Debug)]
pub struct StatementResult {
    pub output: StatementOutput,
    pub as_user: UserId,
}

/// A failed request: which statement failed (1-based) and why.
#[derive(Debug)]
pub struct StatementError {
    pub index: usize,
    pub total: usize,
    pub sql: String,
    pub error: KalamError,
}

/// The engine handle (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    pub(crate) shared: Arc<Shared>,
}

impl Engine {
    /// Opens the engine over a store: loads the catalog, creates namespace
    /// `default` and user `root` on first start.
    pub async fn open(store: Arc<dyn HotStore>, config: EngineConfig) -> Result<Self> {
        let seq = Arc::new(SnowflakeGenerator::new(0));
        let base_state = session::base_state(seq.clone())?;
        let (catalog, base_state) = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || {
                let catalog = Catalog::load(store, &base_state)?;
                Ok::<_, KalamError>((catalog, base_state))
            })
            .await
            .map_err(KalamError::internal)??
        };
        // A clock set back across a restart must not reuse `_seq` values.
        let max_seq = crate::commit::load_high_water(store.as_ref())?;
        seq.observe(max_seq);
        let committer = Committer::start(store.clone(), seq.clone())?;
        let storages = crate::cold::Storages::load(store.as_ref(), config.storage_dir.clone())?;
        let jobs =
            crate::jobs::JobManager::new(store.clone(), committer.clone(), config.jobs.clone());
        jobs.recover().await?;
        let live = crate::live::LiveHub::start(config.live.clone())?;
        let (revoked, expired_revocations) = crate::revocation::Revocations::load(store.as_ref())?;
        let shared = Arc::new(Shared {
            store,
            catalog,
            committer,
            seq,
            base_state,
            config,
            started_at: kalamdb_types::now_micros(),
            hot_rows_read: std::sync::atomic::AtomicU64::new(0),
            cold_rows_read: std::sync::atomic::AtomicU64::new(0),
            storages,
            jobs,
            cold_locks: crate::flush::ColdLocks::default(),
            live,
            stream_rows_evicted: std::sync::atomic::AtomicU64::new(0),
            stream_evictions: tokio::sync::broadcast::channel(crate::stream::EVENT_CAPACITY).0,
            revoked,
        });
        let engine = Engine { shared };
        engine.bootstrap().await?;
        engine
            .commit_revocations(Vec::new(), expired_revocations)
            .await?;
        // Before serving: a table dropped just before a crash gets its files
        // deleted now, so a new table of the same name starts empty.
        crate::flush::resume_deletions(&engine.shared).await?;
        if let Some(every) = engine.shared.config.flush_check_interval {
            spawn_periodic(
                &engine.shared,
                every,
                "flush policy check",
                |s| async move { crate::jobs_sql::run_policy_once(&s).await },
            );
        }
        if let Some(every) = engine.shared.config.stream_eviction_interval {
            spawn_periodic(
                &engine.shared,
                every,
                "STREAM TTL eviction",
                |s| async move { crate::stream::evict_expired(&s).await },
            );
        }
        Ok(engine)
    }

    async fn bootstrap(&self) -> Result<()> {
        let default_ns = NamespaceId::default_namespace();
        if self.shared.catalog.namespace(&default_ns).is_none() {
            crate::ddl::put_namespace(&self.shared, default_ns).await?;
        }
        if self.shared.catalog.user(&UserId::root())?.is_none() {
            let hash = match &self.shared.config.root_password {
                Some(p) if !p.is_empty() => Some(hash_password(p.clone()).await?),
                _ => None,
            };
            let mut root = UserRecord::new(UserId::root(), Role::System, hash, None);
            root.email = Some("root@localhost".into());
            self.create_user(root).await?;
        }
        Ok(())
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn catalog(&self) -> &Catalog {
        &self.shared.catalog
    }

    /// Runs the flush policy once now (what the periodic check does).
    pub async fn run_flush_policy(&self) -> Result<Vec<String>> {
        crate::jobs_sql::run_policy_once(&self.shared).await
    }

    /// Waits for a job to finish (or `timeout`); `None` if there is no such job.
    pub async fn wait_job(
        &self,
        id: &str,
        timeout: std::time::Duration,
    ) -> Result<Option<crate::jobs::JobRecord>> {
        self.shared.jobs.wait(id, timeout).await
    }

    /// Flushes a table synchronously, outside the job system (tests run the
    /// golden suite with flushes after every statement this way).
    pub async fn flush_now(&self, table: &TableId) -> Result<crate::flush::FlushOutcome> {
        crate::flush::flush_table(&self.shared, table, &crate::jobs::CancelFlag::default()).await
    }

    /// Compacts a table synchronously, outside the job system.
    pub async fn compact_now(&self, table: &TableId) -> Result<crate::compact::CompactOutcome> {
        crate::compact::compact_table(&self.shared, table, &crate::jobs::CancelFlag::default())
            .await
    }

    /// Events of STREAM TTL eviction, from now on: one per commit that
    /// deleted expired rows (tests await these instead of sleeping). A
    /// receiver that falls more than a thousand events behind loses the
    /// oldest (`RecvError::Lagged`).
    pub fn stream_evictions(
        &self,
    ) -> tokio::sync::broadcast::Receiver<crate::stream::StreamEviction> {
        self.shared.stream_evictions.subscribe()
    }

    pub fn commit_stats(&self) -> &crate::commit::CommitStats {
        self.shared.committer.stats()
    }

    /// Stores a new user (durably). Fails with `"User 'x' already exists"`
    /// if the id is taken, by a dropped user too: a name is reused only after
    /// the user's cleanup (`sql.md` §5).
    pub async fn create_user(&self, user: UserRecord) -> Result<()> {
        let shared = self.shared.clone();
        self.shared
            .committer
            .commit(
                false,
                kalamdb_types::now_micros(),
                Box::new(move |ctx| {
                    let key = user_key(&user.user_id);
                    // Reads the group's overlay too, so two racing CREATE USERs
                    // of one name cannot both succeed.
                    if ctx.get(Space::Meta, &key)?.is_some() {
                        return Err(KalamError::exec(format!(
                            "User '{}' already exists",
                            user.user_id
                        )));
                    }
                    ctx.put(Space::Meta, key, encode_json(&user)?);
                    Ok(CommitReceipt {
                        affected: 1,
                        post_commit: Some(Box::new(move || shared.catalog.user_created())),
                    })
                }),
            )
            .await?;
        Ok(())
    }

    /// True once a write has failed: the engine refuses writes until the
    /// server restarts (see `commit.rs`); reads keep working.
    pub fn storage_failed(&self) -> bool {
        self.shared.committer.storage_failed()
    }

    /// The error of the write that made the engine refuse writes, if any.
    pub fn storage_failure(&self) -> Option<&str> {
        self.shared.committer.storage_failure()
    }

    /// Login bookkeeping on an active user (failed-attempt counting,
    /// lockout, `last_login_at`): like [`Engine::update_user_durable`],
    /// except that when storage refuses writes (a failed write, see
    /// `commit.rs`) the change is not saved — a warning is logged and the
    /// record is returned as `change` left it — so a correct password still
    /// logs in on a server that can only serve reads. Statements that change
    /// users must use [`Engine::update_user_durable`].
    pub async fn update_user(
        &self,
        id: &UserId,
        change: impl FnOnce(&mut UserRecord) -> Result<()> + Send + 'static,
    ) -> Result<Option<UserRecord>> {
        let changed = Arc::new(parking_lot::Mutex::new(None));
        let seen = changed.clone();
        let result = self
            .update_user_with(id, move |user| {
                change(user)?;
                *seen.lock() = Some(user.clone());
                Ok(())
            })
            .await;
        match result {
            Err(e) if self.storage_failed() => match changed.lock().take() {
                Some(user) => {
                    tracing::warn!(user = %id, error = %e, "user bookkeeping not saved: storage refuses writes");
                    Ok(Some(user))
                }
                None => Err(e),
            },
            other => other,
        }
    }

    /// Changes an active user by applying `change` to its *current* record
    /// inside the commit pipeline, so concurrent updates serialize instead
    /// of overwriting one another. `change` may refuse with an error, and
    /// then nothing is written. Returns the record as written, or `None` if
    /// the user does not exist or was dropped.
    pub async fn update_user_durable(
        &self,
        id: &UserId,
        change: impl FnOnce(&mut UserRecord) -> Result<()> + Send + 'static,
    ) -> Result<Option<UserRecord>> {
        self.update_user_with(id, change).await
    }

    async fn update_user_with(
        &self,
        id: &UserId,
        change: impl FnOnce(&mut UserRecord) -> Result<()> + Send + 'static,
    ) -> Result<Option<UserRecord>> {
        let id = id.clone();
        let written = Arc::new(parking_lot::Mutex::new(None));
        let out = written.clone();
        self.shared
            .committer
            .commit(
                false,
                kalamdb_types::now_micros(),
                Box::new(move |ctx| {
                    let key = user_key(&id);
                    // Through the commit context: it sees writes staged
                    // earlier in the same group, so the record is current.
                    let current = ctx
                        .get(Space::Meta, &key)?
                        .map(|v| decode_json::<UserRecord>(&v))
                        .transpose()?;
                    let Some(mut user) = current.filter(UserRecord::is_active) else {
                        return Ok(CommitReceipt::default());
                    };
                    change(&mut user)?;
                    ctx.put(Space::Meta, key, encode_json(&user)?);
                    *out.lock() = Some(user);
                    Ok(CommitReceipt {
                        affected: 1,
                        post_commit: None,
                    })
                }),
            )
            .await?;
        Ok(written.lock().take())
    }

    /// The first-run setup (`wire-protocol.md` §5.5) as one commit: sets
    /// root's password and creates the dba `admin`, unless root already has
    /// a password or the name is taken — checked inside the commit, so of
    /// two racing setups exactly one wins.
    pub async fn complete_setup(
        &self,
        admin: UserRecord,
        root_hash: String,
    ) -> Result<SetupOutcome> {
        let shared = self.shared.clone();
        let outcome = Arc::new(parking_lot::Mutex::new(SetupOutcome::Done));
        let out = outcome.clone();
        self.shared
            .committer
            .commit(
                false,
                kalamdb_types::now_micros(),
                Box::new(move |ctx| {
                    let root_key = user_key(&UserId::root());
                    let Some(root) = ctx.get(Space::Meta, &root_key)? else {
                        return Err(KalamError::internal("root user missing"));
                    };
                    let mut root: UserRecord = decode_json(&root)?;
                    if root.password_hash.is_some() {
                        *out.lock() = SetupOutcome::AlreadyConfigured;
                        return Ok(CommitReceipt::default());
                    }
                    let admin_key = user_key(&admin.user_id);
                    if ctx.get(Space::Meta, &admin_key)?.is_some() {
                        *out.lock() = SetupOutcome::UserExists;
                        return Ok(CommitReceipt::default());
                    }
                    root.password_hash = Some(root_hash);
                    root.updated_at = ctx.now_micros;
                    ctx.put(Space::Meta, root_key, encode_json(&root)?);
                    ctx.put(Space::Meta, admin_key, encode_json(&admin)?);
                    Ok(CommitReceipt {
                        affected: 2,
                        post_commit: Some(Box::new(move || shared.catalog.user_created())),
                    })
                }),
            )
            .await?;
        let outcome = *outcome.lock();
        Ok(outcome)
    }

    /// Runs every statement of a request in order.
    pub async fn execute(
        &self,
        req: ExecuteRequest,
    ) -> std::result::Result<Vec<StatementResult>, StatementError> {
        let whole = |error: KalamError| StatementError {
            index: 0,
            total: 0,
            sql: req.sql.clone(),
            error,
        };
        if req.sql.trim().is_empty() {
            return Err(whole(KalamError::EmptySql(
                "SQL query cannot be empty".into(),
            )));
        }
        if req.sql.len() > self.shared.config.max_sql_bytes {
            return Err(whole(KalamError::InvalidSql(format!(
                "SQL exceeds the maximum length of {} bytes",
                self.shared.config.max_sql_bytes
            ))));
        }
        let statements = kalamdb_sql::split_statements(&req.sql).map_err(|e| whole(e.into()))?;
        if !req.params.is_empty() && statements.len() > 1 {
            return Err(whole(KalamError::ParamsWithBatch));
        }
        self.check_params(&req.params).map_err(whole)?;
        let params: Vec<ScalarValue> = req.params.iter().map(param_scalar).collect();
        let mut namespace = match &req.namespace {
            Some(ns) if !ns.is_empty() => {
                NamespaceId::parse(ns).map_err(|e| whole(KalamError::exec(e.to_string())))?
            }
            _ => NamespaceId::default_namespace(),
        };
        let total = statements.len();
        let mut results = Vec::with_capacity(total);
        for (i, sql) in statements.into_iter().enumerate() {
            match self
                .execute_one(&sql, &params, &mut namespace, &req.caller)
                .await
            {
                Ok(r) => results.push(r),
                Err(error) => {
                    return Err(StatementError {
                        index: i + 1,
                        total,
                        sql,
                        error,
                    });
                }
            }
        }
        Ok(results)
    }

    fn check_params(&self, params: &[ParamValue]) -> Result<()> {
        let cfg = &self.shared.config;
        if params.len() > cfg.max_params {
            return Err(KalamError::InvalidParameter(format!(
                "Too many parameters: {} (max {})",
                params.len(),
                cfg.max_params
            )));
        }
        for (i, p) in params.iter().enumerate() {
            if let ParamValue::Text(s) = p
                && s.len() > cfg.max_param_bytes
            {
                return Err(KalamError::InvalidParameter(format!(
                    "Parameter ${} invalid: larger than {} bytes",
                    i + 1,
                    cfg.max_param_bytes
                )));
            }
        }
        Ok(())
    }

    async fn execute_one(
        &self,
        sql: &str,
        params: &[ScalarValue],
        namespace: &mut NamespaceId,
        caller: &Caller,
    ) -> Result<StatementResult> {
        let stmt = kalamdb_sql::parse_statement(sql)?;
        if let KalamStatement::ExecuteAsUser { user, inner, .. } = stmt {
            let target = crate::users::execute_as_target(self, caller, &user)?;
            // The inner statement runs in the target's partition with role
            // `user`, and may not touch SHARED tables (`sql.md` §3.6).
            let as_target = Caller {
                user: target.user_id,
                role: Role::User,
                execute_as: true,
            };
            let output = self
                .run_statement(*inner, params, namespace, &as_target)
                .await?;
            return Ok(StatementResult {
                output,
                as_user: as_target.user,
            });
        }
        let as_user = caller.user.clone();
        let output = self.run_statement(stmt, params, namespace, caller).await?;
        Ok(StatementResult { output, as_user })
    }

    async fn run_statement(
        &self,
        stmt: KalamStatement,
        params: &[ScalarValue],
        namespace: &mut NamespaceId,
        caller: &Caller,
    ) -> Result<StatementOutput> {
        let shared = &self.shared;
        match stmt {
            KalamStatement::CreateNamespace {
                name,
                if_not_exists,
            } => crate::ddl::create_namespace(shared, caller, &name, if_not_exists).await,
            KalamStatement::DropNamespace {
                name,
                if_exists,
                cascade,
            } => crate::ddl::drop_namespace(shared, caller, &name, if_exists, cascade).await,
            KalamStatement::ShowNamespaces => {
                self.internal_query("SELECT * FROM system.namespaces ORDER BY name", caller)
                    .await
            }
            KalamStatement::UseNamespace { name } => {
                let ns = NamespaceId::parse(&name).map_err(|e| KalamError::exec(e.to_string()))?;
                if shared.catalog.namespace(&ns).is_none() {
                    return Err(KalamError::exec(format!("Namespace '{ns}' not found")));
                }
                *namespace = ns;
                Ok(StatementOutput::Message(format!(
                    "Namespace switched to '{namespace}'"
                )))
            }
            KalamStatement::CreateTable(ct) => {
                crate::ddl::create_table(shared, caller, ct, namespace).await
            }
            KalamStatement::DropTable {
                table,
                if_exists,
                kind,
            } => crate::ddl::drop_table(shared, caller, &table, namespace, if_exists, kind).await,
            KalamStatement::ShowTables { namespace: ns } => {
                let sql = match ns {
                    Some(ns) => {
                        let ns =
                            NamespaceId::parse(&ns).map_err(|e| KalamError::exec(e.to_string()))?;
                        if shared.catalog.namespace(&ns).is_none() {
                            return Err(KalamError::exec(format!("Namespace '{ns}' not found")));
                        }
                        format!(
                            "SELECT * FROM system.tables WHERE namespace_id = '{ns}' ORDER BY namespace_id, table_name"
                        )
                    }
                    None => {
                        "SELECT * FROM system.tables ORDER BY namespace_id, table_name".to_string()
                    }
                };
                self.internal_query(&sql, caller).await
            }
            KalamStatement::DescribeTable { table, history } => {
                if history {
                    return Err(KalamError::InvalidSql(
                        "DESCRIBE TABLE ... HISTORY is not supported yet".into(),
                    ));
                }
                let in_system = match &table.namespace {
                    Some(ns) => ns == "system",
                    None => namespace.is_system(),
                };
                let t = if in_system {
                    let name = TableName::parse(&table.name)
                        .map_err(|e| KalamError::exec(e.to_string()))?;
                    let sql = format!("SELECT * FROM system.{name} LIMIT 0");
                    let stmt = parse_standard(&sql)?;
                    let (schema, _) = self
                        .plan_and_collect(stmt, &[], namespace, caller, ProviderMode::Read)
                        .await?;
                    crate::system_tables::describe_fields(&schema)?
                } else {
                    let entry = crate::ddl::resolve_table(shared, &table, namespace)?;
                    crate::system_tables::describe(&entry.def)?
                };
                let schema = t.schema();
                let batch = t.into_batch()?;
                Ok(StatementOutput::Rows {
                    schema,
                    batches: vec![batch],
                })
            }
            KalamStatement::Standard(stmt) => {
                self.run_standard(*stmt, params, namespace, caller).await
            }
            KalamStatement::CreateUser {
                name,
                password,
                role,
                email,
            } => crate::users::create_user(self, caller, &name, password, role, email).await,
            KalamStatement::AlterUser { name, change } => {
                crate::users::alter_user(self, caller, &name, change).await
            }
            KalamStatement::DropUser { name, if_exists } => {
                crate::users::drop_user(self, caller, &name, if_exists).await
            }
            KalamStatement::ExecuteAsUser { .. } => Err(KalamError::InvalidSql(
                "EXECUTE AS USER requires exactly one statement".into(),
            )),
            KalamStatement::StorageFlushTable { table } => {
                crate::jobs_sql::flush_table(shared, caller, &table, namespace).await
            }
            KalamStatement::StorageFlushAll { namespace: ns } => {
                crate::jobs_sql::flush_all(shared, caller, ns.as_deref()).await
            }
            KalamStatement::StorageCompactTable { table } => {
                crate::jobs_sql::compact_table(shared, caller, &table, namespace).await
            }
            KalamStatement::StorageCompactAll { namespace: ns } => {
                crate::jobs_sql::compact_all(shared, caller, ns.as_deref()).await
            }
            KalamStatement::KillJob { job_id } => {
                access::require_admin(caller.role, "KILL JOB")?;
                Ok(StatementOutput::Message(shared.jobs.kill(&job_id).await?))
            }
            KalamStatement::CreateStorage(cs) => {
                crate::storages::create_storage(shared, caller, cs).await
            }
            KalamStatement::AlterStorage { id, changes } => {
                crate::storages::alter_storage(shared, caller, &id, changes).await
            }
            KalamStatement::DropStorage { id, if_exists } => {
                crate::storages::drop_storage(shared, caller, &id, if_exists).await
            }
            KalamStatement::ShowStorages => {
                // Any role may list storages (`sql.md` §4.2), though only
                // dba/system may query system.storages directly; credentials
                // are masked either way.
                let lister = Caller::new(caller.user.clone(), Role::System);
                self.internal_query("SELECT * FROM system.storages ORDER BY storage_id", &lister)
                    .await
            }
            KalamStatement::KillLiveQuery { live_id } => {
                access::require_admin(caller.role, "KILL LIVE QUERY")?;
                Ok(StatementOutput::Message(shared.live.kill(&live_id)?))
            }
            KalamStatement::SubscribeTo { query, options } => {
                crate::live::subscribe_to(self, caller, *query, options, namespace).await
            }
            other => Err(KalamError::InvalidSql(format!(
                "Statement not supported yet: {}",
                statement_name(&other)
            ))),
        }
    }

    /// Runs engine-generated SQL (SHOW …) with the caller's rights.
    async fn internal_query(&self, sql: &str, caller: &Caller) -> Result<StatementOutput> {
        let stmt = parse_standard(sql)?;
        self.run_standard(stmt, &[], &NamespaceId::default_namespace(), caller)
            .await
    }

    async fn run_standard(
        &self,
        stmt: SqlStatement,
        params: &[ScalarValue],
        namespace: &NamespaceId,
        caller: &Caller,
    ) -> Result<StatementOutput> {
        let mut mode = ProviderMode::Read;
        match &stmt {
            SqlStatement::Query(_) => {}
            SqlStatement::Insert(insert) => {
                mode = ProviderMode::Insert(crate::dml::validate_insert(
                    &self.shared,
                    insert,
                    namespace,
                )?);
            }
            SqlStatement::Update(_) | SqlStatement::Delete(_) => {
                return crate::dml::update_or_delete(self, stmt, params, namespace, caller).await;
            }
            _ => access::require_admin(caller.role, "EXPLAIN, SET and SHOW statements")?,
        }
        let is_insert = matches!(mode, ProviderMode::Insert(_));
        let is_set = matches!(stmt, SqlStatement::Set(_));
        let max_rows =
            matches!(stmt, SqlStatement::Query(_)).then_some(self.shared.config.max_result_rows);
        let (schema, batches) = self
            .plan_and_collect_at_most(stmt, params, namespace, caller, mode, max_rows)
            .await?;
        if is_insert {
            return Ok(StatementOutput::Dml {
                kind: DmlKind::Insert,
                count: count_of(&batches),
            });
        }
        if is_set {
            // Not a query: no schema or rows on the wire (§3.3).
            return Ok(StatementOutput::Done);
        }
        Ok(StatementOutput::Rows { schema, batches })
    }

    /// Plans a statement with DataFusion under `mode`, binds `$n`
    /// parameters, runs it and collects the result.
    pub(crate) async fn plan_and_collect(
        &self,
        stmt: SqlStatement,
        params: &[ScalarValue],
        namespace: &NamespaceId,
        caller: &Caller,
        mode: ProviderMode,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        self.plan_and_collect_at_most(stmt, params, namespace, caller, mode, None)
            .await
    }

    /// [`Self::plan_and_collect`], failing as soon as the result passes
    /// `max_rows` rows: the batches are pulled one at a time, so an
    /// oversized answer stops the scan instead of being built whole.
    async fn plan_and_collect_at_most(
        &self,
        stmt: SqlStatement,
        params: &[ScalarValue],
        namespace: &NamespaceId,
        caller: &Caller,
        mode: ProviderMode,
        max_rows: Option<usize>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let ctx = Arc::new(caller.context(mode));
        let session = session::session(&self.shared, ctx, namespace)?;
        let state = session.state();
        let plan = state
            .statement_to_plan(DfStatement::Statement(Box::new(stmt)))
            .await?;
        let plan = bind_params(plan, params)?;
        let df = session.execute_logical_plan(plan).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let Some(max_rows) = max_rows else {
            return Ok((schema, df.collect().await?));
        };
        let mut stream = df.execute_stream().await?;
        let mut batches = Vec::new();
        let mut rows = 0usize;
        while let Some(batch) = futures::StreamExt::next(&mut stream).await {
            let batch = batch?;
            rows += batch.num_rows();
            if rows > max_rows {
                return Err(KalamError::exec(format!(
                    "Query result exceeds {max_rows} rows (query.max_result_rows); \
                     add a LIMIT or a narrower WHERE"
                )));
            }
            batches.push(batch);
        }
        Ok((schema, batches))
    }

    /// Resolves a table reference (for the API's and tests' convenience).
    pub fn table_id(&self, ns: &str, table: &str) -> Option<TableId> {
        let id = TableId::new(NamespaceId::parse(ns).ok()?, TableName::parse(table).ok()?);
        self.shared.catalog.table(&id).map(|_| id)
    }

    /// The namespace record, if any (used by tests).
    pub fn namespace(&self, ns: &NamespaceId) -> Option<NamespaceRecord> {
        self.shared.catalog.namespace(ns)
    }
}

/// Runs `pass` every `every` while the engine lives (the first run one
/// period after start). The task holds the engine only during a pass, so
/// shutdown is never kept waiting; a failed pass is logged and the next
/// tick tries again.
fn spawn_periodic<F, Fut, T>(
    shared: &Arc<Shared>,
    every: std::time::Duration,
    what: &'static str,
    pass: F,
) where
    F: Fn(Arc<Shared>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T>> + Send,
{
    let shared = Arc::downgrade(shared);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if let Err(e) = pass(shared).await {
                tracing::warn!(error = %e, "{what} failed");
            }
        }
    });
}

/// Parses SQL the engine generated itself (SHOW, DESCRIBE, keyed reads),
/// which is always a plain DataFusion statement.
pub(crate) fn parse_standard(sql: &str) -> Result<SqlStatement> {
    match kalamdb_sql::parse_statement(sql)? {
        KalamStatement::Standard(s) => Ok(*s),
        _ => Err(KalamError::internal(format!(
            "generated SQL is not a plain statement: {sql}"
        ))),
    }
}

/// Hashes a password on the blocking pool (Argon2id is deliberately slow).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || kalamdb_auth::hash_password(&password))
        .await
        .map_err(KalamError::internal)?
        .map_err(KalamError::internal)
}

fn count_of(batches: &[RecordBatch]) -> u64 {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::UInt64Type;
    batches
        .iter()
        .filter_map(|b| b.columns().first())
        .filter_map(|c| c.as_primitive_opt::<UInt64Type>())
        .flat_map(|a| a.iter().flatten())
        .sum()
}

fn param_scalar(p: &ParamValue) -> ScalarValue {
    match p {
        ParamValue::Null => ScalarValue::Null,
        ParamValue::Bool(b) => ScalarValue::Boolean(Some(*b)),
        ParamValue::Int(i) => ScalarValue::Int64(Some(*i)),
        ParamValue::Float(f) => ScalarValue::Float64(Some(*f)),
        ParamValue::Text(s) => ScalarValue::Utf8(Some(s.clone())),
    }
}

/// Binds `$n` values, casting each to the type the planner inferred for its
/// placeholder (clients send BIGINTs as strings, timestamps as integers).
pub(crate) fn bind_params(plan: LogicalPlan, params: &[ScalarValue]) -> Result<LogicalPlan> {
    let types = plan.get_parameter_types()?;
    for name in types.keys() {
        let idx: usize = name.trim_start_matches('$').parse().map_err(|_| {
            KalamError::InvalidParameter(format!(
                "Parameter {name} invalid: only $1..$n are supported"
            ))
        })?;
        if idx == 0 || idx > params.len() {
            return Err(KalamError::InvalidParameter(format!(
                "Parameter ${idx} not provided"
            )));
        }
    }
    if types.is_empty() {
        return Ok(plan);
    }
    let mut values = Vec::with_capacity(params.len());
    for (i, v) in params.iter().enumerate() {
        let name = format!("${}", i + 1);
        let target = types.get(&name).cloned().flatten();
        let bound = match target {
            Some(field) => {
                let ty = field_type(&field);
                if v.is_null() {
                    ScalarValue::try_from(&ty)?
                } else if let datafusion::arrow::datatypes::DataType::Decimal128(_, scale) = ty
                    && matches!(
                        v,
                        ScalarValue::Utf8(Some(_)) | ScalarValue::Float64(Some(_))
                    )
                    && fractional_digits(&v.to_string())
                        > usize::try_from(scale.max(0)).unwrap_or(0)
                {
                    return Err(KalamError::exec(format!(
                        "Cannot cast parameter {name} ('{v}') to {ty}: rounding beyond scale {scale}"
                    )));
                } else if v.data_type() != ty {
                    v.cast_to(&ty).map_err(|_| {
                        KalamError::exec(format!("Cannot cast parameter {name} ({v}) to {ty}"))
                    })?
                } else {
                    v.clone()
                }
            }
            None => v.clone(),
        };
        values.push(bound);
    }
    Ok(plan.with_param_values(ParamValues::from(values))?)
}

fn fractional_digits(text: &str) -> usize {
    text.split_once('.')
        .map(|(_, frac)| frac.trim_end_matches('0').len())
        .unwrap_or(0)
}

fn field_type<T: ParamType>(t: &T) -> datafusion::arrow::datatypes::DataType {
    t.param_type()
}

/// `get_parameter_types` has yielded `DataType`s or `Field`s across
/// DataFusion versions; this keeps `bind_params` independent of which.
trait ParamType {
    fn param_type(&self) -> datafusion::arrow::datatypes::DataType;
}

impl ParamType for datafusion::arrow::datatypes::DataType {
    fn param_type(&self) -> datafusion::arrow::datatypes::DataType {
        self.clone()
    }
}

impl ParamType for datafusion::arrow::datatypes::FieldRef {
    fn param_type(&self) -> datafusion::arrow::datatypes::DataType {
        self.data_type().clone()
    }
}

fn statement_name(stmt: &KalamStatement) -> &'static str {
    match stmt {
        KalamStatement::CreateUser { .. } => "CREATE USER",
        KalamStatement::AlterUser { .. } => "ALTER USER",
        KalamStatement::DropUser { .. } => "DROP USER",
        KalamStatement::StorageFlushTable { .. } | KalamStatement::StorageFlushAll { .. } => {
            "STORAGE FLUSH"
        }
        KalamStatement::StorageCompactTable { .. } | KalamStatement::StorageCompactAll { .. } => {
            "STORAGE COMPACT"
        }
        KalamStatement::CreateStorage(_) => "CREATE STORAGE",
        KalamStatement::AlterStorage { .. } => "ALTER STORAGE",
        KalamStatement::DropStorage { .. } => "DROP STORAGE",
        KalamStatement::ShowStorages => "SHOW STORAGES",
        KalamStatement::KillJob { .. } => "KILL JOB",
        KalamStatement::KillLiveQuery { .. } => "KILL LIVE QUERY",
        KalamStatement::ExecuteAsUser { .. } => "EXECUTE AS USER",
        KalamStatement::Begin | KalamStatement::Commit | KalamStatement::Rollback => "transactions",
        _ => "this statement",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;
    use kalamdb_store::{MemoryStore, Space};
    use kalamdb_types::ErrorCode;

    use super::*;

    fn root() -> Caller {
        Caller::new(UserId::root(), Role::System)
    }

    async fn exec(
        engine: &Engine,
        sql: &str,
    ) -> std::result::Result<Vec<StatementResult>, StatementError> {
        engine
            .execute(ExecuteRequest {
                sql: sql.into(),
                params: vec![],
                namespace: None,
                caller: root(),
            })
            .await
    }

    async fn scalar_i64(engine: &Engine, sql: &str) -> i64 {
        let results = exec(engine, sql).await.unwrap();
        match &results[0].output {
            StatementOutput::Rows { batches, .. } => {
                batches[0].column(0).as_primitive::<Int64Type>().value(0)
            }
            other => panic!("not rows: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_write_is_never_acknowledged_and_poisons_the_store() {
        let store = Arc::new(MemoryStore::new());
        let engine = Engine::open(store.clone(), EngineConfig::default())
            .await
            .unwrap();
        exec(
            &engine,
            "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY)",
        )
        .await
        .unwrap();
        exec(&engine, "INSERT INTO app.t VALUES (1)").await.unwrap();

        store.fail_next_writes(1);
        let err = exec(&engine, "INSERT INTO app.t VALUES (2)")
            .await
            .unwrap_err();
        assert_eq!(err.error.code(), ErrorCode::InternalError, "{}", err.error);
        // Poisoned: nothing more is acknowledged, reads still work.
        let err = exec(&engine, "INSERT INTO app.t VALUES (3)")
            .await
            .unwrap_err();
        assert_eq!(err.error.code(), ErrorCode::InternalError, "{}", err.error);
        assert_eq!(scalar_i64(&engine, "SELECT count(*) FROM app.t").await, 1);
        // Even once the device works again: only a restart clears it.
        store.clear_poison();
        let err = exec(&engine, "CREATE TABLE app.u (id INT PRIMARY KEY)")
            .await
            .unwrap_err();
        assert!(
            err.error
                .to_string()
                .contains("writes are refused after a failed write"),
            "{}",
            err.error
        );
        assert!(engine.storage_failed());
        assert_eq!(
            engine.storage_failure(),
            Some("storage write failed: injected write failure")
        );
        let stats = exec(
            &engine,
            "SELECT metric_value FROM system.stats WHERE metric_name = 'storage_write_failed'",
        )
        .await
        .unwrap();
        let StatementOutput::Rows { batches, .. } = &stats[0].output else {
            panic!("not rows");
        };
        assert_eq!(
            batches[0].column(0).as_string::<i32>().value(0),
            "1",
            "operators see the failure"
        );

        // Login bookkeeping is skipped, so a correct password still logs
        // in; a statement changing a user is refused.
        let kept = engine
            .update_user(&UserId::root(), |u| {
                u.last_login_at = Some(42);
                Ok(())
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.last_login_at, Some(42));
        let stored = engine.catalog().user(&UserId::root()).unwrap().unwrap();
        assert_eq!(stored.last_login_at, None, "not written");
        let refused = engine
            .update_user_durable(&UserId::root(), |u| {
                u.email = Some("x@y".into());
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InternalError);
        let own = engine
            .update_user(&UserId::root(), |_| Err(KalamError::exec("no")))
            .await
            .unwrap_err();
        assert_eq!(own.to_string(), "no");
    }

    #[tokio::test]
    async fn concurrent_updates_of_one_row_lose_no_increment() {
        let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
            .await
            .unwrap();
        exec(
            &engine,
            "CREATE NAMESPACE app; CREATE TABLE app.c (id INT PRIMARY KEY, n BIGINT)",
        )
        .await
        .unwrap();
        exec(&engine, "INSERT INTO app.c VALUES (1, 0)")
            .await
            .unwrap();
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let engine = engine.clone();
                tokio::spawn(async move {
                    exec(&engine, "UPDATE app.c SET n = n + 1 WHERE id = 1").await
                })
            })
            .collect();
        for t in tasks {
            let r = t.await.unwrap().unwrap();
            assert!(matches!(
                r[0].output,
                StatementOutput::Dml {
                    kind: DmlKind::Update,
                    count: 1
                }
            ));
        }
        assert_eq!(
            scalar_i64(&engine, "SELECT n FROM app.c WHERE id = 1").await,
            12
        );
    }

    /// Counts how the engine reads, to prove key filters become point reads.
    #[derive(Default)]
    struct CountingStore {
        inner: MemoryStore,
        scans: std::sync::atomic::AtomicUsize,
        point_reads: std::sync::atomic::AtomicUsize,
    }

    impl HotStore for CountingStore {
        fn get(
            &self,
            space: Space,
            key: &[u8],
        ) -> Result<Option<Vec<u8>>, kalamdb_store::StoreError> {
            self.inner.get(space, key)
        }
        fn multi_get(
            &self,
            space: Space,
            keys: &[Vec<u8>],
        ) -> Result<Vec<Option<Vec<u8>>>, kalamdb_store::StoreError> {
            if space == Space::Rows {
                self.point_reads
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            self.inner.multi_get(space, keys)
        }
        fn scan(
            &self,
            space: Space,
            range: &kalamdb_store::KeyRange,
            direction: kalamdb_store::Direction,
            limit: usize,
        ) -> Result<Vec<kalamdb_store::KvPair>, kalamdb_store::StoreError> {
            if space == Space::Rows {
                self.scans.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            self.inner.scan(space, range, direction, limit)
        }
        fn write(&self, batch: kalamdb_store::WriteBatch) -> Result<(), kalamdb_store::StoreError> {
            self.inner.write(batch)
        }
        fn approximate_size(
            &self,
            space: Space,
            range: &kalamdb_store::KeyRange,
        ) -> Result<u64, kalamdb_store::StoreError> {
            self.inner.approximate_size(space, range)
        }
        fn is_durable(&self) -> bool {
            false
        }
    }

    #[tokio::test]
    async fn primary_key_equality_is_a_point_read_not_a_scan() {
        use std::sync::atomic::Ordering::SeqCst;
        let store = Arc::new(CountingStore::default());
        let engine = Engine::open(store.clone(), EngineConfig::default())
            .await
            .unwrap();
        exec(
            &engine,
            "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
        )
        .await
        .unwrap();
        exec(
            &engine,
            "INSERT INTO app.t VALUES (1, 'a'), (5, 'e'), (9, 'i')",
        )
        .await
        .unwrap();

        let scans = store.scans.load(SeqCst);
        assert_eq!(
            scalar_i64(&engine, "SELECT id FROM app.t WHERE id = 5").await,
            5
        );
        assert_eq!(
            scalar_i64(&engine, "SELECT count(*) FROM app.t WHERE id IN (1, 9, 42)").await,
            2
        );
        assert_eq!(
            store.scans.load(SeqCst),
            scans,
            "a key lookup scanned the table"
        );
        assert!(store.point_reads.load(SeqCst) >= 2);

        assert_eq!(
            scalar_i64(&engine, "SELECT count(*) FROM app.t WHERE v = 'e'").await,
            1
        );
        assert!(
            store.scans.load(SeqCst) > scans,
            "a non-key filter must scan"
        );
    }

    #[tokio::test]
    async fn concurrent_user_updates_serialize() {
        let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
            .await
            .unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let engine = engine.clone();
                tokio::spawn(async move {
                    engine
                        .update_user(&UserId::root(), |r| {
                            r.failed_login_attempts += 1;
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().unwrap().is_some());
        }
        let root = engine.catalog().user(&UserId::root()).unwrap().unwrap();
        assert_eq!(root.failed_login_attempts, 20, "an update was lost");
        let missing = UserId::parse("nobody").unwrap();
        assert!(
            engine
                .update_user(&missing, |_| Ok(()))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn racing_creates_of_one_table_let_exactly_one_win() {
        let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
            .await
            .unwrap();
        exec(&engine, "CREATE NAMESPACE app").await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let engine = engine.clone();
                let sql = format!("CREATE TABLE app.t (id INT PRIMARY KEY, v{i} TEXT)");
                tokio::spawn(async move { exec(&engine, &sql).await })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => wins += 1,
                Err(e) => assert_eq!(e.error.to_string(), "Table app.t already exists"),
            }
        }
        assert_eq!(wins, 1);
        assert_eq!(engine.catalog().tables(None).len(), 1);
    }

    #[tokio::test]
    async fn statements_of_one_insert_are_all_or_nothing() {
        let engine = Engine::open(Arc::new(MemoryStore::new()), EngineConfig::default())
            .await
            .unwrap();
        exec(
            &engine,
            "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY)",
        )
        .await
        .unwrap();
        exec(&engine, "INSERT INTO app.t VALUES (2)").await.unwrap();
        let err = exec(&engine, "INSERT INTO app.t VALUES (1), (2), (3)")
            .await
            .unwrap_err();
        assert!(
            err.error
                .to_string()
                .contains("Duplicate primary key value '2'"),
            "{}",
            err.error
        );
        let err = exec(&engine, "INSERT INTO app.t VALUES (4), (4)")
            .await
            .unwrap_err();
        assert!(
            err.error
                .to_string()
                .contains("Duplicate primary key value '4'"),
            "{}",
            err.error
        );
        assert_eq!(scalar_i64(&engine, "SELECT count(*) FROM app.t").await, 1);
    }

    #[tokio::test]
    async fn the_flush_policy_flushes_tables_past_their_row_limit() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(
            Arc::new(MemoryStore::new()),
            EngineConfig {
                storage_dir: dir.path().join("storage"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        exec(&engine, "CREATE NAMESPACE app").await.unwrap();
        exec(
            &engine,
            "CREATE TABLE app.a (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:3')",
        )
        .await
        .unwrap();
        exec(
            &engine,
            "CREATE TABLE app.b (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:100,interval:3600')",
        )
        .await
        .unwrap();
        exec(&engine, "INSERT INTO app.a VALUES (1), (2)")
            .await
            .unwrap();
        exec(&engine, "INSERT INTO app.b VALUES (1), (2), (3)")
            .await
            .unwrap();
        // Below both limits: nothing is due.
        assert!(engine.run_flush_policy().await.unwrap().is_empty());
        exec(&engine, "INSERT INTO app.a VALUES (3)").await.unwrap();
        let jobs = engine.run_flush_policy().await.unwrap();
        assert_eq!(jobs.len(), 1, "only app.a reached its limit");
        let job = engine
            .wait_job(&jobs[0], std::time::Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.status, crate::jobs::JobStatus::Completed, "{job:?}");
        assert!(job.message.unwrap().starts_with("Flushed 3 rows"));
        assert_eq!(scalar_i64(&engine, "SELECT count(*) FROM app.a").await, 3);
        // Flushed: no hot rows remain, so the policy has nothing to do.
        assert!(engine.run_flush_policy().await.unwrap().is_empty());
    }
}
