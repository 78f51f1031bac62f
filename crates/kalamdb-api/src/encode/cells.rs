//! One Arrow array → one JSON value per slot (`wire-protocol.md` §3.5):
//! every scalar type, and lists, structs, maps and dictionaries by recursing
//! into their children. Column and row shape is `rows.rs`'s; only values are
//! decided here.
//!
//! Work is done on downcast arrays, a tight loop over a typed buffer per
//! column rather than dynamic dispatch through `ScalarValue` per cell.

use datafusion::arrow::array::{Array, ArrowPrimitiveType, AsArray, OffsetSizeTrait};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
    Field, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion_functions_json::{JSON_UNION_DATA_TYPE, JsonUnionEncoder, JsonUnionValue};
use kalamdb_types::KalamDataType;
use serde_json::{Map, Number, Value};

use super::error::EncodeError;
use super::schema::wire_type;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MILLI: i64 = 1_000;
const NANOS_PER_MICRO: i64 = 1_000;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// Encodes one array into one JSON value per slot. `wire` is the declared
/// type where it changes the encoding (BigInt forces strings, Bytes keeps a
/// 16-byte binary as bytes); `column` names the top-level column in errors.
pub(super) fn encode_array(
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
        DataType::Decimal32(_, scale) => decimals::<Decimal32Type>(array, column, *scale),
        DataType::Decimal64(_, scale) => decimals::<Decimal64Type>(array, column, *scale),
        DataType::Decimal128(_, scale) => decimals::<Decimal128Type>(array, column, *scale),
        DataType::Decimal256(_, scale) => decimals::<Decimal256Type>(array, column, *scale),
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
        DataType::Union(..) if *array.data_type() == *JSON_UNION_DATA_TYPE => {
            encode_json_union(array, column)
        }
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

/// Decimals of every width go through the unscaled integer's base-10 text
/// (`i256` has no `unsigned_abs`), so all four render alike.
fn decimals<T>(array: &dyn Array, column: &str, scale: i8) -> Result<Vec<Value>, EncodeError>
where
    T: ArrowPrimitiveType,
    T::Native: ToString,
{
    map_primitive::<T>(array, column, |v| {
        let text = v.to_string();
        Ok(match text.strip_prefix('-') {
            Some(digits) => decimal_value(digits, true, scale),
            None => decimal_value(&text, false, scale),
        })
    })
}

/// Renders an unscaled decimal (`digits` = absolute value in base 10) with
/// exactly `scale` fractional digits: `5`, scale 2 → `0.05`. A negative scale
/// multiplies by a power of ten, so the value is printed as an integer.
pub(super) fn decimal_value(digits: &str, negative: bool, scale: i8) -> Value {
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
/// What `json_get` and `->` return (a union of the JSON kinds): each value
/// as its serialized JSON text, as a Json column's cell is sent (§3.5); a
/// missing path or a JSON `null` is NULL.
fn encode_json_union(array: &dyn Array, column: &str) -> Result<Vec<Value>, EncodeError> {
    let union = array
        .as_union_opt()
        .ok_or_else(|| mismatch(column, array))?
        .clone();
    let values = JsonUnionEncoder::from_union(union).ok_or_else(|| mismatch(column, array))?;
    (0..values.len())
        .map(|i| {
            Ok(match values.get_value(i) {
                JsonUnionValue::JsonNull => Value::Null,
                JsonUnionValue::Bool(b) => Value::String(b.to_string()),
                JsonUnionValue::Int(n) => Value::String(n.to_string()),
                JsonUnionValue::Float(f) => Value::String(float64_value(f, column)?.to_string()),
                JsonUnionValue::Str(s) => Value::String(Value::from(s).to_string()),
                JsonUnionValue::Array(raw) | JsonUnionValue::Object(raw) => {
                    Value::String(raw.to_owned())
                }
            })
        })
        .collect()
}

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
