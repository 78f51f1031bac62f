//! Physical plans reused across requests ([`PlanCache`]).
//!
//! A query without parameters is planned once per (caller, role, namespace,
//! SQL text, catalog generation) and its physical plan kept; the next run
//! takes a copy with every node's state reset (DataFusion's
//! `reset_plan_states`) and executes it. The caller is part of the key
//! because a plan carries it: a provider checked its access and chose its
//! partition when the plan was made. Any DDL bumps the generation, so no
//! plan outlives the table definitions it was made against.
//!
//! Only plans that give the same answer when re-executed are kept: every
//! table they read is one of ours (whose scans read the data at execution;
//! `system` and `information_schema` tables snapshot theirs while
//! planning), and no expression depends on the moment or the user it was
//! planned for (DataFusion folds `Stable` functions such as `NOW()` and
//! `CURRENT_USER()` into literals while optimizing). Dynamic filters are
//! switched off in the sessions for this reason too (`session.rs`): a
//! re-executed plan would keep the previous run's filter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNode;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use kalamdb_types::{NamespaceId, Role, UserId};

use crate::access::Caller;
use crate::catalog::bounded::BoundedMap;
use crate::error::Result;
use crate::read::provider::KalamTableProvider;

/// Entries per half of the plan cache (see [`BoundedMap`]).
const HALF: usize = 512;

/// Whose plan, of which text, against which catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlanKey {
    user: UserId,
    role: Role,
    execute_as: bool,
    namespace: NamespaceId,
    sql: String,
    generation: u64,
}

impl PlanKey {
    pub fn new(caller: &Caller, namespace: &NamespaceId, sql: String, generation: u64) -> Self {
        Self {
            user: caller.user.clone(),
            role: caller.role,
            execute_as: caller.execute_as,
            namespace: namespace.clone(),
            sql,
            generation,
        }
    }
}

/// A kept plan and the schema its answer has.
#[derive(Clone)]
pub struct CachedPlan {
    pub schema: SchemaRef,
    /// Never executed itself: each run gets a reset copy.
    plan: Arc<dyn ExecutionPlan>,
}

impl CachedPlan {
    /// A copy ready to execute.
    pub fn fresh(&self) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(reset_plan_states(self.plan.clone())?)
    }
}

pub struct PlanCache {
    enabled: bool,
    plans: BoundedMap<PlanKey, CachedPlan>,
    /// Queries answered with a kept plan (`system.stats` `plan_cache_hits`).
    pub hits: Arc<AtomicU64>,
}

impl PlanCache {
    pub fn new(enabled: bool, hits: Arc<AtomicU64>) -> Self {
        Self {
            enabled,
            plans: BoundedMap::new(HALF),
            hits,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn get(&self, key: &PlanKey) -> Option<CachedPlan> {
        let plan = self.plans.get(key)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(plan)
    }

    /// Keeps `plan` (not yet executed) for `key` if re-running it is
    /// always right (see the module docs).
    pub fn offer(
        &self,
        key: PlanKey,
        logical: &LogicalPlan,
        schema: &SchemaRef,
        plan: &Arc<dyn ExecutionPlan>,
    ) -> Result<()> {
        if !reusable(logical) {
            return Ok(());
        }
        let kept = CachedPlan {
            schema: schema.clone(),
            plan: reset_plan_states(plan.clone())?,
        };
        self.plans.put(key, kept);
        Ok(())
    }
}

/// Whether a logical plan gives the same answer whenever it is re-executed.
pub fn reusable(plan: &LogicalPlan) -> bool {
    let mut ok = true;
    let _ = plan.apply_with_subqueries(|node| {
        let node_ok = match node {
            LogicalPlan::TableScan(scan) => source_as_provider(&scan.source).is_ok_and(|p| {
                let any: &dyn std::any::Any = p.as_ref();
                any.is::<KalamTableProvider>()
            }),
            LogicalPlan::Statement(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::DescribeTable(_)
            | LogicalPlan::Extension(_)
            | LogicalPlan::RecursiveQuery(_) => false,
            other => other
                .expressions()
                .iter()
                .all(|e| !depends_on_the_moment(e)),
        };
        ok &= node_ok;
        Ok(if ok {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    ok
}

/// An expression with a function DataFusion evaluates once per query
/// (`Stable`: `NOW()`, `CURRENT_USER()`, …) or a parameter.
fn depends_on_the_moment(e: &Expr) -> bool {
    let mut found = false;
    let _ = e.apply(|e| {
        let hit = match e {
            Expr::ScalarFunction(f) => f.func.signature().volatility == Volatility::Stable,
            Expr::Placeholder(_) => true,
            _ => false,
        };
        found |= hit;
        Ok(if hit {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}
