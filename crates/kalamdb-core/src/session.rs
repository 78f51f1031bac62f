//! Per-request DataFusion sessions over catalog `kalam`.
//!
//! The base [`SessionState`] (functions, configuration) is built once; each
//! request clones it (cheap: maps of `Arc`s) and attaches a catalog list whose
//! providers carry the request's [`QueryContext`], plus a `CURRENT_USER()`
//! bound to the effective user. Namespaces are schemas of `kalam`, `system`
//! is a schema too, and DataFusion's `information_schema` sees them all.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, MemoryCatalogProviderList, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::Result as DfResult;
use datafusion::execution::SessionState;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::registry::FunctionRegistry;
use datafusion::prelude::SessionConfig;
use kalamdb_types::{NamespaceId, SnowflakeGenerator, TableId, TableName};

use crate::engine::Shared;
use crate::error::Result;
use crate::functions;
use crate::provider::{KalamTableProvider, QueryContext};
use crate::system_tables;

pub const CATALOG: &str = "kalam";

/// The state every request starts from.
pub fn base_state(seq: Arc<SnowflakeGenerator>) -> Result<SessionState> {
    let config = SessionConfig::new()
        .with_default_catalog_and_schema(CATALOG, "default")
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(true);
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    state.register_udf(Arc::new(functions::snowflake_id(seq)))?;
    state.register_udf(Arc::new(functions::uuid_v7()))?;
    state.register_udf(Arc::new(functions::ulid()))?;
    state.register_udf(Arc::new(functions::current_user("")))?;
    Ok(state)
}

/// A session for one statement of one request.
pub fn session(
    shared: &Arc<Shared>,
    ctx: Arc<QueryContext>,
    namespace: &NamespaceId,
) -> Result<SessionContext> {
    let mut config = shared.base_state.config().clone();
    config.options_mut().catalog.default_schema = namespace.to_string();
    let catalogs = Arc::new(MemoryCatalogProviderList::new());
    let user = ctx.user.clone();
    datafusion::catalog::CatalogProviderList::register_catalog(
        catalogs.as_ref(),
        CATALOG.to_string(),
        Arc::new(KalamCatalog {
            shared: shared.clone(),
            ctx,
        }),
    );
    let mut state = SessionStateBuilder::new_from_existing(shared.base_state.clone())
        .with_config(config)
        .with_catalog_list(catalogs)
        .build();
    state.register_udf(Arc::new(functions::current_user(user.as_str())))?;
    Ok(SessionContext::new_with_state(state))
}

#[derive(Debug)]
struct KalamCatalog {
    shared: Arc<Shared>,
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
            return Some(Arc::new(system_tables::SystemSchema::new(
                self.shared.clone(),
                self.ctx.clone(),
            )));
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
