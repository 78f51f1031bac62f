//! KalamDB's SQL functions: `SNOWFLAKE_ID()`, `UUID_V7()`, `ULID()` and
//! `CURRENT_USER()` (`sql.md` §2.4). They are ordinary DataFusion UDFs, so
//! they work in any expression, and the same expressions serve as column
//! DEFAULTs.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use kalamdb_types::SnowflakeGenerator;

/// `SNOWFLAKE_ID()`: a new id per row from the server's one generator (the
/// layout of `_seq`).
#[derive(Debug)]
pub struct SnowflakeId {
    generator: Arc<SnowflakeGenerator>,
    signature: Signature,
}

impl PartialEq for SnowflakeId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.generator, &other.generator)
    }
}
impl Eq for SnowflakeId {}
impl std::hash::Hash for SnowflakeId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "snowflake_id".hash(state);
    }
}

impl ScalarUDFImpl for SnowflakeId {
    fn name(&self) -> &str {
        "snowflake_id"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let ids: Int64Array = (0..args.number_rows)
            .map(|_| Some(self.generator.next_id().as_i64()))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(ids)))
    }
}

/// `UUID_V7()`: RFC 9562 version-7 UUIDs, as canonical text.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UuidV7 {
    signature: Signature,
}

impl ScalarUDFImpl for UuidV7 {
    fn name(&self) -> &str {
        "uuid_v7"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let ids: StringArray = (0..args.number_rows)
            .map(|_| Some(uuid::Uuid::now_v7().to_string()))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(ids)))
    }
}

/// `ULID()`: 48-bit millisecond time + 80 random bits, Crockford base32.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Ulid {
    signature: Signature,
}

impl ScalarUDFImpl for Ulid {
    fn name(&self) -> &str {
        "ulid"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let ids: StringArray = (0..args.number_rows).map(|_| Some(new_ulid())).collect();
        Ok(ColumnarValue::Array(Arc::new(ids)))
    }
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Encodes a 128-bit ULID value as 26 Crockford base32 characters.
pub fn encode_ulid(value: u128) -> String {
    (0..26)
        .rev()
        .map(|i| {
            let idx = ((value >> (i * 5)) & 0x1f) as usize;
            CROCKFORD.get(idx).map(|b| *b as char).unwrap_or('0')
        })
        .collect()
}

pub fn new_ulid() -> String {
    let ms = (kalamdb_types::now_micros() / 1000) as u128 & ((1u128 << 48) - 1);
    let random: u128 = rand::random::<u128>() & ((1u128 << 80) - 1);
    encode_ulid((ms << 80) | random)
}

/// `CURRENT_USER()` and `CURRENT_ROLE()`: the effective user of the
/// request, and its role. One instance of each is registered per request,
/// carrying its value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RequestText {
    name: &'static str,
    value: String,
    signature: Signature,
}

impl ScalarUDFImpl for RequestText {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            self.value.clone(),
        ))))
    }
}

pub fn snowflake_id(generator: Arc<SnowflakeGenerator>) -> ScalarUDF {
    ScalarUDF::from(SnowflakeId {
        generator,
        signature: Signature::nullary(Volatility::Volatile),
    })
}

pub fn uuid_v7() -> ScalarUDF {
    ScalarUDF::from(UuidV7 {
        signature: Signature::nullary(Volatility::Volatile),
    })
}

pub fn ulid() -> ScalarUDF {
    ScalarUDF::from(Ulid {
        signature: Signature::nullary(Volatility::Volatile),
    })
}

pub fn current_user(user: &str) -> ScalarUDF {
    ScalarUDF::from(RequestText {
        name: "current_user",
        value: user.to_string(),
        signature: Signature::nullary(Volatility::Stable),
    })
}

/// `CURRENT_ROLE()`: `user`, `service`, `dba` or `system` (the role the
/// statement runs with: `user` inside `EXECUTE AS USER`).
pub fn current_role(role: &str) -> ScalarUDF {
    ScalarUDF::from(RequestText {
        name: "current_role",
        value: role.to_string(),
        signature: Signature::nullary(Volatility::Stable),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_are_26_crockford_chars_and_sort_by_time() {
        assert_eq!(encode_ulid(0), "0".repeat(26));
        assert_eq!(encode_ulid(u128::MAX >> 2).len(), 26);
        let a = new_ulid();
        assert_eq!(a.len(), 26);
        assert!(a.bytes().all(|b| CROCKFORD.contains(&b)));
        let earlier = encode_ulid(1u128 << 80);
        let later = encode_ulid(2u128 << 80);
        assert!(earlier < later);
    }
}
