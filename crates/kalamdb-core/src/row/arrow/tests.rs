//! The two ways stored rows become Arrow give the same batch: owned rows
//! through the lens (`rows_to_batch`) and rows decoded in place
//! (`row_refs_to_batch`, what hot scans use for current-version rows).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use kalamdb_types::{ColumnDefinition, KalamDataType as T};

use super::*;
use crate::row::value::{StoredRow, StoredRowRef, Value};
use crate::row::versions::RowLens;

fn columns() -> Vec<ColumnDefinition> {
    let types = [
        T::Boolean,
        T::SmallInt,
        T::Int,
        T::BigInt,
        T::Float,
        T::Double,
        T::Decimal {
            precision: 12,
            scale: 3,
        },
        T::Text,
        T::Json,
        T::Bytes,
        T::Uuid,
        T::Date,
        T::Time,
        T::Timestamp,
        T::DateTime,
    ];
    types
        .iter()
        .enumerate()
        .map(|(i, t)| ColumnDefinition::new(i as u32 + 1, format!("c{i}"), *t))
        .collect()
}

/// A value of type `t` made from `n` (NULL every seventh).
fn value(t: &T, n: u64) -> Value {
    if n.is_multiple_of(7) {
        return Value::Null;
    }
    let i = n as i64 - 500;
    match t {
        T::Boolean => Value::Bool(n.is_multiple_of(2)),
        T::SmallInt => Value::I16(i as i16),
        T::Int => Value::I32(i as i32 * 1000),
        T::BigInt => Value::I64(i * 1_000_000_007),
        T::Float => Value::F32(i as f32 / 3.0),
        T::Double => Value::F64(i as f64 / 7.0),
        T::Decimal { .. } => Value::Decimal(i as i128 * 12_345),
        T::Text => Value::Text(format!("héllo {n} {}", "x".repeat((n % 40) as usize))),
        T::Json => Value::Text(format!("{{\"n\":{n}}}")),
        T::Bytes => Value::Bytes(n.to_be_bytes().to_vec()),
        T::Uuid => Value::Uuid([n as u8; 16]),
        T::Date => Value::Date(i as i32),
        T::Time => Value::Time(n as i64 * 1_000_003),
        T::Timestamp | T::DateTime => Value::Timestamp(i * 86_400_000_001),
        T::File | T::Embedding(_) => Value::Null,
    }
}

#[test]
fn rows_decoded_in_place_give_the_same_batch() {
    let cols = columns();
    let lens = RowLens::single(&cols);
    let mut fields: Vec<Field> = cols
        .iter()
        .map(|c| Field::new(&c.name, arrow_type(&c.data_type).unwrap(), true))
        .collect();
    fields.push(Field::new("_seq", DataType::Int64, false));
    fields.push(Field::new("_deleted", DataType::Boolean, false));
    fields.push(Field::new(ROW_ID_COLUMN, DataType::Int64, false));
    let schema = Arc::new(Schema::new(fields));
    let encoded: Vec<Vec<u8>> = (0..300u64)
        .map(|n| {
            let values = cols
                .iter()
                .map(|c| {
                    (
                        c.column_id,
                        value(&c.data_type, n * 31 + u64::from(c.column_id)),
                    )
                })
                .filter(|(_, v)| *v != Value::Null)
                .collect();
            StoredRow {
                seq: n as i64 * 10,
                deleted: n.is_multiple_of(11),
                version: 1,
                values,
            }
            .encode()
            .unwrap()
        })
        .collect();
    let owned: Vec<StoredRow> = encoded
        .iter()
        .map(|b| StoredRow::decode(b).unwrap())
        .collect();
    let refs: Vec<StoredRowRef<'_>> = encoded
        .iter()
        .map(|b| StoredRowRef::decode(b).unwrap().unwrap())
        .collect();
    let ids: Vec<i64> = (0..300).collect();
    let a = rows_to_batch(&lens, &schema, &owned, Some(&ids)).unwrap();
    let b = row_refs_to_batch(&lens, &schema, &refs, Some(&ids)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.num_rows(), 300);
    // A projection (two columns and `_seq`) alike.
    let projected = Arc::new(schema.project(&[7, 3, 15]).unwrap());
    assert_eq!(
        rows_to_batch(&lens, &projected, &owned, None).unwrap(),
        row_refs_to_batch(&lens, &projected, &refs, None).unwrap()
    );
}

#[test]
fn rows_of_another_version_are_not_read_in_place() {
    let cols = columns();
    let lens = RowLens::new(2, &cols, [(1, cols.clone())], Default::default());
    let row = StoredRow {
        seq: 1,
        deleted: false,
        version: 1,
        values: vec![(3, Value::I32(5))],
    }
    .encode()
    .unwrap();
    let refs = vec![StoredRowRef::decode(&row).unwrap().unwrap()];
    let schema = Arc::new(Schema::new(vec![Field::new("c2", DataType::Int32, true)]));
    assert!(row_refs_to_batch(&lens, &schema, &refs, None).is_err());
    // A format-1 row is not decoded in place at all.
    assert!(StoredRowRef::decode(&[1, 0, 0, 0]).unwrap().is_none());
}
