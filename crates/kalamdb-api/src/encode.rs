//! Arrow results → KalamDB wire JSON (`wire-protocol.md` §3.3–3.5).
//!
//! Every query answer leaves the server through this module: the HTTP endpoint
//! sends a `schema` of column descriptors plus positional `rows`, the
//! WebSocket sends row objects keyed by column name, and both must spell types
//! and values exactly as the published clients decode them (one unknown
//! `data_type` or a 64-bit integer sent as a JSON number breaks a whole call).
//! Keeping the mapping in one place guarantees HTTP and WebSocket rows agree,
//! which the live-query clients rely on when they key rows by primary key.
//!
//! Encoding works column by column on downcast Arrow arrays and zips the
//! finished columns into rows, so the per-cell cost is a tight loop over a
//! typed buffer rather than dynamic dispatch through `ScalarValue`.

use datafusion::arrow::array::{Array, ArrowPrimitiveType, AsArray, OffsetSizeTrait};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
    Field, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Schema, Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use kalamdb_types::{FIELD_META_DATA_TYPE, FIELD_META_FLAGS, KalamDataType};
use serde_json::{Map, Number, Value};

/// Columns whose values never leave the server in clear (§3.3, for every
/// caller including dba/system).
const MASKED_COLUMNS: [&str; 2] = ["password_hash", "credentials"];
const MASK: &str = "***";

/// The only flag spellings the clients accept (§3.3), in the order we emit
/// them.
const KNOWN_FLAGS: [&str; 3] = ["pk", "nn", "uq"];

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MILLI: i64 = 1_000;
const NANOS_PER_MICRO: i64 = 1_000;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// One entry of a result's `schema` array (§3.3).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ColumnDescriptor {
    pub name: String,
    /// The §3.4 spelling, e.g. `"BigInt"` or `{"Decimal":{"precision":10,"scale":2}}`.
    pub data_type: Value,
    /// 0-based position; clients pair cells with descriptors by array position,
    /// so this always equals the descriptor's place in the list.
    pub index: usize,
    /// Subset of `pk`, `nn`, `uq`; omitted from the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(
        "Column '{column}' holds a non-finite float (NaN or infinity), which JSON cannot carry"
    )]
    NonFinite { column: String },
    #[error("Cannot encode column '{column}': {message}")]
    Unsupported { column: String, message: String },
}

/// Describes every field of `schema` in order, for the `schema` array of an
/// HTTP result or a `subscription_ack`.
pub fn describe_schema(schema: &Schema) -> Vec<ColumnDescriptor> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(index, field)| ColumnDescriptor {
            name: field.name().clone(),
            data_type: wire_type(field).wire_json(),
            index,
            flags: wire_flags(field),
        })
        .collect()
}

/// The column's wire type: the declared type carried in the field metadata
/// when present and valid (table columns), else derived from the Arrow type
/// (computed columns). Never yields a spelling outside §3.4.
pub fn wire_type(field: &Field) -> KalamDataType {
    field
        .metadata()
        .get(FIELD_META_DATA_TYPE)
        .and_then(|raw| serde_json::from_str::<KalamDataType>(raw).ok())
        .unwrap_or_else(|| arrow_wire_type(field.data_type()))
}

/// Encodes `batches` as positional rows in `schema` order, batches and rows
/// kept in their original order.
pub fn encode_rows(
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<Vec<Value>>, EncodeError> {
    let total = batches.iter().map(RecordBatch::num_rows).sum();
    let mut rows = Vec::with_capacity(total);
    for batch in batches {
        let mut columns: Vec<_> = encode_batch(schema, batch)?
            .into_iter()
            .map(Vec::into_iter)
            .collect();
        for _ in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter_mut()
                    .map(|column| column.next().unwrap_or(Value::Null))
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Encodes `batches` as row objects keyed by column name (WebSocket rows,
/// §6.4). Should two columns share a name, the later one wins.
pub fn encode_row_objects(
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<Map<String, Value>>, EncodeError> {
    let total = batches.iter().map(RecordBatch::num_rows).sum();
    let mut rows = Vec::with_capacity(total);
    for batch in batches {
        let mut columns: Vec<_> = schema
            .fields()
            .iter()
            .map(|field| field.name())
            .zip(encode_batch(schema, batch)?.into_iter().map(Vec::into_iter))
            .collect();
        for _ in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter_mut()
                    .map(|(name, column)| ((*name).clone(), column.next().unwrap_or(Value::Null)))
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Flags come only from metadata; anything but `pk`/`nn`/`uq` would break the
/// clients' strict decoding, so it is dropped rather than passed through.
/// A nullable field carries none: DataFusion keeps a column's metadata
/// through outer joins, window functions and unions that can make it NULL,
/// and a result column that may be NULL is no key.
fn wire_flags(field: &Field) -> Vec<String> {
    if field.is_nullable() {
        return Vec::new();
    }
    let Some(raw) = field.metadata().get(FIELD_META_FLAGS) else {
        return Vec::new();
    };
    let present: Vec<&str> = raw.split(',').map(str::trim).collect();
    KNOWN_FLAGS
        .iter()
        .filter(|flag| present.contains(*flag))
        .map(|flag| (*flag).to_owned())
        .collect()
}

/// §3.4's mapping for columns without declared metadata.
fn arrow_wire_type(data_type: &DataType) -> KalamDataType {
    match data_type {
        DataType::Boolean => KalamDataType::Boolean,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => KalamDataType::SmallInt,
        DataType::Int32 | DataType::UInt16 => KalamDataType::Int,
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => KalamDataType::BigInt,
        DataType::Float16 | DataType::Float32 => KalamDataType::Float,
        DataType::Float64 => KalamDataType::Double,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => KalamDataType::Text,
        DataType::FixedSizeBinary(16) => KalamDataType::Uuid,
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => KalamDataType::Bytes,
        DataType::Decimal32(precision, scale)
        | DataType::Decimal64(precision, scale)
        | DataType::Decimal128(precision, scale)
        | DataType::Decimal256(precision, scale) => KalamDataType::Decimal {
            precision: *precision,
            scale: *scale,
        },
        DataType::Date32 | DataType::Date64 => KalamDataType::Date,
        DataType::Time32(_) | DataType::Time64(_) => KalamDataType::Time,
        DataType::Timestamp(_, None) => KalamDataType::Timestamp,
        DataType::Timestamp(_, Some(_)) => KalamDataType::DateTime,
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_)
        | DataType::Map(_, _) => KalamDataType::Json,
        DataType::Dictionary(_, value_type) => arrow_wire_type(value_type),
        _ => KalamDataType::Text,
    }
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

/// Encodes one array into one JSON value per slot. `wire` is the declared
/// type where it changes the encoding (BigInt forces strings, Bytes keeps a
/// 16-byte binary as bytes); `column` names the top-level column in errors.
fn encode_array(
    array: &dyn Array,
    wire: KalamDataType,
    column: &str,
) -> Result<Vec<Value>, EncodeError> {
    match array.data_type() {
        DataType::Null => Ok(vec![Value::Null; array.len()]),
        DataType::Boolean => {
            let arr = array
                .as_boolean_opt()
                .ok_or_else(|| mismatch(column, array))?;
            Ok(arr
                .iter()
                .map(|v| v.map_or(Value::Null, Value::Bool))
                .collect())
        }
        DataType::Int8 => integers::<Int8Type>(array, column, wire, false),
        DataType::Int16 => integers::<Int16Type>(array, column, wire, false),
        DataType::Int32 => integers::<Int32Type>(array, column, wire, false),
        DataType::Int64 => integers::<Int64Type>(array, column, wire, true),
        DataType::UInt8 => integers::<UInt8Type>(array, column, wire, false),
        DataType::UInt16 => integers::<UInt16Type>(array, column, wire, false),
        DataType::UInt32 => integers::<UInt32Type>(array, column, wire, true),
        DataType::UInt64 => integers::<UInt64Type>(array, column, wire, true),
        DataType::Float16 => {
            map_primitive::<Float16Type>(array, column, |v| float32_value(f32::from(v), column))
        }
        DataType::Float32 => {
            map_primitive::<Float32Type>(array, column, |v| float32_value(v, column))
        }
        DataType::Float64 => {
            map_primitive::<Float64Type>(array, column, |v| float64_value(v, column))
        }
        DataType::Decimal32(_, scale) => {
            let scale = *scale;
            map_primitive::<Decimal32Type>(array, column, |v| {
                Ok(decimal_value(&v.unsigned_abs().to_string(), v < 0, scale))
            })
        }
        DataType::Decimal64(_, scale) => {
            let scale = *scale;
            map_primitive::<Decimal64Type>(array, column, |v| {
                Ok(decimal_value(&v.unsigned_abs().to_string(), v < 0, scale))
            })
        }
        DataType::Decimal128(_, scale) => {
            let scale = *scale;
            map_primitive::<Decimal128Type>(array, column, |v| {
                Ok(decimal_value(&v.unsigned_abs().to_string(), v < 0, scale))
            })
        }
        DataType::Decimal256(_, scale) => {
            let scale = *scale;
            map_primitive::<Decimal256Type>(array, column, |v| {
                let text = v.to_string();
                Ok(match text.strip_prefix('-') {
                    Some(digits) => decimal_value(digits, true, scale),
                    None => decimal_value(&text, false, scale),
                })
            })
        }
        DataType::Utf8 => {
            let arr = array
                .as_string_opt::<i32>()
                .ok_or_else(|| mismatch(column, array))?;
            Ok(strings(arr.iter()))
        }
        DataType::LargeUtf8 => {
            let arr = array
                .as_string_opt::<i64>()
                .ok_or_else(|| mismatch(column, array))?;
            Ok(strings(arr.iter()))
        }
        DataType::Utf8View => {
            let arr = array
                .as_string_view_opt()
                .ok_or_else(|| mismatch(column, array))?;
            Ok(strings(arr.iter()))
        }
        DataType::Binary => {
            let arr = array
                .as_binary_opt::<i32>()
                .ok_or_else(|| mismatch(column, array))?;
            Ok(byte_arrays(arr.iter()))
        }
        DataType::LargeBinary => {
            let arr = array
                .as_binary_opt::<i64>()
                .ok_or_else(|| mismatch(column, array))?;
            Ok(byte_arrays(arr.iter()))
        }
        DataType::BinaryView => {
            let arr = array
                .as_binary_view_opt()
                .ok_or_else(|| mismatch(column, array))?;
            Ok(byte_arrays(arr.iter()))
        }
        DataType::FixedSizeBinary(width) => {
            let arr = array
                .as_fixed_size_binary_opt()
                .ok_or_else(|| mismatch(column, array))?;
            if *width == 16 && wire != KalamDataType::Bytes {
                Ok(arr
                    .iter()
                    .map(|v| v.map_or(Value::Null, |bytes| Value::String(uuid_string(bytes))))
                    .collect())
            } else {
                Ok(byte_arrays(arr.iter()))
            }
        }
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => map_primitive::<TimestampSecondType>(array, column, |v| {
                scaled_micros(v, MICROS_PER_SECOND, column)
            }),
            TimeUnit::Millisecond => {
                map_primitive::<TimestampMillisecondType>(array, column, |v| {
                    scaled_micros(v, MICROS_PER_MILLI, column)
                })
            }
            TimeUnit::Microsecond => {
                map_primitive::<TimestampMicrosecondType>(array, column, |v| Ok(Value::from(v)))
            }
            TimeUnit::Nanosecond => map_primitive::<TimestampNanosecondType>(array, column, |v| {
                Ok(Value::from(v.div_euclid(NANOS_PER_MICRO)))
            }),
        },
        DataType::Date32 => map_primitive::<Date32Type>(array, column, |v| Ok(Value::from(v))),
        DataType::Date64 => map_primitive::<Date64Type>(array, column, |v| {
            Ok(Value::from(v.div_euclid(MILLIS_PER_DAY)))
        }),
        DataType::Time32(TimeUnit::Second) => {
            map_primitive::<Time32SecondType>(array, column, |v| {
                Ok(Value::from(i64::from(v) * MICROS_PER_SECOND))
            })
        }
        DataType::Time32(TimeUnit::Millisecond) => {
            map_primitive::<Time32MillisecondType>(array, column, |v| {
                Ok(Value::from(i64::from(v) * MICROS_PER_MILLI))
            })
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            map_primitive::<Time64MicrosecondType>(array, column, |v| Ok(Value::from(v)))
        }
        DataType::Time64(TimeUnit::Nanosecond) => {
            map_primitive::<Time64NanosecondType>(array, column, |v| {
                Ok(Value::from(v.div_euclid(NANOS_PER_MICRO)))
            })
        }
        DataType::List(item) => encode_list::<i32>(array, item, column),
        DataType::LargeList(item) => encode_list::<i64>(array, item, column),
        DataType::FixedSizeList(item, _) => encode_fixed_size_list(array, item, column),
        DataType::Struct(_) => encode_struct(array, column),
        DataType::Map(_, _) => encode_map(array, column),
        DataType::Dictionary(_, _) => encode_dictionary(array, wire, column),
        _ => encode_display(array, column),
    }
}

fn mismatch(column: &str, array: &dyn Array) -> EncodeError {
    EncodeError::Unsupported {
        column: column.to_owned(),
        message: format!(
            "the array does not match its declared type {}",
            array.data_type()
        ),
    }
}

/// Applies `encode` to every valid slot of a primitive array. Null slots hold
/// arbitrary bytes, so `encode` never sees them (no spurious overflow or NaN
/// errors from data that is not there).
fn map_primitive<T: ArrowPrimitiveType>(
    array: &dyn Array,
    column: &str,
    mut encode: impl FnMut(T::Native) -> Result<Value, EncodeError>,
) -> Result<Vec<Value>, EncodeError> {
    let arr = array
        .as_primitive_opt::<T>()
        .ok_or_else(|| mismatch(column, array))?;
    let values = arr.values().iter().copied();
    let mut out = Vec::with_capacity(arr.len());
    match arr.nulls().filter(|nulls| nulls.null_count() > 0) {
        None => {
            for v in values {
                out.push(encode(v)?);
            }
        }
        Some(nulls) => {
            for (v, valid) in values.zip(nulls.iter()) {
                out.push(if valid { encode(v)? } else { Value::Null });
            }
        }
    }
    Ok(out)
}

/// Integers become JSON numbers up to 32 bits; 64-bit integers, and any
/// integer declared BigInt, become strings because JavaScript clients would
/// silently round them above 2^53. An integer column declared as a temporal
/// type stays a number, as §3.5 prescribes for timestamps, dates and times.
fn integers<T>(
    array: &dyn Array,
    column: &str,
    wire: KalamDataType,
    is_64_bit: bool,
) -> Result<Vec<Value>, EncodeError>
where
    T: ArrowPrimitiveType,
    T::Native: ToString + Into<Value>,
{
    let as_string = match wire {
        KalamDataType::BigInt => true,
        KalamDataType::Timestamp
        | KalamDataType::DateTime
        | KalamDataType::Date
        | KalamDataType::Time => false,
        _ => is_64_bit,
    };
    if as_string {
        map_primitive::<T>(array, column, |v| Ok(Value::String(v.to_string())))
    } else {
        map_primitive::<T>(array, column, |v| Ok(v.into()))
    }
}

/// Goes through the shortest decimal rendering of the `f32` so that `1.1`
/// reaches the client as `1.1`, not as its widened `1.100000023841858`.
fn float32_value(v: f32, column: &str) -> Result<Value, EncodeError> {
    if !v.is_finite() {
        return Err(non_finite(column));
    }
    let widened = v.to_string().parse::<f64>().unwrap_or(f64::from(v));
    float64_value(widened, column)
}

fn float64_value(v: f64, column: &str) -> Result<Value, EncodeError> {
    Number::from_f64(v)
        .map(Value::Number)
        .ok_or_else(|| non_finite(column))
}

fn non_finite(column: &str) -> EncodeError {
    EncodeError::NonFinite {
        column: column.to_owned(),
    }
}

/// Renders an unscaled decimal (`digits` = absolute value in base 10) with
/// exactly `scale` fractional digits: `5`, scale 2 → `0.05`. A negative scale
/// multiplies by a power of ten, so the value is printed as an integer.
fn decimal_value(digits: &str, negative: bool, scale: i8) -> Value {
    let is_zero = digits.bytes().all(|b| b == b'0');
    let scale_len = usize::from(scale.unsigned_abs());
    let mut out = String::with_capacity(digits.len() + scale_len + 3);
    if negative && !is_zero {
        out.push('-');
    }
    if scale > 0 {
        match digits.len().checked_sub(scale_len) {
            Some(int_len) if int_len > 0 => {
                let (int_part, frac_part) = digits.split_at(int_len);
                out.push_str(int_part);
                out.push('.');
                out.push_str(frac_part);
            }
            _ => {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', scale_len - digits.len()));
                out.push_str(digits);
            }
        }
    } else {
        out.push_str(digits);
        if scale < 0 && !is_zero {
            out.extend(std::iter::repeat_n('0', scale_len));
        }
    }
    Value::String(out)
}

fn scaled_micros(v: i64, factor: i64, column: &str) -> Result<Value, EncodeError> {
    v.checked_mul(factor)
        .map(Value::from)
        .ok_or_else(|| EncodeError::Unsupported {
            column: column.to_owned(),
            message: format!("timestamp {v} is out of the range representable in microseconds"),
        })
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Vec<Value> {
    values
        .map(|v| v.map_or(Value::Null, |s| Value::String(s.to_owned())))
        .collect()
}

fn byte_arrays<'a>(values: impl Iterator<Item = Option<&'a [u8]>>) -> Vec<Value> {
    values
        .map(|v| {
            v.map_or(Value::Null, |bytes| {
                Value::Array(bytes.iter().map(|b| Value::from(*b)).collect())
            })
        })
        .collect()
}

/// Canonical lowercase hyphenated form (8-4-4-4-12), as the clients'
/// `as_uuid` expects.
fn uuid_string(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        for nibble in [byte >> 4, byte & 0x0f] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

fn malformed(column: &str, what: &str) -> EncodeError {
    EncodeError::Unsupported {
        column: column.to_owned(),
        message: format!("malformed {what} in the result"),
    }
}

/// Moves the already-encoded values of `range` out of `values`. Each list
/// slot owns a disjoint range, so taking (instead of cloning) is safe.
fn take_range(
    values: &mut [Value],
    range: std::ops::Range<usize>,
    column: &str,
) -> Result<Vec<Value>, EncodeError> {
    values
        .get_mut(range)
        .map(|slot| slot.iter_mut().map(std::mem::take).collect())
        .ok_or_else(|| malformed(column, "list offsets"))
}

/// Offsets of a (possibly sliced) list, rebased to the start of the child
/// range they cover, so only referenced child values get encoded.
fn rebased_offsets<O: OffsetSizeTrait>(
    offsets: &[O],
    column: &str,
) -> Result<(usize, usize, Vec<usize>), EncodeError> {
    let to_usize = |o: &O| {
        o.to_usize()
            .ok_or_else(|| malformed(column, "list offsets"))
    };
    let start = offsets.first().map(to_usize).transpose()?.unwrap_or(0);
    let end = offsets.last().map(to_usize).transpose()?.unwrap_or(start);
    let rebased = offsets
        .iter()
        .map(|o| {
            to_usize(o)?
                .checked_sub(start)
                .ok_or_else(|| malformed(column, "list offsets"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let len = end
        .checked_sub(start)
        .ok_or_else(|| malformed(column, "list offsets"))?;
    Ok((start, len, rebased))
}

fn encode_list<O: OffsetSizeTrait>(
    array: &dyn Array,
    item: &Field,
    column: &str,
) -> Result<Vec<Value>, EncodeError> {
    let list = array
        .as_list_opt::<O>()
        .ok_or_else(|| mismatch(column, array))?;
    let (start, len, offsets) = rebased_offsets(list.value_offsets(), column)?;
    if start + len > list.values().len() {
        return Err(malformed(column, "list offsets"));
    }
    let child = list.values().slice(start, len);
    let mut items = encode_array(child.as_ref(), wire_type(item), column)?;
    let mut out = Vec::with_capacity(list.len());
    for (i, (from, to)) in offsets.iter().zip(offsets.iter().skip(1)).enumerate() {
        out.push(if list.is_null(i) {
            Value::Null
        } else {
            Value::Array(take_range(&mut items, *from..*to, column)?)
        });
    }
    Ok(out)
}

fn encode_fixed_size_list(
    array: &dyn Array,
    item: &Field,
    column: &str,
) -> Result<Vec<Value>, EncodeError> {
    let list = array
        .as_fixed_size_list_opt()
        .ok_or_else(|| mismatch(column, array))?;
    // A sliced FixedSizeListArray already slices its values, so slot `i`
    // covers `i * size .. (i + 1) * size` of them.
    let size = usize::try_from(list.value_length())
        .map_err(|_| malformed(column, "fixed-size list length"))?;
    let mut items = encode_array(list.values().as_ref(), wire_type(item), column)?;
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        out.push(if list.is_null(i) {
            Value::Null
        } else {
            let from = i * size;
            Value::Array(take_range(&mut items, from..from + size, column)?)
        });
    }
    Ok(out)
}

fn encode_struct(array: &dyn Array, column: &str) -> Result<Vec<Value>, EncodeError> {
    let st = array
        .as_struct_opt()
        .ok_or_else(|| mismatch(column, array))?;
    let mut children = st
        .fields()
        .iter()
        .zip(st.columns())
        .map(|(field, child)| {
            let values = encode_array(child.as_ref(), wire_type(field), column)?;
            Ok((field.name(), values.into_iter()))
        })
        .collect::<Result<Vec<_>, EncodeError>>()?;
    let mut out = Vec::with_capacity(st.len());
    for i in 0..st.len() {
        // Every child iterator advances on every slot, null or not, to stay
        // aligned with the struct's slots.
        let object: Map<String, Value> = children
            .iter_mut()
            .map(|(name, values)| ((*name).clone(), values.next().unwrap_or(Value::Null)))
            .collect();
        out.push(if st.is_null(i) {
            Value::Null
        } else {
            Value::Object(object)
        });
    }
    Ok(out)
}

/// String-keyed maps read naturally as JSON objects; other key types cannot
/// be object keys without losing their type, so those maps become
/// `[[key, value], …]`.
fn encode_map(array: &dyn Array, column: &str) -> Result<Vec<Value>, EncodeError> {
    let map = array.as_map_opt().ok_or_else(|| mismatch(column, array))?;
    let (key_field, value_field) = map.entries_fields();
    let string_keys = is_string_type(key_field.data_type());
    let (start, len, offsets) = rebased_offsets(map.value_offsets(), column)?;
    if start + len > map.entries().len() {
        return Err(malformed(column, "map offsets"));
    }
    let keys = map.keys().slice(start, len);
    let values = map.values().slice(start, len);
    let mut keys = encode_array(keys.as_ref(), wire_type(key_field), column)?;
    let mut values = encode_array(values.as_ref(), wire_type(value_field), column)?;
    let mut out = Vec::with_capacity(map.len());
    for (i, (from, to)) in offsets.iter().zip(offsets.iter().skip(1)).enumerate() {
        if map.is_null(i) {
            out.push(Value::Null);
            continue;
        }
        let entry_keys = take_range(&mut keys, *from..*to, column)?;
        let entry_values = take_range(&mut values, *from..*to, column)?;
        let entries = entry_keys.into_iter().zip(entry_values);
        out.push(if string_keys {
            Value::Object(
                entries
                    .map(|(key, value)| match key {
                        Value::String(key) => (key, value),
                        other => (other.to_string(), value),
                    })
                    .collect(),
            )
        } else {
            Value::Array(
                entries
                    .map(|(key, value)| Value::Array(vec![key, value]))
                    .collect(),
            )
        });
    }
    Ok(out)
}

fn is_string_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value_type) => is_string_type(value_type),
        _ => false,
    }
}

/// Dictionary values are encoded once and shared by every slot pointing at
/// them; the client sees plain values, never the dictionary.
fn encode_dictionary(
    array: &dyn Array,
    wire: KalamDataType,
    column: &str,
) -> Result<Vec<Value>, EncodeError> {
    let dict = array
        .as_any_dictionary_opt()
        .ok_or_else(|| mismatch(column, array))?;
    if dict.values().is_empty() {
        // No values means every key is null (`normalized_keys` would panic).
        return Ok(vec![Value::Null; dict.len()]);
    }
    let values = encode_array(dict.values().as_ref(), wire, column)?;
    Ok(dict
        .normalized_keys()
        .into_iter()
        .enumerate()
        .map(|(i, key)| {
            if dict.is_null(i) {
                Value::Null
            } else {
                values.get(key).cloned().unwrap_or(Value::Null)
            }
        })
        .collect())
}

/// Types without a dedicated JSON form (intervals, durations, unions, …) go
/// out as Arrow's own text rendering, which is what a human would expect to
/// read in a result grid.
fn encode_display(array: &dyn Array, column: &str) -> Result<Vec<Value>, EncodeError> {
    let unsupported = |e: datafusion::arrow::error::ArrowError| EncodeError::Unsupported {
        column: column.to_owned(),
        message: e.to_string(),
    };
    let options = FormatOptions::default();
    let formatter = ArrayFormatter::try_new(array, &options).map_err(unsupported)?;
    let nulls = array.logical_nulls();
    (0..array.len())
        .map(|i| match &nulls {
            Some(nulls) if nulls.is_null(i) => Ok(Value::Null),
            _ => formatter
                .value(i)
                .try_to_string()
                .map(Value::String)
                .map_err(unsupported),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, Date32Array, Date64Array,
        Decimal128Array, Decimal256Array, DictionaryArray, DurationSecondArray,
        FixedSizeBinaryArray, FixedSizeListArray, Float16Array, Float32Array, Float64Array,
        Int8Array, Int16Array, Int32Array, Int32Builder, Int64Array, IntervalMonthDayNanoArray,
        LargeBinaryArray, LargeListArray, LargeStringArray, ListArray, MapBuilder, NullArray,
        StringArray, StringBuilder, StringViewArray, StructArray, Time32MillisecondArray,
        Time32SecondArray, Time64MicrosecondArray, Time64NanosecondArray,
        TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
        TimestampSecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
    };
    use datafusion::arrow::datatypes::{
        Fields, IntervalMonthDayNano, IntervalUnit, UnionFields, i256,
    };
    use serde_json::json;

    use super::*;

    fn field(name: &str, data_type: DataType) -> Field {
        Field::new(name, data_type, true)
    }

    fn meta_field(name: &str, data_type: DataType, wire: &str, flags: Option<&str>) -> Field {
        let mut metadata = HashMap::from([(FIELD_META_DATA_TYPE.to_owned(), wire.to_owned())]);
        if let Some(flags) = flags {
            metadata.insert(FIELD_META_FLAGS.to_owned(), flags.to_owned());
        }
        Field::new(name, data_type, flags.is_none()).with_metadata(metadata)
    }

    /// Encodes a single column through the public API and returns its cells.
    fn cells_of(field: Field, array: ArrayRef) -> Result<Vec<Value>, EncodeError> {
        let schema = Arc::new(Schema::new(vec![field]));
        let batch = RecordBatch::try_new(schema.clone(), vec![array]).unwrap();
        let rows = encode_rows(&schema, &[batch])?;
        Ok(rows.into_iter().map(|mut row| row.remove(0)).collect())
    }

    fn cells(array: ArrayRef) -> Vec<Value> {
        let f = field("c", array.data_type().clone());
        cells_of(f, array).unwrap()
    }

    fn mapped(data_type: DataType) -> Value {
        wire_type(&field("c", data_type)).wire_json()
    }

    fn item(data_type: DataType) -> Arc<Field> {
        Arc::new(Field::new("item", data_type, true))
    }

    #[test]
    fn arrow_types_map_to_the_spec_spellings() {
        let utc: Option<Arc<str>> = Some("UTC".into());
        let cases = [
            (DataType::Boolean, json!("Boolean")),
            (DataType::Int8, json!("SmallInt")),
            (DataType::Int16, json!("SmallInt")),
            (DataType::UInt8, json!("SmallInt")),
            (DataType::Int32, json!("Int")),
            (DataType::UInt16, json!("Int")),
            (DataType::Int64, json!("BigInt")),
            (DataType::UInt32, json!("BigInt")),
            (DataType::UInt64, json!("BigInt")),
            (DataType::Float16, json!("Float")),
            (DataType::Float32, json!("Float")),
            (DataType::Float64, json!("Double")),
            (DataType::Utf8, json!("Text")),
            (DataType::LargeUtf8, json!("Text")),
            (DataType::Utf8View, json!("Text")),
            (DataType::Binary, json!("Bytes")),
            (DataType::LargeBinary, json!("Bytes")),
            (DataType::BinaryView, json!("Bytes")),
            (DataType::FixedSizeBinary(8), json!("Bytes")),
            (DataType::FixedSizeBinary(16), json!("Uuid")),
            (
                DataType::Decimal128(10, 2),
                json!({"Decimal": {"precision": 10, "scale": 2}}),
            ),
            (
                DataType::Decimal256(50, 4),
                json!({"Decimal": {"precision": 50, "scale": 4}}),
            ),
            (DataType::Date32, json!("Date")),
            (DataType::Date64, json!("Date")),
            (DataType::Time32(TimeUnit::Millisecond), json!("Time")),
            (DataType::Time64(TimeUnit::Nanosecond), json!("Time")),
            (
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                json!("Timestamp"),
            ),
            (
                DataType::Timestamp(TimeUnit::Microsecond, utc),
                json!("DateTime"),
            ),
            (DataType::List(item(DataType::Int32)), json!("Json")),
            (DataType::LargeList(item(DataType::Int32)), json!("Json")),
            (
                DataType::FixedSizeList(item(DataType::Float32), 3),
                json!("Json"),
            ),
            (
                DataType::Struct(Fields::from(vec![field("a", DataType::Int32)])),
                json!("Json"),
            ),
            (
                DataType::Map(
                    Arc::new(Field::new(
                        "entries",
                        DataType::Struct(Fields::from(vec![
                            Field::new("keys", DataType::Utf8, false),
                            field("values", DataType::Int32),
                        ])),
                        false,
                    )),
                    false,
                ),
                json!("Json"),
            ),
            (
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                json!("Text"),
            ),
            (
                DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Int64)),
                json!("BigInt"),
            ),
            (DataType::Null, json!("Text")),
            (DataType::Duration(TimeUnit::Second), json!("Text")),
            (
                DataType::Interval(IntervalUnit::MonthDayNano),
                json!("Text"),
            ),
        ];
        for (data_type, expected) in cases {
            assert_eq!(mapped(data_type.clone()), expected, "for {data_type}");
        }
    }

    #[test]
    fn metadata_type_overrides_the_arrow_mapping() {
        let json_col = meta_field("doc", DataType::Utf8, r#""Json""#, None);
        assert_eq!(wire_type(&json_col), KalamDataType::Json);
        let array: ArrayRef = Arc::new(StringArray::from(vec![r#"{"a":1}"#]));
        assert_eq!(
            cells_of(json_col, array).unwrap(),
            vec![json!(r#"{"a":1}"#)]
        );

        let decimal = meta_field(
            "price",
            DataType::Utf8,
            r#"{"Decimal":{"precision":10,"scale":2}}"#,
            None,
        );
        assert_eq!(
            wire_type(&decimal),
            KalamDataType::Decimal {
                precision: 10,
                scale: 2
            }
        );

        // Garbage metadata must never reach the wire as an unknown spelling.
        let bogus = meta_field("x", DataType::Int32, r#""Varchar""#, None);
        assert_eq!(wire_type(&bogus), KalamDataType::Int);
        let not_json = meta_field("y", DataType::Int64, "BigInt", None);
        assert_eq!(wire_type(&not_json), KalamDataType::BigInt);
    }

    #[test]
    fn describe_schema_keeps_order_and_only_known_flags() {
        let schema = Schema::new(vec![
            meta_field("id", DataType::Int64, r#""BigInt""#, Some("pk,nn,uq")),
            meta_field(
                "body",
                DataType::Utf8,
                r#""Text""#,
                Some("nn, auto ,bogus,nn"),
            ),
            meta_field("weird", DataType::Utf8, r#""Text""#, Some("uq,pk")),
            field("n", DataType::Int32),
        ]);
        let described = describe_schema(&schema);
        assert_eq!(
            described,
            vec![
                ColumnDescriptor {
                    name: "id".into(),
                    data_type: json!("BigInt"),
                    index: 0,
                    flags: vec!["pk".into(), "nn".into(), "uq".into()],
                },
                ColumnDescriptor {
                    name: "body".into(),
                    data_type: json!("Text"),
                    index: 1,
                    flags: vec!["nn".into()],
                },
                ColumnDescriptor {
                    name: "weird".into(),
                    data_type: json!("Text"),
                    index: 2,
                    flags: vec!["pk".into(), "uq".into()],
                },
                ColumnDescriptor {
                    name: "n".into(),
                    data_type: json!("Int"),
                    index: 3,
                    flags: vec![],
                },
            ]
        );
        let wire = serde_json::to_value(&described).unwrap();
        assert_eq!(
            wire[0],
            json!({"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]})
        );
        // Empty flags are omitted, not sent as [].
        assert_eq!(wire[3], json!({"name":"n","data_type":"Int","index":3}));
    }

    #[test]
    fn small_integers_are_numbers_and_64_bit_integers_are_strings() {
        assert_eq!(
            cells(Arc::new(Int8Array::from(vec![Some(-8), None]))),
            vec![json!(-8), Value::Null]
        );
        assert_eq!(
            cells(Arc::new(Int16Array::from(vec![300]))),
            vec![json!(300)]
        );
        assert_eq!(
            cells(Arc::new(Int32Array::from(vec![i32::MIN]))),
            vec![json!(i32::MIN)]
        );
        assert_eq!(
            cells(Arc::new(UInt8Array::from(vec![255]))),
            vec![json!(255)]
        );
        assert_eq!(
            cells(Arc::new(UInt16Array::from(vec![65535]))),
            vec![json!(65535)]
        );
        assert_eq!(
            cells(Arc::new(Int64Array::from(vec![
                Some(i64::MIN),
                Some(42),
                None
            ]))),
            vec![json!("-9223372036854775808"), json!("42"), Value::Null]
        );
        assert_eq!(
            cells(Arc::new(UInt32Array::from(vec![7]))),
            vec![json!("7")]
        );
        assert_eq!(
            cells(Arc::new(UInt64Array::from(vec![u64::MAX]))),
            vec![json!("18446744073709551615")]
        );
    }

    #[test]
    fn declared_type_changes_integer_encoding_where_it_matters() {
        // A BigInt column is a string on the wire even if Arrow holds it narrower.
        let narrow = meta_field("id", DataType::Int32, r#""BigInt""#, None);
        assert_eq!(
            cells_of(narrow, Arc::new(Int32Array::from(vec![5]))).unwrap(),
            vec![json!("5")]
        );
        // A timestamp held as raw µs stays a number, as §3.5 wants for timestamps.
        let ts = meta_field("at", DataType::Int64, r#""Timestamp""#, None);
        assert_eq!(
            cells_of(ts, Arc::new(Int64Array::from(vec![1_768_411_649_929_000]))).unwrap(),
            vec![json!(1_768_411_649_929_000_i64)]
        );
    }

    #[test]
    fn booleans_and_nulls() {
        assert_eq!(
            cells(Arc::new(BooleanArray::from(vec![
                Some(true),
                None,
                Some(false)
            ]))),
            vec![json!(true), Value::Null, json!(false)]
        );
        assert_eq!(
            cells(Arc::new(NullArray::new(2))),
            vec![Value::Null, Value::Null]
        );
    }

    #[test]
    fn floats_are_numbers_and_keep_their_short_form() {
        assert_eq!(
            cells(Arc::new(Float64Array::from(vec![
                Some(1.5),
                None,
                Some(-0.25)
            ]))),
            vec![json!(1.5), Value::Null, json!(-0.25)]
        );
        assert_eq!(
            cells(Arc::new(Float32Array::from(vec![1.1_f32]))),
            vec![json!(1.1)]
        );
        assert_eq!(
            cells(Arc::new(Float16Array::from(vec![
                <Float16Type as ArrowPrimitiveType>::Native::from_f32(0.5)
            ]))),
            vec![json!(0.5)]
        );
    }

    #[test]
    fn non_finite_floats_fail_naming_the_column() {
        for array in [
            Arc::new(Float64Array::from(vec![1.0, f64::NAN])) as ArrayRef,
            Arc::new(Float64Array::from(vec![f64::INFINITY])),
            Arc::new(Float32Array::from(vec![f32::NEG_INFINITY])),
        ] {
            let err = cells_of(field("ratio", array.data_type().clone()), array).unwrap_err();
            assert!(matches!(&err, EncodeError::NonFinite { column } if column == "ratio"));
            assert_eq!(
                err.to_string(),
                "Column 'ratio' holds a non-finite float (NaN or infinity), which JSON cannot carry"
            );
        }
    }

    #[test]
    fn null_slots_are_never_decoded() {
        // A NaN hidden behind a null bit is not data and must not fail the query.
        let array = Float64Array::new(vec![f64::NAN, 2.0].into(), Some(vec![false, true].into()));
        assert_eq!(cells(Arc::new(array)), vec![Value::Null, json!(2.0)]);
    }

    #[test]
    fn decimals_have_exactly_scale_decimals() {
        let array = Decimal128Array::from(vec![Some(-5), Some(20075), Some(0), Some(-12345), None])
            .with_precision_and_scale(10, 2)
            .unwrap();
        assert_eq!(
            cells(Arc::new(array)),
            vec![
                json!("-0.05"),
                json!("200.75"),
                json!("0.00"),
                json!("-123.45"),
                Value::Null
            ]
        );
        let scale0 = Decimal128Array::from(vec![-42, 0])
            .with_precision_and_scale(5, 0)
            .unwrap();
        assert_eq!(cells(Arc::new(scale0)), vec![json!("-42"), json!("0")]);
        let negative_scale = Decimal128Array::from(vec![12])
            .with_precision_and_scale(5, -2)
            .unwrap();
        assert_eq!(cells(Arc::new(negative_scale)), vec![json!("1200")]);
        let extreme = Decimal128Array::from(vec![i128::MIN])
            .with_precision_and_scale(38, 10)
            .unwrap();
        assert_eq!(
            cells(Arc::new(extreme)),
            vec![json!("-17014118346046923173168730371.5884105728")]
        );
        let wide = Decimal256Array::from(vec![i256::from_i128(-5), i256::from_i128(123_456)])
            .with_precision_and_scale(50, 3)
            .unwrap();
        assert_eq!(
            cells(Arc::new(wide)),
            vec![json!("-0.005"), json!("123.456")]
        );
    }

    #[test]
    fn decimal_formatting_edge_cases() {
        assert_eq!(decimal_value("5", false, 3), json!("0.005"));
        assert_eq!(decimal_value("123", false, 3), json!("0.123"));
        assert_eq!(decimal_value("1234", true, 3), json!("-1.234"));
        assert_eq!(decimal_value("0", true, 2), json!("0.00"));
        assert_eq!(decimal_value("0", false, -3), json!("0"));
    }

    #[test]
    fn strings_of_every_width() {
        assert_eq!(
            cells(Arc::new(StringArray::from(vec![Some("hi"), None]))),
            vec![json!("hi"), Value::Null]
        );
        assert_eq!(
            cells(Arc::new(LargeStringArray::from(vec!["large"]))),
            vec![json!("large")]
        );
        assert_eq!(
            cells(Arc::new(StringViewArray::from(vec![
                "a view string longer than twelve bytes"
            ]))),
            vec![json!("a view string longer than twelve bytes")]
        );
    }

    #[test]
    fn binaries_are_byte_arrays() {
        let expected = vec![json!([104, 105]), Value::Null, json!([])];
        let values: Vec<Option<&[u8]>> = vec![Some(b"hi"), None, Some(b"")];
        assert_eq!(cells(Arc::new(BinaryArray::from(values.clone()))), expected);
        assert_eq!(
            cells(Arc::new(LargeBinaryArray::from(values.clone()))),
            expected
        );
        assert_eq!(cells(Arc::new(BinaryViewArray::from(values))), expected);
        let fixed =
            FixedSizeBinaryArray::try_from_iter(vec![vec![0_u8, 255, 16]].into_iter()).unwrap();
        assert_eq!(cells(Arc::new(fixed)), vec![json!([0, 255, 16])]);
    }

    #[test]
    fn sixteen_byte_binaries_are_canonical_uuids() {
        let bytes: [u8; 16] = [
            0x01, 0x90, 0x00, 0x00, 0xab, 0xcd, 0x7e, 0xf0, 0x8a, 0xbc, 0xde, 0xf0, 0x12, 0x34,
            0x56, 0x78,
        ];
        let uuids = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
            vec![Some(bytes), None].into_iter(),
            16,
        )
        .unwrap();
        assert_eq!(
            cells(Arc::new(uuids.clone())),
            vec![json!("01900000-abcd-7ef0-8abc-def012345678"), Value::Null]
        );
        // Declared Bytes keeps the raw bytes.
        let as_bytes = meta_field("b", DataType::FixedSizeBinary(16), r#""Bytes""#, None);
        let encoded = cells_of(as_bytes, Arc::new(uuids)).unwrap();
        assert_eq!(encoded[0].as_array().map(Vec::len), Some(16));
        assert_eq!(encoded[0][0], json!(1));
    }

    #[test]
    fn timestamps_of_every_unit_become_micros() {
        assert_eq!(
            cells(Arc::new(TimestampSecondArray::from(vec![1]))),
            vec![json!(1_000_000)]
        );
        assert_eq!(
            cells(Arc::new(TimestampMillisecondArray::from(vec![
                1_768_411_649_929
            ]))),
            vec![json!(1_768_411_649_929_000_i64)]
        );
        assert_eq!(
            cells(Arc::new(
                TimestampMicrosecondArray::from(vec![Some(-3), None]).with_timezone("UTC")
            )),
            vec![json!(-3), Value::Null]
        );
        assert_eq!(
            cells(Arc::new(TimestampNanosecondArray::from(vec![
                -1,
                1_999,
                -1_000,
                1_768_411_649_929_123_456
            ]))),
            vec![
                json!(-1),
                json!(1),
                json!(-1),
                json!(1_768_411_649_929_123_i64)
            ]
        );
    }

    #[test]
    fn timestamp_overflow_is_an_error_not_a_panic() {
        let array: ArrayRef = Arc::new(TimestampSecondArray::from(vec![i64::MAX]));
        let err = cells_of(field("at", array.data_type().clone()), array).unwrap_err();
        assert!(matches!(&err, EncodeError::Unsupported { column, .. } if column == "at"));
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(
            cells(Arc::new(Date32Array::from(vec![20214, -1]))),
            vec![json!(20214), json!(-1)]
        );
        assert_eq!(
            cells(Arc::new(Date64Array::from(vec![
                86_400_000 * 3 + 5,
                -1,
                -86_400_000
            ]))),
            vec![json!(3), json!(-1), json!(-1)]
        );
        assert_eq!(
            cells(Arc::new(Time32SecondArray::from(vec![36_000]))),
            vec![json!(36_000_000_000_i64)]
        );
        assert_eq!(
            cells(Arc::new(Time32MillisecondArray::from(vec![1_500]))),
            vec![json!(1_500_000)]
        );
        assert_eq!(
            cells(Arc::new(Time64MicrosecondArray::from(vec![36_000_000_000]))),
            vec![json!(36_000_000_000_i64)]
        );
        assert_eq!(
            cells(Arc::new(Time64NanosecondArray::from(vec![1_999]))),
            vec![json!(1)]
        );
    }

    #[test]
    fn lists_encode_their_elements_recursively() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
            Some(vec![]),
        ]);
        assert_eq!(
            cells(Arc::new(list)),
            vec![json!([1, null, 3]), Value::Null, json!([])]
        );
        // Elements follow the same rules: 64-bit integers stay strings.
        let big = LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![
            Some(1),
            Some(2),
        ])]);
        assert_eq!(cells(Arc::new(big)), vec![json!(["1", "2"])]);
    }

    #[test]
    fn sliced_lists_only_encode_their_own_elements() {
        let list = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(f64::NAN)]),
            Some(vec![Some(1.0), Some(2.0)]),
            Some(vec![Some(3.0)]),
        ]);
        let sliced = list.slice(1, 2);
        assert_eq!(
            cells(Arc::new(sliced)),
            vec![json!([1.0, 2.0]), json!([3.0])]
        );
    }

    #[test]
    fn fixed_size_lists_including_sliced() {
        let list = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(
            vec![
                Some(vec![Some(0.5), Some(1.5)]),
                None,
                Some(vec![Some(2.5), Some(3.5)]),
            ],
            2,
        );
        assert_eq!(
            cells(Arc::new(list.clone())),
            vec![json!([0.5, 1.5]), Value::Null, json!([2.5, 3.5])]
        );
        assert_eq!(cells(Arc::new(list.slice(2, 1))), vec![json!([2.5, 3.5])]);
    }

    #[test]
    fn structs_become_objects_with_nested_values() {
        let inner_list: ArrayRef =
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
                Some(vec![Some(1)]),
                Some(vec![]),
                None,
            ]));
        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None]));
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        let st = StructArray::try_new(
            Fields::from(vec![
                field("name", DataType::Utf8),
                field("id", DataType::Int64),
                field("tags", inner_list.data_type().clone()),
            ]),
            vec![names, ids, inner_list],
            Some(vec![true, true, false].into()),
        )
        .unwrap();
        assert_eq!(
            cells(Arc::new(st)),
            vec![
                json!({"name": "a", "id": "1", "tags": [1]}),
                json!({"name": "b", "id": "2", "tags": []}),
                Value::Null,
            ]
        );
    }

    fn string_map() -> ArrayRef {
        let mut builder = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
        builder.keys().append_value("a");
        builder.values().append_value(1);
        builder.keys().append_value("b");
        builder.values().append_null();
        builder.append(true).unwrap();
        builder.append(false).unwrap();
        builder.keys().append_value("c");
        builder.values().append_value(3);
        builder.append(true).unwrap();
        Arc::new(builder.finish())
    }

    #[test]
    fn string_keyed_maps_are_objects() {
        assert_eq!(
            cells(string_map()),
            vec![json!({"a": 1, "b": null}), Value::Null, json!({"c": 3})]
        );
        assert_eq!(cells(string_map().slice(2, 1)), vec![json!({"c": 3})]);
    }

    #[test]
    fn other_maps_are_pair_arrays() {
        let mut builder = MapBuilder::new(None, Int32Builder::new(), StringBuilder::new());
        builder.keys().append_value(7);
        builder.values().append_value("seven");
        builder.append(true).unwrap();
        assert_eq!(
            cells(Arc::new(builder.finish())),
            vec![json!([[7, "seven"]])]
        );
    }

    #[test]
    fn dictionaries_encode_their_decoded_values() {
        let dict: DictionaryArray<Int8Type> = vec![Some("x"), None, Some("y"), Some("x")]
            .into_iter()
            .collect();
        assert_eq!(
            cells(Arc::new(dict)),
            vec![json!("x"), Value::Null, json!("y"), json!("x")]
        );
        let keys = Int32Array::from(vec![1, 0]);
        let values: ArrayRef = Arc::new(Int64Array::from(vec![10, 20]));
        let ints = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
        assert_eq!(cells(Arc::new(ints)), vec![json!("20"), json!("10")]);
    }

    #[test]
    fn other_types_use_arrow_text_rendering() {
        let interval =
            IntervalMonthDayNanoArray::from(vec![Some(IntervalMonthDayNano::new(0, 1, 0)), None]);
        let encoded = cells(Arc::new(interval));
        assert_eq!(encoded[0], json!("1 days"));
        assert_eq!(encoded[1], Value::Null);

        let durations = DurationSecondArray::from(vec![90]);
        let encoded = cells(Arc::new(durations));
        assert!(encoded[0].as_str().is_some_and(|s| !s.is_empty()));

        let union = datafusion::arrow::array::UnionArray::try_new(
            UnionFields::try_new(vec![0], vec![field("i", DataType::Int32)]).unwrap(),
            vec![0_i8, 0].into(),
            None,
            vec![Arc::new(Int32Array::from(vec![Some(4), None])) as ArrayRef],
        )
        .unwrap();
        let f = field("u", union.data_type().clone());
        assert_eq!(
            mapped(f.data_type().clone()),
            json!("Text"),
            "unions have no dedicated spelling"
        );
        let encoded = cells_of(f, Arc::new(union)).unwrap();
        assert!(encoded[0].as_str().is_some_and(|s| s.contains('4')));
        assert_eq!(encoded[1], Value::Null);
    }

    #[test]
    fn secret_columns_are_masked() {
        let schema = Arc::new(Schema::new(vec![
            field("user_id", DataType::Utf8),
            field("password_hash", DataType::Utf8),
            field("credentials", DataType::Float64),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["alice", "bob"])),
                Arc::new(StringArray::from(vec![Some("$argon2id$..."), None])),
                // Masking never decodes, so even a NaN secret is just masked.
                Arc::new(Float64Array::from(vec![Some(f64::NAN), None])),
            ],
        )
        .unwrap();
        assert_eq!(
            encode_rows(&schema, std::slice::from_ref(&batch)).unwrap(),
            vec![
                vec![json!("alice"), json!("***"), json!("***")],
                vec![json!("bob"), Value::Null, Value::Null],
            ]
        );
        let objects = encode_row_objects(&schema, &[batch]).unwrap();
        assert_eq!(objects[0]["password_hash"], json!("***"));
        assert_eq!(objects[1]["credentials"], Value::Null);
    }

    fn two_column_schema() -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            meta_field("id", DataType::Int64, r#""BigInt""#, Some("pk,nn,uq")),
            field("body", DataType::Utf8),
        ]))
    }

    fn batch(schema: &Arc<Schema>, ids: Vec<i64>, bodies: Vec<&str>) -> RecordBatch {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(bodies)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn rows_keep_batch_and_row_order() {
        let schema = two_column_schema();
        let batches = [
            batch(&schema, vec![1, 2], vec!["a", "b"]),
            batch(&schema, vec![], vec![]),
            batch(&schema, vec![3], vec!["c"]),
        ];
        assert_eq!(
            encode_rows(&schema, &batches).unwrap(),
            vec![
                vec![json!("1"), json!("a")],
                vec![json!("2"), json!("b")],
                vec![json!("3"), json!("c")],
            ]
        );
        assert!(encode_rows(&schema, &[]).unwrap().is_empty());
    }

    #[test]
    fn sliced_batches_encode_only_their_rows() {
        let schema = two_column_schema();
        let full = batch(&schema, vec![1, 2, 3], vec!["a", "b", "c"]);
        assert_eq!(
            encode_rows(&schema, &[full.slice(1, 2)]).unwrap(),
            vec![vec![json!("2"), json!("b")], vec![json!("3"), json!("c")]]
        );
    }

    #[test]
    fn row_objects_are_keyed_by_column_name() {
        let schema = two_column_schema();
        let batches = [
            batch(&schema, vec![1], vec!["a"]),
            batch(&schema, vec![2], vec!["b"]),
        ];
        let objects = encode_row_objects(&schema, &batches).unwrap();
        let as_json: Vec<Value> = objects.into_iter().map(Value::Object).collect();
        assert_eq!(
            as_json,
            vec![
                json!({"id": "1", "body": "a"}),
                json!({"id": "2", "body": "b"})
            ]
        );
    }

    #[test]
    fn a_batch_not_matching_the_schema_is_an_error() {
        let schema = two_column_schema();
        let narrow = Arc::new(Schema::new(vec![field("id", DataType::Int64)]));
        let lone = RecordBatch::try_new(narrow, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
        let err = encode_rows(&schema, &[lone]).unwrap_err();
        assert!(matches!(&err, EncodeError::Unsupported { column, .. } if column == "body"));
    }
}
