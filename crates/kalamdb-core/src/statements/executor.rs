//! Running a request ([`Executor::execute`]): split the text into statements
//! (`kalamdb-sql`), parse each, and dispatch it — KalamDB's own statements
//! to their modules, ordinary SQL through DataFusion (`run_standard`),
//! UPDATE/DELETE through `dml.rs` — returning one result per statement. The
//! first failing statement stops the request; earlier statements stay
//! committed (each commits on its own).

use std::sync::Arc;

use datafusion::common::ScalarValue;
use kalamdb_sql::KalamStatement;
use kalamdb_types::{NamespaceId, ParamValue, Role, SnowflakeGenerator, TableName};
use sqlparser::ast::{SelectItem, Statement as SqlStatement};

use crate::access::{self, Action, Caller};
use crate::catalog::names::resolve_table;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::live::hub::LiveHub;
use crate::maintenance::tasks::Maintenance;
use crate::read::context::{ProviderMode, QueryContext, RequestScope, ReturnedRows};
use crate::read::query::{
    collect, collect_in, collect_kept, count_of, param_scalar, parse_standard,
};
use crate::read::session::Sessions;
use crate::statements::fast::{FastPath, Lookup, Prepared};
use crate::statements::output::{
    DmlKind, ExecuteRequest, StatementError, StatementOutput, StatementResult,
};
use crate::statements::returning::Returning;
use crate::statements::{
    alter_table, describe, dml, namespace, storage_ddl, storage_jobs, subscribe, table_ddl, txn,
    users, views,
};
use crate::write::shared::Shared;
use crate::write::txn::{DEFAULT_MAX_BUFFER_BYTES, Txn};

/// Limits on what one request may ask (the server maps its config here).
#[derive(Debug, Clone)]
pub struct StatementLimits {
    pub max_sql_bytes: usize,
    pub max_params: usize,
    pub max_param_bytes: usize,
    /// Rows one query may return; more fail the statement instead of
    /// building an answer that exhausts memory (`query.max_result_rows`).
    pub max_result_rows: usize,
    /// Bytes one transaction may stage (`query.max_transaction_buffer_bytes`).
    pub max_transaction_buffer_bytes: usize,
}

impl Default for StatementLimits {
    fn default() -> Self {
        Self {
            max_sql_bytes: 1024 * 1024,
            max_params: 50,
            max_param_bytes: 512 * 1024,
            max_result_rows: 1_000_000,
            max_transaction_buffer_bytes: DEFAULT_MAX_BUFFER_BYTES,
        }
    }
}

/// What statements run against.
pub struct Executor {
    pub shared: Arc<Shared>,
    pub sessions: Arc<Sessions>,
    pub maintenance: Arc<Maintenance>,
    pub live: Arc<LiveHub>,
    pub limits: StatementLimits,
    pub fast: Arc<FastPath>,
    /// The server's one `_seq` generator (a transaction's row ids and
    /// provisional `_seq` values).
    pub seq: Arc<SnowflakeGenerator>,
}

impl Executor {
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
        if req.sql.len() > self.limits.max_sql_bytes {
            return Err(whole(KalamError::InvalidSql(format!(
                "SQL exceeds the maximum length of {} bytes",
                self.limits.max_sql_bytes
            ))));
        }
        // Errors keep the order of the planner's path: splitting, then
        // parameters, then the namespace.
        let params_ok = self.check_params(&req.params);
        let namespace_ok = match &req.namespace {
            Some(ns) if !ns.is_empty() => {
                NamespaceId::parse(ns).map_err(|e| KalamError::exec(e.to_string()))
            }
            _ => Ok(NamespaceId::default_namespace()),
        };
        let params: Vec<ScalarValue> = req.params.iter().map(param_scalar).collect();
        // A text seen before skips splitting and parsing (it was one
        // statement that split and parsed).
        let cached = match (&params_ok, &namespace_ok) {
            (Ok(()), Ok(ns)) => match self.fast.cached(&self.shared, &req.sql, ns) {
                Lookup::Hit(p) => Some(p),
                Lookup::Miss => None,
            },
            _ => None,
        };
        // Whether the fast path has had this text (and handed it back):
        // it is not recognised and tried again below.
        let mut tried = cached.is_some();
        if let Some(prepared) = &cached
            && let Some(result) = self.run_fast(prepared, &req, &params).await?
        {
            return Ok(vec![result]);
        }
        // One INSERT of literal rows: the rows are read without the
        // tokenizer and parser (`FastPath::recognise_rows`).
        if !tried
            && let (Ok(()), Ok(ns)) = (&params_ok, &namespace_ok)
            && let Some(prepared) = self.fast.recognise_rows(&self.shared, &req.sql, ns)
        {
            tried = true;
            if let Some(result) = self.run_fast(&prepared, &req, &params).await? {
                return Ok(vec![result]);
            }
        }
        // A query planned before under this very text: its kept plan runs
        // without splitting, parsing or planning (`read::query::collect_kept`).
        if !tried
            && params.is_empty()
            && let Ok(ns) = &namespace_ok
        {
            let kept = collect_kept(
                &self.sessions,
                &req.sql,
                ns,
                &req.caller,
                self.limits.max_result_rows,
            )
            .await
            .map_err(|error| StatementError {
                index: 1,
                total: 1,
                sql: req.sql.clone(),
                error,
            })?;
            if let Some((schema, batches)) = kept {
                return Ok(vec![StatementResult {
                    output: StatementOutput::Rows { schema, batches },
                    as_user: req.caller.user.clone(),
                }]);
            }
        }
        let (statements, mut first_tokens) =
            kalamdb_sql::split_statements_with_tokens(&req.sql).map_err(|e| whole(e.into()))?;
        if !req.params.is_empty() && statements.len() > 1 {
            return Err(whole(KalamError::ParamsWithBatch));
        }
        params_ok.map_err(whole)?;
        let mut namespace = namespace_ok.map_err(whole)?;
        let total = statements.len();
        let mut results = Vec::with_capacity(total);
        // The request's transaction, between BEGIN and COMMIT/ROLLBACK,
        // and its SET variables.
        let mut open: Option<Arc<Txn>> = None;
        let settings = RequestScope::default().settings;
        for (i, sql) in statements.into_iter().enumerate() {
            let failed = |error| StatementError {
                index: i + 1,
                total,
                sql: sql.clone(),
                error,
            };
            // `EXECUTE AS USER` of a statement seen before for another
            // user: no parse (the name and inner text found by the
            // parser's own code, `kalamdb_sql::execute_as_parts`).
            if total == 1
                && !tried
                && let Some(tokens) = &first_tokens
                && let Some((user, inner)) = kalamdb_sql::execute_as_parts(&sql, tokens)
                && let Lookup::Hit(prepared) =
                    self.fast.cached_inner(&self.shared, &inner, &namespace)
                && let Some(result) = self
                    .fast
                    .run(
                        &self.shared,
                        &prepared,
                        Some(&user),
                        &req.caller,
                        &params,
                        self.limits.max_result_rows,
                    )
                    .await
                    .map_err(failed)?
            {
                results.push(result);
                continue;
            }
            // The splitter's tokens when the text is one statement: it is
            // not tokenized twice.
            let parsed = match first_tokens.take() {
                Some(tokens) => kalamdb_sql::parse_statement_tokens(&sql, tokens),
                None => kalamdb_sql::parse_statement(&sql),
            };
            let mut stmt = parsed.map_err(|e| failed(e.into()))?;
            if txn::is_control(&stmt) {
                let output = txn::control(
                    &self.shared,
                    &self.seq,
                    self.limits.max_transaction_buffer_bytes,
                    &stmt,
                    &mut open,
                )
                .await
                .map_err(failed)?;
                results.push(StatementResult {
                    output,
                    as_user: req.caller.user.clone(),
                });
                continue;
            }
            if open.is_some() {
                txn::check_allowed(&stmt).map_err(failed)?;
            }
            if total == 1
                && !tried
                && let Some(prepared) =
                    self.fast
                        .recognise(&self.shared, &req.sql, &sql, &mut stmt, &namespace)
                && let Some(result) = self.run_fast(&prepared, &req, &params).await?
            {
                results.push(result);
                continue;
            }
            let scope = RequestScope {
                txn: open.clone(),
                settings: settings.clone(),
            };
            match self
                .execute_one(stmt, &sql, &params, &mut namespace, &req.caller, &scope)
                .await
            {
                Ok(r) => results.push(r),
                // The transaction, if one is open, is dropped with its
                // staged writes: rolled back.
                Err(error) => return Err(failed(error)),
            }
        }
        if open.is_some() {
            return Err(whole(KalamError::exec(txn::LEFT_OPEN)));
        }
        Ok(results)
    }

    /// Runs a recognised statement on the fast path: `Ok(None)` hands it to
    /// the planner's path; an error is reported as the planner's path would
    /// (statement 1 of 1, named by its text as split).
    async fn run_fast(
        &self,
        prepared: &Prepared,
        req: &ExecuteRequest,
        params: &[ScalarValue],
    ) -> std::result::Result<Option<StatementResult>, StatementError> {
        self.fast
            .run(
                &self.shared,
                prepared,
                None,
                &req.caller,
                params,
                self.limits.max_result_rows,
            )
            .await
            .map_err(|error| StatementError {
                index: 1,
                total: 1,
                sql: prepared.statement.clone(),
                error,
            })
    }

    fn check_params(&self, params: &[ParamValue]) -> Result<()> {
        let limits = &self.limits;
        if params.len() > limits.max_params {
            return Err(KalamError::InvalidParameter(format!(
                "Too many parameters: {} (max {})",
                params.len(),
                limits.max_params
            )));
        }
        for (i, p) in params.iter().enumerate() {
            if let ParamValue::Text(s) = p
                && s.len() > limits.max_param_bytes
            {
                return Err(KalamError::InvalidParameter(format!(
                    "Parameter ${} invalid: larger than {} bytes",
                    i + 1,
                    limits.max_param_bytes
                )));
            }
        }
        Ok(())
    }

    /// `text`: what `stmt` was parsed from.
    async fn execute_one(
        &self,
        stmt: KalamStatement,
        text: &str,
        params: &[ScalarValue],
        namespace: &mut NamespaceId,
        caller: &Caller,
        scope: &RequestScope,
    ) -> Result<StatementResult> {
        if let KalamStatement::ExecuteAsUser {
            user,
            inner,
            inner_sql,
        } = stmt
        {
            let target = users::execute_as_target(&self.shared, caller, &user)?;
            // The inner statement runs in the target's partition with role
            // `user`, and may not touch SHARED tables (`sql.md` §3.6).
            let as_target = Caller {
                user: target.user_id,
                role: Role::User,
                execute_as: true,
            };
            let output = self
                .run_statement(
                    *inner,
                    Some(&inner_sql),
                    params,
                    namespace,
                    &as_target,
                    scope,
                )
                .await?;
            return Ok(StatementResult {
                output,
                as_user: as_target.user,
            });
        }
        let as_user = caller.user.clone();
        let output = self
            .run_statement(stmt, Some(text), params, namespace, caller, scope)
            .await?;
        Ok(StatementResult { output, as_user })
    }

    /// `text`: what `stmt` was parsed from.
    async fn run_statement(
        &self,
        stmt: KalamStatement,
        text: Option<&str>,
        params: &[ScalarValue],
        namespace: &mut NamespaceId,
        caller: &Caller,
        scope: &RequestScope,
    ) -> Result<StatementOutput> {
        let shared = &self.shared;
        match stmt {
            KalamStatement::CreateNamespace {
                name,
                if_not_exists,
            } => namespace::create_namespace(shared, caller, &name, if_not_exists).await,
            KalamStatement::DropNamespace {
                name,
                if_exists,
                cascade,
            } => {
                namespace::drop_namespace(shared, &self.live, caller, &name, if_exists, cascade)
                    .await
            }
            KalamStatement::ShowNamespaces => {
                self.internal_query("SELECT * FROM system.namespaces ORDER BY name", caller)
                    .await
            }
            KalamStatement::UseNamespace { name } => {
                *namespace = namespace::existing(shared, &name)?;
                Ok(StatementOutput::Message(format!(
                    "Namespace switched to '{namespace}'"
                )))
            }
            KalamStatement::CreateTable(ct) => {
                table_ddl::create_table(shared, &self.sessions, caller, ct, namespace).await
            }
            KalamStatement::DropTable {
                table,
                if_exists,
                kind,
            } => {
                table_ddl::drop_table(
                    &self.maintenance,
                    &self.live,
                    caller,
                    &table,
                    namespace,
                    if_exists,
                    kind,
                )
                .await
            }
            KalamStatement::AlterTable { table, change } => {
                alter_table::alter_table(
                    &self.maintenance,
                    &self.live,
                    &self.sessions,
                    caller,
                    &table,
                    change,
                    namespace,
                )
                .await
            }
            KalamStatement::ShowTables { namespace: ns } => {
                let sql = match ns {
                    Some(ns) => {
                        let ns = namespace::existing(shared, &ns)?;
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
                    // Any role (sql.md §7), though system.schemas itself is
                    // dba/system's: the table must resolve for the caller.
                    let id = resolve_table(&shared.catalog, &table, namespace)?.id();
                    let lister = Caller::new(caller.user.clone(), Role::System);
                    return self
                        .internal_query(
                            &format!(
                                "SELECT * FROM system.schemas WHERE table_id = '{id}' ORDER BY schema_version"
                            ),
                            &lister,
                        )
                        .await;
                }
                let in_system = match &table.namespace {
                    Some(ns) => ns == "system",
                    None => namespace.is_system(),
                };
                let t = if in_system {
                    let name = TableName::parse(&table.name)
                        .map_err(|e| KalamError::exec(e.to_string()))?;
                    let stmt = parse_standard(&format!("SELECT * FROM system.{name} LIMIT 0"))?;
                    let (schema, _) = collect(
                        &self.sessions,
                        stmt,
                        None,
                        &[],
                        namespace,
                        caller,
                        ProviderMode::Read,
                        None,
                    )
                    .await?;
                    describe::describe_fields(&schema)?
                } else {
                    describe::describe(&resolve_table(&shared.catalog, &table, namespace)?.def)?
                };
                t.into_output()
            }
            KalamStatement::Standard(stmt) => {
                self.run_standard(*stmt, text, params, namespace, caller, scope)
                    .await
            }
            KalamStatement::CreateView {
                view,
                query,
                or_replace,
                if_not_exists,
            } => {
                let ns = namespace.clone();
                views::create_view(
                    shared,
                    caller,
                    &view,
                    *query,
                    (or_replace, if_not_exists),
                    namespace,
                    |probe| async move {
                        let mode = ProviderMode::Read;
                        collect(&self.sessions, probe, None, &[], &ns, caller, mode, None)
                            .await
                            .map(|_| ())
                    },
                )
                .await
            }
            KalamStatement::DropView { view, if_exists } => {
                views::drop_view(shared, caller, &view, if_exists, namespace).await
            }
            KalamStatement::CreateUser {
                name,
                password,
                role,
                email,
            } => users::create_user(shared, caller, &name, password, role, email).await,
            KalamStatement::AlterUser { name, change } => {
                users::alter_user(shared, caller, &name, change).await
            }
            KalamStatement::DropUser { name, if_exists } => {
                users::drop_user(&self.maintenance, &self.live, caller, &name, if_exists).await
            }
            KalamStatement::ExecuteAsUser { .. } => Err(KalamError::InvalidSql(
                "EXECUTE AS USER requires exactly one statement".into(),
            )),
            KalamStatement::StorageFlushTable { table } => {
                storage_jobs::flush_table(&self.maintenance, caller, &table, namespace).await
            }
            KalamStatement::StorageFlushAll { namespace: ns } => {
                storage_jobs::flush_all(&self.maintenance, caller, ns.as_deref()).await
            }
            KalamStatement::StorageCompactTable { table } => {
                storage_jobs::compact_table(&self.maintenance, caller, &table, namespace).await
            }
            KalamStatement::StorageCompactAll { namespace: ns } => {
                storage_jobs::compact_all(&self.maintenance, caller, ns.as_deref()).await
            }
            KalamStatement::KillJob { job_id } => {
                access::allow(caller.role, Action::Administer("KILL JOB"))?;
                Ok(StatementOutput::Message(
                    self.maintenance.jobs.kill(&job_id).await?,
                ))
            }
            KalamStatement::CreateStorage(cs) => {
                storage_ddl::create_storage(shared, caller, cs).await
            }
            KalamStatement::AlterStorage { id, changes } => {
                storage_ddl::alter_storage(shared, caller, &id, changes).await
            }
            KalamStatement::DropStorage { id, if_exists } => {
                storage_ddl::drop_storage(shared, caller, &id, if_exists).await
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
                access::allow(caller.role, Action::Administer("KILL LIVE QUERY"))?;
                Ok(StatementOutput::Message(self.live.kill(&live_id)?))
            }
            KalamStatement::SubscribeTo { query, options } => {
                subscribe::subscribe_to(
                    &self.sessions,
                    &self.live,
                    caller,
                    *query,
                    options,
                    namespace,
                )
                .await
            }
            // Handled by `execute` (`txn::control`): they act on the request.
            KalamStatement::Begin | KalamStatement::Commit | KalamStatement::Rollback => Err(
                KalamError::InvalidSql("EXECUTE AS USER requires exactly one statement".into()),
            ),
        }
    }

    /// Runs engine-generated SQL (SHOW …) with the caller's rights.
    async fn internal_query(&self, sql: &str, caller: &Caller) -> Result<StatementOutput> {
        let stmt = parse_standard(sql)?;
        self.run_standard(
            stmt,
            Some(sql),
            &[],
            &NamespaceId::default_namespace(),
            caller,
            &RequestScope::default(),
        )
        .await
    }

    /// An INSERT with RETURNING: planned and run as any INSERT, its sink
    /// keeping the rows it writes, then the list evaluated over them.
    async fn insert_returning(
        &self,
        stmt: SqlStatement,
        entry: Arc<TableEntry>,
        items: &[SelectItem],
        params: &[ScalarValue],
        namespace: &NamespaceId,
        ctx: QueryContext,
    ) -> Result<StatementOutput> {
        let returning = Returning::plan(
            &self.sessions.state(Arc::new(ctx.clone()), namespace)?,
            entry,
            items,
        )?;
        let written = Arc::new(ReturnedRows::default());
        collect_in(
            &self.sessions,
            stmt,
            params,
            namespace,
            ctx.returning_into(written.clone()),
            None,
        )
        .await?;
        Ok(StatementOutput::Returning {
            kind: DmlKind::Insert,
            schema: returning.schema(),
            batches: returning.evaluate(&written.take())?,
        })
    }

    /// `text`: what `stmt` was parsed from (plans are kept under it).
    async fn run_standard(
        &self,
        mut stmt: SqlStatement,
        text: Option<&str>,
        params: &[ScalarValue],
        namespace: &NamespaceId,
        caller: &Caller,
        scope: &RequestScope,
    ) -> Result<StatementOutput> {
        // Views become their queries, as the caller (`views.rs`).
        views::expand(&self.shared.catalog, &mut stmt, namespace)?;
        let mut mode = ProviderMode::Read;
        let mut returning = None;
        if let SqlStatement::Insert(insert) = &mut stmt {
            dml::name_source_columns(insert);
            // DataFusion plans no RETURNING: the sink keeps what it writes.
            returning = insert.returning.take();
        }
        match &stmt {
            SqlStatement::Query(_) => {}
            SqlStatement::Insert(insert) => {
                let entry = dml::validate_insert(&self.shared, caller, insert, namespace)?;
                if let Some(items) = returning {
                    let ctx =
                        QueryContext::new(caller, ProviderMode::Insert(entry.id())).in_scope(scope);
                    return self
                        .insert_returning(stmt, entry, &items, params, namespace, ctx)
                        .await;
                }
                mode = ProviderMode::Insert(entry.id());
            }
            SqlStatement::Update(_) | SqlStatement::Delete(_) => {
                return dml::update_or_delete(
                    &self.shared,
                    &self.sessions,
                    stmt,
                    params,
                    namespace,
                    caller,
                    scope,
                )
                .await;
            }
            _ => access::allow(caller.role, Action::DataFusionMeta)?,
        }
        let is_insert = matches!(mode, ProviderMode::Insert(_));
        let is_set = matches!(stmt, SqlStatement::Set(_));
        let max_rows =
            matches!(stmt, SqlStatement::Query(_)).then_some(self.limits.max_result_rows);
        // A SET is recorded in the request's scope for the statements after it.
        let (schema, batches) = match scope.is_plain() && !is_set {
            true => {
                collect(
                    &self.sessions,
                    stmt,
                    text,
                    params,
                    namespace,
                    caller,
                    mode,
                    max_rows,
                )
                .await?
            }
            false => {
                let ctx = QueryContext::new(caller, mode).in_scope(scope);
                collect_in(&self.sessions, stmt, params, namespace, ctx, max_rows).await?
            }
        };
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
}
