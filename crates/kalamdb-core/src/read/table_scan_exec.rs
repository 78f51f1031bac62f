//! The plan node of a range scan ([`TableScanExec`]): a fixed number of
//! output partitions; partition 0 yields the hot rows (with the segments
//! merged beneath them), then its share of the plain segments; every other
//! partition yields its share of the plain segments, decoded by DataFusion's
//! Parquet scan on whichever core runs it.
//!
//! What a run reads is decided when it starts, not when the query is
//! planned: a kept plan (`plan_cache.rs`) runs again on a copy made by
//! `reset_state`, which starts with no run; the first partition executed
//! prepares the run (`range_scan.rs`, `prepare`: the lease, one snapshot,
//! its manifest) and the others share it. The run, and with it the
//! snapshot and the lease on the files, is dropped with the copy.
//!
//! Rows read from segments by this node count in `cold_rows_read`.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use datafusion::common::Statistics;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;

use crate::read::range_scan::{Prepared, RangeScan, prepare};
use crate::read::scan_exec::row_estimate;

/// A range scan; see the module docs.
pub struct TableScanExec {
    scan: Arc<RangeScan>,
    /// The provider's row estimate (`provider.rs`, `estimate_rows`).
    rows: Option<usize>,
    props: Arc<PlanProperties>,
    /// This copy's run, prepared by the first partition executed.
    run: OnceLock<Result<Arc<Prepared>, Arc<DataFusionError>>>,
}

impl fmt::Debug for TableScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TableScanExec({})", self.scan.entry.id())
    }
}

impl TableScanExec {
    /// `partitions`: the output partitions (at least 1).
    pub fn try_new(scan: RangeScan, rows: Option<usize>, partitions: usize) -> DfResult<Self> {
        let schema = scan.output_schema()?;
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(partitions.max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Self {
            scan: Arc::new(scan),
            rows,
            props: Arc::new(props),
            run: OnceLock::new(),
        })
    }

    fn partitions(&self) -> usize {
        self.props.partitioning.partition_count()
    }

    fn run(&self) -> DfResult<Arc<Prepared>> {
        let run = self.run.get_or_init(|| {
            prepare(&self.scan, self.partitions())
                .map(Arc::new)
                .map_err(|e| Arc::new(e.into_datafusion()))
        });
        run.clone().map_err(DataFusionError::Shared)
    }
}

impl DisplayAs for TableScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let s = &self.scan;
        let columns: Vec<String> = self
            .props
            .eq_properties
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        write!(
            f,
            "KalamScan: table={}, partition={:?}, partitions={}, projection=[{}]",
            s.entry.id(),
            s.partition,
            self.partitions(),
            columns.join(", ")
        )?;
        if let Some(after) = s.seq_after {
            write!(f, ", _seq > {after}")?;
        }
        if let Some(p) = &s.predicate {
            write!(f, ", segment_predicate={p}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for TableScanExec {
    fn name(&self) -> &str {
        "TableScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        match &self.scan.predicate {
            Some(p) => f(p),
            None => Ok(TreeNodeRecursion::Continue),
        }
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    /// A copy with no run: the next execution prepares its own.
    fn reset_state(self: Arc<Self>) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self {
            scan: self.scan.clone(),
            rows: self.rows,
            props: self.props.clone(),
            run: OnceLock::new(),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let run = self.run()?;
        let schema = self.props.eq_properties.schema().clone();
        // The hot scan yields the projected columns itself (`prepare`).
        let hot = match partition {
            0 => Some(run.hot.execute(context.clone())),
            _ => None,
        };
        let cold = match &run.plain {
            Some(plain) if partition < plain.exec.properties().partitioning.partition_count() => {
                let stream = plain.exec.execute(partition, context)?;
                let (plain, shared) = (plain.clone(), self.scan.shared.clone());
                Some(stream.map(move |batch| {
                    let batch = batch?;
                    shared
                        .cold_rows_read
                        .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    plain.live(&batch)
                }))
            }
            _ => None,
        };
        let stream = futures::stream::iter(hot)
            .flatten()
            .chain(futures::stream::iter(cold).flatten())
            .filter(|b| futures::future::ready(!matches!(b, Ok(batch) if batch.num_rows() == 0)));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> DfResult<Arc<Statistics>> {
        Ok(row_estimate(&self.schema(), self.rows))
    }
}
