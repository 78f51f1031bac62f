//! The stored row format: one [`StoredRow`] per key in the hot tier, its
//! cells as [`Value`]s.
//!
//! The hot tier keeps, per primary key, only the newest version of a row:
//! `RowKey → StoredRow { seq, deleted, version, values }`. Values are keyed
//! by the column's stable `column_id` and the row names the schema version
//! it was written under, so a row written under an older schema reads
//! through a newer one (`row/versions.rs`: dropped columns vanish, added
//! ones read their fill, widened ones are converted).
//! Encoding: one format-version byte, then postcard (a stable, documented
//! binary format). See docs/storage-format.md.

use kalamdb_types::ColumnDefinition;
use serde::{Deserialize, Serialize};

use crate::error::{KalamError, Result};

/// Rows written before schema versions existed: `{seq, deleted, values}`,
/// all under version 1 (no table could be altered then).
const ROW_FORMAT_V1: u8 = 1;
/// `{seq, deleted, version, values}`.
const ROW_FORMAT_V2: u8 = 2;

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

/// The newest version of one row in the hot tier (and a cold row read
/// back, which carries its segment's schema version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRow {
    pub seq: i64,
    pub deleted: bool,
    /// The table's schema version the values were written under.
    pub version: u32,
    /// `(column_id, value)`, NULLs omitted.
    pub values: Vec<(u32, Value)>,
}

/// Format 1's body, read as version 1.
#[derive(Deserialize)]
struct StoredRowV1 {
    seq: i64,
    deleted: bool,
    values: Vec<(u32, Value)>,
}

impl StoredRow {
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = vec![ROW_FORMAT_V2];
        let body = postcard::to_stdvec(self).map_err(KalamError::internal)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let corrupt = |e: postcard::Error| KalamError::internal(format!("corrupt row: {e}"));
        match bytes.split_first() {
            Some((&ROW_FORMAT_V2, body)) => postcard::from_bytes(body).map_err(corrupt),
            Some((&ROW_FORMAT_V1, body)) => {
                let v1: StoredRowV1 = postcard::from_bytes(body).map_err(corrupt)?;
                Ok(StoredRow {
                    seq: v1.seq,
                    deleted: v1.deleted,
                    version: 1,
                    values: v1.values,
                })
            }
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

/// One cell borrowed from the encoded row or from a [`Value`]: what Arrow
/// builders read, without a `String` per text cell. The variants mirror
/// [`Value`]'s in order (postcard encodes the variant index), and borrowed
/// text and bytes have the same encoding as owned ones.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Decimal(i128),
    Text(&'a str),
    Bytes(&'a [u8]),
    Uuid([u8; 16]),
    Date(i32),
    Time(i64),
    Timestamp(i64),
}

impl Value {
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(v) => ValueRef::Bool(*v),
            Value::I16(v) => ValueRef::I16(*v),
            Value::I32(v) => ValueRef::I32(*v),
            Value::I64(v) => ValueRef::I64(*v),
            Value::F32(v) => ValueRef::F32(*v),
            Value::F64(v) => ValueRef::F64(*v),
            Value::Decimal(v) => ValueRef::Decimal(*v),
            Value::Text(v) => ValueRef::Text(v),
            Value::Bytes(v) => ValueRef::Bytes(v),
            Value::Uuid(v) => ValueRef::Uuid(*v),
            Value::Date(v) => ValueRef::Date(*v),
            Value::Time(v) => ValueRef::Time(*v),
            Value::Timestamp(v) => ValueRef::Timestamp(*v),
        }
    }
}

/// A stored row decoded in place: its text and bytes borrow the encoded
/// value (a hot scan turns them into Arrow without an allocation per cell).
#[derive(Debug, Deserialize)]
pub struct StoredRowRef<'a> {
    pub seq: i64,
    pub deleted: bool,
    pub version: u32,
    #[serde(borrow)]
    pub values: Vec<(u32, ValueRef<'a>)>,
}

impl<'a> StoredRowRef<'a> {
    /// The row in `bytes` if it is of format 2 (format-1 rows: `None`; read
    /// them with [`StoredRow::decode`]).
    pub fn decode(bytes: &'a [u8]) -> Result<Option<Self>> {
        match bytes.split_first() {
            Some((&ROW_FORMAT_V2, body)) => postcard::from_bytes(body)
                .map(Some)
                .map_err(|e| KalamError::internal(format!("corrupt row: {e}"))),
            Some(_) => Ok(None),
            None => Err(KalamError::internal("empty row value")),
        }
    }

    pub fn value(&self, column_id: u32) -> ValueRef<'a> {
        self.values
            .iter()
            .find(|(id, _)| *id == column_id)
            .map_or(ValueRef::Null, |(_, v)| *v)
    }
}

/// A row's values in column order as stored: keyed by `column_id`, NULLs
/// omitted.
pub fn stored_values(columns: &[ColumnDefinition], values: Vec<Value>) -> Vec<(u32, Value)> {
    columns
        .iter()
        .zip(values)
        .filter(|(_, v)| *v != Value::Null)
        .map(|(c, v)| (c.column_id, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rows_round_trip_with_a_version_byte() {
        let row = StoredRow {
            seq: 42,
            deleted: false,
            version: 3,
            values: vec![
                (1, Value::I64(-7)),
                (2, Value::Text("hé".into())),
                (3, Value::Decimal(-5)),
            ],
        };
        let bytes = row.encode().expect("encode");
        assert_eq!(bytes.first(), Some(&ROW_FORMAT_V2));
        assert_eq!(StoredRow::decode(&bytes).expect("decode"), row);
        // A format-1 row (written before schema versions) reads as version 1.
        #[derive(Serialize)]
        struct V1<'a> {
            seq: i64,
            deleted: bool,
            values: &'a [(u32, Value)],
        }
        let mut old = vec![ROW_FORMAT_V1];
        old.extend(
            postcard::to_stdvec(&V1 {
                seq: 42,
                deleted: false,
                values: &row.values,
            })
            .expect("encode v1"),
        );
        let read = StoredRow::decode(&old).expect("decode v1");
        assert_eq!(read.version, 1);
        assert_eq!(read.values, row.values);
        assert!(StoredRow::decode(&[9, 1, 2]).is_err());
        assert!(StoredRow::decode(&[]).is_err());
        assert_eq!(row.value(99), &Value::Null);
    }
}
