//! The stored row format and its conversion to and from Arrow.
//!
//! The hot tier keeps, per primary key, only the newest version of a row:
//! `RowKey → StoredRow { seq, deleted, values }`. Values are keyed by the
//! column's stable `column_id`, so a row written under an older schema still
//! reads through a newer one (dropped columns vanish, added ones read NULL).
//! Encoding: one format-version byte, then postcard (a stable, documented
//! binary format). See docs/storage-format.md.

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
use kalamdb_types::{
    ColumnDefinition, KalamDataType, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, TableDefinition,
};
use serde::{Deserialize, Serialize};

use crate::catalog::ROW_ID_COLUMN;
use crate::error::{KalamError, Result};

const ROW_FORMAT_V1: u8 = 1;

/// One cell as stored. Timestamps are µs since the Unix epoch (UTC), dates
/// days since 1970-01-01, times µs since midnight, decimals unscaled i128.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Decimal(i128),
    Text(String),
    Bytes(Vec<u8>),
    Uuid([u8; 16]),
    Date(i32),
    Time(i64),
    Timestamp(i64),
}

/// The newest version of one row in the hot tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRow {
    pub seq: i64,
    pub deleted: bool,
    /// `(column_id, value)`, NULLs omitted.
    pub values: Vec<(u32, Value)>,
}

impl StoredRow {
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = vec![ROW_FORMAT_V1];
        let body = postcard::to_stdvec(self).map_err(KalamError::internal)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        match bytes.split_first() {
            Some((&ROW_FORMAT_V1, body)) => postcard::from_bytes(body)
                .map_err(|e| KalamError::internal(format!("corrupt row: {e}"))),
            Some((v, _)) => Err(KalamError::internal(format!(
                "unknown row format version {v}"
            ))),
            None => Err(KalamError::internal("empty row value")),
        }
    }

    pub fn value(&self, column_id: u32) -> &Value {
        self.values
            .iter()
            .find(|(id, _)| *id == column_id)
            .map(|(_, v)| v)
            .unwrap_or(&Value::Null)
    }
}

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
/// columns, `_seq`, `_deleted` and the hidden row key — from stored rows.
pub fn rows_to_batch(
    def: &TableDefinition,
    schema: &SchemaRef,
    rows: &[StoredRow],
    row_ids: Option<&[i64]>,
) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let array: ArrayRef = match field.name().as_str() {
            SYSTEM_COLUMN_SEQ => Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.seq))),
            SYSTEM_COLUMN_DELETED => Arc::new(BooleanArray::from_iter(
                rows.iter().map(|r| Some(r.deleted)),
            )),
            ROW_ID_COLUMN => Arc::new(Int64Array::from(
                row_ids
                    .ok_or_else(|| KalamError::internal("row ids were not read"))?
                    .to_vec(),
            )),
            name => {
                let (_, col) = def.column(name).ok_or_else(|| {
                    KalamError::internal(format!("no column '{name}' in {}", def.id()))
                })?;
                build_column(col, rows)?
            }
        };
        columns.push(array);
    }
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
    .map_err(KalamError::internal)
}

macro_rules! build {
    ($builder:ty, $rows:expr, $id:expr, $pat:pat => $v:expr) => {{
        let mut b = <$builder>::with_capacity($rows.len());
        for r in $rows {
            match r.value($id) {
                $pat => b.append_value($v),
                _ => b.append_null(),
            }
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

macro_rules! build_var {
    ($builder:ty, $rows:expr, $id:expr, $pat:pat => $v:expr) => {{
        let mut b = <$builder>::with_capacity($rows.len(), $rows.len() * 16);
        for r in $rows {
            match r.value($id) {
                $pat => b.append_value($v),
                _ => b.append_null(),
            }
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

fn build_column(col: &ColumnDefinition, rows: &[StoredRow]) -> Result<ArrayRef> {
    let id = col.column_id;
    Ok(match &col.data_type {
        KalamDataType::Boolean => build!(BooleanBuilder, rows, id, Value::Bool(v) => *v),
        KalamDataType::SmallInt => build!(Int16Builder, rows, id, Value::I16(v) => *v),
        KalamDataType::Int => build!(Int32Builder, rows, id, Value::I32(v) => *v),
        KalamDataType::BigInt => build!(Int64Builder, rows, id, Value::I64(v) => *v),
        KalamDataType::Float => build!(Float32Builder, rows, id, Value::F32(v) => *v),
        KalamDataType::Double => build!(Float64Builder, rows, id, Value::F64(v) => *v),
        KalamDataType::Text | KalamDataType::Json => {
            build_var!(StringBuilder, rows, id, Value::Text(v) => v)
        }
        KalamDataType::Uuid => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 36);
            for r in rows {
                match r.value(id) {
                    Value::Uuid(u) => b.append_value(uuid::Uuid::from_bytes(*u).to_string()),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KalamDataType::Bytes => build_var!(BinaryBuilder, rows, id, Value::Bytes(v) => v),
        KalamDataType::Date => build!(Date32Builder, rows, id, Value::Date(v) => *v),
        KalamDataType::Time => build!(Time64MicrosecondBuilder, rows, id, Value::Time(v) => *v),
        KalamDataType::Timestamp => {
            build!(TimestampMicrosecondBuilder, rows, id, Value::Timestamp(v) => *v)
        }
        KalamDataType::DateTime => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
            for r in rows {
                match r.value(id) {
                    Value::Timestamp(v) => b.append_value(*v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        KalamDataType::Decimal { precision, scale } => {
            let mut b = Decimal128Builder::with_capacity(rows.len());
            for r in rows {
                match r.value(id) {
                    Value::Decimal(v) => b.append_value(*v),
                    _ => b.append_null(),
                }
            }
            Arc::new(
                b.finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rows_round_trip_with_a_version_byte() {
        let row = StoredRow {
            seq: 42,
            deleted: false,
            values: vec![
                (1, Value::I64(-7)),
                (2, Value::Text("hé".into())),
                (3, Value::Decimal(-5)),
            ],
        };
        let bytes = row.encode().expect("encode");
        assert_eq!(bytes.first(), Some(&ROW_FORMAT_V1));
        assert_eq!(StoredRow::decode(&bytes).expect("decode"), row);
        assert!(StoredRow::decode(&[9, 1, 2]).is_err());
        assert!(StoredRow::decode(&[]).is_err());
        assert_eq!(row.value(99), &Value::Null);
    }
}
