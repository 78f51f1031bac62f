//! `KalamTableProvider`: how DataFusion reads and inserts into our tables.
//!
//! One provider is built per request and table reference (it is a few
//! `Arc`s), carrying the request's [`QueryContext`]: that is how a USER
//! table resolves to the caller's partition without any per-user object.
//!
//! `scan()` does no I/O: it describes the read (partition, optional point
//! keys) and returns a streaming plan; rows are fetched in chunks on the
//! blocking pool as DataFusion pulls batches. Equality and `IN` filters on the
//! primary key are pushed down as point reads (`Inexact`, so DataFusion still
//! re-checks them).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::datasource::{TableProvider, TableType as DfTableType};
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown, lit};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};
use futures::StreamExt;
use kalamdb_store::{Direction, KeyRange, Partition, PkValue, RowKey, RowPrefix, Space};
use kalamdb_types::{KalamDataType, Role, SYSTEM_COLUMN_SEQ, TableId, TableType, UserId};

use crate::access::{self, Access};
use crate::catalog::{ROW_ID_COLUMN, TableEntry};
use crate::engine::Shared;
use crate::error::{KalamError, Result};
use crate::row::{StoredRow, Value, rows_to_batch, value_from_array};

/// Rows fetched from the store per blocking call.
const SCAN_CHUNK: usize = 2048;

/// What table references are being resolved for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderMode {
    /// Ordinary reads: user columns, `_seq`, `_deleted`.
    Read,
    /// An INSERT into this table: it exposes its user columns only (system
    /// columns are never written); other tables read normally.
    Insert(TableId),
    /// The engine's UPDATE/DELETE read: tables without a declared key also
    /// expose their hidden row key.
    KeyedRead,
}

/// Who runs the statement, and how table references resolve.
#[derive(Debug, Clone)]
pub struct QueryContext {
    /// The effective user (the `EXECUTE AS USER` target, else the caller).
    pub user: UserId,
    pub role: Role,
    pub mode: ProviderMode,
    /// Inside `EXECUTE AS USER`: SHARED tables are refused (`sql.md` §3.6).
    pub execute_as: bool,
}

impl QueryContext {
    pub fn partition_for(&self, table_type: TableType) -> Partition {
        if table_type.is_per_user() {
            Partition::User(self.user.clone())
        } else {
            Partition::Shared
        }
    }
}

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
        let current_user = lit(ctx.user.as_str());
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

/// A literal compared with the primary key, as a key. `None` when the literal
/// cannot equal any stored key (e.g. NULL or a malformed UUID), which makes
/// the point read empty, as the comparison would be.
fn pk_from_scalar(v: &ScalarValue, ty: KalamDataType) -> Option<PkValue> {
    if v.is_null() {
        return None;
    }
    match ty {
        KalamDataType::SmallInt | KalamDataType::Int | KalamDataType::BigInt => {
            match v
                .cast_to(&datafusion::arrow::datatypes::DataType::Int64)
                .ok()?
            {
                ScalarValue::Int64(Some(i)) => Some(PkValue::Int(i)),
                _ => None,
            }
        }
        KalamDataType::Text => match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => Some(PkValue::Text(s.clone())),
            _ => None,
        },
        KalamDataType::Uuid => match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => uuid::Uuid::parse_str(s)
                .ok()
                .map(|u| PkValue::Uuid(*u.as_bytes())),
            _ => None,
        },
        _ => None,
    }
}

/// The storage key of a row's primary key value.
pub fn pk_from_value(v: &Value) -> Option<PkValue> {
    match v {
        Value::I16(i) => Some(PkValue::Int(i64::from(*i))),
        Value::I32(i) => Some(PkValue::Int(i64::from(*i))),
        Value::I64(i) => Some(PkValue::Int(*i)),
        Value::Text(s) => Some(PkValue::Text(s.clone())),
        Value::Uuid(u) => Some(PkValue::Uuid(*u)),
        _ => None,
    }
}

pub fn pk_display(pk: &PkValue) -> String {
    match pk {
        PkValue::Int(i) | PkValue::RowId(i) => i.to_string(),
        PkValue::Text(s) => s.clone(),
        PkValue::Uuid(u) => uuid::Uuid::from_bytes(*u).to_string(),
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
        Ok(filters
            .iter()
            .map(|f| {
                if self.point_keys(f).is_some() || seq_after(f).is_some() {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        access::check_table(&self.entry.def, &self.ctx, Access::Read)
            .map_err(KalamError::into_datafusion)?;
        // Several pushed conjuncts on the key: the first narrows enough (the
        // others are re-applied by DataFusion).
        let points = filters.iter().find_map(|f| self.point_keys(f));
        let seq_after = filters.iter().filter_map(seq_after).max();
        let schema = self.schema();
        let scan = HotScan {
            shared: self.shared.clone(),
            entry: self.entry.clone(),
            partition: self.ctx.partition_for(self.entry.def.table_type),
            points,
            seq_after,
            schema: schema.clone(),
            with_row_id: schema.field_with_name(ROW_ID_COLUMN).is_ok(),
        };
        let exec = StreamingTableExec::try_new(
            schema,
            vec![Arc::new(scan)],
            projection,
            [],
            false,
            limit,
        )?;
        Ok(Arc::new(exec))
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
        access::check_table(&self.entry.def, &self.ctx, Access::Write)
            .map_err(KalamError::into_datafusion)?;
        let sink = InsertSink {
            shared: self.shared.clone(),
            entry: self.entry.clone(),
            partition: self.ctx.partition_for(self.entry.def.table_type),
        };
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }
}

/// The read of one partition (or of some keys of it).
struct HotScan {
    shared: Arc<Shared>,
    entry: Arc<TableEntry>,
    partition: Partition,
    points: Option<Vec<PkValue>>,
    /// Only rows with a greater `_seq` are wanted (older segments skipped).
    seq_after: Option<i64>,
    schema: SchemaRef,
    with_row_id: bool,
}

impl fmt::Debug for HotScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HotScan({}, points={:?})",
            self.entry.id(),
            self.points.as_ref().map(Vec::len)
        )
    }
}

enum Cursor {
    Range(KeyRange),
    Points(Vec<Vec<u8>>),
    /// The hot tier is done: read the cold tier for what it did not hold.
    Cold,
    Done,
}

/// A scan's progress: where it is, and which keys the hot tier answered
/// (their hot version is the newest; the cold tier must not repeat them).
struct ScanState {
    cursor: Cursor,
    hot_keys: HashSet<PkValue>,
    /// A point read (only `missing` keys are looked up in the cold tier).
    points: bool,
    /// Point keys the hot tier did not hold.
    missing: Vec<PkValue>,
}

impl PartitionStream for HotScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let table = self.entry.id();
        let cursor = match &self.points {
            Some(keys) => {
                let mut encoded: Vec<Vec<u8>> = keys
                    .iter()
                    .map(|pk| {
                        RowKey {
                            table: table.clone(),
                            partition: self.partition.clone(),
                            pk: pk.clone(),
                        }
                        .encode()
                    })
                    .collect();
                encoded.sort();
                encoded.dedup();
                Cursor::Points(encoded)
            }
            None => Cursor::Range(RowPrefix::Partition(table, self.partition.clone()).range()),
        };
        let state = ScanState {
            points: matches!(cursor, Cursor::Points(_)),
            cursor,
            hot_keys: HashSet::new(),
            missing: Vec::new(),
        };
        let shared = self.shared.clone();
        let entry = self.entry.clone();
        let schema = self.schema.clone();
        let partition = self.partition.clone();
        let with_row_id = self.with_row_id;
        let seq_after = self.seq_after;
        // Once per scan, not per row: STREAM rows past their TTL are hidden
        // even before the eviction job deletes them.
        let expired_below =
            crate::stream::table_cutoff(&self.shared, &self.entry, crate::stream::now_millis());
        let stream = futures::stream::unfold(state, move |mut state| {
            let shared = shared.clone();
            let entry = entry.clone();
            let schema = schema.clone();
            let partition = partition.clone();
            async move {
                let step = match std::mem::replace(&mut state.cursor, Cursor::Done) {
                    Cursor::Done => return None,
                    Cursor::Cold => {
                        read_cold(
                            &shared,
                            &entry,
                            &schema,
                            &partition,
                            &state,
                            with_row_id,
                            seq_after,
                        )
                        .await
                    }
                    cursor => {
                        let wanted = match &cursor {
                            Cursor::Points(keys) => Some(keys.clone()),
                            _ => None,
                        };
                        let s = shared.clone();
                        let fetched = tokio::task::spawn_blocking(move || fetch_chunk(&s, cursor))
                            .await
                            .map_err(KalamError::internal)
                            .and_then(|r| r);
                        match fetched {
                            Ok((entries, next)) => {
                                state.cursor = next;
                                note_hot_keys(&mut state, &entries, wanted).and_then(|()| {
                                    decode_chunk(
                                        &entry,
                                        &schema,
                                        entries,
                                        with_row_id,
                                        expired_below,
                                    )
                                })
                            }
                            Err(e) => Err(e),
                        }
                    }
                };
                Some((step.map_err(KalamError::into_datafusion), state))
            }
        })
        .filter(|b| futures::future::ready(!matches!(b, Ok(batch) if batch.num_rows() == 0)));
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

/// Records which keys the hot tier answered (tombstones too: a hot
/// tombstone hides older cold versions) and, for point reads, which
/// requested keys it did not hold.
fn note_hot_keys(
    state: &mut ScanState,
    entries: &Entries,
    wanted: Option<Vec<Vec<u8>>>,
) -> Result<()> {
    state.hot_keys.reserve(entries.len());
    for (k, _) in entries {
        state.hot_keys.insert(RowKey::decode(k)?.pk);
    }
    // Only point reads ask which keys were missing (a range scan used to
    // copy every key into a set nobody read: 5% of a hot scan's time).
    if let Some(wanted) = wanted {
        let found: HashSet<&[u8]> = entries.iter().map(|(k, _)| k.as_slice()).collect();
        for k in wanted {
            if !found.contains(k.as_slice()) {
                state.missing.push(RowKey::decode(&k)?.pk);
            }
        }
    }
    Ok(())
}

/// The cold part of a scan: the partition's segments as of now — read
/// after the hot tier, so a row a concurrent flush moved is found here.
async fn read_cold(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    schema: &SchemaRef,
    partition: &Partition,
    state: &ScanState,
    with_row_id: bool,
    seq_after: Option<i64>,
) -> Result<RecordBatch> {
    if state.points && state.missing.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let rows: Vec<(PkValue, StoredRow)> = if state.points {
        crate::cold::lookup_cold(shared, entry, partition, &state.missing)
            .await?
            .1
            .into_iter()
            .collect()
    } else {
        crate::cold::scan_cold(shared, entry, partition, &state.hot_keys, seq_after)
            .await?
            .1
    };
    shared
        .cold_rows_read
        .fetch_add(rows.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let mut live = Vec::with_capacity(rows.len());
    let mut row_ids = Vec::new();
    for (pk, row) in rows {
        if row.deleted {
            continue;
        }
        if with_row_id {
            row_ids.push(match pk {
                PkValue::RowId(id) => id,
                _ => 0,
            });
        }
        live.push(row);
    }
    rows_to_batch(
        &entry.def,
        schema,
        &live,
        with_row_id.then_some(row_ids.as_slice()),
    )
}

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

fn fetch_chunk(shared: &Shared, cursor: Cursor) -> Result<(Entries, Cursor)> {
    let (entries, next) = fetch_entries(shared, cursor)?;
    shared
        .hot_rows_read
        .fetch_add(entries.len() as u64, std::sync::atomic::Ordering::Relaxed);
    Ok((entries, next))
}

fn fetch_entries(shared: &Shared, cursor: Cursor) -> Result<(Entries, Cursor)> {
    match cursor {
        Cursor::Done | Cursor::Cold => Ok((Vec::new(), Cursor::Done)),
        Cursor::Points(keys) => {
            let values = shared.store.multi_get(Space::Rows, &keys)?;
            let entries = keys
                .into_iter()
                .zip(values)
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect();
            Ok((entries, Cursor::Cold))
        }
        Cursor::Range(range) => {
            let entries = shared
                .store
                .scan(Space::Rows, &range, Direction::Forward, SCAN_CHUNK)?;
            let next = match entries.last() {
                Some((last, _)) if entries.len() == SCAN_CHUNK => Cursor::Range(KeyRange {
                    start: std::ops::Bound::Excluded(last.clone()),
                    end: range.end,
                }),
                _ => Cursor::Cold,
            };
            Ok((entries, next))
        }
    }
}

/// Decodes hot rows, dropping tombstones and rows with a `_seq` below
/// `expired_below` (STREAM rows past their TTL).
fn decode_chunk(
    entry: &TableEntry,
    schema: &SchemaRef,
    entries: Entries,
    with_row_id: bool,
    expired_below: Option<i64>,
) -> Result<RecordBatch> {
    let mut rows = Vec::with_capacity(entries.len());
    let mut row_ids = Vec::new();
    for (k, v) in entries {
        let row = StoredRow::decode(&v)?;
        if row.deleted || expired_below.is_some_and(|cutoff| row.seq < cutoff) {
            continue;
        }
        if with_row_id {
            let key = RowKey::decode(&k)?;
            row_ids.push(match key.pk {
                PkValue::RowId(id) => id,
                // Keyed tables carry their key in a column; the row id column is unused.
                _ => 0,
            });
        }
        rows.push(row);
    }
    rows_to_batch(
        &entry.def,
        schema,
        &rows,
        with_row_id.then_some(row_ids.as_slice()),
    )
}

/// INSERT: collects the statement's rows (a statement is atomic: all rows or
/// none), validates them, then commits them in one commit request.
struct InsertSink {
    shared: Arc<Shared>,
    entry: Arc<TableEntry>,
    partition: Partition,
}

impl fmt::Debug for InsertSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsertSink({})", self.entry.id())
    }
}

impl DisplayAs for InsertSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KalamInsert: table={}", self.entry.id())
    }
}

#[async_trait]
impl DataSink for InsertSink {
    // The sink receives the INSERT target's columns, not the table's full
    // read schema (which adds `_seq` and `_deleted`).
    #[allow(clippy::misnamed_getters)]
    fn schema(&self) -> &SchemaRef {
        &self.entry.insert_schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let mut rows: Vec<Vec<Value>> = Vec::new();
        while let Some(batch) = data.next().await {
            let batch = batch?;
            rows.extend(batch_to_rows(&self.entry, &batch).map_err(KalamError::into_datafusion)?);
        }
        let count = rows.len() as u64;
        if rows.is_empty() {
            return Ok(0);
        }
        crate::dml::commit_inserts(&self.shared, &self.entry, self.partition.clone(), rows)
            .await
            .map_err(KalamError::into_datafusion)?;
        Ok(count)
    }
}

/// Converts an insert batch to rows of values in column order, enforcing
/// NOT NULL with the spec's message.
fn batch_to_rows(entry: &TableEntry, batch: &RecordBatch) -> Result<Vec<Vec<Value>>> {
    let mut rows = vec![Vec::with_capacity(entry.def.columns.len()); batch.num_rows()];
    for (i, col) in entry.def.columns.iter().enumerate() {
        let array = batch
            .columns()
            .get(i)
            .ok_or_else(|| KalamError::internal("insert batch is missing a column"))?;
        for (r, row) in rows.iter_mut().enumerate() {
            let v = value_from_array(col, array.as_ref(), r)?;
            if v == Value::Null && (!col.nullable || col.primary_key) {
                return Err(KalamError::exec(format!(
                    "Column '{}' cannot be NULL",
                    col.name
                )));
            }
            row.push(v);
        }
    }
    Ok(rows)
}
