//! Primary keys: a row's key value as a storage key ([`PkValue`]), a SQL
//! literal compared with the key as one, how a key reads in messages, and
//! its form in segment statistics ([`PkKey`]).

use datafusion::common::ScalarValue;
use kalamdb_cold::PkKey;
use kalamdb_store::PkValue;
use kalamdb_types::KalamDataType;

use crate::row::value::Value;

/// A literal compared with the primary key, as a key. `None` when the literal
/// cannot equal any stored key (e.g. NULL or a malformed UUID), which makes
/// the point read empty, as the comparison would be.
pub fn pk_from_scalar(v: &ScalarValue, ty: KalamDataType) -> Option<PkValue> {
    if v.is_null() {
        return None;
    }
    match ty {
        KalamDataType::SmallInt | KalamDataType::Int | KalamDataType::BigInt => {
            match v
                .cast_to(&datafusion::arrow::datatypes::DataType::Int64)
                .ok()?
            {
                ScalarValue::Int64(Some(i)) => Some(PkValue::Int(i)),
                _ => None,
            }
        }
        KalamDataType::Text => match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => Some(PkValue::Text(s.clone())),
            _ => None,
        },
        KalamDataType::Uuid => match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => uuid::Uuid::parse_str(s)
                .ok()
                .map(|u| PkValue::Uuid(*u.as_bytes())),
            _ => None,
        },
        _ => None,
    }
}

/// The storage key of a row's primary key value.
pub fn pk_from_value(v: &Value) -> Option<PkValue> {
    match v {
        Value::I16(i) => Some(PkValue::Int(i64::from(*i))),
        Value::I32(i) => Some(PkValue::Int(i64::from(*i))),
        Value::I64(i) => Some(PkValue::Int(*i)),
        Value::Text(s) => Some(PkValue::Text(s.clone())),
        Value::Uuid(u) => Some(PkValue::Uuid(*u)),
        _ => None,
    }
}

/// The storage key of a key as segment statistics give it, for a table
/// whose primary key has type `ty` (`None`: the hidden row id). `None` if
/// it cannot be one (a malformed UUID).
pub fn pk_from_key(key: &PkKey, ty: Option<KalamDataType>) -> Option<PkValue> {
    match (key, ty) {
        (PkKey::Int(i), None) => Some(PkValue::RowId(*i)),
        (
            PkKey::Int(i),
            Some(KalamDataType::SmallInt | KalamDataType::Int | KalamDataType::BigInt),
        ) => Some(PkValue::Int(*i)),
        (PkKey::Text(s), Some(KalamDataType::Text)) => Some(PkValue::Text(s.clone())),
        (PkKey::Text(s), Some(KalamDataType::Uuid)) => uuid::Uuid::parse_str(s)
            .ok()
            .map(|u| PkValue::Uuid(*u.as_bytes())),
        _ => None,
    }
}

pub fn pk_display(pk: &PkValue) -> String {
    match pk {
        PkValue::Int(i) | PkValue::RowId(i) => i.to_string(),
        PkValue::Text(s) => s.clone(),
        PkValue::Uuid(u) => uuid::Uuid::from_bytes(*u).to_string(),
    }
}

/// A key as segment statistics and lookups compare it (UUIDs as text).
pub fn pk_key(pk: &PkValue) -> PkKey {
    match pk {
        PkValue::Int(i) | PkValue::RowId(i) => PkKey::Int(*i),
        PkValue::Text(s) => PkKey::Text(s.clone()),
        PkValue::Uuid(u) => PkKey::Text(uuid::Uuid::from_bytes(*u).to_string()),
    }
}
