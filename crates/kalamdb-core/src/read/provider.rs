//! `KalamTableProvider`: how DataFusion reads and inserts into our tables.
//!
//! One provider is built per request and table reference (it is a few
//! `Arc`s), carrying the request's [`QueryContext`]: that is how a USER
//! table resolves to the caller's partition without any per-user object.
//!
//! `scan()` describes the read (partition, optional point keys): a range
//! scan is planned from one store snapshot (`range_scan.rs`); point reads
//! and a transaction's scans are a streaming plan over a [`HotScan`] of the
//! live store. Rows are fetched as DataFusion pulls batches (`scan.rs`). Its only store reads estimate a range scan's size
//! (`estimate_rows`: up to [`FIRST_CHUNK`] keys and the manifest), so a
//! small table is not spread over the cores (`scan_exec.rs`).
//! Equality and `IN` filters on the primary key are pushed down as point
//! reads (`Inexact`, so DataFusion still re-checks them).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::{TableProvider, TableType as DfTableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::streaming::StreamingTableExec;
use kalamdb_store::{Direction, Partition, PkValue, RowPrefix, Space};
use kalamdb_types::{KalamDataType, SYSTEM_COLUMN_SEQ};

use crate::access;
use crate::catalog::table::TableEntry;
use crate::error::KalamError;
use crate::read::cold_scan::pruning_predicate;
use crate::read::context::{ProviderMode, QueryContext};
use crate::read::insert_sink::InsertSink;
use crate::read::overlay::{KeyColumn, OverlayExec};
use crate::read::range_scan::RangeScan;
use crate::read::scan::{ColdPart, FIRST_CHUNK, HotScan};
use crate::read::scan_exec::SizedScanExec;
use crate::read::segment_pruning::SegmentPruning;
use crate::read::table_scan_exec::TableScanExec;
use crate::row::arrow::{ROW_ID_COLUMN, rows_to_batch};
use crate::row::key::pk_from_scalar;
use crate::row::value::StoredRow;
use crate::tiers::manifest::load_manifest;
use crate::write::shared::Shared;

pub struct KalamTableProvider {
    shared: Arc<Shared>,
    entry: Arc<TableEntry>,
    ctx: Arc<QueryContext>,
    /// `CURRENT_USER()` bound to this request, for columns defaulting to it.
    current_user: Expr,
}

impl fmt::Debug for KalamTableProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KalamTableProvider({})", self.entry.id())
    }
}

impl KalamTableProvider {
    pub fn new(shared: Arc<Shared>, entry: Arc<TableEntry>, ctx: Arc<QueryContext>) -> Self {
        let current_user = lit(ctx.caller.user.as_str());
        Self {
            shared,
            entry,
            ctx,
            current_user,
        }
    }

    fn pk_column(&self) -> Option<(&str, KalamDataType)> {
        self.entry
            .def
            .primary_key()
            .map(|(_, c)| (c.name.as_str(), c.data_type))
    }

    /// Point keys implied by a pushed-down filter, if it is `pk = lit`,
    /// `pk IN (lits)` or an OR of those.
    fn point_keys(&self, expr: &Expr) -> Option<Vec<PkValue>> {
        let (pk, ty) = self.pk_column()?;
        match expr {
            // DataFusion rewrites short IN lists into OR chains of equalities.
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Or,
                right,
            }) => {
                let mut keys = self.point_keys(left)?;
                keys.extend(self.point_keys(right)?);
                Some(keys)
            }
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Eq,
                right,
            }) => {
                let lit = match (left.as_ref(), right.as_ref()) {
                    (Expr::Column(c), Expr::Literal(v, _)) if c.name == pk => v,
                    (Expr::Literal(v, _), Expr::Column(c)) if c.name == pk => v,
                    _ => return None,
                };
                Some(pk_from_scalar(lit, ty).into_iter().collect())
            }
            Expr::InList(list) if !list.negated => {
                let Expr::Column(c) = list.expr.as_ref() else {
                    return None;
                };
                if c.name != pk {
                    return None;
                }
                let mut keys = Vec::with_capacity(list.list.len());
                for item in &list.list {
                    let Expr::Literal(v, _) = item else {
                        return None;
                    };
                    keys.extend(pk_from_scalar(v, ty));
                }
                Some(keys)
            }
            _ => None,
        }
    }
}

impl KalamTableProvider {
    /// The scan of a table the statement's transaction has staged rows of:
    /// `scan` reads every column and the key (the hidden row id of a table
    /// without a primary key: `keyed_schema`); the staged
    /// versions replace the stored ones (`overlay.rs`); `schema` and
    /// `projection` are what the query asked of this provider.
    fn overlaid(
        &self,
        scan: HotScan,
        rows: Option<usize>,
        staged: Vec<(PkValue, StoredRow)>,
        schema: &SchemaRef,
        projection: Option<&Vec<usize>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let full = scan.schema.clone();
        let index = |name: &str| {
            full.index_of(name)
                .map_err(|e| KalamError::internal(e).into_datafusion())
        };
        let key = match self.entry.def.primary_key() {
            Some((_, col)) => KeyColumn::Declared(index(&col.name)?, col.clone()),
            None => KeyColumn::RowId(index(ROW_ID_COLUMN)?),
        };
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..schema.fields().len()).collect(),
        };
        let out = wanted
            .iter()
            .map(|&i| index(schema.field(i).name()))
            .collect::<DfResult<Vec<usize>>>()?;
        let hidden = staged.iter().map(|(pk, _)| pk.clone()).collect();
        let (ids, live): (Vec<i64>, Vec<StoredRow>) = staged
            .into_iter()
            .filter(|(_, row)| !row.deleted)
            .map(|(pk, row)| match pk {
                PkValue::RowId(id) => (id, row),
                _ => (0, row),
            })
            .unzip();
        let staged = rows_to_batch(&self.entry.lens, &full, &live, Some(&ids))
            .map_err(KalamError::into_datafusion)?;
        let exec =
            StreamingTableExec::try_new(full.clone(), vec![Arc::new(scan)], None, [], false, None)?;
        Ok(Arc::new(OverlayExec::try_new(
            Arc::new(SizedScanExec::new(exec, rows)),
            hidden,
            staged,
            key,
            out,
        )?))
    }
}

/// A scan of at most this many rows is one batch: not worth spreading.
const SMALL_SCAN: u64 = 8192;

/// What planning learns of a range scan's size.
struct ScanSize {
    /// The rows it reads, if it is small (at most [`FIRST_CHUNK`] hot keys
    /// and [`SMALL_SCAN`] rows with the cold tier's); `None`: larger.
    /// Tombstones and versions a newer one hides count too: an upper
    /// bound, which is all planning needs.
    rows: Option<usize>,
    /// Whether the partition had segments.
    cold: bool,
}

/// The size of a range scan of `partition` (reads up to [`FIRST_CHUNK`]
/// keys and the manifest). A plan kept for reuse keeps the choices made
/// from it (`ARCHITECTURE.md`, known limits).
fn estimate_rows(
    shared: &Shared,
    entry: &TableEntry,
    partition: &Partition,
) -> crate::error::Result<ScanSize> {
    let table = entry.id();
    let manifest = load_manifest(shared.store.as_ref(), &table, partition)?;
    let cold_rows: u64 = manifest.segments.iter().map(|s| s.rows).sum();
    let cold = !manifest.segments.is_empty();
    let range = RowPrefix::Partition(table.clone(), partition.clone()).range();
    let hot = shared
        .store
        .scan(Space::Rows, &range, Direction::Forward, FIRST_CHUNK + 1)?
        .len();
    if hot > FIRST_CHUNK {
        return Ok(ScanSize { rows: None, cold });
    }
    let total = cold_rows.saturating_add(hot as u64);
    let rows = (total <= SMALL_SCAN).then(|| usize::try_from(total).unwrap_or(usize::MAX));
    Ok(ScanSize { rows, cold })
}

/// The `_seq` a pushed-down filter requires rows to exceed, if it is
/// `_seq > lit` or `_seq >= lit` (either side): segments whose `max_seq` is
/// not above it hold no matching row. Skipping them is safe although the
/// newest version of a key may be in one: every version of that key is
/// then at or below the bound, and DataFusion re-applies the filter to the
/// older version a later segment may yield.
fn seq_after(expr: &Expr) -> Option<i64> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        return None;
    };
    let (value, op) = match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), Expr::Literal(v, _)) if c.name == SYSTEM_COLUMN_SEQ => (v, *op),
        (Expr::Literal(v, _), Expr::Column(c)) if c.name == SYSTEM_COLUMN_SEQ => (v, op.swap()?),
        _ => return None,
    };
    let ScalarValue::Int64(Some(n)) = value
        .cast_to(&datafusion::arrow::datatypes::DataType::Int64)
        .ok()?
    else {
        return None;
    };
    match op {
        Operator::Gt => Some(n),
        Operator::GtEq => n.checked_sub(1),
        _ => None,
    }
}

#[async_trait]
impl TableProvider for KalamTableProvider {
    fn schema(&self) -> SchemaRef {
        match &self.ctx.mode {
            ProviderMode::Insert(target) if *target == self.entry.id() => {
                self.entry.insert_schema.clone()
            }
            ProviderMode::KeyedRead if self.entry.def.primary_key().is_none() => {
                self.entry.keyed_schema.clone()
            }
            _ => self.entry.schema.clone(),
        }
    }

    fn table_type(&self) -> DfTableType {
        DfTableType::Base
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        if self.entry.current_user_defaults.iter().any(|c| c == column) {
            return Some(&self.current_user);
        }
        self.entry.defaults.get(column)
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Every filter: key equalities become point reads, `_seq` bounds
        // skip segments, and all of them prune row groups and pages of the
        // segments read by Parquet (`cold_scan.rs`). `Inexact`: DataFusion
        // applies them again above the scan.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        access::allow_table(&self.ctx.caller, &self.entry.def, false)
            .map_err(KalamError::into_datafusion)?;
        // Several pushed conjuncts on the key: the first narrows enough (the
        // others are re-applied by DataFusion).
        let points = filters.iter().find_map(|f| self.point_keys(f));
        let seq_after = filters.iter().filter_map(seq_after).max();
        let schema = self.schema();
        let partition = self.ctx.partition_for(self.entry.def.table_type);
        let size = match &points {
            Some(keys) => ScanSize {
                rows: Some(keys.len()),
                cold: false,
            },
            None => estimate_rows(&self.shared, &self.entry, &partition)
                .map_err(KalamError::into_datafusion)?,
        };
        let rows = size.rows;
        let staged = match self.ctx.txn() {
            Some(txn) => txn.overlay(&self.entry.id(), &partition),
            None => Vec::new(),
        };
        // With rows of its own transaction to lay over them, the stored rows
        // are read whole and with their key (`overlaid`).
        let read = match (staged.is_empty(), self.entry.def.primary_key()) {
            (true, _) => schema.clone(),
            (false, Some(_)) => self.entry.schema.clone(),
            (false, None) => self.entry.keyed_schema.clone(),
        };
        let with_row_id = read.field_with_name(ROW_ID_COLUMN).is_ok();
        if points.is_none() && staged.is_empty() {
            let predicate = pruning_predicate(state, &self.entry, filters);
            let scan = RangeScan {
                shared: self.shared.clone(),
                entry: self.entry.clone(),
                partition,
                schema: read,
                projection: projection.cloned(),
                seq_after,
                pruning: predicate
                    .clone()
                    .and_then(|p| SegmentPruning::new(p, self.entry.segment_schema()))
                    .map(Arc::new),
                predicate,
            };
            // A small scan is one stream (`scan_exec.rs` says why). A large
            // one with segments decodes them on every core; a large one of
            // hot rows only is one stream, which DataFusion spreads over the
            // cores with a round-robin repartition.
            let partitions = match size {
                ScanSize {
                    rows: None,
                    cold: true,
                } => state.config().target_partitions(),
                _ => 1,
            };
            return Ok(Arc::new(TableScanExec::try_new(scan, rows, partitions)?));
        }
        let scan = HotScan {
            shared: self.shared.clone(),
            entry: self.entry.clone(),
            partition,
            points,
            seq_after,
            with_row_id,
            schema: read,
            snapshot: None,
            cold: ColdPart::Current,
        };
        if !staged.is_empty() {
            return self.overlaid(scan, rows, staged, &schema, projection);
        }
        let exec = StreamingTableExec::try_new(
            schema,
            vec![Arc::new(scan)],
            projection,
            [],
            false,
            limit,
        )?;
        Ok(Arc::new(SizedScanExec::new(exec, rows)))
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if insert_op != InsertOp::Append {
            return Err(
                KalamError::InvalidSql(format!("{insert_op} is not supported")).into_datafusion(),
            );
        }
        access::allow_table(&self.ctx.caller, &self.entry.def, true)
            .map_err(KalamError::into_datafusion)?;
        let sink = InsertSink {
            shared: self.shared.clone(),
            entry: self.entry.clone(),
            partition: self.ctx.partition_for(self.entry.def.table_type),
            returned: self.ctx.returned.clone(),
            txn: self.ctx.txn().cloned(),
        };
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }
}
