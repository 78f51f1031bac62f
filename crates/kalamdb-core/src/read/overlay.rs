//! A transaction's own rows laid over a table scan ([`OverlayExec`],
//! `sql.md` §3.7: statements see the transaction's writes).
//!
//! The scan below reads the stored rows with every column and the key (a
//! table without a primary key: its hidden row id); this plan drops each
//! row whose key the transaction has staged a version of, adds the staged
//! versions that are not tombstones (after the last stored batch of
//! partition 0), and projects to what the query asked for. Pushed-down
//! filters are never exact (`provider.rs`), so DataFusion applies them
//! above this plan to the staged rows as to the stored ones.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{Int64Type, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;
use kalamdb_store::PkValue;
use kalamdb_types::ColumnDefinition;

use crate::error::KalamError;
use crate::row::arrow::value_from_array;
use crate::row::key::pk_from_value;

/// Where a scan's rows carry their key.
#[derive(Debug, Clone)]
pub enum KeyColumn {
    /// The primary key, at this index of the full schema.
    Declared(usize, ColumnDefinition),
    /// The hidden row id (`Int64`), at this index.
    RowId(usize),
}

/// See the module docs.
pub struct OverlayExec {
    input: Arc<dyn ExecutionPlan>,
    /// Keys the transaction has staged a version of (tombstones included).
    hidden: Arc<HashSet<PkValue>>,
    /// Its staged rows that are not tombstones, in the full schema.
    staged: RecordBatch,
    key: KeyColumn,
    /// Output columns, as indices into the full schema.
    projection: Vec<usize>,
    props: Arc<PlanProperties>,
}

impl fmt::Debug for OverlayExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OverlayExec({} staged)", self.hidden.len())
    }
}

impl OverlayExec {
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        hidden: HashSet<PkValue>,
        staged: RecordBatch,
        key: KeyColumn,
        projection: Vec<usize>,
    ) -> DfResult<Self> {
        let schema = Arc::new(staged.schema().project(&projection)?);
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            input.properties().output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Self {
            input,
            hidden: Arc::new(hidden),
            staged,
            key,
            projection,
            props: Arc::new(props),
        })
    }
}

impl DisplayAs for OverlayExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "TransactionOverlay: staged={}", self.staged.num_rows())
    }
}

/// `batch` without the rows whose key is in `hidden`, projected.
fn drop_hidden(
    batch: &RecordBatch,
    hidden: &HashSet<PkValue>,
    key: &KeyColumn,
    projection: &[usize],
) -> DfResult<RecordBatch> {
    let keys: Vec<Option<PkValue>> = match key {
        KeyColumn::Declared(i, def) => {
            let array = batch.column(*i);
            (0..batch.num_rows())
                .map(|row| {
                    value_from_array(def, array.as_ref(), row)
                        .map(|v| pk_from_value(&v))
                        .map_err(KalamError::into_datafusion)
                })
                .collect::<DfResult<_>>()?
        }
        KeyColumn::RowId(i) => {
            let ids = batch
                .column(*i)
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| DataFusionError::Internal("row id is not Int64".into()))?;
            ids.iter().map(|id| id.map(PkValue::RowId)).collect()
        }
    };
    let keep: BooleanArray = keys
        .iter()
        .map(|k| Some(k.as_ref().is_none_or(|k| !hidden.contains(k))))
        .collect();
    Ok(filter_record_batch(batch, &keep)?.project(projection)?)
}

impl ExecutionPlan for OverlayExec {
    fn name(&self) -> &str {
        "OverlayExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("OverlayExec has one child".into()))?;
        Ok(Arc::new(Self {
            input,
            hidden: self.hidden.clone(),
            staged: self.staged.clone(),
            key: self.key.clone(),
            projection: self.projection.clone(),
            props: self.props.clone(),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let schema: SchemaRef = self.props.eq_properties.schema().clone();
        let hidden = self.hidden.clone();
        let key = self.key.clone();
        let projection = self.projection.clone();
        let stored = self
            .input
            .execute(partition, context)?
            .map(move |batch| drop_hidden(&batch?, &hidden, &key, &projection));
        let staged = match partition {
            0 if self.staged.num_rows() > 0 => Some(self.staged.project(&self.projection)),
            _ => None,
        };
        let staged = futures::stream::iter(staged.map(|b| b.map_err(DataFusionError::from)));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stored.chain(staged),
        )))
    }
}
