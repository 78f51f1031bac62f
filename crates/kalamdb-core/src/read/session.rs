//! Per-request DataFusion sessions over catalog `kalam` ([`Sessions`]).
//!
//! The base [`SessionState`] (functions, configuration) is built once, and
//! so is the [`TaskContext`] plans execute with. Each statement clones the
//! base state once — what DataFusion's own `SessionContext::state()` does
//! per query — and sets on the clone its namespace, a catalog list whose
//! providers carry the request's [`QueryContext`], a `CURRENT_USER()` bound
//! to the effective user, and the query's start time (`NOW()`). Building a
//! state through `SessionStateBuilder` instead re-registers every built-in
//! function (most of a short query's planning time). Namespaces are
//! schemas of `kalam`; `system` is a schema too, supplied by the layer that
//! owns what it shows ([`SystemSchemas`]); DataFusion's
//! `information_schema` sees them all.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProviderList, SchemaProvider,
};
use datafusion::datasource::TableProvider;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SessionState, SessionStateBuilder, TaskContext};
use datafusion::logical_expr::registry::FunctionRegistry;
use datafusion::prelude::SessionConfig;
use kalamdb_types::{NamespaceId, SnowflakeGenerator, TableId, TableName};

use crate::error::Result;
use crate::read::context::QueryContext;
use crate::read::functions;
use crate::read::plan_cache::PlanCache;
use crate::read::provider::KalamTableProvider;
use crate::write::shared::Shared;

pub const CATALOG: &str = "kalam";

/// The `system` schema as one statement sees it (its role decides which
/// tables it may read).
pub trait SystemSchemas: Send + Sync + std::fmt::Debug {
    fn schema(&self, ctx: Arc<QueryContext>) -> Arc<dyn SchemaProvider>;
}

/// Builds the session of each statement.
pub struct Sessions {
    shared: Arc<Shared>,
    base: SessionState,
    /// What plans execute with (functions, configuration, memory): the
    /// same for every statement.
    task: Arc<TaskContext>,
    system: Arc<dyn SystemSchemas>,
    /// Physical plans of queries reused across requests.
    pub plans: PlanCache,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions")
    }
}

/// The state every statement starts from: configuration and functions,
/// `SNOWFLAKE_ID()` drawing from the server's one generator.
pub fn base_state(seq: Arc<SnowflakeGenerator>) -> Result<SessionState> {
    let config = SessionConfig::new()
        .with_default_catalog_and_schema(CATALOG, "default")
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(true);
    // Our scans estimate their size (`scan_exec.rs`): a small one is not
    // spread over the cores by a round-robin repartition.
    let mut config = config;
    config
        .options_mut()
        .execution
        .use_row_number_estimates_to_optimize_partitioning = true;
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    state.register_udf(Arc::new(functions::snowflake_id(seq)))?;
    state.register_udf(Arc::new(functions::uuid_v7()))?;
    state.register_udf(Arc::new(functions::ulid()))?;
    state.register_udf(Arc::new(functions::current_user("")))?;
    state.register_udf(Arc::new(functions::current_role("")))?;
    // `json_get*`, `json_contains`, `json_length`, … and the planner that
    // turns `->`, `->>` into them (sql.md §3.5), over JSON and TEXT columns
    // alike (a JSON column is text in Arrow).
    datafusion_functions_json::register_all(&mut state)?;
    Ok(state)
}

impl Sessions {
    /// `reuse_plans`: keep the physical plans of queries (`plan_cache.rs`).
    pub fn new(
        shared: Arc<Shared>,
        mut base: SessionState,
        system: Arc<dyn SystemSchemas>,
        reuse_plans: bool,
        plan_hits: Arc<std::sync::atomic::AtomicU64>,
    ) -> Self {
        if reuse_plans {
            // A re-executed plan would keep the filter its previous run's
            // TopK or join narrowed (see `plan_cache.rs`).
            base.config_mut()
                .options_mut()
                .optimizer
                .enable_dynamic_filter_pushdown = false;
        }
        Self {
            shared,
            task: base.task_ctx(),
            base,
            system,
            plans: PlanCache::new(reuse_plans, plan_hits),
        }
    }

    /// The context plans of any statement execute with.
    pub fn task_ctx(&self) -> Arc<TaskContext> {
        self.task.clone()
    }

    /// The state statements start from (DEFAULT expressions are parsed
    /// against it).
    pub fn base_state(&self) -> &SessionState {
        &self.base
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The state of one statement of one request, its execution started.
    pub fn state(&self, ctx: Arc<QueryContext>, namespace: &NamespaceId) -> Result<SessionState> {
        let mut state = self.base.clone();
        state.config_mut().options_mut().catalog.default_schema = namespace.to_string();
        let catalogs = Arc::new(MemoryCatalogProviderList::new());
        let user = ctx.caller.user.clone();
        let role = ctx.caller.role;
        if ctx.scope.has_settings() {
            for (variable, value) in ctx.scope.settings() {
                state.config_mut().options_mut().set(&variable, &value)?;
            }
        }
        catalogs.register_catalog(
            CATALOG.to_string(),
            Arc::new(KalamCatalog {
                shared: self.shared.clone(),
                system: self.system.clone(),
                ctx,
            }),
        );
        state.register_catalog_list(catalogs);
        state.register_udf(Arc::new(functions::current_user(user.as_str())))?;
        state.register_udf(Arc::new(functions::current_role(role.as_str())))?;
        state.mark_start_execution();
        Ok(state)
    }
}

#[derive(Debug)]
struct KalamCatalog {
    shared: Arc<Shared>,
    system: Arc<dyn SystemSchemas>,
    ctx: Arc<QueryContext>,
}

impl CatalogProvider for KalamCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .shared
            .catalog
            .namespaces()
            .into_iter()
            .map(|n| n.name.to_string())
            .collect();
        names.push("system".into());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == "system" {
            return Some(self.system.schema(self.ctx.clone()));
        }
        let ns = NamespaceId::parse(name).ok()?;
        self.shared.catalog.namespace(&ns)?;
        Some(Arc::new(NamespaceSchema {
            shared: self.shared.clone(),
            ctx: self.ctx.clone(),
            ns,
        }))
    }
}

#[derive(Debug)]
struct NamespaceSchema {
    shared: Arc<Shared>,
    ctx: Arc<QueryContext>,
    ns: NamespaceId,
}

#[async_trait]
impl SchemaProvider for NamespaceSchema {
    fn table_names(&self) -> Vec<String> {
        self.shared
            .catalog
            .tables(Some(&self.ns))
            .iter()
            .map(|t| t.def.name.to_string())
            .collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Ok(table) = TableName::parse(name) else {
            return Ok(None);
        };
        let id = TableId::new(self.ns.clone(), table);
        Ok(self.shared.catalog.table(&id).map(|entry| {
            Arc::new(KalamTableProvider::new(
                self.shared.clone(),
                entry,
                self.ctx.clone(),
            )) as Arc<dyn TableProvider>
        }))
    }

    fn table_exist(&self, name: &str) -> bool {
        TableName::parse(name)
            .map(|t| {
                self.shared
                    .catalog
                    .table(&TableId::new(self.ns.clone(), t))
                    .is_some()
            })
            .unwrap_or(false)
    }
}
