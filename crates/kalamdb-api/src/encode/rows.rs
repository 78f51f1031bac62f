//! Record batches → rows: positional arrays for HTTP (`encode_rows`),
//! objects keyed by column name for WebSocket (`encode_row_objects`). Both
//! encode through the same columns, which is what keeps HTTP and WebSocket
//! rows identical; secret columns are masked here, before any value is
//! decoded.

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Map, Value};

use super::cells::encode_array;
use super::error::EncodeError;
use super::schema::wire_type;

/// Columns whose values never leave the server in clear (§3.3, for every
/// caller including dba/system).
const MASKED_COLUMNS: [&str; 2] = ["password_hash", "credentials"];
const MASK: &str = "***";

/// Encodes `batches` as positional rows in `schema` order, batches and rows
/// kept in their original order.
pub fn encode_rows(
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<Vec<Value>>, EncodeError> {
    collect_rows(schema, batches, |columns| {
        columns.iter_mut().map(next_cell).collect()
    })
}

/// Encodes `batches` as row objects keyed by column name (WebSocket rows,
/// §6.4). Should two columns share a name, the later one wins.
pub fn encode_row_objects(
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<Map<String, Value>>, EncodeError> {
    let names: Vec<&String> = schema.fields().iter().map(|field| field.name()).collect();
    collect_rows(schema, batches, |columns| {
        names
            .iter()
            .zip(columns.iter_mut())
            .map(|(name, column)| ((*name).clone(), next_cell(column)))
            .collect()
    })
}

/// Encodes each batch column by column, then zips the columns into rows
/// (`row` takes one value from every column).
fn collect_rows<R>(
    schema: &Schema,
    batches: &[RecordBatch],
    mut row: impl FnMut(&mut [std::vec::IntoIter<Value>]) -> R,
) -> Result<Vec<R>, EncodeError> {
    let total = batches.iter().map(RecordBatch::num_rows).sum();
    let mut rows = Vec::with_capacity(total);
    for batch in batches {
        let mut columns: Vec<_> = encode_batch(schema, batch)?
            .into_iter()
            .map(Vec::into_iter)
            .collect();
        for _ in 0..batch.num_rows() {
            rows.push(row(&mut columns));
        }
    }
    Ok(rows)
}

fn next_cell(column: &mut std::vec::IntoIter<Value>) -> Value {
    column.next().unwrap_or(Value::Null)
}

fn encode_batch(schema: &Schema, batch: &RecordBatch) -> Result<Vec<Vec<Value>>, EncodeError> {
    let fields = schema.fields();
    if batch.num_columns() != fields.len() {
        let column = fields
            .get(batch.num_columns().min(fields.len().saturating_sub(1)))
            .map(|field| field.name().clone())
            .unwrap_or_default();
        return Err(EncodeError::Unsupported {
            column,
            message: format!(
                "the result has {} column(s) but its schema describes {}",
                batch.num_columns(),
                fields.len()
            ),
        });
    }
    fields
        .iter()
        .zip(batch.columns())
        .map(|(field, array)| encode_column(field, array.as_ref()))
        .collect()
}

fn encode_column(field: &Field, array: &dyn Array) -> Result<Vec<Value>, EncodeError> {
    let name = field.name();
    if MASKED_COLUMNS
        .iter()
        .any(|masked| name.eq_ignore_ascii_case(masked))
    {
        return Ok(masked(array));
    }
    encode_array(array, wire_type(field), name)
}

/// The mask is applied without decoding the values, so a secret never passes
/// through the encoder and an odd Arrow type cannot make masking fail.
fn masked(array: &dyn Array) -> Vec<Value> {
    let nulls = array.logical_nulls();
    (0..array.len())
        .map(|i| match &nulls {
            Some(nulls) if nulls.is_null(i) => Value::Null,
            _ => Value::String(MASK.to_owned()),
        })
        .collect()
}
