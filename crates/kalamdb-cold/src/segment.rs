//! The segment format: one Parquet file per flush of a table partition,
//! holding the newest version of each flushed key (tombstones included) with
//! its `_seq` and `_deleted` columns. This module writes segments and
//! computes the statistics the manifest keeps about them; `read.rs` reads
//! them back.
//!
//! Layout choices, all for point lookups that touch as little as possible:
//! zstd, row groups of at most 65,536 rows, page-level statistics (with the
//! page index) on every column, pages of at most 8,192 rows, and a bloom
//! filter on the key column. The Arrow schema, field metadata included, is
//! embedded by the writer, so a segment reads back with exactly the schema
//! it was written with (time zones, decimal precision, column comments).

use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, SchemaRef, Time32MillisecondType, Time32SecondType,
    Time64MicrosecondType, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checksum::{BLOCK_CHECKSUMS_KEY, BlockChecksums, ChecksumAlgorithm, SegmentChecksums};
use crate::error::ColdError;

pub const SEQ_COLUMN: &str = "_seq";
pub const DELETED_COLUMN: &str = "_deleted";

/// Rows per row group: large enough for scans to stream, small enough that
/// a lookup which cannot be pruned decodes little.
pub const ROW_GROUP_ROWS: usize = 65_536;
/// Rows per data page (best effort): the unit a lookup decodes once the
/// page index has pruned the rest of a row group.
const PAGE_ROWS: usize = 8_192;
const ZSTD_LEVEL: i32 = 3;
const BLOOM_FPP: f64 = 0.01;
/// Longer text minimums/maximums are not kept in the manifest.
const MAX_TEXT_STAT_BYTES: usize = 256;

/// Per-column statistics kept in the manifest. `min`/`max` are JSON
/// numbers for integer, float and temporal columns (dates as days,
/// times and timestamps as their unit since midnight/the epoch, µs for the
/// types KalamDB uses), strings for text (and UUID, stored as text),
/// booleans for booleans; `None` when not computable (all nulls, NaN or
/// infinite floats, text longer than 256 bytes, decimals, binary).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ColumnStats {
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub null_count: u64,
}

/// One segment as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// Relative to the storage root, e.g. `app/notes/alice/seg-….parquet`.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub min_seq: i64,
    pub max_seq: i64,
    /// µs since the epoch.
    pub created_at: i64,
    pub columns: BTreeMap<String, ColumnStats>,
    /// What every read checks the file's bytes against (absent for
    /// segments written before format 5, which are read unchecked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksums: Option<SegmentChecksums>,
    /// The table's schema version the rows were written under (their
    /// columns are that version's names and types). Absent in entries
    /// written before schema versions existed: version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
}

impl SegmentMeta {
    /// See [`Self::schema_version`].
    pub fn version(&self) -> u32 {
        self.schema_version.unwrap_or(1)
    }

    /// The least and greatest key in `column` (a key column: integers or
    /// text), if the segment's statistics know them.
    pub fn key_bounds(&self, column: &str) -> Option<(PkKey, PkKey)> {
        let stats = self.columns.get(column)?;
        let (min, max) = (stats.min.as_ref()?, stats.max.as_ref()?);
        match (min.as_i64(), max.as_i64()) {
            (Some(lo), Some(hi)) => Some((PkKey::Int(lo), PkKey::Int(hi))),
            _ => Some((
                PkKey::Text(min.as_str()?.to_string()),
                PkKey::Text(max.as_str()?.to_string()),
            )),
        }
    }

    /// Could the segment hold a row whose `column` equals `key`, judging by
    /// its min/max? `true` when that is unknown.
    pub fn may_contain(&self, column: &str, key: &PkKey) -> bool {
        let Some(stats) = self.columns.get(column) else {
            return true;
        };
        let (Some(min), Some(max)) = (&stats.min, &stats.max) else {
            return true;
        };
        match key {
            PkKey::Int(k) => match (min.as_i64(), max.as_i64()) {
                (Some(lo), Some(hi)) => lo <= *k && *k <= hi,
                _ => true,
            },
            PkKey::Text(k) => match (min.as_str(), max.as_str()) {
                (Some(lo), Some(hi)) => lo <= k.as_str() && k.as_str() <= hi,
                _ => true,
            },
        }
    }
}

/// What encoding learned about a segment's rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentStats {
    pub rows: u64,
    pub min_seq: i64,
    pub max_seq: i64,
    pub columns: BTreeMap<String, ColumnStats>,
    /// Of the encoded file.
    pub checksums: Option<SegmentChecksums>,
}

impl SegmentStats {
    /// The manifest entry for these rows once written to `path`.
    pub fn into_meta(self, path: String, bytes: u64, created_at: i64) -> SegmentMeta {
        SegmentMeta {
            path,
            rows: self.rows,
            bytes,
            min_seq: self.min_seq,
            max_seq: self.max_seq,
            created_at,
            columns: self.columns,
            checksums: self.checksums,
            schema_version: None,
        }
    }
}

/// A key to look up: integer keys (and hidden row ids) or text keys (TEXT,
/// and UUIDs in their canonical lowercase text form).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PkKey {
    Int(i64),
    Text(String),
}

impl From<i64> for PkKey {
    fn from(v: i64) -> Self {
        PkKey::Int(v)
    }
}

impl From<&str> for PkKey {
    fn from(v: &str) -> Self {
        PkKey::Text(v.to_string())
    }
}

impl From<String> for PkKey {
    fn from(v: String) -> Self {
        PkKey::Text(v)
    }
}

/// `seg-<max_seq, 20 digits>.parquet`: unique within a partition (each
/// flush moves newer rows) and sorting by age. Negative values, which
/// flushes never produce, keep their sign.
pub fn segment_file_name(max_seq: i64) -> String {
    format!("seg-{max_seq:020}.parquet")
}

/// `seg-<max_seq, 20 digits>-c<nonce, 16 hex>.parquet`: a compaction's
/// output. The nonce keeps it from ever taking the name of a file a
/// manifest still lists (an output may have the same `max_seq` as one of
/// its inputs); the prefix still sorts by age.
pub fn compacted_segment_file_name(max_seq: i64, nonce: u64) -> String {
    format!("seg-{max_seq:020}-c{nonce:016x}.parquet")
}

/// Is `name` (a file name, no directory) one this crate gives segments?
pub fn is_segment_file_name(name: &str) -> bool {
    name.starts_with("seg-") && name.ends_with(".parquet") && !name.contains('/')
}

/// Is `t` a type `lookup_segment` can match keys against?
pub(crate) fn key_kind(t: &DataType) -> Option<KeyKind> {
    match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Some(KeyKind::Int),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(KeyKind::Text),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Int,
    Text,
}

fn invalid(m: impl Into<String>) -> ColdError {
    ColdError::InvalidSegment(m.into())
}

/// A failure of the Parquet writer, whichever step it came from: the
/// message says the encoding failed and passes on the writer's reason.
fn cannot_encode(e: impl std::fmt::Display) -> ColdError {
    invalid(format!("cannot encode segment: {e}"))
}

/// Encodes `batches` (all with `schema`, which has `_seq` Int64 and
/// `_deleted` Boolean) as one Parquet file, rows in the given order (the
/// caller sorts), with a bloom filter on `pk_column` if given.
pub fn encode_segment(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    pk_column: Option<&str>,
) -> Result<(Bytes, SegmentStats), ColdError> {
    check_input(schema, batches, pk_column)?;
    let level = ZstdLevel::try_new(ZSTD_LEVEL).map_err(|e| invalid(e.to_string()))?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_statistics_enabled(EnabledStatistics::Page)
        // Unique per row: a dictionary would only be built and dropped.
        .set_column_dictionary_enabled(ColumnPath::from(SEQ_COLUMN), false);
    if let Some(pk) = pk_column {
        let col = ColumnPath::from(pk);
        props = props
            .set_column_dictionary_enabled(col.clone(), false)
            .set_column_bloom_filter_enabled(col.clone(), true)
            .set_column_bloom_filter_fpp(col, BLOOM_FPP);
    }
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, schema.clone(), Some(props.build()))
        .map_err(cannot_encode)?;
    let mut acc: Vec<Acc> = schema.fields().iter().map(|_| Acc::default()).collect();
    let mut stats = SegmentStats {
        min_seq: i64::MAX,
        max_seq: i64::MIN,
        ..Default::default()
    };
    for batch in batches {
        writer.write(batch).map_err(cannot_encode)?;
        stats.rows += batch.num_rows() as u64;
        for (a, array) in acc.iter_mut().zip(batch.columns()) {
            a.add(array);
        }
        if let Some(seq) = batch
            .column_by_name(SEQ_COLUMN)
            .and_then(|a| a.as_primitive_opt::<Int64Type>())
        {
            if let Some(lo) = arrow::compute::min(seq) {
                stats.min_seq = stats.min_seq.min(lo);
            }
            if let Some(hi) = arrow::compute::max(seq) {
                stats.max_seq = stats.max_seq.max(hi);
            }
        }
    }
    // Everything before the page index and footer is final once the last
    // row group is out: its block checksums go into the footer, and the
    // footer's own checksum into the manifest entry (checksum.rs).
    writer.flush().map_err(cannot_encode)?;
    writer.sync().map_err(cannot_encode)?;
    let tail_start = writer.bytes_written();
    let data = writer
        .inner()
        .get(..tail_start)
        .ok_or_else(|| cannot_encode("the writer lost track of its bytes"))?;
    let blocks = serde_json::to_string(&BlockChecksums::compute(data)).map_err(cannot_encode)?;
    writer.append_key_value_metadata(KeyValue::new(BLOCK_CHECKSUMS_KEY.to_string(), blocks));
    writer.close().map_err(cannot_encode)?;
    stats.checksums = Some(SegmentChecksums {
        algorithm: ChecksumAlgorithm::Crc32,
        tail_start: tail_start as u64,
        tail_crc: crc32fast::hash(buf.get(tail_start..).unwrap_or_default()),
    });
    stats.columns = schema
        .fields()
        .iter()
        .zip(acc)
        .map(|(f, a)| (f.name().clone(), a.finish()))
        .collect();
    Ok((Bytes::from(buf), stats))
}

fn check_input(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    pk_column: Option<&str>,
) -> Result<(), ColdError> {
    let need = |name: &str, t: DataType| match schema.field_with_name(name) {
        Ok(f) if *f.data_type() == t => Ok(()),
        _ => Err(invalid(format!(
            "A segment needs a column '{name}' of type {t}"
        ))),
    };
    need(SEQ_COLUMN, DataType::Int64)?;
    need(DELETED_COLUMN, DataType::Boolean)?;
    if let Some(pk) = pk_column {
        let f = schema
            .field_with_name(pk)
            .map_err(|_| invalid(format!("Key column '{pk}' is not in the segment schema")))?;
        if key_kind(f.data_type()).is_none() {
            return Err(invalid(format!(
                "Key column '{pk}' has type {}; keys are integers or text",
                f.data_type()
            )));
        }
    }
    let mut rows = 0;
    for (i, batch) in batches.iter().enumerate() {
        let fields = schema.fields();
        if batch.num_columns() != fields.len() {
            return Err(invalid(format!(
                "Batch {i} has {} columns, the segment schema {}",
                batch.num_columns(),
                fields.len()
            )));
        }
        for (f, col) in fields.iter().zip(batch.columns()) {
            if col.data_type() != f.data_type() {
                return Err(invalid(format!(
                    "Batch {i}: column '{}' is {}, the segment schema says {}",
                    f.name(),
                    col.data_type(),
                    f.data_type()
                )));
            }
            if !f.is_nullable() && col.null_count() > 0 {
                return Err(invalid(format!(
                    "Batch {i}: column '{}' is NOT NULL but holds nulls",
                    f.name()
                )));
            }
        }
        if batch
            .column_by_name(SEQ_COLUMN)
            .is_some_and(|c| c.null_count() > 0)
        {
            return Err(invalid(format!("Batch {i}: '{SEQ_COLUMN}' holds nulls")));
        }
        rows += batch.num_rows();
    }
    if rows == 0 {
        return Err(invalid("A segment needs at least one row"));
    }
    Ok(())
}

/// A running minimum or maximum.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Bound {
    I(i64),
    U(u64),
    F(f64),
    S(String),
    B(bool),
}

impl Bound {
    fn into_json(self) -> Value {
        match self {
            Bound::I(v) => Value::from(v),
            Bound::U(v) => Value::from(v),
            Bound::F(v) => Value::from(v),
            Bound::S(v) => Value::from(v),
            Bound::B(v) => Value::from(v),
        }
    }
}

/// One column's statistics while batches are added.
#[derive(Default)]
struct Acc {
    min: Option<Bound>,
    max: Option<Bound>,
    nulls: u64,
    /// A value made min/max not computable (NaN, overlong text).
    unknown: bool,
}

impl Acc {
    fn add(&mut self, array: &ArrayRef) {
        self.nulls += array.null_count() as u64;
        if self.unknown || array.null_count() == array.len() {
            return;
        }
        match batch_bounds(array) {
            Some((lo, hi)) => {
                // Bounds of one column always share a variant.
                if self.min.as_ref().is_none_or(|m| lo < *m) {
                    self.min = Some(lo);
                }
                if self.max.as_ref().is_none_or(|m| hi > *m) {
                    self.max = Some(hi);
                }
            }
            None => self.unknown = true,
        }
    }

    fn finish(self) -> ColumnStats {
        let (min, max) = if self.unknown {
            (None, None)
        } else {
            (
                self.min.map(Bound::into_json),
                self.max.map(Bound::into_json),
            )
        };
        ColumnStats {
            min,
            max,
            null_count: self.nulls,
        }
    }
}

macro_rules! int_bounds {
    ($array:expr, $t:ty) => {{
        let a = $array.as_primitive::<$t>();
        match (arrow::compute::min(a), arrow::compute::max(a)) {
            (Some(lo), Some(hi)) => Some((Bound::I(i64::from(lo)), Bound::I(i64::from(hi)))),
            _ => None,
        }
    }};
}

macro_rules! float_bounds {
    ($array:expr, $t:ty) => {{
        let a = $array.as_primitive::<$t>();
        if a.iter().flatten().any(|v| !f64::from(v).is_finite()) {
            None
        } else {
            match (arrow::compute::min(a), arrow::compute::max(a)) {
                (Some(lo), Some(hi)) => Some((Bound::F(f64::from(lo)), Bound::F(f64::from(hi)))),
                _ => None,
            }
        }
    }};
}

fn text_bounds<'a>(mut values: impl Iterator<Item = &'a str>) -> Option<(Bound, Bound)> {
    let first = values.next()?;
    let (mut lo, mut hi) = (first, first);
    for v in values {
        if v < lo {
            lo = v;
        }
        if v > hi {
            hi = v;
        }
    }
    if lo.len() > MAX_TEXT_STAT_BYTES || hi.len() > MAX_TEXT_STAT_BYTES {
        return None;
    }
    Some((Bound::S(lo.to_string()), Bound::S(hi.to_string())))
}

/// Min and max of the non-null values of `array` (which has some), or
/// `None` when they cannot be kept as JSON.
fn batch_bounds(array: &ArrayRef) -> Option<(Bound, Bound)> {
    match array.data_type() {
        DataType::Int8 => int_bounds!(array, Int8Type),
        DataType::Int16 => int_bounds!(array, Int16Type),
        DataType::Int32 => int_bounds!(array, Int32Type),
        DataType::Int64 => int_bounds!(array, Int64Type),
        DataType::UInt8 => int_bounds!(array, UInt8Type),
        DataType::UInt16 => int_bounds!(array, UInt16Type),
        DataType::UInt32 => int_bounds!(array, UInt32Type),
        DataType::UInt64 => {
            let a = array.as_primitive::<UInt64Type>();
            match (arrow::compute::min(a), arrow::compute::max(a)) {
                (Some(lo), Some(hi)) => Some((Bound::U(lo), Bound::U(hi))),
                _ => None,
            }
        }
        DataType::Date32 => int_bounds!(array, Date32Type),
        DataType::Date64 => int_bounds!(array, Date64Type),
        DataType::Time32(TimeUnit::Second) => int_bounds!(array, Time32SecondType),
        DataType::Time32(TimeUnit::Millisecond) => int_bounds!(array, Time32MillisecondType),
        DataType::Time64(TimeUnit::Microsecond) => int_bounds!(array, Time64MicrosecondType),
        DataType::Time64(TimeUnit::Nanosecond) => int_bounds!(array, Time64NanosecondType),
        DataType::Timestamp(TimeUnit::Second, _) => int_bounds!(array, TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            int_bounds!(array, TimestampMillisecondType)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            int_bounds!(array, TimestampMicrosecondType)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            int_bounds!(array, TimestampNanosecondType)
        }
        DataType::Duration(TimeUnit::Second) => int_bounds!(array, DurationSecondType),
        DataType::Duration(TimeUnit::Millisecond) => int_bounds!(array, DurationMillisecondType),
        DataType::Duration(TimeUnit::Microsecond) => int_bounds!(array, DurationMicrosecondType),
        DataType::Duration(TimeUnit::Nanosecond) => int_bounds!(array, DurationNanosecondType),
        DataType::Float32 => float_bounds!(array, Float32Type),
        DataType::Float64 => float_bounds!(array, Float64Type),
        DataType::Utf8 => text_bounds(array.as_string::<i32>().iter().flatten()),
        DataType::LargeUtf8 => text_bounds(array.as_string::<i64>().iter().flatten()),
        DataType::Utf8View => text_bounds(array.as_string_view().iter().flatten()),
        DataType::Boolean => {
            let a = array.as_boolean();
            match (
                arrow::compute::min_boolean(a),
                arrow::compute::max_boolean(a),
            ) {
                (Some(lo), Some(hi)) => Some((Bound::B(lo), Bound::B(hi))),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        BooleanArray, Date32Array, Float32Array, Float64Array, Int16Array, Int32Array, Int64Array,
        StringArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Field, Schema};
    use serde_json::json;

    use super::*;

    fn schema(extra: Vec<Field>) -> SchemaRef {
        let mut fields = extra;
        fields.push(Field::new(SEQ_COLUMN, DataType::Int64, false));
        fields.push(Field::new(DELETED_COLUMN, DataType::Boolean, false));
        Arc::new(Schema::new(fields))
    }

    fn batch(schema: &SchemaRef, mut cols: Vec<ArrayRef>, seqs: Vec<i64>) -> RecordBatch {
        let n = seqs.len();
        cols.push(Arc::new(Int64Array::from(seqs)));
        cols.push(Arc::new(BooleanArray::from(vec![false; n])));
        RecordBatch::try_new(schema.clone(), cols).unwrap()
    }

    #[test]
    fn statistics_across_batches() {
        let s = schema(vec![
            Field::new("i16", DataType::Int16, true),
            Field::new("i32", DataType::Int32, true),
            Field::new("f32", DataType::Float32, true),
            Field::new("f64", DataType::Float64, true),
            Field::new("txt", DataType::Utf8, true),
            Field::new("day", DataType::Date32, true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("flag", DataType::Boolean, true),
            Field::new("nothing", DataType::Int64, true),
        ]);
        let b1 = batch(
            &s,
            vec![
                Arc::new(Int16Array::from(vec![Some(5), None, Some(-3)])),
                Arc::new(Int32Array::from(vec![10, 20, 30])),
                Arc::new(Float32Array::from(vec![1.5, -2.5, 0.0])),
                Arc::new(Float64Array::from(vec![1.0, f64::NAN, 2.0])),
                Arc::new(StringArray::from(vec![Some("m"), Some("b"), None])),
                Arc::new(Date32Array::from(vec![19_000, 19_001, 18_999])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![5_000_000, 1, 7]).with_timezone("UTC"),
                ),
                Arc::new(BooleanArray::from(vec![Some(true), None, Some(true)])),
                Arc::new(Int64Array::from(vec![None::<i64>, None, None])),
            ],
            vec![30, 10, 20],
        );
        let b2 = batch(
            &s,
            vec![
                Arc::new(Int16Array::from(vec![Some(9)])),
                Arc::new(Int32Array::from(vec![-1])),
                Arc::new(Float32Array::from(vec![None])),
                Arc::new(Float64Array::from(vec![3.0])),
                Arc::new(StringArray::from(vec![Some("zz")])),
                Arc::new(Date32Array::from(vec![None])),
                Arc::new(TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC")),
                Arc::new(BooleanArray::from(vec![Some(false)])),
                Arc::new(Int64Array::from(vec![None::<i64>])),
            ],
            vec![40],
        );
        let (bytes, st) = encode_segment(&s, &[b1, b2], Some("i32")).unwrap();
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
        assert_eq!((st.rows, st.min_seq, st.max_seq), (4, 10, 40));
        let c = |name: &str| st.columns[name].clone();
        let mm = |name: &str| (c(name).min, c(name).max, c(name).null_count);
        assert_eq!(mm("i16"), (Some(json!(-3)), Some(json!(9)), 1));
        assert_eq!(mm("i32"), (Some(json!(-1)), Some(json!(30)), 0));
        assert_eq!(mm("f32"), (Some(json!(-2.5)), Some(json!(1.5)), 1));
        // A NaN makes min/max unknowable.
        assert_eq!(mm("f64"), (None, None, 0));
        assert_eq!(mm("txt"), (Some(json!("b")), Some(json!("zz")), 1));
        assert_eq!(mm("day"), (Some(json!(18_999)), Some(json!(19_001)), 1));
        assert_eq!(mm("ts"), (Some(json!(0)), Some(json!(5_000_000)), 0));
        assert_eq!(mm("flag"), (Some(json!(false)), Some(json!(true)), 1));
        assert_eq!(mm("nothing"), (None, None, 4));
        assert_eq!(mm(SEQ_COLUMN), (Some(json!(10)), Some(json!(40)), 0));
        assert_eq!(
            mm(DELETED_COLUMN),
            (Some(json!(false)), Some(json!(false)), 0)
        );

        let meta = st.into_meta("p".into(), bytes.len() as u64, 5);
        assert!(meta.may_contain("i32", &PkKey::Int(30)));
        assert!(!meta.may_contain("i32", &PkKey::Int(31)));
        assert!(!meta.may_contain("txt", &PkKey::Text("a".into())));
        assert!(meta.may_contain("txt", &PkKey::Text("c".into())));
        // Unknown statistics or columns never exclude.
        assert!(meta.may_contain("f64", &PkKey::Int(1_000)));
        assert!(meta.may_contain("missing", &PkKey::Int(1)));
    }

    #[test]
    fn long_text_and_infinities_have_no_min_max() {
        let s = schema(vec![
            Field::new("t", DataType::Utf8, false),
            Field::new("f", DataType::Float32, false),
        ]);
        let long = "x".repeat(MAX_TEXT_STAT_BYTES + 1);
        let b = batch(
            &s,
            vec![
                Arc::new(StringArray::from(vec!["a", long.as_str()])),
                Arc::new(Float32Array::from(vec![1.0, f32::INFINITY])),
            ],
            vec![1, 2],
        );
        let (_, st) = encode_segment(&s, &[b], None).unwrap();
        assert_eq!(
            (st.columns["t"].min.clone(), st.columns["t"].max.clone()),
            (None, None)
        );
        assert_eq!(st.columns["f"].min, None);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let s = schema(vec![Field::new("id", DataType::Int64, false)]);
        let good = batch(&s, vec![Arc::new(Int64Array::from(vec![1]))], vec![1]);
        let msg = |r: Result<(Bytes, SegmentStats), ColdError>| match r {
            Err(ColdError::InvalidSegment(m)) => m,
            other => panic!("expected InvalidSegment, got {other:?}"),
        };

        assert_eq!(
            msg(encode_segment(&s, &[], Some("id"))),
            "A segment needs at least one row"
        );
        let no_seq = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        assert_eq!(
            msg(encode_segment(&no_seq, &[], None)),
            "A segment needs a column '_seq' of type Int64"
        );
        assert_eq!(
            msg(encode_segment(
                &s,
                std::slice::from_ref(&good),
                Some("nope")
            )),
            "Key column 'nope' is not in the segment schema"
        );
        let fs = schema(vec![Field::new("x", DataType::Float64, false)]);
        let fb = batch(&fs, vec![Arc::new(Float64Array::from(vec![1.0]))], vec![1]);
        assert_eq!(
            msg(encode_segment(&fs, &[fb], Some("x"))),
            "Key column 'x' has type Float64; keys are integers or text"
        );
        let other = schema(vec![Field::new("id", DataType::Utf8, false)]);
        let ob = batch(
            &other,
            vec![Arc::new(StringArray::from(vec!["a"]))],
            vec![1],
        );
        assert_eq!(
            msg(encode_segment(&s, &[good, ob], Some("id"))),
            "Batch 1: column 'id' is Utf8, the segment schema says Int64"
        );
        let nullable = schema(vec![Field::new("id", DataType::Int64, true)]);
        let nb = batch(
            &nullable,
            vec![Arc::new(Int64Array::from(vec![None::<i64>]))],
            vec![1],
        );
        assert_eq!(
            msg(encode_segment(&s, &[nb], Some("id"))),
            "Batch 0: column 'id' is NOT NULL but holds nulls"
        );
    }

    #[test]
    fn file_names_sort_by_age() {
        assert_eq!(segment_file_name(123), "seg-00000000000000000123.parquet");
        assert_eq!(
            segment_file_name(i64::MAX),
            "seg-09223372036854775807.parquet"
        );
        let mut names: Vec<String> = [5_i64, 1 << 40, 77, 1 << 62]
            .iter()
            .map(|s| segment_file_name(*s))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [5_i64, 77, 1 << 40, 1 << 62]
                .iter()
                .map(|s| segment_file_name(*s))
                .collect::<Vec<_>>()
        );
    }
}
