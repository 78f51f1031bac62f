//! A table scan that tells DataFusion how many rows it expects
//! ([`SizedScanExec`]): DataFusion's `StreamingTableExec` over our
//! [`HotScan`](crate::read::scan::HotScan), plus the row estimate the
//! provider found while planning (`provider.rs`, `estimate_rows`).
//!
//! Why: with no estimate DataFusion spreads a single-stream scan over every
//! core with a round-robin repartition, whose tasks and channels cost more
//! than a small table's whole query (18% of `count_200`), while a large
//! scan gains from it (13–20% on the million-row aggregates). With an
//! estimate of at most one batch the repartition is left out
//! (`use_row_number_estimates_to_optimize_partitioning`, set in
//! `session.rs`). Everything else is the wrapped plan's.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Statistics;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::streaming::StreamingTableExec;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

/// `inner`, with `rows` as its row-count estimate (`None`: unknown).
#[derive(Debug)]
pub struct SizedScanExec {
    inner: Arc<dyn ExecutionPlan>,
    rows: Option<usize>,
}

impl SizedScanExec {
    pub fn new(inner: StreamingTableExec, rows: Option<usize>) -> Self {
        Self {
            inner: Arc::new(inner),
            rows,
        }
    }

    /// The same estimate over another form of the wrapped plan (projected,
    /// limited).
    fn rewrap(&self, inner: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(Self {
            inner,
            rows: self.rows,
        })
    }
}

/// Shown as the wrapped scan: `EXPLAIN` stays what users know (the
/// estimate shows in the plan's shape, a repartition or none).
impl DisplayAs for SizedScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.fmt_as(t, f)
    }
}

impl ExecutionPlan for SizedScanExec {
    fn name(&self) -> &str {
        "SizedScanExec"
    }

    fn downcast_delegate(&self) -> Option<&dyn ExecutionPlan> {
        Some(self.inner.as_ref())
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let inner = self.inner.clone().with_new_children(children)?;
        Ok(self.rewrap(inner))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        self.inner.execute(partition, context)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.inner.metrics()
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> DfResult<Arc<Statistics>> {
        Ok(row_estimate(&self.schema(), self.rows))
    }

    fn supports_limit_pushdown(&self) -> bool {
        self.inner.supports_limit_pushdown()
    }

    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        self.inner.with_fetch(limit).map(|inner| self.rewrap(inner))
    }

    fn fetch(&self) -> Option<usize> {
        self.inner.fetch()
    }

    fn try_swapping_with_projection(
        &self,
        projection: &ProjectionExec,
    ) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
        Ok(self
            .inner
            .try_swapping_with_projection(projection)?
            .map(|inner| self.rewrap(inner)))
    }
}

/// Statistics saying only how many rows a scan expects (`None`: unknown),
/// the one figure DataFusion needs to decide whether to spread it.
pub fn row_estimate(schema: &SchemaRef, rows: Option<usize>) -> Arc<Statistics> {
    let mut stats = Statistics::new_unknown(schema);
    if let Some(n) = rows {
        stats.num_rows = Precision::Inexact(n);
    }
    Arc::new(stats)
}
