//! Reading a row written under an older schema version through the current
//! one ([`RowLens`]), and the one rule that converts a stored value when
//! `MODIFY` widened its column ([`widen`]).
//!
//! Rows are never rewritten by `ALTER TABLE` (`sql.md` §2.6): a stored row
//! (hot, or read back from a segment) names the version it was written
//! under, and its values are keyed by the stable `column_id`. Under the
//! current version a cell is:
//! - the stored value, when the row is of the current version or the
//!   column's type did not change since the row's version;
//! - the stored value widened (`SMALLINT→INT→BIGINT`, `FLOAT→DOUBLE`,
//!   `DECIMAL` to a larger precision, any type → `TEXT`), when it did;
//! - the column's fill (the `ADD COLUMN … DEFAULT` evaluated at the ALTER,
//!   or NULL), when the row predates the column;
//! - absent for dropped columns (the current version does not name them).
//!
//! Hot rows and cold rows share this code, so both tiers answer alike.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Float32Array, Float64Array, Time64MicrosecondArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use kalamdb_types::{ColumnDefinition, KalamDataType};

use crate::row::value::{StoredRow, Value};

/// How rows of every stored version of one table read under its current
/// version. Built once per definition (with the table's entry).
#[derive(Debug, Clone)]
pub struct RowLens {
    current: u32,
    /// Every known version's user columns (segments written under it are
    /// read by these names and types), the current one included.
    versions: BTreeMap<u32, Arc<[ColumnDefinition]>>,
    /// Per older version: the columns whose type changed since, with the
    /// type their values were stored as.
    retyped: HashMap<u32, HashMap<u32, KalamDataType>>,
    /// What rows predating a column read, by `column_id` (absent: NULL).
    fills: HashMap<u32, Value>,
    /// `since_version` of each current column, by `column_id`.
    since: HashMap<u32, u32>,
}

impl RowLens {
    /// `history`: every stored version's columns (the current one may be
    /// missing; `current_columns` is it); `fills`: the evaluated fill of
    /// the current columns that have one.
    pub fn new(
        current: u32,
        current_columns: &[ColumnDefinition],
        history: impl IntoIterator<Item = (u32, Vec<ColumnDefinition>)>,
        fills: HashMap<u32, Value>,
    ) -> Self {
        let mut versions: BTreeMap<u32, Arc<[ColumnDefinition]>> = history
            .into_iter()
            .filter(|(v, _)| *v < current)
            .map(|(v, cols)| (v, Arc::from(cols)))
            .collect();
        versions.insert(current, Arc::from(current_columns.to_vec()));
        let mut retyped = HashMap::new();
        for (v, cols) in &versions {
            if *v == current {
                continue;
            }
            let changed: HashMap<u32, KalamDataType> = cols
                .iter()
                .filter_map(|old| {
                    current_columns
                        .iter()
                        .find(|c| c.column_id == old.column_id && c.data_type != old.data_type)
                        .map(|_| (old.column_id, old.data_type))
                })
                .collect();
            if !changed.is_empty() {
                retyped.insert(*v, changed);
            }
        }
        let since = current_columns
            .iter()
            .map(|c| (c.column_id, c.since_version))
            .collect();
        Self {
            current,
            versions,
            retyped,
            fills,
            since,
        }
    }

    /// A table that was never altered: every row reads as stored.
    pub fn single(columns: &[ColumnDefinition]) -> Self {
        Self::new(1, columns, [], HashMap::new())
    }

    pub fn current(&self) -> u32 {
        self.current
    }

    /// The current version's user columns.
    pub fn columns(&self) -> &[ColumnDefinition] {
        self.columns_at(self.current).unwrap_or_default()
    }

    /// The current column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDefinition> {
        self.columns().iter().find(|c| c.name == name)
    }

    /// The user columns of `version` as its segments name them, if known.
    pub fn columns_at(&self, version: u32) -> Option<&[ColumnDefinition]> {
        self.versions.get(&version).map(|c| c.as_ref())
    }

    /// Whether `row` reads exactly as stored under the current version.
    fn reads_as_stored(&self, row: &StoredRow) -> bool {
        // A newer row than this lens knows (a subscription planned before an
        // ALTER): its values are read as stored.
        row.version >= self.current
    }

    /// The value of column `col` (a current column) in `row`, under the
    /// current version.
    pub fn cell<'r>(&'r self, row: &'r StoredRow, col: &ColumnDefinition) -> Cow<'r, Value> {
        let stored = row.value(col.column_id);
        if self.reads_as_stored(row) {
            return Cow::Borrowed(stored);
        }
        if *stored == Value::Null {
            let since = self.since.get(&col.column_id).copied().unwrap_or(1);
            if row.version < since
                && let Some(fill) = self.fills.get(&col.column_id)
            {
                return Cow::Borrowed(fill);
            }
            return Cow::Borrowed(stored);
        }
        match self
            .retyped
            .get(&row.version)
            .and_then(|m| m.get(&col.column_id))
        {
            Some(from) => Cow::Owned(widen(stored, from, &col.data_type)),
            None => Cow::Borrowed(stored),
        }
    }

    /// `row`'s values as the current version reads them, for `columns`
    /// (the current columns, in order).
    pub fn values(&self, row: &StoredRow, columns: &[ColumnDefinition]) -> Vec<Value> {
        columns
            .iter()
            .map(|c| self.cell(row, c).into_owned())
            .collect()
    }
}

/// Whether `MODIFY` may change a column from `from` to `to` (`sql.md`
/// §2.6): every stored value of `from` converts to `to` without loss.
pub fn widens(from: &KalamDataType, to: &KalamDataType) -> bool {
    use KalamDataType as T;
    match (from, to) {
        (a, b) if a == b => true,
        (T::SmallInt, T::Int | T::BigInt) | (T::Int, T::BigInt) | (T::Float, T::Double) => true,
        (
            T::Decimal {
                precision: p1,
                scale: s1,
            },
            T::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => s1 == s2 && p2 >= p1,
        (T::File | T::Embedding(_), _) => false,
        (_, T::Text) => true,
        _ => false,
    }
}

/// A value stored as `from` read as `to`, for the conversions [`widens`]
/// allows. Text renders as `CAST(x AS TEXT)` would (BYTES as `\x` and hex,
/// as PostgreSQL does).
pub fn widen(v: &Value, from: &KalamDataType, to: &KalamDataType) -> Value {
    match (v, to) {
        (Value::I16(x), KalamDataType::Int) => Value::I32(i32::from(*x)),
        (Value::I16(x), KalamDataType::BigInt) => Value::I64(i64::from(*x)),
        (Value::I32(x), KalamDataType::BigInt) => Value::I64(i64::from(*x)),
        (Value::F32(x), KalamDataType::Double) => Value::F64(f64::from(*x)),
        (_, KalamDataType::Text) => Value::Text(as_text(v, from)),
        _ => v.clone(),
    }
}

fn as_text(v: &Value, from: &KalamDataType) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::I16(x) => x.to_string(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::Text(s) => s.clone(),
        Value::Uuid(u) => uuid::Uuid::from_bytes(*u).to_string(),
        Value::Bytes(b) => {
            let mut s = String::with_capacity(2 + b.len() * 2);
            s.push_str("\\x");
            for byte in b {
                s.push_str(&format!("{byte:02x}"));
            }
            s
        }
        Value::F32(_)
        | Value::F64(_)
        | Value::Decimal(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::Timestamp(_) => arrow_text(v, from).unwrap_or_default(),
    }
}

/// Arrow's own rendering of one value (what `CAST(x AS TEXT)` gives).
fn arrow_text(v: &Value, from: &KalamDataType) -> Option<String> {
    let array: ArrayRef = match (v, from) {
        (Value::F32(x), _) => Arc::new(Float32Array::from(vec![*x])),
        (Value::F64(x), _) => Arc::new(Float64Array::from(vec![*x])),
        (Value::Decimal(x), KalamDataType::Decimal { precision, scale }) => Arc::new(
            Decimal128Array::from(vec![*x])
                .with_precision_and_scale(*precision, *scale)
                .ok()?,
        ),
        (Value::Date(x), _) => Arc::new(Date32Array::from(vec![*x])),
        (Value::Time(x), _) => Arc::new(Time64MicrosecondArray::from(vec![*x])),
        (Value::Timestamp(x), KalamDataType::DateTime) => {
            Arc::new(TimestampMicrosecondArray::from(vec![*x]).with_timezone("UTC"))
        }
        (Value::Timestamp(x), _) => Arc::new(TimestampMicrosecondArray::from(vec![*x])),
        _ => return None,
    };
    let text = cast(&array, &DataType::Utf8).ok()?;
    use datafusion::arrow::array::AsArray;
    Some(text.as_string::<i32>().value(0).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use KalamDataType as T;

    fn col(id: u32, name: &str, ty: T, since: u32) -> ColumnDefinition {
        let mut c = ColumnDefinition::new(id, name, ty);
        c.since_version = since;
        c
    }

    fn row(version: u32, values: Vec<(u32, Value)>) -> StoredRow {
        StoredRow {
            seq: 1,
            deleted: false,
            version,
            values,
        }
    }

    #[test]
    fn older_rows_read_through_the_current_version() {
        // v1: id INT, n SMALLINT, gone TEXT; v2: ADD note TEXT DEFAULT 'x';
        // v3: MODIFY n BIGINT, DROP gone.
        let v1 = vec![
            col(1, "id", T::Int, 1),
            col(2, "n", T::SmallInt, 1),
            col(3, "gone", T::Text, 1),
        ];
        let v2 = {
            let mut v = v1.clone();
            v.push(col(4, "note", T::Text, 2));
            v
        };
        let v3 = vec![
            col(1, "id", T::Int, 1),
            col(2, "n", T::BigInt, 1),
            col(4, "note", T::Text, 2),
        ];
        let fills = HashMap::from([(4, Value::Text("x".into()))]);
        let lens = RowLens::new(3, &v3, [(1, v1), (2, v2)], fills);
        let old = row(
            1,
            vec![
                (1, Value::I32(7)),
                (2, Value::I16(5)),
                (3, Value::Text("bye".into())),
            ],
        );
        assert_eq!(
            lens.values(&old, &v3),
            vec![Value::I32(7), Value::I64(5), Value::Text("x".into())]
        );
        // Written under v2 without a note: NULL, not the fill.
        let mid = row(2, vec![(1, Value::I32(8)), (2, Value::I16(-1))]);
        assert_eq!(
            lens.values(&mid, &v3),
            vec![Value::I32(8), Value::I64(-1), Value::Null]
        );
        let new = row(3, vec![(1, Value::I32(9)), (2, Value::I64(1 << 40))]);
        assert_eq!(
            lens.values(&new, &v3),
            vec![Value::I32(9), Value::I64(1 << 40), Value::Null]
        );
        assert_eq!(lens.columns_at(1).map(|c| c.len()), Some(3));
        assert!(lens.columns_at(4).is_none());
    }

    #[test]
    fn widening_follows_the_spec_and_text_renders_as_a_cast() {
        assert!(widens(&T::SmallInt, &T::BigInt));
        assert!(widens(&T::Float, &T::Double));
        assert!(widens(&T::Timestamp, &T::Text));
        assert!(!widens(&T::Text, &T::Int));
        assert!(!widens(&T::BigInt, &T::Int));
        assert!(!widens(&T::Double, &T::Float));
        let d = |precision, scale| T::Decimal { precision, scale };
        assert!(widens(&d(10, 2), &d(12, 2)));
        assert!(!widens(&d(10, 2), &d(12, 3)));
        assert!(!widens(&d(10, 2), &d(8, 2)));
        let text = |v: Value, from: T| widen(&v, &from, &T::Text);
        assert_eq!(
            text(Value::Bool(true), T::Boolean),
            Value::Text("true".into())
        );
        assert_eq!(text(Value::F64(1.5), T::Double), Value::Text("1.5".into()));
        assert_eq!(
            text(Value::Decimal(1230), d(10, 2)),
            Value::Text("12.30".into())
        );
        assert_eq!(
            text(Value::Bytes(vec![0, 0xAB]), T::Bytes),
            Value::Text("\\x00ab".into())
        );
        assert_eq!(
            text(Value::Date(0), T::Date),
            Value::Text("1970-01-01".into())
        );
        assert_eq!(
            text(Value::Timestamp(1_500_000), T::Timestamp),
            Value::Text("1970-01-01T00:00:01.500".into())
        );
    }
}
