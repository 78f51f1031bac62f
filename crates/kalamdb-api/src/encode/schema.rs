//! Result schemas → the `schema` array of an HTTP result or a
//! `subscription_ack` (`wire-protocol.md` §3.3–3.4): each column's wire
//! type and flags. The clients decode these strictly, so nothing outside the
//! spec's spellings may leave here.

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion_functions_json::JSON_UNION_DATA_TYPE;
use kalamdb_types::{FIELD_META_DATA_TYPE, FIELD_META_FLAGS, KalamDataType};
use serde_json::Value;

/// The only flag spellings the clients accept (§3.3), in the order we emit
/// them.
const KNOWN_FLAGS: [&str; 3] = ["pk", "nn", "uq"];

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
        .or_else(|| json_text(field).then_some(KalamDataType::Json))
        .unwrap_or_else(|| arrow_wire_type(field.data_type()))
}

/// Text holding JSON documents by Arrow's canonical extension type
/// (`arrow.json`), as `json_get_json` marks its result.
fn json_text(field: &Field) -> bool {
    matches!(
        field.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) && field
        .metadata()
        .get("ARROW:extension:name")
        .is_some_and(|name| name == "arrow.json")
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
        // `json_get` and `->`: one JSON value per row, sent as its text.
        DataType::Union(..) if *data_type == *JSON_UNION_DATA_TYPE => KalamDataType::Json,
        _ => KalamDataType::Text,
    }
}
