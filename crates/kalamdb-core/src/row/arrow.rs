//! Stored rows as Arrow and back: the Arrow type of each column type, batches
//! built from stored rows, and cells read out of (already cast) arrays.
//!
//! JSON and UUID columns are Arrow `Utf8` (so they compare with string
//! literals); their declared type travels in field metadata.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanArray, BooleanBuilder, Date32Builder,
    Decimal128Builder, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Array,
    Int64Builder, RecordBatch, RecordBatchOptions, StringBuilder, Time64MicrosecondBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, SchemaRef, Time64MicrosecondType, TimeUnit, TimestampMicrosecondType,
};
use kalamdb_types::{ColumnDefinition, KalamDataType, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ};

use crate::error::{KalamError, Result};
use crate::row::value::{StoredRow, StoredRowRef, Value, ValueRef};
use crate::row::versions::RowLens;

/// Hidden key column exposed only to the engine's own UPDATE/DELETE reads of
/// tables without a declared primary key (and stored in their segments).
pub const ROW_ID_COLUMN: &str = "_rowid";

/// The Arrow type a column is exposed as. JSON and UUID columns are `Utf8`
/// (so they compare with string literals); their declared type travels in
/// field metadata.
pub fn arrow_type(ty: &KalamDataType) -> Result<DataType> {
    Ok(match ty {
        KalamDataType::Boolean => DataType::Boolean,
        KalamDataType::SmallInt => DataType::Int16,
        KalamDataType::Int => DataType::Int32,
        KalamDataType::BigInt => DataType::Int64,
        KalamDataType::Float => DataType::Float32,
        KalamDataType::Double => DataType::Float64,
        KalamDataType::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
        KalamDataType::Text | KalamDataType::Json | KalamDataType::Uuid => DataType::Utf8,
        KalamDataType::Bytes => DataType::Binary,
        KalamDataType::Date => DataType::Date32,
        KalamDataType::Time => DataType::Time64(TimeUnit::Microsecond),
        KalamDataType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        KalamDataType::DateTime => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")))
        }
        KalamDataType::File | KalamDataType::Embedding(_) => {
            return Err(KalamError::exec(format!(
                "Type {} is not supported yet",
                ty.sql_name()
            )));
        }
    })
}

/// Builds a batch with `schema` — any selection of the table's user
/// columns, `_seq`, `_deleted` and the hidden row key — from stored rows,
/// each read under the current schema version through `lens`.
pub fn rows_to_batch(
    lens: &RowLens,
    schema: &SchemaRef,
    rows: &[StoredRow],
    row_ids: Option<&[i64]>,
) -> Result<RecordBatch> {
    let cells = Owned { lens, rows };
    let seqs = || rows.iter().map(|r| r.seq);
    let deleted = || rows.iter().map(|r| r.deleted);
    to_batch(lens, schema, &cells, seqs, deleted, row_ids)
}

/// [`rows_to_batch`] of rows decoded in place, all of the current schema
/// version (`lens.current()`): their cells read as stored, so text and
/// bytes go from the encoded rows into the builders without a copy of
/// their own. The caller falls back to [`rows_to_batch`] otherwise.
pub fn row_refs_to_batch(
    lens: &RowLens,
    schema: &SchemaRef,
    rows: &[StoredRowRef<'_>],
    row_ids: Option<&[i64]>,
) -> Result<RecordBatch> {
    if rows.iter().any(|r| r.version != lens.current()) {
        return Err(KalamError::internal(
            "a row of an older version read in place",
        ));
    }
    let seqs = || rows.iter().map(|r| r.seq);
    let deleted = || rows.iter().map(|r| r.deleted);
    to_batch(lens, schema, &rows, seqs, deleted, row_ids)
}

fn to_batch<S, D>(
    lens: &RowLens,
    schema: &SchemaRef,
    cells: &impl Cells,
    seqs: impl Fn() -> S,
    deleted: impl Fn() -> D,
    row_ids: Option<&[i64]>,
) -> Result<RecordBatch>
where
    S: Iterator<Item = i64>,
    D: Iterator<Item = bool>,
{
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let array: ArrayRef = match field.name().as_str() {
            SYSTEM_COLUMN_SEQ => Arc::new(Int64Array::from_iter_values(seqs())),
            SYSTEM_COLUMN_DELETED => Arc::new(BooleanArray::from_iter(deleted().map(Some))),
            ROW_ID_COLUMN => Arc::new(Int64Array::from(
                row_ids
                    .ok_or_else(|| KalamError::internal("row ids were not read"))?
                    .to_vec(),
            )),
            name => {
                let col = lens
                    .column(name)
                    .ok_or_else(|| KalamError::internal(format!("no column '{name}'")))?;
                build_column(cells, col)?
            }
        };
        columns.push(array);
    }
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(cells.len())),
    )
    .map_err(KalamError::internal)
}

/// The cells of some rows, one column at a time, as [`ValueRef`]s.
trait Cells {
    fn len(&self) -> usize;
    /// Calls `f` with cell (`row`, `col`): what that row reads under the
    /// current version (NULL for a row index out of range).
    fn with<R>(&self, row: usize, col: &ColumnDefinition, f: impl FnOnce(ValueRef<'_>) -> R) -> R;
}

/// Owned rows of any version, read through the lens.
struct Owned<'a> {
    lens: &'a RowLens,
    rows: &'a [StoredRow],
}

impl Cells for Owned<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn with<R>(&self, row: usize, col: &ColumnDefinition, f: impl FnOnce(ValueRef<'_>) -> R) -> R {
        match self.rows.get(row) {
            Some(r) => f(self.lens.cell(r, col).as_value_ref()),
            None => f(ValueRef::Null),
        }
    }
}

/// Rows decoded in place, of the current version: cells as stored.
impl Cells for &[StoredRowRef<'_>] {
    fn len(&self) -> usize {
        <[StoredRowRef<'_>]>::len(self)
    }

    fn with<R>(&self, row: usize, col: &ColumnDefinition, f: impl FnOnce(ValueRef<'_>) -> R) -> R {
        f(self
            .get(row)
            .map_or(ValueRef::Null, |r| r.value(col.column_id)))
    }
}

macro_rules! build {
    ($b:expr, $cells:expr, $col:expr, $pat:pat => $v:expr) => {{
        let mut b = $b;
        for i in 0..$cells.len() {
            $cells.with(i, $col, |cell| match cell {
                $pat => b.append_value($v),
                _ => b.append_null(),
            });
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

fn build_column(cells: &impl Cells, col: &ColumnDefinition) -> Result<ArrayRef> {
    let n = cells.len();
    Ok(match &col.data_type {
        KalamDataType::Boolean => {
            build!(BooleanBuilder::with_capacity(n), cells, col, ValueRef::Bool(v) => v)
        }
        KalamDataType::SmallInt => {
            build!(Int16Builder::with_capacity(n), cells, col, ValueRef::I16(v) => v)
        }
        KalamDataType::Int => {
            build!(Int32Builder::with_capacity(n), cells, col, ValueRef::I32(v) => v)
        }
        KalamDataType::BigInt => {
            build!(Int64Builder::with_capacity(n), cells, col, ValueRef::I64(v) => v)
        }
        KalamDataType::Float => {
            build!(Float32Builder::with_capacity(n), cells, col, ValueRef::F32(v) => v)
        }
        KalamDataType::Double => {
            build!(Float64Builder::with_capacity(n), cells, col, ValueRef::F64(v) => v)
        }
        KalamDataType::Text | KalamDataType::Json => {
            build!(StringBuilder::with_capacity(n, n * 16), cells, col, ValueRef::Text(v) => v)
        }
        KalamDataType::Uuid => build!(
            StringBuilder::with_capacity(n, n * 36),
            cells,
            col,
            ValueRef::Uuid(u) => uuid::Uuid::from_bytes(u).to_string()
        ),
        KalamDataType::Bytes => {
            build!(BinaryBuilder::with_capacity(n, n * 16), cells, col, ValueRef::Bytes(v) => v)
        }
        KalamDataType::Date => {
            build!(Date32Builder::with_capacity(n), cells, col, ValueRef::Date(v) => v)
        }
        KalamDataType::Time => build!(
            Time64MicrosecondBuilder::with_capacity(n),
            cells,
            col,
            ValueRef::Time(v) => v
        ),
        KalamDataType::Timestamp => build!(
            TimestampMicrosecondBuilder::with_capacity(n),
            cells,
            col,
            ValueRef::Timestamp(v) => v
        ),
        KalamDataType::DateTime => build!(
            TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC"),
            cells,
            col,
            ValueRef::Timestamp(v) => v
        ),
        KalamDataType::Decimal { precision, scale } => {
            let array =
                build!(Decimal128Builder::with_capacity(n), cells, col, ValueRef::Decimal(v) => v);
            Arc::new(
                array
                    .as_primitive::<Decimal128Type>()
                    .clone()
                    .with_precision_and_scale(*precision, *scale)
                    .map_err(KalamError::internal)?,
            )
        }
        KalamDataType::File | KalamDataType::Embedding(_) => {
            return Err(KalamError::internal(
                "unsupported column type in a table definition",
            ));
        }
    })
}

/// Reads cell `row` of `array` (already cast to the column's Arrow type by
/// the planner) as a stored value, validating what Arrow cannot (UUID and
/// JSON text).
pub fn value_from_array(col: &ColumnDefinition, array: &dyn Array, row: usize) -> Result<Value> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    let wrong_type = || {
        KalamError::internal(format!(
            "column '{}' arrived as {} instead of {}",
            col.name,
            array.data_type(),
            col.data_type.sql_name()
        ))
    };
    Ok(match &col.data_type {
        KalamDataType::Boolean => {
            Value::Bool(array.as_boolean_opt().ok_or_else(wrong_type)?.value(row))
        }
        KalamDataType::SmallInt => Value::I16(
            array
                .as_primitive_opt::<Int16Type>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::Int => Value::I32(
            array
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::BigInt => Value::I64(
            array
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::Float => Value::F32(
            array
                .as_primitive_opt::<Float32Type>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::Double => Value::F64(
            array
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::Decimal { .. } => Value::Decimal(
            array
                .as_primitive_opt::<Decimal128Type>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::Text => Value::Text(string_at(array, row).ok_or_else(wrong_type)?),
        KalamDataType::Json => {
            let text = string_at(array, row).ok_or_else(wrong_type)?;
            if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                return Err(KalamError::exec(format!(
                    "Invalid JSON for column '{}'",
                    col.name
                )));
            }
            Value::Text(text)
        }
        KalamDataType::Uuid => {
            let text = string_at(array, row).ok_or_else(wrong_type)?;
            let u = uuid::Uuid::parse_str(&text).map_err(|_| {
                KalamError::exec(format!(
                    "Cannot cast '{text}' to UUID for column '{}'",
                    col.name
                ))
            })?;
            Value::Uuid(*u.as_bytes())
        }
        KalamDataType::Bytes => Value::Bytes(binary_at(array, row).ok_or_else(wrong_type)?),
        KalamDataType::Date => Value::Date(
            array
                .as_primitive_opt::<Date32Type>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::Time => Value::Time(
            array
                .as_primitive_opt::<Time64MicrosecondType>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::Timestamp | KalamDataType::DateTime => Value::Timestamp(
            array
                .as_primitive_opt::<TimestampMicrosecondType>()
                .ok_or_else(wrong_type)?
                .value(row),
        ),
        KalamDataType::File | KalamDataType::Embedding(_) => return Err(wrong_type()),
    })
}

fn string_at(array: &dyn Array, row: usize) -> Option<String> {
    if let Some(a) = array.as_string_opt::<i32>() {
        return Some(a.value(row).to_string());
    }
    if let Some(a) = array.as_string_opt::<i64>() {
        return Some(a.value(row).to_string());
    }
    array.as_string_view_opt().map(|a| a.value(row).to_string())
}

fn binary_at(array: &dyn Array, row: usize) -> Option<Vec<u8>> {
    if let Some(a) = array.as_binary_opt::<i32>() {
        return Some(a.value(row).to_vec());
    }
    if let Some(a) = array.as_binary_opt::<i64>() {
        return Some(a.value(row).to_vec());
    }
    array.as_binary_view_opt().map(|a| a.value(row).to_vec())
}

/// A field carrying its declared type and flags (`pk,nn,uq`, `nn`) in the
/// metadata the wire encoding reads (`wire-protocol.md` §3.4).
pub fn described_field(
    name: &str,
    arrow: DataType,
    ty: &KalamDataType,
    flags: &str,
    nullable: bool,
) -> datafusion::arrow::datatypes::Field {
    let mut meta = std::collections::HashMap::new();
    meta.insert(
        kalamdb_types::FIELD_META_DATA_TYPE.to_string(),
        ty.wire_json().to_string(),
    );
    if !flags.is_empty() {
        meta.insert(
            kalamdb_types::FIELD_META_FLAGS.to_string(),
            flags.to_string(),
        );
    }
    datafusion::arrow::datatypes::Field::new(name, arrow, nullable).with_metadata(meta)
}

#[cfg(test)]
mod tests;
